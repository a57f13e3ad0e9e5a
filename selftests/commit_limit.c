// SPDX-License-Identifier: GPL-2.0
/*
 * The commit charge and its limit: every committed page is charged at
 * commit, touched or not; a commit past the limit fails in the call with
 * ENOSPC and changes nothing; whatever was committed can then be touched
 * without an OOM kill.  And the memory cgroup bounds ntmem memory too.
 *
 * The automatic global limit is RAM plus swap less a reserve (a quarter
 * of RAM, at least 64 MiB, and an eighth of swap), and follows swapoff and swapon (run with
 * tools/vm/run --swap SIZE for the swap tests; without swap they skip).
 * The global limit is a module parameter here (the netlink family sets
 * it too); every test puts it back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define LIMIT_PARAM	"/sys/module/ntmem/parameters/commit_limit_mb"
#define SHARE_PARAM	"/sys/module/ntmem/parameters/user_share_percent"
#define CGROUP		"/sys/fs/cgroup/ntmem-selftest"
#define KB_PER_PAGE	((long)(PAGE_SZ / 1024))
#define MIN_RESERVE	((long)((64UL << 20) / PAGE_SZ))	/* pages */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -errno;
}

static int set_limit_mb(long mb)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", mb);
	return write_file(LIMIT_PARAM, text);
}

FIXTURE(limit) {
	int fd;
	long saved_mb;	/* commit_limit_mb at setup, put back in teardown */
	long saved_share;	/* user_share_percent, likewise */
	char swapdev[256];	/* swapped off by the test: swapon in teardown */
};

FIXTURE_SETUP(limit)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	self->saved_mb = read_long_file(LIMIT_PARAM);
	ASSERT_LE(0, self->saved_mb);
	self->saved_share = read_long_file(SHARE_PARAM);
	ASSERT_LE(1, self->saved_share);
}

FIXTURE_TEARDOWN(limit)
{
	char text[16];

	set_limit_mb(self->saved_mb);
	snprintf(text, sizeof(text), "%ld", self->saved_share);
	write_file(SHARE_PARAM, text);
	if (self->swapdev[0])
		swapon(self->swapdev, 0);
	if (self->fd > 0)
		close(self->fd);
}

/* In pages: RAM + swap - the reserve, from /proc/meminfo as it is now. */
static long expected_limit(void)
{
	long ram = meminfo_kb("MemTotal") / KB_PER_PAGE;
	long swap = meminfo_kb("SwapTotal") / KB_PER_PAGE;
	long reserve = (ram / 4 > MIN_RESERVE ? ram / 4 : MIN_RESERVE) +
		       swap / 8;

	return ram + swap > reserve ? ram + swap - reserve : 0;
}

/* Within a page: MemTotal and SwapTotal are the counts the module reads. */
#define ASSERT_LIMIT_IS(expected) do {					\
	long _l = ntmem_counter("commit_limit_pages"), _e = (expected);	\
	ASSERT_GE(1, labs(_l - _e))					\
		TH_LOG("commit limit %ld pages, expected %ld", _l, _e);	\
} while (0)

/*
 * The first swap device in /proc/swaps and its size in kB (0 if none):
 * the one tools/vm/run --swap set up.
 */
static long first_swap(char *dev, size_t len)
{
	char line[512], name[256];
	long kb = 0;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f) &&
	    sscanf(line, "%255s %*s %ld", name, &kb) == 2)
		snprintf(dev, len, "%s", name);
	else
		kb = 0;
	fclose(f);
	return kb;
}

/* The automatic limit: RAM plus swap, less the reserve (expected_limit()). */
TEST_F(limit, default_is_ram_plus_swap_less_a_reserve)
{
	long limit = expected_limit();

	ASSERT_EQ(0, self->saved_mb);
	ASSERT_LIMIT_IS(limit);
	ASSERT_EQ(0, set_limit_mb(100));
	ASSERT_EQ(100 * 256, ntmem_counter("commit_limit_pages"));
	ASSERT_EQ(0, set_limit_mb(0));
	ASSERT_LIMIT_IS(limit);
	ASSERT_NE(0, set_limit_mb(-1));
	ASSERT_LIMIT_IS(limit);
}

