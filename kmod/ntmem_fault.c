// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: faults on reservations.  Every access that the page tables do not
 * already allow arrives here and is decided by the page's state: reserved,
 * NOACCESS, guarded or lacking the right -> SIGSEGV at the faulting
 * address; otherwise the page (allocated zeroed on first touch, or swapped
 * in) is mapped.  Kernel accesses (copy_to_user, GUP) get the same answers,
 * as EFAULT.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "ntmem.h"

static pgoff_t ntmem_fault_idx(struct vm_fault *vmf)
{
	return (vmf->address - vmf->vma->vm_start) >> PAGE_SHIFT;
}

/*
 * A guard fires once: the access fails and the page loses its guard.  A
 * user access gets SIGSEGV, and the thread's signal handler can learn it
 * was a guard; a kernel access (EFAULT) disarms it only when its system
 * call returns (ntmem_guard.c).
 */
static vm_fault_t ntmem_guard_fired(struct vm_fault *vmf,
				    struct ntmem_region *r, pgoff_t idx)
{
	if (vmf->flags & FAULT_FLAG_USER) {
		ntmem_guard_disarm(r, idx);
		ntmem_guard_record(r->nm, vmf->address);
	} else if (!ntmem_guard_defer(r, idx)) {
		ntmem_guard_disarm(r, idx);
	}
	return VM_FAULT_SIGSEGV;
}

/*
 * A page of a huge folio in a block that is not (or no longer) all alike,
 * or of one forced on every tmpfs (shmem_enabled=force).  The core would
 * map such a folio whole -- with one PMD when the page table is missing
 * (6.1, 6.12), or with a PTE for each of its pages (7.x) -- whatever the
 * protection of its other pages; so map just this page, read-only (a write
 * comes back through ->page_mkwrite), and tell the core it is done.
 */
static vm_fault_t ntmem_fault_one_page(struct vm_fault *vmf,
				       struct ntmem_region *r, struct page *page)
{
	int err = 0;

	/* under the folio's lock, as ntmem_insert_page() says */
	lock_page(page);
	/* truncated since the lookup: the core faults again */
	if (ntmem_store_owns(r, page))
		err = vm_insert_page(vmf->vma, vmf->address & PAGE_MASK, page);
	unlock_page(page);
	put_page(page);
	return err && err != -EBUSY ? VM_FAULT_OOM : VM_FAULT_NOPAGE;
}

/*
 * A block that may be huge (ntmem_thp_block()): shmem's fault handler gives
 * the page, locked, in a 2 MiB folio if it could allocate one
 * (ntmem_store_fault()).  The core then maps that folio with one PMD when
 * the page table is missing -- read-only for a read, whose first write
 * splits the PMD and faults the block again; writable and dirty for a
 * write, after ->page_mkwrite -- or the page with a PTE.  In a VM_MIXEDMAP
 * VMA, where a PMD cannot map a store folio, the whole block is mapped by
 * PTEs at once instead (ntmem_map_block()).  First, reset pages of the
 * block that reclaim dropped are found lost, as ntmem_reset_fault() does
 * for one page.
 */
static vm_fault_t ntmem_fault_huge(struct vm_fault *vmf,
				   struct ntmem_region *r, pgoff_t idx)
{
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pgoff_t first = ((vmf->address & PMD_MASK) - r->start) >> PAGE_SHIFT;
	struct folio *folio;
	vm_fault_t ret;
	int err = 0;

	ntmem_reset_fault_range(r, first, first + PTRS_PER_PMD - 1);
	ret = ntmem_store_fault(vmf);
	if (!(ret & VM_FAULT_LOCKED))
		return ret;
	atomic_long_inc(&ntmem_stats.faults);
	folio = page_folio(vmf->page);
	if (!folio_test_large(folio) || !(vmf->vma->vm_flags & VM_MIXEDMAP))
		return ret;
	/* mapped writable at once: the whole folio is written, reset no more */
	if (write)
		err = ntmem_page_written(r, idx);
	if (!err)
		err = ntmem_map_block(vmf->vma, vmf->address, folio, write);
	folio_unlock(folio);
	put_page(vmf->page);
	return err ? VM_FAULT_OOM : VM_FAULT_NOPAGE;
}

