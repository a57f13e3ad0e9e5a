// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the ioctl door.  Every argument is copied in and checked here --
 * size, flags, reserved fields, alignment, overflow, range -- before any
 * state is touched; the code behind the door only asserts.  See
 * include/uapi/ntmem.h for the ABI and its errors.
 */
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ntmem.h"
#include "ntmem_section.h"

/* The ABI structs have no implicit padding: their sizes are these sums. */
static_assert(sizeof(struct ntmem_version) == 64);
static_assert(sizeof(struct ntmem_reserve) == 72);
static_assert(sizeof(struct ntmem_range) == 48);
static_assert(sizeof(struct ntmem_protect) == 48);
static_assert(sizeof(struct ntmem_query) == 72);
static_assert(sizeof(struct ntmem_basic_info) == 48);
static_assert(sizeof(struct ntmem_write_watch) == 56);
static_assert(sizeof(struct ntmem_guard_hit) == 40);
static_assert(sizeof(struct ntmem_section) == 64);
static_assert(sizeof(struct ntmem_view) == 56);

/* Every struct starts with __u32 size, __u32 flags. */
#define NTMEM_MIN_USIZE		8

/*
 * Copy a struct of @ksize bytes that starts with its user-side size.  An
 * older (smaller) struct reads as zero-extended; a newer one must have a
 * zero tail.  Returns the user size, or a negative errno.
 */
int ntmem_copy_in(void *kdst, size_t ksize, void __user *usrc)
{
	u32 usize;
	int err;

	if (get_user(usize, (u32 __user *)usrc))
		return -EFAULT;
	if (usize < NTMEM_MIN_USIZE)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(kdst, ksize, usrc, usize);
	return err ? err : usize;
}

int ntmem_copy_out(void __user *udst, const void *ksrc, size_t ksize,
		   u32 usize)
{
	return copy_to_user(udst, ksrc, min_t(size_t, ksize, usize)) ?
	       -EFAULT : 0;
}

bool ntmem_zeroed(const u64 *words, size_t n)
{
	while (n--)
		if (words[n])
			return false;
	return true;
}

/* A page-aligned, non-empty range inside the user range ntmem manages. */
static int ntmem_check_range(u64 addr, u64 len)
{
	if (!len || !PAGE_ALIGNED(addr) || !PAGE_ALIGNED(len))
		return -EINVAL;
	if (addr < NTMEM_MIN_ADDRESS || addr >= NTMEM_MAX_ADDRESS ||
	    len > NTMEM_MAX_ADDRESS - addr)
		return -EINVAL;
	return 0;
}

/*
 * Run @fn on the address space of @c.  In another process's, a call that
 * maps (@in_mm: vm_mmap() works on current->mm only, and the LSM's mmap
 * hooks and rlimits are current's) runs where that address space is
 * current (ntmem_remote.c); one that only changes page state runs here,
 * charged to that process's memory cgroup, and its CPU time is the
 * caller's.
 */
static int ntmem_run(const struct ntmem_ctx *c, ntmem_op_fn fn, void *arg,
		     bool in_mm)
{
	if (!c->target)
		return fn(c->nm, arg);
	return in_mm ? ntmem_target_run(c->target, fn, arg) :
		       ntmem_target_call(c->target, fn, arg);
}

static int ntmem_ioc_version(void __user *uarg)
{
	struct ntmem_version v;
	int usize = ntmem_copy_in(&v, sizeof(v), uarg);

	if (usize < 0)
		return usize;
	if (v.reserved0 || !ntmem_zeroed(v.reserved, ARRAY_SIZE(v.reserved)))
		return -EINVAL;
	v.major = NTMEM_API_MAJOR;
	v.minor = NTMEM_API_MINOR;
	v.features = NTMEM_FEATURE_RESET | NTMEM_FEATURE_GUARD |
		     NTMEM_FEATURE_EXEC | NTMEM_FEATURE_WRITE_WATCH |
		     NTMEM_FEATURE_LOCK | NTMEM_FEATURE_USER_OUT |
		     NTMEM_FEATURE_DECOMMIT_WHOLE | NTMEM_FEATURE_SECTIONS |
		     NTMEM_FEATURE_PLACEHOLDERS | NTMEM_FEATURE_PROCESSES |
		     (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ?
		      NTMEM_FEATURE_LARGE_PAGES : 0);
	v.page_size = PAGE_SIZE;
	v.granularity = NTMEM_GRANULARITY;
	return ntmem_copy_out(uarg, &v, sizeof(v), usize);
}

/*
 * LARGE_PAGES: Windows' rules (committed, whole 2 MiB pages), then the
 * privilege, which is Linux's for locking memory.
 */
static int ntmem_large_check(const struct ntmem_reserve *a)
{
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		return -EOPNOTSUPP;
	if (!(a->flags & NTMEM_RESERVE_COMMIT) ||
	    (a->flags & NTMEM_RESERVE_WRITE_WATCH) ||
	    !IS_ALIGNED(a->length, PMD_SIZE) ||
	    ((a->flags & NTMEM_RESERVE_FIXED) && !IS_ALIGNED(a->addr, PMD_SIZE)))
		return -EINVAL;
	return capable(CAP_IPC_LOCK) ? 0 : -EPERM;
}

