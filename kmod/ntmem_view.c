// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: views of sections (MapViewOfFile).
 *
 * A view is a region (ntmem_region.c) made by MAP_VIEW the way RESERVE
 * makes a reservation -- vm_mmap() at a 64 KiB-aligned address over free
 * space or placeholders -- so that every page keeps its own state and
 * protection in one VMA, and QUERY, PROTECT and the fault path serve it
 * as they serve a reservation.  What differs is where its pages are:
 *
 *  - a shared view maps a file of the section's own memory at the view's
 *    offset (region->store_base), so the page cache, rmap, swap and memory
 *    cgroups see one set of pages for every view in every process.  Its
 *    committed pages are the section's: all of them (SEC_COMMIT), or those
 *    a view committed (SEC_RESERVE: ntmem_view_commit() commits them in
 *    every shared view at once).  It is never charged itself; the section
 *    is (ntmem_section.c).
 *  - a copy-on-write view is a reservation of the process's own store,
 *    charged like one, whose pages are copied from the section when first
 *    touched (ntmem_view_fill()): writes stay private, and a written page
 *    reports PAGE_READWRITE (ntmem_view_written()).  Its execute pages go
 *    to the pinned store like any reservation's.
 *
 * A shared view has no execute pages: those are special PTEs, which the
 * section's other mappings and its reclaim would not see (EOPNOTSUPP).
 *
 * A shared view of a file section maps the file itself: ->mmap lets the
 * file's own mmap set the VMA up and makes the file the VMA's, as a
 * stacking file system does (vma_set_file()), so writeback, rmap and the
 * file system's ->page_mkwrite (which reserves blocks) see an ordinary
 * shared mapping of it; ntmem's ->fault and ->page_mkwrite check the page's
 * state and pass on to the file's (region->file_ops).  The file is mapped
 * through a file of the module's (vm_mmap() asks its ->get_unmapped_area
 * for the 64 KiB base), so the kernel's own checks of the file are made
 * here: the LSM's mmap hook (by a probe that cannot map, as ntmem_wx.c
 * does), and write seals (held off by a writable count, as mmap does).
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>

#include "ntmem.h"
#include "ntmem_compat.h"
#include "ntmem_section.h"

/* A section page of @r, for its page @idx. */
static pgoff_t ntmem_view_section_idx(struct ntmem_region *r, pgoff_t idx)
{
	return r->section_first + idx;
}

struct ntmem_view_fill_args {
	struct ntmem_region *r;
	pgoff_t first;		/* the view's first section page */
	u32 protect;
	int err;
};

static void ntmem_view_mark(struct ntmem_view_fill_args *f, pgoff_t a,
			    pgoff_t b)
{
	if (!f->err)
		f->err = mtree_store_range(&f->r->state, a - f->first,
					   b - f->first,
					   xa_mk_value(f->protect), GFP_KERNEL);
}

/*
 * The state of a new view: the section's committed pages committed with
 * the view's protection.  A copy-on-write view is charged for them, as a
 * reservation is for its commit.  Called from ->mmap with the new region.
 */
int ntmem_view_init(struct ntmem_region *r,
		    const struct ntmem_view_request *req)
{
	struct ntmem_section_object *s = req->section;
	pgoff_t pages = ntmem_region_pages(r);
	pgoff_t last = req->first + pages - 1;
	struct ntmem_view_fill_args f = {
		.r = r, .first = req->first, .protect = req->protect,
	};
	pgoff_t from = req->first, a, b;
	unsigned long committed = 0;

	r->cow = req->cow;
	r->view_access = req->access;
	r->alloc_protect = req->protect;
	r->section_first = req->first;
	if (!r->cow)
		r->store_base = req->first;
	mutex_lock(&s->lock);
	while (!f.err && ntmem_section_next_run(s, from, last, &a, &b)) {
		ntmem_view_mark(&f, a, b);
		committed += b - a + 1;
		from = b + 1;
	}
	if (!f.err && r->cow)
		f.err = ntmem_charge(r->nm, committed);
	if (f.err) {
		mutex_unlock(&s->lock);
		mtree_destroy(&r->state);
		mt_init_flags(&r->state, MT_FLAGS_USE_RCU);
		return f.err;
	}
	ntmem_section_get(s);
	r->section = s;
	if (!r->cow)
		list_add(&r->view_node, &s->views);
	mutex_unlock(&s->lock);
	return 0;
}

