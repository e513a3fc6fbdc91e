/*-------------------------------------------------------------------------
 *
 * ledger_scan.c
 *	  Reading the rows of a ledger: segments first, then buffered rows.
 *
 * NOTES
 *	  Segment metadata is listed once per reader with the reader's
 *	  snapshot; segments are immutable, so their column rows are fetched
 *	  with the same snapshot when the reader reaches them.  Each segment's
 *	  work happens in a memory context reset when the reader moves on, so
 *	  datums returned for a row stay valid until the next row is asked for
 *	  (the usual contract of scan_getnextslot).
 *
 * IDENTIFICATION
 *	  src/scan/ledger_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "ledger/scan.h"
#include "ledger/segment.h"
#include "ledger/store.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "ledger/upsert.h"
#include "scan_internal.h"

/* the common part of starting a reader */
static LedgerReader *
reader_create(Relation rel, Snapshot snapshot, const bool *wanted,
			  bool read_buffered)
{
	MemoryContext cxt;
	MemoryContext old;
	LedgerReader *r;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger reader",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	r = palloc0(sizeof(LedgerReader));
	r->rel = rel;
	r->snapshot = snapshot;
	r->tupdesc = tupdesc;
	r->natts = tupdesc->natts;
	r->cxt = cxt;
	r->segcxt = AllocSetContextCreate(cxt, "ledger reader segment",
									  ALLOCSET_DEFAULT_SIZES);
	r->read_buffered = read_buffered;
	r->wanted = palloc(sizeof(bool) * Max(r->natts, 1));
	for (int i = 0; i < r->natts; i++)
		r->wanted[i] = !TupleDescAttr(tupdesc, i)->attisdropped &&
			(wanted == NULL || wanted[i]);
	r->readers = palloc0(sizeof(LedgerColumnReader *) * Max(r->natts, 1));
	r->constnull = palloc0(sizeof(bool) * Max(r->natts, 1));
	r->values = palloc0(sizeof(Datum *) * Max(r->natts, 1));
	r->isnull = palloc0(sizeof(bool *) * Max(r->natts, 1));
	r->active = palloc0(sizeof(int) * Max(r->natts, 1));
	r->block = -1;
	r->last_idx = -1;
	r->last_events = EVENTS_NONE;
	r->epoch = LedgerCatalogRelid("segment_id_seq", true);
	LedgerBlobCacheReaderBegin();

	/* a raw keyed ledger hides rows whose key was replaced or retracted */
	r->keyfilter = LedgerKeyFilterBegin(rel, snapshot);
	if (r->keyfilter != NULL)
	{
		LedgerKeyFilterColumns(r->keyfilter, &r->key_att, &r->version_att);
		r->wanted[r->key_att - 1] = true;
		if (r->version_att)
			r->wanted[r->version_att - 1] = true;
	}

	MemoryContextSwitchTo(old);
	return r;
}

/* starts reading rel as seen by snapshot; see scan.h */
LedgerReader *
LedgerReaderBegin(Relation rel, Snapshot snapshot, const bool *wanted,
				  bool read_buffered)
{
	LedgerReader *r = reader_create(rel, snapshot, wanted, read_buffered);
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	r->segments = LedgerStoreListSegments(rel, snapshot, &r->nsegments);

	/*
	 * Pin the buffered rows now: the statement may write them to a segment
	 * this reader's list does not hold before the reader reaches them.
	 */
	if (read_buffered)
		r->runs = LedgerWriteBeginRead(rel, snapshot->curcid);
	MemoryContextSwitchTo(old);
	return r;
}

/*
 * Decodes rows with tupdesc, the descriptor of the slots the rows go to,
 * instead of the relation's.  ALTER TABLE rewrites read the old rows with
 * the old descriptor after the catalogs already describe the new ones;
 * such a read returns the physical rows, which the rewrite folds again.
 * Call before the first row.
 */
