// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /dev/ntmem, opened once per process.  The fd is bound to the address
 * space that opened it (another one gets EBADFD), so a forked child must
 * open its own: the fd is reopened whenever getpid() differs from the pid
 * that opened it.  A missing device makes every call fail with
 * ERROR_NOT_SUPPORTED; the first failure prints one hint on stderr.
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
/* Written under device_lock; read without it (pid last, with release). */
static int device_fd = -1;
static pid_t device_pid;
static int hint_printed;

static void hint(const char *what, int err)
{
	if (__atomic_exchange_n(&hint_printed, 1, __ATOMIC_RELAXED))
		return;
	fprintf(stderr, "libntmem: %s: %s (is the ntmem module loaded? "
		"try 'modprobe ntmem')\n", what, strerror(err));
}

/*
 * Open and check the ABI major; fd or -errno.  Called under device_lock.
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
	return fd;
}

/* (Re)open for this process; under device_lock. */
static int device_reopen(pid_t me)
{
	int fd;

	if (device_pid == me && device_fd >= 0)
		return device_fd;
	/* The parent's fd is useless here (EBADFD): drop it. */
	if (device_fd >= 0)
		close(device_fd);
	device_fd = -1;
	fd = device_open();
	if (fd < 0)
		return fd;
	device_fd = fd;
	__atomic_store_n(&device_pid, me, __ATOMIC_RELEASE);
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

static void atfork_child(void)
{
	pthread_mutex_init(&device_lock, NULL);
	device_pid = 0;		/* a recycled pid must not match either */
}

static void device_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	pthread_mutex_lock(&device_lock);
	device_reopen(getpid());
	pthread_mutex_unlock(&device_lock);
}

int ntmem__fd(void)
{
	pid_t me;
	int fd;

	pthread_once(&device_once, device_init);
	me = getpid();
	if (__atomic_load_n(&device_pid, __ATOMIC_ACQUIRE) == me)
		return device_fd;
	pthread_mutex_lock(&device_lock);
	fd = device_reopen(me);
	pthread_mutex_unlock(&device_lock);
	return fd;
}

int ntmem__fd_if_open(void)
{
	/* getpid() is async-signal-safe; the fd was stored before the pid. */
	if (__atomic_load_n(&device_pid, __ATOMIC_ACQUIRE) != getpid())
		return -1;
	return device_fd;
}

int ntmem__ioctl(unsigned long cmd, void *arg)
{
	int fd = ntmem__fd();

	if (fd < 0)
		return fd;
	return ioctl(fd, cmd, arg) ? -errno : 0;
}
