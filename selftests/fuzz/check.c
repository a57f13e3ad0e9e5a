// SPDX-License-Identifier: GPL-2.0
/*
 * After every op: what QUERY (ioctl or VirtualQuery) reports for each
 * region of the slot and for its slack, the contents of every readable
 * page, one access that must fault (at the exact byte), and the
 * write-watch set.  Nothing here changes the model, except settling what
 * the model left open (a reset page's contents, a known defect's dirty bit).
 * After a round: the module's counters against the model's totals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <ntmem/windows.h>
#include "fuzz.h"
#include "../ntmem_util.h"

static int query(struct fz_ctx *c, bool win32, uintptr_t a,
		 struct ntmem_query *q)
{
	memset(q, 0, sizeof(*q));
	if (win32) {
		MEMORY_BASIC_INFORMATION mbi;

		if (VirtualQuery((void *)a, &mbi, sizeof(mbi)) != sizeof(mbi))
			return fz_fail(c, "VirtualQuery(%#lx): error %u",
				       (unsigned long)a, (unsigned)GetLastError());
		q->base = (uintptr_t)mbi.BaseAddress;
		q->alloc_base = (uintptr_t)mbi.AllocationBase;
		q->alloc_protect = mbi.AllocationProtect;
		q->region_size = mbi.RegionSize;
		q->state = mbi.State;
		q->protect = mbi.Protect;
		q->type = mbi.Type;
		return 0;
	}
	q->size = sizeof(*q);
	q->addr = a;
	if (ioctl(c->fd, NTMEM_IOC_QUERY, q))
		return fz_fail(c, "QUERY(%#lx): %s", (unsigned long)a,
			       strerror(errno));
	return 0;
}

static int check_query(struct fz_ctx *c, int si, bool win32, uint64_t *rng)
{
	struct fz_slot *s = &c->m.s[si];
	struct ntmem_query q;
	unsigned i = 0;

	while (i < s->npages) {
		struct fz_page *p = &s->pg[i];
		uintptr_t a = s->base + i * FZ_PAGE + fz_below(rng, FZ_PAGE);
		unsigned j = i + 1;

		while (j < s->npages && s->pg[j].committed == p->committed &&
		       s->pg[j].prot == p->prot)
			j++;
		if (query(c, win32, a, &q))
			return -1;
		if (q.base != s->base + i * FZ_PAGE || q.alloc_base != s->base ||
		    q.alloc_protect != s->alloc_protect ||
		    q.region_size != (j - i) * FZ_PAGE ||
		    q.state != (p->committed ? NTMEM_STATE_COMMIT :
					       NTMEM_STATE_RESERVE) ||
		    q.protect != p->prot || q.type != NTMEM_TYPE_PRIVATE ||
		    (!win32 && q.alloc_size != s->npages * FZ_PAGE))
			return fz_fail(c, "%s(%#lx): base %#llx alloc %#llx/%#x size %#llx state %#x prot %#x type %#x; model: base %#lx alloc %#lx/%#x size %#lx state %s prot %#x",
				       win32 ? "VirtualQuery" : "QUERY",
				       (unsigned long)a,
				       (unsigned long long)q.base,
				       (unsigned long long)q.alloc_base,
				       q.alloc_protect,
				       (unsigned long long)q.region_size,
				       q.state, q.protect, q.type,
				       (unsigned long)(s->base + i * FZ_PAGE),
				       (unsigned long)s->base, s->alloc_protect,
				       (unsigned long)(j - i) * FZ_PAGE,
				       p->committed ? "commit" : "reserve",
				       p->prot);
		i = j;
	}
	/* the slack after the end of the allocation is free (spec 3) */
	if ((s->npages * FZ_PAGE) % FZ_GRAN) {
		uintptr_t a = s->base + s->npages * FZ_PAGE;

		if (query(c, win32, a, &q))
			return -1;
		if (q.state != NTMEM_STATE_FREE || q.alloc_base ||
		    q.protect != NTMEM_PAGE_NOACCESS || q.type)
			return fz_fail(c, "query(slack %#lx): state %#x alloc %#llx prot %#x",
				       (unsigned long)a, q.state,
				       (unsigned long long)q.alloc_base,
				       q.protect);
	}
	return 0;
}

/* Every committed, readable, unguarded page holds what the model says. */
static int check_contents(struct fz_ctx *c, int si)
{
	struct fz_slot *s = &c->m.s[si];

	for (unsigned i = 0; i < s->npages; i++) {
		struct fz_page *p = &s->pg[i];
		uintptr_t page = s->base + i * FZ_PAGE;

		if (!p->committed || (p->prot & NTMEM_PAGE_GUARD) ||
		    !prot_can_read(p->prot))
			continue;
		if (p->maybe_zero) {
			if (resolve_reset(c, page, p))
				return -1;
			/* still reset: may yet be dropped */
			p->maybe_zero = true;
			continue;
		}
		for (unsigned k = 0; k < FZ_ITEMS; k++) {
			uint64_t v = *(volatile uint64_t *)(page + fz_item_off[k]);

			if (v != p->item[k])
				return fz_fail(c, "contents %#lx: %#llx, model %#llx",
					       (unsigned long)(page + fz_item_off[k]),
					       (unsigned long long)v,
					       (unsigned long long)p->item[k]);
		}
		c->checks++;
	}
	return 0;
}

