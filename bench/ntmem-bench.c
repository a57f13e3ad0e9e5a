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
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <ntmem/windows.h>
#include <uapi/ntmem.h>

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

static int nt_range(unsigned long cmd, uint64_t addr, uint64_t len,
		    uint32_t protect)
{
	struct ntmem_range r = {
		.size = sizeof(r), .addr = addr, .length = len,
		.protect = protect,
	};

	return ioctl(ntfd, cmd, &r) ? -errno : 0;
}

static int nt_commit(uint64_t addr, uint64_t len)
{
	return nt_range(NTMEM_IOC_COMMIT, addr, len, NTMEM_PAGE_READWRITE);
}

static int nt_release(uint64_t base)
{
	return nt_range(NTMEM_IOC_RELEASE, base, 0, 0);
}

static int nt_protect(uint64_t addr, uint64_t len, uint32_t protect)
{
	struct ntmem_protect p = {
		.size = sizeof(p), .addr = addr, .length = len,
		.protect = protect,
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

/* The system's THP policy, the word in brackets of .../enabled. */
static const char *thp_policy(void)
{
	static char word[16] = "unknown";
	char buf[128], *l, *r;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return word;
	if (fgets(buf, sizeof(buf), f) && (l = strchr(buf, '[')) &&
	    (r = strchr(l, ']')) && r - l - 1 < (long)sizeof(word)) {
		memcpy(word, l + 1, r - l - 1);
		word[r - l - 1] = '\0';
	}
	fclose(f);
	return word;
}

/* AnonHugePages of this process, in KiB: did THP really happen? */
/* A "Field: N kB" line of /proc/self/smaps_rollup: N, or -1. */
static long rollup_kib(const char *field)
{
	char line[256], fmt[64];
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	snprintf(fmt, sizeof(fmt), "%s: %%ld kB", field);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

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

enum row_kind { ROW_RATIO, ROW_INFO, ROW_KIB };

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

#define FMT_ROW "| %-2s | %-52s | %11s | %-46s | %11s | %7s | %-24s | %-5s |\n"

static void print_header(void)
{
	printf(FMT_ROW, "#", "operation", "ntmem", "Linux primitive", "Linux",
	       "ratio", "target", "meets");
	printf("|----|%.54s|%.13s|%.48s|%.13s|%.9s|%.26s|%.7s|\n",
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
	}
	printf(FMT_ROW, r->id, r->name, nt, r->linux_name, lx, ratio,
	       r->target_text, meets);
	fflush(stdout);
}

/* Lines printed under the table, collected while the rows run. */
static char notes[4096];

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
	size_t len = strlen(notes);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(notes + len, sizeof(notes) - len, fmt, ap);
	va_end(ap);
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

/* The same with one RESERVE that commits too (MEM_RESERVE | MEM_COMMIT). */
static int nt_lifecycle_one_call(void *ctx, uint64_t *ns, uint64_t *ops)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .flags = NTMEM_RESERVE_COMMIT,
		.length = NTMEM_GRANULARITY, .protect = NTMEM_PAGE_READWRITE,
	};
	uint64_t t0;
	int i, rel;

	(void)ctx;
	t0 = bench_now_ns();
	for (i = 0; i < RESERVE_ITERS; i++) {
		r.addr = 0;
		if (ioctl(ntfd, NTMEM_IOC_RESERVE, &r))
			return -errno;
		*(volatile char *)(uintptr_t)r.addr = 1;
		rel = nt_release(r.addr);
		if (rel)
			return rel;
	}
	*ns = bench_now_ns() - t0;
	*ops = RESERVE_ITERS;
	return 0;
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

static int nt_flip(void *ctx, uint64_t *ns, uint64_t *ops)
{
	uint64_t t0, addr = (uintptr_t)ctx + FLIP_PAGE * page;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < PROTECT_ITERS; i++) {
		err = nt_protect(addr, page, NTMEM_PAGE_READONLY);
		if (!err)
			err = nt_protect(addr, page, NTMEM_PAGE_READWRITE);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = 2 * PROTECT_ITERS;
	return 0;
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

/*
 * With one vCPU, any other runnable task shares the timed loops.  Right
 * after boot the 6.12 guest runs the kernel's crypto self-tests
 * (cryptomgr_test) for about a second, which doubled every figure timed
 * meanwhile.  Wait until the run queue holds this program alone (the
 * running count in /proc/loadavg, which includes the reader) at
 * QUIET_CHECKS readings in a row, QUIET_GAP_US apart.  Returns the seconds
 * waited, negative if still busy after QUIET_MAX_S.
 */
#define QUIET_CHECKS	5
#define QUIET_GAP_US	100000
#define QUIET_MAX_S	120

static double wait_quiet(void)
{
	uint64_t t0 = bench_now_ns();
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	int quiet = 0, running;
	double waited = 0;
	char buf[128];
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			break;
		buf[n] = '\0';
		if (sscanf(buf, "%*s %*s %*s %d/", &running) != 1)
			break;
		quiet = running <= 1 ? quiet + 1 : 0;
		waited = (double)(bench_now_ns() - t0) / 1e9;
		if (quiet >= QUIET_CHECKS)
			break;
		if (waited > QUIET_MAX_S) {
			waited = -waited;
			break;
		}
		usleep(QUIET_GAP_US);
	}
	close(fd);
	return waited;
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
	printf("times:  guest ns per operation, median of %d repetitions after %d warm-up (rows 3-4: %d)\n\n",
	       REPS, WARMUP, DROP_REPS);
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

static int raw_protect(struct lib_ctx *c, uint64_t addr, uint32_t protect)
{
	struct ntmem_protect p = {
		.size = sizeof(p), .addr = addr, .length = page,
		.protect = protect,
	};

	if (raw_user_out())
		p.old_protect_out = (uintptr_t)&c->old_protect;
	return ioctl(ntfd, NTMEM_IOC_PROTECT, &p) ? -errno : 0;
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
	uint64_t t0, addr = (uintptr_t)c->p + FLIP_PAGE * page;
	int i, err;

	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		err = raw_protect(c, addr, NTMEM_PAGE_READONLY);
		if (!err)
			err = raw_protect(c, addr, NTMEM_PAGE_READWRITE);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = 2 * LIB_ITERS;
	return 0;
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
	struct ntmem_reserve r = {
		.size = sizeof(r), .flags = NTMEM_RESERVE_COMMIT,
		.length = LIB_REGION, .protect = NTMEM_PAGE_READWRITE,
	};
	uint64_t t0;
	int i, err;

	(void)ctx;
	t0 = bench_now_ns();
	for (i = 0; i < LIB_ITERS; i++) {
		r.addr = 0;
		if (ioctl(ntfd, NTMEM_IOC_RESERVE, &r))
			return -errno;
		err = nt_release(r.addr);
		if (err)
			return err;
	}
	*ns = bench_now_ns() - t0;
	*ops = LIB_ITERS;
	return 0;
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

static const struct {
	const char *id;
	void (*run)(void);
} rows[] = {
	{ "1a", row1 }, { "1b", row1b }, { "2", row2 }, { "2h", row2h },
	{ "3", row3 }, { "3h", row3h }, { "4a", row4a }, { "4b", row4b },
	{ "4h", row4h }, { "5", row5 }, { "6", row6 }, { "7", row7 },
	{ "8", row8 }, { "9a", row9a }, { "9b", row9b }, { "9c", row9c },
	{ "9d", row9d }, { "9e", row9e }, { "9f", row9f }, { "9g", row9g },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/* With arguments, run only the rows whose id starts with one of them. */
static int selected(unsigned int i, int argc, char **argv)
{
	int a;

	for (a = 1; a < argc; a++)
		if (!strncmp(rows[i].id, argv[a], strlen(argv[a])))
			return 1;
	return argc < 2;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int a;

	for (a = 1; a < argc; a++) {
		for (i = 0; i < NROWS; i++)
			if (!strncmp(rows[i].id, argv[a], strlen(argv[a])))
				break;
		if (i == NROWS || !argv[a][0]) {
			fprintf(stderr, "usage: ntmem-bench [ROW...]   (rows: 1 2 2h 3 3h 4 4a 4b 4h 5 6 7 8 9 9a-9g)\n");
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
	printf("%s", notes);
	print_counters();
	printf("ntmem-bench: %s\n",
	       failed ? "FAILED (an operation errored)" : "done");
	return failed;
}
