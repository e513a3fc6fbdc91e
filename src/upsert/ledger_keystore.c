/*-------------------------------------------------------------------------
 *
 * ledger_keystore.c
 *	  The key store of keyed ledgers: claiming a key, comparing versions,
 *	  replacing and retracting contributions.
 *
 * NOTES
 *	  ledger.key_store has one row per (ledger oid, key), enforced by the
 *	  unique index key_store_key_idx.  Deciding what to do with a row reads
 *	  the key's newest row with a dirty snapshot, as INSERT ... ON CONFLICT
 *	  does, so the decision is made against the latest committed state:
 *
 *	  - a key row written by a transaction still in progress: wait for it
 *	    to end, then look again;
 *	  - no row: insert one speculatively; if a concurrent writer inserted
 *	    the same key meanwhile, the speculative row is killed and we look
 *	    again (and wait for it);
 *	  - a row: compare versions and payloads; a replacement updates the row
 *	    with heap_update, which waits for and detects concurrent updates
 *	    (then we look again).
 *
 *	  So two sessions writing the same key serialize on that key only, and
 *	  whichever commits first wins; the other sees its row and decides
 *	  again.  Under REPEATABLE READ a key row committed after the
 *	  transaction's snapshot raises a serialization failure, as ON
 *	  CONFLICT does.
 *
 *	  Contributions are the prepared rollup row (bucket, dimensions,
 *	  metrics; key and version NULL) as a heap tuple body in the ledger's
 *	  row layout; ALTER COLUMN TYPE is therefore refused on keyed ledgers.
 *
 * IDENTIFICATION
 *	  src/upsert/ledger_keystore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "ledger/catalog.h"
#include "ledger/rollup.h"
#include "ledger/store.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "upsert_internal.h"

/* ------------------------------------------------------------------------
 * Key specs, cached per backend
 * ------------------------------------------------------------------------
 */

typedef struct KeySpecEntry
{
	Oid			relid;
	MemoryContext cxt;			/* NULL when the ledger has no key */
	LedgerKeySpec *spec;
} KeySpecEntry;

static HTAB *KeySpecs = NULL;

/* per-ledger outcome counters of this backend */
typedef struct KeyCountEntry
{
	Oid			relid;
	int64		counts[LEDGER_KEY_NOUTCOMES];
} KeyCountEntry;

static HTAB *KeyCounts = NULL;

static void release_token(KeyStore *ks);
static int64 KeyCountsTotal[LEDGER_KEY_NOUTCOMES];

static void
keyspec_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	KeySpecEntry *e;

	if (KeySpecs == NULL)
		return;
	hash_seq_init(&seq, KeySpecs);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (OidIsValid(relid) && e->relid != relid)
			continue;
		if (e->cxt)
			MemoryContextDelete(e->cxt);
		hash_search(KeySpecs, &e->relid, HASH_REMOVE, NULL);
	}
}

/* the attnum of a live column named name, or 0 */
static AttrNumber
attnum_of(TupleDesc desc, const char *name)
{
	if (name == NULL)
		return 0;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return 0;
}

/* builds the key spec of rel in CurrentMemoryContext, or NULL */
static LedgerKeySpec *
build_spec(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	LedgerRollup *rollup = LedgerRollupGet(rel);
	LedgerKeyConfig *kc = LedgerKeyConfigLoad(RelationGetRelid(rel));
	LedgerKeySpec *spec;
	Oid			outfunc;
	bool		varlena;

	spec = palloc0(sizeof(LedgerKeySpec));
	spec->relid = RelationGetRelid(rel);
	if (rollup != NULL)
	{
		if (rollup->key_attnum == 0)
			return NULL;
		spec->key_attnum = rollup->key_attnum;
		spec->version_attnum = rollup->version_attnum;
		spec->time_attnum = rollup->time_attnum;
		spec->rollup = rollup;
		spec->minmax = LedgerRollupHasMinMax(rollup);
	}
	else
	{
		if (kc == NULL || kc->key_column == NULL)
			return NULL;
		spec->key_attnum = attnum_of(desc, kc->key_column);
		spec->version_attnum = attnum_of(desc, kc->version_column);
		if (spec->key_attnum == 0)
			return NULL;
		spec->time_attnum = LedgerTimeColumn(rel);
	}
	spec->key_type = TupleDescAttr(desc, spec->key_attnum - 1)->atttypid;
	if (spec->version_attnum)
		spec->version_type = getBaseType(TupleDescAttr(desc, spec->version_attnum - 1)->atttypid);
	if (spec->time_attnum)
		spec->time_type = getBaseType(TupleDescAttr(desc, spec->time_attnum - 1)->atttypid);
	if (kc != NULL)
	{
		spec->has_retention = kc->has_retention;
		spec->retention = kc->retention;
		spec->reject_late = kc->reject_late;
	}
	getTypeOutputInfo(spec->key_type, &outfunc, &varlena);
	fmgr_info(outfunc, &spec->key_out);
	spec->key_is_text = (getBaseType(spec->key_type) == TEXTOID ||
						 getBaseType(spec->key_type) == VARCHAROID);
	return spec;
}

