/*-------------------------------------------------------------------------
 *
 * ledger_upsert.c
 *	  SQL functions of idempotent ingestion: ledger.upsert,
 *	  ledger.upsert_batch, ledger.retract, ledger.ingest_counts and
 *	  ledger.commit_offset.
 *
 * NOTES
 *	  The upsert functions insert through the table access method like
 *	  INSERT does (NOT NULL and CHECK constraints are checked; triggers do
 *	  not fire), so the key rules are applied in exactly one place, the
 *	  write path.  Their result comes from the outcome counters the key
 *	  store keeps.
 *
 * IDENTIFICATION
 *	  src/upsert/ledger_upsert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "ledger/catalog.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(ledger_upsert);
PG_FUNCTION_INFO_V1(ledger_upsert_batch);
PG_FUNCTION_INFO_V1(ledger_retract);
PG_FUNCTION_INFO_V1(ledger_ingest_counts);
PG_FUNCTION_INFO_V1(ledger_commit_offset);

/* rows are inserted in batches of this many */
#define UPSERT_BATCH	1000

static const char *const outcome_names[] = {
	"inserted", "replaced", "unchanged", "stale", "inserted"
};

/* opens ledger relid for writing by fname; checks INSERT privilege */
static Relation
open_ledger(Oid relid, const char *fname, AclMode mode)
{
	Relation	rel;

	if (!LedgerIsLedgerRelid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s: \"%s\" is not a ledger table", fname,
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Pass a table created with CREATE TABLE ... USING ledger.")));
	rel = table_open(relid, RowExclusiveLock);
	if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	if (RecoveryInProgress() || XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute %s in a read-only transaction", fname)));
	return rel;
}

/* converts composite rows of one type to the ledger's row type */
typedef struct RowConverter
{
	Relation	rel;
	Oid			typid;
	int32		typmod;
	TupleDesc	indesc;
	TupleDesc	desc;			/* the ledger's, not reference counted */
	TupleConversionMap *map;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slots[UPSERT_BATCH];
	int			nslots;
	int			nused;
} RowConverter;

static void
converter_init(RowConverter *rc, Relation rel)
{
	memset(rc, 0, sizeof(RowConverter));
	rc->rel = rel;
	/* slots over a private copy: no resource owner entry per slot */
	rc->desc = CreateTupleDescCopy(RelationGetDescr(rel));
	rc->estate = CreateExecutorState();
	rc->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rc->rri, rel, 0, NULL, 0);
}

/* the ledger row of a composite datum, as a slot of the converter */
static TupleTableSlot *
converter_slot(RowConverter *rc, HeapTupleHeader rec)
{
	Oid			typid = HeapTupleHeaderGetTypeId(rec);
	int32		typmod = HeapTupleHeaderGetTypMod(rec);
	HeapTupleData tup;
	HeapTuple	conv;
	TupleTableSlot *slot;

	if (rc->indesc == NULL || typid != rc->typid || typmod != rc->typmod)
	{
		TupleDesc	indesc = lookup_rowtype_tupdesc_copy(typid, typmod);

		rc->map = convert_tuples_by_position(indesc, RelationGetDescr(rc->rel),
											 gettext_noop("cannot upsert a row of this type into the ledger"));
		rc->indesc = indesc;
		rc->typid = typid;
		rc->typmod = typmod;
	}
	tup.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = rec;
	conv = rc->map ? execute_attr_map_tuple(&tup, rc->map) : heap_copytuple(&tup);

	if (rc->nused >= rc->nslots)
		rc->slots[rc->nslots++] = MakeSingleTupleTableSlot(rc->desc,
														   &TTSOpsHeapTuple);
	slot = rc->slots[rc->nused++];
	ExecStoreHeapTuple(conv, slot, true);
	if (rc->rel->rd_att->constr)
		ExecConstraints(rc->rri, slot, rc->estate);
	return slot;
}

/* inserts the rows collected so far */
static void
converter_flush(RowConverter *rc)
{
	if (rc->nused == 0)
		return;
	table_multi_insert(rc->rel, rc->slots, rc->nused, GetCurrentCommandId(true),
					   0, NULL);
	for (int i = 0; i < rc->nused; i++)
		ExecClearTuple(rc->slots[i]);
	rc->nused = 0;
}

static void
converter_end(RowConverter *rc)
{
	for (int i = 0; i < rc->nslots; i++)
		ExecDropSingleTupleTableSlot(rc->slots[i]);
	FreeExecutorState(rc->estate);
}

/* checks that argument argno is of a composite type */
static void
check_composite(FunctionCallInfo fcinfo, int argno, bool array)
{
	Oid			t = get_fn_expr_argtype(fcinfo->flinfo, argno);

	if (array && OidIsValid(t))
		t = get_element_type(t);
	if (!OidIsValid(t) || !type_is_rowtype(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s expects %s of the ledger's row type",
						array ? "ledger.upsert_batch" : "ledger.upsert",
						array ? "an array of rows" : "a row"),
				 errhint("Pass for example ROW(...)::my_ledger%s, or rows of a table of the same columns.",
						 array ? " inside ARRAY[...]" : "")));
}

