// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the commit charge and its limits.  Every committed page is
 * charged here when it is committed, touched or not, and uncharged when it
 * is decommitted or released (exit and kill release).  A commit that would
 * pass the global limit, the user's share of it (ntmem_user.c) or the
 * process's own limit fails in the call with ENOSPC, so that a program
 * that committed can touch all of it without being OOM-killed -- as on
 * Windows, where commit is backed when granted.
 *
 * ntmem's pages are never swapped, so the default limit is RAM, less a
 * reserve for everything else: a quarter of RAM, at least 64 MiB.  The
 * kernel's own Committed_AS cannot be charged by a module, so the limit
 * is ntmem's own.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>

#include "ntmem.h"

#define NTMEM_MIN_RESERVE	(64UL << (20 - PAGE_SHIFT))

static unsigned long ntmem_default_limit(void)
{
	unsigned long ram = totalram_pages();
	unsigned long reserve = max(ram / 4, NTMEM_MIN_RESERVE);

	return ram > reserve ? ram - reserve : 0;
}

/* commit_limit_mb: the global limit in MiB; 0 (the default) = automatic. */
static unsigned long commit_limit_mb;

static int ntmem_param_set_limit(const char *val, const struct kernel_param *kp)
{
	unsigned long mb;
	int err = kstrtoul(val, 0, &mb);

	if (err)
		return err;
	if (mb > (ULONG_MAX >> 20))
		return -ERANGE;
	commit_limit_mb = mb;
	ntmem_set_commit_limit(mb << (20 - PAGE_SHIFT));
	return 0;
}

static const struct kernel_param_ops ntmem_limit_param_ops = {
	.set = ntmem_param_set_limit,
	.get = param_get_ulong,
};

module_param_cb(commit_limit_mb, &ntmem_limit_param_ops, &commit_limit_mb,
		0644);
MODULE_PARM_DESC(commit_limit_mb,
		 "Global commit limit in MiB (0: RAM less a quarter, at least 64 MiB)");

void ntmem_set_commit_limit(unsigned long pages)
{
	atomic_long_set(&ntmem_stats.commit_limit, pages ? pages : ntmem_default_limit());
}

unsigned long ntmem_commit_limit(void)
{
	return atomic_long_read(&ntmem_stats.commit_limit);
}

unsigned long ntmem_commit_peak(void)
{
	return atomic_long_read(&ntmem_stats.commit_peak);
}

void ntmem_charge_init(void)
{
	if (!atomic_long_read(&ntmem_stats.commit_limit))	/* no commit_limit_mb given */
		ntmem_set_commit_limit(0);
}

static void ntmem_note_peak(long committed)
{
	long peak = atomic_long_read(&ntmem_stats.commit_peak);

	while (committed > peak &&
	       !atomic_long_try_cmpxchg(&ntmem_stats.commit_peak, &peak, committed))
		;
}

/* 0, or -ENOSPC when the charge would pass a limit (nothing charged). */
int ntmem_charge(struct ntmem_mm *nm, unsigned long pages)
{
	unsigned long own_limit = atomic_long_read(&nm->limit);
	long total, own;

	if (!pages)
		return 0;
	total = atomic_long_add_return(pages, &ntmem_stats.committed_pages);
	if (total > atomic_long_read(&ntmem_stats.commit_limit)) {
		atomic_long_sub(pages, &ntmem_stats.committed_pages);
		ntmem_limit_event(nm, NTMEM_EVENT_COMMIT_LIMIT, pages,
				  total - pages, ntmem_commit_limit());
		return -ENOSPC;
	}
	if (ntmem_user_charge(nm, pages, ntmem_commit_limit())) {
		atomic_long_sub(pages, &ntmem_stats.committed_pages);
		return -ENOSPC;
	}
	own = atomic_long_add_return(pages, &nm->committed);
	if (own_limit && own > own_limit) {
		atomic_long_sub(pages, &nm->committed);
		ntmem_user_uncharge(nm, pages);
		atomic_long_sub(pages, &ntmem_stats.committed_pages);
		ntmem_limit_event(nm, NTMEM_EVENT_PROCESS_LIMIT, pages,
				  own - pages, own_limit);
		return -ENOSPC;
	}
	ntmem_note_peak(total);
	return 0;
}

void ntmem_uncharge(struct ntmem_mm *nm, unsigned long pages)
{
	atomic_long_sub(pages, &nm->committed);
	ntmem_user_uncharge(nm, pages);
	atomic_long_sub(pages, &ntmem_stats.committed_pages);
}
