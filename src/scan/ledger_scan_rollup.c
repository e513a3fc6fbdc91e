/*-------------------------------------------------------------------------
 *
 * ledger_scan_rollup.c
 *	  Perfect rollup on read: the logical rows of a rollup ledger, one per
 *	  rollup key, however many segments and buffered levels hold parts of it.
 *
 * NOTES
 *	  Every source yields rows in rollup-key order: a segment rolled up at
 *	  the ledger's current granularity streams as it is stored (segments
 *	  are written sorted and key-unique); anything else (raw segments from
 *	  before set_rollup, segments of a finer earlier granularity, the
 *	  transaction's buffered rows) is first folded into a group table and
 *	  sorted.  A k-way merge over the sources combines equal keys and drops
 *	  keys whose events cancel out.  Streaming sources join the merge only
 *	  when the merge reaches their first bucket, so memory is bounded by
 *	  the sources that overlap in time.
 *
 *	  Rows are re-prepared on read (time to the current bucket, key and
 *	  version to NULL), which is what makes a coarser granularity and
 *	  rows stored before set_rollup read correctly.
 *
 * IDENTIFICATION
 *	  src/scan/ledger_scan_rollup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "ledger/upsert.h"
#include "scan_internal.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* a source of rows in rollup-key order */
typedef struct Cursor
{
	bool		streaming;		/* a segment read as stored */
	LedgerSegmentMeta *meta;	/* streaming: its segment */
	int64		min_bucket;		/* streaming: bucket of its first row */
	int64		max_bucket;		/* streaming: bucket of its last row */
	LedgerReader *sub;			/* streaming: reader of the segment */
	TupleTableSlot *slot;		/* streaming: current row */
	MemoryContext rowcxt;		/* values made while preparing a row */

	LedgerGroupTable *gt;		/* folded: the groups */
	int		   *perm;			/* folded: groups in key order */
	int			pos;

	/* the current row, row-major, with column-major views for rollup/ */
	Datum	   *vals;
	bool	   *nulls;
	Datum	  **vptr;
	bool	  **nptr;
	int64		events;
	ItemPointerData tid;
} Cursor;

struct LedgerRollupScan
{
	LedgerReader *r;
	LedgerRollup *rollup;
	int			natts;
	MemoryContext cxt;

	Cursor	  **pending;		/* streaming cursors by min_bucket */
	int			npending;
	int			next_pending;
	int			pending_end;	/* end of the claimed cluster in pending */

	/* parallel scans claim clusters of segments that overlap in time */
	pg_atomic_uint64 *counter;
	int		   *cluster_start;	/* nclusters + 1 boundaries into pending */
	int			nclusters;
	List	   *fold_later;		/* segments to fold by who claims cluster 0 */
	Cursor	  **heap;			/* cursors with a current row, min first */
	int			nheap;
	List	   *runs;			/* pinned buffered rows */

	/* the group being accumulated and the one last returned */
	MemoryContext grpcxt[2];
	Datum	   *gvals[2];
	bool	   *gnulls[2];
	Datum	  **gvptr[2];
	bool	  **gnptr[2];
	int			cur;
	bool		have_group;
	int64		gevents;
	int64		emitted_events; /* events of the group being returned */
	Cursor	   *advance_first;	/* passed its row through: move it on first */
	ItemPointerData emitted_tid;
	ItemPointerData gtid;

	/* keyed ledgers with min/max: groups that lost a contribution */
	LedgerKeyMinMax *minmax;	/* NULL if none */
	MemoryContext fixcxt;		/* recomputed values of the returned row */
};

static void cursor_close(Cursor *c);
static bool merge_next(LedgerRollupScan *rs, TupleTableSlot *slot);

/* points a cursor's column-major views at its row arrays */
static void
cursor_views(Cursor *c, int natts)
{
	for (int i = 0; i < natts; i++)
	{
		c->vptr[i] = &c->vals[i];
		c->nptr[i] = &c->nulls[i];
	}
}

/* a new cursor with row arrays for natts attributes */
static Cursor *
cursor_create(int natts)
{
	Cursor	   *c = palloc0(sizeof(Cursor));

	c->vals = palloc0(sizeof(Datum) * Max(natts, 1));
	c->nulls = palloc0(sizeof(bool) * Max(natts, 1));
	c->vptr = palloc0(sizeof(Datum *) * Max(natts, 1));
	c->nptr = palloc0(sizeof(bool *) * Max(natts, 1));
	cursor_views(c, natts);
	return c;
}

