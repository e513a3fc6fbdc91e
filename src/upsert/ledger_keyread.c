/*-------------------------------------------------------------------------
 *
 * ledger_keyread.c
 *	  What readers and maintenance need from the key store: hiding
 *	  replaced rows of raw ledgers, recomputing min/max of rollup groups
 *	  that lost a contribution, clearing and expiring keys.
 *
 * NOTES
 *	  Both read helpers read the key store with the scan's own snapshot,
 *	  so what they hide or recompute is exactly what that snapshot's
 *	  segments hold.  They load only the keys (groups) that ever lost a
 *	  contribution, found through the partial index on superseded or
 *	  retracted keys and ledger.key_dirty_group, so a ledger without
 *	  corrections pays nothing.
 *
 * IDENTIFICATION
 *	  src/upsert/ledger_keyread.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "ledger/rollup.h"
#include "ledger/store.h"
#include "ledger/upsert.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "upsert_internal.h"

/* ------------------------------------------------------------------------
 * Raw ledgers: rows whose key was replaced or retracted
 * ------------------------------------------------------------------------
 */

typedef struct FilterKey
{
	struct FilterKey *next;		/* same hash */
	text	   *key;
	bool		retracted;
	bool		has_version;
	int64		version;
} FilterKey;

typedef struct FilterEntry
{
	uint64		hash;
	FilterKey  *keys;
} FilterEntry;

struct LedgerKeyFilter
{
	LedgerKeySpec *spec;
	HTAB	   *keys;
	MemoryContext cxt;
};

static uint64
hash_key_bytes(const char *p, int len)
{
	return hash_bytes_extended((const unsigned char *) p, len, 0x1ed9e7);
}

/* a filter for rel's rows as seen by snapshot, or NULL */
LedgerKeyFilter *
LedgerKeyFilterBegin(Relation rel, Snapshot snapshot)
{
	LedgerKeySpec *spec = LedgerKeyGet(rel);
	LedgerKeyFilter *f = NULL;
	KeyStore	ks;
	ScanKeyData skey;
	IndexScanDesc scan;
	HASHCTL		ctl;

	if (spec == NULL || spec->rollup != NULL)
		return NULL;

	keystore_open(&ks, RelationGetRelid(rel), AccessShareLock);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ks.relid));
	scan = index_beginscan(ks.heap, ks.supidx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, ks.slot))
	{
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(ks.slot, false, &shouldfree);
		KeyRow		row;
		bool		isnull;
		Datum		keyd = heap_getattr(tup, Anum_key_store_key,
										RelationGetDescr(ks.heap), &isnull);
		text	   *key;
		FilterEntry *e;
		FilterKey  *fk;
		uint64		h;
		bool		found;
		MemoryContext old;

		if (isnull)
			continue;
		keystore_deform(&ks, tup, &row);
		if (f == NULL)
		{
			f = palloc0(sizeof(LedgerKeyFilter));
			f->spec = spec;
			f->cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger key filter",
										   ALLOCSET_DEFAULT_SIZES);
			ctl.keysize = sizeof(uint64);
			ctl.entrysize = sizeof(FilterEntry);
			ctl.hcxt = f->cxt;
			f->keys = hash_create("ledger key filter", 256, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		old = MemoryContextSwitchTo(f->cxt);
		key = DatumGetTextPCopy(keyd);
		h = hash_key_bytes(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		e = hash_search(f->keys, &h, HASH_ENTER, &found);
		if (!found)
			e->keys = NULL;
		fk = palloc(sizeof(FilterKey));
		fk->key = key;
		fk->retracted = row.retracted;
		fk->has_version = row.has_version;
		fk->version = row.version;
		fk->next = e->keys;
		e->keys = fk;
		MemoryContextSwitchTo(old);
		if (shouldfree)
			heap_freetuple(tup);
	}
	index_endscan(scan);
	keystore_close(&ks);
	return f;
}

/* attributes the filter needs decoded */
void
LedgerKeyFilterColumns(LedgerKeyFilter *f, AttrNumber *key, AttrNumber *version)
{
	*key = f->spec->key_attnum;
	*version = f->spec->version_attnum;
}

/* true if a row with these key and version values is live */
bool
LedgerKeyFilterRowLive(LedgerKeyFilter *f, Datum keyd, bool keynull,
					   Datum versiond, bool versionnull)
{
	const char *p;
	int			len;
	text	   *key = NULL;
	uint64		h;
	FilterEntry *e;
	bool		live = true;

	if (keynull)
		return true;
	if (f->spec->key_is_text)
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(keyd);

		if (VARATT_IS_EXTENDED(v))
			v = pg_detoast_datum_packed(v);
		p = VARDATA_ANY(v);
		len = VARSIZE_ANY_EXHDR(v);
	}
	else
	{
		key = key_text(f->spec, keyd);
		p = VARDATA_ANY(key);
		len = VARSIZE_ANY_EXHDR(key);
	}
	h = hash_key_bytes(p, len);
	e = hash_search(f->keys, &h, HASH_FIND, NULL);
	if (e != NULL)
	{
		for (FilterKey *fk = e->keys; fk; fk = fk->next)
		{
			if (VARSIZE_ANY_EXHDR(fk->key) != len ||
				memcmp(VARDATA_ANY(fk->key), p, len) != 0)
				continue;
			if (fk->retracted)
				live = false;
			else if (fk->has_version)
				live = !versionnull &&
					version_value(f->spec->version_type, versiond) == fk->version;
			break;
		}
	}
	if (key)
		pfree(key);
	return live;
}

