// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos mode: threads that hammer shared reservations with ntmem ioctls
 * while others fault on them, munmap, mremap, mprotect and madvise them,
 * fork, close and reopen the fd, and make the kernel touch them
 * (process_vm_readv/writev, /proc/self/mem, pipes, O_DIRECT on /dev/ram0),
 * with drop_caches now and then.  Nothing is modelled: the checks are that
 * nothing crashes (the VM runner fails on any kernel splat) and that the
 * module's counters are back at their starting values once everything is
 * released.  The counters are module-wide: run alone.
 *
 * Every call that removes or moves a mapping runs under its slot's mutex
 * and only on the range the slot records, so the process never unmaps
 * memory that is not ntmem's (thread stacks exist before the chaos starts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "../ntmem_util.h"

#define CH_SLOTS	6
#define CH_MAXPAGES	64

struct ch_slot {
	pthread_mutex_t lock;
	_Atomic uintptr_t base;
	_Atomic size_t len;
};

static struct ch_slot slots[CH_SLOTS];
static _Atomic int dev_fd = -1;
static _Atomic bool stop;
static _Atomic unsigned long nops, nforks;
static int ram_fd = -1, mem_fd = -1;
static uint64_t base_seed;

static const char *const counter_names[] = {
	"reservations", "committed_pages", "resident_pages", "reset_pages",
	"locked_pages",
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

static void counters(long *v)
{
	for (unsigned i = 0; i < NCOUNTERS; i++)
		v[i] = ntmem_counter(counter_names[i]);
}

static int range_ioctl(unsigned long cmd, uintptr_t a, size_t len,
		       uint32_t prot, uint32_t flags)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = a, .length = len,
				 .protect = prot, .flags = flags };

	return ioctl(dev_fd, cmd, &r);
}

static const uint32_t prots[] = {
	NTMEM_PAGE_NOACCESS, NTMEM_PAGE_READONLY, NTMEM_PAGE_READWRITE,
	NTMEM_PAGE_EXECUTE_READ, NTMEM_PAGE_EXECUTE_READWRITE,
	NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD, NTMEM_PAGE_READWRITE,
};

/* A random page-aligned subrange of a slot (it may be stale: fine). */
static size_t pick(struct ch_slot *s, uint64_t *r, uintptr_t *a)
{
	uintptr_t base = atomic_load(&s->base);
	size_t len = atomic_load(&s->len), n = len / FZ_PAGE, first, cnt;

	if (!base || !n)
		return 0;
	first = fz_below(r, n);
	cnt = 1 + fz_below(r, n - first);
	*a = base + first * FZ_PAGE;
	return cnt * FZ_PAGE;
}

static void reserve(struct ch_slot *s, uint64_t *r)
{
	struct ntmem_reserve rv = {
		.size = sizeof(rv),
		.length = (1 + fz_below(r, CH_MAXPAGES)) * FZ_PAGE,
		.flags = (fz_below(r, 2) ? NTMEM_RESERVE_COMMIT : 0) |
			 (fz_below(r, 2) ? NTMEM_RESERVE_WRITE_WATCH : 0),
	};

	rv.protect = rv.flags & NTMEM_RESERVE_COMMIT ?
		     prots[fz_below(r, sizeof(prots) / sizeof(prots[0]))] : 0;
	if (!ioctl(dev_fd, NTMEM_IOC_RESERVE, &rv)) {
		atomic_store(&s->len, rv.length);
		atomic_store(&s->base, rv.addr);
	}
}

/* Operations that unmap, move or reserve: under the slot's mutex. */
static void mapping_op(struct ch_slot *s, uint64_t *r)
{
	uintptr_t base, a = 0;
	size_t len, l;
	void *p;

	pthread_mutex_lock(&s->lock);
	base = atomic_load(&s->base);
	len = atomic_load(&s->len);
	if (!base) {
		reserve(s, r);
		goto out;
	}
	l = pick(s, r, &a);
	switch (fz_below(r, 6)) {
	case 0:		/* release */
		range_ioctl(NTMEM_IOC_RELEASE, base, 0, 0, 0);
		/* it may have failed (fd closed): unmap it ourselves */
		munmap((void *)base, len);
		atomic_store(&s->base, 0);
		break;
	case 1:		/* munmap the whole reservation */
		munmap((void *)base, len);
		atomic_store(&s->base, 0);
		break;
	case 2:		/* munmap a piece, then the rest: the slot cannot
			 * track a split reservation */
		munmap((void *)a, l);
		munmap((void *)base, len);
		atomic_store(&s->base, 0);
		break;
	case 3:		/* mremap: move it, or shrink it in place */
		if (fz_below(r, 2)) {
			p = mremap((void *)base, len, len, MREMAP_MAYMOVE);
			if (p != MAP_FAILED)
				atomic_store(&s->base, (uintptr_t)p);
		} else if (len > FZ_PAGE) {
			if (mremap((void *)base, len, len - FZ_PAGE, 0) != MAP_FAILED)
				atomic_store(&s->len, len - FZ_PAGE);
		} else {
			mremap((void *)base, len, 2 * len, 0);	/* DONTEXPAND */
		}
		break;
	case 4:		/* mprotect: the VMA is ntmem's, the module decides */
		mprotect((void *)a, l, (int)fz_below(r, 8));
		break;
	case 5: {
		static const int advice[] = { MADV_DONTNEED, MADV_DOFORK,
					      MADV_DONTFORK, MADV_FREE,
					      MADV_WILLNEED };
		madvise((void *)a, l, advice[fz_below(r, 5)]);
		break;
	}
	}
out:
	pthread_mutex_unlock(&s->lock);
}

