// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the system's policy for transparent huge pages.  A committed
 * read-write block of a reservation gets a 2 MiB page when anonymous memory
 * would (ntmem_fault.c): transparent_hugepage/enabled is "always", or
 * "madvise" and the program advised the reservation with MADV_HUGEPAGE.
 *
 * The kernel keeps that policy in flags it does not export to modules, so
 * the module asks the sysfs attributes themselves, through their show()
 * methods, as a read of the files would: the global "enabled", and where
 * the kernel has per-size policies (6.8 and later) the PMD size's own
 * hugepages-<size>kB/enabled, whose "inherit" defers to the global one.
 * The answers are kept for a second: faults on new blocks and RESERVE ask
 * at most that often.
 */
#include <linux/jiffies.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "ntmem.h"
#include "ntmem_compat.h"

enum ntmem_thp_mode {
	NTMEM_THP_NEVER,
	NTMEM_THP_MADVISE,
	NTMEM_THP_ALWAYS,
	NTMEM_THP_INHERIT,
	NTMEM_THP_FORCE,	/* shmem_enabled only */
};

/* One "enabled" attribute: the kobject of its directory and the attribute. */
struct ntmem_thp_attr {
	struct kernfs_node *dir, *file;
	struct kobject *kobj;
	struct kobj_attribute *attr;
};

static struct ntmem_thp_attr ntmem_thp_global, ntmem_thp_pmd, ntmem_thp_shmem;
/* ntmem_thp_lock protects ntmem_thp_buf, which show() writes (a page). */
static DEFINE_MUTEX(ntmem_thp_lock);
static char *ntmem_thp_buf;
static unsigned long ntmem_thp_read_at;
static int ntmem_thp_cached = -1, ntmem_thp_shmem_cached = -1;

static void ntmem_thp_attr_put(struct ntmem_thp_attr *a)
{
	kernfs_put(a->file);
	kernfs_put(a->dir);
	memset(a, 0, sizeof(*a));
}

/* The attribute @file of directory @name under @parent. */
static void ntmem_thp_attr_find(struct kernfs_node *parent, const char *name,
				const char *file, struct ntmem_thp_attr *a)
{
	a->dir = kernfs_find_and_get(parent, name);
	if (!a->dir)
		return;
	a->file = kernfs_find_and_get(a->dir, file);
	if (!a->file || kernfs_type(a->dir) != KERNFS_DIR ||
	    kernfs_type(a->file) != KERNFS_FILE) {
		ntmem_thp_attr_put(a);
		return;
	}
	/* sysfs: a kobject's directory holds the kobject, a file its attribute */
	a->kobj = a->dir->priv;
	a->attr = container_of((struct attribute *)a->file->priv,
			       struct kobj_attribute, attr);
}

/* The bracketed word of @a ("always [madvise] never"). */
static int ntmem_thp_attr_read(struct ntmem_thp_attr *a)
{
	static const char * const words[] = {
		[NTMEM_THP_NEVER] = "[never]",
		[NTMEM_THP_MADVISE] = "[madvise]",
		[NTMEM_THP_ALWAYS] = "[always]",
		[NTMEM_THP_INHERIT] = "[inherit]",
		[NTMEM_THP_FORCE] = "[force]",
	};
	ssize_t len;
	int i;

	if (!a->attr || !a->attr->show)
		return NTMEM_THP_NEVER;
	len = a->attr->show(a->kobj, a->attr, ntmem_thp_buf);
	if (len <= 0 || len >= PAGE_SIZE)
		return NTMEM_THP_NEVER;
	ntmem_thp_buf[len] = 0;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(ntmem_thp_buf, words[i]))
			return i;
	return NTMEM_THP_NEVER;
}

/* Read the attributes again if a second has passed since the last time. */
static void ntmem_thp_refresh(void)
{
	int mode;

	if (READ_ONCE(ntmem_thp_cached) >= 0 &&
	    time_before(jiffies, READ_ONCE(ntmem_thp_read_at) + HZ))
		return;
	mutex_lock(&ntmem_thp_lock);
	mode = ntmem_thp_attr_read(&ntmem_thp_pmd);
	if (!ntmem_thp_pmd.attr || mode == NTMEM_THP_INHERIT)
		mode = ntmem_thp_attr_read(&ntmem_thp_global);
	WRITE_ONCE(ntmem_thp_shmem_cached,
		   ntmem_thp_attr_read(&ntmem_thp_shmem));
	WRITE_ONCE(ntmem_thp_cached, mode);
	WRITE_ONCE(ntmem_thp_read_at, jiffies);
	mutex_unlock(&ntmem_thp_lock);
}

static int ntmem_thp_mode(void)
{
	ntmem_thp_refresh();
	return READ_ONCE(ntmem_thp_cached);
}

/*
 * A new reservation: under "always" it is advised for huge pages, as
 * anonymous memory is without asking (the store gives huge pages only to
 * an advised VMA, see ntmem_store.c); MADV_NOHUGEPAGE takes it back.
 */
void ntmem_thp_reserve(struct vm_area_struct *vma)
{
	if (ntmem_thp_mode() == NTMEM_THP_ALWAYS)
		vm_flags_set(vma, VM_HUGEPAGE);
}

