/*-------------------------------------------------------------------------
 *
 * ledger_agg_batch.c
 *	  LedgerAgg over a batch of segment rows (a block's decoded arrays and
 *	  the rows of it to read): by runs of equal keys when keys and
 *	  aggregates are simple enough, else row by row with the previous row's
 *	  group remembered.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_agg_batch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "miscadmin.h"
#include "agg_internal.h"

/*
 * True if every key of a batch row is a Datum that identifies its value
 * for the rest of the batch: a pass-by-value key, a column (in the
 * segment's own memory), a date_trunc, a result remembered per dictionary
 * entry.  Then a row whose key Datums equal the previous row's belongs to
 * its group (different Datums may still be equal keys: they take the hash
 * table).
 */
static bool
batch_keys_stable(LedgerAggState *st, LedgerBatch *b)
{
	for (int k = 0; k < st->nkeys; k++)
	{
		if (st->key_kind[k] == KEY_VAR || st->key_kind[k] == KEY_TRUNC)
			continue;
		if (st->key_kind[k] == KEY_MEMO && b->codes[st->key_attno[k] - 1] != NULL)
			continue;
		if (st->key_kind[k] == KEY_EXPR && st->key_byval[k])
			continue;
		return false;
	}
	return st->nkeys > 0;
}

/*
 * True if a batch can be aggregated by runs (aggregate_runs): every key a
 * date_trunc or a column (a by-reference value points into the segment's
 * memory for the whole batch, so equal pointers are equal values), every
 * aggregate a count or an
 * integer sum or average of a column, no FILTER, no row condition left,
 * every column involved holding values in the batch.
 */
static bool
batch_runs_ok(LedgerAggState *st, LedgerBatch *b, ExprState *qual)
{
	if (qual != NULL || st->nkeys == 0)
		return false;
	for (int k = 0; k < st->nkeys; k++)
	{
		if (!(st->key_kind[k] == KEY_TRUNC || st->key_kind[k] == KEY_VAR) ||
			b->values[st->key_attno[k] - 1] == NULL)
			return false;
	}
	for (int a = 0; a < st->naggs; a++)
	{
		if (st->agg_filter[a] != NULL)
			return false;
		switch (st->agg_kind[a])
		{
			case AGG_COUNT_STAR:
				continue;
			case AGG_COUNT:
			case AGG_SUM_INT:
			case AGG_SUM_INT8:
			case AGG_AVG_INT:
			case AGG_AVG_INT8:
				if (st->agg_attno[a] <= 0 || b->values[st->agg_attno[a] - 1] == NULL)
					return false;
				continue;
			default:
				return false;
		}
	}
	return true;
}

/* true if row idx of the batch has the keys in st->keyslot */
static inline bool
run_continues(LedgerAggState *st, LedgerBatch *b, int idx)
{
	TupleTableSlot *ks = st->keyslot;

	for (int k = 0; k < st->nkeys; k++)
	{
		int			att = st->key_attno[k] - 1;
		bool		isnull = b->isnull[att][idx];
		Datum		v = b->values[att][idx];

		if (isnull != ks->tts_isnull[k])
			return false;
		if (isnull)
			continue;
		if (st->key_kind[k] == KEY_VAR)
		{
			if (v != ks->tts_values[k])
				return false;
		}
		else if (st->trunc_valid[k] && DatumGetInt64(v) >= st->trunc_lo[k] &&
				 DatumGetInt64(v) < st->trunc_hi[k])
		{
			/* within the cached unit: truncates to its start */
			if (st->trunc_result[k] != ks->tts_values[k])
				return false;
		}
		else if (trunc_key(st, k, v) != ks->tts_values[k])
			return false;
	}
	return true;
}

/*
 * Aggregates a batch by runs of rows with the same keys (rows come in time
 * order: a day key holds for thousands of rows): the keys are compared
 * per row straight from the arrays, the group looked up once per run, and
 * each aggregate summed over the run in a loop of its own.
 */
