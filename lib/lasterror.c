// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The thread's last error.  Only failures write it: a successful call
 * leaves whatever the program put there.
 */
#include "internal.h"

static __thread DWORD last_error;

DWORD GetLastError(void)
{
	return last_error;
}

void SetLastError(DWORD dwErrCode)
{
	last_error = dwErrCode;
}

void ntmem__fail(DWORD code)
{
	last_error = code;
}