/* orders cursors by their current rows' rollup keys */
static int
cursor_cmp(LedgerRollupScan *rs, Cursor *a, Cursor *b)
{
	return LedgerRollupCompareKeys(rs->rollup, a->vptr, a->nptr, 0,
								   b->vptr, b->nptr, 0);
}

/* restores the heap property downwards from position i */
static void
heap_sift_down(LedgerRollupScan *rs, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					m = i;
		Cursor	   *tmp;

		if (l < rs->nheap && cursor_cmp(rs, rs->heap[l], rs->heap[m]) < 0)
			m = l;
		if (l + 1 < rs->nheap && cursor_cmp(rs, rs->heap[l + 1], rs->heap[m]) < 0)
			m = l + 1;
		if (m == i)
			return;
		tmp = rs->heap[i];
		rs->heap[i] = rs->heap[m];
		rs->heap[m] = tmp;
		i = m;
	}
}

/* adds a cursor with a current row to the heap */
static void
heap_push(LedgerRollupScan *rs, Cursor *c)
{
	int			i = rs->nheap++;

	rs->heap[i] = c;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		Cursor	   *tmp;

		if (cursor_cmp(rs, rs->heap[i], rs->heap[parent]) >= 0)
			break;
		tmp = rs->heap[i];
		rs->heap[i] = rs->heap[parent];
		rs->heap[parent] = tmp;
		i = parent;
	}
}

/* moves a cursor to its next row; false when it has none */
static bool
cursor_advance(LedgerRollupScan *rs, Cursor *c)
{
	if (c->streaming)
	{
		MemoryContext old;
		int64		events;

		MemoryContextReset(c->rowcxt);
		if (!scan_next_physical(c->sub, c->slot))
			return false;
		memcpy(c->vals, c->slot->tts_values, sizeof(Datum) * rs->natts);
		memcpy(c->nulls, c->slot->tts_isnull, sizeof(bool) * rs->natts);
		old = MemoryContextSwitchTo(c->rowcxt);
		events = LedgerRollupPrepareRow(rs->rollup, c->vals, c->nulls);
		MemoryContextSwitchTo(old);
		c->events = c->sub->last_events != EVENTS_NONE ? c->sub->last_events : events;
		c->tid = c->slot->tts_tid;
		return true;
	}

	if (c->pos >= c->gt->ngroups)
		return false;
	{
		int			g = c->perm[c->pos++];

		for (int i = 0; i < rs->natts; i++)
		{
			c->vals[i] = c->gt->values[i][g];
			c->nulls[i] = c->gt->isnull[i][g];
		}
		c->events = c->gt->events[g];
		ItemPointerSetInvalid(&c->tid);
	}
	return true;
}

/* qsort_arg comparator of a group table's groups by rollup key */
static int
cmp_groups(const void *a, const void *b, void *arg)
{
	Cursor	   *c = ((void **) arg)[0];
	LedgerRollup *rollup = ((void **) arg)[1];

	return LedgerRollupCompareKeys(rollup, c->gt->values, c->gt->isnull,
								   *(const int *) a, c->gt->values,
								   c->gt->isnull, *(const int *) b);
}

/* sorts a folded cursor's groups and moves it to its first row */
static void
cursor_sort_folded(LedgerRollupScan *rs, Cursor *c)
{
	void	   *arg[2] = {c, rs->rollup};

	c->perm = palloc(sizeof(int) * Max(c->gt->ngroups, 1));
	for (int g = 0; g < c->gt->ngroups; g++)
		c->perm[g] = g;
	qsort_arg(c->perm, c->gt->ngroups, sizeof(int), cmp_groups, arg);
	c->pos = 0;
	if (cursor_advance(rs, c))
		heap_push(rs, c);
}

