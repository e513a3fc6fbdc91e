/*-------------------------------------------------------------------------
 *
 * segment_format.c
 *	  Byte-level writing and validating parsing of ledger column,
 *	  dictionary and datum blobs.
 *
 * NOTES
 *	  This file must not include postgres.h: the libFuzzer harnesses in
 *	  test/fuzz link it as it is.  Every reader treats its input as hostile:
 *	  each length, offset, count and header is checked against the bytes
 *	  really present before anything is read, every size is bounded by the
 *	  row count the caller expects and by LEDGER_FMT_MAX_ALLOC, and all
 *	  arithmetic on untrusted numbers is done in 64 bits so that it cannot
 *	  wrap.  Unaligned multi-byte reads go through memcpy.
 *
 *	  Writers trust their input (it comes from the server glue); they do no
 *	  allocation, the caller sizes the output with the matching *Size call.
 *
 *	  Multi-byte fields are in the machine's byte order, as in PostgreSQL's
 *	  own pages; a blob from a machine of the other byte order fails the
 *	  magic-number check.  The layout is documented in src/segment/README.md.
 *
 * IDENTIFICATION
 *	  src/segment/segment_format.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "segment_format.h"

/*
 * Varlena header tests, as PostgreSQL's postgres.h defines them for each
 * byte order (we may not include it here).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define FMT_VARLENA_IS_1B(b)	(((b) & 0x80) == 0x80)
#define FMT_VARLENA_1B_SIZE(b)	((uint32_t) ((b) & 0x7F))
#define FMT_VARLENA_IS_4B_U(b)	(((b) & 0xC0) == 0x00)
#define FMT_VARLENA_4B_SIZE(h)	((uint32_t) ((h) & 0x3FFFFFFF))
#else
#define FMT_VARLENA_IS_1B(b)	(((b) & 0x01) == 0x01)
#define FMT_VARLENA_1B_SIZE(b)	((uint32_t) (((b) >> 1) & 0x7F))
#define FMT_VARLENA_IS_4B_U(b)	(((b) & 0x03) == 0x00)
#define FMT_VARLENA_4B_SIZE(h)	((uint32_t) (((h) >> 2) & 0x3FFFFFFF))
#endif

#if defined(__GNUC__)
static int fail(LedgerFmtError *err, const char *fmt,...) __attribute__((format(printf, 2, 3)));
#endif

static int	check_frame(const void *src, size_t clen, size_t rawlen,
						LedgerFmtError *err);

/* records a description of damaged input and returns -1 */
static int
fail(LedgerFmtError *err, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

/* reads a native uint16 from possibly unaligned memory */
static inline uint16_t
rd16(const uint8_t *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* reads a native uint32 from possibly unaligned memory */
static inline uint32_t
rd32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* reads a native uint64 from possibly unaligned memory */
static inline uint64_t
rd64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* writes a native uint16 to possibly unaligned memory */
static inline void
wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* writes a native uint32 to possibly unaligned memory */
static inline void
wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* writes a native uint64 to possibly unaligned memory */
static inline void
wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * FNV-1a over n bytes, continuing from h.  Each step is a bijection of the
 * state, so any single changed byte always changes the result; headers are
 * short, so its speed does not matter.
 */
static uint32_t
checksum(const uint8_t *p, size_t n, uint32_t h)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		h ^= p[i];
		h *= 16777619U;
	}
	return h;
}

#define CHECKSUM_INIT	2166136261U

/* the checksum of a column blob's header and directory */
static uint32_t
column_checksum(const uint8_t *blob, uint32_t nblocks)
{
	uint32_t	h = checksum(blob, 24, CHECKSUM_INIT);

	return checksum(blob + LEDGER_FMT_COLUMN_HDR,
					(size_t) nblocks * LEDGER_FMT_DIR_ENTRY, h);
}

/* the alignment in bytes that a typalign code stands for, or 0 */
static size_t
align_bytes(char typalign)
{
	switch (typalign)
	{
		case 'c':
			return 1;
		case 's':
			return 2;
		case 'i':
			return 4;
		case 'd':
			return 8;
	}
	return 0;
}

/* rounds off up to a multiple of the (power of two) alignment a */
static inline size_t
align_up(size_t off, size_t a)
{
	return (off + a - 1) & ~(a - 1);
}

/* describes a column type (typlen, typbyval, typalign) for the format */
int
LedgerFmtTypeMake(int16_t typlen, bool byval, char typalign,
				  LedgerFmtType *type, LedgerFmtError *err)
{
	if (byval)
		type->cls = LEDGER_FMT_BYVAL;
	else if (typlen > 0)
		type->cls = LEDGER_FMT_FIXED;
	else if (typlen == -1)
		type->cls = LEDGER_FMT_VARLENA;
	else
		type->cls = LEDGER_FMT_CSTRING;
	type->typlen = typlen;
	type->typalign = typalign;
	return LedgerFmtTypeCheck(type, err);
}

/* checks that a type description is one the format can hold */
int
LedgerFmtTypeCheck(const LedgerFmtType *type, LedgerFmtError *err)
{
	if (align_bytes(type->typalign) == 0)
		return fail(err, "Type alignment code %d is not valid.",
					(int) type->typalign);
	switch (type->cls)
	{
		case LEDGER_FMT_BYVAL:
			if (type->typlen != 1 && type->typlen != 2 &&
				type->typlen != 4 && type->typlen != 8)
				return fail(err, "A by-value type of length %d is not supported.",
							(int) type->typlen);
			if ((size_t) type->typlen > sizeof(uintptr_t))
				return fail(err, "A by-value type of length %d does not fit in a Datum.",
							(int) type->typlen);
			return 0;
		case LEDGER_FMT_FIXED:
			if (type->typlen <= 0)
				return fail(err, "A fixed-length type of length %d is not valid.",
							(int) type->typlen);
			return 0;
		case LEDGER_FMT_VARLENA:
			if (type->typlen != -1)
				return fail(err, "A varlena type must have length -1, not %d.",
							(int) type->typlen);
			return 0;
		case LEDGER_FMT_CSTRING:
			if (type->typlen != -2)
				return fail(err, "A cstring type must have length -2, not %d.",
							(int) type->typlen);
			return 0;
	}
	return fail(err, "Value class %d is not valid.", (int) type->cls);
}

