// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem-bench: time each ntmem operation against the Linux primitive that
 * does the nearest thing, both measured in the same run, and print one
 * Markdown table.  Meant for a guest booted with -icount, where the clock
 * counts instructions and the figures repeat from run to run.
 *
 * Timing never fails the run: the exit status is 1 only if an operation
 * returned an error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/userfaultfd.h>

#include <ntmem/windows.h>
#include <uapi/ntmem.h>

#include "bench_guest.h"
#include "bench_notes.h"
#include "bench_util.h"

#define KIB		1024ULL
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define TIB		(1024 * GIB)

#define WARMUP		1
#define REPS		5

#define RESERVE_ITERS	200	/* row 1: reserve/commit/touch/release */
#define RANGE_BYTES	(4 * MIB)	/* rows 3 and 4 */
#define DROP_REPS	9
#define PROTECT_ITERS	2000	/* row 5: pairs of protection changes */
#define QUERY_FEW	10	/* row 6 */
#define QUERY_MANY	10000
#define QUERY_ITERS	20000
#define LIB_ITERS	1000	/* rows 9: calls (or pairs) per repetition */
#define WR_REPS		9	/* rows 10: write-watch rounds */

static int ntfd = -1;
/* NTMEM_FEATURE_* of the module, read in print_banner() */
static uint64_t nt_features;
static size_t page;
static int failed;

/* ---- ntmem ioctl wrappers: 0 or a negative errno ---- */

static int nt_reserve(uint64_t len, uint64_t *base)
{
	struct ntmem_reserve r = { .size = sizeof(r), .length = len };

	if (ioctl(ntfd, NTMEM_IOC_RESERVE, &r))
		return -errno;
	*base = r.addr;
	return 0;
}

/* A range ioctl on @fd: /dev/ntmem or a process descriptor. */
static int nt_range_on(int fd, unsigned long cmd, uint64_t addr,
		       uint64_t len, uint32_t protect)
{
	struct ntmem_range r = {
		.size = sizeof(r), .addr = addr, .length = len,
		.protect = protect,
	};

	return ioctl(fd, cmd, &r) ? -errno : 0;
}

static int nt_range(unsigned long cmd, uint64_t addr, uint64_t len,
		    uint32_t protect)
{
	return nt_range_on(ntfd, cmd, addr, len, protect);
}

static int nt_commit(uint64_t addr, uint64_t len)
{
	return nt_range(NTMEM_IOC_COMMIT, addr, len, NTMEM_PAGE_READWRITE);
}

static int nt_release(uint64_t base)
{
	return nt_range(NTMEM_IOC_RELEASE, base, 0, 0);
}

/* PROTECT; with @old_out, the kernel stores the old protection there too. */
static int nt_protect_out(uint64_t addr, uint64_t len, uint32_t protect,
			  uint32_t *old_out)
{
	struct ntmem_protect p = {
		.size = sizeof(p), .addr = addr, .length = len,
		.protect = protect, .old_protect_out = (uintptr_t)old_out,
	};

	return ioctl(ntfd, NTMEM_IOC_PROTECT, &p) ? -errno : 0;
}


/*
 * Reserve @len and commit it read-write; on failure nothing is left.
 * Without @thp the reservation is advised MADV_NOHUGEPAGE, so that it gets
 * 4 KiB pages like the Linux side of a 4 KiB row; with it the system's THP
 * policy decides, as for a program's anonymous memory.
 */
static int nt_alloc_pages(uint64_t len, char **p, int thp)
{
	uint64_t base;
	int err;

	err = nt_reserve(len, &base);
	if (err)
		return err;
	if (!thp)
		madvise((void *)(uintptr_t)base, len, MADV_NOHUGEPAGE);
	err = nt_commit(base, len);
	if (err) {
		nt_release(base);
		return err;
	}
	*p = (char *)(uintptr_t)base;
	return 0;
}

static int nt_alloc(uint64_t len, char **p)
{
	return nt_alloc_pages(len, p, 0);
}

/* Anonymous private memory without transparent huge pages, so that both
 * sides fault 4 KiB pages. */
static int lx_alloc(size_t len, char **p)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -errno;
	madvise(m, len, MADV_NOHUGEPAGE);
	*p = m;
	return 0;
}

/*
 * Anonymous private memory as a program gets it by default: aligned to
 * 2 MiB, no madvise, so the system's THP policy decides (Debian: always).
 */
#define HUGE_BYTES	(2 * MIB)

static int lx_alloc_thp(size_t len, char **p)
{
	char *m = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t head;

	if (m == MAP_FAILED)
		return -errno;
	head = -(uintptr_t)m & (HUGE_BYTES - 1);
	if (head)
		munmap(m, head);
	munmap(m + head + len, HUGE_BYTES - head);
	*p = m + head;
	return 0;
}

/* AnonHugePages of this process, in KiB: did THP really happen? */
static long anon_huge_kib(void)
{
	return rollup_kib("AnonHugePages");
}

static void touch(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page)
		((volatile char *)p)[off] = 1;
}

/* ---- table ---- */

/* ROW_NA: the Linux side does not exist on this kernel ("n/a"). */
enum row_kind { ROW_RATIO, ROW_INFO, ROW_KIB, ROW_NA };

struct row {
	const char *id;
	const char *name;
	const char *linux_name;
	enum row_kind kind;
	double target;		/* max ratio, or max KiB for ROW_KIB */
	const char *target_text;
	double nt, lx;		/* ns/op, or KiB for ROW_KIB */
	int err;		/* negative errno of the failed operation */
};

#define FMT_ROW "| %-3s | %-52s | %11s | %-46s | %11s | %7s | %-24s | %-5s |\n"

static void print_header(void)
{
	printf(FMT_ROW, "#", "operation", "ntmem", "Linux primitive", "Linux",
	       "ratio", "target", "meets");
	printf("|-----|%.54s|%.13s|%.48s|%.13s|%.9s|%.26s|%.7s|\n",
	       "------------------------------------------------------------",
	       "-------------", "------------------------------------------------",
	       "-------------", "---------", "--------------------------",
	       "-------");
}

static void print_row(const struct row *r)
{
	char nt[32], lx[32], ratio[16], meets[8];
	const char *unit = r->kind == ROW_KIB ? "KiB" : "ns";

	if (r->err) {
		failed = 1;
		snprintf(nt, sizeof(nt), "error");
		printf(FMT_ROW, r->id, r->name, nt, r->linux_name, "-", "-",
		       strerror(-r->err), "-");
		fflush(stdout);
		return;
	}
	snprintf(nt, sizeof(nt), "%.0f %s", r->nt, unit);
	snprintf(lx, sizeof(lx), "%.0f %s", r->lx, unit);
	switch (r->kind) {
	case ROW_RATIO:
		snprintf(ratio, sizeof(ratio), "%.2fx", r->nt / r->lx);
		snprintf(meets, sizeof(meets), "%s",
			 r->nt / r->lx <= r->target ? "yes" : "no");
		break;
	case ROW_INFO:
		snprintf(ratio, sizeof(ratio), "%.2fx", r->nt / r->lx);
		snprintf(meets, sizeof(meets), "-");
		break;
	case ROW_KIB:
		snprintf(ratio, sizeof(ratio), "-");
		snprintf(meets, sizeof(meets), "%s",
			 r->nt < r->target ? "yes" : "no");
		break;
	case ROW_NA:
		snprintf(lx, sizeof(lx), "n/a");
		snprintf(ratio, sizeof(ratio), "-");
		snprintf(meets, sizeof(meets), "-");
		break;
	}
	printf(FMT_ROW, r->id, r->name, nt, r->linux_name, lx, ratio,
	       r->target_text, meets);
	fflush(stdout);
}

/* Measure both sides of a timed row; the first error wins. */
static void run_pair(struct row *r, bench_fn nt_fn, void *nt_ctx,
		     bench_fn lx_fn, void *lx_ctx, int reps)
{
	r->err = bench_run(nt_fn, nt_ctx, WARMUP, reps, &r->nt);
	if (!r->err)
		r->err = bench_run(lx_fn, lx_ctx, WARMUP, reps, &r->lx);
}

/* ---- row 1: reserve + commit + touch one page + release ---- */

static int nt_lifecycle(void *ctx, uint64_t *ns, uint64_t *ops)
{
	uint64_t t0, base;
	int i, err, rel;

	(void)ctx;
	t0 = bench_now_ns();
	for (i = 0; i < RESERVE_ITERS; i++) {
		err = nt_reserve(NTMEM_GRANULARITY, &base);
		if (err)
			return err;
		err = nt_commit(base, NTMEM_GRANULARITY);
		if (!err)
			*(volatile char *)(uintptr_t)base = 1;
		rel = nt_release(base);
		if (err || rel)
			return err ? err : rel;
	}
	*ns = bench_now_ns() - t0;
	*ops = RESERVE_ITERS;
	return 0;
}

/*
 * @iters times: RESERVE of 64 KiB that commits too (MEM_RESERVE |
 * MEM_COMMIT), a touch of its first page if @touch, RELEASE.
 */
static int nt_reserve_commit_release_on(int fd, int iters, bool touch,
					uint64_t *ns, uint64_t *ops)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .flags = NTMEM_RESERVE_COMMIT,
		.length = NTMEM_GRANULARITY, .protect = NTMEM_PAGE_READWRITE,
	};
	uint64_t t0;
	int i, rel;

	t0 = bench_now_ns();
	for (i = 0; i < iters; i++) {
		r.addr = 0;
		if (ioctl(fd, NTMEM_IOC_RESERVE, &r))
			return -errno;
		if (touch)
			*(volatile char *)(uintptr_t)r.addr = 1;
		rel = nt_range_on(fd, NTMEM_IOC_RELEASE, r.addr, 0, 0);
		if (rel)
			return rel;
	}
	*ns = bench_now_ns() - t0;
	*ops = iters;
	return 0;
}

static int nt_reserve_commit_release(int iters, bool touch, uint64_t *ns,
				     uint64_t *ops)
{
	return nt_reserve_commit_release_on(ntfd, iters, touch, ns, ops);
}

/* The same with one RESERVE that commits too (MEM_RESERVE | MEM_COMMIT). */
static int nt_lifecycle_one_call(void *ctx, uint64_t *ns, uint64_t *ops)
{
	(void)ctx;
	return nt_reserve_commit_release(RESERVE_ITERS, true, ns, ops);
}

static int lx_lifecycle(void *ctx, uint64_t *ns, uint64_t *ops)
{
	uint64_t t0;
	void *p;
	int i;

	(void)ctx;
	t0 = bench_now_ns();
	for (i = 0; i < RESERVE_ITERS; i++) {
		p = mmap(NULL, NTMEM_GRANULARITY, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		if (mprotect(p, NTMEM_GRANULARITY, PROT_READ | PROT_WRITE)) {
			munmap(p, NTMEM_GRANULARITY);
			return -errno;
		}
		*(volatile char *)p = 1;
		if (munmap(p, NTMEM_GRANULARITY))
			return -errno;
	}
	*ns = bench_now_ns() - t0;
	*ops = RESERVE_ITERS;
	return 0;
}

/* ---- row 2: first-touch faults ---- */

struct touch_ctx {
	size_t len;
	int thp;		/* both sides: the system's THP policy */
	long huge_kib;		/* AnonHugePages seen after a touch */
	long nt_huge_kib;	/* ShmemPmdMapped seen after an ntmem touch */
};

static int nt_first_touch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct touch_ctx *c = ctx;
	size_t len = c->len;
	uint64_t t0;
	char *p;
	int err;

	err = nt_alloc_pages(len, &p, c->thp);
	if (err)
		return err;
	t0 = bench_now_ns();
	touch(p, len);
	*ns = bench_now_ns() - t0;
	*ops = len / page;
	c->nt_huge_kib = rollup_kib("ShmemPmdMapped");
	return nt_release((uintptr_t)p);
}

static int lx_first_touch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct touch_ctx *c = ctx;
	size_t len = c->len;
	uint64_t t0;
	char *p;
	int err;

	err = c->thp ? lx_alloc_thp(len, &p) : lx_alloc(len, &p);
	if (err)
		return err;
	t0 = bench_now_ns();
	touch(p, len);
	*ns = bench_now_ns() - t0;
	*ops = len / page;
	c->huge_kib = anon_huge_kib();
	return munmap(p, len) ? -errno : 0;
}

/* ---- rows 3 and 4: drop a touched range; the range lives across reps ---- */

/*
 * Each repetition writes every page of the range, then times the drop.
 * With @fresh the pages are newly faulted (the range is emptied first,
 * untimed); without it the same pages are written again, which is the
 * cheaper case for MADV_FREE: its pages are already on the lazy-free list.
 */
struct drop_ctx {
	char *p;
	unsigned long cmd;	/* ntmem ioctl */
	int advice;		/* madvise */
	int fresh;
	int thp;		/* Linux side: the system's THP policy */
};

