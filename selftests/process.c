// SPDX-License-Identifier: GPL-2.0
/*
 * Other processes (NTMEM_IOC_OPEN_PROCESS, READ_MEMORY, WRITE_MEMORY): a
 * process descriptor made from /proc/PID/mem acts on
 * its target's address space while the target sits stopped and never
 * opens /dev/ntmem itself -- the target's /proc/PID/maps, smaps and
 * pagemap show what was made, and the target, once continued, reads the
 * bytes and faults where the protection says.  Opening is Linux's ptrace
 * decision (an unprivileged user opens neither init nor another user's
 * process, nor passes its own mem file off as someone else's), the access
 * bits are enforced, arguments are checked, a /dev/ntmem descriptor still
 * works in its own address space only while a process descriptor works
 * from anywhere, the target's own limits (RLIMIT_AS, MDWE, its user's
 * share of the commit limit, its memory cgroup) bound and pay for what is
 * made there, and a gone address space answers ESRCH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE			65
#define PR_MDWE_REFUSE_EXEC_GAIN	1
#endif

#define ALL_ACCESS	(NTMEM_PROCESS_VM_OPERATION | NTMEM_PROCESS_VM_READ | \
			 NTMEM_PROCESS_VM_WRITE |			      \
			 NTMEM_PROCESS_QUERY_INFORMATION)
#define NEEDS_RDWR	(NTMEM_PROCESS_VM_OPERATION | NTMEM_PROCESS_VM_WRITE)

#define LIMIT_PARAM	"/sys/module/ntmem/parameters/commit_limit_mb"
#define SHARE_PARAM	"/sys/module/ntmem/parameters/user_share_percent"
#define TARGET_CG	"ntmem-process-target"

/* --- descriptors ---------------------------------------------------------- */

/* /proc/@pid/mem opened with @flags: a descriptor or -errno. */
static int open_mem(pid_t pid, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int open_process(int dev, pid_t pid, int mem_fd, uint32_t access)
{
	struct ntmem_process p = {
		.size = sizeof(p), .pid = pid, .mem_fd = mem_fd,
		.access = access,
	};
	int err = ntmem_ioctl(dev, NTMEM_IOC_OPEN_PROCESS, &p);

	return err ? err : p.fd;
}

/* A process descriptor of @pid with @access; the mem file is closed again. */
static int open_target(int dev, pid_t pid, uint32_t access)
{
	int mem = open_mem(pid, access & NEEDS_RDWR ? O_RDWR : O_RDONLY);
	int fd;

	if (mem < 0)
		return mem;
	fd = open_process(dev, pid, mem, access);
	close(mem);
	return fd;
}

static int mem_copy(int fd, unsigned long cmd, uint64_t addr, void *buf,
		    uint64_t len, uint64_t *done)
{
	struct ntmem_memory_copy c = {
		.size = sizeof(c), .addr = addr, .buf = (uintptr_t)buf,
		.length = len, .done = 0xdeadbeef,
	};
	int err = ntmem_ioctl(fd, cmd, &c);

	if (done)
		*done = c.done;
	return err;
}

static int read_mem(int fd, uint64_t addr, void *buf, uint64_t len,
		    uint64_t *done)
{
	return mem_copy(fd, NTMEM_IOC_READ_MEMORY, addr, buf, len, done);
}

static int write_mem(int fd, uint64_t addr, const void *buf, uint64_t len,
		     uint64_t *done)
{
	return mem_copy(fd, NTMEM_IOC_WRITE_MEMORY, addr, (void *)buf, len,
			done);
}

/* RESERVE through @fd: base or 0, the error in *@err. */
static uint64_t reserve_in(int fd, uint64_t len, uint32_t flags,
			   uint32_t protect, int *err)
{
	void *addr = NULL;
	size_t l = len;

	*err = ntmem_reserve(fd, &addr, &l, flags, protect);
	return *err ? 0 : (uintptr_t)addr;
}

/* Fill @buf with the pattern check_pattern() expects at @target. */
static void fill_pattern_for(void *buf, size_t len, uint64_t target,
			     uint64_t seed)
{
	uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = pattern_word(target + i * 8, seed);
}

static int send_fd(int sock, int fd)
{
	char data = 'f';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* --- the target: a child that never opens /dev/ntmem ---------------------- */

/*
 * The target forks from the test, sets itself up (@setup), reports the
 * result, and stops itself (SIGSTOP).  Each command is written to its
 * pipe and then SIGCONT sent; it answers on the other pipe and stops
 * again.  So every remote call of the tests happens while it is stopped.
 */
enum {
	SETUP_NONE,
	SETUP_RLIMIT_AS,	/* RLIMIT_AS = VmSize + 1 MiB */
	SETUP_MDWE,		/* PR_SET_MDWE */
	SETUP_MEMCG,		/* join TARGET_CG */
	SETUP_UID,		/* become uid/gid @arg */
};

enum {
	T_CHECK = 1,	/* check_pattern(addr, len, seed) */
	T_READ,		/* the word at addr, or where it faults */
	T_WRITE,	/* the byte seed to addr, or where it faults */
	T_EXIT,		/* _exit(seed) */
	T_EXEC,		/* execv(busybox sleep 1000) */
};

struct tcmd {
	int op;
	int pad;
	uint64_t addr, len, seed;
};

struct treply {
	int64_t val;	/* T_CHECK: the first bad offset or -1; T_READ: word */
	uint64_t fault;	/* si_addr of a SIGSEGV/SIGBUS, 0 if none */
	int64_t signo;
};

struct target {
	pid_t pid;
	int cmd_w, reply_r;
};

#define BUSYBOX	"/bin/busybox"

static void __attribute__((noreturn))
target_main(int cmd_r, int reply_w, int setup, long arg)
{
	int64_t st = 0;

	switch (setup) {
	case SETUP_RLIMIT_AS: {
		struct rlimit rl;
		long kb = proc_status_kb("VmSize");

		rl.rlim_cur = rl.rlim_max = kb * KiB + MiB;
		st = kb <= 0 ? -EIO : setrlimit(RLIMIT_AS, &rl) ? -errno : 0;
		break;
	}
	case SETUP_MDWE:
		st = prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) ?
		     -errno : 0;
		break;
	case SETUP_MEMCG:
		st = memcg_join(TARGET_CG);
		break;
	case SETUP_UID:
		st = setgroups(0, NULL) || setresgid(arg, arg, arg) ||
		     setresuid(arg, arg, arg) ? -errno : 0;
		break;
	}
	if (write(reply_w, &st, sizeof(st)) != sizeof(st))
		_exit(90);
	for (;;) {
		struct treply r = { 0 };
		struct tcmd c;
		void *f;

		raise(SIGSTOP);
		if (read(cmd_r, &c, sizeof(c)) != sizeof(c))
			_exit(91);
		switch (c.op) {
		case T_CHECK:
			r.val = check_pattern((void *)(uintptr_t)c.addr, c.len,
					      c.seed);
			break;
		case T_READ:
			f = try_read((void *)(uintptr_t)c.addr);
			r.fault = (uintptr_t)f;
			r.signo = f ? fault_signo() : 0;
			if (!f)
				r.val = *(volatile int64_t *)(uintptr_t)c.addr;
			break;
		case T_WRITE:
			f = try_write((void *)(uintptr_t)c.addr, c.seed);
			r.fault = (uintptr_t)f;
			r.signo = f ? fault_signo() : 0;
			break;
		case T_EXIT:
			_exit(c.seed);
		case T_EXEC:
			/* the reply pipe closes on exec: EOF says it worked */
			execl(BUSYBOX, "sleep", "1000", (char *)NULL);
			r.val = -errno;
			break;
		}
		if (write(reply_w, &r, sizeof(r)) != sizeof(r))
			_exit(92);
	}
}

/* Wait for the target to stop: 0, or -1 if it did not. */
static int target_wait_stop(struct target *t)
{
	int status;

	if (waitpid(t->pid, &status, WUNTRACED) != t->pid)
		return -1;
	return WIFSTOPPED(status) ? 0 : -1;
}

/*
 * Start a target, stopped: its setup's result (0 or -errno), or -1000 if
 * it could not be started.
 */
static int target_start(struct target *t, int setup, long arg)
{
	int cmd[2], reply[2];
	int64_t st;

	t->pid = 0;
	if (pipe2(cmd, O_CLOEXEC) || pipe2(reply, O_CLOEXEC))
		return -1000;
	fflush(stdout);
	fflush(stderr);
	t->pid = fork();
	if (t->pid < 0)
		return -1000;
	if (!t->pid) {
		close(cmd[1]);
		close(reply[0]);
		target_main(cmd[0], reply[1], setup, arg);
	}
	close(cmd[0]);
	close(reply[1]);
	t->cmd_w = cmd[1];
	t->reply_r = reply[0];
	if (read(t->reply_r, &st, sizeof(st)) != sizeof(st))
		return -1000;
	if (target_wait_stop(t))
		return -1000;
	return st;
}

/* Run one command in the target and let it stop again: 0 or -1. */
static int target_call(struct target *t, int op, uint64_t addr, uint64_t len,
		       uint64_t seed, struct treply *r)
{
	struct tcmd c = { .op = op, .addr = addr, .len = len, .seed = seed };

	memset(r, 0, sizeof(*r));
	if (write(t->cmd_w, &c, sizeof(c)) != sizeof(c) ||
	    kill(t->pid, SIGCONT))
		return -1;
	if (read(t->reply_r, r, sizeof(*r)) != sizeof(*r))
		return -1;
	return target_wait_stop(t);
}

/* The target's own check of its memory: -1 if it holds the pattern. */
static long target_check(struct target *t, uint64_t addr, uint64_t len,
			 uint64_t seed)
{
	struct treply r;

	if (target_call(t, T_CHECK, addr, len, seed, &r))
		return -2;
	return r.val;
}

/* Kill and reap the target; its wait status. */
static int target_kill(struct target *t)
{
	int status = -1;

	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		close(t->cmd_w);
		close(t->reply_r);
	}
	t->pid = 0;
	return status;
}

