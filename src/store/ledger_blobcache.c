/*-------------------------------------------------------------------------
 *
 * ledger_blobcache.c
 *	  A backend-local cache of detoasted segment column blobs.
 *
 * NOTES
 *	  Segments never change and segment ids are never reused, so a blob
 *	  cached under (storage, segment id, attnum) stays right for as long as
 *	  it is kept; a dropped or compacted segment's entries simply age out.
 *	  Detoasting (reading TOAST chunks and copying them together) is the
 *	  main cost of opening a segment, so repeated queries over the same
 *	  segments skip it, the way heap scans find their pages in shared
 *	  buffers.
 *
 *	  Readers hold pointers into cached blobs, so entries are only evicted
 *	  when no reader is active (at the start of the next one); while readers
 *	  are active and the cache is full, new blobs are simply not cached.
 *	  The active count is reset at transaction end, when every reader is
 *	  gone.  Size: ledger.cache_size.
 *
 * IDENTIFICATION
 *	  src/store/ledger_blobcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ledger/ledger.h"
#include "ledger/store.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

typedef struct BlobKey
{
	Oid			storage;
	int16		attnum;
	int16		which;			/* 0: data, 1: dictionary */
	int64		segment_id;
} BlobKey;

typedef struct BlobEntry
{
	BlobKey		key;
	bytea	   *blob;			/* which 0, 1: the blob */
	LedgerDictionary *dict;		/* which 2: a decoded dictionary */
	MemoryContext cxt;			/* which 2: holds it and its blob */
	Size		size;			/* bytes charged to the cache */
	uint64		used;			/* LRU clock of the last use */
} BlobEntry;

static HTAB *BlobCache = NULL;
static MemoryContext BlobContext = NULL;
static Size BlobBytes = 0;
static uint64 BlobClock = 0;
static int	ActiveReaders = 0;

/* creates the cache on first use */
static void
blobcache_init(void)
{
	HASHCTL		ctl;

	if (BlobCache != NULL)
		return;
	BlobContext = AllocSetContextCreate(TopMemoryContext, "ledger blob cache",
										ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BlobKey);
	ctl.entrysize = sizeof(BlobEntry);
	ctl.hcxt = BlobContext;
	BlobCache = hash_create("ledger blob cache", 1024, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* the cache key of a blob */
static BlobKey
blob_key(Oid storage, int64 segment_id, int attnum, int which)
{
	BlobKey		key;

	memset(&key, 0, sizeof(key));
	key.storage = storage;
	key.segment_id = segment_id;
	key.attnum = (int16) attnum;
	key.which = (int16) which;
	return key;
}

/* evicts least recently used blobs until the cache fits its size */
static void
blobcache_evict(void)
{
	Size		limit = (Size) ledger_cache_size * 1024;

	while (BlobBytes > limit)
	{
		HASH_SEQ_STATUS status;
		BlobEntry  *e,
				   *oldest = NULL;

		hash_seq_init(&status, BlobCache);
		while ((e = hash_seq_search(&status)) != NULL)
			if (oldest == NULL || e->used < oldest->used)
				oldest = e;
		if (oldest == NULL)
			break;
		BlobBytes -= oldest->size;
		if (oldest->cxt)
			MemoryContextDelete(oldest->cxt);
		else
			pfree(oldest->blob);
		hash_search(BlobCache, &oldest->key, HASH_REMOVE, NULL);
	}
}

/* a reader starts: a chance to evict */
void
LedgerBlobCacheReaderBegin(void)
{
	blobcache_init();
	if (ActiveReaders == 0)
		blobcache_evict();
	ActiveReaders++;
}

/* a reader ends */
void
LedgerBlobCacheReaderEnd(void)
{
	if (ActiveReaders > 0)
		ActiveReaders--;
}

/* every reader is gone at transaction end */
void
LedgerBlobCacheAtXactEnd(void)
{
	ActiveReaders = 0;
}

/* the cached blob, or NULL */
bytea *
LedgerBlobCacheGet(Oid storage, int64 segment_id, int attnum, int which)
{
	BlobKey		key = blob_key(storage, segment_id, attnum, which);
	BlobEntry  *e;

	if (BlobCache == NULL || ledger_cache_size == 0)
		return NULL;
	e = hash_search(BlobCache, &key, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	e->used = ++BlobClock;
	return e->blob;
}

/*
 * Keeps a copy of blob if it fits; returns the cached copy, or the blob
 * itself when it is not cached.
 */
bytea *
LedgerBlobCachePut(Oid storage, int64 segment_id, int attnum, int which,
				   bytea *blob)
{
	BlobKey		key = blob_key(storage, segment_id, attnum, which);
	Size		limit = (Size) ledger_cache_size * 1024;
	Size		size = VARSIZE(blob);
	BlobEntry  *e;
	bool		found;

	blobcache_init();
	if (size > limit / 4 || BlobBytes + size > limit)
	{
		if (ActiveReaders > 0 || size > limit / 4)
			return blob;
		blobcache_evict();
	}
	e = hash_search(BlobCache, &key, HASH_ENTER, &found);
	if (!found)
	{
		e->blob = MemoryContextAlloc(BlobContext, size);
		memcpy(e->blob, blob, size);
		e->dict = NULL;
		e->cxt = NULL;
		e->size = size;
		BlobBytes += size;
	}
	e->used = ++BlobClock;
	return e->blob;
}

/*
 * The decoded dictionary of a segment column: cached with its own copy of
 * the blob, or decoded into cxt when the cache cannot take it.
 */
LedgerDictionary *
LedgerBlobCacheDictionary(Oid storage, int64 segment_id, int attnum,
						  Form_pg_attribute attr, int nrows, bytea *blob,
						  MemoryContext cxt)
{
	BlobKey		key = blob_key(storage, segment_id, attnum, 2);
	Size		limit = (Size) ledger_cache_size * 1024;
	Size		size = VARSIZE(blob) * 3;
	BlobEntry  *e;
	MemoryContext dcxt;
	bytea	   *copy;
	LedgerDictionary *dict;

	blobcache_init();
	if (ledger_cache_size > 0)
	{
		e = hash_search(BlobCache, &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			e->used = ++BlobClock;
			return e->dict;
		}
	}
	if (ledger_cache_size == 0 || size > limit / 4 ||
		(BlobBytes + size > limit && ActiveReaders > 0))
		return LedgerDictionaryRead(attr, nrows, blob, cxt);
	if (BlobBytes + size > limit)
		blobcache_evict();

	dcxt = AllocSetContextCreate(BlobContext, "ledger cached dictionary",
								 ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		copy = MemoryContextAlloc(dcxt, VARSIZE(blob));
		memcpy(copy, blob, VARSIZE(blob));
		dict = LedgerDictionaryRead(attr, nrows, copy, dcxt);
	}
	PG_CATCH();
	{
		MemoryContextDelete(dcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	e = hash_search(BlobCache, &key, HASH_ENTER, NULL);
	e->blob = copy;
	e->dict = dict;
	e->cxt = dcxt;
	e->size = size;
	e->used = ++BlobClock;
	BlobBytes += size;
	return dict;
}
