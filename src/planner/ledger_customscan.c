/*-------------------------------------------------------------------------
 *
 * ledger_customscan.c
 *	  LedgerScan: a custom scan of ledgers that decodes only the columns a
 *	  query references and pushes WHERE conditions down to zone maps and
 *	  dictionary bitmaps; parallel-aware.
 *
 * NOTES
 *	  The path competes on cost with the plain sequential scan; it is
 *	  cheaper in proportion to the columns it can skip and the rows the
 *	  pushed conditions are estimated to keep.  Every restriction clause
 *	  stays in the plan's qual and is re-checked per row, so pushdown can
 *	  only skip work, never change a result.  Pushed clauses travel in
 *	  custom_exprs (so setrefs fixes their Vars and Params) and are analyzed
 *	  again at executor start; their comparison values (constants,
 *	  parameters, stable expressions) are computed when the scan starts and
 *	  on every rescan.
 *
 *	  Parallel plans: processes claim whole segments of a raw ledger from a
 *	  shared counter; for a rollup ledger they claim clusters of segments
 *	  that overlap in time, so every key is merged in one process.  No
 *	  parallel plan is offered while the transaction has unwritten rows.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_customscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/sysattr.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "ledger/rollup.h"
#include "ledger/scan.h"
#include "ledger/tableam.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "planner_internal.h"
#include "port/atomics.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

/* executor state of a LedgerScan */
typedef struct LedgerScanState
{
	CustomScanState css;
	List	   *pushed;			/* pushed clauses (plan copy) */
	LedgerQual *filter;			/* their pushable parts, ANDed */
	List	   *leaves;			/* leaves whose values come from expressions */
	List	   *leaf_states;	/* ExprState of each leaf's value */
	bool	   *wanted;			/* columns to decode */
	int			nwanted;
	LedgerReader *reader;
	LedgerScanStats stats;
	pg_atomic_uint64 *parallel_next;	/* shared segment counter */
} LedgerScanState;

static Plan *plan_ledger_scan(PlannerInfo *root, RelOptInfo *rel,
							  CustomPath *best_path, List *tlist,
							  List *clauses, List *custom_plans);
static Node *create_ledger_scan_state(CustomScan *cscan);
static void begin_ledger_scan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_ledger_scan(CustomScanState *node);
static void end_ledger_scan(CustomScanState *node);
static void rescan_ledger_scan(CustomScanState *node);
static Size estimate_dsm_ledger_scan(CustomScanState *node, ParallelContext *pcxt);
static void initialize_dsm_ledger_scan(CustomScanState *node,
									   ParallelContext *pcxt, void *coordinate);
static void reinitialize_dsm_ledger_scan(CustomScanState *node,
										 ParallelContext *pcxt, void *coordinate);
static void initialize_worker_ledger_scan(CustomScanState *node,
										  shm_toc *toc, void *coordinate);
static void explain_ledger_scan(CustomScanState *node, List *ancestors,
								ExplainState *es);

static const CustomPathMethods ledger_path_methods = {
	.CustomName = "LedgerScan",
	.PlanCustomPath = plan_ledger_scan,
};

static const CustomScanMethods ledger_scan_methods = {
	.CustomName = "LedgerScan",
	.CreateCustomScanState = create_ledger_scan_state,
};

static const CustomExecMethods ledger_exec_methods = {
	.CustomName = "LedgerScan",
	.BeginCustomScan = begin_ledger_scan,
	.ExecCustomScan = exec_ledger_scan,
	.EndCustomScan = end_ledger_scan,
	.ReScanCustomScan = rescan_ledger_scan,
	.EstimateDSMCustomScan = estimate_dsm_ledger_scan,
	.InitializeDSMCustomScan = initialize_dsm_ledger_scan,
	.ReInitializeDSMCustomScan = reinitialize_dsm_ledger_scan,
	.InitializeWorkerCustomScan = initialize_worker_ledger_scan,
	.ExplainCustomScan = explain_ledger_scan,
};

