/*-------------------------------------------------------------------------
 *
 * segment_decode.c
 *	  Reading one column of a segment: column readers that decompress one
 *	  block at a time, and dictionaries with lazily decoded row bitmaps.
 *
 * NOTES
 *	  All validation is done by segment_format.c (fuzzed outside the
 *	  server); this file only allocates, decompresses and reports.  Any
 *	  damage raises ERRCODE_DATA_CORRUPTED.  No catalog access: these
 *	  functions may run outside a transaction.
 *
 *	  A reader or dictionary allocates only in the memory context it is
 *	  given and keeps pointing into the blob it was opened on: the caller
 *	  keeps both alive together.  Decoded by-reference Datums point into a
 *	  decompression buffer of the reader (until its next ReadBlock) or of
 *	  the dictionary (as long as its context) -- zero copy.  Varlena Datums
 *	  may carry 1-byte headers, as in heap tuples.
 *
 *	  The zstd decompression context is created once per backend and kept
 *	  in a static; zstd cannot ERROR half-way, so it is never left in use.
 *
 * IDENTIFICATION
 *	  src/segment/segment_decode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zstd.h>

#include "ledger/bitmap.h"
#include "ledger/segment.h"
#include "segment_format.h"
#include "utils/memutils.h"

/* an open column blob */
struct LedgerColumnReader
{
	LedgerFmtColumn col;		/* validated header; points into the blob */
	LedgerDictionary *dict;		/* for dictionary-coded columns */
	MemoryContext cxt;
	uint8	   *raw;			/* decompression buffer, reused */
	size_t		rawcap;
	uintptr_t  *identity;		/* 0 .. dict_count - 1: decodes codes as is */
	Datum	   *codebuf;		/* LEDGER_BLOCK_ROWS codes as Datums */
};

/* what LedgerDictionary.priv points to */
typedef struct DictionaryPriv
{
	LedgerFmtDict fmt;			/* validated header; points into the blob */
	uint8	   *bitmaps_raw;	/* decompressed and checked on first use */
	MemoryContext cxt;
} DictionaryPriv;

/* per-backend zstd decompression context, created on first use */
static ZSTD_DCtx *ledger_dctx = NULL;

static void report_corrupt(const LedgerFmtError *err) pg_attribute_noreturn();

/* raises ERRCODE_DATA_CORRUPTED with the decoder's description */
static void
report_corrupt(const LedgerFmtError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ledger segment data is corrupted"),
			 errdetail_internal("%s", err->detail)));
}

/* the backend's zstd decompression context */
static ZSTD_DCtx *
get_dctx(void)
{
	if (ledger_dctx == NULL)
	{
		ledger_dctx = ZSTD_createDCtx();
		if (ledger_dctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd decompression context.")));
	}
	return ledger_dctx;
}

/* the format's description of attr's type */
static void
attr_fmt_type(Form_pg_attribute attr, LedgerFmtType *type)
{
	LedgerFmtError err;

	if (LedgerFmtTypeMake(attr->attlen, attr->attbyval, attr->attalign,
						  type, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot read column \"%s\" from a ledger segment",
						NameStr(attr->attname)),
				 errdetail_internal("%s", err.detail)));
}

/* checks that a stored blob was detoasted and a row count is possible */
static void
check_blob(bytea *blob, int nrows)
{
	if (VARATT_IS_EXTERNAL(blob) || VARATT_IS_COMPRESSED(blob))
		elog(ERROR, "ledger segment blob was not detoasted");
	if (nrows < 0 || nrows > LEDGER_SEGMENT_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger segment data is corrupted"),
				 errdetail("The segment claims %d rows.", nrows)));
}

/*
 * Opens a column blob of a segment of nrows rows (see segment.h).  The
 * header and block directory are validated here, blocks when read.
 */
