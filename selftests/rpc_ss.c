// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.13: the RpcSs package (cases 153-168, spec 5.3-5.6), plus the
 * rules of 5.4 the numbered cases leave out: refusals, dead handles,
 * non-owners, big blocks, fork, and an arena that gives its memory back
 * to the system in one cheap step however many blocks it holds.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ntmem/rpc.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* ---- raising ---------------------------------------------------------- */

static __thread sigjmp_buf raise_jmp;
static __thread volatile RPC_STATUS raised;
static __thread volatile int raises;
static void **volatile watched_ctx;	/* case 165: read in the handler */
static void *volatile ctx_in_handler;

static void on_raise(RPC_STATUS code)
{
	raised = code;
	raises++;
	if (watched_ctx)
		ctx_in_handler = *watched_ctx;
	siglongjmp(raise_jmp, 1);
}

/* Runs @stmt with on_raise installed; afterwards raises/raised tell. */
#define CATCH(stmt) do {						\
	raises = 0;							\
	raised = 0;							\
	NtmemSetRpcRaiseHandler(on_raise);				\
	if (sigsetjmp(raise_jmp, 0) == 0) {				\
		stmt;							\
	}								\
	NtmemSetRpcRaiseHandler(NULL);					\
} while (0)

/* ---- helpers ---------------------------------------------------------- */

static void *sm_alloc_ok(struct __test_metadata *_metadata, size_t n)
{
	RPC_STATUS st = -1;
	void *p = RpcSmAllocate(n, &st);

	ASSERT_NE(NULL, p) TH_LOG("RpcSmAllocate(%zu): %d", n, st);
	ASSERT_EQ(RPC_S_OK, st);
	ASSERT_EQ(0, (uintptr_t)p % 16);
	return p;
}

/* The memory of an arena, once disabled, is not there any more. */
static void assert_released(struct __test_metadata *_metadata, void *p)
{
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, p, &m);
	ASSERT_EQ(MEM_FREE, m.State) TH_LOG("%p still %#x", p, m.State);
}

static void assert_committed(struct __test_metadata *_metadata, void *p)
{
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, p, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(MEM_PRIVATE, m.Type);
}

/* Bytes of malloc memory in use: what a leak checker would look at. */
static size_t malloc_in_use(void)
{
	return mallinfo2().uordblks;
}

/* One-time set-up (the device, fork and exit hooks) is not a leak: get
 * it done before measuring.  And glibc's calloc never takes from the
 * per-thread cache (7 blocks a size) that free fills first and mallinfo
 * counts as in use: fill it, so that a freed environment shows. */
static void warm_up_package(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		RpcSmEnableAllocate();
		RpcSmAllocate(1, NULL);
		RpcSmDisableAllocate();
	}
	ntmem_counter("committed_pages");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- rpc.h ------------------------------------------------------------- */

static RPC_CLIENT_ALLOC *const ss_alloc = RpcSsAllocate;
static RPC_CLIENT_FREE *const ss_free = RpcSsFree;

/* Spec 1.6 and 5.1: the values, and RPC_STATUS is 32 bits and signed. */
TEST(rpc_h_values)
{
	ASSERT_EQ(4, sizeof(RPC_STATUS));
	ASSERT_GT(0, (RPC_STATUS)-1);
	ASSERT_EQ(0, RPC_S_OK);
	ASSERT_EQ(87, RPC_S_INVALID_ARG);
	ASSERT_EQ(14, RPC_S_OUT_OF_MEMORY);
	ASSERT_EQ(14, RPC_X_NO_MEMORY);
	ASSERT_EQ(6, RPC_X_SS_CONTEXT_MISMATCH);
	ASSERT_EQ(1775, RPC_X_SS_IN_NULL_CONTEXT);
	ASSERT_EQ(1783, RPC_X_BAD_STUB_DATA);
	ASSERT_EQ(sizeof(void *), sizeof(RPC_SS_THREAD_HANDLE));
	/* RpcSsAllocate/RpcSsFree are a client pair as they are: no cast
	 * (the build fails if the types differ). */
	ASSERT_TRUE(ss_alloc == RpcSsAllocate);
	ASSERT_TRUE(ss_free == RpcSsFree);
}

