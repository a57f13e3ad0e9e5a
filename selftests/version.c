// SPDX-License-Identifier: GPL-2.0
/*
 * The device itself: the VERSION handshake, who may open /dev/ntmem, and
 * what an unknown command gets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

NTMEM_FD_FIXTURE(version);

TEST_F(version, reports_abi)
{
	struct ntmem_version v;

	ASSERT_EQ(0, ntmem_version(self->fd, &v));
	ASSERT_EQ(NTMEM_API_MAJOR, v.major);
	ASSERT_EQ(NTMEM_API_MINOR, v.minor);
	ASSERT_EQ((uint64_t)sysconf(_SC_PAGESIZE), v.page_size);
	ASSERT_EQ(NTMEM_GRANULARITY, v.granularity);
	ASSERT_EQ(sizeof(v), v.size);
	ASSERT_EQ(0, v.reserved0);
	ASSERT_EQ(0, v.reserved[0] | v.reserved[1] | v.reserved[2]);
	/* No feature bits this header does not know. */
	ASSERT_EQ(0, v.features & ~(NTMEM_FEATURE_RESET | NTMEM_FEATURE_GUARD |
				     NTMEM_FEATURE_EXEC |
				     NTMEM_FEATURE_WRITE_WATCH |
				     NTMEM_FEATURE_LOCK |
				     NTMEM_FEATURE_LARGE_PAGES |
				     NTMEM_FEATURE_USER_OUT |
				     NTMEM_FEATURE_DECOMMIT_WHOLE |
				     NTMEM_FEATURE_SECTIONS |
				     NTMEM_FEATURE_PLACEHOLDERS |
				     NTMEM_FEATURE_PROCESSES));
	TH_LOG("module ABI %u.%u, features 0x%llx", v.major, v.minor,
	       (unsigned long long)v.features);
}

TEST_F(version, struct_size_rules)
{
	struct {
		struct ntmem_version v;
		uint64_t tail[4];
	} big;
	struct ntmem_version v;
	unsigned char *b = (unsigned char *)&v;
	size_t small = offsetof(struct ntmem_version, page_size);

	/* size 0 is malformed. */
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &v));

	/* Reserved input fields must be zero. */
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.reserved0 = 1;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &v));
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.reserved[2] = 1;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &v));

	/* A newer, larger struct: zero tail accepted, non-zero tail E2BIG. */
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &big));
	ASSERT_EQ(NTMEM_API_MAJOR, big.v.major);
	ASSERT_EQ(0, big.tail[0] | big.tail[1] | big.tail[2] | big.tail[3]);
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.tail[3] = 1;
	ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &big));

	/* An older, smaller struct: accepted, nothing written past it. */
	memset(&v, 0xcc, sizeof(v));
	memset(&v, 0, small);
	v.size = small;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, &v));
	ASSERT_EQ(NTMEM_API_MAJOR, v.major);
	for (size_t i = small; i < sizeof(v); i++) {
		ASSERT_EQ(0xcc, b[i]) TH_LOG("byte %zu past size written", i);
	}
}

TEST_F(version, unknown_ioctl_enotty)
{
	struct ntmem_range r = { .size = sizeof(r) };
	char buf[256] = { 0 };

	ASSERT_EQ(-ENOTTY, ntmem_ioctl(self->fd,
			_IOWR(NTMEM_IOC_MAGIC, 0x40, struct ntmem_range), &r));
	ASSERT_EQ(-ENOTTY, ntmem_ioctl(self->fd,
			_IOWR(NTMEM_IOC_MAGIC, 0x7f, struct ntmem_range), &r));
	ASSERT_EQ(-ENOTTY, ntmem_ioctl(self->fd,
			_IOWR(NTMEM_IOC_MAGIC + 1, 0x01, struct ntmem_range),
			&r));
	ASSERT_EQ(-ENOTTY, ntmem_ioctl(self->fd, _IO('x', 1), buf));
	ASSERT_EQ(-ENOTTY, ntmem_ioctl(self->fd, 0, buf));
}

TEST_F(version, bad_pointer_efault)
{
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_VERSION, NULL));
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, NULL));
	ASSERT_EQ(-EFAULT, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY,
				       (void *)0x10));
}

static int unprivileged_use(void *arg)
{
	void *p;
	int fd;

	(void)arg;
	if (setgid(65534) || setuid(65534))
		return 10;
	fd = ntmem_open();
	if (fd < 0)
		return 11;
	p = ntmem_reserve_any(fd, 64 * KiB);
	if (!p)
		return 12;
	if (ntmem_commit(fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE, 0))
		return 13;
	*(volatile char *)p = 1;
	if (ntmem_release(fd, p, 0))
		return 14;
	return 0;
}

TEST_F(version, device_usable_by_anyone)
{
	struct stat st;

	ASSERT_EQ(0, stat(NTMEM_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0666, st.st_mode & 07777);
	if (getuid() != 0)
		SKIP(return, "needs root to become uid 65534");
	ASSERT_EQ(0, run_in_child(unprivileged_use, NULL));
}

TEST_HARNESS_MAIN