static int nt_drop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct drop_ctx *c = ctx;
	uint64_t t0, addr = (uintptr_t)c->p;
	int err = 0;

	if (c->fresh)
		err = nt_range(NTMEM_IOC_DECOMMIT, addr, RANGE_BYTES, 0);
	/* After DECOMMIT the range must be committed again before a touch. */
	if (!err && (c->fresh || c->cmd == NTMEM_IOC_DECOMMIT))
		err = nt_commit(addr, RANGE_BYTES);
	if (err)
		return err;
	touch(c->p, RANGE_BYTES);
	t0 = bench_now_ns();
	err = nt_range(c->cmd, addr, RANGE_BYTES, 0);
	*ns = bench_now_ns() - t0;
	*ops = RANGE_BYTES / page;
	return err;
}

static int lx_drop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct drop_ctx *c = ctx;
	uint64_t t0;
	int err;

	if (c->fresh && madvise(c->p, RANGE_BYTES, MADV_DONTNEED))
		return -errno;
	touch(c->p, RANGE_BYTES);
	t0 = bench_now_ns();
	err = madvise(c->p, RANGE_BYTES, c->advice) ? -errno : 0;
	*ns = bench_now_ns() - t0;
	*ops = RANGE_BYTES / page;
	return err;
}

static void row_drop(struct row *r, unsigned long cmd, int advice, int fresh,
		     int thp)
{
	struct drop_ctx nt = { .cmd = cmd, .fresh = fresh, .thp = thp };
	struct drop_ctx lx = { .advice = advice, .fresh = fresh, .thp = thp };
	int err;

	r->err = nt_alloc_pages(RANGE_BYTES, &nt.p, thp);
	if (r->err)
		return;
	r->err = thp ? lx_alloc_thp(RANGE_BYTES, &lx.p) :
		       lx_alloc(RANGE_BYTES, &lx.p);
	if (!r->err) {
		run_pair(r, nt_drop, &nt, lx_drop, &lx, DROP_REPS);
		munmap(lx.p, RANGE_BYTES);
	}
	err = nt_release((uintptr_t)nt.p);
	if (!r->err)
		r->err = err;
}

/* ---- row 5: one-page protection flip inside a touched 64 KiB region ---- */

/* The middle page, so that mprotect has to split and re-merge its VMA. */
#define FLIP_PAGE	8

/* @iters times page @addr read-only and back, with PROTECT ioctls. */
static int nt_flip_loop(uint64_t addr, int iters, uint32_t *old_out,
			uint64_t *ns, uint64_t *ops)
{
	uint64_t t0;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < iters; i++) {
		err = nt_protect_out(addr, page, NTMEM_PAGE_READONLY, old_out);
		if (!err)
			err = nt_protect_out(addr, page, NTMEM_PAGE_READWRITE,
					     old_out);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = 2 * iters;
	return 0;
}

static int nt_flip(void *ctx, uint64_t *ns, uint64_t *ops)
{
	return nt_flip_loop((uintptr_t)ctx + FLIP_PAGE * page, PROTECT_ITERS,
			    NULL, ns, ops);
}

static int lx_flip(void *ctx, uint64_t *ns, uint64_t *ops)
{
	char *addr = (char *)ctx + FLIP_PAGE * page;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < PROTECT_ITERS; i++) {
		if (mprotect(addr, page, PROT_READ) ||
		    mprotect(addr, page, PROT_READ | PROT_WRITE))
			return -errno;
	}
	*ns = bench_now_ns() - t0;
	*ops = 2 * PROTECT_ITERS;
	return 0;
}

static void row_flip(struct row *r)
{
	char *nt, *lx;
	int err;

	r->err = nt_alloc(NTMEM_GRANULARITY, &nt);
	if (r->err)
		return;
	r->err = lx_alloc(NTMEM_GRANULARITY, &lx);
	if (!r->err) {
		touch(nt, NTMEM_GRANULARITY);
		touch(lx, NTMEM_GRANULARITY);
		run_pair(r, nt_flip, nt, lx_flip, lx, REPS);
		munmap(lx, NTMEM_GRANULARITY);
	}
	err = nt_release((uintptr_t)nt);
	if (!r->err)
		r->err = err;
}

/* ---- row 6: QUERY against many reservations ---- */

struct query_ctx {
	uint64_t *bases;	/* 64 KiB reservations or mappings */
	int n;
	uint64_t *addrs;	/* QUERY_ITERS random pages among them */
};

static void query_pick(struct query_ctx *c)
{
	uint64_t seed = 42;
	int i;

	for (i = 0; i < QUERY_ITERS; i++)
		c->addrs[i] = c->bases[bench_rand(&seed) % c->n] +
			      (bench_rand(&seed) % (NTMEM_GRANULARITY / page)) *
			      page;
}

static int nt_query_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct query_ctx *c = ctx;
	struct ntmem_query q;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < QUERY_ITERS; i++) {
		/* Fresh each time: the out fields must be zero going in. */
		q = (struct ntmem_query){ .size = sizeof(q),
					  .addr = c->addrs[i] };
		if (ioctl(ntfd, NTMEM_IOC_QUERY, &q))
			return -errno;
		/* Cheap check that QUERY found the right reservation. */
		if (q.alloc_base != (c->addrs[i] & ~(NTMEM_GRANULARITY - 1)))
			return -EPROTO;
	}
	*ns = bench_now_ns() - t0;
	*ops = QUERY_ITERS;
	return 0;
}

static int lx_query_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct query_ctx *c = ctx;
	unsigned char vec;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < QUERY_ITERS; i++)
		if (mincore((void *)(uintptr_t)c->addrs[i], page, &vec))
			return -errno;
	*ns = bench_now_ns() - t0;
	*ops = QUERY_ITERS;
	return 0;
}

/* Grow to @n reservations, each with its first page committed. */
static int nt_query_grow(struct query_ctx *c, int n)
{
	int err;

	for (; c->n < n; c->n++) {
		err = nt_reserve(NTMEM_GRANULARITY, &c->bases[c->n]);
		if (!err)
			err = nt_commit(c->bases[c->n], page);
		if (err)
			return err;
	}
	query_pick(c);
	return 0;
}

/*
 * @n separate anonymous 64 KiB mappings: one block with every second
 * 64 KiB unmapped, so that no two of them merge into one VMA.
 */
static int lx_query_map(struct query_ctx *c, int n, char **block)
{
	size_t len = (size_t)n * 2 * NTMEM_GRANULARITY;
	char *p;
	int i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	for (i = 0; i < n; i++) {
		c->bases[i] = (uintptr_t)p + (uint64_t)i * 2 * NTMEM_GRANULARITY;
		if (munmap((void *)(uintptr_t)(c->bases[i] + NTMEM_GRANULARITY),
			   NTMEM_GRANULARITY)) {
			munmap(p, len);
			return -errno;
		}
	}
	c->n = n;
	*block = p;
	query_pick(c);
	return 0;
}

static void row_query(struct row *few, struct row *many)
{
	static uint64_t bases[QUERY_MANY], addrs[QUERY_ITERS];
	struct query_ctx c = { .bases = bases, .addrs = addrs };
	char *block;
	int i, err;

	few->err = nt_query_grow(&c, QUERY_FEW);
	if (!few->err)
		few->err = bench_run(nt_query_loop, &c, WARMUP, REPS, &few->nt);
	many->err = few->err;
	if (!many->err)
		many->err = nt_query_grow(&c, QUERY_MANY);
	if (!many->err)
		many->err = bench_run(nt_query_loop, &c, WARMUP, REPS,
				      &many->nt);
	for (i = 0; i < c.n; i++) {
		err = nt_release(bases[i]);
		if (!many->err)
			many->err = err;
	}
	if (few->err || many->err)
		return;

	few->err = lx_query_map(&c, QUERY_FEW, &block);
	if (!few->err) {
		few->err = bench_run(lx_query_loop, &c, WARMUP, REPS, &few->lx);
		munmap(block, (size_t)QUERY_FEW * 2 * NTMEM_GRANULARITY);
	}
	many->err = few->err;
	if (!many->err)
		many->err = lx_query_map(&c, QUERY_MANY, &block);
	if (!many->err) {
		many->err = bench_run(lx_query_loop, &c, WARMUP, REPS,
				      &many->lx);
		munmap(block, (size_t)QUERY_MANY * 2 * NTMEM_GRANULARITY);
	}
}

/* ---- row 7: kernel memory of a 1 TiB reservation ---- */

enum { MI_FREE, MI_SLAB, MI_PGTABLES, MI_KSTACK, MI_VMALLOC, MI_PERCPU, MI_N };

static const char *const mi_names[MI_N] = {
	"MemFree:", "Slab:", "PageTables:", "KernelStack:", "VmallocUsed:",
	"Percpu:",
};

static int meminfo_fd = -1, stat_refresh_fd = -1;

/*
 * Read the fields in KiB.  Writing stat_refresh first folds the per-CPU
 * counter deltas, which otherwise hide changes of a few pages; the files
 * stay open so that reading them allocates little.
 */
static int meminfo(long long v[MI_N])
{
	static char buf[8192];
	ssize_t n;
	char *s;
	int i;

	if (stat_refresh_fd >= 0 && pwrite(stat_refresh_fd, "1\n", 2, 0) < 0)
		return -errno;
	n = pread(meminfo_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (i = 0; i < MI_N; i++) {
		s = strstr(buf, mi_names[i]);
		if (!s)
			return -ENOENT;
		v[i] = strtoll(s + strlen(mi_names[i]), NULL, 10);
	}
	return 0;
}

/*
 * Growth in KiB of each field (MemFree: its drop).  MemFree misses pages
 * taken from the per-CPU free lists, so the headline figure is the larger
 * of the MemFree drop and the growth of the kernel's own categories.
 */
struct kmem {
	long long d[MI_N];
	long long kernel;	/* Slab + PageTables + KernelStack + Vmalloc + Percpu */
	long long headline;
};

/* One map-and-touch of 1 TiB with ntmem (@nt) or mmap. */
static int kmem_once(int nt, long long d[MI_N])
{
	long long a[MI_N], b[MI_N];
	uint64_t base = 0;
	void *p;
	int i, err, rel;

	err = meminfo(a);
	if (err)
		return err;
	if (nt) {
		err = nt_reserve(TIB, &base);
		if (err)
			return err;
		err = nt_commit(base, page);
		p = (void *)(uintptr_t)base;
	} else {
		p = mmap(NULL, TIB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		err = mprotect(p, page, PROT_READ | PROT_WRITE) ? -errno : 0;
	}
	if (!err) {
		*(volatile char *)p = 1;
		err = meminfo(b);
	}
	if (nt)
		rel = nt_release(base);
	else
		rel = munmap(p, TIB) ? -errno : 0;
	if (err || rel)
		return err ? err : rel;
	for (i = 0; i < MI_N; i++)
		d[i] = b[i] - a[i];
	d[MI_FREE] = -d[MI_FREE];
	return 0;
}

/* Median of each field over REPS runs after one warm-up. */
static int kmem_median(int nt, struct kmem *m)
{
	long long d[MI_N];
	double f[MI_N][REPS];
	int i, j, err;

	for (i = -WARMUP; i < REPS; i++) {
		err = kmem_once(nt, d);
		if (err)
			return err;
		for (j = 0; i >= 0 && j < MI_N; j++)
			f[j][i] = (double)d[j];
	}
	m->kernel = 0;
	for (j = 0; j < MI_N; j++) {
		m->d[j] = (long long)bench_median(f[j], REPS);
		if (j != MI_FREE)
			m->kernel += m->d[j];
	}
	m->headline = m->d[MI_FREE] > m->kernel ? m->d[MI_FREE] : m->kernel;
	return 0;
}

static void kmem_note(const char *who, const struct kmem *k)
{
	note("- row 7 %s: MemFree %+lld KiB; Slab %+lld, PageTables %+lld, KernelStack %+lld, VmallocUsed %+lld, Percpu %+lld (sum %+lld KiB)\n",
	       who, -k->d[MI_FREE], k->d[MI_SLAB], k->d[MI_PGTABLES],
	       k->d[MI_KSTACK], k->d[MI_VMALLOC], k->d[MI_PERCPU], k->kernel);
}

/* ---- main ---- */

/* The module's counters: all but contexts should be back to zero now. */
static void print_counters(void)
{
	static const char *const names[] = {
		"reservations", "committed_pages", "resident_pages",
		"reset_pages", "contexts",
	};
	char path[96], buf[32];
	unsigned int i;
	FILE *f;

	printf("- module counters after the run:");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/misc/ntmem/%s",
			 names[i]);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f))
			snprintf(buf, sizeof(buf), "?");
		if (f)
			fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		printf(" %s=%s", names[i], buf);
	}
	printf("\n");
}

static long long mem_available_kib(void)
{
	char line[128];
	long long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Under icount every iteration of a rep-prefixed string instruction counts
 * as one instruction: with ERMS/FSRM the kernel zeroes and copies with
 * rep stosb/movsb, so byte counts show up as nanoseconds.  Say so.
 */
static void print_cpu(void)
{
	char line[4096], model[128] = "?";
	int erms = 0, fsrm = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':'))
			snprintf(model, sizeof(model), "%s",
				 strchr(line, ':') + 2);
		if (!strncmp(line, "flags", 5)) {
			erms = !!strstr(line, " erms");
			fsrm = !!strstr(line, " fsrm");
			break;
		}
	}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	printf("cpu:    %s; erms %s, fsrm %s\n", model, erms ? "yes" : "no",
	       fsrm ? "yes" : "no");
}