/* A shared view ends (->close): its pages stay the section's. */
void ntmem_view_teardown(struct ntmem_region *r)
{
	struct ntmem_section_object *s = r->section;

	mutex_lock(&s->lock);
	list_del_init(&r->view_node);
	mutex_unlock(&s->lock);
}

/*
 * Whether PROTECT or COMMIT may give pages of view @r @protect: no more
 * than the view's access allows (EACCES), copy-on-write protections only
 * in a copy-on-write view (EINVAL), and there instead of read-write
 * ones (EACCES).  0 for a reservation.
 */
int ntmem_view_protect_allowed(struct ntmem_region *r, u32 protect)
{
	u32 base = protect & NTMEM_PAGE_BASE_MASK;
	bool wc = base == NTMEM_PAGE_WRITECOPY ||
		  base == NTMEM_PAGE_EXECUTE_WRITECOPY;

	if (!ntmem_region_is_view(r))
		return wc ? -EINVAL : 0;
	if (wc && !r->cow)
		return -EINVAL;
	if (ntmem_prot_executable(protect) &&
	    !(r->view_access & NTMEM_FILE_MAP_EXECUTE))
		return -EACCES;
	if (ntmem_prot_writable(protect) && !r->cow &&
	    !(r->view_access & NTMEM_FILE_MAP_WRITE))
		return -EACCES;
	/* in a copy-on-write view only a write makes a page read-write */
	if (ntmem_prot_writable(protect) && r->cow && !wc)
		return -EACCES;
	return 0;
}

struct ntmem_view_commit_args {
	struct ntmem_section_object *s;
	pgoff_t first, last;	/* section pages newly committed */
};

/* Commit section pages [first, last] in shared view @v, as it maps them. */
static void ntmem_view_commit_in(struct ntmem_region *v, pgoff_t first,
				 pgoff_t last)
{
	pgoff_t vlast = v->section_first + ntmem_region_pages(v) - 1;
	pgoff_t a = max_t(pgoff_t, first, v->section_first);
	pgoff_t b = min_t(pgoff_t, last, vlast);

	if (a > b)
		return;
	/*
	 * The pages had no state in any view: nothing to unmap.  A failure
	 * (no memory for the tree) leaves that view without them: it faults
	 * on them, as before the commit.
	 */
	mtree_store_range(&v->state, a - v->section_first,
			  b - v->section_first, xa_mk_value(v->alloc_protect),
			  GFP_KERNEL);
}

/*
 * COMMIT in shared view @r of an SEC_RESERVE section: its section pages of
 * [first, last] (view pages) that no view committed yet become committed,
 * charged to the section, and committed in every other shared view too.
 * The caller then gives @r's pages the protection asked for.  Caller
 * holds mmap_lock for write.
 */
int ntmem_view_commit(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	struct ntmem_section_object *s = r->section;
	pgoff_t sfirst = ntmem_view_section_idx(r, first);
	pgoff_t slast = ntmem_view_section_idx(r, last);
	pgoff_t from = sfirst, a, b, fresh = 0;
	struct ntmem_region *v;
	int err;

	if (s->attrs == NTMEM_SEC_COMMIT)
		return 0;
	mutex_lock(&s->lock);
	fresh = slast - sfirst + 1;
	while (ntmem_section_next_run(s, from, slast, &a, &b)) {
		fresh -= b - a + 1;
		from = b + 1;
	}
	err = ntmem_charge(s->owner, fresh);
	if (!err)
		err = mtree_store_range(&s->committed, sfirst, slast,
					xa_mk_value(1), GFP_KERNEL);
	if (err) {
		if (fresh && err != -ENOSPC)
			ntmem_uncharge(s->owner, fresh);
		mutex_unlock(&s->lock);
		return err;
	}
	s->charged += fresh;
	list_for_each_entry(v, &s->views, view_node)
		if (v != r)
			ntmem_view_commit_in(v, sfirst, slast);
	mutex_unlock(&s->lock);
	return 0;
}

