// SPDX-License-Identifier: GPL-2.0
/*
 * libntmem's device handling (not a numbered spec case): the fd of
 * /dev/ntmem belongs to the address space that opened it, so a forked
 * child must get its own, and the parent's keeps working; without a usable
 * device every call fails with ERROR_NOT_SUPPORTED and one line on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

static int child_allocates(void *arg)
{
	MEMORY_BASIC_INFORMATION m;
	char *parent_b = arg, *b;

	/* The parent's reservation is a hole here (not inherited). */
	if (VirtualQuery(parent_b, &m, sizeof(m)) != sizeof(m) ||
	    m.State != MEM_FREE)
		return 1;
	b = VirtualAlloc(NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	if (!b)
		return 2;
	b[0x1234] = 7;
	if (VirtualQuery(b, &m, sizeof(m)) != sizeof(m) ||
	    m.State != MEM_COMMIT || m.AllocationBase != b)
		return 3;
	if (!VirtualFree(b, 0, MEM_RELEASE))
		return 4;
	return 0;
}

TEST(fork_reopens_device)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	b[0] = 1;
	ASSERT_EQ(0, run_in_child(child_allocates, b));
	ASSERT_EQ(0, run_in_child(child_allocates, b));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(1, b[0]);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

/*
 * A child made by a raw clone() runs no pthread_atfork() handler, so it
 * starts with the parent's fd: its first call gets EBADFD from the kernel
 * and must open a device of its own and succeed, without costing the
 * parent its fd.
 */
TEST(raw_clone_reopens_device)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;
	int status;
	pid_t pid;

	b[0] = 1;
	fflush(stdout);
	fflush(stderr);
	pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	ASSERT_LE(0, pid);
	if (!pid)
		syscall(SYS_exit_group, child_allocates(b));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(1, b[0]);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

enum no_device { MISSING, NO_PERMISSION, NOT_NTMEM };

/*
 * In a mount namespace of its own, the child gets a /dev where ntmem is
 * missing, not accessible, or another device; stderr goes to a memfd.
 */
static int child_without_device(void *arg)
{
	enum no_device how = (enum no_device)(long)arg;
	MEMORY_BASIC_INFORMATION m;
	struct stat st;
	char err[512] = "";
	int out = memfd_create("stderr", 0);
	ssize_t n;

	if (out < 0 || stat(NTMEM_DEVICE, &st) || unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev", "tmpfs", 0, NULL))
		return 10;
	if (how == NO_PERMISSION &&
	    (mknod(NTMEM_DEVICE, S_IFCHR, st.st_rdev) ||
	     setgid(65534) || setuid(65534)))
		return 11;
	if (how == NOT_NTMEM &&
	    mknod(NTMEM_DEVICE, S_IFCHR | 0666, makedev(1, 3)))
		return 12;
	if (dup2(out, 2) != 2)
		return 13;
	SetLastError(0);
	if (VirtualAlloc(NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE) ||
	    GetLastError() != ERROR_NOT_SUPPORTED)
		return 14;
	SetLastError(0);
	if (VirtualQuery(&m, &m, sizeof(m)) ||
	    GetLastError() != ERROR_NOT_SUPPORTED)
		return 15;
	n = pread(out, err, sizeof(err) - 1, 0);
	if (n <= 0)
		return 16;
	/* one line, once, naming the device */
	if (strncmp(err, "libntmem: " NTMEM_DEVICE, 20) ||
	    strchr(err, '\n') != err + n - 1)
		return 17;
	return 0;
}

TEST(missing_device)
{
	ASSERT_EQ(0, run_in_child(child_without_device, (void *)MISSING));
}

TEST(device_without_permission)
{
	ASSERT_EQ(0, run_in_child(child_without_device,
				  (void *)NO_PERMISSION));
}

TEST(device_of_another_kind)
{
	ASSERT_EQ(0, run_in_child(child_without_device, (void *)NOT_NTMEM));
}

TEST_HARNESS_MAIN
