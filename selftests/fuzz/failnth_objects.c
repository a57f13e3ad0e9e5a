// SPDX-License-Identifier: GPL-2.0
/*
 * --fail-nth over the calls past the reservation ones (failnth.c): section
 * creation, views, Windows placeholders, and calls through a process
 * descriptor.  They are compared on what they change: the descriptor
 * table (/proc/self/fd), /proc/self/maps (but for released space, which
 * is free either way), and for calls through a process descriptor the
 * target's /proc/PID/maps and bytes; the target is a forked child asleep
 * in pause() that never opens /dev/ntmem, and the module runs the calls
 * that map in a kernel thread that takes the caller's fail-nth count over
 * (ntmem_pass_fail_nth()).  Snapshots are read with read(2) into static
 * buffers: no stdio or malloc() may move the heap between the two.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz.h"
#include "../ntmem_util.h"

#define SEC_LEN		(256 * 1024UL)	/* the section, and a placeholder */
#define RS_PAGES	16		/* a reservation in the child */
#define MAPS_MAX	(1 << 17)

enum nk { N_SEC_NAMED, N_SEC, N_VIEW, N_VIEW_COW, N_UNMAP, N_UNMAP_COW,
	  N_PH_RESERVE, N_PH_SPLIT, N_PH_COALESCE, N_PH_REPLACE, N_PH_VIEW,
	  N_PH_RELEASE, N_PH_UNMAP, N_OPEN_PROCESS, N_R_RESERVE,
	  N_R_RESERVE_COMMIT, N_R_COMMIT, N_R_PROTECT, N_R_DECOMMIT,
	  N_R_RELEASE, N_R_VIEW, N_R_UNMAP, N_R_WRITE, N_R_READ, N_NKINDS };
static const char *const nk_names[N_NKINDS] = {
	"section_create+name", "section_create", "map_view", "map_view+copy",
	"unmap_view", "unmap_view+copy", "reserve+placeholder",
	"release+preserve(split)", "release+coalesce", "reserve+replace",
	"map_view+replace", "release+preserve", "unmap_view+preserve",
	"open_process", "remote reserve", "remote reserve+commit",
	"remote commit", "remote protect", "remote decommit", "remote release",
	"remote map_view", "remote unmap_view", "remote write_memory",
	"remote read_memory",
};

static bool nk_remote(enum nk k)
{
	return k >= N_OPEN_PROCESS;
}

/* The sweep's fixtures, and what the kind's stage and call made. */
struct fx {
	int fd, nth;
	int sec;		/* SEC_LEN, READWRITE, its pages written */
	pid_t child;		/* asleep in pause() */
	int mem;		/* its /proc/PID/mem, read-write */
	int pfd;		/* a process descriptor of it, every access */
	char child_maps[64];
	char name[64];		/* N_SEC_NAMED's section name */
	uintptr_t a;		/* the stage: placeholder, view, reservation */
	uintptr_t out;		/* what a successful call mapped */
	uint64_t done;		/* N_R_WRITE's */
	int newfd;		/* or the descriptor it returned */
};

struct snap2 {
	long counters[FN_NCOUNTERS];
	int fds;
	size_t maps_len;
	char *maps;		/* maps_buf[0] or [1] */
	char *bytes;		/* the child's pages 0-7 (N_R_WRITE) */
};

static char maps_buf[2][MAPS_MAX];
static char bytes_buf[2][8 * FZ_PAGE];
static char wbuf[8 * FZ_PAGE];
static char dents[16384];

/* A whole file into @buf with read(2); its length, or -1. */
static long read_whole(const char *path, char *buf, size_t size)
{
	int f = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (f < 0)
		return -1;
	while (n < size && (r = read(f, buf + n, size - n)) > 0)
		n += r;
	close(f);
	return n < size ? (long)n : -1;
}

struct fn_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Entries of /proc/self/fd (its own directory descriptor among them). */
static int count_fds(void)
{
	int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;
	int c = 0;

	if (d < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, d, dents, sizeof(dents))) > 0)
		for (long off = 0; off < n;) {
			struct fn_dirent64 *e = (void *)(dents + off);

			c += e->name[0] != '.';
			off += e->reclen;
		}
	close(d);
	return c;
}

