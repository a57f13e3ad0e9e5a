// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the page store.  The committed pages of an address space are the
 * folios of one shmem file, on a tmpfs mount of the module's own, at index
 * (address >> PAGE_SHIFT).  So Linux reclaims, swaps, charges (to the
 * memory cgroup of the process that faults them in) and counts (RssShmem,
 * Committed_AS) them as it does the pages of a memfd, and GUP, O_DIRECT
 * and migration work on them as on any page-cache page.
 *
 * A reservation maps them through the core fault path.  Its VMA's file is a
 * second file of the store's inode, with ntmem's file operations, and its
 * vm_pgoff is its address in pages: so rmap finds every mapping of a store
 * page, and reclaim can unmap it, write it to swap and drop it.
 *
 * The private mount is the drivers' way (i915's gemfs): it has no size
 * limit (a kernel mount), and it gives huge pages only to an advised VMA
 * (huge=advise).  So a lookup by index alone (ntmem_store_get()) always
 * gets a small page, and a fault on a block that may be huge goes through
 * shmem's own fault handler with the reservation's VMA
 * (ntmem_store_fault()), which allocates a 2 MiB folio when the policy
 * allows it (ntmem_thp.c) and the block's 2 MiB of the file are empty.
 * Pages that must neither move nor be swapped -- locked ones, and
 * executable ones, which are mapped by special PTEs that rmap cannot see
 * -- live in the pinned store instead (region->pages, ntmem_pages.c).
 */
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>

#include "ntmem.h"
#include "ntmem_compat.h"
#include "ntmem_section.h"

static struct vfsmount *ntmem_store_mnt;
/* huge=always: the large-page store (MEM_LARGE_PAGES); an error without THP */
static struct vfsmount *ntmem_large_mnt;
/* shmem's ->fault, which the store's VMAs call for blocks that may be huge */
static vm_fault_t (*ntmem_shmem_fault)(struct vm_fault *vmf);

/*
 * shmem's fault handler, from the vm_operations its ->mmap (or, on 7.x,
 * ->mmap_prepare) gives a mapping of one of its files: it is not exported.
 */
static void ntmem_store_find_fault(void)
{
	const struct vm_operations_struct *ops = NULL;
	struct file *file;

	file = shmem_file_setup_with_mnt(ntmem_store_mnt, "ntmem", PAGE_SIZE,
					 NTMEM_SHMEM_NORESERVE);
	if (IS_ERR(file))
		return;
#ifdef NTMEM_HAVE_MMAP_PREPARE
	if (file->f_op->mmap_prepare) {
		struct vm_area_desc desc = {
			.file = file, .vm_file = file, .end = PAGE_SIZE,
		};

		if (!file->f_op->mmap_prepare(&desc))
			ops = desc.vm_ops;
	}
#endif
	if (!ops && file->f_op->mmap) {
		struct vm_area_struct vma;

		memset(&vma, 0, sizeof(vma));
		vma.vm_file = file;
		vma.vm_end = PAGE_SIZE;
		if (!file->f_op->mmap(file, &vma))
			ops = vma.vm_ops;
	}
	fput(file);
	if (ops)
		ntmem_shmem_fault = ops->fault;
}

int ntmem_store_init(void)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	char advise[] = "huge=advise", always[] = "huge=always";

	if (!type)
		return -ENODEV;
	/* tmpfs is built in: get_fs_type() took no module reference */
	/* the parser may modify the options: they are writable arrays */
	ntmem_store_mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name,
					 advise);
	/* a kernel without THP knows no huge= option */
	if (IS_ERR(ntmem_store_mnt))
		ntmem_store_mnt = kern_mount(type);
	if (IS_ERR(ntmem_store_mnt))
		return PTR_ERR(ntmem_store_mnt);
	ntmem_large_mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name,
					 always);
	ntmem_store_find_fault();
	return 0;
}

void ntmem_store_exit(void)
{
	if (!IS_ERR(ntmem_large_mnt))
		kern_unmount(ntmem_large_mnt);
	kern_unmount(ntmem_store_mnt);
}

/*
 * @nm's store, or with @large its large-page store, created on first use.
 * Caller holds nm->map_lock.
 */
