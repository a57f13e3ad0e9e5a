/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem: internal interfaces of the module.
 *
 * Locking overview, in acquisition order:
 *
 *   ntmem_mm.map_lock (mutex)   serialises RESERVE and RELEASE of one mm
 *                               (both are a vm_mmap() of an ntmem file whose
 *                               ->get_unmapped_area checks the target range
 *                               under mmap_lock, see ntmem_region.c); taken
 *                               before mmap_lock because vm_mmap() takes it.
 *   mmap_lock of the mm         taken for write by every ioctl that changes
 *                               page state (COMMIT, DECOMMIT, PROTECT, RESET,
 *                               RESET_UNDO, LOCK, UNLOCK, a reset of the
 *                               write watch) or sets VM_MIXEDMAP
 *                               (ntmem_need_mixedmap()).  QUERY and the
 *                               netlink dumps take it for read.  Without
 *                               per-VMA locks (6.1) every fault runs under it
 *                               for read, so a write hold excludes them all.
 *   the VMA's lock (6.4+)       with per-VMA locks a user fault runs under
 *                               its VMA's lock alone (->map_pages exists for
 *                               that, ntmem_region.c), and GUP and uaccess
 *                               faults under mmap_lock (read).  So the ioctls
 *                               above write-lock the VMA whose state they
 *                               change too (ntmem_region_find_write(),
 *                               vma_start_write(), held until mmap_lock is
 *                               dropped): a fault on that reservation waits,
 *                               one on another reservation does not.  The
 *                               core write-locks a VMA it changes (mmap,
 *                               munmap, fork, vm_flags_set).
 *   section->lock (mutex)       a section's commits and list of shared
 *                               views (ntmem_section.h): taken under the
 *                               mmap_lock of the mm whose view commits or
 *                               ends; under it a SEC_RESERVE commit writes
 *                               other mms' views' state (their trees' own
 *                               locks), never their mmap_lock.
 *   ntmem_section_names_lock    the named sections and descriptor counts;
 *                               taken under mmap_lock (a view's last put),
 *                               so nothing under it faults or maps.
 *   region->state internal lock the maple tree's own spinlock; the only
 *                               writers that do not hold mmap_lock for write
 *                               are the fault path clearing a guard bit or
 *                               a copy-on-write view's PAGE_WRITECOPY, and a
 *                               SEC_RESERVE commit in another view.
 *   folio lock of a store page  taken by the fault path and by the page
 *                               cache (truncation, reclaim) under it.
 *   region->pages, ->reset,     the xarrays' own locks; faults insert and
 *   ->reset_blocks and          erase concurrently (mmap_lock read or the
 *                               VMA's lock).
 *   ->written xa_lock
 *   ntmem_reset_lock (spinlock) the regions with clean reset pages, for the
 *                               reset shrinker (ntmem_reset.c), which
 *                               takes nothing else but the xarray and page
 *                               cache locks, so it can run inside any
 *                               allocation.
 *   ntmem_thp_lock (mutex)      the read of the THP policy's sysfs
 *                               attributes (ntmem_thp.c), from RESERVE and
 *                               faults; takes nothing else.
 *   ntmem_users_lock (spinlock) the users and their shares (ntmem_user.c);
 *                               innermost, like ntmem_mms_lock, and never
 *                               held with it.
 *   ntmem_mms_lock (mutex)      the list of ntmem_mm; innermost: taken by
 *                               the last ntmem_mm_put(), which runs under
 *                               mmap_lock (->close drops a region's
 *                               reference), and nothing is taken while it
 *                               is held.
 *   ntmem_workers_lock (spin)   the kernel threads that run calls on other
 *                               processes and the hand-off of a call to one
 *                               (ntmem_remote.c); held by no one who holds
 *                               another of these locks, and only a
 *                               signal's delivery (send_sig()) is taken
 *                               under it.  Such a thread takes the locks
 *                               above of the target's mm, as its own
 *                               process would; the caller holds none while
 *                               it waits.
 */
#ifndef NTMEM_H
#define NTMEM_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <uapi/ntmem.h>
#include <uapi/ntmem_netlink.h>

struct ntmem_user;
struct ntmem_section_object;
struct ntmem_view_request;
struct ntmem_place;

#define NTMEM_PAGE_BASE_MASK	0x0ffU	/* the one base protection bit */
#define NTMEM_PAGE_MODIFIERS	(NTMEM_PAGE_GUARD | NTMEM_PAGE_NOCACHE | \
				 NTMEM_PAGE_WRITECOMBINE)

/*
 * Values in region->reset: a page made clean by RESET, one found gone, one
 * that moved to the pinned store meanwhile (contents kept for good), and
 * one found gone that RESET made clean again (reclaim may drop it again,
 * and RESET_UNDO still reports the first loss).
 */
#define NTMEM_RESET_CLEAN	xa_mk_value(1)
#define NTMEM_RESET_LOST	xa_mk_value(2)
#define NTMEM_RESET_KEPT	xa_mk_value(4)
#define NTMEM_RESET_LOST_CLEAN	xa_mk_value(5)

/* Guard hits remembered per address space: one per recent faulting thread. */
#define NTMEM_GUARD_SLOTS	16

struct ntmem_guard_slot {
	pid_t tid;
	unsigned long addr;	/* page address; 0 = free */
};

/**
 * struct ntmem_mm - ntmem's state for one address space.
 * @kref:      held by each open file of /dev/ntmem, by the mapped files and by
 *             each region
 * @node:      in ntmem_mms (protected by ntmem_mms_lock)
 * @id:        creation order, never reused (invariant)
 * @mm:        the address space (mmgrab'd; invariant)
 * @nr_files:  open files of /dev/ntmem bound to @mm (ntmem_mms_lock)
 * @map_lock:  serialises RESERVE, RELEASE and the W^X probe; protects
 *             @file, @free_file, @pending, @releasing, @probing, @checked,
 *             @retry and @pending_task
 * @file:      the file (of @store's inode) every new reservation maps; dropped when
 *             the last /dev/ntmem file of @mm closes (mappings keep their
 *             own reference)
 * @free_file: the one every placeholder maps (named "[ntmem free]"); as @file
 * @hold_file: the one Windows' placeholders map ("[ntmem placeholder]"),
 *             ntmem_placeholder.c; as @file
 * @store:     the shmem file that holds the committed pages of every region
 *             (ntmem_store.c); created with @file, under @map_lock, and
 *             invariant from then until @nm is freed
 * @large_file: as @file, for MEM_LARGE_PAGES reservations
 * @large_store: as @store, for MEM_LARGE_PAGES reservations: 2 MiB pages
 *             that are never swapped
 * @pending:   the RESERVE in flight, read by ->get_unmapped_area and ->mmap
 * @view:      with @pending, the MAP_VIEW in flight (ntmem_view.c)
 * @place:     the placeholder change in flight (ntmem_placeholder.c)
 * @releasing: the region the RELEASE in flight replaces by a placeholder
 * @probing:   the vm_mmap() in flight is ntmem_exec_permitted()'s probe
 * @checked:   ->get_unmapped_area accepted the range of that vm_mmap(), or
 *             was reached by the probe
 * @retry:     the vm_mmap() in flight takes over a Windows placeholder
 *             again, after the kernel failed past the check and may have
 *             unmapped part of it (ntmem_hold_retry()): the range may hold
 *             pieces of it and holes
 * @pending_task: the task running that RESERVE or RELEASE
 * @placeholders: placeholder VMAs in @mm (atomic; changed under mmap_lock)
 * @reservations: regions alive (atomic)
 * @committed: committed pages, i.e. the commit charge (atomic)
 * @resident:  pages in the pinned store, region->pages (atomic); the
 *             store's own are counted by the page cache
 * @limit:     the process's own commit limit in pages, 0 for none (atomic)
 * @owner:     the thread group that created this context (reference held;
 *             invariant), for the netlink control plane
 * @user:      the user charged for its commits (reference held; invariant)
 * @guard_lock: protects @guard_hits and @guard_next
 * @guard_hits: the last guard-page fault of recent threads
 * @guard_next: the slot a new thread takes
 */
struct ntmem_mm {
	struct kref kref;
	struct list_head node;
	u64 id;
	struct mm_struct *mm;
	unsigned int nr_files;
	struct mutex map_lock;	/* serialises RESERVE and RELEASE */
	struct file *file;
	struct file *free_file;
	struct file *hold_file;
	struct file *store;
	struct file *large_file;
	struct file *large_store;
	const struct ntmem_reserve *pending;
	const struct ntmem_view_request *view;
	const struct ntmem_place *place;
	struct ntmem_region *releasing;
	bool probing;
	bool checked;
	bool retry;
	struct task_struct *pending_task;
	atomic_long_t placeholders;
	atomic_long_t reservations;
	atomic_long_t committed;
	atomic_long_t resident;
	atomic_long_t limit;
	struct pid *owner;
	struct ntmem_user *user;
	spinlock_t guard_lock;	/* @guard_hits, @guard_next */
	struct ntmem_guard_slot guard_hits[NTMEM_GUARD_SLOTS];
	unsigned int guard_next;
};

/**
 * struct ntmem_region - one reservation: one VMA of nm->file.
 * @kref:      held by the VMA (dropped in ->close) and briefly by the
 *             shrinker
 * @nm:        owner (reference held; invariant)
 * @start:     base address, 64 KiB aligned (invariant)
 * @end:       end address (invariant: the VMA can be neither split nor moved)
 * @alloc_protect: protection given at RESERVE (invariant)
 * @write_watch: tracks writes, NTMEM_RESERVE_WRITE_WATCH (invariant)
 * @large:     NTMEM_RESERVE_LARGE_PAGES: its pages are in nm->large_store
 *             (invariant)
 * @nr_vmas:   VMAs of @nm->mm pointing here (an mremap copy briefly makes
 *             two); changed under mmap_lock (write)
 * @dead:      set by ->close of the last VMA, under mmap_lock (write); a
 *             holder of a reference checks it under mmap_lock before
 *             touching @state, and RELEASE after its vm_mmap()
 * @state:     page index -> xa_mk_value(protection) for each committed page;
 *             no entry means reserved.  Written under mmap_lock (write),
 *             except the guard clear in the fault path (mmap_lock read,
 *             serialised by the tree's own lock); read under mmap_lock.
 * @pages:     the pinned store: page index -> struct page (refcount held)
 *             of each committed page that must not move or be swapped --
 *             locked and executable ones -- and so is not in nm->store.
 *             Inserted under mmap_lock (read or write), removed under
 *             mmap_lock (write).
 * @reset:     page index -> NTMEM_RESET_CLEAN for each store page that
 *             RESET left clean (reclaim may drop it), NTMEM_RESET_LOST once
 *             it was found dropped (NTMEM_RESET_LOST_CLEAN once RESET made
 *             it clean again), NTMEM_RESET_KEPT while it is pinned.
 *             Stored under mmap_lock (write); a write fault erases its
 *             page's entry and a fault that finds the page gone makes it
 *             LOST (mmap_lock read).
 * @reset_blocks: 2 MiB block (counted from the region's first) -> the
 *             same values, for each block RESET made clean as one huge
 *             folio (ntmem_reset.c); a block has an entry here or entries
 *             in @reset, never both.  Locked as @reset.
 * @nr_reset:  pages with an entry in @reset or @reset_blocks (atomic:
 *             faults erase under mmap_lock read)
 * @nr_clean:  of those, the ones reclaim may drop: NTMEM_RESET_CLEAN and
 *             NTMEM_RESET_LOST_CLEAN (atomic)
 * @reset_node: on the reset shrinker's list_lru (its locks)
 * @reset_gone: the region is being torn down: off that list for good
 *             (mmap_lock, as every add)
 * @written:   page index / 512 -> a bitmap of the group's pages written
 *             since their write watch was last reset (write-watch regions
 *             only; ntmem_watch.c has the rules)
 * @locked:    page index -> xa_mk_value(1) for each locked page
 *             (ntmem_lock.c); written under mmap_lock (write), or in
 *             ->close, read under mmap_lock
 * @nr_locked: pages in @locked, charged to mm->pinned_vm (as @locked)
 * @store_base: the store index of page 0: the base in pages for a
 *             reservation, the view's first section page for a shared
 *             view (invariant)
 * @section:   a view's section (reference held), NULL for a reservation
 *             (invariant)
 * @section_first: a view's first page in its section (invariant)
 * @from_placeholder: made over a Windows placeholder (NTMEM_RESERVE_REPLACE),
 *             to which RELEASE with NTMEM_RELEASE_PRESERVE returns it
 *             (invariant)
 * @cow:       a copy-on-write view: its pages are in @nm's store, copied
 *             from the section at first touch (invariant)
 * @view_access: a view's NTMEM_FILE_MAP_* access (invariant)
 * @view_node: a shared view, on section->views (section->lock)
 * @file_ops:  a shared view of a file section: the file's own vm_ops,
 *             which its faults pass on to (invariant)
 * @copied:    copy-on-write view: page index -> xa_mk_value(1) once its
 *             store page holds the section's data (under the folio lock of
 *             the store page)
 */
struct ntmem_region {
	struct kref kref;
	struct ntmem_mm *nm;
	unsigned long start;
	unsigned long end;
	u32 alloc_protect;
	bool write_watch;
	bool large;
	unsigned int nr_vmas;
	bool dead;
	struct maple_tree state;
	struct xarray pages;
	struct xarray reset;
	struct xarray reset_blocks;
	atomic_long_t nr_reset;
	atomic_long_t nr_clean;
	struct list_head reset_node;
	bool reset_gone;
	struct xarray written;
	struct maple_tree locked;
	unsigned long nr_locked;
	pgoff_t store_base;
	struct ntmem_section_object *section;
	pgoff_t section_first;
	bool from_placeholder;
	bool cow;
	u32 view_access;
	struct list_head view_node;
	const struct vm_operations_struct *file_ops;
	struct xarray copied;
};

static inline unsigned long ntmem_region_pages(const struct ntmem_region *r)
{
	return (r->end - r->start) >> PAGE_SHIFT;
}

/* The page indices [*first, *last] of [addr, addr + len) in @r. */
static inline void ntmem_page_span(const struct ntmem_region *r,
				   unsigned long addr, unsigned long len,
				   pgoff_t *first, pgoff_t *last)
{
	*first = (addr - r->start) >> PAGE_SHIFT;
	*last = *first + (len >> PAGE_SHIFT) - 1;
}

/* The address of page @idx of @r. */
static inline unsigned long ntmem_idx_addr(const struct ntmem_region *r,
					   pgoff_t idx)
{
	return r->start + (idx << PAGE_SHIFT);
}

/* ntmem_main.c */
struct ntmem_mm *ntmem_mm_get(struct mm_struct *mm, struct pid *owner,
			      kuid_t uid);
void ntmem_mm_close(struct ntmem_mm *nm);
void ntmem_mm_put(struct ntmem_mm *nm);
struct ntmem_mm *ntmem_mm_find(pid_t tgid);
struct ntmem_mm *ntmem_mm_next(u64 after);

/**
 * struct ntmem_target - what a process descriptor holds (all invariant).
 * @nm:     the context of the target's address space; the descriptor is
 *          one of its files (nr_files)
 * @mem:    the caller's /proc/PID/mem, which holds that address space
 * @pid:    the target's thread group
 * @access: the NTMEM_PROCESS_* bits granted
 */
struct ntmem_target {
	struct ntmem_mm *nm;
	struct file *mem;
	struct pid *pid;
	u32 access;
};

/*
 * The address space a call acts on: the caller's own (@target NULL), or
 * another process's, through its process descriptor (ntmem_target.c).
 */
struct ntmem_ctx {
	struct ntmem_mm *nm;
	struct ntmem_target *target;
};

/* Work on @nm's address space, run where that address space is current. */
typedef int (*ntmem_op_fn)(struct ntmem_mm *nm, void *arg);

/* ntmem_ioctl.c */
long ntmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long ntmem_dispatch(const struct ntmem_ctx *c, unsigned int cmd,
		    void __user *uarg);
int ntmem_copy_in(void *kdst, size_t ksize, void __user *usrc);
int ntmem_copy_out(void __user *udst, const void *ksrc, size_t ksize,
		   u32 usize);
bool ntmem_zeroed(const u64 *words, size_t n);

/* ntmem_target.c: process descriptors */
int ntmem_target_open(struct ntmem_mm *nm, void __user *uarg);

/* ntmem_remote.c: where a call on another process runs */
int ntmem_target_run(struct ntmem_target *t, ntmem_op_fn fn, void *arg);
int ntmem_target_call(struct ntmem_target *t, ntmem_op_fn fn, void *arg);
void ntmem_target_exit(void);

/* ntmem_copy.c: READ_MEMORY and WRITE_MEMORY */
int ntmem_target_copy(const struct ntmem_ctx *c, void __user *uarg,
		      bool write);

/* ntmem_region.c: reservation lifetime */
extern const struct vm_operations_struct ntmem_vm_ops;
int ntmem_reserve(struct ntmem_mm *nm, struct ntmem_reserve *args);
int ntmem_release(struct ntmem_mm *nm, unsigned long addr, unsigned long len,
		  bool view, bool preserve);
struct file *ntmem_view_file(struct ntmem_mm *nm, struct file *memory);
struct ntmem_region *ntmem_region_find(struct mm_struct *mm, unsigned long addr,
				       unsigned long len,
				       struct vm_area_struct **vmap);
struct ntmem_region *ntmem_region_find_write(struct mm_struct *mm,
					     unsigned long addr,
					     unsigned long len,
					     struct vm_area_struct **vmap);
void ntmem_region_put(struct ntmem_region *r);
int ntmem_request_file(struct ntmem_mm *nm, struct file **filep,
		       const char *name);
int ntmem_vma_refuse_mremap(struct vm_area_struct *vma);
int ntmem_vma_refuse_mprotect(struct vm_area_struct *vma, unsigned long start,
			      unsigned long end, unsigned long newflags);

/* ntmem_user.c: each user's share of the commit limit */
struct ntmem_user *ntmem_user_get(kuid_t uid);
void ntmem_user_put(struct ntmem_user *u);
int ntmem_user_charge(struct ntmem_mm *nm, unsigned long pages,
		      unsigned long limit);
void ntmem_user_uncharge(struct ntmem_mm *nm, unsigned long pages);

/* ntmem_wx.c: W^X policy (MDWE, the LSM's mmap hook) */
bool ntmem_mdwe(struct ntmem_mm *nm);
int ntmem_exec_permitted(struct ntmem_mm *nm, u32 protect);

/* ntmem_placeholder.c: released address space, and Windows' placeholders */
extern const struct vm_operations_struct ntmem_placeholder_vm_ops;
extern const struct vm_operations_struct ntmem_hold_vm_ops;
bool ntmem_range_reusable(struct mm_struct *mm, unsigned long start,
			  unsigned long end);
unsigned long ntmem_placeholder_area(struct mm_struct *mm, unsigned long span,
				     unsigned long align, bool top_down);
unsigned long ntmem_bounded_area(struct mm_struct *mm, unsigned long span,
				 unsigned long align, unsigned long lowest,
				 unsigned long end, bool top_down);
void ntmem_placeholder_mmap(struct ntmem_mm *nm, struct vm_area_struct *vma);
void ntmem_hold_mmap(struct vm_area_struct *vma);
bool ntmem_range_hold_or_hole(struct mm_struct *mm, unsigned long start,
			      unsigned long end);
unsigned long ntmem_hold_retry(struct ntmem_mm *nm, struct file *file,
			       unsigned long addr, unsigned long len,
			       unsigned long prot, unsigned long pgoff);
bool ntmem_range_is_hold(struct mm_struct *mm, unsigned long start,
			 unsigned long end);
unsigned long ntmem_place_area(struct ntmem_mm *nm, unsigned long addr,
			       unsigned long len, unsigned long flags);
int ntmem_placeholder_change(struct ntmem_mm *nm, unsigned long addr,
			     unsigned long len, u32 flags);

/* What a change of Windows placeholders needs of its range. */
enum ntmem_place_check {
	NTMEM_PLACE_EXACT,	/* exactly one placeholder */
	NTMEM_PLACE_INSIDE,	/* strictly inside one placeholder */
	NTMEM_PLACE_RUN,	/* exactly two or more adjacent placeholders */
	NTMEM_PLACE_RETRY,	/* pieces of placeholders and holes only */
};

/* A change of Windows placeholders in flight (ntmem_mm.place). */
struct ntmem_place {
	unsigned long start, end;
	enum ntmem_place_check check;
};

/* A placeholder of released address space ("[ntmem free]"). */
static inline bool ntmem_vma_is_placeholder(const struct vm_area_struct *vma)
{
	return vma->vm_ops == &ntmem_placeholder_vm_ops;
}

/* A Windows placeholder (MEM_RESERVE_PLACEHOLDER), "[ntmem placeholder]". */
static inline bool ntmem_vma_is_hold(const struct vm_area_struct *vma)
{
	return vma->vm_ops == &ntmem_hold_vm_ops;
}

/* ntmem_pages.c: page state of a region */
unsigned long ntmem_xa_drain(struct xarray *xa, unsigned long first,
			     unsigned long last,
			     void (*fn)(void *entry, void *arg), void *arg);
bool ntmem_protect_valid(u32 protect);
u32 ntmem_protect_without_copy(u32 protect);
u32 ntmem_page_prot(struct ntmem_region *r, pgoff_t idx);
int ntmem_commit_all(struct ntmem_region *r);
int ntmem_commit(struct ntmem_region *r, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len, u32 protect, u32 flags);
int ntmem_decommit(struct ntmem_region *r, struct vm_area_struct *vma,
		   unsigned long addr, unsigned long len);
int ntmem_protect_check(struct ntmem_region *r, unsigned long addr,
			unsigned long len, u32 protect, u32 *old_protect);
int ntmem_protect(struct ntmem_region *r, struct vm_area_struct *vma,
		  unsigned long addr, unsigned long len, u32 protect);
void ntmem_query_region(struct ntmem_region *r, unsigned long addr,
			struct ntmem_query *q);
void ntmem_pages_teardown(struct ntmem_region *r);
struct page *ntmem_pinned_get(struct ntmem_region *r, pgoff_t idx);
struct page *ntmem_page_get(struct ntmem_region *r, pgoff_t idx, u32 prot,
			    bool *pinned);
void ntmem_pages_unpin(struct ntmem_region *r, struct vm_area_struct *vma,
		       pgoff_t first, pgoff_t last);
int ntmem_insert_page(struct vm_area_struct *vma, unsigned long addr,
		      struct page *page);
int ntmem_map_exec_page(struct vm_area_struct *vma, unsigned long addr,
			struct page *page, u32 prot, bool write);
void ntmem_need_mixedmap(struct ntmem_region *r, struct vm_area_struct *vma);
int ntmem_map_block(struct vm_area_struct *vma, unsigned long addr,
		    struct folio *folio, bool write);
bool ntmem_prot_writable(u32 prot);
bool ntmem_prot_executable(u32 prot);
int ntmem_prefault(struct ntmem_region *r, struct vm_area_struct *vma,
		   pgoff_t first, pgoff_t last, u32 prot, bool pin);

/* ntmem_store.c: the shmem page store */
/* @nm's store *@storep for a reader without map_lock, NULL before its use. */
static inline struct file *ntmem_store_peek(struct file **storep)
{
	/* pairs with the release in ntmem_store_create() */
	return smp_load_acquire(storep);
}

int ntmem_store_init(void);
void ntmem_store_exit(void);
int ntmem_store_create(struct ntmem_mm *nm, bool large);
void ntmem_store_destroy(struct ntmem_mm *nm);
struct file *ntmem_store_open(struct file *store, const char *name,
			      const struct file_operations *fops);
struct file *ntmem_store_section(loff_t size);
bool ntmem_store_is_shmem(struct file *file);
struct address_space *ntmem_store_mapping(struct ntmem_region *r);
int ntmem_store_populate_large(struct ntmem_region *r);
void ntmem_store_split(struct ntmem_region *r, pgoff_t idx);
vm_fault_t ntmem_store_fault(struct vm_fault *vmf);
bool ntmem_store_owns(struct ntmem_region *r, struct page *page);
struct mem_cgroup *ntmem_owner_charge_begin(struct ntmem_region *r,
					    struct mem_cgroup **old);
void ntmem_owner_charge_end(struct mem_cgroup *memcg, struct mem_cgroup *old);
struct page *ntmem_store_get(struct ntmem_region *r, pgoff_t idx);
struct page *ntmem_store_find(struct ntmem_region *r, pgoff_t idx);
bool ntmem_store_holds(struct ntmem_region *r, pgoff_t idx);
/* the most pages ntmem_store_wrprotect() takes at once: a bitmap on the stack */
#define NTMEM_STORE_WRPROTECT_MAX	512
void ntmem_store_wrprotect(struct ntmem_region *r, pgoff_t first, pgoff_t last);
void ntmem_store_free(struct ntmem_region *r, pgoff_t first, pgoff_t last);
int ntmem_store_for_each(struct ntmem_region *r, pgoff_t first, pgoff_t last,
			 int (*fn)(struct ntmem_region *r, pgoff_t idx,
				   struct folio *folio, void *arg),
			 void *arg);
unsigned long ntmem_store_resident(struct ntmem_region *r, pgoff_t first,
				   pgoff_t last);
void ntmem_store_usage(struct ntmem_mm *nm, unsigned long *resident,
		       unsigned long *swapped);

/* ntmem_thp.c: the system's transparent huge page policy */
int ntmem_thp_init(void);
void ntmem_thp_exit(void);
void ntmem_thp_reserve(struct vm_area_struct *vma);
bool ntmem_thp_allowed(struct vm_area_struct *vma);
bool ntmem_thp_shmem_forced(void);
bool ntmem_thp_block(struct ntmem_region *r, struct vm_area_struct *vma,
		     unsigned long addr);

/* ntmem_lock.c: VirtualLock and VirtualUnlock */
unsigned long ntmem_tree_count(struct maple_tree *mt, pgoff_t first,
			       pgoff_t last);
int ntmem_lock(struct ntmem_region *r, struct vm_area_struct *vma,
	       unsigned long addr, unsigned long len);
int ntmem_unlock(struct ntmem_region *r, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len);
void ntmem_unlock_all(struct ntmem_region *r, pgoff_t first, pgoff_t last);
void ntmem_zap_unlocked(struct ntmem_region *r, struct vm_area_struct *vma,
			pgoff_t first, pgoff_t last);
bool ntmem_page_locked(struct ntmem_region *r, pgoff_t idx);
void ntmem_lock_teardown(struct ntmem_region *r);

/* ntmem_fault.c */
vm_fault_t ntmem_fault(struct vm_fault *vmf);
vm_fault_t ntmem_page_mkwrite(struct vm_fault *vmf);
vm_fault_t ntmem_pfn_mkwrite(struct vm_fault *vmf);
int ntmem_access(struct vm_area_struct *vma, unsigned long addr, void *buf,
		 int len, int write);

/* ntmem_guard.c: telling guard-page faults from access violations */
void ntmem_guard_record(struct ntmem_mm *nm, unsigned long addr);
bool ntmem_guard_take(struct ntmem_mm *nm, unsigned long addr);
bool ntmem_guard_defer(struct ntmem_region *r, pgoff_t idx);
void ntmem_guard_disarm(struct ntmem_region *r, pgoff_t idx);

/* ntmem_watch.c: write watch */
int ntmem_page_written(struct ntmem_region *r, pgoff_t idx);
void ntmem_watch_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last);
void ntmem_watch_free(struct ntmem_region *r);
unsigned int ntmem_watch_collect(struct ntmem_region *r, pgoff_t *first,
				 pgoff_t last, pgoff_t *out, unsigned int max);