static uint64_t copy_done;

static int mem_copy(int pfd, unsigned long cmd, uintptr_t addr, void *buf,
		    size_t len)
{
	/* @done stays UINT64_MAX if the result cannot be stored back */
	struct ntmem_memory_copy c = { .size = sizeof(c), .addr = addr,
		.buf = (uintptr_t)buf, .length = len, .done = UINT64_MAX };
	int err = ioctl(pfd, cmd, &c) ? errno : 0;

	copy_done = c.done;
	return err;
}

static uintptr_t rsv(int fd, uintptr_t addr, size_t len, uint32_t flags,
		     uint32_t prot, int *err)
{
	struct ntmem_reserve r = { .size = sizeof(r), .addr = addr,
		.length = len, .flags = flags, .protect = prot };

	*err = ioctl(fd, NTMEM_IOC_RESERVE, &r) ? errno : 0;
	return *err ? 0 : r.addr;
}

static uintptr_t view(int fd, int sec, uintptr_t addr, uint32_t flags,
		      uint32_t access, int *err)
{
	struct ntmem_view v = { .size = sizeof(v), .addr = addr,
		.flags = flags, .section = sec, .access = access };

	*err = ioctl(fd, NTMEM_IOC_MAP_VIEW, &v) ? errno : 0;
	return *err ? 0 : v.addr;
}

static int sec_create(int fd, const char *name, int *newfd)
{
	struct ntmem_section s = { .size = sizeof(s), .max_size = SEC_LEN,
		.flags = NTMEM_SEC_COMMIT, .protect = NTMEM_PAGE_READWRITE,
		.name = (uintptr_t)name, .name_len = name ? strlen(name) : 0 };
	int err = ioctl(fd, NTMEM_IOC_SECTION_CREATE, &s) ? errno : 0;

	*newfd = err ? -1 : s.fd;
	return err;
}

/* The kind's stage, from the sweep's fixtures: 0, or -1. */
static int prep(struct fx *x, enum nk k)
{
	int err = 0;

	x->a = x->out = 0;
	x->newfd = -1;
	switch (k) {
	case N_UNMAP:
	case N_UNMAP_COW:
		x->a = view(x->fd, x->sec, 0, 0, k == N_UNMAP ?
			    NTMEM_FILE_MAP_WRITE : NTMEM_FILE_MAP_COPY, &err);
		if (err)
			return -1;
		/* mapped pages; the copy-on-write view's own copies */
		for (unsigned i = 0; i < SEC_LEN / FZ_PAGE; i++)
			(void)*(volatile uint64_t *)(x->a + i * FZ_PAGE);
		for (unsigned i = 0; i < 4; i++)
			*(volatile uint64_t *)(x->a + i * 3 * FZ_PAGE) = 0x77 + i;
		return 0;
	case N_PH_RESERVE:
	case N_OPEN_PROCESS:
	case N_R_RESERVE:
	case N_R_RESERVE_COMMIT:
	case N_R_VIEW:
	case N_SEC_NAMED:
	case N_SEC:
	case N_VIEW:
	case N_VIEW_COW:
		return 0;
	case N_PH_SPLIT:
	case N_PH_COALESCE:
	case N_PH_REPLACE:
	case N_PH_VIEW:
	case N_PH_RELEASE:
	case N_PH_UNMAP:
		x->a = rsv(x->fd, 0, SEC_LEN, NTMEM_RESERVE_PLACEHOLDER, 0, &err);
		if (err)
			return -1;
		if (k == N_PH_COALESCE)
			err = fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE,
					x->a + 2 * FZ_GRAN, 2 * FZ_GRAN, 0,
					NTMEM_RELEASE_PRESERVE);
		else if (k == N_PH_RELEASE) {
			rsv(x->fd, x->a, SEC_LEN, NTMEM_RESERVE_FIXED |
			    NTMEM_RESERVE_REPLACE | NTMEM_RESERVE_COMMIT,
			    NTMEM_PAGE_READWRITE, &err);
			for (unsigned i = 0; !err && i < 8; i++)
				*(volatile uint64_t *)(x->a + i * 5 * FZ_PAGE) = i + 1;
		} else if (k == N_PH_UNMAP)
			view(x->fd, x->sec, x->a, NTMEM_RESERVE_FIXED |
			     NTMEM_RESERVE_REPLACE, NTMEM_FILE_MAP_WRITE, &err);
		return err ? -1 : 0;
	case N_R_UNMAP:
		x->a = view(x->pfd, x->sec, 0, 0, NTMEM_FILE_MAP_WRITE, &err);
		/* its pages mapped in the child */
		if (!err)
			err = mem_copy(x->pfd, NTMEM_IOC_READ_MEMORY, x->a,
				       bytes_buf[0], sizeof(bytes_buf[0]));
		return err ? -1 : 0;
	case N_R_COMMIT:
	case N_R_PROTECT:
	case N_R_DECOMMIT:
	case N_R_RELEASE:
	case N_R_WRITE:
	case N_R_READ:
		/* 8 of 16 pages committed and written */
		x->a = rsv(x->pfd, 0, RS_PAGES * FZ_PAGE, 0, 0, &err);
		if (err)
			return -1;
		err = fn_range_ioctl(x->pfd, NTMEM_IOC_COMMIT, x->a, 8 * FZ_PAGE,
				NTMEM_PAGE_READWRITE, 0);
		for (unsigned i = 0; i < sizeof(wbuf); i++)
			wbuf[i] = (char)(i * 7 + 3);
		if (!err)
			err = mem_copy(x->pfd, NTMEM_IOC_WRITE_MEMORY, x->a,
				       wbuf, sizeof(wbuf));
		for (unsigned i = 0; i < sizeof(wbuf); i++)
			wbuf[i] = (char)(i * 13 + 1);
		return err ? -1 : 0;
	default:
		return -1;
	}
}

