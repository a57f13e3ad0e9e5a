// SPDX-License-Identifier: GPL-2.0
/*
 * alloc-bench: libntmem's allocators against Linux's usual ones, in one
 * run.  HeapAlloc on the process heap and midl_user_allocate against glibc
 * malloc, jemalloc and mimalloc (each loaded with dlopen, RTLD_LOCAL, and
 * called through its own API so that none replaces another's malloc;
 * jemalloc's initial-exec TLS needs GLIBC_TUNABLES'
 * glibc.rtld.optional_static_tls to be loadable so):
 *
 *   pairs   alloc(64) then free, again and again
 *   mixed   a working set of 1024 blocks of 16 B to 64 KiB (sizes spread
 *           evenly over powers of two), each step freeing a random one
 *           and allocating anew
 *
 * with 1 and 2 threads (each its own working set, one shared heap), and the
 * RpcSs package: one RpcSmDisableAllocate freeing a million blocks against
 * a million RpcSmFree.  Prints ns per operation (alloc+free) and the ratio
 * to glibc malloc, the median of 5 repetitions after 1 warm-up; the
 * allocators take turns within each repetition.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <ntmem/rpc.h>
#include <ntmem/windows.h>

#include "bench_util.h"

#define PAIRS		1000000
#define MIXED_STEPS	200000
#define SLOTS		1024
#define MILLION		1000000
#define REPS		5

struct allocator {
	const char *name;
	void *(*alloc)(size_t n);
	void (*free)(void *p);
};

/* jemalloc and mimalloc through their own entry points. */
static void *(*je_mallocx)(size_t n, int flags);
static void (*je_dallocx)(void *p, int flags);
static void *(*mi_malloc)(size_t n);
static void (*mi_free)(void *p);
static HANDLE process_heap;

static void *glibc_alloc(size_t n) { return malloc(n); }
static void glibc_free(void *p) { free(p); }
static void *je_alloc(size_t n) { return je_mallocx(n, 0); }
static void je_free(void *p) { je_dallocx(p, 0); }
static void *mi_alloc(size_t n) { return mi_malloc(n); }
static void mim_free(void *p) { mi_free(p); }
static void *heap_alloc(size_t n) { return HeapAlloc(process_heap, 0, n); }
static void heap_free(void *p) { HeapFree(process_heap, 0, p); }
static void *midl_alloc(size_t n) { return midl_user_allocate(n); }
static void midl_free(void *p) { midl_user_free(p); }

static struct allocator allocators[] = {
	{ "glibc malloc", glibc_alloc, glibc_free },
	{ "jemalloc", je_alloc, je_free },
	{ "mimalloc", mi_alloc, mim_free },
	{ "HeapAlloc", heap_alloc, heap_free },
	{ "midl_user_allocate", midl_alloc, midl_free },
};

/* Load jemalloc and mimalloc; an allocator that is missing is skipped. */
static void load_allocators(void)
{
	void *je = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	void *mi = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);

	if (je) {
		je_mallocx = dlsym(je, "mallocx");
		je_dallocx = dlsym(je, "dallocx");
	}
	if (mi) {
		mi_malloc = dlsym(mi, "mi_malloc");
		mi_free = dlsym(mi, "mi_free");
	}
	if (!je_mallocx || !je_dallocx) {
		allocators[1].alloc = NULL;
		fprintf(stderr, "jemalloc: %s\n", je ? "no mallocx" : dlerror());
	}
	if (!mi_malloc || !mi_free) {
		allocators[2].alloc = NULL;
		fprintf(stderr, "mimalloc: %s\n", mi ? "no mi_malloc" : dlerror());
	}
	process_heap = GetProcessHeap();
	if (!process_heap)
		allocators[3].alloc = allocators[4].alloc = NULL;
}

/* A size from 16 B to 64 KiB: a random power of two, then within it. */
static size_t mixed_size(unsigned int *seed)
{
	unsigned int shift = 4 + rand_r(seed) % 12;

	return ((size_t)1 << shift) + rand_r(seed) % ((size_t)1 << shift);
}

struct work {
	const struct allocator *a;
	bool mixed;
	unsigned int seed;
	uint64_t ops;
	int failed;
};

static void *run_work(void *arg)
{
	struct work *w = arg;
	const struct allocator *a = w->a;
	void *slot[SLOTS] = { 0 };

	if (!w->mixed) {
		for (int i = 0; i < PAIRS; i++) {
			char *p = a->alloc(64);

			if (!p) {
				w->failed = 1;
				break;
			}
			p[0] = (char)i;
			a->free(p);
		}
		w->ops = PAIRS;
		return NULL;
	}
	for (int i = 0; i < MIXED_STEPS; i++) {
		int k = rand_r(&w->seed) % SLOTS;
		size_t n = mixed_size(&w->seed);

		if (slot[k])
			a->free(slot[k]);
		slot[k] = a->alloc(n);
		if (!slot[k]) {
			w->failed = 1;
			break;
		}
		((char *)slot[k])[0] = 1;
		((char *)slot[k])[n - 1] = 1;
	}
	for (int k = 0; k < SLOTS; k++)
		if (slot[k])
			a->free(slot[k]);
	w->ops = MIXED_STEPS;
	return NULL;
}

