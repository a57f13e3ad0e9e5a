// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: the ntmem model-based fuzzer.
 *
 *   fuzz [--seed N] [--seconds S] [--ops N] [--win32|--ioctl|--both]
 *        [--known|--known=LIST|--no-known] [--chaos [--threads N]]
 *        [--fail-nth] [--inject [P]]
 *        [--replay FILE] [--verbose]
 *
 * --known (the default) expects the defects of issue 11 that are not fixed
 * yet (KNOWN_ALL in fuzz.h: none now).  --known=LIST expects those items
 * of the ones the model knows, for a module from before their fix: 2 (a
 * syscall's uaccess consumes a guard page and succeeds), 3 (a
 * kernel-consumed guard still answered by GUARD_HIT), 4 (GET_WRITE_WATCH
 * with RESET loses pages when its output faults), 5 (a failed
 * process_vm_writev marks the page written).  --no-known: none.
 *
 * --inject P (0.05 if P is left out) arms fail-nth around an op's module
 * call with probability P (inject.c); a replayed op line with inject=N is
 * armed whatever the options.  Needs CONFIG_FAULT_INJECTION.
 *
 * Prints the seed first and a line of counts last; exits 1 on a
 * divergence (after printing the shrunk op list), 4 if it cannot run here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_main(const struct fz_opts *o, uint64_t (*now)(void));
int replay_main(const struct fz_opts *o);

static uint64_t now_ns_(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void usage(void) __attribute__((noreturn));

/* "2,4": expect only those issue-11 items. */
static unsigned known_list(const char *s)
{
	unsigned m = 0;

	while (*s) {
		char *end;
		long n = strtol(s, &end, 10);

		if (end == s || !(KNOWN_ITEMS & (1u << (n & 31))))
			usage();
		m |= 1u << n;
		s = *end == ',' ? end + 1 : end;
	}
	return m;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fuzz [--seed N] [--seconds S] [--ops N] [--win32|--ioctl|--both]\n"
		"            [--known|--known=2,3,...|--no-known] [--chaos [--threads N]] [--fail-nth]\n"
		"            [--inject [P]]\n"
		"            [--replay FILE] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct fz_opts o = { .mode = MODE_BOTH, .known = KNOWN_ALL, .threads = 4,
			     .seconds = 10 };
	bool have_seed = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v)
			o.seed = strtoull(v, NULL, 0), have_seed = true, i++;
		else if (!strcmp(a, "--seconds") && v)
			o.seconds = atof(v), i++;
		else if (!strcmp(a, "--ops") && v)
			o.ops = atol(v), i++;
		else if (!strcmp(a, "--threads") && v)
			o.threads = atoi(v), i++;
		else if (!strcmp(a, "--replay") && v)
			o.replay = v, i++;
		else if (!strcmp(a, "--win32"))
			o.mode = MODE_WIN32;
		else if (!strcmp(a, "--ioctl"))
			o.mode = MODE_IOCTL;
		else if (!strcmp(a, "--both"))
			o.mode = MODE_BOTH;
		else if (!strcmp(a, "--known"))
			o.known = KNOWN_ALL;
		else if (!strncmp(a, "--known=", 8))
			o.known = known_list(a + 8);
		else if (!strcmp(a, "--no-known"))
			o.known = 0;
		else if (!strcmp(a, "--chaos"))
			o.chaos = true;
		else if (!strcmp(a, "--fail-nth"))
			o.fail_nth = true;
		else if (!strcmp(a, "--inject") && v && strtod(v, NULL) > 0)
			o.inject = atof(v), i++;
		else if (!strcmp(a, "--inject"))
			o.inject = 0.05;
		else if (!strcmp(a, "--verbose"))
			o.verbose = true;
		else
			usage();
	}
	if (!have_seed)
		o.seed = now_ns_() % 1000000007ULL;
	printf("fuzz: seed %llu\n", (unsigned long long)o.seed);
	fflush(stdout);
	if (access(NTMEM_DEVICE, R_OK | W_OK)) {
		printf("fuzz: %s: %s (module not loaded?): skipped\n",
		       NTMEM_DEVICE, strerror(errno));
		return 4;
	}
	if (o.inject > 0 && !o.replay && !o.fail_nth && !o.chaos) {
		int nth = nth_open();

		if (nth < 0) {
			printf("fuzz: --inject: no /proc/thread-self/fail-nth (needs CONFIG_FAULT_INJECTION, the debug kernel): skipped\n");
			return 4;
		}
		close(nth);
		printf("fuzz: injecting allocation failures into %.3g of the ops\n",
		       o.inject);
	}
	if (o.replay)
		return replay_main(&o);
	if (o.fail_nth)
		return failnth_run(&o);
	if (o.chaos)
		return chaos_run(&o);
	return fuzz_main(&o, now_ns_);
}
