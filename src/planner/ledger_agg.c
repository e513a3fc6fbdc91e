/*-------------------------------------------------------------------------
 *
 * ledger_agg.c
 *	  LedgerAgg: aggregates computed inside the scan of a ledger.
 *
 * NOTES
 *	  For "SELECT keys, aggregates FROM one_ledger WHERE ... GROUP BY keys"
 *	  the planner gets an extra path for the grouping relation: a custom
 *	  scan that reads the ledger with LedgerReader (so projection, pushed
 *	  filters, buffered rows, merge on read of rollup ledgers and the key
 *	  filter of keyed ledgers all apply) and aggregates each row as it
 *	  comes: group keys are hashed with the GROUP BY clause's own equality
 *	  and hash functions (execGrouping's TupleHashTable), sums of integers
 *	  add up in 128 bits, and no executor node, slot or transition function
 *	  call stands between a decoded value and its accumulator.  Results are
 *	  those of PostgreSQL's own aggregates: the same result types, the same
 *	  rounding (float sums add in scan order), the same overflow errors.
 *
 *	  Supported: count(*), count(x), sum of smallint/integer/bigint/real/
 *	  double precision/numeric, avg of smallint/integer/bigint, min and max
 *	  of any type with a sort operator, each with an optional FILTER
 *	  (WHERE ...) on the row; group keys that are hashable
 *	  expressions of the ledger's columns (a column, date_trunc(unit, time
 *	  column) with a fast path, anything else evaluated per row); HAVING
 *	  (the plan's qual, over the scan tuple).  Anything else (DISTINCT or
 *	  ordered aggregates, grouping sets, joins, sub-plans) is left to
 *	  PostgreSQL.  The output feeds the plan's projection through
 *	  custom_scan_tlist.
 *
 *	  This file plans; ledger_agg_exec.c executes.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_agg.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "ledger/ledger.h"
#include "ledger/tableam.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "planner_internal.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

static Plan *plan_ledger_agg(PlannerInfo *root, RelOptInfo *rel,
							 CustomPath *best_path, List *tlist,
							 List *clauses, List *custom_plans);

static const CustomPathMethods agg_path_methods = {
	.CustomName = "LedgerAgg",
	.PlanCustomPath = plan_ledger_agg,
};

static create_upper_paths_hook_type prev_upper_paths_hook = NULL;

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/* the kind of a supported aggregate, or -1 */
int
ledger_agg_kind(Aggref *agg)
{
	char	   *name;
	Oid			argtype;

	if (agg->aggdistinct != NIL ||
		agg->aggorder != NIL || agg->aggkind != AGGKIND_NORMAL ||
		agg->agglevelsup != 0 || agg->aggvariadic ||
		get_func_namespace(agg->aggfnoid) != PG_CATALOG_NAMESPACE)
		return -1;
	name = get_func_name(agg->aggfnoid);
	if (name == NULL)
		return -1;
	if (strcmp(name, "count") == 0)
		return agg->aggstar ? AGG_COUNT_STAR :
			list_length(agg->args) == 1 ? AGG_COUNT : -1;
	if (list_length(agg->args) != 1 || agg->aggstar)
		return -1;
	argtype = exprType((Node *) ((TargetEntry *) linitial(agg->args))->expr);
	if (strcmp(name, "sum") == 0)
	{
		switch (argtype)
		{
			case INT2OID:
			case INT4OID:
				return AGG_SUM_INT;
			case INT8OID:
				return AGG_SUM_INT8;
			case FLOAT4OID:
				return AGG_SUM_FLOAT4;
			case FLOAT8OID:
				return AGG_SUM_FLOAT8;
			case NUMERICOID:
				return AGG_SUM_NUMERIC;
			default:
				return -1;
		}
	}
	if (strcmp(name, "avg") == 0)
	{
		switch (argtype)
		{
			case INT2OID:
			case INT4OID:
				return AGG_AVG_INT;
			case INT8OID:
				return AGG_AVG_INT8;
			default:
				return -1;
		}
	}
	if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0)
	{
		HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(agg->aggfnoid));
		Oid			sortop = InvalidOid;

		if (HeapTupleIsValid(tup))
		{
			Form_pg_aggregate form = (Form_pg_aggregate) GETSTRUCT(tup);

			/* a strict "keep one of the two" function of the input type */
			if (!OidIsValid(form->aggfinalfn) && form->aggtranstype == argtype &&
				func_strict(form->aggtransfn) &&
				heap_attisnull(tup, Anum_pg_aggregate_agginitval, NULL))
				sortop = form->aggsortop;
			ReleaseSysCache(tup);
		}
		return OidIsValid(sortop) ? AGG_MIN_MAX : -1;
	}
	return -1;
}

