// SPDX-License-Identifier: GPL-2.0
/*
 * Committed pages are ordinary memory to reclaim (issue 12): an ordinary
 * (non-executable, unlocked) committed page is swap-backed like a tmpfs
 * page, charged to the memory cgroup of the process that faults it, and
 * a RESET page is clean, so that reclaim, global or of a memory cgroup,
 * drops it without swap I/O.  Locked pages are never swapped.
 *
 *   commit_swaps_under_memcg      more committed than memory.max: swapped
 *                                 out and back in, intact, no OOM kill;
 *                                 the same for a section's shared view
 *   reset_pages_dropped_not_swapped  reset pages of an unprivileged user
 *                                 (uid 65534) make room in their cgroup
 *                                 without swap I/O (with swap and without)
 *   locked_pages_never_swapped    locked pages stay present under pressure
 *   oom_sees_unmapped_memory      memory unmapped with MADV_DONTNEED stays
 *                                 charged; its cgroup bears the cost
 *   huge_pages_where_swap_out_keeps_up  2 MiB pages, except with swap on
 *                                 kernels that swap shmem a page at a time
 *
 * Each test runs its subject in a child placed in a fresh memory cgroup
 * under /sys/fs/cgroup (the VM's init mounts cgroup2 there); results the
 * child measures come back through a shared page.  The tests that need
 * swap skip without it: tools/vm/run --swap 1G gives the guest some.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define SHARE_PARAM	"/sys/module/ntmem/parameters/user_share_percent"

/* What a child measured, for its parent to judge. */
struct result {
	long v[16];
	long bad_page;		/* first page whose contents were wrong, or -1 */
	int step;		/* the step that failed (exit code), 0 if none */
	int err;		/* its -errno */
};

FIXTURE(swap) {
	struct result *res;
	const char *cg;		/* the cgroup to remove in teardown */
};

FIXTURE_SETUP(swap)
{
	/* touched here, so charged to this (the root) cgroup */
	self->res = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->res);
	memset(self->res, 0, PAGE_SZ);
	/* -1: not measured (the child died first) */
	for (size_t i = 0; i < sizeof(self->res->v) / sizeof(long); i++)
		self->res->v[i] = -1;
	self->res->bad_page = -1;
	self->cg = NULL;
}

FIXTURE_TEARDOWN(swap)
{
	if (self->cg)
		memcg_remove(self->cg);
	munmap(self->res, PAGE_SZ);
}

/* (A SKIP in the 6.1 harness's FIXTURE_SETUP does not stop the test.) */
#define REQUIRE_MEMCG() do {						\
		const char *why = memcg_unavailable();			\
		if (why)						\
			SKIP(return, "%s", why);			\
	} while (0)

#define REQUIRE_SWAP() do {						\
		if (meminfo_kb("SwapTotal") <= 0)			\
			SKIP(return, "no swap (SwapTotal 0): run the VM with --swap"); \
	} while (0)

/* Bytes as MiB for the logs; -1 stays -1 (not measured: the child died). */
#define MIB(bytes)	((bytes) < 0 ? -1L : (long)(bytes) / (long)MiB)

static bool have_swap(void)
{
	return meminfo_kb("SwapTotal") > 0;
}

static long vmstat(const char *key)
{
	return file_key_long("/proc/vmstat", key);
}

/* Every word of page @i holds i ^ seed. */
static void fill_pages(char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len / PAGE_SZ; i++) {
		uint64_t *w = (uint64_t *)(p + i * PAGE_SZ);

		for (size_t j = 0; j < PAGE_SZ / 8; j++)
			w[j] = i ^ seed;
	}
}

/* First page of [p, p+len) that fill_pages(seed) did not leave, or -1. */
static long check_pages(const char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len / PAGE_SZ; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE_SZ);

		for (size_t j = 0; j < PAGE_SZ / 8; j++)
			if (w[j] != (i ^ seed))
				return i;
	}
	return -1;
}