static int call2(struct fx *x, enum nk k)
{
	int err = 0;

	switch (k) {
	case N_SEC_NAMED:
		return sec_create(x->fd, x->name, &x->newfd);
	case N_SEC:
		return sec_create(x->fd, NULL, &x->newfd);
	case N_VIEW:
	case N_VIEW_COW:
		x->out = view(x->fd, x->sec, 0, 0, k == N_VIEW ?
			      NTMEM_FILE_MAP_WRITE : NTMEM_FILE_MAP_COPY, &err);
		return err;
	case N_UNMAP:
	case N_UNMAP_COW:
		return fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0, 0);
	case N_PH_RESERVE:
		x->out = rsv(x->fd, 0, SEC_LEN, NTMEM_RESERVE_PLACEHOLDER, 0,
			     &err);
		return err;
	case N_PH_SPLIT:	/* in three */
		return fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->a + FZ_GRAN,
				 FZ_GRAN, 0, NTMEM_RELEASE_PRESERVE);
	case N_PH_COALESCE:
		return fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->a, SEC_LEN, 0,
				 NTMEM_RELEASE_COALESCE);
	case N_PH_REPLACE:
		rsv(x->fd, x->a, SEC_LEN, NTMEM_RESERVE_FIXED |
		    NTMEM_RESERVE_REPLACE, 0, &err);
		return err;
	case N_PH_VIEW:
		view(x->fd, x->sec, x->a, NTMEM_RESERVE_FIXED |
		     NTMEM_RESERVE_REPLACE, NTMEM_FILE_MAP_WRITE, &err);
		return err;
	case N_PH_RELEASE:
		return fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->a, 0, 0,
				 NTMEM_RELEASE_PRESERVE);
	case N_PH_UNMAP:
		return fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0,
				 NTMEM_RELEASE_PRESERVE);
	case N_OPEN_PROCESS: {
		struct ntmem_process p = { .size = sizeof(p), .pid = x->child,
			.mem_fd = x->mem,
			.access = NTMEM_PROCESS_VM_OPERATION |
				  NTMEM_PROCESS_VM_READ |
				  NTMEM_PROCESS_VM_WRITE |
				  NTMEM_PROCESS_QUERY_INFORMATION };

		err = ioctl(x->fd, NTMEM_IOC_OPEN_PROCESS, &p) ? errno : 0;
		x->newfd = err ? -1 : p.fd;
		return err;
	}
	case N_R_RESERVE:
	case N_R_RESERVE_COMMIT:
		x->out = rsv(x->pfd, 0, 4 * FZ_PAGE,
			     k == N_R_RESERVE ? 0 : NTMEM_RESERVE_COMMIT,
			     k == N_R_RESERVE ? 0 : NTMEM_PAGE_READWRITE, &err);
		return err;
	case N_R_COMMIT:
		return fn_range_ioctl(x->pfd, NTMEM_IOC_COMMIT, x->a + 4 * FZ_PAGE,
				 10 * FZ_PAGE, NTMEM_PAGE_READONLY, 0);
	case N_R_PROTECT: {
		struct ntmem_protect p = { .size = sizeof(p),
			.addr = x->a + 3 * FZ_PAGE, .length = 2 * FZ_PAGE,
			.protect = NTMEM_PAGE_READONLY };

		return ioctl(x->pfd, NTMEM_IOC_PROTECT, &p) ? errno : 0;
	}
	case N_R_DECOMMIT:
		return fn_range_ioctl(x->pfd, NTMEM_IOC_DECOMMIT, x->a + FZ_PAGE,
				 5 * FZ_PAGE, 0, 0);
	case N_R_RELEASE:
		return fn_range_ioctl(x->pfd, NTMEM_IOC_RELEASE, x->a, 0, 0, 0);
	case N_R_VIEW:
		x->out = view(x->pfd, x->sec, 0, 0, NTMEM_FILE_MAP_WRITE, &err);
		return err;
	case N_R_UNMAP:
		return fn_range_ioctl(x->pfd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0, 0);
	case N_R_WRITE:
		err = mem_copy(x->pfd, NTMEM_IOC_WRITE_MEMORY,
			       x->a + 2 * FZ_PAGE + 96, wbuf, 4 * FZ_PAGE);
		x->done = copy_done;
		return err;
	case N_R_READ:
		return mem_copy(x->pfd, NTMEM_IOC_READ_MEMORY,
				x->a + FZ_PAGE + 40, bytes_buf[1], 5 * FZ_PAGE);
	default:
		return EINVAL;
	}
}

