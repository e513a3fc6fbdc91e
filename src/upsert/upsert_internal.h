/*-------------------------------------------------------------------------
 *
 * upsert_internal.h
 *	  Structures shared by the files of the upsert component.
 *
 * IDENTIFICATION
 *	  src/upsert/upsert_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_UPSERT_INTERNAL_H
#define LEDGER_UPSERT_INTERNAL_H

#include "postgres.h"

#include "access/htup.h"
#include "ledger/upsert.h"
#include "nodes/execnodes.h"
#include "storage/lockdefs.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* columns of ledger.key_store */
#define Natts_key_store					9
#define Anum_key_store_relid			1
#define Anum_key_store_key				2
#define Anum_key_store_version			3
#define Anum_key_store_event_time		4
#define Anum_key_store_retracted		5
#define Anum_key_store_superseded		6
#define Anum_key_store_payload			7
#define Anum_key_store_group_hash		8
#define Anum_key_store_contribution		9

/* the key store opened for one ledger */
typedef struct KeyStore
{
	Oid			relid;			/* the ledger */
	Relation	heap;
	Relation	keyidx;			/* (relid, key) unique */
	Relation	groupidx;		/* (relid, group_hash) */
	Relation	supidx;			/* (relid) where superseded or retracted */
	IndexInfo  *keyinfo;
	IndexInfo  *groupinfo;
	IndexInfo  *supinfo;
	TupleTableSlot *slot;
	LOCKMODE	mode;
	MemoryContext cxt;			/* lives as long as the KeyStore */
	IndexScanDesc scan;			/* dirty-snapshot probes, reused */
	uint32		token;			/* speculative insertion token held, or 0 */
	SnapshotData dirty;
} KeyStore;

/* one key store row */
typedef struct KeyRow
{
	ItemPointerData tid;
	bool		own;			/* written by this transaction */
	bool		has_version;
	int64		version;
	bool		has_time;
	TimestampTz event_time;
	bool		retracted;
	bool		superseded;
	int64		payload;
	bool		has_group;
	int32		group_hash;
	bytea	   *contribution;
} KeyRow;

extern void keystore_open(KeyStore *ks, Oid relid, LOCKMODE mode);
extern void keystore_close(KeyStore *ks);
extern void keystore_deform(KeyStore *ks, HeapTuple tup, KeyRow *row);
extern HeapTuple keystore_probe(KeyStore *ks, text *key);
extern bool keystore_insert(KeyStore *ks, text *key, KeyRow *row);
extern bool keystore_update(KeyStore *ks, text *key, KeyRow *old, KeyRow *row);
extern void keystore_mark_dirty(Oid relid, int32 group_hash);
extern void count_outcome(Oid relid, LedgerKeyOutcome outcome);

extern text *key_text(LedgerKeySpec *spec, Datum d);
extern int64 version_value(Oid typid, Datum d);
extern int64 payload_hash(LedgerKeySpec *spec, TupleDesc desc, Datum *values,
						  bool *isnull);
extern bytea *contribution_pack(TupleDesc desc, Datum *values, bool *isnull);
extern void contribution_unpack(TupleDesc desc, bytea *b, Datum *values,
								bool *isnull);

#endif							/* LEDGER_UPSERT_INTERNAL_H */
