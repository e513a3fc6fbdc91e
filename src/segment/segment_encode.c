/*-------------------------------------------------------------------------
 *
 * segment_encode.c
 *	  Encoding one column of a segment: value sections, dictionary with
 *	  row bitmaps, zone-map bounds, zstd framing.
 *
 * NOTES
 *	  LedgerSegmentEncodeColumn works in a private memory context, deleted
 *	  before it returns, and allocates its results in the caller's
 *	  CurrentMemoryContext.  It looks up the type cache and so must run in a
 *	  transaction.  The zstd compression context is created once per
 *	  backend and kept in a static (zstd cannot ERROR half-way, so it can
 *	  never be left in use); CRoaring bitmaps belong to the private context
 *	  through src/bitmap, so an ERROR leaks nothing.
 *
 *	  Dictionary rule (see README.md): a column whose type has a default
 *	  btree and a default hash opclass gets a dictionary when its distinct
 *	  non-NULL values number at most LEDGER_DICT_MAX_ENTRIES and at most
 *	  half its non-NULL rows; counting stops as soon as that is exceeded.
 *	  "Distinct" means distinct binary image, so that every value reads
 *	  back exactly (numeric 1.0 and 1.00, float -0 and 0 stay apart).
 *
 *	  The byte layout is written by segment_format.c and documented in
 *	  README.md; varlena packing uses the server's own macros here.
 *
 * IDENTIFICATION
 *	  src/segment/segment_encode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zstd.h>
#include <roaring/roaring.h>

#include "access/detoast.h"
#include "access/nbtree.h"
#include "access/tupmacs.h"
#include "common/hashfn.h"
#include "ledger/bitmap.h"
#include "ledger/ledger.h"
#include "ledger/segment.h"
#include "segment_format.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

/* how many values ahead to prefetch (prefetching never faults) */
#define PREFETCH_DISTANCE			8

/* zone-map bounds are not kept for values longer than this */
#define LEDGER_BOUND_MAX_BYTES		1024

StaticAssertDecl(sizeof(Datum) == sizeof(uintptr_t),
				 "Datum must be uintptr_t for segment_format.c");
StaticAssertDecl(LEDGER_SEGMENT_FORMAT == LEDGER_FMT_VERSION &&
				 LEDGER_BLOCK_ROWS == LEDGER_FMT_BLOCK_ROWS &&
				 LEDGER_SEGMENT_MAX_ROWS == LEDGER_FMT_MAX_ROWS &&
				 LEDGER_DICT_MAX_ENTRIES == LEDGER_FMT_DICT_MAX,
				 "segment.h and segment_format.h disagree");
StaticAssertDecl(LEDGER_DICT_MAX_ENTRIES <= LEDGER_BLOCK_ROWS,
				 "block scratch buffers also hold the dictionary");

/* one distinct value found while counting */
typedef struct DictEntry
{
	Datum		value;			/* the first row's Datum holding it */
	const char *data;			/* image bytes (by-reference types) */
	int64		ival;			/* image (by-value types) */
	uint32		len;			/* image length */
	uint32		hash;
} DictEntry;

/* state of one column encode */
typedef struct EncodeState
{
	Form_pg_attribute attr;
	LedgerFmtType ftype;
	int			nrows;
	const Datum *values;
	const bool *isnull;
	int			null_count;
	bool		packable;		/* may 4-byte varlena headers become 1-byte? */

	bool		has_order;		/* default btree opclass found */
	bool		can_dict;		/* ... and a default hash opclass */
	bool		cheap_order;	/* comparisons cheap enough for bounds */
	SortSupportData ssup;

	bool		have_bounds;	/* min/max found so far */
	Datum		min;
	Datum		max;

	int			ndict;			/* dictionary entries; 0 if none */
	DictEntry  *entries;		/* in sorted order once sorted */
	uint32	   *codes;			/* per row; meaningless for NULLs */

	/* scratch reused across blocks */
	Datum	   *dense;			/* non-NULL Datums of a block */
	uint32	   *dense_codes;	/* non-NULL codes of a block */
	int64	   *ivals;			/* integer images of a block */
	uint8	   *raw;
	size_t		rawcap;

	MemoryContext tmpcxt;		/* private, deleted at the end */
	MemoryContext outcxt;		/* the caller's */
} EncodeState;

static void bounds_update(EncodeState *st, const Datum *vals, uint32 n);

