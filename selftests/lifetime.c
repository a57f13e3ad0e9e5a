// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime: what a process leaves behind when it exits or is killed,
 * closing and reopening the device, fork (the child gets a hole and an fd
 * that answers EBADFD), and the module staying loaded while in use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "counters_assert.h"

FIXTURE(lifetime) {
	int fd;
	pid_t child;	/* killed by the teardown if a test fails early */
};

FIXTURE_SETUP(lifetime)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(lifetime)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->fd > 0)
		close(self->fd);
}

#define CHILD_LEN	(64 * MiB)

/* Reserve, commit and touch CHILD_LEN, check it shows, then just exit. */
static int child_uses_memory(void *arg)
{
	struct ntmem_counters c;
	int fd = ntmem_open();
	char *p;

	(void)arg;
	if (fd < 0)
		return 10;
	p = ntmem_reserve_any(fd, CHILD_LEN);
	if (!p || ntmem_commit(fd, p, CHILD_LEN, NTMEM_PAGE_READWRITE, 0))
		return 11;
	touch_pages(p, CHILD_LEN, 1);
	if (ntmem_reset(fd, p, CHILD_LEN / 2))
		return 12;
	if (ntmem_lock(fd, p + CHILD_LEN / 2, CHILD_LEN / 4))
		return 13;
	if (ntmem_counters_read(&c) ||
	    c.resident_pages < (long)(CHILD_LEN / PAGE_SZ) ||
	    c.reset_pages < (long)(CHILD_LEN / 2 / PAGE_SZ) ||
	    c.locked_pages < (long)(CHILD_LEN / 4 / PAGE_SZ))
		return 14;
	return 0;
}

TEST_F_TIMEOUT(lifetime, child_exit_frees_everything, 60)
{
	struct ntmem_counters c0, c1;
	long free0, free1;

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	free0 = free_memory_kb();
	ASSERT_EQ(0, run_in_child(child_uses_memory, NULL));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	free1 = free_memory_settled_kb(free0 - 8 * 1024, 5000);
	assert_counters_equal(_metadata, &c0, &c1);
	ASSERT_LE(free0 - free1, 8 * 1024)
		TH_LOG("free memory %ld kB lower after the child", free0 - free1);
}

/* Loop through every operation until killed; report once it is busy. */
static void busy_child(int wfd, int prefault)
{
	const size_t len = CHILD_LEN;
	int fd = ntmem_open();
	char *p;

	if (fd < 0)
		_exit(10);
	p = ntmem_reserve_any(fd, len);
	if (!p || ntmem_commit(fd, p, len, NTMEM_PAGE_READWRITE, 0))
		_exit(11);
	touch_pages(p, len, 1);
	if (write(wfd, "x", 1) != 1)
		_exit(12);
	for (;;) {
		ntmem_reset(fd, p, len / 2);
		ntmem_lock(fd, p + len / 2, len / 4);
		ntmem_decommit(fd, p, len / 2);
		ntmem_unlock(fd, p + len / 2, len / 8);
		ntmem_decommit(fd, p, len);
		ntmem_commit(fd, p, len, NTMEM_PAGE_READWRITE,
			     prefault ? NTMEM_COMMIT_PREFAULT : 0);
		touch_pages(p, len, 2);
		ntmem_protect(fd, p, len, NTMEM_PAGE_READONLY, NULL);
		ntmem_protect(fd, p, len, NTMEM_PAGE_READWRITE, NULL);
	}
}

TEST_F_TIMEOUT(lifetime, child_killed_midway, 90)
{
	const long delays_ms[] = { 0, 7, 50, 300 };
	struct ntmem_counters c0, c1;
	long free0, free1;

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	free0 = free_memory_kb();
	for (size_t i = 0; i < ARRAY_SIZE(delays_ms); i++) {
		struct timespec ts = { 0, delays_ms[i] * 1000000 };
		int pfd[2], status;
		char c;

		ASSERT_EQ(0, pipe(pfd));
		self->child = fork();
		ASSERT_LE(0, self->child);
		if (self->child == 0) {
			close(pfd[0]);
			busy_child(pfd[1], i & 1);
		}
		close(pfd[1]);
		ASSERT_EQ(1, read(pfd[0], &c, 1));
		close(pfd[0]);
		nanosleep(&ts, NULL);
		ASSERT_EQ(0, kill(self->child, SIGKILL));
		ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
		self->child = 0;
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_EQ(SIGKILL, WTERMSIG(status));
		ASSERT_EQ(0, ntmem_counters_read(&c1));
		assert_counters_equal(_metadata, &c0, &c1);
	}
	free1 = free_memory_settled_kb(free0 - 8 * 1024, 5000);
	ASSERT_LE(free0 - free1, 8 * 1024)
		TH_LOG("free memory %ld kB lower after the children", free0 - free1);
}

