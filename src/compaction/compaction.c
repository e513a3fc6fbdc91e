/*-------------------------------------------------------------------------
 *
 * compaction.c
 *	  Choosing and running the compaction of one ledger: merging small and
 *	  overlapping segments, re-applying rollup, coarsening old data by
 *	  granularity policy and dropping expired segments.
 *
 * NOTES
 *	  One run happens in the caller's transaction under
 *	  ShareUpdateExclusiveLock on the ledger: INSERT/COPY (RowExclusiveLock)
 *	  and SELECT (AccessShareLock) never wait, a second compaction, VACUUM
 *	  or DDL does.  The chosen segments are read through the scan component
 *	  (logical rows, already merged per rollup key, in key order), written
 *	  as new segments through the segment builder, and their catalog rows
 *	  are then deleted with the same snapshot they were listed with.  New
 *	  and old catalog rows change in one transaction, so a crash at any
 *	  moment leaves either the old segments or the new ones, never both and
 *	  never orphans; readers whose snapshot predates the commit keep seeing
 *	  the old rows (heap MVCC) until VACUUM removes them.
 *
 *	  The run executes as the ledger's owner in a restricted security
 *	  context (like autovacuum), since comparison and addition operators of
 *	  user types may run.
 *
 * IDENTIFICATION
 *	  src/compaction/compaction.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "ledger/compaction.h"
#include "ledger/ledger.h"
#include "ledger/rollup.h"
#include "ledger/scan.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(ledger_compact);
PG_FUNCTION_INFO_V1(ledger_set_compaction);
PG_FUNCTION_INFO_V1(ledger_add_granularity_policy);
PG_FUNCTION_INFO_V1(ledger_remove_granularity_policy);
PG_FUNCTION_INFO_V1(ledger_set_retention);

/* segments below this many rows are merged unless a policy says otherwise */
#define DEFAULT_MIN_SEGMENT_ROWS	65536

/* a ledger's compaction policy */
typedef struct Policy
{
	int			target_rows;
	int			min_rows;
	bool		has_retention;
	Interval	retention;
	int			ngran;			/* granularity policies, older_than ascending */
	Interval   *older_than;
	Interval   *granularity;
} Policy;

/* a granularity tier: rows whose coarse bucket is before horizon_bucket */
typedef struct Tier
{
	LedgerRollup *rollup;		/* copy of the ledger's spec, coarse grain */
	int64		horizon_bucket;
	LedgerSegmentBuilder *builder;
	LedgerGroupTable *gt;
	MemoryContext gtcxt;
} Tier;

static object_access_hook_type prev_object_access_hook = NULL;

/* --- SPI on the extension's tables ------------------------------------ */

/* owner of the extension table "relname" */
static Oid
catalog_owner(const char *relname)
{
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID,
						  ObjectIdGetDatum(LedgerCatalogRelid(relname, false)));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for ledger.%s", relname);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Runs sql through SPI as the owner of the extension's tables (the caller
 * has been checked already).  The caller must be SPI-connected.
 */
static int
spi_as_owner(const char *sql, int nargs, Oid *argtypes, Datum *args,
			 const char *nulls, bool read_only)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(catalog_owner("job"),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, read_only, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed (%d): %s", rc, sql);
	return rc;
}

