/*-------------------------------------------------------------------------
 *
 * roaring_check.c
 *	  Strict validation of the Roaring portable serialization format.
 *
 * NOTES
 *	  The format (RoaringFormatSpec): a 32-bit cookie, either 12346
 *	  followed by a 32-bit container count, or 12347 in the low half with
 *	  count - 1 in the high half followed by a bitmap of run containers;
 *	  then per container a 16-bit key and a 16-bit cardinality - 1; then,
 *	  unless the cookie is 12347 with fewer than 4 containers, a 32-bit
 *	  offset per container; then the containers: a run container is a
 *	  16-bit run count and (start, length - 1) pairs, a container of more
 *	  than 4096 members is a 8 kB bitset, any other an array of 16-bit
 *	  values.
 *
 *	  Accepted are exactly the buffers CRoaring can load and use safely:
 *	  keys strictly increasing, arrays strictly increasing, runs sorted,
 *	  disjoint and inside their container, each container's member count
 *	  equal to its declared cardinality, offsets equal to where containers
 *	  really start, every member below the caller's limit and no byte left
 *	  over.  No PostgreSQL header is included: the fuzz harnesses link this
 *	  file as it is.
 *
 * IDENTIFICATION
 *	  src/bitmap/roaring_check.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "roaring_check.h"

#define COOKIE_NO_RUN		12346
#define COOKIE_RUN			12347
#define NO_OFFSET_THRESHOLD	4
#define ARRAY_MAX			4096
#define BITSET_BYTES		8192

/* a bounded reader over the buffer being checked */
typedef struct Reader
{
	const unsigned char *buf;
	size_t		len;
	size_t		pos;
	char	   *detail;
	size_t		detaillen;
} Reader;

#if defined(__GNUC__)
static int fail(Reader *r, const char *fmt,...) __attribute__((format(printf, 2, 3)));
#endif

/* records a description of the damage and returns -1 */
static int
fail(Reader *r, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(r->detail, r->detaillen, fmt, ap);
	va_end(ap);
	return -1;
}

/* true if n more bytes are available */
static int
has(Reader *r, size_t n)
{
	return r->len - r->pos >= n;
}

/* reads a native uint16 at absolute position pos (caller checked bounds) */
static uint16_t
get16(const Reader *r, size_t pos)
{
	uint16_t	v;

	memcpy(&v, r->buf + pos, sizeof(v));
	return v;
}

/* reads a native uint32 at absolute position pos (caller checked bounds) */
static uint32_t
get32(const Reader *r, size_t pos)
{
	uint32_t	v;

	memcpy(&v, r->buf + pos, sizeof(v));
	return v;
}

/* checks one array container of card values; *maxlow gets its largest */
static int
check_array(Reader *r, uint32_t k, uint32_t card, uint32_t *maxlow)
{
	uint32_t	i;
	uint32_t	prev = 0;

	if (!has(r, (size_t) card * 2))
		return fail(r, "Bitmap container %u is truncated.", k);
	for (i = 0; i < card; i++)
	{
		uint32_t	v = get16(r, r->pos + 2 * (size_t) i);

		if (i > 0 && v <= prev)
			return fail(r, "Bitmap container %u is not sorted.", k);
		prev = v;
	}
	r->pos += (size_t) card * 2;
	*maxlow = prev;
	return 0;
}

/* checks one bitset container declaring card members */
static int
check_bitset(Reader *r, uint32_t k, uint32_t card, uint32_t *maxlow)
{
	uint64_t	pop = 0;
	size_t		i;
	int			last = -1;

	if (!has(r, BITSET_BYTES))
		return fail(r, "Bitmap container %u is truncated.", k);
	for (i = 0; i < BITSET_BYTES / 8; i++)
	{
		uint64_t	w;

		memcpy(&w, r->buf + r->pos + i * 8, sizeof(w));
		if (w != 0)
		{
			pop += (uint64_t) __builtin_popcountll(w);
			last = (int) (i * 64 + 63 - __builtin_clzll(w));
		}
	}
	if (pop != card)
		return fail(r, "Bitmap container %u holds %llu members but declares %u.",
					k, (unsigned long long) pop, card);
	r->pos += BITSET_BYTES;
	*maxlow = (uint32_t) last;
	return 0;
}