void ntmem_watch_clean(struct ntmem_region *r, struct vm_area_struct *vma,
		       const pgoff_t *idx, unsigned int n);
pgoff_t *ntmem_watch_buffer(unsigned int *len);

/* ntmem_reset.c: MEM_RESET and MEM_RESET_UNDO */
int ntmem_reset(struct ntmem_region *r, struct vm_area_struct *vma,
		unsigned long addr, unsigned long len);
int ntmem_reset_undo(struct ntmem_region *r, unsigned long addr,
		     unsigned long len);
void ntmem_reset_fault_range(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last);
void ntmem_reset_fault(struct ntmem_region *r, pgoff_t idx);
void ntmem_reset_written(struct ntmem_region *r, pgoff_t idx);
void ntmem_reset_page_written(struct ntmem_region *r, pgoff_t idx);
void ntmem_reset_pinned(struct ntmem_region *r, pgoff_t idx);
bool ntmem_reset_unpinned(struct ntmem_region *r, pgoff_t idx);
void ntmem_reset_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last);
int ntmem_reset_split_blocks(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last);
void ntmem_reset_reclean(struct ntmem_region *r, pgoff_t idx);
void ntmem_reset_gone(struct ntmem_region *r);
struct ntmem_region *ntmem_region_alloc(void);
void ntmem_region_kfree(struct ntmem_region *r);
int ntmem_reset_init(void);
void ntmem_reset_exit(void);

