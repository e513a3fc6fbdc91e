/*-------------------------------------------------------------------------
 *
 * ledger_agg_exec.c
 *	  Executing LedgerAgg: reading a ledger and aggregating every row as it
 *	  is read (see ledger_agg.c for what is pushed down and why).
 *
 * IDENTIFICATION
 *	  src/planner/ledger_agg_exec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "ledger/scan.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "planner_internal.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* a group key's fast path */
typedef enum KeyKind
{
	KEY_EXPR,					/* evaluated per row */
	KEY_MEMO,					/* an expression of one column, remembered
								 * per value of the column */
	KEY_VAR,					/* a column */
	KEY_TRUNC					/* date_trunc(unit, time column) */
} KeyKind;

/* per group, per aggregate */
typedef struct AggAcc
{
	int64		count;
	int128		isum;
	double		fsum;
	float4		f4sum;
	Datum		value;			/* numeric sum, min/max */
	bool		has;
} AggAcc;

/*
 * A small direct-mapped cache of groups in front of the hash table, keyed
 * by the bytes of the key values: rows of a recent group skip the hash
 * table's typed hashing and equality (equal bytes are equal keys).
 */
#define GROUP_CACHE_SIZE 256

typedef struct GroupCacheSlot
{
	bool		valid;
	uint32		hash;
	Datum	   *keys;			/* copies in tablecxt */
	bool	   *nulls;
	AggAcc	   *acc;			/* the group's accumulators (stable: hash
								 * table entries move when it grows) */
} GroupCacheSlot;

/*
 * Recent results of a key expression of one column (attrs->>'k',
 * lower(method)), by the bytes of the column's value: dictionary-encoded
 * columns repeat few values, and stable expressions give one result per
 * value within a statement.
 */
#define MEMO_SIZE 64

typedef struct MemoSlot
{
	bool		valid;
	uint32		hash;
	Datum		input;			/* copies in tablecxt */
	Datum		result;
	bool		result_null;
} MemoSlot;

/* executor state */
typedef struct LedgerAggState
{
	CustomScanState css;
	Relation	rel;
	Index		rti;
	List	   *quals;			/* plan copies (base-relation Vars) */
	List	   *group_exprs;
	List	   *aggrefs;
	int			nkeys;
	int			naggs;

	/* per key */
	KeyKind    *key_kind;
	AttrNumber *key_attno;		/* KEY_VAR, KEY_TRUNC: the column */
	ExprState **key_state;		/* KEY_EXPR, KEY_MEMO */
	struct MemoSlot **memo;		/* KEY_MEMO: recent (input, result) pairs */
	int16	   *in_len;			/* KEY_MEMO: the column's type */
	bool	   *in_byval;
	FmgrInfo   *trunc_fn;		/* KEY_TRUNC */
	Datum	   *trunc_unit;
	Interval  **trunc_step;		/* one unit, or NULL: no range cache */
	int64	   *trunc_lo;
	int64	   *trunc_hi;
	Datum	   *trunc_result;
	bool	   *trunc_valid;
	int16	   *key_len;
	bool	   *key_byval;

	/* per aggregate */
	AggKind    *agg_kind;
	AttrNumber *agg_attno;		/* argument is a column, or 0 */
	ExprState **agg_state;		/* argument expression otherwise */
	FmgrInfo   *agg_cmp;		/* MIN_MAX: the transition function */
	Oid		   *agg_coll;
	int16	   *agg_len;
	bool	   *agg_byval;

	ExprState  *qual;
	bool	   *wanted;
	LedgerQual *filter;
	List	   *leaves;
	List	   *leaf_states;
	LedgerScanStats stats;

	TupleTableSlot *inslot;		/* rows read (the ledger's descriptor) */
	TupleTableSlot *keyslot;	/* group keys */
	TupleTableSlot *outkeyslot;	/* group keys of a group being returned */
	TupleHashTable hashtable;
	MemoryContext tablecxt;
	struct GroupCacheSlot *cache;	/* recent groups by raw key bytes */
	bool		reset_per_row;	/* expressions run per row */
	AggAcc	   *plain;			/* no GROUP BY: the one group */
	bool		done;			/* aggregated */
	TupleHashIterator iter;
	bool		plain_emitted;
	int64		rows_read;
	int64		groups;
} LedgerAggState;