/* With swap, the automatic limit passes RAM less its reserve by 7/8 of it. */
TEST_F(limit, default_counts_swap)
{
	long swap = meminfo_kb("SwapTotal") / KB_PER_PAGE;
	long ram = meminfo_kb("MemTotal") / KB_PER_PAGE;
	long ram_reserve = ram / 4 > MIN_RESERVE ? ram / 4 : MIN_RESERVE;

	if (swap <= 0)
		SKIP(return, "no swap (run with tools/vm/run --swap SIZE)");
	ASSERT_LIMIT_IS(expected_limit());
	ASSERT_LIMIT_IS(ram - ram_reserve + swap - swap / 8);
	ASSERT_LT(ram - ram_reserve, ntmem_counter("commit_limit_pages"));
	TH_LOG("RAM %ld + swap %ld - reserve %ld = %ld pages", ram, swap,
	       ram_reserve + swap / 8, ntmem_counter("commit_limit_pages"));
}

/*
 * swapoff takes the device's pages out of the automatic limit, swapon puts
 * them back; an explicit limit stays what it was.  A commit right after
 * swapon (without anyone reading the limit first) already gets the swap.
 */
TEST_F_TIMEOUT(limit, follows_swapoff_and_swapon, 120)
{
	long with_swap, without, used, dev_kb;
	size_t len, need;
	char dev[256];
	char *p;

	dev_kb = first_swap(dev, sizeof(dev));
	if (dev_kb <= 0)
		SKIP(return, "no swap device (run with tools/vm/run --swap SIZE)");
	ASSERT_EQ(0, self->saved_mb);
	with_swap = ntmem_counter("commit_limit_pages");
	ASSERT_LIMIT_IS(expected_limit());

	ASSERT_EQ(0, swapoff(dev)) TH_LOG("swapoff %s: %s", dev, strerror(errno));
	snprintf(self->swapdev, sizeof(self->swapdev), "%s", dev);
	without = ntmem_counter("commit_limit_pages");
	ASSERT_LIMIT_IS(expected_limit());
	/* the device's pages, less the eighth of them kept in reserve */
	ASSERT_GE(1, labs(with_swap - (dev_kb / KB_PER_PAGE -
				       dev_kb / KB_PER_PAGE / 8) - without))
		TH_LOG("limit %ld pages with swap, %ld without", with_swap,
		       without);
	TH_LOG("%s: %ld kB; limit %ld pages with it, %ld without", dev,
	       dev_kb, with_swap, without);

	/* past the RAM-only limit, within the one with swap */
	used = ntmem_counter("committed_pages");
	need = (size_t)(without - used + 256) * PAGE_SZ;
	ASSERT_GT(with_swap, without + 256);
	len = (need + GRAN - 1) & ~(GRAN - 1);
	p = ntmem_reserve_any(self->fd, len);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-ENOSPC, ntmem_commit(self->fd, p, need,
					NTMEM_PAGE_READWRITE, 0));

	ASSERT_EQ(0, swapon(dev, 0)) TH_LOG("swapon %s: %s", dev, strerror(errno));
	self->swapdev[0] = '\0';
	EXPECT_EQ(0, ntmem_commit(self->fd, p, need, NTMEM_PAGE_READWRITE, 0));
	EXPECT_EQ(with_swap, ntmem_counter("commit_limit_pages"));
	EXPECT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(used, ntmem_counter("committed_pages"));

	/* an explicit limit does not move with swap */
	ASSERT_EQ(0, set_limit_mb(100));
	ASSERT_EQ(0, swapoff(dev));
	snprintf(self->swapdev, sizeof(self->swapdev), "%s", dev);
	EXPECT_EQ(100 * 256, ntmem_counter("commit_limit_pages"));
	ASSERT_EQ(0, swapon(dev, 0));
	self->swapdev[0] = '\0';
	EXPECT_EQ(100 * 256, ntmem_counter("commit_limit_pages"));
	ASSERT_EQ(0, set_limit_mb(0));
	ASSERT_EQ(with_swap, ntmem_counter("commit_limit_pages"));
}

