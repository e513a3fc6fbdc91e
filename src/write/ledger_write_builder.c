/*-------------------------------------------------------------------------
 *
 * ledger_write_builder.c
 *	  A segment builder: rows added one by one are written as segments of
 *	  a target size, for compaction.
 *
 * NOTES
 *	  Rows are copied column-major into the builder's own memory context
 *	  and written with write_segment when the target row count or the
 *	  write buffer's byte budget (ledger.write_buffer_size) is reached, or
 *	  on LedgerSegmentBuilderFlush.  The builder keeps the order rows were
 *	  added in: callers add a rollup ledger's rows in rollup-key order and
 *	  key-unique (so every segment is sorted and key-unique), a raw
 *	  ledger's rows in any order.  Segments are inserted with the current
 *	  command id.
 *
 * IDENTIFICATION
 *	  src/write/ledger_write_builder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "ledger/ledger.h"
#include "ledger/segment.h"
#include "ledger/write.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "write_internal.h"

struct LedgerSegmentBuilder
{
	Relation	rel;
	LedgerRollup *rollup;		/* NULL: raw rows */
	int			natts;
	int			target_rows;
	MemoryContext cxt;			/* holds the arrays */
	MemoryContext rowcxt;		/* holds copied values; reset per segment */
	int			nrows;
	int			capacity;
	Datum	  **values;
	bool	  **isnull;
	int64	   *events;
	Size		bytes;
	int64		segments_written;
	int64		rows_written;
	MemoryContext parent;		/* holds first_rows, outlives the builder */
	int64	   *first_rows;		/* first row number of each segment written */
	int			nfirst;
	int			capfirst;
};

/* a builder for rel; rollup (may be NULL) is recorded on its segments */
LedgerSegmentBuilder *
LedgerSegmentBuilderCreate(Relation rel, LedgerRollup *rollup, int target_rows)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ledger segment builder",
											  ALLOCSET_DEFAULT_SIZES);
	LedgerSegmentBuilder *b = MemoryContextAllocZero(cxt, sizeof(LedgerSegmentBuilder));
	int			natts = RelationGetDescr(rel)->natts;

	b->rel = rel;
	b->rollup = rollup;
	b->natts = natts;
	b->parent = MemoryContextGetParent(cxt);
	b->target_rows = Max(1, Min(target_rows, LEDGER_SEGMENT_MAX_ROWS));
	b->cxt = cxt;
	b->rowcxt = AllocSetContextCreate(cxt, "ledger segment builder rows",
									  ALLOCSET_DEFAULT_SIZES);
	b->values = MemoryContextAllocZero(cxt, sizeof(Datum *) * Max(natts, 1));
	b->isnull = MemoryContextAllocZero(cxt, sizeof(bool *) * Max(natts, 1));
	return b;
}

/* grows the builder's arrays to hold one more row */
static void
builder_grow(LedgerSegmentBuilder *b)
{
	int			newcap = Min(Max(b->capacity * 2, 1024), b->target_rows);

	for (int i = 0; i < b->natts; i++)
	{
		if (b->capacity == 0)
		{
			b->values[i] = MemoryContextAllocHuge(b->cxt, sizeof(Datum) * newcap);
			b->isnull[i] = MemoryContextAllocHuge(b->cxt, sizeof(bool) * newcap);
		}
		else
		{
			b->values[i] = repalloc_huge(b->values[i], sizeof(Datum) * newcap);
			b->isnull[i] = repalloc_huge(b->isnull[i], sizeof(bool) * newcap);
		}
	}
	if (b->capacity == 0)
		b->events = MemoryContextAllocHuge(b->cxt, sizeof(int64) * newcap);
	else
		b->events = repalloc_huge(b->events, sizeof(int64) * newcap);
	b->capacity = newcap;
}

/*
 * Adds one row (natts values, detoasted) standing for "events" events;
 * writes a segment when the builder is full.  Values are copied.
 */
void
LedgerSegmentBuilderAdd(LedgerSegmentBuilder *b, Datum *values, bool *isnull,
						int64 events)
{
	TupleDesc	tupdesc = RelationGetDescr(b->rel);
	int			r;
	MemoryContext old;

	if (b->nrows == b->capacity)
		builder_grow(b);
	r = b->nrows;
	old = MemoryContextSwitchTo(b->rowcxt);
	for (int i = 0; i < b->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		b->isnull[i][r] = isnull[i] || att->attisdropped;
		if (b->isnull[i][r])
			b->values[i][r] = (Datum) 0;
		else if (att->attbyval)
			b->values[i][r] = values[i];
		else
		{
			b->values[i][r] = datumCopy(values[i], false, att->attlen);
			b->bytes += att->attlen > 0 ? att->attlen :
				datumGetSize(values[i], false, att->attlen);
		}
	}
	MemoryContextSwitchTo(old);
	b->events[r] = events;
	b->nrows++;
	b->bytes += sizeof(Datum) * b->natts;

	if (b->nrows >= b->target_rows ||
		b->bytes >= (Size) ledger_write_buffer_size * 1024)
		LedgerSegmentBuilderFlush(b);
}

/* writes the rows added since the last segment as one segment */
void
LedgerSegmentBuilderFlush(LedgerSegmentBuilder *b)
{
	int64		first_row;

	if (b->nrows == 0)
		return;
	first_row = write_segment(b->rel, b->natts, b->values, b->isnull,
							  b->rollup ? b->events : NULL, b->rollup, 0,
							  b->nrows, GetCurrentCommandId(true));
	if (b->nfirst == b->capfirst)
	{
		b->capfirst = Max(8, b->capfirst * 2);
		if (b->first_rows == NULL)
			b->first_rows = MemoryContextAlloc(b->parent, sizeof(int64) * b->capfirst);
		else
			b->first_rows = repalloc(b->first_rows, sizeof(int64) * b->capfirst);
	}
	b->first_rows[b->nfirst++] = first_row;
	b->segments_written++;
	b->rows_written += b->nrows;
	b->nrows = 0;
	b->bytes = 0;
	MemoryContextReset(b->rowcxt);
}

/* rows added but not yet written */
int
LedgerSegmentBuilderPending(LedgerSegmentBuilder *b)
{
	return b->nrows;
}

/*
 * Writes what is left, reports totals and frees the builder.  *first_rows
 * (if wanted) gets the first row number of each segment written, allocated
 * in the context that was current at LedgerSegmentBuilderCreate.
 */
int
LedgerSegmentBuilderEnd(LedgerSegmentBuilder *b, int64 *rows,
						int64 **first_rows)
{
	int			n;

	LedgerSegmentBuilderFlush(b);
	n = b->nfirst;
	if (rows)
		*rows = b->rows_written;
	if (first_rows)
		*first_rows = b->first_rows;
	else if (b->first_rows)
		pfree(b->first_rows);
	MemoryContextDelete(b->cxt);
	return n;
}
