/*-------------------------------------------------------------------------
 *
 * bitmap.c
 *	  CRoaring bitmaps whose lifetime is tied to a memory context.
 *
 * NOTES
 *	  CRoaring 0.2.66 allocates with malloc and has no allocator hooks.  So
 *	  every bitmap handed out here has an owner record palloc'd in its
 *	  memory context, with a reset callback that frees the bitmap; an ERROR
 *	  that resets the context cannot leak it.  The owner is registered
 *	  before the bitmap exists, so no ERROR can come between malloc and
 *	  registration.  LedgerBitmapFree empties the bitmap (releasing its
 *	  containers) and leaves the small handle to the callback: PostgreSQL 15
 *	  cannot unregister a reset callback.
 *
 *	  Deserialization never trusts CRoaring with unchecked bytes: the
 *	  buffer is first validated by LedgerRoaringCheck (roaring_check.c).
 *	  See src/bitmap/README.md.
 *
 * IDENTIFICATION
 *	  src/bitmap/bitmap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <roaring/roaring.h>

#include "ledger/bitmap.h"
#include "roaring_check.h"
#include "utils/memutils.h"

/* the record that frees one bitmap when its context goes */
typedef struct BitmapOwner
{
	MemoryContextCallback cb;
	roaring_bitmap_t *bitmap;
} BitmapOwner;

/* reset callback: frees the bitmap of an owner record */
static void
bitmap_owner_release(void *arg)
{
	BitmapOwner *owner = (BitmapOwner *) arg;

	if (owner->bitmap != NULL)
		roaring_bitmap_free(owner->bitmap);
	owner->bitmap = NULL;
}

/* makes an empty owner record in cxt, registered with cxt */
static BitmapOwner *
bitmap_owner_create(MemoryContext cxt)
{
	BitmapOwner *owner;

	owner = (BitmapOwner *) MemoryContextAlloc(cxt, sizeof(BitmapOwner));
	owner->bitmap = NULL;
	owner->cb.func = bitmap_owner_release;
	owner->cb.arg = owner;
	MemoryContextRegisterResetCallback(cxt, &owner->cb);
	return owner;
}

/* an empty bitmap freed when cxt is reset or deleted */
roaring_bitmap_t *
LedgerBitmapCreate(MemoryContext cxt)
{
	BitmapOwner *owner = bitmap_owner_create(cxt);

	owner->bitmap = roaring_bitmap_create();
	if (owner->bitmap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not allocate a bitmap.")));
	return owner->bitmap;
}

/* takes ownership of a malloc'd CRoaring bitmap; frees it on ERROR too */
roaring_bitmap_t *
LedgerBitmapAdopt(roaring_bitmap_t *bitmap, MemoryContext cxt)
{
	BitmapOwner *volatile owner = NULL;

	if (bitmap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not allocate a bitmap.")));
	PG_TRY();
	{
		owner = bitmap_owner_create(cxt);
	}
	PG_CATCH();
	{
		roaring_bitmap_free(bitmap);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner->bitmap = bitmap;
	return bitmap;
}

/* releases a bitmap's containers now; its handle goes with its context */
void
LedgerBitmapFree(roaring_bitmap_t *bitmap)
{
	if (bitmap != NULL)
		roaring_bitmap_clear(bitmap);
}

/* run-optimizes bitmap and appends its portable serialization to buf */
void
LedgerBitmapSerialize(roaring_bitmap_t *bitmap, StringInfo buf)
{
	size_t		size;
	size_t		written;

	roaring_bitmap_run_optimize(bitmap);
	size = roaring_bitmap_portable_size_in_bytes(bitmap);
	if (size >= MaxAllocSize - (size_t) buf->len - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("bitmap too large to serialize"),
				 errdetail("The bitmap needs %zu bytes.", size)));
	enlargeStringInfo(buf, (int) size);
	written = roaring_bitmap_portable_serialize(bitmap, buf->data + buf->len);
	if (written != size)
		elog(ERROR, "roaring bitmap serialized to %zu bytes instead of %zu",
			 written, size);
	buf->len += (int) size;
	buf->data[buf->len] = '\0';
}

/*
 * Deserializes a portable bitmap of exactly len bytes whose members must
 * all be below limit; raises ERRCODE_DATA_CORRUPTED otherwise.  The result
 * belongs to cxt.
 */
roaring_bitmap_t *
LedgerBitmapDeserialize(const char *buf, size_t len, uint32 limit,
						MemoryContext cxt)
{
	char		detail[256];
	uint64_t	card;
	BitmapOwner *owner;
	roaring_bitmap_t *bitmap;

	if (LedgerRoaringCheck(buf, len, limit, &card, detail, sizeof(detail)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger segment data is corrupted"),
				 errdetail_internal("%s", detail)));

	owner = bitmap_owner_create(cxt);
	bitmap = roaring_bitmap_portable_deserialize_safe(buf, len);
	if (bitmap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not allocate a bitmap of %zu bytes.", len)));
	owner->bitmap = bitmap;

	/* what CRoaring made must agree with what was checked */
	if (roaring_bitmap_portable_deserialize_size(buf, len) != len ||
		roaring_bitmap_get_cardinality(bitmap) != card ||
		(card > 0 && roaring_bitmap_maximum(bitmap) >= limit))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger segment data is corrupted"),
				 errdetail("A bitmap of %zu bytes does not deserialize to what it declares.",
						   len)));
	return bitmap;
}
