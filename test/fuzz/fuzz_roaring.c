/*-------------------------------------------------------------------------
 *
 * fuzz_roaring.c
 *	  libFuzzer harness for the Roaring portable-format validator behind
 *	  LedgerBitmapDeserialize (src/bitmap/roaring_check.c).
 *
 * NOTES
 *	  Input: a 32-bit member limit, then the serialized bitmap.  A buffer the
 *	  validator accepts is handed to CRoaring and used; CRoaring must agree
 *	  on its size, cardinality and maximum, and iteration must yield
 *	  strictly increasing members below the limit.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_roaring.c
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

/* libFuzzer entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	limit;
	char	   *buf;
	roaring_bitmap_t *bm;

	if (size < 4)
		return 0;
	memcpy(&limit, data, 4);
	limit &= 0x1FFFFF;			/* segments hold at most 2^20 rows */
	buf = malloc(size - 4 ? size - 4 : 1);
	memcpy(buf, data + 4, size - 4);
	bm = fuzz_bitmap_deserialize(buf, size - 4, limit);
	if (bm != NULL)
	{
		fuzz_exercise_bitmap(bm, limit);
		roaring_bitmap_free(bm);
	}
	free(buf);
	return 0;
}