/* per-backend zstd compression context, created on first use */
static ZSTD_CCtx *ledger_cctx = NULL;

/* the backend's zstd compression context */
static ZSTD_CCtx *
get_cctx(void)
{
	if (ledger_cctx == NULL)
	{
		ledger_cctx = ZSTD_createCCtx();
		if (ledger_cctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd compression context.")));
	}
	return ledger_cctx;
}

/* raises the error for a column whose encoding exceeds the 1 GB limit */
static void
too_large(EncodeState *st, const char *what, size_t bytes)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("cannot encode column \"%s\": %s too large",
					NameStr(st->attr->attname), what),
			 errdetail("It would need %zu bytes; the limit is %zu.",
					   bytes, (size_t) MaxAllocSize),
			 errhint("Store fewer rows per segment or smaller values.")));
}

/* compresses src into a zstd frame at dst, raising ERROR when it fails */
static size_t
compress_frame(EncodeState *st, const void *src, size_t srclen, void *dst,
			   size_t dstcap)
{
	LedgerFmtError err;
	size_t		clen;

	if (LedgerFmtCompress(get_cctx(), ledger_compression_level, src, srclen,
						  dst, dstcap, &clen, &err) != 0)
	{
		if (dstcap < ZSTD_compressBound(srclen))
			too_large(st, "encoded data", ZSTD_compressBound(srclen));
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compress column \"%s\"",
						NameStr(st->attr->attname)),
				 errdetail_internal("%s", err.detail)));
	}
	return clen;
}

/* the sign-extended integer image of a by-value Datum */
static inline int64
byval_image(Datum d, int16 typlen)
{
	switch (typlen)
	{
		case 1:
			return (int64) DatumGetChar(d);
		case 2:
			return (int64) DatumGetInt16(d);
		case 4:
			return (int64) DatumGetInt32(d);
	}
	return (int64) d;
}

/* 32-bit mix of a 64-bit integer (murmur3 finalizer) */
static inline uint32
hash_int64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return (uint32) k;
}

/*
 * A varlena the encoder can copy: the caller promised detoasted values, but
 * one that is still external or compressed is detoasted here (into the
 * private context) rather than stored as a pointer.
 */
static inline Pointer
plain_varlena(Pointer p)
{
	if (unlikely(VARATT_IS_EXTERNAL(p) || VARATT_IS_COMPRESSED(p)))
		return (Pointer) detoast_attr((struct varlena *) p);
	return p;
}

/* fills e with the image of a non-NULL value and its hash */
static inline void
entry_image(EncodeState *st, Datum d, DictEntry *e)
{
	e->value = d;
	switch (st->ftype.cls)
	{
		case LEDGER_FMT_BYVAL:
			e->ival = byval_image(d, st->ftype.typlen);
			e->data = NULL;
			e->len = 0;
			e->hash = hash_int64((uint64) e->ival);
			return;
		case LEDGER_FMT_FIXED:
			e->data = DatumGetPointer(d);
			e->len = st->ftype.typlen;
			break;
		case LEDGER_FMT_VARLENA:
			{
				Pointer		p = plain_varlena(DatumGetPointer(d));

				e->value = PointerGetDatum(p);
				e->data = VARDATA_ANY(p);
				e->len = VARSIZE_ANY_EXHDR(p);
				break;
			}
		default:
			e->data = DatumGetCString(d);
			e->len = strlen(e->data);
			break;
	}
	e->ival = 0;
	e->hash = 0;
}

/* hashes the image entry_image filled in */
static inline void
entry_hash(EncodeState *st, DictEntry *e)
{
	if (st->ftype.cls != LEDGER_FMT_BYVAL)
		e->hash = hash_bytes((const unsigned char *) e->data, (int) e->len);
}

