// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_PAGE_GUARD: the first access of any kind to a guard page faults
 * (SIGSEGV at the exact byte) and disarms the guard of that page only; the
 * retried access then succeeds under the remaining protection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/uio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define RW_GUARD	(NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD)

FIXTURE(guard) {
	int fd;
	bool have_guard;
	char *p;		/* 64 KiB reservation */
};

FIXTURE_SETUP(guard)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->have_guard = ntmem_features(self->fd) & NTMEM_FEATURE_GUARD;
	self->p = ntmem_reserve_any(self->fd, 64 * KiB);
	ASSERT_NE(NULL, self->p);
}

FIXTURE_TEARDOWN(guard)
{
	if (self->fd > 0)
		close(self->fd);
}

/* (A SKIP in the 6.1 harness's FIXTURE_SETUP does not stop the test.) */
#define REQUIRE_GUARD() do {						\
		if (!self->have_guard)					\
			SKIP(return, "module has no NTMEM_FEATURE_GUARD"); \
	} while (0)

TEST_F(guard, first_access_faults_once)
{
	char *p = self->p;
	struct ntmem_query q;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ, RW_GUARD, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(RW_GUARD, q.protect);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);

	ASSERT_SEGV_AT(p + 4, try_read(p + 4));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(PAGE_SZ, q.region_size);
	ASSERT_NO_FAULT(try_read(p + 4));
	ASSERT_NO_FAULT(try_write(p + 4, 7));
	ASSERT_EQ(7, p[4]);

	/* The second page kept its guard; a write trips it the same way. */
	ASSERT_EQ(0, ntmem_query(self->fd, p + PAGE_SZ, &q));
	ASSERT_EQ(RW_GUARD, q.protect);
	ASSERT_SEGV_AT(p + PAGE_SZ + 100, try_write(p + PAGE_SZ + 100, 1));
	ASSERT_NO_FAULT(try_write(p + PAGE_SZ + 100, 2));
	ASSERT_EQ(2, p[PAGE_SZ + 100]);
	ASSERT_EQ(0, p[PAGE_SZ + 99]);
}

TEST_F(guard, rearm_with_protect)
{
	char *p = self->p;
	uint32_t old = 0;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	p[8] = 1;
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, RW_GUARD, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	/* A present page too: the guard must take the mapping away. */
	ASSERT_SEGV_AT(p + 8, try_read(p + 8));
	ASSERT_EQ(1, p[8]);
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, RW_GUARD, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	/* Disarming by PROTECT reports the guard as the old protection. */
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   &old));
	ASSERT_EQ(RW_GUARD, old);
	ASSERT_NO_FAULT(try_read(p + 8));
}

/* After the guard fires, the remaining protection applies. */
TEST_F(guard, remaining_protection_applies)
{
	char *p = self->p;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ,
				  NTMEM_PAGE_READONLY | NTMEM_PAGE_GUARD, 0));
	ASSERT_SEGV_AT(p + 16, try_write(p + 16, 1));
	ASSERT_NO_FAULT(try_read(p + 16));
	ASSERT_SEGV_AT(p + 16, try_write(p + 16, 1));
	ASSERT_EQ(0, p[16]);
}

/* Decommit forgets the guard with the page. */
TEST_F(guard, decommit_forgets_guard)
{
	char *p = self->p;
	struct ntmem_query q;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, RW_GUARD, 0));
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, PAGE_SZ));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_NO_FAULT(try_read(p));
}

/* NTMEM_IOC_GUARD_HIT for the calling thread: 1, 0, or a negative errno. */
static int guard_hit(int fd, const void *addr)
{
	struct ntmem_guard_hit g = { .size = sizeof(g),
				     .addr = (uintptr_t)addr };
	int err = ntmem_ioctl(fd, NTMEM_IOC_GUARD_HIT, &g);

	return err ? err : (int)g.hit;
}

static void *guard_thread(void *arg)
{
	char *p = arg;

	return try_read(p);
}

