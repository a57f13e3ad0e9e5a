// SPDX-License-Identifier: GPL-2.0
/*
 * The argument rules common to every ioctl (header: "Argument rules"):
 * each malformed call fails with its documented errno and leaves the
 * address space exactly as it was, checked by walking it with QUERY and
 * rereading the contents.  Each bad case differs from a valid call (the
 * "template", which valid_templates_succeed runs) in one field only.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define NPAGES		16
#define SEED		91

FIXTURE(args) {
	int fd;
	char *b;	/* pages 0-3 READWRITE, 4-5 READONLY, 6-15 reserved */
};

FIXTURE_SETUP(args)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->b = ntmem_reserve_any(self->fd, NPAGES * PAGE_SZ);
	ASSERT_NE(NULL, self->b);
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, 6 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(self->b, 6 * PAGE_SZ, SEED);
	ASSERT_EQ(0, ntmem_protect(self->fd, self->b + 4 * PAGE_SZ,
				   2 * PAGE_SZ, NTMEM_PAGE_READONLY, NULL));
}

FIXTURE_TEARDOWN(args)
{
	if (self->fd > 0)
		close(self->fd);
}

struct snapshot {
	int n, maps;
	long pattern;
	struct ntmem_query q[NPAGES];
	struct ntmem_counters c;
};

static void snap(struct __test_metadata *_metadata, int fd, char *b,
		 struct snapshot *s)
{
	char *a = b;

	memset(s, 0, sizeof(*s));
	while (a < b + NPAGES * PAGE_SZ) {
		ASSERT_LT(s->n, NPAGES);
		ASSERT_EQ(0, ntmem_query(fd, a, &s->q[s->n]));
		ASSERT_LT(0, s->q[s->n].region_size);
		a += s->q[s->n++].region_size;
	}
	ASSERT_EQ(0, ntmem_counters_read(&s->c));
	s->maps = maps_count();
	s->pattern = check_pattern(b, 6 * PAGE_SZ, SEED);
}

/* The address space is as @before says. */
static void same(struct __test_metadata *_metadata, int fd, char *b,
		 const struct snapshot *before, const char *what)
{
	struct snapshot now;

	snap(_metadata, fd, b, &now);
	ASSERT_EQ(before->n, now.n) TH_LOG("after %s", what);
	ASSERT_EQ(0, memcmp(before->q, now.q, sizeof(now.q)))
		TH_LOG("QUERY differs after %s", what);
	ASSERT_EQ(0, memcmp(&before->c, &now.c, sizeof(now.c)))
		TH_LOG("counters differ after %s", what);
	ASSERT_EQ(before->maps, now.maps) TH_LOG("after %s", what);
	ASSERT_EQ(-1, now.pattern) TH_LOG("contents changed after %s", what);
}

static const struct range_op {
	const char *name;
	unsigned long cmd;
	uint32_t protect;	/* of the template */
} range_ops[] = {
	{ "COMMIT", NTMEM_IOC_COMMIT, NTMEM_PAGE_READWRITE },
	{ "DECOMMIT", NTMEM_IOC_DECOMMIT, 0 },
	{ "RESET", NTMEM_IOC_RESET, 0 },
	{ "RESET_UNDO", NTMEM_IOC_RESET_UNDO, 0 },
	{ "RELEASE", NTMEM_IOC_RELEASE, 0 },
	{ "LOCK", NTMEM_IOC_LOCK, 0 },
	{ "UNLOCK", NTMEM_IOC_UNLOCK, 0 },
};

/* The order in which the templates succeed one after another. */
static const size_t template_order[] = { 0, 5, 6, 1, 2, 3, 4 };

/* The valid call each bad case is one field away from. */
static void range_template(const struct range_op *op, char *b,
			   struct ntmem_range *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->addr = (uintptr_t)b;
	r->length = op->cmd == NTMEM_IOC_RELEASE ? 0 : PAGE_SZ;
	r->protect = op->protect;
}

enum field { ADDR, LEN, ADDR_LEN, FLAGS, PROT, RES0, RES1, RES2, SIZE };

struct bad_case {
	const char *what;
	enum field field;
	uint64_t val, val2;
	bool rel_to_base;	/* val is an offset from the reservation */
	bool neg_base;		/* val is subtracted from 0 - base */
	int ops;		/* which ops: bit per range_ops[] index */
	int err;
};