FIXTURE(process) {
	int fd;
	struct target t, t2;
};

FIXTURE_SETUP(process)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->t.pid = self->t2.pid = 0;
	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_PROCESSES))
		SKIP(return, "module without other processes (OPEN_PROCESS)");
}

FIXTURE_TEARDOWN(process)
{
	target_kill(&self->t);
	target_kill(&self->t2);
	if (self->fd > 0)
		close(self->fd);
}

#define START_TARGET(t, setup, arg) \
	ASSERT_EQ(0, target_start(t, setup, arg))

/* --- 1. the whole life of a reservation, made in a stopped child ---------- */

TEST_F(process, reserve_commit_write_protect_release_in_a_stopped_child)
{
	const uint64_t len = 1 * MiB, clen = 64 * KiB;
	static char buf[64 * KiB] __attribute__((aligned(4096)));
	static char back[64 * KiB] __attribute__((aligned(4096)));
	struct ntmem_version v;
	struct ntmem_query q;
	struct maps_entry e;
	int pfd, maps0, self_maps0, err;
	char link[64], name[128];
	uint64_t base, done;
	uint32_t old = 0;
	struct treply r;
	ssize_t n;
	pid_t pid;

	START_TARGET(&self->t, SETUP_NONE, 0);
	pid = self->t.pid;
	pfd = open_target(self->fd, pid, ALL_ACCESS);
	ASSERT_LE(0, pfd) TH_LOG("OPEN_PROCESS: %s", strerror(-pfd));
	ASSERT_EQ(FD_CLOEXEC, fcntl(pfd, F_GETFD) & FD_CLOEXEC);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pfd);
	n = readlink(link, name, sizeof(name) - 1);
	ASSERT_LT(0, n);
	name[n] = 0;
	ASSERT_NE(NULL, strstr(name, "[ntmem-process]")) TH_LOG("%s", name);
	/* its fdinfo names the process and the access, as a pidfd's does */
	{
		char info[512], want[64];
		int ifd;

		snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", pfd);
		ifd = open(link, O_RDONLY);
		ASSERT_LE(0, ifd);
		n = read(ifd, info, sizeof(info) - 1);
		close(ifd);
		ASSERT_LT(0, n);
		info[n] = 0;
		snprintf(want, sizeof(want), "\nPid:\t%d\n", pid);
		ASSERT_NE(NULL, strstr(info, want)) TH_LOG("%s", info);
		snprintf(want, sizeof(want), "\nNtmemAccess:\t%#x\n",
			 (unsigned int)ALL_ACCESS);
		ASSERT_NE(NULL, strstr(info, want)) TH_LOG("%s", info);
	}
	ASSERT_EQ(0, ntmem_version(pfd, &v));
	ASSERT_EQ(NTMEM_API_MAJOR, v.major);
	ASSERT_NE(0, v.features & NTMEM_FEATURE_PROCESSES);

	/* RESERVE: exactly one new VMA, in the child, at the base */
	maps0 = maps_count_pid(pid);
	self_maps0 = maps_count();
	ASSERT_LT(0, maps0);
	base = reserve_in(pfd, len, 0, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, base % GRAN);
	ASSERT_EQ(maps0 + 1, maps_count_pid(pid));
	ASSERT_EQ(self_maps0, maps_count());
	ASSERT_TRUE(maps_find(pid, (void *)(uintptr_t)base, &e));
	ASSERT_EQ(base, e.start);
	ASSERT_EQ(base + len, e.end);
	ASSERT_NE(NULL, strstr(e.name, NTMEM_MAPS_NAME)) TH_LOG("%s", e.name);
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)(base + 5), &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(base, q.alloc_base);
	ASSERT_EQ(len, q.alloc_size);
	/* not the caller's: its own device knows nothing there */
	ASSERT_EQ(0, ntmem_query(self->fd, (void *)(uintptr_t)base, &q));
	ASSERT_NE(NTMEM_STATE_RESERVE, q.state);

	/* COMMIT, then WRITE_MEMORY and READ_MEMORY */
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_COMMIT, base, clen,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)(base + PAGE_SZ), &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(NTMEM_TYPE_PRIVATE, q.type);
	ASSERT_EQ(base, q.alloc_base);
	ASSERT_EQ(base + PAGE_SZ, q.base);
	ASSERT_EQ(clen - PAGE_SZ, q.region_size);
	ASSERT_EQ(0, pagemap_count_bits_pid(pid, (void *)(uintptr_t)base,
					    clen, PM_PRESENT));
	fill_pattern_for(buf, clen, base, 0x51);
	ASSERT_EQ(0, write_mem(pfd, base, buf, clen, &done));
	ASSERT_EQ(clen, done);
	ASSERT_EQ(0, read_mem(pfd, base, back, clen, &done));
	ASSERT_EQ(clen, done);
	ASSERT_EQ(0, memcmp(buf, back, clen));
	/* the child's pages, not the caller's */
	ASSERT_EQ((long)(clen / PAGE_SZ),
		  pagemap_count_bits_pid(pid, (void *)(uintptr_t)base, clen,
					 PM_PRESENT));
	ASSERT_LE((long)(clen / KiB),
		  smaps_field_kb_pid(pid, (void *)(uintptr_t)base, "Rss"));
	ASSERT_EQ(maps0 + 1, maps_count_pid(pid));

	/* the child reads them itself, and faults past the commit */
	ASSERT_EQ(-1, target_check(&self->t, base, clen, 0x51));
	ASSERT_EQ(0, target_call(&self->t, T_READ, base + clen, 0, 0, &r));
	ASSERT_EQ(base + clen, r.fault);
	ASSERT_EQ(SIGSEGV, r.signo);

	/* PROTECT: the child's write to a read-only page faults, exactly */
	ASSERT_EQ(0, ntmem_protect(pfd, (void *)(uintptr_t)base, 4 * PAGE_SZ,
				   NTMEM_PAGE_READONLY, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_EQ(maps0 + 1, maps_count_pid(pid));
	ASSERT_EQ(0, target_call(&self->t, T_WRITE, base + PAGE_SZ + 123, 0,
				 0x77, &r));
	ASSERT_EQ(base + PAGE_SZ + 123, r.fault);
	ASSERT_EQ(SIGSEGV, r.signo);
	ASSERT_EQ(0, target_call(&self->t, T_WRITE, base + 5 * PAGE_SZ, 0,
				 0x77, &r));
	ASSERT_EQ(0, r.fault);
	ASSERT_EQ(0, read_mem(pfd, base + 5 * PAGE_SZ, back, 8, &done));
	ASSERT_EQ(0x77, (unsigned char)back[0]);
	/* WRITE_MEMORY writes as a debugger does: read-only pages too */
	memset(back, 0x5a, 8);
	ASSERT_EQ(0, write_mem(pfd, base + PAGE_SZ, back, 8, &done));
	ASSERT_EQ(0, target_call(&self->t, T_READ, base + PAGE_SZ, 0, 0, &r));
	ASSERT_EQ(0, r.fault);
	ASSERT_EQ(0x5a5a5a5a5a5a5a5aLL, r.val);
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(4 * PAGE_SZ, q.region_size);

	/*
	 * DECOMMIT (the mem file was closed long ago: the descriptor is
	 * enough): the child's pages go, and it faults there
	 */
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_DECOMMIT, base, clen, 0,
				       0));
	ASSERT_EQ(0, pagemap_count_bits_pid(pid, (void *)(uintptr_t)base,
					    clen, PM_PRESENT));
	ASSERT_EQ(0, smaps_field_kb_pid(pid, (void *)(uintptr_t)base, "Rss"));
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(0, target_call(&self->t, T_READ, base + 7, 0, 0, &r));
	ASSERT_EQ(base + 7, r.fault);

	/* RELEASE: the VMA count is back where it was */
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0, 0));
	ASSERT_EQ(maps0, maps_count_pid(pid));
	ASSERT_FALSE(maps_find(pid, (void *)(uintptr_t)base, &e));
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(-ENXIO, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0,
					    0));
	ASSERT_EQ(0, close(pfd));
}

