// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Process handles: ntmem serves only the calling process, named by the
 * pseudo-handle (HANDLE)-1 (spec 2.4).
 */
#include "internal.h"

#define CURRENT_PROCESS	((HANDLE)(LONG_PTR)-1)

HANDLE GetCurrentProcess(void)
{
	return CURRENT_PROCESS;
}

bool ntmem__is_current_process(HANDLE h)
{
	return h == CURRENT_PROCESS;
}
