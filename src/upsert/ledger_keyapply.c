/*-------------------------------------------------------------------------
 *
 * ledger_keyapply.c
 *	  Applying keyed rows: a row's key, version, payload hash and
 *	  contribution, the outcome against the key store (new, replaced,
 *	  unchanged, stale) and the contribution to take back; ledger.retract.
 *
 * NOTES
 *	  The key store itself (claims, probes, updates and how concurrent
 *	  writers of one key serialize) is in ledger_keystore.c.
 *
 * IDENTIFICATION
 *	  src/upsert/ledger_keyapply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "ledger/catalog.h"
#include "ledger/rollup.h"
#include "ledger/store.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "upsert_internal.h"

/* ------------------------------------------------------------------------
 * Row values: key text, version, event time, payload hash, contribution
 * ------------------------------------------------------------------------
 */

/* the key of a row as text (in CurrentMemoryContext) */
text *
key_text(LedgerKeySpec *spec, Datum d)
{
	if (spec->key_is_text)
		return pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	return cstring_to_text(OutputFunctionCall(&spec->key_out, d));
}

/* a version value as int64 */
int64
version_value(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case DATEOID:
			return DatumGetDateADT(d);
		default:
			return DatumGetInt64(d);
	}
}

/* a 64-bit hash of a row's payload: every attribute but key and version */
int64
payload_hash(LedgerKeySpec *spec, TupleDesc desc, Datum *values, bool *isnull)
{
	uint64		h = UINT64CONST(0x9e3779b97f4a7c15);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		uint64		v;

		if (att->attisdropped || i == spec->key_attnum - 1 ||
			i == spec->version_attnum - 1)
			continue;
		if (isnull[i])
			v = UINT64CONST(0x5bd1e9955bd1e995) + i;
		else if (att->attbyval)
		{
			int64		x = 0;

			switch (att->attlen)
			{
				case 1:
					x = DatumGetChar(values[i]);
					break;
				case 2:
					x = DatumGetInt16(values[i]);
					break;
				case 4:
					x = DatumGetInt32(values[i]);
					break;
				default:
					x = DatumGetInt64(values[i]);
					break;
			}
			v = hash_bytes_uint32_extended((uint32) x, (uint64) (x >> 32) + i);
		}
		else if (att->attlen == -1)
		{
			struct varlena *p = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[i]));

			v = hash_bytes_extended((const unsigned char *) VARDATA_ANY(p),
									VARSIZE_ANY_EXHDR(p), i);
		}
		else if (att->attlen == -2)
			v = hash_bytes_extended((const unsigned char *) DatumGetCString(values[i]),
									strlen(DatumGetCString(values[i])), i);
		else
			v = hash_bytes_extended((const unsigned char *) DatumGetPointer(values[i]),
									att->attlen, i);
		h = hash_combine64(h, v);
	}
	return (int64) h;
}

/* a prepared rollup row as a contribution bytea */
bytea *
contribution_pack(TupleDesc desc, Datum *values, bool *isnull)
{
	HeapTuple	tup = heap_form_tuple(desc, values, isnull);
	bytea	   *b = palloc(VARHDRSZ + tup->t_len);

	SET_VARSIZE(b, VARHDRSZ + tup->t_len);
	memcpy(VARDATA(b), tup->t_data, tup->t_len);
	heap_freetuple(tup);
	return b;
}

