// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem-concurrency: what ntmem's state changes cost the *other* threads of
 * a process, against plain Linux memory in the same run.
 *
 * A Windows program commits, decommits and re-protects memory from many
 * threads while its other threads fault pages in: a heap growing and
 * trimming its segments, a JIT flipping code pages, a GC resetting its
 * nursery.  Under Wine each of those is an mmap, mprotect or madvise that
 * takes the mm's mmap_lock for write; ntmem's ioctls take it too (and the
 * reservation's VMA lock), so a fault in an unrelated reservation may
 * have to wait.  The rows:
 *
 *   11a  one thread first-touches a committed 64 MiB region (one byte per
 *        4 KiB page), alone: ns per page
 *   11b  the same while a second thread churns a *different* reservation:
 *        COMMIT 64 KiB + touch its 16 pages + DECOMMIT, again and again
 *        (Linux: mprotect RW + touch + MADV_DONTNEED + mprotect NONE of a
 *        64 KiB piece of a PROT_NONE mapping); the toucher's slowdown
 *   11c  the churn cycles per second reached meanwhile
 *   11d  1 thread first-touching the 64 MiB region: wall ns per page
 *   11e  2 threads first-touching it, a contiguous half each: their
 *        wall time over the one thread's (how well the faults scale)
 *   11f  the toucher's slowdown while a second thread flips one page of a
 *        small reservation between READONLY and READWRITE with PROTECT
 *        (Linux: mprotect between PROT_READ and PROT_READ | PROT_WRITE)
 *   11g  the same with a write to the page after each flip to READWRITE,
 *        as a JIT writes code and seals it (then ntmem maps the page again
 *        and has a TLB to flush at the next flip, as mprotect always has)
 *
 * Both sides get 4 KiB pages (every region advised MADV_NOHUGEPAGE).  The
 * background thread is running before the toucher starts and is stopped
 * after it ends.  Every figure is the best of REPS rounds; within a round
 * the two sides take turns, the first one alternating.  Needs two vCPUs
 * running at once, so no -icount: compare ratios within a run only.
 *
 * Timing never fails the run: the exit status is 1 only if an operation
 * returned an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
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

#include <uapi/ntmem.h>

#include "bench_guest.h"
#include "bench_notes.h"
#include "bench_util.h"

#define KIB		1024ULL
#define MIB		(1024 * KIB)

#define REPS		3		/* rounds; the best one counts */
#define TOUCH_BYTES	(64 * MIB)	/* the toucher's region */
#define CHURN_REGION	(1 * MIB)	/* the churn thread's reservation */
#define CHURN_OFF	(512 * KIB)	/* its 64 KiB piece, in the middle */
#define CHURN_BYTES	NTMEM_GRANULARITY
#define FLIP_REGION	NTMEM_GRANULARITY	/* the protect thread's */
#define FLIP_PAGE	8		/* middle page: mprotect splits */
#define ALONE_US	300000		/* the churn timed with no toucher */

static int ntfd = -1;
static size_t page;
static int failed;

/* The operation that failed last, for the note under the table. */
static const char *fail_op = "?";

static int fail(const char *op, int err)
{
	fail_op = op;
	return err;
}

/* ---- ntmem ioctl wrappers: 0 or a negative errno ---- */

static int nt_reserve(uint64_t len, uint64_t *base)
{
	struct ntmem_reserve r = { .size = sizeof(r), .length = len };

	if (ioctl(ntfd, NTMEM_IOC_RESERVE, &r))
		return fail("NTMEM_IOC_RESERVE", -errno);
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

	if (ioctl(ntfd, cmd, &r))
		return fail(cmd == NTMEM_IOC_COMMIT ? "NTMEM_IOC_COMMIT" :
			    cmd == NTMEM_IOC_DECOMMIT ? "NTMEM_IOC_DECOMMIT" :
			    "NTMEM_IOC_RELEASE", -errno);
	return 0;
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

	if (ioctl(ntfd, NTMEM_IOC_PROTECT, &p))
		return fail("NTMEM_IOC_PROTECT", -errno);
	return 0;
}

/* ---- the regions: 0 or a negative errno; on failure nothing is left ---- */

/* The three kinds of memory measured. */
enum mem { MEM_NT, MEM_LX, MEM_SHM };

/*
 * A reservation of @len, advised MADV_NOHUGEPAGE (4 KiB pages whatever the
 * THP policy), committed read-write unless @reserve_only.
 */
static int nt_region(uint64_t len, bool reserve_only, char **p)
{
	uint64_t base = 0;
	int err;

	err = nt_reserve(len, &base);
	if (err)
		return err;
	if (madvise((void *)(uintptr_t)base, len, MADV_NOHUGEPAGE))
		err = fail("madvise(ntmem, MADV_NOHUGEPAGE)", -errno);
	if (!err && !reserve_only)
		err = nt_commit(base, len);
	if (err) {
		nt_release(base);
		return err;
	}
	*p = (char *)(uintptr_t)base;
	return 0;
}

/* Anonymous memory without THP: private (MAP_SHARED with @shared). */
static int lx_region(size_t len, int prot, bool shared, char **p)
{
	void *m = mmap(NULL, len, prot,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS,
		       -1, 0);

	if (m == MAP_FAILED)
		return fail("mmap", -errno);
	if (madvise(m, len, MADV_NOHUGEPAGE)) {
		munmap(m, len);
		return fail("madvise(MADV_NOHUGEPAGE)", -errno);
	}
	*p = m;
	return 0;
}

static int region_alloc(enum mem mem, size_t len, char **p)
{
	switch (mem) {
	case MEM_NT:
		return nt_region(len, false, p);
	case MEM_LX:
		return lx_region(len, PROT_READ | PROT_WRITE, false, p);
	default:
		return lx_region(len, PROT_READ | PROT_WRITE, true, p);
	}
}

static int region_free(enum mem mem, char *p, size_t len)
{
	if (mem == MEM_NT)
		return nt_release((uintptr_t)p);
	return munmap(p, len) ? fail("munmap", -errno) : 0;
}

static void touch(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page)
		((volatile char *)p)[off] = 1;
}

