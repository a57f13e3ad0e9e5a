// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: telling a guard-page fault from an access violation.  Both reach
 * the program as SIGSEGV at the faulting address (VM_FAULT_SIGSEGV gives
 * no room for more), so the fault path remembers, per thread, where its
 * last guard fired, and NTMEM_IOC_GUARD_HIT answers the signal handler.
 */
#include <linux/sched.h>

#include "ntmem.h"

void ntmem_guard_record(struct ntmem_mm *nm, unsigned long addr)
{
	struct ntmem_guard_slot *slot = NULL;
	unsigned int i;

	spin_lock(&nm->guard_lock);
	for (i = 0; i < NTMEM_GUARD_SLOTS; i++)
		if (nm->guard_hits[i].addr && nm->guard_hits[i].tid == current->pid)
			slot = &nm->guard_hits[i];
	if (!slot) {
		slot = &nm->guard_hits[nm->guard_next];
		nm->guard_next = (nm->guard_next + 1) % NTMEM_GUARD_SLOTS;
	}
	slot->tid = current->pid;
	slot->addr = addr & PAGE_MASK;
	spin_unlock(&nm->guard_lock);
}

/* Was the calling thread's last guard hit on @addr's page?  Answers once. */
bool ntmem_guard_take(struct ntmem_mm *nm, unsigned long addr)
{
	bool hit = false;
	unsigned int i;

	spin_lock(&nm->guard_lock);
	for (i = 0; i < NTMEM_GUARD_SLOTS; i++) {
		struct ntmem_guard_slot *slot = &nm->guard_hits[i];

		if (slot->addr && slot->tid == current->pid) {
			hit = slot->addr == (addr & PAGE_MASK);
			slot->addr = 0;
		}
	}
	spin_unlock(&nm->guard_lock);
	return hit;
}