/* true if two entries hold the same image */
static inline bool
entry_equal(const EncodeState *st, const DictEntry *a, const DictEntry *b)
{
	if (st->ftype.cls == LEDGER_FMT_BYVAL)
		return a->ival == b->ival;
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/*
 * Counts distinct images and assigns each row a code, giving up (ndict =
 * 0) as soon as there are more than the dictionary rule allows.
 */
static void
count_distinct(EncodeState *st)
{
	int			nonnull = st->nrows - st->null_count;
	int			limit = Min(LEDGER_DICT_MAX_ENTRIES, nonnull / 2);
	uint32		nslots = 16;
	uint32		mask;
	uint32	   *slots;
	DictEntry	cur;
	bool		byref = st->ftype.cls != LEDGER_FMT_BYVAL;
	int			prev_code = -1;
	int			n = 0;
	int			i;

	st->ndict = 0;
	if (limit < 1)
		return;
	while (nslots < 2 * (uint32) limit + 2)
		nslots <<= 1;
	mask = nslots - 1;
	slots = palloc0(sizeof(uint32) * nslots);
	st->entries = palloc(sizeof(DictEntry) * (limit + 1));
	st->codes = palloc(sizeof(uint32) * st->nrows);

	for (i = 0; i < st->nrows; i++)
	{
		uint32		idx;

		if (st->isnull[i])
			continue;
		if (byref && i + PREFETCH_DISTANCE < st->nrows)
			__builtin_prefetch(DatumGetPointer(st->values[i + PREFETCH_DISTANCE]));
		entry_image(st, st->values[i], &cur);

		/* rows come sorted by dimensions: many repeat the previous row */
		if (prev_code >= 0 && entry_equal(st, &cur, &st->entries[prev_code]))
		{
			st->codes[i] = prev_code;
			continue;
		}
		entry_hash(st, &cur);
		idx = cur.hash & mask;
		for (;;)
		{
			uint32		s = slots[idx];

			if (s == 0)
			{
				if (n >= limit)
					return;		/* not worth a dictionary */
				st->entries[n] = cur;
				slots[idx] = ++n;
				prev_code = n - 1;
				break;
			}
			if (st->entries[s - 1].hash == cur.hash &&
				entry_equal(st, &cur, &st->entries[s - 1]))
			{
				prev_code = s - 1;
				break;
			}
			idx = (idx + 1) & mask;
		}
		st->codes[i] = prev_code;
	}
	pfree(slots);
	st->ndict = n;
}

/* qsort_arg comparator: btree order, ties broken by image bytes */
static int
entry_cmp(const void *a, const void *b, void *arg)
{
	EncodeState *st = (EncodeState *) arg;
	const DictEntry *x = &st->entries[*(const uint32 *) a];
	const DictEntry *y = &st->entries[*(const uint32 *) b];
	int			c;

	c = ApplySortComparator(x->value, false, y->value, false, &st->ssup);
	if (c != 0)
		return c;
	if (st->ftype.cls == LEDGER_FMT_BYVAL)
		return (x->ival > y->ival) - (x->ival < y->ival);
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->data, y->data, x->len);
}

/* sorts the dictionary entries and renumbers the row codes to match */
static void
sort_dictionary(EncodeState *st)
{
	uint32	   *order = palloc(sizeof(uint32) * st->ndict);
	uint32	   *rank = palloc(sizeof(uint32) * st->ndict);
	DictEntry  *sorted = palloc(sizeof(DictEntry) * st->ndict);
	int			i;

	for (i = 0; i < st->ndict; i++)
		order[i] = i;
	qsort_arg(order, st->ndict, sizeof(uint32), entry_cmp, st);
	for (i = 0; i < st->ndict; i++)
	{
		rank[order[i]] = i;
		sorted[i] = st->entries[order[i]];
	}
	for (i = 0; i < st->nrows; i++)
		if (!st->isnull[i])
			st->codes[i] = rank[st->codes[i]];
	st->entries = sorted;
	pfree(order);
	pfree(rank);
}

/*
 * Size of the value section for n non-NULL Datums; for by-value types also
 * fills ivals and the integer plan.  A varlena still toasted is replaced in
 * vals by its detoasted copy.
 */
static size_t
section_size(EncodeState *st, Datum *vals, uint32 n,
			 LedgerFmtIntPlan *plan)
{
	char		align = st->ftype.typalign;
	size_t		off = 0;
	uint32		i;

	switch (st->ftype.cls)
	{
		case LEDGER_FMT_BYVAL:
			for (i = 0; i < n; i++)
				st->ivals[i] = byval_image(vals[i], st->ftype.typlen);
			LedgerFmtIntPlanMake(st->ivals, n, plan);
			return LedgerFmtIntSectionSize(plan);
		case LEDGER_FMT_FIXED:
			return (size_t) n * LedgerFmtFixedStride(&st->ftype);
		case LEDGER_FMT_VARLENA:
			for (i = 0; i < n; i++)
			{
				Pointer		p;

				if (i + PREFETCH_DISTANCE < n)
					__builtin_prefetch(DatumGetPointer(vals[i + PREFETCH_DISTANCE]));
				p = plain_varlena(DatumGetPointer(vals[i]));
				vals[i] = PointerGetDatum(p);
				if (VARATT_IS_SHORT(p))
					off += VARSIZE_SHORT(p);
				else if (st->packable && VARATT_CAN_MAKE_SHORT(p))
					off += VARATT_CONVERTED_SHORT_SIZE(p);
				else
				{
					off = att_align_nominal(off, align);
					off += VARSIZE(p);
				}
			}
			return off;
		default:
			for (i = 0; i < n; i++)
			{
				off = att_align_nominal(off, align);
				off += strlen(DatumGetCString(vals[i])) + 1;
			}
			return off;
	}
}