/* the key spec of rel, or NULL if it has no key */
LedgerKeySpec *
LedgerKeyGet(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	KeySpecEntry *entry;
	bool		found;

	if (KeySpecs == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(KeySpecEntry);
		ctl.hcxt = CacheMemoryContext;
		KeySpecs = hash_create("ledger key specs", 16, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(keyspec_invalidate, (Datum) 0);
	}
	entry = hash_search(KeySpecs, &relid, HASH_FIND, &found);
	if (!found)
	{
		MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext,
												  "ledger key spec",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		LedgerKeySpec *spec = NULL;

		PG_TRY();
		{
			spec = build_spec(rel);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(old);
			MemoryContextDelete(cxt);
			PG_RE_THROW();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(old);
		if (spec == NULL)
		{
			MemoryContextDelete(cxt);
			cxt = NULL;
		}
		entry = hash_search(KeySpecs, &relid, HASH_ENTER, &found);
		entry->cxt = cxt;
		entry->spec = spec;
	}
	return entry->spec;
}

/* ------------------------------------------------------------------------
 * Outcome counters
 * ------------------------------------------------------------------------
 */

static void
count_outcome(Oid relid, LedgerKeyOutcome o)
{
	KeyCountEntry *e;
	bool		found;

	if (KeyCounts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(KeyCountEntry);
		ctl.hcxt = TopMemoryContext;
		KeyCounts = hash_create("ledger key counts", 16, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(KeyCounts, &relid, HASH_ENTER, &found);
	if (!found)
		memset(e->counts, 0, sizeof(e->counts));
	e->counts[o]++;
	KeyCountsTotal[o]++;
}

/* outcomes counted by this backend for relid */
void
LedgerKeyCounts(Oid relid, int64 *counts)
{
	KeyCountEntry *e = KeyCounts ? hash_search(KeyCounts, &relid, HASH_FIND, NULL) : NULL;

	if (e)
		memcpy(counts, e->counts, sizeof(e->counts));
	else
		memset(counts, 0, sizeof(int64) * LEDGER_KEY_NOUTCOMES);
}

/* outcomes counted by this backend, all ledgers */
const int64 *
LedgerKeyCountsTotal(void)
{
	return KeyCountsTotal;
}

/* ------------------------------------------------------------------------
 * Opening the key store
 * ------------------------------------------------------------------------
 */

/* opens the key store and its indexes for writing */
void
keystore_open(KeyStore *ks, Oid relid, LOCKMODE mode)
{
	Oid			heapid = LedgerCatalogRelid("key_store", false);

	memset(ks, 0, sizeof(KeyStore));
	ks->relid = relid;
	ks->cxt = CurrentMemoryContext;
	ks->heap = table_open(heapid, mode);
	ks->keyidx = index_open(LedgerCatalogRelid("key_store_key_idx", false), mode);
	ks->groupidx = index_open(LedgerCatalogRelid("key_store_group_idx", false), mode);
	ks->supidx = index_open(LedgerCatalogRelid("key_store_superseded_idx", false), mode);
	ks->keyinfo = BuildIndexInfo(ks->keyidx);
	ks->groupinfo = BuildIndexInfo(ks->groupidx);
	ks->supinfo = BuildIndexInfo(ks->supidx);
	ks->slot = table_slot_create(ks->heap, NULL);
	ks->mode = mode;
}

void
keystore_close(KeyStore *ks)
{
	release_token(ks);
	if (ks->scan)
		index_endscan(ks->scan);
	ExecDropSingleTupleTableSlot(ks->slot);
	index_close(ks->supidx, ks->mode);
	index_close(ks->groupidx, ks->mode);
	index_close(ks->keyidx, ks->mode);
	table_close(ks->heap, ks->mode);
}

/* deforms a key store tuple into a KeyRow (pointers into tup) */
void
keystore_deform(KeyStore *ks, HeapTuple tup, KeyRow *row)
{
	Datum		values[Natts_key_store];
	bool		nulls[Natts_key_store];

	heap_deform_tuple(tup, RelationGetDescr(ks->heap), values, nulls);
	row->tid = tup->t_self;
	row->has_version = !nulls[Anum_key_store_version - 1];
	row->version = row->has_version ? DatumGetInt64(values[Anum_key_store_version - 1]) : 0;
	row->has_time = !nulls[Anum_key_store_event_time - 1];
	row->event_time = row->has_time ? DatumGetTimestampTz(values[Anum_key_store_event_time - 1]) : 0;
	row->retracted = DatumGetBool(values[Anum_key_store_retracted - 1]);
	row->superseded = DatumGetBool(values[Anum_key_store_superseded - 1]);
	row->payload = DatumGetInt64(values[Anum_key_store_payload - 1]);
	row->has_group = !nulls[Anum_key_store_group_hash - 1];
	row->group_hash = row->has_group ? DatumGetInt32(values[Anum_key_store_group_hash - 1]) : 0;
	row->contribution = nulls[Anum_key_store_contribution - 1] ? NULL :
		DatumGetByteaPP(values[Anum_key_store_contribution - 1]);
	row->own = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(tup->t_data));
}

/* values of a key store tuple for row (key given as text) */
static void
keyrow_values(KeyStore *ks, text *key, KeyRow *row, Datum *values, bool *nulls)
{
	memset(nulls, 0, sizeof(bool) * Natts_key_store);
	values[Anum_key_store_relid - 1] = ObjectIdGetDatum(ks->relid);
	values[Anum_key_store_key - 1] = PointerGetDatum(key);
	nulls[Anum_key_store_key - 1] = (key == NULL);
	values[Anum_key_store_version - 1] = Int64GetDatum(row->version);
	nulls[Anum_key_store_version - 1] = !row->has_version;
	values[Anum_key_store_event_time - 1] = TimestampTzGetDatum(row->event_time);
	nulls[Anum_key_store_event_time - 1] = !row->has_time;
	values[Anum_key_store_retracted - 1] = BoolGetDatum(row->retracted);
	values[Anum_key_store_superseded - 1] = BoolGetDatum(row->superseded);
	values[Anum_key_store_payload - 1] = Int64GetDatum(row->payload);
	values[Anum_key_store_group_hash - 1] = Int32GetDatum(row->group_hash);
	nulls[Anum_key_store_group_hash - 1] = !row->has_group;
	values[Anum_key_store_contribution - 1] = PointerGetDatum(row->contribution);
	nulls[Anum_key_store_contribution - 1] = (row->contribution == NULL);
}

/* inserts index entries of a new (non-HOT) key store tuple but the key's */
static void
insert_secondary(KeyStore *ks, HeapTuple tup, KeyRow *row)
{
	Datum		iv[2];
	bool		in[2] = {false, false};

	if (row->has_group)
	{
		iv[0] = ObjectIdGetDatum(ks->relid);
		iv[1] = Int32GetDatum(row->group_hash);
		index_insert(ks->groupidx, iv, in, &tup->t_self, ks->heap,
					 UNIQUE_CHECK_NO, false, ks->groupinfo);
	}
	if (row->superseded || row->retracted)
	{
		iv[0] = ObjectIdGetDatum(ks->relid);
		index_insert(ks->supidx, iv, in, &tup->t_self, ks->heap,
					 UNIQUE_CHECK_NO, false, ks->supinfo);
	}
}

/* scan keys for (relid, key) on key_store_key_idx */
static void
key_scankeys(KeyStore *ks, text *key, ScanKey skey)
{
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ks->relid));
	ScanKeyEntryInitialize(&skey[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, F_TEXTEQ, PointerGetDatum(key));
}

/*
 * Releases the speculative insertion token, waking whoever waits for one
 * of our insertions.  Never wait while holding it: the one waited for may
 * be waiting for us.
 */
static void
release_token(KeyStore *ks)
{
	if (ks->token != 0)
	{
		SpeculativeInsertionLockRelease(GetCurrentTransactionId());
		ks->token = 0;
	}
}

/* the key store's dirty-snapshot scan of the unique index, positioned on key */
static IndexScanDesc
dirty_scan(KeyStore *ks, text *key)
{
	ScanKeyData skey[2];

	if (ks->scan == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(ks->cxt);

		InitDirtySnapshot(ks->dirty);
		ks->scan = index_beginscan(ks->heap, ks->keyidx, &ks->dirty, 2, 0);
		MemoryContextSwitchTo(old);
	}
	key_scankeys(ks, key, skey);
	{
		MemoryContext old = MemoryContextSwitchTo(ks->cxt);

		index_rescan(ks->scan, skey, 2, NULL, 0);
		MemoryContextSwitchTo(old);
	}
	return ks->scan;
}

/*
 * The next row of the reused scan.  The index AM may allocate scan state
 * on the way (btree's killed items), so do it in the key store's context,
 * which outlives the per-row one.
 */
static bool
scan_next(KeyStore *ks, IndexScanDesc scan)
{
	MemoryContext old = MemoryContextSwitchTo(ks->cxt);
	bool		found = index_getnext_slot(scan, ForwardScanDirection, ks->slot);

	MemoryContextSwitchTo(old);
	return found;
}

/*
 * Finds the newest row of key, waiting for writers in progress.  Returns a
 * copy (in CurrentMemoryContext) or NULL.
 */
HeapTuple
keystore_probe(KeyStore *ks, text *key)
{
	IndexScanDesc scan;
	HeapTuple	result;

retry:
	result = NULL;
	scan = dirty_scan(ks, key);
	while (scan_next(ks, scan))
	{
		TransactionId xwait = TransactionIdIsValid(ks->dirty.xmin) ?
			ks->dirty.xmin : ks->dirty.xmax;

		if (TransactionIdIsValid(xwait))
		{
			ItemPointerData ctid = ks->slot->tts_tid;
			uint32		token = ks->dirty.speculativeToken;
			TransactionId xmin = ks->dirty.xmin;

			ExecClearTuple(ks->slot);
			release_token(ks);
			if (token)
				SpeculativeInsertionWait(xmin, token);
			else
				XactLockTableWait(xwait, ks->heap, &ctid, XLTW_InsertIndex);
			goto retry;
		}
		result = ExecCopySlotHeapTuple(ks->slot);
		result->t_self = ks->slot->tts_tid;

		/* REPEATABLE READ: the row must be visible to our snapshot */
		if (IsolationUsesXactSnapshot() &&
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(result->t_data)) &&
			!table_tuple_satisfies_snapshot(ks->heap, ks->slot, GetTransactionSnapshot()))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update of event key \"%s\"",
							text_to_cstring(key)),
					 errhint("Retry the transaction.")));
		break;
	}
	ExecClearTuple(ks->slot);
	return result;
}

