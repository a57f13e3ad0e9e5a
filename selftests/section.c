// SPDX-License-Identifier: GPL-2.0
/*
 * Sections and views (NTMEM_IOC_SECTION_CREATE, _OPEN, MAP_VIEW,
 * UNMAP_VIEW): shared views map the same physical pages (pagemap), the
 * commit charge is taken once, per-page protection inside a view keeps
 * one VMA, copy-on-write views keep their writes, SEC_RESERVE commits
 * reach every view, named sections belong to one user, and memory goes
 * back when the last descriptor and view are gone.  File sections map the
 * file's own pages: writes reach it at once (read() sees them), msync()
 * writes them back, a copy-on-write view leaves it alone, and the
 * kernel's rules for mapping a file (open mode, append-only, write seals)
 * hold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

/* The page frame behind @addr (root reads PFNs), 0 if none. */
static uint64_t pfn_of(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)addr / PAGE_SZ * 8) != 8)
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

NTMEM_FD_FIXTURE(section);

TEST_F(section, views_share_pages_and_the_charge_is_taken_once)
{
	const size_t len = 4 * MiB;
	struct ntmem_counters c0, c1, c2, c3;
	struct ntmem_query q;
	char *a, *b;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	s = ntmem_section_create(self->fd, len, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages + (long)(len / PAGE_SZ),
		  c1.committed_pages);

	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	b = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_READ);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, (uintptr_t)a % GRAN);
	ASSERT_EQ(c1.committed_pages, (ntmem_counters_read(&c2),
				       c2.committed_pages));
	fill_pattern(a, len, 7);
	ASSERT_EQ(0, memcmp(a, b, len));
	ASSERT_NE(0, pfn_of(a + 5 * PAGE_SZ));
	ASSERT_EQ(pfn_of(a + 5 * PAGE_SZ), pfn_of(b + 5 * PAGE_SZ));
	/* the read-only view refuses writes */
	ASSERT_SEGV_AT(b + 3, try_write(b + 3, 1));

	ASSERT_EQ(0, ntmem_query(self->fd, a + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_TYPE_MAPPED, q.type);
	ASSERT_EQ((uintptr_t)a, q.alloc_base);
	ASSERT_EQ(len, q.alloc_size);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(0, ntmem_query(self->fd, b, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.alloc_protect);

	/* the section outlives its descriptor while a view maps it */
	ASSERT_EQ(0, close(s));
	ASSERT_EQ(0, memcmp(a, b, len));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a + len - 1));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, b));
	ASSERT_EQ(0, ntmem_counters_read(&c3));
	ASSERT_EQ(c0.committed_pages, c3.committed_pages);
	ASSERT_EQ(0, ntmem_query(self->fd, a, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
}

TEST_F(section, memory_goes_with_the_last_holder)
{
	const size_t len = 64 * MiB;
	long shmem0, shmem1, shmem2;
	char *a;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	shmem0 = meminfo_kb("Shmem");
	s = ntmem_section_create(self->fd, len, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, a);
	memset(a, 1, len);
	shmem1 = meminfo_kb("Shmem");
	ASSERT_LE((long)(len / KiB) * 3 / 4, shmem1 - shmem0);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
	/* the descriptor still holds the data */
	ASSERT_LE((long)(len / KiB) * 3 / 4, meminfo_kb("Shmem") - shmem0);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_READ);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(-1, check_bytes(a, len, 1));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
	ASSERT_EQ(0, close(s));
	shmem2 = meminfo_kb("Shmem");
	ASSERT_GT((long)(len / KiB) / 4, shmem2 - shmem0);
}