/* ledger.upsert(ledger, row): 'inserted', 'replaced', 'unchanged', 'stale' */
Datum
ledger_upsert(PG_FUNCTION_ARGS)
{
	Relation	rel;
	RowConverter rc;
	int64		before[LEDGER_KEY_NOUTCOMES];
	const int64 *after;
	const char *result = "inserted";

	check_composite(fcinfo, 1, false);
	rel = open_ledger(PG_GETARG_OID(0), "ledger.upsert", ACL_INSERT);
	memcpy(before, LedgerKeyCountsTotal(), sizeof(before));
	converter_init(&rc, rel);
	(void) converter_slot(&rc, PG_GETARG_HEAPTUPLEHEADER(1));
	converter_flush(&rc);
	converter_end(&rc);
	after = LedgerKeyCountsTotal();
	for (int o = 0; o < LEDGER_KEY_NOUTCOMES; o++)
		if (after[o] != before[o])
			result = outcome_names[o];
	table_close(rel, NoLock);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* ledger.upsert_batch(ledger, rows[]): counts of each outcome */
Datum
ledger_upsert_batch(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Relation	rel;
	RowConverter rc;
	int64		before[LEDGER_KEY_NOUTCOMES];
	const int64 *after;
	TupleDesc	rettype;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	int64		total;
	int64		plain = 0;

	check_composite(fcinfo, 1, true);
	if (get_call_result_type(fcinfo, NULL, &rettype) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rel = open_ledger(PG_GETARG_OID(0), "ledger.upsert_batch", ACL_INSERT);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign,
					  &elems, &elemnulls, &nelems);

	memcpy(before, LedgerKeyCountsTotal(), sizeof(before));
	converter_init(&rc, rel);
	for (int i = 0; i < nelems; i++)
	{
		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ledger.upsert_batch: element %d of rows is NULL", i + 1),
					 errhint("Remove NULL elements from the array.")));
		(void) converter_slot(&rc, DatumGetHeapTupleHeader(elems[i]));
		if (rc.nused >= UPSERT_BATCH)
			converter_flush(&rc);
		CHECK_FOR_INTERRUPTS();
	}
	converter_flush(&rc);
	converter_end(&rc);

	after = LedgerKeyCountsTotal();
	total = 0;
	for (int o = 0; o < LEDGER_KEY_NOUTCOMES; o++)
		total += after[o] - before[o];
	/* rows of an unkeyed ledger (or with a NULL key) count as inserted */
	plain = nelems - total + (after[LEDGER_KEY_UNKEYED] - before[LEDGER_KEY_UNKEYED]);
	values[0] = Int64GetDatum(after[LEDGER_KEY_INSERTED] - before[LEDGER_KEY_INSERTED] + plain);
	values[1] = Int64GetDatum(after[LEDGER_KEY_REPLACED] - before[LEDGER_KEY_REPLACED]);
	values[2] = Int64GetDatum(after[LEDGER_KEY_UNCHANGED] - before[LEDGER_KEY_UNCHANGED]);
	values[3] = Int64GetDatum(after[LEDGER_KEY_STALE] - before[LEDGER_KEY_STALE]);
	table_close(rel, NoLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettype, values, nulls)));
}

/* ledger.retract(ledger, key): takes an event's contribution back */
Datum
ledger_retract(PG_FUNCTION_ARGS)
{
	Relation	rel = open_ledger(PG_GETARG_OID(0), "ledger.retract", ACL_INSERT);
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	LedgerKeySpec *spec = LedgerKeyGet(rel);
	LedgerRetraction *r = NULL;
	bool		done;

	if (spec == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot retract from \"%s\": it has no key column",
						RelationGetRelationName(rel)),
				 errhint("Set a key with ledger.set_key() or ledger.set_rollup(..., key_column => ...).")));
	done = LedgerKeyRetract(rel, spec, key, &r);
	if (r != NULL)
		LedgerWriteRetract(rel, r->values, r->isnull, r->events,
						   GetCurrentCommandId(true));
	table_close(rel, NoLock);
	PG_RETURN_BOOL(done);
}

/* ledger.ingest_counts(ledger): this session's outcomes for a ledger */
Datum
ledger_ingest_counts(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	rettype;
	int64		counts[LEDGER_KEY_NOUTCOMES];
	Datum		values[LEDGER_KEY_NOUTCOMES];
	bool		nulls[LEDGER_KEY_NOUTCOMES] = {false};

	if (get_call_result_type(fcinfo, NULL, &rettype) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_INSERT) != ACLCHECK_OK &&
		pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
	LedgerKeyCounts(relid, counts);
	for (int o = 0; o < LEDGER_KEY_NOUTCOMES; o++)
		values[o] = Int64GetDatum(counts[o]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettype, values, nulls)));
}

