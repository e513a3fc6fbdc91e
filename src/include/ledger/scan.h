/*-------------------------------------------------------------------------
 *
 * scan.h
 *	  Interface of the scan component: reading the rows of a ledger from
 *	  its segments and from the transaction's write buffer.
 *
 * NOTES
 *	  A reader lists the segments its snapshot sees once, at begin, and
 *	  then walks them in segment order, decoding one block of each wanted
 *	  column at a time.  After the segments come the rows still buffered
 *	  by this transaction that the snapshot's command id may see.  A reader
 *	  may be restricted to a row-number range (ANALYZE, TID fetches) and may
 *	  share its segment list with other processes of a parallel scan
 *	  through an atomic counter.
 *
 * IDENTIFICATION
 *	  src/include/ledger/scan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_SCAN_H
#define LEDGER_SCAN_H

#include "postgres.h"

#include "access/relscan.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "port/atomics.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "ledger/store.h"

typedef struct LedgerReader LedgerReader;

/* kinds of pushed-down conditions */
typedef enum LedgerQualKind
{
	LEDGER_QUAL_AND,
	LEDGER_QUAL_OR,
	LEDGER_QUAL_NOT,
	LEDGER_QUAL_CMP,			/* column <op> value */
	LEDGER_QUAL_IN,				/* column = ANY(values) */
	LEDGER_QUAL_NULLTEST		/* column IS [NOT] NULL */
} LedgerQualKind;

/* strategy of a LEDGER_QUAL_CMP leaf for "<>" */
#define LEDGER_STRATEGY_NE		0

/*
 * A condition on the rows of a ledger that the scan may use to skip
 * segments, blocks and rows.  It only ever narrows what is read to a
 * superset of the matching rows: the executor still checks every row.
 */
typedef struct LedgerQual
{
	LedgerQualKind kind;
	List	   *args;			/* AND, OR, NOT: LedgerQual * */
	AttrNumber	attnum;			/* leaves: the column */
	int			strategy;		/* CMP: BT*StrategyNumber or LEDGER_STRATEGY_NE */
	bool		isnull;			/* NULLTEST: IS NULL (true) or IS NOT NULL */
	Oid			collation;
	FmgrInfo	cmp;			/* leaves: btree order proc (column, value) */
	/* comparison values, set before the scan starts */
	int			nvalues;
	Datum	   *values;
	bool		null_value;		/* a NULL value: the leaf matches no row */
	void	   *exec;			/* executor's private state */
} LedgerQual;

/* what a filtered scan did (EXPLAIN ANALYZE) */
typedef struct LedgerScanStats
{
	int64		segments;		/* segments considered */
	int64		pruned_range;	/* skipped by min/max */
	int64		pruned_dict;	/* skipped because no dictionary entry matched */
	int64		rows_bitmap;	/* rows selected by bitmaps */
	int64		blocks;			/* column blocks decompressed */
} LedgerScanStats;

/* shared state of a parallel scan of a ledger */
typedef struct LedgerParallelScanData
{
	ParallelTableScanDescData base;
	pg_atomic_uint64 next_segment;	/* index into the shared segment order */
} LedgerParallelScanData;

/*
 * Starts reading rel as seen by snapshot.  wanted (natts entries, may be
 * NULL for all) says which columns to decode; the others read as NULL.
 * With read_buffered the transaction's buffered rows come last.
 * Allocates in CurrentMemoryContext.
 */
extern LedgerReader *LedgerReaderBegin(Relation rel, Snapshot snapshot,
									   const bool *wanted, bool read_buffered);

/*
 * Starts reading only the given segments of rel (no buffered rows) as seen
 * by snapshot: logical rows (merged per rollup key) for a rollup ledger,
 * physical rows otherwise.  The segments array must outlive the reader.
 */
extern LedgerReader *LedgerReaderBeginSegments(Relation rel, Snapshot snapshot,
											   LedgerSegmentMeta *segments,
											   int nsegments);