/* unpacks a contribution into values/isnull (natts of desc) */
void
contribution_unpack(TupleDesc desc, bytea *b, Datum *values, bool *isnull)
{
	HeapTupleData tup;
	Size		len;

	b = (bytea *) pg_detoast_datum((struct varlena *) b);
	len = VARSIZE(b) - VARHDRSZ;
	if (len < SizeofHeapTupleHeader)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger key store holds a corrupted contribution")));
	tup.t_len = len;
	tup.t_data = palloc(len);	/* MAXALIGNed copy */
	memcpy(tup.t_data, VARDATA(b), len);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	if (HeapTupleHeaderGetNatts(tup.t_data) > desc->natts ||
		tup.t_data->t_hoff > len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger key store holds a corrupted contribution")));
	heap_deform_tuple(&tup, desc, values, isnull);
}

/* ------------------------------------------------------------------------
 * Applying rows
 * ------------------------------------------------------------------------
 */

/* the retraction of a stored contribution, in CurrentMemoryContext */
static LedgerRetraction *
make_retraction(LedgerKeySpec *spec, TupleDesc desc, bytea *contribution)
{
	LedgerRetraction *r = palloc(sizeof(LedgerRetraction));
	int			natts = Max(desc->natts, 1);
	LedgerRollup *rollup = spec->rollup;

	r->values = palloc(sizeof(Datum) * natts);
	r->isnull = palloc(sizeof(bool) * natts);
	contribution_unpack(desc, contribution, r->values, r->isnull);
	/* count metrics hold the events the row stood for */
	r->events = 1;
	if (rollup->count_attnum && !r->isnull[rollup->count_attnum - 1])
	{
		Datum		d = r->values[rollup->count_attnum - 1];

		r->events = rollup->basetype[rollup->count_attnum - 1] == NUMERICOID ?
			DatumGetInt64(DirectFunctionCall1(numeric_int8, d)) :
			DatumGetInt64(d);
	}
	r->events = -r->events;
	LedgerRollupNegate(rollup, r->values, r->isnull);
	return r;
}

/*
 * Chooses between claiming a key first (new keys) and looking it up first
 * (replays): up when keys turn out to exist, down when they are new.
 */
static int	insert_first_score = 0;

/*
 * Applies one keyed row; returns its outcome.  *retraction is set to the
 * contribution to take back, if any.
 */
static LedgerKeyOutcome
apply_one(KeyStore *ks, LedgerKeySpec *spec, TupleDesc desc, text *key,
		  KeyRow *row, LedgerRetraction **retraction)
{
	*retraction = NULL;

	/*
	 * While most keys are new (a first load), claim the key straight away:
	 * the unique index tells whether it exists, and no probe is needed.
	 */
	if (insert_first_score < 8 && keystore_insert(ks, key, row))
	{
		insert_first_score = Max(insert_first_score - 1, 0);
		return LEDGER_KEY_INSERTED;
	}
	insert_first_score = Min(insert_first_score + 2, 16);

	for (;;)
	{
		HeapTuple	tup = keystore_probe(ks, key);
		KeyRow		old;

		if (tup == NULL)
		{
			if (keystore_insert(ks, key, row))
				return LEDGER_KEY_INSERTED;
			continue;
		}
		keystore_deform(ks, tup, &old);

		if (row->has_version && (!old.has_version || row->version > old.version))
		{
			/* a newer version: replace, taking the old contribution back */
			row->superseded = true;
			if (!keystore_update(ks, key, &old, row))
				continue;
			if (!old.retracted && spec->rollup && old.contribution)
				*retraction = make_retraction(spec, desc, old.contribution);
			if (!old.retracted && spec->minmax && old.has_group)
				keystore_mark_dirty(spec->relid, old.group_hash);
			return LEDGER_KEY_REPLACED;
		}
		if (row->has_version && old.has_version && row->version < old.version)
			return LEDGER_KEY_STALE;
		if (row->payload == old.payload)
			return LEDGER_KEY_UNCHANGED;
		if (row->has_version)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("event key \"%s\" version " INT64_FORMAT " was already applied with a different payload",
							text_to_cstring(key), row->version),
					 errdetail("A key and version identify one event; the row differs from the one applied before."),
					 errhint("Give a corrected event a higher version.")));
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("event key \"%s\" was already applied with a different payload",
						text_to_cstring(key)),
				 errdetail("Without a newer version, a key is applied once."),
				 errhint(spec->version_attnum ?
						 "Give a corrected event a higher version." :
						 "Add a version column to the ledger's key to send corrections.")));
	}
}

