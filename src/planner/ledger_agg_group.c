/*-------------------------------------------------------------------------
 *
 * ledger_agg_group.c
 *	  LedgerAgg's per-row work: computing group keys (date_trunc ranges,
 *	  remembered expressions), the group cache, accumulating and finishing
 *	  aggregates.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_agg_group.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "agg_internal.h"

/* computes the group keys of the row in st->inslot into st->keyslot */
void
compute_keys(LedgerAggState *st, ExprContext *econtext)
{
	TupleTableSlot *ks = st->keyslot;
	TupleTableSlot *in = st->inslot;

	for (int k = 0; k < st->nkeys; k++)
	{
		Datum		v;
		bool		isnull;

		switch (st->key_kind[k])
		{
			case KEY_VAR:
				v = in->tts_values[st->key_attno[k] - 1];
				isnull = in->tts_isnull[st->key_attno[k] - 1];
				break;
			case KEY_TRUNC:
				isnull = in->tts_isnull[st->key_attno[k] - 1];
				v = isnull ? (Datum) 0 :
					trunc_key(st, k, in->tts_values[st->key_attno[k] - 1]);
				break;
			case KEY_MEMO:
				v = memo_key(st, k, econtext, &isnull);
				break;
			default:
				v = ExecEvalExpr(st->key_state[k], econtext, &isnull);
				st->key_evals++;
				break;
		}
		ks->tts_values[k] = v;
		ks->tts_isnull[k] = isnull;
	}
}

/* the accumulators of the group whose keys are in st->keyslot */
AggAcc *
lookup_group(LedgerAggState *st)
{
	TupleTableSlot *ks = st->keyslot;
	bool		isnew;
	bool		cacheable = true;
	uint32		h = 0x3c6ef372;
	GroupCacheSlot *cs;
	TupleHashEntry entry;

	for (int k = 0; k < st->nkeys; k++)
	{
		if (st->key_kind[k] == KEY_MEMO && st->memo_hash_valid[k])
			h = hash_combine(h, st->memo_hash[k]);
		else
			h = hash_combine(h, key_bytes_hash(st, k, ks->tts_values[k],
											   ks->tts_isnull[k], &cacheable));
	}
	cs = &st->cache[h % GROUP_CACHE_SIZE];
	if (cacheable && cs->valid && cs->hash == h && cache_keys_equal(st, cs, ks))
		return cs->acc;

	ExecStoreVirtualTuple(ks);
	entry = LookupTupleHashEntry(st->hashtable, ks, &isnew, NULL);
	if (isnew)
	{
		entry->additional = MemoryContextAllocZero(st->tablecxt,
												   sizeof(AggAcc) * Max(st->naggs, 1));
		st->groups++;
	}
	if (cacheable)
		cache_fill(st, cs, h, ks, (AggAcc *) entry->additional);
	return (AggAcc *) entry->additional;
}

/* aggregates the row in st->inslot, if it passes qual (may be NULL) */
void
aggregate_row(LedgerAggState *st, ExprState *qual, ExprContext *econtext)
{
	if (qual && !ExecQual(qual, econtext))
		return;
	st->rows_read++;
	if (st->nkeys == 0)
		accumulate(st, st->plain, econtext);
	else
	{
		ExecClearTuple(st->keyslot);
		compute_keys(st, econtext);
		accumulate(st, lookup_group(st), econtext);
	}
}

/* date_trunc of a time value, from the cached range when possible */
Datum
trunc_key(LedgerAggState *st, int k, Datum v)
{
	int64		t = DatumGetInt64(v);
	Datum		r;

	if (st->trunc_valid[k] && t >= st->trunc_lo[k] && t < st->trunc_hi[k])
		return st->trunc_result[k];
	r = FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k], v);
	st->trunc_valid[k] = false;
	if (st->trunc_step[k] != NULL && !TIMESTAMP_NOT_FINITE(DatumGetInt64(r)))
	{
		bool		tz = st->trunc_fn[k].fn_oid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ;
		Datum		hi;

		/*
		 * date_trunc never decreases: if the value one unit on truncates to
		 * itself and the microsecond before it truncates to r, every value
		 * in [r, hi) truncates to r.
		 */
		hi = tz ? DirectFunctionCall2(timestamptz_pl_interval, r,
									  IntervalPGetDatum(st->trunc_step[k])) :
			DirectFunctionCall2(timestamp_pl_interval, r,
								IntervalPGetDatum(st->trunc_step[k]));
		if (!TIMESTAMP_NOT_FINITE(DatumGetInt64(hi)) &&
			DatumGetInt64(FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k],
										Int64GetDatum(DatumGetInt64(hi) - 1))) == DatumGetInt64(r) &&
			DatumGetInt64(FunctionCall2(&st->trunc_fn[k], st->trunc_unit[k], hi)) == DatumGetInt64(hi))
		{
			st->trunc_lo[k] = DatumGetInt64(r);
			st->trunc_hi[k] = DatumGetInt64(hi);
			st->trunc_result[k] = r;
			st->trunc_valid[k] = true;
		}
	}
	return r;
}