/*
 * True if another transaction's row of key (not mytid) exists or is being
 * written.  Waits for a concurrent speculative insertion by a transaction
 * with a higher xid first, so two inserters of one key cannot livelock.
 */
static bool
conflicts(KeyStore *ks, text *key, ItemPointer mytid)
{
	IndexScanDesc scan = dirty_scan(ks, key);
	bool		conflict = false;

	while (scan_next(ks, scan))
	{
		TransactionId xwait;

		if (ItemPointerEquals(&ks->slot->tts_tid, mytid))
			continue;
		xwait = TransactionIdIsValid(ks->dirty.xmin) ? ks->dirty.xmin : ks->dirty.xmax;
		if (TransactionIdIsValid(xwait) && ks->dirty.speculativeToken &&
			TransactionIdPrecedes(GetCurrentTransactionId(), xwait))
		{
			uint32		token = ks->dirty.speculativeToken;
			TransactionId xmin = ks->dirty.xmin;

			ExecClearTuple(ks->slot);
			release_token(ks);
			SpeculativeInsertionWait(xmin, token);
			return true;
		}
		conflict = true;
		break;
	}
	ExecClearTuple(ks->slot);
	return conflict;
}

/*
 * Inserts a row for a new key.  Returns false if another transaction
 * claimed the key meanwhile (nothing is left behind; look again).
 */
