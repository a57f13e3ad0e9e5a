// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.12: system information, large pages, the last error, limits and
 * concurrency (cases 141-150).
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

TEST(case_141)
{
	SYSTEM_INFO si;
	DWORD n;

	memset(&si, 0xCC, sizeof(si));
	GetSystemInfo(&si);
	ASSERT_EQ(4096, si.dwPageSize);
	ASSERT_EQ(65536, si.dwAllocationGranularity);
	ASSERT_EQ(0x10000, (uintptr_t)si.lpMinimumApplicationAddress);
	ASSERT_EQ(0x7FFFFFFEFFFF, (uintptr_t)si.lpMaximumApplicationAddress);
	ASSERT_EQ(9, si.wProcessorArchitecture);
	ASSERT_EQ(0, si.wReserved);
	ASSERT_EQ(8664, si.dwProcessorType);
	ASSERT_LE(1, si.dwNumberOfProcessors);
	n = si.dwNumberOfProcessors < 64 ? si.dwNumberOfProcessors : 64;
	ASSERT_EQ(n, (DWORD)__builtin_popcountll(si.dwActiveProcessorMask));
}

TEST(case_142)
{
	ASSERT_EQ(48, sizeof(SYSTEM_INFO));
	ASSERT_EQ(4, offsetof(SYSTEM_INFO, dwPageSize));
	ASSERT_EQ(8, offsetof(SYSTEM_INFO, lpMinimumApplicationAddress));
	ASSERT_EQ(16, offsetof(SYSTEM_INFO, lpMaximumApplicationAddress));
	ASSERT_EQ(24, offsetof(SYSTEM_INFO, dwActiveProcessorMask));
	ASSERT_EQ(32, offsetof(SYSTEM_INFO, dwNumberOfProcessors));
	ASSERT_EQ(36, offsetof(SYSTEM_INFO, dwProcessorType));
	ASSERT_EQ(40, offsetof(SYSTEM_INFO, dwAllocationGranularity));
	ASSERT_EQ(44, offsetof(SYSTEM_INFO, wProcessorLevel));
	ASSERT_EQ(46, offsetof(SYSTEM_INFO, wProcessorRevision));
}

TEST(case_143)
{
	ASSERT_EQ(48, sizeof(MEMORY_BASIC_INFORMATION));
	ASSERT_EQ(0, offsetof(MEMORY_BASIC_INFORMATION, BaseAddress));
	ASSERT_EQ(8, offsetof(MEMORY_BASIC_INFORMATION, AllocationBase));
	ASSERT_EQ(16, offsetof(MEMORY_BASIC_INFORMATION, AllocationProtect));
	ASSERT_EQ(24, offsetof(MEMORY_BASIC_INFORMATION, RegionSize));
	ASSERT_EQ(32, offsetof(MEMORY_BASIC_INFORMATION, State));
	ASSERT_EQ(36, offsetof(MEMORY_BASIC_INFORMATION, Protect));
	ASSERT_EQ(40, offsetof(MEMORY_BASIC_INFORMATION, Type));
}

TEST(case_144)
{
	ASSERT_EQ(0x200000, GetLargePageMinimum());
	ASSERT_EQ((HANDLE)-1, GetCurrentProcess());
}

/* Without the lock-memory privilege (CAP_IPC_LOCK on Linux): 1314. */
static int child_large_pages_without_privilege(void *arg)
{
	(void)arg;
	if (drop_cap_ipc_lock())
		return 10;
	if (VirtualAlloc(NULL, 0x200000, MEM_RESERVE | MEM_COMMIT |
			 MEM_LARGE_PAGES, PAGE_READWRITE))
		return 11;
	return GetLastError() == ERROR_PRIVILEGE_NOT_HELD ? 0 : 12;
}

TEST(case_145)
{
	ASSERT_EQ(0, run_in_child(child_large_pages_without_privilege, NULL));
}

