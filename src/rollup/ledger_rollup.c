/*-------------------------------------------------------------------------
 *
 * ledger_rollup.c
 *	  The rollup spec of a ledger: roles of its columns, time bucketing,
 *	  rollup-key hashing, equality and order, and metric combination.
 *
 * NOTES
 *	  Specs are built from ledger.config (catalog/) and the ledger's tuple
 *	  descriptor, and cached per backend in CacheMemoryContext until the
 *	  ledger's relcache entry is invalidated (ALTER TABLE, set_rollup).
 *
 *	  Buckets: below a day, absolute bins of the granularity whose origin
 *	  is midnight of 2000-01-01 in the configured time zone (date_bin
 *	  semantics); day, week and month are calendar truncations in that time
 *	  zone.  A result does not depend on the session's TimeZone.  Nearly
 *	  sorted input hits a one-bucket cache instead of calling date_trunc.
 *
 * IDENTIFICATION
 *	  src/rollup/ledger_rollup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/pg_locale.h"
#include "common/hashfn.h"
#include "ledger/catalog.h"
#include "ledger/rollup.h"
#include "nodes/value.h"
#include "parser/parse_oper.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

/* a cached spec; rollup is NULL for a raw ledger */
typedef struct RollupCacheEntry
{
	Oid			relid;
	MemoryContext cxt;
	LedgerRollup *rollup;
} RollupCacheEntry;

static HTAB *RollupCache = NULL;
static uint64 rollup_generation = 0;

/* drops cached specs of relid, or all of them */
static void
rollup_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	RollupCacheEntry *entry;

	if (RollupCache == NULL)
		return;
	hash_seq_init(&status, RollupCache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (OidIsValid(relid) && entry->relid != relid)
			continue;
		if (entry->cxt)
			MemoryContextDelete(entry->cxt);
		hash_search(RollupCache, &entry->relid, HASH_REMOVE, NULL);
	}
}

/* registers the relcache callback; called once from _PG_init */
void
LedgerRollupInit(void)
{
	CacheRegisterRelcacheCallback(rollup_invalidate, (Datum) 0);
}

/* the kind of granularity and its stride; raises a user error if invalid */
void
LedgerRollupCheckGranularity(Interval *g, Oid time_type, LedgerGrainKind *grain,
							 int64 *stride)
{
	*stride = 0;
	if (g->month < 0 || g->day < 0 || g->time < 0 ||
		(g->month == 0 && g->day == 0 && g->time == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rollup granularity must be positive"),
				 errhint("Use an interval such as '1 minute', '1 hour', '1 day', '1 week' or '1 month'.")));
	if (g->month != 0)
	{
		if (g->month != 1 || g->day != 0 || g->time != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rollup granularity %s is not supported",
							DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(g)))),
					 errhint("Granularities of a month or more must be exactly '1 month'.")));
		*grain = LEDGER_GRAIN_MONTH;
		return;
	}
	if (g->day != 0)
	{
		if ((g->day != 1 && g->day != 7) || g->time != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rollup granularity %s is not a whole day or week",
							DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(g)))),
					 errhint("Use '1 day' or '1 week', or a time interval that divides a day, such as '6 hours'.")));
		*grain = g->day == 1 ? LEDGER_GRAIN_DAY : LEDGER_GRAIN_WEEK;
		return;
	}
	if (g->time > USECS_PER_DAY || USECS_PER_DAY % g->time != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rollup granularity %s does not divide a day",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(g)))),
				 errhint("Use an interval that divides 24 hours evenly, such as '15 minutes' or '6 hours', or '1 day'.")));
	if (time_type == DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rollup granularity below a day needs a timestamp time column"),
				 errhint("Use '1 day', '1 week' or '1 month' for a date column.")));
	*grain = LEDGER_GRAIN_SUBDAY;
	*stride = g->time;
}

