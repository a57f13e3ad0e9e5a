// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the commit charge.  Every committed page is charged here when it
 * is committed, touched or not, and uncharged when it is decommitted or
 * released.  This is the one place a commit limit is enforced, so that a
 * commit fails in the call rather than by an OOM kill later.
 */
#include "ntmem.h"

/* 0, or -ENOSPC when the charge would pass the limit (none is enforced yet). */
int ntmem_charge(struct ntmem_mm *nm, unsigned long pages)
{
	atomic_long_add(pages, &nm->committed);
	atomic_long_add(pages, &ntmem_stats.committed_pages);
	return 0;
}

void ntmem_uncharge(struct ntmem_mm *nm, unsigned long pages)
{
	atomic_long_sub(pages, &nm->committed);
	atomic_long_sub(pages, &ntmem_stats.committed_pages);
}