#define ALL	0x7f
#define COMMIT	0x01
#define NOT_COMMIT	0x7e
#define NOT_RELEASE	0x6f
#define NOT_WHOLE	0x6d	/* length 0 means the whole reservation */
#define WHOLE		0x12	/* DECOMMIT and RELEASE */
#define RELEASE		0x10
#define NOT_COMMIT_RELEASE 0x6e

static const struct bad_case range_bad[] = {
	{ "addr + 1", ADDR, 1, 0, true, false, ALL, -EINVAL },
	{ "addr + 0x800", ADDR, 0x800, 0, true, false, ALL, -EINVAL },
	{ "length 0x1001", LEN, PAGE_SZ + 1, 0, false, false, ALL, -EINVAL },
	{ "length 0x10", LEN, 0x10, 0, false, false, ALL, -EINVAL },
	{ "length 0", LEN, 0, 0, false, false, NOT_WHOLE, -EINVAL },
	{ "length 0 past a base", ADDR_LEN, PAGE_SZ, 0, true, false, WHOLE,
	  -ENXIO },
	{ "addr + length wraps to 0", LEN, 0, 0, false, true, ALL, -EINVAL },
	{ "addr + length wraps", LEN, 0xFFFFFFFFFFFFF000ULL, 0, false, false,
	  ALL, -EINVAL },
	{ "addr at the user range end", ADDR, NTMEM_MAX_ADDRESS, 0, false,
	  false, ALL, -EINVAL },
	{ "range runs past the user range", ADDR_LEN,
	  NTMEM_MAX_ADDRESS - PAGE_SZ, 2 * PAGE_SZ, false, false, NOT_RELEASE,
	  -EINVAL },
	{ "addr above the user range", ADDR, 0x800000000000ULL, 0, false,
	  false, ALL, -EINVAL },
	{ "kernel addr", ADDR, 0xffff888000000000ULL, 0, false, false, ALL,
	  -EINVAL },
	{ "reserved0", RES0, 1, 0, false, false, ALL, -EINVAL },
	{ "reserved[0]", RES1, 1, 0, false, false, ALL, -EINVAL },
	{ "reserved[1]", RES2, 1ULL << 63, 0, false, false, ALL, -EINVAL },
	{ "unknown COMMIT flag", FLAGS, 1U << 1, 0, false, false, COMMIT,
	  -EINVAL },
	{ "flag bit 31", FLAGS, 1U << 31, 0, false, false, ALL, -EINVAL },
	{ "PREFAULT flag on a non-COMMIT", FLAGS, NTMEM_COMMIT_PREFAULT, 0,
	  false, false, NOT_COMMIT_RELEASE, -EINVAL },
	/* RELEASE's flag 1: back to a placeholder, which there is not */
	{ "PRESERVE on a plain reservation", FLAGS, NTMEM_RELEASE_PRESERVE, 0,
	  false, false, RELEASE, -ENXIO },
	{ "PRESERVE and COALESCE", FLAGS, NTMEM_RELEASE_PRESERVE |
	  NTMEM_RELEASE_COALESCE, 0, false, false, RELEASE, -EINVAL },
	{ "unknown RELEASE flag", FLAGS, 1U << 2, 0, false, false, RELEASE,
	  -EINVAL },
	{ "protect on a non-COMMIT", PROT, NTMEM_PAGE_READWRITE, 0, false,
	  false, NOT_COMMIT, -EINVAL },
	{ "COMMIT protect 0", PROT, 0, 0, false, false, COMMIT, -EINVAL },
	{ "COMMIT protect 0x03", PROT, 0x03, 0, false, false, COMMIT, -EINVAL },
	{ "size 0", SIZE, 0, 0, false, false, ALL, -EINVAL },
};

static void apply(const struct bad_case *c, char *b, struct ntmem_range *r)
{
	uint64_t v = c->rel_to_base ? (uintptr_t)b + c->val : c->val;

	if (c->neg_base)
		v = 0 - (uintptr_t)b - c->val;
	switch (c->field) {
	case ADDR:
		r->addr = v;
		break;
	case LEN:
		r->length = v;
		break;
	case ADDR_LEN:
		r->addr = v;
		r->length = c->val2;
		break;
	case FLAGS:
		r->flags = v;
		break;
	case PROT:
		r->protect = v;
		break;
	case RES0:
		r->reserved0 = v;
		break;
	case RES1:
		r->reserved[0] = v;
		break;
	case RES2:
		r->reserved[1] = v;
		break;
	case SIZE:
		r->size = v;
		break;
	}
}