/* true if granularity "coarse" is a whole multiple of "fine" */
bool
LedgerRollupDivides(Interval *fine, Interval *coarse)
{
	LedgerGrainKind fg,
				cg;
	int64		fs,
				cs;

	LedgerRollupCheckGranularity(fine, TIMESTAMPTZOID, &fg, &fs);
	LedgerRollupCheckGranularity(coarse, TIMESTAMPTZOID, &cg, &cs);
	switch (cg)
	{
		case LEDGER_GRAIN_SUBDAY:
			return fg == LEDGER_GRAIN_SUBDAY && cs % fs == 0;
		case LEDGER_GRAIN_DAY:
		case LEDGER_GRAIN_WEEK:
			/* local days start on whole hours in every time zone we allow */
			return fg == cg || fg == LEDGER_GRAIN_DAY ||
				(fg == LEDGER_GRAIN_SUBDAY && USECS_PER_HOUR % fs == 0);
		case LEDGER_GRAIN_MONTH:
			return fg == LEDGER_GRAIN_MONTH || fg == LEDGER_GRAIN_DAY ||
				(fg == LEDGER_GRAIN_SUBDAY && USECS_PER_HOUR % fs == 0);
	}
	return false;
}

/* the "+" function of type typid */
static Oid
plus_function(Oid typid)
{
	Oid			oprid = OpernameGetOprid(list_make1(makeString("+")), typid, typid);

	if (!OidIsValid(oprid))
		elog(ERROR, "no + operator for type %s", format_type_be(typid));
	return get_opcode(oprid);
}

/* index of attribute "name" in desc, raising an error if it is gone */
static AttrNumber
resolve(TupleDesc desc, Oid relid, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("rollup configuration of \"%s\" names column \"%s\", which does not exist",
					get_rel_name(relid), name),
			 errhint("Call ledger.set_rollup again for this ledger.")));
	return InvalidAttrNumber;
}

/*
 * Chooses shortcuts for a dimension whose default opclasses are known to be
 * bitwise (integers) or byte-wise (text under a deterministic collation,
 * and memcmp order under the C collation); they agree with the fmgr path.
 */
static void
set_fast_paths(LedgerRollup *r, int i, Oid base, Oid collation)
{
	switch (base)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			r->fasteq[i] = 'i';
			r->fastcmp[i] = 'i';
			break;
		case BOOLOID:
		case OIDOID:
			r->fasteq[i] = 'i';
			break;
		case TEXTOID:
		case VARCHAROID:
			if (OidIsValid(collation) &&
				(collation == C_COLLATION_OID || collation == POSIX_COLLATION_OID ||
				 get_collation_isdeterministic(collation)))
			{
				r->fasteq[i] = 't';
				if (lc_collate_is_c(collation))
					r->fastcmp[i] = 't';
			}
			break;
		default:
			break;
	}
}

/* a signed integer Datum of type base as int64 */
static inline int64
int_value(Oid base, Datum d)
{
	switch (base)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
		case DATEOID:
			return DatumGetInt32(d);
		default:
			return DatumGetInt64(d);
	}
}

