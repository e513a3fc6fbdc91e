/*-------------------------------------------------------------------------
 *
 * gen_seeds.c
 *	  Writes the seed corpora of the fuzz harnesses and, on the way, checks
 *	  that what segment_format.c writes it reads back exactly.
 *
 * NOTES
 *	  Usage: gen_seeds OUTDIR.  Creates OUTDIR/{column,dict,datum,roaring}
 *	  with valid inputs for each harness (several types, NULL patterns,
 *	  delta and frame-of-reference integers, short and long varlenas,
 *	  dictionary codes, multi-block columns, run/array/bitset containers)
 *	  and prints "N passed, M failed"; exits 1 if any round trip failed.
 *	  The block writer here mirrors segment_encode.c (which needs the
 *	  server for varlena packing); it is test code.
 *
 * IDENTIFICATION
 *	  test/fuzz/gen_seeds.c
 *
 *-------------------------------------------------------------------------
 */
#include <sys/stat.h>

#include "fuzz_common.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "gen_seeds writes little-endian varlena headers"
#endif

static const char *outdir;
static int	npassed,
			nfailed;
static int	nseeds;

/* one test column: rows, NULLs and values in a form per class */
typedef struct TestCol
{
	int			typeidx;		/* into fuzz_types */
	uint32_t	nrows;
	bool	   *isnull;
	int64_t    *ival;			/* by-value images */
	uint8_t   **bytes;			/* fixed: typlen bytes; varlena: payload */
	uint32_t   *len;			/* varlena payload length */
	char	  **str;			/* cstrings */
	uint32_t   *codes;			/* dictionary codes, when dict_count > 0 */
	uint32_t	dict_count;
} TestCol;

/* records a check */
static void
check(int ok, const char *what)
{
	if (ok)
		npassed++;
	else
	{
		nfailed++;
		fprintf(stderr, "FAILED: %s\n", what);
	}
}

/* writes one seed file into OUTDIR/sub */
static void
write_seed(const char *sub, const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen)
{
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s/seed_%03d", outdir, sub, nseeds++);
	f = fopen(path, "wb");
	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	fwrite(a, 1, alen, f);
	if (blen)
		fwrite(b, 1, blen, f);
	fclose(f);
}

/* a growable byte buffer */
typedef struct Buf
{
	uint8_t    *data;
	size_t		len,
				cap;
} Buf;

