/*-------------------------------------------------------------------------
 *
 * ledger_tam_hooks.c
 *	  Keeping the segment catalogs in step with DROP, and the SQL-callable
 *	  functions of the tableam component.
 *
 * NOTES
 *	  PostgreSQL knows nothing of the catalog rows that hold a ledger's
 *	  segments.  The object_access_hook removes them when a ledger is
 *	  dropped (in the dropping transaction, so a rollback keeps them).  The
 *	  hook exists only once the library is loaded; the event trigger
 *	  ledger_ddl_start, which fires before every DDL command, loads it, so a
 *	  DROP in a fresh session is seen too.
 *
 * IDENTIFICATION
 *	  src/tableam/ledger_tam_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "fmgr.h"
#include "ledger/catalog.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(ledger_ddl_start);
PG_FUNCTION_INFO_V1(ledger_table_size);

static object_access_hook_type prev_object_access_hook = NULL;

/* removes a dropped ledger's segments and buffered rows */
static void
ledger_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access == OAT_DROP && classId == RelationRelationId && subId == 0)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objectId));

		if (HeapTupleIsValid(tup))
		{
			Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);
			Oid			am = LedgerAmOid();

			if ((form->relkind == RELKIND_RELATION ||
				 form->relkind == RELKIND_MATVIEW) &&
				OidIsValid(am) && form->relam == am)
			{
				Oid			storage = form->relfilenode;

				ReleaseSysCache(tup);
				LedgerWriteForget(objectId);
				LedgerStoreDropStorage(storage);
				LedgerKeyStoreClear(objectId);
				LedgerConfigDelete(objectId);
				return;
			}
			ReleaseSysCache(tup);
		}
	}
}

/* installs the hooks of the tableam component; called from _PG_init */
void
LedgerTableAmInit(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = ledger_object_access;
}

/*
 * Event trigger function at ddl_command_start: loading the library installs
 * the hooks; the command is checked against rollup configurations.
 */
Datum
ledger_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ledger_ddl_start must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	LedgerConfigBeforeDDL(trigdata->parsetree);
	PG_RETURN_VOID();
}

/* ledger.table_size(regclass): bytes of catalogs and TOAST a ledger owns */
Datum
ledger_table_size(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	int64		bytes;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		PG_RETURN_NULL();
	if (!LedgerIsLedger(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a ledger table",
						RelationGetRelationName(rel)),
				 errhint("Use pg_total_relation_size() for other relations.")));
	bytes = LedgerStoreTableSize(rel);
	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64(bytes);
}
