// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl that changes state either succeeds or fails cleanly when an
 * allocation (or a user copy) inside it fails: the error is one of the
 * documented ones and the pages' state, contents and the module's charge
 * are as before.  Each operation runs again and again with the kernel's
 * per-task fault injection (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION)
 * failing its 1st, 2nd, ... fault point, until one run has no point left to
 * fail.  failslab, fail_page_alloc and fail_usercopy all count.  Needs a
 * kernel with fault injection (the debug kernel); elsewhere it skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define FI_PAGES	16		/* pages in the test reservation */
#define FI_MAX_NTH	400		/* fault points tried per operation */

/* Enable failslab and fail_page_alloc for GFP_KERNEL and user pages. */
static int fi_enable(void)
{
	static const char *const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/verbose", "0" },
		{ "fail_usercopy/verbose", "0" },
	};
	char path[128];
	size_t i;

	if (access("/proc/thread-self/fail-nth", W_OK))
		return -1;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", knobs[i][0]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return -1;
		if (write(fd, knobs[i][1], strlen(knobs[i][1])) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* What must not change when an operation fails. */
struct fi_snapshot {
	struct ntmem_query q[FI_PAGES];
	uint64_t sum[FI_PAGES];		/* contents of readable pages */
	long committed, reservations, locked, reset;
	int vmas;
};

static void fi_snap(int fd, char *p, struct fi_snapshot *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < FI_PAGES; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE_SZ);
		size_t j;

		ntmem_query(fd, p + i * PAGE_SZ, &s->q[i]);
		if (s->q[i].state != NTMEM_STATE_COMMIT ||
		    (s->q[i].protect & (NTMEM_PAGE_GUARD | NTMEM_PAGE_NOACCESS)))
			continue;
		for (j = 0; j < PAGE_SZ / 8; j++)
			s->sum[i] = s->sum[i] * 31 + w[j];
	}
	s->committed = ntmem_counter("committed_pages");
	s->reservations = ntmem_counter("reservations");
	s->locked = ntmem_counter("locked_pages");
	s->reset = ntmem_counter("reset_pages");
	s->vmas = maps_count();
}

static bool fi_same(const struct fi_snapshot *a, const struct fi_snapshot *b,
		    int *page)
{
	int i;

	for (i = 0; i < FI_PAGES; i++) {
		*page = i;
		if (a->q[i].state != b->q[i].state ||
		    a->q[i].protect != b->q[i].protect ||
		    a->q[i].region_size != b->q[i].region_size ||
		    a->sum[i] != b->sum[i])
			return false;
	}
	*page = -1;
	return a->committed == b->committed &&
	       a->reservations == b->reservations &&
	       a->locked == b->locked && a->reset == b->reset &&
	       a->vmas == b->vmas;
}

/* Arm fail-nth for this thread: the @nth fault point from now fails. */
static int fi_arm(int nth_fd, int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", nth);

	return pwrite(nth_fd, buf, n, 0) == n ? 0 : -1;
}

/* Disarm; true if the armed failure was injected (the count ran out). */
static bool fi_disarm(int nth_fd)
{
	char buf[16] = "";
	bool fired;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) < 0)
		return false;
	fired = atoi(buf) == 0;
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		return false;
	return fired;
}

FIXTURE(fi) {
	int fd, nth_fd;
	char *p;
};

FIXTURE_SETUP(fi)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	self->nth_fd = -1;
	if (getuid() == 0 && !fi_enable())
		self->nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
}

FIXTURE_TEARDOWN(fi)
{
	if (self->nth_fd >= 0)
		close(self->nth_fd);
	if (self->fd > 0)
		close(self->fd);
}

/* The state every operation starts from: a mix of runs. */
static int fi_prepare(int fd, char **pp)
{
	char *p = ntmem_reserve_any(fd, FI_PAGES * PAGE_SZ);

	if (!p)
		return -1;
	if (ntmem_commit(fd, p, 10 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0))
		return -1;
	fill_pattern(p, 10 * PAGE_SZ, 99);
	if (ntmem_protect(fd, p + 2 * PAGE_SZ, 2 * PAGE_SZ,
			  NTMEM_PAGE_READONLY, NULL) ||
	    ntmem_lock(fd, p + 6 * PAGE_SZ, 2 * PAGE_SZ) ||
	    ntmem_reset(fd, p + 8 * PAGE_SZ, PAGE_SZ))
		return -1;
	*pp = p;
	return 0;
}

enum fi_op { FI_COMMIT, FI_COMMIT_PREFAULT, FI_DECOMMIT, FI_PROTECT,
	     FI_LOCK, FI_UNLOCK, FI_RESET, FI_RESET_UNDO, FI_RESERVE,
	     FI_RESERVE_COMMIT, FI_RELEASE, FI_QUERY, FI_OPS };

