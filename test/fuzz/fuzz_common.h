/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  Helpers shared by the segment/bitmap fuzz harnesses and the seed
 *	  generator.
 *
 * NOTES
 *	  The harnesses link src/segment/segment_format.c and
 *	  src/bitmap/roaring_check.c exactly as the server does; these helpers
 *	  only stand in for the server glue (allocation, the zstd contexts, the
 *	  CRoaring calls of src/bitmap/bitmap.c).  Every decoded by-reference
 *	  value is read in full, so AddressSanitizer sees any value that a
 *	  decoder let run out of its buffer.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_FUZZ_COMMON_H
#define LEDGER_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>
#include <zstd.h>

#include "roaring_check.h"
#include "segment_format.h"

/* the column types the harnesses pick from */
static const LedgerFmtType fuzz_types[] = {
	{LEDGER_FMT_BYVAL, 1, 'c'},		/* bool, "char" */
	{LEDGER_FMT_BYVAL, 2, 's'},		/* int2 */
	{LEDGER_FMT_BYVAL, 4, 'i'},		/* int4, date, float4, oid */
	{LEDGER_FMT_BYVAL, 8, 'd'},		/* int8, timestamptz, float8 */
	{LEDGER_FMT_FIXED, 16, 'c'},	/* uuid */
	{LEDGER_FMT_FIXED, 16, 'd'},	/* interval, point */
	{LEDGER_FMT_FIXED, 6, 'i'},		/* macaddr */
	{LEDGER_FMT_FIXED, 64, 'c'},	/* name */
	{LEDGER_FMT_VARLENA, -1, 'i'},	/* text, numeric, jsonb */
	{LEDGER_FMT_VARLENA, -1, 'd'},	/* int8[] */
	{LEDGER_FMT_VARLENA, -1, 'c'},	/* bytea-like with char alignment */
	{LEDGER_FMT_CSTRING, -2, 'c'},	/* cstring */
};
#define FUZZ_NTYPES ((int) (sizeof(fuzz_types) / sizeof(fuzz_types[0])))

/* aborts the harness: an invariant of the decoder was broken */
#define FUZZ_ASSERT(cond) \
	do { if (!(cond)) { fprintf(stderr, "fuzz assertion failed: %s (%s:%d)\n", \
								#cond, __FILE__, __LINE__); abort(); } } while (0)

static volatile uint64_t fuzz_sink;

/* reads every byte of a decoded value so ASan checks it is in bounds */
static inline void
fuzz_touch_value(const LedgerFmtType *type, uintptr_t d)
{
	const uint8_t *p = (const uint8_t *) d;
	size_t		len = 0;
	size_t		i;
	uint64_t	h = 0;

	switch (type->cls)
	{
		case LEDGER_FMT_BYVAL:
			fuzz_sink += d;
			return;
		case LEDGER_FMT_FIXED:
			len = (size_t) type->typlen;
			break;
		case LEDGER_FMT_VARLENA:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			if (p[0] & 0x80)
				len = p[0] & 0x7F;
			else
			{
				uint32_t	hdr;

				memcpy(&hdr, p, 4);
				len = hdr & 0x3FFFFFFF;
			}
#else
			if (p[0] & 0x01)
				len = p[0] >> 1;
			else
			{
				uint32_t	hdr;

				memcpy(&hdr, p, 4);
				len = hdr >> 2;
			}
#endif
			FUZZ_ASSERT(len >= 1);
			break;
		case LEDGER_FMT_CSTRING:
			len = strlen((const char *) p) + 1;
			break;
	}
	for (i = 0; i < len; i++)
		h = h * 31 + p[i];
	fuzz_sink += h;
}

/* one zstd frame of src with checksum and content size, malloc'd */
static inline uint8_t *
fuzz_compress(const void *src, size_t len, size_t *clen)
{
	static ZSTD_CCtx *cctx;
	size_t		cap = ZSTD_compressBound(len);
	uint8_t    *dst = malloc(cap ? cap : 1);
	LedgerFmtError err;

	if (cctx == NULL)
		cctx = ZSTD_createCCtx();
	if (LedgerFmtCompress(cctx, 1, src, len, dst, cap, clen, &err) != 0)
	{
		fprintf(stderr, "compress: %s\n", err.detail);
		abort();
	}
	return dst;
}

/* the backend's decompression context stand-in */
static inline ZSTD_DCtx *
fuzz_dctx(void)
{
	static ZSTD_DCtx *dctx;

	if (dctx == NULL)
		dctx = ZSTD_createDCtx();
	return dctx;
}

/*
 * What LedgerBitmapDeserialize does, minus the memory context: the strict
 * check, then CRoaring, then the cross-checks.  Returns NULL if rejected.
 */
static inline roaring_bitmap_t *
fuzz_bitmap_deserialize(const char *buf, size_t len, uint32_t limit)
{
	char		detail[256];
	uint64_t	card;
	roaring_bitmap_t *bm;

	if (LedgerRoaringCheck(buf, len, limit, &card, detail, sizeof(detail)) != 0)
		return NULL;
	bm = roaring_bitmap_portable_deserialize_safe(buf, len);
	FUZZ_ASSERT(bm != NULL);
	FUZZ_ASSERT(roaring_bitmap_portable_deserialize_size(buf, len) == len);
	FUZZ_ASSERT(roaring_bitmap_get_cardinality(bm) == card);
	FUZZ_ASSERT(card == 0 || roaring_bitmap_maximum(bm) < limit);
	return bm;
}

/*
 * Uses a validated bitmap the way the scan will: iterate, intersect, union,
 * optimize and serialize.  Every member must be increasing and < limit.
 */
static inline void
fuzz_exercise_bitmap(roaring_bitmap_t *bm, uint32_t limit)
{
	roaring_uint32_iterator_t it;
	roaring_bitmap_t *copy;
	roaring_bitmap_t *other;
	uint64_t	n = 0;
	int64_t		prev = -1;
	size_t		size;
	char	   *out;

	roaring_init_iterator(bm, &it);
	while (it.has_value)
	{
		FUZZ_ASSERT((int64_t) it.current_value > prev);
		FUZZ_ASSERT(it.current_value < limit);
		prev = it.current_value;
		n++;
		roaring_advance_uint32_iterator(&it);
	}
	FUZZ_ASSERT(n == roaring_bitmap_get_cardinality(bm));

	other = roaring_bitmap_create();
	roaring_bitmap_add_range(other, 0, limit / 2 + 1);
	copy = roaring_bitmap_and(bm, other);
	roaring_bitmap_or_inplace(copy, bm);
	FUZZ_ASSERT(roaring_bitmap_get_cardinality(copy) == n);
	roaring_bitmap_andnot_inplace(other, bm);
	roaring_bitmap_run_optimize(copy);
	size = roaring_bitmap_portable_size_in_bytes(copy);
	out = malloc(size);
	FUZZ_ASSERT(roaring_bitmap_portable_serialize(copy, out) == size);
	free(out);
	roaring_bitmap_free(copy);
	roaring_bitmap_free(other);
}

#endif							/* LEDGER_FUZZ_COMMON_H */
