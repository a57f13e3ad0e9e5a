// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Process handles (spec 2.4).  The calling process is the pseudo-handle
 * (HANDLE)-1 of GetCurrentProcess(), served by this process's /dev/ntmem
 * descriptor.  Another process is an OpenProcess() handle: a *process
 * descriptor* of the kernel's (NTMEM_IOC_OPEN_PROCESS), encoded as a
 * section's descriptor is (handle.c), which takes the same ioctls and
 * makes them act on that process's address space.  Linux decides who may
 * open whom: OpenProcess opens /proc/PID/mem, the ptrace-attach check
 * with the LSM's say (Yama's ptrace_scope among them), and hands that
 * file to the kernel.  Every ...Ex call takes either kind of handle; any
 * other value (NULL, a section's handle, a closed descriptor) fails with
 * ERROR_INVALID_HANDLE before anything else is checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define CURRENT_PROCESS	((HANDLE)(LONG_PTR)-1)

/* What the kernel knows of a process handle's access. */
#define KNOWN_ACCESS	(PROCESS_VM_OPERATION | PROCESS_VM_READ | \
			 PROCESS_VM_WRITE | PROCESS_QUERY_INFORMATION | \
			 PROCESS_QUERY_LIMITED_INFORMATION)
/* ... and what of it changes the process's memory (a writable mem file) */
#define CHANGE_ACCESS	(PROCESS_VM_OPERATION | PROCESS_VM_WRITE)

/* Windows' generic mapping of process objects. */
#define PROCESS_GENERIC_READ	(READ_CONTROL | PROCESS_VM_READ | \
				 PROCESS_QUERY_INFORMATION)
#define PROCESS_GENERIC_WRITE	(READ_CONTROL | PROCESS_SUSPEND_RESUME | \
				 PROCESS_SET_INFORMATION | \
				 PROCESS_SET_QUOTA | PROCESS_CREATE_PROCESS | \
				 PROCESS_DUP_HANDLE | PROCESS_VM_WRITE | \
				 PROCESS_VM_OPERATION | PROCESS_CREATE_THREAD)
#define PROCESS_GENERIC_EXECUTE	(SYNCHRONIZE | READ_CONTROL | \
				 PROCESS_QUERY_LIMITED_INFORMATION | \
				 PROCESS_TERMINATE)

HANDLE GetCurrentProcess(void)
{
	return CURRENT_PROCESS;
}

DWORD GetCurrentProcessId(void)
{
	return (DWORD)getpid();
}

bool ntmem__is_current_process(HANDLE h)
{
	return h == CURRENT_PROCESS;
}

/*
 * A process descriptor answers VERSION (also, perhaps with ESRCH, once
 * its process is gone); a section's descriptor, a file or a closed
 * descriptor does not.
 */
DWORD ntmem__process(HANDLE h, int *proc)
{
	struct ntmem_version v = { .size = sizeof(v) };
	int fd;

	if (h == CURRENT_PROCESS) {
		*proc = NTMEM__SELF;
		return 0;
	}
	fd = ntmem__fd_from_handle(h);
	if (fd < 0 || (ioctl(fd, NTMEM_IOC_VERSION, &v) && errno != ESRCH))
		return ERROR_INVALID_HANDLE;
	*proc = fd;
	return 0;
}

bool ntmem__current_process_only(HANDLE h)
{
	int proc;
	DWORD code = ntmem__process(h, &proc);

	if (!code && proc != NTMEM__SELF)
		code = ERROR_NOT_SUPPORTED;
	if (code)
		ntmem__fail(code);
	return !code;
}

int ntmem__process_ioctl(int proc, unsigned long cmd, void *arg)
{
	int err;

	if (proc == NTMEM__SELF)
		return ntmem__ioctl(cmd, arg);
	if (!ioctl(proc, cmd, arg))
		return 0;
	err = errno;
	switch (err) {
	case EBADF:	/* closed meanwhile */
	case ENOTTY:	/* not a process descriptor, or not its call */
	case EBADFD:
		return -NTMEM__EHANDLE;
	case ESRCH:	/* exited or exec'd: Windows' "process is terminating" */
		return -NTMEM__EDENIED;
	case EACCES:
		/*
		 * COMMIT and PROTECT also refuse more than a view's access
		 * allows.  The handle's access is checked before the
		 * arguments are read: a call without them tells the two apart.
		 */
		if ((cmd == NTMEM_IOC_COMMIT || cmd == NTMEM_IOC_PROTECT) &&
		    !(ioctl(proc, cmd, NULL) && errno == EACCES))
			return -EACCES;
		return -NTMEM__EDENIED;
	default:
		return -err;
	}
}