/* One page the model says is inaccessible (not a guard) must fault. */
static int check_fault(struct fz_ctx *c, int si, uint64_t *rng)
{
	struct fz_slot *s = &c->m.s[si];
	unsigned i = fz_below(rng, s->npages);
	struct fz_page *p = &s->pg[i];
	uintptr_t a = s->base + i * FZ_PAGE + 8 * fz_below(rng, FZ_PAGE / 8);
	uint64_t v;
	int sig;
	void *f;

	if (p->committed && (prot_can_read(p->prot) || (p->prot & NTMEM_PAGE_GUARD)))
		return 0;
	f = fz_access(A_READ, a, &v, &sig, NULL);
	if ((uintptr_t)f != a || sig != SIGSEGV)
		return fz_fail(c, "read %#lx (%s): fault %p signal %d, model: SIGSEGV there",
			       (unsigned long)a, p->committed ? "NOACCESS" : "reserved",
			       f, sig);
	c->faults++;
	return 0;
}

/* The write-watch set equals the model's dirty pages. */
static int check_ww(struct fz_ctx *c, int si)
{
	struct fz_slot *s = &c->m.s[si];
	uint64_t out[FZ_MAXPAGES];
	struct ntmem_write_watch w = {
		.size = sizeof(w), .addr = s->base,
		.length = s->npages * FZ_PAGE, .pages = (uintptr_t)out,
		.count = FZ_MAXPAGES,
	};
	bool kdirty[FZ_MAXPAGES] = { 0 };

	if (!s->ww)
		return 0;
	if (ioctl(c->fd, NTMEM_IOC_GET_WRITE_WATCH, &w))
		return fz_fail(c, "GET_WRITE_WATCH(slot): %s", strerror(errno));
	for (unsigned k = 0; k < w.count; k++) {
		uint64_t i = (out[k] - s->base) / FZ_PAGE;

		if (out[k] < s->base || i >= s->npages || out[k] % FZ_PAGE ||
		    (k && out[k] <= out[k - 1]))
			return fz_fail(c, "write watch: bad entry %#llx",
				       (unsigned long long)out[k]);
		kdirty[i] = true;
	}
	for (unsigned i = 0; i < s->npages; i++) {
		struct fz_page *p = &s->pg[i];

		if (p->dirty_maybe) {
			/* a known defect left it open: take the kernel's word */
			if (kdirty[i] != p->dirty && p->dirty_maybe > 1)
				fz_known(c, p->dirty_maybe);
			p->dirty = kdirty[i];
			p->dirty_maybe = 0;
		}
		if (kdirty[i] != p->dirty)
			return fz_fail(c, "write watch: page %#lx %s, model says %s",
				       (unsigned long)(s->base + i * FZ_PAGE),
				       kdirty[i] ? "dirty" : "clean",
				       p->dirty ? "dirty" : "clean");
	}
	return 0;
}

int check_slot(struct fz_ctx *c, int si, uint64_t *rng)
{
	if (si < 0 || !c->m.s[si].used)
		return 0;
	if (check_query(c, si, fz_below(rng, 2), rng) || check_contents(c, si) ||
	    check_fault(c, si, rng) || check_ww(c, si))
		return -1;
	c->checks++;
	return 0;
}

const char *const fz_counter_names[FZ_NCOUNTERS] = {
	"reservations", "committed_pages", "locked_pages", "resident_pages",
	"reset_pages",
};

int read_counters(long *v)
{
	int bad = 0;

	for (int i = 0; i < FZ_NCOUNTERS; i++)
		bad |= (v[i] = ntmem_counter(fz_counter_names[i])) < 0;
	return bad ? -1 : 0;
}

/*
 * The counters are module-wide: the fuzzer runs alone.  Reservations,
 * committed (charged) and locked pages since @start are exactly the
 * model's; resident and reset pages are the kernel's business (a fault
 * allocates, a reset page may be dropped any time).
 */
int check_counters(struct fz_ctx *c, const long *start)
{
	long want[3] = { 0, 0, 0 }, now[FZ_NCOUNTERS];

	if (start[0] < 0 || read_counters(now))
		return 0;	/* no counters: nothing to compare */
	for (int si = 0; si < FZ_SLOTS; si++) {
		const struct fz_slot *s = &c->m.s[si];

		if (!s->used)
			continue;
		want[0]++;
		for (unsigned i = 0; i < s->npages; i++) {
			want[1] += s->pg[i].committed;
			want[2] += s->pg[i].locked;
		}
	}
	for (int i = 0; i < 3; i++)
		if (now[i] - start[i] != want[i])
			return fz_fail(c, "counters: %s %+ld since the round began, model %+ld",
				       fz_counter_names[i], now[i] - start[i],
				       want[i]);
	return 0;
}