static void
aggregate_runs(LedgerAggState *st, LedgerBatch *b)
{
	TupleTableSlot *ks = st->keyslot;
	int			j = 0;
	AggAcc	   *prev_acc = NULL;
	bool		have_prev = false;

#define ROW(r) (b->sel ? (int) (b->sel[(r)] - b->base) : b->start + (r))
	while (j < b->nrows)
	{
		int			idx = ROW(j);
		int			end = j + 1;
		AggAcc	   *acc;
		bool		same = have_prev;

		/* the run's keys */
		for (int k = 0; k < st->nkeys; k++)
		{
			int			att = st->key_attno[k] - 1;
			bool		isnull = b->isnull[att][idx];
			Datum		v = isnull ? (Datum) 0 : b->values[att][idx];

			if (!isnull && st->key_kind[k] == KEY_TRUNC)
				v = trunc_key(st, k, v);
			if (same && (isnull != st->prev_nulls[k] ||
						 (!isnull && v != st->prev_keys[k])))
				same = false;
			ks->tts_values[k] = v;
			ks->tts_isnull[k] = isnull;
		}
		while (end < b->nrows && run_continues(st, b, ROW(end)))
			end++;

		if (same)
			acc = prev_acc;
		else
		{
			ExecClearTuple(ks);
			for (int k = 0; k < st->nkeys; k++)
				st->memo_hash_valid[k] = false;
			acc = lookup_group(st);
			prev_acc = acc;
			have_prev = true;
			memcpy(st->prev_keys, ks->tts_values, sizeof(Datum) * st->nkeys);
			memcpy(st->prev_nulls, ks->tts_isnull, sizeof(bool) * st->nkeys);
		}

		/* each aggregate over rows j .. end - 1 */
		for (int a = 0; a < st->naggs; a++)
		{
			AggAcc	   *ac = &acc[a];
			const Datum *vals;
			const bool *nulls;
			int64		cnt = 0;
			int128		sum = 0;

			if (st->agg_kind[a] == AGG_COUNT_STAR)
			{
				ac->count += end - j;
				continue;
			}
			vals = b->values[st->agg_attno[a] - 1];
			nulls = b->isnull[st->agg_attno[a] - 1];
			for (int r = j; r < end; r++)
			{
				int			i = ROW(r);

				if (nulls[i])
					continue;
				cnt++;
				switch (st->agg_kind[a])
				{
					case AGG_SUM_INT:
					case AGG_AVG_INT:
						sum += st->agg_len[a] == 2 ? DatumGetInt16(vals[i]) :
							DatumGetInt32(vals[i]);
						break;
					case AGG_SUM_INT8:
					case AGG_AVG_INT8:
						sum += DatumGetInt64(vals[i]);
						break;
					default:
						break;
				}
			}
			ac->count += cnt;
			ac->isum += sum;
		}
		st->rows_read += end - j;
		j = end;
	}
#undef ROW
}

/*
 * Aggregates one batch of segment rows: each row's columns are set in
 * st->inslot straight from the reader's arrays (the slot stays stored);
 * runs of rows with the same key Datums skip the group lookup.
 */
void
aggregate_batch(LedgerAggState *st, LedgerBatch *b, ExprContext *econtext)
{
	TupleTableSlot *in = st->inslot;
	TupleTableSlot *ks = st->keyslot;
	int			natts = in->tts_tupleDescriptor->natts;
	int			ncols = 0;
	bool		stable = batch_keys_stable(st, b);
	bool		have_prev = false;
	AggAcc	   *prev_acc = NULL;
	ExprState  *qual = st->qual;

	/*
	 * The WHERE clause is the reader's filter exactly and the segment's
	 * zone maps or bitmaps say that every row of the batch satisfies it.
	 */
	if (st->filter_complete && b->exact)
		qual = NULL;

	if (batch_runs_ok(st, b, qual))
	{
		aggregate_runs(st, b);
		goto done;
	}
	ExecClearTuple(in);
	for (int a = 0; a < natts; a++)
	{
		if (b->values[a] != NULL)
			st->batch_cols[ncols++] = a;
		else
		{
			in->tts_values[a] = b->cvalue[a];
			in->tts_isnull[a] = b->cnull[a];
		}
	}
	ExecStoreVirtualTuple(in);
	st->batch = b;
	for (int j = 0; j < b->nrows; j++)
	{
		int			idx = b->sel ? (int) (b->sel[j] - b->base) : b->start + j;
		AggAcc	   *acc;

		if (st->reset_per_row)
			ResetExprContext(econtext);
		for (int c = 0; c < ncols; c++)
		{
			int			a = st->batch_cols[c];

			in->tts_values[a] = b->values[a][idx];
			in->tts_isnull[a] = b->isnull[a][idx];
		}
		st->batch_idx = idx;
		if (!stable)
		{
			aggregate_row(st, qual, econtext);
			continue;
		}
		if (qual && !ExecQual(qual, econtext))
			continue;
		st->rows_read++;
		ExecClearTuple(ks);
		compute_keys(st, econtext);
		if (have_prev)
		{
			bool		same = true;

			for (int k = 0; k < st->nkeys && same; k++)
				same = ks->tts_isnull[k] == st->prev_nulls[k] &&
					(ks->tts_isnull[k] || ks->tts_values[k] == st->prev_keys[k]);
			if (same)
			{
				accumulate(st, prev_acc, econtext);
				continue;
			}
		}
		acc = lookup_group(st);
		accumulate(st, acc, econtext);
		prev_acc = acc;
		have_prev = true;
		memcpy(st->prev_keys, ks->tts_values, sizeof(Datum) * st->nkeys);
		memcpy(st->prev_nulls, ks->tts_isnull, sizeof(bool) * st->nkeys);
	}
	st->batch = NULL;
done:
	if ((st->rows_seen += b->nrows) >= 65536)
	{
		st->rows_seen = 0;
		CHECK_FOR_INTERRUPTS();
	}
}