/* RESET, RESET_UNDO and MAP_VIEW go through too. */
TEST_F(process, reset_and_views_in_the_child)
{
	const uint64_t len = 64 * KiB;
	static char buf[64 * KiB];
	struct ntmem_view v = { .size = sizeof(v) };
	struct ntmem_query q;
	int pfd, s, err, maps0;
	uint64_t base, done;
	char *mine;

	START_TARGET(&self->t, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	base = reserve_in(pfd, len, NTMEM_RESERVE_COMMIT, NTMEM_PAGE_READWRITE,
			  &err);
	ASSERT_EQ(0, err);
	memset(buf, 3, len);
	ASSERT_EQ(0, write_mem(pfd, base, buf, len, &done));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RESET, base, len, 0, 0));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RESET_UNDO, base, len, 0,
				       0));
	ASSERT_EQ(0, read_mem(pfd, base, buf, len, &done));
	ASSERT_EQ(-1, check_bytes(buf, len, 3));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0, 0));

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	/* a view of the caller's section in the child: the same pages */
	s = ntmem_section_create(self->fd, len, 0, NTMEM_PAGE_READWRITE, NULL,
				 NULL);
	ASSERT_LE(0, s);
	mine = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, mine);
	memset(mine, 'm', len);
	maps0 = maps_count_pid(self->t.pid);
	v.section = s;
	v.access = NTMEM_FILE_MAP_WRITE;
	ASSERT_EQ(0, ntmem_ioctl(pfd, NTMEM_IOC_MAP_VIEW, &v));
	ASSERT_EQ(maps0 + 1, maps_count_pid(self->t.pid));
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)v.addr, &q));
	ASSERT_EQ(NTMEM_TYPE_MAPPED, q.type);
	ASSERT_EQ(-1, check_bytes(mine, len, 'm'));
	ASSERT_EQ(0, target_call(&self->t, T_WRITE, v.addr + 100, 0, 'c',
				 &(struct treply){ 0 }));
	ASSERT_EQ('c', mine[100]);
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_UNMAP_VIEW, v.addr, 0, 0,
				       0));
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, mine));
	close(s);
	close(pfd);
}

/* --- 2. refusals ---------------------------------------------------------- */

static bool denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

