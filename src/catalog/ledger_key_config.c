/*-------------------------------------------------------------------------
 *
 * ledger_key_config.c
 *	  ledger.key_config: the idempotency key of raw ledgers
 *	  (ledger.set_key) and the key retention of every keyed ledger
 *	  (ledger.set_key_retention), with their validation and DDL upkeep.
 *
 * NOTES
 *	  Like ledger.config, the table is read directly and written through
 *	  SPI as the extension's owner after the caller's ownership of the
 *	  ledger has been checked; a change invalidates the ledger's relcache
 *	  entry so every backend rebuilds its key spec.
 *
 * IDENTIFICATION
 *	  src/catalog/ledger_key_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "ledger/catalog.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "catalog_internal.h"

PG_FUNCTION_INFO_V1(ledger_set_key);
PG_FUNCTION_INFO_V1(ledger_set_key_retention);

#define Anum_key_config_relid			1
#define Anum_key_config_key_column		2
#define Anum_key_config_version_column	3
#define Anum_key_config_retention		4
#define Anum_key_config_late_events		5

/* true if typid can be a version column (integers, timestamps, date) */
bool
LedgerKeyVersionTypeOk(Oid typid)
{
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case DATEOID:
			return true;
		default:
			return false;
	}
}

/* a name column as a palloc'd string, or NULL */
static char *
get_name(HeapTuple tup, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	return isnull ? NULL : pstrdup(NameStr(*DatumGetName(d)));
}

/* relid's row of ledger.key_config, or NULL */
LedgerKeyConfig *
LedgerKeyConfigLoad(Oid relid)
{
	Oid			cfgrelid = LedgerCatalogRelid("key_config", true);
	Oid			pkey = LedgerCatalogRelid("key_config_pkey", true);
	Relation	cfgrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	LedgerKeyConfig *cfg = NULL;
	Snapshot	snapshot;

	if (!OidIsValid(cfgrelid) || !OidIsValid(pkey))
		return NULL;
	cfgrel = table_open(cfgrelid, AccessShareLock);
	snapshot = RegisterSnapshot(IsInParallelMode() && ActiveSnapshotSet() ?
								GetActiveSnapshot() : GetLatestSnapshot());
	ScanKeyInit(&key, Anum_key_config_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(cfgrel, pkey, true, snapshot, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(cfgrel);
		bool		isnull;
		Datum		d;

		cfg = palloc0(sizeof(LedgerKeyConfig));
		cfg->relid = relid;
		cfg->key_column = get_name(tup, desc, Anum_key_config_key_column);
		cfg->version_column = get_name(tup, desc, Anum_key_config_version_column);
		d = heap_getattr(tup, Anum_key_config_retention, desc, &isnull);
		cfg->has_retention = !isnull;
		if (!isnull)
			cfg->retention = *DatumGetIntervalP(d);
		d = heap_getattr(tup, Anum_key_config_late_events, desc, &isnull);
		cfg->reject_late = !isnull &&
			strcmp(TextDatumGetCString(d), "reject") == 0;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(cfgrel, AccessShareLock);
	return cfg;
}

/* removes relid's row (the ledger is being dropped) */
void
LedgerKeyConfigDelete(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];

	if (!OidIsValid(LedgerCatalogRelid("key_config", true)))
		return;
	args[0] = ObjectIdGetDatum(relid);
	LedgerCatalogExecAsOwner("DELETE FROM ledger.key_config WHERE relid = $1::oid::regclass",
							 1, argtypes, args, NULL);
}

/* opens the ledger named by argument 0 for a key setting, owner only */
static Relation
open_for_setting(FunctionCallInfo fcinfo, const char *what)
{
	Oid			relid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	if (!LedgerIsLedgerRelid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot set %s on \"%s\": it is not a ledger table", what,
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Create the table with CREATE TABLE ... USING ledger.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	return table_open(relid, ShareRowExclusiveLock);
}

/* the live attribute "name" of rel, or NULL */
static Form_pg_attribute
column_named(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att;
	}
	return NULL;
}

/* true if the ledger holds rows (committed or this transaction's) */
static bool
ledger_has_rows(Relation rel)
{
	int			n;

	if (LedgerWriteHasRows(RelationGetRelid(rel)))
		return true;
	(void) LedgerStoreListSegments(rel, GetActiveSnapshot(), &n);
	return n > 0;
}

/* ledger.set_key(ledger, key_column, version_column) */
Datum
ledger_set_key(PG_FUNCTION_ARGS)
{
	Relation	rel = open_for_setting(fcinfo, "a key");
	const char *relname = RelationGetRelationName(rel);
	LedgerConfig *rollup = LedgerConfigLoad(RelationGetRelid(rel));
	char	   *keycol = PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1));
	char	   *vercol = PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2));
	Form_pg_attribute katt = NULL;
	Form_pg_attribute vatt;
	Oid			argtypes[3] = {OIDOID, NAMEOID, NAMEOID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (rollup != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot set a key on \"%s\": it is a rollup ledger", relname),
				 errhint("Name the key with ledger.set_rollup(..., key_column => ..., version_column => ...).")));
	if (keycol != NULL && (katt = column_named(rel, keycol)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("cannot set a key on \"%s\": column \"%s\" does not exist",
						relname, keycol),
				 errhint("Name an existing column, such as an event id, as key_column.")));
	if (vercol != NULL)
	{
		if (keycol == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot set a key on \"%s\": a version column needs a key column",
							relname),
					 errhint("Pass key_column too: versions are compared per key.")));
		if ((vatt = column_named(rel, vercol)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("cannot set a key on \"%s\": column \"%s\" does not exist",
							relname, vercol),
					 errhint("Name an existing column as version_column.")));
		if (strcmp(vercol, keycol) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot set a key on \"%s\": the version column must not be the key column",
							relname),
					 errhint("Name a separate column, such as a bigint version, as version_column.")));
		if (!LedgerKeyVersionTypeOk(vatt->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot set a key on \"%s\": version column \"%s\" has type %s",
							relname, vercol, format_type_be(vatt->atttypid)),
					 errhint("Use a bigint (or smallint, integer, timestamptz, timestamp, date) version column.")));
	}
	if (katt != NULL && !OidIsValid(katt->atttypid))
		elog(ERROR, "key column without a type");
	if (ledger_has_rows(rel))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change the key of \"%s\": it already holds rows", relname),
				 errdetail("Rows stored before a key is set have no entry in the key store."),
				 errhint("Set the key on an empty ledger, then load it, for example with INSERT ... SELECT from this one.")));

	args[0] = ObjectIdGetDatum(RelationGetRelid(rel));
	args[1] = keycol ? PG_GETARG_DATUM(1) : (Datum) 0;
	args[2] = vercol ? PG_GETARG_DATUM(2) : (Datum) 0;
	nulls[1] = keycol ? ' ' : 'n';
	nulls[2] = vercol ? ' ' : 'n';
	LedgerCatalogExecAsOwner("INSERT INTO ledger.key_config (relid, key_column, version_column) "
							 "VALUES ($1::oid::regclass, $2, $3) "
							 "ON CONFLICT (relid) DO UPDATE SET key_column = $2, version_column = $3",
							 3, argtypes, args, nulls);
	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* ledger.set_key_retention(ledger, retention, late_events) */
