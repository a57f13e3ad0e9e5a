// SPDX-License-Identifier: GPL-2.0
/*
 * Which lock a fault on ntmem memory takes.  Where the kernel has per-VMA
 * locks (6.4 and later), a user fault on anonymous memory takes no
 * mmap_lock, so it neither waits for nor delays another thread's mmap,
 * munmap or ntmem call on other memory; a fault on ntmem memory must do
 * the same.  The kernel's mmap_lock tracepoint counts the acquisitions of
 * one thread while it faults, on both kinds of memory.  And a state
 * change still excludes the faults on its own reservation: a PROTECT that
 * races writers first-touching its pages lets no write through once it
 * has returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define FAULT_PAGES	64

static const char *tracefs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/mmap_lock", dirs[i]);
		if (!access(path, F_OK))
			return dirs[i];
	}
	if (mount("tracefs", dirs[0], "tracefs", 0, NULL))
		return NULL;
	return dirs[0];
}

static int trace_write(const char *dir, const char *file, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_text_file(path, text);
}

static int trace_clear(const char *dir)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Lines of the trace buffer that record the start of an mmap_lock take. */
static long trace_count_locking(const char *dir)
{
	char path[160], line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, "mmap_lock_start_locking"))
			n++;
	fclose(f);
	return n;
}

/*
 * The mmap_lock acquisitions this thread makes while @fn(@arg) runs, or -1
 * when the kernel cannot trace them.  The event is on for this thread only
 * and tracing is switched by two writes to a file opened before, so that
 * only @fn's faults (@fn must make no system call) are in the count.
 */
static long mmap_lock_takes(void (*fn)(void *), void *arg)
{
	const char *dir = tracefs();
	char pid[32], path[160];
	int on;
	long n;

	if (!dir)
		return -1;
	snprintf(pid, sizeof(pid), "%ld", (long)syscall(SYS_gettid));
	snprintf(path, sizeof(path), "%s/tracing_on", dir);
	on = open(path, O_WRONLY | O_CLOEXEC);
	if (on < 0)
		return -1;
	if (write(on, "0", 1) != 1 || trace_clear(dir) ||
	    trace_write(dir, "set_event_pid", pid) ||
	    trace_write(dir, "events/mmap_lock/mmap_lock_start_locking/enable",
			"1") ||
	    write(on, "1", 1) != 1) {
		close(on);
		return -1;
	}
	fn(arg);
	n = write(on, "0", 1) == 1 ? trace_count_locking(dir) : -1;
	close(on);
	trace_write(dir, "events/mmap_lock/mmap_lock_start_locking/enable",
		    "0");
	trace_write(dir, "set_event_pid", "");
	trace_clear(dir);
	return n;
}

static void read_pages(void *p)
{
	volatile char *c = p;
	int i;

	for (i = 0; i < FAULT_PAGES; i++)
		(void)c[i * PAGE_SZ];
}

static void write_pages(void *p)
{
	volatile char *c = p;
	int i;

	for (i = 0; i < FAULT_PAGES; i++)
		c[i * PAGE_SZ] = 1;
}

/* Anonymous memory the way a program gets it, 4 KiB pages. */
static char *anon_pages(void)
{
	char *p = mmap(NULL, FAULT_PAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, FAULT_PAGES * PAGE_SZ, MADV_NOHUGEPAGE);
	return p;
}

FIXTURE(locks) {
	int fd;
	char *p;	/* FAULT_PAGES pages, committed READWRITE, write-watched */
	char *anon;	/* FAULT_PAGES pages of anonymous memory */
	long anon_read, anon_write, anon_wp;
};

FIXTURE_SETUP(locks)
{
	size_t len = FAULT_PAGES * PAGE_SZ;
	void *addr = NULL;

	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len,
				   NTMEM_RESERVE_WRITE_WATCH, 0));
	self->p = addr;
	ASSERT_EQ(0, ntmem_commit(self->fd, self->p, len,
				  NTMEM_PAGE_READWRITE, 0));

	/* the baseline: first reads, first writes, writes after reads */
	self->anon = anon_pages();
	ASSERT_NE(NULL, self->anon);
	self->anon_read = mmap_lock_takes(read_pages, self->anon);
	if (self->anon_read < 0)
		SKIP(return, "the kernel has no mmap_lock tracepoint");
	self->anon_wp = mmap_lock_takes(write_pages, self->anon);
	munmap(self->anon, len);
	self->anon = anon_pages();
	ASSERT_NE(NULL, self->anon);
	self->anon_write = mmap_lock_takes(write_pages, self->anon);
	munmap(self->anon, len);
	TH_LOG("anonymous memory, %d faults: %ld takes (read), %ld (write), %ld (write after read)",
	       FAULT_PAGES, self->anon_read, self->anon_write, self->anon_wp);
}