/* builds the spec of rel from its configuration */
static LedgerRollup *
build_rollup(Relation rel, LedgerConfig *cfg)
{
	TupleDesc	desc = RelationGetDescr(rel);
	LedgerRollup *r = palloc0(sizeof(LedgerRollup));
	int			natts = desc->natts;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *colname = NULL;

	r->relid = RelationGetRelid(rel);
	r->natts = natts;
	r->roles = palloc0(sizeof(LedgerColumnRole) * Max(natts, 1));
	r->cmp = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	r->hash = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	r->eq = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	r->add = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	r->collation = palloc0(sizeof(Oid) * Max(natts, 1));
	r->basetype = palloc0(sizeof(Oid) * Max(natts, 1));
	r->typlen = palloc0(sizeof(int16) * Max(natts, 1));
	r->typbyval = palloc0(sizeof(bool) * Max(natts, 1));
	r->fasteq = palloc0(sizeof(char) * Max(natts, 1));
	r->fastcmp = palloc0(sizeof(char) * Max(natts, 1));
	r->generation = ++rollup_generation;
	r->dims = palloc0(sizeof(AttrNumber) * Max(natts, 1));

	for (int i = 0; i < natts; i++)
		r->roles[i] = TupleDescAttr(desc, i)->attisdropped ?
			LEDGER_ROLE_DROPPED : LEDGER_ROLE_DIMENSION;

	r->time_attnum = resolve(desc, r->relid, cfg->time_column);
	r->roles[r->time_attnum - 1] = LEDGER_ROLE_TIME;
	r->time_type = getBaseType(TupleDescAttr(desc, r->time_attnum - 1)->atttypid);
	if (cfg->key_column)
	{
		r->key_attnum = resolve(desc, r->relid, cfg->key_column);
		r->roles[r->key_attnum - 1] = LEDGER_ROLE_KEY;
	}
	if (cfg->version_column)
	{
		r->version_attnum = resolve(desc, r->relid, cfg->version_column);
		r->roles[r->version_attnum - 1] = LEDGER_ROLE_VERSION;
	}

	it = JsonbIteratorInit(&cfg->metrics->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			colname = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE && v.type == jbvString)
		{
			AttrNumber	attnum = resolve(desc, r->relid, colname);
			char	   *kind = pnstrdup(v.val.string.val, v.val.string.len);
			LedgerColumnRole role;

			if (strcmp(kind, "sum") == 0)
				role = LEDGER_ROLE_SUM;
			else if (strcmp(kind, "min") == 0)
				role = LEDGER_ROLE_MIN;
			else if (strcmp(kind, "max") == 0)
				role = LEDGER_ROLE_MAX;
			else
				role = LEDGER_ROLE_COUNT;
			r->roles[attnum - 1] = role;
			if (role == LEDGER_ROLE_COUNT && r->count_attnum == 0)
				r->count_attnum = attnum;
		}
	}

	r->granularity = cfg->granularity;
	LedgerRollupCheckGranularity(&r->granularity, r->time_type, &r->grain, &r->stride);
	r->time_zone = pstrdup(cfg->time_zone);
	/* local midnight of 2000-01-01 in the configured zone */
	r->origin = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone,
														CStringGetTextDatum(r->time_zone),
														TimestampGetDatum(0)));

	for (int i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			base;
		TypeCacheEntry *tce;

		if (att->attisdropped)
			continue;
		base = getBaseType(att->atttypid);

		r->collation[i] = att->attcollation;
		r->basetype[i] = base;
		r->typlen[i] = att->attlen;
		r->typbyval[i] = att->attbyval;
		switch (r->roles[i])
		{
			case LEDGER_ROLE_DIMENSION:
				tce = lookup_type_cache(att->atttypid,
										TYPECACHE_CMP_PROC_FINFO | TYPECACHE_HASH_PROC_FINFO |
										TYPECACHE_EQ_OPR_FINFO);
				if (!OidIsValid(tce->cmp_proc) || !OidIsValid(tce->hash_proc) ||
					!OidIsValid(tce->eq_opr))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_FUNCTION),
							 errmsg("dimension column \"%s\" of ledger \"%s\" has no default btree and hash operator classes",
									NameStr(att->attname), RelationGetRelationName(rel)),
							 errhint("Call ledger.set_rollup again, making the column a metric.")));
				fmgr_info_copy(&r->cmp[i], &tce->cmp_proc_finfo, CurrentMemoryContext);
				fmgr_info_copy(&r->hash[i], &tce->hash_proc_finfo, CurrentMemoryContext);
				fmgr_info_copy(&r->eq[i], &tce->eq_opr_finfo, CurrentMemoryContext);
				r->dims[r->ndims++] = att->attnum;
				set_fast_paths(r, i, base, att->attcollation);
				break;
			case LEDGER_ROLE_MIN:
			case LEDGER_ROLE_MAX:
				tce = lookup_type_cache(att->atttypid, TYPECACHE_CMP_PROC_FINFO);
				fmgr_info_copy(&r->cmp[i], &tce->cmp_proc_finfo, CurrentMemoryContext);
				break;
			case LEDGER_ROLE_SUM:
			case LEDGER_ROLE_COUNT:
				fmgr_info(plus_function(base), &r->add[i]);
				break;
			default:
				break;
		}
	}
	return r;
}