TEST_F(section, protect_inside_a_view_keeps_one_vma)
{
	const size_t len = 16 * PAGE_SZ;
	uint32_t old = 0;
	char *a, *b;
	int s, maps;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	s = ntmem_section_create(self->fd, len, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	b = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	memset(a, 2, len);
	maps = maps_count();
	ASSERT_EQ(0, ntmem_protect(self->fd, a + 4 * PAGE_SZ, 2 * PAGE_SZ,
				   NTMEM_PAGE_READONLY, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_EQ(0, ntmem_protect(self->fd, a + 8 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, &old));
	ASSERT_EQ(maps, maps_count());
	ASSERT_SEGV_AT(a + 5 * PAGE_SZ + 17,
		       try_write(a + 5 * PAGE_SZ + 17, 1));
	ASSERT_SEGV_AT(a + 8 * PAGE_SZ + 1, try_read(a + 8 * PAGE_SZ + 1));
	ASSERT_EQ(2, a[5 * PAGE_SZ]);
	/* the other view is untouched by this one's protection */
	b[5 * PAGE_SZ] = 3;
	ASSERT_EQ(3, a[5 * PAGE_SZ]);
	/* no more than the view's access, no copy-on-write in a shared view */
	ASSERT_EQ(-EINVAL, ntmem_protect(self->fd, a, PAGE_SZ,
					 NTMEM_PAGE_WRITECOPY, &old));
	ASSERT_EQ(-EACCES, ntmem_protect(self->fd, a, PAGE_SZ,
					 NTMEM_PAGE_EXECUTE_READ, &old));
	ASSERT_EQ(-EINVAL, ntmem_protect(self->fd, a, PAGE_SZ, 0x800, &old));
	close(s);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, b));
}

TEST_F(section, read_view_cannot_become_writable)
{
	uint32_t old;
	char *r;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	r = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_READ);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(-EACCES, ntmem_protect(self->fd, r, PAGE_SZ,
					 NTMEM_PAGE_READWRITE, &old));
	ASSERT_EQ(-EACCES, ntmem_commit(self->fd, r, PAGE_SZ,
					NTMEM_PAGE_READWRITE, 0));
	ASSERT_SEGV_AT(r, try_write(r, 1));
	close(s);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, r));
}

TEST_F(section, copy_on_write_view_keeps_its_writes)
{
	const size_t len = 8 * PAGE_SZ;
	struct ntmem_query q;
	char *w, *c;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	s = ntmem_section_create(self->fd, len, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	w = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, w);
	memset(w, 'a', len);
	c = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_COPY);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, ntmem_query(self->fd, c, &q));
	ASSERT_EQ(NTMEM_PAGE_WRITECOPY, q.protect);
	ASSERT_EQ(NTMEM_TYPE_MAPPED, q.type);
	ASSERT_EQ(-1, check_bytes(c, len, 'a'));
	c[PAGE_SZ + 9] = 'b';
	ASSERT_EQ('a', w[PAGE_SZ + 9]);
	ASSERT_EQ('b', c[PAGE_SZ + 9]);
	ASSERT_NE(pfn_of(w + PAGE_SZ), pfn_of(c + PAGE_SZ));
	ASSERT_EQ(0, ntmem_query(self->fd, c + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, c + 2 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_PAGE_WRITECOPY, q.protect);
	/* the private page survives a change of the section */
	w[PAGE_SZ + 9] = 'z';
	ASSERT_EQ('b', c[PAGE_SZ + 9]);
	close(s);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, c));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, w));
}

TEST_F(section, sec_reserve_commit_reaches_every_view)
{
	const size_t len = 1 * MiB;
	struct ntmem_counters c0, c1;
	struct ntmem_query q;
	char *a, *b;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	s = ntmem_section_create(self->fd, len, NTMEM_SEC_RESERVE,
			   NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	b = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, ntmem_query(self->fd, a, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(len, q.region_size);
	ASSERT_SEGV_AT(a + 10, try_write(a + 10, 1));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);

	ASSERT_EQ(0, ntmem_commit(self->fd, a + 2 * PAGE_SZ, 3 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages + 3, c1.committed_pages);
	a[2 * PAGE_SZ + 5] = 'x';
	ASSERT_EQ(0, ntmem_query(self->fd, b + 2 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(3 * PAGE_SZ, q.region_size);
	ASSERT_EQ('x', b[2 * PAGE_SZ + 5]);
	ASSERT_SEGV_AT(b + 5 * PAGE_SZ, try_read(b + 5 * PAGE_SZ));
	/* a view mapped later sees them too; committing again charges nothing */
	close(s);
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 2 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages + 3, c1.committed_pages);
	ASSERT_SEGV_AT(b + 2 * PAGE_SZ, try_write(b + 2 * PAGE_SZ, 1));
	a[2 * PAGE_SZ] = 1;

	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, b));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);
}