/* the rows need no TIDs (aggregation inside the scan) */
extern void LedgerReaderSetNoTids(LedgerReader *reader);

/* events the row last returned stands for (rollup ledgers; else 1) */
extern int64 LedgerReaderLastEvents(LedgerReader *reader);

/*
 * Narrows the reader with filter (may be NULL) before its first row and
 * counts its work in stats (may be NULL).  Both must outlive the reader.
 */
extern void LedgerReaderSetFilter(LedgerReader *reader, LedgerQual *filter,
								  LedgerScanStats *stats);

/* decodes with the slots' descriptor (ALTER TABLE rewrites); before row 1 */
extern void LedgerReaderSetDescriptor(LedgerReader *reader, TupleDesc tupdesc);

/* shares segments with a parallel scan through counter */
extern void LedgerReaderSetParallel(LedgerReader *reader,
									pg_atomic_uint64 *counter);

/* restricts the reader to row numbers [from, to) (no buffered rows) */
extern void LedgerReaderSetRange(LedgerReader *reader, int64 from, int64 to);

/* stores the next row in slot (virtual); false at the end */
extern bool LedgerReaderNext(LedgerReader *reader, TupleTableSlot *slot);

/*
 * Asks for the dictionary codes of column attnum (a wanted column); before
 * the first row.  Serial reads of segments only; see LedgerReaderLastCode.
 */
extern void LedgerReaderWantCodes(LedgerReader *reader, AttrNumber attnum);

/*
 * The entry number of column attnum's value in its segment's dictionary,
 * for the row last returned; -1 if the value is NULL, the column was not
 * asked for, the segment stores it without a dictionary, or the row is a
 * buffered or merged one.  Equal codes with equal *dict_id are equal values
 * (same bytes); *dict_id changes with the dictionary, which has *ncodes
 * entries.
 */
extern int	LedgerReaderLastCode(LedgerReader *reader, AttrNumber attnum,
								 uint64 *dict_id, int *ncodes);

/*
 * Rows of one block of one segment, read in place: for row j of nrows its
 * index in the arrays is sel[j] - base if sel is set, else start + j.
 * Column a (0-based) has values[a][idx]/isnull[a][idx], or, if values[a]
 * is NULL, the same cvalue[a]/cnull[a] for every row (columns not wanted,
 * or added after the segment was written).  codes[a] is set for columns
 * asked with LedgerReaderWantCodes that the segment stores as dictionary
 * codes (ncodes[a] entries; dict_id as for LedgerReaderLastCode).  All
 * arrays belong to the reader and are valid until its next call.
 */
typedef struct LedgerBatch
{
	int			nrows;
	const uint32 *sel;
	uint32		base;
	int			start;
	Datum	  **values;
	bool	  **isnull;
	Datum	   *cvalue;
	bool	   *cnull;
	int32	  **codes;
	int		   *ncodes;
	uint64		dict_id;
	bool		exact;			/* every row satisfies the reader's filter
								 * (zone maps or exact bitmaps said so) */
} LedgerBatch;

/*
 * True if the reader can hand out its segments' rows as batches: a serial
 * or parallel scan of a raw ledger without a key filter.  Before row 1.
 */
extern bool LedgerReaderBatchable(LedgerReader *reader);

/*
 * The next batch of a batchable reader's segment rows; false when the
 * segments are done.  The transaction's buffered rows then still come from
 * LedgerReaderNext.
 */
extern bool LedgerReaderNextBatch(LedgerReader *reader, LedgerBatch *batch);

/* starts over from the first row */
extern void LedgerReaderRescan(LedgerReader *reader);

/* releases the reader */
extern void LedgerReaderEnd(LedgerReader *reader);

/* rows the reader has returned from segments and from the buffer */
extern int64 LedgerReaderRowsReturned(LedgerReader *reader);

/* fetches the row with TID tid visible to snapshot into slot */
extern bool LedgerFetchRow(Relation rel, Snapshot snapshot, ItemPointer tid,
						   TupleTableSlot *slot);

#endif							/* LEDGER_SCAN_H */
