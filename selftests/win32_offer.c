// SPDX-License-Identifier: GPL-2.0
/*
 * OfferVirtualMemory/ReclaimVirtualMemory and DiscardVirtualMemory on the
 * kernel's reset machinery (contents kept without pressure, ERROR_BUSY
 * and zeroed pages after the kernel dropped some), PrefetchVirtualMemory
 * and FlushInstructionCache.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

static void fill(char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i += 8)
		*(uint64_t *)(p + i) = (i / 8) * 0x9E3779B97F4A7C15ull + seed;
}

/* 1: the page holds the pattern, 0: it is all zero, -1: neither. */
static int page_is(const char *p, unsigned char seed, size_t at)
{
	bool pattern = true, zero = true;

	for (size_t i = 0; i < P; i += 8) {
		uint64_t v = *(const uint64_t *)(p + i);

		pattern &= v == ((at + i) / 8) * 0x9E3779B97F4A7C15ull + seed;
		zero &= v == 0;
	}
	return pattern ? 1 : zero ? 0 : -1;
}

static bool resident_pages_below(void *arg)
{
	long now = ntmem_counter("resident_pages");

	return now >= 0 && now < *(long *)arg;
}

/*
 * Have the kernel drop reset pages, until fewer than @below pages are
 * resident: reset pages are clean, so dropping the page cache drops them
 * (it is where they live); else memory pressure.
 */
static void drop_reset_pages(struct __test_metadata *_metadata, long below)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd >= 0) {
		ASSERT_EQ(2, write(fd, "1\n", 2));
		close(fd);
	}
	if (!resident_pages_below(&below))
		ASSERT_LE(0, memory_pressure(0, resident_pages_below, &below));
	ASSERT_TRUE(resident_pages_below(&below));
}

/* A fixture only for the timeout of the tests that squeeze memory. */
FIXTURE(pressure) {
	int unused;
};

FIXTURE_SETUP(pressure)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(pressure)
{
}

