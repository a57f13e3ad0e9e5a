// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /dev/ntmem, opened once per process.  The fd is bound to the address
 * space that opened it (another one gets EBADFD), so a forked child must
 * open its own.  Checking the owner costs no system call: fork() is seen
 * by the pthread_atfork() child handler, which drops the parent's fd; a
 * child made by a raw clone() without it gets EBADFD from its first call,
 * which opens a new fd and makes the call again.  A missing device makes
 * every call fail with ERROR_NOT_SUPPORTED; the first failure prints one
 * hint on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static pthread_once_t device_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set under device_lock, or by compare-and-swap after a raw clone. */
static int device_fd = -1;
static int hint_printed;
static uint64_t device_features;

static void hint(const char *what, int err)
{
	if (__atomic_exchange_n(&hint_printed, 1, __ATOMIC_RELAXED))
		return;
	fprintf(stderr, "libntmem: %s: %s (is the ntmem module loaded? "
		"try 'modprobe ntmem')\n", what, strerror(err));
}

/*
 * Open and check the ABI major; fd or -errno.
 * Whatever keeps the device from opening (missing, no permission) is
 * ENODEV to the callers, so that it reads as ERROR_NOT_SUPPORTED rather
 * than as what the same errno means from an ioctl; only ENOMEM stays.
 */
static int device_open(void)
{
	struct ntmem_version v = { .size = sizeof(v) };
	int fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		hint(NTMEM_DEVICE, err);
		return err == ENOMEM ? -ENOMEM : -ENODEV;
	}
	if (ioctl(fd, NTMEM_IOC_VERSION, &v) || v.major != NTMEM_API_MAJOR ||
	    v.page_size != NTMEM__PAGE) {
		close(fd);
		hint(NTMEM_DEVICE " speaks another ABI", EPROTO);
		return -EPROTO;
	}
	__atomic_store_n(&device_features, v.features, __ATOMIC_RELAXED);
	return fd;
}

/* Open for this process unless open already; under device_lock. */
static int device_reopen(void)
{
	int fd = __atomic_load_n(&device_fd, __ATOMIC_ACQUIRE);

	if (fd >= 0)
		return fd;
	fd = device_open();
	if (fd >= 0)
		__atomic_store_n(&device_fd, fd, __ATOMIC_RELEASE);
	return fd;
}

/* fork() with device_lock held by another thread must not deadlock. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&device_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&device_lock);
}

/* The parent's fd is useless here (EBADFD): drop it. */
static void atfork_child(void)
{
	pthread_mutex_init(&device_lock, NULL);
	if (device_fd >= 0)
		close(device_fd);
	device_fd = -1;
}

static void device_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	pthread_mutex_lock(&device_lock);
	device_reopen();
	pthread_mutex_unlock(&device_lock);
}

int ntmem__fd(void)
{
	int fd;

	pthread_once(&device_once, device_init);
	fd = __atomic_load_n(&device_fd, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		return fd;
	pthread_mutex_lock(&device_lock);
	fd = device_reopen();
	pthread_mutex_unlock(&device_lock);
	return fd;
}

bool ntmem__has(uint64_t feature)
{
	return ntmem__fd() >= 0 &&
	       (__atomic_load_n(&device_features, __ATOMIC_RELAXED) & feature);
}

int ntmem__fd_if_open(void)
{
	return __atomic_load_n(&device_fd, __ATOMIC_ACQUIRE);
}

/*
 * @stale gave EBADFD: this process was made by a clone() that ran no
 * pthread_atfork() handler, so it holds the fd of the process it came
 * from.  Without device_lock, which that clone may have copied held: open
 * a new fd and swap it in unless another thread did first.  The stale fd
 * stays open, since the fd table may still be shared with its owner
 * (CLONE_FILES).
 */
static int device_replace(int stale)
{
	int fd = device_open();

	if (fd < 0)
		return fd;
	if (!__atomic_compare_exchange_n(&device_fd, &stale, fd, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);
		return stale;	/* the winner's fd */
	}
	return fd;
}

int ntmem__ioctl(unsigned long cmd, void *arg)
{
	int fd = ntmem__fd();

	if (fd < 0)
		return fd;
	if (!ioctl(fd, cmd, arg))
		return 0;
	if (errno != EBADFD)
		return -errno;
	fd = device_replace(fd);
	if (fd < 0)
		return fd;
	return ioctl(fd, cmd, arg) ? -errno : 0;
}