Datum
ledger_set_key_retention(PG_FUNCTION_ARGS)
{
	Relation	rel = open_for_setting(fcinfo, "key retention");
	const char *relname = RelationGetRelationName(rel);
	LedgerConfig *rollup = LedgerConfigLoad(RelationGetRelid(rel));
	LedgerKeyConfig *kc = LedgerKeyConfigLoad(RelationGetRelid(rel));
	char	   *late;
	Oid			argtypes[3] = {OIDOID, INTERVALOID, TEXTOID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (!((rollup && rollup->key_column) || (kc && kc->key_column)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot set key retention on \"%s\": it has no key column", relname),
				 errhint("Set a key first with ledger.set_key() or ledger.set_rollup(..., key_column => ...).")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("late_events must not be NULL"),
				 errhint("Pass 'accept' or 'reject'.")));
	late = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(late, "accept") != 0 && strcmp(late, "reject") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid late_events \"%s\"", late),
				 errhint("Pass 'accept' (apply late events without deduplication) or 'reject' (raise an error).")));
	if (!PG_ARGISNULL(1))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(1);

		if (iv->month < 0 || iv->day < 0 || iv->time < 0 ||
			(iv->month == 0 && iv->day == 0 && iv->time == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key retention must be a positive interval"),
					 errhint("Pass an interval such as '30 days', or NULL to keep keys forever.")));
	}

	args[0] = ObjectIdGetDatum(RelationGetRelid(rel));
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	args[2] = CStringGetTextDatum(late);
	LedgerCatalogExecAsOwner("INSERT INTO ledger.key_config (relid, retention, late_events) "
							 "VALUES ($1::oid::regclass, $2, $3) "
							 "ON CONFLICT (relid) DO UPDATE SET retention = $2, late_events = $3",
							 3, argtypes, args, nulls);
	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* follows RENAME COLUMN of a raw ledger's key or version column */
void
LedgerKeyConfigRename(Oid relid, const char *oldname, const char *newname)
{
	LedgerKeyConfig *kc = LedgerKeyConfigLoad(relid);
	Oid			argtypes[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		args[3];

	if (kc == NULL ||
		!((kc->key_column && strcmp(kc->key_column, oldname) == 0) ||
		  (kc->version_column && strcmp(kc->version_column, oldname) == 0)))
		return;
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(oldname);
	args[2] = CStringGetTextDatum(newname);
	LedgerCatalogExecAsOwner("UPDATE ledger.key_config SET "
							 "key_column = CASE WHEN key_column = $2 THEN $3::name ELSE key_column END, "
							 "version_column = CASE WHEN version_column = $2 THEN $3::name ELSE version_column END "
							 "WHERE relid = $1::oid::regclass",
							 3, argtypes, args, NULL);
}

/*
 * Keyed ledgers keep each event's contribution in the key store in the
 * ledger's row layout: changing a column's type would misread them, and
 * dropping the key or version column would orphan the keys.
 */
void
LedgerKeyConfigBeforeAlter(Oid relid, AlterTableStmt *stmt)
{
	LedgerKeyConfig *kc = LedgerKeyConfigLoad(relid);
	LedgerConfig *cfg;
	ListCell   *lc;

	if (kc == NULL || kc->key_column == NULL)
	{
		cfg = LedgerConfigLoad(relid);
		if (cfg == NULL || cfg->key_column == NULL)
			return;
	}
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AlterColumnType ||
			(cmd->subtype == AT_DropColumn && kc && cmd->name &&
			 ((kc->key_column && strcmp(cmd->name, kc->key_column) == 0) ||
			  (kc->version_column && strcmp(cmd->name, kc->version_column) == 0))))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot %s column \"%s\" of keyed ledger \"%s\"",
							cmd->subtype == AT_DropColumn ? "drop" : "change the type of",
							cmd->name ? cmd->name : "?", get_rel_name(relid)),
					 errdetail("The key store holds each event's key and contribution in the ledger's current row layout."),
					 errhint("Create a new ledger with the layout you want and copy the rows into it.")));
	}
}
