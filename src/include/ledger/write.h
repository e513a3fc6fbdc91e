/*-------------------------------------------------------------------------
 *
 * write.h
 *	  Interface of the write component: the per-transaction write buffer.
 *
 * NOTES
 *	  Inserted rows are buffered per relation and per subtransaction and
 *	  written as a segment when the buffer is full, at finish_bulk_insert
 *	  (COPY, CREATE TABLE AS, rewrites), and at pre-commit / pre-prepare.
 *	  A subtransaction abort discards exactly its rows.  Scans of the same
 *	  transaction read buffered rows directly (LedgerWriteBeginRead), so no
 *	  flush is needed to see them.  See src/write/README.md.
 *
 * IDENTIFICATION
 *	  src/include/ledger/write.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_WRITE_H
#define LEDGER_WRITE_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/pg_list.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* a run of buffered rows visible to a reader (column-major arrays) */
typedef struct LedgerBufferedRows
{
	int			natts;			/* attributes in the arrays (may be < rel's) */
	int			nrows;			/* rows visible to the reader */
	Datum	  **values;			/* values[att][row] */
	bool	  **isnull;
	int64		pseudo_base;	/* pseudo row number of row 0 */
	int64	   *events;			/* rollup groups: events per row; else NULL */
	void	   *level;			/* private: the pinned buffer level */
} LedgerBufferedRows;

/* installs the transaction callbacks; called once from _PG_init */
extern void LedgerWriteInit(void);

/* buffers nslots rows for rel, inserted by command cid; sets their TIDs */
extern void LedgerWriteInsert(Relation rel, TupleTableSlot **slots,
							  int nslots, CommandId cid);

/*
 * Takes back a contribution of a rollup ledger: folds the negated,
 * prepared row standing for "events" (< 0) events into rel's buffer.
 */
extern void LedgerWriteRetract(Relation rel, Datum *values, bool *isnull,
							   int64 events, CommandId cid);

/* writes rel's rows buffered by the current subtransaction as segments */
extern void LedgerWriteFlush(Relation rel);

/* forgets every buffered row of relid (the relation is being dropped) */
extern void LedgerWriteForget(Oid relid);

/* buffered rows now belong to storage newstorage (SET TABLESPACE) */
extern void LedgerWriteRetarget(Relation rel, Oid newstorage);

/* true if this transaction has buffered rows for relid */
extern bool LedgerWriteHasRows(Oid relid);

/*
 * Pins and returns (as a List of LedgerBufferedRows *) rel's buffered rows
 * that a snapshot with command id curcid may see; release with
 * LedgerWriteEndRead.
 */
extern List *LedgerWriteBeginRead(Relation rel, CommandId curcid);
extern void LedgerWriteEndRead(List *runs);

/*
 * Finds the buffered row with pseudo TID tid: returns false if none, else
 * sets *run and *rowidx, or, if the row has meanwhile been written to a
 * segment, sets *rownum to its real row number and *run to NULL.
 */
extern bool LedgerWriteFindPseudo(Relation rel, ItemPointer tid,
								  LedgerBufferedRows *run, int *rowidx,
								  int64 *rownum);

/* the ledger's time column for segment time ranges, or 0 */
extern AttrNumber LedgerTimeColumn(Relation rel);

/* a value of a time column of base type typid as a timestamp */
extern TimestampTz LedgerTimeValue(Oid typid, Datum d);

/* --- segment builder (ledger_write_builder.c), used by compaction --- */

typedef struct LedgerSegmentBuilder LedgerSegmentBuilder;
struct LedgerRollup;

/*
 * A builder writing rows of rel as segments of at most target_rows rows
 * (and at most ledger.write_buffer_size bytes).  With a rollup spec, rows
 * must come in rollup-key order, one per key, and the segments record its
 * granularity and the rows' event counts.  Allocates in
 * CurrentMemoryContext; segments get the current command id.
 */
extern LedgerSegmentBuilder *LedgerSegmentBuilderCreate(Relation rel,
														struct LedgerRollup *rollup,
														int target_rows);

/* adds one row standing for "events" events (values are copied) */
extern void LedgerSegmentBuilderAdd(LedgerSegmentBuilder *b, Datum *values,
									bool *isnull, int64 events);

/* writes the rows added since the last segment as one segment */
extern void LedgerSegmentBuilderFlush(LedgerSegmentBuilder *b);

/* rows added but not yet written */
extern int	LedgerSegmentBuilderPending(LedgerSegmentBuilder *b);

/*
 * Writes what is left and frees b; returns the number of segments written,
 * sets *rows and *first_rows (first row number of each segment, allocated
 * in the context current at create; either may be NULL).
 */
extern int	LedgerSegmentBuilderEnd(LedgerSegmentBuilder *b, int64 *rows,
									int64 **first_rows);

#endif							/* LEDGER_WRITE_H */