/* bytes between consecutive fixed-length by-reference values */
size_t
LedgerFmtFixedStride(const LedgerFmtType *type)
{
	return align_up((size_t) type->typlen, align_bytes(type->typalign));
}

/* bytes per dictionary code for a dictionary of dict_count entries */
uint32_t
LedgerFmtCodeWidth(uint32_t dict_count)
{
	if (dict_count <= 256)
		return 1;
	if (dict_count <= 65536)
		return 2;
	return 4;
}

/* rows of block blockno in a column of nrows rows */
uint32_t
LedgerFmtBlockRows(uint32_t nrows, uint32_t blockno)
{
	uint64_t	start = (uint64_t) blockno * LEDGER_FMT_BLOCK_ROWS;

	if (start >= nrows)
		return 0;
	if (nrows - start > LEDGER_FMT_BLOCK_ROWS)
		return LEDGER_FMT_BLOCK_ROWS;
	return (uint32_t) (nrows - start);
}

/* blocks in a column of nrows rows */
uint32_t
LedgerFmtNumBlocks(uint32_t nrows)
{
	return (uint32_t) (((uint64_t) nrows + LEDGER_FMT_BLOCK_ROWS - 1) /
					   LEDGER_FMT_BLOCK_ROWS);
}

/* the Datum of a by-value integer image, as fetch_att would build it */
uintptr_t
LedgerFmtByvalDatum(uint64_t v, int16_t typlen)
{
	switch (typlen)
	{
		case 1:
			return (uintptr_t) (char) (uint8_t) v;
		case 2:
			return (uintptr_t) (int16_t) (uint16_t) v;
		case 4:
			return (uintptr_t) (int32_t) (uint32_t) v;
	}
	return (uintptr_t) v;
}

/*
 * Compresses src into one zstd frame with its content size and checksum,
 * reusing cctx (a ZSTD_CCtx).
 */
int
LedgerFmtCompress(void *cctx, int level, const void *src, size_t srclen,
				  void *dst, size_t dstcap, size_t *outlen,
				  LedgerFmtError *err)
{
	ZSTD_CCtx  *zc = (ZSTD_CCtx *) cctx;
	size_t		r;

	r = ZSTD_CCtx_reset(zc, ZSTD_reset_session_and_parameters);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(zc, dst, dstcap, src, srclen);
	if (ZSTD_isError(r))
		return fail(err, "zstd compression failed: %s.", ZSTD_getErrorName(r));
	*outlen = r;
	return 0;
}

/*
 * Decompresses one zstd frame of exactly clen bytes into exactly rawlen
 * bytes at dst, reusing dctx (a ZSTD_DCtx).  The frame must declare its
 * content size and carry a checksum, which zstd verifies.
 */
int
LedgerFmtDecompress(void *dctx, const void *src, size_t clen, void *dst,
					size_t rawlen, LedgerFmtError *err)
{
	size_t		r;

	if (check_frame(src, clen, rawlen, err) != 0)
		return -1;
	r = ZSTD_decompressDCtx((ZSTD_DCtx *) dctx, dst, rawlen, src, clen);
	if (ZSTD_isError(r))
		return fail(err, "A compressed frame could not be decompressed: %s.",
					ZSTD_getErrorName(r));
	if (r != rawlen)
		return fail(err, "A compressed frame decompressed to %zu bytes where %zu are expected.",
					r, rawlen);
	return 0;
}

/*
 * Checks, without decompressing, that src holds exactly one zstd frame of
 * clen bytes declaring rawlen bytes of content and a checksum, and that its
 * blocks can really produce that much (so nobody allocates rawlen bytes on
 * the word of a damaged header).
 */
static int
check_frame(const void *src, size_t clen, size_t rawlen, LedgerFmtError *err)
{
	ZSTD_frameHeader zfh;
	size_t		r;
	unsigned long long bound;

	if (clen == 0)
		return fail(err, "A compressed frame is empty.");
	r = ZSTD_getFrameHeader(&zfh, src, clen);
	if (r != 0)
		return fail(err, "A compressed frame has a damaged or truncated header.");
	if (zfh.frameType != ZSTD_frame)
		return fail(err, "A compressed frame is not a zstd data frame.");
	if (zfh.frameContentSize != (unsigned long long) rawlen)
		return fail(err, "A compressed frame declares %llu bytes of content where %zu are expected.",
					zfh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ? 0ULL : zfh.frameContentSize,
					rawlen);
	if (!zfh.checksumFlag)
		return fail(err, "A compressed frame carries no checksum.");
	if (zfh.dictID != 0)
		return fail(err, "A compressed frame refers to a zstd dictionary.");
	r = ZSTD_findFrameCompressedSize(src, clen);
	if (ZSTD_isError(r) || r != clen)
		return fail(err, "A compressed frame does not end where its directory entry says.");
	bound = ZSTD_decompressBound(src, clen);
	if (bound == ZSTD_CONTENTSIZE_ERROR || bound < (unsigned long long) rawlen)
		return fail(err, "A compressed frame is too short for the %zu bytes it declares.",
					rawlen);
	return 0;
}

/* bytes needed to store range in an integer section */
static uint8_t
int_width(uint64_t range)
{
	if (range == 0)
		return 0;
	if (range <= UINT8_MAX)
		return 1;
	if (range <= UINT16_MAX)
		return 2;
	if (range <= UINT32_MAX)
		return 4;
	return 8;
}

/*
 * Chooses frame-of-reference or delta coding for n integers: delta wins
 * only when it needs strictly fewer bytes (sorted timestamps, sequences).
 */