/* checks one run container declaring card members */
static int
check_run(Reader *r, uint32_t k, uint32_t card, uint32_t *maxlow)
{
	uint32_t	nruns;
	uint32_t	i;
	uint64_t	total = 0;
	int64_t		prev_end = -1;

	if (!has(r, 2))
		return fail(r, "Bitmap container %u is truncated.", k);
	nruns = get16(r, r->pos);
	r->pos += 2;
	if (nruns == 0)
		return fail(r, "Bitmap run container %u has no runs.", k);
	if (!has(r, (size_t) nruns * 4))
		return fail(r, "Bitmap container %u is truncated.", k);
	for (i = 0; i < nruns; i++)
	{
		uint32_t	start = get16(r, r->pos + 4 * (size_t) i);
		uint32_t	length = get16(r, r->pos + 4 * (size_t) i + 2);
		uint32_t	end = start + length;

		if (end > 0xFFFF)
			return fail(r, "Bitmap run container %u has a run past its end.", k);
		if ((int64_t) start <= prev_end)
			return fail(r, "Bitmap run container %u has unsorted or overlapping runs.", k);
		prev_end = end;
		total += (uint64_t) length + 1;
	}
	if (total != card)
		return fail(r, "Bitmap container %u holds %llu members but declares %u.",
					k, (unsigned long long) total, card);
	r->pos += (size_t) nruns * 4;
	*maxlow = (uint32_t) prev_end;
	return 0;
}

/*
 * Checks that buf holds exactly one well-formed portable Roaring bitmap of
 * exactly len bytes, every member below limit.
 */
int
LedgerRoaringCheck(const char *buf, size_t len, uint32_t limit,
				   uint64_t *cardinality, char *detail, size_t detaillen)
{
	Reader		r;
	uint32_t	cookie;
	uint32_t	size;
	int			hasrun;
	size_t		runflags = 0;
	size_t		keyscards;
	size_t		offsets = 0;
	int			hasoffsets;
	uint32_t	k;
	uint64_t	total = 0;

	r.buf = (const unsigned char *) buf;
	r.len = len;
	r.pos = 0;
	r.detail = detail;
	r.detaillen = detaillen;
	*cardinality = 0;

	if (!has(&r, 4))
		return fail(&r, "A bitmap of %zu bytes is shorter than its header.", len);
	cookie = get32(&r, 0);
	r.pos = 4;
	if ((cookie & 0xFFFF) == COOKIE_RUN)
	{
		hasrun = 1;
		size = (cookie >> 16) + 1;
		runflags = r.pos;
		if (!has(&r, (size + 7) / 8))
			return fail(&r, "A bitmap is truncated in its header.");
		r.pos += (size + 7) / 8;
	}
	else if (cookie == COOKIE_NO_RUN)
	{
		hasrun = 0;
		if (!has(&r, 4))
			return fail(&r, "A bitmap is truncated in its header.");
		size = get32(&r, r.pos);
		r.pos += 4;
		if (size > 65536)
			return fail(&r, "A bitmap declares %u containers.", size);
	}
	else
		return fail(&r, "A bitmap has an unknown cookie %u.", cookie);

	keyscards = r.pos;
	if (!has(&r, (size_t) size * 4))
		return fail(&r, "A bitmap is truncated in its header.");
	r.pos += (size_t) size * 4;
	hasoffsets = !hasrun || size >= NO_OFFSET_THRESHOLD;
	if (hasoffsets)
	{
		offsets = r.pos;
		if (!has(&r, (size_t) size * 4))
			return fail(&r, "A bitmap is truncated in its offsets.");
		r.pos += (size_t) size * 4;
	}

	for (k = 0; k < size; k++)
	{
		uint32_t	key = get16(&r, keyscards + 4 * (size_t) k);
		uint32_t	card = (uint32_t) get16(&r, keyscards + 4 * (size_t) k + 2) + 1;
		int			isrun = 0;
		uint32_t	maxlow = 0;
		int			rc;

		if (k > 0 && key <= get16(&r, keyscards + 4 * (size_t) (k - 1)))
			return fail(&r, "A bitmap's container keys are not sorted.");
		if (hasoffsets && get32(&r, offsets + 4 * (size_t) k) != r.pos)
			return fail(&r, "Bitmap container %u is not where its offset says.", k);
		if (hasrun)
			isrun = (r.buf[runflags + k / 8] >> (k % 8)) & 1;
		if (isrun)
			rc = check_run(&r, k, card, &maxlow);
		else if (card > ARRAY_MAX)
			rc = check_bitset(&r, k, card, &maxlow);
		else
			rc = check_array(&r, k, card, &maxlow);
		if (rc != 0)
			return rc;
		if ((((uint64_t) key << 16) | maxlow) >= limit)
			return fail(&r, "A bitmap has member %llu, not below the limit %u.",
						(unsigned long long) (((uint64_t) key << 16) | maxlow), limit);
		total += card;
	}
	if (hasrun && (size % 8) != 0 &&
		(r.buf[runflags + size / 8] >> (size % 8)) != 0)
		return fail(&r, "A bitmap flags run containers it does not have.");
	if (r.pos != len)
		return fail(&r, "A bitmap of %zu bytes is followed by %zu more.",
					r.pos, len - r.pos);
	*cardinality = total;
	return 0;
}
