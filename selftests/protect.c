// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_PROTECT: per-page protection inside one VMA, enforced by the
 * MMU (read, write and instruction fetch), all or nothing, reporting the
 * first page's old protection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

FIXTURE(protect) {
	int fd;
	char *p;		/* 64 KiB reservation */
	bool exec;		/* NTMEM_FEATURE_EXEC */
};

FIXTURE_SETUP(protect)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->exec = ntmem_features(self->fd) & NTMEM_FEATURE_EXEC;
	self->p = ntmem_reserve_any(self->fd, 64 * KiB);
	ASSERT_NE(NULL, self->p);
}

FIXTURE_TEARDOWN(protect)
{
	if (self->fd > 0)
		close(self->fd);
}

TEST_F(protect, noaccess)
{
	char *p = self->p;
	struct ntmem_query q;
	uint32_t old = 0;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 2 * PAGE_SZ, 31);
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_NOACCESS,
				   &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_SEGV_AT(p + 100, try_read(p + 100));
	ASSERT_SEGV_AT(p + 4000, try_write(p + 4000, 1));
	ASSERT_EQ(0, pagemap_present(p));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, q.protect);
	ASSERT_EQ(PAGE_SZ, q.region_size);
	/* The neighbour is untouched. */
	ASSERT_EQ(-1, check_pattern(p + PAGE_SZ, PAGE_SZ, 31));
	ASSERT_NO_FAULT(try_write(p + PAGE_SZ, p[PAGE_SZ]));

	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   &old));
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, old);
	ASSERT_EQ(-1, check_pattern(p, 2 * PAGE_SZ, 31));
}

TEST_F(protect, readonly)
{
	char *p = self->p;
	struct ntmem_query q;
	uint32_t old = 0;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 3 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 3 * PAGE_SZ, 32);
	ASSERT_EQ(0, ntmem_protect(self->fd, p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_NO_FAULT(try_read(p + PAGE_SZ + 5));
	ASSERT_SEGV_AT(p + PAGE_SZ + 0x123, try_write(p + PAGE_SZ + 0x123, 0));
	ASSERT_SEGV_AT(p + 2 * PAGE_SZ - 1, try_write(p + 2 * PAGE_SZ - 1, 0));
	ASSERT_EQ(-1, check_pattern(p, 3 * PAGE_SZ, 32));
	ASSERT_NO_FAULT(try_write(p + 0x10, 1));
	ASSERT_NO_FAULT(try_write(p + 2 * PAGE_SZ + 0x10, 1));
	ASSERT_EQ(0, ntmem_query(self->fd, p + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(PAGE_SZ, q.region_size);
}

TEST_F(protect, readwrite)
{
	char *p = self->p;
	uint32_t old = 0;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READONLY,
				  0));
	ASSERT_EQ(0, p[7]);
	ASSERT_SEGV_AT(p + 7, try_write(p + 7, 1));
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   &old));
	ASSERT_EQ(NTMEM_PAGE_READONLY, old);
	ASSERT_NO_FAULT(try_write(p + 7, 9));
	ASSERT_EQ(9, p[7]);
}

/* Protection changes never change contents. */
TEST_F(protect, contents_survive_every_change)
{
	const uint32_t seq[] = {
		NTMEM_PAGE_READONLY, NTMEM_PAGE_NOACCESS,
		NTMEM_PAGE_EXECUTE_READ, NTMEM_PAGE_EXECUTE,
		NTMEM_PAGE_EXECUTE_READWRITE, NTMEM_PAGE_READWRITE,
	};
	const size_t len = 8 * PAGE_SZ;
	uint32_t prev = NTMEM_PAGE_READWRITE, old;
	char *p = self->p;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, len, 33);
	for (size_t i = 0; i < ARRAY_SIZE(seq); i++) {
		if (!self->exec && (seq[i] & 0xf0))
			continue;
		ASSERT_EQ(0, ntmem_protect(self->fd, p, len, seq[i], &old));
		ASSERT_EQ(prev, old);
		prev = seq[i];
		if (seq[i] != NTMEM_PAGE_NOACCESS) {
			ASSERT_EQ(-1, check_pattern(p, len, 33))
				TH_LOG("after protect 0x%x", seq[i]);
		}
	}
	ASSERT_EQ(-1, check_pattern(p, len, 33));
}

