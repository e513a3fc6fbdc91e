/*-------------------------------------------------------------------------
 *
 * ledger_store.c
 *	  Segments as rows of the catalogs ledger.segment and
 *	  ledger.segment_column.
 *
 * NOTES
 *	  Both catalogs are keyed by the ledger's relfilenode ("storage"), so a
 *	  TRUNCATE or a table rewrite, which gives the ledger a new relfilenode
 *	  inside its transaction, makes the old segments unreachable exactly
 *	  when pg_class says so, and a rollback brings them back.  The rows are
 *	  read and written here directly with the heap and index AMs, without
 *	  permission checks: access to a ledger is checked on the ledger itself,
 *	  and PUBLIC has no privileges on the catalogs.
 *
 *	  Catalog rows are inserted with an explicit command id (see
 *	  LedgerStoreWriteSegment) so that a segment flushed in the middle of a
 *	  command is visible exactly to the commands that may see its rows.
 *
 * IDENTIFICATION
 *	  src/store/ledger_store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "ledger/ledger.h"
#include "ledger/store.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "access/detoast.h"
#include "access/heaptoast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"

/* ledger.segment */
#define Natts_segment				10
#define Anum_segment_storage		1
#define Anum_segment_segment_id		2
#define Anum_segment_first_row		3
#define Anum_segment_row_count		4
#define Anum_segment_time_min		5
#define Anum_segment_time_max		6
#define Anum_segment_data_bytes		7
#define Anum_segment_format			8
#define Anum_segment_event_count	9
#define Anum_segment_rollup			10

/* ledger.segment_column */
#define Natts_column				9
#define Anum_column_storage			1
#define Anum_column_segment_id		2
#define Anum_column_attnum			3
#define Anum_column_null_count		4
#define Anum_column_min_value		5
#define Anum_column_max_value		6
#define Anum_column_dict_count		7
#define Anum_column_dict			8
#define Anum_column_data			9

/* the wider of the two catalogs */
#define Natts_max					Max(Natts_segment, Natts_column)

/* an open catalog with its indexes, for inserting rows */
typedef struct CatalogWriter
{
	Relation	rel;
	int			nindexes;
	Relation   *indexes;
	IndexInfo **infos;
} CatalogWriter;

/* oid of the extension catalog "relname"; InvalidOid if missing_ok */
Oid
LedgerCatalogRelid(const char *relname, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(LEDGER_SCHEMA_NAME, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(relname, nsp);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("ledger catalog \"%s.%s\" does not exist",
						LEDGER_SCHEMA_NAME, relname),
				 errhint("Reinstall the extension with CREATE EXTENSION ledger.")));
	return relid;
}

/* oid of the primary-key index of catalog "relname" */
static Oid
catalog_pkey(const char *relname)
{
	char		idxname[NAMEDATALEN];

	snprintf(idxname, sizeof(idxname), "%s_pkey", relname);
	return LedgerCatalogRelid(idxname, false);
}

/* opens a catalog and its indexes for inserts (RowExclusiveLock) */
static void
writer_open(CatalogWriter *w, const char *relname)
{
	List	   *indexoids;
	ListCell   *lc;
	int			i = 0;

	w->rel = table_open(LedgerCatalogRelid(relname, false), RowExclusiveLock);
	indexoids = RelationGetIndexList(w->rel);
	w->nindexes = list_length(indexoids);
	w->indexes = palloc(sizeof(Relation) * Max(w->nindexes, 1));
	w->infos = palloc(sizeof(IndexInfo *) * Max(w->nindexes, 1));
	foreach(lc, indexoids)
	{
		w->indexes[i] = index_open(lfirst_oid(lc), RowExclusiveLock);
		w->infos[i] = BuildIndexInfo(w->indexes[i]);
		i++;
	}
	list_free(indexoids);
}

/* closes what writer_open opened, keeping locks to end of transaction */
static void
writer_close(CatalogWriter *w)
{
	for (int i = 0; i < w->nindexes; i++)
		index_close(w->indexes[i], NoLock);
	table_close(w->rel, NoLock);
}

/* inserts tup stamped with command id cid, and its index entries */
static void
writer_insert(CatalogWriter *w, HeapTuple tup, CommandId cid)
{
	heap_insert(w->rel, tup, cid, 0, NULL);

	for (int i = 0; i < w->nindexes; i++)
	{
		IndexInfo  *ii = w->infos[i];
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
		{
			AttrNumber	attno = ii->ii_IndexAttrNumbers[k];

			if (attno <= 0)
				elog(ERROR, "ledger catalog index with expressions is not supported");
			values[k] = heap_getattr(tup, attno, RelationGetDescr(w->rel),
									 &isnull[k]);
		}
		index_insert(w->indexes[i], values, isnull, &tup->t_self, w->rel,
					 ii->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, ii);
	}
}