void
LedgerFmtIntPlanMake(const int64_t *vals, uint32_t n, LedgerFmtIntPlan *plan)
{
	int64_t		min,
				max,
				dmin,
				dmax;
	uint8_t		wfor,
				wdelta;
	uint32_t	i;

	memset(plan, 0, sizeof(*plan));
	plan->mode = LEDGER_FMT_INT_FOR;
	plan->count = n;
	if (n == 0)
		return;

	min = max = vals[0];
	dmin = INT64_MAX;
	dmax = INT64_MIN;
	for (i = 1; i < n; i++)
	{
		int64_t		v = vals[i];
		int64_t		d = (int64_t) ((uint64_t) v - (uint64_t) vals[i - 1]);

		if (v < min)
			min = v;
		if (v > max)
			max = v;
		if (d < dmin)
			dmin = d;
		if (d > dmax)
			dmax = d;
	}
	wfor = int_width((uint64_t) max - (uint64_t) min);
	plan->width = wfor;
	plan->base = (uint64_t) min;
	if (n >= 2)
	{
		wdelta = int_width((uint64_t) dmax - (uint64_t) dmin);
		if ((uint64_t) (n - 1) * wdelta < (uint64_t) n * wfor)
		{
			plan->mode = LEDGER_FMT_INT_DELTA;
			plan->width = wdelta;
			plan->base = (uint64_t) dmin;
			plan->first = (uint64_t) vals[0];
		}
	}
}

/* bytes of the integer section a plan describes */
size_t
LedgerFmtIntSectionSize(const LedgerFmtIntPlan *plan)
{
	size_t		stored = plan->count;

	if (plan->mode == LEDGER_FMT_INT_DELTA && stored > 0)
		stored--;
	return LEDGER_FMT_INT_HDR + stored * plan->width;
}

/* stores the low "width" bytes of s at p */
static inline void
put_width(uint8_t *p, uint64_t s, uint8_t width)
{
	switch (width)
	{
		case 1:
			*p = (uint8_t) s;
			break;
		case 2:
			wr16(p, (uint16_t) s);
			break;
		case 4:
			wr32(p, (uint32_t) s);
			break;
		case 8:
			wr64(p, s);
			break;
	}
}

/* writes the integer section of vals as planned */
void
LedgerFmtIntSectionWrite(const int64_t *vals, const LedgerFmtIntPlan *plan,
						 uint8_t *dst)
{
	uint8_t		w = plan->width;
	uint8_t    *p = dst + LEDGER_FMT_INT_HDR;
	uint32_t	i;

	memset(dst, 0, LEDGER_FMT_INT_HDR);
	dst[0] = plan->mode;
	dst[1] = w;
	wr64(dst + 8, plan->base);
	wr64(dst + 16, plan->first);
	if (w == 0)
		return;
	if (plan->mode == LEDGER_FMT_INT_FOR)
	{
		for (i = 0; i < plan->count; i++, p += w)
			put_width(p, (uint64_t) vals[i] - plan->base, w);
	}
	else
	{
		for (i = 1; i < plan->count; i++, p += w)
			put_width(p, (uint64_t) vals[i] - (uint64_t) vals[i - 1] - plan->base, w);
	}
}

/* writes n dictionary codes at the width dict_count calls for */
void
LedgerFmtCodesWrite(const uint32_t *codes, uint32_t n, uint32_t dict_count,
					uint8_t *dst)
{
	uint32_t	w = LedgerFmtCodeWidth(dict_count);
	uint32_t	i;

	if (w == 1)
		for (i = 0; i < n; i++)
			dst[i] = (uint8_t) codes[i];
	else if (w == 2)
		for (i = 0; i < n; i++)
			wr16(dst + 2 * (size_t) i, (uint16_t) codes[i]);
	else
		memcpy(dst, codes, (size_t) n * 4);
}

/* bytes of a block's null bitmap (none unless some but not all are NULL) */
size_t
LedgerFmtNullBitmapSize(uint32_t rows, uint32_t nulls)
{
	if (nulls == 0 || nulls >= rows)
		return 0;
	return ((size_t) rows + 7) / 8;
}

/* writes a null bitmap: bit i%8 of byte i/8 set when row i is NULL */
void
LedgerFmtNullBitmapWrite(const bool *isnull, uint32_t rows, uint8_t *dst)
{
	uint32_t	i;

	memset(dst, 0, ((size_t) rows + 7) / 8);
	for (i = 0; i < rows; i++)
		if (isnull[i])
			dst[i >> 3] |= (uint8_t) (1 << (i & 7));
}

/* writes the fixed header of a column blob */
void
LedgerFmtColumnHeaderWrite(uint8_t *dst, const LedgerFmtType *type,
						   uint8_t encoding, uint32_t nrows,
						   uint32_t dict_count)
{
	memset(dst, 0, LEDGER_FMT_COLUMN_HDR);
	wr32(dst + 0, LEDGER_FMT_COLUMN_MAGIC);
	wr16(dst + 4, LEDGER_FMT_VERSION);
	dst[6] = encoding;
	dst[7] = type->cls;
	wr16(dst + 8, (uint16_t) type->typlen);
	dst[10] = (uint8_t) type->typalign;
	dst[11] = 0;
	wr32(dst + 12, nrows);
	wr32(dst + 16, LedgerFmtNumBlocks(nrows));
	wr32(dst + 20, dict_count);
}

/*
 * Stores the checksum of a column blob's header and its directory of
 * nblocks entries; call after the last LedgerFmtDirEntryWrite.
 */
void
LedgerFmtColumnSeal(uint8_t *blob, uint32_t nblocks)
{
	wr32(blob + 24, column_checksum(blob, nblocks));
}

/* writes directory entry blockno of a column blob starting at dst */
void
LedgerFmtDirEntryWrite(uint8_t *dst, uint32_t blockno, uint32_t offset,
					   uint32_t clen, uint32_t rawlen, uint32_t nulls)
{
	uint8_t    *e = dst + LEDGER_FMT_COLUMN_HDR +
		(size_t) blockno * LEDGER_FMT_DIR_ENTRY;

	wr32(e + 0, offset);
	wr32(e + 4, clen);
	wr32(e + 8, rawlen);
	wr32(e + 12, nulls);
}