bool
keystore_insert(KeyStore *ks, text *key, KeyRow *row)
{
	Datum		values[Natts_key_store];
	bool		nulls[Natts_key_store];
	HeapTuple	tup;
	TransactionId xid = GetCurrentTransactionId();
	uint32		token;
	Datum		iv[2];
	bool		in[2] = {false, false};
	bool		ok;

	keyrow_values(ks, key, row, values, nulls);
	tup = heap_form_tuple(RelationGetDescr(ks->heap), values, nulls);

	if (key == NULL)
	{
		/* an unkeyed contribution: nothing to conflict with */
		heap_insert(ks->heap, tup, GetCurrentCommandId(true), 0, NULL);
		iv[0] = ObjectIdGetDatum(ks->relid);
		in[1] = true;
		index_insert(ks->keyidx, iv, in, &tup->t_self, ks->heap,
					 UNIQUE_CHECK_NO, false, ks->keyinfo);
		insert_secondary(ks, tup, row);
		heap_freetuple(tup);
		return true;
	}

	/* one token for the batch's insertions, released before any wait */
	if (ks->token == 0)
		ks->token = SpeculativeInsertionLockAcquire(xid);
	token = ks->token;
	HeapTupleHeaderSetSpeculativeToken(tup->t_data, token);
	heap_insert(ks->heap, tup, GetCurrentCommandId(true),
				HEAP_INSERT_SPECULATIVE, NULL);
	iv[0] = ObjectIdGetDatum(ks->relid);
	iv[1] = PointerGetDatum(key);
	ok = index_insert(ks->keyidx, iv, in, &tup->t_self, ks->heap,
					  UNIQUE_CHECK_PARTIAL, false, ks->keyinfo);
	if (!ok && conflicts(ks, key, &tup->t_self))
	{
		heap_abort_speculative(ks->heap, &tup->t_self);
		release_token(ks);
		heap_freetuple(tup);
		return false;
	}
	heap_finish_speculative(ks->heap, &tup->t_self);
	insert_secondary(ks, tup, row);
	row->tid = tup->t_self;
	heap_freetuple(tup);
	return true;
}

