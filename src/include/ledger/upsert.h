/*-------------------------------------------------------------------------
 *
 * upsert.h
 *	  Interface of the upsert component: the key store, versioning and
 *	  retraction of keyed ledgers.
 *
 * NOTES
 *	  A keyed ledger (ledger.set_rollup(..., key_column) or ledger.set_key)
 *	  applies each key at most once.  The key store (ledger.key_store, one
 *	  row per key) holds the version applied, a hash of its payload and, on
 *	  rollup ledgers, the event's contribution, so a newer version or
 *	  ledger.retract takes exactly that contribution back.  Concurrent
 *	  writers of one key serialize on the key store's unique index, the
 *	  way INSERT ... ON CONFLICT does (speculative insertion).
 *
 *	  The write path asks LedgerKeyApply which rows to buffer and which
 *	  contributions to take back.  Scans of raw keyed ledgers hide rows
 *	  whose key was replaced or retracted (LedgerKeyFilter*); merge on read
 *	  of rollup ledgers with min/max recomputes those of groups that lost a
 *	  contribution (LedgerKeyMinMax*).  See src/upsert/README.md.
 *
 * IDENTIFICATION
 *	  src/include/ledger/upsert.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_UPSERT_H
#define LEDGER_UPSERT_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/pg_list.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

struct LedgerRollup;

/* what keyed ingestion did with a row */
typedef enum LedgerKeyOutcome
{
	LEDGER_KEY_INSERTED = 0,	/* a new key */
	LEDGER_KEY_REPLACED,		/* a higher version replaced the old one */
	LEDGER_KEY_UNCHANGED,		/* the same key and version again: no-op */
	LEDGER_KEY_STALE,			/* a lower version: ignored */
	LEDGER_KEY_UNKEYED,			/* NULL key or late event: applied as is */
	LEDGER_KEY_NOUTCOMES
} LedgerKeyOutcome;

/* the key spec of a keyed ledger */
typedef struct LedgerKeySpec
{
	Oid			relid;
	AttrNumber	key_attnum;
	Oid			key_type;
	AttrNumber	version_attnum; /* 0 if none */
	Oid			version_type;	/* base type */
	AttrNumber	time_attnum;	/* event time for retention; 0: ingestion time */
	Oid			time_type;
	struct LedgerRollup *rollup;	/* NULL for a raw ledger */
	bool		minmax;			/* rollup with min or max metrics */
	bool		has_retention;
	Interval	retention;
	bool		reject_late;
	FmgrInfo	key_out;		/* output function of the key type */
	bool		key_is_text;	/* text or varchar: used as is */
} LedgerKeySpec;

/* a rollup contribution to take back: a prepared row and its events */
typedef struct LedgerRetraction
{
	Datum	   *values;
	bool	   *isnull;
	int64		events;
} LedgerRetraction;

/*
 * The key spec of rel, or NULL if it has no key.  Cached per backend,
 * invalidated with rel's relcache entry; do not free.
 */
extern LedgerKeySpec *LedgerKeyGet(Relation rel);

/*
 * Applies the key rules to nslots rows about to be inserted into rel in
 * the current transaction: claims or updates their keys in the key store,
 * sets apply[i] for the rows to write and appends to *retractions
 * (LedgerRetraction *, allocated in CurrentMemoryContext) the
 * contributions of a rollup ledger to take back.  Raises an error for the
 * same key and version with a different payload, or a rejected late event.
 */
extern void LedgerKeyApply(Relation rel, LedgerKeySpec *spec,
						   TupleTableSlot **slots, int nslots, bool *apply,
						   List **retractions);

/*
 * Retracts key of rel: marks it retracted and, on a rollup ledger, returns
 * the contribution to take back (else NULL).  Returns false if the key is
 * unknown or already retracted.
 */
extern bool LedgerKeyRetract(Relation rel, LedgerKeySpec *spec,
							 const char *key, LedgerRetraction **retraction);

/* outcomes counted by this backend since it started (all ledgers) */
extern void LedgerKeyCounts(Oid relid, int64 *counts);
extern const int64 *LedgerKeyCountsTotal(void);

/* removes relid's keys (TRUNCATE, DROP) in the current transaction */
extern void LedgerKeyStoreClear(Oid relid);

/*
 * Forgets keys of rel whose events are older than its key retention;
 * returns how many (compaction).
 */
extern int64 LedgerKeyStoreExpire(Relation rel);

/* --- scans of raw keyed ledgers: hide replaced and retracted rows --- */

typedef struct LedgerKeyFilter LedgerKeyFilter;

/*
 * A filter for rel's rows as seen by snapshot, or NULL if no row needs
 * hiding.  Allocated in CurrentMemoryContext.
 */
extern LedgerKeyFilter *LedgerKeyFilterBegin(Relation rel, Snapshot snapshot);

/* attributes the filter needs decoded (key, version) */
extern void LedgerKeyFilterColumns(LedgerKeyFilter *f, AttrNumber *key,
								   AttrNumber *version);

/* true if a row with these key and version values is live */
extern bool LedgerKeyFilterRowLive(LedgerKeyFilter *f, Datum key, bool keynull,
								   Datum version, bool versionnull);

/* --- merge on read of rollup ledgers with min/max metrics --- */

typedef struct LedgerKeyMinMax LedgerKeyMinMax;

/*
 * Groups of rel that lost a contribution, as seen by snapshot, or NULL if
 * none.  Allocated in CurrentMemoryContext.
 */
extern LedgerKeyMinMax *LedgerKeyMinMaxBegin(Relation rel,
											 struct LedgerRollup *rollup,
											 Snapshot snapshot);

/*
 * If the group of the prepared row values/isnull lost a contribution,
 * recomputes its min and max metrics in place from the key store.  New
 * values are allocated in CurrentMemoryContext.
 */
extern void LedgerKeyMinMaxFix(LedgerKeyMinMax *mm, Datum *values,
							   bool *isnull);

#endif							/* LEDGER_UPSERT_H */