/* ---- cases 153-157: environments -------------------------------------- */

TEST(case_153)
{
	RPC_STATUS st = -1;
	void *p;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	p = RpcSmAllocate(100, &st);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(RPC_S_OK, st);
	ASSERT_EQ(0, (uintptr_t)p % 8);
	ASSERT_EQ(RPC_S_OK, RpcSmFree(p));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

TEST(case_154)
{
	long before = ntmem_counter("committed_pages");
	void *first = NULL, *last = NULL;
	size_t in_use;
	int i;

	warm_up_package();
	in_use = malloc_in_use();

	ASSERT_LE(0, before);
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	for (i = 0; i < 10000; i++) {
		last = sm_alloc_ok(_metadata, 64);
		memset(last, i, 64);
		if (!first)
			first = last;
	}
	ASSERT_LT(before, ntmem_counter("committed_pages"));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(before, ntmem_counter("committed_pages"));
	ASSERT_EQ(in_use, malloc_in_use());
	assert_released(_metadata, first);
	assert_released(_metadata, last);
}

static void *case_155_thread(void *arg)
{
	RPC_STATUS *st = arg;

	return RpcSmGetThreadHandle(st);
}

TEST(case_155)
{
	RPC_STATUS st = -1;
	pthread_t t;
	void *h;

	/* A thread that never enabled, while another one has. */
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	ASSERT_EQ(0, pthread_create(&t, NULL, case_155_thread, &st));
	ASSERT_EQ(0, pthread_join(t, &h));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(RPC_S_OK, st);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	st = -1;
	ASSERT_EQ(NULL, RpcSmGetThreadHandle(&st));
	ASSERT_EQ(RPC_S_OK, st);
}

struct case_156 {
	RPC_SS_THREAD_HANDLE h;
	RPC_SS_THREAD_HANDLE got;
	RPC_STATUS set, get, alloc;
	void *q;
};

static void *case_156_thread(void *arg)
{
	struct case_156 *c = arg;

	c->set = RpcSmSetThreadHandle(c->h);
	c->got = RpcSmGetThreadHandle(&c->get);
	c->q = RpcSmAllocate(32, &c->alloc);
	if (c->q)
		memset(c->q, 0x5A, 32);
	return NULL;			/* exits attached */
}

TEST(case_156)
{
	long before = ntmem_counter("committed_pages");
	struct case_156 c = { 0 };
	RPC_STATUS st = -1;
	pthread_t b;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	c.h = RpcSmGetThreadHandle(&st);
	ASSERT_NE(NULL, c.h);
	ASSERT_EQ(RPC_S_OK, st);
	ASSERT_EQ(0, pthread_create(&b, NULL, case_156_thread, &c));
	ASSERT_EQ(0, pthread_join(b, NULL));
	ASSERT_EQ(RPC_S_OK, c.set);
	ASSERT_EQ(c.h, c.got);
	ASSERT_EQ(RPC_S_OK, c.get);
	ASSERT_NE(NULL, c.q);
	ASSERT_EQ(RPC_S_OK, c.alloc);
	ASSERT_EQ(-1, check_bytes(c.q, 32, 0x5A));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	assert_released(_metadata, c.q);
	ASSERT_EQ(before, ntmem_counter("committed_pages"));
}

struct case_157 {
	pthread_barrier_t published, disable, disabled;
	RPC_SS_THREAD_HANDLE h2;
	RPC_STATUS enable, disable_st;
};

/* Thread C: owns E2, disables it when told. */
static void *case_157_thread(void *arg)
{
	struct case_157 *c = arg;

	c->enable = RpcSmEnableAllocate();
	c->h2 = RpcSmGetThreadHandle(NULL);
	pthread_barrier_wait(&c->published);
	pthread_barrier_wait(&c->disable);
	c->disable_st = RpcSmDisableAllocate();
	pthread_barrier_wait(&c->disabled);
	return NULL;
}

TEST(case_157)
{
	struct case_157 c = { 0 };
	RPC_SS_THREAD_HANDLE h1;
	pthread_t t;
	char *p;

	pthread_barrier_init(&c.published, NULL, 2);
	pthread_barrier_init(&c.disable, NULL, 2);
	pthread_barrier_init(&c.disabled, NULL, 2);
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	h1 = RpcSmGetThreadHandle(NULL);
	ASSERT_NE(NULL, h1);
	ASSERT_EQ(0, pthread_create(&t, NULL, case_157_thread, &c));
	pthread_barrier_wait(&c.published);
	ASSERT_EQ(RPC_S_OK, c.enable);
	ASSERT_NE(NULL, c.h2);
	ASSERT_NE(h1, c.h2);

	ASSERT_EQ(RPC_S_OK, RpcSmSetThreadHandle(c.h2));
	ASSERT_EQ(c.h2, RpcSmGetThreadHandle(NULL));
	ASSERT_EQ(RPC_S_OK, RpcSmSetThreadHandle(h1));
	ASSERT_EQ(h1, RpcSmGetThreadHandle(NULL));
	p = sm_alloc_ok(_metadata, 48);
	memset(p, 0x3C, 48);

	pthread_barrier_wait(&c.disable);	/* C disables E2 */
	pthread_barrier_wait(&c.disabled);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(RPC_S_OK, c.disable_st);
	assert_committed(_metadata, p);		/* not C's */
	ASSERT_EQ(-1, check_bytes(p, 48, 0x3C));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	assert_released(_metadata, p);		/* A's */
}

/* ---- cases 158-160, 166: the client pair, context handles ------------- */

static int my_allocs, my_frees;
static void *my_freed;

static void *my_alloc(size_t n)
{
	my_allocs++;
	return malloc(n);
}

static void my_free(void *p)
{
	my_frees++;
	my_freed = p;
	free(p);
}

TEST(case_158)
{
	RPC_CLIENT_ALLOC *oa = NULL, *oa2 = NULL;
	RPC_CLIENT_FREE *of = NULL, *of2 = NULL;

	ASSERT_EQ(RPC_S_OK, RpcSmSwapClientAllocFree(my_alloc, my_free,
						     &oa, &of));
	ASSERT_TRUE(oa == malloc);
	ASSERT_TRUE(of == free);
	ASSERT_EQ(RPC_S_OK, RpcSmSwapClientAllocFree(oa, of, &oa2, &of2));
	ASSERT_TRUE(oa2 == my_alloc);
	ASSERT_TRUE(of2 == my_free);
}

TEST(case_159)
{
	void *p;

	ASSERT_EQ(RPC_S_OK, RpcSmSetClientAllocFree(my_alloc, my_free));
	p = my_alloc(24);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(RPC_S_OK, RpcSmClientFree(p));
	ASSERT_EQ(1, my_frees);
	ASSERT_EQ(p, my_freed);
	ASSERT_EQ(RPC_S_OK, RpcSmClientFree(NULL));	/* not called */
	ASSERT_EQ(1, my_frees);
}

TEST(case_160)
{
	void *ctx = (void *)0x1234;

	ASSERT_EQ(RPC_X_SS_CONTEXT_MISMATCH, RpcSmDestroyClientContext(&ctx));
	ASSERT_EQ(6, RPC_X_SS_CONTEXT_MISMATCH);
	ASSERT_EQ(NULL, ctx);
}

TEST(case_166)
{
	RPC_CLIENT_ALLOC *oa = my_alloc, *cur;
	RPC_CLIENT_FREE *of = my_free, *curf;

	ASSERT_EQ(RPC_S_INVALID_ARG,
		  RpcSmSwapClientAllocFree(NULL, my_free, &oa, &of));
	ASSERT_EQ(87, RPC_S_INVALID_ARG);
	/* Nothing changed: not the outputs, not the pair. */
	ASSERT_TRUE(oa == my_alloc);
	ASSERT_TRUE(of == my_free);
	ASSERT_EQ(RPC_S_OK, RpcSmSwapClientAllocFree(my_alloc, my_free,
						     &cur, &curf));
	ASSERT_TRUE(cur == malloc);
	ASSERT_TRUE(curf == free);
}

/* The other refusals of 5.4, each changing nothing. */
TEST(client_pair_refusals)
{
	RPC_CLIENT_ALLOC *oa;
	RPC_CLIENT_FREE *of;

	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSwapClientAllocFree(my_alloc, NULL,
							      &oa, &of));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSwapClientAllocFree(my_alloc,
							      my_free,
							      NULL, &of));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSwapClientAllocFree(my_alloc,
							      my_free,
							      &oa, NULL));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSetClientAllocFree(NULL, my_free));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSetClientAllocFree(my_alloc, NULL));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmDestroyClientContext(NULL));
	/* Setting a pair attaches nothing. */
	ASSERT_EQ(RPC_S_OK, RpcSmSetClientAllocFree(my_alloc, my_free));
	ASSERT_EQ(NULL, RpcSmGetThreadHandle(NULL));
	ASSERT_EQ(RPC_S_OK, RpcSmSwapClientAllocFree(malloc, free, &oa, &of));
	ASSERT_TRUE(oa == my_alloc);
	ASSERT_TRUE(of == my_free);
}

