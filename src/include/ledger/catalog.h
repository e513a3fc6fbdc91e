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

/*
 * One row of ledger.key_config: the key of a raw ledger (ledger.set_key;
 * rollup ledgers name theirs in ledger.config) and the key retention of
 * any keyed ledger (ledger.set_key_retention).
 */
typedef struct LedgerKeyConfig
{
	Oid			relid;
	char	   *key_column;		/* raw ledgers; NULL for rollup ledgers */
	char	   *version_column; /* NULL if none */
	bool		has_retention;
	Interval	retention;		/* keys of older events are forgotten */
	bool		reject_late;	/* events older than that: error, else accepted */
} LedgerKeyConfig;

/* relid's row of ledger.key_config, or NULL */
extern LedgerKeyConfig *LedgerKeyConfigLoad(Oid relid);

/* true if typid can be a version column (integers, timestamps, date) */
extern bool LedgerKeyVersionTypeOk(Oid typid);

/* the configuration of relid, or NULL for a raw ledger */
extern LedgerConfig *LedgerConfigLoad(Oid relid);

/* removes relid's configuration, key config included (ledger dropped) */
extern void LedgerConfigDelete(Oid relid);

/* keeps the configuration in step with a DDL command about to run */
extern void LedgerConfigBeforeDDL(Node *parsetree);

#endif							/* LEDGER_CATALOG_H */