/* loads relid's policy into *p (allocated in CurrentMemoryContext) */
static void
load_policy(Oid relid, Policy *p)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};

	memset(p, 0, sizeof(Policy));
	p->target_rows = ledger_segment_rows;
	p->min_rows = DEFAULT_MIN_SEGMENT_ROWS;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("SELECT target_segment_rows, min_segment_rows, retention "
				 "FROM ledger.compaction_policy WHERE relid = $1::pg_catalog.oid",
				 1, argtypes, args, NULL, true);
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		d = SPI_getbinval(tup, desc, 1, &isnull);
		if (!isnull)
			p->target_rows = DatumGetInt32(d);
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (!isnull)
			p->min_rows = DatumGetInt32(d);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		if (!isnull)
		{
			p->has_retention = true;
			p->retention = *DatumGetIntervalP(d);
		}
	}
	spi_as_owner("SELECT older_than, granularity FROM ledger.granularity_policy "
				 "WHERE relid = $1::pg_catalog.oid ORDER BY older_than",
				 1, argtypes, args, NULL, true);
	p->ngran = (int) SPI_processed;
	p->older_than = MemoryContextAlloc(cxt, sizeof(Interval) * Max(p->ngran, 1));
	p->granularity = MemoryContextAlloc(cxt, sizeof(Interval) * Max(p->ngran, 1));
	for (int i = 0; i < p->ngran; i++)
	{
		bool		isnull;

		p->older_than[i] = *DatumGetIntervalP(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc,
															1, &isnull));
		p->granularity[i] = *DatumGetIntervalP(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc,
															 2, &isnull));
	}
	SPI_finish();

	p->target_rows = Max(1, Min(p->target_rows, LEDGER_SEGMENT_MAX_ROWS));
	p->min_rows = Max(1, Min(p->min_rows, p->target_rows));
}

/* records a run in ledger.job (error NULL for success); see compaction.h */
void
LedgerCompactionRecordJob(Oid relid, const char *relname, TimestampTz started,
						  const char *trigger, LedgerCompactionResult *r,
						  const char *error)
{
	Oid			argtypes[13] = {OIDOID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
		INT4OID, INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TEXTOID, TIMESTAMPTZOID};
	Datum		args[13];
	char		nulls[13];

	memset(nulls, ' ', sizeof(nulls));
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(relname ? relname : "?");
	args[2] = TimestampTzGetDatum(started);
	args[3] = CStringGetTextDatum(trigger);
	args[4] = Int32GetDatum(r->segments_in);
	args[5] = Int32GetDatum(r->segments_out);
	args[6] = Int32GetDatum(r->segments_dropped);
	args[7] = Int64GetDatum(r->rows_in);
	args[8] = Int64GetDatum(r->rows_out);
	args[9] = Int64GetDatum(r->bytes_in);
	args[10] = Int64GetDatum(r->bytes_out);
	if (error)
		args[11] = CStringGetTextDatum(error);
	else
	{
		args[11] = (Datum) 0;
		nulls[11] = 'n';
	}
	args[12] = TimestampTzGetDatum(GetCurrentTimestamp());

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("INSERT INTO ledger.job (relid, ledger_name, started, trigger, "
				 "segments_in, segments_out, segments_dropped, rows_in, rows_out, "
				 "bytes_in, bytes_out, error, finished) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
				 13, argtypes, args, nulls, false);
	SPI_finish();
}

/* --- time horizons ------------------------------------------------------ */

/*
 * now - age in the representation of segment time ranges of a column of
 * type time_type: a timestamptz for timestamptz, the local time in zone
 * tz (NULL: session zone) for timestamp and date.
 */
static int64
horizon_of(Oid time_type, const char *tz, Interval *age)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (time_type == TIMESTAMPTZOID)
		return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													   TimestampTzGetDatum(now),
													   IntervalPGetDatum(age)));
	else
	{
		Datum		local;

		if (tz)
			local = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
										TimestampTzGetDatum(now));
		else
			local = DirectFunctionCall1(timestamptz_timestamp,
										TimestampTzGetDatum(now));
		return DatumGetTimestamp(DirectFunctionCall2(timestamp_mi_interval, local,
													 IntervalPGetDatum(age)));
	}
}

/* a value of the time column from a segment-range time (see horizon_of) */
static Datum
time_datum(Oid time_type, int64 t)
{
	if (time_type == DATEOID)
	{
		if (t == DT_NOBEGIN)
			return DateADTGetDatum(DATEVAL_NOBEGIN);
		if (t == DT_NOEND)
			return DateADTGetDatum(DATEVAL_NOEND);
		return DateADTGetDatum((DateADT) (t >= 0 ? t / USECS_PER_DAY :
										  -((-t + USECS_PER_DAY - 1) / USECS_PER_DAY)));
	}
	return Int64GetDatum(t);
}

/* a bucket Datum of the time column as an ordered int64 */
static int64
bucket_int(Oid time_type, Datum b)
{
	return time_type == DATEOID ? (int64) DatumGetDateADT(b) : DatumGetInt64(b);
}