/* Inside an environment the default pair is the package's own, and
 * RpcSmClientFree hands a block back to the environment. */
TEST(client_pair_default_in_environment)
{
	RPC_CLIENT_ALLOC *oa;
	RPC_CLIENT_FREE *of;
	void *p;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	p = sm_alloc_ok(_metadata, 40);
	ASSERT_EQ(RPC_S_OK, RpcSmClientFree(p));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p));	/* already freed */
	/* RpcSmClientFree cannot fail: no raise for what is not a block */
	ASSERT_EQ(RPC_S_OK, RpcSmClientFree(p));
	ASSERT_EQ(RPC_S_OK, RpcSmClientFree(&oa));
	ASSERT_EQ(RPC_S_OK, RpcSmSwapClientAllocFree(my_alloc, my_free,
						     &oa, &of));
	ASSERT_TRUE(oa == RpcSsAllocate);
	ASSERT_TRUE(of == RpcSsFree);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

/* ---- cases 161-165, 167: raising ------------------------------------- */

TEST(case_161)
{
	void *volatile p = NULL;

	CATCH({
		RpcSsEnableAllocate();
		p = RpcSsAllocate(64);
		RpcSsFree(p);
		RpcSsDisableAllocate();
	});
	ASSERT_EQ(0, raises) TH_LOG("raised %d", raised);
	ASSERT_NE(NULL, p);
}

