// SPDX-License-Identifier: GPL-2.0
/*
 * Ops: generation from the seed, and for each kind what the kernel (raw
 * ioctl, include/uapi/ntmem.h) or libntmem (Win32, spec section 4) must
 * answer given the model, the call itself, and the model update.
 *
 * Relaxations (where the semantics leave a choice), each marked RELAX:
 *  - RESET_UNDO may fail with EBUSY if a page of the range was reset;
 *  - a reset page reads as its old contents or zeros (all of it, one or
 *    the other), until written;
 *  - GET_WRITE_WATCH with a bad output buffer and no dirty page in the
 *    range may succeed (nothing to copy);
 *  - a straddling store whose second page faults may leave the first page
 *    marked written;
 *  - an executable page is only run when the model knows it holds code.
 * Choices where the spec is silent follow the uapi and are strict: LOCK
 * probes pages in order (the first reserved/NOACCESS page or armed guard
 * decides), GUP (process_vm_*) never sees executable pages.
 * Known defects (issue 11 items, --known) are marked KNOWN(n).
 * An op with inject=N arms fail-nth around its module call (inject.c):
 * inject_clean() there means an injected failure, which changes nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ntmem/windows.h>
#include "fuzz.h"
#include "../ntmem_util.h"

#define MAXADDR		NTMEM_MAX_ADDRESS
#define KADDR		0xffff888000000000UL
#define CODE_WORD	0x00c30000002ab8ULL	/* mov eax, 42; ret */

static const uint32_t valid_prots[] = {
	NTMEM_PAGE_NOACCESS, NTMEM_PAGE_READONLY, NTMEM_PAGE_READWRITE,
	NTMEM_PAGE_EXECUTE, NTMEM_PAGE_EXECUTE_READ,
	NTMEM_PAGE_EXECUTE_READWRITE,
	NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD,
	NTMEM_PAGE_READONLY | NTMEM_PAGE_GUARD,
	NTMEM_PAGE_EXECUTE_READWRITE | NTMEM_PAGE_GUARD,
	NTMEM_PAGE_READWRITE, NTMEM_PAGE_READWRITE,
	NTMEM_PAGE_READWRITE | NTMEM_PAGE_NOCACHE,
	NTMEM_PAGE_EXECUTE_READ | NTMEM_PAGE_WRITECOMBINE,
};
static const uint32_t bad_prots[] = {
	0, 0x03, 0x06, 0x08, 0x80, 0x30, NTMEM_PAGE_NOACCESS | NTMEM_PAGE_GUARD,
	NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD | NTMEM_PAGE_NOCACHE, 0x800,
	0x10004,
};

/*
 * PAGE_WRITECOPY and PAGE_EXECUTE_WRITECOPY: PROTECT takes them to the
 * region, which refuses them outside a copy-on-write view (EINVAL), so
 * outside any region they fail as the range does (ENXIO).
 */
static bool prot_is_copy(uint32_t p)
{
	return p == NTMEM_PAGE_WRITECOPY || p == NTMEM_PAGE_EXECUTE_WRITECOPY;
}

uint64_t fz_rand(uint64_t *s)
{
	/* splitmix64: small, seedable, good enough */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

void gen_op(uint64_t *r, struct fz_op *op, enum fz_mode mode)
{
	static const uint8_t weights[K_NKINDS] = {
		[K_RESERVE] = 6, [K_RESERVE_ADJ] = 2, [K_RELEASE] = 3,
		[K_COMMIT] = 12, [K_DECOMMIT] = 5, [K_RESET] = 3,
		[K_RESET_UNDO] = 3, [K_LOCK] = 4, [K_UNLOCK] = 3,
		[K_PROTECT] = 9, [K_GET_WW] = 5, [K_RESET_WW] = 2,
		[K_QUERY] = 2, [K_READ] = 8, [K_WRITE] = 12, [K_EXEC] = 4,
		[K_PIPE_IN] = 4, [K_PIPE_OUT] = 3, [K_PVM_WRITE] = 3,
		[K_PVM_READ] = 3, [K_GUARD_HIT] = 1,
	};
	unsigned total = 0, pick;

	for (int k = 0; k < K_NKINDS; k++)
		total += weights[k];
	pick = fz_below(r, total);
	memset(op, 0, sizeof(*op));
	for (op->kind = 0; pick >= weights[op->kind]; op->kind++)
		pick -= weights[op->kind];
	op->slot = fz_below(r, FZ_SLOTS);
	op->first = fz_below(r, FZ_MAXPAGES);
	op->npages = fz_below(r, 4) ? 1 + fz_below(r, 4) : 1 + fz_below(r, 16);
	op->item = fz_below(r, FZ_ITEMS);
	op->flags = fz_below(r, 256);
	op->prot = valid_prots[fz_below(r, N(valid_prots))];
	op->sub = (uint32_t)fz_rand(r);
	op->gen = fz_rand(r);
	op->api = mode == MODE_BOTH ? fz_below(r, 2) :
		  mode == MODE_WIN32 ? API_WIN32 : API_IOCTL;
	if (op->kind >= K_READ && op->kind != K_GUARD_HIT)
		op->defect = D_NONE;
	else if (fz_below(r, 4) == 0)
		op->defect = 1 + fz_below(r, D_NDEFECTS - 1);
	if (op->defect == D_BAD_PROT)
		op->prot = bad_prots[fz_below(r, N(bad_prots))];
}

static const char *const kind_names[K_NKINDS] = {
	"reserve", "reserve_adj", "release", "commit", "decommit", "reset",
	"reset_undo", "lock", "unlock", "protect", "get_ww", "reset_ww",
	"query", "read", "write", "exec", "pipe_in", "pipe_out", "pvm_write",
	"pvm_read", "guard_hit",
};

void op_format(const struct fz_op *op, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s slot=%u first=%u npages=%u item=%u flags=0x%x prot=0x%x sub=0x%x gen=0x%llx defect=%u",
		 kind_names[op->kind], op->api ? "win32" : "ioctl", op->slot,
		 op->first, op->npages, op->item, op->flags, op->prot, op->sub,
		 (unsigned long long)op->gen, op->defect);
	if (op->inject) {
		size_t l = strlen(buf);

		snprintf(buf + l, len - l, " inject=%u", op->inject);
	}
}