static Node *create_ledger_agg_state(CustomScan *cscan);
static void begin_ledger_agg(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_ledger_agg(CustomScanState *node);
static void end_ledger_agg(CustomScanState *node);
static void rescan_ledger_agg(CustomScanState *node);
static void explain_ledger_agg(CustomScanState *node, List *ancestors,
							   ExplainState *es);

const CustomScanMethods ledger_agg_scan_methods = {
	.CustomName = "LedgerAgg",
	.CreateCustomScanState = create_ledger_agg_state,
};

static const CustomExecMethods agg_exec_methods = {
	.CustomName = "LedgerAgg",
	.BeginCustomScan = begin_ledger_agg,
	.ExecCustomScan = exec_ledger_agg,
	.EndCustomScan = end_ledger_agg,
	.ReScanCustomScan = rescan_ledger_agg,
	.ExplainCustomScan = explain_ledger_agg,
};

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
create_ledger_agg_state(CustomScan *cscan)
{
	LedgerAggState *state = palloc0(sizeof(LedgerAggState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &agg_exec_methods;
	return (Node *) state;
}

/* the interval of one date_trunc unit, or NULL if not cacheable */
static Interval *
trunc_unit_interval(const char *unit)
{
	Interval   *iv = palloc0(sizeof(Interval));
	char		buf[32];
	int			i;

	for (i = 0; unit[i] && i < (int) sizeof(buf) - 1; i++)
		buf[i] = pg_tolower((unsigned char) unit[i]);
	buf[i] = '\0';
	if (strcmp(buf, "second") == 0)
		iv->time = USECS_PER_SEC;
	else if (strcmp(buf, "minute") == 0)
		iv->time = USECS_PER_MINUTE;
	else if (strcmp(buf, "hour") == 0)
		iv->time = USECS_PER_HOUR;
	else if (strcmp(buf, "day") == 0)
		iv->day = 1;
	else if (strcmp(buf, "week") == 0)
		iv->day = 7;
	else if (strcmp(buf, "month") == 0)
		iv->month = 1;
	else if (strcmp(buf, "quarter") == 0)
		iv->month = 3;
	else if (strcmp(buf, "year") == 0)
		iv->month = 12;
	else
		return NULL;
	return iv;
}

/* sets up keys, aggregates, the filter and the columns to read */
static void
begin_ledger_agg(CustomScanState *node, EState *estate, int eflags)
{
	LedgerAggState *st = (LedgerAggState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Oid			relid = (Oid) intVal(linitial(cscan->custom_private));
	PlanState  *ps = &node->ss.ps;
	TupleDesc	keydesc;
	AttrNumber *keycols;
	Oid		   *eqfuncs;
	FmgrInfo   *hashfns;
	Oid		   *colls;
	ListCell   *lc;
	int			k;
	int			natts;
	Bitmapset  *attrs = NULL;
	List	   *all;
	bool		whole_row = false;

	st->rti = (Index) intVal(lsecond(cscan->custom_private));
	st->quals = lthird(cscan->custom_private);
	st->group_exprs = lfourth(cscan->custom_private);
	st->aggrefs = list_nth(cscan->custom_private, 4);
	st->nkeys = list_length(st->group_exprs);
	st->naggs = list_length(st->aggrefs);
	st->rel = table_open(relid, AccessShareLock);
	natts = RelationGetDescr(st->rel)->natts;

	st->inslot = MakeSingleTupleTableSlot(RelationGetDescr(st->rel), &TTSOpsVirtual);

	/* group keys */
	st->key_kind = palloc0(sizeof(KeyKind) * Max(st->nkeys, 1));
	st->key_attno = palloc0(sizeof(AttrNumber) * Max(st->nkeys, 1));
	st->key_state = palloc0(sizeof(ExprState *) * Max(st->nkeys, 1));
	st->memo = palloc0(sizeof(MemoSlot *) * Max(st->nkeys, 1));
	st->in_len = palloc0(sizeof(int16) * Max(st->nkeys, 1));
	st->in_byval = palloc0(sizeof(bool) * Max(st->nkeys, 1));
	st->trunc_fn = palloc0(sizeof(FmgrInfo) * Max(st->nkeys, 1));
	st->trunc_unit = palloc0(sizeof(Datum) * Max(st->nkeys, 1));
	st->trunc_step = palloc0(sizeof(Interval *) * Max(st->nkeys, 1));
	st->trunc_lo = palloc0(sizeof(int64) * Max(st->nkeys, 1));
	st->trunc_hi = palloc0(sizeof(int64) * Max(st->nkeys, 1));
	st->trunc_result = palloc0(sizeof(Datum) * Max(st->nkeys, 1));
	st->trunc_valid = palloc0(sizeof(bool) * Max(st->nkeys, 1));
	st->key_len = palloc0(sizeof(int16) * Max(st->nkeys, 1));
	st->key_byval = palloc0(sizeof(bool) * Max(st->nkeys, 1));
	keydesc = CreateTemplateTupleDesc(Max(st->nkeys, 1));
	keycols = palloc(sizeof(AttrNumber) * Max(st->nkeys, 1));
	eqfuncs = palloc(sizeof(Oid) * Max(st->nkeys, 1));
	hashfns = palloc(sizeof(FmgrInfo) * Max(st->nkeys, 1));
	colls = palloc(sizeof(Oid) * Max(st->nkeys, 1));

	k = 0;
	foreach(lc, st->group_exprs)
	{
		Expr	   *e = lfirst(lc);
		Oid			type = exprType((Node *) e);
		Oid			eqop,
					hashfn,
					lhs;
		bool		hashable;

		get_typlenbyval(type, &st->key_len[k], &st->key_byval[k]);
		TupleDescInitEntry(keydesc, k + 1, NULL, type, exprTypmod((Node *) e), 0);
		TupleDescInitEntryCollation(keydesc, k + 1, exprCollation((Node *) e));
		keycols[k] = k + 1;
		get_sort_group_operators(type, false, true, false, NULL, &eqop, NULL, &hashable);
		if (!get_op_hash_functions(eqop, &lhs, &hashfn))
			elog(ERROR, "no hash function for the group key type %u", type);
		eqfuncs[k] = get_opcode(eqop);
		fmgr_info(hashfn, &hashfns[k]);
		colls[k] = exprCollation((Node *) e);

		if (IsA(e, Var))
		{
			st->key_kind[k] = KEY_VAR;
			st->key_attno[k] = ((Var *) e)->varattno;
		}
		else if (IsA(e, FuncExpr) &&
				 (((FuncExpr *) e)->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ ||
				  ((FuncExpr *) e)->funcid == F_DATE_TRUNC_TEXT_TIMESTAMP) &&
				 list_length(((FuncExpr *) e)->args) == 2 &&
				 IsA(linitial(((FuncExpr *) e)->args), Const) &&
				 !((Const *) linitial(((FuncExpr *) e)->args))->constisnull &&
				 IsA(lsecond(((FuncExpr *) e)->args), Var))
		{
			FuncExpr   *f = (FuncExpr *) e;

			st->key_kind[k] = KEY_TRUNC;
			st->key_attno[k] = ((Var *) lsecond(f->args))->varattno;
			fmgr_info(f->funcid, &st->trunc_fn[k]);
			st->trunc_unit[k] = ((Const *) linitial(f->args))->constvalue;
			st->trunc_step[k] = trunc_unit_interval(TextDatumGetCString(st->trunc_unit[k]));
		}
		else
		{
			Bitmapset  *cols = NULL;
			int			col;

			st->key_kind[k] = KEY_EXPR;
			st->key_state[k] = ExecInitExpr(e, ps);

			/* one column, no volatile function: remember results per value */
			pull_varattnos((Node *) e, st->rti, &cols);
			if (bms_get_singleton_member(cols, &col) &&
				col + FirstLowInvalidHeapAttributeNumber > 0 &&
				col + FirstLowInvalidHeapAttributeNumber <= natts &&
				!contain_volatile_functions((Node *) e))
			{
				Form_pg_attribute att = TupleDescAttr(RelationGetDescr(st->rel),
													  col + FirstLowInvalidHeapAttributeNumber - 1);

				st->key_kind[k] = KEY_MEMO;
				st->key_attno[k] = att->attnum;
				st->in_len[k] = att->attlen;
				st->in_byval[k] = att->attbyval;
				st->memo[k] = palloc0(sizeof(MemoSlot) * MEMO_SIZE);
			}
		}
		k++;
	}
	st->keyslot = MakeSingleTupleTableSlot(keydesc, &TTSOpsVirtual);
	st->outkeyslot = MakeSingleTupleTableSlot(keydesc, &TTSOpsMinimalTuple);

	/* aggregates */
	st->agg_kind = palloc0(sizeof(AggKind) * Max(st->naggs, 1));
	st->agg_attno = palloc0(sizeof(AttrNumber) * Max(st->naggs, 1));
	st->agg_state = palloc0(sizeof(ExprState *) * Max(st->naggs, 1));
	st->agg_cmp = palloc0(sizeof(FmgrInfo) * Max(st->naggs, 1));
	st->agg_coll = palloc0(sizeof(Oid) * Max(st->naggs, 1));
	st->agg_len = palloc0(sizeof(int16) * Max(st->naggs, 1));
	st->agg_byval = palloc0(sizeof(bool) * Max(st->naggs, 1));
	k = 0;
	foreach(lc, st->aggrefs)
	{
		Aggref	   *agg = lfirst(lc);

		st->agg_kind[k] = (AggKind) ledger_agg_kind(agg);
		if (agg->args != NIL)
		{
			Expr	   *arg = ((TargetEntry *) linitial(agg->args))->expr;

			get_typlenbyval(exprType((Node *) arg), &st->agg_len[k], &st->agg_byval[k]);
			if (IsA(arg, Var))
				st->agg_attno[k] = ((Var *) arg)->varattno;
			else
				st->agg_state[k] = ExecInitExpr(arg, ps);
		}
		if (st->agg_kind[k] == AGG_MIN_MAX)
		{
			HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(agg->aggfnoid));

			if (!HeapTupleIsValid(tup))
				elog(ERROR, "cache lookup failed for aggregate %u", agg->aggfnoid);
			fmgr_info(((Form_pg_aggregate) GETSTRUCT(tup))->aggtransfn, &st->agg_cmp[k]);
			ReleaseSysCache(tup);
			st->agg_coll[k] = agg->inputcollid;
		}
		k++;
	}

	/* WHERE: pushed to the reader where possible, all checked per row */
	st->qual = ExecInitQual(st->quals, ps);
	st->filter = ledger_qual_build_list(st->quals, st->rti, NULL, &st->leaves);
	foreach(lc, st->leaves)
		st->leaf_states = lappend(st->leaf_states,
								  ExecInitExpr((Expr *) ((LedgerQual *) lfirst(lc))->exec, ps));

	/* the columns to decode */
	all = list_concat(list_copy(st->quals), list_copy(st->group_exprs));
	all = list_concat(all, list_copy(st->aggrefs));
	pull_varattnos((Node *) all, st->rti, &attrs);
	st->wanted = palloc0(sizeof(bool) * Max(natts, 1));
	k = -1;
	while ((k = bms_next_member(attrs, k)) >= 0)
	{
		int			attno = k + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0)
			whole_row = true;
		else if (attno > 0 && attno <= natts)
			st->wanted[attno - 1] = true;
	}
	if (whole_row)
		memset(st->wanted, true, sizeof(bool) * Max(natts, 1));

	st->tablecxt = AllocSetContextCreate(estate->es_query_cxt, "ledger aggregate groups",
										 ALLOCSET_DEFAULT_SIZES);
	st->cache = MemoryContextAllocZero(st->tablecxt,
									   sizeof(GroupCacheSlot) * GROUP_CACHE_SIZE);
	st->reset_per_row = (st->qual != NULL);
	for (k = 0; k < st->nkeys; k++)
		if (st->key_kind[k] == KEY_EXPR || st->key_kind[k] == KEY_MEMO)
			st->reset_per_row = true;
	for (k = 0; k < st->naggs; k++)
		if (st->agg_state[k] != NULL)
			st->reset_per_row = true;
	if (st->nkeys > 0)
		st->hashtable = BuildTupleHashTableExt(ps, keydesc, st->nkeys, keycols,
											   eqfuncs, hashfns, colls, 1024,
											   sizeof(AggAcc) * Max(st->naggs, 1),
											   estate->es_query_cxt, st->tablecxt,
											   ps->ps_ExprContext->ecxt_per_tuple_memory,
											   false);
}

/* date_trunc of a time value, from the cached range when possible */
static Datum
trunc_key(LedgerAggState *st, int k, Datum v)
{
	int64		t = DatumGetInt64(v);
	Datum		r;

	if (st->trunc_valid[k] && t >= st->trunc_lo[k] && t < st->trunc_hi[k])
		return st->trunc_result[k];
	r = FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k], v);
	st->trunc_valid[k] = false;
	if (st->trunc_step[k] != NULL && !TIMESTAMP_NOT_FINITE(DatumGetInt64(r)))
	{
		bool		tz = st->trunc_fn[k].fn_oid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ;
		Datum		hi;

		/*
		 * date_trunc never decreases: if the value one unit on truncates to
		 * itself and the microsecond before it truncates to r, every value
		 * in [r, hi) truncates to r.
		 */
		hi = tz ? DirectFunctionCall2(timestamptz_pl_interval, r,
									  IntervalPGetDatum(st->trunc_step[k])) :
			DirectFunctionCall2(timestamp_pl_interval, r,
								IntervalPGetDatum(st->trunc_step[k]));
		if (!TIMESTAMP_NOT_FINITE(DatumGetInt64(hi)) &&
			DatumGetInt64(FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k],
										Int64GetDatum(DatumGetInt64(hi) - 1))) == DatumGetInt64(r) &&
			DatumGetInt64(FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k], hi)) == DatumGetInt64(hi))
		{
			st->trunc_lo[k] = DatumGetInt64(r);
			st->trunc_hi[k] = DatumGetInt64(hi);
			st->trunc_result[k] = r;
			st->trunc_valid[k] = true;
		}
	}
	return r;
}

