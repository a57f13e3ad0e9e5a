// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RpcSmDestroyClientContext and RpcSsDestroyClientContext (spec 5.4):
 * client context handles belong to an RPC run time, which libntmem does
 * not have, so no handle is ever live and every call is a mismatch.  As
 * in Wine, the caller's handle is cleared first in every case.
 */
#include <ntmem/rpc.h>

RPC_STATUS RpcSmDestroyClientContext(void **ContextHandle)
{
	if (!ContextHandle)
		return RPC_S_INVALID_ARG;	/* Wine would crash */
	*ContextHandle = NULL;
	return RPC_X_SS_CONTEXT_MISMATCH;
}

void RpcSsDestroyClientContext(void **ContextHandle)
{
	RPC_STATUS st = RpcSmDestroyClientContext(ContextHandle);

	if (st != RPC_S_OK)
		RpcRaiseException(st);
}
