// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the lifetime of a reservation.
 *
 * A reservation is one shared mapping of a per-mm file of the page store's
 * inode (ntmem_store.c), created by vm_mmap() from the RESERVE ioctl at a
 * 64 KiB-aligned address.  Its pages are mapped as the store's: refcounted,
 * seen by GUP, O_DIRECT, RSS and reclaim, 2 MiB blocks by one PMD.  The
 * VMA becomes VM_MIXEDMAP when it needs special PTEs (executable pages) or
 * pages mapped by the module itself (ntmem_need_mixedmap()).
 * It can be neither split nor moved, so a region and its VMA always cover
 * the same range; it ends when the whole VMA is unmapped (RELEASE, munmap,
 * exit), in ->close.
 *
 * RESERVE and RELEASE are both a vm_mmap() of one of the mm's two anon
 * files, with the request in ntmem_mm (under map_lock): the file's
 * ->get_unmapped_area, which runs under mmap_lock before the kernel unmaps
 * what lies in the range, accepts only free space and placeholders for a
 * RESERVE, and only the reservation itself for a RELEASE, which puts a
 * placeholder in its place (ntmem_placeholder.c).  So neither ever unmaps
 * a mapping that is not ntmem's, whatever other threads do meanwhile.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_compat.h"
#include "ntmem_section.h"

static void ntmem_region_free(struct kref *kref)
{
	struct ntmem_region *r = container_of(kref, struct ntmem_region, kref);

	if (r->section)
		ntmem_section_put(r->section);
	ntmem_mm_put(r->nm);
	ntmem_region_kfree(r);
}

void ntmem_region_put(struct ntmem_region *r)
{
	kref_put(&r->kref, ntmem_region_free);
}

/*
 * The region whose VMA holds all of [addr, addr + len), or NULL.  Caller
 * holds mmap_lock of @mm.
 */
struct ntmem_region *ntmem_region_find(struct mm_struct *mm, unsigned long addr,
				       unsigned long len,
				       struct vm_area_struct **vmap)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma || vma->vm_ops != &ntmem_vm_ops || !vma->vm_private_data)
		return NULL;
	if (len > vma->vm_end - addr)
		return NULL;
	*vmap = vma;
	return vma->vm_private_data;
}

/*
 * As ntmem_region_find(), for a change of the region's state: the caller
 * holds mmap_lock for write, and the VMA is write-locked too, so that the
 * faults that run under the per-VMA lock alone (ntmem_map_pages()) wait
 * for the change, as faults under mmap_lock do.  Faults on other VMAs go
 * on meanwhile.
 */
struct ntmem_region *ntmem_region_find_write(struct mm_struct *mm,
					     unsigned long addr,
					     unsigned long len,
					     struct vm_area_struct **vmap)
{
	struct ntmem_region *r = ntmem_region_find(mm, addr, len, vmap);

	lockdep_assert_held_write(&mm->mmap_lock);
	if (r)
		ntmem_vma_start_write(*vmap);
	return r;
}

/* The request of the RESERVE or RELEASE in flight in this task, if any. */
static bool ntmem_in_request(struct ntmem_mm *nm)
{
	return READ_ONCE(nm->pending_task) == current;
}

/* RELEASE: the range must be exactly the reservation, still in place. */
static unsigned long ntmem_release_area(struct ntmem_mm *nm, unsigned long addr,
					unsigned long len, unsigned long flags)
{
	struct ntmem_region *r = nm->releasing;
	struct vm_area_struct *vma = vma_lookup(current->mm, addr);

	if (!(flags & MAP_FIXED) || !vma || vma->vm_private_data != r ||
	    vma->vm_ops != &ntmem_vm_ops || vma->vm_start != addr ||
	    vma->vm_end - addr != len)
		return -ENXIO;
	nm->checked = true;
	return addr;
}

/*
 * The alignment of a new reservation's base: 2 MiB for large pages, and for
 * any reservation of 2 MiB or more, whose blocks may then get huge pages
 * (as Linux aligns large anonymous mappings); else Windows' 64 KiB.
 */
static unsigned long ntmem_reserve_align(struct ntmem_mm *nm,
					 const struct ntmem_reserve *args,
					 unsigned long len)
{
	/* views use small pages */
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) && !nm->view &&
	    ((args->flags & NTMEM_RESERVE_LARGE_PAGES) || len >= PMD_SIZE))
		return PMD_SIZE;
	return NTMEM_GRANULARITY;
}

