/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ntmem/rpc.h: the MIDL allocator contract and the RpcSs memory-management
 * package (RpcSm* / RpcSs*) of libntmem -- the rpcndr.h prototypes without
 * Windows' calling-convention macros, which mean nothing on x86-64 Linux.
 * Usable from C99 and C++, on its own or with <ntmem/windows.h>.
 *
 * Link with -lntmem (pkg-config ntmem).
 */
#ifndef NTMEM_RPC_H
#define NTMEM_RPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types -------------------------------------------------------------- */

typedef int32_t RPC_STATUS;		/* long on Windows: 32 bits */
typedef void *RPC_SS_THREAD_HANDLE;
typedef void *RPC_CLIENT_ALLOC(size_t Size);
typedef void RPC_CLIENT_FREE(void *Ptr);

/* ---- status values (Windows' own) --------------------------------------- */

#define RPC_S_OK			0
#define RPC_S_OUT_OF_MEMORY		14	/* = ERROR_OUTOFMEMORY */
#define RPC_S_INVALID_ARG		87	/* = ERROR_INVALID_PARAMETER */
#define RPC_X_NO_MEMORY			14	/* = RPC_S_OUT_OF_MEMORY */
#define RPC_X_SS_CONTEXT_MISMATCH	6	/* = ERROR_INVALID_HANDLE */
#define RPC_X_SS_IN_NULL_CONTEXT	1775
#define RPC_X_BAD_STUB_DATA		1783

/* ---- midl_user_allocate / midl_user_free -------------------------------- */

/*
 * The memory the MIDL stubs and RPC applications exchange.
 *
 * libntmem's default pair: MIDL_user_allocate(n) is HeapAlloc on the
 * process heap (GetProcessHeap()): 16-byte aligned, not zeroed; n == 0
 * gives a distinct pointer; a request that cannot be met (such as
 * (size_t)-1) returns NULL and raises nothing.  MIDL_user_free(p) is
 * HeapFree on the process heap; MIDL_user_free(NULL) does nothing.
 *
 * An application may define its own pair, as MIDL requires on Windows:
 *
 *	void *MIDL_user_allocate(size_t cBytes) { ... }
 *	void MIDL_user_free(void *p) { ... }
 *
 * (extern "C" in C++; write both, as the contract pairs them).  Its
 * definitions replace the library's, with no linker error and no flag:
 *
 *  - linked with libntmem.a, the default pair is an archive member of its
 *    own (rpc_midl.o) that the linker only pulls in for a program that
 *    calls the functions without defining them; the defaults are also
 *    weak, so a program's definitions win even if it were pulled in;
 *  - linked with libntmem.so, the program's definitions come first in
 *    the dynamic symbol lookup (ELF interposition), so every caller --
 *    the program, and any shared library of stubs that calls
 *    MIDL_user_allocate -- gets the program's.  Nothing inside libntmem
 *    calls the pair (the RpcSs package has its own allocators), so no
 *    library code can bypass the program's version.  A definition in a
 *    shared library (rather than the executable) replaces the default
 *    when that library is ahead of libntmem in the lookup order, e.g. it
 *    is linked before -lntmem.
 */
void *MIDL_user_allocate(size_t cBytes);
void MIDL_user_free(void *p);
#define midl_user_allocate MIDL_user_allocate
#define midl_user_free     MIDL_user_free

/* ---- the RpcSs package -------------------------------------------------- */

/*
 * An allocation environment is an arena: RpcSmEnableAllocate creates one,
 * attaches the calling thread to it and makes that thread its owner;
 * RpcSmAllocate takes blocks from the calling thread's environment
 * (16-byte aligned, contents indeterminate; n == 0 gives a distinct
 * block), RpcSmFree gives one back early; the owner's RpcSmDisableAllocate
 * frees every block of the environment, whichever thread allocated it, in
 * one step and returns the arena's memory to the system.  A thread is
 * attached to at most one environment; RpcSmEnableAllocate in an attached
 * thread fails with RPC_S_INVALID_ARG.
 *
 * RpcSmGetThreadHandle gives the calling thread's environment (NULL if
 * none, with RPC_S_OK); RpcSmSetThreadHandle(h) attaches the calling
 * thread to it (replacing its attachment, which lives on), NULL detaches.
 * Threads attached to one environment may allocate and free concurrently.
 * RpcSmDisableAllocate in a thread that is not the owner only detaches it.
 * Once the owner has disabled an environment, its handle is dead
 * (RpcSmSetThreadHandle gives RPC_S_INVALID_ARG) and threads still
 * attached to it count as not attached.  A thread that exits attached is
 * detached; an environment whose owner exits without disabling it leaks.
 * A forked child inherits no ntmem memory, so there every environment of
 * the parent is dead.
 *
 * Each thread has a client allocator pair, which RpcSmClientFree uses.
 * Until the thread sets one, it is (malloc, free), or (RpcSsAllocate,
 * RpcSsFree) while the thread is attached to an environment.
 * RpcSmSwapClientAllocFree stores that effective pair in *OldClientAlloc
 * and *OldClientFree before installing the new one, so it can be put back.
 *
 * libntmem has no RPC run time, so no client context handle is ever live:
 * RpcSmDestroyClientContext sets *ContextHandle to NULL and returns
 * RPC_X_SS_CONTEXT_MISMATCH.
 *
 * RpcSmFree(NULL) and RpcSmClientFree(NULL) do nothing and return RPC_S_OK.
 *
 * The arena's memory comes from VirtualAlloc, so it shows in ntmem's
 * commit accounting, and without /dev/ntmem RpcSmAllocate fails with
 * RPC_S_OUT_OF_MEMORY.  RpcSm* report through RPC_STATUS only and leave
 * the thread's last error alone.
 *
 * Failures: RPC_S_OUT_OF_MEMORY when memory runs out; RPC_S_INVALID_ARG
 * for RpcSmAllocate/RpcSmFree without an environment, RpcSmFree of a
 * pointer that is not a live block of the environment (foreign, interior,
 * already freed), a dead or bogus thread handle, a NULL routine, or a
 * NULL pointer where a result must be stored (RpcSmAllocate's and
 * RpcSmGetThreadHandle's status pointer may be NULL).  RpcSmClientFree
 * never fails: inside an environment, a pointer that is not one of its
 * blocks is left alone.  A failing call changes nothing.
 */
