/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Interface of the catalog component: the ledger.* configuration
 *	  tables and their validation.
 *
 * NOTES
 *	  ledger.config holds one row per rollup ledger, naming columns by name
 *	  and the ledger by regclass, so pg_dump (which dumps the table as an
 *	  extension configuration table) restores it onto the new oids and
 *	  attribute numbers.  RENAME COLUMN keeps it in step (ddl_command_start
 *	  trigger); DROP TABLE removes the row (object_access_hook).
 *
 * IDENTIFICATION
 *	  src/include/ledger/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_CATALOG_H
#define LEDGER_CATALOG_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* one row of ledger.config */
typedef struct LedgerConfig
{
	Oid			relid;
	char	   *time_column;
	Interval	granularity;
	char	   *time_zone;
	Jsonb	   *metrics;		/* {"column": "sum" | "min" | "max" | "count"} */
	char	   *key_column;		/* NULL if none */
	char	   *version_column; /* NULL if none */
} LedgerConfig;

/* the configuration of relid, or NULL for a raw ledger */
extern LedgerConfig *LedgerConfigLoad(Oid relid);

/* removes relid's configuration (the ledger is being dropped) */
extern void LedgerConfigDelete(Oid relid);

/* keeps the configuration in step with a DDL command about to run */
extern void LedgerConfigBeforeDDL(Node *parsetree);

#endif							/* LEDGER_CATALOG_H */
