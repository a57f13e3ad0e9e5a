// SPDX-License-Identifier: LGPL-2.1-or-later
/* Page protections: which values Windows accepts for private memory. */
#include "internal.h"

#define BASE_MASK	0xFFu
#define MODIFIERS	(PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE)

/* Spec 1.2, rules 1 to 4; @writecopy: the WRITECOPY bases count too. */
static bool protect_valid(DWORD protect, bool writecopy)
{
	DWORD base = protect & BASE_MASK;
	DWORD mods = protect & MODIFIERS;
	DWORD rest = protect & ~(BASE_MASK | MODIFIERS);
	bool exec = base == PAGE_EXECUTE || base == PAGE_EXECUTE_READ ||
		    base == PAGE_EXECUTE_READWRITE ||
		    base == PAGE_EXECUTE_WRITECOPY;

	switch (base) {
	case PAGE_NOACCESS:
	case PAGE_READONLY:
	case PAGE_READWRITE:
	case PAGE_EXECUTE:
	case PAGE_EXECUTE_READ:
	case PAGE_EXECUTE_READWRITE:
		break;
	case PAGE_WRITECOPY:
	case PAGE_EXECUTE_WRITECOPY:
		if (writecopy)
			break;
		return false;
	default:	/* 0 or two bits */
		return false;
	}
	if (mods & (mods - 1))
		return false;
	if (mods && base == PAGE_NOACCESS)
		return false;
	/* CFG's bit, with an executable base only; Linux has no CFG. */
	if (rest && !(rest == PAGE_TARGETS_INVALID && exec))
		return false;
	return true;
}

bool ntmem__protect_valid(DWORD protect)
{
	return protect_valid(protect, false);
}

bool ntmem__view_protect_valid(DWORD protect)
{
	return protect_valid(protect, true);
}

uint32_t ntmem__protect_to_kernel(DWORD protect)
{
	return protect & ~(DWORD)PAGE_TARGETS_INVALID;
}
