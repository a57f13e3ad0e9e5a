// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of a Win32 call in system calls: on its success path each
 * Virtual* and write-watch call of libntmem makes exactly one, the ioctl
 * on /dev/ntmem that does the work, and HeapAlloc and HeapFree, once the
 * heap is warm, make none.
 *
 * Counted with ptrace, so the result is exact and timing plays no part: a
 * child runs its case's setup, then the one call between two marker
 * system calls (getppid, which ignores its arguments, with MARK_MAGIC, a
 * begin or end code and the case's id as arguments), and its tracer
 * records every system call entered between the two markers.  The child
 * tells the tracer through a pipe whether the setup and the call
 * succeeded: the syscalls of a failed call prove nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* "ntmemsys": no program passes this to getppid by chance. */
#define MARK_MAGIC	0x6e746d656d737973UL
#define MARK_BEGIN	1
#define MARK_END	2
#define MAX_SEEN	64
/* The child's exit status when PTRACE_TRACEME is refused. */
#define NO_PTRACE	100

/* What the case's child saw, sent through the pipe once it is done. */
enum stage { STAGE_SETUP, STAGE_CALL, STAGE_DONE };

struct report {
	enum stage stage;	/* the step that failed, or STAGE_DONE */
	DWORD error;		/* GetLastError() after it */
};

/* What a case's setup leaves for its call. */
struct ctx {
	char *b;		/* the region the call acts on */
	HANDLE heap;
	void *block;
	PVOID pages[16];
	ULONG_PTR count;
	DWORD gran;
	DWORD old;
	MEMORY_BASIC_INFORMATION m;
};

/* One system call entered between the markers. */
struct seen {
	unsigned long nr;
	unsigned long arg[2];
};

struct trace {
	int begins, ends;	/* the markers of this case seen */
	int n;			/* system calls between them */
	struct seen s[MAX_SEEN];
};

/* --- the cases: setup (not counted) and call (counted), in the child ---- */

static bool commit_rw(struct ctx *c)
{
	c->b = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	if (c->b)
		c->b[0] = 1;	/* a resident page, for RESET and LOCK */
	return c->b;
}

static bool reserve_only(struct ctx *c)
{
	c->b = VirtualAlloc(NULL, G, MEM_RESERVE, PAGE_NOACCESS);
	return c->b;
}

static bool commit_and_lock(struct ctx *c)
{
	return commit_rw(c) && VirtualLock(c->b, P);
}

/* A write-watch allocation with pages 0, 3 and 7 written. */
static bool watched(struct ctx *c)
{
	c->b = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT |
			    MEM_WRITE_WATCH, PAGE_READWRITE);
	if (!c->b)
		return false;
	c->b[0] = 1;
	c->b[3 * P] = 1;
	c->b[7 * P] = 1;
	c->count = ARRAY_SIZE(c->pages);
	return true;
}

/* The process heap made, and this thread's cache of 64-byte blocks too. */
static bool heap_warm(struct ctx *c)
{
	int i;

	c->heap = GetProcessHeap();
	if (!c->heap)
		return false;
	for (i = 0; i < 4; i++) {
		void *p = HeapAlloc(c->heap, 0, 64);

		if (!p || !HeapFree(c->heap, 0, p))
			return false;
	}
	return true;
}

static bool heap_warm_block(struct ctx *c)
{
	if (!heap_warm(c))
		return false;
	c->block = HeapAlloc(c->heap, 0, 64);
	return c->block;
}

