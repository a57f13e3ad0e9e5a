/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Timing helpers for ntmem-bench.
 *
 * A measurement is a callback that does one repetition: it sets up what it
 * needs untimed, times only the operation under test with bench_now_ns(),
 * and reports the elapsed nanoseconds and how many operations they cover.
 * bench_run() discards warm-up repetitions and returns the median ns/op of
 * the rest, because the median ignores the odd repetition disturbed by a
 * timer tick or a page-allocator refill.
 */
#ifndef NTMEM_BENCH_UTIL_H
#define NTMEM_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MAX_REPS	32

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One repetition: 0 with *ns and *ops set, or a negative errno. */
typedef int (*bench_fn)(void *ctx, uint64_t *ns, uint64_t *ops);

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median ns/op over @reps repetitions after @warmup discarded ones. */
static inline int bench_run(bench_fn fn, void *ctx, int warmup, int reps,
			    double *ns_per_op)
{
	double v[BENCH_MAX_REPS];
	uint64_t ns = 0, ops = 0;
	int i, err;

	if (reps < 1 || reps > BENCH_MAX_REPS)
		return -EINVAL;
	for (i = 0; i < warmup + reps; i++) {
		err = fn(ctx, &ns, &ops);
		if (err)
			return err;
		if (i >= warmup)
			v[i - warmup] = ops ? (double)ns / (double)ops : 0;
	}
	*ns_per_op = bench_median(v, reps);
	return 0;
}

/* Deterministic pseudo-random numbers (same sequence every run). */
static inline uint32_t bench_rand(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*state >> 33);
}

#endif /* NTMEM_BENCH_UTIL_H */
