// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The RpcSs package's allocation environments (spec 5.3, 5.4): arenas that
 * threads attach to, with RpcSm{Enable,Disable}Allocate, RpcSm{Allocate,
 * Free}, RpcSm{Get,Set}ThreadHandle and their raising RpcSs twins.  The
 * arena itself, which an environment allocates from and which disabling
 * gives back to the system at once, is in rpc_arena.c.
 *
 * Handles and lifetime: an environment's handle is a serial number, never
 * reused, looked up in the registry of live environments, so a dead
 * handle stays dead.  The environment itself is reference counted (the
 * registry, and each attached thread), because threads may still be
 * attached after the owner disabled it: they must find it dead, not
 * freed.  A thread's exit drops its reference (a pthread key destructor).
 *
 * Locking: envs_lock guards the registry; env->lock guards the arena of
 * threads sharing it.  Never both at once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <ntmem/rpc.h>

#include "rpc_arena.h"

struct env {
	pthread_mutex_t lock;		/* the arena */
	uintptr_t id;			/* the handle */
	uint64_t owner;			/* thread_serial() of the owner */
	unsigned long generation;	/* the fork generation it lives in */
	int refs;			/* registry + attached threads */
	bool dead;			/* disabled by the owner */
	struct env *next;		/* in the registry */
	struct rpc_arena arena;
};

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env *envs;		/* the live environments */
static uintptr_t last_id;
static unsigned long generation;	/* bumped in a forked child */
static pthread_key_t exit_key;
static uint64_t last_serial;

static __thread struct env *attached;	/* holds a reference */
static __thread uint64_t serial;

/* ---- environments, threads, the registry ------------------------------ */

/* A forked child has none of the parent's ntmem memory (so no arena) and
 * only the forking thread: every environment is dead there; the
 * registry's lock may have been held by a thread that is not. */
static void atfork_child(void)
{
	generation++;
	envs = NULL;
	pthread_mutex_init(&envs_lock, NULL);
}

static void env_put(struct env *e);

/* A thread that exits attached is detached (spec 5.4). */
static void thread_exit(void *unused)
{
	(void)unused;
	if (attached)
		env_put(attached);
	attached = NULL;
}

static void package_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	pthread_key_create(&exit_key, thread_exit);
}

static void package_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, package_init);
}

/* Identifies the owner; unlike pthread_t, never reused by a later thread. */
static uint64_t thread_serial(void)
{
	if (!serial)
		serial = __atomic_add_fetch(&last_serial, 1, __ATOMIC_RELAXED);
	return serial;
}

static bool env_live(const struct env *e)
{
	return e && e->generation == generation &&
	       !__atomic_load_n(&e->dead, __ATOMIC_ACQUIRE);
}

/* The calling thread's environment, if it is attached to a live one. */
static struct env *current(void)
{
	return env_live(attached) ? attached : NULL;
}

static void env_get(struct env *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
}

static void env_put(struct env *e)
{
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Only a dead environment loses its last reference: the registry
	 * holds one while it lives.  One of a parent process may have its
	 * lock held by a thread that is not in this child: leave it be. */
	if (e->generation == generation)
		pthread_mutex_destroy(&e->lock);
	ntmem__rpc_arena_forget(&e->arena);
	free(e);
}

/* Attaches the calling thread to @e (NULL: detaches), taking over a
 * reference the caller holds. */
static void attach(struct env *e)
{
	struct env *old = attached;

	attached = e;
	if (e)
		pthread_setspecific(exit_key, e);
	if (old)
		env_put(old);
}

static RPC_SS_THREAD_HANDLE handle_of(const struct env *e)
{
	return (RPC_SS_THREAD_HANDLE)e->id;
}

/* The live environment whose handle is @h, with a reference; or NULL. */
static struct env *env_find(RPC_SS_THREAD_HANDLE h)
{
	struct env *e;

	pthread_mutex_lock(&envs_lock);
	for (e = envs; e && handle_of(e) != h; e = e->next)
		;
	if (e)
		env_get(e);
	pthread_mutex_unlock(&envs_lock);
	return e;
}

static void env_register(struct env *e)
{
	pthread_mutex_lock(&envs_lock);
	e->id = ++last_id;
	e->next = envs;
	envs = e;
	pthread_mutex_unlock(&envs_lock);
}