/* folds the physical rows of a segment that cannot stream */
static void
fold_segment(LedgerRollupScan *rs, LedgerSegmentMeta *meta)
{
	Relation	rel = rs->r->rel;
	Cursor	   *c = cursor_create(rs->natts);
	LedgerReader *sub = scan_begin_segments(rel, rs->r->snapshot, meta, 1, true);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel),
													&TTSOpsVirtual);
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "ledger fold row",
											  ALLOCSET_SMALL_SIZES);

	LedgerReaderSetFilter(sub, rs->r->filter, rs->r->stats);
	sub->filter_rollup = rs->rollup;
	c->gt = LedgerGroupTableCreate(rs->natts, rs->cxt);
	while (scan_next_physical(sub, slot))
	{
		MemoryContext old = MemoryContextSwitchTo(tmp);
		int64		events = LedgerRollupPrepareRow(rs->rollup, slot->tts_values,
													slot->tts_isnull);

		MemoryContextSwitchTo(old);
		if (sub->last_events != EVENTS_NONE)
			events = sub->last_events;
		LedgerGroupTableAdd(c->gt, rs->rollup, slot->tts_values,
							slot->tts_isnull, events);
		MemoryContextReset(tmp);
	}
	ExecDropSingleTupleTableSlot(slot);
	LedgerReaderEnd(sub);
	MemoryContextDelete(tmp);
	cursor_sort_folded(rs, c);
}

/* folds the transaction's buffered rows visible to the reader */
static void
fold_buffered(LedgerRollupScan *rs)
{
	Relation	rel = rs->r->rel;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ListCell   *lc;
	Datum	   *vals = palloc(sizeof(Datum) * Max(rs->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(rs->natts, 1));
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "ledger fold row",
											  ALLOCSET_SMALL_SIZES);

	rs->runs = LedgerWriteBeginRead(rel, rs->r->snapshot->curcid);
	foreach(lc, rs->runs)
	{
		LedgerBufferedRows *run = lfirst(lc);
		Cursor	   *c = cursor_create(rs->natts);

		c->gt = LedgerGroupTableCreate(rs->natts, rs->cxt);
		for (int row = 0; row < run->nrows; row++)
		{
			MemoryContext old = MemoryContextSwitchTo(tmp);
			int64		events;

			for (int i = 0; i < rs->natts; i++)
			{
				if (TupleDescAttr(tupdesc, i)->attisdropped)
				{
					vals[i] = (Datum) 0;
					nulls[i] = true;
				}
				else if (i < run->natts)
				{
					vals[i] = run->values[i][row];
					nulls[i] = run->isnull[i][row];
				}
				else
					vals[i] = getmissingattr(tupdesc, i + 1, &nulls[i]);
			}
			events = LedgerRollupPrepareRow(rs->rollup, vals, nulls);
			MemoryContextSwitchTo(old);
			if (run->events)
				events = run->events[row];
			LedgerGroupTableAdd(c->gt, rs->rollup, vals, nulls, events);
			MemoryContextReset(tmp);
		}
		cursor_sort_folded(rs, c);
	}
	MemoryContextDelete(tmp);
}

/* qsort comparator of streaming cursors by min_bucket */
static int
cmp_pending(const void *a, const void *b)
{
	const Cursor *ca = *(Cursor *const *) a;
	const Cursor *cb = *(Cursor *const *) b;

	return (ca->min_bucket > cb->min_bucket) - (ca->min_bucket < cb->min_bucket);
}

/* true if interval a equals interval b field by field */
static bool
interval_same(Interval *a, Interval *b)
{
	return a->month == b->month && a->day == b->day && a->time == b->time;
}

/* the bucket of a segment's time bound, as an int64 for ordering */
static int64
segment_bucket(LedgerRollup *rollup, TimestampTz t)
{
	Datum		b;

	if (rollup->time_type == DATEOID)
	{
		DateADT		d = t == DT_NOBEGIN ? DATEVAL_NOBEGIN :
			t == DT_NOEND ? DATEVAL_NOEND : (DateADT) (t / USECS_PER_DAY);

		b = LedgerRollupBucket(rollup, DateADTGetDatum(d));
		return (int64) DatumGetDateADT(b);
	}
	b = LedgerRollupBucket(rollup, TimestampTzGetDatum(t));
	return DatumGetInt64(b);
}

/* claims the next cluster of a parallel scan; false if none is left */
static bool
claim_cluster(LedgerRollupScan *rs)
{
	uint64		k = pg_atomic_fetch_add_u64(rs->counter, 1);
	ListCell   *lc;

	if (k >= (uint64) rs->nclusters)
		return false;
	rs->next_pending = rs->cluster_start[k];
	rs->pending_end = rs->cluster_start[k + 1];
	if (k == 0)
	{
		foreach(lc, rs->fold_later)
			fold_segment(rs, lfirst(lc));
	}
	return true;
}