/* sets up a scan key on storage (and segment_id when >= 0) */
static int
storage_keys(ScanKey keys, Oid storage, int64 segment_id)
{
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(storage));
	if (segment_id < 0)
		return 1;
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(segment_id));
	return 2;
}

/* fills meta from a ledger.segment tuple */
static void
segment_from_tuple(HeapTuple tup, TupleDesc desc, LedgerSegmentMeta *meta)
{
	Datum		values[Natts_segment];
	bool		isnull[Natts_segment];

	heap_deform_tuple(tup, desc, values, isnull);
	meta->segment_id = DatumGetInt64(values[Anum_segment_segment_id - 1]);
	meta->first_row = DatumGetInt64(values[Anum_segment_first_row - 1]);
	meta->row_count = DatumGetInt32(values[Anum_segment_row_count - 1]);
	meta->has_time = !isnull[Anum_segment_time_min - 1] &&
		!isnull[Anum_segment_time_max - 1];
	meta->time_min = meta->has_time ?
		DatumGetTimestampTz(values[Anum_segment_time_min - 1]) : 0;
	meta->time_max = meta->has_time ?
		DatumGetTimestampTz(values[Anum_segment_time_max - 1]) : 0;
	meta->data_bytes = DatumGetInt64(values[Anum_segment_data_bytes - 1]);
	meta->event_count = DatumGetInt64(values[Anum_segment_event_count - 1]);
	meta->rolled_up = !isnull[Anum_segment_rollup - 1];
	if (meta->rolled_up)
		meta->rollup = *DatumGetIntervalP(values[Anum_segment_rollup - 1]);
	else
		memset(&meta->rollup, 0, sizeof(Interval));

	if (meta->row_count <= 0 || meta->row_count > LEDGER_SEGMENT_MAX_ROWS ||
		meta->first_row < 0 ||
		DatumGetInt16(values[Anum_segment_format - 1]) != LEDGER_SEGMENT_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger segment " INT64_FORMAT " has invalid metadata",
						meta->segment_id)));
}

/* segments of rel visible to snapshot, sorted by segment_id (palloc'd) */
LedgerSegmentMeta *
LedgerStoreListSegments(Relation rel, Snapshot snapshot, int *nsegments)
{
	Relation	segrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	int			n = 0,
				cap = 16;
	LedgerSegmentMeta *metas = palloc(sizeof(LedgerSegmentMeta) * cap);

	segrel = table_open(LedgerCatalogRelid("segment", false), AccessShareLock);
	scan = systable_beginscan(segrel, catalog_pkey("segment"), true, snapshot,
							  storage_keys(keys, rel->rd_node.relNode, -1),
							  keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (n == cap)
		{
			cap *= 2;
			metas = repalloc_huge(metas, sizeof(LedgerSegmentMeta) * cap);
		}
		segment_from_tuple(tup, RelationGetDescr(segrel), &metas[n++]);
	}
	systable_endscan(scan);
	table_close(segrel, AccessShareLock);

	*nsegments = n;
	return metas;
}

/* copies a bytea column of tup, detoasted, or NULL */
static bytea *
fetch_bytea(HeapTuple tup, int attnum, TupleDesc desc)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	if (isnull)
		return NULL;
	return DatumGetByteaPCopy(d);
}

