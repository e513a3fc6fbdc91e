/*-------------------------------------------------------------------------
 *
 * catalog_internal.h
 *	  Helpers shared by the files of the catalog component.
 *
 * IDENTIFICATION
 *	  src/catalog/catalog_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_CATALOG_INTERNAL_H
#define LEDGER_CATALOG_INTERNAL_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/* runs an SPI command as the owner of the extension's tables */
extern void LedgerCatalogExecAsOwner(const char *sql, int nargs, Oid *argtypes,
									 Datum *args, const char *nulls);

/* ledger_key_config.c: DDL upkeep of ledger.key_config */
extern void LedgerKeyConfigRename(Oid relid, const char *oldname,
								  const char *newname);
extern void LedgerKeyConfigBeforeAlter(Oid relid, AlterTableStmt *stmt);
extern void LedgerKeyConfigDelete(Oid relid);

#endif							/* LEDGER_CATALOG_INTERNAL_H */
