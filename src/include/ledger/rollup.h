/*-------------------------------------------------------------------------
 *
 * rollup.h
 *	  Interface of the rollup component: the rollup spec of a ledger, time
 *	  bucketing, rollup-key hashing and ordering, metric combination.
 *
 * NOTES
 *	  A rollup key is the time column truncated to the granularity (in the
 *	  configured time zone) plus every dimension column.  NULL is a group
 *	  value.  Equality and hashing use each type's default operator classes
 *	  and the column's collation.  The component does no I/O; the
 *	  configuration comes from catalog/.
 *
 * IDENTIFICATION
 *	  src/include/ledger/rollup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_ROLLUP_H
#define LEDGER_ROLLUP_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* the role of an attribute in a rollup ledger */
typedef enum LedgerColumnRole
{
	LEDGER_ROLE_DROPPED = 0,
	LEDGER_ROLE_DIMENSION,
	LEDGER_ROLE_TIME,
	LEDGER_ROLE_KEY,
	LEDGER_ROLE_VERSION,
	LEDGER_ROLE_SUM,
	LEDGER_ROLE_MIN,
	LEDGER_ROLE_MAX,
	LEDGER_ROLE_COUNT
} LedgerColumnRole;

#define LEDGER_ROLE_IS_METRIC(r) ((r) >= LEDGER_ROLE_SUM)

/* kinds of granularity */
typedef enum LedgerGrainKind
{
	LEDGER_GRAIN_SUBDAY,		/* a divisor of a day, in microseconds */
	LEDGER_GRAIN_DAY,
	LEDGER_GRAIN_WEEK,
	LEDGER_GRAIN_MONTH
} LedgerGrainKind;

/* the rollup spec of one ledger, resolved against its tuple descriptor */
typedef struct LedgerRollup
{
	Oid			relid;
	int			natts;
	LedgerColumnRole *roles;	/* per attribute (attnum - 1) */
	AttrNumber	time_attnum;
	Oid			time_type;		/* TIMESTAMPTZOID, TIMESTAMPOID or DATEOID */
	AttrNumber	key_attnum;		/* 0 if none */
	AttrNumber	version_attnum; /* 0 if none */
	AttrNumber	count_attnum;	/* first count metric, 0 if none */
	Interval	granularity;
	LedgerGrainKind grain;
	int64		stride;			/* microseconds, LEDGER_GRAIN_SUBDAY only */
	char	   *time_zone;
	TimestampTz origin;			/* sub-day bins start here (local 2000-01-01) */
	int			ndims;
	AttrNumber *dims;			/* dimension attnums, in attnum order */

	/* per attribute (attnum - 1); set for dimensions and metrics */
	FmgrInfo   *cmp;			/* btree comparison */
	FmgrInfo   *hash;			/* hash (dimensions) */
	FmgrInfo   *eq;				/* equality (dimensions) */
	FmgrInfo   *add;			/* "+" (sum, count) */
	Oid		   *collation;
	Oid		   *basetype;		/* base type of each attribute */
	int16	   *typlen;
	bool	   *typbyval;
	char	   *fasteq;			/* 'i': bitwise Datum, 't': bytes of text, 0: fmgr */
	char	   *fastcmp;		/* 'i': signed integer, 't': memcmp (C collation) */

	uint64		generation;		/* distinct for every spec built */

	/* bucket cache: values in [cache_lo, cache_hi) go to cache_bucket */
	bool		cache_valid;
	int64		cache_lo;
	int64		cache_hi;
	int64		cache_bucket;
} LedgerRollup;

/*
 * The rollup spec of rel, or NULL for a raw ledger.  Cached per backend,
 * invalidated with rel's relcache entry; do not free.
 */
extern LedgerRollup *LedgerRollupGet(Relation rel);

/* drops every cached spec (relcache invalidation) */
extern void LedgerRollupInit(void);

