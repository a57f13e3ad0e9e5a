// SPDX-License-Identifier: GPL-2.0
/*
 * IsBadReadPtr, IsBadWritePtr, IsBadCodePtr, IsBadStringPtrA/W: the
 * answer for each kind of memory, that they never write (write watch
 * sees nothing) and never fault, that a guard page loses its guard, and
 * that they survive other threads changing the memory under them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define ASSERT_BAD(expect, call) do {					\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ((BOOL)(expect), (call));				\
	ASSERT_EQ(LE_SENTINEL, GetLastError());				\
} while (0)

static const char rodata[] = "read-only data";

static intptr_t a_function(void)
{
	return 42;
}

TEST(read_and_write)
{
	char *b = va_ok(_metadata, NULL, 6 * P, MEM_RESERVE, PAGE_NOACCESS);
	char *heap = malloc(100);
	int local = 0;

	va_ok(_metadata, b, P, MEM_COMMIT, PAGE_READWRITE);
	va_ok(_metadata, b + P, P, MEM_COMMIT, PAGE_READONLY);
	va_ok(_metadata, b + 2 * P, P, MEM_COMMIT, PAGE_NOACCESS);
	va_ok(_metadata, b + 3 * P, P, MEM_COMMIT, PAGE_EXECUTE_READ);
	va_ok(_metadata, b + 4 * P, P, MEM_COMMIT, PAGE_EXECUTE);
	/* b + 5P: reserved */
	ASSERT_BAD(FALSE, IsBadReadPtr(NULL, 0));
	ASSERT_BAD(FALSE, IsBadWritePtr(NULL, 0));
	ASSERT_BAD(TRUE, IsBadReadPtr(NULL, 1));
	ASSERT_BAD(TRUE, IsBadWritePtr(NULL, 1));
	ASSERT_BAD(FALSE, IsBadReadPtr(&local, sizeof(local)));
	ASSERT_BAD(FALSE, IsBadWritePtr(&local, sizeof(local)));
	ASSERT_BAD(FALSE, IsBadWritePtr(heap, 100));
	ASSERT_BAD(FALSE, IsBadReadPtr(rodata, sizeof(rodata)));
	ASSERT_BAD(TRUE, IsBadWritePtr((void *)rodata, 1));
	ASSERT_BAD(FALSE, IsBadReadPtr(b, P));
	ASSERT_BAD(FALSE, IsBadWritePtr(b, P));
	ASSERT_BAD(FALSE, IsBadReadPtr(b + 10, 2 * P - 10));	/* RW + RO */
	ASSERT_BAD(TRUE, IsBadWritePtr(b + P - 1, 2));	/* one byte RO */
	ASSERT_BAD(TRUE, IsBadReadPtr(b + P, P + 1));	/* into NOACCESS */
	ASSERT_BAD(FALSE, IsBadReadPtr(b + 3 * P, P));	/* EXECUTE_READ */
	ASSERT_BAD(TRUE, IsBadWritePtr(b + 3 * P, 1));
	ASSERT_BAD(TRUE, IsBadReadPtr(b + 4 * P, 1));	/* EXECUTE only */
	ASSERT_BAD(TRUE, IsBadReadPtr(b + 5 * P, 1));	/* reserved */
	ASSERT_BAD(TRUE, IsBadReadPtr(b, 6 * P));
	ASSERT_BAD(TRUE, IsBadReadPtr(find_free(_metadata, G), 1));
	ASSERT_BAD(TRUE, IsBadReadPtr((void *)0xffff800000000000ull, 1));
	ASSERT_BAD(TRUE, IsBadReadPtr((void *)-16, 32));	/* wraps */
	ASSERT_BAD(FALSE, IsBadCodePtr((FARPROC)a_function));
	ASSERT_BAD(TRUE, IsBadCodePtr(NULL));
	ASSERT_BAD(TRUE, IsBadCodePtr((FARPROC)(uintptr_t)(b + 5 * P)));
	ASSERT_EQ(42, a_function());
	free(heap);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(nothing_is_written)
{
	char *b = va_ok(_metadata, NULL, G, MEM_RESERVE | MEM_WRITE_WATCH,
			PAGE_READWRITE);
	PVOID r[16];
	ULONG_PTR c = 16;
	DWORD g;

	va_ok(_metadata, b, 4 * P, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_EQ(0u, ResetWriteWatch(b, G));
	ASSERT_BAD(FALSE, IsBadWritePtr(b, 4 * P));
	ASSERT_BAD(FALSE, IsBadReadPtr(b, 4 * P));
	ASSERT_BAD(FALSE, IsBadStringPtrA(b, 4 * P));
	ASSERT_EQ(0u, GetWriteWatch(0, b, G, r, &c, &g));
	ASSERT_EQ(0, c);			/* no page was written */
	/* only the string's first byte was read (a NUL): one page mapped */
	ASSERT_EQ(0, pagemap_count_present(b + P, 3 * P));
	ASSERT_EQ(0, b[0]);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(guard_page_loses_its_guard)
{
	char *b = va_ok(_metadata, NULL, 2 * P, MEM_COMMIT,
			PAGE_READWRITE | PAGE_GUARD);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_BAD(TRUE, IsBadReadPtr(b + 100, 1));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);		/* only the first page */
	ASSERT_EQ(P, m.RegionSize);
	ASSERT_BAD(FALSE, IsBadReadPtr(b, P));
	ASSERT_EQ(0, b[0]);				/* no fault now */
	ASSERT_BAD(TRUE, IsBadWritePtr(b + P, 1));
	vq_ok(_metadata, b + P, &m);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
	b[P] = 1;
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(strings)
{
	char *b = va_ok(_metadata, NULL, 2 * P, MEM_RESERVE, PAGE_NOACCESS);
	WCHAR *w;

	va_ok(_metadata, b, P, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_BAD(FALSE, IsBadStringPtrA("hello", 100));
	ASSERT_BAD(FALSE, IsBadStringPtrA(NULL, 0));
	ASSERT_BAD(TRUE, IsBadStringPtrA(NULL, 1));
	/* no NUL before the page ends: bad when the count runs past it */
	memset(b + P - 8, 'x', 8);
	ASSERT_BAD(TRUE, IsBadStringPtrA(b + P - 8, 9));
	ASSERT_BAD(FALSE, IsBadStringPtrA(b + P - 8, 8));
	ASSERT_BAD(TRUE, IsBadStringPtrA(b + P - 8, (UINT_PTR)-1));
	b[P - 1] = '\0';
	ASSERT_BAD(FALSE, IsBadStringPtrA(b + P - 8, (UINT_PTR)-1));
	/* UTF-16 */
	w = (WCHAR *)(b + P - 8);
	w[0] = 'a';
	w[1] = 'b';
	w[2] = 'c';
	w[3] = 'd';
	ASSERT_BAD(TRUE, IsBadStringPtrW(w, 5));
	ASSERT_BAD(FALSE, IsBadStringPtrW(w, 4));
	w[3] = 0;
	ASSERT_BAD(FALSE, IsBadStringPtrW(w, 100));
	ASSERT_BAD(TRUE, IsBadStringPtrW(NULL, 1));
	ASSERT_BAD(TRUE, IsBadStringPtrA(b + P, 1));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

/* Other threads flip a page between committed and not, and between
 * accessible and not, while the probes run: no fault, ever. */
static char *flipping;
static int stop;

static void *probe(void *arg)
{
	long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		n += IsBadReadPtr(flipping, 2 * P);
		n += IsBadWritePtr(flipping, P);
		n += IsBadStringPtrA(flipping, 2 * P);
	}
	return (void *)n;
}

TEST(threads_flip_the_memory)
{
	pthread_t t[3];

	flipping = va_ok(_metadata, NULL, 2 * P, MEM_RESERVE, PAGE_NOACCESS);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, probe, NULL));
	for (int i = 0; i < 300; i++) {
		DWORD old;

		va_ok(_metadata, flipping, 2 * P, MEM_COMMIT, PAGE_READWRITE);
		memset(flipping, 'y', 2 * P);
		ASSERT_EQ(TRUE, VirtualProtect(flipping, P, PAGE_NOACCESS, &old));
		ASSERT_EQ(TRUE, VirtualProtect(flipping, P, PAGE_READONLY, &old));
		vf_ok(_metadata, flipping, 2 * P, MEM_DECOMMIT);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	vf_ok(_metadata, flipping, 0, MEM_RELEASE);
}

/* From a signal handler, as Windows programs do from their handlers. */
static volatile BOOL in_handler = 2;

static void on_usr1(int sig)
{
	(void)sig;
	in_handler = IsBadReadPtr(NULL, 1) && !IsBadReadPtr((const void *)&in_handler, 1);
}

TEST(from_a_signal_handler)
{
	signal(SIGUSR1, on_usr1);
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(TRUE, in_handler);
}

/* A forked child has not opened the device: /proc/self/maps answers. */
static int child_without_device(void *arg)
{
	int local = 1;
	char *heap = malloc(64);

	(void)arg;
	if (IsBadReadPtr(&local, sizeof(local)) || IsBadWritePtr(&local, 1) ||
	    IsBadWritePtr(heap, 64))
		return 1;
	if (!IsBadWritePtr((void *)rodata, 1) || IsBadReadPtr(rodata, 1))
		return 2;
	if (!IsBadReadPtr((void *)0x10000, 1) || IsBadStringPtrA(rodata, 100))
		return 3;
	free(heap);
	return 0;
}

TEST(without_the_device)
{
	ASSERT_EQ(0, run_in_child(child_without_device, NULL));
}

TEST_HARNESS_MAIN