/* Back to the sweep's fixtures, after the call succeeded (@ok) or not. */
static void undo(struct fx *x, enum nk k, bool ok)
{
	if (x->newfd >= 0)
		close(x->newfd);
	x->newfd = -1;
	switch (k) {
	case N_VIEW:
	case N_VIEW_COW:
		if (ok)
			fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, x->out, 0, 0, 0);
		break;
	case N_UNMAP:
	case N_UNMAP_COW:
		if (!ok)
			fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0, 0);
		break;
	case N_PH_RESERVE:
		if (ok)
			fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->out, 0, 0, 0);
		break;
	case N_PH_SPLIT:
	case N_PH_COALESCE:
	case N_PH_REPLACE:
	case N_PH_VIEW:
	case N_PH_RELEASE:
	case N_PH_UNMAP:
		/* a view; pieces joined; then one placeholder or reservation */
		fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0, 0);
		fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->a, SEC_LEN, 0,
			  NTMEM_RELEASE_COALESCE);
		fn_range_ioctl(x->fd, NTMEM_IOC_RELEASE, x->a, 0, 0, 0);
		break;
	case N_R_RESERVE:
	case N_R_RESERVE_COMMIT:
		if (ok)
			fn_range_ioctl(x->pfd, NTMEM_IOC_RELEASE, x->out, 0, 0, 0);
		break;
	case N_R_VIEW:
		if (ok)
			fn_range_ioctl(x->pfd, NTMEM_IOC_UNMAP_VIEW, x->out, 0, 0, 0);
		break;
	case N_R_UNMAP:
		if (!ok)
			fn_range_ioctl(x->pfd, NTMEM_IOC_UNMAP_VIEW, x->a, 0, 0, 0);
		break;
	case N_R_COMMIT:
	case N_R_PROTECT:
	case N_R_DECOMMIT:
	case N_R_RELEASE:
	case N_R_WRITE:
	case N_R_READ:
		if (k != N_R_RELEASE || !ok)
			fn_range_ioctl(x->pfd, NTMEM_IOC_RELEASE, x->a, 0, 0, 0);
		break;
	default:
		break;
	}
}