void *RpcSmAllocate(size_t Size, RPC_STATUS *pStatus);
RPC_STATUS RpcSmClientFree(void *pNodeToFree);
RPC_STATUS RpcSmDestroyClientContext(void **ContextHandle);
RPC_STATUS RpcSmDisableAllocate(void);
RPC_STATUS RpcSmEnableAllocate(void);
RPC_STATUS RpcSmFree(void *NodeToFree);
RPC_SS_THREAD_HANDLE RpcSmGetThreadHandle(RPC_STATUS *pStatus);
RPC_STATUS RpcSmSetClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
				   RPC_CLIENT_FREE *ClientFree);
RPC_STATUS RpcSmSetThreadHandle(RPC_SS_THREAD_HANDLE Id);
RPC_STATUS RpcSmSwapClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
				    RPC_CLIENT_FREE *ClientFree,
				    RPC_CLIENT_ALLOC **OldClientAlloc,
				    RPC_CLIENT_FREE **OldClientFree);

/*
 * The RpcSs twins do what the RpcSm functions do, but raise the status
 * the RpcSm function would return with RpcRaiseException instead of
 * returning it.  RpcSsGetThreadHandle never raises.
 * RpcSsDestroyClientContext sets *ContextHandle to NULL before raising
 * RPC_X_SS_CONTEXT_MISMATCH.
 */
void *RpcSsAllocate(size_t Size);
void RpcSsDestroyClientContext(void **ContextHandle);
void RpcSsDisableAllocate(void);
void RpcSsEnableAllocate(void);
void RpcSsFree(void *NodeToFree);
RPC_SS_THREAD_HANDLE RpcSsGetThreadHandle(void);
void RpcSsSetClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
			     RPC_CLIENT_FREE *ClientFree);
void RpcSsSetThreadHandle(RPC_SS_THREAD_HANDLE Id);
void RpcSsSwapClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
			      RPC_CLIENT_FREE *ClientFree,
			      RPC_CLIENT_ALLOC **OldClientAlloc,
			      RPC_CLIENT_FREE **OldClientFree);

/* ---- raising ------------------------------------------------------------ */

/*
 * Linux has no structured exceptions.  RpcRaiseException(code) never
 * returns: it calls the calling thread's raise handler with @code if the
 * thread installed one, else prints one line naming @code on stderr and
 * calls abort().  The handler leaves with longjmp or siglongjmp; if it
 * returns, RpcRaiseException goes on as if there were no handler.  The
 * handler stays installed; it must not raise itself (that would call it
 * again).  libntmem raises through this function too (RpcSs*, and
 * HeapAlloc with HEAP_GENERATE_EXCEPTIONS).
 *
 * NtmemSetRpcRaiseHandler (an ntmem extension) installs @handler for the
 * calling thread (NULL removes it) and returns the previous one, so that
 * nested code can put it back.  The Windows pattern
 *
 *	RpcTryExcept { RpcSsEnableAllocate(); ... } RpcExcept(1) {
 *		status = RpcExceptionCode(); } RpcEndExcept
 *
 * becomes, with thread-local state:
 *
 *	static __thread sigjmp_buf env;
 *	static __thread volatile RPC_STATUS code;
 *	static void on_raise(RPC_STATUS c) { code = c; siglongjmp(env, 1); }
 *
 *	NTMEM_RPC_RAISE_HANDLER *old = NtmemSetRpcRaiseHandler(on_raise);
 *	if (sigsetjmp(env, 0) == 0) {
 *		RpcSsEnableAllocate(); ...
 *	} else {
 *		status = code;
 *	}
 *	NtmemSetRpcRaiseHandler(old);
 *
 * (setjmp's rules apply: a local variable changed in the first branch
 * must be volatile to be read after a raise.)
 */
typedef void NTMEM_RPC_RAISE_HANDLER(RPC_STATUS code);

NTMEM_RPC_RAISE_HANDLER *
NtmemSetRpcRaiseHandler(NTMEM_RPC_RAISE_HANDLER *handler);

#if defined(__cplusplus) && __cplusplus >= 201103L
[[noreturn]]
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Noreturn
#elif defined(__GNUC__)
__attribute__((__noreturn__))
#endif
void RpcRaiseException(RPC_STATUS exception);

#ifdef __cplusplus
}
#endif

#endif /* NTMEM_RPC_H */