static void print_banner(double waited)
{
	struct ntmem_version v = { .size = sizeof(v) };
	struct utsname u;
	char date[64];
	time_t t = time(NULL);

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("kernel: %s %s %s %s\n", u.sysname, u.release, u.version,
	       u.machine);
	printf("date:   %s\n", date);
	print_cpu();
	if (waited >= 0)
		printf("quiet:  no other runnable task after %.1f s\n", waited);
	else
		printf("quiet:  other tasks still runnable after %.1f s: figures may be high\n",
		       -waited);
	if (ioctl(ntfd, NTMEM_IOC_VERSION, &v) == 0) {
		nt_features = v.features;
		printf("ntmem:  ABI %u.%u, features 0x%llx, page %llu\n",
		       v.major, v.minor, (unsigned long long)v.features,
		       (unsigned long long)v.page_size);
	} else {
		printf("ntmem:  VERSION failed: %s\n", strerror(errno));
	}
	printf("times:  guest ns per operation, median of %d repetitions after %d warm-up (rows 3-4: %d, rows 10: %d)\n\n",
	       REPS, WARMUP, DROP_REPS, WR_REPS);
}

static void row1(void)
{
	struct row r = { "1a", "reserve 64 KiB + commit RW + touch 1 page + release",
		"mmap NONE + mprotect RW + touch + munmap", ROW_RATIO, 0.8,
		"<= 0.8x", 0, 0, 0 };

	run_pair(&r, nt_lifecycle, NULL, lx_lifecycle, NULL, REPS);
	print_row(&r);
}

static void row1b(void)
{
	struct row r = { "1b", "reserve+commit 64 KiB (one call) + touch + release",
		"mmap NONE + mprotect RW + touch + munmap", ROW_RATIO, 0.8,
		"<= 0.8x", 0, 0, 0 };

	run_pair(&r, nt_lifecycle_one_call, NULL, lx_lifecycle, NULL, REPS);
	print_row(&r);
}

static void row_first_touch(const char *id, int thp, double target,
			    const char *target_text)
{
	static char name[2][64], lname[2][64];
	struct touch_ctx c = { 0, thp, -1, -1 };
	struct row r = { id, name[thp], lname[thp], ROW_RATIO, target,
		target_text, 0, 0, 0 };

	/* 256 MiB when the guest has room for it beside everything else. */
	c.len = mem_available_kib() >= 384 * 1024 ? 256 * MIB : 64 * MIB;
	snprintf(name[thp], sizeof(name[thp]),
		 "first-touch fault per %s, %zu MiB committed",
		 thp ? "4 KiB" : "page", (size_t)(c.len / MIB));
	snprintf(lname[thp], sizeof(lname[thp]),
		 "anon mmap %zu MiB first touch (%s%s)", (size_t)(c.len / MIB),
		 thp ? "THP " : "no THP", thp ? thp_policy() : "");
	run_pair(&r, nt_first_touch, &c, lx_first_touch, &c, REPS);
	print_row(&r);
	if (thp)
		note("- row %s: THP policy %s; after the touch, AnonHugePages %ld KiB (Linux) and ShmemPmdMapped %ld KiB (ntmem) of %zu\n",
		     id, thp_policy(), c.huge_kib, c.nt_huge_kib,
		     (size_t)(c.len / KIB));
}

static void row2(void)
{
	row_first_touch("2", 0, 1.05, "<= 1.05x");
}

/* Issue 12's huge-page rows: Linux memory as Debian gives it (THP on). */
static void row2h(void)
{
	row_first_touch("2h", 1, 1.1, "<= 1.1x");
}

/* Rows 3 and 4: a drop of a touched 4 MiB range against its madvise. */
static const struct drop_row {
	const char *id, *name, *linux_name;
	unsigned long cmd;
	int advice, fresh, thp;
} drop_rows[] = {
	{ "3", "DECOMMIT touched 4 MiB, per page",
	  "madvise(MADV_DONTNEED) 4 MiB, per page",
	  NTMEM_IOC_DECOMMIT, MADV_DONTNEED, 1, 0 },
	{ "3h", "DECOMMIT touched 4 MiB, per 4 KiB",
	  "madvise(MADV_DONTNEED) 4 MiB THP, per 4 KiB",
	  NTMEM_IOC_DECOMMIT, MADV_DONTNEED, 1, 1 },
	{ "4a", "RESET touched 4 MiB (new pages), per page",
	  "madvise(MADV_FREE) 4 MiB (new pages), per page",
	  NTMEM_IOC_RESET, MADV_FREE, 1, 0 },
	{ "4b", "RESET 4 MiB again after rewrite, per page",
	  "madvise(MADV_FREE) again after rewrite",
	  NTMEM_IOC_RESET, MADV_FREE, 0, 0 },
	{ "4h", "RESET touched 4 MiB (new pages), per 4 KiB",
	  "madvise(MADV_FREE) 4 MiB THP, per 4 KiB",
	  NTMEM_IOC_RESET, MADV_FREE, 1, 1 },
};

static void run_drop_row(const char *id)
{
	for (size_t i = 0; i < sizeof(drop_rows) / sizeof(drop_rows[0]); i++) {
		const struct drop_row *d = &drop_rows[i];
		struct row r = { d->id, d->name, d->linux_name, ROW_RATIO, 1.2,
			"<= 1.2x", 0, 0, 0 };

		if (strcmp(d->id, id))
			continue;
		row_drop(&r, d->cmd, d->advice, d->fresh, d->thp);
		print_row(&r);
	}
}

static void row3(void) { run_drop_row("3"); }
static void row3h(void) { run_drop_row("3h"); }
static void row4a(void) { run_drop_row("4a"); }
static void row4b(void) { run_drop_row("4b"); }
static void row4h(void) { run_drop_row("4h"); }

static void row5(void)
{
	struct row r = { "5", "PROTECT 1 page RO<->RW in touched 64 KiB",
		"mprotect 1 page R<->RW in 64 KiB", ROW_RATIO, 1.0,
		"<= 1.0x", 0, 0, 0 };

	row_flip(&r);
	print_row(&r);
}

static void row6(void)
{
	static char scale[32];
	struct row few = { "6a", "QUERY at random page, 10 reservations",
		"mincore 1 page, 10 mappings", ROW_INFO, 0, "none", 0, 0, 0 };
	struct row many = { "6b", "QUERY at random page, 10000 reservations",
		"mincore 1 page, 10000 mappings", ROW_INFO, 0, "none",
		0, 0, 0 };

	row_query(&few, &many);
	if (!few.err && !many.err) {
		snprintf(scale, sizeof(scale), "none; 10000/10 = %.2fx",
			 many.nt / few.nt);
		many.target_text = scale;
		note("- row 6 scaling 10000/10: QUERY %.2fx, mincore %.2fx\n",
		     many.nt / few.nt, many.lx / few.lx);
	}
	print_row(&few);
	print_row(&many);
}

/* ---- row 8: finding the written pages of 1 GiB, 1% written ---- */

#define WW_SPAN		(1UL << 30)
#define WW_EVERY	100

struct ww_ctx {
	char *p;
	uint64_t *out;
	size_t npages, written;
	int pagemap;
};

static int nt_write_watch_scan(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct ww_ctx *c = ctx;
	struct ntmem_write_watch w = {
		.size = sizeof(w), .addr = (uintptr_t)c->p, .length = WW_SPAN,
		.pages = (uintptr_t)c->out, .count = c->npages,
	};
	uint64_t t0 = bench_now_ns();

	if (ioctl(ntfd, NTMEM_IOC_GET_WRITE_WATCH, &w))
		return -errno;
	*ns = bench_now_ns() - t0;
	*ops = 1;
	return w.count == c->written ? 0 : -EIO;
}

/* Linux's way: soft-dirty bits (bit 55) read from /proc/self/pagemap. */
static int lx_soft_dirty_scan(void *ctx, uint64_t *ns, uint64_t *ops)
{
	static uint64_t buf[8192];
	struct ww_ctx *c = ctx;
	off_t off = (uintptr_t)c->p / page * sizeof(uint64_t);
	uint64_t t0 = bench_now_ns();
	size_t i, j, found = 0;

	for (i = 0; i < c->npages; i += 8192) {
		if (pread(c->pagemap, buf, sizeof(buf),
			  off + i * sizeof(uint64_t)) != sizeof(buf))
			return -EIO;
		for (j = 0; j < 8192; j++)
			found += (buf[j] >> 55) & 1;
	}
	*ns = bench_now_ns() - t0;
	*ops = 1;
	return found == c->written ? 0 : -EIO;
}

static void row8(void)
{
	struct row r = { "8", "GET_WRITE_WATCH, 1 GiB with 1% written",
		"pagemap soft-dirty scan of 1 GiB", ROW_INFO, 0,
		"far below touching 1 GiB", 0, 0, 0 };
	struct ww_ctx nt = { 0 }, lx = { 0 };
	struct ntmem_reserve res = {
		.size = sizeof(res), .length = WW_SPAN,
		.flags = NTMEM_RESERVE_WRITE_WATCH | NTMEM_RESERVE_COMMIT,
		.protect = NTMEM_PAGE_READWRITE,
	};
	int fd;
	size_t i;

	nt.npages = lx.npages = WW_SPAN / page;
	nt.out = calloc(nt.npages, sizeof(uint64_t));
	if (!nt.out || ioctl(ntfd, NTMEM_IOC_RESERVE, &res)) {
		r.err = -errno;
		goto out;
	}
	nt.p = (char *)(uintptr_t)res.addr;
	lx.p = mmap(NULL, WW_SPAN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	lx.pagemap = open("/proc/self/pagemap", O_RDONLY);
	fd = open("/proc/self/clear_refs", O_WRONLY);
	if (lx.p == MAP_FAILED || lx.pagemap < 0 || fd < 0 ||
	    write(fd, "4", 1) != 1) {
		r.err = -errno;
		goto out;
	}
	close(fd);
	madvise(lx.p, WW_SPAN, MADV_NOHUGEPAGE);
	for (i = 0; i < nt.npages; i += WW_EVERY) {
		nt.p[i * page] = 1;
		lx.p[i * page] = 1;
		nt.written++;
	}
	lx.written = nt.written;
	run_pair(&r, nt_write_watch_scan, &nt, lx_soft_dirty_scan, &lx, REPS);
out:
	print_row(&r);
	if (nt.p)
		nt_release((uintptr_t)nt.p);
	if (lx.p && lx.p != MAP_FAILED)
		munmap(lx.p, WW_SPAN);
	if (lx.pagemap > 0)
		close(lx.pagemap);
	free(nt.out);
}

static void row7(void)
{
	struct kmem knt = { 0 }, klx = { 0 };
	struct row r = { "7", "kernel memory, 1 TiB reserved + 1 page touched",
		"mmap 1 TiB NONE NORESERVE + mprotect + touch", ROW_KIB,
		1024, "< 1024 KiB", 0, 0, 0 };

	r.err = kmem_median(1, &knt);
	if (!r.err)
		r.err = kmem_median(0, &klx);
	r.nt = knt.headline;
	r.lx = klx.headline;
	print_row(&r);
	if (r.err)
		return;
	note("- row 7 figure = max(MemFree drop, kernel categories' growth); medians of %d\n",
	     REPS);
	kmem_note("ntmem", &knt);
	kmem_note("mmap", &klx);
}

/*
 * ---- rows 9: libntmem's Win32 calls against the raw ioctls they make ----
 *
 * The "ntmem" column is the library call and the "Linux" one the ioctl (or
 * ioctls) that does its work, made on this program's fd as in the other
 * rows; the library opens /dev/ntmem on its own at its first call, which
 * the warm-up takes.  Both sides work on the same region, one after the
 * other, so the ratio is the library's overhead.
 */

#define LIB_REGION	NTMEM_GRANULARITY
#define LIB_MAX_PAGES	(LIB_REGION / 4096)

struct lib_ctx {
	char *p;			/* the row's 64 KiB region, or NULL */
	PVOID lib_pages[LIB_MAX_PAGES];	/* GetWriteWatch's output */
	uint64_t raw_pages[LIB_MAX_PAGES];	/* GET_WRITE_WATCH's */
	/* where the raw side has the kernel store what the library asks */
	uint32_t old_protect, granularity;
	uint64_t count;
	struct ntmem_basic_info info;
};

/*
 * The raw side makes the ioctl the library makes: with USER_OUT the
 * library has the kernel store the Win32 out-parameters too.
 */
static bool raw_user_out(void)
{
	return nt_features & NTMEM_FEATURE_USER_OUT;
}

/* A library call failed: note which and its last error; fail the row. */
static int lib_failed(const char *call)
{
	note("- %s failed: GetLastError() = %lu\n", call,
	     (unsigned long)GetLastError());
	return -EIO;
}

/* 9a: one page's protection, RW to RO and back, in a touched region. */
static int lib_flip(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	char *addr = c->p + FLIP_PAGE * page;
	uint64_t t0;
	DWORD old;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		if (!VirtualProtect(addr, page, PAGE_READONLY, &old) ||
		    !VirtualProtect(addr, page, PAGE_READWRITE, &old))
			return lib_failed("VirtualProtect");
	}
	*ns = bench_now_ns() - t0;
	*ops = 2 * LIB_ITERS;
	return 0;
}