/* an int128 as numeric */
static Datum
int128_numeric(int128 v)
{
	const int64 base = INT64CONST(1000000000000000000);
	int128		hi;
	int64		lo;

	if (v >= PG_INT64_MIN && v <= PG_INT64_MAX)
		return NumericGetDatum(int64_to_numeric((int64) v));
	hi = v / base;
	lo = (int64) (v % base);
	return DirectFunctionCall2(numeric_add,
							   DirectFunctionCall2(numeric_mul,
												   int128_numeric(hi),
												   NumericGetDatum(int64_to_numeric(base))),
							   NumericGetDatum(int64_to_numeric(lo)));
}

/* adds the current row to the accumulators of one group */
void
accumulate(LedgerAggState *st, AggAcc *acc, ExprContext *econtext)
{
	TupleTableSlot *in = st->inslot;

	for (int a = 0; a < st->naggs; a++)
	{
		AggAcc	   *ac = &acc[a];
		Datum		v = (Datum) 0;
		bool		isnull = false;

		if (st->agg_filter[a] != NULL && !ExecQual(st->agg_filter[a], econtext))
			continue;
		if (st->agg_kind[a] == AGG_COUNT_STAR)
		{
			ac->count++;
			continue;
		}
		if (st->agg_attno[a] > 0)
		{
			v = in->tts_values[st->agg_attno[a] - 1];
			isnull = in->tts_isnull[st->agg_attno[a] - 1];
		}
		else
			v = ExecEvalExpr(st->agg_state[a], econtext, &isnull);
		if (isnull)
			continue;

		switch (st->agg_kind[a])
		{
			case AGG_COUNT:
				ac->count++;
				break;
			case AGG_SUM_INT:
			case AGG_AVG_INT:
				ac->isum += st->agg_len[a] == 2 ? DatumGetInt16(v) : DatumGetInt32(v);
				ac->count++;
				break;
			case AGG_SUM_INT8:
			case AGG_AVG_INT8:
				ac->isum += DatumGetInt64(v);
				ac->count++;
				break;
			case AGG_SUM_FLOAT8:
				{
					double		x = DatumGetFloat8(v);
					double		r = ac->fsum + x;

					if (unlikely(isinf(r)) && !isinf(ac->fsum) && !isinf(x))
						float_overflow_error();
					ac->fsum = r;
					ac->count++;
				}
				break;
			case AGG_SUM_FLOAT4:
				{
					float4		x = DatumGetFloat4(v);
					float4		r = ac->f4sum + x;

					if (unlikely(isinf(r)) && !isinf(ac->f4sum) && !isinf(x))
						float_overflow_error();
					ac->f4sum = r;
					ac->count++;
				}
				break;
			case AGG_SUM_NUMERIC:
				{
					MemoryContext old = MemoryContextSwitchTo(st->tablecxt);
					Datum		prev = ac->value;

					ac->value = ac->has ?
						DirectFunctionCall2(numeric_add, ac->value, v) :
						datumCopy(v, false, -1);
					if (ac->has)
						pfree(DatumGetPointer(prev));
					ac->has = true;
					MemoryContextSwitchTo(old);
				}
				break;
			case AGG_MIN_MAX:
				{
					/*
					 * The aggregate's own transition function (int4smaller,
					 * text_larger ...): which of two equal values it keeps
					 * is visible for numeric scales and collations.
					 */
					Datum		r = ac->has ?
						FunctionCall2Coll(&st->agg_cmp[a], st->agg_coll[a], ac->value, v) : v;

					if (st->agg_byval[a])
						ac->value = r;
					else if (!ac->has || r != ac->value)
					{
						MemoryContext old = MemoryContextSwitchTo(st->tablecxt);

						if (ac->has)
							pfree(DatumGetPointer(ac->value));
						ac->value = datumCopy(r, false, st->agg_len[a]);
						MemoryContextSwitchTo(old);
					}
					ac->has = true;
				}
				break;
			default:
				break;
		}
	}
}

