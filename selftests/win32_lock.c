// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualLock and VirtualUnlock: spec 7.11 (cases 136-140) and section
 * 4.5, with the effects a lock has on Linux: the pages are present in the
 * page tables, counted in VmPin and the module's locked_pages, kept by
 * MEM_RESET, and bounded by RLIMIT_MEMLOCK.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* VmPin in kB: where the kernel shows what ntmem locked for us. */
static long vm_pin_kb(void)
{
	return proc_status_kb("VmPin");
}

TEST(case_136)
{
	char *b = va_ok(_metadata, NULL, 0x3000, MEM_COMMIT, PAGE_READWRITE);

	lock_ok(_metadata, b, 0x3000);
	unlock_ok(_metadata, b + 0x1000, 0x1000);
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b + 0x1000, 0x1000));
	/* the pages around it are still locked */
	unlock_ok(_metadata, b, 0x1000);
	unlock_ok(_metadata, b + 0x2000, 0x1000);
}

TEST(case_137)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_NOACCESS);

	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(b, 0x1000));
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
}

TEST(case_138)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	long pin = vm_pin_kb();

	lock_ok(_metadata, b, 0x1000);
	lock_ok(_metadata, b, 0x1000);
	ASSERT_EQ(pin + 4, vm_pin_kb());	/* one page, charged once */
	unlock_ok(_metadata, b, 0x1000);
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
	ASSERT_EQ(pin, vm_pin_kb());
}

TEST(case_139)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
}

TEST(case_140)
{
	char *b = va_ok(_metadata, NULL, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION before, after;

	fill_pattern(b, 0x2000, 140);
	vq_ok(_metadata, b, &before);
	lock_ok(_metadata, b, 0x2000);
	vq_ok(_metadata, b, &after);
	ASSERT_EQ(0, memcmp(&before, &after, sizeof(before)));
	ASSERT_EQ(0x2000u, after.RegionSize);
	ASSERT_EQ(-1, check_pattern(b, 0x2000, 140));
	unlock_ok(_metadata, b, 0x2000);
}

/* Argument checks come first and give 87 (spec 4.5, rule 1). */
TEST(lock_arguments)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	char *top = (char *)0x7FFFFFFEF000;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualLock(b, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualUnlock(b, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualLock((void *)0x7FFFFFFF0000, 1));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualLock(top, 0x2000));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualLock(b, (SIZE_T)-0x1000));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualUnlock(b, (SIZE_T)-0x1000));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, VirtualLockEx(NULL, b, 0x1000));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualUnlockEx((HANDLE)1, b, 0x1000));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualLockEx(GetCurrentProcess(), b + 5, 1));
	ASSERT_EQ(TRUE, VirtualUnlockEx(GetCurrentProcess(), b, 0x1000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* Reserved, free and partly committed ranges: 998, and nothing locked. */
TEST(lock_needs_committed_pages)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);
	char *f = find_free(_metadata, 0x10000);
	long pin = vm_pin_kb();

	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(b, 0x1000));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(f, 0x1000));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock((void *)0x1000, 0x1000));
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(f, 0x1000));

	ASSERT_EQ(b, va_ok(_metadata, b, 0x3000, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(b, 0x4000));
	ASSERT_EQ(pin, vm_pin_kb());
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
	ASSERT_EQ(0, pagemap_count_present(b, 0x3000));

	/* a NOACCESS page in the middle fails the whole range */
	vp_ok(_metadata, b + 0x1000, 0x1000, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(b, 0x3000));
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
	ASSERT_EQ(pin, vm_pin_kb());
}

/*
 * A documented difference from Windows: a range must lie inside one
 * allocation, so two adjacent allocations cannot be locked in one call.
 */
TEST(lock_within_one_allocation)
{
	char *b = find_free(_metadata, 0x20000);

	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_RESERVE | MEM_COMMIT,
			   PAGE_READWRITE));
	ASSERT_EQ(b + 0x10000, va_ok(_metadata, b + 0x10000, 0x10000,
				     MEM_RESERVE | MEM_COMMIT,
				     PAGE_READWRITE));
	ASSERT_FAILS(ERROR_NOACCESS, VirtualLock(b + 0xF000, 0x2000));
	lock_ok(_metadata, b + 0xF000, 0x1000);
	lock_ok(_metadata, b + 0x10000, 0x1000);
}

/* Locked pages are in memory and mapped now; VmPin and the module count them. */
TEST(lock_makes_pages_resident)
{
	const SIZE_T size = 16 * P;
	char *b = va_ok(_metadata, NULL, size, MEM_COMMIT, PAGE_READWRITE);
	long pin = vm_pin_kb(), locked = ntmem_counter("locked_pages");

	ASSERT_LE(0, pin);
	ASSERT_EQ(0, pagemap_count_present(b, size));
	lock_ok(_metadata, b, size);
	ASSERT_EQ(16, pagemap_count_present(b, size));
	ASSERT_EQ(pin + 64, vm_pin_kb());
	ASSERT_EQ(locked + 16, ntmem_counter("locked_pages"));
	ASSERT_EQ(-1, check_bytes(b, size, 0));

	unlock_ok(_metadata, b, size);
	ASSERT_EQ(pin, vm_pin_kb());
	ASSERT_EQ(locked, ntmem_counter("locked_pages"));
	ASSERT_EQ(16, pagemap_count_present(b, size));	/* still committed */
}