/*
 * Replaces the key's row oldtid by row.  Returns false if a concurrent
 * transaction changed it meanwhile (look again).
 */
bool
keystore_update(KeyStore *ks, text *key, KeyRow *old, KeyRow *row)
{
	Datum		values[Natts_key_store];
	bool		nulls[Natts_key_store];
	HeapTuple	tup;
	TM_Result	res;
	TM_FailureData tmfd;
	LockTupleMode lockmode;

	release_token(ks);

	/* our own row of this command: make it updatable */
	if (old->own)
		CommandCounterIncrement();

	keyrow_values(ks, key, row, values, nulls);
	tup = heap_form_tuple(RelationGetDescr(ks->heap), values, nulls);
	res = heap_update(ks->heap, &old->tid, tup, GetCurrentCommandId(true),
					  InvalidSnapshot, true, &tmfd, &lockmode);
	switch (res)
	{
		case TM_Ok:
			break;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update of event key \"%s\"",
								key ? text_to_cstring(key) : "?"),
						 errhint("Retry the transaction.")));
			heap_freetuple(tup);
			return false;
		default:
			elog(ERROR, "unexpected result %d updating a ledger key", (int) res);
	}
	if (!HeapTupleIsHeapOnly(tup))
	{
		Datum		iv[2];
		bool		in[2] = {false, false};

		iv[0] = ObjectIdGetDatum(ks->relid);
		iv[1] = PointerGetDatum(key);
		index_insert(ks->keyidx, iv, in, &tup->t_self, ks->heap,
					 UNIQUE_CHECK_YES, false, ks->keyinfo);
		insert_secondary(ks, tup, row);
	}
	row->tid = tup->t_self;
	heap_freetuple(tup);
	return true;
}

/* records that the group with hash h lost a contribution */
void
keystore_mark_dirty(Oid relid, int32 h)
{
	Relation	rel = table_open(LedgerCatalogRelid("key_dirty_group", false),
								 RowExclusiveLock);
	Relation	idx = index_open(LedgerCatalogRelid("key_dirty_group_idx", false),
								 RowExclusiveLock);
	Datum		values[2];
	bool		nulls[2] = {false, false};
	HeapTuple	tup;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int32GetDatum(h);
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	heap_insert(rel, tup, GetCurrentCommandId(true), 0, NULL);
	index_insert(idx, values, nulls, &tup->t_self, rel, UNIQUE_CHECK_NO,
				 false, BuildIndexInfo(idx));
	heap_freetuple(tup);
	index_close(idx, RowExclusiveLock);
	table_close(rel, RowExclusiveLock);
}

/* ------------------------------------------------------------------------
 * Row values: key text, version, event time, payload hash, contribution
 * ------------------------------------------------------------------------
 */

