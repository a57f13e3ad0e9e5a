// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures injected into the model fuzzer's module calls
 * (--inject P, issue 11): /proc/thread-self/fail-nth around one call.
 *
 * An op drawn with inject=N (fuzz_main draws N from the round's seed, so
 * it shows in the op line and replays) writes N to fail-nth right before
 * its module call -- an ioctl, or a libntmem call whose only system calls
 * are ntmem ioctls -- reads it back right after (0: the Nth fault point
 * of the call failed) and writes 0.  fail-nth counts every fault point:
 * slab and page allocations, and user copies (CONFIG_FAULT_INJECTION_USERCOPY,
 * EFAULT).  A call that failed with ENOMEM or EFAULT (or what libntmem
 * maps them to) under a fired injection is a clean failure: the model
 * stays as it was and the checks after the op, and the counters at the
 * end of the round, prove that nothing changed.  A call that succeeded
 * anyway is applied as usual; anything else is a divergence.  Win32
 * calls that probe their buffers with process_vm_* first (VirtualProtect,
 * GetWriteWatch, VirtualQuery) are not armed: the probe would fail.
 *
 * The fuzzer's own loads, stores and calls are armed only where the model
 * says the access succeeds: an allocation failure in ntmem_fault() is
 * VM_FAULT_OOM, which the kernel turns into a retry of the access
 * (pagefault_out_of_memory()), so the access must still succeed.  An
 * access that must fault is not armed: a failed sigqueue allocation
 * delivers the SIGSEGV without its siginfo (no si_addr), core kernel
 * behaviour that the model cannot tell from a defect.
 *
 * failslab and fail_page_alloc ignore sleeping allocations and order-0
 * pages by default, which are nearly all of ntmem's: turned off here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <ntmem/windows.h>
#include "fuzz.h"

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		(void)!write(fd, val, strlen(val));
		close(fd);
	}
}

int nth_open(void)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	put("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	put("/sys/kernel/debug/failslab/verbose", "0");
	put("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	put("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	put("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	put("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	return fd;
}

int nth_set(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

int nth_get(int fd)
{
	char buf[16] = "";

	return pread(fd, buf, sizeof(buf) - 1, 0) > 0 ? atoi(buf) : -1;
}

/* An op's inject field: 0 (most), else a small N, rarely a larger one. */
uint8_t inject_draw(uint64_t *rng, double p)
{
	if (p <= 0 || (fz_rand(rng) >> 11) * 0x1.0p-53 >= p)
		return 0;
	return fz_below(rng, 4) ? 1 + fz_below(rng, 4) : 1 + fz_below(rng, 32);
}

void inject_arm(struct fz_ctx *c, const struct fz_op *op)
{
	fz_access_init();	/* its sigaction must not meet the armed N */
	c->inj_fired = false;
	if (op->inject && c->nth == -2)
		c->nth = nth_open();	/* -1: no fault injection, never armed */
	c->inj_armed = op->inject && c->nth >= 0 && !nth_set(c->nth, op->inject);
}

bool inject_disarm(struct fz_ctx *c)
{
	if (!c->inj_armed)
		return false;
	c->inj_armed = false;
	c->inj_fired = nth_get(c->nth) == 0;
	nth_set(c->nth, 0);
	c->injections += c->inj_fired;
	return c->inj_fired;
}

bool inject_clean(struct fz_ctx *c, int err)
{
	if (!c->inj_fired || (err != ENOMEM && err != EFAULT))
		return false;
	c->inj_fired = false;
	c->clean_fails++;
	return true;
}

/*
 * libntmem: ENOMEM is ERROR_NOT_ENOUGH_MEMORY; EFAULT (its own argument
 * struct, so only the injected user copy) is ERROR_NOACCESS from
 * ResetWriteWatch and ERROR_NOT_SUPPORTED from the others (lib/errors.c).
 */
bool inject_clean_le(struct fz_ctx *c, uint32_t le)
{
	return inject_clean(c, le == ERROR_NOT_ENOUGH_MEMORY ? ENOMEM :
			       le == ERROR_NOACCESS || le == ERROR_NOT_SUPPORTED ?
			       EFAULT : 0);
}