/* appends n bytes */
static void
put(Buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* appends n zero bytes */
static void
put_zero(Buf *b, size_t n)
{
	static const uint8_t z[64];

	while (n > 0)
	{
		size_t		k = n < 64 ? n : 64;

		put(b, z, k);
		n -= k;
	}
}

/* alignment of a typalign code */
static size_t
alignof_code(char a)
{
	return a == 'd' ? 8 : a == 'i' ? 4 : a == 's' ? 2 : 1;
}

/* appends the value section of the non-NULL rows idx[0..n) */
static void
write_section(const TestCol *tc, const uint32_t *idx, uint32_t n, Buf *out)
{
	const LedgerFmtType *t = &fuzz_types[tc->typeidx];
	size_t		start = out->len;
	uint32_t	i;

	if (tc->dict_count > 0)
	{
		uint32_t   *codes = malloc(sizeof(uint32_t) * (n ? n : 1));
		uint8_t    *dst = malloc((size_t) n * 4 + 1);

		for (i = 0; i < n; i++)
			codes[i] = tc->codes[idx[i]];
		LedgerFmtCodesWrite(codes, n, tc->dict_count, dst);
		put(out, dst, (size_t) n * LedgerFmtCodeWidth(tc->dict_count));
		free(codes);
		free(dst);
		return;
	}
	switch (t->cls)
	{
		case LEDGER_FMT_BYVAL:
			{
				int64_t    *v = malloc(sizeof(int64_t) * (n ? n : 1));
				LedgerFmtIntPlan plan;
				uint8_t    *dst;

				for (i = 0; i < n; i++)
					v[i] = tc->ival[idx[i]];
				LedgerFmtIntPlanMake(v, n, &plan);
				dst = malloc(LedgerFmtIntSectionSize(&plan));
				LedgerFmtIntSectionWrite(v, &plan, dst);
				put(out, dst, LedgerFmtIntSectionSize(&plan));
				free(dst);
				free(v);
				return;
			}
		case LEDGER_FMT_FIXED:
			for (i = 0; i < n; i++)
			{
				put(out, tc->bytes[idx[i]], t->typlen);
				put_zero(out, LedgerFmtFixedStride(t) - t->typlen);
			}
			return;
		case LEDGER_FMT_VARLENA:
			for (i = 0; i < n; i++)
			{
				uint32_t	len = tc->len[idx[i]];

				if (len + 1 <= 127)
				{
					uint8_t		h = (uint8_t) (((len + 1) << 1) | 1);

					put(out, &h, 1);
				}
				else
				{
					size_t		a = alignof_code(t->typalign);
					size_t		off = out->len - start;
					uint32_t	h = (len + 4) << 2;

					put_zero(out, ((off + a - 1) & ~(a - 1)) - off);
					put(out, &h, 4);
				}
				put(out, tc->bytes[idx[i]], len);
			}
			return;
		case LEDGER_FMT_CSTRING:
			for (i = 0; i < n; i++)
				put(out, tc->str[idx[i]], strlen(tc->str[idx[i]]) + 1);
			return;
	}
}

/* the raw bytes of block b (NULL bitmap, padding, section) */
static void
write_block(const TestCol *tc, uint32_t b, Buf *raw, uint32_t *nulls)
{
	uint32_t	rows = LedgerFmtBlockRows(tc->nrows, b);
	uint32_t	first = b * LEDGER_FMT_BLOCK_ROWS;
	uint32_t   *idx = malloc(sizeof(uint32_t) * rows);
	uint32_t	n = 0,
				i;
	size_t		nb;

	for (i = 0; i < rows; i++)
		if (!tc->isnull[first + i])
			idx[n++] = first + i;
	*nulls = rows - n;
	raw->len = 0;
	if (n == 0)
	{
		free(idx);
		return;
	}
	nb = LedgerFmtNullBitmapSize(rows, *nulls);
	if (nb > 0)
	{
		uint8_t    *bm = malloc(nb);

		LedgerFmtNullBitmapWrite(tc->isnull + first, rows, bm);
		put(raw, bm, nb);
		put_zero(raw, LEDGER_FMT_ALIGN8(nb) - nb);
		free(bm);
	}
	write_section(tc, idx, n, raw);
	free(idx);
}

/* builds the column blob; also writes its rebuild-mode seed */
static uint8_t *
build_column(const TestCol *tc, size_t *len)
{
	const LedgerFmtType *t = &fuzz_types[tc->typeidx];
	uint32_t	nblocks = LedgerFmtNumBlocks(tc->nrows);
	size_t		hdr = LEDGER_FMT_COLUMN_HDR + (size_t) nblocks * LEDGER_FMT_DIR_ENTRY;
	Buf			blob = {0};
	Buf			rb = {0};
	Buf			raw = {0};
	uint32_t	b;
	bool		small = true;

	put_zero(&blob, hdr);
	LedgerFmtColumnHeaderWrite(blob.data, t,
							   tc->dict_count ? LEDGER_FMT_ENC_CODES : LEDGER_FMT_ENC_VALUES,
							   tc->nrows, tc->dict_count);
	{
		uint8_t		h[2] = {(uint8_t) tc->typeidx, 1};
		uint8_t		enc = tc->dict_count ? 1 : 0;
		uint16_t	dc = (uint16_t) tc->dict_count;

		put(&rb, h, 2);
		put(&rb, &tc->nrows, 4);
		put(&rb, &enc, 1);
		put(&rb, &dc, 2);
	}
	for (b = 0; b < nblocks; b++)
	{
		uint32_t	nulls;
		size_t		clen = 0;
		uint8_t    *frame = NULL;
		uint16_t	rl;

		write_block(tc, b, &raw, &nulls);
		if (raw.len > 0)
			frame = fuzz_compress(raw.data, raw.len, &clen);
		LedgerFmtDirEntryWrite(blob.data, b, (uint32_t) blob.len,
							   (uint32_t) clen, (uint32_t) raw.len, nulls);
		if (clen)
			put(&blob, frame, clen);
		free(frame);
		if (raw.len > 0xFFFF)
			small = false;
		rl = (uint16_t) raw.len;
		put(&rb, &nulls, 4);
		put(&rb, &rl, 2);
		put(&rb, raw.data, raw.len);
	}
	LedgerFmtColumnSeal(blob.data, nblocks);
	if (small && rb.len < 200000)
		write_seed("column", rb.data, rb.len, NULL, 0);
	free(rb.data);
	free(raw.data);
	*len = blob.len;
	return blob.data;
}

/* true if decoded Datum d is row r of tc */
static int
same_value(const TestCol *tc, uint32_t r, uintptr_t d,
		   const uintptr_t *dict_values)
{
	const LedgerFmtType *t = &fuzz_types[tc->typeidx];

	if (tc->dict_count > 0)
		return d == dict_values[tc->codes[r]];
	switch (t->cls)
	{
		case LEDGER_FMT_BYVAL:
			return d == LedgerFmtByvalDatum((uint64_t) tc->ival[r], t->typlen);
		case LEDGER_FMT_FIXED:
			return memcmp((const void *) d, tc->bytes[r], t->typlen) == 0 &&
				(d & (alignof_code(t->typalign) - 1)) == 0;
		case LEDGER_FMT_VARLENA:
			{
				const uint8_t *p = (const uint8_t *) d;
				uint32_t	len;
				const uint8_t *data;

				if (p[0] & 1)
				{
					len = (p[0] >> 1) - 1;
					data = p + 1;
				}
				else
				{
					uint32_t	h;

					memcpy(&h, p, 4);
					len = (h >> 2) - 4;
					data = p + 4;
					if ((d & (alignof_code(t->typalign) - 1)) != 0)
						return 0;
				}
				return len == tc->len[r] && memcmp(data, tc->bytes[r], len) == 0;
			}
		case LEDGER_FMT_CSTRING:
			return strcmp((const char *) d, tc->str[r]) == 0;
	}
	return 0;
}

/* round-trips a column through the decoder and writes its raw-mode seed */
static void
test_column(const char *name, const TestCol *tc)
{
	static uintptr_t values[LEDGER_FMT_BLOCK_ROWS];
	static bool isnull[LEDGER_FMT_BLOCK_ROWS];
	static uintptr_t dict_values[LEDGER_FMT_DICT_MAX];
	const LedgerFmtType *t = &fuzz_types[tc->typeidx];
	LedgerFmtColumn col;
	LedgerFmtError err;
	size_t		len;
	uint8_t    *blob = build_column(tc, &len);
	uint32_t	b,
				i;
	int			ok = 1;
	char		what[256];

	for (i = 0; i < LEDGER_FMT_DICT_MAX; i++)
		dict_values[i] = 1000 + i;
	if (LedgerFmtColumnParse(blob, len, t, tc->nrows, &col, &err) != 0)
	{
		snprintf(what, sizeof(what), "%s: parse: %s", name, err.detail);
		check(0, what);
		free(blob);
		return;
	}
	for (b = 0; b < col.nblocks && ok; b++)
	{
		LedgerFmtBlock blk;
		uint8_t    *raw = NULL;

		LedgerFmtColumnBlock(&col, b, &blk);
		if (blk.rawlen)
		{
			raw = malloc(blk.rawlen);
			if (LedgerFmtDecompress(fuzz_dctx(), blob + blk.offset, blk.clen,
									raw, blk.rawlen, &err) != 0)
				ok = 0;
		}
		if (ok && LedgerFmtBlockDecode(&col, &blk, raw, values, isnull,
									   dict_values, &err) != 0)
			ok = 0;
		for (i = 0; ok && i < blk.rows; i++)
		{
			uint32_t	r = b * LEDGER_FMT_BLOCK_ROWS + i;

			if (isnull[i] != tc->isnull[r] ||
				(!isnull[i] && !same_value(tc, r, values[i], dict_values)))
			{
				snprintf(err.detail, sizeof(err.detail), "row %u differs", r);
				ok = 0;
			}
		}
		free(raw);
	}
	snprintf(what, sizeof(what), "%s: %s", name, ok ? "" : err.detail);
	check(ok, what);

	/* a truncated or damaged copy must be rejected, never crash */
	if (len > LEDGER_FMT_COLUMN_HDR)
	{
		check(LedgerFmtColumnParse(blob, len - 1, t, tc->nrows, &col, &err) != 0,
			  "truncated column blob is rejected");
		check(LedgerFmtColumnParse(blob, len, t, tc->nrows + 1, &col, &err) != 0,
			  "column blob with the wrong row count is rejected");
		for (size_t k = 0; k < LEDGER_FMT_COLUMN_HDR + (size_t) col.nblocks * LEDGER_FMT_DIR_ENTRY; k++)
		{
			blob[k] ^= 0x20;
			check(LedgerFmtColumnParse(blob, len, t, tc->nrows, &col, &err) != 0,
				  "column blob with a damaged header or directory byte is rejected");
			blob[k] ^= 0x20;
		}
	}

	if (len < 200000)
	{
		uint8_t		h[2] = {(uint8_t) tc->typeidx, 0};

		write_seed("column", h, 2, blob, len);
	}
	free(blob);
}

/* a new test column of nrows rows of fuzz type typeidx */
static TestCol *
new_col(int typeidx, uint32_t nrows)
{
	TestCol    *tc = calloc(1, sizeof(TestCol));

	tc->typeidx = typeidx;
	tc->nrows = nrows;
	tc->isnull = calloc(nrows ? nrows : 1, sizeof(bool));
	tc->ival = calloc(nrows ? nrows : 1, sizeof(int64_t));
	tc->bytes = calloc(nrows ? nrows : 1, sizeof(uint8_t *));
	tc->len = calloc(nrows ? nrows : 1, sizeof(uint32_t));
	tc->str = calloc(nrows ? nrows : 1, sizeof(char *));
	tc->codes = calloc(nrows ? nrows : 1, sizeof(uint32_t));
	return tc;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

/* xorshift64 */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* column round trips of every class */
static void
column_tests(void)
{
	TestCol    *tc;
	uint32_t	i;

	/* sorted timestamps with NULLs, three blocks: delta coding */
	tc = new_col(3, 150000);
	for (i = 0; i < tc->nrows; i++)
	{
		tc->ival[i] = INT64_C(757382400000000) + (int64_t) i * 2600000 + (int64_t) (rnd() % 1000);
		tc->isnull[i] = (i % 97) == 0;
	}
	test_column("int8 sorted timestamps", tc);

	/* small int8 column (seed-sized) with negative values */
	tc = new_col(3, 40);
	for (i = 0; i < tc->nrows; i++)
		tc->ival[i] = (i & 1) ? INT64_MIN + i : INT64_MAX - i;
	test_column("int8 extremes", tc);

	tc = new_col(2, 100);
	for (i = 0; i < tc->nrows; i++)
	{
		tc->ival[i] = (int32_t) (rnd() % 2000) - 1000;
		tc->isnull[i] = (i % 5) == 0;
	}
	test_column("int4 random", tc);

	tc = new_col(1, 70000);
	for (i = 0; i < tc->nrows; i++)
		tc->ival[i] = (int16_t) (i * 7);
	test_column("int2 wrapping", tc);

	tc = new_col(0, 33);
	for (i = 0; i < tc->nrows; i++)
		tc->ival[i] = (i % 3) ? 1 : 0;
	test_column("bool", tc);

	tc = new_col(0, 20);
	for (i = 0; i < tc->nrows; i++)
		tc->ival[i] = (int8_t) (i * 13);
	test_column("char signed", tc);

	tc = new_col(3, 30);
	for (i = 0; i < tc->nrows; i++)
	{
		double		d = (i % 3 == 0) ? -0.0 : (i % 3 == 1) ? __builtin_nan("") : i / 3.0;

		memcpy(&tc->ival[i], &d, 8);
	}
	test_column("float8 images", tc);

	tc = new_col(2, 70000);
	for (i = 0; i < tc->nrows; i++)
		tc->isnull[i] = true;
	test_column("all NULL", tc);

	tc = new_col(2, 0);
	test_column("zero rows", tc);

	tc = new_col(2, 12);
	for (i = 0; i < tc->nrows; i++)
		tc->ival[i] = 42;
	test_column("constant int4 (width 0)", tc);

	/* fixed-length by reference */
	{
		static const int fixed[] = {4, 5, 6, 7};

		for (int k = 0; k < 4; k++)
		{
			const LedgerFmtType *t = &fuzz_types[fixed[k]];

			tc = new_col(fixed[k], 25);
			for (i = 0; i < tc->nrows; i++)
			{
				tc->bytes[i] = malloc(t->typlen);
				for (int j = 0; j < t->typlen; j++)
					tc->bytes[i][j] = (uint8_t) rnd();
				tc->isnull[i] = (i % 4) == 3;
			}
			test_column("fixed by reference", tc);
		}
	}

	/* varlena: short, long and empty payloads, three alignments */
	for (int k = 8; k <= 10; k++)
	{
		tc = new_col(k, 30);
		for (i = 0; i < tc->nrows; i++)
		{
			uint32_t	len = (i % 5 == 0) ? 200 + i : (i % 7 == 0) ? 0 : 1 + i % 40;

			tc->len[i] = len;
			tc->bytes[i] = malloc(len + 1);
			for (uint32_t j = 0; j < len; j++)
				tc->bytes[i][j] = (uint8_t) ('a' + (i + j) % 26);
			tc->isnull[i] = (i % 6) == 5;
		}
		test_column("varlena", tc);
	}

	/* a 10 kB varlena among short ones, across two blocks */
	tc = new_col(8, 65540);
	for (i = 0; i < tc->nrows; i++)
	{
		uint32_t	len = (i == 65537) ? 10000 : 3;

		tc->len[i] = len;
		tc->bytes[i] = malloc(len);
		memset(tc->bytes[i], 'x', len);
		tc->isnull[i] = (i % 11) == 0;
	}
	test_column("varlena 10 kB across blocks", tc);

	tc = new_col(11, 15);
	for (i = 0; i < tc->nrows; i++)
	{
		tc->str[i] = malloc(32);
		snprintf(tc->str[i], 32, "%s%u", (i % 4) ? "str" : "", i % 4 ? i : 0);
		if (i % 4 == 0)
			tc->str[i][0] = '\0';
	}
	test_column("cstring", tc);

	/* dictionary codes at widths 1 and 2 */
	tc = new_col(8, 50);
	tc->dict_count = 3;
	for (i = 0; i < tc->nrows; i++)
	{
		tc->codes[i] = i % 3;
		tc->isnull[i] = (i % 9) == 0;
	}
	test_column("codes width 1", tc);

	tc = new_col(2, 70000);
	tc->dict_count = 300;
	for (i = 0; i < tc->nrows; i++)
		tc->codes[i] = (i / 7) % 300;
	test_column("codes width 2", tc);

	tc = new_col(2, 40);
	tc->dict_count = 300;
	for (i = 0; i < tc->nrows; i++)
		tc->codes[i] = (i * 31) % 300;
	test_column("codes width 2 (small)", tc);
}

/* serializes a bitmap of the given rows (run-optimized) */
static void
put_bitmap(Buf *b, const uint32_t *rows, size_t n)
{
	roaring_bitmap_t *bm = roaring_bitmap_create();
	size_t		size;
	char	   *out;

	roaring_bitmap_add_many(bm, n, rows);
	roaring_bitmap_run_optimize(bm);
	size = roaring_bitmap_portable_size_in_bytes(bm);
	out = malloc(size);
	roaring_bitmap_portable_serialize(bm, out);
	put(b, out, size);
	free(out);
	roaring_bitmap_free(bm);
}

/*
 * Builds a dictionary of count entries over nrows rows (row r holds entry
 * r % count), round-trips it and writes raw and rebuild seeds.
 */
static void
test_dict(const char *name, int typeidx, uint32_t nrows, uint32_t count)
{
	static uintptr_t values[LEDGER_FMT_DICT_MAX];
	const LedgerFmtType *t = &fuzz_types[typeidx];
	TestCol    *tc = new_col(typeidx, count);
	uint32_t   *all = malloc(sizeof(uint32_t) * count);
	Buf			vsec = {0};
	Buf			bsec = {0};
	Buf			rb = {0};
	uint8_t    *vframe,
			   *bframe,
			   *blob;
	size_t		vclen,
				bclen,
				len;
	LedgerFmtDict dict;
	LedgerFmtError err;
	uint32_t	i;
	int			ok = 1;
	char		what[256];

	for (i = 0; i < count; i++)
	{
		all[i] = i;
		tc->ival[i] = (int64_t) i * 10 - 5;
		tc->len[i] = 4 + i % 150;
		tc->bytes[i] = malloc(t->typlen > 0 ? (size_t) t->typlen : tc->len[i]);
		memset(tc->bytes[i], 'a' + i % 26, t->typlen > 0 ? (size_t) t->typlen : tc->len[i]);
		tc->str[i] = malloc(16);
		snprintf(tc->str[i], 16, "s%u", i);
	}
	write_section(tc, all, count, &vsec);

	put_zero(&bsec, 4 * ((size_t) count + 1));
	{
		uint32_t   *rows = malloc(sizeof(uint32_t) * (nrows / count + 1));
		uint8_t		h[2] = {(uint8_t) typeidx, 1};
		uint32_t	vl = (uint32_t) vsec.len;
		uint32_t	cm1 = count - 1;

		put(&rb, h, 2);
		put(&rb, &nrows, 4);
		put(&rb, &cm1, 4);
		put(&rb, &vl, 4);
		put(&rb, vsec.data, vsec.len);
		for (i = 0; i < count; i++)
		{
			uint32_t	off = (uint32_t) bsec.len;
			size_t		n = 0,
						before;
			uint16_t	blen;

			for (uint32_t r = i; r < nrows; r += count)
				rows[n++] = r;
			memcpy(bsec.data + 4 * (size_t) i, &off, 4);
			before = bsec.len;
			put_bitmap(&bsec, rows, n);
			blen = (uint16_t) (bsec.len - before);
			put(&rb, &blen, 2);
			put(&rb, bsec.data + before, blen);
		}
		{
			uint32_t	off = (uint32_t) bsec.len;

			memcpy(bsec.data + 4 * (size_t) count, &off, 4);
		}
		free(rows);
	}
	if (count <= 300 && rb.len < 200000)
		write_seed("dict", rb.data, rb.len, NULL, 0);

	vframe = fuzz_compress(vsec.data, vsec.len, &vclen);
	bframe = fuzz_compress(bsec.data, bsec.len, &bclen);
	len = LEDGER_FMT_DICT_HDR + vclen + bclen;
	blob = malloc(len);
	LedgerFmtDictHeaderWrite(blob, t, nrows, count, (uint32_t) vclen,
							 (uint32_t) vsec.len, (uint32_t) bclen,
							 (uint32_t) bsec.len);
	memcpy(blob + LEDGER_FMT_DICT_HDR, vframe, vclen);
	memcpy(blob + LEDGER_FMT_DICT_HDR + vclen, bframe, bclen);

	if (LedgerFmtDictParse(blob, len, t, nrows, &dict, &err) != 0)
		ok = 0;
	else
	{
		uint8_t    *vraw = malloc(dict.values_rawlen);
		uint8_t    *braw = malloc(dict.bitmaps_rawlen);

		if (LedgerFmtDecompress(fuzz_dctx(), dict.values_frame, dict.values_clen,
								vraw, dict.values_rawlen, &err) != 0 ||
			LedgerFmtValuesDecode(t, vraw, dict.values_rawlen, count, values, &err) != 0)
			ok = 0;
		for (i = 0; ok && i < count; i++)
			if (!same_value(tc, i, values[i], NULL))
			{
				snprintf(err.detail, sizeof(err.detail), "entry %u differs", i);
				ok = 0;
			}
		if (ok && (LedgerFmtDecompress(fuzz_dctx(), dict.bitmaps_frame, dict.bitmaps_clen,
									   braw, dict.bitmaps_rawlen, &err) != 0 ||
				   LedgerFmtDictBitmapsCheck(&dict, braw, &err) != 0))
			ok = 0;
		for (i = 0; ok && i < count; i++)
		{
			size_t		off,
						blen;
			roaring_bitmap_t *bm;

			if (LedgerFmtDictBitmapsParse(&dict, braw, i, &off, &blen, &err) != 0 ||
				(bm = fuzz_bitmap_deserialize((char *) braw + off, blen, nrows)) == NULL)
			{
				snprintf(err.detail, sizeof(err.detail), "bitmap %u rejected", i);
				ok = 0;
				break;
			}
			if (roaring_bitmap_get_cardinality(bm) != (nrows - i + count - 1) / count ||
				!roaring_bitmap_contains(bm, i))
			{
				snprintf(err.detail, sizeof(err.detail), "bitmap %u differs", i);
				ok = 0;
			}
			/* the same bitmap must be refused for a segment one row shorter */
			if (ok && nrows > 1 && i == (nrows - 1) % count)
			{
				char		d[256];
				uint64_t	card;

				check(LedgerRoaringCheck((char *) braw + off, blen, nrows - 1,
										 &card, d, sizeof(d)) != 0,
					  "bitmap member beyond the segment is rejected");
			}
			roaring_bitmap_free(bm);
		}
		free(vraw);
		free(braw);
	}
	snprintf(what, sizeof(what), "dictionary %s: %s", name, ok ? "" : err.detail);
	check(ok, what);
	check(LedgerFmtDictParse(blob, len - 1, t, nrows, &dict, &err) != 0,
		  "truncated dictionary is rejected");
	if (len < 200000)
	{
		uint8_t		h[2] = {(uint8_t) typeidx, 0};

		write_seed("dict", h, 2, blob, len);
	}
	free(blob);
	free(vframe);
	free(bframe);
	free(vsec.data);
	free(bsec.data);
	free(rb.data);
	free(all);
}

/* datum seeds and round trips */
static void
datum_tests(void)
{
	for (int k = 0; k < FUZZ_NTYPES; k++)
	{
		const LedgerFmtType *t = &fuzz_types[k];
		Buf			b = {0};
		uint8_t		h[LEDGER_FMT_DATUM_HDR];
		uint8_t		idx = (uint8_t) k;
		LedgerFmtError err;
		size_t		off,
					len;

		LedgerFmtDatumHeaderWrite(h, t);
		put(&b, &idx, 1);
		put(&b, h, sizeof(h));
		switch (t->cls)
		{
			case LEDGER_FMT_BYVAL:
				{
					int64_t		v = -12345;

					put(&b, &v, 8);
					break;
				}
			case LEDGER_FMT_FIXED:
				put_zero(&b, t->typlen);
				break;
			case LEDGER_FMT_VARLENA:
				{
					uint32_t	hdr = (4 + 5) << 2;

					put(&b, &hdr, 4);
					put(&b, "hello", 5);
					break;
				}
			case LEDGER_FMT_CSTRING:
				put(&b, "hello", 6);
				break;
		}
		LedgerFmtDatumSeal(b.data + 1, b.len - 1);
		check(LedgerFmtDatumParse(b.data + 1, b.len - 1, t, &off, &len, &err) == 0 &&
			  off + len == b.len - 1, "datum parses");
		check(LedgerFmtDatumParse(b.data + 1, b.len - 2, t, &off, &len, &err) != 0,
			  "truncated datum is rejected");
		write_seed("datum", b.data, b.len, NULL, 0);
		free(b.data);
	}
}

/* roaring seeds: array, bitset, run containers, several keys, empty */
static void
roaring_tests(void)
{
	static uint32_t rows[200000];
	struct
	{
		uint32_t	limit;
		size_t		n;
		uint32_t	step;
	}			cases[] = {
		{1000, 10, 7}, {200000, 9000, 3}, {1048576, 200000, 1},
		{1048576, 5000, 97}, {16, 0, 1}, {300000, 3, 65536}
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		Buf			b = {0};
		uint64_t	card;
		char		detail[256];

		for (size_t i = 0; i < cases[c].n; i++)
			rows[i] = (uint32_t) (i * cases[c].step);
		put(&b, &cases[c].limit, 4);
		put_bitmap(&b, rows, cases[c].n);
		check(LedgerRoaringCheck((char *) b.data + 4, b.len - 4, cases[c].limit,
								 &card, detail, sizeof(detail)) == 0 &&
			  card == cases[c].n, "roaring bitmap validates");
		if (b.len > 5)
			check(LedgerRoaringCheck((char *) b.data + 4, b.len - 5, cases[c].limit,
									 &card, detail, sizeof(detail)) != 0,
				  "truncated bitmap is rejected");
		write_seed("roaring", b.data, b.len, NULL, 0);
		free(b.data);
	}
}

/* makes OUTDIR/sub */
static void
make_dir(const char *sub)
{
	char		path[1024];

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	mkdir(path, 0777);
}

/* entry point: gen_seeds OUTDIR */
int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0777);
	make_dir("column");
	make_dir("dict");
	make_dir("datum");
	make_dir("roaring");

	column_tests();
	test_dict("int4", 2, 1000, 7);
	test_dict("int8 many", 3, 70000, 300);
	test_dict("uuid", 4, 50, 5);
	test_dict("interval", 5, 64, 4);
	test_dict("text", 8, 200000, 40);
	test_dict("int8[]", 9, 30, 30);
	test_dict("cstring", 11, 10, 3);
	datum_tests();
	roaring_tests();

	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed ? 1 : 0;
}