int op_parse(const char *line, struct fz_op *op)
{
	char kind[32], api[8];
	unsigned slot, first, npages, item, flags, prot, sub, defect, inject = 0;
	unsigned long long gen;
	int n = sscanf(line, "%31s %7s slot=%u first=%u npages=%u item=%u flags=0x%x prot=0x%x sub=0x%x gen=0x%llx defect=%u inject=%u",
		       kind, api, &slot, &first, &npages, &item, &flags, &prot,
		       &sub, &gen, &defect, &inject);

	if (n != 11 && n != 12)	/* inject=N is there only when armed */
		return -1;
	memset(op, 0, sizeof(*op));
	for (op->kind = 0; op->kind < K_NKINDS; op->kind++)
		if (!strcmp(kind, kind_names[op->kind]))
			break;
	if (op->kind == K_NKINDS || slot >= FZ_SLOTS || defect >= D_NDEFECTS)
		return -1;
	op->api = !strcmp(api, "win32");
	op->slot = slot, op->first = first, op->npages = npages;
	op->item = item % FZ_ITEMS, op->flags = flags, op->prot = prot;
	op->sub = sub, op->gen = gen, op->defect = defect;
	op->inject = inject > 255 ? 255 : inject;
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

int fz_fail(struct fz_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->why[0]) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void fz_known(struct fz_ctx *c, int n)
{
	c->known_hits[n]++;
}

static const char *err_name(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ENXIO: return "ENXIO";
	case EEXIST: return "EEXIST";
	case ENODATA: return "ENODATA";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case EAGAIN: return "EAGAIN";
	case ENOLCK: return "ENOLCK";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* Compare an outcome with the expected one (or an allowed alternative). */
static int expect_err(struct fz_ctx *c, const char *what, int got, int want,
		      int alt)
{
	if (got == want || (alt >= 0 && got == alt))
		return 0;
	return fz_fail(c, "%s: got %s, model says %s", what, err_name(got),
		       err_name(want));
}

static int expect_le(struct fz_ctx *c, const char *what, DWORD got,
		     DWORD want, DWORD alt)
{
	if (got == want || got == alt)
		return 0;
	return fz_fail(c, "%s: GetLastError %u, model says %u", what,
		       (unsigned)got, (unsigned)want);
}

/*
 * Issue a struct ioctl with the op's struct-level defect applied: a size
 * below the minimum, or a larger struct with a zero or non-zero tail.
 * Returns 0 or -errno; copies the output back.
 */
static int raw_ioctl(struct fz_ctx *c, const struct fz_op *op,
		     unsigned long cmd, void *arg, size_t ksize)
{
	uint64_t buf[32];
	int ret;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, arg, ksize);
	uint32_t usize = ksize;

	if (op->defect == D_SMALL_SIZE)
		usize = op->sub % 8;
	if (op->defect == D_BIG_SIZE_TAIL || op->defect == D_BIG_SIZE_ZERO) {
		usize = ksize + 16;
		if (op->defect == D_BIG_SIZE_TAIL)
			buf[ksize / 8 + 1 - (op->sub & 1)] = op->gen | 1;
	}
	/*
	 * The last word: reserved (EINVAL unless 0), or in QUERY's and
	 * GET_WRITE_WATCH's struct an out-pointer, which a kernel address
	 * fails (EFAULT).
	 */
	if (op->defect == D_RESERVED_FIELD)
		buf[ksize / 8 - 1] = op->gen | 1ULL << 63 | 1;
	memcpy(buf, &usize, sizeof(usize));
	inject_arm(c, op);
	ret = ioctl(c->fd, cmd, buf) < 0 ? -errno : 0;
	inject_disarm(c);
	memcpy(arg, buf, ksize);
	return ret;
}

/* Struct-level defects decide the result before anything else. */
static int struct_defect_err(const struct fz_op *op)
{
	switch (op->defect) {
	case D_SMALL_SIZE:
	case D_RESERVED_FIELD:
		return EINVAL;
	case D_BIG_SIZE_TAIL:
		return E2BIG;
	}
	return 0;
}

/* The same for QUERY and GET_WRITE_WATCH, whose last word is a pointer. */
static int pointer_defect_err(const struct fz_op *op)
{
	return op->defect == D_RESERVED_FIELD ? EFAULT : struct_defect_err(op);
}

static struct fz_slot *slot_of(struct fz_ctx *c, const struct fz_op *op)
{
	return &c->m.s[op->slot];
}

/*
 * The range an op acts on: pages of its slot (clamped inside unless the
 * op means to run past the end), the hole if the slot is empty, or what
 * its address defect says.  *malformed: the raw ABI must say EINVAL.
 */
static void op_range(struct fz_ctx *c, const struct fz_op *op, uint64_t *addr,
		     uint64_t *len, bool *malformed)
{
	struct fz_slot *s = slot_of(c, op);
	unsigned first = op->first, n = op->npages;

	*malformed = false;
	if (s->used && op->defect != D_PAST_END) {
		first %= s->npages;
		if (first + n > s->npages)
			n = s->npages - first;
	} else if (s->used) {
		first = s->npages - 1 - first % s->npages;
		n = s->npages - first + 1 + n % 4;
	}
	*addr = (s->used ? s->base : c->hole) + first * FZ_PAGE;
	*len = n * FZ_PAGE;
	switch (op->defect) {
	case D_UNALIGNED_ADDR:
		*addr += 1 + op->sub % (FZ_PAGE - 1);
		*malformed = true;
		break;
	case D_UNALIGNED_LEN:
		*len += 1 + op->sub % (FZ_PAGE - 1);
		*malformed = true;
		break;
	case D_ZERO_LEN:
		*len = 0;
		*malformed = true;
		break;
	case D_HUGE_LEN:
		*len = (MAXADDR + FZ_PAGE) & ~(FZ_PAGE - 1);
		*malformed = true;
		break;
	case D_WRAP:
		*len = -(*addr) & ~(FZ_PAGE - 1);
		*malformed = true;
		break;
	case D_FOREIGN:
		*addr = c->foreign;
		break;
	case D_FREE:
		*addr = c->hole + (op->sub % 8) * FZ_GRAN;
		break;
	case D_LOW_ADDR:
		*addr = (op->sub & 1) ? FZ_PAGE : 0;
		*malformed = true;
		break;
	case D_KERNEL_ADDR:
		*addr = KADDR;
		*malformed = true;
		break;
	}
	/* past the end of a top-down reservation: out of the user range */
	if (*len < MAXADDR && *addr < MAXADDR && *addr + *len > MAXADDR)
		*malformed = true;
}

/* Does any mapping of the process intersect [a, a+len)? */
static bool mapped(uintptr_t a, uint64_t len)
{
	struct maps_entry e;

	return maps_find(0, (void *)a, &e) || maps_next_start((void *)a) < a + len;
}

/* Win32 argument checks shared by most range calls (spec 4.1.1, 4.4). */
static bool win32_range_bad(uint64_t addr, uint64_t len)
{
	return addr > MAXADDR - 1 || len > MAXADDR - addr;
}

/* ---- reservations --------------------------------------------------------- */

static void model_reserve(struct fz_slot *s, uintptr_t base, unsigned npages,
			  uint32_t prot, bool commit, bool ww)
{
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->base = base;
	s->npages = npages;
	s->alloc_protect = prot;
	s->ww = ww;
	if (commit)
		for (unsigned i = 0; i < npages; i++)
			model_commit_page(&s->pg[i], prot_with_alloc(s, prot));
}

static int op_reserve(struct fz_ctx *c, const struct fz_op *op, bool adjacent)
{
	struct fz_slot *s = slot_of(c, op), *o = &c->m.s[(op->slot + 1 +
					op->sub % (FZ_SLOTS - 1)) % FZ_SLOTS];
	bool commit = op->flags & 1, ww = op->flags & 2, top = op->flags & 4;
	unsigned npages = 1 + op->gen % 16;
	uint64_t len = npages * FZ_PAGE - ((op->flags & 8) ? op->sub % FZ_PAGE : 0);
	uint64_t addr = 0;
	uint32_t prot = commit || op->api == API_WIN32 || (op->flags & 16) ?
			op->prot : 0;
	bool fixed = false;
	int want = 0;
	char what[64];

	if (adjacent) {
		if (s->used || !o->used)
			return 0;
		addr = (o->base + o->npages * FZ_PAGE + FZ_GRAN - 1) & ~(FZ_GRAN - 1);
		fixed = true;
	} else if (s->used) {
		addr = s->base;		/* must conflict */
		fixed = true;
	}
	switch (op->defect) {
	case D_ZERO_LEN: len = 0; want = EINVAL; break;
	case D_HUGE_LEN: len = MAXADDR; want = EINVAL; break;
	case D_BAD_PROT:
		prot = op->prot;
		/* protect 0 is valid for a plain reservation (uapi) */
		want = prot || commit || op->api == API_WIN32 ? EINVAL : 0;
		break;
	case D_UNKNOWN_FLAG: want = EINVAL; break;
	case D_UNALIGNED_ADDR:
		/* inside the occupied slot's first page, or in the hole */
		addr = (fixed ? addr : c->hole + FZ_GRAN * (op->sub % 8)) +
		       (fixed ? 1 + op->sub % (FZ_PAGE - 1) : FZ_PAGE);
		want = op->api == API_IOCTL && fixed ? EINVAL : 0;
		fixed = fixed || op->api == API_WIN32;
		break;
	case D_LOW_ADDR: addr = FZ_PAGE; fixed = true; want = EINVAL; break;
	case D_KERNEL_ADDR: addr = KADDR; fixed = true; want = EINVAL; break;
	case D_FOREIGN: addr = c->foreign; fixed = true; break;
	case D_FREE: case D_PAST_END: case D_WRAP:
		if (!fixed)
			addr = c->hole + FZ_GRAN * (op->sub % 14);
		fixed = true;
		break;
	default:
		want = struct_defect_err(op);
	}
	if (op->api == API_WIN32 && (op->defect == D_SMALL_SIZE ||
	    op->defect == D_BIG_SIZE_TAIL || op->defect == D_RESERVED_FIELD))
		want = 0;
	if (op->api == API_WIN32 && op->defect == D_HUGE_LEN)
		len = MAXADDR + FZ_PAGE;
	/* Win32 wants a valid protection even to reserve (spec 4.1.1 #3). */
	if (op->api == API_WIN32 && !prot_valid(prot))
		want = EINVAL;
	snprintf(what, sizeof(what), "reserve%s %s", adjacent ? "_adj" : "",
		 op->api ? "VirtualAlloc" : "ioctl");

	uint64_t base = addr & ~(FZ_GRAN - 1);
	uint64_t end = ((addr + len + FZ_PAGE - 1) & ~(FZ_PAGE - 1));
	/* adjacent to a top-down reservation: past the user range */
	if (!want && fixed && len && len < MAXADDR && addr + len > MAXADDR)
		want = EINVAL;
	if (!want && fixed && mapped(base, end - base))
		want = EEXIST;
	if (!want && fixed && (end - base) / FZ_PAGE > FZ_MAXPAGES)
		return 0;	/* (cannot happen: sizes are bounded) */
	if (!want && s->used && !adjacent)
		want = EEXIST;

	if (op->api == API_IOCTL) {
		struct ntmem_reserve r = {
			.size = sizeof(r), .addr = addr, .length = len,
			.protect = prot,
			.flags = (fixed ? NTMEM_RESERVE_FIXED : 0) |
				 (commit ? NTMEM_RESERVE_COMMIT : 0) |
				 (ww ? NTMEM_RESERVE_WRITE_WATCH : 0) |
				 (top ? NTMEM_RESERVE_TOP_DOWN : 0),
		};
		int err;

		/* bits 5 and 6 are placeholders' (not in the model) */
		if (op->defect == D_UNKNOWN_FLAG)
			r.flags |= 128u << (op->sub % 25);
		/* a hint is not checked, only used if usable */
		if (op->defect == D_UNALIGNED_ADDR && !fixed)
			r.addr = addr;
		err = -raw_ioctl(c, op, NTMEM_IOC_RESERVE, &r, sizeof(r));
		if (inject_clean(c, err))
			return 0;
		if (expect_err(c, what, err, want, -1))
			return -1;
		if (err)
			return 0;
		if (r.addr & (FZ_GRAN - 1) || (fixed && r.addr != base))
			return fz_fail(c, "%s: base %#llx", what,
				       (unsigned long long)r.addr);
		if (r.length != ((len + FZ_PAGE - 1) & ~(FZ_PAGE - 1)))
			return fz_fail(c, "%s: length %#llx", what,
				       (unsigned long long)r.length);
		if (s->used)
			return fz_fail(c, "%s: reserved over slot", what);
		model_reserve(s, r.addr, r.length / FZ_PAGE, prot, commit, ww);
		return 0;
	}

	DWORD type = MEM_RESERVE | (commit ? MEM_COMMIT : 0) |
		     (ww ? MEM_WRITE_WATCH : 0) | (top ? MEM_TOP_DOWN : 0);
	static const DWORD bad_types[] = { MEM_DECOMMIT, MEM_RELEASE,
		MEM_RESET, MEM_ROTATE, AT_ROUND_TO_PAGE, 0x4 };
	if (op->defect == D_UNKNOWN_FLAG)
		type |= bad_types[op->sub % N(bad_types)];
	want = want == EINVAL ? ERROR_INVALID_PARAMETER :
	       want == EEXIST ? ERROR_INVALID_ADDRESS : 0;
	SetLastError(12345);
	inject_arm(c, op);
	void *p = VirtualAlloc((void *)(uintptr_t)addr, len, type,
			       op->prot);
	inject_disarm(c);
	DWORD le = p ? 0 : GetLastError();
	if (inject_clean_le(c, le))
		return 0;
	if (expect_le(c, what, le, want, want))
		return -1;
	if (!p)
		return 0;
	if (((uintptr_t)p & (FZ_GRAN - 1)) || (fixed && (uintptr_t)p != base))
		return fz_fail(c, "%s: returned %p", what, p);
	if (s->used)
		return fz_fail(c, "%s: reserved over slot", what);
	end = fixed ? end : (uintptr_t)p + ((len + FZ_PAGE - 1) & ~(FZ_PAGE - 1));
	model_reserve(s, (uintptr_t)p, (end - (uintptr_t)p) / FZ_PAGE, op->prot,
		      commit, ww);
	return 0;
}

static int op_release(struct fz_ctx *c, const struct fz_op *op)
{
	struct fz_slot *s = slot_of(c, op);
	uint64_t addr = s->used ? s->base : c->hole, len = 0;
	unsigned v = op->sub % 4;
	int want = 0;

	if (v == 1)
		len = s->npages * FZ_PAGE;
	if (v == 2)
		addr += FZ_PAGE;
	if (v == 3)
		len = FZ_PAGE;
	if (op->api == API_IOCTL) {
		switch (op->defect) {
		case D_UNALIGNED_ADDR: addr += 8; want = EINVAL; break;
		case D_UNALIGNED_LEN: len |= 8; want = EINVAL; break;
		case D_HUGE_LEN: len = MAXADDR; want = EINVAL; break;
		case D_LOW_ADDR: addr = 0; want = EINVAL; break;
		case D_KERNEL_ADDR: addr = KADDR; want = EINVAL; break;
		case D_UNKNOWN_FLAG: case D_BAD_PROT: want = EINVAL; break;
		case D_FOREIGN: addr = c->foreign; break;
		default: want = struct_defect_err(op);
		}
		/* the address may be another slot's base (the hole) */
		int ri = model_slot_of(&c->m, addr);
		if (ri >= 0)
			s = &c->m.s[ri];
		if (!want && (ri < 0 || addr != s->base))
			want = ENXIO;
		if (!want && len && len != s->npages * FZ_PAGE)
			want = EINVAL;
		struct ntmem_range r = { .size = sizeof(r), .addr = addr,
					 .length = len };
		/* bits 0 and 1 are placeholders' (not in the model) */
		if (op->defect == D_UNKNOWN_FLAG)
			r.flags = 4u << (op->sub % 30);
		if (op->defect == D_BAD_PROT)
			r.protect = op->prot | 1;
		int err = -raw_ioctl(c, op, NTMEM_IOC_RELEASE, &r, sizeof(r));
		if (inject_clean(c, err))
			return 0;
		if (expect_err(c, "release ioctl", err, want, -1))
			return -1;
		if (!err)
			s->used = false;
		return 0;
	}
	/* VirtualFree(MEM_RELEASE), spec 4.2 */
	DWORD type = MEM_RELEASE, le;
	if (v == 1)
		len = 0;		/* the Win32 form never has a size */
	if (op->defect == D_UNALIGNED_ADDR)
		addr += 1 + op->sub % (FZ_PAGE - 1);	/* rounds to the page */
	if (op->defect == D_UNKNOWN_FLAG)
		type |= (op->sub & 1) ? MEM_DECOMMIT : MEM_COMMIT;
	if (op->defect == D_FOREIGN)
		addr = c->foreign;
	if (op->defect == D_KERNEL_ADDR)
		addr = KADDR;
	if (op->defect == D_LOW_ADDR)
		addr = 0;
	int ri = addr < MAXADDR ? model_slot_of(&c->m, addr & ~(FZ_PAGE - 1)) : -1;
	if (ri >= 0)
		s = &c->m.s[ri];
	if (type != MEM_RELEASE || len || addr > MAXADDR - 1)
		want = ERROR_INVALID_PARAMETER;
	else if (ri < 0 || (addr & ~(FZ_PAGE - 1)) != s->base)
		want = ERROR_INVALID_ADDRESS;
	SetLastError(12345);
	inject_arm(c, op);	/* QUERY, then RELEASE: only one changes */
	le = VirtualFree((void *)(uintptr_t)addr, len, type) ? 0 : GetLastError();
	inject_disarm(c);
	if (inject_clean_le(c, le))
		return 0;
	if (expect_le(c, "VirtualFree(MEM_RELEASE)", le, want, want))
		return -1;
	if (!le)
		s->used = false;
	return 0;
}

/* ---- range operations ------------------------------------------------------ */

/* The expected result of a range op on well-formed arguments; no changes. */
static int range_semantics(struct fz_ctx *c, int kind, int si, uint64_t addr,
			   uint64_t len, int *guard_page)
{
	struct fz_slot *s = &c->m.s[si];
	unsigned first = (addr - s->base) / FZ_PAGE, n = len / FZ_PAGE;

	*guard_page = -1;
	switch (kind) {
	case K_LOCK:
		/* pages probed in order, as Windows does (kmod lock_probe) */
		for (unsigned i = first; i < first + n; i++) {
			if (!s->pg[i].committed ||
			    (s->pg[i].prot & 0xFF) == NTMEM_PAGE_NOACCESS)
				return EACCES;
			if (s->pg[i].prot & NTMEM_PAGE_GUARD) {
				*guard_page = i;
				return EAGAIN;
			}
		}
		return 0;
	case K_UNLOCK:
		for (unsigned i = first; i < first + n; i++)
			if (!s->pg[i].locked)
				return ENOLCK;
		return 0;
	case K_PROTECT:
		for (unsigned i = first; i < first + n; i++)
			if (!s->pg[i].committed)
				return ENODATA;
		return 0;
	case K_GET_WW:
	case K_RESET_WW:
		return s->ww ? 0 : ENXIO;
	}
	return 0;
}

/* Apply a successful range op to the model. */
static void range_apply(struct fz_ctx *c, int kind, int si, uint64_t addr,
			uint64_t len, uint32_t prot)
{
	struct fz_slot *s = &c->m.s[si];
	unsigned first = (addr - s->base) / FZ_PAGE, n = len / FZ_PAGE;

	for (unsigned i = first; i < first + n; i++) {
		struct fz_page *p = &s->pg[i];

		switch (kind) {
		case K_COMMIT:
			model_commit_page(p, prot_with_alloc(s, prot));
			break;
		case K_DECOMMIT:
			model_decommit_page(p);
			break;
		case K_RESET:
			/* locked pages are passed over (uapi: LOCK) */
			if (p->committed && !p->locked)
				p->maybe_zero = p->was_reset = true;
			break;
		case K_RESET_UNDO:
			p->maybe_zero = p->was_reset = false;
			break;
		case K_LOCK:
			p->locked = true;
			break;
		case K_UNLOCK:
			p->locked = false;
			break;
		case K_PROTECT:
			p->prot = prot_with_alloc(s, prot);
			break;
		case K_RESET_WW:
			p->dirty = false;
			p->dirty_maybe = 0;
			break;
		}
	}
}

static bool range_was_reset(struct fz_ctx *c, int si, uint64_t addr,
			    uint64_t len)
{
	struct fz_slot *s = &c->m.s[si];
	unsigned first = (addr - s->base) / FZ_PAGE;

	for (unsigned i = first; i < first + len / FZ_PAGE; i++)
		if (s->pg[i].was_reset)
			return true;
	return false;
}

/*
 * RESET_UNDO said EBUSY: no page is reset any more, but dropped pages read
 * as zero.  RELAX: maybe_zero stays until the page is read or written.
 */
static void undo_busy(struct fz_ctx *c, int si, uint64_t addr, uint64_t len)
{
	struct fz_slot *s = &c->m.s[si];

	for (unsigned i = (addr - s->base) / FZ_PAGE;
	     i < (addr + len - s->base) / FZ_PAGE; i++)
		s->pg[i].was_reset = false;
}

static const unsigned long range_cmd[K_NKINDS] = {
	[K_COMMIT] = NTMEM_IOC_COMMIT, [K_DECOMMIT] = NTMEM_IOC_DECOMMIT,
	[K_RESET] = NTMEM_IOC_RESET, [K_RESET_UNDO] = NTMEM_IOC_RESET_UNDO,
	[K_LOCK] = NTMEM_IOC_LOCK, [K_UNLOCK] = NTMEM_IOC_UNLOCK,
	[K_RESET_WW] = NTMEM_IOC_RESET_WRITE_WATCH,
};

static int op_range_ioctl(struct fz_ctx *c, const struct fz_op *op)
{
	uint64_t addr, len, mlen;
	bool malformed, whole;
	int want, si, gp = -1, err, alt = -1;
	uint32_t prot = op->kind == K_COMMIT ? op->prot : 0;
	uint32_t flags = op->kind == K_COMMIT ? (op->flags & 1) : 0;
	char what[32];

	op_range(c, op, &addr, &len, &malformed);
	/* DECOMMIT of length 0: the whole reservation based at @addr */
	whole = op->kind == K_DECOMMIT && op->defect == D_ZERO_LEN;
	want = malformed && !whole ? EINVAL : struct_defect_err(op);
	if (op->defect == D_UNKNOWN_FLAG) {
		flags |= 2u << (op->sub % 31);
		want = EINVAL;
	}
	bool copy = op->kind == K_COMMIT && op->defect == D_BAD_PROT &&
		    prot_is_copy(op->prot);

	if (op->defect == D_BAD_PROT) {
		prot = op->kind == K_COMMIT ? op->prot : (op->prot | 1);
		want = copy && !want ? 0 : EINVAL;
	}
	si = model_slot_range(&c->m, addr, addr + (whole ? FZ_PAGE : len));
	if (whole && si >= 0 && addr != c->m.s[si].base)
		si = -1;
	if (!want && si < 0)
		want = ENXIO;
	/* COMMIT takes a copy-on-write protection to the region, as PROTECT */
	if (!want && copy)
		want = EINVAL;
	mlen = whole && si >= 0 ? c->m.s[si].npages * FZ_PAGE : len;
	if (!want)
		want = range_semantics(c, op->kind, si, addr, mlen, &gp);
	if (!want && op->kind == K_RESET_UNDO && range_was_reset(c, si, addr, len))
		alt = EBUSY;	/* RELAX: a reset page may have been dropped */
	snprintf(what, sizeof(what), "%s ioctl", kind_names[op->kind]);
	struct ntmem_range r = { .size = sizeof(r), .flags = flags,
				 .addr = addr, .length = len, .protect = prot };
	err = -raw_ioctl(c, op, range_cmd[op->kind], &r, sizeof(r));
	if (inject_clean(c, err))
		return 0;
	if (expect_err(c, what, err, want, alt))
		return -1;
	if (gp >= 0)	/* LOCK met an armed guard: consumed, nothing locked */
		c->m.s[si].pg[gp].prot &= ~NTMEM_PAGE_GUARD;
	if (!err)
		range_apply(c, op->kind, si, addr, mlen, prot);
	if (err == EBUSY)
		undo_busy(c, si, addr, len);
	return 0;
}

static int op_protect_ioctl(struct fz_ctx *c, const struct fz_op *op)
{
	uint64_t addr, len;
	bool malformed;
	int want, si = -1, gp, err;
	struct ntmem_protect p;

	op_range(c, op, &addr, &len, &malformed);
	bool copy = op->defect == D_BAD_PROT && prot_is_copy(op->prot);

	want = malformed ? EINVAL : struct_defect_err(op);
	if (op->defect == D_UNKNOWN_FLAG || (op->defect == D_BAD_PROT && !copy))
		want = EINVAL;
	if (!want && (si = model_slot_range(&c->m, addr, addr + len)) < 0)
		want = ENXIO;
	if (!want && copy)
		want = EINVAL;
	if (!want)
		want = range_semantics(c, K_PROTECT, si, addr, len, &gp);
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.addr = addr;
	p.length = len;
	p.protect = op->prot;
	p.old_protect = op->sub;	/* an "out" field: ignored on input */
	if (op->defect == D_UNKNOWN_FLAG)
		p.flags = 1u << (op->sub % 32);
	err = -raw_ioctl(c, op, NTMEM_IOC_PROTECT, &p, sizeof(p));
	if (inject_clean(c, err))
		return 0;
	if (expect_err(c, "protect ioctl", err, want, -1))
		return -1;
	if (err)
		return 0;
	struct fz_slot *s = &c->m.s[si];
	uint32_t old = s->pg[(addr - s->base) / FZ_PAGE].prot;
	if (p.old_protect != old)
		return fz_fail(c, "protect ioctl: old_protect %#x, model %#x",
			       p.old_protect, old);
	range_apply(c, K_PROTECT, si, addr, len, op->prot);
	return 0;
}

/* Win32 forms of the range calls (spec 4.1.5-4.1.7, 4.2, 4.4, 4.5, 4.6). */
static int op_range_win32(struct fz_ctx *c, const struct fz_op *op)
{
	struct fz_slot *s = slot_of(c, op);
	uint64_t addr, len, start, end;
	bool malformed;
	DWORD want = 0, alt = 0, le = 0, old = 0xdead;
	int si, gp = -1, sem;
	uint32_t prot = op->prot;
	char what[40];

	op_range(c, op, &addr, &len, &malformed);
	/* Win32 rounds unaligned addresses and sizes: not malformed there. */
	if (op->defect == D_UNALIGNED_ADDR || op->defect == D_UNALIGNED_LEN)
		malformed = false;
	if (op->defect == D_UNALIGNED_ADDR)
		len -= 1;	/* stays inside the pages it started in */
	start = addr & ~(FZ_PAGE - 1);
	end = (addr + len + FZ_PAGE - 1) & ~(FZ_PAGE - 1);
	bool takes_prot = op->kind == K_COMMIT || op->kind == K_PROTECT ||
			  op->kind == K_RESET || op->kind == K_RESET_UNDO;
	bool takes_type = takes_prot && op->kind != K_PROTECT;
	/* VirtualProtect takes a copy-on-write protection to the region */
	bool copy = op->kind == K_PROTECT && op->defect == D_BAD_PROT &&
		    prot_is_copy(op->prot);

	if (!len || win32_range_bad(addr, len) || addr > MAXADDR - 1 ||
	    (op->defect == D_BAD_PROT && takes_prot && !copy) ||
	    (op->defect == D_UNKNOWN_FLAG && (takes_type || op->kind == K_DECOMMIT)))
		want = ERROR_INVALID_PARAMETER;
	if (op->defect == D_WRAP || op->defect == D_HUGE_LEN)
		want = ERROR_INVALID_PARAMETER;
	if (op->kind == K_RESET || op->kind == K_RESET_UNDO || op->kind == K_LOCK ||
	    op->kind == K_UNLOCK || op->kind == K_RESET_WW)
		prot = NTMEM_PAGE_NOACCESS;
	if (op->kind == K_RESET || op->kind == K_RESET_UNDO)
		prot = op->defect == D_BAD_PROT ? op->prot : NTMEM_PAGE_READONLY;
	si = want ? -1 : model_slot_range(&c->m, start, end);
	if (!want && op->defect == D_LOW_ADDR && addr) {
		/* non-NULL below 0x10000: VirtualAlloc's own check (87) */
		if (op->kind == K_COMMIT || op->kind == K_RESET ||
		    op->kind == K_RESET_UNDO)
			want = ERROR_INVALID_PARAMETER;
	}
	if (!want && op->defect == D_LOW_ADDR && !addr &&
	    (op->kind == K_COMMIT || op->kind == K_RESET || op->kind == K_RESET_UNDO))
		return 0;	/* NULL: a new allocation or 87; not this op's point */
	snprintf(what, sizeof(what), "%s win32", kind_names[op->kind]);

	switch (op->kind) {
	case K_COMMIT: case K_RESET: case K_RESET_UNDO: {
		DWORD type = op->kind == K_COMMIT ? MEM_COMMIT :
			     op->kind == K_RESET ? MEM_RESET : MEM_RESET_UNDO;
		if (op->defect == D_UNKNOWN_FLAG)
			type |= (op->sub & 1) ? MEM_WRITE_WATCH : MEM_RELEASE;
		if (!want && si < 0)
			want = ERROR_INVALID_ADDRESS;
		if (!want && op->kind == K_RESET_UNDO &&
		    range_was_reset(c, si, start, end - start))
			alt = ERROR_BUSY;
		SetLastError(12345);
		inject_arm(c, op);
		void *p = VirtualAlloc((void *)(uintptr_t)addr, len, type, prot);
		inject_disarm(c);
		le = p ? 0 : GetLastError();
		if (inject_clean_le(c, le))
			return 0;
		if (expect_le(c, what, le, want, alt))
			return -1;
		if (p && (uintptr_t)p != start)
			return fz_fail(c, "%s: returned %p, not %#lx", what, p,
				       (unsigned long)start);
		break;
	}
	case K_DECOMMIT: {
		DWORD type = MEM_DECOMMIT;
		if (op->defect == D_UNKNOWN_FLAG)
			type |= MEM_RELEASE;
		if (op->defect == D_ZERO_LEN)
			want = 0;	/* size 0: the whole allocation, from its base */
		si = model_slot_of(&c->m, start);
		if (!want && si < 0)
			want = ERROR_INVALID_ADDRESS;
		if (!want && !len && start != c->m.s[si].base)
			want = ERROR_INVALID_ADDRESS;
		if (!want && len && end > c->m.s[si].base +
		    c->m.s[si].npages * FZ_PAGE)
			want = ERROR_INVALID_PARAMETER;
		if (!want && !len) {
			start = c->m.s[si].base;
			end = start + c->m.s[si].npages * FZ_PAGE;
		}
		SetLastError(12345);
		inject_arm(c, op);	/* QUERY, then DECOMMIT */
		le = VirtualFree((void *)(uintptr_t)addr, len, type) ? 0 :
		     GetLastError();
		inject_disarm(c);
		if (inject_clean_le(c, le))
			return 0;
		if (expect_le(c, what, le, want, want))
			return -1;
		break;
	}
	case K_PROTECT: {
		PDWORD po = op->defect == D_BAD_BUF ? NULL : &old;
		if (!po)
			want = ERROR_NOACCESS;
		if (!want && op->defect == D_LOW_ADDR)
			want = ERROR_INVALID_ADDRESS;
		if (!want && si < 0)
			want = ERROR_INVALID_ADDRESS;
		if (!want && copy)
			want = ERROR_INVALID_PARAMETER;
		if (!want && range_semantics(c, K_PROTECT, si, start, end - start, &gp))
			want = ERROR_INVALID_ADDRESS;
		SetLastError(12345);
		le = VirtualProtect((void *)(uintptr_t)addr, len, prot, po) ? 0 :
		     GetLastError();
		if (expect_le(c, what, le, want, want))
			return -1;
		if (!le) {
			s = &c->m.s[si];
			uint32_t mo = s->pg[(start - s->base) / FZ_PAGE].prot;
			if (old != mo)
				return fz_fail(c, "%s: old %#x, model %#x", what,
					       (unsigned)old, mo);
		}
		break;
	}
	case K_LOCK: case K_UNLOCK: {
		DWORD outside = op->kind == K_LOCK ? ERROR_NOACCESS : ERROR_NOT_LOCKED;
		if (!want && si < 0)
			want = outside;
		if (!want) {
			sem = range_semantics(c, op->kind, si, start, end - start, &gp);
			want = sem == EACCES ? ERROR_NOACCESS :
			       sem == EAGAIN ? STATUS_GUARD_PAGE_VIOLATION :
			       sem == ENOLCK ? ERROR_NOT_LOCKED : 0;
		}
		SetLastError(12345);
		inject_arm(c, op);
		le = (op->kind == K_LOCK ? VirtualLock : VirtualUnlock)(
			(void *)(uintptr_t)addr, len) ? 0 : GetLastError();
		inject_disarm(c);
		if (inject_clean_le(c, le))
			return 0;
		if (expect_le(c, what, le, want, want))
			return -1;
		if (gp >= 0)
			c->m.s[si].pg[gp].prot &= ~NTMEM_PAGE_GUARD;
		break;
	}
	case K_RESET_WW: {
		if (!want && (si < 0 || !c->m.s[si].ww))
			want = ERROR_INVALID_PARAMETER;
		SetLastError(12345);
		inject_arm(c, op);
		le = ResetWriteWatch((void *)(uintptr_t)addr, len) ? GetLastError() : 0;
		inject_disarm(c);
		if (inject_clean_le(c, le))
			return 0;
		if (expect_le(c, what, le, want, want))
			return -1;
		break;
	}
	}
	if (!le)
		range_apply(c, op->kind, si, start, end - start, prot);
	if (le == ERROR_BUSY)
		undo_busy(c, si, start, end - start);
	return 0;
}

/* ---- write watch ------------------------------------------------------------ */

static int op_get_ww(struct fz_ctx *c, const struct fz_op *op)
{
	uint64_t addr, len, out[FZ_MAXPAGES + 4], cnt = 1 + op->gen % 8;
	bool malformed, reset = op->flags & 1, badbuf = op->defect == D_BAD_BUF;
	int want, si = -1, err, alt = -1;
	unsigned ndirty = 0;
	uint64_t expect[FZ_MAXPAGES];
	struct fz_slot *s = NULL;

	op_range(c, op, &addr, &len, &malformed);
	if (op->api == API_WIN32) {
		if (op->defect == D_UNALIGNED_ADDR || op->defect == D_UNALIGNED_LEN)
			malformed = false;
		if (op->defect == D_UNALIGNED_ADDR)
			len -= 1;
	}
	uint64_t start = addr & ~(FZ_PAGE - 1);
	uint64_t end = (addr + len + FZ_PAGE - 1) & ~(FZ_PAGE - 1);
	want = malformed ? EINVAL : 0;
	if (op->defect == D_UNKNOWN_FLAG)
		want = EINVAL;
	if (op->api == API_IOCTL && !want)
		want = pointer_defect_err(op);
	if (!want && (op->defect == D_LOW_ADDR || op->defect == D_KERNEL_ADDR))
		want = EINVAL;
	if (!want && (si = model_slot_range(&c->m, start, end)) < 0)
		want = op->api == API_WIN32 ? EINVAL : ENXIO;
	if (!want && !c->m.s[si].ww)
		want = op->api == API_WIN32 ? EINVAL : ENXIO;
	if (!want) {
		s = &c->m.s[si];
		for (unsigned i = (start - s->base) / FZ_PAGE;
		     i < (end - s->base) / FZ_PAGE; i++)
			if (s->pg[i].dirty && ndirty < cnt)
				expect[ndirty++] = s->base + i * FZ_PAGE;
		if (badbuf)
			want = EFAULT;
		if (badbuf && !ndirty)
			alt = 0;	/* RELAX: nothing to copy */
	}
	void *buf = badbuf ? (void *)c->nomem : out;

	if (op->api == API_IOCTL) {
		struct ntmem_write_watch w = {
			.size = sizeof(w), .flags = reset ? NTMEM_WRITE_WATCH_RESET : 0,
			.addr = addr, .length = len, .pages = (uintptr_t)buf,
			.count = cnt,
		};
		if (op->defect == D_UNKNOWN_FLAG)
			w.flags |= 2u << (op->sub % 31);
		err = -raw_ioctl(c, op, NTMEM_IOC_GET_WRITE_WATCH, &w, sizeof(w));
		if (inject_clean(c, err))
			return 0;
		if (expect_err(c, "get_ww ioctl", err, want, alt))
			return -1;
		cnt = w.count;
	} else {
		ULONG_PTR n = cnt;
		DWORD gran = 0, le, wle;
		wle = want == EINVAL ? ERROR_INVALID_PARAMETER :
		      want == EFAULT ? ERROR_NOACCESS : 0;
		SetLastError(12345);
		le = GetWriteWatch((reset ? WRITE_WATCH_FLAG_RESET : 0) |
				   (op->defect == D_UNKNOWN_FLAG ? 2 : 0),
				   (void *)(uintptr_t)addr, len, buf, &n, &gran) ?
		     GetLastError() : 0;
		if (expect_le(c, "GetWriteWatch", le, wle, alt == 0 ? 0 : wle))
			return -1;
		err = le ? EFAULT : 0;
		if (!le && gran != FZ_PAGE)
			return fz_fail(c, "GetWriteWatch: granularity %u", gran);
		cnt = n;
	}
	if (err == EFAULT && reset && ndirty) {
		/* KNOWN(4): pages cleaned before the copy faulted are lost */
		if (KNOWN(c, 4))
			for (unsigned k = 0; k < ndirty; k++)
				s->pg[(expect[k] - s->base) / FZ_PAGE].dirty_maybe = 4;
	}
	if (err)
		return 0;
	if (cnt != ndirty)
		return fz_fail(c, "get_ww: %llu pages, model %u",
			       (unsigned long long)cnt, ndirty);
	for (unsigned k = 0; k < ndirty; k++)
		if (out[k] != expect[k])
			return fz_fail(c, "get_ww: entry %u %#llx, model %#llx", k,
				       (unsigned long long)out[k],
				       (unsigned long long)expect[k]);
	if (reset)
		for (unsigned k = 0; k < ndirty; k++)
			s->pg[(expect[k] - s->base) / FZ_PAGE].dirty = false;
	return 0;
}

/* ---- query with malformed arguments ------------------------------------------ */

/* The state QUERY must report at @a: the model's, or free. */
static uint32_t model_state(struct fz_ctx *c, uintptr_t a)
{
	int si = model_slot_of(&c->m, a);

	if (si < 0)
		return NTMEM_STATE_FREE;
	return c->m.s[si].pg[(a - c->m.s[si].base) / FZ_PAGE].committed ?
	       NTMEM_STATE_COMMIT : NTMEM_STATE_RESERVE;
}

static int op_query(struct fz_ctx *c, const struct fz_op *op)
{
	struct ntmem_query q;
	int want = pointer_defect_err(op), err;
	uintptr_t a = c->hole + op->sub % (16 * FZ_GRAN);
	uint32_t st = model_state(c, a);

	if (op->api == API_WIN32) {
		MEMORY_BASIC_INFORMATION mbi;
		SIZE_T len = (op->sub & 1) ? 47 : sizeof(mbi), r;
		DWORD w = len < sizeof(mbi) ? ERROR_BAD_LENGTH :
			  op->defect == D_KERNEL_ADDR ? ERROR_INVALID_PARAMETER : 0;
		if (op->defect == D_BAD_BUF && !w)
			w = ERROR_NOACCESS;
		SetLastError(12345);
		r = VirtualQuery(op->defect == D_KERNEL_ADDR ? (void *)KADDR :
				 (void *)a, op->defect == D_BAD_BUF ?
				 NULL : &mbi, len);
		if (expect_le(c, "VirtualQuery", r ? 0 : GetLastError(), w, w))
			return -1;
		if (r && (r != sizeof(mbi) || mbi.State != st))
			return fz_fail(c, "VirtualQuery(hole): %zu state %#x", r,
				       mbi.State);
		return 0;
	}
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.addr = a;
	if (op->defect == D_UNKNOWN_FLAG) {
		q.flags = 1u << (op->sub % 32);
		want = EINVAL;
	}
	err = -raw_ioctl(c, op, NTMEM_IOC_QUERY, &q, sizeof(q));
	if (inject_clean(c, err))
		return 0;
	if (expect_err(c, "query ioctl", err, want, -1))
		return -1;
	if (!err && (q.state != st || (st == NTMEM_STATE_FREE &&
		     (q.alloc_base || q.protect != NTMEM_PAGE_NOACCESS || q.type))))
		return fz_fail(c, "query(hole): state %#x alloc_base %#llx",
			       q.state, (unsigned long long)q.alloc_base);
	return 0;
}

/* ---- accesses ------------------------------------------------------------------ */

/* NTMEM_IOC_GUARD_HIT, or NtmemIsGuardPageViolation, after a SIGSEGV. */
static int guard_answer(struct fz_ctx *c, const struct fz_op *op, uintptr_t a,
			const siginfo_t *si, bool guard)
{
	int hit;
	uintptr_t page = a & ~(FZ_PAGE - 1);

	if (op->api == API_WIN32) {
		hit = NtmemIsGuardPageViolation(si);
	} else {
		struct ntmem_guard_hit g = { .size = sizeof(g), .addr = a };

		if (ioctl(c->fd, NTMEM_IOC_GUARD_HIT, &g))
			return fz_fail(c, "guard_hit: %s", strerror(errno));
		hit = g.hit;
	}
	bool stale = c->m.stale_guard_page == page;
	c->m.stale_guard_page = 0;
	if (hit == guard)
		return 0;
	if (hit && stale && KNOWN(c, 3)) {
		fz_known(c, 3);	/* KNOWN(3): a kernel access's guard hit */
		return 0;
	}
	return fz_fail(c, "guard hit for %#lx: %d, model says %d",
		       (unsigned long)a, hit, guard);
}

/* Model: what a page currently allows for @acc; *guard if it is armed. */
static bool page_allows(struct fz_ctx *c, uintptr_t a, enum fz_access acc,
			struct fz_page **pp, bool *guard, bool *ww)
{
	int si = model_slot_of(&c->m, a);
	struct fz_page *p;

	*pp = NULL;
	*guard = false;
	*ww = false;
	if (si < 0)
		return false;
	/* the address may lie in another slot than the op's (the hole) */
	*ww = c->m.s[si].ww;
	p = &c->m.s[si].pg[(a - c->m.s[si].base) / FZ_PAGE];
	*pp = p;
	if (!p->committed)
		return false;
	if (p->prot & NTMEM_PAGE_GUARD) {
		*guard = true;
		return false;
	}
	return acc == A_READ ? prot_can_read(p->prot) :
	       acc == A_WRITE ? prot_can_write(p->prot) :
			       prot_can_exec(p->prot);
}

/* Settle a reset page's contents by reading it: old ones or all zeros. */
int resolve_reset(struct fz_ctx *c, uintptr_t page, struct fz_page *p)
{
	bool old = true, zero = true;

	if (!p->maybe_zero)
		return 0;
	for (unsigned k = 0; k < FZ_ITEMS; k++) {
		uint64_t v = *(volatile uint64_t *)(page + fz_item_off[k]);

		old &= v == p->item[k];
		zero &= v == 0;
	}
	if (!old && !zero)
		return fz_fail(c, "reset page %#lx: neither old contents nor zero",
			       (unsigned long)page);
	if (!old)
		memset(p->item, 0, sizeof(p->item));
	p->maybe_zero = false;
	return 0;
}

/*
 * A store of 8 bytes at page+4092, straddling into the next page (spec
 * 4.6: both pages become dirty).  If the second page faults, nothing is
 * written and si_addr is its first byte; the first page may have been
 * made writable (and so marked written) before that fault, which the
 * model leaves open (RELAX: dirty_maybe, settled by the checker).
 */
static int op_straddle(struct fz_ctx *c, const struct fz_op *op, uintptr_t page)
{
	uintptr_t a = page + FZ_PAGE - 4, next = page + FZ_PAGE;
	struct fz_page *p1, *p2;
	bool g1, g2, ww1, ww2;
	bool ok1 = page_allows(c, a, A_WRITE, &p1, &g1, &ww1);
	bool ok2 = page_allows(c, next, A_WRITE, &p2, &g2, &ww2);
	uint64_t val = item_value(page, 3, op->gen);
	uintptr_t want = !ok1 ? a : !ok2 ? next : 0;
	bool guard = !ok1 ? g1 : g2;
	siginfo_t si;
	int sig;
	void *f;

	/*
	 * RELAX: past the end of a reservation lies its slack, which any
	 * later mmap() may take (README): what is there is not the model's.
	 */
	if (!p2)
		return 0;
	if ((ok1 && resolve_reset(c, page, p1)) ||
	    (ok2 && resolve_reset(c, next, p2)))
		return -1;
	if (!want)	/* only an access that must succeed (inject.c) */
		inject_arm(c, op);
	f = fz_access(A_WRITE, a, &val, &sig, &si);
	c->inj_faults += inject_disarm(c);
	c->faults += !!f;
	if ((uintptr_t)f != want || (f && sig != SIGSEGV))
		return fz_fail(c, "straddling write %#lx: fault %p signal %d, model: %#lx",
			       (unsigned long)a, f, sig, (unsigned long)want);
	if (!want) {
		p1->item[3] = (p1->item[3] & 0xffffffffULL) | (val << 32);
		p2->item[0] = (p2->item[0] & ~0xffffffffULL) | (val >> 32);
		p1->dirty |= ww1;
		p2->dirty |= ww2;
		return 0;
	}
	if (ok1 && ww1 && !p1->dirty)
		p1->dirty_maybe = 1;
	if (guard)
		(!ok1 ? p1 : p2)->prot &= ~NTMEM_PAGE_GUARD;
	return guard_answer(c, op, want, &si, guard);
}

static int op_access(struct fz_ctx *c, const struct fz_op *op)
{
	struct fz_slot *s = slot_of(c, op);
	enum fz_access acc = op->kind == K_READ ? A_READ :
			     op->kind == K_WRITE ? A_WRITE : A_EXEC;
	unsigned item = acc == A_EXEC ? 1 : op->item;
	uintptr_t page = (s->used ? s->base + (op->first % s->npages) * FZ_PAGE :
			  c->hole + op->first * FZ_PAGE);
	uintptr_t a = page + fz_item_off[item];
	struct fz_page *p;
	bool guard, ww, ok = page_allows(c, a, acc, &p, &guard, &ww);
	uint64_t val = item == 1 ? CODE_WORD : item_value(page, item, op->gen);
	siginfo_t si;
	int sig;
	void *f;

	if (acc == A_WRITE && item == 3 && (op->flags & 0x80))
		return op_straddle(c, op, page);
	if (ok && acc == A_EXEC && (p->maybe_zero || p->item[1] != CODE_WORD))
		return 0;	/* no code there: nothing safe to run */
	if (ok && acc == A_WRITE && resolve_reset(c, page, p))
		return -1;
	if (ok)		/* only an access that must succeed (inject.c) */
		inject_arm(c, op);
	f = fz_access(acc, a, &val, &sig, &si);
	c->inj_faults += inject_disarm(c);
	c->faults += !!f;
	if (ok) {
		if (f)
			return fz_fail(c, "%s %#lx: SIGSEGV at %p, model allows it",
				       kind_names[op->kind], (unsigned long)a, f);
		if (acc == A_EXEC && val != 42)
			return fz_fail(c, "exec %#lx: returned %llu", (unsigned long)a,
				       (unsigned long long)val);
		if (acc == A_READ && val != p->item[item]) {
			if (p->maybe_zero && val == 0)
				return 0;	/* RELAX: reset, may read as zero */
			return fz_fail(c, "read %#lx: %#llx, model %#llx",
				       (unsigned long)a, (unsigned long long)val,
				       (unsigned long long)p->item[item]);
		}
		if (acc == A_WRITE) {
			p->item[item] = val;
			p->dirty |= ww;
		}
		return 0;
	}
	if (!f)
		return fz_fail(c, "%s %#lx: no fault, model says %s",
			       kind_names[op->kind], (unsigned long)a,
			       guard ? "guard page" : "access violation");
	if (sig != SIGSEGV || (uintptr_t)f != a)
		return fz_fail(c, "%s %#lx: signal %d at %p", kind_names[op->kind],
			       (unsigned long)a, sig, f);
	if (guard)
		p->prot &= ~NTMEM_PAGE_GUARD;
	return guard_answer(c, op, a, &si, guard);
}

/* ---- the kernel touching ntmem memory on the process's behalf -------------------- */

static int op_syscall(struct fz_ctx *c, const struct fz_op *op)
{
	struct fz_slot *s = slot_of(c, op);
	bool kwrite = op->kind == K_PIPE_IN || op->kind == K_PVM_WRITE;
	bool gup = op->kind == K_PVM_WRITE || op->kind == K_PVM_READ;
	uintptr_t page = (s->used ? s->base + (op->first % s->npages) * FZ_PAGE :
			  c->hole + op->first * FZ_PAGE);
	unsigned item = op->item == 1 ? 0 : op->item;	/* keep code intact */
	uintptr_t a = page + fz_item_off[item];
	struct fz_page *p;
	bool guard, ww, ok = page_allows(c, a, kwrite ? A_WRITE : A_READ, &p,
					 &guard, &ww);
	uint64_t val = item_value(page, item, op->gen), got = 0;
	ssize_t n;
	int err;

	/* GUP does not see executable pages (docs/design.md). */
	if (ok && gup && prot_can_exec(p->prot))
		ok = false;
	if (ok && kwrite && resolve_reset(c, page, p))
		return -1;
	switch (op->kind) {
	case K_PIPE_IN:
		if (write(c->pipe[1], &val, 8) != 8)
			return fz_fail(c, "pipe write: %s", strerror(errno));
		n = read(c->pipe[0], (void *)a, 8);
		err = n < 0 ? errno : 0;
		if (n != 8 && read(c->pipe[0], &got, 8) != 8)	/* drain */
			return fz_fail(c, "pipe drain");
		break;
	case K_PIPE_OUT:
		n = write(c->pipe[1], (void *)a, 8);
		err = n < 0 ? errno : 0;
		if (n == 8 && read(c->pipe[0], &got, 8) != 8)
			return fz_fail(c, "pipe read back");
		break;
	default: {
		struct iovec l = { kwrite ? &val : &got, 8 }, r = { (void *)a, 8 };
		n = kwrite ? process_vm_writev(getpid(), &l, 1, &r, 1, 0) :
			     process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		err = n < 0 ? errno : 0;
	}
	}
	if (ok) {
		if (n != 8)
			return fz_fail(c, "%s %#lx: %zd (%s), model allows it",
				       kind_names[op->kind], (unsigned long)a, n,
				       strerror(err));
		if (kwrite) {
			p->item[item] = val;
			p->dirty |= ww;
		} else if (got != p->item[item] && !(p->maybe_zero && !got)) {
			return fz_fail(c, "%s %#lx: read %#llx, model %#llx",
				       kind_names[op->kind], (unsigned long)a,
				       (unsigned long long)got,
				       (unsigned long long)p->item[item]);
		}
		return 0;
	}
	if (guard) {
		/* the guard is consumed either way */
		p->prot &= ~NTMEM_PAGE_GUARD;
		c->m.stale_guard_page = page;
		if (n == 8 && !gup && KNOWN(c, 2)) {
			/* KNOWN(2): the retried uaccess succeeds */
			fz_known(c, 2);
			if (kwrite) {
				p->item[item] = val;
				p->dirty |= ww;
			}
			return 0;
		}
	}
	if (n >= 0 || err != EFAULT)
		return fz_fail(c, "%s %#lx: %zd (%s), model says EFAULT%s",
			       kind_names[op->kind], (unsigned long)a, n,
			       n < 0 ? strerror(err) : "no error",
			       guard ? " (guard page)" : "");
	/* KNOWN(5): a failed process_vm_writev marks the page written */
	if (op->kind == K_PVM_WRITE && p && p->committed && ww && KNOWN(c, 5) &&
	    !p->dirty && (p->prot & 0xFF) == NTMEM_PAGE_EXECUTE_READWRITE)
		p->dirty_maybe = 5;
	return 0;
}

static int op_guard_hit(struct fz_ctx *c, const struct fz_op *op)
{
	struct ntmem_guard_hit g = { .size = sizeof(g),
				     .addr = c->hole + op->sub % FZ_GRAN };
	int want = struct_defect_err(op), err;

	if (op->defect == D_UNKNOWN_FLAG) {
		g.flags = 1u << (op->sub % 32);
		want = EINVAL;
	}
	err = -raw_ioctl(c, op, NTMEM_IOC_GUARD_HIT, &g, sizeof(g));
	if (inject_clean(c, err))
		return 0;
	if (expect_err(c, "guard_hit ioctl", err, want, -1))
		return -1;
	if (!err) {
		c->m.stale_guard_page = 0;
		if (g.hit)
			return fz_fail(c, "guard_hit(hole): %u", g.hit);
	}
	return 0;
}

int run_op(struct fz_ctx *c, const struct fz_op *op)
{
	switch (op->kind) {
	case K_RESERVE: return op_reserve(c, op, false);
	case K_RESERVE_ADJ: return op_reserve(c, op, true);
	case K_RELEASE: return op_release(c, op);
	case K_PROTECT:
		return op->api ? op_range_win32(c, op) : op_protect_ioctl(c, op);
	case K_COMMIT: case K_DECOMMIT: case K_RESET: case K_RESET_UNDO:
	case K_LOCK: case K_UNLOCK: case K_RESET_WW:
		return op->api ? op_range_win32(c, op) : op_range_ioctl(c, op);
	case K_GET_WW: return op_get_ww(c, op);
	case K_QUERY: return op_query(c, op);
	case K_READ: case K_WRITE: case K_EXEC: return op_access(c, op);
	case K_GUARD_HIT: return op_guard_hit(c, op);
	default: return op_syscall(c, op);
	}
}
