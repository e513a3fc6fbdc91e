/*-------------------------------------------------------------------------
 *
 * compaction.h
 *	  Interface of the compaction component: merging, re-rolling and
 *	  expiring a ledger's segments, its policies, and the background
 *	  worker that runs it.
 *
 * NOTES
 *	  A compaction run takes ShareUpdateExclusiveLock on the ledger (so
 *	  INSERT, COPY and SELECT go on, and a second compaction or a VACUUM
 *	  waits), reads the chosen segments' logical rows, writes them as new
 *	  segments and deletes the old ones' catalog rows, all in the caller's
 *	  transaction.  See src/compaction/README.md.
 *
 * IDENTIFICATION
 *	  src/include/ledger/compaction.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_COMPACTION_H
#define LEDGER_COMPACTION_H

#include "postgres.h"

#include "utils/timestamp.h"

/* GUCs (defined in src/ledger.c) */
extern bool ledger_enable_compaction;
extern int	ledger_compaction_naptime;	/* seconds */
extern int	ledger_max_compaction_workers;

/* what one compaction run did */
typedef struct LedgerCompactionResult
{
	bool		skipped;		/* worker: the ledger was locked, nothing done */
	int			segments_in;	/* segments removed (rewritten or dropped) */
	int			segments_out;	/* segments written */
	int			segments_dropped;	/* by retention */
	int64		rows_in;
	int64		rows_out;
	int64		bytes_in;
	int64		bytes_out;
	int64		keys_expired;	/* key store rows past the key retention */
} LedgerCompactionResult;

/*
 * Compacts ledger relid in the current transaction.  With "full" every
 * segment is rewritten; with "nowait" (the worker) a ledger that another
 * session holds a conflicting lock on is skipped.  Runs as the ledger's
 * owner, in a restricted security context.
 */
extern void LedgerCompact(Oid relid, bool full, bool nowait,
						  LedgerCompactionResult *result);

/* records a run in ledger.job (error NULL for success) */
extern void LedgerCompactionRecordJob(Oid relid, const char *relname,
									  TimestampTz started, const char *trigger,
									  LedgerCompactionResult *result,
									  const char *error);

/* installs the DROP hook; registers the launcher when preloaded */
extern void LedgerCompactionInit(void);

/* background worker entry points (bgw_function_name) */
extern PGDLLEXPORT void ledger_compaction_launcher_main(Datum arg);
extern PGDLLEXPORT void ledger_compaction_worker_main(Datum arg);

#endif							/* LEDGER_COMPACTION_H */
