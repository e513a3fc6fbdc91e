/*-------------------------------------------------------------------------
 *
 * ledger_write_rollup.c
 *	  The write buffer of rollup ledgers: rows folded at ingestion into one
 *	  group per rollup key (the "incremental index"), written as sorted,
 *	  key-unique segments.
 *
 * NOTES
 *	  A rollup level holds the groups folded by one command of one
 *	  subtransaction, so a scan of an earlier command's rows never sees a
 *	  group change under it (INSERT ... SELECT from the same ledger).
 *	  Writing combines every level being written: their groups are sorted
 *	  by (bucket, dimensions) and equal keys merged, so each segment holds
 *	  one row per key, in key order, plus the hidden per-row event count.
 *	  Groups that cancel out (no events, every sum and count zero) are not
 *	  written.
 *
 * IDENTIFICATION
 *	  src/write/ledger_write_rollup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/xact.h"
#include "ledger/ledger.h"
#include "ledger/rollup.h"
#include "ledger/store.h"
#include "ledger/write.h"
#include "utils/memutils.h"
#include "write_internal.h"

/* keeps a rollup level's row arrays in step with its group table */
static void
sync_level(WriteLevel *level)
{
	LedgerGroupTable *gt = level->groups;

	if (level->capacity < gt->capacity)
	{
		if (level->capacity == 0)
			level->cids = MemoryContextAllocHuge(level->cxt,
												 sizeof(CommandId) * gt->capacity);
		else
			level->cids = repalloc_huge(level->cids,
										sizeof(CommandId) * gt->capacity);
		level->capacity = gt->capacity;
	}
	for (int g = level->nrows; g < gt->ngroups; g++)
		level->cids[g] = level->cid;
	level->values = gt->values;
	level->isnull = gt->isnull;
	level->nrows = gt->ngroups;
	level->bytes = gt->bytes;
}

/* rel's rollup level for command cid of the current subtransaction */
static WriteLevel *
current_rollup_level(Relation rel, WriteState *state, LedgerRollup *rollup,
					 CommandId cid)
{
	WriteLevel *level = state->levels;
	int			natts = RelationGetDescr(rel)->natts;

	if (level == NULL || level->groups == NULL ||
		level->subid != GetCurrentSubTransactionId() ||
		level->storage != rel->rd_node.relNode || level->cid != cid ||
		level->generation != rollup->generation || level->natts != natts)
	{
		level = write_new_level(rel, state);
		level->groups = LedgerGroupTableCreate(natts, level->cxt);
		level->cid = cid;
		level->generation = rollup->generation;
		level->next = state->levels;
		state->levels = level;
		sync_level(level);
	}
	return level;
}

/*
 * Folds a prepared, detoasted row standing for "events" events (negative:
 * a contribution taken back) into rel's current rollup level.
 */
void
write_rollup_add_prepared(Relation rel, WriteState *state, LedgerRollup *rollup,
						  Datum *values, bool *isnull, int64 events,
						  CommandId cid)
{
	WriteLevel *level = current_rollup_level(rel, state, rollup, cid);
	Size		limit = (Size) ledger_write_buffer_size * 1024;
	int			g;

	g = LedgerGroupTableAdd(level->groups, rollup, values, isnull, events);
	if (g >= level->nrows)
		state->next_pseudo = Max(state->next_pseudo, level->pseudo_base + g + 1);
	sync_level(level);
	if (level->nrows >= ledger_segment_rows || level->bytes >= limit)
	{
		state->levels = level->next;
		write_rollup_flush(rel, rollup, list_make1(level), cid);
		write_release_level(level);
	}
}

/* folds rows into rel's current rollup level */
void
write_rollup_insert(Relation rel, WriteState *state, LedgerRollup *rollup,
					TupleTableSlot **slots, int nslots, CommandId cid)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			natts = tupdesc->natts;
	Size		limit = (Size) ledger_write_buffer_size * 1024;
	MemoryContext tmpcxt,
				old;
	Datum	   *values = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(natts, 1));

	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ledger rollup input",
								   ALLOCSET_DEFAULT_SIZES);

	for (int s = 0; s < nslots; s++)
	{
		TupleTableSlot *slot = slots[s];
		WriteLevel *level = current_rollup_level(rel, state, rollup, cid);
		int64		events;
		int			g;

		slot_getallattrs(slot);
		old = MemoryContextSwitchTo(tmpcxt);
		for (int i = 0; i < natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i);

			isnull[i] = att->attisdropped || slot->tts_isnull[i];
			values[i] = isnull[i] ? (Datum) 0 : slot->tts_values[i];
			if (!isnull[i] && att->attlen == -1 &&
				VARATT_IS_EXTENDED(DatumGetPointer(values[i])) &&
				!VARATT_IS_SHORT(DatumGetPointer(values[i])))
				values[i] = PointerGetDatum(detoast_attr((struct varlena *)
														 DatumGetPointer(values[i])));
		}
		if (isnull[rollup->time_attnum - 1])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in time column \"%s\" of rollup ledger \"%s\"",
							NameStr(TupleDescAttr(tupdesc, rollup->time_attnum - 1)->attname),
							RelationGetRelationName(rel)),
					 errhint("Every row of a rollup ledger needs a time: rows are grouped by its bucket.")));
		events = LedgerRollupPrepareRow(rollup, values, isnull);
		MemoryContextSwitchTo(old);

		g = LedgerGroupTableAdd(level->groups, rollup, values, isnull, events);
		if (g >= level->nrows)
			state->next_pseudo = Max(state->next_pseudo, level->pseudo_base + g + 1);
		sync_level(level);
		MemoryContextReset(tmpcxt);

		slot->tts_tableOid = RelationGetRelid(rel);
		LedgerRowNumberToTid((int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage +
							 level->pseudo_base + g, &slot->tts_tid);

		/* a full level becomes a segment now */
		if (level->nrows >= ledger_segment_rows || level->bytes >= limit)
		{
			state->levels = level->next;
			write_rollup_flush(rel, rollup, list_make1(level), cid);
			write_release_level(level);
		}
	}
	MemoryContextDelete(tmpcxt);
	pfree(values);
	pfree(isnull);
}