/*
 * Placeholders and MEM_ADDRESS_REQUIREMENTS: a placeholder is reserved
 * address space alone; REPLACE needs FIXED; the bounds are 64 KiB
 * granules, the alignment a power of two of at least 64 KiB, and none of
 * them goes with FIXED.
 */
static int ntmem_reserve_place_check(struct ntmem_reserve *a)
{
	u32 hold_ok = NTMEM_RESERVE_PLACEHOLDER | NTMEM_RESERVE_FIXED |
		      NTMEM_RESERVE_TOP_DOWN;

	if ((a->flags & NTMEM_RESERVE_PLACEHOLDER) &&
	    ((a->flags & ~hold_ok) ||
	     (a->protect && a->protect != NTMEM_PAGE_NOACCESS)))
		return -EINVAL;
	if ((a->flags & NTMEM_RESERVE_REPLACE) &&
	    !(a->flags & NTMEM_RESERVE_FIXED))
		return -EINVAL;
	if (!a->lowest && !a->highest && !a->alignment)
		return 0;
	if (a->flags & NTMEM_RESERVE_FIXED)
		return -EINVAL;
	if (a->alignment && (!is_power_of_2(a->alignment) ||
			     a->alignment < NTMEM_GRANULARITY ||
			     a->alignment >= NTMEM_MAX_ADDRESS))
		return -EINVAL;
	if (!IS_ALIGNED(a->lowest, NTMEM_GRANULARITY) ||
	    a->lowest >= NTMEM_MAX_ADDRESS)
		return -EINVAL;
	if (a->highest && (!PAGE_ALIGNED(a->highest + 1) ||
			   a->highest >= NTMEM_MAX_ADDRESS ||
			   a->highest < a->lowest))
		return -EINVAL;
	/* a hint must lie inside the bounds */
	if (a->addr && (a->addr < a->lowest ||
			(a->highest && a->addr > a->highest)))
		return -EINVAL;
	return 0;
}

/* RESERVE's work, and its undo when the caller cannot learn of it. */
static int ntmem_reserve_op(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_reserve *a = arg;
	int err = 0;

	if (a->flags & NTMEM_RESERVE_COMMIT)
		err = ntmem_exec_permitted(nm, a->protect);
	return err ?: ntmem_reserve(nm, a);
}

static int ntmem_reserve_undo(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_reserve *a = arg;

	if (a->flags & NTMEM_RESERVE_PLACEHOLDER)
		return ntmem_placeholder_change(nm, a->addr, 0, 0);
	return ntmem_release(nm, a->addr, a->length, false,
			     a->flags & NTMEM_RESERVE_REPLACE);
}

