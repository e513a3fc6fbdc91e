/*-------------------------------------------------------------------------
 *
 * ledger_config.c
 *	  ledger.config: the rollup configuration of ledgers, its validation
 *	  (ledger.set_rollup) and its upkeep across DDL.
 *
 * NOTES
 *	  The table is read directly (no privilege checks: any role that may
 *	  read or write a ledger needs its configuration) and written through
 *	  SPI as the extension's owner, after ledger.set_rollup has checked that
 *	  the caller owns the ledger.  Changing the configuration invalidates
 *	  the ledger's relcache entry, which drops the cached LedgerRollup of
 *	  every backend.
 *
 *	  set_rollup takes ShareRowExclusiveLock on the ledger, so it waits for
 *	  writers in progress and no writer folds rows under a spec that is
 *	  being replaced.
 *
 * IDENTIFICATION
 *	  src/catalog/ledger_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "ledger/catalog.h"
#include "catalog_internal.h"
#include "ledger/rollup.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(ledger_set_rollup);
PG_FUNCTION_INFO_V1(ledger_stats);

#define Natts_config				7
#define Anum_config_relid			1
#define Anum_config_time_column		2
#define Anum_config_granularity		3
#define Anum_config_time_zone		4
#define Anum_config_metrics			5
#define Anum_config_key_column		6
#define Anum_config_version_column	7

/* a name column of a config tuple as a palloc'd string, or NULL */
static char *
tuple_name(HeapTuple tup, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	return isnull ? NULL : pstrdup(NameStr(*DatumGetName(d)));
}

/* the configuration of relid, or NULL for a raw ledger */
LedgerConfig *
LedgerConfigLoad(Oid relid)
{
	Oid			cfgrelid = LedgerCatalogRelid("config", true);
	Oid			pkey = LedgerCatalogRelid("config_pkey", true);
	Relation	cfgrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	LedgerConfig *cfg = NULL;
	Snapshot	snapshot;

	if (!OidIsValid(cfgrelid) || !OidIsValid(pkey))
		return NULL;

	cfgrel = table_open(cfgrelid, AccessShareLock);
	/* parallel workers cannot take new snapshots: they share the leader's */
	snapshot = RegisterSnapshot(IsInParallelMode() && ActiveSnapshotSet() ?
								GetActiveSnapshot() : GetLatestSnapshot());
	ScanKeyInit(&key, Anum_config_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(cfgrel, pkey, true, snapshot, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(cfgrel);
		bool		isnull;

		cfg = palloc0(sizeof(LedgerConfig));
		cfg->relid = relid;
		cfg->time_column = tuple_name(tup, desc, Anum_config_time_column);
		cfg->granularity = *DatumGetIntervalP(heap_getattr(tup, Anum_config_granularity,
														   desc, &isnull));
		cfg->time_zone = TextDatumGetCString(heap_getattr(tup, Anum_config_time_zone,
														  desc, &isnull));
		cfg->metrics = DatumGetJsonbPCopy(heap_getattr(tup, Anum_config_metrics,
													   desc, &isnull));
		cfg->key_column = tuple_name(tup, desc, Anum_config_key_column);
		cfg->version_column = tuple_name(tup, desc, Anum_config_version_column);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(cfgrel, AccessShareLock);
	return cfg;
}

/* removes relid's configuration (the ledger is being dropped) */
void
LedgerConfigDelete(Oid relid)
{
	Oid			cfgrelid = LedgerCatalogRelid("config", true);
	Oid			pkey = LedgerCatalogRelid("config_pkey", true);
	Relation	cfgrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Snapshot	snapshot;

	if (!OidIsValid(cfgrelid) || !OidIsValid(pkey))
		return;
	CommandCounterIncrement();
	cfgrel = table_open(cfgrelid, RowExclusiveLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, Anum_config_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(cfgrel, pkey, true, snapshot, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		simple_heap_delete(cfgrel, &tup->t_self);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(cfgrel, NoLock);
	LedgerKeyConfigDelete(relid);
}

/* runs an SPI command as the owner of ledger.config */
void
LedgerCatalogExecAsOwner(const char *sql, int nargs, Oid *argtypes, Datum *args,
			 const char *nulls)
{
	Oid			save_userid;
	int			save_sec;
	Oid			owner;
	HeapTuple	tup;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(LedgerCatalogRelid("config", false)));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for ledger.config");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0) < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", sql);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
}

/* the attribute named "name" of rel, or raises the error for "what" */
static Form_pg_attribute
find_column(Relation rel, const char *name, const char *what)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("cannot set rollup on \"%s\": column \"%s\" does not exist",
					RelationGetRelationName(rel), name),
			 errhint("Name an existing column of \"%s\" as %s.",
					 RelationGetRelationName(rel), what)));
	return NULL;
}