TEST_F(section, views_refuse_what_only_private_memory_does)
{
	char *a, *p;
	int s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, a);
	a[0] = 5;
	ASSERT_EQ(-EINVAL, ntmem_decommit(self->fd, a, PAGE_SZ));
	/* RESET gives a section's pages back to no one: the data stays */
	ASSERT_EQ(0, ntmem_reset(self->fd, a, PAGE_SZ));
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, a, PAGE_SZ));
	ASSERT_EQ(-EINVAL, ntmem_lock(self->fd, a, PAGE_SZ));
	ASSERT_EQ(-EINVAL, ntmem_release(self->fd, a, 0));
	ASSERT_EQ(5, a[0]);
	/* munmap, mprotect and mremap of a view are refused as a region's */
	ASSERT_NE(0, mprotect(a, PAGE_SZ, PROT_READ));
	p = ntmem_reserve_any(self->fd, GRAN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(-ENXIO, ntmem_unmap_view(self->fd, p));
	ASSERT_EQ(-ENXIO, ntmem_unmap_view(self->fd, (void *)0x10000));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	close(s);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
	ASSERT_EQ(-ENXIO, ntmem_unmap_view(self->fd, a));
}

TEST_F(section, bad_arguments_change_nothing)
{
	struct ntmem_section out;
	int s, ro, err, pipefd[2], maps;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	ASSERT_EQ(-EINVAL, ntmem_section_create(self->fd, 0, 0, NTMEM_PAGE_READWRITE,
					  NULL, NULL));
	ASSERT_EQ(-EINVAL, ntmem_section_create(self->fd, GRAN, 0,
					  NTMEM_PAGE_NOACCESS, NULL, NULL));
	ASSERT_EQ(-EINVAL, ntmem_section_create(self->fd, GRAN, NTMEM_SEC_COMMIT |
					  NTMEM_SEC_RESERVE,
					  NTMEM_PAGE_READWRITE, NULL, NULL));
	ASSERT_EQ(-ENOSPC, ntmem_section_create(self->fd, 1ULL << 46, 0,
					  NTMEM_PAGE_READWRITE, NULL, NULL));
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_SECTION_CREATE,
				       &(struct ntmem_section){
					.size = sizeof(struct ntmem_section),
					.max_size = GRAN,
					.protect = NTMEM_PAGE_READWRITE,
					.name = 8, .name_len = 4 }));
	s = ntmem_section_create(self->fd, 2 * GRAN, 0, NTMEM_PAGE_READWRITE, NULL,
			   &out);
	ASSERT_LE(0, s);
	ASSERT_EQ(2 * GRAN, out.max_size);
	ASSERT_EQ(NTMEM_SEC_COMMIT, out.attrs);
	ASSERT_EQ(FD_CLOEXEC, fcntl(s, F_GETFD) & FD_CLOEXEC);
	maps = maps_count();
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, PAGE_SZ, 0,
				     NTMEM_FILE_MAP_READ, &err));
	ASSERT_EQ(-EXDEV, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, GRAN, GRAN + 1,
				     NTMEM_FILE_MAP_READ, &err));
	ASSERT_EQ(-EOVERFLOW, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 2 * GRAN, 0,
				     NTMEM_FILE_MAP_READ, &err));
	ASSERT_EQ(-EOVERFLOW, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 0, 0, 0, &err));
	ASSERT_EQ(-EINVAL, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 0, 0,
				     NTMEM_FILE_MAP_WRITE |
				     NTMEM_FILE_MAP_EXECUTE, &err));
	ASSERT_EQ(-EACCES, err);	/* not an executable section */
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, self->fd, 0, 0,
				     NTMEM_FILE_MAP_READ, &err));
	ASSERT_EQ(-EBADF, err);
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, pipefd[0], 0, 0,
				     NTMEM_FILE_MAP_READ, &err));
	ASSERT_EQ(-EBADF, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, -1, 0, 0, NTMEM_FILE_MAP_READ,
				     &err));
	ASSERT_EQ(-EBADF, err);
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(maps, maps_count());
	close(s);

	/* a read-only section, and a descriptor opened for reading */
	ro = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READONLY, NULL, NULL);
	ASSERT_LE(0, ro);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, ro, 0, 0, NTMEM_FILE_MAP_WRITE,
				     &err));
	ASSERT_EQ(-EACCES, err);
	close(ro);
	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_EXECUTE_READWRITE,
			   "ntmem-selftest-ro", NULL);
	ASSERT_LE(0, s);
	ro = ntmem_section_open(self->fd, "ntmem-selftest-ro", NTMEM_FILE_MAP_READ);
	ASSERT_LE(0, ro);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, ro, 0, 0, NTMEM_FILE_MAP_WRITE,
				     &err));
	ASSERT_EQ(-EACCES, err);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 0, 0, NTMEM_FILE_MAP_WRITE |
				     NTMEM_FILE_MAP_EXECUTE, &err));
	ASSERT_EQ(-EOPNOTSUPP, err);	/* shared execute views */
	ASSERT_EQ(maps, maps_count());
	close(ro);
	close(s);
	ASSERT_EQ(-ENOENT, ntmem_section_open(self->fd, "ntmem-selftest-ro",
					NTMEM_FILE_MAP_READ));
}