/*
 * The test: commit everything the default limit allows, fail one
 * page past it, then touch every committed page and live.  (With users'
 * shares off: this is the only user.)
 */
TEST_F_TIMEOUT(limit, commit_to_the_limit_touch_all_survive, 300)
{
	long limit = ntmem_counter("commit_limit_pages");
	long used = ntmem_counter("committed_pages");
	long peak0 = ntmem_counter("commit_peak_pages");
	size_t avail = (limit - used) * PAGE_SZ;
	size_t len = (avail + PAGE_SZ + GRAN - 1) & ~(GRAN - 1);
	long rss0 = rss_kb(), swap0, swapped;
	struct ntmem_query q;
	char *p;

	ASSERT_EQ(0, write_file(SHARE_PARAM, "100"));
	ASSERT_LT(0, (long)avail);
	p = ntmem_reserve_any(self->fd, len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, avail, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(limit, ntmem_counter("committed_pages"));
	ASSERT_LE(limit, ntmem_counter("commit_peak_pages"));
	ASSERT_LE(peak0, ntmem_counter("commit_peak_pages"));

	/* one page more: ENOSPC, and that page stays reserved */
	ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p + avail, PAGE_SZ,
					NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p + avail, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(limit, ntmem_counter("committed_pages"));
	ASSERT_SEGV_AT(p + avail, try_write(p + avail, 1));

	/* recommitting committed pages charges nothing */
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(limit, ntmem_counter("committed_pages"));
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   NULL));

	/* with swap the limit passes RAM: what is not resident is in swap */
	swap0 = meminfo_kb("SwapTotal") - meminfo_kb("SwapFree");
	touch_pages(p, avail, 0x5a);
	swapped = meminfo_kb("SwapTotal") - meminfo_kb("SwapFree") - swap0;
	ASSERT_LE(rss0 + (long)(avail / 1024) - 1024, rss_kb() + swapped)
		TH_LOG("RSS %ld kB, %ld kB more in swap", rss_kb(), swapped);
	for (size_t off = 0; off < avail; off += 64 * PAGE_SZ)
		ASSERT_EQ(0x5a, p[off]);
	ASSERT_EQ(0x5a, p[avail - PAGE_SZ]);

	/* decommit gives back exactly what it frees; then it fits again */
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, 16 * PAGE_SZ));
	ASSERT_EQ(limit - 16, ntmem_counter("committed_pages"));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 17 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));	/* 16 new */
	ASSERT_EQ(limit, ntmem_counter("committed_pages"));
	ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p + avail, PAGE_SZ,
					NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
}

/* RESERVE with COMMIT past the limit: no reservation is left behind. */
TEST_F(limit, reserve_and_commit_past_the_limit)
{
	long used = ntmem_counter("committed_pages");
	int maps = maps_count();
	size_t len;
	void *addr = NULL;

	ASSERT_EQ(0, set_limit_mb(used / 256 + 8));
	len = 16 * MiB;
	ASSERT_EQ(-ENOSPC, ntmem_reserve(self->fd, &addr, &len,
					 NTMEM_RESERVE_COMMIT,
					 NTMEM_PAGE_READWRITE));
	ASSERT_EQ(maps, maps_count());
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
	len = 4 * MiB;
	addr = NULL;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, NTMEM_RESERVE_COMMIT,
				   NTMEM_PAGE_READWRITE));
	ASSERT_EQ(used + (long)(len / PAGE_SZ),
		  ntmem_counter("committed_pages"));
	ASSERT_EQ(0, ntmem_release(self->fd, addr, 0));
}