TEST(case_162)
{
	void *volatile p = (void *)1;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	CATCH(p = RpcSsAllocate((size_t)-1));
	ASSERT_EQ(1, raises);
	ASSERT_EQ(RPC_S_OUT_OF_MEMORY, raised);
	ASSERT_EQ(14, raised);
	ASSERT_EQ((void *)1, p);		/* it did not return */
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

TEST(case_163)
{
	RPC_STATUS st = -1;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	ASSERT_EQ(NULL, RpcSmAllocate((size_t)-1, &st));
	ASSERT_EQ(14, st);
	/* A size no chunk can be committed for: the same. */
	ASSERT_EQ(NULL, RpcSmAllocate((size_t)1 << 46, &st));
	ASSERT_EQ(RPC_S_OUT_OF_MEMORY, st);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

TEST(case_164)
{
	RPC_SS_THREAD_HANDLE volatile h = (void *)1;

	CATCH(h = RpcSsGetThreadHandle());
	ASSERT_EQ(0, raises);
	ASSERT_EQ(NULL, h);
}

TEST(case_165)
{
	void *ctx = (void *)0x1234;

	watched_ctx = &ctx;
	ctx_in_handler = (void *)1;
	CATCH(RpcSsDestroyClientContext(&ctx));
	watched_ctx = NULL;
	ASSERT_EQ(1, raises);
	ASSERT_EQ(6, raised);
	ASSERT_EQ(NULL, ctx_in_handler);
}

/* The RpcSs twins raise exactly what the RpcSm ones return. */
TEST(ss_twins_raise_the_sm_status)
{
	RPC_SS_THREAD_HANDLE dead;
	int x;

	CATCH(RpcSsAllocate(1));			/* no environment */
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsFree(&x));
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsSetClientAllocFree(NULL, free));
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsSwapClientAllocFree(malloc, free, NULL, NULL));
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsDestroyClientContext(NULL));
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);

	CATCH(RpcSsEnableAllocate());
	ASSERT_EQ(0, raises);
	dead = RpcSsGetThreadHandle();
	CATCH(RpcSsEnableAllocate());			/* attached already */
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsFree(&x));				/* foreign */
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsDisableAllocate());
	ASSERT_EQ(0, raises);
	CATCH(RpcSsSetThreadHandle(dead));
	ASSERT_EQ(RPC_S_INVALID_ARG, raised);
	CATCH(RpcSsDisableAllocate());			/* not attached */
	ASSERT_EQ(0, raises);
}