/*
 * Copy-on-write view: make store page @page (locked by nobody, referenced)
 * of @idx hold the section's data, once: at its first use.  Pages the
 * section never had stay zero.
 */
int ntmem_view_fill(struct ntmem_region *r, pgoff_t idx, struct page *page)
{
	struct page *src;
	int err = 0;

	if (xa_load(&r->copied, idx))
		return 0;
	src = ntmem_section_read_page(r->section,
				      ntmem_view_section_idx(r, idx));
	if (IS_ERR(src))
		return PTR_ERR(src);
	lock_page(page);
	if (!xa_load(&r->copied, idx)) {
		err = xa_err(xa_store(&r->copied, idx, xa_mk_value(1),
				      GFP_KERNEL));
		if (!err && src) {
			copy_highpage(page, src);
			set_page_dirty(page);
		}
	}
	unlock_page(page);
	if (src)
		put_page(src);
	return err;
}

/*
 * First write to page @idx of a copy-on-write view: the page is the
 * process's own now, PAGE_WRITECOPY becomes PAGE_READWRITE (as Windows
 * reports it).  Under the fault's lock, serialised by the tree's own lock
 * as a guard's disarm is.
 */
void ntmem_view_written(struct ntmem_region *r, pgoff_t idx)
{
	u32 prot = ntmem_page_prot(r, idx), base = prot & NTMEM_PAGE_BASE_MASK;

	if (base == NTMEM_PAGE_WRITECOPY)
		base = NTMEM_PAGE_READWRITE;
	else if (base == NTMEM_PAGE_EXECUTE_WRITECOPY)
		base = NTMEM_PAGE_EXECUTE_READWRITE;
	else
		return;
	mtree_store_range(&r->state, idx, idx,
			  xa_mk_value((prot & ~NTMEM_PAGE_BASE_MASK) | base),
			  GFP_KERNEL);
}

/*
 * ->mmap of a shared view of a file section: the file's own mmap sets up
 * @vma, whose file it becomes; its vm_ops serve the faults ntmem lets
 * through.  Called from ->mmap after ntmem_view_init().
 */
int ntmem_view_attach_file(struct ntmem_region *r, struct vm_area_struct *vma)
{
	struct file *file = r->section->memory;
	int err;

	vma_set_file(vma, file);
	err = ntmem_file_mmap(file, vma);
	if (err)
		return err;
	/* only page-cache pages: the core would bypass ->fault for the rest */
	if (!vma->vm_ops || !vma->vm_ops->fault ||
	    (vma->vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_IO)))
		return -ENODEV;
	r->file_ops = vma->vm_ops;
	return 0;
}

/*
 * The LSM's say on mapping @file with @prot (its mmap hook is not
 * exported): vm_mmap() runs it first, and then fails on the address, one
 * page at the top of the user range, before anything is mapped.
 */
static int ntmem_view_lsm_check(struct file *file, unsigned long prot,
				unsigned long flags)
{
	unsigned long ret = vm_mmap(file, TASK_SIZE, PAGE_SIZE, prot,
				    flags | MAP_FIXED, 0);

	if (ret == -ENOMEM)
		return 0;
	if (WARN_ON_ONCE(!IS_ERR_VALUE(ret))) {
		vm_munmap(ret, PAGE_SIZE);	/* (cannot happen) */
		return -EPERM;
	}
	return ret == -EPERM ? -EACCES : (int)ret;
}

/*
 * MAP_VIEW: map @a->length bytes of @s from @a->offset (checked by the
 * caller) with the view's access, as RESERVE maps a reservation.
 */