/* the final value of one aggregate */
Datum
finalize(LedgerAggState *st, int a, AggAcc *ac, bool *isnull)
{
	*isnull = false;
	switch (st->agg_kind[a])
	{
		case AGG_COUNT_STAR:
		case AGG_COUNT:
			return Int64GetDatum(ac->count);
		case AGG_SUM_INT:
			*isnull = ac->count == 0;
			return Int64GetDatum((int64) ac->isum);
		case AGG_SUM_INT8:
			*isnull = ac->count == 0;
			return *isnull ? (Datum) 0 : int128_numeric(ac->isum);
		case AGG_SUM_FLOAT8:
			*isnull = ac->count == 0;
			return Float8GetDatum(ac->fsum);
		case AGG_SUM_FLOAT4:
			*isnull = ac->count == 0;
			return Float4GetDatum(ac->f4sum);
		case AGG_SUM_NUMERIC:
		case AGG_MIN_MAX:
			*isnull = !ac->has;
			return ac->value;
		case AGG_AVG_INT:
		case AGG_AVG_INT8:
			*isnull = ac->count == 0;
			if (*isnull)
				return (Datum) 0;
			return DirectFunctionCall2(numeric_div, int128_numeric(ac->isum),
									   NumericGetDatum(int64_to_numeric(ac->count)));
	}
	return (Datum) 0;
}

/* puts a group into its cache slot, copying the keys */
void
cache_fill(LedgerAggState *st, GroupCacheSlot *cs, uint32 h, TupleTableSlot *ks,
		   AggAcc *acc)
{
	MemoryContext old = MemoryContextSwitchTo(st->tablecxt);

	if (cs->keys == NULL)
	{
		cs->keys = palloc0(sizeof(Datum) * st->nkeys);
		cs->nulls = palloc0(sizeof(bool) * st->nkeys);
	}
	for (int k = 0; k < st->nkeys; k++)
	{
		if (cs->valid && !st->key_byval[k] && !cs->nulls[k])
			pfree(DatumGetPointer(cs->keys[k]));
		cs->nulls[k] = ks->tts_isnull[k];
		cs->keys[k] = ks->tts_isnull[k] ? (Datum) 0 :
			datumCopy(ks->tts_values[k], st->key_byval[k], st->key_len[k]);
	}
	MemoryContextSwitchTo(old);
	cs->hash = h;
	cs->acc = acc;
	cs->valid = true;
}

/*
 * The distinct results of a key expression over one dictionary, one copy
 * each: rows of many entries with the same result (every {"country":"FR",
 * ...} object) then read the same few bytes, which stay in the CPU cache.
 */
typedef struct ResultIntern
{
	int			size;			/* power of 2 */
	int			used;
	uint32	   *hashes;
	Datum	   *values;			/* (Datum) 0: empty slot */
} ResultIntern;

static ResultIntern *
intern_create(int size)
{
	ResultIntern *ri = palloc(sizeof(ResultIntern));

	ri->size = size;
	ri->used = 0;
	ri->hashes = palloc(sizeof(uint32) * size);
	ri->values = palloc0(sizeof(Datum) * size);
	return ri;
}

/* the interned copy of a by-reference value (in CurrentMemoryContext) */
static Datum
intern_value(LedgerAggState *st, int k, ResultIntern *ri, Datum v, uint32 h)
{
	int			i;

	if (ri->used * 2 >= ri->size)
	{
		ResultIntern *bigger = intern_create(ri->size * 2);

		for (int j = 0; j < ri->size; j++)
		{
			if (ri->values[j] == (Datum) 0)
				continue;
			i = ri->hashes[j] & (bigger->size - 1);
			while (bigger->values[i] != (Datum) 0)
				i = (i + 1) & (bigger->size - 1);
			bigger->values[i] = ri->values[j];
			bigger->hashes[i] = ri->hashes[j];
		}
		bigger->used = ri->used;
		pfree(ri->hashes);
		pfree(ri->values);
		*ri = *bigger;
		pfree(bigger);
	}
	i = h & (ri->size - 1);
	while (ri->values[i] != (Datum) 0)
	{
		if (ri->hashes[i] == h &&
			value_bytes_equal(ri->values[i], v, st->key_len[k], false))
			return ri->values[i];
		i = (i + 1) & (ri->size - 1);
	}
	ri->values[i] = datumCopy(v, false, st->key_len[k]);
	ri->hashes[i] = h;
	ri->used++;
	return ri->values[i];
}

