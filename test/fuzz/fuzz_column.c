/*-------------------------------------------------------------------------
 *
 * fuzz_column.c
 *	  libFuzzer harness for the column-data decoder (segment_format.c).
 *
 * NOTES
 *	  Input: byte 0 picks the column type, bit 0 of byte 1 the mode.
 *	  Mode 0 feeds the rest as a column blob, exactly as read from disk.
 *	  Mode 1 ("rebuild") reads a row count, encoding, dictionary size and
 *	  per block a null count and raw block bytes, and builds a blob around
 *	  them with correct zstd frames, then applies up to three byte patches
 *	  to the header and directory and recomputes their checksum, so that
 *	  mutations reach every check past the checksums.  Decoded values must lie inside the
 *	  decompressed block and be readable in full; codes must map to the
 *	  dictionary.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_column.c
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

static uintptr_t values[LEDGER_FMT_BLOCK_ROWS];
static bool isnull[LEDGER_FMT_BLOCK_ROWS];
static uintptr_t dict_values[LEDGER_FMT_DICT_MAX];

/* opens a column blob and decodes every block, checking what comes out */
static void
decode_blob(const LedgerFmtType *type, const uint8_t *blob, size_t len,
			uint32_t nrows)
{
	LedgerFmtColumn col;
	LedgerFmtError err;
	uint32_t	b;

	if (LedgerFmtColumnParse(blob, len, type, nrows, &col, &err) != 0)
		return;
	FUZZ_ASSERT(col.nblocks == LedgerFmtNumBlocks(nrows));
	for (b = 0; b < col.nblocks; b++)
	{
		LedgerFmtBlock blk;
		uint8_t    *raw = NULL;
		uint32_t	i;

		LedgerFmtColumnBlock(&col, b, &blk);
		FUZZ_ASSERT(blk.rows <= LEDGER_FMT_BLOCK_ROWS);
		FUZZ_ASSERT((uint64_t) blk.offset + blk.clen <= len);
		if (blk.rawlen > 0)
		{
			FUZZ_ASSERT(blk.rawlen <= LEDGER_FMT_MAX_ALLOC);
			raw = malloc(blk.rawlen);
			if (LedgerFmtDecompress(fuzz_dctx(), blob + blk.offset, blk.clen,
									raw, blk.rawlen, &err) != 0)
			{
				free(raw);
				continue;
			}
		}
		if (LedgerFmtBlockDecode(&col, &blk, raw, values, isnull,
								 dict_values, &err) == 0)
		{
			uint32_t	nulls = 0;

			for (i = 0; i < blk.rows; i++)
			{
				if (isnull[i])
				{
					nulls++;
					continue;
				}
				if (col.encoding == LEDGER_FMT_ENC_CODES)
					FUZZ_ASSERT(values[i] < col.dict_count);
				else
				{
					if (type->cls != LEDGER_FMT_BYVAL)
						FUZZ_ASSERT(values[i] >= (uintptr_t) raw &&
									values[i] < (uintptr_t) raw + blk.rawlen);
					fuzz_touch_value(type, values[i]);
				}
			}
			FUZZ_ASSERT(nulls == blk.nulls);
		}
		free(raw);
	}
}

/* a bounded little cursor over the fuzz input */
typedef struct Cursor
{
	const uint8_t *p;
	size_t		left;
} Cursor;

/* takes n bytes (zero-filled past the end) */
static void
take(Cursor *c, void *dst, size_t n)
{
	size_t		k = n < c->left ? n : c->left;

	memset(dst, 0, n);
	if (k > 0)
		memcpy(dst, c->p, k);
	c->p += k;
	c->left -= k;
}

/* builds a well-framed blob from block contents in the input, decodes it */
static void
rebuild(const LedgerFmtType *type, Cursor *c)
{
	uint32_t	nrows;
	uint8_t		encoding;
	uint16_t	dict_count;
	uint32_t	nblocks;
	size_t		hdr;
	size_t		cap;
	size_t		len;
	uint8_t    *blob;
	uint32_t	b;

	take(c, &nrows, 4);
	take(c, &encoding, 1);
	take(c, &dict_count, 2);
	nrows &= 0x3FFFF;
	encoding &= 1;
	nblocks = LedgerFmtNumBlocks(nrows);
	hdr = LEDGER_FMT_COLUMN_HDR + (size_t) nblocks * LEDGER_FMT_DIR_ENTRY;
	cap = hdr + 1024;
	blob = malloc(cap);
	LedgerFmtColumnHeaderWrite(blob, type, encoding, nrows,
							   encoding ? (dict_count ? dict_count : 1) : 0);
	len = hdr;
	for (b = 0; b < nblocks; b++)
	{
		uint32_t	rows = LedgerFmtBlockRows(nrows, b);
		uint32_t	nullsel;
		uint16_t	rawlen;
		uint32_t	nulls;
		uint8_t    *raw;
		uint8_t    *frame = NULL;
		size_t		clen = 0;

		take(c, &nullsel, 4);
		take(c, &rawlen, 2);
		raw = malloc(rawlen ? rawlen : 1);
		take(c, raw, rawlen);
		if (nullsel & 0x80000000U)
		{
			/* make the count agree with the bitmap at the block's start */
			size_t		nb = ((size_t) rows + 7) / 8;
			uint32_t	pop = 0;
			size_t		i;

			if (nb <= rawlen)
			{
				if (rows & 7)
					raw[nb - 1] &= (uint8_t) ((1 << (rows & 7)) - 1);
				for (i = 0; i < nb; i++)
					pop += (uint32_t) __builtin_popcount(raw[i]);
			}
			nulls = (pop > 0 && pop < rows) ? pop : 0;
		}
		else
			nulls = nullsel % (rows + 1);
		if (nulls == rows)
			rawlen = 0;
		if (rawlen > 0)
			frame = fuzz_compress(raw, rawlen, &clen);
		if (len + clen > cap)
		{
			cap = (len + clen) * 2;
			blob = realloc(blob, cap);
		}
		LedgerFmtDirEntryWrite(blob, b, (uint32_t) len, (uint32_t) clen,
							   rawlen, nulls);
		if (clen > 0)
			memcpy(blob + len, frame, clen);
		len += clen;
		free(frame);
		free(raw);
	}
	/* optionally damage header or directory, then make the checksum fit */
	{
		uint8_t		npatch = 0;
		uint8_t		k;

		take(c, &npatch, 1);
		for (k = 0; k < (npatch & 3); k++)
		{
			uint16_t	pos;
			uint8_t		val;

			take(c, &pos, 2);
			take(c, &val, 1);
			blob[pos % hdr] = val;
		}
	}
	LedgerFmtColumnSeal(blob, nblocks);
	decode_blob(type, blob, len, nrows);
	free(blob);
}

/* libFuzzer entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const LedgerFmtType *type;
	Cursor		c;

	if (dict_values[1] == 0)
	{
		uint32_t	i;

		for (i = 0; i < LEDGER_FMT_DICT_MAX; i++)
			dict_values[i] = i;
	}
	if (size < 2)
		return 0;
	type = &fuzz_types[data[0] % FUZZ_NTYPES];
	if ((data[1] & 1) == 0)
	{
		uint32_t	nrows = 0;

		if (size >= 2 + 16)
			memcpy(&nrows, data + 2 + 12, 4);
		decode_blob(type, data + 2, size - 2, nrows);
	}
	else
	{
		c.p = data + 2;
		c.left = size - 2;
		rebuild(type, &c);
	}
	return 0;
}