/* an int128 as numeric */
static Datum
int128_numeric(int128 v)
{
	const int64 base = INT64CONST(1000000000000000000);
	int128		hi;
	int64		lo;

	if (v >= PG_INT64_MIN && v <= PG_INT64_MAX)
		return NumericGetDatum(int64_to_numeric((int64) v));
	hi = v / base;
	lo = (int64) (v % base);
	return DirectFunctionCall2(numeric_add,
							   DirectFunctionCall2(numeric_mul,
												   int128_numeric(hi),
												   NumericGetDatum(int64_to_numeric(base))),
							   NumericGetDatum(int64_to_numeric(lo)));
}

/* adds the current row to the accumulators of one group */
static void
accumulate(LedgerAggState *st, AggAcc *acc, ExprContext *econtext)
{
	TupleTableSlot *in = st->inslot;

	for (int a = 0; a < st->naggs; a++)
	{
		AggAcc	   *ac = &acc[a];
		Datum		v = (Datum) 0;
		bool		isnull = false;

		if (st->agg_kind[a] == AGG_COUNT_STAR)
		{
			ac->count++;
			continue;
		}
		if (st->agg_attno[a] > 0)
		{
			v = in->tts_values[st->agg_attno[a] - 1];
			isnull = in->tts_isnull[st->agg_attno[a] - 1];
		}
		else
			v = ExecEvalExpr(st->agg_state[a], econtext, &isnull);
		if (isnull)
			continue;

		switch (st->agg_kind[a])
		{
			case AGG_COUNT:
				ac->count++;
				break;
			case AGG_SUM_INT:
			case AGG_AVG_INT:
				ac->isum += st->agg_len[a] == 2 ? DatumGetInt16(v) : DatumGetInt32(v);
				ac->count++;
				break;
			case AGG_SUM_INT8:
			case AGG_AVG_INT8:
				ac->isum += DatumGetInt64(v);
				ac->count++;
				break;
			case AGG_SUM_FLOAT8:
				{
					double		x = DatumGetFloat8(v);
					double		r = ac->fsum + x;

					if (unlikely(isinf(r)) && !isinf(ac->fsum) && !isinf(x))
						float_overflow_error();
					ac->fsum = r;
					ac->count++;
				}
				break;
			case AGG_SUM_FLOAT4:
				{
					float4		x = DatumGetFloat4(v);
					float4		r = ac->f4sum + x;

					if (unlikely(isinf(r)) && !isinf(ac->f4sum) && !isinf(x))
						float_overflow_error();
					ac->f4sum = r;
					ac->count++;
				}
				break;
			case AGG_SUM_NUMERIC:
				{
					MemoryContext old = MemoryContextSwitchTo(st->tablecxt);
					Datum		prev = ac->value;

					ac->value = ac->has ?
						DirectFunctionCall2(numeric_add, ac->value, v) :
						datumCopy(v, false, -1);
					if (ac->has)
						pfree(DatumGetPointer(prev));
					ac->has = true;
					MemoryContextSwitchTo(old);
				}
				break;
			case AGG_MIN_MAX:
				{
					/*
					 * The aggregate's own transition function (int4smaller,
					 * text_larger ...): which of two equal values it keeps
					 * is visible for numeric scales and collations.
					 */
					Datum		r = ac->has ?
						FunctionCall2Coll(&st->agg_cmp[a], st->agg_coll[a], ac->value, v) : v;

					if (st->agg_byval[a])
						ac->value = r;
					else if (!ac->has || r != ac->value)
					{
						MemoryContext old = MemoryContextSwitchTo(st->tablecxt);

						if (ac->has)
							pfree(DatumGetPointer(ac->value));
						ac->value = datumCopy(r, false, st->agg_len[a]);
						MemoryContextSwitchTo(old);
					}
					ac->has = true;
				}
				break;
			default:
				break;
		}
	}
}

