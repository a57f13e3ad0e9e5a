// SPDX-License-Identifier: GPL-2.0
/*
 * Running op lists: the context a list runs in (fd, a foreign mapping, a
 * kept-free hole, a pipe), and each list in a forked child so that a run
 * starts from an empty address space and a crash is a result, not the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ntmem/windows.h>
#include "fuzz.h"

int ctx_init(struct fz_ctx *c, unsigned known)
{
	void *f, *h;

	memset(c, 0, sizeof(*c));
	c->known = known;
	c->nth = -2;	/* fail-nth: opened by the first armed op (inject.c) */
	c->fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	/* foreign memory: 64 KiB-aligned, so FIXED at it is a clean EEXIST */
	f = mmap(NULL, 2 * FZ_GRAN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f != MAP_FAILED) {
		uintptr_t a = ((uintptr_t)f + FZ_GRAN - 1) & ~(FZ_GRAN - 1);

		if (a != (uintptr_t)f)
			munmap(f, a - (uintptr_t)f);
		munmap((void *)(a + FZ_GRAN), (uintptr_t)f + FZ_GRAN - a);
		f = (void *)a;
	}
	/* the hole: 1 MiB (16 granules) of address space nobody maps */
	h = mmap(NULL, 16 * FZ_GRAN + FZ_GRAN, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f == MAP_FAILED || h == MAP_FAILED || pipe(c->pipe))
		return -ENOMEM;
	c->foreign = (uintptr_t)f;
	/*
	 * NtmemIsGuardPageViolation answers FALSE before libntmem's first
	 * call (documented): make one.
	 */
	{
		MEMORY_BASIC_INFORMATION mbi;

		VirtualQuery(f, &mbi, sizeof(mbi));
	}
	c->hole = ((uintptr_t)h + FZ_GRAN - 1) & ~(FZ_GRAN - 1);
	munmap(h, 16 * FZ_GRAN + FZ_GRAN);
	h = mmap(NULL, FZ_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return -ENOMEM;
	c->nomem = (uintptr_t)h;
	return 0;
}

void ctx_fini(struct fz_ctx *c)
{
	if (c->nth >= 0)
		close(c->nth);
	close(c->fd);
	close(c->pipe[0]);
	close(c->pipe[1]);
}

/* What a child reports back to its parent. */
struct child_report {
	long ran;		/* ops completed without divergence */
	long failed_at;		/* index of the diverging op, or -1 */
	unsigned long checks, faults, known[12];
	unsigned long injections, clean_fails, inj_faults;
	char why[512];
};

/* Run the list in this process; fills @rep. */
static void run_list(const struct fz_opts *o, const struct fz_op *ops, long n,
		     struct child_report *rep, bool print)
{
	struct fz_ctx c;
	uint64_t rng = o->seed ^ 0xC0FFEE;
	char line[256];
	int err = ctx_init(&c, o->known);
	long start[FZ_NCOUNTERS];

	memset(rep, 0, sizeof(*rep));
	rep->failed_at = -1;
	if (err) {
		snprintf(rep->why, sizeof(rep->why), "setup: %s", strerror(-err));
		rep->failed_at = 0;
		return;
	}
	if (read_counters(start))
		start[0] = -1;
	for (long i = 0; i < n; i++) {
		c.op_index = i;
		if (print || o->verbose) {
			op_format(&ops[i], line, sizeof(line));
			printf("  op %ld: %s\n", i, line);
			fflush(stdout);
		}
		if (run_op(&c, &ops[i]) ||
		    check_slot(&c, ops[i].slot, &rng) ||
		    (ops[i].kind == K_RESERVE_ADJ &&
		     check_slot(&c, (ops[i].slot + 1 + ops[i].sub %
				     (FZ_SLOTS - 1)) % FZ_SLOTS, &rng))) {
			rep->failed_at = i;
			memcpy(rep->why, c.why, sizeof(rep->why));
			break;
		}
		rep->ran++;
	}
	/* the round's end: the module counts what the model holds */
	if (rep->failed_at < 0 && n && check_counters(&c, start)) {
		rep->failed_at = --rep->ran;
		memcpy(rep->why, c.why, sizeof(rep->why));
	}
	rep->checks = c.checks;
	rep->injections = c.injections;
	rep->clean_fails = c.clean_fails;
	rep->inj_faults = c.inj_faults;
	rep->faults = c.faults;
	memcpy(rep->known, c.known_hits, sizeof(rep->known));
	ctx_fini(&c);
}

/* Once the child is gone, every counter is back where it started. */
static int counters_back(const long *start, long *now)
{
	for (int tries = 0; tries < 50; tries++) {
		if (read_counters(now) ||
		    !memcmp(now, start, sizeof(*now) * FZ_NCOUNTERS))
			return 0;
		usleep(100000);
	}
	return -1;
}

/*
 * Fork, run, and collect the report; a child killed by a signal failed,
 * and so did one that left the module's counters changed.
 */