static int ntmem_ioc_reserve(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_reserve a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	int err;

	if (usize < 0)
		return usize;
	if (a.flags & ~(NTMEM_RESERVE_FIXED | NTMEM_RESERVE_TOP_DOWN |
			NTMEM_RESERVE_COMMIT | NTMEM_RESERVE_WRITE_WATCH |
			NTMEM_RESERVE_LARGE_PAGES | NTMEM_RESERVE_PLACEHOLDER |
			NTMEM_RESERVE_REPLACE) ||
	    a.reserved0 || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	err = ntmem_reserve_place_check(&a);
	if (err)
		return err;
	if (a.flags & NTMEM_RESERVE_LARGE_PAGES) {
		err = ntmem_large_check(&a);
		if (err)
			return err;
	}
	if ((a.protect || (a.flags & NTMEM_RESERVE_COMMIT)) &&
	    !ntmem_protect_valid(a.protect))
		return -EINVAL;
	if (!a.length || a.length > NTMEM_MAX_ADDRESS - NTMEM_MIN_ADDRESS)
		return -EINVAL;
	a.length = PAGE_ALIGN(a.length);
	if (a.flags & NTMEM_RESERVE_FIXED) {
		/* a placeholder splits at pages: its parts are replaced so */
		if (!IS_ALIGNED(a.addr, a.flags & NTMEM_RESERVE_REPLACE ?
				PAGE_SIZE : NTMEM_GRANULARITY))
			return -EINVAL;
		err = ntmem_check_range(a.addr, a.length);
		if (err)
			return err;
	} else if (a.addr) {
		/* a hint: rounded down to the granularity, ignored if unusable */
		a.addr = ALIGN_DOWN(a.addr, NTMEM_GRANULARITY);
		if (ntmem_check_range(a.addr, a.length))
			a.addr = 0;
	}
	err = ntmem_run(c, ntmem_reserve_op, &a, true);
	if (err)
		return err;
	/* a reservation the caller cannot learn of would be lost: undo it */
	err = ntmem_copy_out(uarg, &a, sizeof(a), usize);
	if (err)
		ntmem_run(c, ntmem_reserve_undo, &a, true);
	return err;
}

struct ntmem_range_call {
	unsigned int nr;
	bool whole;
	u64 len;
	struct ntmem_range a;
};

static int ntmem_range_op(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_range_call *rc = arg;
	unsigned int nr = rc->nr;
	struct ntmem_range a = rc->a;
	struct vm_area_struct *vma;
	struct ntmem_region *r;
	int err = 0;

	if (nr == _IOC_NR(NTMEM_IOC_COMMIT))
		err = ntmem_exec_permitted(nm, a.protect);
	if (err)
		return err;

	if (mmap_write_lock_killable(nm->mm))
		return -EINTR;
	r = ntmem_region_find_write(nm->mm, a.addr, rc->len, &vma);
	if (r && rc->whole) {
		if (r->start != a.addr)
			r = NULL;
		else
			a.length = r->end - r->start;
	}
	if (!r)
		err = -ENXIO;
	else if (nr == _IOC_NR(NTMEM_IOC_COMMIT))
		err = ntmem_view_protect_allowed(r, a.protect) ?:
		      ntmem_commit(r, vma, a.addr, a.length, a.protect, a.flags);
	else if (ntmem_region_is_view(r) &&
		 nr != _IOC_NR(NTMEM_IOC_RESET) &&
		 nr != _IOC_NR(NTMEM_IOC_RESET_UNDO))
		err = -EINVAL;	/* a view's pages are its section's */
	else if (nr == _IOC_NR(NTMEM_IOC_DECOMMIT))
		err = ntmem_decommit(r, vma, a.addr, a.length);
	else if (nr == _IOC_NR(NTMEM_IOC_RESET))
		err = ntmem_reset(r, vma, a.addr, a.length);
	else if (nr == _IOC_NR(NTMEM_IOC_RESET_UNDO))
		err = ntmem_reset_undo(r, a.addr, a.length);
	else if (nr == _IOC_NR(NTMEM_IOC_LOCK))
		err = ntmem_lock(r, vma, a.addr, a.length);
	else
		err = ntmem_unlock(r, vma, a.addr, a.length);
	mmap_write_unlock(nm->mm);
	return err;
}

/*
 * COMMIT, DECOMMIT, RESET, RESET_UNDO, LOCK and UNLOCK: a range inside one
 * reservation.
 */
static int ntmem_ioc_range(const struct ntmem_ctx *c, unsigned int nr,
			   void __user *uarg)
{
	u32 allowed_flags = nr == _IOC_NR(NTMEM_IOC_COMMIT) ?
			    NTMEM_COMMIT_PREFAULT : 0;
	struct ntmem_range_call rc = { .nr = nr };
	struct ntmem_range a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	int err;

	if (usize < 0)
		return usize;
	if (a.flags & ~allowed_flags || a.reserved0 ||
	    !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	/* copy-on-write protections: the view decides (ntmem_commit()) */
	if (nr == _IOC_NR(NTMEM_IOC_COMMIT) ?
	    !ntmem_protect_valid(ntmem_protect_without_copy(a.protect)) :
	    a.protect)
		return -EINVAL;
	/* DECOMMIT of length 0: the whole reservation based at @addr */
	rc.whole = nr == _IOC_NR(NTMEM_IOC_DECOMMIT) && !a.length;
	rc.len = rc.whole ? PAGE_SIZE : a.length;
	err = ntmem_check_range(a.addr, rc.len);
	if (err)
		return err;
	rc.a = a;
	/* an executable COMMIT asks the LSM with a probe mapping */
	return ntmem_run(c, ntmem_range_op, &rc,
			 nr == _IOC_NR(NTMEM_IOC_COMMIT) &&
			 ntmem_prot_executable(a.protect));
}

static int ntmem_release_op(struct ntmem_mm *nm, void *arg)
{
	const struct ntmem_range *a = arg;
	int err = -ENXIO;

	/* a reservation (back to its placeholder), else placeholders */
	if (!(a->flags & NTMEM_RELEASE_COALESCE))
		err = ntmem_release(nm, a->addr, a->length, false,
				    a->flags & NTMEM_RELEASE_PRESERVE);
	if (err == -ENXIO)
		err = ntmem_placeholder_change(nm, a->addr, a->length,
					       a->flags);
	return err;
}

static int ntmem_ioc_release(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_range a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);

	if (usize < 0)
		return usize;
	if (a.flags & ~(NTMEM_RELEASE_PRESERVE | NTMEM_RELEASE_COALESCE) ||
	    a.flags == (NTMEM_RELEASE_PRESERVE | NTMEM_RELEASE_COALESCE) ||
	    a.protect || a.reserved0 ||
	    !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	if (ntmem_check_range(a.addr, a.length ? a.length : PAGE_SIZE))
		return -EINVAL;
	return ntmem_run(c, ntmem_release_op, &a, true);
}

struct ntmem_protect_call {
	struct ntmem_protect a;
	void __user *uarg;	/* copied out under mmap_lock, or NULL */
	void __user *uold;	/* likewise */
	size_t out;
	bool permitted;		/* the W^X check is done */
};

static int ntmem_protect_op(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_protect_call *pc = arg;
	struct ntmem_protect *a = &pc->a;
	struct vm_area_struct *vma;
	struct ntmem_region *r;
	u32 old = 0;
	int err;

	if (!pc->permitted) {
		err = ntmem_exec_permitted(nm, a->protect);
		if (err)
			return err;
		pc->permitted = true;
	}
	if (mmap_write_lock_killable(nm->mm))
		return -EINTR;
	r = ntmem_region_find_write(nm->mm, a->addr, a->length, &vma);
	err = r ? ntmem_view_protect_allowed(r, a->protect) : -ENXIO;
	if (!err)
		err = ntmem_protect_check(r, a->addr, a->length, a->protect,
					  &old);
	if (!err) {
		a->old_protect = old;
		if (pc->uarg)
			err = copy_to_user_nofault(pc->uarg, a, pc->out);
	}
	if (!err && pc->uold)
		err = copy_to_user_nofault(pc->uold, &old, sizeof(old));
	if (!err)
		err = ntmem_protect(r, vma, a->addr, a->length, a->protect);
	mmap_write_unlock(nm->mm);
	return err;
}

/*
 * The old protection reaches the caller -- the struct, and the Win32
 * out-parameter @old_protect_out -- before anything changes: it is copied
 * out under mmap_lock with page faults disabled, and when that would
 * fault, the lock is dropped, the memory faulted in, and the call taken
 * from the top.  Memory that cannot be written fails the call with
 * nothing changed, which is what Windows' probe of lpflOldProtect gives.
 * In another process, whose mmap_lock says nothing of the caller's
 * memory, that memory is probed before and written after.
 */
static int ntmem_ioc_protect(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_protect_call pc = { 0 };
	struct ntmem_protect a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	void __user *uold;
	size_t out;
	int err;

	if (usize < 0)
		return usize;
	if (a.flags || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	if (!ntmem_protect_valid(ntmem_protect_without_copy(a.protect)))
		return -EINVAL;
	uold = u64_to_user_ptr(a.old_protect_out);
	err = ntmem_check_range(a.addr, a.length);
	if (err)
		return err;
	out = min_t(size_t, sizeof(a), usize);
	pc.a = a;
	pc.out = out;

	if (c->target) {
		if (fault_in_safe_writeable(uarg, out) ||
		    (uold && fault_in_safe_writeable(uold, sizeof(u32))))
			return -EFAULT;
		err = ntmem_run(c, ntmem_protect_op, &pc,
				ntmem_prot_executable(a.protect));
		if (!err && (copy_to_user(uarg, &pc.a, out) ||
			     (uold && put_user(pc.a.old_protect,
					       (u32 __user *)uold))))
			err = -EFAULT;
		return err;
	}

	pc.uarg = uarg;
	pc.uold = uold;
	for (;;) {
		err = ntmem_protect_op(c->nm, &pc);
		if (err != -EFAULT)
			return err;
		/* the safe kind: fault_in_writeable() stores zeros */
		if (fault_in_safe_writeable(uarg, out) ||
		    (uold && fault_in_safe_writeable(uold, sizeof(u32))))
			return -EFAULT;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
}

/*
 * The write-watch region holding [addr, addr + len), or NULL; found to be
 * reset (mmap_lock held for write) or only read.
 */
static struct ntmem_region *ntmem_watch_find(struct ntmem_mm *nm, u64 addr,
					     u64 len,
					     struct vm_area_struct **vma,
					     bool reset)
{
	struct ntmem_region *r = reset ?
		ntmem_region_find_write(nm->mm, addr, len, vma) :
		ntmem_region_find(nm->mm, addr, len, vma);

	return r && r->write_watch ? r : NULL;
}

/*
 * The Win32 out-parameters of GetWriteWatch, as Windows probes them before
 * anything: *@ucount (if given, read for the capacity, into @a) and *@ugran
 * (if given) must be writable.  Each is written back with what it holds.
 */
static int ntmem_watch_probe(struct ntmem_write_watch *a, u64 __user *ucount,
			     u32 __user *ugran)
{
	u32 v;

	if (ucount &&
	    (get_user(a->count, ucount) || put_user(a->count, ucount)))
		return -EFAULT;
	if (ugran && (get_user(v, ugran) || put_user(v, ugran)))
		return -EFAULT;
	return 0;
}

/*
 * GetWriteWatch's rule for no room (a capacity of 0) or no array, where
 * the region is checked first and nothing changes.
 */
static int ntmem_watch_no_room(struct ntmem_mm *nm,
			       const struct ntmem_write_watch *a)
{
	struct vm_area_struct *vma;
	bool found;

	if (mmap_read_lock_killable(nm->mm))
		return -EINTR;
	found = ntmem_watch_find(nm, a->addr, a->length, &vma, false);
	mmap_read_unlock(nm->mm);
	if (!found)
		return -ENXIO;
	return a->count ? -EFAULT : -EINVAL;
}

/*
 * Report the written pages a chunk at a time.  Each chunk's addresses, and
 * the count so far, are copied out under mmap_lock with page faults
 * disabled, and only then (with reset) are those pages made clean, in the
 * same hold: a write cannot slip in between, and a page is never cleaned
 * unless the caller has its address.  When the copy would fault, the lock
 * is dropped, the memory faulted in, and the chunk taken again; memory
 * that cannot be written fails the call with EFAULT before anything of
 * that chunk changed.  The Win32 out-parameters (@count_out and
 * @granularity_out) are probed first, so they fail the call before
 * anything changed; the count then goes out with each chunk.
 */
static int ntmem_ioc_get_write_watch(struct ntmem_mm *nm, void __user *uarg)
{
	struct ntmem_write_watch a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	struct vm_area_struct *vma;
	u64 __user *out, __user *ucount;
	u32 __user *ugran;
	const u32 gran = PAGE_SIZE;
	bool reset, copied = false, spanned = false;
	struct ntmem_region *r;
	pgoff_t first = 0, last = 0, resume, *idx;
	unsigned int chunk, n = 0, i;
	u64 stored = 0, count, *addrs;
	int err;

	if (usize < 0)
		return usize;
	if (a.flags & ~NTMEM_WRITE_WATCH_RESET ||
	    (a.count_out ? a.count : !a.count))
		return -EINVAL;
	err = ntmem_check_range(a.addr, a.length);
	if (err)
		return err;
	if (usize < offsetofend(struct ntmem_write_watch, count))
		return -EINVAL;
	reset = a.flags & NTMEM_WRITE_WATCH_RESET;
	out = u64_to_user_ptr(a.pages);
	ugran = u64_to_user_ptr(a.granularity_out);
	err = ntmem_watch_probe(&a, u64_to_user_ptr(a.count_out), ugran);
	if (err)
		return err;
	if (a.count_out) {
		if (!a.count || !out)
			return ntmem_watch_no_room(nm, &a);
		ucount = u64_to_user_ptr(a.count_out);
	} else {
		ucount = &((struct ntmem_write_watch __user *)uarg)->count;
	}
	idx = ntmem_watch_buffer(&chunk);
	addrs = kmalloc_array(chunk, sizeof(*addrs), GFP_KERNEL);
	if (!idx || !addrs) {
		err = -ENOMEM;
		goto out;
	}
	while (stored < a.count) {
		err = reset ? mmap_write_lock_killable(nm->mm) :
			      mmap_read_lock_killable(nm->mm);
		if (err) {
			err = -EINTR;
			break;
		}
		r = ntmem_watch_find(nm, a.addr, a.length, &vma, reset);
		if (r) {
			if (!spanned)
				ntmem_page_span(r, a.addr, a.length, &first,
						&last);
			spanned = true;
			resume = first;
			n = ntmem_watch_collect(r, &first, last, idx,
						min_t(u64, chunk, a.count - stored));
			for (i = 0; i < n; i++)
				addrs[i] = ntmem_idx_addr(r, idx[i]);
			count = stored + n;
			copied = !copy_to_user_nofault(out + stored, addrs,
						       n * sizeof(u64)) &&
				 !copy_to_user_nofault(ucount, &count,
						       sizeof(count));
			if (!copied)
				first = resume;
			else if (reset)
				ntmem_watch_clean(r, vma, idx, n);
		}
		if (reset)
			mmap_write_unlock(nm->mm);
		else
			mmap_read_unlock(nm->mm);
		if (!r) {
			err = -ENXIO;
			break;
		}
		if (!copied) {
			/* back to the top for the same chunk, memory faulted in */
			if (fault_in_writeable((char __user *)(out + stored),
					       n * sizeof(u64)) ||
			    fault_in_safe_writeable((char __user *)ucount,
						    sizeof(*ucount))) {
				err = -EFAULT;
				break;
			}
			if (fatal_signal_pending(current)) {
				err = -EINTR;
				break;
			}
			continue;
		}
		stored += n;
		if (first > last)
			break;
		cond_resched();
	}
	/* probed at the start: only an unmap since then fails here */
	if (!err && ugran && put_user(gran, ugran))
		err = -EFAULT;
out:
	kfree(addrs);
	kfree(idx);
	/* the count is in the caller's struct (or *@count_out) already */
	return err;
}

static int ntmem_ioc_reset_write_watch(struct ntmem_mm *nm, void __user *uarg)
{
	struct vm_area_struct *vma;
	struct ntmem_region *r;
	struct ntmem_range a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	pgoff_t first, last, *idx;
	unsigned int chunk;
	int err;

	if (usize < 0)
		return usize;
	if (a.flags || a.protect || a.reserved0 ||
	    !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	err = ntmem_check_range(a.addr, a.length);
	if (err)
		return err;
	idx = ntmem_watch_buffer(&chunk);
	if (!idx)
		return -ENOMEM;
	if (mmap_write_lock_killable(nm->mm)) {
		kfree(idx);
		return -EINTR;
	}
	r = ntmem_watch_find(nm, a.addr, a.length, &vma, true);
	if (r) {
		ntmem_page_span(r, a.addr, a.length, &first, &last);
		while (first <= last) {
			unsigned int n = ntmem_watch_collect(r, &first, last,
							     idx, chunk);

			ntmem_watch_clean(r, vma, idx, n);
		}
	}
	mmap_write_unlock(nm->mm);
	kfree(idx);
	return r ? 0 : -ENXIO;
}

static int ntmem_ioc_guard_hit(struct ntmem_mm *nm, void __user *uarg)
{
	struct ntmem_guard_hit a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);

	if (usize < 0)
		return usize;
	if (a.flags || a.reserved0 ||
	    !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	a.hit = ntmem_guard_take(nm, a.addr);
	return ntmem_copy_out(uarg, &a, sizeof(a), usize);
}

/* What a page-table protection looks like as a Windows protection. */
static u32 ntmem_vm_flags_protect(vm_flags_t flags)
{
	bool w = flags & VM_WRITE;

	if (flags & VM_EXEC)
		return w ? NTMEM_PAGE_EXECUTE_READWRITE :
		       (flags & VM_READ) ? NTMEM_PAGE_EXECUTE_READ :
					   NTMEM_PAGE_EXECUTE;
	if (w)
		return NTMEM_PAGE_READWRITE;
	return flags & VM_READ ? NTMEM_PAGE_READONLY : NTMEM_PAGE_NOACCESS;
}

static void ntmem_query_locked(struct mm_struct *mm, unsigned long addr,
			       struct ntmem_query *q)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	unsigned long next;

	q->base = addr & PAGE_MASK;
	/* released address space (placeholders) is free */
	while (vma && ntmem_vma_is_placeholder(vma))
		vma = find_vma(mm, vma->vm_end);
	if (vma && vma->vm_start <= addr) {
		if (vma->vm_ops == &ntmem_vm_ops && vma->vm_private_data) {
			ntmem_query_region(vma->vm_private_data, addr, q);
			return;
		}
		if (ntmem_vma_is_hold(vma)) {	/* reserved, all of it */
			q->alloc_base = vma->vm_start;
			q->alloc_size = vma->vm_end - vma->vm_start;
			q->region_size = vma->vm_end - q->base;
			q->alloc_protect = NTMEM_PAGE_NOACCESS;
			q->state = NTMEM_STATE_RESERVE;
			q->type = NTMEM_TYPE_PLACEHOLDER;
			return;
		}
		q->alloc_base = vma->vm_start;
		q->alloc_size = vma->vm_end - vma->vm_start;
		q->region_size = vma->vm_end - q->base;
		q->state = NTMEM_STATE_OTHER;
		q->protect = ntmem_vm_flags_protect(vma->vm_flags);
		q->alloc_protect = q->protect;
		return;
	}
	next = vma ? min_t(unsigned long, vma->vm_start, NTMEM_MAX_ADDRESS) :
		     NTMEM_MAX_ADDRESS;
	q->region_size = next - q->base;
	q->state = NTMEM_STATE_FREE;
	q->protect = NTMEM_PAGE_NOACCESS;
}

/* QUERY's answer as Windows' MEMORY_BASIC_INFORMATION. */
static void ntmem_basic_info(const struct ntmem_query *q,
			     struct ntmem_basic_info *b)
{
	memset(b, 0, sizeof(*b));
	b->base = q->base;
	b->region_size = q->region_size;
	b->protect = q->protect;
	switch (q->state) {
	case NTMEM_STATE_COMMIT:
	case NTMEM_STATE_RESERVE:
		b->state = q->state;
		/* Windows reports a placeholder as private reserved memory */
		b->type = q->type == NTMEM_TYPE_PLACEHOLDER ?
			  NTMEM_TYPE_PRIVATE : q->type;
		break;
	case NTMEM_STATE_OTHER:
		b->state = NTMEM_STATE_COMMIT;
		b->type = NTMEM_TYPE_MAPPED;
		break;
	default:
		b->state = NTMEM_STATE_FREE;
		return;
	}
	b->alloc_base = q->alloc_base;
	b->alloc_protect = q->alloc_protect;
}

/*
 * Nothing changes, so the answer is stored after mmap_lock is dropped,
 * where a fault on the caller's memory may be served.
 */
static int ntmem_ioc_query(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_basic_info info;
	struct ntmem_query q;
	int usize = ntmem_copy_in(&q, sizeof(q), uarg);
	u64 addr, uinfo;

	if (usize < 0)
		return usize;
	if (q.flags || q.addr >= NTMEM_MAX_ADDRESS)
		return -EINVAL;
	addr = q.addr;
	uinfo = q.info;
	memset(&q, 0, sizeof(q));
	q.size = usize;
	q.addr = addr;
	q.info = uinfo;
	if (mmap_read_lock_killable(c->nm->mm))
		return -EINTR;
	ntmem_query_locked(c->nm->mm, addr, &q);
	mmap_read_unlock(c->nm->mm);
	if (uinfo) {
		ntmem_basic_info(&q, &info);
		if (copy_to_user(u64_to_user_ptr(uinfo), &info, sizeof(info)))
			return -EFAULT;
	}
	return ntmem_copy_out(uarg, &q, sizeof(q), usize);
}

/* The access bits a section descriptor and a view may ask for. */
#define NTMEM_SECTION_ACCESS	(NTMEM_FILE_MAP_ALL_ACCESS | NTMEM_FILE_MAP_EXECUTE)

/*
 * SECTION_CREATE and SECTION_OPEN: the name is copied in before any lock
 * (a fault may need mmap_lock, which the names' lock nests inside).
 */
static int ntmem_ioc_section(struct ntmem_mm *nm, unsigned int nr,
			     void __user *uarg)
{
	bool create = nr == _IOC_NR(NTMEM_IOC_SECTION_CREATE);
	struct ntmem_section_args args = { 0 };
	struct ntmem_section a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	struct file *file;
	int fd, err;
	u32 attrs;

	if (usize < 0)
		return usize;
	if (a.reserved0 || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	attrs = a.flags & ~NTMEM_SECTION_FILE;
	if (create && (attrs & ~(NTMEM_SEC_COMMIT | NTMEM_SEC_RESERVE) ||
		       attrs == (NTMEM_SEC_COMMIT | NTMEM_SEC_RESERVE)))
		return -EINVAL;
	if (!create && (a.flags || !a.name || !a.access))
		return -EINVAL;
	if (a.access & ~NTMEM_SECTION_ACCESS)
		return -EINVAL;
	if (a.name && !a.name_len)
		return -EINVAL;
	if (a.name_len > NTMEM_SECTION_NAME_MAX)
		return -ENAMETOOLONG;
	if (a.name) {
		/* a name lives as long as its section: charged to the caller */
		args.name = kmalloc(a.name_len, GFP_KERNEL_ACCOUNT);
		if (!args.name)
			return -ENOMEM;
		if (copy_from_user(args.name, u64_to_user_ptr(a.name),
				   a.name_len)) {
			kfree(args.name);
			return -EFAULT;
		}
		args.name_len = a.name_len;
	}
	args.max_size = a.max_size;
	args.protect = a.protect;
	args.attrs = attrs ? attrs : NTMEM_SEC_COMMIT;
	args.access = a.access;
	if (create && (a.flags & NTMEM_SECTION_FILE)) {
		args.file = fget(a.file);
		if (!args.file) {
			kfree(args.name);
			return -EBADF;
		}
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	file = fd < 0 ? ERR_PTR(fd) :
	       create ? ntmem_section_create(nm, &args) :
			ntmem_section_open(&args);
	kfree(args.name);	/* NULL if a new section took it */
	if (args.file)
		fput(args.file);	/* the section took its own */
	if (IS_ERR(file)) {
		if (fd >= 0)
			put_unused_fd(fd);
		return PTR_ERR(file);
	}
	a.fd = fd;
	a.max_size = args.max_size;
	a.protect = args.protect;
	a.attrs = args.attrs;
	a.existed = args.existed;
	/* a descriptor the caller cannot learn of would be lost */
	err = ntmem_copy_out(uarg, &a, sizeof(a), usize);
	if (err) {
		fput(file);
		put_unused_fd(fd);
		return err;
	}
	fd_install(fd, file);
	return 0;
}

struct ntmem_view_call {
	struct ntmem_section_object *s;
	struct ntmem_view a;
};

static int ntmem_view_map_op(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_view_call *vc = arg;

	return ntmem_view_map(nm, vc->s, &vc->a);
}

static int ntmem_view_undo(struct ntmem_mm *nm, void *arg)
{
	struct ntmem_view_call *vc = arg;

	return ntmem_view_unmap(nm, vc->a.addr,
				vc->a.flags & NTMEM_RESERVE_REPLACE);
}

static int ntmem_ioc_map_view(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_view_call vc;
	struct ntmem_section_object *s;
	struct ntmem_view a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	unsigned long gran;
	u32 have;
	int err;

	if (usize < 0)
		return usize;
	if (a.flags & ~(NTMEM_RESERVE_FIXED | NTMEM_RESERVE_TOP_DOWN |
			NTMEM_RESERVE_REPLACE) ||
	    ((a.flags & NTMEM_RESERVE_REPLACE) &&
	     !(a.flags & NTMEM_RESERVE_FIXED)) ||
	    !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	if (!(a.access & (NTMEM_FILE_MAP_READ | NTMEM_FILE_MAP_WRITE |
			  NTMEM_FILE_MAP_COPY)) ||
	    a.access & ~NTMEM_SECTION_ACCESS)
		return -EINVAL;
	/* over a placeholder, pages will do (it may have been split so) */
	gran = a.flags & NTMEM_RESERVE_REPLACE ? PAGE_SIZE : NTMEM_GRANULARITY;
	if (!IS_ALIGNED(a.offset, gran) ||
	    ((a.flags & NTMEM_RESERVE_FIXED) && !IS_ALIGNED(a.addr, gran)))
		return -EXDEV;
	s = ntmem_section_from_fd(a.section, &have);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = -EACCES;
	if (!ntmem_section_access_allows(have, a.access))
		goto out;
	/* a view maps whole pages: the section's last one all of it */
	err = -EOVERFLOW;
	if (a.offset >= s->size || a.length > PAGE_ALIGN(s->size) - a.offset)
		goto out;
	if (!a.length)
		a.length = s->size - a.offset;
	a.length = PAGE_ALIGN(a.length);
	err = -EINVAL;
	if (a.flags & NTMEM_RESERVE_FIXED) {
		if (ntmem_check_range(a.addr, a.length))
			goto out;
	} else if (a.addr) {
		a.addr = ALIGN_DOWN(a.addr, NTMEM_GRANULARITY);
		if (ntmem_check_range(a.addr, a.length))
			a.addr = 0;
	}
	vc.s = s;
	vc.a = a;
	err = ntmem_run(c, ntmem_view_map_op, &vc, true);
	if (err)
		goto out;
	err = ntmem_copy_out(uarg, &vc.a, sizeof(vc.a), usize);
	if (err)
		ntmem_run(c, ntmem_view_undo, &vc, true);
out:
	ntmem_section_put(s);
	return err;
}

static int ntmem_view_unmap_op(struct ntmem_mm *nm, void *arg)
{
	const struct ntmem_range *a = arg;

	return ntmem_view_unmap(nm, a->addr, a->flags & NTMEM_RELEASE_PRESERVE);
}

static int ntmem_ioc_unmap_view(const struct ntmem_ctx *c, void __user *uarg)
{
	struct ntmem_range a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);

	if (usize < 0)
		return usize;
	if (a.flags & ~NTMEM_RELEASE_PRESERVE || a.protect || a.length ||
	    a.reserved0 || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	if (a.addr < NTMEM_MIN_ADDRESS || a.addr >= NTMEM_MAX_ADDRESS)
		return -ENXIO;
	return ntmem_run(c, ntmem_view_unmap_op, &a, true);
}

/*
 * The ioctls of /dev/ntmem, on the caller's address space or (a process
 * descriptor's, which has filtered them) another process's.
 */
long ntmem_dispatch(const struct ntmem_ctx *c, unsigned int cmd,
		    void __user *uarg)
{
	struct ntmem_mm *nm = c->nm;
	unsigned int nr = _IOC_NR(cmd);

	switch (nr) {
	case _IOC_NR(NTMEM_IOC_VERSION):
		return ntmem_ioc_version(uarg);
	case _IOC_NR(NTMEM_IOC_RESERVE):
		return ntmem_ioc_reserve(c, uarg);
	case _IOC_NR(NTMEM_IOC_COMMIT):
	case _IOC_NR(NTMEM_IOC_DECOMMIT):
	case _IOC_NR(NTMEM_IOC_RESET):
	case _IOC_NR(NTMEM_IOC_RESET_UNDO):
	case _IOC_NR(NTMEM_IOC_LOCK):
	case _IOC_NR(NTMEM_IOC_UNLOCK):
		return ntmem_ioc_range(c, nr, uarg);
	case _IOC_NR(NTMEM_IOC_RELEASE):
		return ntmem_ioc_release(c, uarg);
	case _IOC_NR(NTMEM_IOC_PROTECT):
		return ntmem_ioc_protect(c, uarg);
	case _IOC_NR(NTMEM_IOC_QUERY):
		return ntmem_ioc_query(c, uarg);
	case _IOC_NR(NTMEM_IOC_GET_WRITE_WATCH):
		return ntmem_ioc_get_write_watch(nm, uarg);
	case _IOC_NR(NTMEM_IOC_RESET_WRITE_WATCH):
		return ntmem_ioc_reset_write_watch(nm, uarg);
	case _IOC_NR(NTMEM_IOC_GUARD_HIT):
		return ntmem_ioc_guard_hit(nm, uarg);
	case _IOC_NR(NTMEM_IOC_SECTION_CREATE):
	case _IOC_NR(NTMEM_IOC_SECTION_OPEN):
		return ntmem_ioc_section(nm, nr, uarg);
	case _IOC_NR(NTMEM_IOC_MAP_VIEW):
		return ntmem_ioc_map_view(c, uarg);
	case _IOC_NR(NTMEM_IOC_UNMAP_VIEW):
		return ntmem_ioc_unmap_view(c, uarg);
	case _IOC_NR(NTMEM_IOC_OPEN_PROCESS):
		return c->target ? -ENOTTY : ntmem_target_open(nm, uarg);
	case _IOC_NR(NTMEM_IOC_READ_MEMORY):
	case _IOC_NR(NTMEM_IOC_WRITE_MEMORY):
		return ntmem_target_copy(c, uarg,
					  nr == _IOC_NR(NTMEM_IOC_WRITE_MEMORY));
	default:
		return -ENOTTY;
	}
}

long ntmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ntmem_ctx c = { .nm = file->private_data };

	/*
	 * The struct size travels in the struct, so that it can grow; the
	 * size bits of @cmd are not compared.
	 */
	if (_IOC_TYPE(cmd) != NTMEM_IOC_MAGIC)
		return -ENOTTY;
	if (current->mm != c.nm->mm)
		return -EBADFD;
	return ntmem_dispatch(&c, cmd, (void __user *)arg);
}