/* writes the value section sized by section_size at dst (zeroing padding) */
static void
section_write(EncodeState *st, const Datum *vals, uint32 n,
			  const LedgerFmtIntPlan *plan, uint8 *dst)
{
	char		align = st->ftype.typalign;
	size_t		off = 0;
	size_t		next;
	uint32		i;

	switch (st->ftype.cls)
	{
		case LEDGER_FMT_BYVAL:
			LedgerFmtIntSectionWrite(st->ivals, plan, dst);
			return;
		case LEDGER_FMT_FIXED:
			{
				size_t		stride = LedgerFmtFixedStride(&st->ftype);
				size_t		len = st->ftype.typlen;

				for (i = 0; i < n; i++, off += stride)
				{
					memcpy(dst + off, DatumGetPointer(vals[i]), len);
					if (stride > len)
						memset(dst + off + len, 0, stride - len);
				}
				return;
			}
		case LEDGER_FMT_VARLENA:
			for (i = 0; i < n; i++)
			{
				Pointer		p = DatumGetPointer(vals[i]);

				if (VARATT_IS_SHORT(p))
				{
					memcpy(dst + off, p, VARSIZE_SHORT(p));
					off += VARSIZE_SHORT(p);
				}
				else if (st->packable && VARATT_CAN_MAKE_SHORT(p))
				{
					Size		sz = VARATT_CONVERTED_SHORT_SIZE(p);

					SET_VARSIZE_SHORT(dst + off, sz);
					memcpy(dst + off + 1, VARDATA(p), sz - 1);
					off += sz;
				}
				else
				{
					next = att_align_nominal(off, align);
					if (next > off)
						memset(dst + off, 0, next - off);
					memcpy(dst + next, p, VARSIZE(p));
					off = next + VARSIZE(p);
				}
			}
			return;
		default:
			for (i = 0; i < n; i++)
			{
				const char *s = DatumGetCString(vals[i]);
				size_t		len = strlen(s) + 1;

				next = att_align_nominal(off, align);
				if (next > off)
					memset(dst + off, 0, next - off);
				memcpy(dst + next, s, len);
				off = next + len;
			}
			return;
	}
}

/* makes the scratch buffer at least size bytes (contents not kept) */
static uint8 *
scratch(EncodeState *st, size_t size)
{
	if (size > st->rawcap)
	{
		if (st->raw != NULL)
			pfree(st->raw);
		st->rawcap = Max(size, (size_t) 64 * 1024);
		st->raw = MemoryContextAlloc(st->tmpcxt, st->rawcap);
	}
	return st->raw;
}