int ntmem_store_create(struct ntmem_mm *nm, bool large)
{
	struct file **storep = large ? &nm->large_store : &nm->store;
	struct vfsmount *mnt = large ? ntmem_large_mnt : ntmem_store_mnt;
	struct file *store;

	if (*storep)
		return 0;
	if (IS_ERR(mnt))
		return -EOPNOTSUPP;
	/*
	 * NORESERVE: the commit charge is ntmem's own (ntmem_charge.c); the
	 * kernel accounts each page in Committed_AS as it gets memory, as it
	 * does for a memfd.  The size covers every user address.
	 */
	store = shmem_file_setup_with_mnt(mnt, large ? "ntmem-large" : "ntmem",
					  MAX_LFS_FILESIZE,
					  NTMEM_SHMEM_NORESERVE);
	/*
	 * 6.1 says ENOSPC when it has no memory for the inode; the mount has
	 * no inode limit, so that is all it can mean here, and ENOSPC would
	 * read as the commit limit (ERROR_COMMITMENT_LIMIT).
	 */
	if (PTR_ERR_OR_ZERO(store) == -ENOSPC)
		return -ENOMEM;
	if (IS_ERR(store))
		return PTR_ERR(store);
	/* large pages are locked, as SHM_LOCK locks a shmem segment */
	if (large)
		mapping_set_unevictable(store->f_mapping);
	/* readers without map_lock see a whole file (ntmem_store_usage()) */
	smp_store_release(storep, store);
	return 0;
}

/*
 * Another file of the inode of @store (a store, or a section's memory),
 * named @name, with @fops: the file reservations and views map
 * (ntmem_region.c).
 */
struct file *ntmem_store_open(struct file *store, const char *name,
			      const struct file_operations *fops)
{
	struct inode *inode = file_inode(store);
	struct file *file;

	/* __fput() puts the module of f_op; alloc_file_pseudo() took none */
	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);
	ihold(inode);
	file = alloc_file_pseudo(inode, store->f_path.mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
	}
	return file;
}

/*
 * Whether @file is a shmem file (a memfd, a tmpfs file), whose pages come
 * through shmem's own calls: its address_space has no ->read_folio.
 */
bool ntmem_store_is_shmem(struct file *file)
{
	return file_inode(file)->i_sb->s_type == ntmem_store_mnt->mnt_sb->s_type;
}

/*
 * The memory of a new section of @size bytes (ntmem_section.c): a shmem
 * file of the store's mount, so that its pages are swapped, reclaimed and
 * charged as the stores' are.  NORESERVE: the section's commit charge is
 * ntmem's own.
 */
struct file *ntmem_store_section(loff_t size)
{
	struct file *file;

	file = shmem_file_setup_with_mnt(ntmem_store_mnt, "ntmem-section",
					 size, NTMEM_SHMEM_NORESERVE);
	/* as in ntmem_store_create(): no inode limit, so no memory */
	if (PTR_ERR_OR_ZERO(file) == -ENOSPC)
		return ERR_PTR(-ENOMEM);
	return file;
}

void ntmem_store_destroy(struct ntmem_mm *nm)
{
	if (nm->store)
		fput(nm->store);
	if (nm->large_store)
		fput(nm->large_store);
}

/*
 * The page cache that holds @r's pages: its process's store (or large-page
 * store), or for a shared view its section's memory.
 */
struct address_space *ntmem_store_mapping(struct ntmem_region *r)
{
	if (r->section && !r->cow)
		return ntmem_section_mapping(r->section);
	return (r->large ? r->nm->large_store : r->nm->store)->f_mapping;
}

static pgoff_t ntmem_store_index(struct ntmem_region *r, pgoff_t idx)
{
	return r->store_base + idx;
}

/*
 * The fault @vmf on a block that may be huge (ntmem_thp_block()), answered
 * by shmem: the page, swapped in or allocated zeroed -- in a 2 MiB folio if
 * the block's part of the file is empty -- locked in vmf->page, charged to
 * the memory cgroup of the VMA's mm.  VM_FAULT_FALLBACK if the store
 * cannot do it (the caller then takes the page as usual).
 */
vm_fault_t ntmem_store_fault(struct vm_fault *vmf)
{
	if (!ntmem_shmem_fault)
		return VM_FAULT_FALLBACK;
	return ntmem_shmem_fault(vmf);
}

/* Whether store page @page is still in the store (not truncated). */
bool ntmem_store_owns(struct ntmem_region *r, struct page *page)
{
	return page_folio(page)->mapping == ntmem_store_mapping(r);
}

/*
 * Charge what is allocated until ntmem_owner_charge_end() to the memory
 * cgroup of @r's process, even when another process reaches its memory
 * (ptrace, /proc/PID/mem, process_vm_writev): Linux charges a page that GUP
 * faults into a process to that process's cgroup, and a debugger's cgroup
 * must not pay for (or be OOM-killed over) its target's memory.  Returns
 * the cgroup to give back, NULL when the caller is the owner.
 */
struct mem_cgroup *ntmem_owner_charge_begin(struct ntmem_region *r,
					    struct mem_cgroup **old)
{
	struct mem_cgroup *memcg;

