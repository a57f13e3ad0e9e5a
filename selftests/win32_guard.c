// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.8 (cases 88-95): PAGE_GUARD through VirtualAlloc, VirtualQuery,
 * VirtualProtect and VirtualLock, and guard-page violations told from
 * access violations in a SIGSEGV handler by NtmemIsGuardPageViolation.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* 88, and 89 after it. */
static char *case_088_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE | MEM_COMMIT,
			PAGE_READWRITE | PAGE_GUARD);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, 0x104, 0x1000, MEM_COMMIT, 0x104, MEM_PRIVATE);
	return b;
}

TEST(case_088)
{
	case_088_steps(_metadata);
}

static char *case_089_steps(struct __test_metadata *_metadata)
{
	char *b = case_088_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;
	int32_t *l = (int32_t *)b;

	ASSERT_EQ(0x104, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	l[0] = 1;
	l[1] = 2;
	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READWRITE | PAGE_GUARD));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x104, m.Protect);
	return b;
}

TEST(case_089)
{
	case_089_steps(_metadata);
}

/* What the SIGSEGV handler saw. */
static volatile int guard_hits, access_violations;
static void *volatile last_addr;
static volatile long last_err;	/* x86 page-fault error code */
static sigjmp_buf av_env;

/*
 * Windows' two exceptions: a guard-page violation resumes (the access is
 * retried without the guard), an access violation jumps back to the test.
 */
static void segv_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	last_addr = si->si_addr;
	last_err = uc->uc_mcontext.gregs[REG_ERR];
	if (NtmemIsGuardPageViolation(si)) {
		guard_hits++;
		return;
	}
	access_violations++;
	siglongjmp(av_env, 1);
}

static void catch_segv(struct __test_metadata *_metadata)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	guard_hits = 0;
	access_violations = 0;
	last_addr = NULL;
}

static int32_t read_long(const void *p)
{
	return *(const volatile int32_t *)p;
}

/* A VirtualLock that hits the guard consumes it, as a touch would. */
static char *case_090_steps(struct __test_metadata *_metadata)
{
	char *b = case_089_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;

	catch_segv(_metadata);
	ASSERT_FAILS(STATUS_GUARD_PAGE_VIOLATION, VirtualLock(b, 0x1000));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ((DWORD)PAGE_READWRITE, m.Protect);
	ASSERT_EQ(0x104u, m.AllocationProtect);
	lock_ok(_metadata, b, 0x1000);
	ASSERT_EQ(1, read_long(b));
	unlock_ok(_metadata, b, 0x1000);
	ASSERT_EQ(0, guard_hits + access_violations);	/* no signal */
	return b;
}

TEST(case_090)
{
	case_090_steps(_metadata);
}

static char *case_091_steps(struct __test_metadata *_metadata)
{
	char *b = case_090_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READWRITE | PAGE_GUARD));
	catch_segv(_metadata);
	if (sigsetjmp(av_env, 1))
		ASSERT_TRUE(0) TH_LOG("access violation at %p", last_addr);
	ASSERT_EQ(1, read_long(b));
	ASSERT_EQ(1, guard_hits);
	ASSERT_EQ(0, access_violations);
	ASSERT_EQ(b, last_addr);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ((DWORD)PAGE_READWRITE, m.Protect);
	ASSERT_EQ(0x104u, m.AllocationProtect);
	ASSERT_EQ(1, read_long(b));
	ASSERT_EQ(1, guard_hits);
	ASSERT_EQ(0, access_violations);
	return b;
}

TEST(case_091)
{
	case_091_steps(_metadata);
}

TEST(case_092)
{
	char *b = case_091_steps(_metadata);

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READWRITE | PAGE_GUARD));
	guard_hits = 0;
	if (sigsetjmp(av_env, 1))
		ASSERT_TRUE(0) TH_LOG("access violation at %p", last_addr);
	ASSERT_EQ(2, read_long(b + 4));
	ASSERT_EQ(1, guard_hits);
	ASSERT_EQ(b + 4, last_addr);		/* ExceptionInformation[1] */
	ASSERT_EQ(0, last_err & 0x12);		/* [0] == 0: a read */
	ASSERT_EQ(0, access_violations);

	/* An access violation is not a guard-page violation. */
	vf_ok(_metadata, b, 0x1000, MEM_DECOMMIT);
	if (!sigsetjmp(av_env, 1)) {
		read_long(b + 8);
		ASSERT_TRUE(0) TH_LOG("no fault");
	}
	ASSERT_EQ(1, guard_hits);
	ASSERT_EQ(1, access_violations);
	ASSERT_EQ(b + 8, last_addr);
}

static char *case_093_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x1000,
			MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
			PAGE_READWRITE | PAGE_GUARD);
	MEMORY_BASIC_INFORMATION m;
	PVOID r[16];
	ULONG_PTR c = 16;
	DWORD g = 0;

	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x104u, m.Protect);
	ASSERT_EQ(0u, GetWriteWatch(0, b, 0x1000, r, &c, &g));
	ASSERT_EQ(0u, c);
	ASSERT_EQ(4096u, g);

	catch_segv(_metadata);
	if (sigsetjmp(av_env, 1))
		ASSERT_TRUE(0) TH_LOG("access violation at %p", last_addr);
	*(volatile int32_t *)b = 7;
	ASSERT_EQ(1, guard_hits);
	ASSERT_EQ(b, last_addr);
	ASSERT_EQ(2, last_err & 0x2);		/* a write */
	ASSERT_EQ(7, read_long(b));

	c = 16;
	ASSERT_EQ(0u, GetWriteWatch(WRITE_WATCH_FLAG_RESET, b, 0x1000, r, &c,
				    &g));
	ASSERT_EQ(1u, c);
	ASSERT_EQ(b, r[0]);
	c = 16;
	ASSERT_EQ(0u, GetWriteWatch(0, b, 0x1000, r, &c, &g));
	ASSERT_EQ(0u, c);
	ASSERT_EQ(1, guard_hits);
	return b;
}

TEST(case_093)
{
	case_093_steps(_metadata);
}

/* The failed lock consumes the guard but writes nothing. */
TEST(case_094)
{
	char *b = case_093_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;
	PVOID r[16];
	ULONG_PTR c = 16;
	DWORD g = 0;

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READWRITE | PAGE_GUARD));
	ASSERT_FAILS(STATUS_GUARD_PAGE_VIOLATION, VirtualLock(b, 0x1000));
	ASSERT_EQ(0u, GetWriteWatch(0, b, 0x1000, r, &c, &g));
	ASSERT_EQ(0u, c);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ((DWORD)PAGE_READWRITE, m.Protect);
	ASSERT_EQ(1, guard_hits);	/* from 93 only: no signal here */
	ASSERT_EQ(0, access_violations);
}

/* The harness's process made no ntmem call: no device, no guard page. */
TEST(guard_helper_before_any_ntmem_call)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_addr = &si;
	ASSERT_EQ(FALSE, NtmemIsGuardPageViolation(&si));
	ASSERT_EQ(FALSE, NtmemIsGuardPageViolation(NULL));
}

TEST(case_095)
{
	char *b = va_ok(_metadata, NULL, 0x400000, MEM_RESERVE, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(b + 0x3FF000, va_ok(_metadata, b + 0x3FF000, 0x1000,
				      MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD));
	vq_ok(_metadata, b + 0x3FF000, &m);
	ASSERT_MBI(m, b + 0x3FF000, b, PAGE_READWRITE, 0x1000, MEM_COMMIT,
		   0x104, MEM_PRIVATE);
}

TEST_HARNESS_MAIN