TEST(offer_and_reclaim_without_pressure)
{
	const size_t len = 256 * P;
	char *b = va_ok(_metadata, NULL, len, MEM_COMMIT, PAGE_READWRITE);
	long reset0 = ntmem_counter("reset_pages");
	long commit0;
	MEMORY_BASIC_INFORMATION m;

	fill(b, len, 3);
	commit0 = ntmem_counter("committed_pages");
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(ERROR_SUCCESS, OfferVirtualMemory(b, len, VmOfferPriorityLow));
	ASSERT_EQ(reset0 + 256, ntmem_counter("reset_pages"));
	ASSERT_EQ(commit0, ntmem_counter("committed_pages"));	/* still charged */
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_READWRITE, len, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	ASSERT_EQ(ERROR_SUCCESS, ReclaimVirtualMemory(b, len));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(reset0, ntmem_counter("reset_pages"));
	for (size_t i = 0; i < len; i += P)
		ASSERT_EQ(1, page_is(b + i, 3, i));
	/* a range never offered reclaims fine */
	ASSERT_EQ(ERROR_SUCCESS, ReclaimVirtualMemory(b, P));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST_F_TIMEOUT(pressure, reclaim_after_the_kernel_dropped_pages, 120)
{
	const size_t len = 16 * MiB;
	char *b = va_ok(_metadata, NULL, len, MEM_COMMIT, PAGE_READWRITE);
	long reset0 = ntmem_counter("reset_pages");
	long res0, zero = 0;

	fill(b, len, 5);
	ASSERT_EQ(ERROR_SUCCESS,
		  OfferVirtualMemory(b, len, VmOfferPriorityVeryLow));
	res0 = ntmem_counter("resident_pages");
	drop_reset_pages(_metadata, res0);
	ASSERT_GT(res0, ntmem_counter("resident_pages"));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(ERROR_BUSY, ReclaimVirtualMemory(b, len));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(reset0, ntmem_counter("reset_pages"));	/* not reset now */
	for (size_t i = 0; i < len; i += P) {
		int k = page_is(b + i, 5, i);

		ASSERT_NE(-1, k) TH_LOG("page %zu neither kept nor zero", i / P);
		zero += k == 0;
	}
	ASSERT_LT(0, zero);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST_F_TIMEOUT(pressure, discard, 120)
{
	const size_t len = 4 * MiB;
	char *b = va_ok(_metadata, NULL, len, MEM_COMMIT, PAGE_READWRITE);
	long reset0 = ntmem_counter("reset_pages");

	fill(b, len, 7);
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(ERROR_SUCCESS, DiscardVirtualMemory(b, len));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(reset0 + (long)(len / P), ntmem_counter("reset_pages"));
	/* a written page is the program's again, and so is its 2 MiB page */
	b[0] = 'w';
	ASSERT_GE(reset0 + (long)(len / P) - 1, ntmem_counter("reset_pages"));
	ASSERT_LE(reset0 + (long)(len - 2 * MiB) / (long)P,
		  ntmem_counter("reset_pages"));
	drop_reset_pages(_metadata, ntmem_counter("resident_pages"));
	ASSERT_EQ('w', b[0]);
	for (size_t i = P; i < len; i += P)
		ASSERT_NE(-1, page_is(b + i, 7, i));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(offer_arguments)
{
	char *b = va_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_NOACCESS);
	char *f = find_free(_metadata, G);

	va_ok(_metadata, b, 4 * P, MEM_COMMIT, PAGE_READWRITE);
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(ERROR_INVALID_PARAMETER,
		  OfferVirtualMemory(b + 1, P, VmOfferPriorityNormal));
	ASSERT_EQ(ERROR_INVALID_PARAMETER,
		  OfferVirtualMemory(b, P + 1, VmOfferPriorityNormal));
	ASSERT_EQ(ERROR_INVALID_PARAMETER,
		  OfferVirtualMemory(b, 0, VmOfferPriorityNormal));
	ASSERT_EQ(ERROR_INVALID_PARAMETER, OfferVirtualMemory(b, P, 0));
	ASSERT_EQ(ERROR_INVALID_PARAMETER, OfferVirtualMemory(b, P, 5));
	ASSERT_EQ(ERROR_INVALID_PARAMETER,
		  OfferVirtualMemory(NULL, P, VmOfferPriorityNormal));
	ASSERT_EQ(ERROR_INVALID_PARAMETER, ReclaimVirtualMemory(b + 8, P));
	ASSERT_EQ(ERROR_INVALID_PARAMETER, ReclaimVirtualMemory(b, 0));
	ASSERT_EQ(ERROR_INVALID_PARAMETER, DiscardVirtualMemory(b, 100));
	ASSERT_EQ(ERROR_INVALID_PARAMETER,
		  DiscardVirtualMemory((void *)0x7FFFFFFF0000ull, P));
	/* free memory, or a range past its allocation */
	ASSERT_EQ(ERROR_INVALID_ADDRESS,
		  OfferVirtualMemory(f, P, VmOfferPriorityNormal));
	ASSERT_EQ(ERROR_INVALID_ADDRESS, ReclaimVirtualMemory(f, P));
	ASSERT_EQ(ERROR_INVALID_ADDRESS, DiscardVirtualMemory(b + G, 2 * G));
	ASSERT_EQ(LE_SENTINEL, GetLastError());	/* codes are returned */
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(prefetch)
{
	char *b = va_ok(_metadata, NULL, 8 * P, MEM_COMMIT, PAGE_READWRITE);
	char local[64] = "stays";
	WIN32_MEMORY_RANGE_ENTRY r[3] = {
		{ b, 8 * P }, { local, sizeof(local) },
		{ find_free(_metadata, G), P },
	};

	fill(b, 8 * P, 9);
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, PrefetchVirtualMemory(GetCurrentProcess(), 3, r, 0));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	for (size_t i = 0; i < 8 * P; i += P)
		ASSERT_EQ(1, page_is(b + i, 9, i));
	ASSERT_STREQ("stays", local);
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     PrefetchVirtualMemory((HANDLE)1234, 1, r, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     PrefetchVirtualMemory(GetCurrentProcess(), 1, r, 1));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     PrefetchVirtualMemory(GetCurrentProcess(), 0, r, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     PrefetchVirtualMemory(GetCurrentProcess(), 1, NULL, 0));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(flush_instruction_cache)
{
	/* mov eax, imm32; ret */
	unsigned char code[] = { 0xB8, 42, 0, 0, 0, 0xC3 };
	unsigned char *b = (unsigned char *)va_ok(_metadata, NULL, P, MEM_COMMIT,
						  PAGE_EXECUTE_READWRITE);
	int (*fn)(void);

	memcpy(b, code, sizeof(code));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, FlushInstructionCache(GetCurrentProcess(), b,
					      sizeof(code)));
	fn = (int (*)(void))(uintptr_t)b;
	ASSERT_EQ(42, fn());
	b[1] = 43;				/* code changed in place */
	ASSERT_EQ(TRUE, FlushInstructionCache(GetCurrentProcess(), b,
					      sizeof(code)));
	ASSERT_EQ(43, fn());
	ASSERT_EQ(TRUE, FlushInstructionCache(GetCurrentProcess(), NULL, 0));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     FlushInstructionCache((HANDLE)1234, b, sizeof(code)));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST_HARNESS_MAIN