/*
 * RESERVE: place a reservation at a multiple of 64 KiB, in a gap that also
 * holds the rest of its last 64 KiB granule (the "slack", which belongs to
 * nobody): over free space and placeholders only.  FIXED takes the address
 * as it is; otherwise try the hint (or the top of the user range for
 * TOP_DOWN) as it is, else reuse placeholders, else ask the mm's own policy
 * for the alignment less a page more than needed and round its answer up.
 */
static unsigned long ntmem_reserve_area(struct ntmem_mm *nm, unsigned long addr,
					unsigned long len, unsigned long flags)
{
	const struct ntmem_reserve *args = nm->pending;
	bool large = args->flags & NTMEM_RESERVE_LARGE_PAGES;
	unsigned long align = ntmem_reserve_align(nm, args, len);
	unsigned long span = ALIGN(len, NTMEM_GRANULARITY);
	bool top_down = args->flags & NTMEM_RESERVE_TOP_DOWN;
	struct mm_struct *mm = current->mm;
	unsigned long base;

	if (span > NTMEM_MAX_ADDRESS - NTMEM_GRANULARITY)
		return -ENOMEM;
	if (flags & MAP_FIXED) {
		if (len > NTMEM_MAX_ADDRESS - addr)
			return -ENOMEM;
		/* REPLACE: exactly one Windows placeholder, nothing else */
		if (args->flags & NTMEM_RESERVE_REPLACE) {
			if (!(nm->retry ?
			      ntmem_range_hold_or_hole(mm, addr, addr + len) :
			      ntmem_range_is_hold(mm, addr, addr + len)))
				return -ENXIO;
			nm->checked = true;
			return addr;
		}
		return ntmem_range_reusable(mm, addr, addr + len) ? addr :
								      -EEXIST;
	}
	if (args->lowest || args->highest || args->alignment) {
		/* MEM_ADDRESS_REQUIREMENTS: the hint as it is, or a search */
		unsigned long end = args->highest ? args->highest + 1 :
						    NTMEM_MAX_ADDRESS;

		if (addr && ntmem_mm_unmapped_area(addr, span, flags) == addr)
			return addr;
		return ntmem_bounded_area(mm, span,
					  max_t(unsigned long, align,
						args->alignment),
					  max_t(unsigned long, args->lowest,
						NTMEM_MIN_ADDRESS),
					  end, top_down);
	}
	if (top_down)
		addr = ALIGN_DOWN(NTMEM_MAX_ADDRESS - span, align);
	if (large && !IS_ALIGNED(addr, PMD_SIZE))
		addr = 0;	/* a hint that large pages cannot use */
	if (addr) {
		base = ntmem_mm_unmapped_area(addr, span, flags);
		if (base == addr)
			return base;
		if (atomic_long_read(&nm->placeholders) &&
		    span <= NTMEM_MAX_ADDRESS - addr &&
		    ntmem_range_reusable(mm, addr, addr + span))
			return addr;
	}
	if (atomic_long_read(&nm->placeholders)) {
		base = ntmem_placeholder_area(mm, span, align, top_down);
		if (!IS_ERR_VALUE(base))
			return base;
	}
	base = ntmem_mm_unmapped_area(0, span + align - PAGE_SIZE, flags);
	if (IS_ERR_VALUE(base))
		return base;
	base = ALIGN(base, align);
	return len > NTMEM_MAX_ADDRESS - base ? -ENOMEM : base;
}

/* Only RESERVE and RELEASE map these files; a user mmap() is refused. */
static unsigned long ntmem_get_unmapped_area(struct file *file,
					     unsigned long addr,
					     unsigned long len,
					     unsigned long pgoff,
					     unsigned long flags)
{
	struct ntmem_mm *nm = file->private_data;

	if (!ntmem_in_request(nm))
		return -EPERM;
	if (nm->probing) {	/* ntmem_wx.c: the LSM said yes; map nothing */
		nm->checked = true;
		return -EPERM;
	}
	if (nm->place)
		return ntmem_place_area(nm, addr, len, flags);
	if (nm->releasing)
		return ntmem_release_area(nm, addr, len, flags);
	return ntmem_reserve_area(nm, addr, len, flags);
}