LedgerColumnReader *
LedgerColumnReaderCreate(Form_pg_attribute attr, int nrows, bytea *data,
						 LedgerDictionary *dict, MemoryContext cxt)
{
	LedgerColumnReader *reader;
	LedgerFmtType type;
	LedgerFmtError err;

	check_blob(data, nrows);
	attr_fmt_type(attr, &type);
	reader = MemoryContextAllocZero(cxt, sizeof(LedgerColumnReader));
	if (LedgerFmtColumnParse(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data),
							 &type, (uint32) nrows, &reader->col, &err) != 0)
		report_corrupt(&err);
	if (reader->col.encoding == LEDGER_FMT_ENC_CODES)
	{
		if (dict == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("ledger segment data is corrupted"),
					 errdetail("Column \"%s\" is stored as dictionary codes but no dictionary was read.",
							   NameStr(attr->attname))));
		if (dict->count != (int) reader->col.dict_count)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("ledger segment data is corrupted"),
					 errdetail("Column \"%s\" refers to a dictionary of %u entries but its dictionary has %d.",
							   NameStr(attr->attname),
							   reader->col.dict_count, dict->count)));
		reader->dict = dict;
	}
	reader->cxt = cxt;
	return reader;
}

/* number of blocks of the column */
int
LedgerColumnReaderNumBlocks(LedgerColumnReader *reader)
{
	return (int) reader->col.nblocks;
}

/* decodes block blockno, mapping dictionary codes through dict_values */
static int
read_block(LedgerColumnReader *reader, int blockno, Datum *values,
		   bool *isnull, const uintptr_t *dict_values)
{
	LedgerFmtBlock blk;
	LedgerFmtError err;
	uint8	   *raw = NULL;

	if (blockno < 0 || blockno >= (int) reader->col.nblocks)
		elog(ERROR, "ledger column block %d out of range (%u blocks)",
			 blockno, reader->col.nblocks);
	LedgerFmtColumnBlock(&reader->col, (uint32) blockno, &blk);
	if (blk.rawlen > 0)
	{
		if (blk.rawlen > reader->rawcap)
		{
			if (reader->raw != NULL)
				pfree(reader->raw);
			reader->raw = NULL;
			reader->rawcap = 0;
			reader->raw = MemoryContextAlloc(reader->cxt, blk.rawlen);
			reader->rawcap = blk.rawlen;
		}
		raw = reader->raw;
		if (LedgerFmtDecompress(get_dctx(), reader->col.blob + blk.offset,
								blk.clen, raw, blk.rawlen, &err) != 0)
			report_corrupt(&err);
	}
	if (LedgerFmtBlockDecode(&reader->col, &blk, raw, (uintptr_t *) values,
							 isnull, dict_values, &err) != 0)
		report_corrupt(&err);
	return (int) blk.rows;
}

/*
 * Decodes block blockno into values/isnull (LEDGER_BLOCK_ROWS entries of
 * room) and returns its row count; by-reference Datums stay valid until the
 * next call on this reader.
 */
int
LedgerColumnReaderReadBlock(LedgerColumnReader *reader, int blockno,
							Datum *values, bool *isnull)
{
	return read_block(reader, blockno, values, isnull,
					  reader->dict ? (const uintptr_t *) reader->dict->values : NULL);
}

/* the column's dictionary, or NULL if it is not stored as codes */
LedgerDictionary *
LedgerColumnReaderDictionary(LedgerColumnReader *reader)
{
	return reader->dict;
}

/*
 * Like LedgerColumnReaderReadBlock for a dictionary-coded column, but
 * stores each row's dictionary entry number (0 for NULLs) instead of its
 * value.
 */