/* fetches the wanted columns of one segment into out[attnum - 1] */
void
LedgerStoreFetchColumns(Relation rel, Snapshot snapshot, int64 segment_id,
						int natts, const bool *wanted, bool fetch_data,
						bool fetch_dict, LedgerStoredColumn *out,
						LedgerStoredColumn *events)
{
	Relation	colrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;

	memset(out, 0, sizeof(LedgerStoredColumn) * natts);
	if (events)
		memset(events, 0, sizeof(LedgerStoredColumn));

	colrel = table_open(LedgerCatalogRelid("segment_column", false),
						AccessShareLock);
	scan = systable_beginscan(colrel, catalog_pkey("segment_column"), true,
							  snapshot,
							  storage_keys(keys, rel->rd_node.relNode,
										   segment_id),
							  keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(colrel);
		bool		isnull;
		int			attnum;
		LedgerStoredColumn *col;

		attnum = DatumGetInt16(heap_getattr(tup, Anum_column_attnum, desc,
											&isnull));
		if (attnum == LEDGER_EVENTS_ATTNUM && events != NULL)
			col = events;
		else if (attnum < 1 || attnum > natts || !wanted[attnum - 1])
			continue;
		else
			col = &out[attnum - 1];
		col->present = true;
		col->null_count = DatumGetInt32(heap_getattr(tup, Anum_column_null_count,
													 desc, &isnull));
		col->dict_count = DatumGetInt32(heap_getattr(tup, Anum_column_dict_count,
													 desc, &isnull));
		col->min_value = fetch_bytea(tup, Anum_column_min_value, desc);
		col->max_value = fetch_bytea(tup, Anum_column_max_value, desc);
		if (fetch_data)
		{
			col->data = LedgerBlobCacheGet(rel->rd_node.relNode, segment_id, attnum, 0);
			if (col->data == NULL)
			{
				col->data = fetch_bytea(tup, Anum_column_data, desc);
				if (col->data != NULL)
					col->data = LedgerBlobCachePut(rel->rd_node.relNode, segment_id,
												   attnum, 0, col->data);
			}
			if (col->data == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("ledger segment " INT64_FORMAT " has no data for column %d",
								segment_id, attnum)));
		}
		if (fetch_dict && col->dict_count > 0)
		{
			col->dict = LedgerBlobCacheGet(rel->rd_node.relNode, segment_id, attnum, 1);
			if (col->dict == NULL)
			{
				col->dict = fetch_bytea(tup, Anum_column_dict, desc);
				if (col->dict != NULL)
					col->dict = LedgerBlobCachePut(rel->rd_node.relNode, segment_id,
												   attnum, 1, col->dict);
			}
		}
	}
	systable_endscan(scan);
	table_close(colrel, AccessShareLock);
}

/* inserts the catalog row of one column; returns its compressed bytes */
static int64
insert_column(CatalogWriter *w, Oid storage, int64 segment_id, int attnum,
			  LedgerEncodedColumn *c, CommandId cid)
{
	Datum		values[Natts_column];
	bool		isnull[Natts_column];
	HeapTuple	tup;

	memset(isnull, 0, sizeof(isnull));
	values[Anum_column_storage - 1] = ObjectIdGetDatum(storage);
	values[Anum_column_segment_id - 1] = Int64GetDatum(segment_id);
	values[Anum_column_attnum - 1] = Int16GetDatum(attnum);
	values[Anum_column_null_count - 1] = Int32GetDatum(c->null_count);
	values[Anum_column_min_value - 1] = PointerGetDatum(c->min_value);
	isnull[Anum_column_min_value - 1] = (c->min_value == NULL);
	values[Anum_column_max_value - 1] = PointerGetDatum(c->max_value);
	isnull[Anum_column_max_value - 1] = (c->max_value == NULL);
	values[Anum_column_dict_count - 1] = Int32GetDatum(c->dict_count);
	values[Anum_column_dict - 1] = PointerGetDatum(c->dict);
	isnull[Anum_column_dict - 1] = (c->dict == NULL);
	values[Anum_column_data - 1] = PointerGetDatum(c->data);

	tup = heap_form_tuple(RelationGetDescr(w->rel), values, isnull);
	writer_insert(w, tup, cid);
	heap_freetuple(tup);
	return VARSIZE(c->data) + (c->dict ? VARSIZE(c->dict) : 0);
}