static int ntmem_anon_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ntmem_mm *nm = file->private_data;
	const struct ntmem_reserve *args = nm->pending;
	struct ntmem_region *r;

	if (!ntmem_in_request(nm) || nm->probing || vma->vm_mm != nm->mm)
		return -EPERM;
	/* every request that makes a Windows placeholder maps its file */
	if (file == nm->hold_file) {
		ntmem_hold_mmap(vma);
		return 0;
	}
	if (nm->place || nm->releasing) {	/* released space */
		ntmem_placeholder_mmap(nm, vma);
		return 0;
	}
	/* 64 KiB, or a page where it replaces a placeholder split at one */
	if (!IS_ALIGNED(vma->vm_start, args->flags & NTMEM_RESERVE_REPLACE ?
			PAGE_SIZE : NTMEM_GRANULARITY) ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	r = ntmem_region_alloc();
	if (!r)
		return -ENOMEM;
	kref_init(&r->kref);
	kref_get(&nm->kref);
	r->nm = nm;
	r->start = vma->vm_start;
	r->end = vma->vm_end;
	r->alloc_protect = args->protect;
	r->write_watch = args->flags & NTMEM_RESERVE_WRITE_WATCH;
	r->large = args->flags & NTMEM_RESERVE_LARGE_PAGES;
	r->nr_vmas = 1;
	/* RCU mode: faults read the tree while a guard bit is cleared */
	mt_init_flags(&r->state, MT_FLAGS_USE_RCU);
	xa_init(&r->pages);
	xa_init(&r->reset);
	xa_init(&r->reset_blocks);
	INIT_LIST_HEAD(&r->reset_node);
	xa_init(&r->written);
	mt_init(&r->locked);
	r->store_base = vma->vm_start >> PAGE_SHIFT;
	r->from_placeholder = args->flags & NTMEM_RESERVE_REPLACE;
	INIT_LIST_HEAD(&r->view_node);
	xa_init(&r->copied);
	if (nm->view || (args->flags & NTMEM_RESERVE_COMMIT)) {
		int err = nm->view ? ntmem_view_init(r, nm->view) :
				     ntmem_commit_all(r);

		if (!err && r->large) {
			err = ntmem_store_populate_large(r);
			if (err)
				ntmem_uncharge(nm, ntmem_region_pages(r));
		}
		if (!err && ntmem_region_shares(r) && r->section->file_backed)
			err = ntmem_view_attach_file(r, vma);
		if (err) {
			/* a view's section reference goes with the region */
			if (r->section) {
				ntmem_view_teardown(r);
				ntmem_section_put(r->section);
			}
			mtree_destroy(&r->state);
			ntmem_mm_put(nm);
			ntmem_region_kfree(r);
			return err;
		}
	}

	vma->vm_private_data = r;
	vma->vm_ops = &ntmem_vm_ops;
	/*
	 * store page index = address in pages (a shared view: its section
	 * offset), so rmap finds the mapping
	 */
	vma->vm_pgoff = r->store_base;
	/*
	 * DONTCOPY: a child does not inherit reservations.  DONTEXPAND:
	 * mremap cannot grow it (and khugepaged leaves it alone).  No VM_EXEC:
	 * executable pages get execute permission in their own PTEs, so the
	 * VMA need not allow it and noexec mounts do not matter.  MIXEDMAP
	 * (refcounted pages and special PTEs side by side) comes with the
	 * first page that needs it (ntmem_need_mixedmap()).
	 */
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND);
	if (((args->flags & NTMEM_RESERVE_COMMIT) &&
	     ntmem_prot_executable(args->protect)) ||
	    (nm->view && ntmem_prot_executable(nm->view->protect)) ||
	    ntmem_thp_shmem_forced())
		vm_flags_set(vma, VM_MIXEDMAP);
	vm_flags_clear(vma, VM_MAYEXEC);
	/* a read view stays one, as mmap() leaves a read-only file's */
	if (!(vma->vm_flags & VM_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);
	if (!nm->view)
		ntmem_thp_reserve(vma);

	atomic_long_inc(&nm->reservations);
	atomic_long_inc(&ntmem_stats.reservations);
	return 0;
}

static int ntmem_anon_release(struct inode *inode, struct file *file)
{
	ntmem_mm_put(file->private_data);
	return 0;
}

/*
 * msync() of a reservation or a pagefile view has nothing to write, as
 * for anonymous memory (a file view's VMA has the file's own fsync).
 */
static const struct file_operations ntmem_anon_fops = {
	.owner			= THIS_MODULE,
	.mmap			= ntmem_anon_mmap,
	.get_unmapped_area	= ntmem_get_unmapped_area,
	.fsync			= noop_fsync,
	.release		= ntmem_anon_release,
	.llseek			= noop_llseek,
};

/*
 * A file of a section's @memory that maps it into @nm as a shared view,
 * with ntmem's file operations (as the store's, see below).
 */
struct file *ntmem_view_file(struct ntmem_mm *nm, struct file *memory)
{
	struct file *file;

