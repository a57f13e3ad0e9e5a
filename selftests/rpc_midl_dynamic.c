// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 5.2, linked dynamically: a program that defines its own
 * MIDL_user_allocate/MIDL_user_free, linked with libntmem.so and a shared
 * library of stubs that calls them, builds without a linker error, and
 * both its calls and the stubs' reach its pair; a program without its own
 * gets libntmem's default (the process heap) everywhere.  The programs
 * are built into midl_dynamic/ next to this test, with libntmem.so.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* Run midl_dynamic/@prog; its exit status, or -1. */
static int run_dynamic(const char *prog)
{
	char dir[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	pid_t pid;
	int status;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/midl_dynamic/%s", dir, prog);
	pid = fork();
	if (pid == 0) {
		execl(path, prog, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(program_pair_reaches_every_caller)
{
	ASSERT_EQ(0, run_dynamic("app-own-pair"));
}

TEST(default_pair_when_the_program_has_none)
{
	ASSERT_EQ(0, run_dynamic("app-default-pair"));
}

TEST_HARNESS_MAIN
