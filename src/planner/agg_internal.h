/*-------------------------------------------------------------------------
 *
 * agg_internal.h
 *	  The executor state of LedgerAgg, shared by ledger_agg_exec.c (the
 *	  node) and ledger_agg_group.c (per-row work: keys, caches,
 *	  accumulators).
 *
 * IDENTIFICATION
 *	  src/planner/agg_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_AGG_INTERNAL_H
#define LEDGER_AGG_INTERNAL_H

#include "postgres.h"

#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "ledger/scan.h"
#include "nodes/execnodes.h"
#include "planner_internal.h"
#include "utils/rel.h"

/* a group key's fast path */
typedef enum KeyKind
{
	KEY_EXPR,					/* evaluated per row */
	KEY_MEMO,					/* an expression of one column, remembered
								 * per value of the column */
	KEY_VAR,					/* a column */
	KEY_TRUNC					/* date_trunc(unit, time column) */
} KeyKind;

/* per group, per aggregate */
typedef struct AggAcc
{
	int64		count;
	int128		isum;
	double		fsum;
	float4		f4sum;
	Datum		value;			/* numeric sum, min/max */
	bool		has;
} AggAcc;

/*
 * A small direct-mapped cache of groups in front of the hash table, keyed
 * by the bytes of the key values: rows of a recent group skip the hash
 * table's typed hashing and equality (equal bytes are equal keys).
 */
#define GROUP_CACHE_SIZE 256

typedef struct GroupCacheSlot
{
	bool		valid;
	uint32		hash;
	Datum	   *keys;			/* copies in tablecxt */
	bool	   *nulls;
	AggAcc	   *acc;			/* the group's accumulators (stable: hash
								 * table entries move when it grows) */
} GroupCacheSlot;

/*
 * Recent results of a key expression of one column (attrs->>'k',
 * lower(method)), by the bytes of the column's value: dictionary-encoded
 * columns repeat few values, and stable expressions give one result per
 * value within a statement.
 */
#define MEMO_SIZE 64

typedef struct MemoSlot
{
	bool		valid;
	uint32		hash;
	Datum		input;			/* copies in tablecxt */
	Datum		result;
	bool		result_null;
} MemoSlot;

/* executor state */
typedef struct LedgerAggState
{
	CustomScanState css;
	Relation	rel;
	Index		rti;
	List	   *quals;			/* plan copies (base-relation Vars) */
	List	   *pushed;			/* those the reader's filter holds (EXPLAIN) */
	List	   *group_exprs;
	List	   *aggrefs;
	int			nkeys;
	int			naggs;

	/* per key */
	KeyKind    *key_kind;
	AttrNumber *key_attno;		/* KEY_VAR, KEY_TRUNC: the column */
	ExprState **key_state;		/* KEY_EXPR, KEY_MEMO */
	struct MemoSlot **memo;		/* KEY_MEMO: recent (input, result) pairs */
	int64	   *memo_lookups;	/* KEY_MEMO: to give up when values rarely */
	int64	   *memo_hits;		/* repeat */
	uint64	   *code_dict;		/* KEY_MEMO: the dictionary code_result is
								 * for (LedgerReaderLastCode's dict_id) */
	Datum	  **code_result;	/* KEY_MEMO: result per dictionary entry */
	uint8	  **code_state;		/* 0 not evaluated, 1 a value, 2 NULL */
	uint32	  **code_hash;		/* key_bytes_hash of each result */
	struct ResultIntern **code_intern;	/* one copy of each distinct result */
	uint8	   *memo_null_state;	/* KEY_MEMO: result for a NULL input: 0 not
								 * evaluated, 1 a value, 2 NULL */
	Datum	   *memo_null_result;
	uint32	   *memo_hash;		/* KEY_MEMO: hash of the key memo_key last
								 * returned, if memo_hash_valid */
	bool	   *memo_hash_valid;
	MemoryContext *code_cxt;	/* KEY_MEMO: holds code_result's values */
	int16	   *in_len;			/* KEY_MEMO: the column's type */
	bool	   *in_byval;
	FmgrInfo   *trunc_fn;		/* KEY_TRUNC */
	Datum	   *trunc_unit;
	Interval  **trunc_step;		/* one unit, or NULL: no range cache */
	int64	   *trunc_lo;
	int64	   *trunc_hi;
	Datum	   *trunc_result;
	bool	   *trunc_valid;
	int16	   *key_len;
	bool	   *key_byval;

	/* per aggregate */
	AggKind    *agg_kind;
	AttrNumber *agg_attno;		/* argument is a column, or 0 */
	ExprState **agg_state;		/* argument expression otherwise */
	ExprState **agg_filter;		/* FILTER (WHERE ...), or NULL */
	FmgrInfo   *agg_cmp;		/* MIN_MAX: the transition function */
	Oid		   *agg_coll;
	int16	   *agg_len;
	bool	   *agg_byval;

	ExprState  *qual;
	bool	   *wanted;
	LedgerQual *filter;
	bool		filter_complete;	/* filter is exactly the WHERE clause */
	List	   *leaves;
	List	   *leaf_states;
	LedgerScanStats stats;

	LedgerReader *reader;		/* while aggregating */
	LedgerBatch *batch;			/* the batch being aggregated, or NULL */
	int			batch_idx;		/* the row's index in the batch's arrays */
	int		   *batch_cols;		/* columns with values in the batch */
	Datum	   *prev_keys;		/* keys of the batch's previous row */
	bool	   *prev_nulls;
	int64		rows_seen;		/* batch rows since the last interrupt check */
	TupleTableSlot *inslot;		/* rows read (the ledger's descriptor) */
	TupleTableSlot *keyslot;	/* group keys */
	TupleTableSlot *outkeyslot;	/* group keys of a group being returned */
	TupleHashTable hashtable;
	MemoryContext tablecxt;
	struct GroupCacheSlot *cache;	/* recent groups by raw key bytes */
	bool		reset_per_row;	/* expressions run per row */
	AggAcc	   *plain;			/* no GROUP BY: the one group */
	bool		done;			/* aggregated */
	TupleHashIterator iter;
	bool		plain_emitted;
	int64		rows_read;
	int64		groups;
	bool		expr_keys;		/* some key is an expression */
	int64		key_evals;		/* key expressions evaluated (EXPLAIN) */
} LedgerAggState;

