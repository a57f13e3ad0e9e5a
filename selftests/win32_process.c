// SPDX-License-Identifier: GPL-2.0
/*
 * Other processes: OpenProcess, the ...Ex calls on a process handle, and
 * ReadProcessMemory/WriteProcessMemory, with Windows' checks and error
 * codes (Wine's kernel32 test_VirtualAllocEx, adapted) and their real
 * effects: the memory made is the child's own, which it reads and writes
 * itself; a handle's access limits what it may do; a handle follows the
 * address space, so exit and exec end it; Linux's ptrace check decides
 * who may open whom; views of a section and placeholders are made in the
 * child too.  Everything skips on a module without NTMEM_FEATURE_PROCESSES.
 *
 * The child is this binary, fork()ed and exec()ed with --child-serve: it
 * answers lines on its stdin ("check ADDR LEN SEED", "fill ADDR LEN
 * SEED", "exec") on its stdout, and exits at end of file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define NOBODY		65534
#define OTHER_USER	65533

#define NEED_PROCESSES() do {						\
	if (!ntmem_module_has(NTMEM_FEATURE_PROCESSES))			\
		SKIP(return, "the module cannot open other processes "	\
		     "(NTMEM_FEATURE_PROCESSES)");			\
} while (0)

/* A pattern that depends on the offset and the seed. */
static void fill(void *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i + 8 <= len; i += 8)
		*(uint64_t *)((char *)p + i) = (i / 8) * 0x9E3779B97F4A7C15ull +
					       seed;
}

/* Offset of the first word that differs from fill()'s, or -1. */
static long check(const void *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i + 8 <= len; i += 8)
		if (*(const uint64_t *)((const char *)p + i) !=
		    (i / 8) * 0x9E3779B97F4A7C15ull + seed)
			return i;
	return -1;
}

/* ---- the child ---------------------------------------------------------- */

/* One line from @fd without its newline: its length, or -1 at the end. */
static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n ? (ssize_t)n : -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return n;
}

static void reply(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(2);
}

static int child_serve(void)
{
	char line[128];
	unsigned long a, n, seed;

	reply("ready\n");
	while (read_line(0, line, sizeof(line)) >= 0) {
		if (sscanf(line, "check %lx %lx %lu", &a, &n, &seed) == 3) {
			reply(check((void *)a, n, seed) == -1 ? "ok\n" :
								"bad\n");
		} else if (sscanf(line, "fill %lx %lx %lu", &a, &n,
				  &seed) == 3) {
			fill((void *)a, n, seed);
			reply("ok\n");
		} else if (!strcmp(line, "exec")) {
			char *argv[] = { "win32_process", "--child-serve",
					 NULL };

			execv("/proc/self/exe", argv);
			reply("bad\n");
		} else {
			reply("bad\n");
		}
	}
	return 0;
}

/* ---- the parent's side -------------------------------------------------- */

struct child {
	pid_t pid;
	int to, from;	/* its stdin, its stdout */
};

/* fork and exec a serving child; 0 once it is ready, or -1. */
static int spawn(struct child *c)
{
	char *argv[] = { "win32_process", "--child-serve", NULL };
	int in[2], out[2];
	char line[32];

	signal(SIGPIPE, SIG_IGN);	/* a child that died: EPIPE */
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->to = in[1];
	c->from = out[0];
	/* its address space is the new program's only from here */
	if (read_line(c->from, line, sizeof(line)) < 0 ||
	    strcmp(line, "ready"))
		return -1;
	return 0;
}

/* Send one request; 0 if the child answers "ok" (or @want). */
static int ask_for(struct child *c, const char *want, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(c->to, line, n) != n ||
	    read_line(c->from, line, sizeof(line)) < 0)
		return -1;
	return strcmp(line, want) ? -1 : 0;
}

#define ask(c, ...)	ask_for(c, "ok", __VA_ARGS__)