/* Child of case 167 and friends: raise @code, with or without a handler;
 * stderr goes to @fd. */
static pid_t raise_in_child(int code, NTMEM_RPC_RAISE_HANDLER *handler,
			    int *fd)
{
	struct rlimit nocore = { 0, 0 };
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		NtmemSetRpcRaiseHandler(handler);
		RpcRaiseException(code);
	}
	close(pipefd[1]);
	*fd = pipefd[0];
	return pid;
}

/* What the child wrote to stderr, NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	return n;
}

TEST(case_167)
{
	char out[512];
	int fd, status;
	size_t n;
	pid_t pid = raise_in_child(14, NULL, &fd);

	ASSERT_LT(0, pid);
	n = read_all(fd, out, sizeof(out));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	ASSERT_EQ(SIGABRT, WTERMSIG(status));
	ASSERT_LT(0, n);
	ASSERT_EQ('\n', out[n - 1]);
	ASSERT_EQ(out + n - 1, strchr(out, '\n')) TH_LOG("not one line: %s",
							  out);
	ASSERT_NE(NULL, strstr(out, "14")) TH_LOG("%s", out);
	TH_LOG("child said: %.*s", (int)n - 1, out);
}

static void returning_handler(RPC_STATUS code)
{
	(void)code;
}

/* A handler that returns does not make RpcRaiseException return. */
TEST(raise_handler_that_returns_aborts)
{
	char out[512];
	int fd, status;
	pid_t pid = raise_in_child(87, returning_handler, &fd);

	ASSERT_LT(0, pid);
	read_all(fd, out, sizeof(out));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGABRT, WTERMSIG(status));
	ASSERT_NE(NULL, strstr(out, "87")) TH_LOG("%s", out);
}

static void *other_thread_raises(void *arg)
{
	(void)arg;
	CATCH(RpcRaiseException(RPC_X_BAD_STUB_DATA));
	return (void *)(intptr_t)raised;
}

/* Handlers are per thread, and the previous one is handed back. */
TEST(raise_handler_per_thread)
{
	pthread_t t;
	void *code;

	ASSERT_TRUE(NtmemSetRpcRaiseHandler(on_raise) == NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, other_thread_raises, NULL));
	ASSERT_EQ(0, pthread_join(t, &code));
	ASSERT_EQ(1783, (intptr_t)code);
	ASSERT_TRUE(NtmemSetRpcRaiseHandler(NULL) == on_raise);
	ASSERT_EQ(0, raises);			/* this thread's */
}

/* ---- case 168: threads sharing an environment -------------------------- */

#define T168		8
#define N168		1000

struct case_168 {
	pthread_barrier_t start;
	RPC_SS_THREAD_HANDLE h;
	int index;
	RPC_STATUS set, detach;
	int failed;
	char *p[N168];
	size_t n[N168];
};

static struct case_168 *c168[T168];

static void *case_168_thread(void *arg)
{
	struct case_168 *c = arg;
	unsigned int seed = c->index + 1;
	RPC_STATUS st;
	int i;

	c->set = RpcSmSetThreadHandle(c->h);
	pthread_barrier_wait(&c168[0]->start);
	for (i = 0; i < N168; i++) {
		c->n[i] = 1 + rand_r(&seed) % 4096;
		c->p[i] = RpcSmAllocate(c->n[i], &st);
		if (!c->p[i] || st != RPC_S_OK) {
			c->failed++;
			continue;
		}
		memset(c->p[i], c->index + 1, c->n[i]);
		/* Some frees, so that blocks are reused concurrently. */
		if (i % 7 == 6 && RpcSmFree(c->p[i - 1]) == RPC_S_OK)
			c->p[i - 1] = NULL;
	}
	c->detach = RpcSmSetThreadHandle(NULL);
	return NULL;
}

