// SPDX-License-Identifier: GPL-2.0
/*
 * The model: what Windows says each page of each reservation is (spec
 * sections 3 and 4).  Pure functions and small state changes; the rules
 * for each operation's result live with the operation in ops.c.
 */
#include <string.h>

#include "fuzz.h"

#define BASE(p)	((p) & 0xFFu)

bool prot_can_read(uint32_t p)
{
	/* x86-64 reads EXECUTE pages (spec 1.2). */
	return BASE(p) != NTMEM_PAGE_NOACCESS && BASE(p) != 0;
}

bool prot_can_write(uint32_t p)
{
	return BASE(p) == NTMEM_PAGE_READWRITE ||
	       BASE(p) == NTMEM_PAGE_EXECUTE_READWRITE;
}

bool prot_can_exec(uint32_t p)
{
	return BASE(p) == NTMEM_PAGE_EXECUTE ||
	       BASE(p) == NTMEM_PAGE_EXECUTE_READ ||
	       BASE(p) == NTMEM_PAGE_EXECUTE_READWRITE;
}

/* Spec 1.2 rules 1-3 (the raw ABI has no CFG bit, rule 4). */
bool prot_valid(uint32_t p)
{
	uint32_t mods = p & (NTMEM_PAGE_GUARD | NTMEM_PAGE_NOCACHE |
			     NTMEM_PAGE_WRITECOMBINE);

	if (p & ~(0xFFu | mods))
		return false;
	switch (BASE(p)) {
	case NTMEM_PAGE_NOACCESS:
		return !mods;
	case NTMEM_PAGE_READONLY:
	case NTMEM_PAGE_READWRITE:
	case NTMEM_PAGE_EXECUTE:
	case NTMEM_PAGE_EXECUTE_READ:
	case NTMEM_PAGE_EXECUTE_READWRITE:
		return !(mods & (mods - 1));
	default:
		return false;
	}
}

/* NOCACHE and WRITECOMBINE belong to the allocation (spec 4.1.5, 4.4). */
uint32_t prot_with_alloc(const struct fz_slot *s, uint32_t prot)
{
	const uint32_t cache = NTMEM_PAGE_NOCACHE | NTMEM_PAGE_WRITECOMBINE;

	return (prot & ~cache) | (s->alloc_protect & cache);
}

int model_slot_of(const struct fz_model *m, uintptr_t a)
{
	for (int i = 0; i < FZ_SLOTS; i++)
		if (m->s[i].used && a >= m->s[i].base &&
		    a < m->s[i].base + m->s[i].npages * FZ_PAGE)
			return i;
	return -1;
}

int model_slot_range(const struct fz_model *m, uintptr_t start, uintptr_t end)
{
	int i = model_slot_of(m, start);

	if (i < 0 || end <= start ||
	    end > m->s[i].base + m->s[i].npages * FZ_PAGE)
		return -1;
	return i;
}

/* Reserved -> committed reads as zero and starts clean (spec 4.1.5). */
void model_commit_page(struct fz_page *p, uint32_t prot)
{
	if (!p->committed) {
		memset(p, 0, sizeof(*p));
		p->committed = true;
	}
	p->prot = prot;
}

/* Decommit forgets everything about the page (spec 4.2). */
void model_decommit_page(struct fz_page *p)
{
	memset(p, 0, sizeof(*p));
}

/* Never 0, so that a written item differs from a zero page. */
uint64_t item_value(uintptr_t page, unsigned item, uint64_t gen)
{
	uint64_t v = (page * 0x9E3779B97F4A7C15ULL) ^ (gen << 8) ^ item;

	return v ? v : 1;
}
