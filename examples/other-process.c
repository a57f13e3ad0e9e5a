// SPDX-License-Identifier: GPL-2.0
/*
 * Another process's memory with the Win32 calls, as a debugger or a
 * launcher uses them: OpenProcess on a child (which never calls ntmem
 * itself), VirtualAllocEx there, WriteProcessMemory, VirtualQueryEx,
 * VirtualProtectEx, and the child reads the bytes in its own memory.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ntmem/windows.h>

/* The write faulted: say so (async-signal-safe), and where, by the status. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "    child: SIGSEGV on its write\n";

	(void)sig;
	(void)uc;
	(void)si;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(12);
	_exit(11);
}

/* The child: wait for an address, print what is there, fault on a write. */
static int child(int from_parent)
{
	struct sigaction sa = { .sa_sigaction = on_segv,
				.sa_flags = SA_SIGINFO };
	char *p;

	sigaction(SIGSEGV, &sa, NULL);
	if (read(from_parent, &p, sizeof(p)) != sizeof(p))
		return 1;
	printf("    child %d reads its own memory at %p: \"%s\"\n", getpid(),
	       (void *)p, p);
	fflush(stdout);	/* before the fault: the handler writes directly */
	p[0] = 'X';		/* the parent made it read-only: SIGSEGV */
	return 0;
}

int main(void)
{
	static const char text[] = "written by the parent";
	MEMORY_BASIC_INFORMATION m;
	int pipefd[2], status;
	DWORD old;
	HANDLE h;
	pid_t pid;
	char *p;

	if (pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0)
		return child(pipefd[0]);
	printf("1. OpenProcess(PROCESS_VM_OPERATION | VM_READ | VM_WRITE | QUERY, %d)\n",
	       pid);
	h = OpenProcess(PROCESS_VM_OPERATION | PROCESS_VM_READ |
			PROCESS_VM_WRITE | PROCESS_QUERY_INFORMATION, FALSE,
			pid);
	if (!h) {
		printf("    failed: %u\n", GetLastError());
		kill(pid, SIGKILL);
		return 1;
	}
	printf("    handle %p, GetProcessId %u\n", h, GetProcessId(h));

	p = VirtualAllocEx(h, NULL, 64 * 1024, MEM_RESERVE | MEM_COMMIT,
			   PAGE_READWRITE);
	printf("2. VirtualAllocEx 64 KiB in the child: %p\n", (void *)p);
	if (!p || !WriteProcessMemory(h, p, text, sizeof(text), NULL))
		return 1;
	printf("3. WriteProcessMemory \"%s\"\n", text);
	if (VirtualQueryEx(h, p, &m, sizeof(m)) != sizeof(m))
		return 1;
	printf("4. VirtualQueryEx: base %p, %zu KiB, state %s, protect 0x%x\n",
	       m.BaseAddress, (size_t)m.RegionSize / 1024,
	       m.State == MEM_COMMIT ? "MEM_COMMIT" : "?", m.Protect);
	if (!VirtualProtectEx(h, p, 4096, PAGE_READONLY, &old))
		return 1;
	printf("5. VirtualProtectEx first page READONLY (was 0x%x)\n", old);
	fflush(stdout);

	if (write(pipefd[1], &p, sizeof(p)) != sizeof(p))
		return 1;
	waitpid(pid, &status, 0);
	printf("6. the child's write to it: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 11 ?
	       "refused, as the protection says" : "not refused!");
	CloseHandle(h);
	return 0;
}