struct span {
	uintptr_t lo, hi;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

TEST(case_168)
{
	static struct case_168 c[T168];
	static struct span s[T168 * N168];
	long before = ntmem_counter("committed_pages");
	pthread_t t[T168];
	size_t ns = 0, i;
	int k, j;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	pthread_barrier_init(&c[0].start, NULL, T168);
	for (k = 0; k < T168; k++) {
		c168[k] = &c[k];
		c[k].h = RpcSmGetThreadHandle(NULL);
		c[k].index = k;
	}
	for (k = 0; k < T168; k++)
		ASSERT_EQ(0, pthread_create(&t[k], NULL, case_168_thread,
					    &c[k]));
	for (k = 0; k < T168; k++)
		ASSERT_EQ(0, pthread_join(t[k], NULL));
	for (k = 0; k < T168; k++) {
		ASSERT_EQ(RPC_S_OK, c[k].set);
		ASSERT_EQ(RPC_S_OK, c[k].detach);
		ASSERT_EQ(0, c[k].failed);
		for (j = 0; j < N168; j++) {
			if (!c[k].p[j])
				continue;
			ASSERT_EQ(0, (uintptr_t)c[k].p[j] % 16);
			/* Nobody else wrote into it. */
			ASSERT_EQ(-1, check_bytes(c[k].p[j], c[k].n[j], k + 1));
			s[ns].lo = (uintptr_t)c[k].p[j];
			s[ns++].hi = (uintptr_t)c[k].p[j] + c[k].n[j];
		}
	}
	qsort(s, ns, sizeof(s[0]), span_cmp);
	for (i = 1; i < ns; i++)
		ASSERT_LE(s[i - 1].hi, s[i].lo);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(before, ntmem_counter("committed_pages"));
	assert_released(_metadata, (void *)s[0].lo);
	assert_released(_metadata, (void *)s[ns - 1].lo);
}

/* ---- more of 5.4 -------------------------------------------------------- */

TEST(free_refuses_what_is_not_a_live_block)
{
	RPC_STATUS st;
	char stack[32], *p, *q, *heap = malloc(32);

	ASSERT_EQ(RPC_S_OK, RpcSmFree(NULL));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(heap));	/* no environment */
	ASSERT_EQ(NULL, RpcSmAllocate(8, &st));
	ASSERT_EQ(RPC_S_INVALID_ARG, st);

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmEnableAllocate());
	p = sm_alloc_ok(_metadata, 64);
	q = sm_alloc_ok(_metadata, 64);
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(heap));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(stack));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p + 16));	/* interior */
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p + 1));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p - 16));	/* header */
	ASSERT_EQ(RPC_S_OK, RpcSmFree(p));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p));		/* twice */
	/* Freed memory may be reused at once, and is live again then. */
	ASSERT_EQ(p, sm_alloc_ok(_metadata, 64));
	ASSERT_EQ(RPC_S_OK, RpcSmFree(p));
	ASSERT_EQ(RPC_S_OK, RpcSmFree(q));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(q));
	free(heap);
}

/* The package reports through RPC_STATUS only, even when VirtualAlloc
 * fails underneath. */
TEST(last_error_left_alone)
{
	RPC_STATUS st;
	void *p;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	p = sm_alloc_ok(_metadata, 1000);
	ASSERT_EQ(NULL, RpcSmAllocate((size_t)1 << 46, &st));
	ASSERT_EQ(RPC_S_OUT_OF_MEMORY, st);
	ASSERT_EQ(RPC_S_OK, RpcSmFree(p));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

TEST(zero_bytes_are_distinct_blocks)
{
	void *a, *b;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	a = sm_alloc_ok(_metadata, 0);
	b = sm_alloc_ok(_metadata, 0);
	ASSERT_NE(a, b);
	ASSERT_EQ(RPC_S_OK, RpcSmFree(a));
	ASSERT_EQ(RPC_S_OK, RpcSmFree(b));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

/* A big block has memory of its own, which RpcSmFree returns at once. */
TEST(big_block_freed_early)
{
	long before = ntmem_counter("committed_pages"), during;
	char *p;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	p = sm_alloc_ok(_metadata, 8 << 20);
	memset(p, 1, 8 << 20);
	during = ntmem_counter("committed_pages");
	ASSERT_LE(before + (8 << 20) / 4096, during);
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p + 16));	/* interior */
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmFree(p + (4 << 20)));
	ASSERT_EQ(RPC_S_OK, RpcSmFree(p));
	ASSERT_EQ(before, ntmem_counter("committed_pages"));
	assert_released(_metadata, p);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