/* Read-only and executable pages can be locked too; writes still fault. */
TEST(lock_keeps_protection)
{
	char *b = va_ok(_metadata, NULL, 0x2000, MEM_COMMIT, PAGE_READONLY);

	lock_ok(_metadata, b, 0x2000);
	ASSERT_EQ(2, pagemap_count_present(b, 0x2000));
	ASSERT_SEGV_AT(b + 0x10, try_write(b + 0x10, 1));
	ASSERT_NO_FAULT(try_read(b + 0x1010));
	vp_ok(_metadata, b, 0x1000, PAGE_EXECUTE_READ);
	lock_ok(_metadata, b, 0x2000);
	unlock_ok(_metadata, b, 0x2000);
}

/* Decommit, release and exit drop the locks of the pages they remove. */
TEST(decommit_and_release_unlock)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	long pin = vm_pin_kb(), locked = ntmem_counter("locked_pages");

	lock_ok(_metadata, b, 0x10000);
	ASSERT_EQ(pin + 64, vm_pin_kb());
	vf_ok(_metadata, b, 0x4000, MEM_DECOMMIT);
	ASSERT_EQ(pin + 48, vm_pin_kb());
	ASSERT_EQ(0, pagemap_count_present(b, 0x4000));
	ASSERT_EQ(b, va_ok(_metadata, b, 0x4000, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x1000));
	ASSERT_FAILS(ERROR_NOT_LOCKED, VirtualUnlock(b, 0x5000));
	unlock_ok(_metadata, b + 0x4000, 0x1000);
	ASSERT_EQ(pin + 44, vm_pin_kb());

	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_EQ(pin, vm_pin_kb());
	ASSERT_EQ(locked, ntmem_counter("locked_pages"));
}

static int child_locks_and_exits(void *arg)
{
	char *b = VirtualAlloc(NULL, 0x40000, MEM_COMMIT, PAGE_READWRITE);

	(void)arg;
	if (!b || !VirtualLock(b, 0x40000))
		return 1;
	return vm_pin_kb() >= 256 ? 0 : 2;
}

TEST(exit_unlocks)
{
	long locked = ntmem_counter("locked_pages");

	ASSERT_LE(0, locked);
	ASSERT_EQ(0, run_in_child(child_locks_and_exits, NULL));
	ASSERT_EQ(locked, ntmem_counter("locked_pages"));
}

/* MEM_RESET passes over locked pages: they stay, with their contents. */
TEST(reset_keeps_locked_pages)
{
	char *b = va_ok(_metadata, NULL, 0x4000, MEM_COMMIT, PAGE_READWRITE);
	long reset = ntmem_counter("reset_pages");

	fill_pattern(b, 0x4000, 7);
	lock_ok(_metadata, b, 0x2000);
	ASSERT_EQ(b, VirtualAlloc(b, 0x4000, MEM_RESET, PAGE_NOACCESS));
	ASSERT_EQ(reset + 2, ntmem_counter("reset_pages"));
	ASSERT_EQ(-1, check_pattern(b, 0x2000, 7));
	ASSERT_EQ(b, VirtualAlloc(b, 0x4000, MEM_RESET_UNDO, PAGE_NOACCESS));
	ASSERT_EQ(reset, ntmem_counter("reset_pages"));
}

/* Without CAP_IPC_LOCK, RLIMIT_MEMLOCK bounds what may be locked: 1453. */
static int child_over_memlock_limit(void *arg)
{
	struct rlimit rl = { 0x10000, 0x10000 };
	char *b;
	long pin;

	(void)arg;
	if (drop_cap_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
		return 10;
	b = VirtualAlloc(NULL, 0x20000, MEM_COMMIT, PAGE_READWRITE);
	if (!b)
		return 11;
	pin = vm_pin_kb();
	if (!VirtualLock(b, 0x10000 - pin * 1024))
		return 12;
	if (VirtualLock(b + 0x10000, 0x1000) ||
	    GetLastError() != ERROR_WORKING_SET_QUOTA)
		return 13;
	if (vm_pin_kb() != 64 || pagemap_count_present(b + 0x10000, P))
		return 14;
	/* relocking locked pages costs nothing; unlocking makes room */
	if (!VirtualLock(b, 0x1000) || !VirtualUnlock(b, 0x1000) ||
	    !VirtualLock(b + 0x10000, 0x1000))
		return 15;
	return 0;
}

TEST(memlock_limit)
{
	ASSERT_EQ(0, run_in_child(child_over_memlock_limit, NULL));
}

TEST_HARNESS_MAIN