/* ------------------------------------------------------------------------
 * Rollup ledgers with min/max: groups that lost a contribution
 * ------------------------------------------------------------------------
 */

struct LedgerKeyMinMax
{
	Relation	rel;
	LedgerRollup *rollup;
	Snapshot	snapshot;
	HTAB	   *dirty;			/* group hashes */
	MemoryContext cxt;
	Datum	   *cv;				/* a contribution's values */
	bool	   *cn;
	Datum	  **cvp;			/* ... as column-major views */
	bool	  **cnp;
};

/* groups of rel that lost a contribution, or NULL */
LedgerKeyMinMax *
LedgerKeyMinMaxBegin(Relation rel, LedgerRollup *rollup, Snapshot snapshot)
{
	LedgerKeySpec *spec = LedgerKeyGet(rel);
	LedgerKeyMinMax *mm = NULL;
	Relation	drel,
				didx;
	ScanKeyData skey;
	IndexScanDesc scan;
	TupleTableSlot *slot;

	if (spec == NULL || !spec->minmax)
		return NULL;
	drel = table_open(LedgerCatalogRelid("key_dirty_group", false), AccessShareLock);
	didx = index_open(LedgerCatalogRelid("key_dirty_group_idx", false), AccessShareLock);
	slot = table_slot_create(drel, NULL);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = index_beginscan(drel, didx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int32		h = DatumGetInt32(slot_getattr(slot, 2, &isnull));

		if (mm == NULL)
		{
			HASHCTL		ctl;

			mm = palloc0(sizeof(LedgerKeyMinMax));
			mm->rel = rel;
			mm->rollup = rollup;
			mm->snapshot = snapshot;
			mm->cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger min/max",
											ALLOCSET_DEFAULT_SIZES);
			ctl.keysize = sizeof(int32);
			ctl.entrysize = sizeof(int32);
			ctl.hcxt = mm->cxt;
			mm->dirty = hash_create("ledger dirty groups", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
			mm->cv = MemoryContextAlloc(mm->cxt, sizeof(Datum) * Max(rollup->natts, 1));
			mm->cn = MemoryContextAlloc(mm->cxt, sizeof(bool) * Max(rollup->natts, 1));
			mm->cvp = MemoryContextAlloc(mm->cxt, sizeof(Datum *) * Max(rollup->natts, 1));
			mm->cnp = MemoryContextAlloc(mm->cxt, sizeof(bool *) * Max(rollup->natts, 1));
			for (int i = 0; i < rollup->natts; i++)
			{
				mm->cvp[i] = &mm->cv[i];
				mm->cnp[i] = &mm->cn[i];
			}
		}
		(void) hash_search(mm->dirty, &h, HASH_ENTER, NULL);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(didx, AccessShareLock);
	table_close(drel, AccessShareLock);
	return mm;
}

/* recomputes min and max of a group that lost a contribution */
void
LedgerKeyMinMaxFix(LedgerKeyMinMax *mm, Datum *values, bool *isnull)
{
	LedgerRollup *r;
	Datum	  **vp;
	bool	  **np;
	int32		h;
	KeyStore	ks;
	ScanKeyData skey[2];
	IndexScanDesc scan;

	if (mm == NULL)
		return;
	r = mm->rollup;
	vp = palloc(sizeof(Datum *) * Max(r->natts, 1));
	np = palloc(sizeof(bool *) * Max(r->natts, 1));
	for (int i = 0; i < r->natts; i++)
	{
		vp[i] = &values[i];
		np[i] = &isnull[i];
	}
	h = (int32) LedgerRollupHashKey(r, vp, np, 0);
	if (hash_search(mm->dirty, &h, HASH_FIND, NULL) == NULL)
		return;

	/* start from nothing and fold every live contribution of the group */
	for (int i = 0; i < r->natts; i++)
		if (r->roles[i] == LEDGER_ROLE_MIN || r->roles[i] == LEDGER_ROLE_MAX)
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
		}
	keystore_open(&ks, RelationGetRelid(mm->rel), AccessShareLock);
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ks.relid));
	ScanKeyInit(&skey[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(h));
	scan = index_beginscan(ks.heap, ks.groupidx, mm->snapshot, 2, 0);
	index_rescan(scan, skey, 2, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, ks.slot))
	{
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(ks.slot, false, &shouldfree);
		KeyRow		row;

		keystore_deform(&ks, tup, &row);
		if (!row.retracted && row.contribution != NULL)
		{
			contribution_unpack(RelationGetDescr(mm->rel), row.contribution,
								mm->cv, mm->cn);
			if (LedgerRollupKeysEqual(r, vp, np, 0, mm->cvp, mm->cnp, 0))
			{
				/* only min and max: hide the other metrics */
				for (int i = 0; i < r->natts; i++)
					if (r->roles[i] == LEDGER_ROLE_SUM || r->roles[i] == LEDGER_ROLE_COUNT)
						mm->cn[i] = true;
				LedgerRollupCombine(r, vp, np, 0, mm->cvp, mm->cnp, 0,
									CurrentMemoryContext);
			}
		}
		if (shouldfree)
			heap_freetuple(tup);
	}
	index_endscan(scan);
	keystore_close(&ks);
}