/* true if two intervals are equal field by field */
static bool
interval_same(Interval *a, Interval *b)
{
	return a->month == b->month && a->day == b->day && a->time == b->time;
}

/* the tier of a time value: index of the coarsest policy that applies, or -1 */
static int
tier_of(Tier *tiers, int ntiers, Oid time_type, Datum t)
{
	for (int i = ntiers - 1; i >= 0; i--)
	{
		Datum		b = LedgerRollupBucket(tiers[i].rollup, t);

		if (bucket_int(time_type, b) < tiers[i].horizon_bucket)
			return i;
	}
	return -1;
}

/* --- the run --------------------------------------------------------------- */

/* writes a coarse tier's folded groups, in key order, to its builder */
static void
flush_tier(Relation rel, Tier *t)
{
	LedgerGroupTable *gt = t->gt;
	int			natts = RelationGetDescr(rel)->natts;
	int		   *perm;
	Datum	   *vals;
	bool	   *nulls;

	if (gt == NULL || gt->ngroups == 0)
		return;
	perm = palloc(sizeof(int) * gt->ngroups);
	vals = palloc(sizeof(Datum) * Max(natts, 1));
	nulls = palloc(sizeof(bool) * Max(natts, 1));
	for (int g = 0; g < gt->ngroups; g++)
		perm[g] = g;
	/* insertion sort is too slow for large tables: use a simple merge sort */
	{
		int		   *tmp = palloc(sizeof(int) * gt->ngroups);

		for (int width = 1; width < gt->ngroups; width *= 2)
		{
			for (int lo = 0; lo < gt->ngroups; lo += 2 * width)
			{
				int			mid = Min(lo + width, gt->ngroups);
				int			hi = Min(lo + 2 * width, gt->ngroups);
				int			a = lo,
							b = mid,
							k = lo;

				while (a < mid && b < hi)
				{
					if (LedgerRollupCompareKeys(t->rollup, gt->values, gt->isnull,
												perm[b], gt->values, gt->isnull,
												perm[a]) < 0)
						tmp[k++] = perm[b++];
					else
						tmp[k++] = perm[a++];
				}
				while (a < mid)
					tmp[k++] = perm[a++];
				while (b < hi)
					tmp[k++] = perm[b++];
			}
			memcpy(perm, tmp, sizeof(int) * gt->ngroups);
		}
		pfree(tmp);
	}
	for (int k = 0; k < gt->ngroups; k++)
	{
		int			g = perm[k];

		if (gt->events[g] == 0)
			continue;			/* contributions cancel out at this grain */
		for (int i = 0; i < natts; i++)
		{
			vals[i] = gt->values[i][g];
			nulls[i] = gt->isnull[i][g];
		}
		LedgerSegmentBuilderAdd(t->builder, vals, nulls, gt->events[g]);
	}
	pfree(perm);
	pfree(vals);
	pfree(nulls);
	MemoryContextReset(t->gtcxt);
	t->gt = NULL;
}

/*
 * Reads the logical rows of segs[0..n) and writes them as new segments;
 * returns the rows written and adds first row numbers to *first_rows.
 */