/* the final value of one aggregate */
static Datum
finalize(LedgerAggState *st, int a, AggAcc *ac, bool *isnull)
{
	*isnull = false;
	switch (st->agg_kind[a])
	{
		case AGG_COUNT_STAR:
		case AGG_COUNT:
			return Int64GetDatum(ac->count);
		case AGG_SUM_INT:
			*isnull = ac->count == 0;
			return Int64GetDatum((int64) ac->isum);
		case AGG_SUM_INT8:
			*isnull = ac->count == 0;
			return *isnull ? (Datum) 0 : int128_numeric(ac->isum);
		case AGG_SUM_FLOAT8:
			*isnull = ac->count == 0;
			return Float8GetDatum(ac->fsum);
		case AGG_SUM_FLOAT4:
			*isnull = ac->count == 0;
			return Float4GetDatum(ac->f4sum);
		case AGG_SUM_NUMERIC:
		case AGG_MIN_MAX:
			*isnull = !ac->has;
			return ac->value;
		case AGG_AVG_INT:
		case AGG_AVG_INT8:
			*isnull = ac->count == 0;
			if (*isnull)
				return (Datum) 0;
			return DirectFunctionCall2(numeric_div, int128_numeric(ac->isum),
									   NumericGetDatum(int64_to_numeric(ac->count)));
	}
	return (Datum) 0;
}

