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
 * The default limit is Windows' own: RAM plus swap (the paging file),
 * less a reserve for everything else -- a quarter of RAM, at least 64 MiB,
 * and an eighth of swap: a page being swapped out or just swapped in holds
 * its swap slot and RAM at once, and under swap pressure that swap cache
 * took 90 MiB of a 1 GiB swap device (debug kernel, 1.5 GiB guest, where
 * the whole limit was then touched 8 MiB short of its end).
 * Swap can come and go after load (swapon, swapoff), so the automatic
 * limit follows it: every read and every charge compares the free swap
 * (nr_swap_pages, the one swap count exported) with the value at the last
 * recount, and only a change (a swapon or swapoff, or pages swapped in or
 * out) costs a recount of the total: si_swapinfo() where the kernel
 * exports it (no Debian kernel does), else SwapTotal from /proc/meminfo
 * through the module's own procfs mount.  A read (sysfs, GET_STATS) waits
 * for the recount; a charge asks for one at most every NTMEM_SWAP_RECOUNT
 * without waiting, and waits only before it would fail.  An explicit
 * limit (commit_limit_mb, SET_LIMIT) stays as set.
 *
 * Counting swap keeps the promise only where ntmem's pages can be
 * swapped out (the shmem page store).  The kernel's own Committed_AS
 * cannot be charged by a module, so the limit is ntmem's own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "ntmem.h"

#define NTMEM_MIN_RESERVE	(64UL << (20 - PAGE_SHIFT))
#define NTMEM_SWAP_RECOUNT	(HZ / 10)

/*
 * The automatic limit and what it is made of.  ntmem_limit_lock orders
 * a recount's result against SET_LIMIT and commit_limit_mb; the hot paths
 * read without it.  The recount runs in a work item: reading /proc/meminfo
 * takes a seq_file lock, which must not nest in the sysfs read's nor come
 * under the mmap_lock a charge holds.  Who needs the new figure waits
 * for the recount that began after it asked.
 */
static DEFINE_MUTEX(ntmem_limit_lock);
static bool ntmem_limit_auto = true;	/* no explicit limit set */
static long ntmem_swap_seen = -1;	/* nr_swap_pages at the last recount */
static unsigned long ntmem_swap_when;	/* jiffies of the last recount */
static unsigned long ntmem_swap_total;	/* pages of swap at the last recount */
static atomic_long_t ntmem_recount_asked;
static long ntmem_recount_done;		/* the last ask a recount answered */
static DECLARE_WAIT_QUEUE_HEAD(ntmem_recount_wq);
static bool ntmem_loaded;	/* past ntmem_charge_init() */

#ifdef NTMEM_HAVE_SI_SWAPINFO
static long ntmem_read_swap_total(void)
{
	struct sysinfo si;

	si_swapinfo(&si);
	return si.totalswap;
}

static void ntmem_proc_mount(void)
{
}

static void ntmem_proc_unmount(void)
{
}
#else
/*
 * SwapTotal from /proc/meminfo, read through a procfs mount of the
 * module's own (made at load): no mount namespace, chroot or container
 * overlay of /proc/meminfo (lxcfs) comes between.  -errno when it cannot
 * be read.
 */
static struct vfsmount *ntmem_proc_mnt;

static long ntmem_read_swap_total(void)
{
	const size_t size = 4096;
	unsigned long kb;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	char *buf, *line;
	long ret = -ENODATA;

	if (!ntmem_proc_mnt)
		return -ENOENT;
	f = file_open_root_mnt(ntmem_proc_mnt, "meminfo", O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf) {
		fput(f);
		return -ENOMEM;
	}
	n = kernel_read(f, buf, size - 1, &pos);
	fput(f);
	if (n < 0) {
		kfree(buf);
		return n;
	}
	buf[n] = '\0';
	line = strstr(buf, "\nSwapTotal:");
	if (line && sscanf(line, "\nSwapTotal: %lu kB", &kb) == 1)
		ret = kb >> (PAGE_SHIFT - 10);
	kfree(buf);
	return ret;
}

static void ntmem_proc_mount(void)
{
	struct file_system_type *proc = get_fs_type("proc");
	struct vfsmount *mnt;

	if (!proc) {
		pr_warn("no procfs: the commit limit counts no swap\n");
		return;
	}
	/* procfs is built in: get_fs_type() took no module reference */
	mnt = vfs_kern_mount(proc, SB_KERNMOUNT, "proc", NULL);
	if (IS_ERR(mnt)) {
		pr_warn("cannot mount procfs (%ld): the commit limit counts no swap\n",
			PTR_ERR(mnt));
		return;
	}
	ntmem_proc_mnt = mnt;
}

static void ntmem_proc_unmount(void)
{
	if (ntmem_proc_mnt)
		kern_unmount(ntmem_proc_mnt);
	ntmem_proc_mnt = NULL;
}
#endif

/* What the automatic limit leaves to everything else, in pages. */
static unsigned long ntmem_limit_reserve(unsigned long ram, unsigned long swap)
{
	return max(ram / 4, NTMEM_MIN_RESERVE) + swap / 8;
}

/* RAM + swap - reserve; under ntmem_limit_lock. */
static unsigned long ntmem_default_limit(void)
{
	unsigned long ram = totalram_pages();
	unsigned long reserve = ntmem_limit_reserve(ram, ntmem_swap_total);
	unsigned long total = ram + ntmem_swap_total;

	return total > reserve ? total - reserve : 0;
}

/*
 * The work item never runs twice at once, so the count needs no lock: it
 * is read outside ntmem_limit_lock (the param and sysfs locks come before
 * that one, and the seq_file lock the read takes after them) and only
 * published under it.
 */