/*
 * Before the call (@i 0): counters, descriptors, the child's bytes, then
 * the maps; after it (@i 1) the maps first, so that nothing but the call
 * lies between the two reads of them.
 */
static int take2(struct fx *x, enum nk k, int i, struct snap2 *s)
{
	const char *path = nk_remote(k) ? x->child_maps : "/proc/self/maps";
	long len = 0;

	s->maps = maps_buf[i];
	s->bytes = bytes_buf[i];
	if (i)
		len = read_whole(path, s->maps, MAPS_MAX);
	s->fds = count_fds();
	for (int c = 0; c < FN_NCOUNTERS; c++)
		s->counters[c] = ntmem_counter(fn_cnames[c]);
	if (k == N_R_WRITE &&
	    mem_copy(x->pfd, NTMEM_IOC_READ_MEMORY, x->a, s->bytes,
		     sizeof(bytes_buf[i])))
		return -1;
	if (!i)
		len = read_whole(path, s->maps, MAPS_MAX);
	s->maps_len = len;
	return len < 0 ? -1 : 0;
}

/* Whether @line (to its newline) is a line of @s's maps. */
static bool maps_has(const struct snap2 *s, const char *line, size_t len)
{
	for (size_t i = 0; i + len <= s->maps_len;) {
		const char *e = memchr(s->maps + i, '\n', s->maps_len - i);
		size_t l = e ? (size_t)(e - (s->maps + i)) : s->maps_len - i;

		if (l == len && !memcmp(s->maps + i, line, len))
			return true;
		i += l + 1;
	}
	return false;
}

/*
 * The next line of @s's maps from *@at that is not released space: its
 * length, with its start in *@line; -1 at the end.
 */
static long kept_line(const struct snap2 *s, size_t *at, const char **line)
{
	while (*at < s->maps_len) {
		const char *l = s->maps + *at;
		const char *e = memchr(l, '\n', s->maps_len - *at);
		size_t len = e ? (size_t)(e - l) : s->maps_len - *at;

		*at += len + 1;
		if (!memmem(l, len, NTMEM_PLACEHOLDER_NAME,
			    strlen(NTMEM_PLACEHOLDER_NAME))) {
			*line = l;
			return len;
		}
	}
	return -1;
}

/*
 * Whether two maps are the same but for released space: a "[ntmem free]"
 * VMA lost or gained is free address space either way (QUERY says so, and
 * RESERVE uses both), and 6.1 leaves a hole where its mmap_region()
 * unmapped before it failed.
 */
static bool maps_same(const struct snap2 *a, const struct snap2 *b)
{
	size_t i = 0, j = 0;

	for (;;) {
		const char *la = NULL, *lb = NULL;
		long na = kept_line(a, &i, &la), nb = kept_line(b, &j, &lb);

		if (na != nb || (na > 0 && memcmp(la, lb, na)))
			return false;
		if (na < 0)
			return true;
	}
}

/* The lines of each maps that the other lacks, for the report. */
static void maps_diff(const struct snap2 *a, const struct snap2 *b)
{
	for (int w = 0; w < 2; w++) {
		const struct snap2 *s = w ? b : a, *o = w ? a : b;

		for (size_t i = 0; i < s->maps_len;) {
			const char *e = memchr(s->maps + i, '\n', s->maps_len - i);
			size_t l = e ? (size_t)(e - (s->maps + i)) : s->maps_len - i;

			if (!maps_has(o, s->maps + i, l))
				printf("fuzz:   %s %.*s\n", w ? "+" : "-", (int)l,
				       s->maps + i);
			i += l + 1;
		}
	}
}

/* QUERY of the stage's base after a failed call, for the report. */
static void query_note(struct fx *x, enum nk k)
{
	struct ntmem_query q = { .size = sizeof(q), .addr = x->a };
	int fd = nk_remote(k) ? x->pfd : x->fd;

	if (!x->a)
		return;
	if (ioctl(fd, NTMEM_IOC_QUERY, &q))
		printf("fuzz:   QUERY %#lx: %s\n", (unsigned long)x->a,
		       strerror(errno));
	else
		printf("fuzz:   QUERY %#lx now: state %#x type %#x region %#llx+%#llx\n",
		       (unsigned long)x->a, q.state, q.type,
		       (unsigned long long)q.base,
		       (unsigned long long)q.region_size);
}