/* applies the key rules to rows about to be inserted */
void
LedgerKeyApply(Relation rel, LedgerKeySpec *spec, TupleTableSlot **slots,
			   int nslots, bool *apply, List **retractions)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = desc->natts;
	KeyStore	ks;
	MemoryContext tmpcxt;
	TimestampTz horizon = 0;
	Datum	   *prepared = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *prepnull = palloc(sizeof(bool) * Max(natts, 1));
	Datum	  **prepv = palloc(sizeof(Datum *) * Max(natts, 1));
	bool	  **prepn = palloc(sizeof(bool *) * Max(natts, 1));
	Oid			relid = RelationGetRelid(rel);

	/* column-major views of the one prepared row (see rollup.h) */
	for (int i = 0; i < natts; i++)
	{
		prepv[i] = &prepared[i];
		prepn[i] = &prepnull[i];
	}

	if (spec->has_retention)
		horizon = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														  TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
														  IntervalPGetDatum(&spec->retention)));
	keystore_open(&ks, relid, RowExclusiveLock);
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ledger key apply",
								   ALLOCSET_DEFAULT_SIZES);

	for (int s = 0; s < nslots; s++)
	{
		TupleTableSlot *slot = slots[s];
		MemoryContext old;
		KeyRow		row;
		text	   *key = NULL;
		LedgerKeyOutcome outcome;
		LedgerRetraction *retraction = NULL;
		int			k = spec->key_attnum - 1;

		slot_getallattrs(slot);
		old = MemoryContextSwitchTo(tmpcxt);
		memset(&row, 0, sizeof(row));

		if (spec->time_attnum && !slot->tts_isnull[spec->time_attnum - 1])
			row.event_time = LedgerTimeValue(spec->time_type,
											  slot->tts_values[spec->time_attnum - 1]);
		else
			row.event_time = GetCurrentTransactionStartTimestamp();
		row.has_time = true;

		if (!slot->tts_isnull[k])
			key = key_text(spec, slot->tts_values[k]);
		if (key != NULL && spec->has_retention && row.event_time < horizon)
		{
			if (spec->reject_late)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("event key \"%s\" is older than the key retention of ledger \"%s\"",
								text_to_cstring(key), RelationGetRelationName(rel)),
						 errdetail("Keys of events older than %s are forgotten, so this event cannot be deduplicated.",
								   DatumGetCString(DirectFunctionCall1(interval_out,
																	   IntervalPGetDatum(&spec->retention)))),
						 errhint("Lengthen the retention with ledger.set_key_retention(), or set late_events to 'accept'.")));
			key = NULL;			/* accepted without deduplication */
		}

		if (spec->version_attnum && !slot->tts_isnull[spec->version_attnum - 1])
		{
			row.has_version = true;
			row.version = version_value(spec->version_type,
										slot->tts_values[spec->version_attnum - 1]);
		}
		row.payload = payload_hash(spec, desc, slot->tts_values, slot->tts_isnull);

		if (spec->rollup != NULL)
		{
			/* the contribution: the row as the rollup folds it */
			for (int i = 0; i < natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				prepnull[i] = att->attisdropped || slot->tts_isnull[i];
				prepared[i] = prepnull[i] ? (Datum) 0 : slot->tts_values[i];
				if (!prepnull[i] && att->attlen == -1)
					prepared[i] = PointerGetDatum(pg_detoast_datum((struct varlena *)
																   DatumGetPointer(prepared[i])));
			}
			if (!prepnull[spec->rollup->time_attnum - 1])
			{
				(void) LedgerRollupPrepareRow(spec->rollup, prepared, prepnull);
				row.contribution = contribution_pack(desc, prepared, prepnull);
				if (spec->minmax)
				{
					row.has_group = true;
					row.group_hash = (int32) LedgerRollupHashKey(spec->rollup,
																 prepv, prepn, 0);
				}
			}
		}

		if (key == NULL)
		{
			/* unkeyed rows count as they come; min/max need their values */
			if (spec->minmax && row.contribution)
				(void) keystore_insert(&ks, NULL, &row);
			outcome = LEDGER_KEY_UNKEYED;
		}
		else
			outcome = apply_one(&ks, spec, desc, key, &row, &retraction);

		MemoryContextSwitchTo(old);
		if (retraction != NULL)
		{
			/* copy out of tmpcxt */
			LedgerRetraction *r = palloc(sizeof(LedgerRetraction));

			r->values = palloc(sizeof(Datum) * Max(natts, 1));
			r->isnull = palloc(sizeof(bool) * Max(natts, 1));
			r->events = retraction->events;
			for (int i = 0; i < natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				r->isnull[i] = retraction->isnull[i];
				r->values[i] = r->isnull[i] ? (Datum) 0 :
					datumCopy(retraction->values[i], att->attbyval, att->attlen);
			}
			*retractions = lappend(*retractions, r);
		}
		apply[s] = (outcome == LEDGER_KEY_INSERTED ||
					outcome == LEDGER_KEY_REPLACED ||
					outcome == LEDGER_KEY_UNKEYED);
		count_outcome(relid, outcome);
		MemoryContextReset(tmpcxt);
	}
	MemoryContextDelete(tmpcxt);
	keystore_close(&ks);
	pfree(prepared);
	pfree(prepnull);
}

/* retracts key of rel */
bool
LedgerKeyRetract(Relation rel, LedgerKeySpec *spec, const char *keystr,
				 LedgerRetraction **retraction)
{
	KeyStore	ks;
	text	   *key = cstring_to_text(keystr);
	bool		done = false;

	*retraction = NULL;
	keystore_open(&ks, RelationGetRelid(rel), RowExclusiveLock);
	for (;;)
	{
		HeapTuple	tup = keystore_probe(&ks, key);
		KeyRow		old;
		KeyRow		row;

		if (tup == NULL)
			break;
		keystore_deform(&ks, tup, &old);
		if (old.retracted)
			break;
		row = old;
		row.retracted = true;
		if (!keystore_update(&ks, key, &old, &row))
			continue;
		if (spec->rollup && old.contribution)
			*retraction = make_retraction(spec, RelationGetDescr(rel), old.contribution);
		if (spec->minmax && old.has_group)
			keystore_mark_dirty(spec->relid, old.group_hash);
		done = true;
		break;
	}
	keystore_close(&ks);
	return done;
}