static void reap(struct child *c)
{
	if (c->pid <= 0)
		return;
	close(c->to);
	close(c->from);
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

/* OpenProcess that must succeed. */
static HANDLE open_ok(struct __test_metadata *_metadata, DWORD access,
		      DWORD pid)
{
	HANDLE h;

	SetLastError(LE_SENTINEL);
	h = OpenProcess(access, FALSE, pid);
	ASSERT_NE(NULL, h) TH_LOG("OpenProcess(%#x, %u): %u", access, pid,
				  GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return h;
}

/* VirtualAllocEx that must succeed. */
static char *vax_ok(struct __test_metadata *_metadata, HANDLE h, void *addr,
		    SIZE_T size, DWORD type, DWORD prot)
{
	char *p;

	SetLastError(LE_SENTINEL);
	p = VirtualAllocEx(h, addr, size, type, prot);
	ASSERT_NE(NULL, p) TH_LOG("VirtualAllocEx(%p, %#zx, %#x, %#x): %u",
				  addr, size, type, prot, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return p;
}

static void vqx_ok(struct __test_metadata *_metadata, HANDLE h,
		   const void *addr, MEMORY_BASIC_INFORMATION *m)
{
	memset(m, 'q', sizeof(*m));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(sizeof(*m), VirtualQueryEx(h, addr, m, sizeof(*m)))
		TH_LOG("VirtualQueryEx(%p): %u", addr, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* Read/WriteProcessMemory of @len bytes that must copy them all. */
static void rpm_ok(struct __test_metadata *_metadata, HANDLE h,
		   const void *addr, void *buf, SIZE_T len)
{
	SIZE_T n = 12345;

	SetLastError(LE_SENTINEL);
	ASSERT_TRUE(ReadProcessMemory(h, addr, buf, len, &n))
		TH_LOG("ReadProcessMemory(%p, %#zx): %u", addr, len,
		       GetLastError());
	ASSERT_EQ(len, n);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

static void wpm_ok(struct __test_metadata *_metadata, HANDLE h, void *addr,
		   const void *buf, SIZE_T len)
{
	SIZE_T n = 12345;

	SetLastError(LE_SENTINEL);
	ASSERT_TRUE(WriteProcessMemory(h, addr, buf, len, &n))
		TH_LOG("WriteProcessMemory(%p, %#zx): %u", addr, len,
		       GetLastError());
	ASSERT_EQ(len, n);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/*
 * A local buffer with a page that cannot be read or written fails both
 * copies, with nothing copied (Wine: ERROR_NOACCESS, or Vista's
 * ERROR_PARTIAL_COPY for the write).
 */
static void bad_local_buffer(struct __test_metadata *_metadata, HANDLE h,
			     void *remote, char *local, SIZE_T size)
{
	SIZE_T n = 77;

	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(WriteProcessMemory(h, remote, local, size, &n));
	ASSERT_TRUE(GetLastError() == ERROR_NOACCESS ||
		    GetLastError() == ERROR_PARTIAL_COPY)
		TH_LOG("last error %u", GetLastError());
	ASSERT_EQ(0, n);
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(ReadProcessMemory(h, remote, local, size, &n));
	ASSERT_EQ(ERROR_NOACCESS, GetLastError());
	ASSERT_EQ(0, n);
}

/* ---- Wine's test_VirtualAllocEx ---------------------------------------- */

TEST(wine_virtualallocex)
{
	const SIZE_T alloc_size = 1 << 15;
	SIZE_T bytes_written = 0, bytes_read = 0, i;
	MEMORY_BASIC_INFORMATION info;
	struct child c = { 0 };
	char *addr1, *addr2, *src, *dst;
	DWORD old_prot;
	HANDLE h;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);

	SetLastError(LE_SENTINEL);
	addr1 = VirtualAllocEx(h, NULL, alloc_size, MEM_COMMIT,
			       PAGE_EXECUTE_READWRITE);
	/* a W^X policy (MDWE) of the child's may refuse write+execute */
	if (!addr1 && GetLastError() == ERROR_DYNAMIC_CODE_BLOCKED)
		addr1 = VirtualAllocEx(h, NULL, alloc_size, MEM_COMMIT,
				       PAGE_READWRITE);
	ASSERT_NE(NULL, addr1) TH_LOG("VirtualAllocEx: %u", GetLastError());

	src = va_ok(_metadata, NULL, alloc_size, MEM_COMMIT, PAGE_READWRITE);
	dst = va_ok(_metadata, NULL, alloc_size, MEM_COMMIT, PAGE_READWRITE);
	for (i = 0; i < alloc_size; i++)
		src[i] = i & 0xff;

	ASSERT_TRUE(WriteProcessMemory(h, addr1, src, alloc_size,
				       &bytes_written));
	ASSERT_EQ(alloc_size, bytes_written);
	ASSERT_TRUE(ReadProcessMemory(h, addr1, dst, alloc_size, &bytes_read));
	ASSERT_EQ(alloc_size, bytes_read);
	ASSERT_EQ(0, memcmp(src, dst, alloc_size));

	/* invalid source buffers */
	vp_ok(_metadata, src + 0x2000, 0x2000, PAGE_NOACCESS);
	bad_local_buffer(_metadata, h, addr1, src, alloc_size);

	vp_ok(_metadata, src, 0x2000, PAGE_NOACCESS);
	bad_local_buffer(_metadata, h, addr1, src, alloc_size);

	ASSERT_TRUE(VirtualFreeEx(h, addr1, 0, MEM_RELEASE));
	ASSERT_TRUE(VirtualFree(src, 0, MEM_RELEASE));
	ASSERT_TRUE(VirtualFree(dst, 0, MEM_RELEASE));

	/* the tests that parallel test_VirtualAlloc */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAllocEx(h, NULL, 0, MEM_RESERVE, PAGE_NOACCESS));
	addr1 = vax_ok(_metadata, h, NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);

	/* not committed */
	vqx_ok(_metadata, h, addr1, &info);
	ASSERT_MBI(info, addr1, addr1, PAGE_NOACCESS, 0x10000, MEM_RESERVE,
		   0, MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtectEx(h, addr1, 0xFFFC, PAGE_READONLY,
				      &old_prot));

	addr2 = vax_ok(_metadata, h, addr1, 0x1000, MEM_COMMIT, PAGE_NOACCESS);
	ASSERT_EQ(addr1, addr2);

	/* committed */
	vqx_ok(_metadata, h, addr1, &info);
	ASSERT_MBI(info, addr1, addr1, PAGE_NOACCESS, 0x1000, MEM_COMMIT,
		   PAGE_NOACCESS, MEM_PRIVATE);
	/* not the whole range is committed yet */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtectEx(h, addr1, 0xFFFC, PAGE_READONLY,
				      &old_prot));

	old_prot = 0;
	ASSERT_TRUE(VirtualProtectEx(h, addr1, 0x1000, PAGE_READONLY,
				     &old_prot));
	ASSERT_EQ(PAGE_NOACCESS, old_prot);
	old_prot = 0;
	ASSERT_TRUE(VirtualProtectEx(h, addr1, 0x1000, PAGE_READWRITE,
				     &old_prot));
	ASSERT_EQ(PAGE_READONLY, old_prot);
	vqx_ok(_metadata, h, addr1, &info);
	ASSERT_MBI(info, addr1, addr1, PAGE_NOACCESS, 0x1000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFreeEx(h, addr1, 0x10000, 0));
	ASSERT_TRUE(VirtualFreeEx(h, addr1, 0x10000, MEM_DECOMMIT));
	vqx_ok(_metadata, h, addr1, &info);
	ASSERT_EQ(MEM_RESERVE, info.State);
	/* MEM_RELEASE takes size 0 only */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFreeEx(h, addr1, 1, MEM_RELEASE));
	ASSERT_TRUE(VirtualFreeEx(h, addr1, 0, MEM_RELEASE));
	vqx_ok(_metadata, h, addr1, &info);
	ASSERT_EQ(MEM_FREE, info.State);

	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

/* ---- the memory is the child's ------------------------------------------ */

TEST(child_sees_memory)
{
	MEMORY_BASIC_INFORMATION m;
	struct child c = { 0 };
	char buf[4 * P];
	DWORD old = 0;
	SIZE_T n;
	HANDLE h;
	char *p;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	p = vax_ok(_metadata, h, NULL, 4 * P, MEM_RESERVE | MEM_COMMIT,
		   PAGE_READWRITE);

	/* the parent writes, the child reads its own memory */
	fill(buf, 4 * P, 11);
	wpm_ok(_metadata, h, p, buf, 4 * P);
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)p,
			 4 * P, 11UL));
	/* the child writes, the parent reads */
	ASSERT_EQ(0, ask(&c, "fill %lx %lx %lu", (unsigned long)(p + P), P,
			 12UL));
	rpm_ok(_metadata, h, p + P, buf, P);
	ASSERT_EQ(-1, check(buf, P, 12));

	/* a read-only page takes a write, as from a debugger */
	ASSERT_TRUE(VirtualProtectEx(h, p, P, PAGE_READONLY, &old));
	ASSERT_EQ(PAGE_READWRITE, old);
	fill(buf, P, 13);
	wpm_ok(_metadata, h, p, buf, P);
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)p, P, 13UL));
	vqx_ok(_metadata, h, p, &m);
	ASSERT_MBI(m, p, p, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READONLY,
		   MEM_PRIVATE);

	/* nor an executable one (when the child's W^X policy allows it) */
	if (VirtualProtectEx(h, p + 3 * P, P, PAGE_EXECUTE_READ, &old)) {
		fill(buf, P, 14);
		wpm_ok(_metadata, h, p + 3 * P, buf, P);
		memset(buf, 0, P);
		rpm_ok(_metadata, h, p + 3 * P, buf, P);
		ASSERT_EQ(-1, check(buf, P, 14));
		ASSERT_EQ(0, ask(&c, "check %lx %lx %lu",
				 (unsigned long)(p + 3 * P), P, 14UL));
	}

	/* a PAGE_NOACCESS page does not */
	ASSERT_TRUE(VirtualProtectEx(h, p + 2 * P, P, PAGE_NOACCESS, &old));
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(ReadProcessMemory(h, p + 2 * P, buf, P, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(0, n);
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(WriteProcessMemory(h, p + 2 * P, buf, P, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(0, n);

	/* decommitted in the child: its own access faults (it dies) */
	ASSERT_TRUE(VirtualFreeEx(h, p, 0, MEM_RELEASE));
	ASSERT_NE(0, ask(&c, "check %lx %lx %lu", (unsigned long)p, P, 13UL));
	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

/* Copies stop where the committed memory does. */
TEST(partial_copies)
{
	char src[P], buf[3 * P];
	struct child c = { 0 };
	SIZE_T n;
	HANDLE h;
	char *p;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	p = vax_ok(_metadata, h, NULL, G, MEM_RESERVE, PAGE_READWRITE);
	ASSERT_EQ(p, vax_ok(_metadata, h, p, P, MEM_COMMIT, PAGE_READWRITE));
	fill(src, P, 21);
	wpm_ok(_metadata, h, p, src, P);

	/* reserved, not committed: nothing */
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(ReadProcessMemory(h, p + P, buf, P, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(0, n);
	/* across committed -> reserved: the committed bytes */
	n = 77;
	memset(buf, 0, sizeof(buf));
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(ReadProcessMemory(h, p + P - 128, buf, 384, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(128, n);
	ASSERT_EQ(0, memcmp(buf, src + P - 128, 128));
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(WriteProcessMemory(h, p + P - 256, buf, 3 * P, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(256, n);
	/* the count is optional; size 0 copies nothing */
	SetLastError(LE_SENTINEL);
	ASSERT_TRUE(ReadProcessMemory(h, p, buf, P, NULL));
	ASSERT_FALSE(ReadProcessMemory(h, p + P, buf, P, NULL));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_TRUE(ReadProcessMemory(h, p + P, buf, 0, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	/* a range that wraps */
	n = 77;
	ASSERT_FAILS(ERROR_NOACCESS,
		     ReadProcessMemory(h, (void *)-P, buf, 2 * P, &n));
	ASSERT_EQ(0, n);
	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

/* ---- access rights -------------------------------------------------------- */

TEST(access_rights)
{
	MEMORY_BASIC_INFORMATION m;
	struct child c = { 0 };
	HANDLE full, h;
	char buf[64];
	DWORD old;
	SIZE_T n;
	char *p;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	full = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	p = vax_ok(_metadata, full, NULL, G, MEM_RESERVE, PAGE_READWRITE);
	vax_ok(_metadata, full, p, P, MEM_COMMIT, PAGE_READWRITE);
	fill(buf, sizeof(buf), 41);
	wpm_ok(_metadata, full, p, buf, sizeof(buf));

	/* query only: queries, nothing else */
	h = open_ok(_metadata, PROCESS_QUERY_INFORMATION, c.pid);
	vqx_ok(_metadata, h, p, &m);
	ASSERT_MBI(m, p, p, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     VirtualAllocEx(h, NULL, G, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     VirtualAllocEx(h, p + P, P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     VirtualProtectEx(h, p, P, PAGE_READONLY, &old));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, VirtualFreeEx(h, p, P, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, VirtualFreeEx(h, p, 0, MEM_RELEASE));
	n = 77;
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     ReadProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_EQ(0, n);
	n = 77;
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_EQ(0, n);
	ASSERT_TRUE(CloseHandle(h));

	/* the limited query right is enough to query */
	h = open_ok(_metadata, PROCESS_QUERY_LIMITED_INFORMATION, c.pid);
	vqx_ok(_metadata, h, p, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_TRUE(CloseHandle(h));

	/* read only: reads, neither queries nor writes */
	h = open_ok(_metadata, PROCESS_VM_READ, c.pid);
	rpm_ok(_metadata, h, p, buf, sizeof(buf));
	ASSERT_EQ(-1, check(buf, sizeof(buf), 41));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, VirtualQueryEx(h, p, &m, sizeof(m)));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_TRUE(CloseHandle(h));

	/* writing takes PROCESS_VM_WRITE and PROCESS_VM_OPERATION */
	h = open_ok(_metadata, PROCESS_VM_WRITE, c.pid);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_TRUE(CloseHandle(h));
	h = open_ok(_metadata, PROCESS_VM_WRITE | PROCESS_VM_OPERATION, c.pid);
	fill(buf, sizeof(buf), 42);
	wpm_ok(_metadata, h, p, buf, sizeof(buf));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     ReadProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_TRUE(CloseHandle(h));
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)p,
			 (unsigned long)sizeof(buf), 42UL));

	/* generic rights map as Windows maps them */
	h = open_ok(_metadata, GENERIC_READ, c.pid);
	vqx_ok(_metadata, h, p, &m);
	rpm_ok(_metadata, h, p, buf, sizeof(buf));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_TRUE(CloseHandle(h));

	/* locking is the calling process's only */
	ASSERT_FAILS(ERROR_NOT_SUPPORTED, VirtualLockEx(full, p, P));
	ASSERT_FAILS(ERROR_NOT_SUPPORTED, VirtualUnlockEx(full, p, P));
	ASSERT_TRUE(CloseHandle(full));
	reap(&c);
}

/* ---- handles --------------------------------------------------------------- */

/* What is not a process handle fails first, whatever else is wrong. */
TEST(not_process_handles)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE bad[3], s;
	char buf[16];
	DWORD old;
	SIZE_T n;
	char *p;

	p = va_ok(_metadata, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, NULL);
	ASSERT_NE(NULL, s);
	bad[0] = NULL;
	bad[1] = (HANDLE)0x1234;
	bad[2] = s;
	for (int i = 0; i < 3; i++) {
		HANDLE h = bad[i];

		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualAllocEx(h, NULL, 0, 0, 0));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualAllocEx(h, NULL, P, MEM_COMMIT,
					    PAGE_READWRITE));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualFreeEx(h, p, 0, 0));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualQueryEx(h, p, &m, 0));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualProtectEx(h, p, 0, 0, &old));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     ReadProcessMemory(h, p, buf, sizeof(buf), &n));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     VirtualLockEx(h, p, P));
		ASSERT_FAILS(ERROR_INVALID_HANDLE,
			     UnmapViewOfFile2(h, p, 0));
		if (h) {	/* NULL is the calling process there */
			ASSERT_FAILS(ERROR_INVALID_HANDLE,
				     VirtualAlloc2(h, NULL, P, MEM_COMMIT,
						   PAGE_READWRITE, NULL, 0));
			ASSERT_FAILS(ERROR_INVALID_HANDLE,
				     MapViewOfFile2(s, h, 0, NULL, 0, 0,
						    PAGE_READWRITE));
		}
	}
	ASSERT_TRUE(CloseHandle(s));
	ASSERT_TRUE(VirtualFree(p, 0, MEM_RELEASE));
}

/* Read/WriteProcessMemory of the calling process itself. */
TEST(current_process_copies)
{
	char *p, *x, buf[2 * P];
	SIZE_T n;

	NEED_PROCESSES();
	p = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_READWRITE);
	va_ok(_metadata, p, P, MEM_COMMIT, PAGE_READWRITE);
	fill(buf, P, 51);
	wpm_ok(_metadata, GetCurrentProcess(), p, buf, P);
	ASSERT_EQ(-1, check(p, P, 51));
	fill(p, P, 52);
	rpm_ok(_metadata, GetCurrentProcess(), p, buf, P);
	ASSERT_EQ(-1, check(buf, P, 52));
	/* a read-only page takes the write */
	vp_ok(_metadata, p, P, PAGE_READONLY);
	fill(buf, P, 53);
	wpm_ok(_metadata, GetCurrentProcess(), p, buf, P);
	ASSERT_EQ(-1, check(p, P, 53));
	n = 77;
	SetLastError(LE_SENTINEL);
	ASSERT_FALSE(ReadProcessMemory(GetCurrentProcess(), p + P - 64, buf,
				       2 * P, &n));
	ASSERT_EQ(ERROR_PARTIAL_COPY, GetLastError());
	ASSERT_EQ(64, n);

	/* the caller's buffer may be ntmem's executable memory (a JIT's) */
	x = VirtualAlloc(NULL, P, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
	if (x) {
		vp_ok(_metadata, p, P, PAGE_READWRITE);
		fill(p, P, 54);
		rpm_ok(_metadata, GetCurrentProcess(), p, x, P);
		ASSERT_EQ(-1, check(x, P, 54));
		fill(x, P, 55);
		wpm_ok(_metadata, GetCurrentProcess(), p, x, P);
		ASSERT_EQ(-1, check(p, P, 55));
		ASSERT_TRUE(VirtualFree(x, 0, MEM_RELEASE));
	}
	ASSERT_TRUE(VirtualFree(p, 0, MEM_RELEASE));
}

/* The same, with another process's memory. */
TEST(executable_buffers)
{
	struct child c = { 0 };
	char *p, *x;
	HANDLE h;

	NEED_PROCESSES();
	x = VirtualAlloc(NULL, P, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
	if (!x)
		SKIP(return, "no PAGE_EXECUTE_READWRITE here (W^X policy)");
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	p = vax_ok(_metadata, h, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	fill(x, P, 56);
	wpm_ok(_metadata, h, p, x, P);
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)p, P, 56UL));
	memset(x, 0, P);
	rpm_ok(_metadata, h, p, x, P);
	ASSERT_EQ(-1, check(x, P, 56));
	ASSERT_TRUE(VirtualFree(x, 0, MEM_RELEASE));
	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

static void *idle_thread(void *arg)
{
	pid_t *tid = arg;

	__atomic_store_n(tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	pause();
	return NULL;
}

TEST(open_errors)
{
	pid_t pid, tid = 0;
	pthread_t t;
	HANDLE h;
	char *p;
	int fd;

	NEED_PROCESSES();
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     OpenProcess(PROCESS_ALL_ACCESS, FALSE, 0));
	/* a process that is gone */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     OpenProcess(PROCESS_ALL_ACCESS, FALSE, pid));
	/* a thread's id is no process's */
	ASSERT_EQ(0, pthread_create(&t, NULL, idle_thread, &tid));
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     OpenProcess(PROCESS_ALL_ACCESS, FALSE, tid));
	pthread_cancel(t);
	pthread_join(t, NULL);

	/* this process, by its id: the memory is here */
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, GetCurrentProcessId());
	p = vax_ok(_metadata, h, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	fill(p, P, 61);
	ASSERT_TRUE(VirtualFreeEx(h, p, 0, MEM_RELEASE));

	/* close-on-exec unless inherited */
	fd = ntmem_fd_from_handle(h);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	ASSERT_TRUE(CloseHandle(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(h));
	SetLastError(LE_SENTINEL);
	h = OpenProcess(PROCESS_QUERY_INFORMATION, TRUE, GetCurrentProcessId());
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, fcntl(ntmem_fd_from_handle(h), F_GETFD));
	ASSERT_TRUE(CloseHandle(h));
}

/* ---- a handle follows the address space --------------------------------- */

/* Every call on @h, whose address space is gone, is ERROR_ACCESS_DENIED. */
static void expect_gone(struct __test_metadata *_metadata, HANDLE h, char *p)
{
	MEMORY_BASIC_INFORMATION m;
	char buf[16];
	DWORD old;
	SIZE_T n;

	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     VirtualAllocEx(h, NULL, P, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, VirtualQueryEx(h, p, &m, sizeof(m)));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     VirtualProtectEx(h, p, P, PAGE_READONLY, &old));
	ASSERT_FAILS(ERROR_ACCESS_DENIED, VirtualFreeEx(h, p, 0, MEM_RELEASE));
	n = 77;
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     ReadProcessMemory(h, p, buf, sizeof(buf), &n));
	ASSERT_EQ(0, n);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     WriteProcessMemory(h, p, buf, sizeof(buf), &n));
}