/* Lowering the limit below what is committed only stops new commits. */
TEST_F(limit, lowered_below_usage)
{
	long used = ntmem_counter("committed_pages");
	char *p = ntmem_reserve_any(self->fd, 8 * MiB);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * MiB, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, set_limit_mb(used / 256 + 1));
	touch_pages(p, 4 * MiB, 1);		/* what is committed stays usable */
	ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p + 4 * MiB, PAGE_SZ,
					NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, 4 * MiB));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
}

/* A killed process gives back its whole charge. */
static void committer(int wfd)
{
	int fd = ntmem_open();
	char *p = fd < 0 ? NULL : ntmem_reserve_any(fd, 64 * MiB);

	if (!p || ntmem_commit(fd, p, 48 * MiB, NTMEM_PAGE_READWRITE, 0))
		_exit(1);
	touch_pages(p, 16 * MiB, 1);
	if (write(wfd, "x", 1) != 1)
		_exit(2);
	pause();
	_exit(3);
}

TEST_F(limit, kill_uncharges)
{
	long used = ntmem_counter("committed_pages");
	int pipefd[2], status;
	char c;
	pid_t child;

	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		committer(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ(used + (long)(48 * MiB / PAGE_SZ),
		  ntmem_counter("committed_pages"));
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
}

/*
 * ntmem pages are charged to the memory cgroup: a process in a group with
 * memory.max cannot hold more than that in memory through ntmem.  With
 * swap, the rest goes to swap, as for the group's other memory; without,
 * its touches past the limit end in the group's OOM kill.
 */
static int cgroup_child(void *arg)
{
	char pid[32];
	int fd;
	char *p;

	(void)arg;
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(CGROUP "/cgroup.procs", pid))
		return 10;
	fd = ntmem_open();
	p = fd < 0 ? NULL : ntmem_reserve_any(fd, 128 * MiB);
	if (!p || ntmem_commit(fd, p, 128 * MiB, NTMEM_PAGE_READWRITE, 0))
		return 11;
	touch_pages(p, 128 * MiB, 1);
	return 12;	/* held 128 MiB in a 32 MiB group */
}

TEST_F_TIMEOUT(limit, memcg_bounds_ntmem_memory, 120)
{
	long peak;
	int ret;

	ASSERT_EQ(0, write_file("/sys/fs/cgroup/cgroup.subtree_control",
				"+memory"));
	rmdir(CGROUP);
	ASSERT_EQ(0, mkdir(CGROUP, 0755));
	ASSERT_EQ(0, write_file(CGROUP "/memory.max", "33554432"));
	ret = run_in_child(cgroup_child, NULL);
	peak = read_long_file(CGROUP "/memory.peak");
	if (meminfo_kb("SwapFree") > 128 * 1024) {
		ASSERT_EQ(12, ret) TH_LOG("with swap, the group swaps");
	} else {
		ASSERT_EQ(128 + SIGKILL, ret);
	}
	ASSERT_LT(0, peak);
	ASSERT_GE(32L * MiB, peak);
	ASSERT_EQ(0, rmdir(CGROUP));
}

/*
 * Pages that another process faults in (here: a debugger writing through
 * /proc/PID/mem) are charged to the owner's memory cgroup, as Linux does
 * for anonymous memory: the debugger in a 16 MiB group writes 64 MiB into
 * its target and survives; the target's group holds the 64 MiB.
 */
#define DBG_CG	"/sys/fs/cgroup/ntmem-debugger"
#define TGT_CG	"/sys/fs/cgroup/ntmem-target"