/* context of the target list check */
typedef struct CheckContext
{
	List	   *group_exprs;
	List	   *aggrefs;
	bool		ok;
} CheckContext;

/*
 * Walks the grouping target: every Var must sit inside a group key or an
 * aggregate; collects the aggregates.
 */
static bool
check_target_walker(Node *node, CheckContext *cxt)
{
	if (node == NULL || !cxt->ok)
		return false;
	if (list_member(cxt->group_exprs, node))
		return false;
	if (IsA(node, Aggref))
	{
		Aggref	   *agg = (Aggref *) node;

		if (ledger_agg_kind(agg) < 0 || contain_volatile_functions((Node *) agg->args))
			cxt->ok = false;
		else if (!list_member(cxt->aggrefs, agg))
			cxt->aggrefs = lappend(cxt->aggrefs, agg);
		return false;
	}
	if (IsA(node, Var) || IsA(node, PlaceHolderVar) || IsA(node, GroupingFunc) ||
		IsA(node, WindowFunc) || IsA(node, SubPlan) || IsA(node, SubLink))
	{
		cxt->ok = false;
		return false;
	}
	return expression_tree_walker(node, check_target_walker, (void *) cxt);
}

/* true if node holds a PARAM_EXEC parameter */
static bool
contains_exec_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXEC;
	return expression_tree_walker(node, contains_exec_param, context);
}

/* true if an expression can be evaluated on the ledger's rows alone */
static bool
row_expr_ok(Node *node, Index rti)
{
	Relids		relids = pull_varnos(NULL, node);

	return !contain_volatile_functions(node) && !contain_subplans(node) &&
		!contains_exec_param(node, NULL) &&
		!contain_agg_clause(node) && !contain_window_function(node) &&
		(bms_is_empty(relids) || bms_equal(relids, bms_make_singleton(rti)));
}