/* A SIGSEGV handler can tell a guard-page fault from an access violation. */
TEST_F(guard, guard_hit_tells_guard_from_access_violation)
{
	char *p = self->p;
	pthread_t t;
	void *fault;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 3 * PAGE_SZ, RW_GUARD, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 3 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READONLY | NTMEM_PAGE_GUARD, 0));
	ASSERT_SEGV_AT(p + 8, try_read(p + 8));
	ASSERT_EQ(1, guard_hit(self->fd, p + 8));
	/* answered once */
	ASSERT_EQ(0, guard_hit(self->fd, p + 8));
	/* an access violation (a reserved page) is not a guard hit */
	ASSERT_SEGV_AT(p + 5 * PAGE_SZ, try_read(p + 5 * PAGE_SZ));
	ASSERT_EQ(0, guard_hit(self->fd, p + 5 * PAGE_SZ));
	/* a guard on READONLY: the guard first, then the real violation */
	ASSERT_SEGV_AT(p + 3 * PAGE_SZ, try_write(p + 3 * PAGE_SZ, 1));
	ASSERT_EQ(1, guard_hit(self->fd, p + 3 * PAGE_SZ));
	ASSERT_SEGV_AT(p + 3 * PAGE_SZ, try_write(p + 3 * PAGE_SZ, 1));
	ASSERT_EQ(0, guard_hit(self->fd, p + 3 * PAGE_SZ));
	/* asking about another page answers no and forgets the hit */
	ASSERT_SEGV_AT(p + PAGE_SZ, try_read(p + PAGE_SZ));
	ASSERT_EQ(0, guard_hit(self->fd, p + 2 * PAGE_SZ));
	ASSERT_EQ(0, guard_hit(self->fd, p + PAGE_SZ));
	/* each thread hears only about its own hits */
	ASSERT_EQ(0, pthread_create(&t, NULL, guard_thread, p + 2 * PAGE_SZ));
	ASSERT_EQ(0, pthread_join(t, &fault));
	ASSERT_EQ(p + 2 * PAGE_SZ, fault);
	ASSERT_EQ(0, guard_hit(self->fd, p + 2 * PAGE_SZ));
	/* bad arguments */
	{
		struct ntmem_guard_hit g = { .size = sizeof(g), .flags = 1 };

		ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_GUARD_HIT,
					       &g));
	}
}

/*
 * A system call that writes into a guard page fails with EFAULT, however
 * the kernel retries the access, and the guard is gone afterwards; no
 * SIGSEGV was sent, so NTMEM_IOC_GUARD_HIT knows of no hit either.
 */
TEST_F(guard, system_call_into_guard_fails_and_disarms)
{
	char *p = self->p, buf[64];
	struct ntmem_query q;
	int fds[2], round;

	REQUIRE_GUARD();
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * PAGE_SZ, RW_GUARD, 0));
	for (round = 0; round < 4; round++) {
		char *page = p + round * PAGE_SZ;
		/* rounds 2 and 3 start on the page before: a partial copy */
		char *dst = round < 2 ? page + 100 : page - 8;

		if (round >= 2) {
			ASSERT_EQ(0, ntmem_protect(self->fd, page - PAGE_SZ,
						   PAGE_SZ, NTMEM_PAGE_READWRITE,
						   NULL));
		}
		ASSERT_EQ(16, write(fds[1], buf, 16));
		ASSERT_EQ(-1, read(fds[0], dst, 16)) TH_LOG("round %d", round);
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(0, ntmem_query(self->fd, page, &q));
		ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect) TH_LOG("round %d", round);
		ASSERT_EQ(0, guard_hit(self->fd, page + 100));
		/* the guard is gone: the same call now succeeds */
		ASSERT_EQ(16, read(fds[0], page + 100, 16));
		ASSERT_EQ(0, memcmp(page + 100, buf, 16));
		ASSERT_EQ(0, guard_hit(self->fd, page + 100));
	}
	/* a later access violation on a consumed guard page is not a guard */
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_NOACCESS,
				   NULL));
	ASSERT_SEGV_AT(p + 8, try_read(p + 8));
	ASSERT_EQ(0, guard_hit(self->fd, p + 8));
	close(fds[0]);
	close(fds[1]);
}

/* GUP into a guard page of one's own (process_vm_writev): the same. */
TEST_F(guard, gup_into_guard_fails_and_disarms)
{
	char *p = self->p, buf[32] = "guarded";
	struct iovec local = { buf, sizeof(buf) };
	struct iovec remote = { p + 64, sizeof(buf) };
	struct ntmem_query q;

	REQUIRE_GUARD();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, RW_GUARD, 0));
	ASSERT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(0, guard_hit(self->fd, p + 64));
	ASSERT_EQ((ssize_t)sizeof(buf),
		  process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(0, strcmp(p + 64, "guarded"));
}

TEST_HARNESS_MAIN
