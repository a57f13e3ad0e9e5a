// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel reaching committed memory on a process's behalf: system calls
 * copying in and out, /proc/<pid>/mem, ptrace, vmsplice and
 * process_vm_readv/writev (the last ones need get_user_pages to work on
 * ntmem pages).  Debuggers write breakpoints into read-only and executable
 * pages through /proc/<pid>/mem and ptrace, so those must work too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

FIXTURE(gup) {
	int fd;
	char *p;	/* 64 KiB reservation, all committed READWRITE */
	pid_t child;	/* killed by the teardown if a test fails early */
};

FIXTURE_SETUP(gup)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->p = ntmem_reserve_any(self->fd, 64 * KiB);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, ntmem_commit(self->fd, self->p, 64 * KiB,
				  NTMEM_PAGE_READWRITE, 0));
}

FIXTURE_TEARDOWN(gup)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->fd > 0)
		close(self->fd);
}

TEST_F(gup, proc_self_mem_read_write)
{
	char buf[2 * PAGE_SZ];
	char *p = self->p;
	int mem;

	fill_pattern(p, 2 * PAGE_SZ, 61);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ((ssize_t)sizeof(buf), pread(mem, buf, sizeof(buf),
					      (uintptr_t)p));
	ASSERT_EQ(0, memcmp(buf, p, sizeof(buf)));
	ASSERT_EQ(5, pwrite(mem, "hello", 5, (uintptr_t)p + 100));
	ASSERT_EQ(0, memcmp(p + 100, "hello", 5));
	/* A page nobody touched yet reads as zero through the kernel too. */
	ASSERT_EQ(0, pagemap_present(p + 10 * PAGE_SZ));
	ASSERT_EQ((ssize_t)PAGE_SZ, pread(mem, buf, PAGE_SZ,
					  (uintptr_t)p + 10 * PAGE_SZ));
	ASSERT_EQ(-1, check_bytes(buf, PAGE_SZ, 0));
	ASSERT_EQ(3, pwrite(mem, "abc", 3, (uintptr_t)p + 11 * PAGE_SZ));
	ASSERT_EQ(0, memcmp(p + 11 * PAGE_SZ, "abc", 3));
	close(mem);
}

/* A debugger's breakpoint into a page the program may not write. */
static void poke_protected(struct __test_metadata *_metadata, int fd, char *p,
			   uint32_t prot)
{
	struct ntmem_query q;
	char c = (char)0xcc;
	int mem;

	fill_pattern(p, PAGE_SZ, 62);
	ASSERT_EQ(0, ntmem_protect(fd, p, PAGE_SZ, prot, NULL));
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(1, pwrite(mem, &c, 1, (uintptr_t)p + 8))
		TH_LOG("pwrite: %s", strerror(errno));
	close(mem);
	ASSERT_EQ((char)0xcc, p[8]);
	ASSERT_EQ(-1, check_pattern(p + 16, PAGE_SZ - 16, 62));
	/* The program itself still may not write it. */
	ASSERT_EQ(0, ntmem_query(fd, p, &q));
	ASSERT_EQ(prot, q.protect);
	ASSERT_SEGV_AT(p + 9, try_write(p + 9, 0));
}

TEST_F(gup, proc_self_mem_writes_readonly_page)
{
	poke_protected(_metadata, self->fd, self->p, NTMEM_PAGE_READONLY);
}

TEST_F(gup, proc_self_mem_writes_execute_read_page)
{
	char *p = self->p + PAGE_SZ;
	int r = 0, mem;
	char imm = 43;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_EXEC))
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	poke_protected(_metadata, self->fd, self->p, NTMEM_PAGE_EXECUTE_READ);

	/* Patch running code: the new instruction is what executes. */
	memcpy(p, code_ret42, sizeof(code_ret42));
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE_READ, NULL));
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(42, r);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(1, pwrite(mem, &imm, 1, (uintptr_t)p + 1));
	close(mem);
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(43, r);
}