/* raises the user error "cannot set rollup on rel: msg" with a hint */
static void pg_attribute_noreturn()
rollup_error(Relation rel, int code, const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(code),
			 errmsg("cannot set rollup on \"%s\": %s",
					RelationGetRelationName(rel), msg),
			 errhint("%s", hint)));
}

/* true if typid (or its base type) is one of the listed numeric types */
static bool
is_numeric_type(Oid typid, bool integer_only)
{
	typid = getBaseType(typid);
	switch (typid)
	{
		case INT8OID:
		case NUMERICOID:
			return true;
		case FLOAT4OID:
		case FLOAT8OID:
		case CASHOID:
			return !integer_only;
		default:
			return false;
	}
}

/* checks the metrics object; returns the metric column names */
static List *
check_metrics(Relation rel, Jsonb *metrics, const char *time_column)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	List	   *names = NIL;
	char	   *colname = NULL;

	if (!JB_ROOT_IS_OBJECT(metrics))
		rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE,
					 "metrics must be a JSON object",
					 "Pass metrics as '{\"column\": \"sum\"}', with sum, min, max or count per column.");

	it = JsonbIteratorInit(&metrics->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			colname = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			Form_pg_attribute att;
			char	   *kind;
			char		msg[256];

			if (v.type != jbvString)
			{
				snprintf(msg, sizeof(msg), "metric \"%s\" must name its kind as a string", colname);
				rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE, msg,
							 "Use one of \"sum\", \"min\", \"max\" or \"count\".");
			}
			kind = pnstrdup(v.val.string.val, v.val.string.len);
			att = find_column(rel, colname, "a metric");
			if (strcmp(colname, time_column) == 0)
			{
				snprintf(msg, sizeof(msg), "column \"%s\" is the time column and cannot be a metric", colname);
				rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE, msg,
							 "Remove the time column from metrics.");
			}
			if (strcmp(kind, "sum") == 0)
			{
				if (!is_numeric_type(att->atttypid, false))
				{
					snprintf(msg, sizeof(msg), "cannot sum column \"%s\" of type %s",
							 colname, format_type_be(att->atttypid));
					rollup_error(rel, ERRCODE_DATATYPE_MISMATCH, msg,
								 "Sum columns must be bigint, numeric, real, double precision or money; a smallint or integer total would soon overflow, so declare such columns as bigint.");
				}
			}
			else if (strcmp(kind, "count") == 0)
			{
				if (!is_numeric_type(att->atttypid, true))
				{
					snprintf(msg, sizeof(msg), "count column \"%s\" must be bigint or numeric, not %s",
							 colname, format_type_be(att->atttypid));
					rollup_error(rel, ERRCODE_DATATYPE_MISMATCH, msg,
								 "Declare the count column as bigint.");
				}
			}
			else if (strcmp(kind, "min") == 0 || strcmp(kind, "max") == 0)
			{
				TypeCacheEntry *tce = lookup_type_cache(att->atttypid, TYPECACHE_CMP_PROC);

				if (!OidIsValid(tce->cmp_proc))
				{
					snprintf(msg, sizeof(msg), "cannot compute %s of column \"%s\": type %s has no ordering",
							 kind, colname, format_type_be(att->atttypid));
					rollup_error(rel, ERRCODE_UNDEFINED_FUNCTION, msg,
								 "Use min and max on types with a default btree operator class.");
				}
			}
			else
			{
				snprintf(msg, sizeof(msg), "unknown metric kind \"%s\" for column \"%s\"", kind, colname);
				rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE, msg,
							 "Use one of \"sum\", \"min\", \"max\" or \"count\".");
			}
			names = lappend(names, colname);
		}
	}
	return names;
}