/* the bucket of a time value of the ledger's time column */
extern Datum LedgerRollupBucket(LedgerRollup *rollup, Datum time);

/*
 * Normalizes an input row in place for folding: time to its bucket, key
 * and version to NULL, count metrics to the number of rows they stand for.
 * Returns the number of events the row stands for.
 */
extern int64 LedgerRollupPrepareRow(LedgerRollup *rollup, Datum *values,
									bool *isnull);

/*
 * Row accessors below are column-major: values[attnum - 1][row].  A single
 * row-major row can be passed as an array of pointers to its elements with
 * row 0.
 */

/* hash of a prepared row's rollup key */
extern uint32 LedgerRollupHashKey(LedgerRollup *rollup, Datum **values,
								  bool **isnull, int row);

/* true if two prepared rows have the same rollup key */
extern bool LedgerRollupKeysEqual(LedgerRollup *rollup,
								  Datum **v1, bool **n1, int r1,
								  Datum **v2, bool **n2, int r2);

/* orders two prepared rows by (bucket, dimensions), NULLs last */
extern int	LedgerRollupCompareKeys(LedgerRollup *rollup,
									Datum **v1, bool **n1, int r1,
									Datum **v2, bool **n2, int r2);

/* orders two prepared rows by bucket only, NULL last */
extern int	LedgerRollupCompareBuckets(LedgerRollup *rollup,
									   Datum **v1, bool **n1, int r1,
									   Datum **v2, bool **n2, int r2);

/*
 * Adds the metrics of row "in" to accumulator row "acc" (both prepared).
 * Values stored into acc are copied into cxt (inputs must be detoasted).
 * Overflow raises an error.
 */
extern void LedgerRollupCombine(LedgerRollup *rollup,
								Datum **acc, bool **acc_null, int racc,
								Datum **in, bool **in_null, int rin,
								MemoryContext cxt);

/*
 * Turns a prepared row into the row taking its contribution back: sum and
 * count metrics negated (overflow is an error), min and max set to NULL.
 */
extern void LedgerRollupNegate(LedgerRollup *rollup, Datum *values,
							   bool *isnull);

/* true if every sum and count metric of a prepared row is NULL or zero */
extern bool LedgerRollupMetricsZero(LedgerRollup *rollup, Datum **values,
									bool **isnull, int row);

/* true if the spec has a min or max metric */
extern bool LedgerRollupHasMinMax(LedgerRollup *rollup);

/*
 * An in-memory table of groups keyed by rollup key: column-major arrays
 * of prepared rows, one per key, with metrics combined and the number of
 * events each stands for.  Used by the write buffer and by merge-on-read.
 */
typedef struct LedgerGroupTable
{
	MemoryContext cxt;			/* holds the arrays and copied values */
	int			natts;
	int			ngroups;
	int			capacity;
	Datum	  **values;			/* values[att][group] */
	bool	  **isnull;
	int64	   *events;
	uint32	   *hashes;			/* hash of each group's key */
	int		   *slots;			/* open addressing: group + 1, 0 = free */
	int			nslots;
	Size		bytes;			/* memory used by copied values and arrays */
} LedgerGroupTable;

/* an empty group table allocating in cxt */
extern LedgerGroupTable *LedgerGroupTableCreate(int natts, MemoryContext cxt);

/*
 * Folds one prepared, detoasted row (row-major) standing for "events"
 * events into the table; returns the group's index.
 */
extern int	LedgerGroupTableAdd(LedgerGroupTable *gt, LedgerRollup *rollup,
								Datum *values, bool *isnull, int64 events);

/* parses and checks a granularity; raises a user error when invalid */
extern void LedgerRollupCheckGranularity(Interval *granularity, Oid time_type,
										 LedgerGrainKind *grain, int64 *stride);

/* true if granularity "coarse" is a whole multiple of "fine" */
extern bool LedgerRollupDivides(Interval *fine, Interval *coarse);

#endif							/* LEDGER_ROLLUP_H */