TEST_F(lifetime, close_fd_keeps_memory_reopen_manages_it)
{
	struct ntmem_counters c0, c1, c2;
	struct ntmem_query q;
	uint32_t old = 0;
	char *p;
	int fd2;

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	p = ntmem_reserve_any(self->fd, 1 * MiB);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, PAGE_SZ, 71);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	/* Still usable: data, write, and the reserved part still faults. */
	ASSERT_EQ(-1, check_pattern(p, PAGE_SZ, 71));
	ASSERT_NO_FAULT(try_write(p + PAGE_SZ + 1, 5));
	ASSERT_SEGV_AT(p + 2 * PAGE_SZ, try_read(p + 2 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations + 1, c1.reservations);

	/* A new open of the device manages it again. */
	fd2 = ntmem_open();
	ASSERT_LE(0, fd2);
	self->fd = fd2;
	ASSERT_EQ(0, ntmem_query(fd2, p, &q));
	ASSERT_EQ((uintptr_t)p, q.alloc_base);
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_protect(fd2, p, PAGE_SZ, NTMEM_PAGE_READONLY, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_SEGV_AT(p + 3, try_write(p + 3, 0));
	ASSERT_EQ(0, ntmem_commit(fd2, p + 4 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_release(fd2, p, 0));
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c0.reservations, c2.reservations);
	ASSERT_EQ(c0.committed_pages, c2.committed_pages);
	ASSERT_EQ(c0.resident_pages, c2.resident_pages);
}

/* Two opens in one process manage the same address space. */
TEST_F(lifetime, two_fds_one_address_space)
{
	int fd2 = ntmem_open();
	struct ntmem_query q;
	char *p;

	ASSERT_LE(0, fd2);
	p = ntmem_reserve_any(self->fd, 64 * KiB);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(fd2, p, PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_NO_FAULT(try_write(p, 1));
	ASSERT_EQ(0, ntmem_release(fd2, p, 0));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p, 0));
	close(fd2);
}

struct fork_arg {
	int fd;
	char *p;
	size_t len;
};

static int child_after_fork(void *arg)
{
	struct fork_arg *a = arg;
	size_t len = a->len;
	struct maps_entry e;
	struct ntmem_query q;
	void *addr = NULL;
	int fd;

	/* A hole where the parent's reservation is. */
	if (try_read(a->p) != a->p || fault_signo() != SIGSEGV)
		return 10;
	if (maps_find(0, a->p, &e))
		return 11;
	/* The inherited fd belongs to the parent's address space. */
	if (ntmem_query(a->fd, a->p, &q) != -EBADFD)
		return 12;
	if (ntmem_reserve(a->fd, &addr, &len, 0, 0) != -EBADFD)
		return 13;
	if (ntmem_commit(a->fd, a->p, PAGE_SZ, NTMEM_PAGE_READWRITE, 0) !=
	    -EBADFD)
		return 14;
	if (ntmem_release(a->fd, a->p, 0) != -EBADFD)
		return 15;
	/* The child's own open works, and the hole is free to reuse. */
	fd = ntmem_open();
	if (fd < 0)
		return 16;
	if (ntmem_query(fd, a->p, &q) || q.state != NTMEM_STATE_FREE)
		return 17;
	addr = a->p;
	len = a->len;
	if (ntmem_reserve(fd, &addr, &len, NTMEM_RESERVE_FIXED, 0) ||
	    addr != a->p)
		return 18;
	if (ntmem_commit(fd, a->p, PAGE_SZ, NTMEM_PAGE_READWRITE, 0))
		return 19;
	if (check_bytes(a->p, PAGE_SZ, 0) != -1)
		return 20;
	memset(a->p, 0x55, PAGE_SZ);
	return 0;
}