static int raw_flip(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;

	return nt_flip_loop((uintptr_t)c->p + FLIP_PAGE * page, LIB_ITERS,
			    raw_user_out() ? &c->old_protect : NULL, ns, ops);
}

/* 9b: one committed page; both check that the answer names the region. */
static int lib_query(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	char *addr = c->p + FLIP_PAGE * page;
	MEMORY_BASIC_INFORMATION m;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		if (VirtualQuery(addr, &m, sizeof(m)) != sizeof(m))
			return lib_failed("VirtualQuery");
		if (m.AllocationBase != c->p)
			return -EPROTO;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_query(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0, addr = (uintptr_t)c->p + FLIP_PAGE * page;
	struct ntmem_query q;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		q = (struct ntmem_query){ .size = sizeof(q), .addr = addr };
		if (raw_user_out())
			q.info = (uintptr_t)&c->info;
		if (ioctl(ntfd, NTMEM_IOC_QUERY, &q))
			return -errno;
		if (q.alloc_base != (uintptr_t)c->p)
			return -EPROTO;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

/* 9c: commit and decommit the first page of a reservation, untouched. */
static int lib_commit_decommit(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		if (VirtualAlloc(c->p, page, MEM_COMMIT, PAGE_READWRITE) != c->p)
			return lib_failed("VirtualAlloc(MEM_COMMIT)");
		if (!VirtualFree(c->p, page, MEM_DECOMMIT))
			return lib_failed("VirtualFree(MEM_DECOMMIT)");
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_commit_decommit(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0, addr = (uintptr_t)c->p;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		err = nt_commit(addr, page);
		if (!err)
			err = nt_range(NTMEM_IOC_DECOMMIT, addr, page, 0);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

/* 9d: a new committed 64 KiB allocation, untouched, released again. */
static int lib_alloc_release(void *ctx, uint64_t *ns, uint64_t *ops)
{
	uint64_t t0;
	void *p;
	int i;

	(void)ctx;
	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		p = VirtualAlloc(NULL, LIB_REGION, MEM_RESERVE | MEM_COMMIT,
				 PAGE_READWRITE);
		if (!p)
			return lib_failed("VirtualAlloc(MEM_RESERVE | MEM_COMMIT)");
		if (!VirtualFree(p, 0, MEM_RELEASE))
			return lib_failed("VirtualFree(MEM_RELEASE)");
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_alloc_release(void *ctx, uint64_t *ns, uint64_t *ops)
{
	(void)ctx;
	return nt_reserve_commit_release(LIB_ITERS, false, ns, ops);
}

/* 9e: lock and unlock the first page of a touched region. */
static int lib_lock_unlock(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		if (!VirtualLock(c->p, page))
			return lib_failed("VirtualLock");
		if (!VirtualUnlock(c->p, page))
			return lib_failed("VirtualUnlock");
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_lock_unlock(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0, addr = (uintptr_t)c->p;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		err = nt_range(NTMEM_IOC_LOCK, addr, page, 0);
		if (!err)
			err = nt_range(NTMEM_IOC_UNLOCK, addr, page, 0);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

/*
 * 9f: each round writes one page of the write-watch region (the next one
 * each time), untimed, then times the one call that reports it and makes
 * it clean again.  Both check that exactly that page came back.
 */
static int lib_get_write_watch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0, sum = 0;
	ULONG_PTR count;
	DWORD gran;
	UINT ret;
	char *w;
	int i, err;

	err = nt_range(NTMEM_IOC_RESET_WRITE_WATCH, (uintptr_t)c->p,
		       LIB_REGION, 0);
	if (err)
		return err;
	for (i = 0; i < LIB_ITERS; i++) {
		w = c->p + (i % (LIB_REGION / page)) * page;
		*(volatile char *)w = (char)i;
		count = LIB_MAX_PAGES;
		t0 = bench_now_ns();
		ret = GetWriteWatch(WRITE_WATCH_FLAG_RESET, c->p, LIB_REGION,
				    c->lib_pages, &count, &gran);
		sum += bench_now_ns() - t0;
		if (ret)
			return lib_failed("GetWriteWatch");
		if (count != 1 || c->lib_pages[0] != w)
			return -EPROTO;
	}
	*ns = sum;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_get_write_watch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	struct ntmem_write_watch ww;
	uint64_t t0, sum = 0;
	char *w;
	int i, err;

	err = nt_range(NTMEM_IOC_RESET_WRITE_WATCH, (uintptr_t)c->p,
		       LIB_REGION, 0);
	if (err)
		return err;
	for (i = 0; i < LIB_ITERS; i++) {
		w = c->p + (i % (LIB_REGION / page)) * page;
		*(volatile char *)w = (char)i;
		t0 = bench_now_ns();
		ww = (struct ntmem_write_watch){
			.size = sizeof(ww), .flags = NTMEM_WRITE_WATCH_RESET,
			.addr = (uintptr_t)c->p, .length = LIB_REGION,
			.pages = (uintptr_t)c->raw_pages,
			.count = LIB_MAX_PAGES,
		};
		if (raw_user_out()) {
			c->count = ww.count;
			ww.count = 0;
			ww.count_out = (uintptr_t)&c->count;
			ww.granularity_out = (uintptr_t)&c->granularity;
		}
		err = ioctl(ntfd, NTMEM_IOC_GET_WRITE_WATCH, &ww) ? -errno : 0;
		sum += bench_now_ns() - t0;
		if (err)
			return err;
		if (!raw_user_out())
			c->count = ww.count;
		if (c->count != 1 || c->raw_pages[0] != (uintptr_t)w)
			return -EPROTO;
	}
	*ns = sum;
	*ops = LIB_ITERS;
	return 0;
}

/* 9g: reset the whole write-watch region, nothing written in between. */
static int lib_reset_write_watch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++)
		if (ResetWriteWatch(c->p, LIB_REGION))
			return lib_failed("ResetWriteWatch");
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

static int raw_reset_write_watch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct lib_ctx *c = ctx;
	uint64_t t0;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		err = nt_range(NTMEM_IOC_RESET_WRITE_WATCH, (uintptr_t)c->p,
			       LIB_REGION, 0);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
}

/* The region a row 9 works on, made with raw ioctls for both sides. */
enum lib_region {
	LIB_NONE,		/* the row makes its own */
	LIB_RESERVED,		/* 64 KiB reserved, nothing committed */
	LIB_TOUCHED,		/* 64 KiB committed read-write and touched */
	LIB_WRITE_WATCH,	/* 64 KiB MEM_WRITE_WATCH, committed, clean */
};

static int lib_region_make(enum lib_region kind, char **p)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .length = LIB_REGION,
		.flags = NTMEM_RESERVE_WRITE_WATCH | NTMEM_RESERVE_COMMIT,
		.protect = NTMEM_PAGE_READWRITE,
	};
	uint64_t base;
	int err;

	*p = NULL;
	switch (kind) {
	case LIB_NONE:
		return 0;
	case LIB_RESERVED:
		err = nt_reserve(LIB_REGION, &base);
		if (!err)
			*p = (char *)(uintptr_t)base;
		return err;
	case LIB_TOUCHED:
		err = nt_alloc(LIB_REGION, p);
		if (!err)
			touch(*p, LIB_REGION);
		return err;
	case LIB_WRITE_WATCH:
		if (ioctl(ntfd, NTMEM_IOC_RESERVE, &r))
			return -errno;
		*p = (char *)(uintptr_t)r.addr;
		return 0;
	}
	return -EINVAL;
}

static const struct lib_row {
	const char *id, *name, *ioctl_name;
	bench_fn lib_fn, raw_fn;
	enum lib_region region;
} lib_rows[] = {
	{ "9a", "VirtualProtect 1 page RW<->RO in touched 64 KiB",
	  "NTMEM_IOC_PROTECT ioctl", lib_flip, raw_flip, LIB_TOUCHED },
	{ "9b", "VirtualQuery of a committed page",
	  "NTMEM_IOC_QUERY ioctl", lib_query, raw_query, LIB_TOUCHED },
	{ "9c", "VirtualAlloc+VirtualFree, COMMIT/DECOMMIT 1 page",
	  "NTMEM_IOC_COMMIT + NTMEM_IOC_DECOMMIT ioctls",
	  lib_commit_decommit, raw_commit_decommit, LIB_RESERVED },
	{ "9d", "VirtualAlloc+VirtualFree, RESERVE|COMMIT 64 KiB",
	  "NTMEM_IOC_RESERVE(COMMIT) + NTMEM_IOC_RELEASE",
	  lib_alloc_release, raw_alloc_release, LIB_NONE },
	{ "9e", "VirtualLock+VirtualUnlock, 1 touched page",
	  "NTMEM_IOC_LOCK + NTMEM_IOC_UNLOCK ioctls",
	  lib_lock_unlock, raw_lock_unlock, LIB_TOUCHED },
	{ "9f", "GetWriteWatch(RESET), 64 KiB, 1 page written",
	  "NTMEM_IOC_GET_WRITE_WATCH ioctl, RESET flag",
	  lib_get_write_watch, raw_get_write_watch, LIB_WRITE_WATCH },
	{ "9g", "ResetWriteWatch, 64 KiB, nothing written",
	  "NTMEM_IOC_RESET_WRITE_WATCH ioctl",
	  lib_reset_write_watch, raw_reset_write_watch, LIB_WRITE_WATCH },
};

/* What one bench_now_ns() costs: row 9f's per-call timing adds about one. */
static double clock_read_ns(void)
{
	uint64_t t0 = bench_now_ns();
	int i;

	for (i = 0; i < LIB_ITERS; i++)
		bench_now_ns();
	return (double)(bench_now_ns() - t0) / LIB_ITERS;
}

static void run_lib_row(const char *id)
{
	static int noted;
	static struct lib_ctx c;
	size_t i;
	int err;

	if (!noted) {
		noted = 1;
		note("- rows 9: ntmem = the libntmem call, Linux = the raw ioctl(s) it makes, on the same region; ratio = library / ioctl\n");
	}
	for (i = 0; i < sizeof(lib_rows) / sizeof(lib_rows[0]); i++) {
		const struct lib_row *d = &lib_rows[i];
		struct row r = { d->id, d->name, d->ioctl_name, ROW_RATIO, 1.1,
			"<= 1.1x", 0, 0, 0 };

		if (strcmp(d->id, id))
			continue;
		memset(&c, 0, sizeof(c));
		r.err = lib_region_make(d->region, &c.p);
		if (!r.err)
			run_pair(&r, d->lib_fn, &c, d->raw_fn, &c, REPS);
		if (c.p) {
			err = nt_release((uintptr_t)c.p);
			if (!r.err)
				r.err = err;
		}
		print_row(&r);
		if (!strcmp(id, "9f"))
			note("- row 9f times each call alone (the write before it is left out), so both sides include about one clock read: %.0f ns\n",
			     clock_read_ns());
	}
}

static void row9a(void) { run_lib_row("9a"); }
static void row9b(void) { run_lib_row("9b"); }
static void row9c(void) { run_lib_row("9c"); }
static void row9d(void) { run_lib_row("9d"); }
static void row9e(void) { run_lib_row("9e"); }
static void row9f(void) { run_lib_row("9f"); }
static void row9g(void) { run_lib_row("9g"); }

/*
 * ---- rows 10: a write-watch round, ntmem against Linux's ways ----
 *
 * One round writes one byte to every 16th page of a 64 MiB region (1024
 * of 16384 pages), then collects the written pages into an array and
 * makes them clean again; the whole round is timed and divided by the
 * pages written.  Every technique is checked to report exactly those 1024
 * pages, in order (each round writes other pages than the last, see
 * wr_next()).  Setup writes every page of the region and makes it
 * clean, and each round ends clean, so every timed round starts with all
 * pages resident, mapped and clean; the warm-up round takes whatever a
 * first round does differently.
 *
 *  - ntmem: VirtualAlloc(MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH) of
 *    libntmem, GetWriteWatch(WRITE_WATCH_FLAG_RESET).
 *  - Wine's fallback (dlls/ntdll/unix/virtual.c without the kernel's
 *    write watch): the region is PROT_READ, a SIGSEGV handler clears the
 *    page's watch bit in a byte per page and mprotects that page
 *    read-write; NtGetWriteWatch scans the bytes of the range, sets the
 *    watch bit of every page scanned and calls mprotect_range(), which
 *    makes one mprotect per run of pages of equal protection: here one
 *    mprotect(PROT_READ) of the whole 64 MiB.
 *  - soft-dirty: read /proc/self/pagemap for the range (bit 55), then
 *    write "4" to /proc/self/clear_refs (which write-protects every page
 *    of the process, not just the range).
 *  - uffd-wp async (Linux 6.7+; what Wine uses where the kernel has it):
 *    the range registered UFFDIO_REGISTER_MODE_WP on a userfaultfd with
 *    UFFD_FEATURE_WP_ASYNC (the kernel resolves write-protect faults
 *    itself), then one PAGEMAP_SCAN of PAGE_IS_WRITTEN pages with
 *    PM_SCAN_WP_MATCHING, which write-protects what it reports.
 *
 * All four regions are advised MADV_NOHUGEPAGE, so all four track 4 KiB
 * pages (an ntmem write-watch region never maps huge pages anyway).
 */

/*
 * Linux 6.7's userfaultfd and pagemap uapi, for build machines whose
 * headers predate it (Debian 12's are 6.1); these are stable uapi, copied
 * from include/uapi/linux/{userfaultfd,fs}.h.
 */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WRITTEN		(1 << 1)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif

#define WR_SPAN		(64 * MIB)
#define WR_EVERY	16	/* write every 16th page */
#define WR_CAP		16400	/* output entries: more than written (at
				   most every page of WR_SPAN), so that
				   the count rules out extras */

enum wr_tech { WR_NTMEM, WR_WINE, WR_SOFT_DIRTY, WR_UFFD, WR_NTECH };

static const char *const wr_tech_names[WR_NTECH] = {
	"ntmem", "Wine fallback", "soft-dirty", "uffd-wp async",
};

struct wr_ctx {
	char *p;		/* the region, WR_SPAN */
	size_t npages;
	size_t every;		/* pages written: one in @every */
	size_t off;		/* the round writes pages off + k * every */
	void *out[WR_CAP];	/* the written pages, as collected */
	unsigned char *vprot;	/* Wine: a byte per page */
	uint64_t *pagemap_buf;	/* soft-dirty: one entry per page */
	struct page_region rgn[WR_CAP];	/* uffd: PAGEMAP_SCAN's output */
	int pagemap, clear_refs, uffd;
	size_t last_count;	/* what the last collect found */
};

static size_t wr_written(const struct wr_ctx *c)
{
	return c->npages / c->every;
}

/*
 * Each round writes the pages after the last round's (off + 1 + k *
 * every), so that a technique that failed to reset would report the last
 * round's pages too.
 */
static void wr_next(struct wr_ctx *c)
{
	c->off = (c->off + 1) % c->every;
}

static void wr_write(struct wr_ctx *c)
{
	size_t i;

	for (i = c->off; i < c->npages; i += c->every)
		((volatile char *)c->p)[i * page] = (char)i;
}

/* Exactly the pages written, in order? */
static int wr_check(struct wr_ctx *c, size_t count)
{
	size_t i;

	c->last_count = count;
	if (count != wr_written(c))
		return -EPROTO;
	for (i = 0; i < count; i++)
		if (c->out[i] != c->p + (c->off + i * c->every) * page)
			return -EPROTO;
	return 0;
}

/* ntmem: the writes, then GetWriteWatch(RESET) of the whole region. */
static int wr_round_ntmem(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	ULONG_PTR count = WR_CAP;
	DWORD gran;
	uint64_t t0 = bench_now_ns();

	wr_next(c);
	wr_write(c);
	if (GetWriteWatch(WRITE_WATCH_FLAG_RESET, c->p, WR_SPAN, c->out,
			  &count, &gran))
		return lib_failed("GetWriteWatch");
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	return wr_check(c, count);
}

/* Wine's VPROT_WRITEWATCH: set on a page that is watched and clean. */
#define WINE_WATCH	0x40

static struct wr_ctx *wine_ctx;	/* the region the handler serves */

static int wine_unix_prot(unsigned char vprot)
{
	return vprot & WINE_WATCH ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* Wine's mprotect_range(): one mprotect per run of equal protection. */
static int wine_mprotect_range(struct wr_ctx *c, size_t first, size_t n)
{
	size_t i, start = first;
	int prot = wine_unix_prot(c->vprot[first]), next;

	for (i = first + 1; i < first + n; i++) {
		next = wine_unix_prot(c->vprot[i]);
		if (next == prot)
			continue;
		if (mprotect(c->p + start * page, (i - start) * page, prot))
			return -errno;
		start = i;
		prot = next;
	}
	return mprotect(c->p + start * page, (first + n - start) * page,
			prot) ? -errno : 0;
}

/* Wine's virtual_handle_fault() for a write to a watched page. */
static void wine_segv(int sig, siginfo_t *si, void *uc)
{
	struct wr_ctx *c = wine_ctx;
	char *a = si->si_addr;
	size_t idx;

	(void)uc;
	if (c && a >= c->p && a < c->p + WR_SPAN) {
		idx = (size_t)(a - c->p) / page;
		if (c->vprot[idx] & WINE_WATCH) {
			c->vprot[idx] &= ~WINE_WATCH;
			if (!wine_mprotect_range(c, idx, 1))
				return;
		}
	}
	/* not ours: fault again without the handler */
	signal(sig, SIG_DFL);
}

/*
 * Wine's NtGetWriteWatch without the kernel's write watch: scan a byte per
 * page for pages that lost their watch bit, up to the array's room; with
 * RESET set the bit again on every page scanned and mprotect the scanned
 * range back (Wine holds a mutex with signals blocked meanwhile: not
 * counted here).
 */
static int wr_round_wine(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	size_t i, j, count = 0;
	uint64_t t0 = bench_now_ns();
	int err;

	wr_next(c);
	wr_write(c);
	for (i = 0; i < c->npages && count < WR_CAP; i++)
		if (!(c->vprot[i] & WINE_WATCH))
			c->out[count++] = c->p + i * page;
	for (j = 0; j < i; j++)
		c->vprot[j] |= WINE_WATCH;
	err = wine_mprotect_range(c, 0, i);
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	return err ? err : wr_check(c, count);
}

/* soft-dirty: pagemap's bit 55 for the range, then clear_refs "4". */
static int wr_round_soft_dirty(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	size_t len = c->npages * sizeof(uint64_t), i, count = 0;
	off_t off = (uintptr_t)c->p / page * sizeof(uint64_t);
	uint64_t t0 = bench_now_ns();

	wr_next(c);
	wr_write(c);
	if (pread(c->pagemap, c->pagemap_buf, len, off) != (ssize_t)len)
		return -EIO;
	for (i = 0; i < c->npages; i++)
		if ((c->pagemap_buf[i] >> 55) & 1) {
			if (count == WR_CAP)
				return -EPROTO;
			c->out[count++] = c->p + i * page;
		}
	if (write(c->clear_refs, "4", 1) != 1)
		return -errno;
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	return wr_check(c, count);
}

/*
 * uffd-wp async: one PAGEMAP_SCAN reports the written runs and
 * write-protects them again (PM_SCAN_WP_MATCHING); CHECK_WPASYNC makes it
 * fail rather than pass over a page not under async write protection.
 * The output holds WR_CAP runs, so one call does (Wine's holds 256 and
 * calls again from walk_end); the loop is there for the general case.
 */
static int wr_round_uffd(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)c->p, .end = (uintptr_t)c->p + WR_SPAN,
		.vec = (uintptr_t)c->rgn, .vec_len = WR_CAP,
		.max_pages = WR_CAP,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	uint64_t t0 = bench_now_ns(), addr;
	size_t count = 0;
	int n, i;

	wr_next(c);
	wr_write(c);
	for (;;) {
		n = ioctl(c->pagemap, PAGEMAP_SCAN, &a);
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++)
			for (addr = c->rgn[i].start;
			     addr < c->rgn[i].end && count < WR_CAP;
			     addr += page)
				c->out[count++] = (void *)(uintptr_t)addr;
		if ((uint64_t)n < a.vec_len || count == WR_CAP ||
		    a.walk_end >= a.end)
			break;
		a.start = a.walk_end;
		a.max_pages = WR_CAP - count;
	}
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	return wr_check(c, count);
}