FIXTURE_TEARDOWN(locks)
{
	if (self->p)
		ntmem_release(self->fd, self->p, 0);
	close(self->fd);
}

TEST_F(locks, first_read_locks_like_anonymous_memory)
{
	long n = mmap_lock_takes(read_pages, self->p);

	TH_LOG("ntmem: %ld", n);
	ASSERT_EQ(FAULT_PAGES, pagemap_count_present(self->p,
						     FAULT_PAGES * PAGE_SZ));
	ASSERT_LE(n, self->anon_read);
}

TEST_F(locks, first_write_locks_like_anonymous_memory)
{
	long n = mmap_lock_takes(write_pages, self->p);

	TH_LOG("ntmem: %ld", n);
	ASSERT_EQ(FAULT_PAGES, pagemap_count_present(self->p,
						     FAULT_PAGES * PAGE_SZ));
	ASSERT_LE(n, self->anon_write);
}

/* ->page_mkwrite of a page mapped by a read fault */
TEST_F(locks, write_after_read_locks_like_anonymous_memory)
{
	long n;

	read_pages(self->p);
	n = mmap_lock_takes(write_pages, self->p);
	TH_LOG("ntmem: %ld", n);
	ASSERT_LE(n, self->anon_wp);
}

/* The write-protect fault of a write-watched page after a reset. */
TEST_F(locks, write_after_watch_reset_locks_like_anonymous_memory)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.addr = (uintptr_t)self->p,
		.length = FAULT_PAGES * PAGE_SZ,
	};
	long n;

	write_pages(self->p);
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_RESET_WRITE_WATCH, &r));
	/* still mapped: the next write is a write-protect fault */
	ASSERT_EQ(FAULT_PAGES, pagemap_count_present(self->p,
						     FAULT_PAGES * PAGE_SZ));
	n = mmap_lock_takes(write_pages, self->p);
	TH_LOG("ntmem: %ld", n);
	ASSERT_LE(n, self->anon_wp);
}

/* --- a state change still excludes its reservation's faults ------------ */

#define RACE_PAGES	16
#define RACE_ROUNDS	300

struct racer {
	char *p;
	atomic_long attempts;	/* writes tried, landed or not */
	atomic_bool stop;
};

/* Write a new value to every page, over and over, faulting or not. */
static void *race_writer(void *arg)
{
	struct racer *w = arg;
	unsigned char v = 0;

	while (!atomic_load(&w->stop)) {
		int i;

		for (i = 0; i < RACE_PAGES; i++)
			try_write(w->p + i * PAGE_SZ, ++v | 1);
		atomic_fetch_add(&w->attempts, RACE_PAGES);
	}
	return NULL;
}

static void snapshot(const char *p, unsigned char *out)
{
	int i;

	for (i = 0; i < RACE_PAGES; i++)
		out[i] = p[i * PAGE_SZ];
}

/*
 * Each round commits the pages afresh (so the writer's writes are first
 * touches, in ->fault and ->page_mkwrite) and makes them read-only while
 * the writer runs.  Once PROTECT has returned, no write may land: the
 * pages must hold what they held then after the writer has gone over all
 * of them twice more.
 */
TEST(protect_excludes_faults_in_flight)
{
	int fd = ntmem_open();
	size_t len = RACE_PAGES * PAGE_SZ;
	unsigned char before[RACE_PAGES], after[RACE_PAGES];
	struct racer w = { 0 };
	void *addr = NULL;
	pthread_t t;
	long landed = 0;
	int round;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ntmem_reserve(fd, &addr, &len, 0, 0));
	w.p = addr;
	ASSERT_EQ(0, ntmem_commit(fd, w.p, len, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, race_writer, &w));
	for (round = 0; round < RACE_ROUNDS; round++) {
		long seen;

		ASSERT_EQ(0, ntmem_decommit(fd, w.p, len));
		ASSERT_EQ(0, ntmem_commit(fd, w.p, len, NTMEM_PAGE_READWRITE, 0));
		ASSERT_EQ(0, ntmem_protect(fd, w.p, len, NTMEM_PAGE_READONLY,
					   NULL));
		snapshot(w.p, before);
		seen = atomic_load(&w.attempts);
		while (atomic_load(&w.attempts) < seen + 3 * RACE_PAGES)
			sched_yield();
		snapshot(w.p, after);
		if (memcmp(before, after, sizeof(before)))
			landed++;
	}
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%d rounds, %ld with a write after PROTECT returned",
	       RACE_ROUNDS, landed);
	ASSERT_EQ(0, landed);
	ASSERT_EQ(0, ntmem_release(fd, w.p, 0));
	close(fd);
}

TEST_HARNESS_MAIN