int ntmem_view_map(struct ntmem_mm *nm, struct ntmem_section_object *s,
		   struct ntmem_view *a)
{
	struct ntmem_view_request req = {
		.section = s,
		.first = a->offset >> PAGE_SHIFT,
		.access = a->access,
		.protect = ntmem_section_view_protect(s, a->access),
		.cow = (a->access & NTMEM_FILE_MAP_COPY) &&
		       !(a->access & NTMEM_FILE_MAP_WRITE),
	};
	struct ntmem_reserve res = {
		.flags = a->flags,
		.addr = a->addr,
		.length = a->length,
		.protect = req.protect,
	};
	bool cow = req.cow;
	bool write = a->access & NTMEM_FILE_MAP_WRITE;
	unsigned long prot = PROT_READ | (write || cow ? PROT_WRITE : 0);
	unsigned long flags = MAP_SHARED, addr;
	struct address_space *sealed = NULL;
	struct file *file;
	int err;

	if (!req.protect)
		return -EACCES;
	if (ntmem_prot_executable(req.protect)) {
		if (!cow)
			return -EOPNOTSUPP;
		err = ntmem_exec_permitted(nm, req.protect);
		if (err)
			return err;
	}
	if (s->file_backed) {
		err = ntmem_view_lsm_check(s->memory, prot,
					   cow ? MAP_PRIVATE : MAP_SHARED);
		if (err)
			return err;
		/* no write seal while the view is being made (memfd) */
		if (write) {
			sealed = s->memory->f_mapping;
			if (mapping_map_writable(sealed))
				return -EACCES;
		}
	}
	if (mutex_lock_killable(&nm->map_lock)) {
		err = -EINTR;
		goto out;
	}
	/*
	 * A copy-on-write view keeps its pages in the process's store; a
	 * shared view of a file is mapped through the placeholders' file.
	 */
	err = ntmem_store_create(nm, false);
	if (!err && cow)
		err = ntmem_request_file(nm, &nm->file, NTMEM_MAPS_NAME);
	if (!err && !cow && s->file_backed)
		err = ntmem_request_file(nm, &nm->free_file,
					 NTMEM_PLACEHOLDER_NAME);
	if (err) {
		mutex_unlock(&nm->map_lock);
		goto out;
	}
	if (cow || s->file_backed) {
		file = cow ? nm->file : nm->free_file;
		get_file(file);
	} else {
		file = ntmem_view_file(nm, s->memory);
		if (IS_ERR(file)) {
			mutex_unlock(&nm->map_lock);
			err = PTR_ERR(file);
			goto out;
		}
	}
	if (a->flags & NTMEM_RESERVE_FIXED)
		flags |= MAP_FIXED;
	WRITE_ONCE(nm->pending, &res);
	WRITE_ONCE(nm->view, &req);
	WRITE_ONCE(nm->pending_task, current);
	nm->checked = false;
	addr = vm_mmap(file, a->addr, a->length, prot, flags,
		       cow ? 0 : a->offset);
	if (IS_ERR_VALUE(addr) && nm->checked)	/* REPLACE, failed late */
		addr = ntmem_hold_retry(nm, file, a->addr, a->length, prot,
					cow ? 0 : a->offset);
	WRITE_ONCE(nm->pending_task, NULL);
	WRITE_ONCE(nm->view, NULL);
	WRITE_ONCE(nm->pending, NULL);
	mutex_unlock(&nm->map_lock);
	fput(file);
	err = IS_ERR_VALUE(addr) ? (int)addr : 0;
	if (!err)
		a->addr = addr;
out:
	if (sealed)
		mapping_unmap_writable(sealed);
	return err;
}

/*
 * UNMAP_VIEW: the view that holds @addr is replaced by released space, or
 * with @preserve by the Windows placeholder it was made over.
 */
int ntmem_view_unmap(struct ntmem_mm *nm, unsigned long addr, bool preserve)
{
	return ntmem_release(nm, addr, 0, true, preserve);
}