static int64
rewrite_segments(Relation rel, Snapshot snapshot, LedgerSegmentMeta *segs,
				 int n, LedgerRollup *rollup, Tier *tiers, int ntiers,
				 int target_rows, List **first_rows)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			natts = tupdesc->natts;
	LedgerReader *reader;
	TupleTableSlot *slot;
	LedgerSegmentBuilder *fine;
	int			cur = -2;
	int64		rows = 0;
	int64		last_coarse = 0;
	Datum	   *vals = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(natts, 1));
	int			t = rollup ? rollup->time_attnum - 1 : -1;
	int64	   *fr;
	int			nfr;

	reader = LedgerReaderBeginSegments(rel, snapshot, segs, n);
	slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	fine = LedgerSegmentBuilderCreate(rel, rollup, target_rows);

	while (LedgerReaderNext(reader, slot))
	{
		int64		events = LedgerReaderLastEvents(reader);
		int			tier = -1;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		if (ntiers > 0 && !slot->tts_isnull[t])
			tier = tier_of(tiers, ntiers, rollup->time_type,
						   slot->tts_values[t]);
		if (tier != cur)
		{
			/* rows come in time order: a tier, once left, is complete */
			if (cur >= 0)
				flush_tier(rel, &tiers[cur]);
			else if (cur == -1)
				LedgerSegmentBuilderFlush(fine);
			cur = tier;
		}
		if (tier < 0)
		{
			LedgerSegmentBuilderAdd(fine, slot->tts_values, slot->tts_isnull,
									events);
			continue;
		}
		else
		{
			Tier	   *tr = &tiers[tier];
			int64		b;

			memcpy(vals, slot->tts_values, sizeof(Datum) * natts);
			memcpy(nulls, slot->tts_isnull, sizeof(bool) * natts);
			vals[t] = LedgerRollupBucket(tr->rollup, vals[t]);
			b = bucket_int(rollup->time_type, vals[t]);
			/* a full table whose buckets are all complete is written now */
			if (tr->gt != NULL && tr->gt->ngroups >= target_rows &&
				b != last_coarse)
				flush_tier(rel, tr);
			last_coarse = b;
			if (tr->builder == NULL)
				tr->builder = LedgerSegmentBuilderCreate(rel, tr->rollup,
														 target_rows);
			if (tr->gt == NULL)
				tr->gt = LedgerGroupTableCreate(natts, tr->gtcxt);
			LedgerGroupTableAdd(tr->gt, tr->rollup, vals, nulls, events);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	LedgerReaderEnd(reader);

	for (int i = 0; i < ntiers; i++)
	{
		int64		r = 0;

		flush_tier(rel, &tiers[i]);
		if (tiers[i].builder == NULL)
			continue;
		nfr = LedgerSegmentBuilderEnd(tiers[i].builder, &r, &fr);
		for (int k = 0; k < nfr; k++)
			*first_rows = lappend(*first_rows, &fr[k]);
		rows += r;
		tiers[i].builder = NULL;
	}
	{
		int64		r = 0;

		nfr = LedgerSegmentBuilderEnd(fine, &r, &fr);
		for (int k = 0; k < nfr; k++)
			*first_rows = lappend(*first_rows, &fr[k]);
		rows += r;
	}
	return rows;
}

/* compacts ledger relid in the current transaction; see compaction.h */
void
LedgerCompact(Oid relid, bool full, bool nowait, LedgerCompactionResult *res)
{
	Relation	rel;
	Oid			save_userid;
	int			save_sec;
	Policy		policy;
	Snapshot	snapshot;
	LedgerSegmentMeta *segs;
	int			nsegs;
	LedgerRollup *rollup;
	bool	   *drop;
	bool	   *need;
	bool		any_alone = false;
	int			nneed = 0;
	Oid			time_type = InvalidOid;
	const char *tz = NULL;
	Tier	   *tiers = NULL;
	int			ntiers = 0;
	MemoryContext cxt,
				old;

	memset(res, 0, sizeof(LedgerCompactionResult));

	if (nowait)
	{
		if (!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
		{
			res->skipped = true;
			return;
		}
	}
	else
		LockRelationOid(relid, ShareUpdateExclusiveLock);
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, ShareUpdateExclusiveLock);
		res->skipped = true;
		return;
	}
	if (!LedgerIsLedger(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot compact \"%s\": it is not a ledger table",
						RelationGetRelationName(rel)),
				 errhint("Only tables created USING ledger can be compacted.")));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger compaction",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	load_policy(relid, &policy);

	/* run as the ledger's owner: user types' operators may execute */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/* listed after the lock: no other compaction can change these now */
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	segs = LedgerStoreListSegments(rel, snapshot, &nsegs);
	rollup = LedgerRollupGet(rel);
	if (rollup)
	{
		time_type = rollup->time_type;
		tz = rollup->time_zone;
	}
	else
	{
		AttrNumber	tc = LedgerTimeColumn(rel);

		if (tc > 0)
			time_type = getBaseType(TupleDescAttr(RelationGetDescr(rel), tc - 1)->atttypid);
	}

	/* granularity tiers, finest first; policies not coarser are ignored */
	if (rollup && policy.ngran > 0)
	{
		tiers = palloc0(sizeof(Tier) * policy.ngran);
		for (int i = 0; i < policy.ngran; i++)
		{
			Tier	   *tr = &tiers[ntiers];
			Interval   *prev = ntiers > 0 ? &tiers[ntiers - 1].rollup->granularity :
				&rollup->granularity;
			int64		h;

			if (interval_same(prev, &policy.granularity[i]) ||
				!LedgerRollupDivides(prev, &policy.granularity[i]))
				continue;
			tr->rollup = palloc(sizeof(LedgerRollup));
			*tr->rollup = *rollup;
			tr->rollup->granularity = policy.granularity[i];
			LedgerRollupCheckGranularity(&tr->rollup->granularity, time_type,
										 &tr->rollup->grain, &tr->rollup->stride);
			tr->rollup->cache_valid = false;
			h = horizon_of(time_type, tz, &policy.older_than[i]);
			tr->horizon_bucket = bucket_int(time_type,
											LedgerRollupBucket(tr->rollup,
															   time_datum(time_type, h)));
			tr->gtcxt = AllocSetContextCreate(cxt, "ledger compaction tier",
											  ALLOCSET_DEFAULT_SIZES);
			ntiers++;
		}
	}

	/* retention: segments entirely older than the horizon go */
	drop = palloc0(sizeof(bool) * Max(nsegs, 1));
	if (policy.has_retention && OidIsValid(time_type))
	{
		int64		h = horizon_of(time_type, tz, &policy.retention);

		for (int i = 0; i < nsegs; i++)
			if (segs[i].has_time && segs[i].time_max < h)
				drop[i] = true;
	}

	/* which segments to rewrite */
	need = palloc0(sizeof(bool) * Max(nsegs, 1));
	for (int i = 0; i < nsegs; i++)
	{
		LedgerSegmentMeta *s = &segs[i];

		if (drop[i])
			continue;
		if (full || s->row_count < policy.min_rows)
			need[i] = true;
		if (rollup == NULL)
			continue;
		/* stored rows that are not key-unique at the grain they belong to */
		{
			Interval   *want = &rollup->granularity;

			if (ntiers > 0 && s->has_time)
			{
				int			tier = tier_of(tiers, ntiers, time_type,
										   time_datum(time_type, s->time_min));

				if (tier >= 0)
					want = &tiers[tier].rollup->granularity;
			}
			if (!s->rolled_up || !interval_same(&s->rollup, want))
			{
				need[i] = true;
				any_alone = true;
			}
		}
	}
	if (rollup && !full)
	{
		/* large rollup segments overlapping in time are merged too */
		int		   *order = palloc(sizeof(int) * Max(nsegs, 1));
		int			norder = 0;

		for (int i = 0; i < nsegs; i++)
			if (!drop[i] && segs[i].has_time && segs[i].row_count >= policy.min_rows)
				order[norder++] = i;
		for (int a = 1; a < norder; a++)
		{
			int			v = order[a],
						b = a - 1;

			while (b >= 0 && segs[order[b]].time_min > segs[v].time_min)
			{
				order[b + 1] = order[b];
				b--;
			}
			order[b + 1] = v;
		}
		for (int a = 1, maxi = norder > 0 ? order[0] : -1; a < norder; a++)
		{
			int			i = order[a];

			if (segs[i].time_min <= segs[maxi].time_max)
			{
				need[i] = need[maxi] = true;
				any_alone = true;
			}
			if (segs[i].time_max > segs[maxi].time_max)
				maxi = i;
		}
	}
	for (int i = 0; i < nsegs; i++)
		if (need[i])
			nneed++;
	/* one small segment alone gains nothing from being rewritten */
	if (nneed == 1 && !any_alone && !full)
	{
		memset(need, 0, sizeof(bool) * Max(nsegs, 1));
		nneed = 0;
	}

	if (nneed > 0)
	{
		LedgerSegmentMeta *chosen = palloc(sizeof(LedgerSegmentMeta) * nneed);
		int			k = 0;
		List	   *first_rows = NIL;
		Snapshot	after;
		LedgerSegmentMeta *now_segs;
		int			nnow;

		for (int i = 0; i < nsegs; i++)
			if (need[i])
			{
				chosen[k++] = segs[i];
				res->segments_in++;
				res->rows_in += segs[i].row_count;
				res->bytes_in += segs[i].data_bytes;
			}
		res->rows_out = rewrite_segments(rel, snapshot, chosen, nneed, rollup,
										 tiers, ntiers, policy.target_rows,
										 &first_rows);
		res->segments_out = list_length(first_rows);

		/* bytes of what was written, from the catalog rows */
		CommandCounterIncrement();
		after = RegisterSnapshot(GetLatestSnapshot());
		now_segs = LedgerStoreListSegments(rel, after, &nnow);
		UnregisterSnapshot(after);
		for (int i = 0; i < nnow; i++)
		{
			ListCell   *lc;

			foreach(lc, first_rows)
				if (*(int64 *) lfirst(lc) == now_segs[i].first_row)
					res->bytes_out += now_segs[i].data_bytes;
		}
	}

	/* swap: delete the old segments' catalog rows as listed */
	for (int i = 0; i < nsegs; i++)
	{
		if (!need[i] && !drop[i])
			continue;
		LedgerStoreDeleteSegment(rel, snapshot, segs[i].segment_id);
		if (drop[i])
		{
			res->segments_in++;
			res->segments_dropped++;
			res->rows_in += segs[i].row_count;
			res->bytes_in += segs[i].data_bytes;
		}
	}
	CommandCounterIncrement();

	/* keys of events older than the key retention are forgotten */
	res->keys_expired = LedgerKeyStoreExpire(rel);

	UnregisterSnapshot(snapshot);
	SetUserIdAndSecContext(save_userid, save_sec);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	relation_close(rel, NoLock);
}