/* writes the fixed header of a dictionary blob */
void
LedgerFmtDictHeaderWrite(uint8_t *dst, const LedgerFmtType *type,
						 uint32_t nrows, uint32_t count,
						 uint32_t values_clen, uint32_t values_rawlen,
						 uint32_t bitmaps_clen, uint32_t bitmaps_rawlen)
{
	memset(dst, 0, LEDGER_FMT_DICT_HDR);
	wr32(dst + 0, LEDGER_FMT_DICT_MAGIC);
	wr16(dst + 4, LEDGER_FMT_VERSION);
	dst[6] = type->cls;
	dst[7] = 0;
	wr16(dst + 8, (uint16_t) type->typlen);
	dst[10] = (uint8_t) type->typalign;
	wr32(dst + 12, nrows);
	wr32(dst + 16, count);
	wr32(dst + 20, values_clen);
	wr32(dst + 24, values_rawlen);
	wr32(dst + 28, bitmaps_clen);
	wr32(dst + 32, bitmaps_rawlen);
	LedgerFmtDictSeal(dst);
}

/* stores the checksum of a dictionary blob's header */
void
LedgerFmtDictSeal(uint8_t *blob)
{
	wr32(blob + 36, checksum(blob, 36, CHECKSUM_INIT));
}

/* writes the header of a serialized datum (sealed once the value is in) */
void
LedgerFmtDatumHeaderWrite(uint8_t *dst, const LedgerFmtType *type)
{
	dst[0] = LEDGER_FMT_VERSION;
	dst[1] = type->cls;
	wr16(dst + 2, (uint16_t) type->typlen);
	wr32(dst + 4, 0);
}

/* the checksum of a serialized datum of len bytes */
static uint32_t
datum_checksum(const uint8_t *buf, size_t len)
{
	return checksum(buf + LEDGER_FMT_DATUM_HDR, len - LEDGER_FMT_DATUM_HDR,
					checksum(buf, 4, CHECKSUM_INIT));
}

/* stores the checksum of a serialized datum of len bytes, value included */
void
LedgerFmtDatumSeal(uint8_t *buf, size_t len)
{
	wr32(buf + 4, datum_checksum(buf, len));
}

/* checks the type fields of a blob header against what the caller expects */
static int
check_type_fields(const LedgerFmtType *type, uint8_t cls, int16_t typlen,
				  uint8_t typalign, LedgerFmtError *err)
{
	if (cls != type->cls || typlen != type->typlen ||
		typalign != (uint8_t) type->typalign)
		return fail(err, "The blob was written for value class %d, length %d, alignment %d, "
					"but the column has value class %d, length %d, alignment %d.",
					(int) cls, (int) typlen, (int) typalign,
					(int) type->cls, (int) type->typlen, (int) type->typalign);
	return 0;
}

/*
 * Largest decompressed size a block of "rows" rows with "nulls" NULLs may
 * have, or for the classes whose size is fixed by the row count, the only
 * size it may have (*exact set).
 */
static uint64_t
block_raw_bound(const LedgerFmtColumn *col, uint32_t rows, uint32_t nulls,
				bool *exact)
{
	uint64_t	n = rows - nulls;
	uint64_t	secoff = LEDGER_FMT_ALIGN8(LedgerFmtNullBitmapSize(rows, nulls));

	*exact = false;
	if (col->encoding == LEDGER_FMT_ENC_CODES)
	{
		*exact = true;
		return secoff + n * LedgerFmtCodeWidth(col->dict_count);
	}
	switch (col->type.cls)
	{
		case LEDGER_FMT_BYVAL:
			return secoff + LEDGER_FMT_INT_HDR + n * 8;
		case LEDGER_FMT_FIXED:
			*exact = true;
			return secoff + n * LedgerFmtFixedStride(&col->type);
	}
	return LEDGER_FMT_MAX_ALLOC;
}

/*
 * Parses and validates a column blob's header and block directory for a
 * segment of nrows rows: magic, version, type, counts, and that the frames
 * tile the blob exactly.
 */