/* ledger.commit_offset(source, partition, last_offset) */
Datum
ledger_commit_offset(PG_FUNCTION_ARGS)
{
	text	   *source = PG_GETARG_TEXT_PP(0);
	int32		partition = PG_GETARG_INT32(1);
	int64		offset = PG_GETARG_INT64(2);
	Oid			user = GetUserId();
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tup;
	Oid			argtypes[4] = {TEXTOID, INT4OID, INT8OID, OIDOID};
	Datum		args[4];
	int			ret;
	bool		updated;
	int64		stored = 0;
	Oid			stored_owner = InvalidOid;
	bool		found = false;

	if (VARSIZE_ANY_EXHDR(source) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must not be empty"),
				 errhint("Name the consumer's source, such as 'kafka:payments'.")));
	if (partition < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition must not be negative")));
	if (RecoveryInProgress() || XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute ledger.commit_offset in a read-only transaction")));

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(LedgerCatalogRelid("offset_store", false)));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for ledger.offset_store");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	args[0] = PointerGetDatum(source);
	args[1] = Int32GetDatum(partition);
	args[2] = Int64GetDatum(offset);
	args[3] = ObjectIdGetDatum(user);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("INSERT INTO ledger.offset_store AS o "
								"VALUES ($1, $2, $3, pg_catalog.now(), $4) "
								"ON CONFLICT (source, partition) DO UPDATE "
								"SET last_offset = $3, committed = pg_catalog.now() "
								"WHERE o.last_offset <= $3 "
								"AND pg_catalog.pg_has_role($4, o.owner, 'USAGE')",
								4, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not store offset");
	updated = (SPI_processed == 1);
	if (!updated)
	{
		ret = SPI_execute_with_args("SELECT last_offset, owner FROM ledger.offset_store "
									"WHERE source = $1 AND partition = $2",
									2, argtypes, args, NULL, false, 1);
		if (ret == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;

			found = true;
			stored = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
			stored_owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 2, &isnull));
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);

	if (!updated && found && !has_privs_of_role(user, stored_owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to commit offsets of source \"%s\"",
						text_to_cstring(source)),
				 errdetail("Offsets of a source belong to the role that committed them first."),
				 errhint("Commit as a member of role \"%s\".",
						 GetUserNameFromId(stored_owner, true) ? GetUserNameFromId(stored_owner, true) : "?")));
	if (!updated && found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset " INT64_FORMAT " of source \"%s\" partition %d goes backwards",
						offset, text_to_cstring(source), partition),
				 errdetail("The committed offset is " INT64_FORMAT ".", stored),
				 errhint("A consumer resumes after its committed offset; do not commit older positions.")));
	if (!updated)
		elog(ERROR, "could not store offset of source \"%s\"", text_to_cstring(source));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ledger_key_config_restored);

/*
 * Registers the rows a ledger holds when it gets its key: a raw ledger
 * claims their keys (so replays of them are no-ops), a rollup ledger with
 * min/max records its stored groups as key-less contributions (so min/max
 * recomputation sees them).  The rows themselves do not change.
 */
static void
backfill_keys(Oid relid)
{
	Relation	rel;
	LedgerKeySpec *spec;
	TableScanDesc scan;
	TupleTableSlot *slots[UPSERT_BATCH];
	bool		apply[UPSERT_BATCH];
	int			n = 0;
	Snapshot	snapshot;

	/* see the new configuration */
	CacheInvalidateRelcacheByRelid(relid);
	CommandCounterIncrement();
	rel = table_open(relid, ShareRowExclusiveLock);
	spec = LedgerKeyGet(rel);
	if (spec == NULL || (spec->rollup != NULL && !spec->minmax))
	{
		table_close(rel, NoLock);
		return;
	}
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	for (int i = 0; i < UPSERT_BATCH; i++)
		slots[i] = table_slot_create(rel, NULL);
	for (;;)
	{
		bool		more = table_scan_getnextslot(scan, ForwardScanDirection, slots[n]);

		if (more)
		{
			/* the reader reuses its buffers: keep the row */
			ExecMaterializeSlot(slots[n]);
			n++;
		}
		if (n == UPSERT_BATCH || (!more && n > 0))
		{
			List	   *retractions = NIL;

			/* the rows are stored already: only their keys are claimed */
			LedgerKeyApply(rel, spec, slots, n, apply, &retractions);
			n = 0;
		}
		if (!more)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	for (int i = 0; i < UPSERT_BATCH; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
}

/*
 * AFTER INSERT OR UPDATE trigger on ledger.key_config and ledger.config:
 * a ledger getting a key registers the rows it already holds.
 * ledger.set_key refuses a raw ledger that holds rows, so for raw ledgers
 * this happens when a restore loads the rows before the key configuration
 * (pg_restore -j does); ledger.set_rollup may add a key to a ledger that
 * holds rows.
 */
Datum
ledger_key_config_restored(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		isnull;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ledger_key_config_restored: not called as a trigger");
	relid = DatumGetObjectId(heap_getattr(trigdata->tg_trigtuple, 1,
										  RelationGetDescr(trigdata->tg_relation),
										  &isnull));
	if (!isnull && LedgerIsLedgerRelid(relid))
		backfill_keys(relid);
	return PointerGetDatum(NULL);
}
