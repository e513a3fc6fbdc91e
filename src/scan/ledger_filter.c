/*-------------------------------------------------------------------------
 *
 * ledger_filter.c
 *	  Narrowing a segment read with pushed-down conditions: zone maps prune
 *	  whole segments, dictionaries turn conditions into Roaring bitmaps of
 *	  candidate rows.
 *
 * NOTES
 *	  Everything here computes a superset of the rows that satisfy the
 *	  condition; the executor re-checks every row it gets.  Zone maps give a
 *	  three-valued answer per segment (no row, some rows, all rows).
 *	  Bitmaps are exact for comparisons resolved through a dictionary
 *	  (dictionary bitmaps hold non-NULL rows only, and comparisons never
 *	  match NULL); NOT only applies to exact sets, and turns them into a
 *	  superset because of NULLs.
 *
 *	  For a rollup ledger the time column is compared after bucketing, as
 *	  the rows will be returned; bucketing is monotonic, so bounds and the
 *	  dictionary's order stay valid.
 *
 * IDENTIFICATION
 *	  src/scan/ledger_filter.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <roaring/roaring.h>

#include "access/stratnum.h"
#include "ledger/bitmap.h"
#include "scan_internal.h"

/* the value a stored value of attnum takes for comparisons */
static inline Datum
transform(FilterSegment *fs, AttrNumber attnum, Datum d)
{
	if (fs->rollup != NULL && attnum == fs->rollup->time_attnum)
		return LedgerRollupBucket(fs->rollup, d);
	return d;
}

/*
 * false for a leaf a rollup ledger's stored rows cannot answer: a metric
 * holds only part of the merged value, key and version read back as NULL
 */
static inline bool
leaf_usable(LedgerQual *q, FilterSegment *fs)
{
	LedgerColumnRole role;

	if (fs->rollup == NULL)
		return true;
	if (q->attnum > fs->rollup->natts)
		return false;
	role = fs->rollup->roles[q->attnum - 1];
	return role == LEDGER_ROLE_TIME || role == LEDGER_ROLE_DIMENSION;
}

/* cmp(stored, value) through the leaf's order proc */
static inline int32
leaf_cmp(LedgerQual *q, FilterSegment *fs, Datum stored, Datum value)
{
	return DatumGetInt32(FunctionCall2Coll(&q->cmp, q->collation,
										   transform(fs, q->attnum, stored),
										   value));
}

/* true if comparison result c satisfies strategy */
static inline bool
satisfies(int strategy, int32 c)
{
	switch (strategy)
	{
		case BTLessStrategyNumber:
			return c < 0;
		case BTLessEqualStrategyNumber:
			return c <= 0;
		case BTEqualStrategyNumber:
			return c == 0;
		case BTGreaterEqualStrategyNumber:
			return c >= 0;
		case BTGreaterStrategyNumber:
			return c > 0;
		default:
			return c != 0;
	}
}

/* zone-map answer of one comparison with value v */
static ZoneMatch
zone_cmp(LedgerQual *q, FilterSegment *fs, Datum v)
{
	FilterColumn *col = &fs->cols[q->attnum - 1];
	int32		cmin,
				cmax;
	bool		nonulls = col->null_count == 0;

	if (!col->has_min || !col->has_max)
		return ZONE_SOME;
	cmin = leaf_cmp(q, fs, col->min, v);
	cmax = leaf_cmp(q, fs, col->max, v);
	switch (q->strategy)
	{
		case BTLessStrategyNumber:
			return cmin >= 0 ? ZONE_NONE : (cmax < 0 && nonulls) ? ZONE_ALL : ZONE_SOME;
		case BTLessEqualStrategyNumber:
			return cmin > 0 ? ZONE_NONE : (cmax <= 0 && nonulls) ? ZONE_ALL : ZONE_SOME;
		case BTEqualStrategyNumber:
			if (cmax < 0 || cmin > 0)
				return ZONE_NONE;
			return (cmin == 0 && cmax == 0 && nonulls) ? ZONE_ALL : ZONE_SOME;
		case BTGreaterEqualStrategyNumber:
			return cmax < 0 ? ZONE_NONE : (cmin >= 0 && nonulls) ? ZONE_ALL : ZONE_SOME;
		case BTGreaterStrategyNumber:
			return cmax <= 0 ? ZONE_NONE : (cmin > 0 && nonulls) ? ZONE_ALL : ZONE_SOME;
		default:				/* <> */
			if (cmin == 0 && cmax == 0)
				return ZONE_NONE;
			return ((cmax < 0 || cmin > 0) && nonulls) ? ZONE_ALL : ZONE_SOME;
	}
}