static void ntmem_swap_recount(struct work_struct *work)
{
	long asked = atomic_long_read(&ntmem_recount_asked);
	long free = get_nr_swap_pages();	/* before the total: a later swapon shows */
	long total;

	if (READ_ONCE(ntmem_limit_auto) && free != READ_ONCE(ntmem_swap_seen)) {
		total = ntmem_read_swap_total();
		if (total < 0 && READ_ONCE(ntmem_loaded))
			pr_warn_once("cannot read the swap total (%ld): the commit limit counts no swap\n",
				     total);
		mutex_lock(&ntmem_limit_lock);
		if (ntmem_limit_auto) {
			WRITE_ONCE(ntmem_swap_total, max(total, 0L));
			WRITE_ONCE(ntmem_swap_when, jiffies);
			WRITE_ONCE(ntmem_swap_seen, free);
			atomic_long_set(&ntmem_stats.commit_limit,
					ntmem_default_limit());
		}
		mutex_unlock(&ntmem_limit_lock);
	}
	/* the new limit is visible before the waiters see their ask answered */
	smp_store_release(&ntmem_recount_done, asked);
	wake_up_all(&ntmem_recount_wq);
}

static DECLARE_WORK(ntmem_swap_work, ntmem_swap_recount);

/* Whether the automatic limit may be out of date: the free swap moved. */
static bool ntmem_limit_stale(void)
{
	return READ_ONCE(ntmem_limit_auto) &&
	       get_nr_swap_pages() != READ_ONCE(ntmem_swap_seen);
}

static bool ntmem_recount_answered(long want)
{
	/* pairs with the release in ntmem_swap_recount(): the limit is new */
	return smp_load_acquire(&ntmem_recount_done) >= want;
}

/* Ask for a recount; with @wait, wait (up to a second) until it is done. */
static void ntmem_limit_recount(bool wait)
{
	long want = atomic_long_inc_return(&ntmem_recount_asked);

	schedule_work(&ntmem_swap_work);
	if (wait)
		wait_event_killable_timeout(ntmem_recount_wq,
					    ntmem_recount_answered(want), HZ);
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
		 "Global commit limit in MiB (0: RAM plus swap, less a quarter of RAM (at least 64 MiB) and an eighth of swap; follows swapon and swapoff)");

/* @pages: the global limit; 0: the automatic one. */
void ntmem_set_commit_limit(unsigned long pages)
{
	mutex_lock(&ntmem_limit_lock);
	WRITE_ONCE(ntmem_limit_auto, !pages);
	if (pages) {
		atomic_long_set(&ntmem_stats.commit_limit, pages);
	} else {
		/* RAM alone until the recount below adds the swap */
		WRITE_ONCE(ntmem_swap_seen, -1);
		WRITE_ONCE(ntmem_swap_total, 0);
		atomic_long_set(&ntmem_stats.commit_limit, ntmem_default_limit());
	}
	mutex_unlock(&ntmem_limit_lock);
	if (!pages)
		ntmem_limit_recount(true);
}

/* The global limit, the automatic one brought up to date. */
unsigned long ntmem_commit_limit(void)
{
	if (ntmem_limit_stale())
		ntmem_limit_recount(true);
	return atomic_long_read(&ntmem_stats.commit_limit);
}

/*
 * What the automatic limit is made of, in pages: RAM and swap as last
 * counted and the reserve; false when an explicit limit is set.
 */
bool ntmem_commit_limit_parts(unsigned long *ram, unsigned long *swap,
			      unsigned long *reserve)
{
	bool automatic;

	if (ntmem_limit_stale())
		ntmem_limit_recount(true);
	mutex_lock(&ntmem_limit_lock);
	automatic = ntmem_limit_auto;
	*ram = totalram_pages();
	*swap = ntmem_swap_total;
	*reserve = ntmem_limit_reserve(*ram, *swap);
	mutex_unlock(&ntmem_limit_lock);
	return automatic;
}

/*
 * Whether the system has swap: free swap now, or a total at the last
 * recount (a full swap device is still one).
 */
bool ntmem_swap_present(void)
{
	return get_nr_swap_pages() > 0 || READ_ONCE(ntmem_swap_total);
}

unsigned long ntmem_commit_peak(void)
{
	return atomic_long_read(&ntmem_stats.commit_peak);
}

void ntmem_charge_init(void)
{
	ntmem_proc_mount();
	WRITE_ONCE(ntmem_loaded, true);
	if (READ_ONCE(ntmem_limit_auto))	/* no commit_limit_mb given, or 0 */
		ntmem_set_commit_limit(0);
}

void ntmem_charge_exit(void)
{
	cancel_work_sync(&ntmem_swap_work);
	ntmem_proc_unmount();
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
	long limit, total, own;
	bool stale = ntmem_limit_stale();

	if (!pages)
		return 0;
	/* swap came or went, or pages moved to or from it: recount soon */
	if (stale && time_after_eq(jiffies, READ_ONCE(ntmem_swap_when) +
				   NTMEM_SWAP_RECOUNT))
		ntmem_limit_recount(false);
	limit = atomic_long_read(&ntmem_stats.commit_limit);
	total = atomic_long_add_return(pages, &ntmem_stats.committed_pages);
	if (total > limit && stale) {	/* a swapon may not be counted yet */
		ntmem_limit_recount(true);
		limit = atomic_long_read(&ntmem_stats.commit_limit);
	}
	if (total > limit) {
		atomic_long_sub(pages, &ntmem_stats.committed_pages);
		ntmem_limit_event(nm, NTMEM_EVENT_COMMIT_LIMIT, pages,
				  total - pages, limit);
		return -ENOSPC;
	}
	if (ntmem_user_charge(nm, pages, limit)) {
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