/* ------------------------------------------------------------------------
 * Maintenance
 * ------------------------------------------------------------------------
 */

/* deletes relid's rows of a key store table through its (relid) index */
static void
delete_by_relid(const char *table, const char *index, Oid relid)
{
	Oid			tabid = LedgerCatalogRelid(table, true);
	Oid			idxid = LedgerCatalogRelid(index, true);
	Relation	rel,
				idx;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snapshot;

	if (!OidIsValid(tabid) || !OidIsValid(idxid))
		return;
	CommandCounterIncrement();
	rel = table_open(tabid, RowExclusiveLock);
	idx = index_open(idxid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan_ordered(rel, idx, snapshot, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
		simple_heap_delete(rel, &tup->t_self);
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snapshot);
	index_close(idx, AccessShareLock);
	table_close(rel, RowExclusiveLock);
}

/* removes relid's keys (TRUNCATE, DROP) in the current transaction */
void
LedgerKeyStoreClear(Oid relid)
{
	delete_by_relid("key_store", "key_store_key_idx", relid);
	delete_by_relid("key_dirty_group", "key_dirty_group_idx", relid);
}

/* forgets keys of rel whose events are older than its key retention */
int64
LedgerKeyStoreExpire(Relation rel)
{
	LedgerKeySpec *spec = LedgerKeyGet(rel);
	LedgerKeyMinMax *mm = NULL;
	TimestampTz horizon;
	KeyStore	ks;
	ScanKeyData skey;
	IndexScanDesc scan;
	Snapshot	snapshot;
	int64		n = 0;

	if (spec == NULL || !spec->has_retention)
		return 0;
	horizon = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													  TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
													  IntervalPGetDatum(&spec->retention)));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	if (spec->minmax)
		mm = LedgerKeyMinMaxBegin(rel, spec->rollup, snapshot);
	keystore_open(&ks, RelationGetRelid(rel), RowExclusiveLock);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ks.relid));
	scan = index_beginscan(ks.heap, ks.keyidx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, ks.slot))
	{
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(ks.slot, false, &shouldfree);
		KeyRow		row;
		TM_FailureData tmfd;

		keystore_deform(&ks, tup, &row);
		/*
		 * Keep what readers still need: keys hiding replaced rows of a raw
		 * ledger, contributions of groups whose min/max are recomputed.
		 */
		if (row.has_time && row.event_time < horizon &&
			!(spec->rollup == NULL && (row.superseded || row.retracted)) &&
			!(mm != NULL && row.has_group &&
			  hash_search(mm->dirty, &row.group_hash, HASH_FIND, NULL) != NULL))
		{
			if (heap_delete(ks.heap, &row.tid, GetCurrentCommandId(true),
							InvalidSnapshot, true, &tmfd, false) == TM_Ok)
				n++;
		}
		if (shouldfree)
			heap_freetuple(tup);
		CHECK_FOR_INTERRUPTS();
	}
	index_endscan(scan);
	keystore_close(&ks);
	UnregisterSnapshot(snapshot);
	return n;
}