/* --- SQL-callable functions ------------------------------------------------ */

/* checks that relid is a ledger the caller owns; "what" names the action */
static void
check_ledger_owner(Oid relid, const char *what)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot %s: relation with OID %u does not exist", what, relid)));
	if (!LedgerIsLedgerRelid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s \"%s\": it is not a ledger table", what, name),
				 errhint("Create the table with CREATE TABLE ... USING ledger.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, name);
}

/* raises an invalid-parameter error about relid's policy */
static void pg_attribute_noreturn()
policy_error(Oid relid, int code, const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(code),
			 errmsg("invalid compaction policy for \"%s\": %s",
					get_rel_name(relid), msg),
			 hint ? errhint("%s", hint) : 0));
}

/* true if interval a > b */
static bool
interval_gt_zero(Interval *a)
{
	Interval	zero = {0};

	return DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(a),
											IntervalPGetDatum(&zero)));
}

/* ledger.compact(ledger, full): compacts now and returns what it did */
Datum
ledger_compact(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		full = PG_GETARG_BOOL(1);
	LedgerCompactionResult r;
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {0};
	TimestampTz started = GetCurrentTimestamp();

	check_ledger_owner(relid, "compact");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	LedgerCompact(relid, full, false, &r);
	LedgerCompactionRecordJob(relid, get_rel_name(relid), started, "manual",
							  &r, NULL);

	values[0] = Int32GetDatum(r.segments_in);
	values[1] = Int32GetDatum(r.segments_out);
	values[2] = Int32GetDatum(r.segments_dropped);
	values[3] = Int64GetDatum(r.rows_in);
	values[4] = Int64GetDatum(r.rows_out);
	values[5] = Int64GetDatum(r.bytes_in);
	values[6] = Int64GetDatum(r.bytes_out);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}