static bool call_reserve_commit(struct ctx *c)
{
	c->b = VirtualAlloc(NULL, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	return c->b;
}

static bool call_commit(struct ctx *c)
{
	return VirtualAlloc(c->b + P, P, MEM_COMMIT, PAGE_READWRITE) ==
	       c->b + P;
}

static bool call_reset(struct ctx *c)
{
	return VirtualAlloc(c->b, P, MEM_RESET, PAGE_READWRITE) == c->b;
}

static bool call_protect(struct ctx *c)
{
	return VirtualProtect(c->b, P, PAGE_READONLY, &c->old) &&
	       c->old == PAGE_READWRITE;
}

static bool call_query(struct ctx *c)
{
	return VirtualQuery(c->b, &c->m, sizeof(c->m)) == sizeof(c->m) &&
	       c->m.State == MEM_COMMIT;
}

static bool call_lock(struct ctx *c)
{
	return VirtualLock(c->b, P);
}

static bool call_unlock(struct ctx *c)
{
	return VirtualUnlock(c->b, P);
}

static bool call_decommit(struct ctx *c)
{
	return VirtualFree(c->b, P, MEM_DECOMMIT);
}

static bool call_decommit_whole(struct ctx *c)
{
	return VirtualFree(c->b, 0, MEM_DECOMMIT);
}

static bool call_release(struct ctx *c)
{
	return VirtualFree(c->b, 0, MEM_RELEASE);
}

static bool call_get_write_watch(struct ctx *c)
{
	return GetWriteWatch(WRITE_WATCH_FLAG_RESET, c->b, G, c->pages,
			     &c->count, &c->gran) == 0 && c->count == 3;
}

static bool call_reset_write_watch(struct ctx *c)
{
	return ResetWriteWatch(c->b, G) == 0;
}

static bool call_heap_alloc(struct ctx *c)
{
	c->block = HeapAlloc(GetProcessHeap(), 0, 64);
	return c->block;
}

static bool call_heap_free(struct ctx *c)
{
	return HeapFree(c->heap, 0, c->block);
}

/* --- the child ------------------------------------------------------------ */

static void mark(long what, long id)
{
	syscall(SYS_getppid, MARK_MAGIC, what, id);
}

FIXTURE(win32_syscalls) {
	pid_t pid;
	int pipe[2];
};

FIXTURE_VARIANT(win32_syscalls) {
	const char *name;
	long id;			/* in the markers */
	bool (*setup)(struct ctx *c);	/* NULL: none */
	bool (*call)(struct ctx *c);
	int ioctls;	/* 1: exactly one ntmem ioctl; 0: no system call */
};

static _Noreturn void child(long id, bool (*setup)(struct ctx *c),
			    bool (*call)(struct ctx *c), int out)
{
	MEMORY_BASIC_INFORMATION m;
	struct report r = { .stage = STAGE_SETUP };
	struct ctx c = { 0 };
	bool ok;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(NO_PTRACE);
	raise(SIGSTOP);
	/* libntmem opens the device anew in a forked child: not counted */
	if (VirtualQuery(&c, &m, sizeof(m)) != sizeof(m) ||
	    (setup && !setup(&c))) {
		r.error = GetLastError();
		goto out;
	}
	r.stage = STAGE_CALL;
	SetLastError(LE_SENTINEL);
	mark(MARK_BEGIN, id);
	ok = call(&c);
	r.error = GetLastError();	/* thread-local: no system call */
	mark(MARK_END, id);
	if (ok)
		r.stage = STAGE_DONE;
out:
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* --- the tracer ----------------------------------------------------------- */

static const struct {
	unsigned long nr;
	const char *name;
} syscall_names[] = {
	{ SYS_read, "read" }, { SYS_write, "write" }, { SYS_close, "close" },
	{ SYS_mmap, "mmap" }, { SYS_mprotect, "mprotect" },
	{ SYS_munmap, "munmap" }, { SYS_brk, "brk" },
	{ SYS_rt_sigaction, "rt_sigaction" },
	{ SYS_rt_sigprocmask, "rt_sigprocmask" }, { SYS_ioctl, "ioctl" },
	{ SYS_madvise, "madvise" }, { SYS_getpid, "getpid" },
	{ SYS_getppid, "getppid" }, { SYS_gettid, "gettid" },
	{ SYS_futex, "futex" }, { SYS_openat, "openat" },
	{ SYS_mlock, "mlock" }, { SYS_munlock, "munlock" },
	{ SYS_process_vm_readv, "process_vm_readv" },
	{ SYS_process_vm_writev, "process_vm_writev" },
	{ SYS_getrandom, "getrandom" },
};

/* Indexed by _IOC_NR of the ntmem ioctls (include/uapi/ntmem.h). */
static const char *const ioctl_names[] = {
	"VERSION", "RESERVE", "COMMIT", "DECOMMIT", "RESET", "RESET_UNDO",
	"RELEASE", "PROTECT", "QUERY", "GET_WRITE_WATCH", "RESET_WRITE_WATCH",
	"GUARD_HIT", "LOCK", "UNLOCK",
};

static bool ntmem_ioctl_cmd(unsigned long cmd)
{
	return _IOC_TYPE(cmd) == NTMEM_IOC_MAGIC;
}

/* "getpid(39), ioctl(16) QUERY, ..." into @buf. */
static const char *describe(const struct trace *t, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < t->n && i < MAX_SEEN && used < len; i++) {
		const struct seen *s = &t->s[i];
		const char *name = "?";
		char cmd[32] = "";
		size_t j;

		for (j = 0; j < ARRAY_SIZE(syscall_names); j++)
			if (syscall_names[j].nr == s->nr)
				name = syscall_names[j].name;
		if (s->nr == SYS_ioctl && ntmem_ioctl_cmd(s->arg[1]) &&
		    _IOC_NR(s->arg[1]) < ARRAY_SIZE(ioctl_names))
			snprintf(cmd, sizeof(cmd), " %s",
				 ioctl_names[_IOC_NR(s->arg[1])]);
		else if (s->nr == SYS_ioctl)
			snprintf(cmd, sizeof(cmd), " %#lx", s->arg[1]);
		used += snprintf(buf + used, len - used, "%s%s(%lu)%s",
				 i ? ", " : "", name, s->nr, cmd);
	}
	if (t->n > MAX_SEEN && used < len)
		snprintf(buf + used, len - used, ", ...");
	if (!t->n)
		snprintf(buf, len, "none");
	return buf;
}

/*
 * The number and first two arguments of the system call @pid has just
 * entered; false at a syscall-exit stop.  PTRACE_GET_SYSCALL_INFO (5.3)
 * says which stop it is; before it, entry and exit stops alternate.
 */
static bool syscall_entry(pid_t pid, bool *in_syscall, struct seen *s)
{
	struct __ptrace_syscall_info info;
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info),
		   &info) > 0) {
		if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
			return false;
		s->nr = info.entry.nr;
		s->arg[0] = info.entry.args[0];
		s->arg[1] = info.entry.args[1];
		return true;
	}
	*in_syscall = !*in_syscall;
	if (!*in_syscall || ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return false;
	s->nr = regs.orig_rax;
	s->arg[0] = regs.rdi;
	s->arg[1] = regs.rsi;
	return true;
}