/* ---- the background thread: churn or protection flips ---- */

/* LOAD_PROTECT_WRITE: the flips with a write to the page once it is RW */
enum load { LOAD_NONE, LOAD_CHURN, LOAD_PROTECT, LOAD_PROTECT_WRITE };

struct worker {
	int (*cycle)(struct worker *w);
	char *region;
	pthread_barrier_t *start;
	int stop;		/* set by the toucher when it is done */
	int err;		/* negative errno of a failed cycle */
	/* cycles done, read by the toucher; on its own cache line */
	uint64_t cycles __attribute__((aligned(64)));
};

/* COMMIT 64 KiB read-write, write its 16 pages, DECOMMIT. */
static int nt_churn(struct worker *w)
{
	uint64_t piece = (uintptr_t)w->region + CHURN_OFF;
	int err;

	err = nt_commit(piece, CHURN_BYTES);
	if (err)
		return err;
	touch((char *)(uintptr_t)piece, CHURN_BYTES);
	return nt_range(NTMEM_IOC_DECOMMIT, piece, CHURN_BYTES, 0);
}

/* The same piece made accessible, written, emptied and closed again. */
static int lx_churn(struct worker *w)
{
	char *piece = w->region + CHURN_OFF;

	if (mprotect(piece, CHURN_BYTES, PROT_READ | PROT_WRITE))
		return fail("mprotect(RW)", -errno);
	touch(piece, CHURN_BYTES);
	if (madvise(piece, CHURN_BYTES, MADV_DONTNEED))
		return fail("madvise(MADV_DONTNEED)", -errno);
	if (mprotect(piece, CHURN_BYTES, PROT_NONE))
		return fail("mprotect(NONE)", -errno);
	return 0;
}

/*
 * One page read-only and back: two protection changes; with @write, a
 * write to the page once it is writable again, as a JIT writes the code it
 * then seals.  Without it ntmem's page stays unmapped after the first
 * flip (PROTECT removes the PTE and nothing faults it back), so no flip
 * after the first has a TLB to flush; mprotect changes the PTE in place
 * and flushes at every RW -> R.
 */
static int nt_flip_page(struct worker *w, bool write)
{
	char *addr = w->region + FLIP_PAGE * page;
	int err;

	err = nt_protect((uintptr_t)addr, page, NTMEM_PAGE_READONLY);
	if (!err)
		err = nt_protect((uintptr_t)addr, page, NTMEM_PAGE_READWRITE);
	if (!err && write)
		*(volatile char *)addr = 1;
	return err;
}

