// SPDX-License-Identifier: GPL-2.0
/*
 * Threads racing every operation on shared and on private reservations
 * while others touch the memory.  Races may make calls fail, but only with
 * the errors a race explains (ENXIO: released meanwhile; ENODATA:
 * decommitted meanwhile; EBUSY: RESET_UNDO after a drop) and accesses may
 * fault; anything else is a bug.  Afterwards everything is released and the
 * module counters must be back where they started.
 *
 * The threads never allocate (no malloc, no stdio), so that no mapping but
 * ntmem's can appear at an address a stale slot still points to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define NTHREADS	4
#define NSHARED		8
#define NSLOTS		(NSHARED + 2 * NTHREADS)	/* 2 private each */
/* a fixed amount of work, not a time: the test asserts no speed */
#define OPS_PER_THREAD	500

/* base | number of 64 KiB units; 0 = empty */
static _Atomic uint64_t slots[NSLOTS];
static bool have_exec;

struct worker {
	pthread_t thread;
	int fd, id;
	unsigned int seed;
	long ops, fails, faults;
	/* the first unexplained result */
	int bad_errno;
	const char *bad_op;
	uint64_t bad_addr;
};

static void bad(struct worker *w, const char *op, int err, uint64_t addr)
{
	if (!w->bad_op) {
		w->bad_op = op;
		w->bad_errno = err;
		w->bad_addr = addr;
	}
}

/* Judge the result of a call; an error that no race explains is bad. */
static void judge(struct worker *w, const char *op, int ret, uint64_t addr,
		  bool enodata_ok, bool ebusy_ok)
{
	if (!ret)
		return;
	w->fails++;
	if (ret == -ENXIO || (enodata_ok && ret == -ENODATA) ||
	    (ebusy_ok && ret == -EBUSY))
		return;
	bad(w, op, ret, addr);
}

/* One operation of the run: counted, then judged. */
static void check(struct worker *w, const char *op, int ret, uint64_t addr,
		  bool enodata_ok, bool ebusy_ok)
{
	w->ops++;
	judge(w, op, ret, addr, enodata_ok, ebusy_ok);
}

static void check_query(struct worker *w, uint64_t addr,
			const struct ntmem_query *q)
{
	bool ok = q->base == (addr & ~(PAGE_SZ - 1)) && q->region_size &&
		  !(q->region_size & (PAGE_SZ - 1));

	switch (q->state) {
	case NTMEM_STATE_COMMIT:
	case NTMEM_STATE_RESERVE:
		ok = ok && !(q->alloc_base % GRAN) && q->alloc_base <= q->base &&
		     q->type == NTMEM_TYPE_PRIVATE &&
		     (q->state == NTMEM_STATE_COMMIT || !q->protect);
		break;
	case NTMEM_STATE_FREE:
		ok = ok && !q->alloc_base && !q->type &&
		     q->protect == NTMEM_PAGE_NOACCESS;
		break;
	default:		/* nothing but ntmem maps here */
		ok = false;
	}
	if (!ok)
		bad(w, "query result", 0, addr);
}

static uint32_t random_prot(struct worker *w)
{
	static const uint32_t prots[] = {
		NTMEM_PAGE_READWRITE, NTMEM_PAGE_READWRITE,
		NTMEM_PAGE_READONLY, NTMEM_PAGE_NOACCESS,
		NTMEM_PAGE_EXECUTE_READ, NTMEM_PAGE_EXECUTE_READWRITE,
	};

	return prots[rand_r(&w->seed) % (have_exec ? 6 : 4)];
}