/* sort state: entries (level, row) ordered by rollup key */
typedef struct SortEntry
{
	WriteLevel *level;
	int			row;
} SortEntry;

/* qsort_arg comparator of SortEntry by rollup key */
static int
cmp_entries(const void *a, const void *b, void *arg)
{
	const SortEntry *ea = a;
	const SortEntry *eb = b;

	return LedgerRollupCompareKeys((LedgerRollup *) arg,
								   ea->level->values, ea->level->isnull, ea->row,
								   eb->level->values, eb->level->isnull, eb->row);
}

/*
 * Writes the groups of "levels" (all of rel's current relfilenode) as
 * sorted segments with one row per rollup key, stamped with command id
 * "stamp".
 */
void
write_rollup_flush(Relation rel, LedgerRollup *rollup, List *levels,
				   CommandId stamp)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			natts = tupdesc->natts;
	MemoryContext cxt,
				old;
	ListCell   *lc;
	int64		total = 0;
	SortEntry  *entries;
	int			n = 0;
	Datum	  **values;
	bool	  **isnull;
	int64	   *events;
	int			nout = 0;
	int			start;

	foreach(lc, levels)
	{
		WriteLevel *level = lfirst(lc);

		write_widen_level(level, tupdesc);
		total += level->nrows;
	}
	if (total == 0)
		return;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger rollup flush",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	entries = MemoryContextAllocHuge(cxt, sizeof(SortEntry) * total);
	foreach(lc, levels)
	{
		WriteLevel *level = lfirst(lc);

		for (int r = 0; r < level->nrows; r++)
		{
			entries[n].level = level;
			entries[n].row = r;
			n++;
		}
	}
	qsort_arg(entries, n, sizeof(SortEntry), cmp_entries, rollup);

	/* merge equal keys into the output arrays */
	values = palloc(sizeof(Datum *) * Max(natts, 1));
	isnull = palloc(sizeof(bool *) * Max(natts, 1));
	for (int i = 0; i < natts; i++)
	{
		values[i] = MemoryContextAllocHuge(cxt, sizeof(Datum) * n);
		isnull[i] = MemoryContextAllocHuge(cxt, sizeof(bool) * n);
	}
	events = MemoryContextAllocHuge(cxt, sizeof(int64) * n);
	for (int e = 0; e < n; e++)
	{
		WriteLevel *level = entries[e].level;
		int			r = entries[e].row;
		int64		ev = level->groups->events[r];

		if (nout > 0 &&
			LedgerRollupKeysEqual(rollup, values, isnull, nout - 1,
								  level->values, level->isnull, r))
		{
			LedgerRollupCombine(rollup, values, isnull, nout - 1,
								level->values, level->isnull, r, cxt);
			events[nout - 1] += ev;
			continue;
		}
		/*
		 * Drop the previous group if it cancelled out: no events and no
		 * metric left.  A group of a retraction and a new version in the
		 * same key nets no events but does change the key's metrics.
		 */
		if (nout > 0 && events[nout - 1] == 0 &&
			LedgerRollupMetricsZero(rollup, values, isnull, nout - 1))
			nout--;
		for (int i = 0; i < natts; i++)
		{
			values[i][nout] = level->values[i][r];
			isnull[i][nout] = level->isnull[i][r];
		}
		events[nout] = ev;
		nout++;
	}
	if (nout > 0 && events[nout - 1] == 0 &&
		LedgerRollupMetricsZero(rollup, values, isnull, nout - 1))
		nout--;

	/*
	 * Cut segments at bucket boundaries where possible, so segments of one
	 * flush do not overlap in time (parallel scans merge non-overlapping
	 * clusters in different processes).
	 */
	for (start = 0; start < nout;)
	{
		int			end = Min(nout, start + ledger_segment_rows);

		if (end < nout)
		{
			int			cut = end;

			while (cut > start &&
				   LedgerRollupCompareBuckets(rollup, values, isnull, cut - 1,
											  values, isnull, cut) == 0)
				cut--;
			if (cut > start)
				end = cut;
		}
		(void) write_segment(rel, natts, values, isnull, events, rollup, start,
							 end - start, stamp);
		start = end;
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