vm_fault_t ntmem_fault(struct vm_fault *vmf)
{
	struct ntmem_region *r = vmf->vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pgoff_t idx = ntmem_fault_idx(vmf);
	struct page *page;
	bool pinned;
	u32 prot;
	int err;

	if (!r)		/* a copy in a forked child */
		return VM_FAULT_SIGSEGV;
	prot = ntmem_page_prot(r, idx);
	if (!prot || (prot & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS)
		return VM_FAULT_SIGSEGV;
	if (prot & NTMEM_PAGE_GUARD)
		return ntmem_guard_fired(vmf, r, idx);
	if (write && !ntmem_prot_writable(prot))
		return VM_FAULT_SIGSEGV;
	if ((vmf->flags & FAULT_FLAG_INSTRUCTION) && !ntmem_prot_executable(prot))
		return VM_FAULT_SIGSEGV;

	/*
	 * Executable pages are special PTEs, which GUP cannot use: a remote
	 * access (process_vm_*, ptrace's GUP) fails before anything changes,
	 * and ptrace then reaches the page through ntmem_access().
	 */
	if ((vmf->flags & FAULT_FLAG_REMOTE) && ntmem_prot_executable(prot))
		return VM_FAULT_SIGSEGV;
	/* a view of a file: the file's own fault handler has the page */
	if (r->file_ops)
		return r->file_ops->fault(vmf);

	if (!ntmem_prot_executable(prot) &&
	    ntmem_thp_block(r, vmf->vma, vmf->address)) {
		vm_fault_t ret = ntmem_fault_huge(vmf, r, idx);

		if (ret != VM_FAULT_FALLBACK)
			return ret;
	}
	ntmem_reset_fault(r, idx);
	page = ntmem_page_get(r, idx, prot, &pinned);
	if (IS_ERR(page))
		return PTR_ERR(page) == -EIO ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
	atomic_long_inc(&ntmem_stats.faults);

	if (ntmem_prot_executable(prot)) {
		err = write ? ntmem_page_written(r, idx) : 0;
		if (!err)
			err = ntmem_map_exec_page(vmf->vma,
						  vmf->address & PAGE_MASK,
						  page, prot, write);
		put_page(page);
		return err ? VM_FAULT_OOM : VM_FAULT_NOPAGE;
	}
	/*
	 * The core maps the page with the VMA's protection, read-only because
	 * ->page_mkwrite exists; a write fault is made writable right away
	 * after ->page_mkwrite agrees.  The reference moves to the PTE.
	 */
	if (!pinned && folio_test_large(page_folio(page))) {
		if (vmf->vma->vm_flags & VM_MIXEDMAP)
			return ntmem_fault_one_page(vmf, r, page);
		/*
		 * Outside MIXEDMAP the core would map the whole folio, so this
		 * page moves to the pinned store, alone.  Rare: a block whose
		 * huge page could not be split, or shmem_enabled=force.
		 */
		put_page(page);
		page = ntmem_pinned_get(r, idx);
		if (IS_ERR(page))
			return VM_FAULT_OOM;
		pinned = true;
	}
	lock_page(page);
	/* truncated since the lookup: look again */
	if (!pinned && !ntmem_store_owns(r, page)) {
		unlock_page(page);
		put_page(page);
		return VM_FAULT_NOPAGE;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/*
 * First write to a page: either a write fault on a missing PTE, right after
 * ntmem_fault() checked the protection (the PTE was not present: nothing
 * left to check, and the fault's lock -- mmap_lock or the VMA's -- has been
 * held since), or a write to a page mapped read-only.
 */
vm_fault_t ntmem_page_mkwrite(struct vm_fault *vmf)
{
	struct ntmem_region *r = vmf->vma->vm_private_data;
	pgoff_t idx = ntmem_fault_idx(vmf);

	if (!r)
		return VM_FAULT_SIGSEGV;
	if (pte_present(vmf->orig_pte) &&
	    !ntmem_prot_writable(ntmem_page_prot(r, idx)))
		return VM_FAULT_SIGSEGV;
	/* a view of a file: its file system makes the page writable */
	if (r->file_ops && r->file_ops->page_mkwrite)
		return r->file_ops->page_mkwrite(vmf);
	if (ntmem_page_written(r, idx))
		return VM_FAULT_OOM;
	/* a pinned page has no mapping: it must come back locked */
	lock_page(vmf->page);
	return VM_FAULT_LOCKED;
}

/* First write to an executable page mapped read-only (a special PTE). */
vm_fault_t ntmem_pfn_mkwrite(struct vm_fault *vmf)
{
	struct ntmem_region *r = vmf->vma->vm_private_data;
	pgoff_t idx = ntmem_fault_idx(vmf);

	if (!r || (vmf->flags & FAULT_FLAG_REMOTE) ||
	    !ntmem_prot_writable(ntmem_page_prot(r, idx)))
		return VM_FAULT_SIGSEGV;
	return ntmem_page_written(r, idx) ? VM_FAULT_OOM : 0;
}

/*
 * ptrace and /proc/PID/mem, when GUP cannot reach the page (executable
 * pages, or pages whose protection refuses the access).  Debuggers may read
 * and write any committed page that is not NOACCESS, as on Windows.
 * Called with the target's mmap_lock held for read.
 */
int ntmem_access(struct vm_area_struct *vma, unsigned long addr, void *buf,
		 int len, int write)
{
	struct ntmem_region *r = vma->vm_private_data;
	int done = 0;

	while (r && done < len) {
		pgoff_t idx = (addr - vma->vm_start) >> PAGE_SHIFT;
		unsigned int off = offset_in_page(addr);
		int n = min_t(int, len - done, PAGE_SIZE - off);
		u32 prot = ntmem_page_prot(r, idx);
		struct page *page;
		bool pinned;
		void *kaddr;

		if (!prot || (prot & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS)
			break;
		/* a file's page is written only through its ->page_mkwrite */
		if (write && r->file_ops)
			break;
		if (write && ntmem_page_written(r, idx))
			break;
		ntmem_reset_fault(r, idx);
		page = ntmem_page_get(r, idx, prot, &pinned);
		if (IS_ERR(page))
			break;
		kaddr = kmap_local_page(page);
		if (write) {
			memcpy(kaddr + off, buf + done, n);
			if (!pinned)
				set_page_dirty_lock(page);
		} else {
			memcpy(buf + done, kaddr + off, n);
		}
		kunmap_local(kaddr);
		put_page(page);
		done += n;
		addr += n;
	}
	return done ? done : -EIO;
}