	if (current->mm == r->nm->mm)
		return NULL;
	memcg = get_mem_cgroup_from_mm(r->nm->mm);
	*old = set_active_memcg(memcg);
	return memcg;
}

void ntmem_owner_charge_end(struct mem_cgroup *memcg, struct mem_cgroup *old)
{
	if (!memcg)
		return;
	set_active_memcg(old);
	mem_cgroup_put(memcg);
}

/*
 * The store page of @idx, swapped in or allocated zeroed, with a reference
 * for the caller, charged to the owner's cgroup.
 */
struct page *ntmem_store_get(struct ntmem_region *r, pgoff_t idx)
{
	struct address_space *mapping = ntmem_store_mapping(r);
	struct mem_cgroup *memcg, *old = NULL;
	struct page *page;

	int err;

	/* a shared view of a file: the file's page (ptrace reads) */
	if (r->file_ops) {
		page = ntmem_section_read_page(r->section,
					       ntmem_store_index(r, idx));
		return page ? page : ERR_PTR(-EIO);
	}
	memcg = ntmem_owner_charge_begin(r, &old);
	page = shmem_read_mapping_page_gfp(mapping, ntmem_store_index(r, idx),
					   mapping_gfp_mask(mapping));
	if (!IS_ERR(page) && r->cow) {
		err = ntmem_view_fill(r, idx, page);
		if (err) {
			put_page(page);
			page = ERR_PTR(err);
		}
	}
	ntmem_owner_charge_end(memcg, old);
	return page;
}

/* The store page of @idx if it is in memory, referenced; else NULL. */
struct page *ntmem_store_find(struct ntmem_region *r, pgoff_t idx)
{
	return find_get_page(ntmem_store_mapping(r), ntmem_store_index(r, idx));
}

#ifdef CONFIG_MAPPING_DIRTY_HELPERS
/*
 * Write-protect and clean every PTE that maps a store page of [first, last]
 * of @r (at most NTMEM_STORE_WRPROTECT_MAX pages), the way a driver that
 * tracks writes by the page tables does (vmwgfx): one page-table walk
 * write-protects, then -- writers now held in ->page_mkwrite by the locks
 * the caller holds -- one walk takes the dirty bits, each walk with one
 * TLB flush, where folio_mkclean() walks the reverse map and flushes page
 * by page.  Clean, so that no PTE is made writable again without a fault
 * (NUMA balancing restores write access to a dirty shared PTE).  A page
 * found dirty marks its folio dirty, as folio_mkclean()'s callers do.
 * Caller holds mmap_lock and the VMA's lock for write.
 */
void ntmem_store_wrprotect(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	struct address_space *mapping = ntmem_store_mapping(r);
	pgoff_t base = ntmem_store_index(r, first), nr = last - first + 1;
	DECLARE_BITMAP(dirty, NTMEM_STORE_WRPROTECT_MAX);
	pgoff_t start = nr, end = 0;
	unsigned long i;

	if (WARN_ON_ONCE(nr > NTMEM_STORE_WRPROTECT_MAX))
		return;
	bitmap_zero(dirty, nr);
	wp_shared_mapping_range(mapping, base, nr);
	if (!clean_record_shared_mapping_range(mapping, base, nr, base, dirty,
					       &start, &end))
		return;
	for_each_set_bit(i, dirty, nr) {
		struct folio *folio = filemap_get_folio(mapping, base + i);

		if (IS_ERR_OR_NULL(folio))
			continue;
		if (!folio_test_dirty(folio)) {
			folio_lock(folio);
			if (folio->mapping == mapping)
				folio_mark_dirty(folio);
			folio_unlock(folio);
		}
		folio_put(folio);
	}
}
#endif

/* Whether the store holds @idx at all, in memory or in swap. */
bool ntmem_store_holds(struct ntmem_region *r, pgoff_t idx)
{
	return xa_load(&ntmem_store_mapping(r)->i_pages,
		       ntmem_store_index(r, idx)) != NULL;
}

/* Free the store pages of [first, last], in memory and in swap. */
void ntmem_store_free(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	loff_t start = (loff_t)ntmem_store_index(r, first) << PAGE_SHIFT;
	loff_t end = ((loff_t)ntmem_store_index(r, last) + 1) << PAGE_SHIFT;

	shmem_truncate_range(ntmem_store_mapping(r)->host, start, end - 1);
}

/*
 * Call @fn for each folio of the store in [first, last] that is in memory
 * and lies wholly in the range, locked and referenced; stop at the first
 * non-zero return.
 */
