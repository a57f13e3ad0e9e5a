/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem: the kernel API differences between 6.1, 6.12 and 7.x that the
 * module meets, each hidden behind one helper.  The NTMEM_HAVE_* macros
 * come from the API probes in Kbuild.
 */
#ifndef NTMEM_COMPAT_H
#define NTMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#ifdef NTMEM_HAVE_TASK_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif
/* struct folio_batch: linux/pagevec.h until 7.x renamed the header */
#ifdef NTMEM_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif

#ifndef NTMEM_HAVE_VM_FLAGS_SET
/* 6.3 made vm_flags const and added these; before, drivers wrote it. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* Let @file's own mmap set up @vma (its vm_ops, its checks). */
static inline int ntmem_file_mmap(struct file *file, struct vm_area_struct *vma)
{
#ifdef NTMEM_HAVE_VFS_MMAP
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/*
 * Exclude the faults that run under @vma's own lock until mmap_lock (held
 * for write) is dropped.  Kernels without per-VMA locks (6.1) fault only
 * under mmap_lock, which the caller's write hold already excludes.
 */
static inline void ntmem_vma_start_write(struct vm_area_struct *vma)
{
#ifdef CONFIG_PER_VMA_LOCK
	vma_start_write(vma);
#endif
}

/* Remove the page-table entries of [addr, addr + size) in @vma, flushing the TLB. */
static inline void ntmem_zap(struct vm_area_struct *vma, unsigned long addr,
			     unsigned long size)
{
#if defined(NTMEM_HAVE_ZAP_PAGE_RANGE)
	zap_page_range(vma, addr, size);
#elif defined(NTMEM_HAVE_ZAP_VMA_RANGE)
	zap_vma_range(vma, addr, size);
#else
	zap_page_range_single(vma, addr, size, NULL);
#endif
}

/*
 * list_lru: 6.12 made list_lru_add/del take a node and a cgroup and kept
 * the 6.1 behaviour (the item's own) as _obj; 7.x dropped the walk
 * callback's lock argument.
 */
#ifdef NTMEM_HAVE_LIST_LRU_ADD_OBJ
#define ntmem_lru_add(lru, item)	list_lru_add_obj(lru, item)
#define ntmem_lru_del(lru, item)	list_lru_del_obj(lru, item)
#else
#define ntmem_lru_add(lru, item)	list_lru_add(lru, item)
#define ntmem_lru_del(lru, item)	list_lru_del(lru, item)
#endif
/* A walk callback's parameters: @item, @list and @arg in every version. */
#ifdef NTMEM_HAVE_LRU_WALK_LOCK
#define NTMEM_LRU_WALK_PARAMS						\
	struct list_head *item, struct list_lru_one *list,		\
	spinlock_t *lock, void *arg
#else
#define NTMEM_LRU_WALK_PARAMS						\
	struct list_head *item, struct list_lru_one *list, void *arg
#endif

/* 7.x passes shmem's flags as a vma_flags_t bitmap. */
#ifdef NTMEM_HAVE_SHMEM_VMA_FLAGS
#define NTMEM_SHMEM_NORESERVE	mk_vma_flags(VMA_NORESERVE_BIT)
#else
#define NTMEM_SHMEM_NORESERVE	VM_NORESERVE
#endif

/* The mm's own placement policy, as mmap() without a file would use it. */
static inline unsigned long ntmem_mm_unmapped_area(unsigned long addr,
						   unsigned long len,
						   unsigned long flags)
{
#if defined(NTMEM_HAVE_MM_GET_UNMAPPED_AREA)
	return mm_get_unmapped_area(current->mm, NULL, addr, len, 0, flags);
#elif defined(NTMEM_HAVE_MM_GET_UNMAPPED_AREA_CURRENT)
	/* 7.x: always the current mm's, and the mm has no hook any more */
	return mm_get_unmapped_area(NULL, addr, len, 0, flags);
#else
	return current->mm->get_unmapped_area(NULL, addr, len, 0, flags);
#endif
}

/*
 * 6.1 keeps the RSS changes a thread makes to its own mm in the thread
 * until 64 faults have passed; a huge block maps 512 pages in one fault, so
 * hand them to the mm at once, as sync_mm_rss() would (not exported), or
 * /proc and the OOM killer would not see up to 128 MiB per thread.  Later
 * kernels count in the mm directly.
 */
static inline void ntmem_sync_rss(struct mm_struct *mm)
{
#ifdef SPLIT_RSS_COUNTING
	int i;

	if (current->mm != mm)
		return;
	for (i = 0; i < NR_MM_COUNTERS; i++) {
		if (current->rss_stat.count[i]) {
			atomic_long_add(current->rss_stat.count[i],
					&mm->rss_stat.count[i]);
			current->rss_stat.count[i] = 0;
		}
	}
	current->rss_stat.events = 0;
#endif
}

/* Flag @bit of @mm's flags (MMF_*): 7.x reads them through mm_flags_test(). */
static inline bool ntmem_mm_flag(struct mm_struct *mm, int bit)
{
#ifdef NTMEM_HAVE_MM_FLAGS_TEST
	return mm_flags_test(bit, mm);
#else
	return test_bit(bit, &mm->flags);
#endif
}

/* prctl(PR_SET_THP_DISABLE): 7.x can also keep THP for advised VMAs only. */
static inline bool ntmem_mm_thp_disabled(struct mm_struct *mm)
{
#ifdef MMF_DISABLE_THP_COMPLETELY
	return ntmem_mm_flag(mm, MMF_DISABLE_THP_COMPLETELY) ||
	       ntmem_mm_flag(mm, MMF_DISABLE_THP_EXCEPT_ADVISED);
#else
	return ntmem_mm_flag(mm, MMF_DISABLE_THP);
#endif
}

/* MDWE (PR_SET_MDWE) is a flag of the mm since 6.3. */
static inline bool ntmem_mm_has_mdwe(struct mm_struct *mm)
{
#ifdef MMF_HAS_MDWE
	return ntmem_mm_flag(mm, MMF_HAS_MDWE);
#else
	return false;
#endif
}

/*
 * Whether @task (whose mm is @mm) is dumpable for its owner, as ptrace's
 * access check asks; if not, *@ns is the user namespace in which the
 * reader needs CAP_SYS_PTRACE.  7.x keeps both in the task's exec state,
 * earlier kernels in the mm.  Called under rcu_read_lock() and task_lock().
 */
static inline bool ntmem_task_dumpable(struct task_struct *task,
				       struct mm_struct *mm,
				       struct user_namespace **ns)
{
#ifdef NTMEM_HAVE_TASK_EXEC_STATE
	struct task_exec_state *es = rcu_dereference(task->exec_state);

	*ns = es->user_ns;
	return es->dumpable == TASK_DUMPABLE_OWNER;
#else
	*ns = mm->user_ns;
	return get_dumpable(mm) == SUID_DUMP_USER;
#endif
}

/* Pin pages of another address space (the vmas argument went in 6.5). */
static inline long ntmem_pin_pages_remote(struct mm_struct *mm,
					  unsigned long start,
					  unsigned long nr_pages,
					  unsigned int gup_flags,
					  struct page **pages, int *locked)
{
#ifdef NTMEM_HAVE_GUP_VMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     locked);
#endif
}

#endif /* NTMEM_COMPAT_H */