TEST_F(args, range_ioctls_bad_args)
{
	struct snapshot before;

	snap(_metadata, self->fd, self->b, &before);
	ASSERT_EQ(-1, before.pattern);
	for (size_t o = 0; o < ARRAY_SIZE(range_ops); o++) {
		const struct range_op *op = &range_ops[o];

		for (size_t i = 0; i < ARRAY_SIZE(range_bad);
		     i++) {
			const struct bad_case *c = &range_bad[i];
			struct ntmem_range r;
			char what[128];

			if (!(c->ops & (1 << o)))
				continue;
			range_template(op, self->b, &r);
			apply(c, self->b, &r);
			snprintf(what, sizeof(what), "%s with %s", op->name,
				 c->what);
			ASSERT_EQ(c->err, ntmem_ioctl(self->fd, op->cmd, &r))
				TH_LOG("%s", what);
			same(_metadata, self->fd, self->b, &before, what);
		}
	}
}

TEST_F(args, range_ioctls_newer_struct)
{
	struct {
		struct ntmem_range r;
		uint64_t tail[2];
	} big;
	struct snapshot before;

	snap(_metadata, self->fd, self->b, &before);
	for (size_t o = 0; o < ARRAY_SIZE(range_ops); o++) {
		range_template(&range_ops[o], self->b, &big.r);
		big.r.size = sizeof(big);
		big.tail[0] = 0;
		big.tail[1] = 1;
		ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, range_ops[o].cmd, &big))
			TH_LOG("%s", range_ops[o].name);
		same(_metadata, self->fd, self->b, &before, range_ops[o].name);
	}
}

