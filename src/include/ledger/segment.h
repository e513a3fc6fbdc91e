/*-------------------------------------------------------------------------
 *
 * segment.h
 *	  Interface of the segment component: the on-disk format of one column
 *	  of one segment (encoded values, zstd framing, dictionary, bitmaps,
 *	  zone-map bounds) and its safe decoding.
 *
 * NOTES
 *	  The component turns arrays of Datums into bytea blobs and back.  It
 *	  knows nothing of where the blobs are stored (see store.h).  Every
 *	  decoder validates its input completely: damaged or truncated blobs
 *	  raise ERRCODE_DATA_CORRUPTED, never crash and never read out of
 *	  bounds.  The format and its version are documented in
 *	  src/segment/README.md.
 *
 *	  Rows of a segment are numbered 0 .. nrows-1; column data is cut into
 *	  blocks of LEDGER_BLOCK_ROWS rows (one roaring container), each block
 *	  compressed on its own so that a reader decompresses only the blocks it
 *	  needs.
 *
 * IDENTIFICATION
 *	  src/include/ledger/segment.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_SEGMENT_H
#define LEDGER_SEGMENT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_attribute.h"
#include "utils/palloc.h"

/* the format version written into every blob header */
#define LEDGER_SEGMENT_FORMAT		1

/* rows per compressed block; equal to one roaring container */
#define LEDGER_BLOCK_ROWS			65536

/* most rows one segment may hold (bounded by the row-number space) */
#define LEDGER_SEGMENT_MAX_ROWS		(16 * LEDGER_BLOCK_ROWS)

/* largest dictionary a segment column may have */
#define LEDGER_DICT_MAX_ENTRIES		65536

/* one column of one segment, encoded; all blobs palloc'd */
typedef struct LedgerEncodedColumn
{
	int32		null_count;		/* NULLs among the rows */
	bytea	   *min_value;		/* zone map lower bound (serialized), or NULL
								 * when unknown: no btree opclass, no non-NULL
								 * value, value over 1 kB, or a costly
								 * comparator without a dictionary */
	bytea	   *max_value;		/* zone map upper bound, likewise */
	int32		dict_count;		/* dictionary entries; 0 if no dictionary */
	bytea	   *dict;			/* dictionary + one bitmap per entry, or NULL */
	bytea	   *data;			/* encoded, compressed column blocks */
} LedgerEncodedColumn;

/*
 * Encodes nrows values of one column.  Zone-map bounds and the dictionary
 * use the type's default btree opclass (and the attribute's collation); a
 * type without one gets neither.  Values must be detoasted (no external or
 * compressed varlenas; should one slip through it is detoasted here).
 * Allocates in CurrentMemoryContext; needs a transaction (type cache).
 * Raises ERRCODE_PROGRAM_LIMIT_EXCEEDED if a block's values or the encoded
 * column would exceed 1 GB.
 */
extern void LedgerSegmentEncodeColumn(Form_pg_attribute attr, int nrows,
									  const Datum *values, const bool *isnull,
									  LedgerEncodedColumn *out);

/* opaque reader of one column's data blob */
typedef struct LedgerColumnReader LedgerColumnReader;

/* a decoded dictionary (declared below) */
typedef struct LedgerDictionary LedgerDictionary;

/*
 * Opens a column blob (detoasted) of a segment of nrows rows.  Validates
 * the header and block directory; everything is allocated in "cxt" and the
 * reader lives as long as that context.  The reader keeps pointing into
 * "data", which must live as long.  A column stored with a dictionary
 * (dict_count > 0) holds codes, so "dict" must then be its dictionary, as
 * returned by LedgerDictionaryRead (and live as long); otherwise NULL.
 */
extern LedgerColumnReader *LedgerColumnReaderCreate(Form_pg_attribute attr,
													int nrows, bytea *data,
													LedgerDictionary *dict,
													MemoryContext cxt);

/* number of blocks of the column */
extern int	LedgerColumnReaderNumBlocks(LedgerColumnReader *reader);

/*
 * Decodes block "blockno" into values/isnull (room for LEDGER_BLOCK_ROWS
 * entries) and returns the number of rows filled.  By-reference datums
 * point into memory owned by the reader (or its dictionary), valid until
 * the next call for the same reader or until its context is reset; varlena
 * datums may have 1-byte headers, as in heap tuples.  No catalog access.
 */
extern int	LedgerColumnReaderReadBlock(LedgerColumnReader *reader,
										int blockno,
										Datum *values, bool *isnull);

/* the dictionary of a column stored as codes, or NULL */
extern LedgerDictionary *LedgerColumnReaderDictionary(LedgerColumnReader *reader);

/*
 * Like LedgerColumnReaderReadBlock for a column stored as dictionary codes
 * (raises an error otherwise): stores each row's entry number in the
 * dictionary (0 for NULLs) instead of its value.
 */
extern int	LedgerColumnReaderReadCodes(LedgerColumnReader *reader,
										int blockno, int32 *codes,
										bool *isnull);

/*
 * A decoded dictionary: sorted distinct values and their row bitmaps.
 * Entries are distinct binary images, so that every value reads back
 * exactly as stored; values the btree opclass calls equal but that differ
 * in their bytes (numeric 1.0 and 1.00, float8 0 and -0, strings under a
 * nondeterministic collation) are separate, adjacent entries.  A qual
 * "col = x" therefore matches a contiguous run of entries.
 */
struct LedgerDictionary
{
	int			count;			/* number of entries */
	Datum	   *values;			/* sorted by the default btree opclass */
	struct roaring_bitmap_s **bitmaps;	/* rows holding values[i]; built lazily */
	/* private to segment/ */
	void	   *priv;
};

/*
 * Opens a dictionary blob (detoasted) of a segment of nrows rows.  Values
 * are decoded at once; bitmaps on first use through
 * LedgerDictionaryBitmap.  Allocates in cxt; bitmaps are freed when cxt is
 * reset or deleted.  By-reference values point into memory of cxt; the
 * dictionary keeps pointing into "dict", which must live as long.
 */
extern LedgerDictionary *LedgerDictionaryRead(Form_pg_attribute attr,
											  int nrows, bytea *dict,
											  MemoryContext cxt);

/* the rows holding dictionary entry i (validated: every row < nrows) */
extern struct roaring_bitmap_s *LedgerDictionaryBitmap(LedgerDictionary *dict,
													   int i);

/* serializes one datum of the attribute's type (zone-map bounds) */
extern bytea *LedgerDatumSerialize(Form_pg_attribute attr, Datum value);

/* the inverse; raises ERRCODE_DATA_CORRUPTED on a malformed buffer */
extern Datum LedgerDatumDeserialize(Form_pg_attribute attr, bytea *buf);

#endif							/* LEDGER_SEGMENT_H */
