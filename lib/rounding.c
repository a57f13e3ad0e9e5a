// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Rounding of address ranges, in one place (spec 4.1.4): every operation
 * covers each page holding a byte of [addr, addr+size); a new allocation at
 * an address also starts at the 64 KiB boundary below it.
 */
#include "internal.h"

#define DOWN(x, n)	((x) & ~((uintptr_t)(n) - 1))
#define UP(x, n)	DOWN((x) + (n) - 1, (n))

/* Callers have checked the range with ntmem__range_bad(): no overflow. */
void ntmem__round(uintptr_t addr, size_t size, enum ntmem__round how,
		  uintptr_t *start, uintptr_t *end)
{
	*start = DOWN(addr, how == NTMEM__ROUND_ALLOCATION ? NTMEM__GRANULE :
							     NTMEM__PAGE);
	*end = UP(addr + size, NTMEM__PAGE);
}

/* Spec 4.1.1 rule 4, 4.2 rule 3, 4.4 rule 4. */
bool ntmem__range_bad(uintptr_t addr, size_t size)
{
	return addr > NTMEM__MAX_USER ||
	       size > (uintptr_t)NTMEM_MAX_ADDRESS - addr;
}
