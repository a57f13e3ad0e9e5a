/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem model-based fuzzer: shared declarations.
 *
 * An op list is generated from a seed; each op names a reservation *slot*
 * and pages relative to it, never absolute addresses, so any sub-list of
 * ops can be replayed (the shrinker relies on that).  Each op runs against
 * the kernel (raw ioctl or libntmem's Win32 API) and against a per-page
 * model of Windows semantics; the results and every observable effect are
 * compared after each op.
 */
#ifndef NTMEM_FUZZ_H
#define NTMEM_FUZZ_H

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uapi/ntmem.h>

#define FZ_PAGE		4096UL
#define FZ_GRAN		0x10000UL
#define FZ_SLOTS	4
#define FZ_MAXPAGES	24	/* a slot spans at most 2 granules */
#define FZ_ITEMS	4	/* content words tracked per page */

/* Byte offsets of the tracked items; item 1 holds code when executable. */
static const unsigned fz_item_off[FZ_ITEMS] = { 0, 1024, 2048, 4088 };

/* ---- the model (model.c) ------------------------------------------------ */

struct fz_page {
	bool committed;
	uint32_t prot;		/* with PAGE_GUARD while armed; 0 if reserved */
	bool locked;
	bool dirty;		/* write watch */
	uint8_t dirty_maybe;	/* kernel may report it either way: 1 a RELAX,
				 * or the known defect's item number */
	bool maybe_zero;	/* reset: reads as old contents or zeros */
	bool was_reset;		/* reset since commit/undo: UNDO may say EBUSY */
	uint64_t item[FZ_ITEMS];	/* 0 = zero; item 1: code or 0 */
};

struct fz_slot {
	bool used;
	uintptr_t base;
	unsigned npages;
	uint32_t alloc_protect;
	bool ww;
	struct fz_page pg[FZ_MAXPAGES];
};

struct fz_model {
	struct fz_slot s[FZ_SLOTS];
	/* known defect 3: a guard consumed by a kernel access, still recorded */
	uintptr_t stale_guard_page;
};

/* Does a protection allow this access (guard not considered)? */
bool prot_can_read(uint32_t prot);
bool prot_can_write(uint32_t prot);
bool prot_can_exec(uint32_t prot);
bool prot_valid(uint32_t prot);		/* spec 1.2, as the kernel checks */
uint32_t prot_with_alloc(const struct fz_slot *s, uint32_t prot);
/* Slot holding @addr (inside [base, base+npages pages)), or -1. */
int model_slot_of(const struct fz_model *m, uintptr_t addr);
/* Slot holding all of [start, end), or -1. */
int model_slot_range(const struct fz_model *m, uintptr_t start, uintptr_t end);
void model_commit_page(struct fz_page *p, uint32_t prot);
void model_decommit_page(struct fz_page *p);
uint64_t item_value(uintptr_t page, unsigned item, uint64_t gen);

/* ---- ops (ops.c) --------------------------------------------------------- */

enum fz_kind {
	K_RESERVE, K_RESERVE_ADJ, K_RELEASE, K_COMMIT, K_DECOMMIT, K_RESET,
	K_RESET_UNDO, K_LOCK, K_UNLOCK, K_PROTECT, K_GET_WW, K_RESET_WW,
	K_QUERY, K_READ, K_WRITE, K_EXEC, K_PIPE_IN, K_PIPE_OUT, K_PVM_WRITE,
	K_PVM_READ, K_GUARD_HIT, K_NKINDS
};

/* One malformation per op, so that the expected error is unambiguous. */
enum fz_defect {
	D_NONE, D_UNALIGNED_ADDR, D_UNALIGNED_LEN, D_ZERO_LEN, D_HUGE_LEN,
	D_WRAP, D_UNKNOWN_FLAG, D_RESERVED_FIELD, D_SMALL_SIZE,
	D_BIG_SIZE_TAIL, D_BIG_SIZE_ZERO, D_BAD_PROT, D_PAST_END, D_FOREIGN,
	D_FREE, D_LOW_ADDR, D_KERNEL_ADDR, D_BAD_BUF, D_NDEFECTS
};

struct fz_op {
	uint8_t kind, defect, slot, api;	/* api: 0 ioctl, 1 Win32 */
	uint8_t first, npages, item, flags;
	uint32_t prot;
	uint32_t sub;		/* sub-page offset / misc random bits */
	uint64_t gen;		/* value written, count, ... */
	uint8_t inject;		/* N: fail the Nth allocation of the call */
};

enum { API_IOCTL, API_WIN32 };
enum fz_mode { MODE_IOCTL = 1, MODE_WIN32 = 2, MODE_BOTH = 3 };

struct fz_ctx {
	int fd;
	struct fz_model m;
	unsigned known;		/* bit n: expect issue-11 item n (known defect) */
	bool verbose;
	uintptr_t foreign;	/* 64 KiB of plain anonymous memory */
	uintptr_t hole;		/* 1 MiB of address space kept free */
	uintptr_t nomem;	/* a PROT_NONE page: a buffer that faults */
	int pipe[2];
	long op_index;
	char why[512];		/* the first divergence */
	unsigned long checks, faults, known_hits[12];
	int nth;		/* fail-nth; -1 none, -2 not opened yet */
	bool inj_armed, inj_fired;
	unsigned long injections, clean_fails, inj_faults;	/* (in accesses) */
};

void gen_op(uint64_t *rng, struct fz_op *op, enum fz_mode mode);
/* Run one op and check it; 0, or -1 with ctx->why set on a divergence. */
int run_op(struct fz_ctx *c, const struct fz_op *op);
void op_format(const struct fz_op *op, char *buf, size_t len);
int op_parse(const char *line, struct fz_op *op);

/* ---- checks (check.c) ---------------------------------------------------- */

/* Query, contents, faults and write watch of slot @si against the model. */
int check_slot(struct fz_ctx *c, int si, uint64_t *rng);
/* Settle a reset page's contents by reading it (it must be readable). */
int resolve_reset(struct fz_ctx *c, uintptr_t page, struct fz_page *p);
int fz_fail(struct fz_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The module's counters (/sys/class/misc/ntmem): 0, or -1 without them. */
#define FZ_NCOUNTERS	5
extern const char *const fz_counter_names[FZ_NCOUNTERS];
int read_counters(long *v);
/* Reservations, committed and locked pages since @start: the model's. */
int check_counters(struct fz_ctx *c, const long *start);
/* Known defect @n (issue 11 item) excused a difference: count it. */
void fz_known(struct fz_ctx *c, int n);
#define KNOWN(c, n)	((c)->known & (1u << (n)))
/*
 * The issue-11 items --known expects: none since the module fixed items
 * 2-5 (kmod commit "a guard hit by a system call or GUP fails the whole
 * call ...").  --known=2,3,4,5 still runs against a module from before.
 */
#define KNOWN_ITEMS	((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5))
#define KNOWN_ALL	0u

/* ---- real accesses (access.c) ------------------------------------------- */

enum fz_access { A_READ, A_WRITE, A_EXEC };
/*
 * Returns NULL if the access completed (*val: the word read, or the value
 * written; for A_EXEC the code's return value), else si_addr of the
 * SIGSEGV/SIGBUS; *sig gets the signal, *si a copy of its siginfo.
 */
void fz_access_init(void);
void *fz_access(enum fz_access a, uintptr_t addr, uint64_t *val, int *sig,
		siginfo_t *si);

/* ---- injected allocation failures (inject.c) ---------------------------- */

/* fail-nth of this thread (debugfs set up for it), or -1 without one. */
int nth_open(void);
int nth_set(int fd, int n);
int nth_get(int fd);
/* An op's inject field, with probability @p. */
uint8_t inject_draw(uint64_t *rng, double p);
/* Around the op's one module call: arm if op->inject; true if it fired. */
void inject_arm(struct fz_ctx *c, const struct fz_op *op);
bool inject_disarm(struct fz_ctx *c);
/*
 * The call failed as an injected failure does (ENOMEM; EFAULT from the
 * user-copy fault point), or as libntmem maps those (@le), under an
 * injection that fired: a clean failure, counted.
 */
bool inject_clean(struct fz_ctx *c, int err);
bool inject_clean_le(struct fz_ctx *c, uint32_t le);

/* ---- runners ------------------------------------------------------------- */

uint64_t fz_rand(uint64_t *s);
static inline unsigned fz_below(uint64_t *s, unsigned n)
{
	return (unsigned)(fz_rand(s) % n);
}

struct fz_opts {
	uint64_t seed;
	double seconds;
	long ops;
	double inject;		/* probability an op's call is armed */
	enum fz_mode mode;
	unsigned known;		/* bit n: issue-11 item n */
	bool chaos, verbose, fail_nth;
	int threads;
	const char *replay;
};

/* Run @n ops (a list) in a fresh child; 1 if it diverged, 0 if not. */
int run_list_in_child(const struct fz_opts *o, const struct fz_op *ops, long n,
		      bool print);
/* Shrink a failing list in place; returns the new length. */
long shrink_ops(const struct fz_opts *o, struct fz_op *ops, long n);
int ctx_init(struct fz_ctx *c, unsigned known);
void ctx_fini(struct fz_ctx *c);
int chaos_run(const struct fz_opts *o);
int failnth_run(const struct fz_opts *o);

/* failnth.c's, for failnth_objects.c */
#define FN_MAX_N	400	/* the largest N a sweep tries */
#define FN_NCOUNTERS	5
extern const char *const fn_cnames[FN_NCOUNTERS];
int fn_range_ioctl(int fd, unsigned long cmd, uintptr_t a, size_t len,
		   uint32_t prot, uint32_t flags);
int failnth_objects_run(int fd, int nth, pid_t child, long *calls,
			long *injected);

#endif /* NTMEM_FUZZ_H */
