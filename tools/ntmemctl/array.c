// SPDX-License-Identifier: GPL-2.0
/* ntmemctl: growing arrays for the rows a dump returns. */
#include <stdlib.h>

#include "ntmemctl.h"

void *array_next(void **items, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t grown = *cap ? 2 * *cap : 64;
		void *p = realloc(*items, grown * size);

		if (!p)
			return NULL;
		*items = p;
		*cap = grown;
	}
	return (char *)*items + (*n)++ * size;
}
