/*-------------------------------------------------------------------------
 *
 * segment_format.h
 *	  Private interface of the segment component: the byte-level format of
 *	  column, dictionary and datum blobs, free of any server dependency.
 *
 * NOTES
 *	  segment_format.c includes no PostgreSQL header: it is linked into the
 *	  server module and, unchanged, into the libFuzzer harnesses under
 *	  test/fuzz.  Functions that check input return 0 on success and -1 on
 *	  damaged input, with a full-sentence description in a LedgerFmtError;
 *	  the server glue turns that into ERRCODE_DATA_CORRUPTED.  Nothing here
 *	  allocates: callers size buffers with the *Size functions first.
 *
 *	  Decoded values are uintptr_t, which is what Datum is.  By-reference
 *	  values point into the buffer given to the decoder, which must be
 *	  8-byte aligned (palloc and malloc memory is).
 *
 *	  The format is documented in src/segment/README.md.
 *
 * IDENTIFICATION
 *	  src/segment/segment_format.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_SEGMENT_FORMAT_H
#define LEDGER_SEGMENT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* keep in step with LEDGER_SEGMENT_FORMAT, LEDGER_BLOCK_ROWS etc. */
#define LEDGER_FMT_VERSION			1
#define LEDGER_FMT_BLOCK_ROWS		65536
#define LEDGER_FMT_MAX_ROWS			(16 * LEDGER_FMT_BLOCK_ROWS)
#define LEDGER_FMT_DICT_MAX			65536

/* largest buffer any decoder may ask for: PostgreSQL's MaxAllocSize */
#define LEDGER_FMT_MAX_ALLOC		((size_t) 0x3fffffff)

#define LEDGER_FMT_COLUMN_MAGIC		0x4C43474CU /* "LGCL" little-endian */
#define LEDGER_FMT_DICT_MAGIC		0x4944474CU /* "LGDI" little-endian */

#define LEDGER_FMT_COLUMN_HDR		32	/* fixed part of a column blob */
#define LEDGER_FMT_DIR_ENTRY		16	/* one block directory entry */
#define LEDGER_FMT_DICT_HDR			40	/* fixed part of a dictionary blob */
#define LEDGER_FMT_INT_HDR			24	/* header of an integer section */
#define LEDGER_FMT_DATUM_HDR		8	/* header of a serialized datum */

/* value classes, derived from typlen/typbyval */
#define LEDGER_FMT_BYVAL			1	/* by value, typlen 1, 2, 4 or 8 */
#define LEDGER_FMT_FIXED			2	/* by reference, typlen > 0 */
#define LEDGER_FMT_VARLENA			3	/* typlen -1 */
#define LEDGER_FMT_CSTRING			4	/* typlen -2 */

/* column blob encodings */
#define LEDGER_FMT_ENC_VALUES		0	/* blocks hold the values */
#define LEDGER_FMT_ENC_CODES		1	/* blocks hold dictionary codes */

/* integer section modes */
#define LEDGER_FMT_INT_FOR			0	/* v[i] = base + s[i] */
#define LEDGER_FMT_INT_DELTA		1	/* v[i] = v[i-1] + base + s[i] */

/* rounds x up to a multiple of 8 */
#define LEDGER_FMT_ALIGN8(x)		(((x) + (size_t) 7) & ~((size_t) 7))

/* what a column holds, as far as the byte format cares */
typedef struct LedgerFmtType
{
	uint8_t		cls;			/* LEDGER_FMT_BYVAL etc. */
	int16_t		typlen;
	char		typalign;		/* 'c', 's', 'i' or 'd' */
} LedgerFmtType;

/* description of damaged input, a full sentence */
typedef struct LedgerFmtError
{
	char		detail[256];
} LedgerFmtError;

/* a parsed and validated column blob header */
typedef struct LedgerFmtColumn
{
	LedgerFmtType type;
	uint8_t		encoding;		/* LEDGER_FMT_ENC_* */
	uint32_t	nrows;
	uint32_t	nblocks;
	uint32_t	dict_count;
	const uint8_t *blob;		/* start of the blob (after any varlena header) */
	size_t		len;
} LedgerFmtColumn;

/* one validated block directory entry */
typedef struct LedgerFmtBlock
{
	uint32_t	blockno;
	uint32_t	rows;			/* rows in the block */
	uint32_t	offset;			/* frame offset from the blob start */
	uint32_t	clen;			/* frame length; 0 iff rawlen is 0 */
	uint32_t	rawlen;			/* decompressed length */
	uint32_t	nulls;			/* NULLs among the rows */
} LedgerFmtBlock;

/* a parsed and validated dictionary blob header */
typedef struct LedgerFmtDict
{
	LedgerFmtType type;
	uint32_t	nrows;
	uint32_t	count;
	const uint8_t *values_frame;
	uint32_t	values_clen;
	uint32_t	values_rawlen;
	const uint8_t *bitmaps_frame;
	uint32_t	bitmaps_clen;
	uint32_t	bitmaps_rawlen;
} LedgerFmtDict;