	file = ntmem_store_open(memory, NTMEM_VIEW_MAPS_NAME,
				&ntmem_anon_fops);
	if (IS_ERR(file))
		return file;
	file->private_data = nm;
	kref_get(&nm->kref);	/* dropped in ntmem_anon_release() */
	return file;
}

/*
 * The file @name of @nm in *@filep, created on first use.  map_lock.  The
 * one reservations map is a file of the store's own inode (with ntmem's
 * file operations): their VMAs must be in the store's address_space
 * (i_mmap), where rmap looks for them, and the kernel takes a file whose
 * mapping is shmem's for a shmem file (memfd seals, huge-page policy), so
 * its inode must be the shmem inode too.  Placeholders map an anon file.
 */
int ntmem_request_file(struct ntmem_mm *nm, struct file **filep,
		       const char *name)
{
	struct file *file;

	if (*filep)
		return 0;
	if (filep == &nm->file || filep == &nm->large_file)
		file = ntmem_store_open(filep == &nm->large_file ?
					nm->large_store : nm->store, name,
					&ntmem_anon_fops);
	else
		file = anon_inode_getfile(name, &ntmem_anon_fops, nm, O_RDWR);
	if (IS_ERR(file))
		return PTR_ERR(file);
	file->private_data = nm;
	kref_get(&nm->kref);	/* dropped in ntmem_anon_release() */
	*filep = file;
	return 0;
}

int ntmem_reserve(struct ntmem_mm *nm, struct ntmem_reserve *args)
{
	bool large = args->flags & NTMEM_RESERVE_LARGE_PAGES;
	bool hold = args->flags & NTMEM_RESERVE_PLACEHOLDER;
	struct file **filep = large ? &nm->large_file :
			      hold ? &nm->hold_file : &nm->file;
	unsigned long flags = MAP_SHARED, addr, prot;
	int err;

	if (mutex_lock_killable(&nm->map_lock))
		return -EINTR;
	err = ntmem_store_create(nm, large);
	if (!err)
		err = ntmem_request_file(nm, filep, hold ? NTMEM_HOLD_MAPS_NAME :
					 NTMEM_MAPS_NAME);
	if (err) {
		mutex_unlock(&nm->map_lock);
		return err;
	}
	/* FIXED: ->get_unmapped_area refuses what is not free or a placeholder */
	if (args->flags & NTMEM_RESERVE_FIXED)
		flags |= MAP_FIXED;

	WRITE_ONCE(nm->pending, args);
	WRITE_ONCE(nm->pending_task, current);
	nm->checked = false;
	/* a placeholder is inaccessible, as released space is */
	prot = hold ? PROT_NONE : PROT_READ | PROT_WRITE;
	addr = vm_mmap(*filep, args->addr, args->length, prot, flags, 0);
	if (IS_ERR_VALUE(addr) && nm->checked)	/* REPLACE, failed late */
		addr = ntmem_hold_retry(nm, *filep, args->addr, args->length,
					prot, 0);
	WRITE_ONCE(nm->pending_task, NULL);
	WRITE_ONCE(nm->pending, NULL);
	mutex_unlock(&nm->map_lock);
	if (IS_ERR_VALUE(addr))
		return addr;
	args->addr = addr;
	return 0;
}

/*
 * Map a placeholder over the reservation at @addr (@len 0 or its length),
 * or with @view over the view that holds @addr; with @preserve a Windows
 * placeholder, for a region made over one (ENXIO otherwise).  If the
 * kernel fails after it unmapped the region (no memory for the new VMA),
 * the range is a plain hole: released all the same.
 */