/*
 * The access the kernel is asked for (0: none it knows).  Generic rights
 * map as Windows maps them for processes; MAXIMUM_ALLOWED asks for all
 * (open_process() then settles for what reading gives).
 */
static uint32_t kernel_access(DWORD access)
{
	if (access & GENERIC_READ)
		access |= PROCESS_GENERIC_READ;
	if (access & GENERIC_WRITE)
		access |= PROCESS_GENERIC_WRITE;
	if (access & GENERIC_EXECUTE)
		access |= PROCESS_GENERIC_EXECUTE;
	if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
		access |= PROCESS_ALL_ACCESS;
	/* as on Windows, full query rights include the limited ones */
	if (access & PROCESS_QUERY_INFORMATION)
		access |= PROCESS_QUERY_LIMITED_INFORMATION;
	return access & KNOWN_ACCESS;
}

/* OPEN_PROCESS of @pid with @access: the descriptor, or -errno. */
static int open_process(pid_t pid, uint32_t access)
{
	struct ntmem_process p = {
		.size = sizeof(p),
		.pid = pid,
		.access = access,
	};
	char path[32];
	int mem, err;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, (access & CHANGE_ACCESS ? O_RDWR : O_RDONLY) |
		   O_CLOEXEC);
	if (mem < 0)
		return -errno;
	p.mem_fd = mem;
	err = ntmem__ioctl(NTMEM_IOC_OPEN_PROCESS, &p);
	close(mem);
	return err ? err : p.fd;
}

/* procfs is mounted (else no process can be opened). */
static bool access_ok_proc(void)
{
	return !access("/proc/self/mem", F_OK);
}

HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle,
		   DWORD dwProcessId)
{
	uint32_t access = kernel_access(dwDesiredAccess);
	int fd;

	/* 0 is the idle process, which no one opens */
	if (!dwProcessId || dwProcessId > INT_MAX) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	/* an older module, or only rights ntmem has no use for */
	if (!ntmem__has(NTMEM_FEATURE_PROCESSES) || !access) {
		ntmem__fail(ERROR_NOT_SUPPORTED);
		return NULL;
	}
	fd = open_process((pid_t)dwProcessId, access);
	if ((fd == -EACCES || fd == -EPERM) &&
	    (dwDesiredAccess & MAXIMUM_ALLOWED)) {
		access &= ~(uint32_t)CHANGE_ACCESS;
		fd = open_process((pid_t)dwProcessId, access);
	}
	if (fd >= 0) {
		if (bInheritHandle)	/* cannot fail on our descriptor */
			fcntl(fd, F_SETFD, 0);
		return ntmem__handle_from_fd(fd);
	}
	switch (-fd) {
	case EACCES:	/* the ptrace check, the LSM, the file's mode */
	case EPERM:
		ntmem__fail(ERROR_ACCESS_DENIED);
		break;
	case ENOENT:	/* no such process -- or no /proc at all */
		ntmem__fail(access_ok_proc() ? ERROR_INVALID_PARAMETER :
			    ERROR_NOT_SUPPORTED);
		break;
	case ESRCH:	/* gone meanwhile, a zombie, or a thread's id */
	case EINVAL:
		ntmem__fail(ERROR_INVALID_PARAMETER);
		break;
	case EMFILE:
	case ENFILE:
		ntmem__fail(ERROR_TOO_MANY_OPEN_FILES);
		break;
	default:
		ntmem__fail(ntmem__error_from_errno(fd, ERROR_INVALID_PARAMETER));
		break;
	}
	return NULL;
}

/*
 * The id of a process handle's process, from the descriptor's
 * /proc/self/fdinfo entry ("Pid:", as a pidfd shows it): 0 if the process
 * is not in the caller's pid namespace.
 */
DWORD GetProcessId(HANDLE Process)
{
	char path[64], text[256], *line;
	int proc, fd;
	DWORD code;
	ssize_t n;

	code = ntmem__process(Process, &proc);
	if (code) {
		ntmem__fail(code);
		return 0;
	}
	if (proc == NTMEM__SELF)
		return (DWORD)getpid();
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", proc);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		text[n] = '\0';
		line = strstr(text, "\nPid:");
		if (line)
			return (DWORD)strtoul(line + 6, NULL, 10);
	}
	ntmem__fail(ERROR_NOT_SUPPORTED);	/* an older module */
	return 0;
}