/* choice of encoding for an integer section */
typedef struct LedgerFmtIntPlan
{
	uint8_t		mode;			/* LEDGER_FMT_INT_FOR or _DELTA */
	uint8_t		width;			/* bytes per stored value: 0, 1, 2, 4, 8 */
	uint64_t	base;
	uint64_t	first;
	uint32_t	count;			/* values encoded */
} LedgerFmtIntPlan;

/* --- types --- */
extern int	LedgerFmtTypeMake(int16_t typlen, bool byval, char typalign,
							  LedgerFmtType *type, LedgerFmtError *err);
extern int	LedgerFmtTypeCheck(const LedgerFmtType *type, LedgerFmtError *err);
extern size_t LedgerFmtFixedStride(const LedgerFmtType *type);
extern uint32_t LedgerFmtCodeWidth(uint32_t dict_count);
extern uint32_t LedgerFmtBlockRows(uint32_t nrows, uint32_t blockno);
extern uint32_t LedgerFmtNumBlocks(uint32_t nrows);

/* --- zstd frames --- */
extern int	LedgerFmtCompress(void *cctx, int level, const void *src,
							  size_t srclen, void *dst, size_t dstcap,
							  size_t *outlen, LedgerFmtError *err);
extern int	LedgerFmtDecompress(void *dctx, const void *src, size_t clen,
								void *dst, size_t rawlen,
								LedgerFmtError *err);

/* --- writing (trusted input) --- */
extern void LedgerFmtIntPlanMake(const int64_t *vals, uint32_t n,
								 LedgerFmtIntPlan *plan);
extern size_t LedgerFmtIntSectionSize(const LedgerFmtIntPlan *plan);
extern void LedgerFmtIntSectionWrite(const int64_t *vals,
									 const LedgerFmtIntPlan *plan,
									 uint8_t *dst);
extern void LedgerFmtCodesWrite(const uint32_t *codes, uint32_t n,
								uint32_t dict_count, uint8_t *dst);
extern size_t LedgerFmtNullBitmapSize(uint32_t rows, uint32_t nulls);
extern void LedgerFmtNullBitmapWrite(const bool *isnull, uint32_t rows,
									 uint8_t *dst);
extern void LedgerFmtColumnHeaderWrite(uint8_t *dst, const LedgerFmtType *type,
									   uint8_t encoding, uint32_t nrows,
									   uint32_t dict_count);
extern void LedgerFmtDirEntryWrite(uint8_t *dst, uint32_t blockno,
								   uint32_t offset, uint32_t clen,
								   uint32_t rawlen, uint32_t nulls);
extern void LedgerFmtColumnSeal(uint8_t *blob, uint32_t nblocks);
extern void LedgerFmtDictHeaderWrite(uint8_t *dst, const LedgerFmtType *type,
									 uint32_t nrows, uint32_t count,
									 uint32_t values_clen,
									 uint32_t values_rawlen,
									 uint32_t bitmaps_clen,
									 uint32_t bitmaps_rawlen);
extern void LedgerFmtDictSeal(uint8_t *blob);
extern void LedgerFmtDatumHeaderWrite(uint8_t *dst, const LedgerFmtType *type);
extern void LedgerFmtDatumSeal(uint8_t *buf, size_t len);

/* --- reading (untrusted input) --- */
extern int	LedgerFmtColumnParse(const void *blob, size_t len,
								 const LedgerFmtType *type, uint32_t nrows,
								 LedgerFmtColumn *col, LedgerFmtError *err);
extern void LedgerFmtColumnBlock(const LedgerFmtColumn *col, uint32_t blockno,
								 LedgerFmtBlock *blk);
extern int	LedgerFmtBlockDecode(const LedgerFmtColumn *col,
								 const LedgerFmtBlock *blk, const uint8_t *raw,
								 uintptr_t *values, bool *isnull,
								 const uintptr_t *dict_values,
								 LedgerFmtError *err);
extern int	LedgerFmtValuesDecode(const LedgerFmtType *type,
								  const uint8_t *sec, size_t seclen,
								  uint32_t count, uintptr_t *values,
								  LedgerFmtError *err);
extern int	LedgerFmtDictParse(const void *blob, size_t len,
							   const LedgerFmtType *type, uint32_t nrows,
							   LedgerFmtDict *dict, LedgerFmtError *err);
extern int	LedgerFmtDictBitmapsParse(const LedgerFmtDict *dict,
									  const uint8_t *raw, uint32_t i,
									  size_t *offset, size_t *length,
									  LedgerFmtError *err);
extern int	LedgerFmtDictBitmapsCheck(const LedgerFmtDict *dict,
									  const uint8_t *raw, LedgerFmtError *err);
extern int	LedgerFmtDatumParse(const void *buf, size_t len,
								const LedgerFmtType *type, size_t *offset,
								size_t *length, LedgerFmtError *err);
extern uintptr_t LedgerFmtByvalDatum(uint64_t v, int16_t typlen);

#endif							/* LEDGER_SEGMENT_FORMAT_H */