/* builds the data blob: header, directory and one frame per block */
static bytea *
encode_data(EncodeState *st)
{
	uint32		nblocks = LedgerFmtNumBlocks(st->nrows);
	size_t		hdrlen = LEDGER_FMT_COLUMN_HDR +
		(size_t) nblocks * LEDGER_FMT_DIR_ENTRY;
	size_t		cap = VARHDRSZ + hdrlen + 1024;
	size_t		cur = hdrlen;	/* bytes of the blob so far */
	char	   *out;
	uint8	   *blob;
	uint32		b;

	out = MemoryContextAlloc(st->outcxt, cap);
	blob = (uint8 *) out + VARHDRSZ;
	LedgerFmtColumnHeaderWrite(blob, &st->ftype,
							   st->ndict > 0 ? LEDGER_FMT_ENC_CODES : LEDGER_FMT_ENC_VALUES,
							   st->nrows, st->ndict);

	for (b = 0; b < nblocks; b++)
	{
		int			start = b * LEDGER_BLOCK_ROWS;
		uint32		rows = LedgerFmtBlockRows(st->nrows, b);
		uint32		n = 0;
		uint32		nulls;
		size_t		nb,
					secoff,
					secsize,
					rawlen,
					bound,
					clen;
		LedgerFmtIntPlan plan;
		uint8	   *raw;
		uint32		r;

		/* gather the block's non-NULL values or codes */
		for (r = 0; r < rows; r++)
		{
			if (st->isnull[start + r])
				continue;
			if (st->ndict > 0)
				st->dense_codes[n++] = st->codes[start + r];
			else
				st->dense[n++] = st->values[start + r];
		}
		nulls = rows - n;
		if (n == 0)
		{
			LedgerFmtDirEntryWrite(blob, b, (uint32) cur, 0, 0, nulls);
			continue;
		}

		nb = LedgerFmtNullBitmapSize(rows, nulls);
		secoff = LEDGER_FMT_ALIGN8(nb);
		if (st->ndict > 0)
			secsize = (size_t) n * LedgerFmtCodeWidth(st->ndict);
		else
		{
			secsize = section_size(st, st->dense, n, &plan);
			if (st->has_order && st->cheap_order)
				bounds_update(st, st->dense, n);
		}
		rawlen = secoff + secsize;
		if (rawlen > MaxAllocSize)
			too_large(st, "a block", rawlen);

		raw = scratch(st, rawlen);
		if (nb > 0)
		{
			LedgerFmtNullBitmapWrite(st->isnull + start, rows, raw);
			memset(raw + nb, 0, secoff - nb);
		}
		if (st->ndict > 0)
			LedgerFmtCodesWrite(st->dense_codes, n, st->ndict, raw + secoff);
		else
			section_write(st, st->dense, n, &plan, raw + secoff);

		/* room for the worst case, within the 1 GB limit */
		bound = ZSTD_compressBound(rawlen);
		if (VARHDRSZ + cur + bound > cap)
		{
			size_t		newcap = Max(cap * 2, VARHDRSZ + cur + bound);

			newcap = Min(newcap, (size_t) MaxAllocSize);
			out = repalloc(out, newcap);
			cap = newcap;
			blob = (uint8 *) out + VARHDRSZ;
		}
		clen = compress_frame(st, raw, rawlen, blob + cur,
							  cap - VARHDRSZ - cur);
		LedgerFmtDirEntryWrite(blob, b, (uint32) cur, (uint32) clen,
							   (uint32) rawlen, nulls);
		cur += clen;
	}

	LedgerFmtColumnSeal(blob, nblocks);
	out = repalloc(out, VARHDRSZ + cur);
	SET_VARSIZE(out, VARHDRSZ + cur);
	return (bytea *) out;
}

/* builds one roaring bitmap per dictionary entry into a bitmap section */
static void
encode_bitmaps(EncodeState *st, StringInfo si)
{
	int			count = st->ndict;
	uint32	   *start = palloc0(sizeof(uint32) * (count + 1));
	uint32	   *rows = palloc(sizeof(uint32) * (st->nrows - st->null_count));
	uint32	   *offsets;
	roaring_bitmap_t *bm = LedgerBitmapCreate(st->tmpcxt);
	int			i;

	/* counting sort of the rows by code: each list comes out ascending */
	for (i = 0; i < st->nrows; i++)
		if (!st->isnull[i])
			start[st->codes[i] + 1]++;
	for (i = 0; i < count; i++)
		start[i + 1] += start[i];
	{
		uint32	   *pos = palloc(sizeof(uint32) * count);

		memcpy(pos, start, sizeof(uint32) * count);
		for (i = 0; i < st->nrows; i++)
			if (!st->isnull[i])
				rows[pos[st->codes[i]]++] = i;
		pfree(pos);
	}

	offsets = palloc(sizeof(uint32) * (count + 1));
	enlargeStringInfo(si, sizeof(uint32) * (count + 1));
	si->len = sizeof(uint32) * (count + 1);
	for (i = 0; i < count; i++)
	{
		offsets[i] = si->len;
		roaring_bitmap_clear(bm);
		roaring_bitmap_add_many(bm, start[i + 1] - start[i], rows + start[i]);
		LedgerBitmapSerialize(bm, si);
	}
	offsets[count] = si->len;
	memcpy(si->data, offsets, sizeof(uint32) * (count + 1));
	LedgerBitmapFree(bm);
}