/* writes one segment of nrows rows; see store.h */
int64
LedgerStoreWriteSegment(Relation rel, int nrows, LedgerEncodedColumn *cols,
						LedgerSegmentInfo *info, CommandId cid,
						int64 *first_row_out)
{
	CatalogWriter segw,
				colw;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Oid			storage = rel->rd_node.relNode;
	int64		segment_id;
	int64		first_row;
	int64		data_bytes = 0;
	Datum		values[Natts_segment];
	bool		isnull[Natts_segment];
	HeapTuple	tup;

	Assert(nrows > 0 && nrows <= LEDGER_SEGMENT_MAX_ROWS);

	segment_id = nextval_internal(LedgerCatalogRelid("segment_id_seq", false),
								  false);
	first_row = LedgerStoreReserveRows(rel, nrows);

	writer_open(&colw, "segment_column");
	for (int i = 0; i < tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i)->attisdropped)
			continue;
		data_bytes += insert_column(&colw, storage, segment_id, i + 1,
									&cols[i], cid);
	}
	if (info->events)
		data_bytes += insert_column(&colw, storage, segment_id,
									LEDGER_EVENTS_ATTNUM, info->events, cid);
	writer_close(&colw);

	writer_open(&segw, "segment");
	memset(isnull, 0, sizeof(isnull));
	values[Anum_segment_storage - 1] = ObjectIdGetDatum(storage);
	values[Anum_segment_segment_id - 1] = Int64GetDatum(segment_id);
	values[Anum_segment_first_row - 1] = Int64GetDatum(first_row);
	values[Anum_segment_row_count - 1] = Int32GetDatum(nrows);
	values[Anum_segment_time_min - 1] = TimestampTzGetDatum(info->time_min);
	values[Anum_segment_time_max - 1] = TimestampTzGetDatum(info->time_max);
	isnull[Anum_segment_time_min - 1] = !info->time_valid;
	isnull[Anum_segment_time_max - 1] = !info->time_valid;
	values[Anum_segment_event_count - 1] = Int64GetDatum(info->event_count);
	values[Anum_segment_rollup - 1] = IntervalPGetDatum(&info->rollup);
	isnull[Anum_segment_rollup - 1] = !info->rolled_up;
	values[Anum_segment_data_bytes - 1] = Int64GetDatum(data_bytes);
	values[Anum_segment_format - 1] = Int16GetDatum(LEDGER_SEGMENT_FORMAT);
	tup = heap_form_tuple(RelationGetDescr(segw.rel), values, isnull);
	writer_insert(&segw, tup, cid);
	heap_freetuple(tup);
	writer_close(&segw);

	*first_row_out = first_row;
	return segment_id;
}