/*
 * Whether an administrator forces huge pages on every tmpfs
 * (shmem_enabled=force): then the store gives them to any lookup, in
 * blocks of mixed protection too, whose pages the module must map one by
 * one itself (VM_MIXEDMAP, ntmem_fault.c).
 */
bool ntmem_thp_shmem_forced(void)
{
	ntmem_thp_refresh();
	return READ_ONCE(ntmem_thp_shmem_cached) == NTMEM_THP_FORCE;
}

/*
 * Whether reclaim would strand a huge page's memory in the swap cache.
 * Where shmem swaps out one page at a time (before 6.12), reclaim splits a
 * huge folio and writes all 512 pages in one pass, yet frees only those
 * whose write completed in time; the rest stay in RAM and in swap at once.
 * Measured on the debug 6.1 kernel (1.5 GiB, 1 GiB swap): a memfd with
 * MADV_HUGEPAGE, written through 1.8 GiB, is OOM-killed with 745 MiB in the
 * swap cache and no free swap; the same memfd in 4 KiB pages is not, and
 * neither is anonymous memory, whose huge pages swap out differently.  So
 * there, while swap is on, blocks get 4 KiB pages: committed memory must
 * stay touchable.
 */
static bool ntmem_thp_strands_swap(void)
{
#ifdef NTMEM_HAVE_SHMEM_SWAP_BY_PAGE
	return ntmem_swap_present();
#else
	return false;
#endif
}

/* Whether a block of @vma may get a huge page now. */
bool ntmem_thp_allowed(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_HUGEPAGE) || (vma->vm_flags & VM_NOHUGEPAGE) ||
	    ntmem_mm_thp_disabled(vma->vm_mm))
		return false;
	return ntmem_thp_mode() != NTMEM_THP_NEVER && !ntmem_thp_strands_swap();
}

/*
 * Whether the fault at @addr of @r may map a 2 MiB page: its aligned block
 * lies in the region, is committed with one protection throughout,
 * read-write or read-only (no other, no guard or modifier), has no page in
 * the pinned store, is not write-watched (each first write must be seen),
 * and the policy allows it.  A reset page may be in it: it is mapped
 * read-only until written (->page_mkwrite), and then its folio is written
 * as a whole.  A change inside the block zaps part of it, which splits its
 * PMD; the block maps page by page from then on.  mmap_lock held.
 */
bool ntmem_thp_block(struct ntmem_region *r, struct vm_area_struct *vma,
		     unsigned long addr)
{
	unsigned long haddr = addr & PMD_MASK;
	pgoff_t first = (haddr - r->start) >> PAGE_SHIFT;
	pgoff_t last = first + PTRS_PER_PMD - 1, next = first;
	void *entry, *prot = NULL;
	unsigned long idx;

	MA_STATE(mas, &r->state, first, first);
	/* the cheap tests first: every fault of a reservation comes here */
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) || r->write_watch ||
	    r->section ||
	    haddr < r->start || haddr + PMD_SIZE > r->end)
		return false;
	/* large pages are asked for, whatever the policy */
	if (!r->large && !ntmem_thp_allowed(vma))
		return false;
	/* adjacent runs of one protection may be separate entries */
	rcu_read_lock();
	mas_for_each(&mas, entry, last) {
		if (mas.index > next || (prot && entry != prot))
			break;
		prot = entry;
		if (prot != xa_mk_value(NTMEM_PAGE_READWRITE) &&
		    prot != xa_mk_value(NTMEM_PAGE_READONLY))
			break;
		next = mas.last + 1;
		if (next > last)
			break;
	}
	rcu_read_unlock();
	if (next <= last)
		return false;
	idx = first;
	return !xa_find(&r->pages, &idx, last, XA_PRESENT);
}

int ntmem_thp_init(void)
{
	struct kernfs_node *mm;
	char name[32];

	ntmem_thp_buf = (char *)__get_free_page(GFP_KERNEL);
	if (!ntmem_thp_buf)
		return -ENOMEM;
	/* /sys/kernel/mm/transparent_hugepage; none without THP */
	mm = kernfs_find_and_get(kernel_kobj->sd, "mm");
	if (mm) {
		ntmem_thp_attr_find(mm, "transparent_hugepage", "enabled",
				    &ntmem_thp_global);
		ntmem_thp_attr_find(mm, "transparent_hugepage",
				    "shmem_enabled", &ntmem_thp_shmem);
	}
	if (ntmem_thp_global.dir) {
		snprintf(name, sizeof(name), "hugepages-%lukB",
			 PMD_SIZE / SZ_1K);
		ntmem_thp_attr_find(ntmem_thp_global.dir, name, "enabled",
				    &ntmem_thp_pmd);
	}
	kernfs_put(mm);
	return 0;
}

void ntmem_thp_exit(void)
{
	ntmem_thp_attr_put(&ntmem_thp_shmem);
	ntmem_thp_attr_put(&ntmem_thp_pmd);
	ntmem_thp_attr_put(&ntmem_thp_global);
	free_page((unsigned long)ntmem_thp_buf);
}