TEST_F(process, unprivileged_user_cannot_open_others)
{
	int ready[2], status;
	pid_t other, nobody;
	char c;

	if (getuid() != 0)
		SKIP(return, "needs root to become uids 65533 and 65534");
	ASSERT_EQ(0, pipe(ready));
	/* another user's process, asleep */
	other = fork();
	ASSERT_LE(0, other);
	if (!other) {
		/* dumpable: its mem file is its own user's, not root's */
		if (setgroups(0, NULL) || setresgid(65533, 65533, 65533) ||
		    setresuid(65533, 65533, 65533) ||
		    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	self->t2.pid = other;	/* the teardown kills it */
	self->t2.cmd_w = open("/dev/null", O_RDONLY);
	self->t2.reply_r = open("/dev/null", O_RDONLY);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	nobody = fork();
	ASSERT_LE(0, nobody);
	if (!nobody) {
		pid_t parent = getppid(), own;
		int mem, dev, fd, err, gmem, gfd;
		void *addr = NULL;
		size_t len = GRAN;
		struct ntmem_query q;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) ||
		    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			_exit(10);
		/* Linux says no to the mem files of others */
		if (!denied(open_mem(1, O_RDONLY)))
			_exit(11);
		if (!denied(open_mem(parent, O_RDONLY)))
			_exit(12);
		if (!denied(open_mem(other, O_RDONLY)))
			_exit(13);
		/* its own mem file names its own address space only */
		mem = open_mem(getpid(), O_RDWR);
		dev = ntmem_open();
		if (mem < 0 || dev < 0)
			_exit(14);
		if (open_process(dev, parent, mem, NTMEM_PROCESS_VM_READ) !=
		    -ESRCH)
			_exit(15);
		if (open_process(dev, 1, mem, NTMEM_PROCESS_VM_READ) != -ESRCH)
			_exit(16);
		if (open_process(dev, other, mem, ALL_ACCESS) != -ESRCH)
			_exit(17);
		/* and works for itself: the same address space as @dev's */
		fd = open_process(dev, getpid(), mem, ALL_ACCESS);
		if (fd < 0)
			_exit(18);
		err = ntmem_reserve(fd, &addr, &len, 0, 0);
		if (err || ntmem_query(dev, addr, &q) ||
		    q.state != NTMEM_STATE_RESERVE)
			_exit(19);
		if (ntmem_release(dev, addr, 0))
			_exit(20);
		/* and for a process of its own user (its child) */
		own = fork();
		if (own < 0)
			_exit(21);
		if (!own) {
			pause();
			_exit(0);
		}
		gmem = open_mem(own, O_RDWR);
		gfd = gmem < 0 ? gmem : open_process(dev, own, gmem,
						     ALL_ACCESS);
		addr = NULL;
		err = gfd < 0 ? gfd : ntmem_reserve(gfd, &addr, &len, 0, 0);
		kill(own, SIGKILL);
		waitpid(own, NULL, 0);
		if (gmem < 0)
			_exit(22);
		if (gfd < 0)
			_exit(23);
		if (err)
			_exit(24);
		_exit(0);
	}
	ASSERT_EQ(nobody, waitpid(nobody, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(process, access_bits_are_enforced)
{
	const uint64_t len = 64 * KiB;
	static char buf[4096], back[4096];
	int all, ro, rw, fd, err, maps0;
	struct ntmem_query q;
	struct ntmem_reserve rv = { .size = sizeof(rv), .length = len };
	struct ntmem_protect pr = { .size = sizeof(pr), .length = PAGE_SZ,
				    .protect = NTMEM_PAGE_READONLY };
	uint64_t base, done;
	pid_t pid;

	START_TARGET(&self->t, SETUP_NONE, 0);
	pid = self->t.pid;
	all = open_target(self->fd, pid, ALL_ACCESS);
	ASSERT_LE(0, all);
	base = reserve_in(all, len, NTMEM_RESERVE_COMMIT, NTMEM_PAGE_READWRITE,
			  &err);
	ASSERT_EQ(0, err);
	memset(buf, 0x11, sizeof(buf));
	ASSERT_EQ(0, write_mem(all, base, buf, sizeof(buf), &done));

	/* a read-only mem file gives no right to change memory */
	ro = open_mem(pid, O_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(-EACCES, open_process(self->fd, pid, ro,
					NTMEM_PROCESS_VM_OPERATION));
	ASSERT_EQ(-EACCES, open_process(self->fd, pid, ro,
					NTMEM_PROCESS_VM_WRITE));
	ASSERT_EQ(-EACCES, open_process(self->fd, pid, ro,
					NTMEM_PROCESS_VM_READ |
					NTMEM_PROCESS_VM_OPERATION));
	fd = open_process(self->fd, pid, ro, NTMEM_PROCESS_VM_READ |
			  NTMEM_PROCESS_QUERY_LIMITED_INFORMATION);
	ASSERT_LE(0, fd);
	close(ro);

	/* VM_READ and limited query: reads and queries, changes nothing */
	maps0 = maps_count_pid(pid);
	ASSERT_EQ(-EACCES, ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &rv));
	ASSERT_EQ(maps0, maps_count_pid(pid));
	ASSERT_EQ(-EACCES, ntmem_range_ioctl(fd, NTMEM_IOC_COMMIT, base + len -
					     PAGE_SZ, PAGE_SZ,
					     NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-EACCES, ntmem_range_ioctl(fd, NTMEM_IOC_DECOMMIT, base,
					     PAGE_SZ, 0, 0));
	ASSERT_EQ(-EACCES, ntmem_range_ioctl(fd, NTMEM_IOC_RESET, base,
					     PAGE_SZ, 0, 0));
	ASSERT_EQ(-EACCES, ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE, base, 0, 0,
					     0));
	pr.addr = base;
	ASSERT_EQ(-EACCES, ntmem_ioctl(fd, NTMEM_IOC_PROTECT, &pr));
	memset(back, 0x22, sizeof(back));
	ASSERT_EQ(-EACCES, write_mem(fd, base, back, sizeof(back), &done));
	ASSERT_EQ(0, ntmem_query(fd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(len, q.region_size);
	ASSERT_EQ(0, read_mem(fd, base, back, sizeof(back), &done));
	ASSERT_EQ(-1, check_bytes(back, sizeof(back), 0x11));
	ASSERT_EQ(maps0, maps_count_pid(pid));
	ASSERT_EQ(0, close(fd));

	/* a read-write mem file, VM_READ asked: still no changes */
	rw = open_mem(pid, O_RDWR);
	ASSERT_LE(0, rw);
	fd = open_process(self->fd, pid, rw, NTMEM_PROCESS_VM_READ);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EACCES, ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &rv));
	ASSERT_EQ(maps0, maps_count_pid(pid));
	ASSERT_EQ(-EACCES, ntmem_query(fd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(-EACCES, write_mem(fd, base, back, 8, &done));
	ASSERT_EQ(0, read_mem(fd, base, back, 8, &done));
	close(fd);

	/* WRITE_MEMORY needs VM_WRITE and VM_OPERATION */
	fd = open_process(self->fd, pid, rw, NTMEM_PROCESS_VM_WRITE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EACCES, write_mem(fd, base, back, 8, &done));
	ASSERT_EQ(-EACCES, read_mem(fd, base, back, 8, &done));
	ASSERT_EQ(-EACCES, ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &rv));
	close(fd);
	fd = open_process(self->fd, pid, rw, NTMEM_PROCESS_VM_OPERATION);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EACCES, write_mem(fd, base, back, 8, &done));
	ASSERT_EQ(-EACCES, ntmem_query(fd, (void *)(uintptr_t)base, &q));
	/* ... which alone makes and changes memory */
	pr.addr = base + PAGE_SZ;
	ASSERT_EQ(0, ntmem_ioctl(fd, NTMEM_IOC_PROTECT, &pr));
	ASSERT_EQ(0, ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &rv));
	ASSERT_EQ(maps0 + 1, maps_count_pid(pid));
	ASSERT_EQ(0, ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE, rv.addr, 0, 0,
				       0));
	ASSERT_EQ(maps0, maps_count_pid(pid));
	close(fd);
	fd = open_process(self->fd, pid, rw, NTMEM_PROCESS_VM_WRITE |
			  NTMEM_PROCESS_VM_OPERATION);
	ASSERT_LE(0, fd);
	memset(back, 0x33, 8);
	ASSERT_EQ(0, write_mem(fd, base + 8, back, 8, &done));
	ASSERT_EQ(0, read_mem(all, base, back, 16, &done));
	ASSERT_EQ(0x11, back[7]);
	ASSERT_EQ(0x33, back[8]);
	close(fd);
	fd = open_process(self->fd, pid, rw, NTMEM_PROCESS_QUERY_INFORMATION);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ntmem_query(fd, (void *)(uintptr_t)(base + PAGE_SZ), &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(-EACCES, read_mem(fd, base, back, 8, &done));
	close(fd);
	close(rw);
	close(all);
}

TEST_F(process, calls_without_a_remote_form_are_enotty)
{
	static const unsigned long cmds[] = {
		NTMEM_IOC_GET_WRITE_WATCH, NTMEM_IOC_RESET_WRITE_WATCH,
		NTMEM_IOC_GUARD_HIT, NTMEM_IOC_LOCK, NTMEM_IOC_UNLOCK,
		NTMEM_IOC_SECTION_CREATE, NTMEM_IOC_SECTION_OPEN,
		NTMEM_IOC_OPEN_PROCESS,
		_IOWR(NTMEM_IOC_MAGIC, 0x7f, struct ntmem_range),
	};
	char arg[256];
	int pfd;

	START_TARGET(&self->t, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(arg, 0, sizeof(arg));
		*(uint32_t *)arg = _IOC_SIZE(cmds[i]);
		EXPECT_EQ(-ENOTTY, ntmem_ioctl(pfd, cmds[i], arg))
			TH_LOG("ioctl %#lx", cmds[i]);
	}
	close(pfd);
}

TEST_F(process, open_process_argument_errors)
{
	struct ntmem_process p;
	int mem, fd, other, own, status;
	struct {
		struct ntmem_process p;
		uint64_t tail;
	} big;
	char path[64];
	pid_t pid, gone_pid;

	START_TARGET(&self->t, SETUP_NONE, 0);
	START_TARGET(&self->t2, SETUP_NONE, 0);
	pid = self->t.pid;
	mem = open_mem(pid, O_RDWR);
	ASSERT_LE(0, mem);

#define P_INIT() (p = (struct ntmem_process){ .size = sizeof(p), .pid = pid, \
		  .mem_fd = mem, .access = NTMEM_PROCESS_VM_READ })
	P_INIT();
	p.flags = 1;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_OPEN_PROCESS, &p));
	for (int i = 0; i < 4; i++) {
		P_INIT();
		p.reserved[i] = 1;
		ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_OPEN_PROCESS,
					       &p));
	}
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, mem, 0));
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, mem, 0x0001));
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, mem,
					NTMEM_PROCESS_VM_READ | 0x80000000));
	memset(&big, 0, sizeof(big));
	big.p.size = sizeof(big);
	big.p.pid = pid;
	big.p.mem_fd = mem;
	big.p.access = NTMEM_PROCESS_VM_READ;
	big.tail = 1;
	ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, NTMEM_IOC_OPEN_PROCESS, &big));
	big.tail = 0;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_OPEN_PROCESS, &big));
	ASSERT_LE(0, big.p.fd);
	close(big.p.fd);

	/* not a mem file of procfs */
	fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, fd,
					NTMEM_PROCESS_VM_READ));
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, fd,
					NTMEM_PROCESS_VM_READ));
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, fd,
					NTMEM_PROCESS_VM_READ));
	close(fd);
	fd = memfd_create("not-mem", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, fd,
					NTMEM_PROCESS_VM_READ));
	close(fd);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, self->fd,
					NTMEM_PROCESS_VM_READ));
	/* a process descriptor is no mem file either */
	other = open_process(self->fd, pid, mem, NTMEM_PROCESS_VM_READ);
	ASSERT_LE(0, other);
	ASSERT_EQ(-EINVAL, open_process(self->fd, pid, other,
					NTMEM_PROCESS_VM_READ));
	close(other);

	/* not open */
	fd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-EBADF, open_process(self->fd, pid, fd,
				       NTMEM_PROCESS_VM_READ));
	ASSERT_EQ(-EBADF, open_process(self->fd, pid, -1,
				       NTMEM_PROCESS_VM_READ));

	/* no such process, or not the mem file's */
	gone_pid = fork();
	ASSERT_LE(0, gone_pid);
	if (!gone_pid)
		_exit(0);
	ASSERT_EQ(gone_pid, waitpid(gone_pid, &status, 0));
	ASSERT_EQ(-ESRCH, open_process(self->fd, gone_pid, mem,
				       NTMEM_PROCESS_VM_READ));
	ASSERT_EQ(-ESRCH, open_process(self->fd, 0x3ffffff0, mem,
				       NTMEM_PROCESS_VM_READ));
	/* not a pid at all: malformed */
	ASSERT_EQ(-EINVAL, open_process(self->fd, 0, mem,
					NTMEM_PROCESS_VM_READ));
	ASSERT_EQ(-EINVAL, open_process(self->fd, -1, mem,
					NTMEM_PROCESS_VM_READ));
	ASSERT_EQ(-ESRCH, open_process(self->fd, self->t2.pid, mem,
				       NTMEM_PROCESS_VM_READ));
	ASSERT_EQ(-ESRCH, open_process(self->fd, getpid(), mem,
				       NTMEM_PROCESS_VM_READ));
	own = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, own);
	ASSERT_EQ(-ESRCH, open_process(self->fd, pid, own,
				       NTMEM_PROCESS_VM_READ));
	close(own);

	/* a thread's mem file is the process's too */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/mem", pid, pid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	other = open_process(self->fd, pid, fd, NTMEM_PROCESS_VM_READ |
			     NTMEM_PROCESS_QUERY_INFORMATION);
	ASSERT_LE(0, other);
	close(other);
	close(fd);
	close(mem);