static int run_child(const struct fz_opts *o, const struct fz_op *ops, long n,
		     struct child_report *rep, bool print)
{
	struct child_report *shared;
	long start[FZ_NCOUNTERS], now[FZ_NCOUNTERS];
	bool counted = !read_counters(start);
	int status;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	memset(shared, 0, sizeof(*shared));
	shared->failed_at = -2;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		run_list(o, ops, n, shared, print);
		fflush(stdout);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		munmap(shared, sizeof(*shared));
		return -1;
	}
	*rep = *shared;
	munmap(shared, sizeof(*shared));
	if (!WIFEXITED(status) || rep->failed_at == -2) {
		rep->failed_at = rep->ran;
		snprintf(rep->why, sizeof(rep->why),
			 "the process died (status %#x) at op %ld", status,
			 rep->ran);
	}
	if (rep->failed_at < 0 && counted && n && counters_back(start, now)) {
		int i = 0;

		while (now[i] == start[i])
			i++;
		rep->failed_at = --rep->ran;
		snprintf(rep->why, sizeof(rep->why),
			 "counters: %s %ld after the process exited, %ld before it ran",
			 fz_counter_names[i], now[i], start[i]);
	}
	return 0;
}

int run_list_in_child(const struct fz_opts *o, const struct fz_op *ops,
		      long n, bool print)
{
	struct child_report rep;

	if (run_child(o, ops, n, &rep, print))
		return 0;
	if (print && rep.failed_at >= 0)
		printf("  -> divergence at op %ld: %s\n", rep.failed_at, rep.why);
	return rep.failed_at >= 0;
}

/* Totals over the run, for the last line. */
struct totals {
	long ops, rounds, divergences;
	unsigned long checks, faults, known[12], injections, clean_fails;
	unsigned long inj_faults;
};

static void add(struct totals *t, const struct child_report *r)
{
	t->ops += r->ran + (r->failed_at >= 0);
	t->checks += r->checks;
	t->faults += r->faults;
	t->injections += r->injections;
	t->clean_fails += r->clean_fails;
	t->inj_faults += r->inj_faults;
	for (int i = 0; i < 12; i++)
		t->known[i] += r->known[i];
}

#define ROUND_OPS	300

/*
 * The fuzz loop: round r runs ROUND_OPS ops generated from (seed, r) in a
 * fresh child.  On a divergence: report, shrink, print the replay list.
 */
int fuzz_main(const struct fz_opts *o, uint64_t (*now)(void))
{
	uint64_t end = now() + (uint64_t)(o->seconds * 1e9);
	struct fz_op *ops = calloc(ROUND_OPS, sizeof(*ops));
	struct totals t = { 0 };

	if (!ops)
		return 1;
	for (long r = 0; (o->ops <= 0 || t.ops < o->ops) &&
			 (o->seconds <= 0 || now() < end); r++) {
		uint64_t rng = o->seed * 0x100000001B3ULL + r;
		uint64_t irng = rng ^ 0x1A7EC7ED;	/* --inject's own stream */
		struct child_report rep;
		long n = ROUND_OPS;

		if (o->ops > 0 && o->ops - t.ops < n)
			n = o->ops - t.ops;
		for (long i = 0; i < n; i++) {
			gen_op(&rng, &ops[i], o->mode);
			ops[i].inject = inject_draw(&irng, o->inject);
		}
		if (run_child(o, ops, n, &rep, false)) {
			fprintf(stderr, "fuzz: fork failed\n");
			return 1;
		}
		add(&t, &rep);
		t.rounds++;
		if (rep.failed_at >= 0) {
			struct fz_opts so = *o;
			long m;

			t.divergences++;
			printf("fuzz: DIVERGENCE seed %llu round %ld op %ld: %s\n",
			       (unsigned long long)o->seed, r, rep.failed_at,
			       rep.why);
			so.seed = o->seed;
			m = shrink_ops(&so, ops, rep.failed_at + 1);
			printf("fuzz: shortest failing sequence (%ld ops; save the op lines for --replay):\n",
			       m);
			for (long i = 0; i < m; i++) {
				char line[256];

				op_format(&ops[i], line, sizeof(line));
				printf("op %s\n", line);
			}
			run_list_in_child(o, ops, m, true);
			break;
		}
	}
	printf("fuzz: ops %ld, rounds %ld, injections fired %lu (%lu in faults), clean failures %lu, divergences %ld, checks %lu, faults %lu, known defects seen:",
	       t.ops, t.rounds, t.injections, t.inj_faults, t.clean_fails,
	       t.divergences, t.checks, t.faults);
	for (int i = 1; i < 12; i++)
		if (t.known[i])
			printf(" item%d=%lu", i, t.known[i]);
	printf(" (expected:");
	for (int i = 1; i < 12; i++)
		if (o->known & (1u << i))
			printf(" %d", i);
	printf(")\n");
	free(ops);
	return t.divergences ? 1 : 0;
}

int replay_main(const struct fz_opts *o)
{
	FILE *f = fopen(o->replay, "r");
	struct fz_op *ops = NULL;
	long n = 0, cap = 0;
	char line[512];
	int diverged;

	if (!f) {
		perror(o->replay);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *l = line;

		if (!strncmp(l, "op ", 3))
			l += 3;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			ops = realloc(ops, cap * sizeof(*ops));
			if (!ops)
				return 2;
		}
		if (!op_parse(l, &ops[n]))
			n++;
	}
	fclose(f);
	printf("fuzz: replaying %ld ops from %s\n", n, o->replay);
	diverged = run_list_in_child(o, ops, n, true);
	printf("fuzz: ops %ld, divergences %d\n", n, diverged);
	free(ops);
	return diverged;
}