void
LedgerReaderSetDescriptor(LedgerReader *r, TupleDesc tupdesc)
{
	MemoryContext old;

	if (tupdesc == r->tupdesc || equalTupleDescs(tupdesc, r->tupdesc))
		return;
	old = MemoryContextSwitchTo(r->cxt);
	r->tupdesc = tupdesc;
	r->natts = tupdesc->natts;
	r->wanted = palloc(sizeof(bool) * Max(r->natts, 1));
	for (int i = 0; i < r->natts; i++)
		r->wanted[i] = !TupleDescAttr(tupdesc, i)->attisdropped;
	r->readers = palloc0(sizeof(LedgerColumnReader *) * Max(r->natts, 1));
	r->constnull = palloc0(sizeof(bool) * Max(r->natts, 1));
	r->values = palloc0(sizeof(Datum *) * Max(r->natts, 1));
	r->isnull = palloc0(sizeof(bool *) * Max(r->natts, 1));
	r->active = palloc0(sizeof(int) * Max(r->natts, 1));
	r->filled_slot = NULL;
	r->arrays_rows = 0;
	r->want_codes = NULL;		/* codes are for the scan's own descriptor */
	r->physical = true;
	MemoryContextSwitchTo(old);
}

/* reads only the given segments: logical rows for rollup ledgers */
LedgerReader *
LedgerReaderBeginSegments(Relation rel, Snapshot snapshot,
						  LedgerSegmentMeta *segments, int nsegments)
{
	LedgerReader *r = scan_begin_segments(rel, snapshot, segments, nsegments, true);

	/* some of the segments only: a key's rows may net to no events */
	r->partial = true;
	return r;
}

/* rows need no TID (aggregation inside the scan) */
void
LedgerReaderSetNoTids(LedgerReader *r)
{
	r->no_tids = true;
}

/* events the row last returned stands for */
int64
LedgerReaderLastEvents(LedgerReader *r)
{
	return r->last_events != EVENTS_NONE ? r->last_events : 1;
}

/* a reader of the physical rows of some segments only */
LedgerReader *
scan_begin_segments(Relation rel, Snapshot snapshot,
					LedgerSegmentMeta *segments, int nsegments,
					bool read_events)
{
	LedgerReader *r = reader_create(rel, snapshot, NULL, false);

	r->segments = segments;
	r->nsegments = nsegments;
	r->read_events = read_events;
	return r;
}

/* shares segments with a parallel scan through counter */
void
LedgerReaderSetParallel(LedgerReader *reader, pg_atomic_uint64 *counter)
{
	reader->parallel_next = counter;
	/* only the leader has this transaction's buffered rows */
	if (IsParallelWorker())
		reader->read_buffered = false;
}

/* qsort comparator: segment indexes by first_row */
static LedgerSegmentMeta *sort_segments;
static int
cmp_first_row(const void *a, const void *b)
{
	int64		ra = sort_segments[*(const int *) a].first_row;
	int64		rb = sort_segments[*(const int *) b].first_row;

	return (ra > rb) - (ra < rb);
}

/* positions the current segment's row window on the reader's range */
static void
window_segment(LedgerReader *r)
{
	LedgerSegmentMeta *seg = r->seg;

	r->row = (int) Max(0, r->range_from - seg->first_row);
	r->row_end = (int) Min((int64) seg->row_count, r->range_to - seg->first_row);
}

/*
 * Restricts the reader to row numbers [from, to).  May be called again
 * with a later range; an open segment and its decoded block are reused.
 */