/* deletes every row of catalog "relname" stored under storage */
static void
delete_storage_rows(const char *relname, Oid storage)
{
	Oid			relid = LedgerCatalogRelid(relname, true);
	Relation	catrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	char		idxname[NAMEDATALEN];
	Oid			indexoid;
	Snapshot	snapshot;

	if (!OidIsValid(relid))
		return;					/* the extension itself is being dropped */
	snprintf(idxname, sizeof(idxname), "%s_pkey", relname);
	indexoid = LedgerCatalogRelid(idxname, true);
	if (!OidIsValid(indexoid))
		return;

	catrel = table_open(relid, RowExclusiveLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(catrel, indexoid, true, snapshot,
							  storage_keys(keys, storage, -1), keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		simple_heap_delete(catrel, &tup->t_self);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(catrel, NoLock);
}

/* removes every segment stored under "storage" (transactional) */
void
LedgerStoreDropStorage(Oid storage)
{
	CommandCounterIncrement();
	delete_storage_rows("segment_column", storage);
	delete_storage_rows("segment", storage);
	CommandCounterIncrement();
}

/* copies the rows of catalog "relname" under rel's storage to "to" */
static void
copy_storage_rows(const char *relname, Relation rel, Snapshot snapshot, Oid to)
{
	CatalogWriter w;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	CommandId	cid = GetCurrentCommandId(true);

	writer_open(&w, relname);
	scan = systable_beginscan(w.rel, catalog_pkey(relname), true, snapshot,
							  storage_keys(keys, rel->rd_node.relNode, -1),
							  keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		values[Natts_max] = {0};
		bool		nulls[Natts_max] = {false};
		bool		repl[Natts_max] = {false};
		HeapTuple	newtup;

		values[0] = ObjectIdGetDatum(to);	/* storage is column 1 of both */
		repl[0] = true;
		newtup = heap_modify_tuple(tup, RelationGetDescr(w.rel), values,
								   nulls, repl);
		writer_insert(&w, newtup, cid);
		heap_freetuple(newtup);
	}
	systable_endscan(scan);
	writer_close(&w);
}

/* copies every segment of rel visible to snapshot to storage "to" */
void
LedgerStoreCopyStorage(Relation rel, Snapshot snapshot, Oid to)
{
	copy_storage_rows("segment_column", rel, snapshot, to);
	copy_storage_rows("segment", rel, snapshot, to);
	CommandCounterIncrement();
}

/* rows, segments and compressed bytes of rel visible to snapshot */
void
LedgerStoreTotals(Relation rel, Snapshot snapshot, int64 *rows,
				  int64 *nsegments, int64 *bytes)
{
	int			n;
	LedgerSegmentMeta *metas = LedgerStoreListSegments(rel, snapshot, &n);

	*rows = 0;
	*bytes = 0;
	*nsegments = n;
	for (int i = 0; i < n; i++)
	{
		*rows += metas[i].row_count;
		*bytes += metas[i].data_bytes;
	}
	pfree(metas);
}

/* bytes one catalog tuple occupies: line pointer, tuple, TOAST chunks */
static int64
tuple_bytes(HeapTuple tup, TupleDesc desc)
{
	int64		bytes = sizeof(ItemIdData) + MAXALIGN(tup->t_len);

	for (int i = 0; i < desc->natts; i++)
	{
		bool		isnull;
		Datum		d;
		struct varlena *v;

		if (TupleDescAttr(desc, i)->attlen != -1)
			continue;
		d = heap_getattr(tup, i + 1, desc, &isnull);
		if (isnull)
			continue;
		v = (struct varlena *) DatumGetPointer(d);
		if (VARATT_IS_EXTERNAL_ONDISK(v))
		{
			struct varatt_external ext;
			int64		extsize,
						nchunks;

			VARATT_EXTERNAL_GET_POINTER(ext, v);
			extsize = VARATT_EXTERNAL_GET_EXTSIZE(ext);
			nchunks = (extsize + TOAST_MAX_CHUNK_SIZE - 1) / TOAST_MAX_CHUNK_SIZE;
			/* each chunk: line pointer, tuple header, chunk_id, seq, varlena */
			bytes += extsize + nchunks *
				(sizeof(ItemIdData) +
				 MAXALIGN(SizeofHeapTupleHeader + 2 * sizeof(int32) + VARHDRSZ) -
				 VARHDRSZ);
			/* and one entry in the TOAST index */
			bytes += nchunks * (sizeof(ItemIdData) + 16);
		}
	}
	/* one entry in the catalog's primary key */
	return bytes + sizeof(ItemIdData) + 24;
}

/* bytes of the rows of catalog "relname" stored under storage */
static int64
catalog_bytes(const char *relname, Oid storage)
{
	Relation	catrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	int64		bytes = 0;

	catrel = table_open(LedgerCatalogRelid(relname, false), AccessShareLock);
	scan = systable_beginscan(catrel, catalog_pkey(relname), true, snapshot,
							  storage_keys(keys, storage, -1), keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		bytes += tuple_bytes(tup, RelationGetDescr(catrel));
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(catrel, AccessShareLock);
	return bytes;
}

/* bytes of the segment catalogs (heap + TOAST + indexes) owned by rel */
int64
LedgerStoreTableSize(Relation rel)
{
	int64		bytes;

	bytes = catalog_bytes("segment", rel->rd_node.relNode) +
		catalog_bytes("segment_column", rel->rd_node.relNode);
	bytes += (int64) smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM) * BLCKSZ;
	return bytes;
}

/* the attribute (bigint) the hidden event count is encoded as */
Form_pg_attribute
LedgerEventsAttribute(void)
{
	static FormData_pg_attribute att;

	if (att.atttypid == InvalidOid)
	{
		namestrcpy(&att.attname, "events");
		att.attlen = sizeof(int64);
		att.attbyval = true;
		att.attalign = TYPALIGN_DOUBLE;
		att.attstorage = TYPSTORAGE_PLAIN;
		att.attnum = LEDGER_EVENTS_ATTNUM;
		att.atttypmod = -1;
		att.atttypid = INT8OID;
	}
	return &att;
}

/* deletes rows of catalog "relname" of one segment seen by snapshot */
static int
delete_segment_rows(const char *relname, Oid storage, int64 segment_id,
					Snapshot snapshot)
{
	Relation	catrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	int			ndeleted = 0;

	catrel = table_open(LedgerCatalogRelid(relname, false), RowExclusiveLock);
	scan = systable_beginscan(catrel, catalog_pkey(relname), true, snapshot,
							  storage_keys(keys, storage, segment_id), keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TM_Result	result;
		TM_FailureData tmfd;

		result = heap_delete(catrel, &tup->t_self, GetCurrentCommandId(true),
							 InvalidSnapshot, true, &tmfd, false);
		if (result != TM_Ok)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not remove ledger segment " INT64_FORMAT ": it was changed by a concurrent transaction",
							segment_id),
					 errhint("Retry the operation.")));
		ndeleted++;
	}
	systable_endscan(scan);
	table_close(catrel, NoLock);
	return ndeleted;
}

/*
 * Deletes one segment of rel (its ledger.segment row and its column rows)
 * as seen by snapshot, in the current transaction: readers whose snapshot
 * predates the commit keep seeing it.  A segment changed by a concurrent
 * transaction raises a serialization failure.
 */
void
LedgerStoreDeleteSegment(Relation rel, Snapshot snapshot, int64 segment_id)
{
	Oid			storage = rel->rd_node.relNode;

	(void) delete_segment_rows("segment_column", storage, segment_id, snapshot);
	if (delete_segment_rows("segment", storage, segment_id, snapshot) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not remove ledger segment " INT64_FORMAT ": it no longer exists",
						segment_id),
				 errhint("Retry the operation.")));
}