/* true if some list member equals s */
static bool
list_has_string(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

/* true if the configurations agree in everything but the granularity */
static bool
same_but_granularity(LedgerConfig *a, LedgerConfig *b)
{
	return strcmp(a->time_column, b->time_column) == 0 &&
		strcmp(a->time_zone, b->time_zone) == 0 &&
		DatumGetBool(DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(a->metrics),
										 JsonbPGetDatum(b->metrics))) &&
		((a->key_column == NULL && b->key_column == NULL) ||
		 (a->key_column && b->key_column && strcmp(a->key_column, b->key_column) == 0)) &&
		((a->version_column == NULL && b->version_column == NULL) ||
		 (a->version_column && b->version_column &&
		  strcmp(a->version_column, b->version_column) == 0));
}

/*
 * ledger.set_rollup(ledger, time_column, granularity, metrics, time_zone,
 * key_column, version_column): validates and stores a rollup spec.
 */
Datum
ledger_set_rollup(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	LedgerConfig newcfg;
	LedgerConfig *old;
	List	   *metric_names;
	Form_pg_attribute timeatt;
	Oid			timetype;
	LedgerGrainKind grain;
	int64		stride;
	TupleDesc	desc;
	int64		rows,
				nsegments,
				bytes;
	Snapshot	snapshot;
	char		msg[512];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be NULL")));
	relid = PG_GETARG_OID(0);
	if (!LedgerIsLedgerRelid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot set rollup on \"%s\": it is not a ledger table",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Create the table with CREATE TABLE ... USING ledger.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	rel = table_open(relid, ShareRowExclusiveLock);
	desc = RelationGetDescr(rel);

	if (PG_ARGISNULL(1))
		rollup_error(rel, ERRCODE_NULL_VALUE_NOT_ALLOWED,
					 "time_column must not be NULL",
					 "Name the timestamptz, timestamp or date column to bucket by.");
	if (PG_ARGISNULL(2))
		rollup_error(rel, ERRCODE_NULL_VALUE_NOT_ALLOWED,
					 "granularity must not be NULL",
					 "Pass an interval such as '1 hour' or '1 day'.");
	if (PG_ARGISNULL(3))
		rollup_error(rel, ERRCODE_NULL_VALUE_NOT_ALLOWED,
					 "metrics must not be NULL",
					 "Pass metrics as '{\"column\": \"sum\"}'; use '{}' for none.");
	if (PG_ARGISNULL(4))
		rollup_error(rel, ERRCODE_NULL_VALUE_NOT_ALLOWED,
					 "time_zone must not be NULL",
					 "Pass a time zone name such as 'UTC' or 'Europe/Amsterdam'.");

	memset(&newcfg, 0, sizeof(newcfg));
	newcfg.relid = relid;
	newcfg.time_column = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	newcfg.granularity = *PG_GETARG_INTERVAL_P(2);
	newcfg.metrics = PG_GETARG_JSONB_P(3);
	newcfg.time_zone = text_to_cstring(PG_GETARG_TEXT_PP(4));
	newcfg.key_column = PG_ARGISNULL(5) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(5)));
	newcfg.version_column = PG_ARGISNULL(6) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(6)));

	/* the time column */
	timeatt = find_column(rel, newcfg.time_column, "the time column");
	timetype = getBaseType(timeatt->atttypid);
	if (timetype != TIMESTAMPTZOID && timetype != TIMESTAMPOID && timetype != DATEOID)
	{
		snprintf(msg, sizeof(msg), "time column \"%s\" has type %s",
				 newcfg.time_column, format_type_be(timeatt->atttypid));
		rollup_error(rel, ERRCODE_DATATYPE_MISMATCH, msg,
					 "The time column must be of type timestamptz, timestamp or date.");
	}

	/* granularity and time zone */
	LedgerRollupCheckGranularity(&newcfg.granularity, timetype, &grain, &stride);
	if (pg_tzset(newcfg.time_zone) == NULL)
	{
		snprintf(msg, sizeof(msg), "time zone \"%s\" is not recognized", newcfg.time_zone);
		rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE, msg,
					 "Use a time zone name from pg_timezone_names, such as 'UTC' or 'America/New_York'.");
	}

	/* metrics, key and version */
	metric_names = check_metrics(rel, newcfg.metrics, newcfg.time_column);
	if (newcfg.key_column)
	{
		find_column(rel, newcfg.key_column, "the key column");
		if (strcmp(newcfg.key_column, newcfg.time_column) == 0 ||
			list_has_string(metric_names, newcfg.key_column))
			rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE,
						 "the key column must not also be the time column or a metric",
						 "Name a separate column, such as an event id, as key_column.");
	}
	if (newcfg.version_column)
	{
		Form_pg_attribute vatt = find_column(rel, newcfg.version_column, "the version column");

		if (newcfg.key_column == NULL)
			rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE,
						 "a version column needs a key column",
						 "Pass key_column too: versions are compared per key.");
		if (strcmp(newcfg.version_column, newcfg.time_column) == 0 ||
			strcmp(newcfg.version_column, newcfg.key_column) == 0 ||
			list_has_string(metric_names, newcfg.version_column))
			rollup_error(rel, ERRCODE_INVALID_PARAMETER_VALUE,
						 "the version column must not also be the time, key or a metric column",
						 "Name a separate column, such as a bigint version, as version_column.");
		if (!LedgerKeyVersionTypeOk(vatt->atttypid))
			rollup_error(rel, ERRCODE_DATATYPE_MISMATCH,
						 "the version column must be of an integer, timestamp or date type",
						 "Use a bigint (or smallint, integer, timestamptz, timestamp, date) version column.");
	}

	/* every other column is a dimension: it needs equality and hashing */
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		TypeCacheEntry *tce;

		if (att->attisdropped || strcmp(name, newcfg.time_column) == 0 ||
			list_has_string(metric_names, name) ||
			(newcfg.key_column && strcmp(name, newcfg.key_column) == 0) ||
			(newcfg.version_column && strcmp(name, newcfg.version_column) == 0))
			continue;
		tce = lookup_type_cache(att->atttypid,
								TYPECACHE_CMP_PROC | TYPECACHE_HASH_PROC | TYPECACHE_EQ_OPR);
		if (!OidIsValid(tce->cmp_proc) || !OidIsValid(tce->hash_proc) ||
			!OidIsValid(tce->eq_opr))
		{
			snprintf(msg, sizeof(msg), "dimension column \"%s\" has type %s, which has no default btree and hash operator classes",
					 name, format_type_be(att->atttypid));
			rollup_error(rel, ERRCODE_UNDEFINED_FUNCTION, msg,
						 "Change the column's type (for example json to jsonb), or make it a metric.");
		}
	}

	/* a non-empty ledger may only move to a coarser granularity */
	old = LedgerConfigLoad(relid);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerStoreTotals(rel, snapshot, &rows, &nsegments, &bytes);
	UnregisterSnapshot(snapshot);
	{
		LedgerKeyConfig *kc = LedgerKeyConfigLoad(relid);

		if (kc != NULL && kc->key_column != NULL)
			rollup_error(rel, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "it has a key set by ledger.set_key",
						 "Name the key with set_rollup's key_column and version_column instead; remove the other with ledger.set_key(ledger, NULL) while the ledger is empty.");
	}
	if (old != NULL && (rows > 0 || LedgerWriteHasRows(relid)))
	{
		if (!same_but_granularity(old, &newcfg))
			rollup_error(rel, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "the ledger holds rows, so only its granularity may change",
						 "Create a new ledger with the new rollup and copy the rows with INSERT INTO new SELECT * FROM old.");
		if (!LedgerRollupDivides(&old->granularity, &newcfg.granularity))
			rollup_error(rel, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "the new granularity must be a whole multiple of the current one",
						 "A ledger that holds rows can only move to a coarser granularity that the current one divides evenly (for example 1 hour to 1 day, 1 day to 1 month).");
	}

	/* store it */
	{
		Oid			argtypes[Natts_config] = {OIDOID, NAMEOID, INTERVALOID, TEXTOID,
		JSONBOID, NAMEOID, NAMEOID};
		Datum		args[Natts_config];
		char		nulls[Natts_config];

		memset(nulls, ' ', sizeof(nulls));
		args[0] = ObjectIdGetDatum(relid);
		args[1] = PG_GETARG_DATUM(1);
		args[2] = IntervalPGetDatum(&newcfg.granularity);
		args[3] = CStringGetTextDatum(newcfg.time_zone);
		args[4] = JsonbPGetDatum(newcfg.metrics);
		args[5] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
		args[6] = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
		nulls[5] = PG_ARGISNULL(5) ? 'n' : ' ';
		nulls[6] = PG_ARGISNULL(6) ? 'n' : ' ';
		LedgerCatalogExecAsOwner("INSERT INTO ledger.config AS c VALUES ($1::oid::regclass, $2, $3, $4, $5, $6, $7) "
					 "ON CONFLICT (relid) DO UPDATE SET time_column = $2, granularity = $3, "
					 "time_zone = $4, metrics = $5, key_column = $6, version_column = $7",
					 Natts_config, argtypes, args, nulls);
	}
	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* ledger.stats(regclass): ingested and stored rows, ratio, segments, bytes */