#undef P_INIT
}

/* --- 3. one address space per /dev/ntmem descriptor; process fds travel --- */

TEST_F(process, device_fd_stays_home_process_fd_travels)
{
	const uint64_t len = 64 * KiB;
	static char buf[64 * KiB];
	int sv[2], pfd, status, maps0;
	uint64_t base = 0;
	struct maps_entry e;
	pid_t helper;

	START_TARGET(&self->t, SETUP_NONE, 0);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* the helper exists before the process descriptor does */
	helper = fork();
	ASSERT_LE(0, helper);
	if (!helper) {
		struct ntmem_query q;
		void *addr = NULL;
		size_t l = GRAN;
		uint64_t done;
		int fd, mem, err;

		close(sv[0]);
		/* the inherited /dev/ntmem descriptor: EBADFD, every call */
		if (ntmem_query(self->fd, &q, &q) != -EBADFD)
			_exit(10);
		if (ntmem_reserve(self->fd, &addr, &l, 0, 0) != -EBADFD)
			_exit(11);
		if (read_mem(self->fd, (uintptr_t)buf, buf + 8, 8, &done) !=
		    -EBADFD)
			_exit(12);
		if (write_mem(self->fd, (uintptr_t)buf, buf + 8, 8, &done) !=
		    -EBADFD)
			_exit(13);
		mem = open_mem(getpid(), O_RDWR);
		if (mem < 0 || open_process(self->fd, getpid(), mem,
					    NTMEM_PROCESS_VM_READ) != -EBADFD)
			_exit(14);
		/* the passed process descriptor: works on its target */
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(15);
		base = reserve_in(fd, len, NTMEM_RESERVE_COMMIT,
				  NTMEM_PAGE_READWRITE, &err);
		if (err)
			_exit(16);
		fill_pattern_for(buf, len, base, 0x33);
		if (write_mem(fd, base, buf, len, &done) || done != len)
			_exit(17);
		if (write(sv[1], &base, sizeof(base)) != sizeof(base))
			_exit(18);
		_exit(0);
	}
	close(sv[1]);
	maps0 = maps_count_pid(self->t.pid);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, send_fd(sv[0], pfd));
	ASSERT_EQ(sizeof(base), read(sv[0], &base, sizeof(base)));
	ASSERT_EQ(helper, waitpid(helper, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);

	/* what the helper made is the target's */
	ASSERT_EQ(maps0 + 1, maps_count_pid(self->t.pid));
	ASSERT_TRUE(maps_find(self->t.pid, (void *)(uintptr_t)base, &e));
	ASSERT_EQ(base, e.start);
	ASSERT_EQ(-1, target_check(&self->t, base, len, 0x33));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0, 0));
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	close(pfd);
}

