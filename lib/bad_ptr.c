// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IsBadReadPtr, IsBadWritePtr, IsBadCodePtr, IsBadStringPtrA/W.  Windows
 * touches each page under an exception handler; Linux has none, so every
 * page is asked about instead, without an access that could fault:
 *  - ntmem memory: NTMEM_IOC_QUERY says committed or not, and its
 *    protection.  A guard page is reported bad and loses its guard, as
 *    Windows' probe would consume it;
 *  - other memory: process_vm_readv on ourselves reads a byte (EFAULT,
 *    not SIGSEGV, when it cannot), and the mapping's protection (QUERY,
 *    or /proc/self/maps without the device) decides about writes.
 * Nothing is written, no lock is taken and the last error is left alone:
 * thread-safe and async-signal-safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

enum access { READ, WRITE };

/* A byte of ours copied by the kernel: no fault whatever @p is. */
static bool kernel_read(const void *p, void *out, size_t len)
{
	struct iovec local = { out, len }, remote = { (void *)p, len };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)len;
}

struct maps_find {
	uintptr_t addr;
	bool writable;
};

static bool maps_line(const char *line, void *arg)
{
	struct maps_find *f = arg;
	char *e;
	uintptr_t lo = strtoull(line, &e, 16), hi = strtoull(e + 1, &e, 16);

	if (f->addr < lo || f->addr >= hi)
		return true;
	f->writable = e[1] == 'r' && e[2] == 'w';
	return false;
}

/* The maps line holding @a says writable (without the device). */
static bool maps_writable(uintptr_t a)
{
	struct maps_find f = { a, false };

	ntmem__each_line("/proc/self/maps", maps_line, &f);
	return f.writable;
}

static bool protect_allows(uint32_t protect, enum access how)
{
	switch (protect & 0xFF) {
	case PAGE_READONLY:
	case PAGE_EXECUTE_READ:
		return how == READ;
	case PAGE_READWRITE:
	case PAGE_WRITECOPY:
	case PAGE_EXECUTE_READWRITE:
	case PAGE_EXECUTE_WRITECOPY:
		return true;
	default:			/* NOACCESS, EXECUTE */
		return false;
	}
}

/* Take a guard page's guard away, as the first access would. */
static void consume_guard(int fd, uintptr_t page, uint32_t protect)
{
	struct ntmem_protect p = {
		.size = sizeof(p),
		.addr = page,
		.length = NTMEM__PAGE,
		.protect = protect & ~(uint32_t)NTMEM_PAGE_GUARD,
	};

	ioctl(fd, NTMEM_IOC_PROTECT, &p);
}

/* Whether the page holding @a allows @how; *direct: ntmem memory, which
 * may be read directly once allowed. */
static bool page_ok(uintptr_t a, enum access how, bool *direct)
{
	int fd = ntmem__fd_if_open();
	struct ntmem_query q = { .size = sizeof(q), .addr = a };
	char byte;

	*direct = false;
	if (fd >= 0 && !ioctl(fd, NTMEM_IOC_QUERY, &q)) {
		if (q.state == NTMEM_STATE_FREE)
			return false;
		if (q.state != NTMEM_STATE_OTHER) {	/* ntmem's own */
			if (q.state != NTMEM_STATE_COMMIT)
				return false;
			if (q.protect & NTMEM_PAGE_GUARD) {
				consume_guard(fd, a & ~(NTMEM__PAGE - 1),
					      q.protect);
				return false;
			}
			*direct = true;
			return protect_allows(q.protect, how);
		}
		if (!kernel_read((void *)a, &byte, 1))
			return false;
		return how == READ || protect_allows(q.protect, how);
	}
	if (!kernel_read((void *)a, &byte, 1))
		return false;
	return how == READ || maps_writable(a);
}

static BOOL range_bad(const void *lp, UINT_PTR ucb, enum access how)
{
	uintptr_t a = (uintptr_t)lp, last, page;
	int saved = errno;
	bool direct;
	BOOL bad = FALSE;

	if (!ucb)
		return FALSE;
	if (!lp || a + ucb - 1 < a)
		return TRUE;
	last = a + ucb - 1;
	for (page = a & ~(NTMEM__PAGE - 1); !bad; page += NTMEM__PAGE) {
		bad = !page_ok(page < a ? a : page, how, &direct);
		if (page >= (last & ~(NTMEM__PAGE - 1)))
			break;
	}
	errno = saved;
	return bad;
}

BOOL IsBadReadPtr(const void *lp, UINT_PTR ucb)
{
	return range_bad(lp, ucb, READ);
}

BOOL IsBadWritePtr(LPVOID lp, UINT_PTR ucb)
{
	return range_bad(lp, ucb, WRITE);
}

BOOL IsBadCodePtr(FARPROC lpfn)
{
	return range_bad((const void *)(uintptr_t)lpfn, 1, READ);
}

/* Copy @len bytes at @p through a pipe: write(2) reads them with the
 * kernel's own faults, which ntmem serves (all of its pages, executable
 * ones too), and fails with EFAULT instead of a signal. */
static bool pipe_copy(const int fds[2], const void *p, void *out, size_t len)
{
	return write(fds[1], p, len) == (ssize_t)len &&
	       read(fds[0], out, len) == (ssize_t)len;
}

/* Read @size-byte characters until a NUL or @max of them, a chunk at a
 * time, each page checked before it is read. */
static BOOL string_bad(const void *s, UINT_PTR max, size_t size)
{
	uintptr_t p = (uintptr_t)s;
	unsigned char buf[256];
	int saved = errno, fds[2];
	bool direct;
	BOOL bad = FALSE, done = FALSE;

	if (!max)
		return FALSE;
	if (!s)
		return TRUE;
	if (pipe2(fds, O_CLOEXEC))
		return TRUE;		/* cannot tell: say so, as a fault would */
	while (!bad && !done && max) {
		size_t to_page = NTMEM__PAGE - (p & (NTMEM__PAGE - 1));
		size_t n = to_page < sizeof(buf) ? to_page : sizeof(buf);

		n -= n % size;
		if (!n)			/* a character across two pages */
			n = size;
		if (n / size > max)
			n = max * size;
		if (p + n < p || !page_ok(p, READ, &direct) ||
		    !page_ok(p + n - 1, READ, &direct) ||
		    !pipe_copy(fds, (const void *)p, buf, n)) {
			bad = TRUE;
			break;
		}
		for (size_t i = 0; i < n && !done; i += size)
			done = buf[i] == 0 && (size == 1 || buf[i + 1] == 0);
		p += n;
		max -= n / size;
	}
	close(fds[0]);
	close(fds[1]);
	errno = saved;
	return bad;
}

BOOL IsBadStringPtrA(LPCSTR lpsz, UINT_PTR ucchMax)
{
	return string_bad(lpsz, ucchMax, 1);
}

BOOL IsBadStringPtrW(LPCWSTR lpsz, UINT_PTR ucchMax)
{
	return string_bad(lpsz, ucchMax, 2);
}
