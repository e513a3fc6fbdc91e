/*-------------------------------------------------------------------------
 *
 * ledger_scan_batch.c
 *	  Reading a raw ledger's segment rows a block at a time (LedgerAgg's
 *	  batches) and handing out the dictionary codes of chosen columns.
 *
 * NOTES
 *	  A batch is the reader's own decoded arrays of one block plus the rows
 *	  of that block to read (all of them, or the filter's candidates):
 *	  nothing is copied per row.  Codes are decoded instead of values for
 *	  the columns asked for, and the values then looked up from them, so a
 *	  caller can remember work per dictionary entry.
 *
 * IDENTIFICATION
 *	  src/scan/ledger_scan_batch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "ledger/rollup.h"
#include "ledger/scan.h"
#include "ledger/segment.h"
#include "miscadmin.h"
#include "scan_internal.h"
#include "utils/memutils.h"

/* true if rows may come as batches (see scan.h); before the first row */
bool
LedgerReaderBatchable(LedgerReader *r)
{
	if (r->ranged || r->physical || r->keyfilter != NULL || r->returned > 0)
		return false;
	if (!r->rollup_checked)
	{
		LedgerRollup *rollup = LedgerRollupGet(r->rel);

		r->rollup_checked = true;
		if (rollup != NULL)
			r->rollup_scan = scan_rollup_begin(r, rollup);
	}
	return r->rollup_scan == NULL;
}

/* points batch at the decoded block's arrays */
static void
batch_columns(LedgerReader *r, LedgerBatch *b)
{
	if (b->values == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);

		b->values = palloc0(sizeof(Datum *) * Max(r->natts, 1));
		b->isnull = palloc0(sizeof(bool *) * Max(r->natts, 1));
		b->cvalue = palloc0(sizeof(Datum) * Max(r->natts, 1));
		b->cnull = palloc0(sizeof(bool) * Max(r->natts, 1));
		b->codes = palloc0(sizeof(int32 *) * Max(r->natts, 1));
		b->ncodes = palloc0(sizeof(int) * Max(r->natts, 1));
		MemoryContextSwitchTo(old);
	}
	for (int i = 0; i < r->natts; i++)
	{
		b->codes[i] = NULL;
		if (r->readers[i] != NULL)
		{
			b->values[i] = r->values[i];
			b->isnull[i] = r->isnull[i];
			if (r->want_codes != NULL && r->has_codes[i])
			{
				b->codes[i] = r->codes[i];
				b->ncodes[i] = LedgerColumnReaderDictionary(r->readers[i])->count;
			}
			continue;
		}
		b->values[i] = NULL;
		b->isnull[i] = NULL;
		if (r->constnull[i])
		{
			b->cvalue[i] = (Datum) 0;
			b->cnull[i] = true;
		}
		else
			b->cvalue[i] = getmissingattr(r->tupdesc, i + 1, &b->cnull[i]);
	}
	b->dict_id = r->seg_gen;
	b->exact = r->filter != NULL && r->seg_exact;
}

/* the next batch of segment rows (see scan.h) */
bool
LedgerReaderNextBatch(LedgerReader *r, LedgerBatch *b)
{
	r->filled_slot = NULL;
	r->last_idx = -1;
	for (;;)
	{
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (r->seg != NULL)
		{
			int			block;

			if (r->cand != NULL)
			{
				if (r->cand_pos < r->ncand)
				{
					/* the filter's candidates within one block */
					uint32		first = r->cand[r->cand_pos];
					uint32		block_end;
					int			n = 1;

					block = (int) (first / LEDGER_BLOCK_ROWS);
					block_end = (uint32) (block + 1) * LEDGER_BLOCK_ROWS;
					while (r->cand_pos + n < r->ncand && r->cand[r->cand_pos + n] < block_end)
						n++;
					r->row = (int) first;
					scan_load_block(r);
					batch_columns(r, b);
					b->sel = &r->cand[r->cand_pos];
					b->base = (uint32) block * LEDGER_BLOCK_ROWS;
					b->start = 0;
					b->nrows = n;
					r->cand_pos += n;
					r->returned += n;
					return true;
				}
			}
			else if (r->row < r->row_end)
			{
				int			end;

				block = r->row / LEDGER_BLOCK_ROWS;
				end = Min(r->row_end, (block + 1) * LEDGER_BLOCK_ROWS);
				scan_load_block(r);
				batch_columns(r, b);
				b->sel = NULL;
				b->base = 0;
				b->start = r->row - block * LEDGER_BLOCK_ROWS;
				b->nrows = end - r->row;
				r->returned += end - r->row;
				r->row = end;
				return true;
			}
			scan_close_segment(r);
		}
		if (r->buffered_started)
			return false;
		i = scan_claim_segment(r);
		if (i < 0)
			return false;		/* buffered rows: LedgerReaderNext */
		(void) scan_open_segment(r, &r->segments[i]);
	}
}

/* asks for the dictionary codes of column attnum; before the first row */
void
LedgerReaderWantCodes(LedgerReader *r, AttrNumber attnum)
{
	if (attnum < 1 || attnum > r->natts || !r->wanted[attnum - 1])
		return;
	if (r->want_codes == NULL)
	{
		r->want_codes = MemoryContextAllocZero(r->cxt, sizeof(bool) * r->natts);
		r->codes = MemoryContextAllocZero(r->cxt, sizeof(int32 *) * r->natts);
		r->has_codes = MemoryContextAllocZero(r->cxt, sizeof(bool) * r->natts);
	}
	r->want_codes[attnum - 1] = true;
}

/*
 * The dictionary entry of column attnum's value in the row last returned,
 * or -1 when there is none (see scan.h).
 */
int
LedgerReaderLastCode(LedgerReader *r, AttrNumber attnum, uint64 *dict_id,
					 int *ncodes)
{
	int			i = attnum - 1;

	if (r->last_idx < 0 || r->seg == NULL || r->want_codes == NULL ||
		i < 0 || i >= r->natts || !r->has_codes[i] || r->isnull[i][r->last_idx])
		return -1;
	*dict_id = r->seg_gen;
	*ncodes = LedgerColumnReaderDictionary(r->readers[i])->count;
	return r->codes[i][r->last_idx];
}
