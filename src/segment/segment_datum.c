/*-------------------------------------------------------------------------
 *
 * segment_datum.c
 *	  Serialization of single values of a column's type (zone-map bounds).
 *
 * NOTES
 *	  A serialized datum is a bytea: an 8-byte header (format version, value
 *	  class, typlen, checksum of the rest) and the value: by-value types as a sign-extended 8-byte
 *	  integer, fixed-length types as their typlen bytes, varlena types with
 *	  a 4-byte header, cstrings with their terminating zero.  Deserializing
 *	  copies the value into fresh, aligned memory, so the bytea may be
 *	  freed afterwards.  Validation is in segment_format.c, fuzzed outside
 *	  the server.  No catalog access.
 *
 * IDENTIFICATION
 *	  src/segment/segment_datum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "ledger/segment.h"
#include "segment_format.h"

/* the format's description of attr's type */
static void
attr_fmt_type(Form_pg_attribute attr, LedgerFmtType *type)
{
	LedgerFmtError err;

	if (LedgerFmtTypeMake(attr->attlen, attr->attbyval, attr->attalign,
						  type, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot serialize a value of column \"%s\"",
						NameStr(attr->attname)),
				 errdetail_internal("%s", err.detail)));
}

/* serializes one non-NULL datum of attr's type into a palloc'd bytea */
bytea *
LedgerDatumSerialize(Form_pg_attribute attr, Datum value)
{
	LedgerFmtType type;
	const char *src;
	size_t		len;
	bytea	   *result;
	char	   *p;

	attr_fmt_type(attr, &type);
	switch (type.cls)
	{
		case LEDGER_FMT_BYVAL:
			{
				int64		v;

				switch (type.typlen)
				{
					case 1:
						v = (int64) DatumGetChar(value);
						break;
					case 2:
						v = (int64) DatumGetInt16(value);
						break;
					case 4:
						v = (int64) DatumGetInt32(value);
						break;
					default:
						v = (int64) value;
						break;
				}
				result = palloc(VARHDRSZ + LEDGER_FMT_DATUM_HDR + sizeof(int64));
				SET_VARSIZE(result, VARHDRSZ + LEDGER_FMT_DATUM_HDR + sizeof(int64));
				p = VARDATA(result);
				LedgerFmtDatumHeaderWrite((uint8 *) p, &type);
				memcpy(p + LEDGER_FMT_DATUM_HDR, &v, sizeof(int64));
				LedgerFmtDatumSeal((uint8 *) p, LEDGER_FMT_DATUM_HDR + sizeof(int64));
				return result;
			}
		case LEDGER_FMT_FIXED:
			src = DatumGetPointer(value);
			len = type.typlen;
			break;
		case LEDGER_FMT_VARLENA:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));
				size_t		datalen = VARSIZE_ANY_EXHDR(v);

				result = palloc(VARHDRSZ + LEDGER_FMT_DATUM_HDR + VARHDRSZ + datalen);
				SET_VARSIZE(result, VARHDRSZ + LEDGER_FMT_DATUM_HDR + VARHDRSZ + datalen);
				p = VARDATA(result);
				LedgerFmtDatumHeaderWrite((uint8 *) p, &type);
				SET_VARSIZE(p + LEDGER_FMT_DATUM_HDR, VARHDRSZ + datalen);
				memcpy(p + LEDGER_FMT_DATUM_HDR + VARHDRSZ, VARDATA_ANY(v), datalen);
				LedgerFmtDatumSeal((uint8 *) p, LEDGER_FMT_DATUM_HDR + VARHDRSZ + datalen);
				return result;
			}
		default:
			src = DatumGetCString(value);
			len = strlen(src) + 1;
			break;
	}
	result = palloc(VARHDRSZ + LEDGER_FMT_DATUM_HDR + len);
	SET_VARSIZE(result, VARHDRSZ + LEDGER_FMT_DATUM_HDR + len);
	p = VARDATA(result);
	LedgerFmtDatumHeaderWrite((uint8 *) p, &type);
	memcpy(p + LEDGER_FMT_DATUM_HDR, src, len);
	LedgerFmtDatumSeal((uint8 *) p, LEDGER_FMT_DATUM_HDR + len);
	return result;
}

/*
 * Deserializes a datum serialized by LedgerDatumSerialize into fresh memory
 * of CurrentMemoryContext; raises ERRCODE_DATA_CORRUPTED if it is malformed.
 */
Datum
LedgerDatumDeserialize(Form_pg_attribute attr, bytea *buf)
{
	LedgerFmtType type;
	LedgerFmtError err;
	const char *data;
	size_t		off,
				len;
	char	   *copy;

	attr_fmt_type(attr, &type);
	if (VARATT_IS_EXTERNAL(buf) || VARATT_IS_COMPRESSED(buf))
		elog(ERROR, "serialized ledger datum was not detoasted");
	data = VARDATA_ANY(buf);
	if (LedgerFmtDatumParse(data, VARSIZE_ANY_EXHDR(buf), &type, &off, &len,
							&err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger segment data is corrupted"),
				 errdetail_internal("%s", err.detail)));
	if (type.cls == LEDGER_FMT_BYVAL)
	{
		uint64		v;

		memcpy(&v, data + off, sizeof(v));
		return (Datum) LedgerFmtByvalDatum(v, type.typlen);
	}
	copy = palloc(len);
	memcpy(copy, data + off, len);
	return PointerGetDatum(copy);
}