/* ntmem_charge.c: the commit charge (the one place it is taken), limits */
void ntmem_charge_init(void);
void ntmem_charge_exit(void);
int ntmem_charge(struct ntmem_mm *nm, unsigned long pages);
void ntmem_uncharge(struct ntmem_mm *nm, unsigned long pages);
void ntmem_set_commit_limit(unsigned long pages);
unsigned long ntmem_commit_limit(void);
bool ntmem_commit_limit_parts(unsigned long *ram, unsigned long *swap,
			      unsigned long *reserve);
unsigned long ntmem_commit_peak(void);
bool ntmem_swap_present(void);

/* ntmem_genl.c: the generic netlink family (include/uapi/ntmem_netlink.h) */
int ntmem_genl_init(void);
void ntmem_genl_exit(void);
void ntmem_limit_event(struct ntmem_mm *nm, u32 event, unsigned long pages,
		       unsigned long committed, unsigned long limit);

/* ntmem_stats.c: module-wide counters, shown in sysfs */
struct ntmem_stats {
	atomic_long_t reservations;
	atomic_long_t committed_pages;
	atomic_long_t resident_pages;
	atomic_long_t reset_pages;
	atomic_long_t contexts;
	atomic_long_t faults;
	atomic_long_t dropped_pages;
	atomic_long_t locked_pages;
	atomic_long_t commit_limit;	/* pages; read with ntmem_commit_limit() */
	atomic_long_t commit_peak;	/* pages */
};

extern struct ntmem_stats ntmem_stats;
extern const struct attribute_group *ntmem_stats_groups[];
void ntmem_resident_add(struct ntmem_region *r, long pages);
unsigned long ntmem_store_pages_total(void);
long ntmem_resident_pages(void);

#endif /* NTMEM_H */