TEST(after_exit)
{
	struct child c = { 0 };
	pid_t pid;
	HANDLE h;
	char *p;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	ASSERT_EQ((DWORD)c.pid, GetProcessId(h));
	p = vax_ok(_metadata, h, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	pid = c.pid;
	reap(&c);
	expect_gone(_metadata, h, p);
	/* the id stays with the handle, as on Windows */
	ASSERT_EQ((DWORD)pid, GetProcessId(h));
	ASSERT_TRUE(CloseHandle(h));
}

TEST(process_ids)
{
	HANDLE h;

	NEED_PROCESSES();
	ASSERT_EQ((DWORD)getpid(), GetProcessId(GetCurrentProcess()));
	h = open_ok(_metadata, PROCESS_QUERY_INFORMATION, getpid());
	ASSERT_EQ((DWORD)getpid(), GetProcessId(h));
	ASSERT_TRUE(CloseHandle(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, GetProcessId(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, GetProcessId((HANDLE)0x1234));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, GetProcessId(h));	/* closed */
}

TEST(after_exec)
{
	MEMORY_BASIC_INFORMATION m;
	struct child c = { 0 };
	char buf[16];
	HANDLE h;
	char *p;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	p = vax_ok(_metadata, h, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	/* the same process runs another program: a new address space */
	ASSERT_EQ(0, ask_for(&c, "ready", "exec"));
	expect_gone(_metadata, h, p);
	ASSERT_TRUE(CloseHandle(h));
	/* opened again, the handle is the new program's */
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	vqx_ok(_metadata, h, p, &m);
	ASSERT_FALSE(m.State == MEM_COMMIT && m.Type == MEM_PRIVATE);
	p = vax_ok(_metadata, h, NULL, P, MEM_COMMIT, PAGE_READWRITE);
	fill(buf, sizeof(buf), 71);
	wpm_ok(_metadata, h, p, buf, sizeof(buf));
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)p,
			 (unsigned long)sizeof(buf), 71UL));
	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

/* ---- who may open whom: Linux's ptrace check ------------------------------ */

enum {
	CHILD_OK,
	CHILD_OPENED = 10,
	CHILD_ERROR,
	CHILD_USAGE,
};

/* As nobody: OpenProcess of *@arg is refused. */
static int open_as_nobody(void *arg)
{
	pid_t pid = *(pid_t *)arg;

	if (setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return CHILD_USAGE;
	SetLastError(LE_SENTINEL);
	if (OpenProcess(PROCESS_VM_READ, FALSE, pid))
		return CHILD_OPENED;
	return GetLastError() == ERROR_ACCESS_DENIED ? CHILD_OK : CHILD_ERROR;
}

TEST(refused)
{
	pid_t self = getpid(), other;
	int pfd[2];
	HANDLE h;

	NEED_PROCESSES();
	if (geteuid())
		SKIP(return, "needs root, to become other users");
	/* nobody may not open root's process */
	ASSERT_EQ(CHILD_OK, run_in_child(open_as_nobody, &self));

	/* nor another user's */
	ASSERT_EQ(0, pipe(pfd));
	other = fork();
	ASSERT_LE(0, other);
	if (!other) {
		char c;

		close(pfd[1]);
		if (setresgid(OTHER_USER, OTHER_USER, OTHER_USER) ||
		    setresuid(OTHER_USER, OTHER_USER, OTHER_USER))
			_exit(1);
		while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pfd[0]);
	usleep(100 * 1000);	/* let it change users */
	ASSERT_EQ(CHILD_OK, run_in_child(open_as_nobody, &other));
	/* root may (CAP_SYS_PTRACE) */
	h = open_ok(_metadata, PROCESS_VM_READ, other);
	ASSERT_TRUE(CloseHandle(h));
	close(pfd[1]);
	ASSERT_EQ(other, waitpid(other, NULL, 0));
}

/* ---- sections and placeholders in the child ------------------------------ */

TEST(views_in_child)
{
	MEMORY_BASIC_INFORMATION m;
	struct child c = { 0 };
	char *local, *remote, *ro;
	static char buf[G];
	DWORD old;
	HANDLE h, s;
	SIZE_T n;

	NEED_PROCESSES();
	ASSERT_EQ(0, spawn(&c));
	h = open_ok(_metadata, PROCESS_ALL_ACCESS, c.pid);
	s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, NULL);
	ASSERT_NE(NULL, s);
	local = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0);
	ASSERT_NE(NULL, local);
	SetLastError(LE_SENTINEL);
	remote = MapViewOfFile2(s, h, 0, NULL, 0, 0, PAGE_READWRITE);
	ASSERT_NE(NULL, remote) TH_LOG("MapViewOfFile2: %u", GetLastError());

	/* one section: the parent's view, the child's view */
	fill(local, G, 81);
	rpm_ok(_metadata, h, remote, buf, G);
	ASSERT_EQ(-1, check(buf, G, 81));
	ASSERT_EQ(0, ask(&c, "check %lx %lx %lu", (unsigned long)remote, G,
			 81UL));
	ASSERT_EQ(0, ask(&c, "fill %lx %lx %lu", (unsigned long)remote, P,
			 82UL));
	ASSERT_EQ(-1, check(local, P, 82));
	vqx_ok(_metadata, h, remote, &m);
	ASSERT_MBI(m, remote, remote, PAGE_READWRITE, G, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);

	/* a read-only view: no more than its access (not a denied handle) */
	ro = MapViewOfFile2(s, h, 0, NULL, 0, 0, PAGE_READONLY);
	ASSERT_NE(NULL, ro);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtectEx(h, ro, P, PAGE_READWRITE, &old));
	ASSERT_TRUE(UnmapViewOfFile2(h, ro, 0));

	ASSERT_TRUE(UnmapViewOfFile2(h, remote, 0));
	vqx_ok(_metadata, h, remote, &m);
	ASSERT_EQ(MEM_FREE, m.State);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile2(h, remote, 0));
	n = 77;
	ASSERT_FAILS(ERROR_PARTIAL_COPY,
		     ReadProcessMemory(h, remote, buf, P, &n));
	ASSERT_EQ(0, n);

	/* Microsoft's ring buffer, in the child */
	if (ntmem_module_has(NTMEM_FEATURE_PLACEHOLDERS)) {
		char *ring, *v1, *v2;

		ring = VirtualAlloc2(h, NULL, 2 * G,
				     MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
				     PAGE_NOACCESS, NULL, 0);
		ASSERT_NE(NULL, ring) TH_LOG("VirtualAlloc2: %u",
					     GetLastError());
		ASSERT_TRUE(VirtualFreeEx(h, ring, G, MEM_RELEASE |
					  MEM_PRESERVE_PLACEHOLDER));
		v1 = MapViewOfFile3(s, h, ring, 0, G, MEM_REPLACE_PLACEHOLDER,
				    PAGE_READWRITE, NULL, 0);
		ASSERT_EQ(ring, v1) TH_LOG("MapViewOfFile3: %u",
					   GetLastError());
		v2 = MapViewOfFile3(s, h, ring + G, 0, G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0);
		ASSERT_EQ(ring + G, v2);
		fill(local, G, 83);
		rpm_ok(_metadata, h, ring + G - P, buf, 2 * P);
		ASSERT_EQ(0, memcmp(buf, local + G - P, P));
		ASSERT_EQ(0, memcmp(buf + P, local, P));
		ASSERT_TRUE(UnmapViewOfFileEx(local, 0));
		ASSERT_TRUE(UnmapViewOfFile2(h, v1, MEM_PRESERVE_PLACEHOLDER));
		ASSERT_TRUE(UnmapViewOfFile2(h, v2, MEM_PRESERVE_PLACEHOLDER));
		ASSERT_TRUE(VirtualFreeEx(h, ring, 2 * G, MEM_RELEASE |
					  MEM_COALESCE_PLACEHOLDERS));
		ASSERT_TRUE(VirtualFreeEx(h, ring, 0, MEM_RELEASE));
	} else {
		ASSERT_TRUE(UnmapViewOfFile(local));
	}
	ASSERT_TRUE(CloseHandle(s));
	ASSERT_TRUE(CloseHandle(h));
	reap(&c);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--child-serve"))
		return child_serve();
	return test_harness_run(argc, argv);
}