void
LedgerReaderSetRange(LedgerReader *r, int64 from, int64 to)
{
	int			lo,
				hi;

	r->range_from = from;
	r->range_to = to;
	r->read_buffered = false;
	r->buffered_started = false;
	if (!r->ranged)
	{
		r->ranged = true;
		r->order = MemoryContextAlloc(r->cxt, sizeof(int) * Max(r->nsegments, 1));
		for (int i = 0; i < r->nsegments; i++)
			r->order[i] = i;
		sort_segments = r->segments;
		qsort(r->order, r->nsegments, sizeof(int), cmp_first_row);
	}

	/* first segment whose rows end after "from" */
	lo = 0;
	hi = r->nsegments;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		LedgerSegmentMeta *m = &r->segments[r->order[mid]];

		if (m->first_row + m->row_count <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->order_pos = lo;

	if (r->seg != NULL && lo < r->nsegments &&
		r->seg == &r->segments[r->order[lo]] && r->seg->first_row < to)
	{
		window_segment(r);
		r->order_pos = lo + 1;
	}
	else if (r->seg != NULL)
		scan_close_segment(r);
}

/* leaves the current segment */
void
scan_close_segment(LedgerReader *r)
{
	r->seg = NULL;
	r->block = -1;
	r->last_idx = -1;
	r->cand = NULL;
	memset(r->readers, 0, sizeof(LedgerColumnReader *) * Max(r->natts, 1));
	MemoryContextReset(r->segcxt);
}

/* the index of the next segment to read, or -1 */
int
scan_claim_segment(LedgerReader *r)
{
	if (r->ranged)
	{
		if (r->order_pos < r->nsegments &&
			r->segments[r->order[r->order_pos]].first_row < r->range_to)
			return r->order[r->order_pos++];
		return -1;
	}
	if (r->parallel_next != NULL)
	{
		uint64		i = pg_atomic_fetch_add_u64(r->parallel_next, 1);

		return i < (uint64) r->nsegments ? (int) i : -1;
	}
	return r->next_segment < r->nsegments ? r->next_segment++ : -1;
}

/* opens a segment: fetches and opens its wanted columns; false to skip it */
bool
scan_open_segment(LedgerReader *r, LedgerSegmentMeta *seg)
{
	MemoryContext old = MemoryContextSwitchTo(r->segcxt);
	TupleDesc	tupdesc = r->tupdesc;
	LedgerStoredColumn *cols;

	LedgerStoredColumn events;
	int			blockrows = Min(LEDGER_BLOCK_ROWS, seg->row_count);

	r->cand = NULL;
	if (r->stats != NULL && !r->ranged)
		r->stats->segments++;
	if (r->filter != NULL && !r->ranged && !filter_segment(r, seg))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(r->segcxt);
		return false;
	}

	cols = palloc(sizeof(LedgerStoredColumn) * Max(r->natts, 1));
	LedgerStoreFetchColumns(r->rel, r->snapshot, seg->segment_id, r->natts,
							r->wanted, true, true, cols,
							r->read_events ? &events : NULL);
	r->events_reader = NULL;
	if (r->read_events && events.present)
	{
		LedgerDictionary *evdict = NULL;

		if (events.dict_count > 0 && events.dict != NULL)
			evdict = LedgerDictionaryRead(LedgerEventsAttribute(), seg->row_count,
										  events.dict, r->segcxt);
		r->events_reader = LedgerColumnReaderCreate(LedgerEventsAttribute(),
													seg->row_count, events.data,
													evdict, r->segcxt);
		r->events = palloc(sizeof(int64) * blockrows);
	}
	for (int i = 0; i < r->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		r->readers[i] = NULL;
		r->constnull[i] = true;
		if (!r->wanted[i])
			continue;
		if (blockrows > r->arrays_rows)
		{
			if (r->values[i])
				pfree(r->values[i]);
			if (r->isnull[i])
				pfree(r->isnull[i]);
			r->values[i] = NULL;
			r->isnull[i] = NULL;
		}
		if (r->values[i] == NULL)
		{
			int			rows = Max(blockrows, r->arrays_rows);

			r->values[i] = MemoryContextAllocHuge(r->cxt, sizeof(Datum) * rows);
			r->isnull[i] = MemoryContextAllocHuge(r->cxt, sizeof(bool) * rows);
			if (r->want_codes != NULL && r->want_codes[i])
			{
				if (r->codes[i])
					pfree(r->codes[i]);
				r->codes[i] = MemoryContextAllocHuge(r->cxt, sizeof(int32) * rows);
			}
		}
		if (r->want_codes != NULL)
			r->has_codes[i] = false;
		if (cols[i].present)
		{
			LedgerDictionary *dict = NULL;

			if (cols[i].dict_count > 0)
			{
				if (cols[i].dict == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("ledger segment " INT64_FORMAT " of \"%s\" is corrupted",
									seg->segment_id, RelationGetRelationName(r->rel)),
							 errdetail("Column %d has %d dictionary entries but no dictionary.",
									   i + 1, cols[i].dict_count)));
				dict = LedgerBlobCacheDictionary(r->rel->rd_node.relNode,
												 seg->segment_id, i + 1, att,
												 seg->row_count, cols[i].dict,
												 r->segcxt);
			}
			r->readers[i] = LedgerColumnReaderCreate(att, seg->row_count,
													 cols[i].data, dict,
													 r->segcxt);
			if (r->want_codes != NULL && r->want_codes[i] && dict != NULL &&
				r->codes[i] != NULL)
				r->has_codes[i] = true;
		}
		else
			r->constnull[i] = false;	/* missing: see fill_missing */
	}
	r->arrays_rows = Max(r->arrays_rows, blockrows);
	r->seg = seg;
	r->seg_gen++;
	r->block = -1;
	r->row = 0;
	r->row_end = seg->row_count;
	if (r->ranged)
		window_segment(r);
	MemoryContextSwitchTo(old);
	return true;
}