struct dead_env {
	pthread_barrier_t attached, disabled;
	RPC_SS_THREAD_HANDLE h, after;
	RPC_STATUS alloc, reattach, enable, disable;
	void *p;
};

static void *dead_env_thread(void *arg)
{
	struct dead_env *d = arg;

	RpcSmSetThreadHandle(d->h);
	pthread_barrier_wait(&d->attached);
	pthread_barrier_wait(&d->disabled);
	d->after = RpcSmGetThreadHandle(NULL);
	d->p = RpcSmAllocate(16, &d->alloc);
	d->reattach = RpcSmSetThreadHandle(d->h);
	/* Not attached any more: it may make an environment of its own. */
	d->enable = RpcSmEnableAllocate();
	d->disable = RpcSmDisableAllocate();
	return NULL;
}

/* Threads still attached when the owner disables count as not attached,
 * and the handle is dead for everyone. */
TEST(disabled_environment_is_dead_everywhere)
{
	struct dead_env d = { 0 };
	pthread_t t;

	pthread_barrier_init(&d.attached, NULL, 2);
	pthread_barrier_init(&d.disabled, NULL, 2);
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	d.h = RpcSmGetThreadHandle(NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, dead_env_thread, &d));
	pthread_barrier_wait(&d.attached);
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	pthread_barrier_wait(&d.disabled);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(NULL, d.after);
	ASSERT_EQ(NULL, d.p);
	ASSERT_EQ(RPC_S_INVALID_ARG, d.alloc);
	ASSERT_EQ(RPC_S_INVALID_ARG, d.reattach);
	ASSERT_EQ(RPC_S_OK, d.enable);
	ASSERT_EQ(RPC_S_OK, d.disable);
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSetThreadHandle(d.h));
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSetThreadHandle((void *)0x1234));
	ASSERT_EQ(NULL, RpcSmGetThreadHandle(NULL));
}

struct non_owner {
	RPC_SS_THREAD_HANDLE h;
	RPC_STATUS disable;
	RPC_SS_THREAD_HANDLE after;
	void *p;
};

static void *non_owner_thread(void *arg)
{
	struct non_owner *n = arg;

	RpcSmSetThreadHandle(n->h);
	n->p = RpcSmAllocate(100, NULL);
	n->disable = RpcSmDisableAllocate();
	n->after = RpcSmGetThreadHandle(NULL);
	return NULL;
}

/* A non-owner's disable only detaches it: the blocks live on. */
TEST(non_owner_disable_only_detaches)
{
	struct non_owner n = { 0 };
	pthread_t t;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	n.h = RpcSmGetThreadHandle(NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, non_owner_thread, &n));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(RPC_S_OK, n.disable);
	ASSERT_EQ(NULL, n.after);
	ASSERT_NE(NULL, n.p);
	assert_committed(_metadata, n.p);
	ASSERT_EQ(n.h, RpcSmGetThreadHandle(NULL));
	ASSERT_EQ(RPC_S_OK, RpcSmFree(n.p));	/* the owner may free it */
	sm_alloc_ok(_metadata, 10);
	/* Detached, the owner disables nothing; back with its handle, it
	 * is the owner again. */
	ASSERT_EQ(RPC_S_OK, RpcSmSetThreadHandle(NULL));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(RPC_S_OK, RpcSmSetThreadHandle(n.h));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(RPC_S_INVALID_ARG, RpcSmSetThreadHandle(n.h));
	assert_released(_metadata, n.p);
}

static void *attach_alloc_exit(void *h)
{
	RpcSmSetThreadHandle(h);
	RpcSmAllocate(32, NULL);
	return NULL;			/* exits attached */
}