static int join_cgroup(const char *cg)
{
	char path[128], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

TEST_F_TIMEOUT(limit, remote_faults_charge_the_owner_cgroup, 120)
{
	const size_t len = 64 * MiB;
	int pipefd[2], status;
	pid_t target, dbg;
	long tgt_kb, dbg_peak;
	char *p = NULL;

	ASSERT_EQ(0, write_file("/sys/fs/cgroup/cgroup.subtree_control",
				"+memory"));
	rmdir(DBG_CG);
	rmdir(TGT_CG);
	ASSERT_EQ(0, mkdir(DBG_CG, 0755));
	ASSERT_EQ(0, mkdir(TGT_CG, 0755));
	ASSERT_EQ(0, write_file(DBG_CG "/memory.max", "16777216"));
	ASSERT_EQ(0, pipe(pipefd));
	target = fork();
	ASSERT_LE(0, target);
	if (!target) {
		int fd;

		if (join_cgroup(TGT_CG))
			_exit(10);
		fd = ntmem_open();
		p = fd < 0 ? NULL : ntmem_reserve_any(fd, len);
		if (!p || ntmem_commit(fd, p, len, NTMEM_PAGE_READWRITE, 0))
			_exit(11);
		if (write(pipefd[1], &p, sizeof(p)) != sizeof(p))
			_exit(12);
		pause();
		_exit(13);
	}
	ASSERT_EQ((ssize_t)sizeof(p), read(pipefd[0], &p, sizeof(p)));
	dbg = fork();
	ASSERT_LE(0, dbg);
	if (!dbg) {
		static char buf[MiB];
		char path[64];
		int mem;

		if (join_cgroup(DBG_CG))
			_exit(20);
		snprintf(path, sizeof(path), "/proc/%d/mem", target);
		mem = open(path, O_RDWR);
		if (mem < 0)
			_exit(21);
		memset(buf, 0x77, sizeof(buf));
		for (size_t off = 0; off < len; off += sizeof(buf))
			if (pwrite(mem, buf, sizeof(buf),
				   (off_t)(uintptr_t)(p + off)) != sizeof(buf))
				_exit(22);
		_exit(0);
	}
	ASSERT_EQ(dbg, waitpid(dbg, &status, 0));
	dbg_peak = read_long_file(DBG_CG "/memory.peak");
	tgt_kb = read_long_file(TGT_CG "/memory.current") / 1024;
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	rmdir(DBG_CG);
	rmdir(TGT_CG);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("debugger status %#x (killed by its cgroup's OOM?)",
		       status);
	ASSERT_GT(16L * MiB, dbg_peak);
	ASSERT_LE((long)(len / 1024) - 4096, tgt_kb)
		TH_LOG("target's group holds %ld kB", tgt_kb);
}

/*
 * One user cannot make every other user's commits fail: a user holds at
 * most user_share_percent of the limit, over all its processes, and
 * another user can still commit.  As uids 1000 and 1001 (any uid works).
 */
TEST_F_TIMEOUT(limit, one_user_cannot_starve_others, 120)
{
	long used = ntmem_counter("committed_pages");
	size_t limit = 256 * MiB, half = limit / 2;
	int pipefd[2], status;
	pid_t hog;
	char c;

	ASSERT_EQ(0, set_limit_mb(256 + used / 256));
	ASSERT_EQ(0, write_file(SHARE_PARAM, "60"));
	ASSERT_EQ(0, pipe(pipefd));
	/* user 1000 holds half of the limit in one process ... */
	hog = ntmem_commit_as(1000, half, pipefd[1]);
	ASSERT_LT(0, hog);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	/* ... and cannot pass 60% with another of its processes */
	ASSERT_EQ(-28, ntmem_commit_as(1000, 32 * MiB, -1));
	ASSERT_EQ(0, ntmem_commit_as(1000, 16 * MiB, -1));
	/* while user 1001 still commits what is left */
	ASSERT_EQ(0, ntmem_commit_as(1001, 96 * MiB, -1));
	/* with shares off, user 1000 could have taken it all */
	ASSERT_EQ(0, write_file(SHARE_PARAM, "100"));
	ASSERT_EQ(0, ntmem_commit_as(1000, 96 * MiB, -1));
	ASSERT_NE(0, write_file(SHARE_PARAM, "0"));
	ASSERT_NE(0, write_file(SHARE_PARAM, "101"));
	ASSERT_EQ(0, kill(hog, SIGKILL));
	ASSERT_EQ(hog, waitpid(hog, &status, 0));
	ASSERT_EQ(used, ntmem_counter("committed_pages"));
}

TEST_HARNESS_MAIN