/* builds the dictionary blob: sorted values and one bitmap per value */
static bytea *
encode_dictionary(EncodeState *st)
{
	int			count = st->ndict;
	Datum	   *vals = palloc(sizeof(Datum) * count);
	LedgerFmtIntPlan plan;
	size_t		vrawlen;
	size_t		vcap,
				bcap,
				vclen,
				bclen;
	uint8	   *vraw;
	uint8	   *vframe;
	uint8	   *bframe;
	StringInfoData bitmaps;
	char	   *out;
	int			i;

	for (i = 0; i < count; i++)
		vals[i] = st->entries[i].value;
	vrawlen = section_size(st, vals, count, &plan);
	if (vrawlen > MaxAllocSize)
		too_large(st, "the dictionary", vrawlen);
	vraw = palloc(vrawlen);
	section_write(st, vals, count, &plan, vraw);
	vcap = Min(ZSTD_compressBound(vrawlen), (size_t) MaxAllocSize);
	vframe = palloc(vcap);
	vclen = compress_frame(st, vraw, vrawlen, vframe, vcap);
	pfree(vraw);

	initStringInfo(&bitmaps);
	encode_bitmaps(st, &bitmaps);
	bcap = Min(ZSTD_compressBound(bitmaps.len), (size_t) MaxAllocSize);
	bframe = palloc(bcap);
	bclen = compress_frame(st, bitmaps.data, bitmaps.len, bframe, bcap);

	if (VARHDRSZ + LEDGER_FMT_DICT_HDR + vclen + bclen > MaxAllocSize)
		too_large(st, "the dictionary",
				  VARHDRSZ + LEDGER_FMT_DICT_HDR + vclen + bclen);
	out = MemoryContextAlloc(st->outcxt,
							 VARHDRSZ + LEDGER_FMT_DICT_HDR + vclen + bclen);
	SET_VARSIZE(out, VARHDRSZ + LEDGER_FMT_DICT_HDR + vclen + bclen);
	LedgerFmtDictHeaderWrite((uint8 *) out + VARHDRSZ, &st->ftype, st->nrows,
							 count, vclen, vrawlen, bclen, bitmaps.len);
	memcpy(out + VARHDRSZ + LEDGER_FMT_DICT_HDR, vframe, vclen);
	memcpy(out + VARHDRSZ + LEDGER_FMT_DICT_HDR + vclen, bframe, bclen);
	return (bytea *) out;
}

/* true if a zone-map bound on this value is short enough to keep */
static bool
bound_fits(EncodeState *st, Datum d)
{
	switch (st->ftype.cls)
	{
		case LEDGER_FMT_BYVAL:
			return true;
		case LEDGER_FMT_FIXED:
			return st->ftype.typlen <= LEDGER_BOUND_MAX_BYTES;
		case LEDGER_FMT_VARLENA:
			return VARSIZE_ANY_EXHDR(plain_varlena(DatumGetPointer(d))) <= LEDGER_BOUND_MAX_BYTES;
		default:
			return strlen(DatumGetCString(d)) < LEDGER_BOUND_MAX_BYTES;
	}
}

/*
 * Widens the running zone-map bounds by n non-NULL values, comparing them
 * in pairs first (1.5 comparisons a value instead of 2).
 */
static void
bounds_update(EncodeState *st, const Datum *vals, uint32 n)
{
	SortSupport ssup = &st->ssup;
	uint32		i = 0;

	if (n == 0)
		return;
	if (!st->have_bounds)
	{
		st->min = st->max = vals[0];
		st->have_bounds = true;
		i = 1;
	}
	for (; i + 1 < n; i += 2)
	{
		Datum		lo = vals[i],
					hi = vals[i + 1];

		if (ApplySortComparator(lo, false, hi, false, ssup) > 0)
		{
			lo = vals[i + 1];
			hi = vals[i];
		}
		if (ApplySortComparator(lo, false, st->min, false, ssup) < 0)
			st->min = lo;
		if (ApplySortComparator(hi, false, st->max, false, ssup) > 0)
			st->max = hi;
	}
	if (i < n)
	{
		if (ApplySortComparator(vals[i], false, st->min, false, ssup) < 0)
			st->min = vals[i];
		else if (ApplySortComparator(vals[i], false, st->max, false, ssup) > 0)
			st->max = vals[i];
	}
}