TEST_F(lifetime, fork_child_gets_hole_and_ebadfd)
{
	struct fork_arg a = { self->fd, NULL, 1 * MiB };
	struct ntmem_counters c0, c1;
	struct ntmem_query q;

	a.p = ntmem_reserve_any(self->fd, a.len);
	ASSERT_NE(NULL, a.p);
	ASSERT_EQ(0, ntmem_commit(self->fd, a.p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(a.p, 4 * PAGE_SZ, 72);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(0, run_in_child(child_after_fork, &a));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	assert_counters_equal(_metadata, &c0, &c1);
	/* The parent is unaffected. */
	ASSERT_EQ(-1, check_pattern(a.p, 4 * PAGE_SZ, 72));
	ASSERT_EQ(0, ntmem_query(self->fd, a.p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(4 * PAGE_SZ, q.region_size);
	ASSERT_NO_FAULT(try_write(a.p + 8, 1));
	ASSERT_EQ(0, ntmem_release(self->fd, a.p, 0));
}

/*
 * The child's copy after MADV_DOFORK: a mapping with no pages (not even the
 * executable page, whose PTE holds no reference) that faults like a hole.
 */
static int child_after_dofork(void *arg)
{
	struct fork_arg *a = arg;
	struct maps_entry e;

	if (!maps_find(0, a->p, &e))
		return 10;
	if (try_read(a->p) != a->p || fault_signo() != SIGSEGV)
		return 11;
	if (try_read(a->p + PAGE_SZ) != a->p + PAGE_SZ)
		return 12;
	if (try_write(a->p + 3 * PAGE_SZ, 1) != a->p + 3 * PAGE_SZ)
		return 13;
	return 0;
}

TEST_F(lifetime, madv_dofork_child_gets_no_pages)
{
	struct fork_arg a = { self->fd, NULL, 64 * KiB };
	struct ntmem_counters c0, c1;

	a.p = ntmem_reserve_any(self->fd, a.len);
	ASSERT_NE(NULL, a.p);
	ASSERT_EQ(0, ntmem_commit(self->fd, a.p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(a.p, 4 * PAGE_SZ, 73);
	if (ntmem_features(self->fd) & NTMEM_FEATURE_EXEC)
		ASSERT_EQ(0, ntmem_protect(self->fd, a.p + PAGE_SZ, PAGE_SZ,
					   NTMEM_PAGE_EXECUTE_READ, NULL));
	/* every page mapped in the parent, the executable one included */
	ASSERT_NO_FAULT(try_read(a.p + PAGE_SZ));
	ASSERT_EQ(4, pagemap_count_present(a.p, 4 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	if (madvise(a.p, a.len, MADV_DOFORK) == 0) {
		ASSERT_EQ(0, run_in_child(child_after_dofork, &a));
	} else {
		/* 7.x refuses MADV_DOFORK on a driver's VM_DONTCOPY mapping */
		TH_LOG("MADV_DOFORK refused: %s", strerror(errno));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, run_in_child(child_after_fork, &a));
	}
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	assert_counters_equal(_metadata, &c0, &c1);
	/* the parent frees its pages while the child's copy is long gone */
	ASSERT_EQ(-1, check_pattern(a.p, 4 * PAGE_SZ, 73));
	ASSERT_EQ(0, ntmem_decommit(self->fd, a.p, 4 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_release(self->fd, a.p, 0));
}

static long delete_module(const char *name, unsigned int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

TEST_F(lifetime, rmmod_refused_while_in_use)
{
	struct ntmem_version v;
	char *p;
	int fd2;

	if (getuid() != 0)
		SKIP(return, "needs CAP_SYS_MODULE");
	/* An open fd pins the module. */
	errno = 0;
	ASSERT_EQ(-1, delete_module("ntmem", O_NONBLOCK));
	ASSERT_TRUE(errno == EBUSY || errno == EAGAIN)
		TH_LOG("delete_module: %s", strerror(errno));

	/* So does a reservation after the fd is closed. */
	p = ntmem_reserve_any(self->fd, 64 * KiB);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	close(self->fd);
	self->fd = -1;
	errno = 0;
	ASSERT_EQ(-1, delete_module("ntmem", O_NONBLOCK));
	ASSERT_TRUE(errno == EBUSY || errno == EAGAIN)
		TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_NO_FAULT(try_write(p, 1));

	fd2 = ntmem_open();
	ASSERT_LE(0, fd2);
	self->fd = fd2;
	ASSERT_EQ(0, ntmem_version(fd2, &v));
	ASSERT_EQ(0, ntmem_release(fd2, p, 0));
}

TEST_HARNESS_MAIN