/* ledger_agg_group.c */
extern void compute_keys(LedgerAggState *st, ExprContext *econtext);
extern AggAcc *lookup_group(LedgerAggState *st);
extern void aggregate_row(LedgerAggState *st, ExprState *qual,
						  ExprContext *econtext);
extern Datum trunc_key(LedgerAggState *st, int k, Datum v);
extern Datum memo_key(LedgerAggState *st, int k, ExprContext *econtext,
					  bool *isnull);
extern void cache_fill(LedgerAggState *st, GroupCacheSlot *cs, uint32 h,
					   TupleTableSlot *ks, AggAcc *acc);
extern void accumulate(LedgerAggState *st, AggAcc *acc, ExprContext *econtext);
extern Datum finalize(LedgerAggState *st, int a, AggAcc *ac, bool *isnull);

/* ledger_agg_batch.c */
extern void aggregate_batch(LedgerAggState *st, LedgerBatch *b,
							ExprContext *econtext);

/*
 * A hash of a value's bytes; *cacheable is cleared for values whose bytes
 * do not identify them (compressed or external varlenas, cstrings).
 */
static inline uint32
value_bytes_hash(Datum v, int16 len, bool byval, bool *cacheable)
{
	if (byval)
		return hash_bytes_uint32((uint32) v) ^ (uint32) ((uint64) v >> 32);
	if (len == -1)
	{
		struct varlena *p = (struct varlena *) DatumGetPointer(v);

		if (VARATT_IS_EXTENDED(p) && !VARATT_IS_SHORT(p))
		{
			*cacheable = false;
			return 0;
		}
		return hash_bytes((const unsigned char *) VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
	}
	if (len > 0)
		return hash_bytes((const unsigned char *) DatumGetPointer(v), len);
	*cacheable = false;
	return 0;
}

/* true if two values hashed by value_bytes_hash have the same bytes */
static inline bool
value_bytes_equal(Datum a, Datum b, int16 len, bool byval)
{
	if (byval)
		return a == b;
	if (len == -1)
	{
		struct varlena *x = (struct varlena *) DatumGetPointer(a);
		struct varlena *y = (struct varlena *) DatumGetPointer(b);

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return memcmp(DatumGetPointer(a), DatumGetPointer(b), len) == 0;
}

/* a key value's hash for the group cache (NULL included) */
static inline uint32
key_bytes_hash(LedgerAggState *st, int k, Datum v, bool isnull, bool *cacheable)
{
	if (isnull)
		return 0x9e3779b9;
	return value_bytes_hash(v, st->key_len[k], st->key_byval[k], cacheable);
}

/* true if the cached group has exactly the keys in ks */
static inline bool
cache_keys_equal(LedgerAggState *st, GroupCacheSlot *cs, TupleTableSlot *ks)
{
	for (int k = 0; k < st->nkeys; k++)
	{
		if (cs->nulls[k] != ks->tts_isnull[k])
			return false;
		if (!ks->tts_isnull[k] &&
			!value_bytes_equal(cs->keys[k], ks->tts_values[k],
							   st->key_len[k], st->key_byval[k]))
			return false;
	}
	return true;
}

#endif							/* LEDGER_AGG_INTERNAL_H */