/*
 * With the privilege, large pages are 2 MiB pages, there at once and
 * locked (unevictable); a size that is not a multiple of
 * GetLargePageMinimum() is invalid.
 */
TEST(large_pages_with_the_privilege)
{
	const SIZE_T len = 2 * 0x200000;
	long huge0 = meminfo_kb("ShmemHugePages");
	long unevictable0 = meminfo_kb("Unevictable");
	int fd = ntmem_open();
	uint64_t features = ntmem_features(fd);
	char *p;

	close(fd);
	if (!(features & NTMEM_FEATURE_LARGE_PAGES))
		SKIP(return, "kernel without huge pages");
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x300000, MEM_RESERVE | MEM_COMMIT |
				  MEM_LARGE_PAGES, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, len, MEM_RESERVE | MEM_LARGE_PAGES,
				  PAGE_READWRITE));
	p = VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT |
			 MEM_LARGE_PAGES, PAGE_READWRITE);
	if (!p && GetLastError() == ERROR_NO_SYSTEM_RESOURCES)
		SKIP(return, "no free 2 MiB pages in this guest");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, (uintptr_t)p % 0x200000);
	ASSERT_LE(huge0 + (long)(len / 1024), meminfo_kb("ShmemHugePages"));
	ASSERT_LE(unevictable0 + (long)(len / 1024) * 9 / 10,
		  meminfo_kb("Unevictable"));
	fill_pattern(p, len, 5);
	ASSERT_EQ(-1, check_pattern(p, len, 5));
	ASSERT_EQ((long)(len / 1024), smaps_field_kb(p, "Rss"));
	ASSERT_TRUE(VirtualFree(p, 0, MEM_RELEASE));
	ASSERT_EQ(huge0, meminfo_kb("ShmemHugePages"));
}

/* A successful call leaves the last error alone: every function, in order. */
TEST(case_146)
{
	MEMORY_BASIC_INFORMATION m;
	PVOID r[4];
	ULONG_PTR c = 4;
	DWORD g, old;
	char *b;

	SetLastError(LE_SENTINEL);
	b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT |
			 MEM_WRITE_WATCH, PAGE_READWRITE);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(sizeof(m), VirtualQuery(b, &m, sizeof(m)));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, VirtualProtect(b, 0x1000, PAGE_READONLY, &old));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(0u, GetWriteWatch(0, b, 0x10000, r, &c, &g));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(0u, ResetWriteWatch(b, 0x10000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, VirtualLock(b, 0x2000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, VirtualUnlock(b, 0x2000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, VirtualFree(b, 0, MEM_RELEASE));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

static pthread_barrier_t le_barrier;
static DWORD t2_error;

static void *le_thread(void *arg)
{
	(void)arg;
	SetLastError(5);
	pthread_barrier_wait(&le_barrier);	/* T1 fails now */
	pthread_barrier_wait(&le_barrier);
	t2_error = GetLastError();
	return NULL;
}

TEST(case_147)
{
	pthread_t t2;

	ASSERT_EQ(0, pthread_barrier_init(&le_barrier, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t2, NULL, le_thread, NULL));
	pthread_barrier_wait(&le_barrier);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_NOACCESS));
	pthread_barrier_wait(&le_barrier);
	ASSERT_EQ(0, pthread_join(t2, NULL));
	ASSERT_EQ(5, t2_error);
	ASSERT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
}

TEST(case_148)
{
	const SIZE_T tib = 0x10000000000UL;
	char *b = va_ok(_metadata, NULL, tib, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_FAILS(ERROR_COMMITMENT_LIMIT,
		     VirtualAlloc(b, tib, MEM_COMMIT, PAGE_READWRITE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(tib, m.RegionSize);
}

TEST(case_149)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE | MEM_TOP_DOWN,
			PAGE_NOACCESS);
	uintptr_t a = (uintptr_t)b + 0x10000;

	while (a < 0x7FFFFFFF0000UL) {
		MEMORY_BASIC_INFORMATION m;
		uintptr_t end, first;

		vq_ok(_metadata, (void *)a, &m);
		ASSERT_LT(0, m.RegionSize);
		end = (uintptr_t)m.BaseAddress + m.RegionSize;
		if (m.State == MEM_FREE) {
			first = (a + G - 1) & ~(G - 1);
			ASSERT_TRUE(first + G > end)
				TH_LOG("free 64 KiB at %#lx above top-down %p",
				       first, b);
		}
		a = end;
	}
}

/* Case 150: 8 workers and one querier. */
#define WORKERS		8
#define ROUNDS		1000

static volatile int workers_done;
static char *volatile current[WORKERS];
static int worker_errors, query_errors;

static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++) {
		MEMORY_BASIC_INFORMATION m;
		DWORD old;
		char *b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE,
				       PAGE_NOACCESS);

		if (!b || (uintptr_t)b % G ||
		    VirtualAlloc(b, 0x10000, MEM_COMMIT, PAGE_READWRITE) != b)
			goto fail;
		current[id] = b;
		/* Somebody else's live allocation here would be an overlap. */
		for (int k = 0; k < 0x10000; k += 0x1000) {
			if (b[k] != 0)
				goto fail;
			b[k] = (char)id + 1;
		}
		if (!VirtualProtect(b, 0x1000, PAGE_READONLY, &old) ||
		    old != PAGE_READWRITE ||
		    VirtualQuery(b, &m, sizeof(m)) != sizeof(m) ||
		    m.AllocationBase != b || m.State != MEM_COMMIT ||
		    m.Protect != PAGE_READONLY || m.RegionSize != 0x1000)
			goto fail;
		for (int k = 0; k < 0x10000; k += 0x1000)
			if (b[k] != (char)id + 1)
				goto fail;
		current[id] = NULL;
		if (!VirtualFree(b, 0, MEM_RELEASE))
			goto fail;
	}
	return NULL;
