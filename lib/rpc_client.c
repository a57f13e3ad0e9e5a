// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The RpcSs package's client allocator pair (spec 5.3, 5.4): what client
 * stubs allocate unmarshalled data with and RpcSmClientFree frees it
 * with.  One pair per thread, as on Windows.
 */
#include <stdlib.h>
#include <ntmem/rpc.h>

/* The pair the thread set; NULL until it sets one. */
static __thread RPC_CLIENT_ALLOC *client_alloc;
static __thread RPC_CLIENT_FREE *client_free;

/* The pair in force: the thread's own, else the default, which depends on
 * whether the thread runs inside an environment ("manager code"). */
static void effective_pair(RPC_CLIENT_ALLOC **a, RPC_CLIENT_FREE **f)
{
	if (client_alloc) {
		*a = client_alloc;
		*f = client_free;
	} else if (RpcSmGetThreadHandle(NULL)) {
		*a = RpcSsAllocate;
		*f = RpcSsFree;
	} else {
		*a = malloc;
		*f = free;
	}
}

RPC_STATUS RpcSmSetClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
				   RPC_CLIENT_FREE *ClientFree)
{
	if (!ClientAlloc || !ClientFree)
		return RPC_S_INVALID_ARG;
	client_alloc = ClientAlloc;
	client_free = ClientFree;
	return RPC_S_OK;
}

RPC_STATUS RpcSmSwapClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
				    RPC_CLIENT_FREE *ClientFree,
				    RPC_CLIENT_ALLOC **OldClientAlloc,
				    RPC_CLIENT_FREE **OldClientFree)
{
	if (!ClientAlloc || !ClientFree || !OldClientAlloc || !OldClientFree)
		return RPC_S_INVALID_ARG;
	effective_pair(OldClientAlloc, OldClientFree);
	client_alloc = ClientAlloc;
	client_free = ClientFree;
	return RPC_S_OK;
}

RPC_STATUS RpcSmClientFree(void *pNodeToFree)
{
	RPC_CLIENT_ALLOC *a;
	RPC_CLIENT_FREE *f;

	if (!pNodeToFree)
		return RPC_S_OK;
	if (!client_free && RpcSmGetThreadHandle(NULL)) {
		/* RpcSsFree would raise for a block that is not the
		 * environment's; RpcSmClientFree cannot fail (spec 5.4) */
		RpcSmFree(pNodeToFree);
		return RPC_S_OK;
	}
	effective_pair(&a, &f);
	f(pNodeToFree);
	return RPC_S_OK;
}

void RpcSsSetClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
			     RPC_CLIENT_FREE *ClientFree)
{
	RPC_STATUS st = RpcSmSetClientAllocFree(ClientAlloc, ClientFree);

	if (st != RPC_S_OK)
		RpcRaiseException(st);
}

void RpcSsSwapClientAllocFree(RPC_CLIENT_ALLOC *ClientAlloc,
			      RPC_CLIENT_FREE *ClientFree,
			      RPC_CLIENT_ALLOC **OldClientAlloc,
			      RPC_CLIENT_FREE **OldClientFree)
{
	RPC_STATUS st = RpcSmSwapClientAllocFree(ClientAlloc, ClientFree,
						 OldClientAlloc,
						 OldClientFree);

	if (st != RPC_S_OK)
		RpcRaiseException(st);
}
