/*-------------------------------------------------------------------------
 *
 * fuzz_dict.c
 *	  libFuzzer harness for the dictionary decoder (segment_format.c) and
 *	  the bitmap validation of src/bitmap (roaring_check.c).
 *
 * NOTES
 *	  Input: byte 0 picks the column type, bit 0 of byte 1 the mode.
 *	  Mode 0 feeds the rest as a dictionary blob.  Mode 1 reads a row
 *	  count, an entry count, the raw value section and then per entry a
 *	  16-bit length and serialized bitmap bytes, and builds a blob with
 *	  correct frames and offset table around them.  Decoded values must be
 *	  readable in full; every bitmap that passes validation is used the way
 *	  the scan uses it and must only hold rows below nrows.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_dict.c
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

static uintptr_t values[LEDGER_FMT_DICT_MAX];

/* opens a dictionary blob, decodes values and validates every bitmap */
static void
decode_dict(const LedgerFmtType *type, const uint8_t *blob, size_t len,
			uint32_t nrows)
{
	LedgerFmtDict dict;
	LedgerFmtError err;
	uint8_t    *vraw;
	uint8_t    *braw;
	uint32_t	i;

	if (LedgerFmtDictParse(blob, len, type, nrows, &dict, &err) != 0)
		return;
	FUZZ_ASSERT(dict.count >= 1 && dict.count <= LEDGER_FMT_DICT_MAX);
	vraw = malloc(dict.values_rawlen);
	if (LedgerFmtDecompress(fuzz_dctx(), dict.values_frame, dict.values_clen,
							vraw, dict.values_rawlen, &err) == 0 &&
		LedgerFmtValuesDecode(type, vraw, dict.values_rawlen, dict.count,
							  values, &err) == 0)
	{
		for (i = 0; i < dict.count; i++)
		{
			if (type->cls != LEDGER_FMT_BYVAL)
				FUZZ_ASSERT(values[i] >= (uintptr_t) vraw &&
							values[i] < (uintptr_t) vraw + dict.values_rawlen);
			fuzz_touch_value(type, values[i]);
		}
	}
	free(vraw);

	braw = malloc(dict.bitmaps_rawlen ? dict.bitmaps_rawlen : 1);
	if (LedgerFmtDecompress(fuzz_dctx(), dict.bitmaps_frame, dict.bitmaps_clen,
							braw, dict.bitmaps_rawlen, &err) == 0 &&
		LedgerFmtDictBitmapsCheck(&dict, braw, &err) == 0)
	{
		for (i = 0; i < dict.count && i < 256; i++)
		{
			size_t		off,
						blen;
			roaring_bitmap_t *bm;

			if (LedgerFmtDictBitmapsParse(&dict, braw, i, &off, &blen, &err) != 0)
				continue;
			FUZZ_ASSERT(off + blen <= dict.bitmaps_rawlen);
			bm = fuzz_bitmap_deserialize((const char *) braw + off, blen, nrows);
			if (bm != NULL)
			{
				fuzz_exercise_bitmap(bm, nrows);
				roaring_bitmap_free(bm);
			}
		}
	}
	free(braw);
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

/* builds a well-framed dictionary blob from sections in the input */
static void
rebuild(const LedgerFmtType *type, Cursor *c)
{
	uint32_t	nrows,
				count,
				vlen;
	uint8_t    *vraw;
	uint8_t    *braw;
	size_t		blen;
	uint8_t    *vframe,
			   *bframe;
	size_t		vclen,
				bclen;
	uint8_t    *blob;
	uint32_t	i;

	take(c, &nrows, 4);
	take(c, &count, 4);
	take(c, &vlen, 4);
	nrows &= 0x3FFFF;
	count = count % 300 + 1;
	vlen &= 0xFFFF;
	vraw = malloc(vlen ? vlen : 1);
	take(c, vraw, vlen);

	blen = 4 * ((size_t) count + 1);
	braw = malloc(blen + c->left + 1);
	for (i = 0; i < count; i++)
	{
		uint16_t	n;
		uint32_t	off = (uint32_t) blen;

		memcpy(braw + 4 * (size_t) i, &off, 4);
		take(c, &n, 2);
		if (n > c->left)
			n = (uint16_t) c->left;
		take(c, braw + blen, n);
		blen += n;
	}
	{
		uint32_t	off = (uint32_t) blen;

		memcpy(braw + 4 * (size_t) count, &off, 4);
	}

	vframe = fuzz_compress(vraw, vlen, &vclen);
	bframe = fuzz_compress(braw, blen, &bclen);
	blob = malloc(LEDGER_FMT_DICT_HDR + vclen + bclen);
	LedgerFmtDictHeaderWrite(blob, type, nrows, count, (uint32_t) vclen, vlen,
							 (uint32_t) bclen, (uint32_t) blen);
	memcpy(blob + LEDGER_FMT_DICT_HDR, vframe, vclen);
	memcpy(blob + LEDGER_FMT_DICT_HDR + vclen, bframe, bclen);
	if (c->left >= 3 && (c->p[0] & 0x80))
	{
		/* damage one header byte, then make the checksum fit */
		uint16_t	pos;

		memcpy(&pos, c->p + 1, 2);
		blob[pos % 36] = c->p[0] & 0x7F;
		LedgerFmtDictSeal(blob);
	}
	decode_dict(type, blob, LEDGER_FMT_DICT_HDR + vclen + bclen, nrows);
	free(blob);
	free(vframe);
	free(bframe);
	free(vraw);
	free(braw);
}

/* libFuzzer entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const LedgerFmtType *type;
	Cursor		c;

	if (size < 2)
		return 0;
	type = &fuzz_types[data[0] % FUZZ_NTYPES];
	if ((data[1] & 1) == 0)
	{
		uint32_t	nrows = 0;

		if (size >= 2 + 16)
			memcpy(&nrows, data + 2 + 12, 4);
		decode_dict(type, data + 2, size - 2, nrows);
	}
	else
	{
		c.p = data + 2;
		c.left = size - 2;
		rebuild(type, &c);
	}
	return 0;
}