/* registers the scan methods by name (parallel workers look them up) */
void
ledger_customscan_register(void)
{
	RegisterCustomScanMethods(&ledger_scan_methods);
}

/* the columns referenced by exprs of relation varno; false if all are */
static bool
referenced_columns(List *exprs, Index varno, int natts, bool *wanted)
{
	Bitmapset  *attrs = NULL;
	int			k = -1;

	pull_varattnos((Node *) exprs, varno, &attrs);
	if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs))
		return false;			/* a whole-row reference */
	memset(wanted, 0, sizeof(bool) * Max(natts, 1));
	while ((k = bms_next_member(attrs, k)) >= 0)
	{
		int			attno = k + FirstLowInvalidHeapAttributeNumber;

		if (attno > 0 && attno <= natts)
			wanted[attno - 1] = true;
	}
	return true;
}

/* adds LedgerScan paths for a ledger relation (set_rel_pathlist_hook) */
void
ledger_add_scan_paths(PlannerInfo *root, RelOptInfo *rel, Index rti,
					  RangeTblEntry *rte)
{
	Path	   *seq = NULL;
	ListCell   *lc;
	List	   *pushed = NIL;
	List	   *exprs;
	CustomPath *cpath;
	Relation	relation;
	int			natts,
				nwanted = 0;
	bool	   *wanted;
	double		sel,
				frac;
	bool		rollup;

	if (!ledger_enable_custom_scan || rte->rtekind != RTE_RELATION ||
		rte->tablesample != NULL || !LedgerIsLedgerRelid(rte->relid))
		return;
	foreach(lc, rel->pathlist)
	{
		Path	   *p = lfirst(lc);

		if (p->pathtype == T_SeqScan && p->param_info == NULL)
			seq = p;
	}
	if (seq == NULL)
		return;

	relation = relation_open(rte->relid, NoLock);
	natts = RelationGetDescr(relation)->natts;
	rollup = LedgerRollupGet(relation) != NULL;		/* cached per backend */
	relation_close(relation, NoLock);

	(void) ledger_qual_build_list(rel->baserestrictinfo, rel->relid, &pushed, NULL, NULL);
	sel = pushed ? clauselist_selectivity(root, pushed, rel->relid, JOIN_INNER, NULL) : 1.0;

	wanted = palloc(sizeof(bool) * Max(natts, 1));
	exprs = list_copy(rel->reltarget->exprs);
	foreach(lc, rel->baserestrictinfo)
		exprs = lappend(exprs, ((RestrictInfo *) lfirst(lc))->clause);
	if (!rollup && referenced_columns(exprs, rel->relid, natts, wanted))
	{
		for (int i = 0; i < natts; i++)
			nwanted += wanted[i];
	}
	else
		nwanted = natts;

	/* cheaper in proportion to what can be skipped */
	frac = (double) Max(nwanted, 1) / Max(natts, 1);
	frac *= Max(sel, 0.1);
	frac = Min(Max(frac, 0.01), 0.95);

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = rel;
	cpath->path.pathtarget = rel->reltarget;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	cpath->path.parallel_safe = rel->consider_parallel;
	cpath->path.parallel_workers = 0;
	cpath->path.rows = rel->rows;
	cpath->path.pathkeys = NIL;
	cpath->path.startup_cost = seq->startup_cost;
	cpath->path.total_cost = seq->startup_cost +
		(seq->total_cost - seq->startup_cost) * frac;
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->methods = &ledger_path_methods;

	/*
	 * A parallel-aware version, for ledgers without unwritten rows and for
	 * scans that are not selective: a selective scan reads little, and
	 * workers would start without the leader's segment cache.  Built
	 * before add_path, which may free a path it rejects.
	 */
	if (rel->consider_parallel && rel->lateral_relids == NULL &&
		max_parallel_workers_per_gather > 0 && !LedgerWriteHasRows(rte->relid) &&
		sel >= 0.02)
	{
		int			workers = compute_parallel_worker(rel, rel->pages, -1,
													  max_parallel_workers_per_gather);

		if (workers > 0)
		{
			CustomPath *ppath = makeNode(CustomPath);
			double		divisor = workers + (parallel_leader_participation ? 1 : 0);

			memcpy(ppath, cpath, sizeof(CustomPath));
			ppath->path.parallel_aware = true;
			ppath->path.parallel_safe = true;
			ppath->path.parallel_workers = workers;
			ppath->path.rows = rel->rows / divisor;
			ppath->path.total_cost = cpath->path.startup_cost +
				(cpath->path.total_cost - cpath->path.startup_cost) / divisor;
			add_partial_path(rel, &ppath->path);
		}
	}
	add_path(rel, &cpath->path);
}

