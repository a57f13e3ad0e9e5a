// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The extended parameters of VirtualAlloc2 and MapViewOfFile3, checked in
 * Windows' order (its checks as Wine's tests find them on Windows): each
 * type at most once, a MEM_ADDRESS_REQUIREMENTS of granule-aligned bounds
 * and a power-of-two alignment of at least 64 KiB.  A NUMA node is taken
 * and ignored (ntmem places no page by node); what ntmem has no use for
 * (partitions, AWE, attributes, machines) is not supported.
 */
#include <string.h>

#include "internal.h"

#define DOWN(x, n)	((x) & ~((uint64_t)(n) - 1))

/* A MEM_ADDRESS_REQUIREMENTS into @b: 0 or a Win32 error. */
static DWORD requirements(const MEM_ADDRESS_REQUIREMENTS *r,
			  struct ntmem__bounds *b)
{
	uint64_t low, high, align;

	/* Windows' probe of the structure; other bad pointers fault */
	if (!r)
		return ERROR_NOACCESS;
	low = (uintptr_t)r->LowestStartingAddress;
	high = (uintptr_t)r->HighestEndingAddress;
	align = r->Alignment;
	if (align && ((align & (align - 1)) || align < NTMEM__GRANULE))
		return ERROR_INVALID_PARAMETER;
	if (low && (low >= NTMEM_MAX_ADDRESS || low % NTMEM__GRANULE))
		return ERROR_INVALID_PARAMETER;
	/* the last byte of a page, at most lpMaximumApplicationAddress */
	if (high && (high > NTMEM__MAX_USER || high <= low ||
		     (high + 1) % NTMEM__PAGE))
		return ERROR_INVALID_PARAMETER;
	b->lowest = low;
	b->alignment = align;
	b->highest = high;
	/*
	 * The kernel keeps a reservation's whole last granule inside the
	 * bounds, so it takes a last byte just below a granule: a bound in
	 * mid-granule loses that granule.  What leaves no room at all (or
	 * an alignment past the user range) can hold nothing: ENOMEM's
	 * answer, given once every argument is checked.
	 */
	if (high && (high + 1) % NTMEM__GRANULE) {
		uint64_t end = DOWN(high + 1, NTMEM__GRANULE);

		if (end <= (low ? low : NTMEM_MIN_ADDRESS))
			b->empty = true;
		b->highest = end - 1;
	}
	if (align >= NTMEM_MAX_ADDRESS)
		b->empty = true;
	return 0;
}

DWORD ntmem__extended_params(const MEM_EXTENDED_PARAMETER *params,
			     ULONG count, struct ntmem__bounds *b)
{
	DWORD unsupported = 0, code;
	uint32_t seen = 0;

	memset(b, 0, sizeof(*b));
	if (count && !params)
		return ERROR_INVALID_PARAMETER;
	for (ULONG i = 0; i < count; i++) {
		unsigned int type = params[i].Type;

		if (type == MemExtendedParameterInvalidType ||
		    type >= MemExtendedParameterMax || (seen & (1u << type)))
			return ERROR_INVALID_PARAMETER;
		seen |= 1u << type;
		switch (type) {
		case MemExtendedParameterAddressRequirements:
			code = requirements(params[i].Pointer, b);
			if (code)
				return code;
			break;
		case MemExtendedParameterNumaNode:
			break;
		case MemExtendedParameterAttributeFlags:
			if (params[i].ULong)
				unsupported = ERROR_NOT_SUPPORTED;
			break;
		default:	/* partitions, AWE, image machines */
			unsupported = ERROR_NOT_SUPPORTED;
			break;
		}
	}
	return unsupported;
}