/* Reserved and NOACCESS pages: the access fails, nothing crashes. */
TEST_F(gup, proc_self_mem_inaccessible_fails)
{
	char *r = ntmem_reserve_any(self->fd, 64 * KiB);
	char buf[16];
	int mem;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ntmem_protect(self->fd, self->p, PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, NULL));
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(-1, pread(mem, buf, sizeof(buf), (uintptr_t)r));
	ASSERT_EQ(-1, pwrite(mem, buf, sizeof(buf), (uintptr_t)r));
	ASSERT_EQ(-1, pread(mem, buf, sizeof(buf), (uintptr_t)self->p));
	close(mem);
	ASSERT_SEGV_AT(r, try_read(r));
}

struct remote {
	pid_t pid;
	char *addr;
};

static int child_proc_mem(void *arg)
{
	struct remote *rm = arg;
	uint64_t buf[PAGE_SZ / 8];
	char path[64];
	int mem;

	snprintf(path, sizeof(path), "/proc/%d/mem", rm->pid);
	mem = open(path, O_RDWR);
	if (mem < 0)
		return 10;
	if (pread(mem, buf, PAGE_SZ, (uintptr_t)rm->addr) != (ssize_t)PAGE_SZ)
		return 11;
	for (size_t i = 0; i < PAGE_SZ / 8; i++)
		if (buf[i] != pattern_word((uintptr_t)rm->addr + 8 * i, 63))
			return 12;
	for (size_t i = 0; i < PAGE_SZ / 8; i++)
		buf[i] = pattern_word((uintptr_t)rm->addr + 8 * i, 64);
	if (pwrite(mem, buf, PAGE_SZ, (uintptr_t)rm->addr) != (ssize_t)PAGE_SZ)
		return 13;
	return 0;
}

TEST_F(gup, proc_pid_mem_from_child)
{
	struct remote rm = { getpid(), self->p + 3 * PAGE_SZ };

	fill_pattern(rm.addr, PAGE_SZ, 63);
	ASSERT_EQ(0, run_in_child(child_proc_mem, &rm));
	ASSERT_EQ(-1, check_pattern(rm.addr, PAGE_SZ, 64));
}

#define POKE_RW		0x1122334455667788ULL
#define POKE_RO		0xccccccccccccccccULL

/* The tracee: its own reservation, a READWRITE and a READONLY page. */
static int ptrace_tracee(int wfd)
{
	struct ntmem_query q;
	char *p;
	int fd;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		return 10;
	fd = ntmem_open();
	if (fd < 0)
		return 11;
	p = ntmem_reserve_any(fd, 64 * KiB);
	if (!p || ntmem_commit(fd, p, 2 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0))
		return 12;
	fill_pattern(p, 2 * PAGE_SZ, 65);
	if (ntmem_protect(fd, p + PAGE_SZ, PAGE_SZ, NTMEM_PAGE_READONLY, NULL))
		return 13;
	if (write(wfd, &p, sizeof(p)) != sizeof(p))
		return 14;
	raise(SIGSTOP);
	/* The tracer poked both pages. */
	if (*(uint64_t *)p != POKE_RW || *(uint64_t *)(p + PAGE_SZ) != POKE_RO)
		return 15;
	if (check_pattern(p + 8, PAGE_SZ - 8, 65) != -1 ||
	    check_pattern(p + PAGE_SZ + 8, PAGE_SZ - 8, 65) != -1)
		return 16;
	if (ntmem_query(fd, p + PAGE_SZ, &q) ||
	    q.protect != NTMEM_PAGE_READONLY)
		return 17;
	if (try_write(p + PAGE_SZ + 8, 0) != p + PAGE_SZ + 8)
		return 18;
	return 0;
}