static void one_op(struct worker *w)
{
	int s = rand_r(&w->seed) % 2 ? rand_r(&w->seed) % NSHARED :
			NSHARED + 2 * w->id + rand_r(&w->seed) % 2;
	uint64_t v = atomic_load(&slots[s]);
	uint64_t base = v & ~0xffffULL, units = v & 0xffff;
	size_t npages = units * 16, first, count;
	struct ntmem_query q;
	char *a;

	if (!v) {
		size_t len = (1 + rand_r(&w->seed) % 16) * 64 * KiB;
		uint32_t flags = rand_r(&w->seed) % 4 ? 0 :
				 NTMEM_RESERVE_TOP_DOWN;
		void *addr = NULL;
		int ret = ntmem_reserve(w->fd, &addr, &len, flags, 0);
		uint64_t expect = 0;

		check(w, "reserve", ret, 0, false, false);
		if (ret)
			return;
		/* a lost race undoes the reserve: part of its operation, so
		 * that every thread runs exactly OPS_PER_THREAD of them */
		if (!atomic_compare_exchange_strong(&slots[s], &expect,
				(uintptr_t)addr | (len / (64 * KiB))))
			judge(w, "release (lost race)",
			      ntmem_release(w->fd, addr, 0), (uintptr_t)addr,
			      false, false);
		return;
	}

	first = rand_r(&w->seed) % npages;
	count = 1 + rand_r(&w->seed) % (npages - first);
	a = (char *)(uintptr_t)(base + first * PAGE_SZ);

	switch (rand_r(&w->seed) % 12) {
	case 0:
	case 1:
		check(w, "commit", ntmem_commit(w->fd, a, count * PAGE_SZ,
						random_prot(w),
						rand_r(&w->seed) % 4 ? 0 :
						NTMEM_COMMIT_PREFAULT),
		      (uintptr_t)a, false, false);
		break;
	case 2:
		check(w, "decommit", ntmem_decommit(w->fd, a, count * PAGE_SZ),
		      (uintptr_t)a, false, false);
		break;
	case 3:
		check(w, "protect", ntmem_protect(w->fd, a, count * PAGE_SZ,
						  random_prot(w), NULL),
		      (uintptr_t)a, true, false);
		break;
	case 4:
		check(w, "reset", ntmem_reset(w->fd, a, count * PAGE_SZ),
		      (uintptr_t)a, false, false);
		break;
	case 5:
		check(w, "reset_undo",
		      ntmem_reset_undo(w->fd, a, count * PAGE_SZ),
		      (uintptr_t)a, false, true);
		break;
	case 6:
	case 7: {
		uint64_t addr = (uintptr_t)a + rand_r(&w->seed) % PAGE_SZ;
		int ret = ntmem_query(w->fd, (void *)(uintptr_t)addr, &q);

		check(w, "query", ret, addr, false, false);
		if (!ret)
			check_query(w, addr, &q);
		break;
	}
	case 8:
	case 9:
		for (size_t i = 0; i < count && i < 16; i++) {
			w->faults += !!try_write(a + i * PAGE_SZ +
						 rand_r(&w->seed) % PAGE_SZ,
						 (unsigned char)w->ops);
		}
		break;
	case 10:
		w->faults += !!try_read(a + rand_r(&w->seed) % PAGE_SZ);
		break;
	case 11:
		/* Release only what this thread took out of the slot. */
		if (rand_r(&w->seed) % 4 == 0 &&
		    atomic_compare_exchange_strong(&slots[s], &v, 0))
			check(w, "release", ntmem_release(w->fd,
					(void *)(uintptr_t)base, 0),
			      base, false, false);
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (w->ops < OPS_PER_THREAD)
		one_op(w);
	return NULL;
}

NTMEM_FD_FIXTURE(threads);

TEST_F_TIMEOUT(threads, racing_operations, 600)
{
	struct ntmem_counters c0, c1;
	struct worker w[NTHREADS];
	long ops = 0, fails = 0, faults = 0;

	memset(w, 0, sizeof(w));
	have_exec = ntmem_features(self->fd) & NTMEM_FEATURE_EXEC;
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(0, maps_count_matching(NTMEM_MAPS_NAME));
	for (int i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].seed = i + 1;
		/* Half the threads use a second open of the device. */
		w[i].fd = i % 2 ? ntmem_open() : self->fd;
		ASSERT_LE(0, w[i].fd);
	}
	for (int i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_main,
					    &w[i]));
	}
	for (int i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
	}

	for (int i = 0; i < NTHREADS; i++) {
		ops += w[i].ops;
		fails += w[i].fails;
		faults += w[i].faults;
		ASSERT_EQ(NULL, w[i].bad_op)
			TH_LOG("thread %d: %s at %llx: %s", i, w[i].bad_op,
			       (unsigned long long)w[i].bad_addr,
			       w[i].bad_errno ? strerror(-w[i].bad_errno) :
						"inconsistent");
	}
	TH_LOG("%ld operations (%ld calls failed by race), %ld faulting accesses",
	       ops, fails, faults);
	ASSERT_EQ(NTHREADS * OPS_PER_THREAD, ops);

	for (int i = 0; i < NSLOTS; i++) {
		uint64_t v = atomic_load(&slots[i]);

		if (v) {
			ASSERT_EQ(0, ntmem_release(self->fd,
					(void *)(uintptr_t)(v & ~0xffffULL), 0));
		}
	}
	ASSERT_EQ(0, maps_count_matching(NTMEM_MAPS_NAME));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations, c1.reservations);
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);
	ASSERT_EQ(c0.resident_pages, c1.resident_pages);
	ASSERT_EQ(c0.reset_pages, c1.reset_pages);
	for (int i = 1; i < NTHREADS; i += 2)
		close(w[i].fd);
}

TEST_HARNESS_MAIN