/* turns the chosen path into a CustomScan plan */
static Plan *
plan_ledger_scan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				 List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *actual = extract_actual_clauses(clauses, false);
	List	   *pushed = NIL;

	(void) ledger_qual_build_list(actual, rel->relid, &pushed, NULL, NULL);

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = actual;		/* everything is re-checked */
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_exprs = copyObject(pushed);
	cscan->custom_private = NIL;
	cscan->custom_plans = NIL;
	cscan->methods = &ledger_scan_methods;
	return &cscan->scan.plan;
}

/* allocates the executor state */
static Node *
create_ledger_scan_state(CustomScan *cscan)
{
	LedgerScanState *state = palloc0(sizeof(LedgerScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &ledger_exec_methods;
	return (Node *) state;
}

/* builds the filter and the column set */
static void
begin_ledger_scan(CustomScanState *node, EState *estate, int eflags)
{
	LedgerScanState *state = (LedgerScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	int			natts = RelationGetDescr(rel)->natts;
	ListCell   *lc;
	List	   *exprs;

	state->pushed = cscan->custom_exprs;
	state->filter = ledger_qual_build_list(state->pushed, cscan->scan.scanrelid,
										   NULL, &state->leaves, NULL);
	foreach(lc, state->leaves)
	{
		LedgerQual *q = lfirst(lc);

		state->leaf_states = lappend(state->leaf_states,
									 ExecInitExpr((Expr *) q->exec, &node->ss.ps));
	}

	state->wanted = palloc(sizeof(bool) * Max(natts, 1));
	exprs = list_concat(list_copy(cscan->scan.plan.targetlist),
						cscan->scan.plan.qual);
	/* a rollup ledger's merge reads every dimension and metric */
	if (LedgerRollupGet(rel) != NULL ||
		!referenced_columns(exprs, cscan->scan.scanrelid, natts, state->wanted))
		memset(state->wanted, true, sizeof(bool) * Max(natts, 1));
	for (int i = 0; i < natts; i++)
		state->nwanted += state->wanted[i];
}

/* computes the comparison values of the filter's leaves */
static void
compute_values(LedgerScanState *state)
{
	ledger_qual_compute_values(state->leaves, state->leaf_states,
							   state->css.ss.ps.ps_ExprContext,
							   state->css.ss.ps.state->es_query_cxt);
}

/* the next row from the reader, or an empty slot at the end */
static TupleTableSlot *
ledger_scan_next(ScanState *ss)
{
	LedgerScanState *state = (LedgerScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;

	if (state->reader == NULL)
	{
		Relation	rel = ss->ss_currentRelation;
		MemoryContext old = MemoryContextSwitchTo(ss->ps.state->es_query_cxt);

		compute_values(state);
		state->reader = LedgerReaderBegin(rel, ss->ps.state->es_snapshot,
										  state->wanted, true);
		if (state->parallel_next != NULL)
			LedgerReaderSetParallel(state->reader, state->parallel_next);
		LedgerReaderSetFilter(state->reader, state->filter, &state->stats);
		MemoryContextSwitchTo(old);
	}
	if (!LedgerReaderNext(state->reader, slot))
		ExecClearTuple(slot);
	return slot;
}

/* every row is re-checked by the plan's qual */
static bool
ledger_scan_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

/* returns the next qualifying, projected row */
static TupleTableSlot *
exec_ledger_scan(CustomScanState *node)
{
	return ExecScan(&node->ss, ledger_scan_next, ledger_scan_recheck);
}

/* releases the reader */
static void
end_ledger_scan(CustomScanState *node)
{
	LedgerScanState *state = (LedgerScanState *) node;

	if (state->reader)
		LedgerReaderEnd(state->reader);
	state->reader = NULL;
}

/* starts over, with values computed again (nested loops, params) */
static void
rescan_ledger_scan(CustomScanState *node)
{
	end_ledger_scan(node);
	ExecScanReScan(&node->ss);
}

/* shared memory: the segment counter */
static Size
estimate_dsm_ledger_scan(CustomScanState *node, ParallelContext *pcxt)
{
	return sizeof(pg_atomic_uint64);
}

/* sets up the shared segment counter (leader) */
static void
initialize_dsm_ledger_scan(CustomScanState *node, ParallelContext *pcxt,
						   void *coordinate)
{
	LedgerScanState *state = (LedgerScanState *) node;

	state->parallel_next = coordinate;
	pg_atomic_init_u64(state->parallel_next, 0);
}

/* resets the shared segment counter for a rescan */
static void
reinitialize_dsm_ledger_scan(CustomScanState *node, ParallelContext *pcxt,
							 void *coordinate)
{
	pg_atomic_write_u64((pg_atomic_uint64 *) coordinate, 0);
}

/* attaches a worker to the shared segment counter */
static void
initialize_worker_ledger_scan(CustomScanState *node, shm_toc *toc,
							  void *coordinate)
{
	LedgerScanState *state = (LedgerScanState *) node;

	state->parallel_next = coordinate;
}

/* EXPLAIN: pushed conditions, columns read, and what the scan skipped */
static void
explain_ledger_scan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	LedgerScanState *state = (LedgerScanState *) node;
	Relation	rel = node->ss.ss_currentRelation;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	if (state->pushed != NIL)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt,
													   node->ss.ps.plan, ancestors);
		char	   *str = deparse_expression((Node *) make_ands_explicit(state->pushed),
											 context, es->verbose, false);

		ExplainPropertyText("Ledger Filter", str, es);
	}
	if (state->nwanted < tupdesc->natts)
		ledger_explain_columns(tupdesc, state->wanted, es);
	if (es->analyze)
		ledger_explain_scan_stats(&state->stats, es);
}

/* EXPLAIN: the columns a scan decodes */
void
ledger_explain_columns(TupleDesc tupdesc, const bool *wanted, ExplainState *es)
{
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < tupdesc->natts; i++)
	{
		if (!wanted[i] || TupleDescAttr(tupdesc, i)->attisdropped)
			continue;
		if (cols.len > 0)
			appendStringInfoString(&cols, ", ");
		appendStringInfoString(&cols, quote_identifier(NameStr(TupleDescAttr(tupdesc, i)->attname)));
	}
	if (cols.len > 0)
		ExplainPropertyText("Columns", cols.data, es);
}

/* EXPLAIN ANALYZE: what a reader skipped and decoded */
void
ledger_explain_scan_stats(LedgerScanStats *stats, ExplainState *es)
{
	ExplainPropertyInteger("Segments", NULL, stats->segments, es);
	ExplainPropertyInteger("Segments Pruned by Range", NULL, stats->pruned_range, es);
	ExplainPropertyInteger("Segments Pruned by Dictionary", NULL, stats->pruned_dict, es);
	ExplainPropertyInteger("Rows Selected by Bitmaps", NULL, stats->rows_bitmap, es);
	ExplainPropertyInteger("Blocks Decompressed", NULL, stats->blocks, es);
}