/* the key of a row as text (in CurrentMemoryContext) */
text *
key_text(LedgerKeySpec *spec, Datum d)
{
	if (spec->key_is_text)
		return pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	return cstring_to_text(OutputFunctionCall(&spec->key_out, d));
}

/* a version value as int64 */
int64
version_value(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case DATEOID:
			return DatumGetDateADT(d);
		default:
			return DatumGetInt64(d);
	}
}

/* a 64-bit hash of a row's payload: every attribute but key and version */
int64
payload_hash(LedgerKeySpec *spec, TupleDesc desc, Datum *values, bool *isnull)
{
	uint64		h = UINT64CONST(0x9e3779b97f4a7c15);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		uint64		v;

		if (att->attisdropped || i == spec->key_attnum - 1 ||
			i == spec->version_attnum - 1)
			continue;
		if (isnull[i])
			v = UINT64CONST(0x5bd1e9955bd1e995) + i;
		else if (att->attbyval)
		{
			int64		x = 0;

			switch (att->attlen)
			{
				case 1:
					x = DatumGetChar(values[i]);
					break;
				case 2:
					x = DatumGetInt16(values[i]);
					break;
				case 4:
					x = DatumGetInt32(values[i]);
					break;
				default:
					x = DatumGetInt64(values[i]);
					break;
			}
			v = hash_bytes_uint32_extended((uint32) x, (uint64) (x >> 32) + i);
		}
		else if (att->attlen == -1)
		{
			struct varlena *p = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[i]));

			v = hash_bytes_extended((const unsigned char *) VARDATA_ANY(p),
									VARSIZE_ANY_EXHDR(p), i);
		}
		else if (att->attlen == -2)
			v = hash_bytes_extended((const unsigned char *) DatumGetCString(values[i]),
									strlen(DatumGetCString(values[i])), i);
		else
			v = hash_bytes_extended((const unsigned char *) DatumGetPointer(values[i]),
									att->attlen, i);
		h = hash_combine64(h, v);
	}
	return (int64) h;
}

/* a prepared rollup row as a contribution bytea */
bytea *
contribution_pack(TupleDesc desc, Datum *values, bool *isnull)
{
	HeapTuple	tup = heap_form_tuple(desc, values, isnull);
	bytea	   *b = palloc(VARHDRSZ + tup->t_len);

	SET_VARSIZE(b, VARHDRSZ + tup->t_len);
	memcpy(VARDATA(b), tup->t_data, tup->t_len);
	heap_freetuple(tup);
	return b;
}

