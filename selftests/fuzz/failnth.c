// SPDX-License-Identifier: GPL-2.0
/*
 * --fail-nth: systematic allocation failures inside each ioctl (issue 11,
 * deliverable 3).  For each call kind, from a fresh state each time: write
 * N to /proc/thread-self/fail-nth, make the call, and go on with N+1 until
 * a call succeeds without the injection firing.  Every call that failed
 * must fail cleanly: a plain error, and nothing changed -- QUERY answers,
 * contents and the module's counters as before the call.
 *
 * The calls past the reservation ones (sections, views, placeholders,
 * another process) are failnth_objects.c's.
 *
 * Needs CONFIG_FAULT_INJECTION (the debug kernel); skips elsewhere.
 * fail-nth and the debugfs setup are inject.c's.  The sweep does not
 * depend on the seed: one run covers it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "../ntmem_util.h"

#define FN_PAGES	16

/* What must not change when a call fails. */
struct snap {
	struct ntmem_query q[FN_PAGES + 1];
	uint64_t word[FN_PAGES];
	long counters[FN_NCOUNTERS];
};

const char *const fn_cnames[FN_NCOUNTERS] = {
	"reservations", "committed_pages", "resident_pages", "reset_pages",
	"locked_pages",
};

static void take(int fd, uintptr_t base, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i <= FN_PAGES; i++) {
		s->q[i].size = sizeof(s->q[i]);
		s->q[i].addr = base + i * FZ_PAGE;
		ioctl(fd, NTMEM_IOC_QUERY, &s->q[i]);
		/* readable pages: their first word (never a guard: none here) */
		if (i < FN_PAGES && s->q[i].state == NTMEM_STATE_COMMIT &&
		    prot_can_read(s->q[i].protect))
			s->word[i] = *(volatile uint64_t *)(base + i * FZ_PAGE);
	}
	for (int i = 0; i < FN_NCOUNTERS; i++)
		s->counters[i] = ntmem_counter(fn_cnames[i]);
}

enum fn_kind { FN_RESERVE, FN_RESERVE_COMMIT, FN_COMMIT, FN_COMMIT_PREFAULT,
	       FN_DECOMMIT, FN_RESET, FN_RESET_UNDO, FN_PROTECT, FN_LOCK, FN_UNLOCK,
	       FN_GET_WW, FN_RESET_WW, FN_RELEASE, FN_NKINDS };
static const char *const fn_names[FN_NKINDS] = {
	"reserve", "reserve+commit", "commit", "commit+prefault", "decommit",
	"reset", "reset_undo", "protect", "lock", "unlock", "get_ww+reset",
	"reset_ww", "release",
};

int fn_range_ioctl(int fd, unsigned long cmd, uintptr_t a, size_t len,
		   uint32_t prot, uint32_t flags)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = a, .length = len,
				 .protect = prot, .flags = flags };

	return ioctl(fd, cmd, &r) ? errno : 0;
}

/* A reservation with a mix of states: the stage every call plays on. */
static uintptr_t stage(int fd)
{
	struct ntmem_reserve r = { .size = sizeof(r),
				   .length = FN_PAGES * FZ_PAGE,
				   .flags = NTMEM_RESERVE_WRITE_WATCH };
	uintptr_t b;

	if (ioctl(fd, NTMEM_IOC_RESERVE, &r))
		return 0;
	b = r.addr;
	fn_range_ioctl(fd, NTMEM_IOC_COMMIT, b, 8 * FZ_PAGE, NTMEM_PAGE_READWRITE, 0);
	fn_range_ioctl(fd, NTMEM_IOC_COMMIT, b + 8 * FZ_PAGE, 2 * FZ_PAGE,
		  NTMEM_PAGE_EXECUTE_READWRITE, 0);
	for (unsigned i = 0; i < 10; i++)
		*(volatile uint64_t *)(b + i * FZ_PAGE) = 0x1000 + i;
	fn_range_ioctl(fd, NTMEM_IOC_LOCK, b + 2 * FZ_PAGE, 2 * FZ_PAGE, 0, 0);
	fn_range_ioctl(fd, NTMEM_IOC_RESET, b + 6 * FZ_PAGE, 2 * FZ_PAGE, 0, 0);
	return b;
}