/* adds a LedgerAgg path to the grouping relation (create_upper_paths_hook) */
static void
ledger_upper_paths(PlannerInfo *root, UpperRelationKind stage,
				   RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	PathTarget *target;
	CheckContext cxt;
	List	   *quals = NIL;
	ListCell   *lc;
	CustomPath *cpath;
	double		groups;
	Cost		input_cost;

	if (prev_upper_paths_hook)
		prev_upper_paths_hook(root, stage, input_rel, output_rel, extra);

	if (stage != UPPERREL_GROUP_AGG || !ledger_enable_custom_scan ||
		!ledger_enable_aggregate_pushdown)
		return;
	if (input_rel->reloptkind != RELOPT_BASEREL || input_rel->lateral_relids != NULL ||
		parse->groupingSets != NIL || parse->hasTargetSRFs ||
		(!parse->hasAggs && parse->groupClause == NIL))
		return;
	rte = planner_rt_fetch(input_rel->relid, root);
	if (rte->rtekind != RTE_RELATION || rte->inh || rte->tablesample != NULL ||
		!LedgerIsLedgerRelid(rte->relid))
		return;

	/* WHERE: evaluable on the rows alone */
	foreach(lc, input_rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (!row_expr_ok((Node *) ri->clause, input_rel->relid))
			return;
		quals = lappend(quals, ri->clause);
	}

	/* GROUP BY keys: hashable expressions of the rows */
	cxt.group_exprs = NIL;
	cxt.aggrefs = NIL;
	cxt.ok = true;
	foreach(lc, parse->groupClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		Node	   *expr = (Node *) get_sortgroupclause_expr(sgc, root->processed_tlist);

		if (!sgc->hashable || !OidIsValid(sgc->eqop) ||
			!row_expr_ok(expr, input_rel->relid))
			return;
		cxt.group_exprs = lappend(cxt.group_exprs, expr);
	}

	/* the output: keys, supported aggregates, expressions of them */
	target = output_rel->reltarget;
	check_target_walker((Node *) target->exprs, &cxt);
	/* HAVING: over keys and aggregates too, checked per group by ExecScan */
	check_target_walker(parse->havingQual, &cxt);
	if (!cxt.ok)
		return;
	foreach(lc, cxt.aggrefs)
	{
		Aggref	   *agg = lfirst(lc);

		if (agg->args != NIL &&
			!row_expr_ok((Node *) ((TargetEntry *) linitial(agg->args))->expr,
						 input_rel->relid))
			return;
		if (agg->aggfilter != NULL &&
			!row_expr_ok((Node *) agg->aggfilter, input_rel->relid))
			return;
	}

	groups = cxt.group_exprs == NIL ? 1 :
		estimate_num_groups(root, cxt.group_exprs, input_rel->rows, NULL, NULL);
	input_cost = input_rel->cheapest_total_path ?
		input_rel->cheapest_total_path->total_cost : 0;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = output_rel;
	cpath->path.pathtarget = target;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	cpath->path.parallel_safe = false;
	cpath->path.parallel_workers = 0;
	cpath->path.rows = groups;
	cpath->path.pathkeys = NIL;

	/*
	 * The scan without the executor's per-row work: a quarter of the
	 * cheapest way to read the rows, plus a little per group.
	 */
	cpath->path.startup_cost = input_cost * 0.25 +
		groups * cpu_operator_cost * (1 + list_length(cxt.aggrefs));
	cpath->path.total_cost = cpath->path.startup_cost + groups * cpu_tuple_cost;
	cpath->flags = 0;
	cpath->custom_paths = NIL;
	cpath->custom_private = list_make5(makeInteger((int) input_rel->relid),
									   quals, cxt.group_exprs, cxt.aggrefs,
									   (List *) parse->havingQual);
	cpath->methods = &agg_path_methods;
	add_path(output_rel, &cpath->path);
}

/* turns the path into a CustomScan over the grouping target */
static Plan *
plan_ledger_agg(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	Index		rti = (Index) intVal(linitial(best_path->custom_private));
	List	   *quals = copyObject(lsecond(best_path->custom_private));
	List	   *group_exprs = copyObject(lthird(best_path->custom_private));
	List	   *aggrefs = copyObject(lfourth(best_path->custom_private));
	List	   *scan_tlist = NIL;
	ListCell   *lc;
	int			resno = 1;

	/* the scan tuple: group keys, then aggregates */
	foreach(lc, group_exprs)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(lfirst(lc)), resno++, NULL, false));
	foreach(lc, aggrefs)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(lfirst(lc)), resno++, NULL, false));

	/* expressions kept aside are executed as they are */
	fix_opfuncids((Node *) quals);
	fix_opfuncids((Node *) group_exprs);
	fix_opfuncids((Node *) aggrefs);

	cscan->scan.plan.targetlist = tlist;
	/* HAVING, turned into references to the scan tuple by setrefs */
	cscan->scan.plan.qual = copyObject((List *) list_nth(best_path->custom_private, 4));
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_relids = bms_make_singleton(rti);
	cscan->custom_exprs = NIL;
	cscan->custom_plans = NIL;
	cscan->custom_private = list_make5(makeInteger((int) planner_rt_fetch(rti, root)->relid),
									   makeInteger((int) rti),
									   quals, group_exprs, aggrefs);
	cscan->methods = &ledger_agg_scan_methods;
	return &cscan->scan.plan;
}

/* installs the hook and registers the plan node */
void
ledger_agg_register(void)
{
	RegisterCustomScanMethods(&ledger_agg_scan_methods);
	prev_upper_paths_hook = create_upper_paths_hook;
	create_upper_paths_hook = ledger_upper_paths;
}