struct case_ctx {
	const struct allocator *a;
	bool mixed;
	int threads;
};

static int run_case(void *arg, uint64_t *ns, uint64_t *ops)
{
	struct case_ctx *c = arg;
	struct work w[2];
	pthread_t t[2];
	uint64_t t0;

	for (int i = 0; i < c->threads; i++)
		w[i] = (struct work){ c->a, c->mixed, 12345u + i, 0, 0 };
	t0 = bench_now_ns();
	for (int i = 0; i < c->threads; i++)
		if (pthread_create(&t[i], NULL, run_work, &w[i]))
			return -EAGAIN;
	*ops = 0;
	for (int i = 0; i < c->threads; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failed)
			return -ENOMEM;
		*ops += w[i].ops;
	}
	*ns = bench_now_ns() - t0;
	return 0;
}

#define NALLOC	(sizeof(allocators) / sizeof(allocators[0]))

/* One table: every allocator once to warm up, then REPS rounds in which
 * each runs once in turn, so that a slow phase of the host (TCG, other
 * load) falls on all of them alike; the median of each. */
static void allocator_table_one(bool mixed, int threads)
{
	double v[NALLOC][REPS], base = 0;
	bool failed[NALLOC] = { false };
	size_t i;

	for (int r = -1; r < REPS; r++) {
		for (i = 0; i < NALLOC; i++) {
			struct case_ctx c = { &allocators[i], mixed, threads };
			uint64_t ns, ops;

			if (!allocators[i].alloc || failed[i])
				continue;
			if (run_case(&c, &ns, &ops) || !ops) {
				failed[i] = true;
				continue;
			}
			if (r >= 0)
				v[i][r] = (double)ns / (double)ops;
		}
	}
	printf("\n%s, %d thread%s (ns per alloc+free; ratio to glibc malloc)\n",
	       mixed ? "mixed" : "pairs", threads, threads > 1 ? "s" : "");
	for (i = 0; i < NALLOC; i++) {
		double ns;

		if (!allocators[i].alloc) {
			printf("  %-20s (not available)\n", allocators[i].name);
			continue;
		}
		if (failed[i]) {
			printf("  %-20s failed\n", allocators[i].name);
			continue;
		}
		ns = bench_median(v[i], REPS);
		if (!i)
			base = ns;
		printf("  %-20s %8.1f  %5.2fx\n", allocators[i].name, ns,
		       ns / base);
	}
}

static void allocator_table(void)
{
	for (int mixed = 0; mixed < 2; mixed++)
		for (int threads = 1; threads <= 2; threads++)
			allocator_table_one(mixed, threads);
}

static void *blocks[MILLION];

/* A million RpcSmAllocate(32), then freed one by one or by the disable. */
static int rpcss_round(bool disable, uint64_t *ns)
{
	RPC_STATUS st;
	uint64_t t0;

	if (RpcSmEnableAllocate() != RPC_S_OK)
		return -ENOMEM;
	for (int i = 0; i < MILLION; i++) {
		blocks[i] = RpcSmAllocate(32, &st);
		if (!blocks[i])
			return -ENOMEM;
	}
	t0 = bench_now_ns();
	if (!disable)
		for (int i = 0; i < MILLION; i++)
			RpcSmFree(blocks[i]);
	RpcSmDisableAllocate();
	*ns = bench_now_ns() - t0;
	return 0;
}

static void rpcss_table(void)
{
	uint64_t singles, disable, frees, t0;

	if (rpcss_round(false, &singles) || rpcss_round(true, &disable)) {
		printf("\nRpcSs: failed\n");
		return;
	}
	for (int i = 0; i < MILLION; i++)
		blocks[i] = malloc(32);
	t0 = bench_now_ns();
	for (int i = 0; i < MILLION; i++)
		free(blocks[i]);
	frees = bench_now_ns() - t0;
	printf("\nfreeing a million 32-byte blocks (ms; ratio to 1M RpcSmFree)\n");
	printf("  %-28s %8.2f  1.00x\n", "1M RpcSmFree + disable",
	       singles / 1e6);
	printf("  %-28s %8.2f  %5.3fx\n", "RpcSmDisableAllocate alone",
	       disable / 1e6, (double)disable / singles);
	printf("  %-28s %8.2f  %5.3fx\n", "1M glibc free",
	       frees / 1e6, (double)frees / singles);
}

int main(void)
{
	load_allocators();
	printf("alloc-bench: %d pairs, %d mixed steps over %d slots, median of %d\n",
	       PAIRS, MIXED_STEPS, SLOTS, REPS);
	allocator_table();
	rpcss_table();
	return 0;
}