int
LedgerFmtColumnParse(const void *blob, size_t len, const LedgerFmtType *type,
					 uint32_t nrows, LedgerFmtColumn *col, LedgerFmtError *err)
{
	const uint8_t *b = (const uint8_t *) blob;
	uint64_t	dirend;
	uint64_t	expect;
	uint32_t	i;

	memset(col, 0, sizeof(*col));
	if (LedgerFmtTypeCheck(type, err) != 0)
		return -1;
	if (nrows > LEDGER_FMT_MAX_ROWS)
		return fail(err, "The segment claims %u rows, more than the %u a segment may hold.",
					nrows, (uint32_t) LEDGER_FMT_MAX_ROWS);
	if (len < LEDGER_FMT_COLUMN_HDR)
		return fail(err, "The column blob is %zu bytes long, shorter than its %d-byte header.",
					len, LEDGER_FMT_COLUMN_HDR);
	if (rd32(b) != LEDGER_FMT_COLUMN_MAGIC)
		return fail(err, "The column blob has magic number 0x%08X instead of 0x%08X.",
					rd32(b), LEDGER_FMT_COLUMN_MAGIC);
	if (rd16(b + 4) != LEDGER_FMT_VERSION)
		return fail(err, "The column blob has format version %u; this build reads version %d.",
					(unsigned) rd16(b + 4), LEDGER_FMT_VERSION);
	if (b[6] != LEDGER_FMT_ENC_VALUES && b[6] != LEDGER_FMT_ENC_CODES)
		return fail(err, "The column blob has unknown encoding %u.", (unsigned) b[6]);
	if (check_type_fields(type, b[7], (int16_t) rd16(b + 8), b[10], err) != 0)
		return -1;
	if (b[11] != 0)
		return fail(err, "The column blob has unknown flags 0x%02X.", (unsigned) b[11]);

	col->type = *type;
	col->encoding = b[6];
	col->nrows = rd32(b + 12);
	col->nblocks = rd32(b + 16);
	col->dict_count = rd32(b + 20);
	col->blob = b;
	col->len = len;

	if (col->nrows != nrows)
		return fail(err, "The column blob holds %u rows where the segment has %u.",
					col->nrows, nrows);
	if (col->nblocks != LedgerFmtNumBlocks(nrows))
		return fail(err, "The column blob has %u blocks where %u rows need %u.",
					col->nblocks, nrows, LedgerFmtNumBlocks(nrows));
	if (col->encoding == LEDGER_FMT_ENC_VALUES && col->dict_count != 0)
		return fail(err, "A column blob without dictionary declares %u dictionary entries.",
					col->dict_count);
	if (col->encoding == LEDGER_FMT_ENC_CODES &&
		(col->dict_count == 0 || col->dict_count > LEDGER_FMT_DICT_MAX))
		return fail(err, "The column blob declares %u dictionary entries.",
					col->dict_count);

	if (col->nblocks > LedgerFmtNumBlocks(LEDGER_FMT_MAX_ROWS))
		return fail(err, "The column blob claims %u blocks.", col->nblocks);
	dirend = LEDGER_FMT_COLUMN_HDR +
		(uint64_t) col->nblocks * LEDGER_FMT_DIR_ENTRY;
	if (dirend > len)
		return fail(err, "The column blob is %zu bytes long, too short for its %u-block directory.",
					len, col->nblocks);
	if (rd32(b + 24) != column_checksum(b, col->nblocks) || rd32(b + 28) != 0)
		return fail(err, "The column blob's header or block directory fails its checksum.");

	expect = dirend;
	for (i = 0; i < col->nblocks; i++)
	{
		LedgerFmtBlock blk;
		uint64_t	bound;
		bool		exact;

		LedgerFmtColumnBlock(col, i, &blk);
		if (blk.offset != expect)
			return fail(err, "Block %u starts at offset %u where %llu is expected.",
						i, blk.offset, (unsigned long long) expect);
		if (blk.clen > len - expect)
			return fail(err, "Block %u has a %u-byte frame that runs past the end of the blob.",
						i, blk.clen);
		if (blk.nulls > blk.rows)
			return fail(err, "Block %u has %u NULLs among %u rows.",
						i, blk.nulls, blk.rows);
		if (blk.nulls == blk.rows)
		{
			if (blk.rawlen != 0 || blk.clen != 0)
				return fail(err, "Block %u is all NULL but stores %u bytes.",
							i, blk.rawlen);
		}
		else
		{
			if (blk.rawlen == 0 || blk.clen == 0)
				return fail(err, "Block %u has values but stores no bytes.", i);
			bound = block_raw_bound(col, blk.rows, blk.nulls, &exact);
			if (bound > LEDGER_FMT_MAX_ALLOC)
				bound = LEDGER_FMT_MAX_ALLOC;
			if (exact ? blk.rawlen != bound : blk.rawlen > bound)
				return fail(err, "Block %u declares %u decompressed bytes, which %u rows cannot have.",
							i, blk.rawlen, blk.rows);
			if (check_frame(b + blk.offset, blk.clen, blk.rawlen, err) != 0)
				return -1;
		}
		expect += blk.clen;
	}
	if (expect != len)
		return fail(err, "The column blob has %llu bytes after its last block.",
					(unsigned long long) (len - expect));
	return 0;
}

/* reads directory entry blockno of a column parsed by LedgerFmtColumnParse */
void
LedgerFmtColumnBlock(const LedgerFmtColumn *col, uint32_t blockno,
					 LedgerFmtBlock *blk)
{
	const uint8_t *e = col->blob + LEDGER_FMT_COLUMN_HDR +
		(size_t) blockno * LEDGER_FMT_DIR_ENTRY;

	blk->blockno = blockno;
	blk->rows = LedgerFmtBlockRows(col->nrows, blockno);
	blk->offset = rd32(e + 0);
	blk->clen = rd32(e + 4);
	blk->rawlen = rd32(e + 8);
	blk->nulls = rd32(e + 12);
}

/* decodes an integer section of count values into Datums */
static int
decode_ints(const LedgerFmtType *type, const uint8_t *sec, size_t seclen,
			uint32_t count, uintptr_t *values, LedgerFmtError *err)
{
	uint8_t		mode,
				w;
	uint64_t	base,
				first,
				stored;
	const uint8_t *p = sec + LEDGER_FMT_INT_HDR;
	uint32_t	i;
	int			k;

	if (seclen < LEDGER_FMT_INT_HDR)
		return fail(err, "An integer section of %zu bytes is shorter than its header.",
					seclen);
	mode = sec[0];
	w = sec[1];
	for (k = 2; k < 8; k++)
		if (sec[k] != 0)
			return fail(err, "An integer section header has nonzero padding.");
	base = rd64(sec + 8);
	first = rd64(sec + 16);
	if (mode != LEDGER_FMT_INT_FOR && mode != LEDGER_FMT_INT_DELTA)
		return fail(err, "An integer section has unknown mode %u.", (unsigned) mode);
	if (w != 0 && w != 1 && w != 2 && w != 4 && w != 8)
		return fail(err, "An integer section has invalid width %u.", (unsigned) w);
	if (mode == LEDGER_FMT_INT_FOR && first != 0)
		return fail(err, "A frame-of-reference integer section has a first value.");
	stored = count;
	if (mode == LEDGER_FMT_INT_DELTA && stored > 0)
		stored--;
	if (seclen != LEDGER_FMT_INT_HDR + stored * w)
		return fail(err, "An integer section of %u values at width %u has %zu bytes.",
					count, (unsigned) w, seclen);
	if (count == 0)
		return 0;

	if (mode == LEDGER_FMT_INT_FOR)
	{
		switch (w)
		{
			case 0:
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) base;
				break;
			case 1:
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) (base + p[i]);
				break;
			case 2:
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) (base + rd16(p + 2 * (size_t) i));
				break;
			case 4:
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) (base + rd32(p + 4 * (size_t) i));
				break;
			case 8:
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) (base + rd64(p + 8 * (size_t) i));
				break;
		}
	}
	else
	{
		uint64_t	v = first;

		values[0] = (uintptr_t) v;
		switch (w)
		{
			case 0:
				for (i = 1; i < count; i++)
					values[i] = (uintptr_t) (v += base);
				break;
			case 1:
				for (i = 1; i < count; i++)
					values[i] = (uintptr_t) (v += base + p[i - 1]);
				break;
			case 2:
				for (i = 1; i < count; i++)
					values[i] = (uintptr_t) (v += base + rd16(p + 2 * (size_t) (i - 1)));
				break;
			case 4:
				for (i = 1; i < count; i++)
					values[i] = (uintptr_t) (v += base + rd32(p + 4 * (size_t) (i - 1)));
				break;
			case 8:
				for (i = 1; i < count; i++)
					values[i] = (uintptr_t) (v += base + rd64(p + 8 * (size_t) (i - 1)));
				break;
		}
	}

	/* truncate to the type's width and extend as fetch_att does */
	switch (type->typlen)
	{
		case 1:
			for (i = 0; i < count; i++)
				values[i] = LedgerFmtByvalDatum(values[i], 1);
			break;
		case 2:
			for (i = 0; i < count; i++)
				values[i] = LedgerFmtByvalDatum(values[i], 2);
			break;
		case 4:
			for (i = 0; i < count; i++)
				values[i] = LedgerFmtByvalDatum(values[i], 4);
			break;
	}
	return 0;
}