TEST_F(section, names_belong_to_one_user)
{
	struct ntmem_section out;
	const char *name = "ntmem-selftest-user";
	char *a;
	int s, status;
	pid_t pid;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	if (geteuid() != 0)
		SKIP(return, "needs root to become another user");
	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READWRITE, name,
			   &out);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, out.existed);
	a = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, a);
	strcpy(a, "root's");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ntmem_section o;
		int fd, t;
		char *v;

		if (setresuid(65534, 65534, 65534))
			_exit(10);
		fd = ntmem_open();
		if (fd < 0)
			_exit(11);
		if (ntmem_section_open(fd, name, NTMEM_FILE_MAP_READ) != -ENOENT)
			_exit(12);
		t = ntmem_section_create(fd, GRAN, 0, NTMEM_PAGE_READWRITE, name, &o);
		if (t < 0 || o.existed)
			_exit(13);
		v = ntmem_map_view(fd, t, 0, NTMEM_FILE_MAP_READ);
		if (!v || v[0])
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* the same user finds it, and gets the same pages */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ntmem_section o;
		int fd, t;
		char *v;

		fd = ntmem_open();
		if (fd < 0)
			_exit(11);
		t = ntmem_section_create(fd, 4 * GRAN, 0, NTMEM_PAGE_READONLY, name,
				   &o);
		if (t < 0 || !o.existed || o.max_size != GRAN)
			_exit(12);
		v = ntmem_map_view(fd, t, 0, NTMEM_FILE_MAP_WRITE);
		if (!v || strcmp(v, "root's"))
			_exit(13);
		strcpy(v, "child's");
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_STREQ("child's", a);
	/* the name goes with the last descriptor; the view lives on */
	close(s);
	ASSERT_EQ(-ENOENT, ntmem_section_open(self->fd, name,
					      NTMEM_FILE_MAP_READ));
	ASSERT_STREQ("child's", a);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, a));
}

