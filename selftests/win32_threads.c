// SPDX-License-Identifier: GPL-2.0
/*
 * Thread safety of libntmem (beyond case 150): the device is opened once
 * however many threads make the first call together; the last error stays
 * per thread while all of them fail and succeed at once; threads sharing
 * one reservation commit, lock, protect, watch and decommit their own
 * slices of it, and the reservation ends exactly as it began.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define THREADS		16

static pthread_barrier_t start;

/* Open files of this process on /dev/ntmem. */
static int ntmem_fds(void)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		n += !strcmp(target, NTMEM_DEVICE);
	}
	closedir(dir);
	return n;
}

static void *first_call(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	return VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
			    PAGE_READWRITE);
}

/* In a fresh process, THREADS threads make the first ntmem call together. */
static int child_first_calls_race(void *arg)
{
	pthread_t t[THREADS];
	void *b[THREADS];

	(void)arg;
	if (ntmem_fds() != 0)
		return 10;
	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, first_call, NULL))
			return 11;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], &b[i]);
		if (!b[i])
			return 12;
		for (int j = 0; j < i; j++)
			if (b[j] == b[i])
				return 13;
	}
	return ntmem_fds() == 1 ? 0 : 14;
}

TEST(device_opened_once)
{
	ASSERT_EQ(0, run_in_child(child_first_calls_race, NULL));
}

/* Each thread fails its own way, many times, while the others do too. */
#define LE_ROUNDS	2000

static int le_errors;

static void *fail_own_way(void *arg)
{
	long id = (long)arg;
	char *b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
			       PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;
	DWORD want = 0;
	BOOL ok = TRUE;

	pthread_barrier_wait(&start);
	for (int i = 0; b && i < LE_ROUNDS; i++) {
		switch (id % 4) {
		case 0:
			ok = VirtualAlloc(NULL, 0, MEM_RESERVE,
					  PAGE_NOACCESS) != NULL;
			want = ERROR_INVALID_PARAMETER;
			break;
		case 1:
			ok = VirtualFree(b + 0x1000, 0, MEM_RELEASE);
			want = ERROR_INVALID_ADDRESS;
			break;
		case 2:
			ok = VirtualUnlock(b, 0x1000);
			want = ERROR_NOT_LOCKED;
			break;
		case 3:
			ok = VirtualQuery(b, &m, 8) != 0;
			want = ERROR_BAD_LENGTH;
			break;
		}
		if (ok || GetLastError() != want)
			break;
		/* a success in between leaves it alone */
		if (VirtualQuery(b, &m, sizeof(m)) != sizeof(m) ||
		    GetLastError() != want)
			break;
		SetLastError(0);
	}
	if (!b || ok || GetLastError() != 0)
		__atomic_add_fetch(&le_errors, 1, __ATOMIC_RELAXED);
	if (b)
		VirtualFree(b, 0, MEM_RELEASE);
	return NULL;
}

/* THREADS threads run fn(i), released together by the start barrier. */
static void run_threads(struct __test_metadata *_metadata,
			void *(*fn)(void *))
{
	pthread_t t[THREADS];

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, THREADS));
	for (long i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fn, (void *)i));
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	ASSERT_EQ(0, pthread_barrier_destroy(&start));
}

/* Under TCG these take longer than the harness's default 30 s. */
FIXTURE(threads) {};
FIXTURE_SETUP(threads) {}
FIXTURE_TEARDOWN(threads) {}

TEST_F_TIMEOUT(threads, last_error_per_thread, 300)
{
	run_threads(_metadata, fail_own_way);
	ASSERT_EQ(0, le_errors);
}

/* THREADS threads work on their own slices of one shared reservation. */
#define SLICE		(16 * P)
#define SLICE_ROUNDS	200

static char *shared;
static int slice_errors;

static int slice_round(char *s, long id, int round)
{
	PVOID pages[16];
	ULONG_PTR count = 16;
	DWORD old, gran;
	MEMORY_BASIC_INFORMATION m;
	uint64_t seed = id * 1000 + round;

	if (VirtualAlloc(s, SLICE, MEM_COMMIT, PAGE_READWRITE) != s)
		return 1;
	if (check_bytes(s, SLICE, 0) != -1)
		return 2;	/* another thread's data, or stale data */
	fill_pattern(s + 4 * P, 4 * P, seed);
	if (GetWriteWatch(WRITE_WATCH_FLAG_RESET, s, SLICE, pages, &count,
			  &gran) || count != 4 || pages[0] != s + 4 * P)
		return 3;
	if (!VirtualLock(s, SLICE) ||
	    !VirtualProtect(s, 8 * P, PAGE_READONLY, &old) ||
	    old != PAGE_READWRITE)
		return 4;
	if (VirtualQuery(s, &m, sizeof(m)) != sizeof(m) ||
	    m.BaseAddress != s || m.AllocationBase != shared ||
	    m.RegionSize != 8 * P || m.Protect != PAGE_READONLY ||
	    m.State != MEM_COMMIT)
		return 5;
	if (check_pattern(s + 4 * P, 4 * P, seed) != -1)
		return 6;
	if (!VirtualUnlock(s + 8 * P, 8 * P) ||
	    !VirtualFree(s, SLICE, MEM_DECOMMIT))
		return 7;
	if (VirtualUnlock(s, P) || GetLastError() != ERROR_NOT_LOCKED)
		return 8;
	return 0;
}

static void *slice_worker(void *arg)
{
	long id = (long)arg;
	char *s = shared + id * SLICE;

	pthread_barrier_wait(&start);
	for (int i = 0; i < SLICE_ROUNDS; i++) {
		int err = slice_round(s, id, i);

		if (err) {
			fprintf(stderr, "thread %ld round %d: step %d, %u\n",
				id, i, err, GetLastError());
			__atomic_add_fetch(&slice_errors, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, share_one_reservation, 600)
{
	const SIZE_T size = THREADS * SLICE;
	long pin = proc_status_kb("VmPin");
	long locked = ntmem_counter("locked_pages");
	long committed = ntmem_counter("committed_pages");
	MEMORY_BASIC_INFORMATION m;

	shared = va_ok(_metadata, NULL, size, MEM_RESERVE | MEM_WRITE_WATCH,
		       PAGE_READWRITE);
	run_threads(_metadata, slice_worker);
	ASSERT_EQ(0, slice_errors);

	/* all decommitted: one reserved region, no memory, no locks */
	vq_ok(_metadata, shared, &m);
	ASSERT_MBI(m, shared, shared, PAGE_READWRITE, size, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	ASSERT_EQ(0, pagemap_count_present(shared, size));
	ASSERT_EQ(pin, proc_status_kb("VmPin"));
	ASSERT_EQ(locked, ntmem_counter("locked_pages"));
	ASSERT_EQ(committed, ntmem_counter("committed_pages"));
	vf_ok(_metadata, shared, 0, MEM_RELEASE);
}

TEST_HARNESS_MAIN