/* decodes a varlena section of count values; Datums point into sec */
static int
decode_varlenas(const LedgerFmtType *type, const uint8_t *sec, size_t seclen,
				uint32_t count, uintptr_t *values, LedgerFmtError *err)
{
	size_t		a = align_bytes(type->typalign);
	size_t		off = 0;
	uint32_t	i;

	for (i = 0; i < count; i++)
	{
		uint8_t		b;

		if (off >= seclen)
			return fail(err, "Varlena value %u of %u starts past the end of its section.",
						i, count);
		b = sec[off];
		if (b != 0 && FMT_VARLENA_IS_1B(b))
		{
			uint32_t	size = FMT_VARLENA_1B_SIZE(b);

			if (size == 0)
				return fail(err, "Varlena value %u is a TOAST pointer.", i);
			if (size > seclen - off)
				return fail(err, "Varlena value %u of %u bytes runs past the end of its section.",
							i, size);
			values[i] = (uintptr_t) (sec + off);
			off += size;
		}
		else
		{
			size_t		start = align_up(off, a);
			uint32_t	hdr;
			uint32_t	size;
			size_t		k;

			if (start > seclen || seclen - start < 4)
				return fail(err, "Varlena value %u has a header that runs past the end of its section.",
							i);
			for (k = off; k < start; k++)
				if (sec[k] != 0)
					return fail(err, "Varlena value %u is preceded by nonzero padding.", i);
			if (!FMT_VARLENA_IS_4B_U(sec[start]))
				return fail(err, "Varlena value %u has a compressed or invalid 4-byte header.", i);
			hdr = rd32(sec + start);
			size = FMT_VARLENA_4B_SIZE(hdr);
			if (size < 4)
				return fail(err, "Varlena value %u has length %u, shorter than its header.",
							i, size);
			if (size > seclen - start)
				return fail(err, "Varlena value %u of %u bytes runs past the end of its section.",
							i, size);
			values[i] = (uintptr_t) (sec + start);
			off = start + size;
		}
	}
	if (off != seclen)
		return fail(err, "A varlena section has %zu bytes after its last value.",
					seclen - off);
	return 0;
}

/* decodes a cstring section of count values; Datums point into sec */
static int
decode_cstrings(const LedgerFmtType *type, const uint8_t *sec, size_t seclen,
				uint32_t count, uintptr_t *values, LedgerFmtError *err)
{
	size_t		a = align_bytes(type->typalign);
	size_t		off = 0;
	uint32_t	i;

	for (i = 0; i < count; i++)
	{
		size_t		start = align_up(off, a);
		const uint8_t *nul;
		size_t		k;

		if (start >= seclen)
			return fail(err, "String %u of %u starts past the end of its section.",
						i, count);
		for (k = off; k < start; k++)
			if (sec[k] != 0)
				return fail(err, "String %u is preceded by nonzero padding.", i);
		nul = memchr(sec + start, 0, seclen - start);
		if (nul == NULL)
			return fail(err, "String %u has no terminating zero byte.", i);
		values[i] = (uintptr_t) (sec + start);
		off = (size_t) (nul - sec) + 1;
	}
	if (off != seclen)
		return fail(err, "A string section has %zu bytes after its last value.",
					seclen - off);
	return 0;
}

/*
 * Decodes a value section of count non-NULL values (a block's, or a
 * dictionary's) into Datums.  sec must be 8-byte aligned.
 */
int
LedgerFmtValuesDecode(const LedgerFmtType *type, const uint8_t *sec,
					  size_t seclen, uint32_t count, uintptr_t *values,
					  LedgerFmtError *err)
{
	if (((uintptr_t) sec & 7) != 0)
		return fail(err, "A value section is not 8-byte aligned in memory.");
	switch (type->cls)
	{
		case LEDGER_FMT_BYVAL:
			return decode_ints(type, sec, seclen, count, values, err);
		case LEDGER_FMT_FIXED:
			{
				size_t		stride = LedgerFmtFixedStride(type);
				uint32_t	i;

				if (seclen != (uint64_t) count * stride)
					return fail(err, "A section of %u values of %zu bytes has %zu bytes.",
								count, stride, seclen);
				for (i = 0; i < count; i++)
					values[i] = (uintptr_t) (sec + (size_t) i * stride);
				return 0;
			}
		case LEDGER_FMT_VARLENA:
			return decode_varlenas(type, sec, seclen, count, values, err);
		case LEDGER_FMT_CSTRING:
			return decode_cstrings(type, sec, seclen, count, values, err);
	}
	return fail(err, "Value class %d is not valid.", (int) type->cls);
}

/* maps count codes of the given width to dictionary Datums, checking each */
static int
decode_codes(const uint8_t *sec, uint32_t count, uint32_t w,
			 uint32_t dict_count, const uintptr_t *dict_values,
			 uintptr_t *values, LedgerFmtError *err)
{
	uint32_t	i;

	for (i = 0; i < count; i++)
	{
		uint32_t	code;

		if (w == 1)
			code = sec[i];
		else if (w == 2)
			code = rd16(sec + 2 * (size_t) i);
		else
			code = rd32(sec + 4 * (size_t) i);
		if (code >= dict_count)
			return fail(err, "Row %u refers to dictionary entry %u of %u.",
						i, code, dict_count);
		values[i] = dict_values[code];
	}
	return 0;
}

/*
 * Decodes one decompressed block (raw, blk->rawlen bytes, 8-byte aligned;
 * NULL for an all-NULL block) into blk->rows Datums and null flags.  For a
 * dictionary-coded column dict_values holds the col->dict_count entries.
 */