/*
 * A hash of a value's bytes; *cacheable is cleared for values whose bytes
 * do not identify them (compressed or external varlenas, cstrings).
 */
static inline uint32
value_bytes_hash(Datum v, int16 len, bool byval, bool *cacheable)
{
	if (byval)
		return hash_bytes_uint32((uint32) v) ^ (uint32) ((uint64) v >> 32);
	if (len == -1)
	{
		struct varlena *p = (struct varlena *) DatumGetPointer(v);

		if (VARATT_IS_EXTENDED(p) && !VARATT_IS_SHORT(p))
		{
			*cacheable = false;
			return 0;
		}
		return hash_bytes((const unsigned char *) VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
	}
	if (len > 0)
		return hash_bytes((const unsigned char *) DatumGetPointer(v), len);
	*cacheable = false;
	return 0;
}

/* true if two values hashed by value_bytes_hash have the same bytes */
static inline bool
value_bytes_equal(Datum a, Datum b, int16 len, bool byval)
{
	if (byval)
		return a == b;
	if (len == -1)
	{
		struct varlena *x = (struct varlena *) DatumGetPointer(a);
		struct varlena *y = (struct varlena *) DatumGetPointer(b);

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return memcmp(DatumGetPointer(a), DatumGetPointer(b), len) == 0;
}

/* a key value's hash for the group cache (NULL included) */
static inline uint32
key_bytes_hash(LedgerAggState *st, int k, Datum v, bool isnull, bool *cacheable)
{
	if (isnull)
		return 0x9e3779b9;
	return value_bytes_hash(v, st->key_len[k], st->key_byval[k], cacheable);
}

/* true if the cached group has exactly the keys in ks */
static inline bool
cache_keys_equal(LedgerAggState *st, GroupCacheSlot *cs, TupleTableSlot *ks)
{
	for (int k = 0; k < st->nkeys; k++)
	{
		if (cs->nulls[k] != ks->tts_isnull[k])
			return false;
		if (!ks->tts_isnull[k] &&
			!value_bytes_equal(cs->keys[k], ks->tts_values[k],
							   st->key_len[k], st->key_byval[k]))
			return false;
	}
	return true;
}

/* puts a group into its cache slot, copying the keys */
static void
cache_fill(LedgerAggState *st, GroupCacheSlot *cs, uint32 h, TupleTableSlot *ks,
		   AggAcc *acc)
{
	MemoryContext old = MemoryContextSwitchTo(st->tablecxt);

	if (cs->keys == NULL)
	{
		cs->keys = palloc0(sizeof(Datum) * st->nkeys);
		cs->nulls = palloc0(sizeof(bool) * st->nkeys);
	}
	for (int k = 0; k < st->nkeys; k++)
	{
		if (cs->valid && !st->key_byval[k] && !cs->nulls[k])
			pfree(DatumGetPointer(cs->keys[k]));
		cs->nulls[k] = ks->tts_isnull[k];
		cs->keys[k] = ks->tts_isnull[k] ? (Datum) 0 :
			datumCopy(ks->tts_values[k], st->key_byval[k], st->key_len[k]);
	}
	MemoryContextSwitchTo(old);
	cs->hash = h;
	cs->acc = acc;
	cs->valid = true;
}

/* a KEY_MEMO key: the remembered result for the column's value, or evaluated */
static Datum
memo_key(LedgerAggState *st, int k, ExprContext *econtext, bool *isnull)
{
	TupleTableSlot *in = st->inslot;
	int			a = st->key_attno[k] - 1;
	Datum		x = in->tts_values[a];
	bool		cacheable = true;
	uint32		h;
	MemoSlot   *m;
	Datum		r;
	MemoryContext old;
	int16		rlen = st->key_len[k];
	bool		rbyval = st->key_byval[k];

	if (in->tts_isnull[a])
		return ExecEvalExpr(st->key_state[k], econtext, isnull);
	h = value_bytes_hash(x, st->in_len[k], st->in_byval[k], &cacheable);
	if (!cacheable)
		return ExecEvalExpr(st->key_state[k], econtext, isnull);
	m = &st->memo[k][h % MEMO_SIZE];
	if (m->valid && m->hash == h &&
		value_bytes_equal(m->input, x, st->in_len[k], st->in_byval[k]))
	{
		*isnull = m->result_null;
		return m->result;
	}
	r = ExecEvalExpr(st->key_state[k], econtext, isnull);
	old = MemoryContextSwitchTo(st->tablecxt);
	if (m->valid)
	{
		if (!st->in_byval[k])
			pfree(DatumGetPointer(m->input));
		if (!rbyval && !m->result_null)
			pfree(DatumGetPointer(m->result));
	}
	m->input = datumCopy(x, st->in_byval[k], st->in_len[k]);
	m->result_null = *isnull;
	m->result = *isnull ? (Datum) 0 : datumCopy(r, rbyval, rlen);
	m->hash = h;
	m->valid = true;
	MemoryContextSwitchTo(old);
	return r;
}

/* reads every row and aggregates it */
static void
aggregate_all(LedgerAggState *st)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	EState	   *estate = st->css.ss.ps.state;
	LedgerReader *reader;
	MemoryContext old;
	TupleTableSlot *in = st->inslot;
	TupleTableSlot *ks = st->keyslot;

	old = MemoryContextSwitchTo(estate->es_query_cxt);
	ledger_qual_compute_values(st->leaves, st->leaf_states, econtext,
							   estate->es_query_cxt);
	reader = LedgerReaderBegin(st->rel, estate->es_snapshot, st->wanted, true);
	LedgerReaderSetFilter(reader, st->filter, &st->stats);
	LedgerReaderSetNoTids(reader);
	MemoryContextSwitchTo(old);

	if (st->nkeys == 0)
		st->plain = MemoryContextAllocZero(st->tablecxt, sizeof(AggAcc) * Max(st->naggs, 1));

	econtext->ecxt_scantuple = in;
	for (;;)
	{
		AggAcc	   *acc;

		CHECK_FOR_INTERRUPTS();
		if (st->reset_per_row)
			ResetExprContext(econtext);
		if (!LedgerReaderNext(reader, in))
			break;
		if (st->qual && !ExecQual(st->qual, econtext))
			continue;
		st->rows_read++;

		if (st->nkeys == 0)
			acc = st->plain;
		else
		{
			bool		isnew;
			bool		cacheable = true;
			uint32		h = 0x3c6ef372;
			GroupCacheSlot *cs;

			ExecClearTuple(ks);
			for (int k = 0; k < st->nkeys; k++)
			{
				Datum		v;
				bool		isnull;

				switch (st->key_kind[k])
				{
					case KEY_VAR:
						v = in->tts_values[st->key_attno[k] - 1];
						isnull = in->tts_isnull[st->key_attno[k] - 1];
						break;
					case KEY_TRUNC:
						isnull = in->tts_isnull[st->key_attno[k] - 1];
						v = isnull ? (Datum) 0 :
							trunc_key(st, k, in->tts_values[st->key_attno[k] - 1]);
						break;
					case KEY_MEMO:
						v = memo_key(st, k, econtext, &isnull);
						break;
					default:
						v = ExecEvalExpr(st->key_state[k], econtext, &isnull);
						break;
				}
				ks->tts_values[k] = v;
				ks->tts_isnull[k] = isnull;
				h = hash_combine(h, key_bytes_hash(st, k, v, isnull, &cacheable));
			}
			cs = &st->cache[h % GROUP_CACHE_SIZE];
			if (!cacheable || !cs->valid || cs->hash != h ||
				!cache_keys_equal(st, cs, ks))
			{
				TupleHashEntry entry;

				ExecStoreVirtualTuple(ks);
				entry = LookupTupleHashEntry(st->hashtable, ks, &isnew, NULL);
				if (isnew)
				{
					entry->additional = MemoryContextAllocZero(st->tablecxt,
															   sizeof(AggAcc) * Max(st->naggs, 1));
					st->groups++;
				}
				acc = (AggAcc *) entry->additional;
				if (cacheable)
					cache_fill(st, cs, h, ks, acc);
			}
			else
				acc = cs->acc;
		}
		accumulate(st, acc, econtext);
	}
	LedgerReaderEnd(reader);
	ResetExprContext(econtext);
	st->done = true;
	if (st->nkeys > 0)
		InitTupleHashIterator(st->hashtable, &st->iter);
}

/* fills the scan slot from a group */
static TupleTableSlot *
emit(LedgerAggState *st, MinimalTuple keys, AggAcc *acc)
{
	TupleTableSlot *out = st->css.ss.ss_ScanTupleSlot;
	MemoryContext old = MemoryContextSwitchTo(st->css.ss.ps.ps_ExprContext->ecxt_per_tuple_memory);

	ExecClearTuple(out);
	if (keys != NULL)
	{
		ExecStoreMinimalTuple(keys, st->outkeyslot, false);
		slot_getallattrs(st->outkeyslot);
		for (int k = 0; k < st->nkeys; k++)
		{
			out->tts_values[k] = st->outkeyslot->tts_values[k];
			out->tts_isnull[k] = st->outkeyslot->tts_isnull[k];
		}
	}
	for (int a = 0; a < st->naggs; a++)
		out->tts_values[st->nkeys + a] = finalize(st, a, &acc[a],
												  &out->tts_isnull[st->nkeys + a]);
	MemoryContextSwitchTo(old);
	return ExecStoreVirtualTuple(out);
}

/* the next group, or an empty slot */
static TupleTableSlot *
agg_next(ScanState *ss)
{
	LedgerAggState *st = (LedgerAggState *) ss;

	if (!st->done)
		aggregate_all(st);
	if (st->nkeys == 0)
	{
		if (st->plain_emitted)
			return ExecClearTuple(ss->ss_ScanTupleSlot);
		st->plain_emitted = true;
		return emit(st, NULL, st->plain);
	}
	for (;;)
	{
		TupleHashEntry entry = ScanTupleHashTable(st->hashtable, &st->iter);

		if (entry == NULL)
			return ExecClearTuple(ss->ss_ScanTupleSlot);
		return emit(st, entry->firstTuple, (AggAcc *) entry->additional);
	}
}

static bool
agg_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
exec_ledger_agg(CustomScanState *node)
{
	return ExecScan(&node->ss, agg_next, agg_recheck);
}

static void
end_ledger_agg(CustomScanState *node)
{
	LedgerAggState *st = (LedgerAggState *) node;

	ExecDropSingleTupleTableSlot(st->inslot);
	ExecDropSingleTupleTableSlot(st->keyslot);
	ExecDropSingleTupleTableSlot(st->outkeyslot);
	table_close(st->rel, NoLock);
}

/* the groups do not change within a statement: emit them again */
static void
rescan_ledger_agg(CustomScanState *node)
{
	LedgerAggState *st = (LedgerAggState *) node;

	st->plain_emitted = false;
	if (st->done && st->nkeys > 0)
		ResetTupleHashIterator(st->hashtable, &st->iter);
}

static void
explain_ledger_agg(CustomScanState *node, List *ancestors, ExplainState *es)
{
	LedgerAggState *st = (LedgerAggState *) node;

	ExplainPropertyText("Ledger", RelationGetRelationName(st->rel), es);
	if (st->quals != NIL)
		ExplainPropertyInteger("Conditions", NULL, list_length(st->quals), es);
	if (es->analyze)
	{
		ExplainPropertyInteger("Rows Aggregated", NULL, st->rows_read, es);
		ExplainPropertyInteger("Groups", NULL, st->nkeys > 0 ? st->groups : 1, es);
		ExplainPropertyInteger("Segments", NULL, st->stats.segments, es);
		ExplainPropertyInteger("Segments Pruned", NULL,
							   st->stats.pruned_range + st->stats.pruned_dict, es);
	}
}