/* decodes the block holding the current row, if not decoded yet */
void
scan_load_block(LedgerReader *r)
{
	int			block = r->row / LEDGER_BLOCK_ROWS;
	int			expect = Min(LEDGER_BLOCK_ROWS,
							 r->seg->row_count - block * LEDGER_BLOCK_ROWS);

	if (block == r->block)
		return;
	for (int i = 0; i < r->natts; i++)
	{
		int			n;
		Form_pg_attribute att;

		if (r->readers[i] == NULL)
			continue;
		att = TupleDescAttr(r->tupdesc, i);

		if (r->want_codes != NULL && r->has_codes[i])
		{
			/* codes wanted: decode them, and the values from them */
			LedgerDictionary *dict = LedgerColumnReaderDictionary(r->readers[i]);
			int32	   *codes = r->codes[i];
			Datum	   *values = r->values[i];
			bool	   *isnull = r->isnull[i];

			n = LedgerColumnReaderReadCodes(r->readers[i], block, codes, isnull);
			for (int k = 0; k < n; k++)
				values[k] = isnull[k] ? (Datum) 0 : dict->values[codes[k]];
		}
		/* pass-by-value columns may be decoded already */
		else if ((n = att->attbyval ?
			scan_blockcache_get(r->epoch, r->rel->rd_node.relNode, r->seg->segment_id, i + 1,
								att->atttypid, block, r->values[i], r->isnull[i]) : -1) < 0)
		{
			n = LedgerColumnReaderReadBlock(r->readers[i], block, r->values[i],
											r->isnull[i]);
			if (att->attbyval && n == expect)
				scan_blockcache_put(r->epoch, r->rel->rd_node.relNode, r->seg->segment_id, i + 1,
									att->atttypid, block, r->values[i], r->isnull[i], n);
		}
		if (r->stats)
			r->stats->blocks++;
		if (n != expect)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("ledger segment " INT64_FORMAT " of \"%s\" is corrupted",
							r->seg->segment_id, RelationGetRelationName(r->rel)),
					 errdetail("Block %d of column %d holds %d rows, expected %d.",
							   block, i + 1, n, expect)));
	}
	if (r->events_reader != NULL)
	{
		Datum	   *ev = palloc(sizeof(Datum) * expect);
		bool	   *evnull = palloc(sizeof(bool) * expect);
		MemoryContext old = MemoryContextSwitchTo(r->segcxt);

		if (LedgerColumnReaderReadBlock(r->events_reader, block, ev, evnull) != expect)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("ledger segment " INT64_FORMAT " of \"%s\" is corrupted",
							r->seg->segment_id, RelationGetRelationName(r->rel)),
					 errdetail("Its event counts do not match its rows.")));
		for (int k = 0; k < expect; k++)
			r->events[k] = evnull[k] ? 1 : DatumGetInt64(ev[k]);
		pfree(ev);
		pfree(evnull);
		MemoryContextSwitchTo(old);
	}
	r->block = block;
}

/* true if the segment intersects the reader's row range */
static bool
segment_in_range(LedgerReader *r, LedgerSegmentMeta *seg)
{
	if (!r->ranged)
		return true;
	return seg->first_row < r->range_to &&
		seg->first_row + seg->row_count > r->range_from;
}

/*
 * Sets attribute i of slot to the value rows get for a column added after
 * they were stored: the column's fast default or NULL.  It comes from the
 * slot's descriptor, which ALTER TABLE rewrites keep from before they
 * clear the missing values of the relation.
 */
static void
fill_missing(TupleTableSlot *slot, int i)
{
	slot->tts_values[i] = getmissingattr(slot->tts_tupleDescriptor, i + 1,
										 &slot->tts_isnull[i]);
}

