/*-------------------------------------------------------------------------
 *
 * bitmap.h
 *	  Interface of the bitmap component: CRoaring bitmaps whose lifetime is
 *	  tied to a memory context.
 *
 * NOTES
 *	  CRoaring 0.2.66 allocates with malloc and has no allocator hooks.  Every
 *	  bitmap made here registers a reset callback on the memory context it
 *	  belongs to, so an ERROR (which resets contexts) cannot leak it.  Never
 *	  call roaring_bitmap_free on such a bitmap; use LedgerBitmapFree.
 *
 * IDENTIFICATION
 *	  src/include/ledger/bitmap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_BITMAP_H
#define LEDGER_BITMAP_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/palloc.h"

typedef struct roaring_bitmap_s roaring_bitmap_t;

/* an empty bitmap freed when cxt is reset or deleted */
extern roaring_bitmap_t *LedgerBitmapCreate(MemoryContext cxt);

/*
 * Takes ownership of a bitmap CRoaring allocated itself (roaring_bitmap_and,
 * roaring_bitmap_copy ...): it is freed when cxt is reset or deleted.  Raises
 * ERROR only after freeing it.
 */
extern roaring_bitmap_t *LedgerBitmapAdopt(roaring_bitmap_t *bitmap,
										   MemoryContext cxt);

/*
 * Frees a bitmap made here before its context goes (optional): releases
 * its containers at once; the small handle goes with the context.
 */
extern void LedgerBitmapFree(roaring_bitmap_t *bitmap);

/* appends the portable serialization of bitmap to buf */
extern void LedgerBitmapSerialize(roaring_bitmap_t *bitmap, StringInfo buf);

/*
 * Deserializes a portable bitmap of exactly len bytes and checks that every
 * member is below limit; raises ERRCODE_DATA_CORRUPTED otherwise.
 */
extern roaring_bitmap_t *LedgerBitmapDeserialize(const char *buf, size_t len,
												 uint32 limit,
												 MemoryContext cxt);

#endif							/* LEDGER_BITMAP_H */