static const char *const fi_names[FI_OPS] = {
	"COMMIT", "COMMIT|PREFAULT", "DECOMMIT", "PROTECT", "LOCK", "UNLOCK",
	"RESET", "RESET_UNDO", "RESERVE", "RESERVE|COMMIT", "RELEASE", "QUERY",
};

/* Run @op on the prepared reservation @p; 0 or -errno. */
static int fi_run(int fd, enum fi_op op, char *p, void **extra)
{
	struct ntmem_query q;
	size_t len = 256 * KiB;
	void *addr = NULL;
	int err;

	switch (op) {
	case FI_COMMIT:
		return ntmem_commit(fd, p + 9 * PAGE_SZ, 5 * PAGE_SZ,
				    NTMEM_PAGE_EXECUTE_READ, 0);
	case FI_COMMIT_PREFAULT:
		return ntmem_commit(fd, p + 11 * PAGE_SZ, 4 * PAGE_SZ,
				    NTMEM_PAGE_READWRITE, NTMEM_COMMIT_PREFAULT);
	case FI_DECOMMIT:
		return ntmem_decommit(fd, p + 5 * PAGE_SZ, 2 * PAGE_SZ);
	case FI_PROTECT:
		return ntmem_protect(fd, p + PAGE_SZ, 2 * PAGE_SZ,
				     NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD,
				     NULL);
	case FI_LOCK:
		return ntmem_lock(fd, p + 3 * PAGE_SZ, 4 * PAGE_SZ);
	case FI_UNLOCK:
		return ntmem_unlock(fd, p + 6 * PAGE_SZ, PAGE_SZ);
	case FI_RESET:
		return ntmem_reset(fd, p, 10 * PAGE_SZ);
	case FI_RESET_UNDO:
		return ntmem_reset_undo(fd, p + 8 * PAGE_SZ, PAGE_SZ);
	case FI_RESERVE:
	case FI_RESERVE_COMMIT:
		err = ntmem_reserve(fd, &addr, &len,
				    op == FI_RESERVE ? 0 : NTMEM_RESERVE_COMMIT,
				    NTMEM_PAGE_READWRITE);
		*extra = err ? NULL : addr;
		return err;
	case FI_RELEASE:
		return ntmem_release(fd, p, 0);
	case FI_QUERY:
		return ntmem_query(fd, p + 4 * PAGE_SZ, &q);
	default:
		return -EINVAL;
	}
}

/* The errors an allocation or copy failure may turn into. */
static bool fi_clean_error(int err)
{
	return err == -ENOMEM || err == -EFAULT || err == -EINTR ||
	       err == -EAGAIN;
}

TEST_F_TIMEOUT(fi, every_fault_point_fails_cleanly, 600)
{
	struct ntmem_counters c0, c1;
	enum fi_op op;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection in this kernel (or not root)");
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	for (op = 0; op < FI_OPS; op++) {
		int nth, failures = 0;

		for (nth = 1; nth <= FI_MAX_NTH; nth++) {
			struct fi_snapshot before, after;
			void *extra = NULL;
			bool fired;
			int err, page;
			char *p;

			ASSERT_EQ(0, fi_prepare(self->fd, &p));
			fi_snap(self->fd, p, &before);
			ASSERT_EQ(0, fi_arm(self->nth_fd, nth));
			err = fi_run(self->fd, op, p, &extra);
			fired = fi_disarm(self->nth_fd);
			if (!err) {
				if (extra)
					ASSERT_EQ(0, ntmem_release(self->fd,
								   extra, 0));
				if (op != FI_RELEASE)
					ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
				if (!fired)
					break;	/* no fault point left */
				continue;	/* the failure was absorbed */
			}
			failures++;
			ASSERT_TRUE(fired) TH_LOG("%s failed (%d) with no fault injected",
						  fi_names[op], err);
			ASSERT_TRUE(fi_clean_error(err))
				TH_LOG("%s, fault point %d: error %d", fi_names[op],
				       nth, err);
			fi_snap(self->fd, p, &after);
			ASSERT_TRUE(fi_same(&before, &after, &page))
				TH_LOG("%s, fault point %d (error %d) changed %s %d",
				       fi_names[op], nth, err,
				       page >= 0 ? "page" : "counters", page);
			ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
		}
		TH_LOG("%-16s %3d fault points, %3d failed cleanly", fi_names[op],
		       nth - 1, failures);
		ASSERT_GT(FI_MAX_NTH, nth - 1) TH_LOG("more fault points than tried");
	}
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	EXPECT_EQ(c0.reservations, c1.reservations);
	EXPECT_EQ(c0.committed_pages, c1.committed_pages);
	EXPECT_EQ(c0.resident_pages, c1.resident_pages);
	EXPECT_EQ(c0.reset_pages, c1.reset_pages);
	EXPECT_EQ(c0.locked_pages, c1.locked_pages);
}

TEST_HARNESS_MAIN