/* The uffd-wp async setup; -EOPNOTSUPP where the kernel lacks it. */
static int uffd_open_async(int *uffd)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
	};
	int fd = syscall(__NR_userfaultfd,
			 O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	if (fd < 0)
		return errno == ENOSYS ? -EOPNOTSUPP : -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		/* unknown features: EINVAL before 6.7 */
		int err = errno == EINVAL ? -EOPNOTSUPP : -errno;

		close(fd);
		return err;
	}
	*uffd = fd;
	return 0;
}

/* Why uffd-wp async is missing, for the note. */
static char uffd_na[96];

/*
 * Map, fill and clean @c's region for @tech; on failure nothing is left
 * (wr_teardown() undoes a success).
 */
static int wr_setup(struct wr_ctx *c, enum wr_tech tech)
{
	struct uffdio_register reg;
	struct uffdio_writeprotect wp;
	void *m;
	int err = 0;

	c->npages = WR_SPAN / page;
	c->every = WR_EVERY;
	c->pagemap = c->clear_refs = c->uffd = -1;
	if (tech == WR_NTMEM) {
		c->p = VirtualAlloc(NULL, WR_SPAN, MEM_RESERVE | MEM_COMMIT |
				    MEM_WRITE_WATCH, PAGE_READWRITE);
		if (!c->p)
			return lib_failed("VirtualAlloc(MEM_WRITE_WATCH)");
		madvise(c->p, WR_SPAN, MADV_NOHUGEPAGE);
		touch(c->p, WR_SPAN);
		if (!ResetWriteWatch(c->p, WR_SPAN))
			return 0;
		err = lib_failed("ResetWriteWatch");
		VirtualFree(c->p, 0, MEM_RELEASE);
		c->p = NULL;
		return err;
	}
	if (tech == WR_UFFD) {
		err = uffd_open_async(&c->uffd);
		if (err == -EOPNOTSUPP)
			snprintf(uffd_na, sizeof(uffd_na),
				 "no UFFD_FEATURE_WP_ASYNC (Linux 6.7+)");
		else if (err)
			snprintf(uffd_na, sizeof(uffd_na), "userfaultfd: %s",
				 strerror(-err));
		if (err)
			return err;
	}
	m = mmap(NULL, WR_SPAN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	c->p = m;
	madvise(c->p, WR_SPAN, MADV_NOHUGEPAGE);
	touch(c->p, WR_SPAN);
	switch (tech) {
	case WR_WINE:
		c->vprot = malloc(c->npages);
		if (!c->vprot) {
			err = -ENOMEM;
			break;
		}
		memset(c->vprot, WINE_WATCH, c->npages);
		if (mprotect(c->p, WR_SPAN, PROT_READ))
			err = -errno;
		break;
	case WR_SOFT_DIRTY:
		c->pagemap_buf = malloc(c->npages * sizeof(uint64_t));
		c->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		c->clear_refs = open("/proc/self/clear_refs",
				     O_WRONLY | O_CLOEXEC);
		if (!c->pagemap_buf)
			err = -ENOMEM;
		else if (c->pagemap < 0 || c->clear_refs < 0 ||
			 write(c->clear_refs, "4", 1) != 1)
			err = -errno;
		break;
	case WR_UFFD:
		c->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		reg = (struct uffdio_register){
			.range = { (uintptr_t)c->p, WR_SPAN },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		wp = (struct uffdio_writeprotect){
			.range = { (uintptr_t)c->p, WR_SPAN },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};
		if (c->pagemap < 0 || ioctl(c->uffd, UFFDIO_REGISTER, &reg) ||
		    ioctl(c->uffd, UFFDIO_WRITEPROTECT, &wp))
			err = -errno;
		break;
	case WR_NTMEM:
	case WR_NTECH:
		break;
	}
	if (!err)
		return 0;
fail:
	if (tech == WR_UFFD && !uffd_na[0])
		snprintf(uffd_na, sizeof(uffd_na), "setup: %s",
			 strerror(-err));
	if (c->p)
		munmap(c->p, WR_SPAN);
	c->p = NULL;
	free(c->vprot);
	free(c->pagemap_buf);
	if (c->pagemap >= 0)
		close(c->pagemap);
	if (c->clear_refs >= 0)
		close(c->clear_refs);
	if (c->uffd >= 0)
		close(c->uffd);
	return err;
}

static int wr_teardown(struct wr_ctx *c, enum wr_tech tech)
{
	int err = 0;

	if (tech == WR_NTMEM)
		err = VirtualFree(c->p, 0, MEM_RELEASE) ? 0 :
		      lib_failed("VirtualFree(MEM_RELEASE)");
	else if (munmap(c->p, WR_SPAN))
		err = -errno;
	free(c->vprot);
	free(c->pagemap_buf);
	if (c->pagemap >= 0)
		close(c->pagemap);
	if (c->clear_refs >= 0)
		close(c->clear_refs);
	if (c->uffd >= 0)
		close(c->uffd);
	return err;
}

static const bench_fn wr_rounds[WR_NTECH] = {
	wr_round_ntmem, wr_round_wine, wr_round_soft_dirty, wr_round_uffd,
};

/*
 * One technique: set up, WARMUP + WR_REPS rounds, tear down.  Returns 0,
 * -EOPNOTSUPP if the kernel lacks it (uffd-wp async), or an error.
 */
static int wr_measure(enum wr_tech tech, double *ns_per_page, size_t *count)
{
	static struct wr_ctx c;
	struct sigaction sa = { .sa_sigaction = wine_segv,
				.sa_flags = SA_SIGINFO }, old;
	int err, err2;

	memset(&c, 0, sizeof(c));
	err = wr_setup(&c, tech);
	if (err)
		return err;
	if (tech == WR_WINE) {
		wine_ctx = &c;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &old))
			err = -errno;
	}
	if (!err)
		err = bench_run(wr_rounds[tech], &c, WARMUP, WR_REPS,
				ns_per_page);
	if (tech == WR_WINE) {
		sigaction(SIGSEGV, &old, NULL);
		wine_ctx = NULL;
	}
	*count = c.last_count;
	err2 = wr_teardown(&c, tech);
	return err ? err : err2;
}