/* compare2()'s reports, unless only the verdict is wanted */
static bool quiet;
#define say(...)	do { if (!quiet) printf(__VA_ARGS__); } while (0)

static int compare2(struct fx *x, enum nk k, int n, int err,
		    const struct snap2 *b, const struct snap2 *a)
{
	const char *what = nk_remote(k) ? "the child's /proc/PID/maps" :
					  "/proc/self/maps";
	int ret = 0;

	if (!maps_same(b, a)) {
		say("fuzz: fail-nth %s n=%d: failed with %s but changed %s\n",
		       nk_names[k], n, strerror(err), what);
		if (!quiet) {
			maps_diff(b, a);
			query_note(x, k);
		}
		ret = -1;
	}
	if (b->fds != a->fds) {
		say("fuzz: fail-nth %s n=%d: failed with %s but descriptors went %d -> %d\n",
		       nk_names[k], n, strerror(err), b->fds, a->fds);
		ret = -1;
	}
	for (int i = 0; i < FN_NCOUNTERS; i++)
		if (b->counters[i] != a->counters[i]) {
			say("fuzz: fail-nth %s n=%d: failed with %s but %s went %ld -> %ld\n",
			       nk_names[k], n, strerror(err), fn_cnames[i],
			       b->counters[i], a->counters[i]);
			ret = -1;
		}
	if (k == N_R_WRITE && memcmp(b->bytes, a->bytes, sizeof(bytes_buf[0]))) {
		size_t i = 0, j = sizeof(bytes_buf[0]);
		const size_t at = 2 * FZ_PAGE + 96;	/* where it writes */

		while (b->bytes[i] == a->bytes[i])
			i++;
		while (b->bytes[j - 1] == a->bytes[j - 1])
			j--;
		/*
		 * A buffer that failed after the probe: @done bytes written;
		 * or the copy was made and its result could not be stored
		 * back (@done untouched), which no call can undo.
		 */
		uint64_t may = x->done == UINT64_MAX ? 4 * FZ_PAGE : x->done;

		if (err != EFAULT || i < at || j > at + may) {
			say("fuzz: fail-nth %s n=%d: failed with %s but changed the child's bytes [%#zx, %#zx) of the stage (the write: [0x2060, 0x6060), done %#llx)\n",
			    nk_names[k], n, strerror(err), i, j,
			    (unsigned long long)x->done);
			ret = -1;
		}
	}
	if (k == N_SEC_NAMED) {
		struct ntmem_section s = { .size = sizeof(s),
			.access = NTMEM_FILE_MAP_READ,
			.name = (uintptr_t)x->name,
			.name_len = strlen(x->name) };
		int e = ioctl(x->fd, NTMEM_IOC_SECTION_OPEN, &s) ? errno : 0;

		if (!e)
			close(s.fd);
		if (e != ENOENT) {
			say("fuzz: fail-nth %s n=%d: failed with %s but SECTION_OPEN of its name gives %s\n",
			       nk_names[k], n, strerror(err),
			       e ? strerror(e) : "a section");
			ret = -1;
		}
	}
	return ret;
}

/*
 * One kind, N = 1, 2, ...; unlike the kinds above it goes on past a
 * divergence (each N starts from a fresh stage), reporting the first few
 * and then how many of the failed calls diverged.
 */