/* The third marker argument, which syscall_entry() does not keep. */
static unsigned long marker_id(pid_t pid)
{
	struct __ptrace_syscall_info info;
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info),
		   &info) > 0)
		return info.entry.args[2];
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -1UL;
	return regs.rdx;
}

/*
 * Run the stopped child @pid to its end, recording the system calls it
 * enters between the markers of case @id; its wait status in *status.
 */
static void trace_child(struct __test_metadata *_metadata, pid_t pid,
			long id, struct trace *t, int *status)
{
	bool in_syscall = false;
	struct seen s;
	int sig = 0;

	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, NULL,
			    (void *)(PTRACE_O_TRACESYSGOOD |
				     PTRACE_O_EXITKILL)))
		TH_LOG("PTRACE_SETOPTIONS: %s", strerror(errno));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, NULL,
				    (void *)(long)sig))
			TH_LOG("PTRACE_SYSCALL: %s", strerror(errno));
		ASSERT_EQ(pid, waitpid(pid, status, 0));
		if (!WIFSTOPPED(*status))
			return;
		sig = 0;
		if (WSTOPSIG(*status) != (SIGTRAP | 0x80)) {
			sig = WSTOPSIG(*status);	/* pass it on */
			continue;
		}
		if (!syscall_entry(pid, &in_syscall, &s))
			continue;
		if (s.nr == SYS_getppid && s.arg[0] == MARK_MAGIC) {
			ASSERT_EQ((unsigned long)id, marker_id(pid));
			if (s.arg[1] == MARK_BEGIN)
				t->begins++;
			else
				t->ends++;
			continue;
		}
		if (t->begins != 1 || t->ends)
			continue;
		if (t->n < MAX_SEEN)
			t->s[t->n] = s;
		t->n++;
	}
}

FIXTURE_SETUP(win32_syscalls)
{
	self->pid = -1;
	self->pipe[0] = -1;
	self->pipe[1] = -1;
}