/* In a child: fail step @n with -errno @e (the child's exit code is n). */
#define CHILD_FAIL(res, n, e) do {					\
		(res)->step = (n);					\
		(res)->err = (e);					\
		return n;						\
	} while (0)

/*
 * In a child: join @cg, with @as_nobody become uid 65534, then commit @len
 * and write it with fill_pages(@seed).  0, or the number of the step that
 * failed (res->step and res->err).
 */
static int child_hold(struct result *res, const char *cg, bool as_nobody,
		      size_t len, uint64_t seed, int *fdp, char **pp)
{
	int ret = memcg_join(cg);

	if (ret)
		CHILD_FAIL(res, 10, ret);
	/* an unprivileged user in a group root made for it */
	if (as_nobody && (setgid(65534) || setuid(65534)))
		CHILD_FAIL(res, 9, -errno);
	*fdp = ntmem_open();
	if (*fdp < 0)
		CHILD_FAIL(res, 11, *fdp);
	*pp = ntmem_reserve_any(*fdp, len);
	if (!*pp)
		CHILD_FAIL(res, 12, -ENOMEM);
	ret = ntmem_commit(*fdp, *pp, len, NTMEM_PAGE_READWRITE, 0);
	if (ret)
		CHILD_FAIL(res, 13, ret);
	fill_pages(*pp, len, seed);
	return 0;
}

static const char *child_status(int ret)
{
	static char buf[96];

	if (ret == 128 + SIGKILL)
		return "killed by SIGKILL (the OOM killer?)";
	snprintf(buf, sizeof(buf), "exit code %d", ret);
	return buf;
}

/*
 * Its swap use in bytes, from memory.swap.current if the kernel accounts
 * swap per cgroup, else from how far SwapFree fell since @swapfree0_kb.
 */
static long swap_used(const char *cg, long swapfree0_kb)
{
	long cur = memcg_read(cg, "memory.swap.current");

	if (cur >= 0)
		return cur;
	return (swapfree0_kb - meminfo_kb("SwapFree")) * (long)KiB;
}

/* ---- 1: more committed memory than memory.max swaps ------------------- */

#define CG1		"ntmem-swap-commit"
#define CG1_MAX		(128 * MiB)

struct commit_arg {
	struct result *res;
	size_t len;
	bool section;		/* a section's view instead of a reservation */
};