/* a KEY_MEMO key of a value stored as dictionary entry code */
static Datum
code_key(LedgerAggState *st, int k, int code, uint64 dict_id, int ncodes,
		 ExprContext *econtext, bool *isnull)
{
	Datum		r;
	MemoryContext old;
	bool		cacheable = true;
	uint32		h;

	if (st->code_result[k] == NULL || st->code_dict[k] != dict_id)
	{
		/* another segment's dictionary: start over */
		MemoryContextReset(st->code_cxt[k]);
		old = MemoryContextSwitchTo(st->code_cxt[k]);
		st->code_result[k] = palloc(sizeof(Datum) * Max(ncodes, 1));
		st->code_hash[k] = palloc(sizeof(uint32) * Max(ncodes, 1));
		st->code_state[k] = palloc0(Max(ncodes, 1));
		st->code_intern[k] = intern_create(64);
		MemoryContextSwitchTo(old);
		st->code_dict[k] = dict_id;
	}
	if (code >= ncodes)
		elog(ERROR, "ledger dictionary entry %d out of range (%d entries)",
			 code, ncodes);
	if (likely(st->code_state[k][code] != 0))
	{
		*isnull = st->code_state[k][code] == 2;
		st->memo_hash[k] = st->code_hash[k][code];
		st->memo_hash_valid[k] = true;
		return st->code_result[k][code];
	}
	r = ExecEvalExpr(st->key_state[k], econtext, isnull);
	st->key_evals++;
	h = key_bytes_hash(st, k, r, *isnull, &cacheable);
	if (!cacheable)
	{
		/* a result whose bytes do not identify it: not remembered */
		st->memo_hash_valid[k] = false;
		return r;
	}
	old = MemoryContextSwitchTo(st->code_cxt[k]);
	if (*isnull)
		r = (Datum) 0;
	else if (!st->key_byval[k])
		r = intern_value(st, k, st->code_intern[k], r, h);
	MemoryContextSwitchTo(old);
	st->code_result[k][code] = r;
	st->code_hash[k][code] = h;
	st->code_state[k][code] = *isnull ? 2 : 1;
	st->memo_hash[k] = h;
	st->memo_hash_valid[k] = true;
	return r;
}

/* a KEY_MEMO key: the remembered result for the column's value, or evaluated */
Datum
memo_key(LedgerAggState *st, int k, ExprContext *econtext, bool *isnull)
{
	TupleTableSlot *in = st->inslot;
	int			a = st->key_attno[k] - 1;
	Datum		x = in->tts_values[a];
	bool		cacheable = true;
	uint32		h;
	MemoSlot   *m;
	Datum		r;
	MemoryContext old;
	int16		rlen = st->key_len[k];
	bool		rbyval = st->key_byval[k];

	st->memo_hash_valid[k] = false;
	if (in->tts_isnull[a])
	{
		/* a NULL column: one result for the statement */
		if (st->memo_null_state[k] == 0)
		{
			r = ExecEvalExpr(st->key_state[k], econtext, isnull);
			st->key_evals++;
			old = MemoryContextSwitchTo(st->tablecxt);
			st->memo_null_result[k] = *isnull ? (Datum) 0 : datumCopy(r, rbyval, rlen);
			MemoryContextSwitchTo(old);
			st->memo_null_state[k] = *isnull ? 2 : 1;
		}
		*isnull = st->memo_null_state[k] == 2;
		return st->memo_null_result[k];
	}
	if (st->batch != NULL)
	{
		/* a row of a batch: its code, if the segment stores codes */
		if (st->batch->codes[a] != NULL)
			return code_key(st, k, st->batch->codes[a][st->batch_idx],
							st->batch->dict_id, st->batch->ncodes[a],
							econtext, isnull);
	}
	else if (st->reader != NULL)
	{
		uint64		dict_id;
		int			ncodes;
		int			code = LedgerReaderLastCode(st->reader, a + 1, &dict_id, &ncodes);

		if (code >= 0)
			return code_key(st, k, code, dict_id, ncodes, econtext, isnull);
	}
	h = value_bytes_hash(x, st->in_len[k], st->in_byval[k], &cacheable);
	if (!cacheable)
	{
		st->key_evals++;
		return ExecEvalExpr(st->key_state[k], econtext, isnull);
	}
	m = &st->memo[k][h % MEMO_SIZE];
	st->memo_lookups[k]++;
	if (m->valid && m->hash == h &&
		value_bytes_equal(m->input, x, st->in_len[k], st->in_byval[k]))
	{
		st->memo_hits[k]++;
		*isnull = m->result_null;
		return m->result;
	}
	r = ExecEvalExpr(st->key_state[k], econtext, isnull);
	st->key_evals++;

	/* values that rarely repeat: evaluate them plainly from now on */
	if (st->memo_lookups[k] == 4096 && st->memo_hits[k] * 2 < st->memo_lookups[k])
	{
		st->key_kind[k] = KEY_EXPR;
		return r;
	}
	old = MemoryContextSwitchTo(st->tablecxt);
	if (m->valid)
	{
		if (!st->in_byval[k])
			pfree(DatumGetPointer(m->input));
		if (!rbyval && !m->result_null)
			pfree(DatumGetPointer(m->result));
	}
	m->input = datumCopy(x, st->in_byval[k], st->in_len[k]);
	m->result_null = *isnull;
	m->result = *isnull ? (Datum) 0 : datumCopy(r, rbyval, rlen);
	m->hash = h;
	m->valid = true;
	MemoryContextSwitchTo(old);
	return r;
}
