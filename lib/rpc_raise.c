// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RpcRaiseException on Linux (spec 5.6): Linux has no structured
 * exceptions, so a raise goes to the calling thread's handler, which
 * leaves with (sig)longjmp, or ends the process with abort().
 */
#include <stdio.h>
#include <stdlib.h>
#include <ntmem/rpc.h>

/* Per thread, because an exception belongs to the thread that raised it. */
static __thread NTMEM_RPC_RAISE_HANDLER *raise_handler;

NTMEM_RPC_RAISE_HANDLER *
NtmemSetRpcRaiseHandler(NTMEM_RPC_RAISE_HANDLER *handler)
{
	NTMEM_RPC_RAISE_HANDLER *old = raise_handler;

	raise_handler = handler;
	return old;
}

/* The name of a code this library raises, for the dying message. */
static const char *code_name(RPC_STATUS code)
{
	switch (code) {
	case RPC_S_OUT_OF_MEMORY:
		return " (RPC_S_OUT_OF_MEMORY)";
	case RPC_S_INVALID_ARG:
		return " (RPC_S_INVALID_ARG)";
	case RPC_X_SS_CONTEXT_MISMATCH:
		return " (RPC_X_SS_CONTEXT_MISMATCH)";
	case RPC_X_SS_IN_NULL_CONTEXT:
		return " (RPC_X_SS_IN_NULL_CONTEXT)";
	case RPC_X_BAD_STUB_DATA:
		return " (RPC_X_BAD_STUB_DATA)";
	case (RPC_STATUS)0xC0000017:
		return " (STATUS_NO_MEMORY)";
	}
	return "";
}

void RpcRaiseException(RPC_STATUS exception)
{
	NTMEM_RPC_RAISE_HANDLER *handler = raise_handler;

	if (handler)
		handler(exception);
	/* No handler, or it returned: an unhandled exception, as on Windows
	 * (Wine exits when a handler continues).  One line, so that a log
	 * shows why the process died. */
	fprintf(stderr,
		"libntmem: RpcRaiseException: unhandled exception %d (%#x)%s\n",
		(int)exception, (unsigned int)exception, code_name(exception));
	abort();
}