int
LedgerColumnReaderReadCodes(LedgerColumnReader *reader, int blockno,
							int32 *codes, bool *isnull)
{
	int			n;

	if (reader->dict == NULL)
		elog(ERROR, "ledger column is not stored as dictionary codes");
	if (reader->identity == NULL)
	{
		reader->identity = MemoryContextAlloc(reader->cxt,
											  sizeof(uintptr_t) * Max(reader->dict->count, 1));
		for (int i = 0; i < reader->dict->count; i++)
			reader->identity[i] = (uintptr_t) i;
		reader->codebuf = MemoryContextAlloc(reader->cxt,
											 sizeof(Datum) * LEDGER_BLOCK_ROWS);
	}
	n = read_block(reader, blockno, reader->codebuf, isnull, reader->identity);
	for (int i = 0; i < n; i++)
		codes[i] = (int32) reader->codebuf[i];
	return n;
}

/*
 * Opens a dictionary blob of a segment of nrows rows (see segment.h):
 * decodes the values now, the bitmaps on first use.
 */
LedgerDictionary *
LedgerDictionaryRead(Form_pg_attribute attr, int nrows, bytea *dict,
					 MemoryContext cxt)
{
	LedgerDictionary *result;
	DictionaryPriv *priv;
	LedgerFmtType type;
	LedgerFmtError err;
	uint8	   *raw;

	check_blob(dict, nrows);
	attr_fmt_type(attr, &type);
	priv = MemoryContextAllocZero(cxt, sizeof(DictionaryPriv));
	priv->cxt = cxt;
	if (LedgerFmtDictParse(VARDATA_ANY(dict), VARSIZE_ANY_EXHDR(dict), &type,
						   (uint32) nrows, &priv->fmt, &err) != 0)
		report_corrupt(&err);

	raw = MemoryContextAlloc(cxt, priv->fmt.values_rawlen);
	if (LedgerFmtDecompress(get_dctx(), priv->fmt.values_frame,
							priv->fmt.values_clen, raw,
							priv->fmt.values_rawlen, &err) != 0)
		report_corrupt(&err);

	result = MemoryContextAllocZero(cxt, sizeof(LedgerDictionary));
	result->count = (int) priv->fmt.count;
	result->values = MemoryContextAlloc(cxt, sizeof(Datum) * priv->fmt.count);
	if (LedgerFmtValuesDecode(&type, raw, priv->fmt.values_rawlen,
							  priv->fmt.count, (uintptr_t *) result->values,
							  &err) != 0)
		report_corrupt(&err);
	result->bitmaps = MemoryContextAllocZero(cxt,
											 sizeof(roaring_bitmap_t *) * priv->fmt.count);
	result->priv = priv;
	return result;
}

/*
 * The rows holding dictionary entry i, deserialized and validated on first
 * use (every row < nrows); owned by the dictionary's context.
 */
roaring_bitmap_t *
LedgerDictionaryBitmap(LedgerDictionary *dict, int i)
{
	DictionaryPriv *priv = (DictionaryPriv *) dict->priv;
	LedgerFmtError err;
	size_t		off,
				len;

	if (i < 0 || i >= dict->count)
		elog(ERROR, "ledger dictionary entry %d out of range (%d entries)",
			 i, dict->count);
	if (dict->bitmaps[i] != NULL)
		return dict->bitmaps[i];

	if (priv->bitmaps_raw == NULL)
	{
		uint8	   *raw;

		raw = MemoryContextAlloc(priv->cxt, Max(priv->fmt.bitmaps_rawlen, 1));
		if (LedgerFmtDecompress(get_dctx(), priv->fmt.bitmaps_frame,
								priv->fmt.bitmaps_clen, raw,
								priv->fmt.bitmaps_rawlen, &err) != 0 ||
			LedgerFmtDictBitmapsCheck(&priv->fmt, raw, &err) != 0)
		{
			pfree(raw);
			report_corrupt(&err);
		}
		priv->bitmaps_raw = raw;
	}
	if (LedgerFmtDictBitmapsParse(&priv->fmt, priv->bitmaps_raw, (uint32) i,
								  &off, &len, &err) != 0)
		report_corrupt(&err);
	dict->bitmaps[i] = LedgerBitmapDeserialize((const char *) priv->bitmaps_raw + off,
											   len, priv->fmt.nrows, priv->cxt);
	return dict->bitmaps[i];
}