/* starts merging the sources of reader r */
LedgerRollupScan *
scan_rollup_begin(LedgerReader *r, LedgerRollup *rollup)
{
	MemoryContext cxt = AllocSetContextCreate(r->cxt, "ledger rollup scan",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	LedgerRollupScan *rs = palloc0(sizeof(LedgerRollupScan));
	int			nsources = r->nsegments + 1;

	rs->r = r;
	rs->rollup = rollup;
	rs->natts = r->natts;
	rs->cxt = cxt;
	rs->pending = palloc(sizeof(Cursor *) * nsources);
	rs->heap = palloc(sizeof(Cursor *) * (nsources + 64));
	rs->minmax = LedgerKeyMinMaxBegin(r->rel, rollup, r->snapshot);
	if (rs->minmax != NULL)
		rs->fixcxt = AllocSetContextCreate(cxt, "ledger min/max row",
										   ALLOCSET_SMALL_SIZES);

	for (int k = 0; k < 2; k++)
	{
		rs->grpcxt[k] = AllocSetContextCreate(cxt, "ledger rollup group",
											  ALLOCSET_SMALL_SIZES);
		rs->gvals[k] = palloc0(sizeof(Datum) * Max(rs->natts, 1));
		rs->gnulls[k] = palloc0(sizeof(bool) * Max(rs->natts, 1));
		rs->gvptr[k] = palloc0(sizeof(Datum *) * Max(rs->natts, 1));
		rs->gnptr[k] = palloc0(sizeof(bool *) * Max(rs->natts, 1));
		for (int i = 0; i < rs->natts; i++)
		{
			rs->gvptr[k][i] = &rs->gvals[k][i];
			rs->gnptr[k][i] = &rs->gnulls[k][i];
		}
	}

	for (int s = 0; s < r->nsegments; s++)
	{
		LedgerSegmentMeta *meta = &r->segments[s];

		if (meta->rolled_up && meta->has_time &&
			interval_same(&meta->rollup, &rollup->granularity))
		{
			Cursor	   *c = cursor_create(rs->natts);

			c->streaming = true;
			c->meta = meta;
			c->min_bucket = segment_bucket(rollup, meta->time_min);
			c->max_bucket = segment_bucket(rollup, meta->time_max);
			rs->pending[rs->npending++] = c;
		}
		else if (r->parallel_next != NULL)
			rs->fold_later = lappend(rs->fold_later, meta);
		else
			fold_segment(rs, meta);
	}
	qsort(rs->pending, rs->npending, sizeof(Cursor *), cmp_pending);
	rs->pending_end = rs->npending;

	if (r->parallel_next != NULL)
	{
		/*
		 * Segments whose bucket ranges overlap form a cluster; each process
		 * merges whole clusters, so no key spans two processes.  Segments
		 * that must be folded could hold any bucket: then everything is one
		 * cluster.  Unwritten rows exist only in the leader's backend, and
		 * the planner offers no parallel plan while there are any.
		 */
		rs->counter = r->parallel_next;
		rs->cluster_start = palloc(sizeof(int) * (rs->npending + 2));
		rs->nclusters = 0;
		if (rs->fold_later != NIL || rs->npending == 0)
		{
			rs->cluster_start[rs->nclusters++] = 0;
			rs->cluster_start[rs->nclusters] = rs->npending;
		}
		else
		{
			int64		maxb = 0;

			for (int i = 0; i < rs->npending; i++)
			{
				if (i == 0 || rs->pending[i]->min_bucket > maxb)
				{
					rs->cluster_start[rs->nclusters++] = i;
					maxb = rs->pending[i]->max_bucket;
				}
				else
					maxb = Max(maxb, rs->pending[i]->max_bucket);
			}
			rs->cluster_start[rs->nclusters] = rs->npending;
		}
		if (!IsParallelWorker() && LedgerWriteHasRows(RelationGetRelid(r->rel)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot read unwritten rows of rollup ledger \"%s\" in a parallel scan",
							RelationGetRelationName(r->rel)),
					 errhint("Run the query again: new plans avoid parallel scans of ledgers this transaction wrote to, or SET max_parallel_workers_per_gather = 0.")));
		rs->next_pending = rs->pending_end = 0;
		claim_cluster(rs);
	}
	else if (r->read_buffered)
		fold_buffered(rs);

	MemoryContextSwitchTo(old);
	return rs;
}