int ntmem_store_for_each(struct ntmem_region *r, pgoff_t first, pgoff_t last,
			 int (*fn)(struct ntmem_region *r, pgoff_t idx,
				   struct folio *folio, void *arg),
			 void *arg)
{
	struct address_space *mapping = ntmem_store_mapping(r);
	pgoff_t base = ntmem_store_index(r, 0);
	pgoff_t index = base + first, end = base + last;
	struct folio_batch fbatch;
	unsigned int i;
	int err = 0;

	folio_batch_init(&fbatch);
	while (!err && filemap_get_folios(mapping, &index, end, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (folio->index < base + first ||
			    folio->index + folio_nr_pages(folio) - 1 > end)
				continue;
			folio_lock(folio);
			if (folio->mapping == mapping)
				err = fn(r, folio->index - base, folio, arg);
			folio_unlock(folio);
			if (err)
				break;
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return err;
}

static int ntmem_store_count_one(struct ntmem_region *r, pgoff_t idx,
				 struct folio *folio, void *arg)
{
	*(unsigned long *)arg += folio_nr_pages(folio);
	return 0;
}

/* Pages of [first, last] of @r that are in memory, in either store. */
unsigned long ntmem_store_resident(struct ntmem_region *r, pgoff_t first,
				   pgoff_t last)
{
	unsigned long n = 0, i;
	void *entry;

	ntmem_store_for_each(r, first, last, ntmem_store_count_one, &n);
	xa_for_each_range(&r->pages, i, entry, first, last)
		n++;
	return n;
}

/* Pages of @nm's stores in memory and in swap. */
void ntmem_store_usage(struct ntmem_mm *nm, unsigned long *resident,
		       unsigned long *swapped)
{
	struct file *store = ntmem_store_peek(&nm->store);
	struct file *large = ntmem_store_peek(&nm->large_store);

	*resident = atomic_long_read(&nm->resident);
	*swapped = 0;
	if (store) {
		*resident += READ_ONCE(store->f_mapping->nrpages);
		*swapped = READ_ONCE(SHMEM_I(file_inode(store))->swapped);
	}
	if (large)
		*resident += READ_ONCE(large->f_mapping->nrpages);
}

/*
 * MEM_LARGE_PAGES: a 2 MiB page for each block of @r, now (the large-page
 * store allocates nothing smaller while a block is empty); ENOMEM if one
 * is not to be had, and then nothing is left.
 */
int ntmem_store_populate_large(struct ntmem_region *r)
{
	pgoff_t idx, pages = ntmem_region_pages(r);
	int err = 0;

	for (idx = 0; idx < pages && !err; idx += PTRS_PER_PMD) {
		struct page *page = ntmem_store_get(r, idx);

		if (IS_ERR(page)) {
			err = PTR_ERR(page);
			break;
		}
		if (folio_order(page_folio(page)) != PMD_SHIFT - PAGE_SHIFT)
			err = -ENOMEM;
		put_page(page);
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	if (err)
		ntmem_store_free(r, 0, pages - 1);
	return err;
}

/*
 * Split the huge store folio that holds page @idx, if there is one, keeping
 * every page's contents: truncating one page of a huge folio splits it
 * (ntmem_store_free()), and that page is then put back from a copy -- into
 * a page of its own, or, where the folio could not be split and the page
 * was zeroed in place, into the same page; into the pinned store if the
 * store has no memory for it.  Best effort: a block whose folio stays huge
 * is mapped page by page all the same (ntmem_fault.c).  Caller holds
 * mmap_lock for write; the truncation unmaps the folio.
 */
void ntmem_store_split(struct ntmem_region *r, pgoff_t idx)
{
	struct page *page = ntmem_store_find(r, idx), *copy;

	if (!page)
		return;
	copy = folio_test_large(page_folio(page)) ?
	       alloc_page(GFP_HIGHUSER | __GFP_ACCOUNT) : NULL;
	if (!copy) {
		put_page(page);
		return;
	}
	copy_highpage(copy, page);
	put_page(page);
	/*
	 * Written back, the page is reset no more (before the truncation, so
	 * that the reset shrinker does not find it gone); the folio's other
	 * pages, clean and on their own after the split, stay reset.
	 */
	ntmem_reset_page_written(r, idx);
	ntmem_store_free(r, idx, idx);
	page = ntmem_store_get(r, idx);
	if (IS_ERR(page)) {
		/* one reference for the pinned store, which takes the copy */
		xa_store(&r->pages, idx, copy, GFP_KERNEL);
		ntmem_resident_add(r, 1);
		return;
	}
	copy_highpage(page, copy);
	set_page_dirty_lock(page);
	/* not split: the folio is dirty as a whole, and reset no more */
	if (folio_test_large(page_folio(page)))
		ntmem_reset_written(r, idx);
	put_page(page);
	__free_page(copy);
	ntmem_reset_reclean(r, idx);
}