/* ledger.set_compaction(ledger, target_segment_rows, min_segment_rows) */
Datum
ledger_set_compaction(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			argtypes[3] = {OIDOID, INT4OID, INT4OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			target = ledger_segment_rows;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	check_ledger_owner(relid, "set compaction of");
	args[0] = ObjectIdGetDatum(relid);
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
	{
		target = PG_GETARG_INT32(1);
		if (target < 1000 || target > LEDGER_SEGMENT_MAX_ROWS)
			policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
						 psprintf("target_segment_rows %d is out of range", target),
						 psprintf("Choose between 1000 and %d rows.",
								  LEDGER_SEGMENT_MAX_ROWS));
	}
	args[1] = Int32GetDatum(target);
	if (PG_ARGISNULL(2))
		nulls[2] = 'n';
	else
	{
		int			min = PG_GETARG_INT32(2);

		if (min < 1 || min > target)
			policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
						 psprintf("min_segment_rows %d is out of range", min),
						 psprintf("Choose between 1 and target_segment_rows (%d).",
								  target));
	}
	args[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("INSERT INTO ledger.compaction_policy AS p "
				 "(relid, target_segment_rows, min_segment_rows) "
				 "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3) "
				 "ON CONFLICT (relid) DO UPDATE SET "
				 "target_segment_rows = EXCLUDED.target_segment_rows, "
				 "min_segment_rows = EXCLUDED.min_segment_rows",
				 3, argtypes, args, nulls, false);
	SPI_finish();
	PG_RETURN_VOID();
}