/* the rollup spec of rel, or NULL for a raw ledger (cached) */
LedgerRollup *
LedgerRollupGet(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	RollupCacheEntry *entry;
	bool		found;

	if (RollupCache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RollupCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		RollupCache = hash_create("ledger rollup specs", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(RollupCache, &relid, HASH_FIND, &found);
	if (!found)
	{
		LedgerConfig *cfg = LedgerConfigLoad(relid);
		MemoryContext cxt = NULL;
		LedgerRollup *rollup = NULL;

		if (cfg != NULL)
		{
			MemoryContext old;

			cxt = AllocSetContextCreate(CacheMemoryContext, "ledger rollup spec",
										ALLOCSET_SMALL_SIZES);
			old = MemoryContextSwitchTo(cxt);
			PG_TRY();
			{
				rollup = build_rollup(rel, cfg);
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(old);
				MemoryContextDelete(cxt);
				PG_RE_THROW();
			}
			PG_END_TRY();
			MemoryContextSwitchTo(old);
		}
		entry = hash_search(RollupCache, &relid, HASH_ENTER, &found);
		entry->cxt = cxt;
		entry->rollup = rollup;
	}
	return entry->rollup;
}

/* floor division for bucketing negative offsets */
static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* the calendar unit of a day/week/month granularity */
static const char *
grain_unit(LedgerGrainKind grain)
{
	return grain == LEDGER_GRAIN_DAY ? "day" :
		grain == LEDGER_GRAIN_WEEK ? "week" : "month";
}

/* a safe span that lands in the next calendar bucket */
static int64
grain_span(LedgerGrainKind grain)
{
	return grain == LEDGER_GRAIN_DAY ? 26 * USECS_PER_HOUR :
		grain == LEDGER_GRAIN_WEEK ? 7 * USECS_PER_DAY + 2 * USECS_PER_HOUR :
		32 * USECS_PER_DAY;
}

/* calendar truncation of a timestamp(tz) value (microseconds) */
static int64
calendar_trunc(LedgerRollup *r, int64 t)
{
	text	   *unit = cstring_to_text(grain_unit(r->grain));
	Datum		d;

	if (r->time_type == TIMESTAMPTZOID)
		d = DirectFunctionCall3(timestamptz_trunc_zone, PointerGetDatum(unit),
								TimestampTzGetDatum(t),
								CStringGetTextDatum(r->time_zone));
	else
		d = DirectFunctionCall2(timestamp_trunc, PointerGetDatum(unit),
								TimestampGetDatum(t));
	pfree(unit);
	return DatumGetInt64(d);
}

/* the bucket of t (microseconds since 2000, as timestamp or timestamptz) */
static int64
bucket_of(LedgerRollup *r, int64 t)
{
	int64		lo;

	if (t == DT_NOBEGIN || t == DT_NOEND)
		return t;
	if (r->cache_valid && t >= r->cache_lo && t < r->cache_hi)
		return r->cache_bucket;

	if (r->grain == LEDGER_GRAIN_SUBDAY)
	{
		int64		origin = r->time_type == TIMESTAMPTZOID ? r->origin : 0;

		lo = origin + floor_div(t - origin, r->stride) * r->stride;
		r->cache_lo = lo;
		r->cache_hi = lo + r->stride;
	}
	else
	{
		lo = calendar_trunc(r, t);
		r->cache_lo = lo;
		r->cache_hi = calendar_trunc(r, lo + grain_span(r->grain));
	}
	r->cache_bucket = lo;
	r->cache_valid = true;
	return lo;
}

/* the bucket of a time value of the ledger's time column */
Datum
LedgerRollupBucket(LedgerRollup *r, Datum time)
{
	if (r->time_type == DATEOID)
	{
		DateADT		date = DatumGetDateADT(time);
		int64		b;

		if (DATE_NOT_FINITE(date) || r->grain == LEDGER_GRAIN_DAY)
			return time;
		b = bucket_of(r, (int64) date * USECS_PER_DAY);
		return DateADTGetDatum((DateADT) (b / USECS_PER_DAY));
	}
	return Int64GetDatum(bucket_of(r, DatumGetInt64(time)));
}

/* a count metric's value as int64 (it has an integer type) */
static int64
count_value(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return DatumGetInt64(d);
		case NUMERICOID:
			return DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
		default:
			elog(ERROR, "unexpected count column type %u", typid);
	}
	return 0;
}

/* the value 1 in a count column's type */
static Datum
count_one(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return Int16GetDatum(1);
		case INT4OID:
			return Int32GetDatum(1);
		case INT8OID:
			return Int64GetDatum(1);
		case NUMERICOID:
			return DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
		default:
			elog(ERROR, "unexpected count column type %u", typid);
	}
	return (Datum) 0;
}