TEST_F(gup, ptrace_peek_poke)
{
	int pfd[2], status;
	char *p = NULL;
	long word;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		_exit(ptrace_tracee(pfd[1]));
	}
	self->child = pid;
	close(pfd[1]);
	if (read(pfd[0], &p, sizeof(p)) != sizeof(p)) {
		waitpid(pid, &status, 0);
		self->child = 0;
		ASSERT_TRUE(0) TH_LOG("tracee failed: status %x", status);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, p + 16, NULL);
	ASSERT_EQ(0, errno);
	ASSERT_EQ(pattern_word((uintptr_t)p + 16, 65), (uint64_t)word);
	word = ptrace(PTRACE_PEEKDATA, pid, p + PAGE_SZ + 16, NULL);
	ASSERT_EQ(0, errno);
	ASSERT_EQ(pattern_word((uintptr_t)p + PAGE_SZ + 16, 65),
		  (uint64_t)word);
	ASSERT_EQ(0, ptrace(PTRACE_POKEDATA, pid, p, (void *)POKE_RW))
		TH_LOG("poke rw: %s", strerror(errno));
	ASSERT_EQ(0, ptrace(PTRACE_POKEDATA, pid, p + PAGE_SZ,
			    (void *)POKE_RO))
		TH_LOG("poke ro: %s", strerror(errno));
	/* Peeking a reserved page fails cleanly. */
	errno = 0;
	ptrace(PTRACE_PEEKDATA, pid, p + 4 * PAGE_SZ, NULL);
	ASSERT_NE(0, errno);

	/* Detach: the tracee's own checks fault on purpose. */
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* The debugger is the child: it attaches to the test process itself. */
static int child_attaches(void *arg)
{
	struct remote *rm = arg;
	int status;
	long word;

	if (ptrace(PTRACE_ATTACH, rm->pid, NULL, NULL))
		return 10;
	if (waitpid(rm->pid, &status, 0) != rm->pid || !WIFSTOPPED(status))
		return 11;
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, rm->pid, rm->addr + 24, NULL);
	if (errno || (uint64_t)word != pattern_word((uintptr_t)rm->addr + 24,
						    73))
		return 12;
	if (ptrace(PTRACE_POKEDATA, rm->pid, rm->addr, (void *)POKE_RW))
		return 13;
	/* A breakpoint into a read-only page. */
	if (ptrace(PTRACE_POKEDATA, rm->pid, rm->addr + PAGE_SZ,
		   (void *)POKE_RO))
		return 14;
	if (ptrace(PTRACE_DETACH, rm->pid, NULL, NULL))
		return 15;
	return 0;
}