static void ioctl_op(struct ch_slot *s, uint64_t *r)
{
	static const unsigned long cmds[] = {
		NTMEM_IOC_COMMIT, NTMEM_IOC_DECOMMIT, NTMEM_IOC_RESET,
		NTMEM_IOC_RESET_UNDO, NTMEM_IOC_LOCK, NTMEM_IOC_UNLOCK,
		NTMEM_IOC_RESET_WRITE_WATCH, NTMEM_IOC_COMMIT,
	};
	uintptr_t a = 0;
	size_t l = pick(s, r, &a);
	unsigned k = fz_below(r, 11);

	if (!l)
		return;
	if (k < 8) {
		unsigned long cmd = cmds[k];

		range_ioctl(cmd, a, l, cmd == NTMEM_IOC_COMMIT ?
			    prots[fz_below(r, sizeof(prots) / sizeof(prots[0]))] : 0,
			    cmd == NTMEM_IOC_COMMIT ? fz_below(r, 2) : 0);
	} else if (k == 8) {
		struct ntmem_protect p = { .size = sizeof(p), .addr = a,
			.length = l,
			.protect = prots[fz_below(r, sizeof(prots) / sizeof(prots[0]))] };
		ioctl(dev_fd, NTMEM_IOC_PROTECT, &p);
	} else if (k == 9) {
		uint64_t out[16];
		struct ntmem_write_watch w = { .size = sizeof(w), .addr = a,
			.length = l, .count = 16,
			.flags = fz_below(r, 2) ? NTMEM_WRITE_WATCH_RESET : 0,
			/* sometimes a buffer that faults (issue 11 item 4) */
			.pages = fz_below(r, 4) ? (uintptr_t)out : a };
		ioctl(dev_fd, NTMEM_IOC_GET_WRITE_WATCH, &w);
	} else {
		struct ntmem_query q = { .size = sizeof(q), .addr = a };
		ioctl(dev_fd, NTMEM_IOC_QUERY, &q);
	}
}

/* The kernel and the CPU touching the memory. */
static void touch_op(struct ch_slot *s, uint64_t *r, int pipefd[2])
{
	uintptr_t a = 0;
	size_t l = pick(s, r, &a);
	uint64_t v = fz_rand(r), buf[FZ_PAGE / 8];
	struct iovec li = { &v, 8 }, ri = { (void *)a, 8 };
	int sig;

	if (!l)
		return;
	switch (fz_below(r, 10)) {
	case 0: fz_access(A_READ, a, &v, &sig, NULL); break;
	case 1: fz_access(A_WRITE, a + 8 * fz_below(r, 512), &v, &sig, NULL); break;
	case 2: process_vm_readv(getpid(), &li, 1, &ri, 1, 0); break;
	case 3: process_vm_writev(getpid(), &li, 1, &ri, 1, 0); break;
	case 4: pread(mem_fd, &v, 8, a); break;
	case 5: pwrite(mem_fd, &v, 8, a); break;
	case 6:
		if (write(pipefd[1], &v, 8) == 8 && read(pipefd[0], (void *)a, 8) != 8)
			(void)!read(pipefd[0], &v, 8);	/* drain */
		break;
	case 7:
		if (write(pipefd[1], (void *)a, 8) == 8)
			(void)!read(pipefd[0], &v, 8);
		break;
	case 8:		/* O_DIRECT both ways, one page */
		if (ram_fd >= 0) {
			if (fz_below(r, 2))
				(void)!pread(ram_fd, (void *)a, FZ_PAGE, 0);
			else
				(void)!pwrite(ram_fd, (void *)a, FZ_PAGE, FZ_PAGE);
		}
		break;
	case 9:
		memset(buf, 0, sizeof(buf));
		ri.iov_len = li.iov_len = FZ_PAGE;
		li.iov_base = buf;
		process_vm_readv(getpid(), &li, 1, &ri, 1, 0);
		break;
	}
}

