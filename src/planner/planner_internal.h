/*-------------------------------------------------------------------------
 *
 * planner_internal.h
 *	  Declarations shared by the files of the planner component.
 *
 * IDENTIFICATION
 *	  src/planner/planner_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_PLANNER_INTERNAL_H
#define LEDGER_PLANNER_INTERNAL_H

#include "postgres.h"

#include "ledger/scan.h"
#include "nodes/extensible.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"

/* the pushable part of a clause (ledger_quals.c) */
extern LedgerQual *ledger_qual_build(Expr *e, Index varno, bool *complete,
									 List **leaves);
extern LedgerQual *ledger_qual_build_list(List *clauses, Index varno,
										  List **pushed, List **leaves,
										  bool *all_complete);
extern void ledger_qual_compute_values(List *leaves, List *leaf_states,
									   ExprContext *econtext,
									   MemoryContext qcxt);

/* the LedgerScan custom scan (ledger_customscan.c) */
extern void ledger_customscan_register(void);
extern void ledger_add_scan_paths(PlannerInfo *root, RelOptInfo *rel,
								  Index rti, RangeTblEntry *rte);

/* LedgerAgg: aggregates inside the scan (ledger_agg.c, ledger_agg_exec.c) */
/* what an aggregate computes */
typedef enum AggKind
{
	AGG_COUNT_STAR,
	AGG_COUNT,
	AGG_SUM_INT,				/* smallint, integer: bigint result */
	AGG_SUM_INT8,				/* bigint: numeric result */
	AGG_SUM_FLOAT4,
	AGG_SUM_FLOAT8,
	AGG_SUM_NUMERIC,
	AGG_AVG_INT,				/* smallint, integer: numeric result */
	AGG_AVG_INT8,
	AGG_MIN_MAX
} AggKind;

extern int	ledger_agg_kind(Aggref *agg);
extern void ledger_agg_register(void);
extern const CustomScanMethods ledger_agg_scan_methods;

/* ledger_customscan.c: EXPLAIN lines LedgerScan and LedgerAgg share */
struct ExplainState;
extern void ledger_explain_columns(TupleDesc tupdesc, const bool *wanted,
								   struct ExplainState *es);
extern void ledger_explain_scan_stats(LedgerScanStats *stats,
									  struct ExplainState *es);

#endif							/* LEDGER_PLANNER_INTERNAL_H */