/* Run code_ret42 on a page with protection @prot and check each access. */
static void exec_case(struct __test_metadata *_metadata, int fd, char *p,
		      uint32_t prot, bool readable, bool writable)
{
	uint32_t old = 0;
	int r = 0;

	ASSERT_EQ(0, ntmem_commit(fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	memcpy(p, code_ret42, sizeof(code_ret42));
	ASSERT_EQ(0, ntmem_protect(fd, p, PAGE_SZ, prot, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(42, r);
	if (readable) {
		ASSERT_NO_FAULT(try_read(p + 1));
		ASSERT_EQ(0, memcmp(p, code_ret42, sizeof(code_ret42)));
	} else {
		ASSERT_SEGV_AT(p + 1, try_read(p + 1));
	}
	if (writable) {
		ASSERT_NO_FAULT(try_write(p + 100, 0xcc));
	} else {
		ASSERT_SEGV_AT(p + 100, try_write(p + 100, 0xcc));
	}
}

/* Assumption (spec 1.2): x86-64 pages cannot be execute-only. */
TEST_F(protect, execute)
{
	if (!self->exec)
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	exec_case(_metadata, self->fd, self->p, NTMEM_PAGE_EXECUTE, true,
		  false);
}

TEST_F(protect, execute_read)
{
	if (!self->exec)
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	exec_case(_metadata, self->fd, self->p, NTMEM_PAGE_EXECUTE_READ, true,
		  false);
}

TEST_F(protect, execute_readwrite)
{
	char *p = self->p;
	int r = 0;

	if (!self->exec)
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	exec_case(_metadata, self->fd, p, NTMEM_PAGE_EXECUTE_READWRITE, true,
		  true);
	/* Self-modifying code: patch the immediate and run it again. */
	ASSERT_NO_FAULT(try_write(p + 1, 43));
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(43, r);
}

/* Data pages are never executable: the fetch faults at the entry. */
TEST_F(protect, data_pages_not_executable)
{
	const uint32_t prots[] = { NTMEM_PAGE_READWRITE, NTMEM_PAGE_READONLY,
				   NTMEM_PAGE_NOACCESS };
	char *p = self->p;
	int r = 0;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 3 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	for (size_t i = 0; i < 3; i++) {
		char *c = p + i * PAGE_SZ;

		memcpy(c, code_ret42, sizeof(code_ret42));
		ASSERT_EQ(0, ntmem_protect(self->fd, c, PAGE_SZ, prots[i],
					   NULL));
		ASSERT_SEGV_AT(c, try_exec(c, &r)) TH_LOG("protect 0x%x",
							   prots[i]);
	}
	/* Reserved pages neither. */
	ASSERT_SEGV_AT(p + 8 * PAGE_SZ, try_exec(p + 8 * PAGE_SZ, &r));
}

/* Taking execute away works on a page that already ran. */
TEST_F(protect, execute_revoked)
{
	char *p = self->p;
	uint32_t old = 0;
	int r = 0;

	if (!self->exec)
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	exec_case(_metadata, self->fd, p, NTMEM_PAGE_EXECUTE_READ, true,
		  false);
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   &old));
	ASSERT_EQ(NTMEM_PAGE_EXECUTE_READ, old);
	ASSERT_SEGV_AT(p, try_exec(p, &r));
	ASSERT_EQ(0, memcmp(p, code_ret42, sizeof(code_ret42)));
	ASSERT_NO_FAULT(try_write(p + 200, 1));
	/* And back. */
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE_READ, NULL));
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(42, r);
}