/* ledger.set_retention(ledger, drop_after): NULL keeps everything */
Datum
ledger_set_retention(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			argtypes[2] = {OIDOID, INTERVALOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	check_ledger_owner(relid, "set retention of");
	if (!PG_ARGISNULL(1))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(1);
		Relation	rel;
		bool		has_time;

		if (!interval_gt_zero(iv))
			policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
						 "drop_after must be a positive interval",
						 "Pass e.g. '90 days', or NULL to keep all data.");
		rel = relation_open(relid, AccessShareLock);
		has_time = LedgerTimeColumn(rel) != InvalidAttrNumber;
		relation_close(rel, AccessShareLock);
		if (!has_time)
			policy_error(relid, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "the ledger has no timestamp or date column",
						 "Retention drops segments by the time range of the ledger's time column.");
		args[1] = IntervalPGetDatum(iv);
	}
	else
	{
		args[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	args[0] = ObjectIdGetDatum(relid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("INSERT INTO ledger.compaction_policy AS p (relid, retention) "
				 "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2) "
				 "ON CONFLICT (relid) DO UPDATE SET retention = EXCLUDED.retention",
				 2, argtypes, args, nulls, false);
	SPI_finish();
	PG_RETURN_VOID();
}

/* ledger.add_granularity_policy(ledger, older_than, granularity) */
Datum
ledger_add_granularity_policy(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Interval   *older_than;
	Interval   *gran;
	Relation	rel;
	LedgerRollup *rollup;
	Interval	ledger_gran;
	Oid			time_type;
	LedgerGrainKind grain;
	int64		stride;
	Policy		policy;
	Oid			argtypes[3] = {OIDOID, INTERVALOID, INTERVALOID};
	Datum		args[3];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	check_ledger_owner(relid, "add a granularity policy to");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		policy_error(relid, ERRCODE_NULL_VALUE_NOT_ALLOWED,
					 "older_than and granularity must not be NULL",
					 "Pass e.g. older_than => '7 days', granularity => '1 day'.");
	older_than = PG_GETARG_INTERVAL_P(1);
	gran = palloc(sizeof(Interval));
	*gran = *PG_GETARG_INTERVAL_P(2);
	if (!interval_gt_zero(older_than))
		policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
					 "older_than must be a positive interval",
					 "Pass the age after which rows are re-rolled, e.g. '7 days'.");

	rel = relation_open(relid, ShareUpdateExclusiveLock);
	rollup = LedgerRollupGet(rel);
	if (rollup == NULL)
	{
		relation_close(rel, ShareUpdateExclusiveLock);
		policy_error(relid, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
					 "the ledger has no rollup",
					 "Configure rollup with ledger.set_rollup() first; granularity policies coarsen rolled-up rows.");
	}
	ledger_gran = rollup->granularity;
	time_type = rollup->time_type;
	relation_close(rel, NoLock);

	LedgerRollupCheckGranularity(gran, time_type, &grain, &stride);
	if (interval_same(gran, &ledger_gran) || !LedgerRollupDivides(&ledger_gran, gran))
		policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
					 psprintf("granularity %s is not coarser than the ledger's granularity %s by a whole multiple",
							  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(gran))),
							  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&ledger_gran)))),
					 "A granularity policy may only coarsen, e.g. from 1 hour to 1 day or from 1 day to 1 month.");

	/* older data must get the same or a coarser grain than newer data */
	load_policy(relid, &policy);
	for (int i = 0; i < policy.ngran; i++)
	{
		int			cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp,
															IntervalPGetDatum(&policy.older_than[i]),
															IntervalPGetDatum(older_than)));
		bool		ok;

		if (cmp == 0)
			continue;			/* replaced below */
		ok = cmp < 0 ? LedgerRollupDivides(&policy.granularity[i], gran) :
			LedgerRollupDivides(gran, &policy.granularity[i]);
		if (!ok)
			policy_error(relid, ERRCODE_INVALID_PARAMETER_VALUE,
						 psprintf("granularity %s conflicts with the policy for data older than %s (granularity %s)",
								  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(gran))),
								  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&policy.older_than[i]))),
								  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&policy.granularity[i])))),
						 "Older data must get the same or a coarser granularity, a whole multiple of the granularity of newer data.");
	}

	args[0] = ObjectIdGetDatum(relid);
	args[1] = IntervalPGetDatum(older_than);
	args[2] = IntervalPGetDatum(gran);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("INSERT INTO ledger.granularity_policy AS p (relid, older_than, granularity) "
				 "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3) "
				 "ON CONFLICT (relid, older_than) DO UPDATE SET granularity = EXCLUDED.granularity",
				 3, argtypes, args, NULL, false);
	SPI_finish();
	PG_RETURN_VOID();
}