/* As child_hold(), in a shared view of a new section of @len bytes. */
static int child_hold_section(struct result *res, const char *cg, size_t len,
			      uint64_t seed, char **pp)
{
	int ret = memcg_join(cg), fd, s;

	if (ret)
		CHILD_FAIL(res, 10, ret);
	fd = ntmem_open();
	if (fd < 0)
		CHILD_FAIL(res, 11, fd);
	s = ntmem_section_create(fd, len, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	if (s < 0)
		CHILD_FAIL(res, 12, s);
	*pp = ntmem_map_view_err(fd, s, 0, 0, NTMEM_FILE_MAP_WRITE, &ret);
	if (!*pp)
		CHILD_FAIL(res, 13, ret);
	fill_pages(*pp, len, seed);
	return 0;
}

enum { V1_SWAP, V1_CURRENT, V1_SWAPFREE0, V1_SWAPFREE1, V1_PSWPOUT };

static int commit_child(void *arg)
{
	struct commit_arg *a = arg;
	struct result *res = a->res;
	long swapfree0 = meminfo_kb("SwapFree"), pswpout0 = vmstat("pswpout");
	int fd, ret;
	char *p;

	ret = a->section ?
	      child_hold_section(res, CG1, a->len, 0x5eed0001, &p) :
	      child_hold(res, CG1, false, a->len, 0x5eed0001, &fd, &p);
	if (ret)
		return ret;
	res->v[V1_SWAP] = swap_used(CG1, swapfree0);
	res->v[V1_CURRENT] = memcg_read(CG1, "memory.current");
	res->v[V1_SWAPFREE0] = swapfree0;
	res->v[V1_SWAPFREE1] = meminfo_kb("SwapFree");
	res->v[V1_PSWPOUT] = vmstat("pswpout") - pswpout0;
	res->bad_page = check_pages(p, a->len, 0x5eed0001);
	if (res->bad_page >= 0)
		CHILD_FAIL(res, 14, 0);
	return 0;
}

/*
 * 288 MiB committed and written in a 128 MiB group (less if the commit
 * limit does not allow as much, but always more than memory.max): the
 * group swaps, nothing is OOM-killed, every page reads back intact.
 */
TEST_F_TIMEOUT(swap, commit_swaps_under_memcg, 600)
{
	long limit = ntmem_counter("commit_limit_pages");
	long used = ntmem_counter("committed_pages");
	long share = read_long_file(SHARE_PARAM);
	struct commit_arg a = { .res = self->res };
	long avail, swapped, oom_kill;
	int ret;

	REQUIRE_SWAP();
	REQUIRE_MEMCG();
	ASSERT_LT(0, limit);
	ASSERT_LE(0, used);
	if (share < 1 || share > 100)
		share = 100;
	/* the global limit and this user's share of it, less 16 MiB */
	avail = limit - used;
	if (limit * share / 100 - used < avail)
		avail = limit * share / 100 - used;
	avail = avail * (long)PAGE_SZ - (long)(16 * MiB);
	a.len = 288 * MiB;
	if ((long)a.len > avail)
		a.len = avail > 0 ? avail & ~(GRAN - 1) : 0;
	if (a.len < CG1_MAX + 64 * MiB)
		SKIP(return, "the commit limit (%ld MiB, %ld%% per user, %ld MiB used) leaves %zu MiB: not 64 MiB more than memory.max (%lu MiB)",
		     limit / 256, share, used / 256, a.len / MiB, CG1_MAX / MiB);
	if (meminfo_kb("SwapFree") * (long)KiB < (long)(a.len - CG1_MAX + 64 * MiB))
		SKIP(return, "%ld MiB of swap free: too little for %zu MiB",
		     meminfo_kb("SwapFree") / 1024, a.len - CG1_MAX);

	for (int round = 0; round < 2; round++) {
		a.section = round == 1;
		memset(self->res, 0, sizeof(*self->res));
		for (size_t i = 0; i < sizeof(self->res->v) / sizeof(long); i++)
			self->res->v[i] = -1;
		self->res->bad_page = -1;
		if (a.section)
			ASSERT_EQ(0, memcg_remove(CG1));
		ASSERT_EQ(0, memcg_create(CG1, CG1_MAX));
		self->cg = CG1;
		ret = run_in_child(commit_child, &a);
		oom_kill = memcg_key(CG1, "memory.events", "oom_kill");
		swapped = self->res->v[V1_SWAP];
		TH_LOG("%s: %zu MiB committed in a %lu MiB group: %s; oom_kill %ld; swap in use %ld MiB, memory.current %ld MiB, SwapFree %ld -> %ld MiB, pswpout +%ld MiB",
		       a.section ? "section" : "reservation",
		       a.len / MiB, CG1_MAX / MiB, child_status(ret), oom_kill,
		       MIB(swapped), MIB(self->res->v[V1_CURRENT]),
		       MIB(self->res->v[V1_SWAPFREE0] * (long)KiB),
		       MIB(self->res->v[V1_SWAPFREE1] * (long)KiB),
		       MIB(self->res->v[V1_PSWPOUT] * (long)PAGE_SZ));
		ASSERT_EQ(0, oom_kill) TH_LOG("the group OOM-killed: its committed pages did not swap");
		ASSERT_EQ(0, ret) TH_LOG("step %d failed: %s (page %ld wrong)",
					 self->res->step, strerror(-self->res->err),
					 self->res->bad_page);
		/* what does not fit in memory.max must be in swap (16 MiB slack) */
		ASSERT_LE((long)(a.len - CG1_MAX - 16 * MiB), swapped)
			TH_LOG("the group holds only %ld MiB in swap", swapped / (long)MiB);
	}
}

/* ---- 2: reset pages are dropped, not swapped --------------------------- */

#define CG2		"ntmem-swap-reset"
#define CG2_MAX		(128 * MiB)
#define RESET_LEN	(96 * MiB)
#define ANON_LEN	(96 * MiB)

enum {
	V2_DROPPED0, V2_DROPPED1, V2_PSWPOUT, V2_SWAP, V2_UNDO, V2_RESET0,
	V2_RESET1, V2_ZERO, V2_KEPT, V2_CURRENT, V2_ANON_SWAPPED
};

static int reset_child(void *arg)
{
	struct result *res = arg;
	long pswpout0, swapfree0 = meminfo_kb("SwapFree");
	int fd, ret;
	char *p, *anon;

	ret = child_hold(res, CG2, true, RESET_LEN, 0x5eed0002, &fd, &p);
	if (ret)
		return ret;
	/* its own /proc/self/pagemap, which the uid change made root's */
	if (prctl(PR_SET_DUMPABLE, 1))
		CHILD_FAIL(res, 16, -errno);
	ret = ntmem_reset(fd, p, RESET_LEN);
	if (ret)
		CHILD_FAIL(res, 14, ret);
	res->v[V2_RESET0] = ntmem_counter("reset_pages");
	res->v[V2_DROPPED0] = ntmem_counter("dropped_pages");
	pswpout0 = vmstat("pswpout");

	/* ordinary memory: the group must reclaim 64 MiB and more for it */
	anon = mmap(NULL, ANON_LEN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		CHILD_FAIL(res, 15, -errno);
	touch_pages(anon, ANON_LEN, 0xa5);
	res->v[V2_PSWPOUT] = vmstat("pswpout") - pswpout0;
	/* what of that the group's own anonymous memory accounts for */
	res->v[V2_ANON_SWAPPED] = pagemap_count_bits(anon, ANON_LEN,
						     PM_SWAPPED);
	if (res->v[V2_ANON_SWAPPED] < 0)
		CHILD_FAIL(res, 17, (int)res->v[V2_ANON_SWAPPED]);
	res->v[V2_SWAP] = have_swap() ? swap_used(CG2, swapfree0) : 0;
	res->v[V2_CURRENT] = memcg_read(CG2, "memory.current");
	res->v[V2_RESET1] = ntmem_counter("reset_pages");

	res->v[V2_UNDO] = ntmem_reset_undo(fd, p, RESET_LEN);
	res->v[V2_DROPPED1] = ntmem_counter("dropped_pages");
	/* touch_pages wrote one byte a page: they must be there */
	for (size_t i = 0; i < ANON_LEN; i += PAGE_SZ)
		if (anon[i] != (char)0xa5)
			CHILD_FAIL(res, 16, 0);
	munmap(anon, ANON_LEN);
	res->v[V2_KEPT] = 0;
	res->v[V2_ZERO] = 0;
	/* each reset page reads as its old contents or as zeros */
	for (size_t i = 0; i < RESET_LEN / PAGE_SZ; i++) {
		const char *pg = p + i * PAGE_SZ;

		if (check_pages(pg, PAGE_SZ, 0x5eed0002 ^ i) == -1) {
			res->v[V2_KEPT]++;
		} else if (check_bytes(pg, PAGE_SZ, 0) == -1) {
			res->v[V2_ZERO]++;
		} else {
			res->bad_page = i;
			CHILD_FAIL(res, 17, 0);
		}
	}
	return 0;
}

/*
 * 96 MiB committed, written and RESET by uid 65534 in a 128 MiB group,
 * then 96 MiB of anonymous memory: the group reclaims the reset pages,
 * without writing them to swap and without an OOM kill; RESET_UNDO reports
 * them lost.  Without swap too: then only the reset pages can make room
 * (ntmem's memcg-aware shrinker).
 */
TEST_F_TIMEOUT(swap, reset_pages_dropped_not_swapped, 300)
{
	struct result *res = self->res;
	long oom_kill, swapout;
	int fd, ret;

	REQUIRE_MEMCG();
	fd = ntmem_open();
	ASSERT_LE(0, fd);
	ret = !(ntmem_features(fd) & NTMEM_FEATURE_RESET);
	close(fd);
	if (ret)
		SKIP(return, "module has no NTMEM_FEATURE_RESET");
	/*
	 * Without swap a cgroup's reclaim scans no shmem folios: only the
	 * module's memcg-aware shrinker can drop the group's reset pages.
	 */
	ASSERT_EQ(0, memcg_create(CG2, CG2_MAX));
	self->cg = CG2;
	ret = run_in_child(reset_child, res);
	oom_kill = memcg_key(CG2, "memory.events", "oom_kill");
	swapout = res->v[V2_PSWPOUT] * (long)PAGE_SZ;	/* -1: not measured */
	TH_LOG("%s swap: %s; oom_kill %ld; pswpout +%ld MiB (anonymous pages in swap %ld MiB), group's swap %ld MiB, memory.current %ld MiB; reset_pages %ld -> %ld; RESET_UNDO %ld; dropped_pages %ld -> %ld; pages zero %ld, kept %ld",
	       have_swap() ? "with" : "without", child_status(ret), oom_kill,
	       MIB(swapout), MIB(res->v[V2_ANON_SWAPPED] * (long)PAGE_SZ),
	       MIB(res->v[V2_SWAP]),
	       MIB(res->v[V2_CURRENT]), res->v[V2_RESET0],
	       res->v[V2_RESET1], res->v[V2_UNDO], res->v[V2_DROPPED0],
	       res->v[V2_DROPPED1], res->v[V2_ZERO], res->v[V2_KEPT]);
	ASSERT_EQ(0, oom_kill)
		TH_LOG("the group OOM-killed with %lu MiB of reset pages in it",
		       RESET_LEN / MiB);
	ASSERT_EQ(0, ret) TH_LOG("step %d failed: %s (page %ld)", res->step,
				 strerror(-res->err), res->bad_page);
	/*
	 * The group's anonymous memory may go to swap as reclaim sees fit; the
	 * rest of the writes (pages written and still in the swap cache, other
	 * tasks) stays small unless reset pages went there too
	 */
	ASSERT_GT((long)(16 * MiB),
		  swapout - res->v[V2_ANON_SWAPPED] * (long)PAGE_SZ)
		TH_LOG("reclaim wrote to swap instead of dropping reset pages");
	ASSERT_EQ(-EBUSY, res->v[V2_UNDO])
		TH_LOG("RESET_UNDO: no reset page was dropped");
	ASSERT_LT(res->v[V2_DROPPED0], res->v[V2_DROPPED1]);
	/* the group had to give back 64 MiB and more: most were dropped */
	ASSERT_LE((long)((RESET_LEN - 32 * MiB) / PAGE_SZ), res->v[V2_ZERO]);
}

/* ---- 3: locked pages are never swapped --------------------------------- */

#define CG3		"ntmem-swap-lock"
#define CG3_MAX		(64 * MiB)
#define LOCK_LEN	(4 * MiB)
#define PUSH_LEN	(128 * MiB)

enum { V3_PRESENT, V3_SWAPPED, V3_ANON_SWAPPED, V3_SWAP, V3_LOCKED };

static int lock_child(void *arg)
{
	struct result *res = arg;
	long swapfree0 = meminfo_kb("SwapFree");
	int fd, ret;
	char *p, *anon;

	ret = child_hold(res, CG3, false, LOCK_LEN, 0x5eed0003, &fd, &p);
	if (ret)
		return ret;
	ret = ntmem_lock(fd, p, LOCK_LEN);
	if (ret)
		CHILD_FAIL(res, 14, ret);
	res->v[V3_LOCKED] = ntmem_counter("locked_pages");
	anon = mmap(NULL, PUSH_LEN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		CHILD_FAIL(res, 15, -errno);
	touch_pages(anon, PUSH_LEN, 0x3c);
	res->v[V3_PRESENT] = pagemap_count_bits(p, LOCK_LEN, PM_PRESENT);
	res->v[V3_SWAPPED] = pagemap_count_bits(p, LOCK_LEN, PM_SWAPPED);
	res->v[V3_ANON_SWAPPED] = pagemap_count_bits(anon, PUSH_LEN, PM_SWAPPED);
	res->v[V3_SWAP] = swap_used(CG3, swapfree0);
	res->bad_page = check_pages(p, LOCK_LEN, 0x5eed0003);
	if (res->bad_page >= 0)
		CHILD_FAIL(res, 16, 0);
	return 0;
}

/*
 * 4 MiB written and locked in a 64 MiB group, which 128 MiB of anonymous
 * memory then pushes into swap: the locked pages stay present, none is
 * swapped, their contents intact.
 */
TEST_F_TIMEOUT(swap, locked_pages_never_swapped, 300)
{
	struct result *res = self->res;
	const long pages = LOCK_LEN / PAGE_SZ;
	long oom_kill;
	int ret;

	REQUIRE_SWAP();
	REQUIRE_MEMCG();
	ASSERT_EQ(0, memcg_create(CG3, CG3_MAX));
	self->cg = CG3;
	ret = run_in_child(lock_child, res);
	oom_kill = memcg_key(CG3, "memory.events", "oom_kill");
	TH_LOG("%s; oom_kill %ld; locked_pages %ld; of %ld locked pages %ld present, %ld swapped; anonymous pages swapped %ld MiB; group's swap %ld MiB",
	       child_status(ret), oom_kill, res->v[V3_LOCKED], pages,
	       res->v[V3_PRESENT], res->v[V3_SWAPPED],
	       MIB(res->v[V3_ANON_SWAPPED] * (long)PAGE_SZ),
	       MIB(res->v[V3_SWAP]));
	ASSERT_EQ(0, oom_kill);
	ASSERT_EQ(0, ret) TH_LOG("step %d failed: %s (page %ld wrong)",
				 res->step, strerror(-res->err), res->bad_page);
	/* the pressure was real: the group had to swap 64 MiB and more */
	ASSERT_LE((long)(32 * MiB / PAGE_SZ), res->v[V3_ANON_SWAPPED]);
	ASSERT_LE(pages, res->v[V3_LOCKED]);
	ASSERT_EQ(pages, res->v[V3_PRESENT]);
	ASSERT_EQ(0, res->v[V3_SWAPPED]);
}

/* ---- 4: the OOM killer sees unmapped committed memory ------------------ */

#define CG4		"ntmem-swap-hoard"
#define CG4_MAX		(192 * MiB)
#define HOARD_LEN	(160 * MiB)
#define MORE_LEN	(128 * MiB)
#define BYSTANDER_LEN	(64 * MiB)

enum { V4_RSS, V4_MADVISE, V4_SWAP };

/* @len committed and written with fill_pages(@seed); NULL on failure. */
static char *hold(int fd, size_t len, uint64_t seed)
{
	char *p = ntmem_reserve_any(fd, len);

	if (!p || ntmem_commit(fd, p, len, NTMEM_PAGE_READWRITE, 0))
		return NULL;
	fill_pages(p, len, seed);
	return p;
}

static int handshake(int ready, int go)
{
	char c = 'r';

	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		return -EPIPE;
	return 0;
}

/*
 * The hoarder: 160 MiB committed and written, unmapped (MADV_DONTNEED
 * drops only the PTEs of ntmem's shared mapping), then 128 MiB more.
 */
static void hoarder(int ready, int go, struct result *res)
{
	long swapfree0 = meminfo_kb("SwapFree");
	char *p, *q;
	int fd, ret;

	ret = memcg_join(CG4);
	if (ret)
		_exit(10);
	fd = ntmem_open();
	p = fd < 0 ? NULL : hold(fd, HOARD_LEN, 0x5eed0004);
	if (!p)
		_exit(11);
	res->v[V4_MADVISE] = madvise(p, HOARD_LEN, MADV_DONTNEED) ? -errno : 0;
	res->v[V4_RSS] = rss_kb();
	if (handshake(ready, go))
		_exit(12);
	q = hold(fd, MORE_LEN, 0x5eed0005);
	if (!q)
		_exit(13);
	res->v[V4_SWAP] = swap_used(CG4, swapfree0);
	res->bad_page = check_pages(p, HOARD_LEN, 0x5eed0004);
	if (res->bad_page >= 0)
		_exit(14);
	res->bad_page = check_pages(q, MORE_LEN, 0x5eed0005);
	if (res->bad_page >= 0)
		_exit(15);
	_exit(0);
}

/* Outside the group: 64 MiB of ntmem memory, intact at the end. */
static void bystander(int ready, int go, struct result *res)
{
	int fd = ntmem_open();
	char *p = fd < 0 ? NULL : hold(fd, BYSTANDER_LEN, 0x5eed0006);

	(void)res;
	if (!p)
		_exit(20);
	if (handshake(ready, go))
		_exit(21);
	_exit(check_pages(p, BYSTANDER_LEN, 0x5eed0006) == -1 ? 0 : 22);
}

static pid_t spawn(void (*fn)(int, int, struct result *), struct result *res,
		   int *ready, int *go)
{
	int r[2], g[2];
	pid_t pid;

	if (pipe(r) || pipe(g))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid) {
		close(r[0]);
		close(g[1]);
		fn(r[1], g[0], res);
		_exit(1);
	}
	close(r[1]);
	close(g[0]);
	*ready = r[0];
	*go = g[1];
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/*
 * The memory of a process is still its memory when nothing maps it: the
 * hoarder's 160 MiB stay charged to its group after MADV_DONTNEED, and
 * when it asks for 128 MiB more, its group pays (swaps, or without swap
 * OOM-kills in the group), not a bystander outside the group.
 */
TEST_F_TIMEOUT(swap, oom_sees_unmapped_memory, 300)
{
	struct result *res = self->res;
	int h_ready, h_go, b_ready, b_go, h_ret, b_ret;
	long current, oom_kill, peak, h_score, b_score;
	char path[64];
	bool swap = have_swap();
	pid_t h, b;
	char c;

	REQUIRE_MEMCG();
	if (swap && meminfo_kb("SwapFree") < (long)(256 * KiB))
		SKIP(return, "less than 256 MiB of swap free");
	ASSERT_EQ(0, memcg_create(CG4, CG4_MAX));
	self->cg = CG4;

	b = spawn(bystander, res, &b_ready, &b_go);
	ASSERT_LT(0, b);
	ASSERT_EQ(1, read(b_ready, &c, 1)) TH_LOG("the bystander died");
	h = spawn(hoarder, res, &h_ready, &h_go);
	ASSERT_LT(0, h);
	if (read(h_ready, &c, 1) != 1) {
		h_ret = wait_status(h);
		kill(b, SIGKILL);
		wait_status(b);
		ASSERT_TRUE(0) TH_LOG("the hoarder died before its second step: %s (oom_kill %ld)",
				      child_status(h_ret),
				      memcg_key(CG4, "memory.events", "oom_kill"));
	}
	current = memcg_read(CG4, "memory.current");
	/* for the log: what the OOM killer's badness makes of the two */
	snprintf(path, sizeof(path), "/proc/%d/oom_score", h);
	h_score = read_long_file(path);
	snprintf(path, sizeof(path), "/proc/%d/oom_score", b);
	b_score = read_long_file(path);
	ASSERT_EQ(1, write(h_go, "g", 1));
	h_ret = wait_status(h);
	oom_kill = memcg_key(CG4, "memory.events", "oom_kill");
	peak = memcg_read(CG4, "memory.peak");	/* 5.19 and later */
	ASSERT_EQ(1, write(b_go, "g", 1));
	b_ret = wait_status(b);
	TH_LOG("%s swap: after MADV_DONTNEED (%s) of %lu MiB: hoarder's RSS %ld MiB, group's memory.current %ld MiB, oom_score hoarder %ld bystander %ld; then %lu MiB more: hoarder %s, oom_kill %ld, group's swap %ld MiB, memory.peak %ld MiB; bystander %s",
	       swap ? "with" : "without",
	       res->v[V4_MADVISE] ? strerror(-res->v[V4_MADVISE]) : "ok",
	       HOARD_LEN / MiB, MIB(res->v[V4_RSS] * (long)KiB), MIB(current),
	       h_score, b_score,
	       MORE_LEN / MiB, child_status(h_ret), oom_kill,
	       MIB(res->v[V4_SWAP]), MIB(peak),
	       child_status(b_ret));
	ASSERT_EQ(0, res->v[V4_MADVISE]);
	/* the PTEs went ... */
	ASSERT_GT(64L * 1024, res->v[V4_RSS]);
	/* ... the charge stayed */
	ASSERT_LE((long)(150 * MiB), current);
	/*
	 * Within the limit, give or take the few pages the kernel charges
	 * past it for itself while it reclaims (splitting a huge page to
	 * swap it out allocates)
	 */
	ASSERT_GE((long)CG4_MAX + (long)(256 * KiB), peak);
	ASSERT_EQ(0, b_ret) TH_LOG("the bystander outside the group paid");
	if (swap) {
		/* 288 MiB in 192: the group swaps 96 MiB and more */
		ASSERT_EQ(0, oom_kill) TH_LOG("the group OOM-killed instead of swapping");
		ASSERT_EQ(0, h_ret) TH_LOG("hoarder: %s (page %ld wrong)",
					   child_status(h_ret), res->bad_page);
		ASSERT_LE((long)(64 * MiB), res->v[V4_SWAP]);
	} else {
		ASSERT_LE(1, oom_kill);
		ASSERT_EQ(128 + SIGKILL, h_ret);
	}
}

/*
 * A committed block gets a 2 MiB page when anonymous memory would, except
 * while swap is on where the kernel swaps shmem out a page at a time
 * (before 6.12): there reclaim leaves the written pages of a split huge
 * page in RAM and in swap at once, and committed memory could not all be
 * touched (docs/design.md, "Huge pages").  Runs with swap and without.
 */
TEST_F(swap, huge_pages_where_swap_out_keeps_up)
{
	bool want = !swap_splits_huge_pages();
	long kb = -1, bad = -2;
	char saved[16], *p, *b;
	int fd = ntmem_open();

	ASSERT_LE(0, fd);
	if (bracketed_word(THP_ENABLED, saved, sizeof(saved)))
		SKIP(close(fd); return, "no %s", THP_ENABLED);
	if (write_text_file(THP_ENABLED, "always"))
		SKIP(close(fd); return, "cannot set the THP policy");
	usleep(1100 * 1000);	/* the module reads the policy once a second */
	p = anon_gets_thp() ? ntmem_reserve_any(fd, 3 * HPAGE) : NULL;
	if (p) {
		b = (char *)(((uintptr_t)p + HPAGE - 1) &
			     ~(uintptr_t)(HPAGE - 1));
		if (!ntmem_commit(fd, b, 2 * HPAGE, NTMEM_PAGE_READWRITE, 0)) {
			fill_pattern(b, 2 * HPAGE, 5);
			kb = smaps_field_kb(b, "ShmemPmdMapped");
			bad = check_pattern(b, 2 * HPAGE, 5);
		}
		ntmem_release(fd, p, 0);
	}
	write_text_file(THP_ENABLED, saved);
	close(fd);
	if (!p)
		SKIP(return, "anonymous memory gets no huge page here either");
	ASSERT_EQ(-1, bad);
	ASSERT_EQ(want ? 2 * HPAGE_KB : 0, kb)
		TH_LOG("SwapTotal %ld kB", meminfo_kb("SwapTotal"));
}

TEST_HARNESS_MAIN