int
LedgerFmtBlockDecode(const LedgerFmtColumn *col, const LedgerFmtBlock *blk,
					 const uint8_t *raw, uintptr_t *values, bool *isnull,
					 const uintptr_t *dict_values, LedgerFmtError *err)
{
	uint32_t	rows = blk->rows;
	uint32_t	n = rows - blk->nulls;
	size_t		nb = LedgerFmtNullBitmapSize(rows, blk->nulls);
	size_t		secoff = LEDGER_FMT_ALIGN8(nb);
	const uint8_t *sec;
	size_t		seclen;
	uint32_t	i;

	if (blk->nulls >= rows)
	{
		for (i = 0; i < rows; i++)
		{
			values[i] = 0;
			isnull[i] = true;
		}
		return 0;
	}
	if (raw == NULL || ((uintptr_t) raw & 7) != 0)
		return fail(err, "Block %u is not 8-byte aligned in memory.", blk->blockno);
	if (blk->rawlen < secoff)
		return fail(err, "Block %u is too short for its null bitmap.", blk->blockno);

	if (nb > 0)
	{
		uint32_t	pop = 0;

		for (i = 0; i < nb; i++)
			pop += (uint32_t) __builtin_popcount(raw[i]);
		if ((rows & 7) != 0 && (raw[nb - 1] >> (rows & 7)) != 0)
			return fail(err, "The null bitmap of block %u has bits set past its last row.",
						blk->blockno);
		if (pop != blk->nulls)
			return fail(err, "The null bitmap of block %u marks %u NULLs where the directory says %u.",
						blk->blockno, pop, blk->nulls);
		for (i = nb; i < secoff; i++)
			if (raw[i] != 0)
				return fail(err, "Block %u has nonzero padding after its null bitmap.",
							blk->blockno);
	}

	sec = raw + secoff;
	seclen = blk->rawlen - secoff;
	if (col->encoding == LEDGER_FMT_ENC_CODES)
	{
		uint32_t	w = LedgerFmtCodeWidth(col->dict_count);

		if (dict_values == NULL)
			return fail(err, "Block %u holds dictionary codes but no dictionary was given.",
						blk->blockno);
		if (seclen != (uint64_t) n * w)
			return fail(err, "Block %u has %zu bytes of codes for %u values.",
						blk->blockno, seclen, n);
		if (decode_codes(sec, n, w, col->dict_count, dict_values, values, err) != 0)
			return -1;
	}
	else if (LedgerFmtValuesDecode(&col->type, sec, seclen, n, values, err) != 0)
		return -1;

	if (nb > 0)
	{
		/* spread the n dense values over the rows, from the end */
		uint32_t	j = n;

		for (i = rows; i-- > 0;)
		{
			if (raw[i >> 3] & (1 << (i & 7)))
			{
				isnull[i] = true;
				values[i] = 0;
			}
			else
			{
				isnull[i] = false;
				values[i] = values[--j];
			}
		}
	}
	else
		memset(isnull, 0, rows * sizeof(bool));
	return 0;
}

/*
 * Parses and validates a dictionary blob's header for a segment of nrows
 * rows; the frames it points to are checked when decompressed.
 */
int
LedgerFmtDictParse(const void *blob, size_t len, const LedgerFmtType *type,
				   uint32_t nrows, LedgerFmtDict *dict, LedgerFmtError *err)
{
	const uint8_t *b = (const uint8_t *) blob;
	uint64_t	total;
	uint64_t	minbitmaps;

	memset(dict, 0, sizeof(*dict));
	if (LedgerFmtTypeCheck(type, err) != 0)
		return -1;
	if (nrows > LEDGER_FMT_MAX_ROWS)
		return fail(err, "The segment claims %u rows, more than the %u a segment may hold.",
					nrows, (uint32_t) LEDGER_FMT_MAX_ROWS);
	if (len < LEDGER_FMT_DICT_HDR)
		return fail(err, "The dictionary blob is %zu bytes long, shorter than its %d-byte header.",
					len, LEDGER_FMT_DICT_HDR);
	if (rd32(b) != LEDGER_FMT_DICT_MAGIC)
		return fail(err, "The dictionary blob has magic number 0x%08X instead of 0x%08X.",
					rd32(b), LEDGER_FMT_DICT_MAGIC);
	if (rd16(b + 4) != LEDGER_FMT_VERSION)
		return fail(err, "The dictionary blob has format version %u; this build reads version %d.",
					(unsigned) rd16(b + 4), LEDGER_FMT_VERSION);
	if (rd32(b + 36) != checksum(b, 36, CHECKSUM_INIT))
		return fail(err, "The dictionary blob's header fails its checksum.");
	if (check_type_fields(type, b[6], (int16_t) rd16(b + 8), b[10], err) != 0)
		return -1;
	if (b[7] != 0 || b[11] != 0)
		return fail(err, "The dictionary blob has unknown flags.");

	dict->type = *type;
	dict->nrows = rd32(b + 12);
	dict->count = rd32(b + 16);
	dict->values_clen = rd32(b + 20);
	dict->values_rawlen = rd32(b + 24);
	dict->bitmaps_clen = rd32(b + 28);
	dict->bitmaps_rawlen = rd32(b + 32);

	if (dict->nrows != nrows)
		return fail(err, "The dictionary blob describes %u rows where the segment has %u.",
					dict->nrows, nrows);
	if (dict->count == 0 || dict->count > LEDGER_FMT_DICT_MAX ||
		dict->count > nrows)
		return fail(err, "The dictionary blob declares %u entries for %u rows.",
					dict->count, nrows);
	total = (uint64_t) LEDGER_FMT_DICT_HDR + dict->values_clen +
		dict->bitmaps_clen;
	if (total != len)
		return fail(err, "The dictionary blob is %zu bytes long where its header accounts for %llu.",
					len, (unsigned long long) total);
	if (dict->values_clen == 0 || dict->bitmaps_clen == 0)
		return fail(err, "The dictionary blob has an empty frame.");
	if (dict->values_rawlen == 0 || dict->values_rawlen > LEDGER_FMT_MAX_ALLOC ||
		dict->bitmaps_rawlen > LEDGER_FMT_MAX_ALLOC)
		return fail(err, "The dictionary blob declares impossible section sizes.");
	if (type->cls == LEDGER_FMT_BYVAL &&
		dict->values_rawlen > LEDGER_FMT_INT_HDR + (uint64_t) dict->count * 8)
		return fail(err, "The dictionary's integer section is too large for %u entries.",
					dict->count);
	if (type->cls == LEDGER_FMT_FIXED &&
		dict->values_rawlen != (uint64_t) dict->count * LedgerFmtFixedStride(type))
		return fail(err, "The dictionary's value section has the wrong size for %u entries.",
					dict->count);
	/* an offset per entry plus one, and an 8-byte bitmap at least per entry */
	minbitmaps = 4 * ((uint64_t) dict->count + 1) + 8 * (uint64_t) dict->count;
	if (dict->bitmaps_rawlen < minbitmaps)
		return fail(err, "The dictionary's bitmap section is too small for %u entries.",
					dict->count);
	dict->values_frame = b + LEDGER_FMT_DICT_HDR;
	dict->bitmaps_frame = dict->values_frame + dict->values_clen;
	if (check_frame(dict->values_frame, dict->values_clen,
					dict->values_rawlen, err) != 0 ||
		check_frame(dict->bitmaps_frame, dict->bitmaps_clen,
					dict->bitmaps_rawlen, err) != 0)
		return -1;
	return 0;
}