static void row10(void)
{
	static const char *const lx_names[] = {
		"Wine fallback: SIGSEGV handler + mprotect",
		"soft-dirty: pagemap bit 55 + clear_refs 4",
		"uffd-wp async + PAGEMAP_SCAN WP_MATCHING",
	};
	static const char *const ids[] = { "10a", "10b", "10c" };
	double v[WR_NTECH] = { 0 };
	int err[WR_NTECH], t, best = -1;
	size_t count = 0;
	char fig[WR_NTECH][128];

	for (t = 0; t < WR_NTECH; t++) {
		err[t] = wr_measure(t, &v[t], &count);
		if (err[t] == -EPROTO)
			note("- row 10 %s: collected %zu pages, not the %zu written\n",
			     wr_tech_names[t], count, (size_t)(WR_SPAN / page / WR_EVERY));
		if (!err[t] && t != WR_NTMEM && (best < 0 || v[t] < v[best]))
			best = t;
	}
	for (t = WR_WINE; t < WR_NTECH; t++) {
		struct row r = { ids[t - 1],
			"write-watch round, 1024 pages of 64 MiB, per page",
			lx_names[t - 1], ROW_INFO, 1.0, "none", v[WR_NTMEM],
			v[t], err[WR_NTMEM] ? err[WR_NTMEM] : err[t] };

		if (t == best) {
			r.kind = ROW_RATIO;
			r.target_text = "<= 1.0x (best Linux)";
		}
		if (t == WR_UFFD && err[t] == -EOPNOTSUPP && !err[WR_NTMEM]) {
			r.err = 0;
			r.kind = ROW_NA;
		}
		print_row(&r);
	}
	for (t = 0; t < WR_NTECH; t++) {
		if (!err[t])
			snprintf(fig[t], sizeof(fig[t]), "%.0f", v[t]);
		else if (t == WR_UFFD && err[t] == -EOPNOTSUPP)
			snprintf(fig[t], sizeof(fig[t]), "n/a (%s)", uffd_na);
		else
			snprintf(fig[t], sizeof(fig[t]), "error");
	}
	note("- rows 10a-c: a round writes every %dth page of 64 MiB (%zu of %zu), then collects and resets; ns per written page, median of %d rounds after %d warm-up, each from all pages resident, mapped, clean\n",
	     WR_EVERY, (size_t)(WR_SPAN / page / WR_EVERY),
	     (size_t)(WR_SPAN / page), WR_REPS, WARMUP);
	note("- rows 10a-c, ns per written page: ntmem %s | Wine fallback %s | soft-dirty %s | uffd-wp async %s\n",
	     fig[WR_NTMEM], fig[WR_WINE], fig[WR_SOFT_DIRTY], fig[WR_UFFD]);
	note("- rows 10: THP policy %s; all regions MADV_NOHUGEPAGE (4 KiB pages; ntmem write-watch regions never map huge ones)\n",
	     thp_policy());
}

/*
 * Row 10d: what write watch adds to a write.  After GetWriteWatch(RESET)
 * a watched page stays resident and mapped, write-protected; its first
 * write takes a write-protect fault that records it.  The nearest thing
 * without write watch is a resident page of a plain committed region
 * mapped by a read: ntmem maps it read-only (->page_mkwrite), so its
 * first write takes the same write-protect fault, minus the record.  Each
 * round puts the plain region in that state untimed (VirtualProtect to
 * read-only and back removes its PTEs, a read of each page maps it
 * again) and times the 1024 writes alone.
 */
static int wr_first_write_watched(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	ULONG_PTR count = WR_CAP;
	DWORD gran;
	uint64_t t0 = bench_now_ns();

	wr_next(c);
	wr_write(c);
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	if (GetWriteWatch(WRITE_WATCH_FLAG_RESET, c->p, WR_SPAN, c->out,
			  &count, &gran))
		return lib_failed("GetWriteWatch");
	return wr_check(c, count);
}

static int wr_first_write_plain(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	uint64_t t0;
	size_t i;
	DWORD old;

	if (!VirtualProtect(c->p, WR_SPAN, PAGE_READONLY, &old) ||
	    !VirtualProtect(c->p, WR_SPAN, PAGE_READWRITE, &old))
		return lib_failed("VirtualProtect");
	wr_next(c);
	for (i = c->off; i < c->npages; i += c->every)
		(void)((volatile char *)c->p)[i * page];
	t0 = bench_now_ns();
	wr_write(c);
	*ns = bench_now_ns() - t0;
	*ops = wr_written(c);
	return 0;
}

static void row10d(void)
{
	static struct wr_ctx watched, plain;
	struct row r = { "10d", "first write to a page after GetWriteWatch(RESET)",
		"ntmem page, no write watch, mapped by a read", ROW_RATIO, 1.1,
		"<= 1.1x", 0, 0, 0 };
	int err;

	memset(&watched, 0, sizeof(watched));
	memset(&plain, 0, sizeof(plain));
	r.err = wr_setup(&watched, WR_NTMEM);
	if (r.err)
		goto out;
	plain.npages = WR_SPAN / page;
	plain.every = WR_EVERY;
	plain.pagemap = plain.clear_refs = plain.uffd = -1;
	plain.p = VirtualAlloc(NULL, WR_SPAN, MEM_RESERVE | MEM_COMMIT,
			       PAGE_READWRITE);
	if (!plain.p) {
		r.err = lib_failed("VirtualAlloc");
	} else {
		madvise(plain.p, WR_SPAN, MADV_NOHUGEPAGE);
		touch(plain.p, WR_SPAN);
		run_pair(&r, wr_first_write_watched, &watched,
			 wr_first_write_plain, &plain, WR_REPS);
		err = wr_teardown(&plain, WR_NTMEM);
		if (!r.err)
			r.err = err;
	}
	err = wr_teardown(&watched, WR_NTMEM);
	if (!r.err)
		r.err = err;
out:
	print_row(&r);
}

/*
 * Row 10e: GetWriteWatch(RESET) of the 64 MiB region alone, with 0, 16,
 * 1024 (every 16th) and 16384 pages (every one) written (untimed) before
 * each call: its cost should follow the pages written, not the range.
 */
static int wr_get_only(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct wr_ctx *c = ctx;
	ULONG_PTR count = WR_CAP;
	DWORD gran;
	uint64_t t0;
	UINT ret;

	if (c->every <= c->npages) {
		wr_next(c);
		wr_write(c);
	}
	t0 = bench_now_ns();
	ret = GetWriteWatch(WRITE_WATCH_FLAG_RESET, c->p, WR_SPAN, c->out,
			    &count, &gran);
	*ns = bench_now_ns() - t0;
	*ops = 1;
	if (ret)
		return lib_failed("GetWriteWatch");
	return wr_check(c, count);
}

static void row10e(void)
{
	static struct wr_ctx c;
	static const size_t written[] = { 0, 16, 1024, 16384 };
	double v[4] = { 0 };
	size_t i;
	int err;

	memset(&c, 0, sizeof(c));
	err = wr_setup(&c, WR_NTMEM);
	for (i = 0; !err && i < 4; i++) {
		/* every > npages: nothing written, and wr_written() is 0 */
		c.every = written[i] ? c.npages / written[i] : c.npages + 1;
		err = bench_run(wr_get_only, &c, WARMUP, WR_REPS, &v[i]);
	}
	if (c.p) {
		int err2 = wr_teardown(&c, WR_NTMEM);

		if (!err)
			err = err2;
	}
	if (err) {
		failed = 1;
		note("- row 10e GetWriteWatch(RESET) of 64 MiB: error: %s\n",
		     strerror(-err));
		return;
	}
	note("- row 10e GetWriteWatch(RESET) of 64 MiB, guest ns per call: 0 pages written %.0f, 16 written %.0f, 1024 written %.0f (%.0f per page), 16384 written %.0f (%.0f per page)\n",
	     v[0], v[1], v[2], (v[2] - v[0]) / 1024, v[3],
	     (v[3] - v[0]) / 16384);
}

/* ---- rows 12: views of a section against Linux's shared memory ---- */

#define VIEW_ITERS	200		/* row 12a: map/touch/unmap cycles */
#define SECTION_BYTES	(16UL << 20)	/* row 12b: a fresh section's size */

/* A pagefile section of @len bytes: its descriptor, or -errno. */
static int nt_section(uint64_t len)
{
	struct ntmem_section s = {
		.size = sizeof(s), .max_size = len,
		.protect = NTMEM_PAGE_READWRITE,
	};

	return ioctl(ntfd, NTMEM_IOC_SECTION_CREATE, &s) ? -errno : s.fd;
}

/* A read-write view of all of section @sfd: 0 and its base, or -errno. */
static int nt_map_view(int sfd, uint64_t *base)
{
	struct ntmem_view v = {
		.size = sizeof(v), .section = sfd,
		.access = NTMEM_FILE_MAP_WRITE,
	};

	if (ioctl(ntfd, NTMEM_IOC_MAP_VIEW, &v))
		return -errno;
	*base = v.addr;
	return 0;
}

static int nt_unmap_view(uint64_t base)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = base };

	return ioctl(ntfd, NTMEM_IOC_UNMAP_VIEW, &r) ? -errno : 0;
}

/* Linux's shared memory: a memfd of @len bytes, or -errno. */
static int lx_memfd(uint64_t len)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, len)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Row 12a: map a view of a 64 KiB section, touch a page, unmap. */
static int nt_view_cycle(void *ctx, uint64_t *ns, uint64_t *ops)
{
	int sfd = nt_section(NTMEM_GRANULARITY), err = 0, i;
	uint64_t t0, base;

	(void)ctx;
	if (sfd < 0)
		return sfd;
	t0 = bench_now_ns();
	for (i = 0; i < VIEW_ITERS && !err; i++) {
		err = nt_map_view(sfd, &base);
		if (err)
			break;
		*(volatile char *)(uintptr_t)base = 1;
		err = nt_unmap_view(base);
	}
	*ns = bench_now_ns() - t0;
	*ops = VIEW_ITERS;
	close(sfd);
	return err;
}

static int lx_shared_cycle(void *ctx, uint64_t *ns, uint64_t *ops)
{
	int fd = lx_memfd(NTMEM_GRANULARITY), err = 0, i;
	uint64_t t0;

	(void)ctx;
	if (fd < 0)
		return fd;
	t0 = bench_now_ns();
	for (i = 0; i < VIEW_ITERS && !err; i++) {
		char *p = mmap(NULL, NTMEM_GRANULARITY, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			err = -errno;
			break;
		}
		*(volatile char *)p = 1;
		munmap(p, NTMEM_GRANULARITY);
	}
	*ns = bench_now_ns() - t0;
	*ops = VIEW_ITERS;
	close(fd);
	return err;
}

/* Row 12b: a fresh 16 MiB section, mapped and written whole: per page. */
static int nt_view_first_touch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	int sfd, err;
	uint64_t t0, base;

	(void)ctx;
	t0 = bench_now_ns();
	sfd = nt_section(SECTION_BYTES);
	if (sfd < 0)
		return sfd;
	err = nt_map_view(sfd, &base);
	if (!err) {
		touch((void *)(uintptr_t)base, SECTION_BYTES);
		err = nt_unmap_view(base);
	}
	close(sfd);
	*ns = bench_now_ns() - t0;
	*ops = SECTION_BYTES / page;
	return err;
}

