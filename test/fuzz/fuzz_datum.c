/*-------------------------------------------------------------------------
 *
 * fuzz_datum.c
 *	  libFuzzer harness for the serialized-datum parser behind
 *	  LedgerDatumDeserialize (segment_format.c).
 *
 * NOTES
 *	  Input: byte 0 picks the column type (its high bit: recompute the
 *	  checksum first), the rest is the bytea payload of a zone-map bound.  An accepted value is copied as the server glue
 *	  copies it and read in full.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_datum.c
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

/* libFuzzer entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const LedgerFmtType *type;
	LedgerFmtError err;
	size_t		off,
				len;
	uint8_t    *buf;
	uint8_t    *copy;

	if (size < 1)
		return 0;
	type = &fuzz_types[data[0] % FUZZ_NTYPES];
	buf = malloc(size - 1 ? size - 1 : 1);
	memcpy(buf, data + 1, size - 1);
	/* with the high bit of byte 0, fix the checksum to reach the rest */
	if ((data[0] & 0x80) && size - 1 >= LEDGER_FMT_DATUM_HDR)
		LedgerFmtDatumSeal(buf, size - 1);
	if (LedgerFmtDatumParse(buf, size - 1, type, &off, &len, &err) == 0)
	{
		FUZZ_ASSERT(off + len == size - 1);
		if (type->cls == LEDGER_FMT_BYVAL)
		{
			uint64_t	v;

			FUZZ_ASSERT(len == 8);
			memcpy(&v, buf + off, 8);
			fuzz_touch_value(type, LedgerFmtByvalDatum(v, type->typlen));
		}
		else
		{
			copy = malloc(len);
			memcpy(copy, buf + off, len);
			fuzz_touch_value(type, (uintptr_t) copy);
			free(copy);
		}
	}
	free(buf);
	return 0;
}