int ntmem_release(struct ntmem_mm *nm, unsigned long addr, unsigned long len,
		  bool view, bool preserve)
{
	struct file **filep = preserve ? &nm->hold_file : &nm->free_file;
	struct vm_area_struct *vma;
	struct ntmem_region *r;
	unsigned long size = 0, ret;
	int err = 0;

	if (mutex_lock_killable(&nm->map_lock))
		return -EINTR;
	if (mmap_read_lock_killable(nm->mm)) {
		mutex_unlock(&nm->map_lock);
		return -EINTR;
	}
	r = ntmem_region_find(nm->mm, addr & PAGE_MASK, PAGE_SIZE, &vma);
	if (!r || (view ? !ntmem_region_is_view(r) : r->start != addr))
		err = -ENXIO;
	else if (!view && ntmem_region_is_view(r))
		err = -EINVAL;	/* UNMAP_VIEW ends a view */
	else if (preserve && !r->from_placeholder)
		err = -ENXIO;	/* there is no placeholder to go back to */
	else if (!view && len && len != r->end - r->start)
		err = -EINVAL;	/* a reservation is released whole */
	else
		size = r->end - r->start;
	if (!err) {
		kref_get(&r->kref);
		addr = r->start;
	}
	mmap_read_unlock(nm->mm);
	if (!err)
		err = ntmem_request_file(nm, filep, preserve ?
					 NTMEM_HOLD_MAPS_NAME :
					 NTMEM_PLACEHOLDER_NAME);
	if (!err) {
		WRITE_ONCE(nm->releasing, r);
		nm->checked = false;
		WRITE_ONCE(nm->pending_task, current);
		ret = vm_mmap(*filep, addr, size, PROT_NONE,
			      MAP_SHARED | MAP_FIXED, 0);
		WRITE_ONCE(nm->pending_task, NULL);
		WRITE_ONCE(nm->releasing, NULL);
		if (IS_ERR_VALUE(ret) && !(nm->checked && READ_ONCE(r->dead)))
			err = ret;
	}
	if (size)
		ntmem_region_put(r);
	mutex_unlock(&nm->map_lock);
	return err;
}

/*
 * A VMA copy: the child's in a fork after the program cleared VM_DONTCOPY
 * with MADV_DOFORK, or mremap's temporary copy (which ->mremap refuses).
 * The child's copy gets no pages and no region: it faults like a hole.
 * Since 6.10 (and its 6.1.y backport) fork runs ->open before copying the
 * page tables, and VM_WIPEONFORK makes it skip them; an older kernel has
 * copied them already, executable special PTEs that hold no reference
 * among them, so they go here, before the child can run (both mms are
 * write-locked by fork, so the parent cannot free those pages meanwhile).
 */
static void ntmem_vma_open(struct vm_area_struct *vma)
{
	struct ntmem_region *r = vma->vm_private_data;

	if (!r)
		return;
	if (vma->vm_mm != r->nm->mm) {
		vma->vm_private_data = NULL;
		vm_flags_set(vma, VM_WIPEONFORK);
		ntmem_zap(vma, vma->vm_start, vma->vm_end - vma->vm_start);
		return;
	}
	r->nr_vmas++;
	kref_get(&r->kref);
}

static void ntmem_vma_close(struct vm_area_struct *vma)
{
	struct ntmem_region *r = vma->vm_private_data;

	if (!r)
		return;
	/* the page-table entries are already gone; free what they mapped */
	if (--r->nr_vmas == 0) {
		r->dead = true;
		ntmem_pages_teardown(r);
		atomic_long_dec(&r->nm->reservations);
		atomic_long_dec(&ntmem_stats.reservations);
	}
	ntmem_region_put(r);
}

/* Partial munmap, mprotect or madvise would split the reservation. */
static int ntmem_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

/*
 * A moved reservation would no longer be where its owner thinks it is, and
 * a moved placeholder would claim address space ntmem never released.
 */
int ntmem_vma_refuse_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/*
 * Protection is per page and belongs to PROTECT, and free space (a
 * placeholder) has none to give: mprotect() is refused.
 */
int ntmem_vma_refuse_mprotect(struct vm_area_struct *vma, unsigned long start,
			      unsigned long end, unsigned long newflags)
{
	return -EACCES;
}

/*
 * Fault-around maps nothing: every page needs its own protection check in
 * ->fault.  Having ->map_pages is what lets the core call ->fault,
 * ->page_mkwrite and ->pfn_mkwrite under the per-VMA lock instead of
 * retrying the fault under mmap_lock (vmf_can_call_fault()); every change
 * of a region's state write-locks its VMA (ntmem_region_find_write()).
 * Called under rcu_read_lock().
 */
#ifdef CONFIG_PER_VMA_LOCK
static vm_fault_t ntmem_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				  pgoff_t end_pgoff)
{
	return 0;
}
#endif

const struct vm_operations_struct ntmem_vm_ops = {
	.open		= ntmem_vma_open,
	.close		= ntmem_vma_close,
	.may_split	= ntmem_vma_may_split,
	.mremap		= ntmem_vma_refuse_mremap,
	.mprotect	= ntmem_vma_refuse_mprotect,
	.fault		= ntmem_fault,
#ifdef CONFIG_PER_VMA_LOCK
	.map_pages	= ntmem_map_pages,
#endif
	.page_mkwrite	= ntmem_page_mkwrite,
	.pfn_mkwrite	= ntmem_pfn_mkwrite,
	.access		= ntmem_access,
};