static int lx_shared_first_touch(void *ctx, uint64_t *ns, uint64_t *ops)
{
	uint64_t t0;
	char *p;
	int fd;

	(void)ctx;
	t0 = bench_now_ns();
	fd = lx_memfd(SECTION_BYTES);
	if (fd < 0)
		return fd;
	p = mmap(NULL, SECTION_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	touch(p, SECTION_BYTES);
	munmap(p, SECTION_BYTES);
	close(fd);
	*ns = bench_now_ns() - t0;
	*ops = SECTION_BYTES / page;
	return 0;
}

static void row12a(void)
{
	struct row r = { "12a", "MAP_VIEW 64 KiB section + touch 1 page + UNMAP",
		"mmap memfd MAP_SHARED + touch + munmap", ROW_RATIO, 1.2,
		"<= 1.2x", 0, 0, 0 };

	if (!(nt_features & NTMEM_FEATURE_SECTIONS))
		r.err = -EOPNOTSUPP;
	else
		run_pair(&r, nt_view_cycle, NULL, lx_shared_cycle, NULL, REPS);
	print_row(&r);
}

static void row12b(void)
{
	struct row r = { "12b", "new 16 MiB section, view written whole, per page",
		"memfd 16 MiB MAP_SHARED written whole", ROW_RATIO, 1.2,
		"<= 1.2x", 0, 0, 0 };

	if (!(nt_features & NTMEM_FEATURE_SECTIONS))
		r.err = -EOPNOTSUPP;
	else
		run_pair(&r, nt_view_first_touch, NULL, lx_shared_first_touch,
			 NULL, REPS);
	print_row(&r);
}

/* ---- rows 13: other processes (VirtualAllocEx, ...ProcessMemory) ---- */

/*
 * The target of rows 13: a forked child that closes the bench's
 * /dev/ntmem descriptor and sleeps in pause(), so that it never makes an
 * ntmem call of its own.  The bench opens its /proc/PID/mem read-write
 * and turns that into a process descriptor with every right.
 */
#define REMOTE_ITERS	200	/* rows 13a, 13e: cycles per repetition */
#define COPY_ITERS	100	/* rows 13b, 13c: 64 KiB copies */
#define RQUERY_ITERS	1000	/* row 13d: queries */
#define COPY_BYTES	NTMEM_GRANULARITY

struct remote {
	pid_t pid;
	int mem;		/* /proc/PID/mem, O_RDWR */
	int pfd;		/* the process descriptor */
	uint64_t region;	/* 64 KiB committed RW in the child, or 0 */
};

static void remote_stop(struct remote *t)
{
	if (t->pfd >= 0)
		close(t->pfd);
	if (t->mem >= 0)
		close(t->mem);
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, __WALL);
	}
	t->pid = 0;
	t->mem = t->pfd = -1;
}

/* Fork the child, open it; with @region, commit 64 KiB in it too. */
static int remote_start(struct remote *t, bool region)
{
	struct ntmem_process op = {
		.size = sizeof(op),
		.access = NTMEM_PROCESS_VM_OPERATION | NTMEM_PROCESS_VM_READ |
			  NTMEM_PROCESS_VM_WRITE |
			  NTMEM_PROCESS_QUERY_INFORMATION,
	};
	struct ntmem_reserve r = {
		.size = sizeof(r), .flags = NTMEM_RESERVE_COMMIT,
		.length = COPY_BYTES, .protect = NTMEM_PAGE_READWRITE,
	};
	char path[64], c;
	int ready[2], err;

	t->pid = 0;
	t->mem = t->pfd = -1;
	t->region = 0;
	if (pipe2(ready, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0) {
		err = -errno;
		close(ready[0]);
		close(ready[1]);
		return err;
	}
	if (!t->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ntfd);
		close(ready[0]);
		if (write(ready[1], "", 1) != 1)
			_exit(1);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	err = read(ready[0], &c, 1) == 1 ? 0 : -ECHILD;
	close(ready[0]);
	if (err)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)t->pid);
	t->mem = open(path, O_RDWR | O_CLOEXEC);
	if (t->mem < 0) {
		err = -errno;
		goto fail;
	}
	op.pid = t->pid;
	op.mem_fd = t->mem;
	if (ioctl(ntfd, NTMEM_IOC_OPEN_PROCESS, &op)) {
		err = -errno;
		goto fail;
	}
	t->pfd = op.fd;
	if (region) {
		if (ioctl(t->pfd, NTMEM_IOC_RESERVE, &r)) {
			err = -errno;
			goto fail;
		}
		t->region = r.addr;
	}
	return 0;
fail:
	remote_stop(t);
	return err;
}

/* Row 13a, ntmem: VirtualAllocEx(RESERVE | COMMIT, 64 KiB) + VirtualFreeEx. */
static int nt_remote_alloc(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct remote *t = ctx;

	return nt_reserve_commit_release_on(t->pfd, REMOTE_ITERS, false, ns,
					    ops);
}

/*
 * Row 13a, Linux: what a debugger or injector does to map memory in
 * another process -- make it run mmap() and munmap() itself.  The child
 * is ptrace-stopped once, outside the timed part; each cycle saves its
 * registers, points it at a "syscall; int3" gadget in the text both share
 * (a fork), runs mmap there until the int3 stops it, reads the result,
 * does the same for munmap, and restores the registers.
 */
__asm__(".text\n"
	".globl bench_syscall_gadget\n"
	".type bench_syscall_gadget, @function\n"
	"bench_syscall_gadget:\n"
	"\tsyscall\n"
	"\tint3\n"
	".size bench_syscall_gadget, .-bench_syscall_gadget\n");
extern char bench_syscall_gadget[];

/* Run syscall @nr(@a0..@a5) in stopped tracee @pid: 0 and *@ret, or -errno. */
static int ptrace_syscall(pid_t pid, const struct user_regs_struct *saved,
			  long nr, long a0, long a1, long a2, long a3, long a4,
			  long a5, long *ret)
{
	struct user_regs_struct r = *saved;
	int st;

	r.rip = (uintptr_t)bench_syscall_gadget;
	r.rax = nr;
	r.orig_rax = -1;	/* no syscall restart on the way out */
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	r.r9 = a5;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &r) ||
	    ptrace(PTRACE_CONT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &st, __WALL) != pid)
		return -errno;
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
		return -ECHILD;
	if (ptrace(PTRACE_GETREGS, pid, NULL, &r))
		return -errno;
	*ret = r.rax;
	return 0;
}

static int lx_inject_alloc(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct remote *t = ctx;
	struct user_regs_struct saved;
	uint64_t t0;
	long addr, ret;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < REMOTE_ITERS; i++) {
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &saved))
			return -errno;
		err = ptrace_syscall(t->pid, &saved, SYS_mmap, 0,
				     NTMEM_GRANULARITY, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &addr);
		if (err)
			return err;
		if ((unsigned long)addr > -4096UL)
			return addr;
		err = ptrace_syscall(t->pid, &saved, SYS_munmap, addr,
				     NTMEM_GRANULARITY, 0, 0, 0, 0, &ret);
		if (err)
			return err;
		if (ret)
			return ret;
		if (ptrace(PTRACE_SETREGS, t->pid, NULL, &saved))
			return -errno;
	}
	*ns = bench_now_ns() - t0;
	*ops = REMOTE_ITERS;
	return 0;
}

/* Attach to the child and stop it (PTRACE_SEIZE + PTRACE_INTERRUPT). */
static int ptrace_stop(pid_t pid)
{
	int st;

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &st, __WALL) != pid)
		return -errno;
	return WIFSTOPPED(st) ? 0 : -ECHILD;
}

static void row13a(void)
{
	struct row r = { "13a", "VirtualAllocEx RESERVE|COMMIT 64 KiB + FreeEx",
		"ptrace-injected mmap 64 KiB RW + munmap", ROW_RATIO, 1.0,
		"<= 1.0x", 0, 0, 0 };
	struct remote t;

	if (!(nt_features & NTMEM_FEATURE_PROCESSES)) {
		r.err = -EOPNOTSUPP;
		print_row(&r);
		return;
	}
	r.err = remote_start(&t, false);
	if (!r.err) {
		r.err = bench_run(nt_remote_alloc, &t, WARMUP, REPS, &r.nt);
		if (!r.err)
			r.err = ptrace_stop(t.pid);
		if (!r.err)
			r.err = bench_run(lx_inject_alloc, &t, WARMUP, REPS,
					  &r.lx);
		remote_stop(&t);
	}
	print_row(&r);
	note("- row 13a: the target is a forked child in pause() that never opens /dev/ntmem; ntmem = RESERVE(COMMIT) + RELEASE on its process descriptor, each run by one of the module's kernel threads, which takes up the child's mm; Linux = per cycle GETREGS, SETREGS + CONT to a syscall;int3 gadget for mmap, again for munmap, SETREGS back (the child ptrace-stopped once, untimed)\n");
}

/* Rows 13b and 13c: 64 KiB copies into or out of the child's region. */
enum copy_tech { COPY_NTMEM, COPY_PROCESS_VM, COPY_PROC_MEM, COPY_NTECH };

struct copy_ctx {
	struct remote *t;
	enum copy_tech tech;
	bool write;
	char *buf;
};

static int copy_once(struct copy_ctx *c)
{
	struct remote *t = c->t;
	struct iovec local = { c->buf, COPY_BYTES };
	struct iovec remote = { (void *)(uintptr_t)t->region, COPY_BYTES };
	struct ntmem_memory_copy m = {
		.size = sizeof(m), .addr = t->region,
		.buf = (uintptr_t)c->buf, .length = COPY_BYTES,
	};
	ssize_t n;

	switch (c->tech) {
	case COPY_NTMEM:
		if (ioctl(t->pfd, c->write ? NTMEM_IOC_WRITE_MEMORY :
			  NTMEM_IOC_READ_MEMORY, &m))
			return -errno;
		n = m.done;
		break;
	case COPY_PROCESS_VM:
		n = c->write ? process_vm_writev(t->pid, &local, 1, &remote, 1, 0) :
			       process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
		break;
	default:
		n = c->write ? pwrite(t->mem, c->buf, COPY_BYTES, t->region) :
			       pread(t->mem, c->buf, COPY_BYTES, t->region);
		break;
	}
	if (n < 0)
		return -errno;
	return n == COPY_BYTES ? 0 : -EIO;
}

static int copy_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct copy_ctx *c = ctx;
	uint64_t t0;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < COPY_ITERS; i++) {
		err = copy_once(c);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = COPY_ITERS;
	return 0;
}

static void row_copy(const char *id, bool write)
{
	static const char *const lx_names[COPY_NTECH] = {
		"", "process_vm_", "/proc/PID/mem ",
	};
	static char linux_name[2][64];
	struct row r = { id, write ?
		"WriteProcessMemory 64 KiB, committed, per call" :
		"ReadProcessMemory 64 KiB, committed, per call",
		"", ROW_RATIO, 1.1, "<= 1.1x (best Linux)", 0, 0, 0 };
	struct copy_ctx c = { .write = write };
	double v[COPY_NTECH] = { 0 };
	struct remote t;
	int k, best;

	if (!(nt_features & NTMEM_FEATURE_PROCESSES)) {
		r.linux_name = write ? "process_vm_writev / pwrite /proc/PID/mem" :
				       "process_vm_readv / pread /proc/PID/mem";
		r.err = -EOPNOTSUPP;
		print_row(&r);
		return;
	}
	c.buf = aligned_alloc(page, COPY_BYTES);
	if (!c.buf) {
		r.err = -ENOMEM;
		print_row(&r);
		return;
	}
	r.err = remote_start(&t, true);
	c.t = &t;
	/*
	 * Every page of the child's region resident and holding 0xa5 before
	 * the first timed copy; the write rows then copy 0x5a in, and each
	 * row checks what the region holds at its end.
	 */
	memset(c.buf, 0xa5, COPY_BYTES);
	if (!r.err && pwrite(t.mem, c.buf, COPY_BYTES, t.region) != COPY_BYTES)
		r.err = -EIO;
	memset(c.buf, write ? 0x5a : 0, COPY_BYTES);
	for (k = 0; k < COPY_NTECH && !r.err; k++) {
		c.tech = k;
		r.err = bench_run(copy_loop, &c, WARMUP, REPS, &v[k]);
	}
	if (!r.err && write &&
	    pread(t.mem, c.buf, COPY_BYTES, t.region) != COPY_BYTES)
		r.err = -EIO;
	for (k = 0; !r.err && k < (int)COPY_BYTES; k++)
		if ((unsigned char)c.buf[k] != (write ? 0x5a : 0xa5))
			r.err = -EPROTO;
	if (t.pid > 0)
		remote_stop(&t);
	free(c.buf);
	best = v[COPY_PROCESS_VM] <= v[COPY_PROC_MEM] ? COPY_PROCESS_VM :
							COPY_PROC_MEM;
	snprintf(linux_name[write], sizeof(linux_name[write]), "%s%s",
		 lx_names[best], best == COPY_PROCESS_VM ?
		 (write ? "writev" : "readv") : (write ? "pwrite" : "pread"));
	r.linux_name = linux_name[write];
	r.nt = v[COPY_NTMEM];
	r.lx = v[best];
	print_row(&r);
	if (!r.err)
		note("- row %s, ns per 64 KiB %s: ntmem %s_MEMORY %.0f | process_vm_%s %.0f (%.2fx) | %s /proc/PID/mem %.0f (%.2fx)\n",
		     id, write ? "write" : "read", write ? "WRITE" : "READ",
		     v[COPY_NTMEM], write ? "writev" : "readv",
		     v[COPY_PROCESS_VM], v[COPY_NTMEM] / v[COPY_PROCESS_VM],
		     write ? "pwrite" : "pread", v[COPY_PROC_MEM],
		     v[COPY_NTMEM] / v[COPY_PROC_MEM]);
}