/* unpacks a contribution into values/isnull (natts of desc) */
void
contribution_unpack(TupleDesc desc, bytea *b, Datum *values, bool *isnull)
{
	HeapTupleData tup;
	Size		len;

	b = (bytea *) pg_detoast_datum((struct varlena *) b);
	len = VARSIZE(b) - VARHDRSZ;
	if (len < SizeofHeapTupleHeader)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger key store holds a corrupted contribution")));
	tup.t_len = len;
	tup.t_data = palloc(len);	/* MAXALIGNed copy */
	memcpy(tup.t_data, VARDATA(b), len);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	if (HeapTupleHeaderGetNatts(tup.t_data) > desc->natts ||
		tup.t_data->t_hoff > len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger key store holds a corrupted contribution")));
	heap_deform_tuple(&tup, desc, values, isnull);
}

/* ------------------------------------------------------------------------
 * Applying rows
 * ------------------------------------------------------------------------
 */

/* the retraction of a stored contribution, in CurrentMemoryContext */
static LedgerRetraction *
make_retraction(LedgerKeySpec *spec, TupleDesc desc, bytea *contribution)
{
	LedgerRetraction *r = palloc(sizeof(LedgerRetraction));
	int			natts = Max(desc->natts, 1);
	LedgerRollup *rollup = spec->rollup;

	r->values = palloc(sizeof(Datum) * natts);
	r->isnull = palloc(sizeof(bool) * natts);
	contribution_unpack(desc, contribution, r->values, r->isnull);
	/* count metrics hold the events the row stood for */
	r->events = 1;
	if (rollup->count_attnum && !r->isnull[rollup->count_attnum - 1])
	{
		Datum		d = r->values[rollup->count_attnum - 1];

		r->events = rollup->basetype[rollup->count_attnum - 1] == NUMERICOID ?
			DatumGetInt64(DirectFunctionCall1(numeric_int8, d)) :
			DatumGetInt64(d);
	}
	r->events = -r->events;
	LedgerRollupNegate(rollup, r->values, r->isnull);
	return r;
}

/*
 * Chooses between claiming a key first (new keys) and looking it up first
 * (replays): up when keys turn out to exist, down when they are new.
 */
static int	insert_first_score = 0;

/*
 * Applies one keyed row; returns its outcome.  *retraction is set to the
 * contribution to take back, if any.
 */
static LedgerKeyOutcome
apply_one(KeyStore *ks, LedgerKeySpec *spec, TupleDesc desc, text *key,
		  KeyRow *row, LedgerRetraction **retraction)
{
	*retraction = NULL;

	/*
	 * While most keys are new (a first load), claim the key straight away:
	 * the unique index tells whether it exists, and no probe is needed.
	 */
	if (insert_first_score < 8 && keystore_insert(ks, key, row))
	{
		insert_first_score = Max(insert_first_score - 1, 0);
		return LEDGER_KEY_INSERTED;
	}
	insert_first_score = Min(insert_first_score + 2, 16);

	for (;;)
	{
		HeapTuple	tup = keystore_probe(ks, key);
		KeyRow		old;

		if (tup == NULL)
		{
			if (keystore_insert(ks, key, row))
				return LEDGER_KEY_INSERTED;
			continue;
		}
		keystore_deform(ks, tup, &old);

		if (row->has_version && (!old.has_version || row->version > old.version))
		{
			/* a newer version: replace, taking the old contribution back */
			row->superseded = true;
			if (!keystore_update(ks, key, &old, row))
				continue;
			if (!old.retracted && spec->rollup && old.contribution)
				*retraction = make_retraction(spec, desc, old.contribution);
			if (!old.retracted && spec->minmax && old.has_group)
				keystore_mark_dirty(spec->relid, old.group_hash);
			return LEDGER_KEY_REPLACED;
		}
		if (row->has_version && old.has_version && row->version < old.version)
			return LEDGER_KEY_STALE;
		if (row->payload == old.payload)
			return LEDGER_KEY_UNCHANGED;
		if (row->has_version)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("event key \"%s\" version " INT64_FORMAT " was already applied with a different payload",
							text_to_cstring(key), row->version),
					 errdetail("A key and version identify one event; the row differs from the one applied before."),
					 errhint("Give a corrected event a higher version.")));
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("event key \"%s\" was already applied with a different payload",
						text_to_cstring(key)),
				 errdetail("Without a newer version, a key is applied once."),
				 errhint(spec->version_attnum ?
						 "Give a corrected event a higher version." :
						 "Add a version column to the ledger's key to send corrections.")));
	}
}