TEST_F(gup, ptrace_attach_to_parent)
{
	struct remote rm = { getpid(), self->p + 8 * PAGE_SZ };

	fill_pattern(rm.addr, 2 * PAGE_SZ, 73);
	ASSERT_EQ(0, ntmem_protect(self->fd, rm.addr + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(0, run_in_child(child_attaches, &rm));
	ASSERT_EQ(POKE_RW, *(uint64_t *)rm.addr);
	ASSERT_EQ(POKE_RO, *(uint64_t *)(rm.addr + PAGE_SZ));
	ASSERT_EQ(-1, check_pattern(rm.addr + 8, PAGE_SZ - 8, 73));
	ASSERT_EQ(-1, check_pattern(rm.addr + PAGE_SZ + 8, PAGE_SZ - 8, 73));
	ASSERT_SEGV_AT(rm.addr + PAGE_SZ + 8, try_write(rm.addr + PAGE_SZ + 8,
							 0));
}

TEST_F(gup, pipe_read_into_committed)
{
	const size_t len = 64 * KiB;
	char *src = malloc(len);
	int pfd[2];

	ASSERT_NE(NULL, src);
	fill_pattern(src, len, 66);
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(len, (size_t)fcntl(pfd[1], F_SETPIPE_SZ, len));
	ASSERT_EQ((ssize_t)len, write(pfd[1], src, len));
	ASSERT_EQ(0, pagemap_count_present(self->p, len));
	ASSERT_EQ((ssize_t)len, read(pfd[0], self->p, len));
	ASSERT_EQ(0, memcmp(self->p, src, len));
	/* And back out through write(2). */
	ASSERT_EQ((ssize_t)len, write(pfd[1], self->p, len));
	memset(src, 0, len);
	ASSERT_EQ((ssize_t)len, read(pfd[0], src, len));
	ASSERT_EQ(0, memcmp(self->p, src, len));
	free(src);
}

/*
 * O_DIRECT, as Windows programs use VirtualAlloc'd buffers for unbuffered
 * I/O: the block layer pins the buffer's pages with GUP and the device
 * reads and writes them directly.  Needs a block device: the VM runner
 * loads brd, which gives /dev/ram0.
 */
TEST_F(gup, o_direct_read_write)
{
	const size_t len = 64 * KiB;
	char *expect = malloc(len);
	int dev;

	ASSERT_NE(NULL, expect);
	dev = open("/dev/ram0", O_RDWR | O_DIRECT);
	if (dev < 0) {
		free(expect);
		SKIP(return, "no /dev/ram0 to do O_DIRECT on: %s", strerror(errno));
	}
	fill_pattern(self->p, len, 77);
	memcpy(expect, self->p, len);
	/* out of ntmem memory, straight to the device */
	ASSERT_EQ((ssize_t)len, pwrite(dev, self->p, len, 0));
	/* and back, into pages that are committed but not yet touched */
	ASSERT_EQ(0, ntmem_decommit(self->fd, self->p, len));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->p, len,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, pagemap_count_present(self->p, len));
	ASSERT_EQ((ssize_t)len, pread(dev, self->p, len, 0));
	ASSERT_EQ(0, memcmp(self->p, expect, len));
	close(dev);
	free(expect);
}

/* A copy into memory the program may not write fails with EFAULT. */
TEST_F(gup, syscall_into_protected_efault)
{
	char *r = ntmem_reserve_any(self->fd, 64 * KiB);
	char *p = self->p;
	int pfd[2];

	ASSERT_NE(NULL, r);
	fill_pattern(p, PAGE_SZ, 67);
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READONLY,
				   NULL));
	ASSERT_EQ(0, ntmem_protect(self->fd, p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, NULL));
	ASSERT_EQ(0, pipe(pfd));

	ASSERT_EQ(16, write(pfd[1], "0123456789abcdef", 16));
	ASSERT_EQ(-1, read(pfd[0], p, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, read(pfd[0], p + PAGE_SZ, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, read(pfd[0], r, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(pfd[1], r + 100, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(pfd[1], p + PAGE_SZ, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, check_pattern(p, PAGE_SZ, 67));
	/* A readable page can be the source. */
	ASSERT_EQ(16, write(pfd[1], p, 16));
}

TEST_F(gup, vmsplice_from_committed)
{
	const size_t len = 64 * KiB;
	struct iovec iov = { self->p, len };
	char *dst = malloc(len);
	size_t got = 0;
	int pfd[2];

	ASSERT_NE(NULL, dst);
	fill_pattern(self->p, len, 68);
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(len, (size_t)fcntl(pfd[1], F_SETPIPE_SZ, len));
	ASSERT_EQ((ssize_t)len, vmsplice(pfd[1], &iov, 1, 0))
		TH_LOG("vmsplice: %s", strerror(errno));
	while (got < len) {
		ssize_t n = read(pfd[0], dst + got, len - got);

		ASSERT_LT(0, n);
		got += n;
	}
	ASSERT_EQ(0, memcmp(dst, self->p, len));
	free(dst);
}

static int child_process_vm(void *arg)
{
	struct remote *rm = arg;
	const size_t len = 16 * PAGE_SZ;
	uint64_t *buf = malloc(len);
	struct iovec local = { buf, len };
	struct iovec remote = { rm->addr, len };

	if (!buf)
		return 9;
	if (process_vm_readv(rm->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)len)
		return 10;
	/* First half the pattern, second half never touched: zero. */
	for (size_t i = 0; i < len / 16; i++)
		if (buf[i] != pattern_word((uintptr_t)rm->addr + 8 * i, 69))
			return 11;
	for (size_t i = len / 16; i < len / 8; i++)
		if (buf[i])
			return 13;
	for (size_t i = 0; i < len / 8; i++)
		buf[i] = pattern_word((uintptr_t)rm->addr + 8 * i, 70);
	if (process_vm_writev(rm->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)len)
		return 12;
	return 0;
}

TEST_F(gup, process_vm_readv_writev)
{
	struct remote rm = { getpid(), self->p };

	/* The second half stays untouched: the child's GUP faults it in. */
	fill_pattern(rm.addr, 8 * PAGE_SZ, 69);
	ASSERT_EQ(0, run_in_child(child_process_vm, &rm));
	ASSERT_EQ(-1, check_pattern(rm.addr, 16 * PAGE_SZ, 70));
}

TEST_HARNESS_MAIN