/* three-valued answer of the zone maps for the whole segment */
ZoneMatch
filter_zone(LedgerQual *q, FilterSegment *fs)
{
	ListCell   *lc;
	FilterColumn *col;

	switch (q->kind)
	{
		case LEDGER_QUAL_AND:
			{
				ZoneMatch	result = ZONE_ALL;

				foreach(lc, q->args)
				{
					ZoneMatch	m = filter_zone(lfirst(lc), fs);

					if (m == ZONE_NONE)
						return ZONE_NONE;
					if (m == ZONE_SOME)
						result = ZONE_SOME;
				}
				return result;
			}
		case LEDGER_QUAL_OR:
			{
				ZoneMatch	result = ZONE_NONE;

				foreach(lc, q->args)
				{
					ZoneMatch	m = filter_zone(lfirst(lc), fs);

					if (m == ZONE_ALL)
						return ZONE_ALL;
					if (m == ZONE_SOME)
						result = ZONE_SOME;
				}
				return result;
			}
		case LEDGER_QUAL_NOT:
			/* rows where the argument is NULL satisfy neither */
			return filter_zone(linitial(q->args), fs) == ZONE_ALL ?
				ZONE_NONE : ZONE_SOME;
		case LEDGER_QUAL_NULLTEST:
			if (!leaf_usable(q, fs))
				return ZONE_SOME;
			col = &fs->cols[q->attnum - 1];
			if (col->null_count == 0)
				return q->isnull ? ZONE_NONE : ZONE_ALL;
			if (col->null_count >= fs->nrows)
				return q->isnull ? ZONE_ALL : ZONE_NONE;
			return ZONE_SOME;
		case LEDGER_QUAL_CMP:
		case LEDGER_QUAL_IN:
			{
				ZoneMatch	result = ZONE_NONE;

				if (!leaf_usable(q, fs))
					return ZONE_SOME;
				col = &fs->cols[q->attnum - 1];
				if (q->null_value || col->null_count >= fs->nrows)
					return ZONE_NONE;
				for (int i = 0; i < q->nvalues; i++)
				{
					ZoneMatch	m = zone_cmp(q, fs, q->values[i]);

					if (m == ZONE_ALL)
						return ZONE_ALL;
					if (m == ZONE_SOME)
						result = ZONE_SOME;
				}
				return result;
			}
	}
	return ZONE_SOME;
}