/* normalizes an input row for folding; returns its event count */
int64
LedgerRollupPrepareRow(LedgerRollup *r, Datum *values, bool *isnull)
{
	int64		events = 1;
	int			t = r->time_attnum - 1;

	if (!isnull[t])
		values[t] = LedgerRollupBucket(r, values[t]);
	if (r->key_attnum)
	{
		values[r->key_attnum - 1] = (Datum) 0;
		isnull[r->key_attnum - 1] = true;
	}
	if (r->version_attnum)
	{
		values[r->version_attnum - 1] = (Datum) 0;
		isnull[r->version_attnum - 1] = true;
	}
	for (int i = 0; i < r->natts; i++)
	{
		if (r->roles[i] != LEDGER_ROLE_COUNT)
			continue;
		if (isnull[i])
		{
			values[i] = count_one(r->basetype[i]);
			isnull[i] = false;
		}
		if (i == r->count_attnum - 1)
			events = count_value(r->basetype[i], values[i]);
	}
	return events;
}

/* the bucket of row as int64 for ordering; *null set for a NULL time */
static inline int64
bucket_key(LedgerRollup *r, Datum **values, bool **isnull, int row, bool *null)
{
	int			t = r->time_attnum - 1;

	*null = isnull[t][row];
	if (*null)
		return 0;
	return r->time_type == DATEOID ? (int64) DatumGetDateADT(values[t][row]) :
		DatumGetInt64(values[t][row]);
}

/* hash of a prepared row's rollup key */
uint32
LedgerRollupHashKey(LedgerRollup *r, Datum **values, bool **isnull, int row)
{
	bool		null;
	int64		b = bucket_key(r, values, isnull, row, &null);
	uint32		h;

	h = null ? 0x9e3779b9 :
		hash_bytes_extended((const unsigned char *) &b, sizeof(int64), 0);
	for (int k = 0; k < r->ndims; k++)
	{
		int			i = r->dims[k] - 1;
		uint32		hv = 0x5bd1e995;

		if (isnull[i][row])
			;
		else if (r->fasteq[i] == 'i')
		{
			uint64		v = (uint64) values[i][row];

			hv = hash_bytes_uint32((uint32) v) ^ (uint32) (v >> 32);
		}
		else if (r->fasteq[i] == 't')
		{
			text	   *t = (text *) DatumGetPointer(values[i][row]);

			hv = hash_bytes((const unsigned char *) VARDATA_ANY(t),
							VARSIZE_ANY_EXHDR(t));
		}
		else
			hv = DatumGetUInt32(FunctionCall1Coll(&r->hash[i], r->collation[i],
												  values[i][row]));
		h = hash_combine(h, hv);
	}
	return h;
}

/* true if two prepared rows have the same rollup key */
bool
LedgerRollupKeysEqual(LedgerRollup *r, Datum **v1, bool **n1, int r1,
					  Datum **v2, bool **n2, int r2)
{
	bool		null1,
				null2;

	if (bucket_key(r, v1, n1, r1, &null1) != bucket_key(r, v2, n2, r2, &null2) ||
		null1 != null2)
		return false;
	for (int k = 0; k < r->ndims; k++)
	{
		int			i = r->dims[k] - 1;

		if (n1[i][r1] != n2[i][r2])
			return false;
		if (n1[i][r1])
			continue;
		if (r->fasteq[i] == 'i')
		{
			if (v1[i][r1] != v2[i][r2])
				return false;
		}
		else if (r->fasteq[i] == 't')
		{
			text	   *a = (text *) DatumGetPointer(v1[i][r1]);
			text	   *b = (text *) DatumGetPointer(v2[i][r2]);
			Size		la = VARSIZE_ANY_EXHDR(a);

			if (la != VARSIZE_ANY_EXHDR(b) ||
				memcmp(VARDATA_ANY(a), VARDATA_ANY(b), la) != 0)
				return false;
		}
		else if (!DatumGetBool(FunctionCall2Coll(&r->eq[i], r->collation[i],
												 v1[i][r1], v2[i][r2])))
			return false;
	}
	return true;
}