FIXTURE_TEARDOWN(win32_syscalls)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
}

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualAlloc_reserve_commit) {
	.name = "VirtualAlloc_reserve_commit", .id = 1,
	.setup = NULL, .call = call_reserve_commit, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualAlloc_commit) {
	.name = "VirtualAlloc_commit", .id = 2,
	.setup = reserve_only, .call = call_commit, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualAlloc_reset) {
	.name = "VirtualAlloc_reset", .id = 3,
	.setup = commit_rw, .call = call_reset, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualProtect) {
	.name = "VirtualProtect", .id = 4,
	.setup = commit_rw, .call = call_protect, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualQuery) {
	.name = "VirtualQuery", .id = 5,
	.setup = commit_rw, .call = call_query, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualLock) {
	.name = "VirtualLock", .id = 6,
	.setup = commit_rw, .call = call_lock, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualUnlock) {
	.name = "VirtualUnlock", .id = 7,
	.setup = commit_and_lock, .call = call_unlock, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualFree_decommit) {
	.name = "VirtualFree_decommit", .id = 8,
	.setup = commit_rw, .call = call_decommit, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualFree_decommit_whole) {
	.name = "VirtualFree_decommit_whole", .id = 14,
	.setup = commit_rw, .call = call_decommit_whole, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, VirtualFree_release) {
	.name = "VirtualFree_release", .id = 9,
	.setup = commit_rw, .call = call_release, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, GetWriteWatch_reset) {
	.name = "GetWriteWatch_reset", .id = 10,
	.setup = watched, .call = call_get_write_watch, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, ResetWriteWatch) {
	.name = "ResetWriteWatch", .id = 11,
	.setup = watched, .call = call_reset_write_watch, .ioctls = 1,
};

FIXTURE_VARIANT_ADD(win32_syscalls, HeapAlloc_warm) {
	.name = "HeapAlloc_warm", .id = 12,
	.setup = heap_warm, .call = call_heap_alloc, .ioctls = 0,
};

FIXTURE_VARIANT_ADD(win32_syscalls, HeapFree_warm) {
	.name = "HeapFree_warm", .id = 13,
	.setup = heap_warm_block, .call = call_heap_free, .ioctls = 0,
};

TEST_F(win32_syscalls, success_path)
{
	struct trace t = { 0 };
	struct report r;
	char seen[1024];
	int status, fd;

	fd = ntmem_open();
	if (fd < 0)
		SKIP(return, "%s: %s", NTMEM_DEVICE, strerror(-fd));
	close(fd);
	ASSERT_EQ(0, pipe(self->pipe));
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid) {
		close(self->pipe[0]);
		child(variant->id, variant->setup, variant->call,
		      self->pipe[1]);
	}
	close(self->pipe[1]);
	self->pipe[1] = -1;

	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == NO_PTRACE) {
		self->pid = -1;
		SKIP(return, "PTRACE_TRACEME refused");
	}
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP)
		TH_LOG("child status %#x, want stopped by SIGSTOP", status);

	trace_child(_metadata, self->pid, variant->id, &t, &status);
	self->pid = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x, want exit 0", status);
	ASSERT_EQ((ssize_t)sizeof(r), read(self->pipe[0], &r, sizeof(r)));
	ASSERT_NE(STAGE_SETUP, r.stage)
		TH_LOG("%s: the setup failed, error %u", variant->name,
		       r.error);
	ASSERT_EQ(STAGE_DONE, r.stage)
		TH_LOG("%s failed, error %u: its system calls prove nothing",
		       variant->name, r.error);
	ASSERT_EQ(1, t.begins);
	ASSERT_EQ(1, t.ends);

	describe(&t, seen, sizeof(seen));
	if (!variant->ioctls) {
		ASSERT_EQ(0, t.n)
			TH_LOG("%s: the heap's fast path made %d system calls, want none: %s",
			       variant->name, t.n, seen);
		return;
	}
	ASSERT_EQ(1, t.n)
		TH_LOG("%s: %d system calls on the success path, want one ioctl: %s",
		       variant->name, t.n, seen);
	ASSERT_EQ((unsigned long)SYS_ioctl, t.s[0].nr)
		TH_LOG("%s: the one system call is %s, want an ioctl",
		       variant->name, seen);
	ASSERT_TRUE(ntmem_ioctl_cmd(t.s[0].arg[1]))
		TH_LOG("%s: %s is not an ntmem ioctl", variant->name, seen);
}

TEST_HARNESS_MAIN
