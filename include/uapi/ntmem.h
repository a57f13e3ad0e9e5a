/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ntmem: Windows NT virtual-memory semantics on Linux -- the ioctl ABI of
 * /dev/ntmem, shared by the kernel module and userspace.
 *
 * An open file of /dev/ntmem is bound to the address space (mm) of the
 * process that opened it.  Every ioctl acts on that address space; issued
 * from any other address space (a forked child, a process the fd was passed
 * to) it fails with EBADFD and changes nothing.
 *
 * Model (Windows' own): a *reservation* is a range of address space at a
 * 64 KiB-aligned base, backed by one VMA.  Each page of it is *reserved*
 * (no access, no memory, no charge) or *committed* (charged, with a page
 * protection; a physical page exists only once it is touched or
 * prefaulted).  Protection values are Windows' PAGE_* values.
 *
 * Argument rules, common to every ioctl:
 *  - each struct starts with its own size in bytes (@size): an older,
 *    smaller struct is accepted and its missing fields read as zero; a
 *    newer, larger one is accepted only if the bytes this module does not
 *    know are zero (else E2BIG);
 *  - every reserved field and unknown flag bit must be zero (else EINVAL);
 *    fields marked "out" are ignored on input;
 *  - addresses and sizes must be page aligned, sizes non-zero, and a range
 *    may neither wrap nor leave the user address range (else EINVAL);
 *  - a range must lie inside one reservation (else ENXIO).
 *
 * Errors, so that a library can map them to Win32 codes:
 *   EINVAL   malformed argument              (ERROR_INVALID_PARAMETER)
 *   ENXIO    not inside one reservation, or
 *            RELEASE not at a base           (ERROR_INVALID_ADDRESS)
 *   EEXIST   fixed RESERVE overlaps memory   (ERROR_INVALID_ADDRESS)
 *   ENODATA  PROTECT on uncommitted pages    (ERROR_INVALID_ADDRESS)
 *   ENXIO    (write watch) not inside one write-watch reservation
 *                                            (ERROR_INVALID_PARAMETER)
 *   ENOMEM   no address space or no memory   (ERROR_NOT_ENOUGH_MEMORY)
 *   ENOSPC   COMMIT (or RESERVE with COMMIT) over the commit limit
 *                                            (ERROR_COMMITMENT_LIMIT)
 *   EBUSY    RESET_UNDO: data was discarded  (ERROR_BUSY)
 *   EACCES   LOCK: a page is not committed or is NOACCESS
 *                                            (ERROR_NOACCESS)
 *   EAGAIN   LOCK: hit an armed guard page, which is now cleared
 *                                            (STATUS_GUARD_PAGE_VIOLATION)
 *   EDQUOT   LOCK: over RLIMIT_MEMLOCK       (ERROR_WORKING_SET_QUOTA)
 *   ENOLCK   UNLOCK: a page is not locked    (ERROR_NOT_LOCKED)
 *   EPERM    COMMIT, PROTECT (or RESERVE with COMMIT): the kernel's W^X
 *            policy refuses this process that executable protection:
 *            MDWE (PR_SET_MDWE) or the LSM's mmap hook
 *                                            (ERROR_DYNAMIC_CODE_BLOCKED)
 *   EACCES   COMMIT, PROTECT in a view: more than the view's access
 *            allows                          (ERROR_INVALID_PARAMETER)
 *   EINVAL   DECOMMIT, LOCK, UNLOCK, RELEASE in a view
 *                                            (ERROR_INVALID_PARAMETER)
 *   EOPNOTSUPP execute access in a shared (not copy-on-write) view
 *                                            (ERROR_NOT_SUPPORTED)
 *   The section calls have their own list, at struct ntmem_section.
 *   EFAULT   the argument struct (or an output array) cannot be read
 *            or written; nothing changed     (ERROR_NOACCESS)
 *   EBADFD   fd used from another address space
 *   E2BIG    struct larger than known with non-zero tail
 *   ENOTTY   unknown ioctl
 *   EINTR    a fatal signal interrupted the call; nothing changed
 *
 * All fields are naturally aligned fixed-width integers; no struct has
 * implicit padding (checked at build time in the module).
 */
#ifndef _UAPI_LINUX_NTMEM_H
#define _UAPI_LINUX_NTMEM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define NTMEM_DEVICE		"/dev/ntmem"
/*
 * What /proc/<pid>/maps names a reservation ("/[ntmem] (deleted)": a file
 * of the process's page store, a shmem file of the module's) and
 * released address space, which stays mapped, inaccessible and without
 * pages, until a RESERVE or the program maps over it.
 */
#define NTMEM_MAPS_NAME		"[ntmem]"
#define NTMEM_PLACEHOLDER_NAME	"[ntmem free]"
/* and a Windows placeholder (NTMEM_RESERVE_PLACEHOLDER) */
#define NTMEM_HOLD_MAPS_NAME	"[ntmem placeholder]"
/* what it names a shared view of a section ("/[ntmem view] (deleted)") */
#define NTMEM_VIEW_MAPS_NAME	"[ntmem view]"
#define NTMEM_IOC_MAGIC		0xB7

/* ABI version: major changes break, minor ones add. */
#define NTMEM_API_MAJOR		1
/*
 * minor 1: LOCK, UNLOCK; 2: LARGE_PAGES; 3: USER_OUT, DECOMMIT_WHOLE;
 * 4: SECTIONS; 5: PLACEHOLDERS; 6: PROCESSES
 */
#define NTMEM_API_MINOR		6

/* Windows' allocation granularity and the user range ntmem manages. */
#define NTMEM_GRANULARITY	0x10000ULL
#define NTMEM_MIN_ADDRESS	0x10000ULL
#define NTMEM_MAX_ADDRESS	0x7FFFFFFF0000ULL	/* exclusive */

/* Page protections (Windows PAGE_* values). */
#define NTMEM_PAGE_NOACCESS		0x001
#define NTMEM_PAGE_READONLY		0x002
#define NTMEM_PAGE_READWRITE		0x004
#define NTMEM_PAGE_WRITECOPY		0x008	/* copy-on-write views only */
#define NTMEM_PAGE_EXECUTE		0x010
#define NTMEM_PAGE_EXECUTE_READ		0x020
#define NTMEM_PAGE_EXECUTE_READWRITE	0x040
#define NTMEM_PAGE_EXECUTE_WRITECOPY	0x080	/* copy-on-write views only */
#define NTMEM_PAGE_GUARD		0x100	/* modifier: one-shot guard */
#define NTMEM_PAGE_NOCACHE		0x200	/* modifier: recorded only */
#define NTMEM_PAGE_WRITECOMBINE		0x400	/* modifier: recorded only */

/* Page states and types reported by QUERY (Windows MEM_* values). */
#define NTMEM_STATE_COMMIT	0x00001000
#define NTMEM_STATE_RESERVE	0x00002000
#define NTMEM_STATE_FREE	0x00010000
#define NTMEM_STATE_OTHER	0x80000000	/* memory ntmem did not create */
#define NTMEM_TYPE_PRIVATE	0x00020000
#define NTMEM_TYPE_MAPPED	0x00040000	/* a view; other memory in */
						/* struct ntmem_basic_info */
#define NTMEM_TYPE_PLACEHOLDER	0x40000000	/* QUERY: a placeholder */

/* Features reported by VERSION. */
#define NTMEM_FEATURE_RESET	(1ULL << 0)	/* RESET and RESET_UNDO */
#define NTMEM_FEATURE_GUARD	(1ULL << 1)	/* NTMEM_PAGE_GUARD */
#define NTMEM_FEATURE_EXEC	(1ULL << 2)	/* per-page execute */
#define NTMEM_FEATURE_WRITE_WATCH (1ULL << 3)	/* write-watch reservations */
#define NTMEM_FEATURE_LOCK	(1ULL << 4)	/* LOCK and UNLOCK */
#define NTMEM_FEATURE_LARGE_PAGES (1ULL << 5)	/* NTMEM_RESERVE_LARGE_PAGES */
#define NTMEM_FEATURE_USER_OUT	(1ULL << 6)	/* stores at Win32 out-pointers */
#define NTMEM_FEATURE_DECOMMIT_WHOLE (1ULL << 7) /* DECOMMIT of length 0 */
#define NTMEM_FEATURE_SECTIONS	(1ULL << 8)	/* sections and views */
#define NTMEM_FEATURE_PLACEHOLDERS (1ULL << 9)	/* placeholders, bounds */
#define NTMEM_FEATURE_PROCESSES	(1ULL << 10)	/* OPEN_PROCESS and its calls */

/**
 * struct ntmem_version - NTMEM_IOC_VERSION: what the module speaks.
 * @size:     sizeof(struct ntmem_version), in
 * @major:    NTMEM_API_MAJOR of the module, out
 * @minor:    NTMEM_API_MINOR of the module, out
 * @reserved0: must be zero
 * @features: NTMEM_FEATURE_* bits, out
 * @page_size: PAGE_SIZE of the kernel, out
 * @granularity: NTMEM_GRANULARITY, out
 * @reserved: must be zero
 */
struct ntmem_version {
	__u32 size;
	__u32 major;
	__u32 minor;
	__u32 reserved0;
	__u64 features;
	__u64 page_size;
	__u64 granularity;
	__u64 reserved[3];
};

/* RESERVE flags */
#define NTMEM_RESERVE_FIXED	(1U << 0)	/* @addr is required, not a hint */
#define NTMEM_RESERVE_TOP_DOWN	(1U << 1)	/* place as high as possible */
#define NTMEM_RESERVE_COMMIT	(1U << 2)	/* commit every page too */
#define NTMEM_RESERVE_WRITE_WATCH (1U << 3)	/* track writes (GET_WRITE_WATCH) */
#define NTMEM_RESERVE_LARGE_PAGES (1U << 4)	/* 2 MiB pages, locked */
#define NTMEM_RESERVE_PLACEHOLDER (1U << 5)	/* a placeholder, see below */
#define NTMEM_RESERVE_REPLACE	(1U << 6)	/* with FIXED: over a placeholder */

/**
 * struct ntmem_reserve - NTMEM_IOC_RESERVE: create a reservation.
 * @size:     sizeof(struct ntmem_reserve), in
 * @flags:    NTMEM_RESERVE_*, in
 * @addr:     in: 0 (anywhere), a hint, or with NTMEM_RESERVE_FIXED the
 *            64 KiB-aligned base to use; out: the base
 * @length:   in: bytes, rounded up to pages; out: the rounded length
 * @protect:  the allocation protection, recorded and reported by QUERY as
 *            @alloc_protect (any valid protection, or 0 without
 *            NTMEM_RESERVE_COMMIT); with NTMEM_RESERVE_COMMIT also the
 *            protection of the committed pages; in
 * @reserved0: must be zero
 * @reserved: must be zero
 *
 * All pages start reserved, or with NTMEM_RESERVE_COMMIT committed (one
 * call for Windows' MEM_RESERVE | MEM_COMMIT: if the commit fails, no
 * reservation is left).  A fixed range that overlaps any mapping fails
 * with EEXIST; no room fails with ENOMEM.
 *
 * NTMEM_RESERVE_LARGE_PAGES (Windows' MEM_LARGE_PAGES) needs
 * NTMEM_RESERVE_COMMIT, no NTMEM_RESERVE_WRITE_WATCH, a @length (and a
 * fixed @addr) that are multiples of 2 MiB (EINVAL otherwise), and
 * CAP_IPC_LOCK (EPERM otherwise): every 2 MiB of the reservation gets a
 * 2 MiB page at once, which is never swapped; ENOMEM if the kernel has no
 * free 2 MiB page for each, and then no reservation is left.
 *
 * @lowest, @highest, @alignment (Windows' MEM_ADDRESS_REQUIREMENTS;
 * fields of NTMEM_FEATURE_PLACEHOLDERS, 0 for none): without
 * NTMEM_RESERVE_FIXED, the reservation lies in [@lowest, @highest] (the
 * lowest base, a multiple of 64 KiB; the highest last byte, one less than
 * a multiple of the page size) at a multiple of @alignment (a power of two, at
 * least 64 KiB); a hint, if any, must lie there too.  With
 * NTMEM_RESERVE_FIXED they must be 0.  EINVAL for values that break
 * these rules, ENOMEM if no such place is free.
 *
 * Placeholders (Windows' MEM_RESERVE_PLACEHOLDER and the calls that take
 * them apart and put them back together): NTMEM_RESERVE_PLACEHOLDER makes
 * a placeholder, address space reserved like a reservation but without
 * pages or state -- no COMMIT or PROTECT (ENXIO); QUERY says
 * NTMEM_STATE_RESERVE, NTMEM_TYPE_PLACEHOLDER -- that exists to be split
 * and replaced; it needs @protect 0 or NTMEM_PAGE_NOACCESS and no other
 * flag but FIXED and TOP_DOWN (EINVAL).  NTMEM_RESERVE_REPLACE, with
 * NTMEM_RESERVE_FIXED, makes the reservation exactly over one placeholder
 * (ENXIO unless [@addr, @addr + @length) is exactly one; @addr, and a
 * view's offset, need only be page aligned then, as placeholders split
 * at pages); such a
 * reservation (or a view made so by NTMEM_IOC_MAP_VIEW) goes back to a
 * placeholder with RELEASE (UNMAP_VIEW) and NTMEM_RELEASE_PRESERVE.
 * RELEASE of a placeholder takes its base and length 0 or its length, as
 * a reservation's; with NTMEM_RELEASE_PRESERVE a range strictly inside one
 * placeholder becomes a placeholder of its own (splitting it in up to
 * three); with NTMEM_RELEASE_COALESCE a range that is exactly two or more
 * adjacent placeholders becomes one.  ENXIO for any other range, and
 * nothing changes.
 */
struct ntmem_reserve {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u32 protect;
	__u32 reserved0;
	__u64 reserved[2];
	__u64 lowest;
	__u64 highest;
	__u64 alignment;
};

/*
 * RELEASE flags (and UNMAP_VIEW's NTMEM_RELEASE_PRESERVE): placeholders,
 * see struct ntmem_reserve.
 */
#define NTMEM_RELEASE_PRESERVE	(1U << 0)	/* to, or split, a placeholder */
#define NTMEM_RELEASE_COALESCE	(1U << 1)	/* join adjacent placeholders */

/*
 * COMMIT flags.  NTMEM_COMMIT_PREFAULT: also allocate and map the pages
 * now, as far as memory allows -- a hint, as MAP_POPULATE is to mmap():
 * the commit succeeds whether or not it got through.
 */
#define NTMEM_COMMIT_PREFAULT	(1U << 0)

/**
 * struct ntmem_range - COMMIT, DECOMMIT, RESET, RESET_UNDO, RELEASE, LOCK,
 *                      UNLOCK.
 * @size:     sizeof(struct ntmem_range), in
 * @flags:    NTMEM_COMMIT_* for COMMIT; zero otherwise
 * @addr:     page-aligned start, in
 * @length:   page-aligned length, in (RELEASE: 0 or the whole length;
 *            DECOMMIT: 0 for the whole reservation, with
 *            NTMEM_FEATURE_DECOMMIT_WHOLE)
 * @protect:  COMMIT: the protection of the committed pages; zero otherwise
 * @reserved0: must be zero
 * @reserved: must be zero
 *
 * COMMIT: reserved pages become committed and read as zero; committed
 * pages keep their contents and take @protect.  DECOMMIT: the pages become
 * reserved, their memory is freed and their page-table entries removed
 * before the call returns; with @length 0, @addr must be a reservation's
 * base (ENXIO otherwise) and every page of it is decommitted.  RESET: the
 * contents of committed pages are no longer needed; under memory pressure
 * they are dropped (without swap I/O), otherwise kept.  RESET_UNDO:
 * succeeds if no page of the range was dropped since its RESET (EBUSY
 * otherwise; dropped pages read as zero); either way the range is no
 * longer reset.  RELEASE: @addr must be a
 * reservation's base (ENXIO otherwise) and @length 0 or its whole length
 * (EINVAL otherwise); unmaps the whole reservation.
 *
 * LOCK: every page must be committed and not NOACCESS (EACCES); the first
 * armed guard page in the range fails the call with EAGAIN and loses its
 * guard, so a second call goes past it.  Locked pages get memory and are
 * mapped now, are never dropped by RESET, and count against RLIMIT_MEMLOCK
 * (unless CAP_IPC_LOCK) in the process's VmPin.  A page is locked or not:
 * locking twice and unlocking once unlocks.  UNLOCK: every page must be
 * locked (ENOLCK, nothing unlocked).  DECOMMIT and RELEASE drop locks.
 * LOCK and UNLOCK change no protection, content or QUERY answer.
 */
struct ntmem_range {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u32 protect;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct ntmem_protect - NTMEM_IOC_PROTECT: change page protections.
 * @size:     sizeof(struct ntmem_protect), in
 * @flags:    must be zero
 * @addr:     page-aligned start, in
 * @length:   page-aligned length, in
 * @protect:  the new protection, in
 * @old_protect: the protection of the first page before the call, out
 * @old_protect_out: 0, or (NTMEM_FEATURE_USER_OUT) a user pointer to a
 *            __u32 that receives @old_protect too, in
 * @reserved: must be zero
 *
 * Every page of the range must be committed (ENODATA otherwise); all or
 * nothing.  @old_protect, and *@old_protect_out, are stored before any
 * protection changes: memory that cannot take them fails the call with
 * EFAULT and nothing changed.
 */
struct ntmem_protect {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u32 protect;
	__u32 old_protect;
	__u64 old_protect_out;
	__u64 reserved[1];
};

/**
 * struct ntmem_query - NTMEM_IOC_QUERY: what VirtualQuery reports.
 * @size:     sizeof(struct ntmem_query), in
 * @flags:    must be zero
 * @addr:     the address to query, in (need not be aligned)
 * @base:     @addr rounded down to a page, out
 * @alloc_base: base of the reservation; for other memory the start of its
 *            mapping; 0 for free memory, out
 * @region_size: bytes from @base to the end of the run of pages with the
 *            same state and protection, inside the reservation; for free
 *            memory up to the next mapping or NTMEM_MAX_ADDRESS; for other
 *            memory up to the end of its mapping, out
 * @alloc_protect: the reservation's @protect; for other memory the
 *            mapping's protection, out
 * @state:    NTMEM_STATE_*, out
 * @protect:  protection of committed pages, 0 for reserved pages,
 *            NTMEM_PAGE_NOACCESS for free memory, out
 * @type:     NTMEM_TYPE_PRIVATE inside a reservation, 0 otherwise, out
 * @alloc_size: length of the reservation (of the mapping, for other
 *            memory; 0 for free memory), out
 * @info:     0, or (NTMEM_FEATURE_USER_OUT) a user pointer to a struct
 *            ntmem_basic_info that receives the answer as Windows'
 *            MEMORY_BASIC_INFORMATION; EFAULT if it cannot, in
 */
struct ntmem_query {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 base;
	__u64 alloc_base;
	__u64 region_size;
	__u32 alloc_protect;
	__u32 state;
	__u32 protect;
	__u32 type;
	__u64 alloc_size;
	__u64 info;
};

/**
 * struct ntmem_basic_info - QUERY's answer in the layout and values of
 * Windows' MEMORY_BASIC_INFORMATION (x64).  Inside a reservation: @state
 * NTMEM_STATE_COMMIT or _RESERVE, @type NTMEM_TYPE_PRIVATE; other memory
 * (NTMEM_STATE_OTHER in struct ntmem_query) is NTMEM_STATE_COMMIT,
 * NTMEM_TYPE_MAPPED; free memory is NTMEM_STATE_FREE, @protect
 * NTMEM_PAGE_NOACCESS, and the allocation fields and @type 0.
 */
struct ntmem_basic_info {
	__u64 base;
	__u64 alloc_base;
	__u32 alloc_protect;
	__u16 partition_id;
	__u16 reserved0;
	__u64 region_size;
	__u32 state;
	__u32 protect;
	__u32 type;
	__u32 reserved1;
};

/* GET_WRITE_WATCH flags */
#define NTMEM_WRITE_WATCH_RESET	(1U << 0)	/* clear what is reported */

/**
 * struct ntmem_write_watch - NTMEM_IOC_GET_WRITE_WATCH: written pages.
 * @size:     sizeof(struct ntmem_write_watch), in
 * @flags:    NTMEM_WRITE_WATCH_RESET, in
 * @addr:     page-aligned start, in
 * @length:   page-aligned length, in
 * @pages:    user pointer to an array of __u64, in
 * @count:    in: entries @pages can hold (non-zero); out: entries stored
 * @count_out: 0, or (NTMEM_FEATURE_USER_OUT) a user pointer to a __u64
 *            that holds the capacity in place of @count (which must then
 *            be 0) and receives the count stored, in
 * @granularity_out: 0, or (NTMEM_FEATURE_USER_OUT) a user pointer to a
 *            __u32 that receives the page size, in
 *
 * The range must lie inside one reservation made with
 * NTMEM_RESERVE_WRITE_WATCH (ENXIO otherwise).  Stores, in ascending
 * order, the address of each page of the range written since it was
 * committed or its state was last reset, up to @count of them; with
 * NTMEM_WRITE_WATCH_RESET exactly the pages stored become clean again.  A
 * write is any store by the process or by the kernel on its behalf (read()
 * into the buffer, ptrace); reads, commit, PROTECT and RESET are not.
 * Decommit makes pages clean.  NTMEM_IOC_RESET_WRITE_WATCH (struct
 * ntmem_range, flags and protect zero) makes every page of a range clean.
 * The cost is proportional to the written pages, not to the range.
 */
struct ntmem_write_watch {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u64 pages;
	__u64 count;
	__u64 count_out;
	__u64 granularity_out;
};

/**
 * struct ntmem_guard_hit - NTMEM_IOC_GUARD_HIT: was a SIGSEGV a guard page?
 * @size:     sizeof(struct ntmem_guard_hit), in
 * @flags:    must be zero
 * @addr:     the faulting address (si_addr), in
 * @hit:      1 if the calling thread's most recent guard-page fault was on
 *            @addr's page and has not been asked about yet, else 0, out
 * @reserved0: must be zero
 * @reserved: must be zero
 *
 * A guarded page's first access fails with SIGSEGV at the exact address,
 * like an access violation, and disarms the guard.  A handler tells the
 * two apart with this call (an ioctl is async-signal-safe); ask once per
 * SIGSEGV, since each guard hit is answered once.
 */
struct ntmem_guard_hit {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u32 hit;
	__u32 reserved0;
	__u64 reserved[2];
};

/*
 * Sections and views (Windows' CreateFileMapping and MapViewOfFile).
 *
 * A *section* is memory that several address spaces can map: pages of a
 * shmem file of the module's, swapped and charged to memory cgroups as
 * Linux's own shared memory.  It is held by file descriptors, each with
 * its own access (NTMEM_FILE_MAP_* bits): SECTION_CREATE and SECTION_OPEN
 * return a new one (O_CLOEXEC); close() drops it, dup() and SCM_RIGHTS
 * pass it on.  The section lives while a descriptor or a view holds it.
 * A name makes it findable by SECTION_OPEN and by a SECTION_CREATE of the
 * same name, within one user (effective uid) of one user namespace:
 * no other user can see, open or squat it.
 *
 * The commit charge is the section's, taken once: the whole size at
 * creation (NTMEM_SEC_COMMIT), or page by page as COMMIT in a view
 * commits section pages (NTMEM_SEC_RESERVE); it is charged to the
 * creating process's context and given back when the section ends.
 *
 * A *view* is a reservation (one VMA, 64 KiB-aligned base) that maps part
 * of a section: QUERY reports it as NTMEM_TYPE_MAPPED with the view as the
 * allocation.  Its pages are committed where the section's are, with the
 * view's protection: NTMEM_PAGE_READONLY for NTMEM_FILE_MAP_READ,
 * NTMEM_PAGE_READWRITE for NTMEM_FILE_MAP_WRITE, NTMEM_PAGE_WRITECOPY for
 * NTMEM_FILE_MAP_COPY.  PROTECT changes them page by page, within what
 * the view's access allows (EACCES otherwise).  A shared view maps the
 * section's own pages: every view of the section, in any process, sees
 * each write.  A copy-on-write view (NTMEM_FILE_MAP_COPY) gets a private
 * copy of a page when it first touches it, so its writes stay its own;
 * a written page reports NTMEM_PAGE_READWRITE.  COMMIT in a view of an
 * NTMEM_SEC_RESERVE section commits those section pages, for every view
 * of it.  Views cannot be decommitted, locked or released with RELEASE
 * (EINVAL): UNMAP_VIEW ends them; RESET gives nothing back (the section's
 * pages are other views' too).  Views use small pages.
 *
 * A descriptor maps a view only with the access it was given: a read or
 * copy-on-write view needs NTMEM_FILE_MAP_READ, a write view
 * NTMEM_FILE_MAP_WRITE, an execute view NTMEM_FILE_MAP_EXECUTE or
 * NTMEM_SECTION_MAP_EXECUTE.  A copy-on-write page becomes writable by
 * being written, not by PROTECT (which takes NTMEM_PAGE_WRITECOPY there).
 * A name goes with the section's last descriptor (views do not keep it).
 *
 * Errors of the section calls:
 *   EINVAL   malformed argument, or a section protection or access that
 *            Windows refuses                 (ERROR_INVALID_PARAMETER)
 *   EBADF    @section is not a section descriptor
 *                                            (ERROR_INVALID_HANDLE)
 *   EACCES   the descriptor's access, or the section's protection, does
 *            not allow the view's access     (ERROR_ACCESS_DENIED)
 *   ENOENT   SECTION_OPEN: no section of that name
 *                                            (ERROR_FILE_NOT_FOUND)
 *   ENAMETOOLONG  a name over NTMEM_SECTION_NAME_MAX bytes
 *                                            (ERROR_FILENAME_EXCED_RANGE)
 *   EOVERFLOW  MAP_VIEW past the end of the section
 *                                            (ERROR_ACCESS_DENIED)
 *   EXDEV    MAP_VIEW: @offset or a fixed @addr not a multiple of 64 KiB
 *                                            (ERROR_MAPPED_ALIGNMENT)
 *   EEXIST   MAP_VIEW: a fixed range overlaps memory
 *                                            (ERROR_INVALID_ADDRESS)
 *   ENXIO    UNMAP_VIEW: no view at @addr    (ERROR_INVALID_ADDRESS)
 *   ENOSPC   over the commit limit           (ERROR_COMMITMENT_LIMIT)
 *   EFBIG    a read-only file section larger than its file
 *                                            (ERROR_NOT_ENOUGH_MEMORY)
 *   ENODATA  a file section of an empty file (ERROR_FILE_INVALID)
 *   EACCES   also: the LSM refuses the mapping of the file, or the file
 *            is sealed against writing       (ERROR_ACCESS_DENIED)
 *   EPERM    an execute view the W^X policy refuses
 *                                            (ERROR_DYNAMIC_CODE_BLOCKED)
 *   EOPNOTSUPP  NTMEM_FILE_MAP_EXECUTE without NTMEM_FILE_MAP_COPY
 *                                            (ERROR_NOT_SUPPORTED)
 */

/* Section attributes (Windows SEC_* values). */
#define NTMEM_SEC_RESERVE	0x04000000	/* pages committed in views */
#define NTMEM_SEC_COMMIT	0x08000000	/* every page committed (default) */

/* Access of a section descriptor and of a view (Windows FILE_MAP_*). */
#define NTMEM_FILE_MAP_COPY	0x0001	/* copy-on-write view */
#define NTMEM_FILE_MAP_WRITE	0x0002	/* read and write */
#define NTMEM_FILE_MAP_READ	0x0004
#define NTMEM_FILE_MAP_EXECUTE	0x0020	/* SECTION_MAP_EXECUTE_EXPLICIT */
#define NTMEM_SECTION_MAP_EXECUTE 0x0008	/* a descriptor's execute right */
#define NTMEM_FILE_MAP_ALL_ACCESS 0x000f001f	/* SECTION_ALL_ACCESS */

#define NTMEM_SECTION_NAME_MAX	1024	/* bytes, without a terminator */

/* SECTION_CREATE flag: the section maps the file @file, not the pagefile */
#define NTMEM_SECTION_FILE	0x00000001

/**
 * struct ntmem_section - NTMEM_IOC_SECTION_CREATE and NTMEM_IOC_SECTION_OPEN.
 * @size:     sizeof(struct ntmem_section), in
 * @flags:    CREATE: NTMEM_SEC_COMMIT or NTMEM_SEC_RESERVE (0 is
 *            NTMEM_SEC_COMMIT), and NTMEM_SECTION_FILE, in; OPEN: must be
 *            zero
 * @max_size: CREATE: the size in bytes (non-zero; with NTMEM_SECTION_FILE,
 *            0 for the file's size), in; out (both): the section's size
 * @protect:  CREATE: the section's protection -- NTMEM_PAGE_READONLY,
 *            _READWRITE, _WRITECOPY, _EXECUTE_READ, _EXECUTE_READWRITE or
 *            _EXECUTE_WRITECOPY -- in; out (both): the section's
 * @access:   the access of the new descriptor (NTMEM_FILE_MAP_* bits):
 *            OPEN: non-zero; CREATE: 0 for NTMEM_FILE_MAP_ALL_ACCESS, in
 * @name:     0, or a user pointer to the name (bytes, no terminator);
 *            OPEN needs one, in
 * @name_len: its length in bytes, 1 to NTMEM_SECTION_NAME_MAX, in
 * @fd:       the new descriptor, out
 * @existed:  CREATE: 1 if the name was taken and that section was
 *            returned instead (Windows' ERROR_ALREADY_EXISTS; its size
 *            and protection win), else 0, out
 * @attrs:    the section's NTMEM_SEC_* attribute, out
 * @file:     CREATE with NTMEM_SECTION_FILE: a descriptor of a regular
 *            file, open for reading (and for writing, for a writable
 *            protection), in
 * @reserved0: must be zero
 * @reserved: must be zero
 *
 * Names are compared byte for byte; the library parses Windows' prefixes.
 *
 * A file section maps the file's own pages (its page cache): a view's
 * writes are the file's, written back as the file's pages are (msync()
 * or FlushViewOfFile forces it).  It is never charged (the file backs
 * it), NTMEM_SEC_RESERVE means NTMEM_SEC_COMMIT for it, and a section
 * larger than the file grows the file -- if the protection is writable;
 * else EFBIG.  A file of size 0 with @max_size 0 is ENODATA.  A file not
 * open for what the protection needs, append-only, or on a noexec mount
 * for an execute protection: EACCES; not a regular file: EBADF.
 */
struct ntmem_section {
	__u32 size;
	__u32 flags;
	__u64 max_size;
	__u32 protect;
	__u32 access;
	__u64 name;
	__u32 name_len;
	__s32 fd;
	__u32 existed;
	__u32 attrs;
	__s32 file;
	__u32 reserved0;
	__u64 reserved[1];
};

/**
 * struct ntmem_view - NTMEM_IOC_MAP_VIEW: map a view of a section.
 * @size:     sizeof(struct ntmem_view), in
 * @flags:    NTMEM_RESERVE_FIXED, NTMEM_RESERVE_TOP_DOWN, in
 * @addr:     in: 0 (anywhere), a hint, or with NTMEM_RESERVE_FIXED the
 *            64 KiB-aligned base to use; out: the base
 * @offset:   offset in the section, a multiple of 64 KiB, in
 * @length:   in: bytes, 0 for the rest of the section; out: the view's
 *            length in bytes, rounded up to pages
 * @section:  a section descriptor, in
 * @access:   NTMEM_FILE_MAP_* of the view: READ, WRITE (with or without
 *            READ), COPY, ALL_ACCESS (as WRITE), each possibly with
 *            EXECUTE; in
 *
 * @flags may hold NTMEM_RESERVE_REPLACE (with NTMEM_RESERVE_FIXED): the
 * view is made exactly over one placeholder, as RESERVE's.
 * @reserved: must be zero
 */
struct ntmem_view {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 offset;
	__u64 length;
	__s32 section;
	__u32 access;
	__u64 reserved[2];
};

/*
 * Other processes (Windows' OpenProcess, the ...Ex calls,
 * ReadProcessMemory and WriteProcessMemory).
 *
 * OPEN_PROCESS turns a descriptor of /proc/PID/mem into a *process
 * descriptor* ("[ntmem-process]", O_CLOEXEC).  Opening /proc/PID/mem is
 * Linux's own decision to let the caller at the process's memory -- the
 * ptrace-attach check, with the LSM's ptrace hook (Yama, SELinux,
 * AppArmor) -- so the module asks nothing the kernel has not already
 * answered, and a process the caller may not ptrace cannot be opened.
 * The descriptor refers to the address space the mem file refers to: it
 * fails with ESRCH once that address space is gone (exit, exec).  Its
 * /proc/self/fdinfo entry shows "Pid:" (the process's id in the reader's
 * pid namespace, 0 if not there) and "NtmemAccess:" (the access bits).
 *
 * The process descriptor takes these ioctls of /dev/ntmem, which then act
 * on the process's address space (the target does nothing): VERSION,
 * RESERVE, COMMIT, DECOMMIT, RESET, RESET_UNDO, RELEASE, PROTECT and
 * MAP_VIEW, UNMAP_VIEW (NTMEM_PROCESS_VM_OPERATION), QUERY
 * (NTMEM_PROCESS_QUERY_INFORMATION or _QUERY_LIMITED_INFORMATION), and
 * READ_MEMORY (NTMEM_PROCESS_VM_READ) and WRITE_MEMORY
 * (NTMEM_PROCESS_VM_WRITE and NTMEM_PROCESS_VM_OPERATION); EACCES
 * without the access, before the argument is read (so a NULL argument
 * tells it from a view's EACCES), ENOTTY for the others (write watch,
 * guard hits, LOCK, sections: Windows has no form of them for another
 * process).
 * The descriptor's user pointers (the structs, a view's section
 * descriptor, PROTECT's out-parameter) are the caller's.
 *
 * Memory made so is the target's in every way: its reservations are
 * VMAs of its address space, charged to the commit charge of the user
 * who owns it, its pages to its memory cgroup; its RLIMIT_AS, its W^X
 * policy (MDWE) and what the LSM allows it bound what may be made.
 */

/* Access of a process descriptor (Windows PROCESS_* values). */
#define NTMEM_PROCESS_VM_OPERATION	0x0008
#define NTMEM_PROCESS_VM_READ		0x0010
#define NTMEM_PROCESS_VM_WRITE		0x0020
#define NTMEM_PROCESS_QUERY_INFORMATION	0x0400
#define NTMEM_PROCESS_QUERY_LIMITED_INFORMATION 0x1000

/**
 * struct ntmem_process - NTMEM_IOC_OPEN_PROCESS: open another process.
 * @size:     sizeof(struct ntmem_process), in
 * @flags:    must be zero
 * @pid:      the process (thread group id, in the caller's pid
 *            namespace), in
 * @mem_fd:   a descriptor of its /proc/PID/mem (or /proc/PID/task/TID/mem),
 *            opened by the caller: for reading, or for reading and
 *            writing to ask for NTMEM_PROCESS_VM_OPERATION or
 *            NTMEM_PROCESS_VM_WRITE, in
 * @access:   NTMEM_PROCESS_* bits (non-zero), in
 * @fd:       the new process descriptor, out
 * @reserved: must be zero
 *
 * Errors: EINVAL (malformed, @pid not positive, or @mem_fd is not a mem
 * file of procfs), EBADF (@mem_fd is not open), ESRCH (no process @pid, or
 * @mem_fd is not the memory of @pid's live address space), EACCES (@mem_fd
 * is read-only and the access asks to change memory).
 */
struct ntmem_process {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__s32 mem_fd;
	__u32 access;
	__s32 fd;
	__u64 reserved[4];
};

/**
 * struct ntmem_memory_copy - NTMEM_IOC_READ_MEMORY, NTMEM_IOC_WRITE_MEMORY.
 * @size:     sizeof(struct ntmem_memory_copy), in
 * @flags:    must be zero
 * @addr:     the address in the process, in
 * @buf:      the caller's buffer, in
 * @length:   bytes to copy, in
 * @done:     bytes copied, out (also when the call fails)
 * @reserved: must be zero
 *
 * Copies as a debugger does (ptrace, /proc/PID/mem): any committed page
 * that is not NOACCESS, whatever its protection, as Windows' calls do.
 * Errors: EFAULT -- the caller's buffer could not be read or written
 * (ERROR_NOACCESS): nothing was copied (@done 0), unless a WRITE_MEMORY's
 * buffer, readable when the call began, failed on the way -- @done bytes
 * were written then (and if the struct itself cannot be written back, the
 * copy may have been made: @done is not stored); EIO -- the process's
 * memory stopped before @length
 * (ERROR_PARTIAL_COPY), @done says where; ESRCH -- the address space is
 * gone.
 */
struct ntmem_memory_copy {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 buf;
	__u64 length;
	__u64 done;
	__u64 reserved[2];
};

#define NTMEM_IOC_VERSION	_IOWR(NTMEM_IOC_MAGIC, 0x00, struct ntmem_version)
#define NTMEM_IOC_RESERVE	_IOWR(NTMEM_IOC_MAGIC, 0x01, struct ntmem_reserve)
#define NTMEM_IOC_COMMIT	_IOW(NTMEM_IOC_MAGIC, 0x02, struct ntmem_range)
#define NTMEM_IOC_DECOMMIT	_IOW(NTMEM_IOC_MAGIC, 0x03, struct ntmem_range)
#define NTMEM_IOC_RESET		_IOW(NTMEM_IOC_MAGIC, 0x04, struct ntmem_range)
#define NTMEM_IOC_RESET_UNDO	_IOW(NTMEM_IOC_MAGIC, 0x05, struct ntmem_range)
#define NTMEM_IOC_RELEASE	_IOW(NTMEM_IOC_MAGIC, 0x06, struct ntmem_range)
#define NTMEM_IOC_PROTECT	_IOWR(NTMEM_IOC_MAGIC, 0x07, struct ntmem_protect)
#define NTMEM_IOC_QUERY		_IOWR(NTMEM_IOC_MAGIC, 0x08, struct ntmem_query)
#define NTMEM_IOC_GET_WRITE_WATCH _IOWR(NTMEM_IOC_MAGIC, 0x09, struct ntmem_write_watch)
#define NTMEM_IOC_RESET_WRITE_WATCH _IOW(NTMEM_IOC_MAGIC, 0x0a, struct ntmem_range)
#define NTMEM_IOC_GUARD_HIT	_IOWR(NTMEM_IOC_MAGIC, 0x0b, struct ntmem_guard_hit)
#define NTMEM_IOC_LOCK		_IOW(NTMEM_IOC_MAGIC, 0x0c, struct ntmem_range)
#define NTMEM_IOC_UNLOCK	_IOW(NTMEM_IOC_MAGIC, 0x0d, struct ntmem_range)
#define NTMEM_IOC_SECTION_CREATE _IOWR(NTMEM_IOC_MAGIC, 0x0e, struct ntmem_section)
#define NTMEM_IOC_SECTION_OPEN	_IOWR(NTMEM_IOC_MAGIC, 0x0f, struct ntmem_section)
#define NTMEM_IOC_MAP_VIEW	_IOWR(NTMEM_IOC_MAGIC, 0x10, struct ntmem_view)
/*
 * UNMAP_VIEW (struct ntmem_range, length and protect zero; flags 0 or
 * NTMEM_RELEASE_PRESERVE): unmap the view that holds @addr (any address
 * in it); with NTMEM_RELEASE_PRESERVE a view made over a placeholder goes
 * back to being one (ENXIO for another view).
 */
#define NTMEM_IOC_UNMAP_VIEW	_IOW(NTMEM_IOC_MAGIC, 0x11, struct ntmem_range)
#define NTMEM_IOC_OPEN_PROCESS	_IOWR(NTMEM_IOC_MAGIC, 0x12, struct ntmem_process)
#define NTMEM_IOC_READ_MEMORY	_IOWR(NTMEM_IOC_MAGIC, 0x13, struct ntmem_memory_copy)
#define NTMEM_IOC_WRITE_MEMORY	_IOWR(NTMEM_IOC_MAGIC, 0x14, struct ntmem_memory_copy)

#endif /* _UAPI_LINUX_NTMEM_H */
