// SPDX-License-Identifier: GPL-2.0
/*
 * Shrinking a failing op list: delta debugging (ddmin) over the list,
 * each candidate replayed in a fresh child.  Ops name slots and pages, not
 * addresses, so any sub-list is a valid program.  Bounded in time: under
 * TCG each replay costs a fork and a few hundred ioctls.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

#define SHRINK_SECONDS	60

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long shrink_ops(const struct fz_opts *o, struct fz_op *ops, long n)
{
	struct fz_op *cand = malloc(n * sizeof(*ops));
	double deadline = secs() + SHRINK_SECONDS;
	long chunks = 2, tries = 0;

	if (!cand)
		return n;
	/* the whole prefix must still fail, else nothing can be shrunk */
	if (!run_list_in_child(o, ops, n, false)) {
		printf("fuzz: not reproducible in a fresh process; keeping %ld ops\n", n);
		free(cand);
		return n;
	}
	while (n >= 2 && secs() < deadline) {
		long size = (n + chunks - 1) / chunks;
		bool reduced = false;

		for (long start = 0; start < n && secs() < deadline; start += size) {
			long m = 0;

			/* the complement of chunk [start, start + size) */
			for (long i = 0; i < n; i++)
				if (i < start || i >= start + size)
					cand[m++] = ops[i];
			tries++;
			if (m && run_list_in_child(o, cand, m, false)) {
				memcpy(ops, cand, m * sizeof(*ops));
				n = m;
				chunks = chunks > 2 ? chunks - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (size == 1)
				break;
			chunks = chunks * 2 > n ? n : chunks * 2;
		}
	}
	printf("fuzz: shrunk to %ld ops in %ld replays\n", n, tries);
	free(cand);
	return n;
}
