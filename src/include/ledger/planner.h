/*-------------------------------------------------------------------------
 *
 * planner.h
 *	  Interface of the planner component: planner hooks for ledgers.
 *
 * IDENTIFICATION
 *	  src/include/ledger/planner.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_PLANNER_H
#define LEDGER_PLANNER_H

/* installs the planner hooks; called from _PG_init */
extern void LedgerPlannerInit(void);

#endif							/* LEDGER_PLANNER_H */