Datum
ledger_stats(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false};
	int			n;
	LedgerSegmentMeta *metas;
	Snapshot	snapshot;
	int64		ingested = 0,
				stored = 0,
				bytes = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rel = relation_open(relid, AccessShareLock);
	if (!LedgerIsLedger(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a ledger table", RelationGetRelationName(rel)),
				 errhint("ledger.stats() reports on tables created USING ledger.")));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));

	snapshot = GetActiveSnapshot();
	metas = LedgerStoreListSegments(rel, snapshot, &n);
	for (int i = 0; i < n; i++)
	{
		ingested += metas[i].event_count;
		stored += metas[i].row_count;
		bytes += metas[i].data_bytes;
	}
	values[0] = Int64GetDatum(ingested);
	values[1] = Int64GetDatum(stored);
	values[2] = Float8GetDatum(stored > 0 ? (double) ingested / stored : 0);
	nulls[2] = (stored == 0);
	values[3] = Int64GetDatum(n);
	values[4] = Int64GetDatum(bytes);
	relation_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* renames a configured column in ledger.config */
static void
rename_config_column(Oid relid, const char *oldname, const char *newname)
{
	Oid			argtypes[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		args[3];

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(oldname);
	args[2] = CStringGetTextDatum(newname);
	LedgerCatalogExecAsOwner("UPDATE ledger.config SET "
				 "time_column = CASE WHEN time_column = $2 THEN $3::name ELSE time_column END, "
				 "key_column = CASE WHEN key_column = $2 THEN $3::name ELSE key_column END, "
				 "version_column = CASE WHEN version_column = $2 THEN $3::name ELSE version_column END, "
				 "metrics = CASE WHEN metrics ? $2 THEN (metrics - $2) || jsonb_build_object($3, metrics -> $2) ELSE metrics END "
				 "WHERE relid = $1::oid::regclass",
				 3, argtypes, args, NULL);
}

/* true if column name plays a configured role (not a dimension) */
static bool
configured_column(LedgerConfig *cfg, const char *name)
{
	JsonbValue	key;

	if (strcmp(cfg->time_column, name) == 0 ||
		(cfg->key_column && strcmp(cfg->key_column, name) == 0) ||
		(cfg->version_column && strcmp(cfg->version_column, name) == 0))
		return true;
	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	return findJsonbValueFromContainer(&cfg->metrics->root, JB_FOBJECT, &key) != NULL;
}

/* keeps the configuration in step with a DDL command about to run */
void
LedgerConfigBeforeDDL(Node *parsetree)
{
	if (parsetree == NULL)
		return;

	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid;
		LedgerConfig *cfg;

		if (stmt->renameType != OBJECT_COLUMN || stmt->relation == NULL)
			return;
		relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		if (!OidIsValid(relid))
			return;
		LedgerKeyConfigRename(relid, stmt->subname, stmt->newname);
		if ((cfg = LedgerConfigLoad(relid)) == NULL)
			return;
		if (configured_column(cfg, stmt->subname))
			rename_config_column(relid, stmt->subname, stmt->newname);
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		Oid			relid;
		LedgerConfig *cfg;
		ListCell   *lc;

		relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		if (!OidIsValid(relid))
			return;
		LedgerKeyConfigBeforeAlter(relid, stmt);
		if ((cfg = LedgerConfigLoad(relid)) == NULL)
			return;
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->name &&
				((cmd->subtype == AT_DropColumn) ||
				 (cmd->subtype == AT_AlterColumnType && configured_column(cfg, cmd->name))))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_IN_USE),
						 errmsg("cannot %s column \"%s\" of rollup ledger \"%s\": the rollup key or metrics use it",
								cmd->subtype == AT_DropColumn ? "drop" : "change the type of",
								cmd->name, get_rel_name(relid)),
						 errhint("Create a new ledger with the rollup you want and copy the rows into it.")));
		}
	}
}