TEST_F(protect, returns_old_protection_of_first_page)
{
	uint32_t second = self->exec ? NTMEM_PAGE_EXECUTE_READ :
				       NTMEM_PAGE_NOACCESS;
	char *p = self->p;
	struct ntmem_query q;
	uint32_t old = 0;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 2 * PAGE_SZ, PAGE_SZ, second,
				  0));

	ASSERT_EQ(0, ntmem_protect(self->fd, p, 3 * PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, &old));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, old);
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, q.protect);
	ASSERT_EQ(3 * PAGE_SZ, q.region_size);

	ASSERT_EQ(0, ntmem_protect(self->fd, p + PAGE_SZ, 2 * PAGE_SZ,
				   NTMEM_PAGE_READONLY, &old));
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, old);
	ASSERT_EQ(0, ntmem_protect(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READWRITE, &old));
	ASSERT_EQ(NTMEM_PAGE_READONLY, old);
	ASSERT_EQ(0, ntmem_protect(self->fd, p, 3 * PAGE_SZ,
				   NTMEM_PAGE_READWRITE, &old));
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, old);
}

/* A reserved page anywhere in the range: ENODATA, and nothing changes. */
TEST_F(protect, uncommitted_page_enodata)
{
	char *p = self->p;
	struct ntmem_query q;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 3 * PAGE_SZ, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 2 * PAGE_SZ, 34);

	ASSERT_EQ(-ENODATA, ntmem_protect(self->fd, p, 5 * PAGE_SZ,
					  NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(-ENODATA, ntmem_protect(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
					  NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(-ENODATA, ntmem_protect(self->fd, p + 4 * PAGE_SZ,
					  2 * PAGE_SZ, NTMEM_PAGE_READONLY,
					  NULL));
	ASSERT_EQ(-ENODATA, ntmem_protect(self->fd, p + 8 * PAGE_SZ, PAGE_SZ,
					  NTMEM_PAGE_READWRITE, NULL));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, p + 3 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	ASSERT_NO_FAULT(try_write(p + 8, p[8]));
	ASSERT_NO_FAULT(try_write(p + 4 * PAGE_SZ, 1));
	ASSERT_EQ(-1, check_pattern(p, 2 * PAGE_SZ, 34));

	/* Decommitted pages count as uncommitted. */
	ASSERT_EQ(0, ntmem_decommit(self->fd, p + PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(-ENODATA, ntmem_protect(self->fd, p, 2 * PAGE_SZ,
					  NTMEM_PAGE_READONLY, NULL));
	ASSERT_NO_FAULT(try_write(p + 8, p[8]));
}

TEST_F(protect, outside_one_reservation_enxio)
{
	char *f = ntmem_find_free(self->fd, 1 * MiB);
	void *x = f, *y = f + 64 * KiB;
	size_t xl = 64 * KiB, yl = 64 * KiB;
	struct ntmem_query q;
	char *m;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &x, &xl, NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(0, ntmem_reserve(self->fd, &y, &yl, NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, f, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, ntmem_commit(self->fd, y, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));

	ASSERT_EQ(-ENXIO, ntmem_protect(self->fd, f + 60 * KiB, 8 * KiB,
					NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(-ENXIO, ntmem_protect(self->fd, f + 64 * KiB, 128 * KiB,
					NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(-ENXIO, ntmem_protect(self->fd, f + 512 * KiB, PAGE_SZ,
					NTMEM_PAGE_READONLY, NULL));
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(-ENXIO, ntmem_protect(self->fd, m, PAGE_SZ,
					NTMEM_PAGE_READONLY, NULL));
	ASSERT_NO_FAULT(try_write(m, 1));
	ASSERT_EQ(0, ntmem_query(self->fd, f + 60 * KiB, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_NO_FAULT(try_write(f + 60 * KiB, 1));
	ASSERT_NO_FAULT(try_write(f + 64 * KiB, 1));
}

TEST_F(protect, bad_protection_einval)
{
	const uint32_t bad[] = { 0, 0x03, 0x06, 0x08, 0x80, 0x804, 0x100,
				 0x101, 0x201, 0x304, 0x604 };
	char *p = self->p;
	struct ntmem_query q;

	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-EINVAL, ntmem_protect(self->fd, p, PAGE_SZ, bad[i],
						 NULL))
			TH_LOG("protect 0x%x", bad[i]);
	}
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_NO_FAULT(try_write(p, 1));
}

/*
 * Many single-page protection changes stay inside one VMA: the process's
 * VMA count must not grow with them (a VMA per run would add ~131072).
 */
/* minutes on the KASAN kernel under TCG */
TEST_F_TIMEOUT(protect, alternating_131072_changes_keep_vma_count, 900)
{
	const uint32_t odd = self->exec ? NTMEM_PAGE_EXECUTE_READ :
					  NTMEM_PAGE_NOACCESS;
	const long changes = 131072;
	size_t len = GiB, npages;
	int maps0, maps1, passes = 1;
	uint64_t t0, t1;
	char *p;
	int ret;

	p = ntmem_reserve_any(self->fd, len);
	ASSERT_NE(NULL, p);
	ret = ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0);
	if (ret == -ENOSPC) {
		/* The VM's commit limit is below 1 GiB: two passes over half. */
		TH_LOG("commit of 1 GiB: over the commit limit; 512 MiB twice");
		len /= 2;
		passes = 2;
		ret = ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0);
	}
	ASSERT_EQ(0, ret);
	npages = len / PAGE_SZ;

	/* Present pages too, so the changes must rewrite real PTEs. */
	for (size_t i = 0; i < npages; i += 64) {
		p[i * PAGE_SZ] = 1;
		p[(i + 1) * PAGE_SZ] = 2;
		p[(i + 2) * PAGE_SZ] = 3;
	}
	maps0 = maps_count();
	t0 = now_ns();
	for (long k = 0; k < changes; k++) {
		size_t page = (2 * k) % npages;
		/* With two passes, the first one sets the opposite. */
		bool even = (k % 2 == 0) ^ (passes == 2 && 2 * k < (long)npages);
		uint32_t prot = even ? NTMEM_PAGE_READONLY : odd;

		ret = ntmem_protect(self->fd, p + page * PAGE_SZ, PAGE_SZ, prot,
				    NULL);
		if (ret) {
			ASSERT_EQ(0, ret) TH_LOG("change %ld (page %zu)", k,
						  page);
		}
	}
	t1 = now_ns();
	maps1 = maps_count();
	TH_LOG("%ld changes in %llu ms; maps lines %d -> %d", changes,
	       (unsigned long long)((t1 - t0) / 1000000), maps0, maps1);
	ASSERT_LT(maps1 - maps0, 16);

	/* In the final state page 2k holds READONLY for even k, @odd else. */
	for (size_t i = 0; i < npages; i += 64 * 97) {
		char *a = p + i * PAGE_SZ;
		struct ntmem_query q;

		ASSERT_EQ(0, ntmem_query(self->fd, a, &q));
		ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect) TH_LOG("page %zu", i);
		ASSERT_EQ(PAGE_SZ, q.region_size);
		ASSERT_EQ(0, ntmem_query(self->fd, a + PAGE_SZ, &q));
		ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
		ASSERT_EQ(0, ntmem_query(self->fd, a + 2 * PAGE_SZ, &q));
		ASSERT_EQ(odd, q.protect);

		ASSERT_EQ(1, a[0]);
		ASSERT_SEGV_AT(a + 8, try_write(a + 8, 0));
		ASSERT_NO_FAULT(try_write(a + PAGE_SZ + 8, 0));
		if (self->exec) {
			ASSERT_EQ(3, a[2 * PAGE_SZ]);
		}
		ASSERT_SEGV_AT(a + 2 * PAGE_SZ + 8,
			       try_write(a + 2 * PAGE_SZ + 8, 0));
	}
}

TEST_HARNESS_MAIN