static void env_unregister(struct env *e)
{
	struct env **pp;

	pthread_mutex_lock(&envs_lock);
	for (pp = &envs; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	pthread_mutex_unlock(&envs_lock);
}

RPC_STATUS RpcSmEnableAllocate(void)
{
	struct env *e;

	package_once();
	if (current())
		return RPC_S_INVALID_ARG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return RPC_S_OUT_OF_MEMORY;
	pthread_mutex_init(&e->lock, NULL);
	e->owner = thread_serial();
	e->generation = generation;
	e->refs = 2;			/* the registry and the owner */
	ntmem__rpc_arena_init(&e->arena);
	env_register(e);
	attach(e);
	return RPC_S_OK;
}

RPC_STATUS RpcSmDisableAllocate(void)
{
	struct env *e = current();

	if (!e || e->owner != thread_serial()) {
		attach(NULL);		/* not the owner: only detach */
		return RPC_S_OK;
	}
	/* Out of the registry first: no thread can attach any more. */
	env_unregister(e);
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->dead, true, __ATOMIC_RELEASE);
	ntmem__rpc_arena_destroy(&e->arena);
	pthread_mutex_unlock(&e->lock);
	attach(NULL);
	env_put(e);			/* the registry's reference */
	return RPC_S_OK;
}

void *RpcSmAllocate(size_t Size, RPC_STATUS *pStatus)
{
	struct env *e = current();
	RPC_STATUS st = RPC_S_OK;
	void *p = NULL;

	if (!e) {
		st = RPC_S_INVALID_ARG;
	} else if (Size > RPC_ARENA_MAX_REQUEST) {
		st = RPC_S_OUT_OF_MEMORY;
	} else {
		pthread_mutex_lock(&e->lock);
		if (e->dead)		/* disabled since current() */
			st = RPC_S_INVALID_ARG;
		else if (!(p = ntmem__rpc_arena_alloc(&e->arena, Size)))
			st = RPC_S_OUT_OF_MEMORY;
		pthread_mutex_unlock(&e->lock);
	}
	if (pStatus)
		*pStatus = st;
	return p;
}

RPC_STATUS RpcSmFree(void *NodeToFree)
{
	struct env *e;
	bool ok;

	if (!NodeToFree)
		return RPC_S_OK;
	e = current();
	if (!e)
		return RPC_S_INVALID_ARG;
	pthread_mutex_lock(&e->lock);
	ok = !e->dead && ntmem__rpc_arena_free(&e->arena, NodeToFree);
	pthread_mutex_unlock(&e->lock);
	return ok ? RPC_S_OK : RPC_S_INVALID_ARG;
}

RPC_SS_THREAD_HANDLE RpcSmGetThreadHandle(RPC_STATUS *pStatus)
{
	struct env *e = current();

	if (pStatus)
		*pStatus = RPC_S_OK;
	return e ? handle_of(e) : NULL;
}

RPC_STATUS RpcSmSetThreadHandle(RPC_SS_THREAD_HANDLE Id)
{
	struct env *e = NULL;

	package_once();
	if (Id) {
		e = env_find(Id);
		if (!e)
			return RPC_S_INVALID_ARG;
	}
	attach(e);
	return RPC_S_OK;
}

/* ---- the raising twins -------------------------------------------------- */

static void raise_on_error(RPC_STATUS st)
{
	if (st != RPC_S_OK)
		RpcRaiseException(st);
}

void RpcSsEnableAllocate(void)
{
	raise_on_error(RpcSmEnableAllocate());
}

void RpcSsDisableAllocate(void)
{
	raise_on_error(RpcSmDisableAllocate());
}

void *RpcSsAllocate(size_t Size)
{
	RPC_STATUS st;
	void *p = RpcSmAllocate(Size, &st);

	raise_on_error(st);
	return p;
}

void RpcSsFree(void *NodeToFree)
{
	raise_on_error(RpcSmFree(NodeToFree));
}

RPC_SS_THREAD_HANDLE RpcSsGetThreadHandle(void)
{
	return RpcSmGetThreadHandle(NULL);
}

void RpcSsSetThreadHandle(RPC_SS_THREAD_HANDLE Id)
{
	raise_on_error(RpcSmSetThreadHandle(Id));
}