/* A file of @len bytes of @c in a directory of the VM's root (tmpfs). */
static int make_file(const char *path, size_t len, char c, int flags)
{
	char buf[4096];
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);

	if (fd < 0)
		return -errno;
	memset(buf, c, sizeof(buf));
	for (size_t off = 0; off < len; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			return -EIO;
	close(fd);
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

TEST_F(section, file_views_are_the_file)
{
	const char *path = "/tmp/ntmem-section-file";
	const size_t len = 16 * PAGE_SZ;
	char *w, *r, *c, buf[8];
	struct ntmem_query q;
	struct stat st;
	uint32_t old;
	int f, s;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	f = make_file(path, len, 'f', O_RDWR);
	ASSERT_LE(0, f);
	/* size 0: the file's */
	s = ntmem_file_section_create(self->fd, f, 0, 0, NTMEM_PAGE_READWRITE,
				      NULL, NULL);
	ASSERT_LE(0, s);
	w = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	r = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_READ);
	c = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_COPY);
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, ntmem_query(self->fd, w, &q));
	ASSERT_EQ(NTMEM_TYPE_MAPPED, q.type);
	ASSERT_EQ(len, q.alloc_size);
	ASSERT_EQ(-1, check_bytes(r, len, 'f'));
	ASSERT_EQ(-1, check_bytes(c, len, 'f'));

	/* the view's writes are the file's, and the file's the view's */
	memcpy(w + 3 * PAGE_SZ + 7, "view", 4);
	ASSERT_EQ(4, pread(f, buf, 4, 3 * PAGE_SZ + 7));
	ASSERT_EQ(0, memcmp(buf, "view", 4));
	ASSERT_EQ(4, pwrite(f, "file", 4, 5 * PAGE_SZ));
	ASSERT_EQ(0, memcmp(w + 5 * PAGE_SZ, "file", 4));
	ASSERT_EQ(0, memcmp(r + 5 * PAGE_SZ, "file", 4));
	ASSERT_EQ(0, msync(w, len, MS_SYNC));
	ASSERT_EQ(0, pagemap_present(r + 3 * PAGE_SZ) < 0);

	/* copy-on-write: private */
	c[3 * PAGE_SZ + 7] = 'C';
	ASSERT_EQ('v', w[3 * PAGE_SZ + 7]);
	ASSERT_EQ(1, pread(f, buf, 1, 3 * PAGE_SZ + 7));
	ASSERT_EQ('v', buf[0]);

	/* per-page protection in a file view */
	ASSERT_EQ(0, ntmem_protect(self->fd, w + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, &old));
	ASSERT_SEGV_AT(w + PAGE_SZ + 9, try_write(w + PAGE_SZ + 9, 1));
	ASSERT_SEGV_AT(r + 2, try_write(r + 2, 1));
	w[2 * PAGE_SZ] = 'x';

	ASSERT_EQ(0, close(s));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, w));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, r));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, c));
	ASSERT_EQ(1, pread(f, buf, 1, 2 * PAGE_SZ));
	ASSERT_EQ('x', buf[0]);

	/* a bigger writable section grows the file */
	s = ntmem_file_section_create(self->fd, f, len + 3 * PAGE_SZ, 0,
				      NTMEM_PAGE_READWRITE, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, fstat(f, &st));
	ASSERT_EQ((off_t)(len + 3 * PAGE_SZ), st.st_size);
	w = ntmem_map_view(self->fd, s, 0, NTMEM_FILE_MAP_WRITE);
	ASSERT_NE(NULL, w);
	w[len + 2 * PAGE_SZ] = 'g';
	ASSERT_EQ(1, pread(f, buf, 1, len + 2 * PAGE_SZ));
	ASSERT_EQ('g', buf[0]);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, w));
	close(s);
	close(f);
	unlink(path);
}

