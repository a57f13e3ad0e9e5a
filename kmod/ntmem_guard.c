// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: guard pages that fire.
 *
 * Telling a guard-page fault from an access violation: both reach the
 * program as SIGSEGV at the faulting address (VM_FAULT_SIGSEGV gives no
 * room for more), so the fault path remembers, per thread, where its last
 * guard fired, and NTMEM_IOC_GUARD_HIT answers the signal handler.
 *
 * A guard hit by the kernel itself (a system call writing the buffer, GUP)
 * must make the whole system call fail: the kernel retries a faulting
 * access (the uaccess tail copy, fault-in loops), so the guard stays armed
 * until the call returns to user space, and task work disarms it then.
 * No SIGSEGV is sent for such a fault, so none is remembered either.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>

#include "ntmem.h"

/* Page @idx keeps its protection without the guard.  mmap_lock held. */
void ntmem_guard_disarm(struct ntmem_region *r, pgoff_t idx)
{
	u32 prot = ntmem_page_prot(r, idx);

	if (prot & NTMEM_PAGE_GUARD)
		mtree_store_range(&r->state, idx, idx,
				  xa_mk_value(prot & ~NTMEM_PAGE_GUARD),
				  GFP_KERNEL);
}

struct ntmem_guard_work {
	struct callback_head cb;
	struct ntmem_region *r;		/* reference held */
	pgoff_t idx;
};

static void ntmem_guard_disarm_work(struct callback_head *cb)
{
	struct ntmem_guard_work *w = container_of(cb, struct ntmem_guard_work, cb);
	struct ntmem_region *r = w->r;
	struct mm_struct *mm = r->nm->mm;

	/* the task may be exiting, its mm already gone */
	if (mmget_not_zero(mm)) {
		mmap_read_lock(mm);
		if (!r->dead)
			ntmem_guard_disarm(r, w->idx);
		mmap_read_unlock(mm);
		mmput(mm);
	}
	ntmem_region_put(r);
	kfree(w);
}

/*
 * A kernel-mode access of the current process hit the guard of page @idx:
 * disarm it when the system call returns.  False if that cannot be
 * arranged (no memory, the task is exiting): the caller disarms it now.
 */
bool ntmem_guard_defer(struct ntmem_region *r, pgoff_t idx)
{
	struct ntmem_guard_work *w;

	if (current->mm != r->nm->mm || (current->flags & PF_KTHREAD))
		return false;
	w = kmalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return false;
	kref_get(&r->kref);
	w->r = r;
	w->idx = idx;
	init_task_work(&w->cb, ntmem_guard_disarm_work);
	if (task_work_add(current, &w->cb, TWA_RESUME)) {
		ntmem_region_put(r);
		kfree(w);
		return false;
	}
	return true;
}

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