static void process_op(uint64_t *r)
{
	switch (fz_below(r, 40)) {
	case 0: {	/* fork: the child touches what it inherited, exits */
		pid_t pid = fork();

		if (pid == 0) {
			uint64_t v;
			int sig;

			for (int i = 0; i < CH_SLOTS; i++)
				if (atomic_load(&slots[i].base))
					fz_access(A_READ, atomic_load(&slots[i].base),
						  &v, &sig, NULL);
			_exit(0);
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			nforks++;
		}
		break;
	}
	case 1: {	/* close and reopen the device */
		int nfd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
		int old = atomic_exchange(&dev_fd, nfd);

		if (old >= 0)
			close(old);
		break;
	}
	case 2: {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

		if (fd >= 0) {
			(void)!write(fd, "3", 1);
			close(fd);
		}
		break;
	}
	}
}

static void *worker(void *arg)
{
	uint64_t r = base_seed * 31 + (uintptr_t)arg;
	int pipefd[2];

	if (pipe(pipefd))
		return NULL;
	while (!atomic_load(&stop)) {
		struct ch_slot *s = &slots[fz_below(&r, CH_SLOTS)];
		unsigned k = fz_below(&r, 20);

		if (k < 2)
			mapping_op(s, &r);
		else if (k < 10)
			ioctl_op(s, &r);
		else if (k < 19)
			touch_op(s, &r, pipefd);
		else
			process_op(&r);
		nops++;
	}
	close(pipefd[0]);
	close(pipefd[1]);
	return NULL;
}

/* Unmap every ntmem mapping left (moved, split or never released). */
static void unmap_all(void)
{
	struct maps_entry e;
	uintptr_t a = 0;

	while ((a = maps_next_start((void *)a)) != UINTPTR_MAX && a) {
		if (maps_find(0, (void *)a, &e) && strstr(e.name, "ntmem")) {
			munmap((void *)e.start, e.end - e.start);
			a = e.end;
		} else {
			a = maps_find(0, (void *)a, &e) ? e.end : a + FZ_PAGE;
		}
	}
}

static int counters_settle(const long *start, long *now)
{
	for (int tries = 0; tries < 50; tries++) {
		bool same = true;

		counters(now);
		for (unsigned i = 0; i < NCOUNTERS; i++)
			same &= now[i] == start[i];
		if (same)
			return 0;
		usleep(100000);
	}
	return -1;
}

static int chaos_child(const struct fz_opts *o, const long *start)
{
	int n = o->threads > 0 ? o->threads : 4;
	pthread_t *t = calloc(n, sizeof(*t));
	long now[NCOUNTERS];
	struct timespec ts;

	ram_fd = open("/dev/ram0", O_RDWR | O_DIRECT | O_CLOEXEC);
	mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	dev_fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	for (int i = 0; i < CH_SLOTS; i++)
		pthread_mutex_init(&slots[i].lock, NULL);
	/* every thread stack exists before the first reservation */
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			return 2;
	ts.tv_sec = (time_t)o->seconds;
	ts.tv_nsec = (long)((o->seconds - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	if (dev_fd < 0)
		dev_fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);
	for (int i = 0; i < CH_SLOTS; i++)
		if (slots[i].base)
			range_ioctl(NTMEM_IOC_RELEASE, slots[i].base, 0, 0, 0);
	unmap_all();
	close(dev_fd);
	printf("fuzz: chaos: %d threads, %lu ops, %lu forks, O_DIRECT %s\n", n,
	       (unsigned long)nops, (unsigned long)nforks,
	       ram_fd >= 0 ? "on /dev/ram0" : "skipped (no /dev/ram0)");
	if (counters_settle(start, now)) {
		for (unsigned i = 0; i < NCOUNTERS; i++)
			printf("fuzz: chaos: %s %ld, was %ld\n", counter_names[i],
			       now[i], start[i]);
		return 1;
	}
	return 0;
}

int chaos_run(const struct fz_opts *o)
{
	long start[NCOUNTERS], now[NCOUNTERS];
	int status, rc;
	pid_t pid;

	base_seed = o->seed;
	counters(start);
	if (start[0] < 0) {
		printf("fuzz: chaos: no counters in /sys/class/misc/ntmem: skipped\n");
		return 4;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(chaos_child(o, start));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (!WIFEXITED(status))
		printf("fuzz: chaos: the process died (status %#x)\n", status);
	/* and once the process is gone, the module is back where it was */
	if (counters_settle(start, now)) {
		for (unsigned i = 0; i < NCOUNTERS; i++)
			printf("fuzz: chaos: after exit %s %ld, was %ld\n",
			       counter_names[i], now[i], start[i]);
		rc = 1;
	}
	printf("fuzz: chaos done, divergences %d, counters %s\n", rc != 0,
	       rc ? "leaked, or the process crashed" : "back to their start");
	return rc;
}