/* serializes the zone-map bounds found into out (in the caller's context) */
static void
bounds_finish(EncodeState *st, LedgerEncodedColumn *out)
{
	MemoryContext old;

	if (st->ndict > 0)
	{
		st->min = st->entries[0].value;
		st->max = st->entries[st->ndict - 1].value;
		st->have_bounds = true;
	}
	if (!st->have_bounds)
		return;

	old = MemoryContextSwitchTo(st->outcxt);
	if (bound_fits(st, st->min))
		out->min_value = LedgerDatumSerialize(st->attr, st->min);
	if (bound_fits(st, st->max))
		out->max_value = LedgerDatumSerialize(st->attr, st->max);
	MemoryContextSwitchTo(old);
}

/*
 * Looks up the type's default opclasses and prepares SortSupport; sets
 * has_order, can_dict and cheap_order.  Needs a transaction.
 */
static void
prepare_ordering(EncodeState *st)
{
	TypeCacheEntry *tc;

	tc = lookup_type_cache(st->attr->atttypid,
						   TYPECACHE_LT_OPR | TYPECACHE_CMP_PROC |
						   TYPECACHE_EQ_OPR | TYPECACHE_HASH_PROC |
						   TYPECACHE_BTREE_OPFAMILY);
	st->has_order = OidIsValid(tc->lt_opr) && OidIsValid(tc->cmp_proc);
	st->can_dict = st->has_order && OidIsValid(tc->eq_opr) &&
		OidIsValid(tc->hash_proc);
	if (!st->has_order)
		return;

	memset(&st->ssup, 0, sizeof(st->ssup));
	st->ssup.ssup_cxt = st->tmpcxt;
	st->ssup.ssup_collation = st->attr->attcollation;
	st->ssup.ssup_nulls_first = false;
	st->ssup.abbreviate = false;
	PrepareSortSupportFromOrderingOp(tc->lt_opr, &st->ssup);

	/*
	 * Scanning every row for bounds costs two comparisons a row.  Variable-
	 * length types without a SortSupport routine (jsonb, arrays, records)
	 * compare through fmgr at about a microsecond each, and a range on such
	 * a column rarely prunes anything: they get bounds only from a
	 * dictionary.
	 */
	st->cheap_order = st->attr->attlen > 0 ||
		(OidIsValid(tc->btree_opf) &&
		 OidIsValid(get_opfamily_proc(tc->btree_opf, tc->btree_opintype,
									  tc->btree_opintype,
									  BTSORTSUPPORT_PROC)));
}

/*
 * Encodes nrows values of one column into out (see segment.h).  Results are
 * allocated in CurrentMemoryContext; needs a transaction.
 */
void
LedgerSegmentEncodeColumn(Form_pg_attribute attr, int nrows,
						  const Datum *values, const bool *isnull,
						  LedgerEncodedColumn *out)
{
	EncodeState st;
	LedgerFmtError err;
	MemoryContext old;
	int			i;

	if (nrows < 0 || nrows > LEDGER_SEGMENT_MAX_ROWS)
		elog(ERROR, "cannot encode %d rows in one segment", nrows);

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.attr = attr;
	st.nrows = nrows;
	st.values = values;
	st.isnull = isnull;
	st.packable = attr->attstorage != TYPSTORAGE_PLAIN;
	st.outcxt = CurrentMemoryContext;
	if (LedgerFmtTypeMake(attr->attlen, attr->attbyval, attr->attalign,
						  &st.ftype, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot store column \"%s\" in a ledger segment",
						NameStr(attr->attname)),
				 errdetail_internal("%s", err.detail)));

	st.tmpcxt = AllocSetContextCreate(CurrentMemoryContext,
									  "ledger segment encode",
									  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(st.tmpcxt);

	for (i = 0; i < nrows; i++)
		st.null_count += isnull[i];
	out->null_count = st.null_count;

	st.dense = palloc(sizeof(Datum) * LEDGER_BLOCK_ROWS);
	st.ivals = palloc(sizeof(int64) * LEDGER_BLOCK_ROWS);

	if (st.null_count < nrows)
	{
		prepare_ordering(&st);
		if (st.can_dict)
			count_distinct(&st);
		if (st.ndict > 0)
		{
			sort_dictionary(&st);
			st.dense_codes = palloc(sizeof(uint32) * LEDGER_BLOCK_ROWS);
		}
	}

	out->data = encode_data(&st);
	bounds_finish(&st, out);
	if (st.ndict > 0)
	{
		out->dict = encode_dictionary(&st);
		out->dict_count = st.ndict;
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(st.tmpcxt);
}