/* orders two prepared rows by bucket only, NULL last */
int
LedgerRollupCompareBuckets(LedgerRollup *r, Datum **v1, bool **n1, int r1,
						   Datum **v2, bool **n2, int r2)
{
	bool		null1,
				null2;
	int64		a = bucket_key(r, v1, n1, r1, &null1);
	int64		b = bucket_key(r, v2, n2, r2, &null2);

	if (null1 != null2)
		return null1 ? 1 : -1;
	if (null1 || a == b)
		return 0;
	return a < b ? -1 : 1;
}

/* orders two prepared rows by (bucket, dimensions), NULLs last */
int
LedgerRollupCompareKeys(LedgerRollup *r, Datum **v1, bool **n1, int r1,
						Datum **v2, bool **n2, int r2)
{
	int			c = LedgerRollupCompareBuckets(r, v1, n1, r1, v2, n2, r2);

	if (c != 0)
		return c;
	for (int k = 0; k < r->ndims; k++)
	{
		int			i = r->dims[k] - 1;

		if (n1[i][r1] != n2[i][r2])
			return n1[i][r1] ? 1 : -1;
		if (n1[i][r1])
			continue;
		if (r->fastcmp[i] == 'i')
		{
			int64		a = int_value(r->basetype[i], v1[i][r1]);
			int64		b = int_value(r->basetype[i], v2[i][r2]);

			c = (a > b) - (a < b);
		}
		else if (r->fastcmp[i] == 't')
		{
			text	   *a = (text *) DatumGetPointer(v1[i][r1]);
			text	   *b = (text *) DatumGetPointer(v2[i][r2]);
			Size		la = VARSIZE_ANY_EXHDR(a);
			Size		lb = VARSIZE_ANY_EXHDR(b);

			c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));
			if (c == 0)
				c = (la > lb) - (la < lb);
		}
		else
			c = DatumGetInt32(FunctionCall2Coll(&r->cmp[i], r->collation[i],
												v1[i][r1], v2[i][r2]));
		if (c != 0)
			return c;
	}
	return 0;
}

/* a copy of a by-reference value in cxt (by-value values as they are) */
static inline Datum
copy_in(Datum d, int16 typlen, bool typbyval, MemoryContext cxt)
{
	MemoryContext old;
	Datum		result;

	if (typbyval)
		return d;
	old = MemoryContextSwitchTo(cxt);
	result = datumCopy(d, false, typlen);
	MemoryContextSwitchTo(old);
	return result;
}

/* adds the metrics of row "in" to accumulator row "acc" */
void
LedgerRollupCombine(LedgerRollup *r, Datum **acc, bool **acc_null, int ra,
					Datum **in, bool **in_null, int ri, MemoryContext cxt)
{
	for (int i = 0; i < r->natts; i++)
	{
		LedgerColumnRole role = r->roles[i];
		MemoryContext old;

		if (!LEDGER_ROLE_IS_METRIC(role) || in_null[i][ri])
			continue;
		if (acc_null[i][ra])
		{
			acc[i][ra] = copy_in(in[i][ri], r->typlen[i], r->typbyval[i], cxt);
			acc_null[i][ra] = false;
			continue;
		}
		if (role == LEDGER_ROLE_SUM || role == LEDGER_ROLE_COUNT)
		{
			old = MemoryContextSwitchTo(cxt);
			acc[i][ra] = FunctionCall2Coll(&r->add[i], InvalidOid, acc[i][ra],
										   in[i][ri]);
			MemoryContextSwitchTo(old);
		}
		else
		{
			int32		c = DatumGetInt32(FunctionCall2Coll(&r->cmp[i], r->collation[i],
															in[i][ri], acc[i][ra]));

			if ((role == LEDGER_ROLE_MIN && c < 0) || (role == LEDGER_ROLE_MAX && c > 0))
				acc[i][ra] = copy_in(in[i][ri], r->typlen[i], r->typbyval[i], cxt);
		}
	}
}