fail:
	__atomic_add_fetch(&worker_errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *querier(void *arg)
{
	(void)arg;
	while (!workers_done) {
		sched_yield();	/* the workers must make progress */
		for (int i = 0; i < WORKERS; i++) {
			MEMORY_BASIC_INFORMATION m;
			char *b = current[i];

			if (!b)
				continue;
			if (VirtualQuery(b + 0x1800, &m, sizeof(m)) !=
			    sizeof(m)) {
				query_errors++;
				continue;
			}
			/*
			 * Still an allocation at b (ours or the next one
			 * there), or released: free, or other memory (a new
			 * thread's stack) took the place.
			 */
			if (m.Type == MEM_MAPPED)
				continue;
			if (m.BaseAddress != b + 0x1000 ||
			    (m.State == MEM_FREE ? m.AllocationBase != NULL :
			     m.State == MEM_COMMIT ?
			     (m.AllocationBase != b || m.Type != MEM_PRIVATE ||
			      m.RegionSize + 0x1000 > 0x10000) :
			     m.State != MEM_RESERVE || m.AllocationBase != b))
				query_errors++;
		}
	}
	return NULL;
}

/* Under TCG the 48000 calls take longer than the harness's default 30 s. */
FIXTURE(stress) {};
FIXTURE_SETUP(stress) {}
FIXTURE_TEARDOWN(stress) {}

TEST_F_TIMEOUT(stress, case_150, 1500)
{
	uint64_t t0 = now_ns();

	pthread_t w[WORKERS], q;

	ASSERT_EQ(0, pthread_create(&q, NULL, querier, NULL));
	for (long i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, worker, (void *)i));
	for (int i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, pthread_join(w[i], NULL));
	workers_done = 1;
	ASSERT_EQ(0, pthread_join(q, NULL));
	TH_LOG("%d x %d rounds in %llu ms", WORKERS, ROUNDS,
	       (unsigned long long)(now_ns() - t0) / 1000000);
	ASSERT_EQ(0, worker_errors);
	ASSERT_EQ(0, query_errors);
}

TEST_HARNESS_MAIN