/* opens a streaming cursor's segment and moves it to its first row */
static void
cursor_open(LedgerRollupScan *rs, Cursor *c)
{
	MemoryContext old = MemoryContextSwitchTo(rs->cxt);

	c->sub = scan_begin_segments(rs->r->rel, rs->r->snapshot, c->meta, 1, true);
	LedgerReaderSetFilter(c->sub, rs->r->filter, rs->r->stats);
	c->sub->filter_rollup = rs->rollup;
	c->slot = MakeSingleTupleTableSlot(RelationGetDescr(rs->r->rel),
									   &TTSOpsVirtual);
	c->rowcxt = AllocSetContextCreate(rs->cxt, "ledger rollup row",
									  ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(old);
	if (cursor_advance(rs, c))
		heap_push(rs, c);
	else
		cursor_close(c);
}

/* releases a streaming cursor */
static void
cursor_close(Cursor *c)
{
	if (c->sub)
	{
		ExecDropSingleTupleTableSlot(c->slot);
		LedgerReaderEnd(c->sub);
		MemoryContextDelete(c->rowcxt);
		c->sub = NULL;
	}
}

/* the bucket of a cursor's current row, for admitting pending cursors */
static bool
bucket_before(LedgerRollupScan *rs, int64 min_bucket, Cursor *c)
{
	int			t = rs->rollup->time_attnum - 1;
	int64		b;

	if (c->nulls[t])
		return true;
	b = rs->rollup->time_type == DATEOID ? (int64) DatumGetDateADT(c->vals[t]) :
		DatumGetInt64(c->vals[t]);
	return min_bucket <= b;
}

/* starts a new accumulating group from cursor c's row */
static void
group_start(LedgerRollupScan *rs, Cursor *c)
{
	int			k = rs->cur;
	LedgerRollup *rollup = rs->rollup;
	MemoryContext old;

	MemoryContextReset(rs->grpcxt[k]);
	old = MemoryContextSwitchTo(rs->grpcxt[k]);
	for (int i = 0; i < rs->natts; i++)
	{
		rs->gnulls[k][i] = c->nulls[i];
		rs->gvals[k][i] = c->nulls[i] || rollup->typbyval[i] ? c->vals[i] :
			datumCopy(c->vals[i], false, rollup->typlen[i]);
	}
	MemoryContextSwitchTo(old);
	rs->gevents = c->events;
	rs->gtid = c->tid;
	rs->have_group = true;
}

/* moves the heap's top cursor on, dropping it when it has no more rows */
static void
heap_advance_top(LedgerRollupScan *rs)
{
	Cursor	   *c = rs->heap[0];

	if (cursor_advance(rs, c))
		heap_sift_down(rs, 0);
	else
	{
		cursor_close(c);
		rs->heap[0] = rs->heap[--rs->nheap];
		if (rs->nheap > 0)
			heap_sift_down(rs, 0);
	}
}

/* error context: which ledger's rows were being combined */
static void
rollup_error_context(void *arg)
{
	LedgerRollupScan *rs = arg;

	errcontext("combining the rows of one rollup key of ledger \"%s\"",
			   RelationGetRelationName(rs->r->rel));
}

/* the next logical row; false at the end */
bool
scan_rollup_next(LedgerRollupScan *rs, TupleTableSlot *slot)
{
	ErrorContextCallback errcb;
	bool		result;

	errcb.callback = rollup_error_context;
	errcb.arg = rs;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	result = merge_next(rs, slot);
	error_context_stack = errcb.previous;
	return result;
}

/*
 * True if the accumulated group is returned: a key whose events cancel out
 * is not, unless this reader sees some segments only (compaction) and the
 * group still changes a metric.
 */
static bool
group_emits(LedgerRollupScan *rs)
{
	if (rs->gevents != 0)
		return true;
	return rs->r->partial &&
		!LedgerRollupMetricsZero(rs->rollup, rs->gvptr[rs->cur], rs->gnptr[rs->cur], 0);
}

/* recomputes min/max of a returned group that lost a contribution */
static void
fix_minmax(LedgerRollupScan *rs, TupleTableSlot *slot)
{
	MemoryContext old;

	if (rs->minmax == NULL)
		return;
	MemoryContextReset(rs->fixcxt);
	old = MemoryContextSwitchTo(rs->fixcxt);
	LedgerKeyMinMaxFix(rs->minmax, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
}

/* the merge behind scan_rollup_next */
static bool
merge_next(LedgerRollupScan *rs, TupleTableSlot *slot)
{
	for (;;)
	{
		Cursor	   *c;
		bool		emit = false;
		int			done = rs->cur;

		CHECK_FOR_INTERRUPTS();

		/* the cursor whose row was passed through moves on now */
		if (rs->advance_first != NULL)
		{
			Assert(rs->advance_first == rs->heap[0]);
			rs->advance_first = NULL;
			heap_advance_top(rs);
		}

		/* admit streaming segments the merge has reached */
		while (rs->next_pending < rs->pending_end &&
			   (rs->nheap == 0 ||
				bucket_before(rs, rs->pending[rs->next_pending]->min_bucket,
							  rs->heap[0])))
			cursor_open(rs, rs->pending[rs->next_pending++]);

		/*
		 * One stored, key-unique segment and nothing else reaches this
		 * bucket: its rows need no merging and no copying.
		 */
		if (!rs->have_group && rs->nheap == 1 && rs->heap[0]->streaming)
		{
			c = rs->heap[0];
			rs->advance_first = c;
			if (c->events == 0 &&
				(!rs->r->partial ||
				 LedgerRollupMetricsZero(rs->rollup, c->vptr, c->nptr, 0)))
				continue;
			ExecClearTuple(slot);
			memcpy(slot->tts_values, c->vals, sizeof(Datum) * rs->natts);
			memcpy(slot->tts_isnull, c->nulls, sizeof(bool) * rs->natts);
			fix_minmax(rs, slot);
			ExecStoreVirtualTuple(slot);
			slot->tts_tableOid = RelationGetRelid(rs->r->rel);
			slot->tts_tid = c->tid;
			rs->r->last_events = c->events;
			return true;
		}

		if (rs->nheap == 0)
		{
			if (!rs->have_group)
			{
				/* a parallel scan goes on with its next cluster */
				if (rs->counter != NULL && claim_cluster(rs))
					continue;
				return false;
			}
			rs->have_group = false;
			emit = group_emits(rs);
			rs->emitted_events = rs->gevents;
			rs->emitted_tid = rs->gtid;
			rs->cur = 1 - rs->cur;
		}
		else
		{
			c = rs->heap[0];
			if (rs->have_group &&
				LedgerRollupKeysEqual(rs->rollup, rs->gvptr[rs->cur], rs->gnptr[rs->cur], 0,
									  c->vptr, c->nptr, 0))
			{
				LedgerRollupCombine(rs->rollup, rs->gvptr[rs->cur], rs->gnptr[rs->cur], 0,
									c->vptr, c->nptr, 0, rs->grpcxt[rs->cur]);
				rs->gevents += c->events;
			}
			else
			{
				if (rs->have_group)
				{
					emit = group_emits(rs);
					rs->emitted_events = rs->gevents;
					rs->emitted_tid = rs->gtid;
					rs->cur = 1 - rs->cur;
				}
				if (rs->have_group && rs->nheap == 1 && c->streaming)
				{
					/* leave c's row to the pass-through on the next round */
					rs->have_group = false;
					c = NULL;
				}
				else
					group_start(rs, c);
			}

			/* move the cursor on */
			if (c != NULL)
				heap_advance_top(rs);
		}

		if (emit)
		{
			ExecClearTuple(slot);
			memcpy(slot->tts_values, rs->gvals[done], sizeof(Datum) * rs->natts);
			memcpy(slot->tts_isnull, rs->gnulls[done], sizeof(bool) * rs->natts);
			fix_minmax(rs, slot);
			ExecStoreVirtualTuple(slot);
			slot->tts_tableOid = RelationGetRelid(rs->r->rel);
			slot->tts_tid = rs->emitted_tid;
			rs->r->last_events = rs->emitted_events;
			return true;
		}
	}
}

/* releases what the merge holds */
void
scan_rollup_end(LedgerRollupScan *rs)
{
	for (int i = 0; i < rs->nheap; i++)
		cursor_close(rs->heap[i]);
	if (rs->runs != NIL)
		LedgerWriteEndRead(rs->runs);
	MemoryContextDelete(rs->cxt);
}
