/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libntmem internals shared by its files.  Every name here starts with
 * ntmem__ and stays out of the shared library's exports (libntmem.map).
 */
#ifndef NTMEM_LIB_INTERNAL_H
#define NTMEM_LIB_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include <ntmem/windows.h>
#include <uapi/ntmem.h>

#define NTMEM__PAGE		0x1000UL
#define NTMEM__GRANULE		((uintptr_t)NTMEM_GRANULARITY)
/* The user range: [NTMEM_MIN_ADDRESS, NTMEM_MAX_ADDRESS). */
#define NTMEM__MAX_USER		((uintptr_t)NTMEM_MAX_ADDRESS - 1)

/* lasterror.c: a call failed with @code: the thread's last error. */
void ntmem__fail(DWORD code);

/* errors.c: the Win32 code for a kernel errno (positive or negative).
 * @not_inside is what ENXIO/EEXIST/ENODATA mean for the calling function:
 * ERROR_INVALID_ADDRESS or ERROR_INVALID_PARAMETER. */
DWORD ntmem__error_from_errno(int err, DWORD not_inside);

/* errors.c: the Win32 code for a kernel errno of a section call
 * (SECTION_CREATE, SECTION_OPEN, MAP_VIEW, UNMAP_VIEW). */
DWORD ntmem__section_error_from_errno(int err);

/* device.c: this process's /dev/ntmem fd, or -errno (the hint is printed). */
int ntmem__fd(void);
/* The device fd if this process has it open already, else -1; opens
 * nothing and takes no lock, so a signal handler may call it. */
int ntmem__fd_if_open(void);
/* ioctl on this process's device: 0 or -errno. */
int ntmem__ioctl(unsigned long cmd, void *arg);
/* Whether the device has NTMEM_FEATURE_* @feature (opens it if need be). */
bool ntmem__has(uint64_t feature);

/* process.c: true if @h designates the calling process. */
bool ntmem__is_current_process(HANDLE h);

/*
 * process.c: the process a call acts on, as an ioctl target:
 * NTMEM__SELF for the calling process (its /dev/ntmem descriptor, through
 * ntmem__ioctl()), else the descriptor of an OpenProcess() handle.
 */
#define NTMEM__SELF	(-1)
/* The process @h designates into *@proc: 0, or ERROR_INVALID_HANDLE if
 * @h is neither GetCurrentProcess() nor a process handle (one ioctl). */
DWORD ntmem__process(HANDLE h, int *proc);
/* For the calls that serve only the calling process: true for it, else
 * false with the last error ERROR_NOT_SUPPORTED (another process) or
 * ERROR_INVALID_HANDLE (no process). */
bool ntmem__current_process_only(HANDLE h);
/*
 * ioctl @cmd on @proc: 0 or -errno.  A process descriptor's own failures
 * come back as two codes beyond errno's range, which the errno tables
 * (errors.c) turn into Windows' answers: NTMEM__EHANDLE, it is no process
 * descriptor (ERROR_INVALID_HANDLE); NTMEM__EDENIED, the handle lacks the
 * access or the process's address space is gone (ERROR_ACCESS_DENIED).
 */
#define NTMEM__EHANDLE	0x10001
#define NTMEM__EDENIED	0x10002
int ntmem__process_ioctl(int proc, unsigned long cmd, void *arg);

/* handle.c: a section HANDLE is a file descriptor, (fd + 1) << 2.  The
 * fd of @h, or -1 if @h encodes none (nothing checks that it is open). */
HANDLE ntmem__handle_from_fd(int fd);
int ntmem__fd_from_handle(HANDLE h);

/* protect.c: spec 1.2.  ntmem__protect_valid() says whether Windows
 * accepts @protect for private memory; ntmem__protect_to_kernel() drops
 * what Linux has no use for (the CFG bit). */
bool ntmem__protect_valid(DWORD protect);
/* The same for a view's pages, where the WRITECOPY values are valid too
 * (the kernel refuses them elsewhere). */
bool ntmem__view_protect_valid(DWORD protect);
uint32_t ntmem__protect_to_kernel(DWORD protect);

/* extended.c: what VirtualAlloc2's and MapViewOfFile3's extended
 * parameters ask, in the kernel's terms (0: no bound). */
struct ntmem__bounds {
	uint64_t lowest;	/* the lowest base */
	uint64_t highest;	/* the highest last byte */
	uint64_t alignment;	/* of the base */
	bool empty;		/* no place can meet them (ENOMEM) */
};
/* Windows' checks of @params in its order: 0 or a Win32 error.  A bound
 * in mid-granule is rounded in to the kernel's 64 KiB granules. */
DWORD ntmem__extended_params(const MEM_EXTENDED_PARAMETER *params,
			     ULONG count, struct ntmem__bounds *b);
static inline bool ntmem__bounded(const struct ntmem__bounds *b)
{
	return b->lowest || b->highest || b->alignment;
}

/* virtual.c: why REPLACE of [start, start + len) in @proc failed with
 * ENXIO, as Windows says it (@len 0 if unknown). */
DWORD ntmem__replace_error(int proc, uintptr_t start, uintptr_t len);

/* rounding.c: the one place ranges are rounded (spec 4.1.4). */
enum ntmem__round {
	NTMEM__ROUND_PAGES,	/* [down(a, P), up(a+n, P)) */
	NTMEM__ROUND_ALLOCATION,	/* [down(a, G), up(a+n, P)) */
};
void ntmem__round(uintptr_t addr, size_t size, enum ntmem__round how,
		  uintptr_t *start, uintptr_t *end);
/* True if [addr, addr+size) runs past the user range or wraps. */
bool ntmem__range_bad(uintptr_t addr, size_t size);

/* probe.c: true if @len bytes at @p can be written. */
bool ntmem__writable(void *p, size_t len);

/* procfs.c: a text file into @buf (NUL-terminated): its length, or -1. */
ssize_t ntmem__read_text(const char *path, char *buf, size_t len);
/* The number after "@name:" at the start of a line of @text. */
bool ntmem__text_field(const char *text, const char *name, uint64_t *value);
/* The number a file starts with. */
bool ntmem__file_u64(const char *path, uint64_t *value);
/* @fn on each line of a file (without its newline; lines over 511 bytes
 * cut) until it returns false; no allocation, no lock.  False if the
 * file cannot be opened. */
bool ntmem__each_line(const char *path, bool (*fn)(const char *line, void *arg),
		      void *arg);

/* process_usage.c: this process's ntmem commit charge and resident
 * bytes, from the kernel's netlink family; false if it cannot answer. */
bool ntmem__process_usage(uint64_t *committed, uint64_t *resident);

#endif /* NTMEM_LIB_INTERNAL_H */