/* fills slot from buffered row idx of run */
static void
store_buffered(LedgerReader *r, LedgerBufferedRows *run, int idx,
			   TupleTableSlot *slot)
{
	/* never write past the slot's own attributes */
	int			natts = Min(r->natts, slot->tts_tupleDescriptor->natts);

	r->filled_slot = NULL;

	for (int i = 0; i < natts; i++)
	{
		if (!r->wanted[i])
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
		else if (i < run->natts)
		{
			slot->tts_values[i] = run->values[i][idx];
			slot->tts_isnull[i] = run->isnull[i][idx];
		}
		else
			fill_missing(slot, i);
	}
	ExecStoreVirtualTuple(slot);
	LedgerRowNumberToTid((int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage +
						 run->pseudo_base + idx, &slot->tts_tid);
	slot->tts_tableOid = RelationGetRelid(r->rel);
}

/* false if the key filter hides the row in slot's arrays */
static inline bool
row_live(LedgerReader *r, TupleTableSlot *slot)
{
	int			k,
				v;

	if (r->keyfilter == NULL || r->physical)
		return true;
	k = r->key_att - 1;
	v = r->version_att - 1;
	if (k >= slot->tts_tupleDescriptor->natts ||
		v >= slot->tts_tupleDescriptor->natts)
		return true;
	return LedgerKeyFilterRowLive(r->keyfilter,
								  slot->tts_values[k], slot->tts_isnull[k],
								  v >= 0 ? slot->tts_values[v] : (Datum) 0,
								  v >= 0 ? slot->tts_isnull[v] : true);
}

/* stores the next row in slot (virtual); false at the end */
bool
LedgerReaderNext(LedgerReader *r, TupleTableSlot *slot)
{
	if (!r->ranged && !r->physical)
	{
		if (r->rollup_scan == NULL && !r->rollup_checked)
		{
			LedgerRollup *rollup = LedgerRollupGet(r->rel);

			r->rollup_checked = true;
			if (rollup != NULL)
				r->rollup_scan = scan_rollup_begin(r, rollup);
		}
		if (r->rollup_scan != NULL)
		{
			if (scan_rollup_next(r->rollup_scan, slot))
			{
				r->returned++;
				return true;
			}
			return false;
		}
	}
	return scan_next_physical(r, slot);
}

/* the next physical row (segments, then buffered rows) */
bool
scan_next_physical(LedgerReader *r, TupleTableSlot *slot)
{
	ExecClearTuple(slot);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();

		if (r->seg != NULL)
		{
			if (r->cand != NULL)
			{
				/* only the rows the filter's bitmaps selected */
				if (r->cand_pos < r->ncand)
					r->row = (int) r->cand[r->cand_pos++];
				else
					r->row = r->row_end;
			}
			if (r->row < r->row_end)
			{
				int			idx;
				int			natts;

				scan_load_block(r);
				idx = r->row % LEDGER_BLOCK_ROWS;
				natts = Min(r->natts, slot->tts_tupleDescriptor->natts);
				if (slot == r->filled_slot && r->seg == r->filled_seg)
				{
					/* the columns without data hold their values already */
					for (int j = 0; j < r->nactive; j++)
					{
						int			i = r->active[j];

						slot->tts_values[i] = r->values[i][idx];
						slot->tts_isnull[i] = r->isnull[i][idx];
					}
				}
				else
				{
					r->nactive = 0;
					for (int i = 0; i < natts; i++)
					{
						if (r->readers[i] != NULL)
						{
							slot->tts_values[i] = r->values[i][idx];
							slot->tts_isnull[i] = r->isnull[i][idx];
							r->active[r->nactive++] = i;
						}
						else if (r->constnull[i])
						{
							slot->tts_values[i] = (Datum) 0;
							slot->tts_isnull[i] = true;
						}
						else
							fill_missing(slot, i);
					}
					r->filled_slot = slot;
					r->filled_seg = r->seg;
				}
				if (!row_live(r, slot))
				{
					r->row++;
					continue;
				}
				ExecStoreVirtualTuple(slot);
				if (!r->no_tids)
					LedgerRowNumberToTid(r->seg->first_row + r->row, &slot->tts_tid);
				slot->tts_tableOid = RelationGetRelid(r->rel);
				r->last_events = r->events_reader ? r->events[idx] : EVENTS_NONE;
				r->last_idx = idx;
				r->row++;
				r->returned++;
				return true;
			}
			/* in ranged mode keep the segment open for the next range */
			if (r->ranged &&
				!(r->order_pos < r->nsegments &&
				  r->segments[r->order[r->order_pos]].first_row < r->range_to))
				return false;
			scan_close_segment(r);
		}

		if (!r->buffered_started)
		{
			int			i = scan_claim_segment(r);

			if (i >= 0)
			{
				if (segment_in_range(r, &r->segments[i]))
					(void) scan_open_segment(r, &r->segments[i]);
				continue;
			}
			if (r->ranged)
				return false;	/* a later SetRange may continue */
			r->buffered_started = true;
			if (r->read_buffered)
			{
				r->run_cell = list_head(r->runs);
				r->run_row = 0;
			}
		}

		/* buffered rows of this transaction */
		while (r->run_cell != NULL)
		{
			LedgerBufferedRows *run = lfirst(r->run_cell);

			if (r->run_row < run->nrows)
			{
				r->last_events = EVENTS_NONE;
				r->last_idx = -1;
				store_buffered(r, run, r->run_row++, slot);
				if (!row_live(r, slot))
				{
					ExecClearTuple(slot);
					continue;
				}
				r->returned++;
				return true;
			}
			r->run_cell = lnext(r->runs, r->run_cell);
			r->run_row = 0;
		}
		return false;
	}
}

