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

void
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
