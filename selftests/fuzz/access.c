// SPDX-License-Identifier: GPL-2.0
/*
 * Real accesses that may fault: sigsetjmp around one 8-byte load, store or
 * call, with the SIGSEGV handler reporting si_addr.  Thread-safe (chaos
 * threads fault too).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "fuzz.h"

static __thread sigjmp_buf env;
static __thread volatile sig_atomic_t armed;
static __thread siginfo_t last_si;
static __thread volatile int last_sig;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!armed) {
		signal(sig, SIG_DFL);	/* not ours: die of it */
		return;
	}
	armed = 0;
	last_si = *si;
	last_sig = sig;
	siglongjmp(env, 1);
}

static void install(void)
{
	struct sigaction sa = { .sa_sigaction = handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Install the handler.  inject_arm() calls it first: an armed fail-nth
 * must meet no system call of the fuzzer's own before the access (an
 * injected failure in rt_sigaction left the process without a handler).
 */
void fz_access_init(void)
{
	pthread_once(&once, install);
}

/* No system call between here and the access: sigsetjmp keeps no mask. */
void *fz_access(enum fz_access a, uintptr_t addr, uint64_t *val, int *sig,
		siginfo_t *si)
{
	fz_access_init();
	if (sigsetjmp(env, 0)) {
		*sig = last_sig;
		if (si)
			*si = last_si;
		return last_si.si_addr;
	}
	armed = 1;
	switch (a) {
	case A_READ:
		*val = *(volatile uint64_t *)addr;
		break;
	case A_WRITE:
		*(volatile uint64_t *)addr = *val;
		break;
	case A_EXEC:
		*val = (uint64_t)((int (*)(void))addr)();
		break;
	}
	armed = 0;
	*sig = 0;
	return NULL;
}
