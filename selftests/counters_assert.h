/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests that check the module's counters came back: include after
 * kselftest_harness.h and ntmem_util.h.
 */
#ifndef NTMEM_COUNTERS_ASSERT_H
#define NTMEM_COUNTERS_ASSERT_H

static inline void assert_counters_equal(struct __test_metadata *_metadata,
					 const struct ntmem_counters *a,
					 const struct ntmem_counters *b)
{
	ASSERT_EQ(a->reservations, b->reservations);
	ASSERT_EQ(a->committed_pages, b->committed_pages);
	ASSERT_EQ(a->resident_pages, b->resident_pages);
	ASSERT_EQ(a->reset_pages, b->reset_pages);
	ASSERT_EQ(a->contexts, b->contexts);
	ASSERT_EQ(a->locked_pages, b->locked_pages);
}

#endif