/* Each template is valid: in order, so that each one's effect is known. */
TEST_F(args, valid_templates_succeed)
{
	struct {
		struct ntmem_range r;
		uint64_t tail[2];
	} big;
	struct ntmem_range r;
	struct ntmem_query q;

	static_assert(ARRAY_SIZE(template_order) == ARRAY_SIZE(range_ops),
		      "every template runs");
	for (size_t i = 0; i < ARRAY_SIZE(template_order); i++) {
		size_t o = template_order[i];

		range_template(&range_ops[o], self->b, &r);
		ASSERT_EQ(0, ntmem_ioctl(self->fd, range_ops[o].cmd, &r))
			TH_LOG("%s", range_ops[o].name);
		/* The same, as a newer struct with a zero tail. */
		if (range_ops[o].cmd == NTMEM_IOC_RELEASE)
			continue;
		if (range_ops[o].cmd == NTMEM_IOC_UNLOCK) {	/* lock again */
			range_template(&range_ops[5], self->b, &r);
			ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_LOCK, &r));
		}
		range_template(&range_ops[o], self->b, &big.r);
		big.r.size = sizeof(big);
		big.tail[0] = big.tail[1] = 0;
		ASSERT_EQ(0, ntmem_ioctl(self->fd, range_ops[o].cmd, &big))
			TH_LOG("%s, larger struct", range_ops[o].name);
	}
	ASSERT_EQ(0, ntmem_query(self->fd, self->b, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
}

/* An older struct: the fields past @size are not read. */
TEST_F(args, range_ioctls_older_struct)
{
	struct ntmem_range r;
	struct ntmem_query q;

	memset(&r, 0xff, sizeof(r));
	r.size = offsetof(struct ntmem_range, reserved0);
	r.flags = 0;
	r.addr = (uintptr_t)self->b + 8 * PAGE_SZ;
	r.length = PAGE_SZ;
	r.protect = NTMEM_PAGE_READONLY;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_COMMIT, &r));
	ASSERT_EQ(0, ntmem_query(self->fd, self->b + 8 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
}

TEST_F(args, protect_bad_args)
{
	const uint64_t b = (uintptr_t)self->b;
	struct snapshot before;
	struct {
		const char *what;
		uint64_t addr, length;
		uint32_t flags, protect;
		uint64_t res0, res1;
		uint32_t size;
		int err;
	} cases[] = {
		{ "addr + 1", b + 1, PAGE_SZ, .err = -EINVAL },
		{ "length 0x1001", b, PAGE_SZ + 1, .err = -EINVAL },
		{ "length 0", b, 0, .err = -EINVAL },
		{ "wraps", b, 0 - b, .err = -EINVAL },
		{ "past the user range", NTMEM_MAX_ADDRESS - PAGE_SZ,
		  2 * PAGE_SZ, .err = -EINVAL },
		{ "kernel addr", 0xffff888000000000ULL, PAGE_SZ,
		  .err = -EINVAL },
		{ "flags", b, PAGE_SZ, .flags = 1, .err = -EINVAL },
		{ "old_protect_out unmapped", b, PAGE_SZ, .res0 = 8,
		  .err = -EFAULT },
		{ "old_protect_out a kernel address", b, PAGE_SZ,
		  .res0 = 0xffff888000000000ULL, .err = -EFAULT },
		{ "old_protect_out in a reserved page", b, PAGE_SZ,
		  .res0 = b + 6 * PAGE_SZ, .err = -EFAULT },
		{ "old_protect_out in a read-only page", b, PAGE_SZ,
		  .res0 = b + 4 * PAGE_SZ, .err = -EFAULT },
		{ "reserved[0]", b, PAGE_SZ, .res1 = 1, .err = -EINVAL },
		{ "protect 0", b, PAGE_SZ, .protect = 0xffffffff,
		  .err = -EINVAL },
		{ "protect 0x03", b, PAGE_SZ, .protect = 0x03, .err = -EINVAL },
		{ "size 0", b, PAGE_SZ, .size = 0xffffffff, .err = -EINVAL },
		{ "range runs into reserved pages", b + 5 * PAGE_SZ,
		  2 * PAGE_SZ, .err = -ENODATA },
	};

	snap(_metadata, self->fd, self->b, &before);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntmem_protect p = {
			.size = sizeof(p),
			.flags = cases[i].flags,
			.addr = cases[i].addr,
			.length = cases[i].length,
			.protect = NTMEM_PAGE_READONLY,
			.old_protect_out = cases[i].res0,
			.reserved = { cases[i].res1 },
		};

		/* 0xffffffff marks "0" for the two fields zero-initialised. */
		if (cases[i].protect)
			p.protect = cases[i].protect == 0xffffffff ? 0 :
				    cases[i].protect;
		if (cases[i].size == 0xffffffff)
			p.size = 0;
		ASSERT_EQ(cases[i].err, ntmem_ioctl(self->fd, NTMEM_IOC_PROTECT,
						    &p))
			TH_LOG("PROTECT with %s", cases[i].what);
		same(_metadata, self->fd, self->b, &before, cases[i].what);
	}

	/* Newer struct, non-zero tail. */
	struct {
		struct ntmem_protect p;
		uint64_t tail[2];
	} big = { .p = { .size = sizeof(big), .addr = b, .length = PAGE_SZ,
			 .protect = NTMEM_PAGE_READONLY }, .tail = { 0, 2 } };
	ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, NTMEM_IOC_PROTECT, &big));
	same(_metadata, self->fd, self->b, &before, "PROTECT, larger struct");
	big.tail[1] = 0;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_PROTECT, &big));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, big.p.old_protect);
}

TEST_F(args, query_bad_args)
{
	struct {
		struct ntmem_query q;
		uint64_t tail[2];
	} big;
	struct ntmem_query q;
	unsigned char *bytes = (unsigned char *)&q;
	size_t older = offsetof(struct ntmem_query, info);

	memset(&q, 0, sizeof(q));
	q.addr = (uintptr_t)self->b;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));
	q.size = sizeof(q);
	q.flags = 1;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));
	q.flags = 0;
	q.info = 1ULL << 40;	/* nothing mapped there */
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));
	q.info = 0xffff888000000000ULL;
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));
	q.info = 0;
	q.addr = NTMEM_MAX_ADDRESS;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));

	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	big.q.addr = (uintptr_t)self->b;
	big.tail[1] = 1;
	ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &big));
	big.tail[1] = 0;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &big));
	ASSERT_EQ(4 * PAGE_SZ, big.q.region_size);
	ASSERT_EQ(0, big.tail[0] | big.tail[1]);

	/* Older struct: answered, nothing written past @size. */
	memset(&q, 0xcc, sizeof(q));
	memset(&q, 0, older);
	q.size = older;
	q.addr = (uintptr_t)self->b + 4 * PAGE_SZ;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	for (size_t i = older; i < sizeof(q); i++) {
		ASSERT_EQ(0xcc, bytes[i]) TH_LOG("byte %zu past size written",
						 i);
	}
}

/*
 * Output-only fields are written, not read: their values on input do not
 * matter (the header marks them "out", not reserved), so a caller may reuse
 * a struct, e.g. walk the address space with one ntmem_query.
 */
