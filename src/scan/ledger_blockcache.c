/*-------------------------------------------------------------------------
 *
 * ledger_blockcache.c
 *	  A backend-local cache of decoded column blocks of pass-by-value
 *	  columns (times, integers, floats): a query that reads the same blocks
 *	  again (dashboards, the same filter with other parameters) skips their
 *	  decompression and decoding.
 *
 * NOTES
 *	  Segments never change and segment ids are never reused, so an entry
 *	  keyed by (segment id sequence, storage, segment, attribute, type,
 *	  block) is never stale.
 *	  A hit copies the block's values into the reader's arrays (values of
 *	  pass-by-value types need no backing memory), so entries can be
 *	  evicted at any time; least recently used first, within half of
 *	  ledger.cache_size (the blob cache has the other half).  ledger.
 *	  cache_size = 0 switches it off.
 *
 *	  A block is kept the second time it is decoded, not the first: a query
 *	  that reads each block once (a full scan in a new session) would only
 *	  pay for copying every block and evicting the cache's useful entries.
 *	  The blocks seen once are remembered by key in a bounded set, cleared
 *	  when full.
 *
 * IDENTIFICATION
 *	  src/scan/ledger_blockcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/ilist.h"
#include "ledger/ledger.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "scan_internal.h"

typedef struct BlockKey
{
	Oid			epoch;			/* ledger.segment_id_seq: segment ids restart
								 * when the extension is created again */
	Oid			storage;
	Oid			typid;
	int64		segment_id;
	int32		attnum;
	int32		block;
} BlockKey;

typedef struct BlockEntry
{
	BlockKey	key;			/* hash key */
	dlist_node	lru;			/* most recently used at the head */
	int			n;
	Datum	   *values;
	bool	   *isnull;
	Size		size;
} BlockEntry;

/* keys of blocks decoded once since the set was last cleared */
#define SEEN_MAX 16384

static HTAB *BlockSeen = NULL;
static HTAB *BlockCache = NULL;
static MemoryContext BlockCacheContext = NULL;
static dlist_head BlockLru = DLIST_STATIC_INIT(BlockLru);
static Size BlockCacheBytes = 0;

/* the cache's budget in bytes */
static Size
budget(void)
{
	return (Size) ledger_cache_size * 1024 / 2;
}

/* a hash table keyed by BlockKey in the cache's context */
static HTAB *
block_table(const char *name, Size entrysize)
{
	HASHCTL		ctl = {.keysize = sizeof(BlockKey), .entrysize = entrysize,
	.hcxt = BlockCacheContext};

	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
init_cache(void)
{
	BlockCacheContext = AllocSetContextCreate(TopMemoryContext,
											  "ledger decoded blocks",
											  ALLOCSET_DEFAULT_SIZES);
	BlockCache = block_table("ledger decoded blocks", sizeof(BlockEntry));
	BlockSeen = block_table("ledger decoded blocks seen once", sizeof(BlockKey));
}

/* true if the block was decoded before; remembers it otherwise */
static bool
seen_before(BlockKey *key)
{
	bool		found;

	if (hash_get_num_entries(BlockSeen) >= SEEN_MAX)
	{
		hash_destroy(BlockSeen);
		BlockSeen = block_table("ledger decoded blocks seen once", sizeof(BlockKey));
	}
	hash_search(BlockSeen, key, HASH_ENTER, &found);
	return found;
}

static void
make_key(BlockKey *key, Oid epoch, Oid storage, int64 segment_id, int attnum,
		 Oid typid, int block)
{
	memset(key, 0, sizeof(BlockKey));
	key->epoch = epoch;
	key->storage = storage;
	key->typid = typid;
	key->segment_id = segment_id;
	key->attnum = attnum;
	key->block = block;
}

static void
evict(BlockEntry *e)
{
	dlist_delete(&e->lru);
	BlockCacheBytes -= e->size;
	pfree(e->values);
	pfree(e->isnull);
	hash_search(BlockCache, &e->key, HASH_REMOVE, NULL);
}

/*
 * Copies a cached block into values/isnull (room for a block); returns its
 * row count, or -1 if it is not cached.
 */
int
scan_blockcache_get(Oid epoch, Oid storage, int64 segment_id, int attnum,
					Oid typid, int block, Datum *values, bool *isnull)
{
	BlockKey	key;
	BlockEntry *e;

	if (BlockCache == NULL || budget() == 0)
		return -1;
	make_key(&key, epoch, storage, segment_id, attnum, typid, block);
	e = hash_search(BlockCache, &key, HASH_FIND, NULL);
	if (e == NULL)
		return -1;
	dlist_move_head(&BlockLru, &e->lru);
	memcpy(values, e->values, sizeof(Datum) * e->n);
	memcpy(isnull, e->isnull, sizeof(bool) * e->n);
	return e->n;
}

/* remembers a decoded block of a pass-by-value column */
void
scan_blockcache_put(Oid epoch, Oid storage, int64 segment_id, int attnum,
					Oid typid, int block, Datum *values, bool *isnull, int n)
{
	BlockKey	key;
	BlockEntry *e;
	bool		found;
	Size		size = (sizeof(Datum) + sizeof(bool)) * Max(n, 1);
	Datum	   *cvalues;
	bool	   *cisnull;

	if (budget() == 0 || size > budget() / 4)
		return;
	if (BlockCache == NULL)
		init_cache();
	make_key(&key, epoch, storage, segment_id, attnum, typid, block);
	if (!seen_before(&key) ||
		hash_search(BlockCache, &key, HASH_FIND, NULL) != NULL)
		return;
	while (BlockCacheBytes + size > budget() && !dlist_is_empty(&BlockLru))
		evict(dlist_container(BlockEntry, lru, dlist_tail_node(&BlockLru)));
	/* the copies first: an entry is complete once it is in the table */
	cvalues = MemoryContextAlloc(BlockCacheContext, sizeof(Datum) * Max(n, 1));
	cisnull = MemoryContextAlloc(BlockCacheContext, sizeof(bool) * Max(n, 1));
	memcpy(cvalues, values, sizeof(Datum) * n);
	memcpy(cisnull, isnull, sizeof(bool) * n);
	e = hash_search(BlockCache, &key, HASH_ENTER, &found);
	e->n = n;
	e->size = size;
	e->values = cvalues;
	e->isnull = cisnull;
	dlist_push_head(&BlockLru, &e->lru);
	BlockCacheBytes += size;
}