/* first dictionary entry e with cmp(entry, v) >= 0 (or > 0 if strict) */
static int
dict_search(LedgerQual *q, FilterSegment *fs, LedgerDictionary *dict, Datum v,
			bool strict)
{
	int			lo = 0,
				hi = dict->count;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int32		c = leaf_cmp(q, fs, dict->values[mid], v);

		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* adds the rows of dictionary entries [from, to) to result */
static void
add_entries(FilterSegment *fs, LedgerDictionary *dict, int from, int to,
			roaring_bitmap_t *result)
{
	for (int e = from; e < to; e++)
		roaring_bitmap_or_inplace(result, LedgerDictionaryBitmap(dict, e));
}

/* an empty bitmap owned by the segment's context */
static roaring_bitmap_t *
empty_bitmap(FilterSegment *fs)
{
	return LedgerBitmapCreate(fs->cxt);
}

/* the rows [0, nrows) as a bitmap */
static roaring_bitmap_t *
full_bitmap(FilterSegment *fs)
{
	roaring_bitmap_t *b = LedgerBitmapCreate(fs->cxt);

	roaring_bitmap_add_range(b, 0, (uint64_t) fs->nrows);
	return b;
}

/*
 * A bitmap holding every row that may satisfy q (NULL: unknown, i.e. every
 * row); *exact is set when it holds exactly the rows where q is true.
 */
roaring_bitmap_t *
filter_bitmap(LedgerQual *q, FilterSegment *fs, bool *exact)
{
	ListCell   *lc;
	ZoneMatch	zm;
	FilterColumn *col;
	LedgerDictionary *dict;
	roaring_bitmap_t *result;

	*exact = false;
	switch (q->kind)
	{
		case LEDGER_QUAL_AND:
			result = NULL;
			*exact = true;
			foreach(lc, q->args)
			{
				bool		ex;
				roaring_bitmap_t *b = filter_bitmap(lfirst(lc), fs, &ex);

				if (b == NULL)
				{
					*exact = false;
					continue;
				}
				if (!ex)
					*exact = false;
				if (result == NULL)
					result = b;
				else
					roaring_bitmap_and_inplace(result, b);
			}
			if (result == NULL)
				*exact = false;
			return result;

		case LEDGER_QUAL_OR:
			result = empty_bitmap(fs);
			*exact = true;
			foreach(lc, q->args)
			{
				bool		ex;
				roaring_bitmap_t *b = filter_bitmap(lfirst(lc), fs, &ex);

				if (b == NULL)
				{
					*exact = false;
					return NULL;
				}
				if (!ex)
					*exact = false;
				roaring_bitmap_or_inplace(result, b);
			}
			return result;

		case LEDGER_QUAL_NOT:
			{
				bool		ex;
				roaring_bitmap_t *b = filter_bitmap(linitial(q->args), fs, &ex);

				if (b == NULL || !ex)
					return NULL;
				result = full_bitmap(fs);
				roaring_bitmap_andnot_inplace(result, b);
				return result;	/* includes rows where the argument is NULL */
			}

		case LEDGER_QUAL_NULLTEST:
		case LEDGER_QUAL_CMP:
		case LEDGER_QUAL_IN:
			if (!leaf_usable(q, fs))
				return NULL;
			zm = filter_zone(q, fs);
			if (zm == ZONE_NONE)
			{
				*exact = true;
				return empty_bitmap(fs);
			}
			if (zm == ZONE_ALL)
			{
				*exact = true;
				return full_bitmap(fs);
			}
			if (q->kind == LEDGER_QUAL_NULLTEST)
				return NULL;
			col = &fs->cols[q->attnum - 1];
			dict = filter_dictionary(fs, q->attnum);
			if (dict == NULL)
				return NULL;
			(void) col;
			result = empty_bitmap(fs);
			*exact = true;
			for (int i = 0; i < q->nvalues; i++)
			{
				Datum		v = q->values[i];
				int			eq_lo = dict_search(q, fs, dict, v, false);
				int			eq_hi = dict_search(q, fs, dict, v, true);

				switch (q->kind == LEDGER_QUAL_IN ? BTEqualStrategyNumber : q->strategy)
				{
					case BTLessStrategyNumber:
						add_entries(fs, dict, 0, eq_lo, result);
						break;
					case BTLessEqualStrategyNumber:
						add_entries(fs, dict, 0, eq_hi, result);
						break;
					case BTEqualStrategyNumber:
						add_entries(fs, dict, eq_lo, eq_hi, result);
						break;
					case BTGreaterEqualStrategyNumber:
						add_entries(fs, dict, eq_lo, dict->count, result);
						break;
					case BTGreaterStrategyNumber:
						add_entries(fs, dict, eq_hi, dict->count, result);
						break;
					default:
						add_entries(fs, dict, 0, eq_lo, result);
						add_entries(fs, dict, eq_hi, dict->count, result);
						break;
				}
			}
			return result;
	}
	return NULL;
}

/* the dictionary of a column of the segment, read on first use, or NULL */
LedgerDictionary *
filter_dictionary(FilterSegment *fs, AttrNumber attnum)
{
	FilterColumn *col = &fs->cols[attnum - 1];

	if (col->dict == NULL && col->dict_blob != NULL)
		col->dict = LedgerBlobCacheDictionary(fs->rel->rd_node.relNode,
											  fs->segment_id, attnum,
											  TupleDescAttr(fs->tupdesc, attnum - 1),
											  fs->nrows, col->dict_blob, fs->cxt);
	return col->dict;
}

/* marks the columns q reads in cols */
static void
filter_columns(LedgerQual *q, bool *cols)
{
	ListCell   *lc;

	if (q->kind == LEDGER_QUAL_AND || q->kind == LEDGER_QUAL_OR ||
		q->kind == LEDGER_QUAL_NOT)
	{
		foreach(lc, q->args)
			filter_columns(lfirst(lc), cols);
	}
	else
		cols[q->attnum - 1] = true;
}

/* narrows the reader with filter before its first row */
void
LedgerReaderSetFilter(LedgerReader *r, LedgerQual *filter, LedgerScanStats *stats)
{
	r->filter = filter;
	r->stats = stats;
	if (filter != NULL)
	{
		r->filter_cols = MemoryContextAllocZero(r->cxt, sizeof(bool) * Max(r->natts, 1));
		filter_columns(filter, r->filter_cols);
	}
}

/*
 * Applies the reader's filter to a segment: false if no row can match;
 * otherwise may set the reader's candidate rows.  Allocates in segcxt.
 */
bool
filter_segment(LedgerReader *r, LedgerSegmentMeta *seg)
{
	TupleDesc	tupdesc = r->tupdesc;
	LedgerStoredColumn *meta;
	FilterSegment fs;
	roaring_bitmap_t *bm;
	bool		exact;

	meta = palloc(sizeof(LedgerStoredColumn) * Max(r->natts, 1));
	LedgerStoreFetchColumns(r->rel, r->snapshot, seg->segment_id, r->natts,
							r->filter_cols, false, true, meta, NULL);
	fs.rel = r->rel;
	fs.tupdesc = tupdesc;
	fs.segment_id = seg->segment_id;
	fs.nrows = seg->row_count;
	fs.rollup = r->filter_rollup;
	fs.cxt = r->segcxt;
	fs.cols = palloc0(sizeof(FilterColumn) * Max(r->natts, 1));
	for (int i = 0; i < r->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		FilterColumn *col = &fs.cols[i];

		if (!r->filter_cols[i])
			continue;
		if (!meta[i].present)
		{
			/* a column added after the segment: all rows hold its default */
			bool		isnull;
			Datum		d = getmissingattr(tupdesc, i + 1, &isnull);

			col->null_count = isnull ? seg->row_count : 0;
			col->has_min = col->has_max = !isnull;
			col->min = col->max = d;
			continue;
		}
		col->null_count = meta[i].null_count;
		if (meta[i].min_value)
		{
			col->min = LedgerDatumDeserialize(att, meta[i].min_value);
			col->has_min = true;
		}
		if (meta[i].max_value)
		{
			col->max = LedgerDatumDeserialize(att, meta[i].max_value);
			col->has_max = true;
		}
		col->dict_blob = meta[i].dict;
	}

	r->seg_exact = false;
	switch (filter_zone(r->filter, &fs))
	{
		case ZONE_NONE:
			if (r->stats)
				r->stats->pruned_range++;
			return false;
		case ZONE_ALL:
			r->seg_exact = true;	/* every row satisfies the filter */
			return true;
		case ZONE_SOME:
			break;
	}
	bm = filter_bitmap(r->filter, &fs, &exact);
	r->seg_exact = bm != NULL && exact;
	if (bm != NULL)
	{
		uint64		n = roaring_bitmap_get_cardinality(bm);

		if (n == 0)
		{
			if (r->stats)
				r->stats->pruned_dict++;
			return false;
		}
		if (n < (uint64) seg->row_count)
		{
			r->cand = MemoryContextAllocHuge(r->segcxt, sizeof(uint32) * n);
			roaring_bitmap_to_uint32_array(bm, r->cand);
			r->ncand = (int) n;
			r->cand_pos = 0;
			/* count only what the bitmaps narrowed */
			if (r->stats)
				r->stats->rows_bitmap += n;
		}
	}
	return true;
}