TEST_F(args, out_fields_ignored_on_input)
{
	struct ntmem_version v;
	struct ntmem_protect p;
	struct ntmem_query q, q2;

	memset(&v, 0xa5, sizeof(v));
	v.size = sizeof(v);
	v.reserved0 = 0;
	memset(v.reserved, 0, sizeof(v.reserved));
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &v))
		TH_LOG("VERSION with garbage in major/minor/features/...");
	ASSERT_EQ(NTMEM_API_MAJOR, v.major);
	ASSERT_EQ(PAGE_SZ, v.page_size);

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.addr = (uintptr_t)self->b;
	p.length = PAGE_SZ;
	p.protect = NTMEM_PAGE_READONLY;
	p.old_protect = 0x5a5a;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_PROTECT, &p))
		TH_LOG("PROTECT with garbage in old_protect");
	ASSERT_EQ(NTMEM_PAGE_READWRITE, p.old_protect);

	/* One struct reused for the next region, as a walk would. */
	ASSERT_EQ(0, ntmem_query(self->fd, self->b + PAGE_SZ, &q));
	q.addr = q.base + q.region_size;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q))
		TH_LOG("QUERY with the previous answer still in the struct");
	ASSERT_EQ(0, ntmem_query(self->fd, self->b + 4 * PAGE_SZ, &q2));
	ASSERT_EQ(0, memcmp(&q, &q2, sizeof(q)));
}

/*
 * The Win32 out-pointers (ABI 1.3) as uid 65534: pointers into the kernel
 * or at a read-only page are refused with EFAULT and the call changes
 * nothing; each return code is the child's first failed step.
 */
static int nobody_out_pointers(void *arg)
{
	const uint64_t kaddr = 0xffff888000000000ULL;
	struct ntmem_write_watch w;
	struct ntmem_protect p;
	struct ntmem_query q;
	void *addr = NULL;
	size_t len = 16 * PAGE_SZ;
	uint64_t count = 4;
	char *b;
	int fd;

	(void)arg;
	if (setgid(65534) || setuid(65534))
		return 1;
	fd = ntmem_open();
	if (fd < 0 || ntmem_reserve(fd, &addr, &len, NTMEM_RESERVE_WRITE_WATCH |
				    NTMEM_RESERVE_COMMIT, NTMEM_PAGE_READWRITE))
		return 2;
	b = addr;
	b[0] = 1;
	if (ntmem_protect(fd, b + PAGE_SZ, PAGE_SZ, NTMEM_PAGE_READONLY, NULL))
		return 3;
	p = (struct ntmem_protect){ .size = sizeof(p), .addr = (uintptr_t)b,
		.length = PAGE_SZ, .protect = NTMEM_PAGE_NOACCESS,
		.old_protect_out = kaddr };
	if (ntmem_ioctl(fd, NTMEM_IOC_PROTECT, &p) != -EFAULT)
		return 4;
	/* the same struct again: the failed call left it as it was */
	p.old_protect_out = (uintptr_t)(b + PAGE_SZ);
	if (ntmem_ioctl(fd, NTMEM_IOC_PROTECT, &p) != -EFAULT)
		return 5;
	if (b[0] != 1)		/* still READWRITE */
		return 6;
	q = (struct ntmem_query){ .size = sizeof(q), .addr = (uintptr_t)b,
		.info = kaddr };
	if (ntmem_ioctl(fd, NTMEM_IOC_QUERY, &q) != -EFAULT)
		return 7;
	w = (struct ntmem_write_watch){ .size = sizeof(w),
		.flags = NTMEM_WRITE_WATCH_RESET, .addr = (uintptr_t)b,
		.length = len, .pages = (uintptr_t)&count, .count_out = kaddr };
	if (ntmem_ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w) != -EFAULT)
		return 8;
	w.count_out = (uintptr_t)&count;
	w.granularity_out = kaddr;
	if (ntmem_ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w) != -EFAULT)
		return 9;
	/* nothing was reset: the written page is still reported */
	w.granularity_out = 0;
	count = 1;
	if (ntmem_ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w) || count != 1)
		return 10;
	return 0;
}

TEST(unprivileged_out_pointers_efault)
{
	if (getuid() != 0)
		SKIP(return, "needs root to become uid 65534");
	ASSERT_EQ(0, run_in_child(nobody_out_pointers, NULL));
}

TEST_HARNESS_MAIN