static int call(int fd, enum fn_kind k, uintptr_t b, uintptr_t *newres)
{
	uint64_t out[FN_PAGES];

	switch (k) {
	case FN_RESERVE:
	case FN_RESERVE_COMMIT: {
		struct ntmem_reserve r = { .size = sizeof(r),
			.length = 4 * FZ_PAGE,
			.flags = k == FN_RESERVE_COMMIT ? NTMEM_RESERVE_COMMIT : 0,
			.protect = k == FN_RESERVE_COMMIT ? NTMEM_PAGE_READWRITE : 0 };
		int err = ioctl(fd, NTMEM_IOC_RESERVE, &r) ? errno : 0;

		*newres = err ? 0 : r.addr;
		return err;
	}
	case FN_COMMIT:
		return fn_range_ioctl(fd, NTMEM_IOC_COMMIT, b + 4 * FZ_PAGE,
				 10 * FZ_PAGE, NTMEM_PAGE_READONLY, 0);
	case FN_COMMIT_PREFAULT:
		return fn_range_ioctl(fd, NTMEM_IOC_COMMIT, b + 8 * FZ_PAGE,
				 8 * FZ_PAGE, NTMEM_PAGE_READWRITE,
				 NTMEM_COMMIT_PREFAULT);
	case FN_DECOMMIT:
		return fn_range_ioctl(fd, NTMEM_IOC_DECOMMIT, b + FZ_PAGE,
				 5 * FZ_PAGE, 0, 0);
	case FN_RESET:
		return fn_range_ioctl(fd, NTMEM_IOC_RESET, b, 10 * FZ_PAGE, 0, 0);
	case FN_RESET_UNDO:
		return fn_range_ioctl(fd, NTMEM_IOC_RESET_UNDO, b, 10 * FZ_PAGE, 0, 0);
	case FN_PROTECT: {
		/* splits the run of READWRITE pages in three */
		struct ntmem_protect p = { .size = sizeof(p),
			.addr = b + 3 * FZ_PAGE, .length = 2 * FZ_PAGE,
			.protect = NTMEM_PAGE_READONLY };

		return ioctl(fd, NTMEM_IOC_PROTECT, &p) ? errno : 0;
	}
	case FN_LOCK:
		return fn_range_ioctl(fd, NTMEM_IOC_LOCK, b, 10 * FZ_PAGE, 0, 0);
	case FN_UNLOCK:
		return fn_range_ioctl(fd, NTMEM_IOC_UNLOCK, b + 2 * FZ_PAGE,
				 FZ_PAGE, 0, 0);
	case FN_GET_WW: {
		struct ntmem_write_watch w = { .size = sizeof(w), .addr = b,
			.length = FN_PAGES * FZ_PAGE, .pages = (uintptr_t)out,
			.count = FN_PAGES, .flags = NTMEM_WRITE_WATCH_RESET };

		return ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w) ? errno : 0;
	}
	case FN_RESET_WW:
		return fn_range_ioctl(fd, NTMEM_IOC_RESET_WRITE_WATCH, b + FZ_PAGE,
				 4 * FZ_PAGE, 0, 0);
	case FN_RELEASE:
		return fn_range_ioctl(fd, NTMEM_IOC_RELEASE, b, 0, 0, 0);
	default:
		return EINVAL;
	}
}

/* One kind: N = 1, 2, ... until a call succeeds without an injection. */
static int one_kind(int fd, int nth, enum fn_kind k, long *calls, long *injected)
{
	for (int n = 1; n <= FN_MAX_N; n++) {
		struct snap before, after;
		uintptr_t b = stage(fd), extra = 0;
		int err, left;

		if (!b) {
			printf("fuzz: fail-nth %s: cannot stage\n", fn_names[k]);
			return -1;
		}
		take(fd, b, &before);
		nth_set(nth, n);
		err = call(fd, k, b, &extra);
		left = nth_get(nth);
		nth_set(nth, 0);
		(*calls)++;
		*injected += left == 0;
		if (!err) {
			if (extra)
				fn_range_ioctl(fd, NTMEM_IOC_RELEASE, extra, 0, 0, 0);
			fn_range_ioctl(fd, NTMEM_IOC_RELEASE, b, 0, 0, 0);
			if (left != 0)
				return 0;	/* ran to the end: every N tried */
			continue;
		}
		take(fd, b, &after);
		if (err != ENOMEM && err != ENOSPC && err != EINTR &&
		    err != EAGAIN && err != EFAULT) {
			printf("fuzz: fail-nth %s n=%d: %s, not a clean error\n",
			       fn_names[k], n, strerror(err));
			return -1;
		}
		if (memcmp(before.q, after.q, sizeof(before.q)) ||
		    memcmp(before.word, after.word, sizeof(before.word))) {
			printf("fuzz: fail-nth %s n=%d: failed with %s but changed QUERY or contents\n",
			       fn_names[k], n, strerror(err));
			return -1;
		}
		for (int i = 0; i < FN_NCOUNTERS; i++)
			if (before.counters[i] != after.counters[i]) {
				printf("fuzz: fail-nth %s n=%d: failed with %s but %s went %ld -> %ld\n",
				       fn_names[k], n, strerror(err), fn_cnames[i],
				       before.counters[i], after.counters[i]);
				return -1;
			}
		fn_range_ioctl(fd, NTMEM_IOC_RELEASE, b, 0, 0, 0);
	}
	printf("fuzz: fail-nth %s: still failing at n=%d\n", fn_names[k], FN_MAX_N);
	return -1;
}

int failnth_run(const struct fz_opts *o)
{
	int nth, fd, bad = 0, status, rc = 4;
	long calls = 0, injected = 0;
	pid_t child;

	(void)o;
	/* the target of the remote kinds: before any ntmem state exists */
	fflush(stdout);
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	nth = nth_open();
	if (nth < 0) {
		printf("fuzz: fail-nth: no /proc/thread-self/fail-nth (needs CONFIG_FAULT_INJECTION, the debug kernel): skipped\n");
		goto out;
	}
	fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		close(nth);
		goto out;
	}
	for (int k = 0; k < FN_NKINDS; k++) {
		long c0 = calls, i0 = injected;

		if (one_kind(fd, nth, k, &calls, &injected))
			bad++;
		printf("fuzz: fail-nth %s: %ld calls, %ld injected failures\n",
		       fn_names[k], calls - c0, injected - i0);
	}
	bad += failnth_objects_run(fd, nth, child, &calls, &injected);
	close(fd);
	close(nth);
	printf("fuzz: fail-nth: ops %ld, injected %ld, divergences %d\n", calls,
	       injected, bad);
	rc = bad ? 1 : 0;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	return rc;
}