/* starts over from the first row */
void
LedgerReaderRescan(LedgerReader *r)
{
	if (r->rollup_scan != NULL)
	{
		scan_rollup_end(r->rollup_scan);
		r->rollup_scan = NULL;
	}
	r->rollup_checked = false;
	scan_close_segment(r);
	r->next_segment = 0;
	r->buffered_started = false;
	r->run_cell = NULL;
	r->returned = 0;
}

/* releases the reader */
void
LedgerReaderEnd(LedgerReader *r)
{
	if (r->rollup_scan != NULL)
		scan_rollup_end(r->rollup_scan);
	if (r->runs != NIL)
		LedgerWriteEndRead(r->runs);
	MemoryContextDelete(r->cxt);
	LedgerBlobCacheReaderEnd();
}

/* rows the reader has returned */
int64
LedgerReaderRowsReturned(LedgerReader *reader)
{
	return reader->returned;
}

/* fetches the row with TID tid visible to snapshot into slot */
bool
LedgerFetchRow(Relation rel, Snapshot snapshot, ItemPointer tid,
			   TupleTableSlot *slot)
{
	int64		rownum;
	LedgerReader *r;
	bool		found;

	if (!ItemPointerIsValid(tid))
		return false;

	if (ItemPointerGetBlockNumber(tid) >= LEDGER_PSEUDO_BLOCK_BASE)
	{
		LedgerBufferedRows run;
		int			idx;

		if (!LedgerWriteFindPseudo(rel, tid, &run, &idx, &rownum))
			return false;
		if (run.level != NULL)
		{
			LedgerReader fake;

			/* a buffered row: only this transaction can have its TID */
			memset(&fake, 0, sizeof(fake));
			fake.rel = rel;
			fake.natts = RelationGetDescr(rel)->natts;
			fake.wanted = palloc(sizeof(bool) * Max(fake.natts, 1));
			memset(fake.wanted, true, sizeof(bool) * Max(fake.natts, 1));
			ExecClearTuple(slot);
			store_buffered(&fake, &run, idx, slot);
			slot->tts_tid = *tid;
			pfree(fake.wanted);
			return true;
		}
	}
	else
		rownum = LedgerTidToRowNumber(tid);

	r = LedgerReaderBegin(rel, snapshot, NULL, false);
	LedgerReaderSetRange(r, rownum, rownum + 1);
	found = LedgerReaderNext(r, slot);
	if (found)
	{
		/* materialize: the reader's memory goes away now */
		ExecMaterializeSlot(slot);
		if (ItemPointerGetBlockNumber(tid) >= LEDGER_PSEUDO_BLOCK_BASE)
			slot->tts_tid = *tid;
	}
	LedgerReaderEnd(r);
	return found;
}