/*
 * Checks the offset table at the start of a decompressed bitmap section
 * (raw, dict->bitmaps_rawlen bytes): count + 1 nondecreasing offsets from
 * the end of the table to the end of the section.
 */
int
LedgerFmtDictBitmapsCheck(const LedgerFmtDict *dict, const uint8_t *raw,
						  LedgerFmtError *err)
{
	uint64_t	tab = 4 * ((uint64_t) dict->count + 1);
	uint32_t	prev;
	uint32_t	i;

	if (dict->bitmaps_rawlen < tab)
		return fail(err, "The dictionary's bitmap section is shorter than its offset table.");
	prev = rd32(raw);
	if (prev != tab)
		return fail(err, "The dictionary's first bitmap starts at %u where %llu is expected.",
					prev, (unsigned long long) tab);
	for (i = 1; i <= dict->count; i++)
	{
		uint32_t	off = rd32(raw + 4 * (size_t) i);

		if (off < prev || off > dict->bitmaps_rawlen)
			return fail(err, "The dictionary's bitmap %u has an invalid offset %u.",
						i, off);
		prev = off;
	}
	if (prev != dict->bitmaps_rawlen)
		return fail(err, "The dictionary's bitmap section has %u bytes after its last bitmap.",
					dict->bitmaps_rawlen - prev);
	return 0;
}

/*
 * Locates bitmap i in a bitmap section already checked by
 * LedgerFmtDictBitmapsCheck; re-checks its bounds.
 */
int
LedgerFmtDictBitmapsParse(const LedgerFmtDict *dict, const uint8_t *raw,
						  uint32_t i, size_t *offset, size_t *length,
						  LedgerFmtError *err)
{
	uint32_t	start,
				end;

	if (i >= dict->count)
		return fail(err, "Dictionary entry %u is out of range.", i);
	start = rd32(raw + 4 * (size_t) i);
	end = rd32(raw + 4 * (size_t) i + 4);
	if (start > end || end > dict->bitmaps_rawlen)
		return fail(err, "The dictionary's bitmap %u has invalid bounds.", i);
	*offset = start;
	*length = end - start;
	return 0;
}

/*
 * Validates a serialized datum of the given type; *offset and *length
 * locate the value's bytes within buf.
 */
int
LedgerFmtDatumParse(const void *buf, size_t len, const LedgerFmtType *type,
					size_t *offset, size_t *length, LedgerFmtError *err)
{
	const uint8_t *b = (const uint8_t *) buf;
	const uint8_t *p;
	size_t		plen;

	if (LedgerFmtTypeCheck(type, err) != 0)
		return -1;
	if (len < LEDGER_FMT_DATUM_HDR)
		return fail(err, "A serialized value of %zu bytes is shorter than its header.", len);
	if (b[0] != LEDGER_FMT_VERSION)
		return fail(err, "A serialized value has format version %u; this build reads version %d.",
					(unsigned) b[0], LEDGER_FMT_VERSION);
	if (rd32(b + 4) != datum_checksum(b, len))
		return fail(err, "A serialized value fails its checksum.");
	if (b[1] != type->cls || (int16_t) rd16(b + 2) != type->typlen)
		return fail(err, "A serialized value of class %u and length %d does not match its column.",
					(unsigned) b[1], (int) (int16_t) rd16(b + 2));
	p = b + LEDGER_FMT_DATUM_HDR;
	plen = len - LEDGER_FMT_DATUM_HDR;
	switch (type->cls)
	{
		case LEDGER_FMT_BYVAL:
			if (plen != 8)
				return fail(err, "A serialized by-value datum has %zu bytes instead of 8.", plen);
			break;
		case LEDGER_FMT_FIXED:
			if (plen != (size_t) type->typlen)
				return fail(err, "A serialized value of a %d-byte type has %zu bytes.",
							(int) type->typlen, plen);
			break;
		case LEDGER_FMT_VARLENA:
			if (plen < 4)
				return fail(err, "A serialized varlena value has %zu bytes, fewer than its header.",
							plen);
			if (!FMT_VARLENA_IS_4B_U(p[0]))
				return fail(err, "A serialized varlena value has a compressed or short header.");
			if (FMT_VARLENA_4B_SIZE(rd32(p)) != plen)
				return fail(err, "A serialized varlena value of %u bytes is stored in %zu bytes.",
							FMT_VARLENA_4B_SIZE(rd32(p)), plen);
			break;
		case LEDGER_FMT_CSTRING:
			if (plen == 0 || memchr(p, 0, plen) != p + plen - 1)
				return fail(err, "A serialized string is not terminated exactly at its end.");
			break;
	}
	*offset = LEDGER_FMT_DATUM_HDR;
	*length = plen;
	return 0;
}