static int lx_flip_page(struct worker *w, bool write)
{
	char *addr = w->region + FLIP_PAGE * page;

	if (mprotect(addr, page, PROT_READ))
		return fail("mprotect(R)", -errno);
	if (mprotect(addr, page, PROT_READ | PROT_WRITE))
		return fail("mprotect(RW)", -errno);
	if (write)
		*(volatile char *)addr = 1;
	return 0;
}

static int nt_flip(struct worker *w) { return nt_flip_page(w, false); }
static int lx_flip(struct worker *w) { return lx_flip_page(w, false); }
static int nt_flip_write(struct worker *w) { return nt_flip_page(w, true); }
static int lx_flip_write(struct worker *w) { return lx_flip_page(w, true); }

/* The background thread's cycle: [load][mem == MEM_LX]. */
static int (*const load_cycle[][2])(struct worker *w) = {
	[LOAD_CHURN] = { nt_churn, lx_churn },
	[LOAD_PROTECT] = { nt_flip, lx_flip },
	[LOAD_PROTECT_WRITE] = { nt_flip_write, lx_flip_write },
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int err;

	pthread_barrier_wait(w->start);
	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		err = w->cycle(w);
		if (err) {
			__atomic_store_n(&w->err, err, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&w->cycles, w->cycles + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The background thread's region, set up before it starts. */
static int load_region(enum mem mem, enum load load, char **p)
{
	int err;

	if (load == LOAD_CHURN)
		return mem == MEM_NT ? nt_region(CHURN_REGION, true, p) :
		       lx_region(CHURN_REGION, PROT_NONE, false, p);
	err = mem == MEM_NT ? nt_region(FLIP_REGION, false, p) :
	      lx_region(FLIP_REGION, PROT_READ | PROT_WRITE, false, p);
	if (!err)
		touch(*p, FLIP_REGION);
	return err;
}

static size_t load_len(enum load load)
{
	return load == LOAD_CHURN ? CHURN_REGION : FLIP_REGION;
}

/* ---- the toucher ---- */

struct toucher {
	char *p;
	size_t len;
	pthread_barrier_t *start;
	uint64_t t0, t1;
};

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;

	pthread_barrier_wait(t->start);
	t->t0 = bench_now_ns();
	touch(t->p, t->len);
	t->t1 = bench_now_ns();
	return NULL;
}

/*
 * What one measurement gives: the toucher's wall ns per page, and the
 * background thread's cycles per second while it ran.
 */
struct sample {
	double ns;
	double rate;
};

/*
 * First-touch TOUCH_BYTES of @mem with @nthreads threads (a contiguous
 * part each), with a background thread doing @load, which starts first.
 */
static int measure(enum mem mem, enum load load, int nthreads,
		   struct sample *s)
{
	struct toucher t[2] = { { 0 } };
	struct worker w = { 0 };
	pthread_barrier_t start;
	pthread_t tid;
	uint64_t c0 = 0, c1 = 0, t0, t1;
	bool thread = load != LOAD_NONE || nthreads > 1;
	char *p, *lp = NULL;
	int i, err, err2;

	err = region_alloc(mem, TOUCH_BYTES, &p);
	if (err)
		return err;
	if (load != LOAD_NONE) {
		err = load_region(mem, load, &lp);
		if (err)
			goto out_region;
	}
	for (i = 0; i < nthreads; i++) {
		t[i].len = TOUCH_BYTES / nthreads;
		t[i].p = p + i * t[i].len;
		t[i].start = &start;
	}
	if (thread) {
		err = -pthread_barrier_init(&start, NULL, 2);
		if (err) {
			fail("pthread_barrier_init", err);
			goto out_load;
		}
		if (load != LOAD_NONE) {
			w.region = lp;
			w.start = &start;
			w.cycle = load_cycle[load][mem == MEM_LX];
			err = -pthread_create(&tid, NULL, worker_main, &w);
		} else {
			err = -pthread_create(&tid, NULL, toucher_main, &t[1]);
		}
		if (err) {
			fail("pthread_create", err);
			goto out_barrier;
		}
	}

	if (load != LOAD_NONE) {
		pthread_barrier_wait(&start);
		/* The background thread is at work before the toucher starts. */
		while (!__atomic_load_n(&w.cycles, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&w.err, __ATOMIC_ACQUIRE))
			sched_yield();
		c0 = __atomic_load_n(&w.cycles, __ATOMIC_RELAXED);
		t[0].t0 = bench_now_ns();
		if (nthreads)
			touch(p, TOUCH_BYTES);
		else		/* the background thread's rate alone */
			usleep(ALONE_US);
		t[0].t1 = bench_now_ns();
		c1 = __atomic_load_n(&w.cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	} else if (thread) {
		toucher_main(&t[0]);
	} else {
		t[0].t0 = bench_now_ns();
		touch(p, TOUCH_BYTES);
		t[0].t1 = bench_now_ns();
	}
	if (thread) {
		err = -pthread_join(tid, NULL);
		if (err)
			fail("pthread_join", err);
		else
			err = __atomic_load_n(&w.err, __ATOMIC_ACQUIRE);
	}
	/* Wall time: from the first toucher's start to the last one's end. */
	t0 = t[0].t0;
	t1 = t[0].t1;
	if (nthreads > 1) {
		t0 = t[1].t0 < t0 ? t[1].t0 : t0;
		t1 = t[1].t1 > t1 ? t[1].t1 : t1;
	}
	s->ns = (double)(t1 - t0) / (double)(TOUCH_BYTES / page);
	s->rate = (double)(c1 - c0) * 1e9 / (double)(t1 - t0);

out_barrier:
	if (thread)
		pthread_barrier_destroy(&start);
out_load:
	if (lp) {
		err2 = region_free(mem, lp, load_len(load));
		if (!err)
			err = err2;
	}
out_region:
	err2 = region_free(mem, p, TOUCH_BYTES);
	return err ? err : err2;
}

/* ---- table ---- */

/* What a row's two figures are, and which way its target points. */
enum unit { UNIT_NS, UNIT_TIMES, UNIT_RATE };
enum goal { GOAL_NONE, GOAL_MAX, GOAL_MIN };

struct row {
	const char *id;
	const char *name;
	const char *linux_name;
	enum unit unit;
	enum goal goal;
	double target;		/* of the ratio ntmem / Linux */
	const char *target_text;
	double nt, lx;
	int err;		/* negative errno of the failed operation */
};

#define FMT_ROW "| %-3s | %-52s | %11s | %-50s | %11s | %7s | %-8s | %-5s |\n"

static void print_header(void)
{
	printf(FMT_ROW, "#", "operation", "ntmem", "Linux primitive", "Linux",
	       "ratio", "target", "meets");
	printf("|-----|%.54s|%.13s|%.52s|%.13s|%.9s|%.10s|%.7s|\n",
	       "------------------------------------------------------------",
	       "-------------",
	       "------------------------------------------------------------",
	       "-------------", "---------", "----------", "-------");
}

static void figure(char *buf, size_t len, enum unit unit, double v)
{
	switch (unit) {
	case UNIT_NS:
		snprintf(buf, len, "%.0f ns", v);
		break;
	case UNIT_TIMES:
		snprintf(buf, len, "%.2fx", v);
		break;
	case UNIT_RATE:
		snprintf(buf, len, "%.0f/s", v);
		break;
	}
}

static void print_row(const struct row *r)
{
	char nt[32], lx[32], ratio[16];
	const char *meets = "-";
	double q;

	if (r->err) {
		failed = 1;
		printf(FMT_ROW, r->id, r->name, "error", r->linux_name, "-",
		       "-", strerror(-r->err), "-");
		fflush(stdout);
		return;
	}
	q = r->nt / r->lx;
	figure(nt, sizeof(nt), r->unit, r->nt);
	figure(lx, sizeof(lx), r->unit, r->lx);
	snprintf(ratio, sizeof(ratio), "%.2fx", q);
	if (r->goal == GOAL_MAX)
		meets = q <= r->target ? "yes" : "no";
	else if (r->goal == GOAL_MIN)
		meets = q >= r->target ? "yes" : "no";
	printf(FMT_ROW, r->id, r->name, nt, r->linux_name, lx, ratio,
	       r->target_text, meets);
	fflush(stdout);
}

/* A failed group: its rows print the error, the note says what failed. */
static void group_failed(const char *rows, int err)
{
	note("- rows %s: %s failed: %s\n", rows, fail_op, strerror(-err));
}

/* ---- the best of REPS rounds ---- */

struct best {
	double ns;		/* lowest */
	double rate;		/* highest */
};

static void best_init(struct best *b, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		b[i].ns = 1e300;
		b[i].rate = 0;
	}
}

static void best_add(struct best *b, const struct sample *s)
{
	if (s->ns < b->ns)
		b->ns = s->ns;
	if (s->rate > b->rate)
		b->rate = s->rate;
}

/*
 * REPS rounds of @n measurements per side (the k-th with @load[k] and
 * @nthreads[k]); ntmem and Linux take turns, the first one alternating.
 * @b[k] gets ntmem's best, @b[n + k] Linux's.
 */
static int rounds(int n, const enum load *load, const int *nthreads,
		  struct best *b)
{
	static const enum mem order[2][2] = {
		{ MEM_NT, MEM_LX }, { MEM_LX, MEM_NT },
	};
	struct sample s;
	int rep, k, i, err;
	enum mem mem;

	best_init(b, 2 * n);
	for (rep = 0; rep < REPS; rep++)
		for (k = 0; k < n; k++)
			for (i = 0; i < 2; i++) {
				mem = order[rep & 1][i];
				err = measure(mem, load[k], nthreads[k], &s);
				if (err)
					return err;
				best_add(&b[(mem == MEM_LX) * n + k], &s);
			}
	return 0;
}

/* ---- rows ---- */

/* 11a-c: the toucher alone and beside the churn thread. */
static void rows_churn(void)
{
	/* alone; beside the churn; the churn alone (no toucher) */
	static const enum load load[3] = { LOAD_NONE, LOAD_CHURN, LOAD_CHURN };
	static const int nthreads[3] = { 1, 1, 0 };
	struct row a = { "11a", "first touch per 4 KiB page of 64 MiB, alone",
		"anon mmap 64 MiB first touch (no THP)", UNIT_NS,
		GOAL_NONE, 0, "none", 0, 0, 0 };
	struct row b = { "11b", "toucher slowdown, churn thread on another reserv.",
		"churn: mprotect RW+touch+DONTNEED+mprotect NONE",
		UNIT_TIMES, GOAL_MAX, 1.1, "<= 1.1x", 0, 0, 0 };
	struct row c = { "11c", "churn cycles/s: COMMIT 64K + touch 16 + DECOMMIT",
		"cycles/s of that churn beside the toucher", UNIT_RATE,
		GOAL_MIN, 0.9, ">= 0.9x", 0, 0, 0 };
	/* ntmem: alone, churn, churn alone; Linux the same */
	struct best bt[6];
	int err;

	err = rounds(3, load, nthreads, bt);
	if (err) {
		a.err = b.err = c.err = err;
		group_failed("11a-c", err);
	} else {
		a.nt = bt[0].ns;
		a.lx = bt[3].ns;
		b.nt = bt[1].ns / bt[0].ns;
		b.lx = bt[4].ns / bt[3].ns;
		c.nt = bt[1].rate;
		c.lx = bt[4].rate;
		note("- rows 11a-b, ns per page alone / beside the churn: ntmem %.0f / %.0f, Linux %.0f / %.0f\n",
		     bt[0].ns, bt[1].ns, bt[3].ns, bt[4].ns);
		note("- row 11c, the churn alone (no toucher): ntmem %.0f/s, Linux %.0f/s (%.2fx); beside the toucher it keeps %.2f of that (ntmem) and %.2f (Linux)\n",
		     bt[2].rate, bt[5].rate, bt[2].rate / bt[5].rate,
		     bt[1].rate / bt[2].rate, bt[4].rate / bt[5].rate);
	}
	print_row(&a);
	print_row(&b);
	print_row(&c);
}

/* 11d-e: one and two threads first-touching one region. */
static void rows_threads(void)
{
	static const enum load load[2] = { LOAD_NONE, LOAD_NONE };
	static const int nthreads[2] = { 1, 2 };
	struct row d = { "11d", "first touch of 64 MiB, 1 thread, wall ns per page",
		"anon mmap 64 MiB, 1 thread (no THP)", UNIT_NS, GOAL_NONE,
		0, "none", 0, 0, 0 };
	struct row e = { "11e", "2 threads (a half each): time / 1 thread's",
		"anon mmap 64 MiB, 2 threads / 1 (no THP)", UNIT_TIMES,
		GOAL_MAX, 1.1, "<= 1.1x", 0, 0, 0 };
	struct best bt[4];		/* ntmem 1, 2; Linux 1, 2 */
	struct best shm[2];
	struct sample s;
	int rep, k, err;

	err = rounds(2, load, nthreads, bt);
	/* Control: shared anonymous memory (shmem, as ntmem's store is). */
	best_init(shm, 2);
	for (rep = 0; !err && rep < REPS; rep++)
		for (k = 0; !err && k < 2; k++) {
			err = measure(MEM_SHM, LOAD_NONE, nthreads[k], &s);
			if (!err)
				best_add(&shm[k], &s);
		}
	if (err) {
		d.err = e.err = err;
		group_failed("11d-e", err);
	} else {
		d.nt = bt[0].ns;
		d.lx = bt[2].ns;
		e.nt = bt[1].ns / bt[0].ns;
		e.lx = bt[3].ns / bt[2].ns;
		note("- rows 11d-e, wall ns per page with 2 threads: ntmem %.0f, Linux %.0f; scaling (1-thread time / 2-thread time): ntmem %.2fx, Linux %.2fx\n",
		     bt[1].ns, bt[3].ns, bt[0].ns / bt[1].ns,
		     bt[2].ns / bt[3].ns);
		note("- rows 11d-e control, MAP_SHARED anonymous (shmem) memory: 1 thread %.0f ns, 2 threads %.0f ns per page, scaling %.2fx\n",
		     shm[0].ns, shm[1].ns, shm[0].ns / shm[1].ns);
	}
	print_row(&d);
	print_row(&e);
}

/* 11f-g: the toucher beside a thread flipping one page's protection. */
static void rows_protect(void)
{
	static const enum load load[3] = {
		LOAD_NONE, LOAD_PROTECT, LOAD_PROTECT_WRITE,
	};
	static const int nthreads[3] = { 1, 1, 1 };
	struct row f = { "11f", "toucher slowdown, PROTECT 1 page RO<->RW beside",
		"mprotect 1 page R<->RW of 64 KiB beside", UNIT_TIMES,
		GOAL_MAX, 1.1, "<= 1.1x", 0, 0, 0 };
	struct row g = { "11g", "the same, the page written after each RW",
		"the same, the page written after each RW", UNIT_TIMES,
		GOAL_MAX, 1.1, "<= 1.1x", 0, 0, 0 };
	/* ntmem alone, flips, flips + write; Linux the same */
	struct best bt[6];
	int err;

	err = rounds(3, load, nthreads, bt);
	if (err) {
		f.err = g.err = err;
		group_failed("11f-g", err);
	} else {
		f.nt = bt[1].ns / bt[0].ns;
		f.lx = bt[4].ns / bt[3].ns;
		g.nt = bt[2].ns / bt[0].ns;
		g.lx = bt[5].ns / bt[3].ns;
		note("- rows 11f-g, ns per page alone / beside the flips / beside flips + write: ntmem %.0f / %.0f / %.0f, Linux %.0f / %.0f / %.0f\n",
		     bt[0].ns, bt[1].ns, bt[2].ns, bt[3].ns, bt[4].ns,
		     bt[5].ns);
		note("- rows 11f-g, protection changes per second beside the toucher: PROTECT %.0f, mprotect %.0f (%.2fx); with the write %.0f and %.0f (%.2fx)\n",
		     2 * bt[1].rate, 2 * bt[4].rate, bt[1].rate / bt[4].rate,
		     2 * bt[2].rate, 2 * bt[5].rate, bt[2].rate / bt[5].rate);
		note("- row 11f: PROTECT removes the page's PTE and the flip loop never faults it back, so after the first flip ntmem has no TLB to flush; mprotect changes the PTE in place and flushes the TLB of every CPU running the process (an IPI to the toucher's vCPU). Row 11g writes the page after each RW, so that ntmem maps it again and has to flush at the next RO\n");
	}
	print_row(&f);
	print_row(&g);
}

/* ---- banner ---- */

/*
 * Untimed: one first touch of each kind of memory, so that no side pays
 * alone for the first use of the fresh guest's memory, and a check that
 * both got 4 KiB pages.
 */
static int warm_up(void)
{
	enum mem mem;
	long huge[2] = { -1, -1 };
	char *p;
	int err;

	for (mem = MEM_NT; mem <= MEM_SHM; mem++) {
		err = region_alloc(mem, TOUCH_BYTES, &p);
		if (err)
			return err;
		touch(p, TOUCH_BYTES);
		if (mem != MEM_SHM)
			huge[mem] = rollup_kib(mem == MEM_NT ? "ShmemPmdMapped" :
					       "AnonHugePages");
		err = region_free(mem, p, TOUCH_BYTES);
		if (err)
			return err;
	}
	note("- THP policy %s; every region advised MADV_NOHUGEPAGE: after a touch of 64 MiB, ShmemPmdMapped %ld KiB (ntmem) and AnonHugePages %ld KiB (Linux)\n",
	     thp_policy(), huge[MEM_NT], huge[MEM_LX]);
	return 0;
}

/*
 * Whether the guest's two vCPUs really run at once (under TCG on a busy
 * host they may share one host CPU, and then no row here means much): the
 * work two threads of a compute loop get done in SPIN_MS against one.
 */
#define SPIN_MS		200

struct spinner {
	int *stop;
	uint64_t count __attribute__((aligned(64)));
};

static void *spin_main(void *arg)
{
	struct spinner *sp = arg;
	uint64_t n = 0, x = 1;

	while (!__atomic_load_n(sp->stop, __ATOMIC_RELAXED)) {
		bench_rand(&x);
		n++;
	}
	sp->count = n + (x == 0);	/* keep x alive */
	return NULL;
}

/* Loop iterations of @n threads in SPIN_MS, or 0 on failure. */
static uint64_t spin(int n)
{
	struct spinner sp[2] = { { 0 } };
	pthread_t tid[2];
	uint64_t sum = 0;
	int stop = 0, i, started;

	for (started = 0; started < n; started++) {
		sp[started].stop = &stop;
		if (pthread_create(&tid[started], NULL, spin_main,
				   &sp[started]))
			break;
	}
	usleep(SPIN_MS * 1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		sum += sp[i].count;
	}
	return started == n ? sum : 0;
}

/* Two threads' work against one's, or 0 if a thread could not start. */
static double parallelism(void)
{
	uint64_t one = spin(1), two = spin(2);

	return one && two ? (double)two / (double)one : 0;
}

static void print_banner(double waited)
{
	struct ntmem_version v = { .size = sizeof(v) };
	char line[512], model[128] = "?";
	struct utsname u;
	char date[64];
	time_t t = time(NULL);
	FILE *f;

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("kernel: %s %s %s %s\n", u.sysname, u.release, u.version,
	       u.machine);
	printf("date:   %s\n", date);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof(model), "%s",
				 strchr(line, ':') + 2);
			break;
		}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	printf("cpu:    %s; %ld online\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN));
	if (waited >= 0)
		printf("quiet:  no other runnable task after %.1f s\n", waited);
	else
		printf("quiet:  other tasks still runnable after %.1f s: figures may be high\n",
		       -waited);
	if (ioctl(ntfd, NTMEM_IOC_VERSION, &v) == 0)
		printf("ntmem:  ABI %u.%u, features 0x%llx, page %llu\n",
		       v.major, v.minor, (unsigned long long)v.features,
		       (unsigned long long)v.page_size);
	else
		printf("ntmem:  VERSION failed: %s\n", strerror(errno));
	printf("times:  guest wall time, best of %d rounds (ntmem and Linux taking turns)\n",
	       REPS);
}

int main(int argc, char **argv)
{
	int err;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: ntmem-concurrency\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	ntfd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	if (ntfd < 0) {
		fprintf(stderr, "ntmem-concurrency: %s: %s\n", NTMEM_DEVICE,
			strerror(errno));
		return 1;
	}
	print_banner(wait_quiet());
	printf("vcpus:  2 threads of a compute loop did %.2fx the work of 1 (2.00x: the vCPUs ran in parallel)\n",
	       parallelism());
	err = warm_up();
	if (err) {
		fprintf(stderr, "ntmem-concurrency: warm-up: %s: %s\n",
			fail_op, strerror(-err));
		return 1;
	}
	printf("\n");
	print_header();
	rows_churn();
	rows_threads();
	rows_protect();

	printf("\nNotes:\n");
	printf("- ratio = ntmem / Linux (rows 11b, 11f, 11g: of the slowdowns, each side's toucher beside the other thread / alone); meets is informational only.\n");
	printf("- two vCPUs, no -icount: the figures move with the host's load; compare ratios within a run.\n");
	fputs(bench_notes(), stdout);
	printf("- after the rows, 2 threads of a compute loop did %.2fx the work of 1\n",
	       parallelism());
	printf("ntmem-concurrency: %s\n",
	       failed ? "FAILED (an operation errored)" : "done");
	return failed;
}