/* --- 4. the target's limits ----------------------------------------------- */

TEST_F(process, target_rlimit_as_bounds_remote_reserve)
{
	int pfd, maps0, err;
	uint64_t base;

	START_TARGET(&self->t, SETUP_RLIMIT_AS, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	maps0 = maps_count_pid(self->t.pid);
	ASSERT_EQ(0, reserve_in(pfd, 64 * MiB, 0, 0, &err));
	ASSERT_EQ(-ENOMEM, err);
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	ASSERT_EQ(0, reserve_in(pfd, 64 * MiB, NTMEM_RESERVE_COMMIT,
				NTMEM_PAGE_READWRITE, &err));
	ASSERT_EQ(-ENOMEM, err);
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	/* the caller has no such limit */
	base = reserve_in(self->fd, 64 * MiB, 0, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_RELEASE, base, 0, 0,
				       0));
	/* and the target can still have what fits */
	base = reserve_in(pfd, 256 * KiB, 0, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(maps0 + 1, maps_count_pid(self->t.pid));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0, 0));
	close(pfd);

	/*
	 * The module's kept worker threads carry no limit from one target
	 * to the next: a target without the limit gets its 64 MiB, and the
	 * limited one is refused again after it.
	 */
	START_TARGET(&self->t2, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t2.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	for (int i = 0; i < 8; i++) {
		base = reserve_in(pfd, 64 * MiB, 0, 0, &err);
		ASSERT_EQ(0, err);
		ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0,
					       0, 0));
	}
	close(pfd);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, reserve_in(pfd, 64 * MiB, 0, 0, &err));
	ASSERT_EQ(-ENOMEM, err);
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	close(pfd);
}

TEST_F(process, target_mdwe_bounds_remote_exec)
{
	int pfd, maps0, err, st;
	uint64_t base;

	st = target_start(&self->t, SETUP_MDWE, 0);
	if (st == -EINVAL)
		SKIP(return, "no MDWE in this kernel (PR_SET_MDWE is 6.3+)");
	ASSERT_EQ(0, st);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	maps0 = maps_count_pid(self->t.pid);
	ASSERT_EQ(0, reserve_in(pfd, 64 * KiB, NTMEM_RESERVE_COMMIT,
				NTMEM_PAGE_EXECUTE_READWRITE, &err));
	ASSERT_EQ(-EPERM, err);
	ASSERT_EQ(maps0, maps_count_pid(self->t.pid));
	/* the caller, without MDWE, may */
	base = reserve_in(self->fd, 64 * KiB, NTMEM_RESERVE_COMMIT,
			  NTMEM_PAGE_EXECUTE_READWRITE, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_RELEASE, base, 0, 0,
				       0));
	/* what MDWE allows the target goes through */
	base = reserve_in(pfd, 64 * KiB, NTMEM_RESERVE_COMMIT,
			  NTMEM_PAGE_EXECUTE_READ, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(maps0 + 1, maps_count_pid(self->t.pid));
	ASSERT_EQ(-EPERM, ntmem_protect(pfd, (void *)(uintptr_t)base, PAGE_SZ,
					NTMEM_PAGE_EXECUTE_READWRITE, NULL));
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0, 0, 0));
	close(pfd);
}

/* --- 5. a gone address space ---------------------------------------------- */