/*
 * Row 13d: VirtualQueryEx of one address of the child, against Linux's
 * two ways to ask what is at an address of another process: read and
 * parse /proc/PID/maps for the line that holds it (open, read, close per
 * query), and the PROCMAP_QUERY ioctl on an open maps file (6.11+; the
 * build machine's headers may lack it, so it is defined here; an older
 * kernel answers ENOTTY and the column reads n/a).
 */
#ifndef PROCMAP_QUERY
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};
#define PROCMAP_QUERY	_IOWR('f', 17, struct procmap_query)
#endif

enum rquery_tech { RQ_NTMEM, RQ_MAPS, RQ_PROCMAP, RQ_NTECH };

struct rquery_ctx {
	struct remote *t;
	enum rquery_tech tech;
	uint64_t addr;		/* a committed page of the child's region */
	int maps;		/* /proc/PID/maps, open, for PROCMAP_QUERY */
	char path[64];		/* /proc/PID/maps */
	char *buf;		/* the maps text */
	size_t buf_size;
};

/* /proc/PID/maps read whole and parsed for the line holding c->addr. */
static int maps_lookup(struct rquery_ctx *c, uint64_t *start, uint64_t *end)
{
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;
	char *l;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, c->buf + len, c->buf_size - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -errno;
	c->buf[len] = '\0';
	for (l = c->buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *e;

		*start = strtoull(l, &e, 16);
		*end = strtoull(e + 1, NULL, 16);
		if (*start <= c->addr && c->addr < *end)
			return 0;
	}
	return -ENOENT;
}

static int rquery_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct rquery_ctx *c = ctx;
	struct procmap_query pq;
	struct ntmem_query q;
	uint64_t t0, start = 0, end = 0;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < RQUERY_ITERS; i++) {
		switch (c->tech) {
		case RQ_NTMEM:
			q = (struct ntmem_query){ .size = sizeof(q),
						  .addr = c->addr };
			if (ioctl(c->t->pfd, NTMEM_IOC_QUERY, &q))
				return -errno;
			if (q.state != NTMEM_STATE_COMMIT)
				return -EPROTO;
			start = q.alloc_base;
			end = start + q.alloc_size;
			break;
		case RQ_MAPS:
			err = maps_lookup(c, &start, &end);
			if (err)
				return err;
			break;
		default:
			pq = (struct procmap_query){ .size = sizeof(pq),
						     .query_addr = c->addr };
			if (ioctl(c->maps, PROCMAP_QUERY, &pq))
				return -errno;
			start = pq.vma_start;
			end = pq.vma_end;
			break;
		}
		/* each must find the child's 64 KiB region */
		if (start != c->t->region || end != start + COPY_BYTES)
			return -EPROTO;
	}
	*ns = bench_now_ns() - t0;
	*ops = RQUERY_ITERS;
	return 0;
}

static void row13d(void)
{
	struct row r = { "13d", "VirtualQueryEx of a committed page, per call",
		"", ROW_INFO, 1.0, "none", 0, 0, 0 };
	static char linux_name[64];
	struct rquery_ctx c = { .maps = -1, .buf_size = 64 * KIB };
	double v[RQ_NTECH] = { 0 };
	int err[RQ_NTECH] = { 0 };
	struct remote t;
	char pq_fig[32], *l;
	int k, lines = 0;

	r.linux_name = "/proc/PID/maps read + parse / PROCMAP_QUERY";
	if (!(nt_features & NTMEM_FEATURE_PROCESSES)) {
		r.err = -EOPNOTSUPP;
		print_row(&r);
		return;
	}
	c.buf = malloc(c.buf_size);
	r.err = c.buf ? remote_start(&t, true) : -ENOMEM;
	if (c.buf)
		c.buf[0] = '\0';
	if (r.err) {
		free(c.buf);
		print_row(&r);
		return;
	}
	c.t = &t;
	c.addr = t.region + page;
	snprintf(c.path, sizeof(c.path), "/proc/%d/maps", (int)t.pid);
	c.maps = open(c.path, O_RDONLY | O_CLOEXEC);
	for (k = 0; k < RQ_NTECH; k++) {
		c.tech = k;
		if (k == RQ_PROCMAP && c.maps < 0)
			err[k] = -errno;
		else
			err[k] = bench_run(rquery_loop, &c, WARMUP, REPS, &v[k]);
	}
	for (l = c.buf; (l = strchr(l, '\n')); l++)
		lines++;
	if (c.maps >= 0)
		close(c.maps);
	remote_stop(&t);
	free(c.buf);
	r.err = err[RQ_NTMEM] ? err[RQ_NTMEM] : err[RQ_MAPS];
	if (err[RQ_PROCMAP] && err[RQ_PROCMAP] != -ENOTTY && !r.err)
		r.err = err[RQ_PROCMAP];
	k = !err[RQ_PROCMAP] && v[RQ_PROCMAP] < v[RQ_MAPS] ? RQ_PROCMAP : RQ_MAPS;
	snprintf(linux_name, sizeof(linux_name), "%s",
		 k == RQ_PROCMAP ? "PROCMAP_QUERY ioctl on /proc/PID/maps" :
		 "open + read + parse /proc/PID/maps + close");
	r.linux_name = linux_name;
	r.nt = v[RQ_NTMEM];
	r.lx = v[k];
	print_row(&r);
	if (err[RQ_PROCMAP] == -ENOTTY)
		snprintf(pq_fig, sizeof(pq_fig), "n/a (Linux 6.11+)");
	else
		snprintf(pq_fig, sizeof(pq_fig), "%.0f (%.2fx)", v[RQ_PROCMAP],
			 v[RQ_NTMEM] / v[RQ_PROCMAP]);
	if (!r.err)
		note("- row 13d, ns per query: ntmem QUERY %.0f | /proc/PID/maps open+read+parse+close %.0f (%.2fx; the child's maps has %d lines) | PROCMAP_QUERY %s\n",
		     v[RQ_NTMEM], v[RQ_MAPS], v[RQ_NTMEM] / v[RQ_MAPS], lines,
		     pq_fig);
}

/*
 * Row 13e: what the kernel thread costs.  COMMIT + DECOMMIT of one page
 * of a 64 KiB reservation of the child, through its process descriptor
 * (a kernel thread per call), against the same pair on a reservation of
 * the bench's own, on /dev/ntmem.
 */
struct cd_ctx {
	int fd;
	uint64_t base;
	int expect;		/* the errno of a call that does nothing */
};

static int commit_decommit_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct cd_ctx *c = ctx;
	uint64_t t0;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < REMOTE_ITERS; i++) {
		err = nt_range_on(c->fd, NTMEM_IOC_COMMIT, c->base, page,
				  NTMEM_PAGE_READWRITE);
		if (!err)
			err = nt_range_on(c->fd, NTMEM_IOC_DECOMMIT, c->base,
					  page, 0);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = REMOTE_ITERS;
	return 0;
}

/*
 * Row 13e's note: a call that does nothing in the thread -- UNMAP_VIEW of
 * the reservation's base, which holds no view: its checks pass in the
 * caller and it fails in ntmem_view_unmap(), in the thread for the child.
 * Every call must fail alike (the errno of the warm-up).
 */
static int null_call_loop(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct cd_ctx *c = ctx;
	struct ntmem_range r = { .size = sizeof(r), .addr = c->base };
	uint64_t t0;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < REMOTE_ITERS; i++) {
		if (!ioctl(c->fd, NTMEM_IOC_UNMAP_VIEW, &r))
			return -EPROTO;
		if (!c->expect)
			c->expect = errno;
		if (errno != c->expect)
			return -errno;
	}
	*ns = bench_now_ns() - t0;
	*ops = REMOTE_ITERS;
	return 0;
}

static void row13e(void)
{
	struct row r = { "13e", "COMMIT + DECOMMIT 1 page in the child, per pair",
		"the same on the bench's own /dev/ntmem", ROW_INFO, 1.0,
		"none", 0, 0, 0 };
	struct ntmem_reserve res = {
		.size = sizeof(res), .length = NTMEM_GRANULARITY,
	};
	struct cd_ctx remote_cd = { .fd = -1 }, local_cd = { .fd = -1 };
	double null_ns[2] = { 0 };
	int null_err = -EINVAL;
	struct remote t;

	if (!(nt_features & NTMEM_FEATURE_PROCESSES)) {
		r.err = -EOPNOTSUPP;
		print_row(&r);
		return;
	}
	r.err = remote_start(&t, false);
	if (r.err) {
		print_row(&r);
		return;
	}
	remote_cd.fd = t.pfd;
	if (ioctl(t.pfd, NTMEM_IOC_RESERVE, &res))
		r.err = -errno;
	remote_cd.base = res.addr;
	if (!r.err)
		r.err = nt_reserve(NTMEM_GRANULARITY, &local_cd.base);
	if (!r.err) {
		local_cd.fd = ntfd;
		run_pair(&r, commit_decommit_loop, &remote_cd,
			 commit_decommit_loop, &local_cd, REPS);
		null_err = bench_run(null_call_loop, &remote_cd, WARMUP, REPS,
				     &null_ns[0]);
		if (!null_err)
			null_err = bench_run(null_call_loop, &local_cd, WARMUP,
					     REPS, &null_ns[1]);
		nt_release(local_cd.base);
	}
	remote_stop(&t);
	print_row(&r);
	if (!r.err)
		note("- row 13e: ratio = in the child / in the bench's own process; the difference, %.0f ns per pair, is what reaching the child's mm costs (COMMIT and DECOMMIT run in the caller, under the child's mmap_lock)\n",
		     r.nt - r.lx);
	if (!r.err && !null_err)
		note("- row 13e, a call that does nothing in the thread (UNMAP_VIEW of an address with no view, which fails there: %s): %.0f ns in the child, %.0f ns in the bench's own process; the hand-off costs %.0f ns per call\n",
		     strerror(remote_cd.expect), null_ns[0], null_ns[1],
		     null_ns[0] - null_ns[1]);
	else if (!r.err)
		note("- row 13e, the call that does nothing in the thread: %s\n",
		     strerror(-null_err));
}

static void row13b(void) { row_copy("13b", true); }
static void row13c(void) { row_copy("13c", false); }

static const struct {
	const char *id;
	void (*run)(void);
} rows[] = {
	{ "1a", row1 }, { "1b", row1b }, { "2", row2 }, { "2h", row2h },
	{ "3", row3 }, { "3h", row3h }, { "4a", row4a }, { "4b", row4b },
	{ "4h", row4h }, { "5", row5 }, { "6", row6 }, { "7", row7 },
	{ "8", row8 }, { "9a", row9a }, { "9b", row9b }, { "9c", row9c },
	{ "9d", row9d }, { "9e", row9e }, { "9f", row9f }, { "9g", row9g },
	{ "10", row10 }, { "10d", row10d }, { "10e", row10e },
	{ "12a", row12a }, { "12b", row12b },
	{ "13a", row13a }, { "13b", row13b }, { "13c", row13c },
	{ "13d", row13d }, { "13e", row13e },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/*
 * Whether @arg picks row @id: a prefix of it that does not end inside a
 * number ("1" picks 1a and 1b, not 10; "10" picks 10, 10d and 10e).
 */
static int picks(const char *id, const char *arg)
{
	size_t n = strlen(arg);

	return n && !strncmp(id, arg, n) &&
	       !(isdigit((unsigned char)arg[n - 1]) &&
		 isdigit((unsigned char)id[n]));
}

/* With arguments, run only the rows one of them picks. */
static int selected(unsigned int i, int argc, char **argv)
{
	int a;

	for (a = 1; a < argc; a++)
		if (picks(rows[i].id, argv[a]))
			return 1;
	return argc < 2;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int a;

	for (a = 1; a < argc; a++) {
		for (i = 0; i < NROWS; i++)
			if (picks(rows[i].id, argv[a]))
				break;
		if (i == NROWS) {
			fprintf(stderr, "usage: ntmem-bench [ROW...]   (rows: 1 2 2h 3 3h 4 4a 4b 4h 5 6 7 8 9 9a-9g 10 10d 10e 12 12a 12b 13 13a-13e)\n");
			return 2;
		}
	}
	page = sysconf(_SC_PAGESIZE);
	ntfd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	if (ntfd < 0) {
		fprintf(stderr, "ntmem-bench: %s: %s\n", NTMEM_DEVICE,
			strerror(errno));
		return 1;
	}
	meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (meminfo_fd < 0) {
		fprintf(stderr, "ntmem-bench: /proc/meminfo: %s\n",
			strerror(errno));
		return 1;
	}
	/* Root only; without it small changes may not show. */
	stat_refresh_fd = open("/proc/sys/vm/stat_refresh",
			       O_WRONLY | O_CLOEXEC);
	print_banner(wait_quiet());
	print_header();
	for (i = 0; i < NROWS; i++)
		if (selected(i, argc, argv))
			rows[i].run();

	printf("\nNotes:\n");
	printf("- ratio = ntmem / Linux; meets is informational only.\n");
	fputs(bench_notes(), stdout);
	print_counters();
	printf("ntmem-bench: %s\n",
	       failed ? "FAILED (an operation errored)" : "done");
	return failed;
}
