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
#include "nodes/pathnodes.h"

/* the pushable part of a clause (ledger_quals.c) */
extern LedgerQual *ledger_qual_build(Expr *e, Index varno, bool *complete,
									 List **leaves);
extern LedgerQual *ledger_qual_build_list(List *clauses, Index varno,
										  List **pushed, List **leaves);

/* the LedgerScan custom scan (ledger_customscan.c) */
extern void ledger_customscan_register(void);
extern void ledger_add_scan_paths(PlannerInfo *root, RelOptInfo *rel,
								  Index rti, RangeTblEntry *rte);

#endif							/* LEDGER_PLANNER_INTERNAL_H */