/* applies the key rules to rows about to be inserted */
void
LedgerKeyApply(Relation rel, LedgerKeySpec *spec, TupleTableSlot **slots,
			   int nslots, bool *apply, List **retractions)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = desc->natts;
	KeyStore	ks;
	MemoryContext tmpcxt;
	TimestampTz horizon = 0;
	Datum	   *prepared = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *prepnull = palloc(sizeof(bool) * Max(natts, 1));
	Datum	  **prepv = palloc(sizeof(Datum *) * Max(natts, 1));
	bool	  **prepn = palloc(sizeof(bool *) * Max(natts, 1));
	Oid			relid = RelationGetRelid(rel);

	/* column-major views of the one prepared row (see rollup.h) */
	for (int i = 0; i < natts; i++)
	{
		prepv[i] = &prepared[i];
		prepn[i] = &prepnull[i];
	}

	if (spec->has_retention)
		horizon = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														  TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
														  IntervalPGetDatum(&spec->retention)));
	keystore_open(&ks, relid, RowExclusiveLock);
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ledger key apply",
								   ALLOCSET_DEFAULT_SIZES);

	for (int s = 0; s < nslots; s++)
	{
		TupleTableSlot *slot = slots[s];
		MemoryContext old;
		KeyRow		row;
		text	   *key = NULL;
		LedgerKeyOutcome outcome;
		LedgerRetraction *retraction = NULL;
		int			k = spec->key_attnum - 1;

		slot_getallattrs(slot);
		old = MemoryContextSwitchTo(tmpcxt);
		memset(&row, 0, sizeof(row));

		if (spec->time_attnum && !slot->tts_isnull[spec->time_attnum - 1])
			row.event_time = LedgerTimeValue(spec->time_type,
											  slot->tts_values[spec->time_attnum - 1]);
		else
			row.event_time = GetCurrentTransactionStartTimestamp();
		row.has_time = true;

		if (!slot->tts_isnull[k])
			key = key_text(spec, slot->tts_values[k]);
		if (key != NULL && spec->has_retention && row.event_time < horizon)
		{
			if (spec->reject_late)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("event key \"%s\" is older than the key retention of ledger \"%s\"",
								text_to_cstring(key), RelationGetRelationName(rel)),
						 errdetail("Keys of events older than %s are forgotten, so this event cannot be deduplicated.",
								   DatumGetCString(DirectFunctionCall1(interval_out,
																	   IntervalPGetDatum(&spec->retention)))),
						 errhint("Lengthen the retention with ledger.set_key_retention(), or set late_events to 'accept'.")));
			key = NULL;			/* accepted without deduplication */
		}

		if (spec->version_attnum && !slot->tts_isnull[spec->version_attnum - 1])
		{
			row.has_version = true;
			row.version = version_value(spec->version_type,
										slot->tts_values[spec->version_attnum - 1]);
		}
		row.payload = payload_hash(spec, desc, slot->tts_values, slot->tts_isnull);

		if (spec->rollup != NULL)
		{
			/* the contribution: the row as the rollup folds it */
			for (int i = 0; i < natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				prepnull[i] = att->attisdropped || slot->tts_isnull[i];
				prepared[i] = prepnull[i] ? (Datum) 0 : slot->tts_values[i];
				if (!prepnull[i] && att->attlen == -1)
					prepared[i] = PointerGetDatum(pg_detoast_datum((struct varlena *)
																   DatumGetPointer(prepared[i])));
			}
			if (!prepnull[spec->rollup->time_attnum - 1])
			{
				(void) LedgerRollupPrepareRow(spec->rollup, prepared, prepnull);
				row.contribution = contribution_pack(desc, prepared, prepnull);
				if (spec->minmax)
				{
					row.has_group = true;
					row.group_hash = (int32) LedgerRollupHashKey(spec->rollup,
																 prepv, prepn, 0);
				}
			}
		}

		if (key == NULL)
		{
			/* unkeyed rows count as they come; min/max need their values */
			if (spec->minmax && row.contribution)
				(void) keystore_insert(&ks, NULL, &row);
			outcome = LEDGER_KEY_UNKEYED;
		}
		else
			outcome = apply_one(&ks, spec, desc, key, &row, &retraction);

		MemoryContextSwitchTo(old);
		if (retraction != NULL)
		{
			/* copy out of tmpcxt */
			LedgerRetraction *r = palloc(sizeof(LedgerRetraction));

			r->values = palloc(sizeof(Datum) * Max(natts, 1));
			r->isnull = palloc(sizeof(bool) * Max(natts, 1));
			r->events = retraction->events;
			for (int i = 0; i < natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				r->isnull[i] = retraction->isnull[i];
				r->values[i] = r->isnull[i] ? (Datum) 0 :
					datumCopy(retraction->values[i], att->attbyval, att->attlen);
			}
			*retractions = lappend(*retractions, r);
		}
		apply[s] = (outcome == LEDGER_KEY_INSERTED ||
					outcome == LEDGER_KEY_REPLACED ||
					outcome == LEDGER_KEY_UNKEYED);
		count_outcome(relid, outcome);
		MemoryContextReset(tmpcxt);
	}
	MemoryContextDelete(tmpcxt);
	keystore_close(&ks);
	pfree(prepared);
	pfree(prepnull);
}

/* retracts key of rel */
bool
LedgerKeyRetract(Relation rel, LedgerKeySpec *spec, const char *keystr,
				 LedgerRetraction **retraction)
{
	KeyStore	ks;
	text	   *key = cstring_to_text(keystr);
	bool		done = false;

	*retraction = NULL;
	keystore_open(&ks, RelationGetRelid(rel), RowExclusiveLock);
	for (;;)
	{
		HeapTuple	tup = keystore_probe(&ks, key);
		KeyRow		old;
		KeyRow		row;

		if (tup == NULL)
			break;
		keystore_deform(&ks, tup, &old);
		if (old.retracted)
			break;
		row = old;
		row.retracted = true;
		if (!keystore_update(&ks, key, &old, &row))
			continue;
		if (spec->rollup && old.contribution)
			*retraction = make_retraction(spec, RelationGetDescr(rel), old.contribution);
		if (spec->minmax && old.has_group)
			keystore_mark_dirty(spec->relid, old.group_hash);
		done = true;
		break;
	}
	keystore_close(&ks);
	return done;
}