/* ledger.remove_granularity_policy(ledger, older_than): NULL removes all */
Datum
ledger_remove_granularity_policy(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			argtypes[2] = {OIDOID, INTERVALOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	check_ledger_owner(relid, "remove a granularity policy of");
	args[0] = ObjectIdGetDatum(relid);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_as_owner("DELETE FROM ledger.granularity_policy "
				 "WHERE relid = $1::pg_catalog.oid::pg_catalog.regclass "
				 "AND ($2::pg_catalog.interval IS NULL OR older_than = $2)",
				 2, argtypes, args, nulls, false);
	SPI_finish();
	PG_RETURN_VOID();
}

/* --- DROP ---------------------------------------------------------------- */

/* deletes the rows of catalog relname whose column attno (indexed) is relid */
static void
delete_policy_rows(const char *relname, const char *indexname,
				   AttrNumber attno, Oid relid)
{
	Oid			catrelid = LedgerCatalogRelid(relname, true);
	Oid			indexoid = LedgerCatalogRelid(indexname, true);
	Relation	catrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Snapshot	snapshot;

	if (!OidIsValid(catrelid) || !OidIsValid(indexoid))
		return;					/* the extension itself is being dropped */
	catrel = table_open(catrelid, RowExclusiveLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(catrel, indexoid, true, snapshot, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		simple_heap_delete(catrel, &tup->t_self);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(catrel, NoLock);
}

/* removes a dropped ledger's policies and job history */
static void
compaction_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access == OAT_DROP && classId == RelationRelationId && subId == 0 &&
		LedgerIsLedgerRelid(objectId))
	{
		CommandCounterIncrement();
		delete_policy_rows("compaction_policy", "compaction_policy_pkey", 1, objectId);
		delete_policy_rows("granularity_policy", "granularity_policy_pkey", 1, objectId);
		delete_policy_rows("job", "job_relid_idx", 2, objectId);
		CommandCounterIncrement();
	}
}

/* forward declaration: registers the launcher (compaction_worker.c) */
extern void LedgerCompactionRegisterLauncher(void);

/* installs the DROP hook; registers the launcher when preloaded */
void
LedgerCompactionInit(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = compaction_object_access;
	if (process_shared_preload_libraries_in_progress)
		LedgerCompactionRegisterLauncher();
}
