/*-------------------------------------------------------------------------
 *
 * ledger_planner.c
 *	  Planner hooks: reject statements a ledger does not support before
 *	  they run, and keep parallel plans away from unwritten rows.
 *
 * NOTES
 *	  UPDATE, DELETE, MERGE, INSERT ... ON CONFLICT and row locks on a
 *	  ledger fail at planning time with a hint, so that they fail the same
 *	  way whether or not the ledger holds rows.  The access method raises
 *	  the same errors as a safety net.
 *
 *	  Rows a transaction has buffered but not yet written exist only in
 *	  its own backend; parallel workers cannot see them, so partial paths
 *	  are removed for a ledger with buffered rows.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_planner.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "ledger/catalog.h"
#include "ledger/planner.h"
#include "ledger/rollup.h"
#include "access/relation.h"
#include "ledger/tableam.h"
#include "ledger/write.h"
#include "planner_internal.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

static planner_hook_type prev_planner_hook = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

/* raises the error for statement kind "what" on ledger relid */
static void
reject(Oid relid, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on ledger table \"%s\"", what,
					get_rel_name(relid)),
			 errhint("%s", hint)));
}

/* checks one query level and, through the walker, its sub-queries */
static bool
check_query_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		if (query->resultRelation > 0)
		{
			RangeTblEntry *rte = rt_fetch(query->resultRelation, query->rtable);

			if (rte->rtekind == RTE_RELATION && LedgerIsLedgerRelid(rte->relid))
			{
				switch (query->commandType)
				{
					case CMD_UPDATE:
						reject(rte->relid, "UPDATE",
							   "Correct a ledger by inserting reversing entries instead of updating rows.");
						break;
					case CMD_DELETE:
						reject(rte->relid, "DELETE",
							   "Correct a ledger by inserting reversing entries, or use TRUNCATE to remove all rows.");
						break;
					case CMD_MERGE:
						reject(rte->relid, "MERGE",
							   "Insert new rows with INSERT or COPY; ledger rows are never updated in place.");
						break;
					case CMD_INSERT:
						if (query->onConflict != NULL)
							reject(rte->relid, "INSERT ... ON CONFLICT",
								   "Remove the ON CONFLICT clause; ledger tables have no unique indexes to conflict with.");
						break;
					default:
						break;
				}
			}
		}
		foreach(lc, query->rowMarks)
		{
			RowMarkClause *rc = lfirst(lc);
			RangeTblEntry *rte = rt_fetch(rc->rti, query->rtable);

			if (rte->rtekind == RTE_RELATION && LedgerIsLedgerRelid(rte->relid))
				reject(rte->relid, "SELECT ... FOR UPDATE/SHARE",
					   "Remove the locking clause; ledger rows are never updated in place.");
		}
		return query_tree_walker(query, check_query_walker, context, 0);
	}
	return expression_tree_walker(node, check_query_walker, context);
}

/* planner hook: checks the statement, then plans as usual */
static PlannedStmt *
ledger_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	if (OidIsValid(LedgerAmOid()))
		check_query_walker((Node *) parse, NULL);

	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions,
								 boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* true if relid is a rollup ledger (the cached spec, no catalog scan) */
static bool
is_rollup(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	bool		result = LedgerRollupGet(rel) != NULL;

	relation_close(rel, NoLock);
	return result;
}

/*
 * Removes partial paths of a ledger whose rows are partly unwritten, and
 * of rollup ledgers, whose rows merge across segments on read.
 */
static void
ledger_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	/*
	 * Rows this transaction has not written yet exist only in this backend:
	 * nothing that reads the ledger may run in a parallel worker, also not
	 * under force_parallel_mode.
	 */
	if (rte->rtekind == RTE_RELATION && LedgerIsLedgerRelid(rte->relid) &&
		LedgerWriteHasRows(rte->relid))
	{
		ListCell   *lc;

		rel->consider_parallel = false;
		rel->partial_pathlist = NIL;
		foreach(lc, rel->pathlist)
			((Path *) lfirst(lc))->parallel_safe = false;
		ledger_add_scan_paths(root, rel, rti, rte);
		foreach(lc, rel->pathlist)
			((Path *) lfirst(lc))->parallel_safe = false;
		return;
	}

	ledger_add_scan_paths(root, rel, rti, rte);

	if (rte->rtekind == RTE_RELATION && rel->partial_pathlist != NIL &&
		LedgerIsLedgerRelid(rte->relid) &&
		(LedgerWriteHasRows(rte->relid) || is_rollup(rte->relid)))
	{
		/* keep only our own parallel-aware paths, which read no buffered rows */
		List	   *keep = NIL;
		ListCell   *lc;

		foreach(lc, rel->partial_pathlist)
		{
			Path	   *p = lfirst(lc);

			if (p->pathtype == T_CustomScan)
				keep = lappend(keep, p);
		}
		rel->partial_pathlist = keep;
	}
}

/* installs the planner hooks; called from _PG_init */
void
LedgerPlannerInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = ledger_planner;
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = ledger_set_rel_pathlist;
	ledger_customscan_register();
	ledger_agg_register();
}