TEST_F(section, file_sections_keep_the_files_rules)
{
	const char *path = "/tmp/ntmem-section-rules";
	struct ntmem_section out;
	int f, ro, s, err, m, pipefd[2];
	char *c, buf[1];

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_SECTIONS))
		SKIP(return, "module without sections");
	ro = make_file(path, 2 * PAGE_SZ, 'r', O_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(-EACCES, ntmem_file_section_create(self->fd, ro, 0, 0,
						     NTMEM_PAGE_READWRITE,
						     NULL, NULL));
	ASSERT_EQ(-EFBIG, ntmem_file_section_create(self->fd, ro, GRAN, 0,
						    NTMEM_PAGE_READONLY, NULL,
						    NULL));
	s = ntmem_file_section_create(self->fd, ro, 0, 0, NTMEM_PAGE_READONLY,
				      NULL, &out);
	ASSERT_LE(0, s);
	ASSERT_EQ(2 * PAGE_SZ, out.max_size);
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 0, 0,
					   NTMEM_FILE_MAP_WRITE, &err));
	ASSERT_EQ(-EACCES, err);
	close(s);
	close(ro);

	f = open(path, O_WRONLY | O_APPEND);
	ASSERT_LE(0, f);
	ASSERT_EQ(-EACCES, ntmem_file_section_create(self->fd, f, 0, 0,
						     NTMEM_PAGE_READONLY, NULL,
						     NULL));
	close(f);
	f = open(path, O_RDWR | O_TRUNC);
	ASSERT_LE(0, f);
	ASSERT_EQ(-ENODATA, ntmem_file_section_create(self->fd, f, 0, 0,
						      NTMEM_PAGE_READWRITE,
						      NULL, NULL));
	close(f);
	unlink(path);

	f = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, f);
	ASSERT_EQ(-EBADF, ntmem_file_section_create(self->fd, f, PAGE_SZ, 0,
						    NTMEM_PAGE_READONLY, NULL,
						    NULL));
	close(f);
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-EBADF, ntmem_file_section_create(self->fd, pipefd[0],
						    PAGE_SZ, 0,
						    NTMEM_PAGE_READONLY, NULL,
						    NULL));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(-EBADF, ntmem_file_section_create(self->fd, 999, PAGE_SZ, 0,
						    NTMEM_PAGE_READONLY, NULL,
						    NULL));

	/* a copy-on-write view of a memfd reads its holes as zeros */
	m = memfd_create("ntmem-holes", 0);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, ftruncate(m, GRAN));
	ASSERT_EQ(4, pwrite(m, "data", 4, PAGE_SZ));
	s = ntmem_file_section_create(self->fd, m, 0, 0, NTMEM_PAGE_READWRITE,
				      NULL, NULL);
	ASSERT_LE(0, s);
	c = ntmem_map_view_err(self->fd, s, 0, 0, NTMEM_FILE_MAP_COPY, &err);
	ASSERT_NE(NULL, c);
	c[3] = 'x';
	ASSERT_EQ(-1, check_bytes(c + 2 * PAGE_SZ, PAGE_SZ, 0));
	ASSERT_EQ(0, memcmp(c + PAGE_SZ, "data", 4));
	ASSERT_EQ(1, pread(m, buf, 1, 3));
	ASSERT_EQ(0, buf[0]);
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, c));
	close(s);
	close(m);

	/* a memfd sealed against writing maps for reading only */
	m = memfd_create("ntmem-sealed", MFD_ALLOW_SEALING);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, ftruncate(m, GRAN));
	s = ntmem_file_section_create(self->fd, m, 0, 0, NTMEM_PAGE_READWRITE,
				      NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
	ASSERT_EQ(NULL, ntmem_map_view_err(self->fd, s, 0, 0,
					   NTMEM_FILE_MAP_WRITE, &err));
	ASSERT_EQ(-EACCES, err);
	ASSERT_NE(NULL, ntmem_map_view_err(self->fd, s, 0, 0,
					   NTMEM_FILE_MAP_READ, &err));
	close(s);
	close(m);
}

/* ---- races: named sections, commits and views from several threads ---- */

#define RACE_NAME	"ntmem-selftest-race"
#define RACE_ROUNDS	300

struct race_arg {
	int fd;
	int kind;
	int failures;
};

/* Create (or find) the named SEC_RESERVE section, commit a page, write. */
static void race_writer(struct race_arg *a, unsigned int i)
{
	int s = ntmem_section_create(a->fd, 16 * PAGE_SZ, NTMEM_SEC_RESERVE,
				     NTMEM_PAGE_READWRITE, RACE_NAME, NULL);
	char *v;

	if (s < 0) {
		a->failures++;
		return;
	}
	v = ntmem_map_view(a->fd, s, 0, a->kind ? NTMEM_FILE_MAP_COPY :
						  NTMEM_FILE_MAP_WRITE);
	if (!v ||
	    ntmem_commit(a->fd, v + (i % 16) * PAGE_SZ, PAGE_SZ,
			 a->kind ? NTMEM_PAGE_WRITECOPY : NTMEM_PAGE_READWRITE,
			 0)) {
		a->failures++;
	} else {
		v[(i % 16) * PAGE_SZ] = (char)i;
	}
	if (v && ntmem_unmap_view(a->fd, v))
		a->failures++;
	close(s);
}