/* A thread that exits attached is detached: the environment it held is
 * freed with the owner's disable.  (With threads, glibc's per-thread
 * caches blur malloc statistics by a few blocks, so look for growth over
 * many rounds: a leaked environment is over 600 bytes a round.) */
TEST(thread_exit_detaches)
{
	size_t in_use = 0;
	pthread_t t;
	int i;

	for (i = 0; i < 60; i++) {
		if (i == 10)
			in_use = malloc_in_use();
		ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
		ASSERT_EQ(0, pthread_create(&t, NULL, attach_alloc_exit,
					    RpcSmGetThreadHandle(NULL)));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	}
	ASSERT_GT(in_use + 8192, malloc_in_use())
		TH_LOG("%zu bytes more in 50 rounds",
		       malloc_in_use() - in_use);
}

/* A forked child has none of the parent's ntmem memory: its environments
 * are dead there, and a new one works. */
TEST(fork_child_starts_without_environment)
{
	RPC_SS_THREAD_HANDLE h;
	int status;
	pid_t pid;

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	h = RpcSmGetThreadHandle(NULL);
	sm_alloc_ok(_metadata, 64);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		RPC_STATUS st;
		char *p;
		int bad = 0;

		bad |= RpcSmGetThreadHandle(NULL) != NULL;
		bad |= RpcSmAllocate(8, &st) != NULL || st != RPC_S_INVALID_ARG;
		bad |= RpcSmSetThreadHandle(h) != RPC_S_INVALID_ARG;
		bad |= RpcSmEnableAllocate() != RPC_S_OK;
		p = RpcSmAllocate(64, &st);
		bad |= !p || st != RPC_S_OK;
		if (p)
			memset(p, 1, 64);
		bad |= RpcSmDisableAllocate() != RPC_S_OK;
		_exit(bad ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(h, RpcSmGetThreadHandle(NULL));
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
}

#define MILLION		1000000

/*
 * One million blocks: the disable releases a few dozen reservations and
 * gives every page back.  The times are logged for comparison only; the
 * benchmark judges them (no timing asserts in tests).
 */
TEST(million_blocks_disable_cheaply)
{
	static void *p[MILLION];
	long before = ntmem_counter("committed_pages");
	long reservations = ntmem_counter("reservations");
	double t0, t_free, t_disable;
	long rss0, chunks;
	int i;

	memset(p, 0, sizeof(p));		/* in the RSS from now on */
	rss0 = rss_kb();

	/* A million single frees, for comparison. */
	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	for (i = 0; i < MILLION; i++)
		p[i] = sm_alloc_ok(_metadata, 16);
	t0 = now();
	for (i = 0; i < MILLION; i++)
		ASSERT_EQ(RPC_S_OK, RpcSmFree(p[i]));
	t_free = now() - t0;
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	ASSERT_EQ(before, ntmem_counter("committed_pages"));

	ASSERT_EQ(RPC_S_OK, RpcSmEnableAllocate());
	for (i = 0; i < MILLION; i++)
		p[i] = sm_alloc_ok(_metadata, 16);
	ASSERT_LT(before + 30000000 / 4096, ntmem_counter("committed_pages"));
	/* What the disable has to release: a few dozen reservations. */
	chunks = ntmem_counter("reservations") - reservations;
	ASSERT_LT(0, chunks);
	ASSERT_GT(64, chunks);
	t0 = now();
	ASSERT_EQ(RPC_S_OK, RpcSmDisableAllocate());
	t_disable = now() - t0;
	TH_LOG("1M RpcSmFree: %.1f ms, RpcSmDisableAllocate: %.1f ms "
	       "(%ld chunks)", t_free * 1e3, t_disable * 1e3, chunks);
	ASSERT_EQ(before, ntmem_counter("committed_pages"));
	ASSERT_EQ(reservations, ntmem_counter("reservations"));
	ASSERT_LT(rss_kb(), rss0 + 4096);	/* 32 MB were touched */
	assert_released(_metadata, p[0]);
	assert_released(_metadata, p[MILLION - 1]);
}

TEST_HARNESS_MAIN