static int one_kind2(struct fx *x, enum nk k, long *calls, long *injected)
{
	int ndiv = 0, nfail = 0, ret = -1;
	char ns[256] = "";

	for (int n = 1; n <= FN_MAX_N; n++) {
		struct snap2 before, after;
		int err, left, bad = 0;

		if (prep(x, k) || take2(x, k, 0, &before)) {
			printf("fuzz: fail-nth %s: cannot stage\n", nk_names[k]);
			undo(x, k, false);
			return -1;
		}
		nth_set(x->nth, n);
		err = call2(x, k);
		left = nth_get(x->nth);
		nth_set(x->nth, 0);
		(*calls)++;
		*injected += left == 0;
		if (!err) {
			undo(x, k, true);
			if (left != 0) {	/* ran to the end: every N tried */
				ret = 0;
				break;
			}
			continue;
		}
		nfail++;
		if (ndiv >= 2) {	/* quiet: only whether it diverged */
			quiet = true;
			bad = take2(x, k, 1, &after) ? -1 :
			      compare2(x, k, n, err, &before, &after);
			quiet = false;
			if (bad || (err != ENOMEM && err != ENOSPC &&
				    err != EINTR && err != EAGAIN &&
				    err != EFAULT)) {
				ndiv++;
				snprintf(ns + strlen(ns), sizeof(ns) - strlen(ns),
					 " %d", n);
			}
			undo(x, k, false);
			continue;
		}
		if (take2(x, k, 1, &after)) {
			printf("fuzz: fail-nth %s n=%d: cannot read the state after\n",
			       nk_names[k], n);
			bad = -1;
		} else if (err != ENOMEM && err != ENOSPC && err != EINTR &&
			   err != EAGAIN && err != EFAULT) {
			printf("fuzz: fail-nth %s n=%d: %s, not a clean error\n",
			       nk_names[k], n, strerror(err));
			bad = -1;
		} else {
			bad = compare2(x, k, n, err, &before, &after);
		}
		undo(x, k, false);
		ndiv += bad != 0;
	}
	if (ret)
		printf("fuzz: fail-nth %s: still failing at n=%d\n",
		       nk_names[k], FN_MAX_N);
	if (ndiv > 2)
		printf("fuzz: fail-nth %s: %d of %d failed calls diverged (after the two above: n =%s)\n",
		       nk_names[k], ndiv, nfail, ns);
	return ndiv ? -1 : ret;
}

/* The child, the section and the process descriptor: 0, or -1. */
static int fx_init(struct fx *x)
{
	char path[64];
	uintptr_t v;
	int err;

	x->sec = x->mem = x->pfd = -1;
	snprintf(x->name, sizeof(x->name), "ntmem-fuzz-failnth-%d", getpid());
	snprintf(x->child_maps, sizeof(x->child_maps), "/proc/%d/maps",
		 x->child);
	if (sec_create(x->fd, NULL, &x->sec))
		return -1;
	v = view(x->fd, x->sec, 0, 0, NTMEM_FILE_MAP_WRITE, &err);
	if (err)
		return -1;
	for (unsigned i = 0; i < SEC_LEN / 8; i++)
		((uint64_t *)v)[i] = 0x5ec0000 + i;
	fn_range_ioctl(x->fd, NTMEM_IOC_UNMAP_VIEW, v, 0, 0, 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", x->child);
	x->mem = open(path, O_RDWR | O_CLOEXEC);
	if (x->mem < 0)
		return -1;
	if (call2(x, N_OPEN_PROCESS))
		return -1;
	x->pfd = x->newfd;
	x->newfd = -1;
	return 0;
}

/* Every kind, on @child (see failnth_run()): the kinds that diverged. */
int failnth_objects_run(int fd, int nth, pid_t child, long *calls,
			long *injected)
{
	struct fx x = { .newfd = -1, .fd = fd, .nth = nth, .child = child };
	bool ready = child > 0 && !fx_init(&x);
	int bad = 0;

	if (!ready) {
		printf("fuzz: fail-nth: cannot set up a section and a child for the other kinds\n");
		bad++;
	}
	for (int k = 0; ready && k < N_NKINDS; k++) {
		long c0 = *calls, i0 = *injected;

		fflush(stdout);
		if (one_kind2(&x, k, calls, injected))
			bad++;
		printf("fuzz: fail-nth %s: %ld calls, %ld injected failures\n",
		       nk_names[k], *calls - c0, *injected - i0);
	}
	if (x.pfd >= 0)
		close(x.pfd);
	if (x.mem >= 0)
		close(x.mem);
	if (x.sec >= 0)
		close(x.sec);
	return bad;
}