TEST_F(process, gone_target_gives_esrch)
{
	struct ntmem_reserve rv = { .size = sizeof(rv), .length = GRAN };
	static char buf[PAGE_SZ];
	struct ntmem_query q;
	int pfd, status, err;
	uint64_t base, done;
	struct tcmd c = { .op = T_EXIT, .seed = 7 };

	START_TARGET(&self->t, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	base = reserve_in(pfd, GRAN, NTMEM_RESERVE_COMMIT,
			  NTMEM_PAGE_READWRITE, &err);
	ASSERT_EQ(0, err);
	/* it exits by itself, and is reaped */
	ASSERT_EQ(sizeof(c), write(self->t.cmd_w, &c, sizeof(c)));
	ASSERT_EQ(0, kill(self->t.pid, SIGCONT));
	ASSERT_EQ(self->t.pid, waitpid(self->t.pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(7, WEXITSTATUS(status));
	close(self->t.cmd_w);
	close(self->t.reply_r);
	self->t.pid = 0;

	ASSERT_EQ(-ESRCH, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	ASSERT_EQ(-ESRCH, ntmem_ioctl(pfd, NTMEM_IOC_RESERVE, &rv));
	ASSERT_EQ(-ESRCH, ntmem_range_ioctl(pfd, NTMEM_IOC_COMMIT, base,
					    PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-ESRCH, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0,
					    0, 0));
	ASSERT_EQ(-ESRCH, read_mem(pfd, base, buf, 8, &done));
	ASSERT_EQ(-ESRCH, write_mem(pfd, base, buf, 8, &done));
	ASSERT_EQ(0, close(pfd));
}

TEST_F(process, exec_ends_the_address_space)
{
	struct tcmd c = { .op = T_EXEC };
	struct ntmem_query q;
	int pfd, err, old_mem;
	uint64_t base;
	char x;

	if (access(BUSYBOX, X_OK))
		SKIP(return, "no " BUSYBOX " to exec");
	START_TARGET(&self->t, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	old_mem = open_mem(self->t.pid, O_RDONLY);
	ASSERT_LE(0, old_mem);
	base = reserve_in(pfd, GRAN, 0, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(sizeof(c), write(self->t.cmd_w, &c, sizeof(c)));
	ASSERT_EQ(0, kill(self->t.pid, SIGCONT));
	/* EOF: the reply pipe was closed on exec */
	ASSERT_EQ(0, read(self->t.reply_r, &x, 1));
	ASSERT_EQ(-ESRCH, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	close(pfd);
	/* a mem file opened before the exec names the old address space */
	ASSERT_EQ(-ESRCH, open_process(self->fd, self->t.pid, old_mem,
				       NTMEM_PROCESS_VM_READ));
	close(old_mem);
	/* the same pid, its new address space: nothing of ntmem's there */
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
	ASSERT_NE(NTMEM_STATE_RESERVE, q.state);
	close(pfd);
}

/* --- 6. memory made remotely is the target's ------------------------------ */

TEST_F_TIMEOUT(process, remote_memory_is_the_targets, 120)
{
	const uint64_t len = 16 * MiB, chunk = 64 * KiB;
	static char buf[64 * KiB];
	long rss0, rss1, rss_child, cg0 = -1, cg1 = -1;
	bool memcg = !memcg_unavailable() && getuid() == 0;
	uint64_t base, done;
	int pfd, err;

	if (memcg)
		ASSERT_EQ(0, memcg_create(TARGET_CG, 1L << 30));
	START_TARGET(&self->t, memcg ? SETUP_MEMCG : SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	base = reserve_in(pfd, len, NTMEM_RESERVE_COMMIT,
			  NTMEM_PAGE_READWRITE, &err);
	ASSERT_EQ(0, err);
	memset(buf, 1, sizeof(buf));
	if (memcg)
		cg0 = memcg_read(TARGET_CG, "memory.current");
	rss0 = rss_kb();
	for (uint64_t off = 0; off < len; off += chunk) {
		fill_pattern_for(buf, chunk, base + off, 0x66);
		ASSERT_EQ(0, write_mem(pfd, base + off, buf, chunk, &done));
		ASSERT_EQ(chunk, done);
	}
	rss1 = rss_kb();
	rss_child = smaps_field_kb_pid(self->t.pid, (void *)(uintptr_t)base,
				       "Rss");
	if (memcg)
		cg1 = memcg_read(TARGET_CG, "memory.current");
	ASSERT_GT(1024, rss1 - rss0) TH_LOG("caller's VmRSS grew %ld kB",
					    rss1 - rss0);
	ASSERT_LE((long)(len / KiB), rss_child);
	ASSERT_EQ((long)(len / PAGE_SZ),
		  pagemap_count_bits_pid(self->t.pid, (void *)(uintptr_t)base,
					 len, PM_PRESENT));
	if (memcg)
		ASSERT_LE((long)(len * 3 / 4), cg1 - cg0)
			TH_LOG("target's group grew %ld bytes", cg1 - cg0);
	ASSERT_EQ(-1, target_check(&self->t, base, len, 0x66));
	close(pfd);
	target_kill(&self->t);
	if (memcg)
		ASSERT_EQ(0, memcg_remove(TARGET_CG));
}

/*
 * The commit charge is the target's user's: with a 256 MiB limit and a
 * 60% share per user, 128 MiB committed by root in a process of uid 1000
 * leaves uid 1000 no room for 32 MiB more, while root still commits
 * 96 MiB of its own (which it could not if the 128 MiB were root's).
 */
TEST_F(process, commit_is_charged_to_the_targets_user)
{
	long used, saved_mb, saved_share;
	char text[32];
	uint64_t base, mine;
	int pfd, err;

	if (getuid() != 0)
		SKIP(return, "needs root for the commit limit and uid 1000");
	saved_mb = read_long_file(LIMIT_PARAM);
	saved_share = read_long_file(SHARE_PARAM);
	if (saved_mb < 0 || saved_share < 1)
		SKIP(return, "no %s or %s", LIMIT_PARAM, SHARE_PARAM);
	START_TARGET(&self->t, SETUP_UID, 1000);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	used = ntmem_counter("committed_pages");
	snprintf(text, sizeof(text), "%ld", 256 + used / 256);
	ASSERT_EQ(0, write_text_file(LIMIT_PARAM, text));
	ASSERT_EQ(0, write_text_file(SHARE_PARAM, "60"));

	base = reserve_in(pfd, 128 * MiB, NTMEM_RESERVE_COMMIT,
			  NTMEM_PAGE_READWRITE, &err);
	EXPECT_EQ(0, err);
	if (!err) {
		struct ntmem_query q;

		EXPECT_EQ(0, ntmem_query(pfd, (void *)(uintptr_t)base, &q));
		EXPECT_EQ(NTMEM_STATE_COMMIT, q.state);
		EXPECT_EQ(-28, ntmem_commit_as(1000, 32 * MiB, -1));
		EXPECT_EQ(0, ntmem_commit_as(1001, 16 * MiB, -1));
		mine = reserve_in(self->fd, 96 * MiB, NTMEM_RESERVE_COMMIT,
				  NTMEM_PAGE_READWRITE, &err);
		EXPECT_EQ(0, err);
		if (!err)
			ntmem_range_ioctl(self->fd, NTMEM_IOC_RELEASE, mine, 0,
					  0, 0);
	}
	snprintf(text, sizeof(text), "%ld", saved_mb);
	write_text_file(LIMIT_PARAM, text);
	snprintf(text, sizeof(text), "%ld", saved_share);
	write_text_file(SHARE_PARAM, text);
	close(pfd);
	/* the target's death gives its charge back */
	target_kill(&self->t);
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
}

/* --- 7. partial copies and bad buffers ------------------------------------ */

TEST_F(process, partial_copy_and_bad_buffer)
{
	static char buf[4 * PAGE_SZ], back[4 * PAGE_SZ];
	struct ntmem_memory_copy c;
	uint64_t base, done;
	int pfd, err;
	char *bad;

	START_TARGET(&self->t, SETUP_NONE, 0);
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	base = reserve_in(pfd, GRAN, 0, 0, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_COMMIT, base,
				       2 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	fill_pattern_for(buf, 2 * PAGE_SZ, base, 0x70);
	ASSERT_EQ(0, write_mem(pfd, base, buf, 2 * PAGE_SZ, &done));

	/* committed, then reserved: EIO where the commit ends */
	memset(back, 0, sizeof(back));
	ASSERT_EQ(-EIO, read_mem(pfd, base, back, 3 * PAGE_SZ, &done));
	ASSERT_EQ(2 * PAGE_SZ, done);
	ASSERT_EQ(0, memcmp(buf, back, 2 * PAGE_SZ));
	ASSERT_EQ(-EIO, read_mem(pfd, base + PAGE_SZ + 100, back, 2 * PAGE_SZ,
				 &done));
	ASSERT_EQ(PAGE_SZ - 100, done);
	ASSERT_EQ(-EIO, read_mem(pfd, base + 2 * PAGE_SZ, back, 8, &done));
	ASSERT_EQ(0, done);
	fill_pattern_for(buf, 3 * PAGE_SZ, base, 0x71);
	ASSERT_EQ(-EIO, write_mem(pfd, base, buf, 3 * PAGE_SZ, &done));
	ASSERT_EQ(2 * PAGE_SZ, done);
	ASSERT_EQ(-1, target_check(&self->t, base, 2 * PAGE_SZ, 0x71));
	/* a NOACCESS page stops a copy too */
	ASSERT_EQ(0, ntmem_protect(pfd, (void *)(uintptr_t)(base + PAGE_SZ),
				   PAGE_SZ, NTMEM_PAGE_NOACCESS, NULL));
	ASSERT_EQ(-EIO, read_mem(pfd, base, back, 2 * PAGE_SZ, &done));
	ASSERT_EQ(PAGE_SZ, done);
	ASSERT_EQ(0, ntmem_protect(pfd, (void *)(uintptr_t)(base + PAGE_SZ),
				   PAGE_SZ, NTMEM_PAGE_READWRITE, NULL));

	/* the caller's buffer: EFAULT, the target unchanged */
	bad = mmap(NULL, 2 * PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-EFAULT, read_mem(pfd, base, bad, PAGE_SZ, &done));
	ASSERT_EQ(-EFAULT, write_mem(pfd, base, bad, PAGE_SZ, &done));
	ASSERT_EQ(-EFAULT, read_mem(pfd, base, (void *)8, 8, &done));
	ASSERT_EQ(-1, target_check(&self->t, base, 2 * PAGE_SZ, 0x71));
	/* the struct itself */
	ASSERT_EQ(-EFAULT, ntmem_ioctl(pfd, NTMEM_IOC_READ_MEMORY, bad));
	munmap(bad, 2 * PAGE_SZ);

	/* malformed */
	c = (struct ntmem_memory_copy){ .size = sizeof(c), .flags = 1,
		.addr = base, .buf = (uintptr_t)back, .length = 8 };
	ASSERT_EQ(-EINVAL, ntmem_ioctl(pfd, NTMEM_IOC_READ_MEMORY, &c));
	c.flags = 0;
	c.reserved[1] = 1;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(pfd, NTMEM_IOC_WRITE_MEMORY, &c));
	close(pfd);
}

/* READ_MEMORY and WRITE_MEMORY on /dev/ntmem: the caller's own memory. */
TEST_F(process, copy_in_own_memory)
{
	static char buf[4 * PAGE_SZ], back[4 * PAGE_SZ];
	uint64_t done;
	char *p, *bad;

	p = ntmem_reserve_any(self->fd, GRAN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(buf, 3 * PAGE_SZ, 0x12);
	ASSERT_EQ(-EIO, write_mem(self->fd, (uintptr_t)p, buf, 3 * PAGE_SZ,
				  &done));
	ASSERT_EQ(2 * PAGE_SZ, done);
	ASSERT_EQ(0, memcmp(p, buf, 2 * PAGE_SZ));
	ASSERT_EQ(-EIO, read_mem(self->fd, (uintptr_t)p + 8, back, 2 * PAGE_SZ,
				 &done));
	ASSERT_EQ(2 * PAGE_SZ - 8, done);
	ASSERT_EQ(0, memcmp(back, buf + 8, 2 * PAGE_SZ - 8));
	/* read-only to the program, writable to the copy */
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READONLY,
				   NULL));
	memset(back, 0x44, 16);
	ASSERT_EQ(0, write_mem(self->fd, (uintptr_t)p, back, 16, &done));
	ASSERT_EQ(16, done);
	ASSERT_EQ(-1, check_bytes(p, 16, 0x44));
	ASSERT_SEGV_AT(p + 3, try_write(p + 3, 1));
	bad = mmap(NULL, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-EFAULT, read_mem(self->fd, (uintptr_t)p, bad, 8, &done));
	munmap(bad, PAGE_SZ);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
}

TEST_HARNESS_MAIN

/* --- 8. races with a running target that exits ------------------------------ */

struct racer {
	int pfd;
	int errors;	/* results other than 0, ESRCH or a copy's EIO */
	int calls;
};

/* RESERVE+COMMIT, write, read, PROTECT, RELEASE until the target is gone. */
static void *race_calls(void *arg)
{
	static __thread char buf[64 * KiB];
	struct racer *rc = arg;

	for (;;) {
		uint64_t base, done;
		int err;

		base = reserve_in(rc->pfd, 64 * KiB, NTMEM_RESERVE_COMMIT,
				  NTMEM_PAGE_READWRITE, &err);
		rc->calls++;
		if (err == -ESRCH)
			break;
		if (err) {
			rc->errors++;
			break;
		}
		err = write_mem(rc->pfd, base, buf, sizeof(buf), &done);
		if (err && err != -ESRCH && err != -EIO)
			rc->errors++;
		err = read_mem(rc->pfd, base, buf, sizeof(buf), &done);
		if (err && err != -ESRCH && err != -EIO)
			rc->errors++;
		err = ntmem_range_ioctl(rc->pfd, NTMEM_IOC_PROTECT, base,
					PAGE_SZ, NTMEM_PAGE_READONLY, 0);
		if (err && err != -ESRCH)
			rc->errors++;
		err = ntmem_range_ioctl(rc->pfd, NTMEM_IOC_RELEASE, base, 0,
					0, 0);
		if (err && err != -ESRCH)
			rc->errors++;
		rc->calls += 4;
	}
	return NULL;
}

/*
 * Three threads change a running target's address space while the target
 * maps and unmaps memory of its own, then exits at some point: every call
 * succeeds or finds the address space gone (ESRCH), and the kernel log
 * stays clean (the debug kernel's KASAN and lockdep watch the kernel
 * threads that do the work).
 */
TEST_F_TIMEOUT(process, races_with_a_running_target_that_exits, 300)
{
	for (int round = 0; round < 4; round++) {
		struct racer rc[3] = { 0 };
		pthread_t th[3];
		int status, total = 0;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			struct timespec end;

			clock_gettime(CLOCK_MONOTONIC, &end);
			end.tv_nsec += (100 + 150 * round) * 1000000L;
			for (;;) {
				struct timespec now;
				char *m = mmap(NULL, 256 * KiB,
					       PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1,
					       0);

				if (m != MAP_FAILED) {
					memset(m, 1, 256 * KiB);
					munmap(m, 256 * KiB);
				}
				clock_gettime(CLOCK_MONOTONIC, &now);
				if (now.tv_sec * 1000000000L + now.tv_nsec >
				    end.tv_sec * 1000000000L + end.tv_nsec)
					_exit(0);
			}
		}
		for (int i = 0; i < 3; i++) {
			rc[i].pfd = open_target(self->fd, pid, ALL_ACCESS);
			ASSERT_LE(0, rc[i].pfd);
			ASSERT_EQ(0, pthread_create(&th[i], NULL, race_calls,
						    &rc[i]));
		}
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(0, pthread_join(th[i], NULL));
			EXPECT_EQ(0, rc[i].errors);
			total += rc[i].calls;
			close(rc[i].pfd);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
		TH_LOG("round %d: %d calls before the target exited", round,
		       total);
	}
}

/*
 * Callers killed in the middle of remote calls: the calls they leave stop
 * or finish, and the module's worker threads carry no signal on to the
 * calls they take next -- a caller's SIGKILL must not fail another's.
 */
TEST_F_TIMEOUT(process, killed_callers_leave_no_signal_behind, 300)
{
	uint64_t base;
	int pfd, err;

	START_TARGET(&self->t, SETUP_NONE, 0);
	for (int round = 0; round < 12; round++) {
		int status;
		pid_t caller = fork();

		ASSERT_LE(0, caller);
		if (!caller) {
			int fd = open_target(self->fd, self->t.pid,
					     ALL_ACCESS);

			for (;;) {
				base = reserve_in(fd, 1 * MiB,
						  NTMEM_RESERVE_COMMIT,
						  NTMEM_PAGE_READWRITE, &err);
				if (!err)
					ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE,
							  base, 0, 0, 0);
			}
		}
		usleep(20000 + 15000 * round);
		ASSERT_EQ(0, kill(caller, SIGKILL));
		ASSERT_EQ(caller, waitpid(caller, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
	}
	/* every call now succeeds, in whichever worker it lands */
	pfd = open_target(self->fd, self->t.pid, ALL_ACCESS);
	ASSERT_LE(0, pfd);
	for (int i = 0; i < 200; i++) {
		base = reserve_in(pfd, 64 * KiB, NTMEM_RESERVE_COMMIT,
				  NTMEM_PAGE_READWRITE, &err);
		ASSERT_EQ(0, err) TH_LOG("call %d", i);
		ASSERT_EQ(0, ntmem_range_ioctl(pfd, NTMEM_IOC_RELEASE, base, 0,
					       0, 0));
	}
	close(pfd);
}
