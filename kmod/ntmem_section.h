/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem: sections and their views (ntmem_section.c, ntmem_view.c).
 *
 * Locking: section->lock (a mutex) is taken under mmap_lock of the mm
 * whose view commits or ends, and protects @committed, @charged and
 * @views; under it a commit writes the state of other processes' views
 * (their trees' own locks), never their mmap_lock.  Views are linked and
 * unlinked under it (->mmap, ->close).  ntmem_section_names_lock is taken
 * under mmap_lock too (the last put, from a view's ->close), so nothing
 * that may fault or take mmap_lock runs under it.
 */
#ifndef NTMEM_SECTION_H
#define NTMEM_SECTION_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/uidgid.h>

struct ntmem_mm;
struct ntmem_region;

/**
 * struct ntmem_section_object - a section (pagefile-backed file mapping).
 * @kref:      held by each descriptor and each view
 * @memory:    the file of its pages: a shmem file of the module's, or
 *             the caller's file for a file section (reference held;
 *             invariant)
 * @file_backed: @memory is the caller's file (invariant)
 * @size:      its size in bytes, as created (invariant)
 * @pages:     @size in pages, rounded up (invariant)
 * @protect:   its protection, NTMEM_PAGE_* (invariant)
 * @attrs:     NTMEM_SEC_COMMIT or NTMEM_SEC_RESERVE (invariant)
 * @owner:     the context charged for it (reference held; invariant)
 * @lock:      protects @committed, @charged and @views
 * @committed: SEC_RESERVE: section page -> xa_mk_value(1) for each page a
 *             view committed
 * @charged:   pages charged to @owner
 * @views:     the shared views of it (region->view_node)
 * @handles:   its descriptors (names' lock): the name goes with the last
 * @name_node: in ntmem_section_names while named and held by a descriptor
 *             (names' lock)
 * @ns:        the user namespace of its name (reference held), or NULL
 * @uid:       the effective uid of its name
 * @name:      its name (not terminated), or NULL (invariant once set)
 * @name_len:  bytes in @name
 */
struct ntmem_section_object {
	struct kref kref;
	struct file *memory;
	bool file_backed;
	u64 size;
	unsigned long pages;
	u32 protect;
	u32 attrs;
	struct ntmem_mm *owner;
	struct mutex lock;	/* @committed, @charged, @views */
	struct maple_tree committed;
	unsigned long charged;
	struct list_head views;
	unsigned long handles;
	struct hlist_node name_node;
	struct user_namespace *ns;
	kuid_t uid;
	char *name;
	u32 name_len;
};

/* SECTION_CREATE and SECTION_OPEN, once copied in and checked. */
struct ntmem_section_args {
	u64 max_size;
	u32 protect;
	u32 attrs;
	u32 access;
	char *name;		/* kmalloc'd, or NULL; taken by a new section */
	u32 name_len;
	struct file *file;	/* a file section's file (reference held) */
	bool existed;
};

/* MAP_VIEW in flight (ntmem_mm.view), read by ->mmap. */
struct ntmem_view_request {
	struct ntmem_section_object *section;
	pgoff_t first;		/* the view's first section page */
	u32 access;		/* NTMEM_FILE_MAP_* */
	u32 protect;		/* the view's protection */
	bool cow;		/* copy-on-write: COPY without WRITE */
};

/* ntmem_section.c */
struct file *ntmem_section_create(struct ntmem_mm *nm,
				  struct ntmem_section_args *a);
struct file *ntmem_section_open(struct ntmem_section_args *a);
struct ntmem_section_object *ntmem_section_from_fd(int fd, u32 *access);
void ntmem_section_get(struct ntmem_section_object *s);
void ntmem_section_put(struct ntmem_section_object *s);
struct address_space *ntmem_section_mapping(struct ntmem_section_object *s);
u32 ntmem_section_view_protect(struct ntmem_section_object *s, u32 access);
bool ntmem_section_access_allows(u32 have, u32 want);
struct page *ntmem_section_read_page(struct ntmem_section_object *s,
				     pgoff_t idx);
bool ntmem_section_next_run(struct ntmem_section_object *s, pgoff_t from,
			    pgoff_t last, pgoff_t *a, pgoff_t *b);

/* ntmem_view.c */
int ntmem_view_map(struct ntmem_mm *nm, struct ntmem_section_object *s,
		   struct ntmem_view *a);
int ntmem_view_unmap(struct ntmem_mm *nm, unsigned long addr, bool preserve);
int ntmem_view_init(struct ntmem_region *r,
		    const struct ntmem_view_request *req);
int ntmem_view_attach_file(struct ntmem_region *r, struct vm_area_struct *vma);
void ntmem_view_teardown(struct ntmem_region *r);
int ntmem_view_protect_allowed(struct ntmem_region *r, u32 protect);
int ntmem_view_commit(struct ntmem_region *r, pgoff_t first, pgoff_t last);
int ntmem_view_fill(struct ntmem_region *r, pgoff_t idx, struct page *page);
void ntmem_view_written(struct ntmem_region *r, pgoff_t idx);

static inline bool ntmem_region_is_view(const struct ntmem_region *r)
{
	return r->section;
}

/* A view whose pages are the section's own (not copy-on-write). */
static inline bool ntmem_region_shares(const struct ntmem_region *r)
{
	return r->section && !r->cow;
}

#endif /* NTMEM_SECTION_H */