/* -x for a sum or count metric of base type typid; overflow is an error */
static Datum
negate_metric(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT8OID:
		case CASHOID:
			if (DatumGetInt64(d) == PG_INT64_MIN)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("metric out of range while retracting a contribution")));
			return Int64GetDatum(-DatumGetInt64(d));
		case INT4OID:
			if (DatumGetInt32(d) == PG_INT32_MIN)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("metric out of range while retracting a contribution")));
			return Int32GetDatum(-DatumGetInt32(d));
		case INT2OID:
			return Int16GetDatum(-DatumGetInt16(d));
		case FLOAT8OID:
			return Float8GetDatum(-DatumGetFloat8(d));
		case FLOAT4OID:
			return Float4GetDatum(-DatumGetFloat4(d));
		case NUMERICOID:
			return DirectFunctionCall1(numeric_uminus, d);
		default:
			elog(ERROR, "cannot negate a metric of type %u", typid);
	}
	return (Datum) 0;
}

/*
 * Turns a prepared row into the row that takes its contribution back:
 * sum and count metrics negated, min and max NULL (they are recomputed
 * from the key store, see src/upsert).  Values are allocated in
 * CurrentMemoryContext.
 */
void
LedgerRollupNegate(LedgerRollup *r, Datum *values, bool *isnull)
{
	for (int i = 0; i < r->natts; i++)
	{
		switch (r->roles[i])
		{
			case LEDGER_ROLE_SUM:
			case LEDGER_ROLE_COUNT:
				if (!isnull[i])
					values[i] = negate_metric(r->basetype[i], values[i]);
				break;
			case LEDGER_ROLE_MIN:
			case LEDGER_ROLE_MAX:
				values[i] = (Datum) 0;
				isnull[i] = true;
				break;
			default:
				break;
		}
	}
}

/* true if every sum and count metric of the row is NULL or zero */
bool
LedgerRollupMetricsZero(LedgerRollup *r, Datum **values, bool **isnull, int row)
{
	for (int i = 0; i < r->natts; i++)
	{
		Datum		d;

		if ((r->roles[i] != LEDGER_ROLE_SUM && r->roles[i] != LEDGER_ROLE_COUNT) ||
			isnull[i][row])
			continue;
		d = values[i][row];
		switch (r->basetype[i])
		{
			case INT8OID:
			case CASHOID:
				if (DatumGetInt64(d) != 0)
					return false;
				break;
			case INT4OID:
				if (DatumGetInt32(d) != 0)
					return false;
				break;
			case INT2OID:
				if (DatumGetInt16(d) != 0)
					return false;
				break;
			case FLOAT8OID:
				if (DatumGetFloat8(d) != 0.0)
					return false;
				break;
			case FLOAT4OID:
				if (DatumGetFloat4(d) != 0.0f)
					return false;
				break;
			case NUMERICOID:
				if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, d,
													  DirectFunctionCall1(int4_numeric,
																		  Int32GetDatum(0)))) != 0)
					return false;
				break;
			default:
				return false;
		}
	}
	return true;
}

/* true if the spec has a min or max metric */
bool
LedgerRollupHasMinMax(LedgerRollup *r)
{
	for (int i = 0; i < r->natts; i++)
		if (r->roles[i] == LEDGER_ROLE_MIN || r->roles[i] == LEDGER_ROLE_MAX)
			return true;
	return false;
}

/* an empty group table allocating in cxt */
LedgerGroupTable *
LedgerGroupTableCreate(int natts, MemoryContext cxt)
{
	LedgerGroupTable *gt = MemoryContextAllocZero(cxt, sizeof(LedgerGroupTable));

	gt->cxt = cxt;
	gt->natts = natts;
	gt->values = MemoryContextAllocZero(cxt, sizeof(Datum *) * Max(natts, 1));
	gt->isnull = MemoryContextAllocZero(cxt, sizeof(bool *) * Max(natts, 1));
	return gt;
}