/* Open the name if it is there, and read what is committed. */
static void race_reader(struct race_arg *a)
{
	struct ntmem_query q;
	int s = ntmem_section_open(a->fd, RACE_NAME, NTMEM_FILE_MAP_READ);
	volatile char sink;
	char *v;

	if (s == -ENOENT)
		return;
	if (s < 0) {
		a->failures++;
		return;
	}
	v = ntmem_map_view(a->fd, s, 0, NTMEM_FILE_MAP_READ);
	for (int p = 0; v && p < 16; p++)
		if (!ntmem_query(a->fd, v + p * PAGE_SZ, &q) &&
		    q.state == NTMEM_STATE_COMMIT)
			sink = v[p * PAGE_SZ];
	(void)sink;
	if (!v || ntmem_unmap_view(a->fd, v))
		a->failures++;
	close(s);
}

/* A placeholder split, half replaced by a view, and put back together. */
static void race_placeholder(struct race_arg *a)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .length = 2 * GRAN,
		.flags = NTMEM_RESERVE_PLACEHOLDER,
	};
	struct ntmem_view v = {
		.size = sizeof(v), .access = NTMEM_FILE_MAP_WRITE,
		.flags = NTMEM_RESERVE_FIXED | NTMEM_RESERVE_REPLACE,
	};
	int s;

	if (ntmem_ioctl(a->fd, NTMEM_IOC_RESERVE, &r)) {
		a->failures++;
		return;
	}
	s = ntmem_section_create(a->fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL,
				 NULL);
	v.section = s;
	v.addr = r.addr + GRAN;
	if (s < 0 ||
	    ntmem_range_ioctl(a->fd, NTMEM_IOC_RELEASE, r.addr, GRAN, 0,
			      NTMEM_RELEASE_PRESERVE) ||
	    ntmem_ioctl(a->fd, NTMEM_IOC_MAP_VIEW, &v) ||
	    ntmem_range_ioctl(a->fd, NTMEM_IOC_UNMAP_VIEW, v.addr, 0, 0,
			      NTMEM_RELEASE_PRESERVE) ||
	    ntmem_range_ioctl(a->fd, NTMEM_IOC_RELEASE, r.addr, 2 * GRAN, 0,
			      NTMEM_RELEASE_COALESCE) ||
	    ntmem_range_ioctl(a->fd, NTMEM_IOC_RELEASE, r.addr, 0, 0, 0))
		a->failures++;
	if (s >= 0)
		close(s);
}

static void *race_thread(void *arg)
{
	struct race_arg *a = arg;

	for (unsigned int i = 0; i < RACE_ROUNDS; i++) {
		if (a->kind < 2)
			race_writer(a, i);
		else if (a->kind == 2)
			race_reader(a);
		else
			race_placeholder(a);
	}
	return NULL;
}

/*
 * Threads create, open and close one name, commit its pages through
 * shared and copy-on-write views and unmap them, while another splits and
 * joins placeholders: every call succeeds (or finds the name gone), and
 * the name and the charge are gone at the end (lockdep and KASAN watch on
 * the debug kernel).
 */
TEST_F_TIMEOUT(section, races_between_names_views_and_placeholders, 300)
{
	struct race_arg a[4];
	struct ntmem_counters c0, c1;
	pthread_t t[4];

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_PLACEHOLDERS))
		SKIP(return, "module without placeholders");
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	for (int i = 0; i < 4; i++) {
		a[i] = (struct race_arg){ .fd = self->fd, .kind = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_thread, &a[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, a[i].failures) TH_LOG("thread %d", i);
	}
	ASSERT_EQ(-ENOENT, ntmem_section_open(self->fd, RACE_NAME,
					      NTMEM_FILE_MAP_READ));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);
	ASSERT_EQ(c0.reservations, c1.reservations);
}

TEST_HARNESS_MAIN
