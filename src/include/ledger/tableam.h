/*-------------------------------------------------------------------------
 *
 * tableam.h
 *	  Interface of the tableam component: the ledger table access method.
 *
 * IDENTIFICATION
 *	  src/include/ledger/tableam.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_TABLEAM_H
#define LEDGER_TABLEAM_H

#include "postgres.h"

#include "utils/rel.h"

/* oid of the ledger access method, InvalidOid if not installed */
extern Oid	LedgerAmOid(void);

/* true if rel is a table using the ledger access method */
extern bool LedgerIsLedger(Relation rel);

/* true if relid is a table using the ledger access method */
extern bool LedgerIsLedgerRelid(Oid relid);

/* installs the hooks of the tableam component; called from _PG_init */
extern void LedgerTableAmInit(void);

#endif							/* LEDGER_TABLEAM_H */
