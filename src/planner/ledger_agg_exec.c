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
#include "nodes/makefuncs.h"
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
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "agg_internal.h"


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
	st->memo_lookups = palloc0(sizeof(int64) * Max(st->nkeys, 1));
	st->memo_hits = palloc0(sizeof(int64) * Max(st->nkeys, 1));
	st->code_dict = palloc0(sizeof(uint64) * Max(st->nkeys, 1));
	st->code_result = palloc0(sizeof(Datum *) * Max(st->nkeys, 1));
	st->code_state = palloc0(sizeof(uint8 *) * Max(st->nkeys, 1));
	st->code_cxt = palloc0(sizeof(MemoryContext) * Max(st->nkeys, 1));
	st->code_hash = palloc0(sizeof(uint32 *) * Max(st->nkeys, 1));
	st->code_intern = palloc0(sizeof(struct ResultIntern *) * Max(st->nkeys, 1));
	st->memo_hash = palloc0(sizeof(uint32) * Max(st->nkeys, 1));
	st->memo_null_state = palloc0(sizeof(uint8) * Max(st->nkeys, 1));
	st->memo_null_result = palloc0(sizeof(Datum) * Max(st->nkeys, 1));
	st->memo_hash_valid = palloc0(sizeof(bool) * Max(st->nkeys, 1));
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
	st->agg_filter = palloc0(sizeof(ExprState *) * Max(st->naggs, 1));
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
		if (agg->aggfilter != NULL)
			st->agg_filter[k] = ExecInitQual(list_make1(agg->aggfilter), ps);
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
	st->filter = ledger_qual_build_list(st->quals, st->rti, &st->pushed, &st->leaves,
										&st->filter_complete);
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
	for (k = 0; k < st->nkeys; k++)
		if (st->key_kind[k] == KEY_MEMO)
			st->code_cxt[k] = AllocSetContextCreate(st->tablecxt,
													"ledger aggregate key results",
													ALLOCSET_SMALL_SIZES);
	st->reset_per_row = (st->qual != NULL);
	for (k = 0; k < st->nkeys; k++)
		if (st->key_kind[k] == KEY_EXPR || st->key_kind[k] == KEY_MEMO)
			st->reset_per_row = st->expr_keys = true;
	for (k = 0; k < st->naggs; k++)
		if (st->agg_state[k] != NULL || st->agg_filter[k] != NULL)
			st->reset_per_row = true;
	if (st->nkeys > 0)
		st->hashtable = BuildTupleHashTableExt(ps, keydesc, st->nkeys, keycols,
											   eqfuncs, hashfns, colls, 1024,
											   sizeof(AggAcc) * Max(st->naggs, 1),
											   estate->es_query_cxt, st->tablecxt,
											   ps->ps_ExprContext->ecxt_per_tuple_memory,
											   false);
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
	bool		batches;

	old = MemoryContextSwitchTo(estate->es_query_cxt);
	ledger_qual_compute_values(st->leaves, st->leaf_states, econtext,
							   estate->es_query_cxt);
	reader = LedgerReaderBegin(st->rel, estate->es_snapshot, st->wanted, true);
	LedgerReaderSetFilter(reader, st->filter, &st->stats);
	LedgerReaderSetNoTids(reader);
	for (int k = 0; k < st->nkeys; k++)
		if (st->key_kind[k] == KEY_MEMO)
		{
			/* results per dictionary entry of the segment */
			LedgerReaderWantCodes(reader, st->key_attno[k]);
			st->code_result[k] = NULL;
		}
	st->reader = reader;
	batches = LedgerReaderBatchable(reader);
	if (batches && st->batch_cols == NULL)
	{
		st->batch_cols = palloc(sizeof(int) * Max(in->tts_tupleDescriptor->natts, 1));
		st->prev_keys = palloc(sizeof(Datum) * Max(st->nkeys, 1));
		st->prev_nulls = palloc(sizeof(bool) * Max(st->nkeys, 1));
	}
	MemoryContextSwitchTo(old);

	if (st->nkeys == 0)
		st->plain = MemoryContextAllocZero(st->tablecxt, sizeof(AggAcc) * Max(st->naggs, 1));

	econtext->ecxt_scantuple = in;
	if (batches)
	{
		LedgerBatch batch;

		memset(&batch, 0, sizeof(batch));
		while (LedgerReaderNextBatch(reader, &batch))
			aggregate_batch(st, &batch, econtext);
	}
	/* rows one by one: all of them, or the buffered ones after batches */
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (st->reset_per_row)
			ResetExprContext(econtext);
		if (!LedgerReaderNext(reader, in))
			break;
		aggregate_row(st, st->qual, econtext);
	}
	LedgerReaderEnd(reader);
	st->reader = NULL;
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
	TupleDesc	tupdesc = RelationGetDescr(st->rel);

	ExplainPropertyText("Ledger", RelationGetRelationName(st->rel), es);
	if (st->quals != NIL)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt,
													   node->ss.ps.plan, ancestors);

		/* every condition is checked per row; the pushed ones skip data */
		ExplainPropertyText("Row Filter",
							deparse_expression((Node *) make_ands_explicit(st->quals),
											   context, es->verbose, false), es);
		if (st->pushed != NIL)
			ExplainPropertyText("Ledger Filter",
								deparse_expression((Node *) make_ands_explicit(st->pushed),
												   context, es->verbose, false), es);
	}
	ledger_explain_columns(tupdesc, st->wanted, es);
	if (es->analyze)
	{
		ExplainPropertyInteger("Rows Aggregated", NULL, st->rows_read, es);
		ExplainPropertyInteger("Groups", NULL, st->nkeys > 0 ? st->groups : 1, es);
		if (st->expr_keys)
			ExplainPropertyInteger("Key Evaluations", NULL, st->key_evals, es);
		ledger_explain_scan_stats(&st->stats, es);
	}
}