/* grows the group arrays and rebuilds the slot index when needed */
static void
group_table_grow(LedgerGroupTable *gt)
{
	int			newcap = Max(gt->capacity * 2, 256);

	for (int i = 0; i < gt->natts; i++)
	{
		if (gt->capacity == 0)
		{
			gt->values[i] = MemoryContextAllocHuge(gt->cxt, sizeof(Datum) * newcap);
			gt->isnull[i] = MemoryContextAllocHuge(gt->cxt, sizeof(bool) * newcap);
		}
		else
		{
			gt->values[i] = repalloc_huge(gt->values[i], sizeof(Datum) * newcap);
			gt->isnull[i] = repalloc_huge(gt->isnull[i], sizeof(bool) * newcap);
		}
	}
	if (gt->capacity == 0)
	{
		gt->events = MemoryContextAllocHuge(gt->cxt, sizeof(int64) * newcap);
		gt->hashes = MemoryContextAllocHuge(gt->cxt, sizeof(uint32) * newcap);
	}
	else
	{
		gt->events = repalloc_huge(gt->events, sizeof(int64) * newcap);
		gt->hashes = repalloc_huge(gt->hashes, sizeof(uint32) * newcap);
	}
	gt->bytes += (Size) (newcap - gt->capacity) *
		(gt->natts * (sizeof(Datum) + sizeof(bool)) + sizeof(int64) + sizeof(uint32) +
		 2 * sizeof(int));
	gt->capacity = newcap;

	/* slots: twice the capacity, rebuilt from the stored hashes */
	if (gt->slots)
		pfree(gt->slots);
	gt->nslots = newcap * 2;
	gt->slots = MemoryContextAllocHuge(gt->cxt, sizeof(int) * gt->nslots);
	memset(gt->slots, 0, sizeof(int) * gt->nslots);
	for (int g = 0; g < gt->ngroups; g++)
	{
		int			s = gt->hashes[g] & (gt->nslots - 1);

		while (gt->slots[s] != 0)
			s = (s + 1) & (gt->nslots - 1);
		gt->slots[s] = g + 1;
	}
}

/* folds one prepared, detoasted row into the table; returns its group */
int
LedgerGroupTableAdd(LedgerGroupTable *gt, LedgerRollup *r, Datum *values,
					bool *isnull, int64 events)
{
	Datum	   *vptr[MaxTupleAttributeNumber];
	bool	   *nptr[MaxTupleAttributeNumber];
	uint32		h;
	int			s;
	int			g;

	Assert(gt->natts <= r->natts);
	for (int i = 0; i < gt->natts; i++)
	{
		vptr[i] = &values[i];
		nptr[i] = &isnull[i];
	}
	h = LedgerRollupHashKey(r, vptr, nptr, 0);

	if (gt->ngroups >= gt->capacity)
		group_table_grow(gt);
	s = h & (gt->nslots - 1);
	while ((g = gt->slots[s]) != 0)
	{
		g--;
		if (gt->hashes[g] == h &&
			LedgerRollupKeysEqual(r, gt->values, gt->isnull, g, vptr, nptr, 0))
		{
			LedgerRollupCombine(r, gt->values, gt->isnull, g, vptr, nptr, 0,
								gt->cxt);
			gt->events[g] += events;
			return g;
		}
		s = (s + 1) & (gt->nslots - 1);
	}

	/* a new group: copy the row */
	g = gt->ngroups++;
	gt->slots[s] = g + 1;
	gt->hashes[g] = h;
	gt->events[g] = events;
	for (int i = 0; i < gt->natts; i++)
	{
		gt->isnull[i][g] = isnull[i];
		gt->values[i][g] = isnull[i] ? (Datum) 0 :
			copy_in(values[i], r->typlen[i], r->typbyval[i], gt->cxt);
		if (!isnull[i] && !r->typbyval[i])
			gt->bytes += datumGetSize(values[i], false, r->typlen[i]);
	}
	return g;
}
