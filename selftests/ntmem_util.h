/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ntmem selftests: ioctl wrappers that return
 * -errno, and one call per observable effect (resident or not, RSS, free
 * memory, VMA count, module counters, "does this access fault, and where").
 */
#ifndef NTMEM_UTIL_H
#define NTMEM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <uapi/ntmem.h>

#define PAGE_SZ		4096UL
#define GRAN		NTMEM_GRANULARITY
#define KiB		1024UL
#define MiB		(1024UL * KiB)
#define GiB		(1024UL * MiB)

#define PTR_ADD(p, off)	((void *)((char *)(p) + (off)))

/* --- the device --------------------------------------------------------- */

int ntmem_open(void);				/* fd, or -errno */
int ntmem_ioctl(int fd, unsigned long cmd, void *arg);	/* 0 or -errno */

int ntmem_version(int fd, struct ntmem_version *v);
/* @addr: in hint/base (NULL = anywhere), out base; @len: in/out. */
int ntmem_reserve(int fd, void **addr, size_t *len, uint32_t flags,
		  uint32_t protect);
/* Reserve @len anywhere with protect 0; NULL on failure. */
void *ntmem_reserve_any(int fd, size_t len);
int ntmem_commit(int fd, void *addr, size_t len, uint32_t protect,
		 uint32_t flags);
int ntmem_decommit(int fd, void *addr, size_t len);
int ntmem_reset(int fd, void *addr, size_t len);
int ntmem_reset_undo(int fd, void *addr, size_t len);
int ntmem_release(int fd, void *addr, size_t len);
int ntmem_lock(int fd, void *addr, size_t len);
int ntmem_unlock(int fd, void *addr, size_t len);
int ntmem_protect(int fd, void *addr, size_t len, uint32_t protect,
		  uint32_t *old_protect);
int ntmem_query(int fd, const void *addr, struct ntmem_query *q);
/* A range ioctl with every field given, for the argument tests. */
int ntmem_range_ioctl(int fd, unsigned long cmd, uint64_t addr, uint64_t len,
		      uint32_t protect, uint32_t flags);

/* A free, 64 KiB-aligned range of @len bytes (reserved and released). */
void *ntmem_find_free(int fd, size_t len);
/* Two adjacent 64 KiB reservations at a free address; the first's base or NULL. */
char *ntmem_reserve_adjacent_pair(int fd);
/* Features from VERSION, 0 if the call fails. */
uint64_t ntmem_features(int fd);
/* Whether the loaded module has NTMEM_FEATURE_* @feature (opens the device). */
bool ntmem_module_has(uint64_t feature);

/* The number a file (sysfs, a module parameter) starts with; -1 if unreadable. */
long read_long_file(const char *path);
/*
 * The number after "KEY " in a file of "key value" lines (memory.stat,
 * memory.events, /proc/vmstat); -1 if there is no such line.
 */
long file_key_long(const char *path, const char *key);
/* Write @text to a file (sysfs, cgroupfs, procfs): 0 or -errno. */
int write_text_file(const char *path, const char *text);
/* Module-wide counters in /sys/class/misc/ntmem/ (-1 if unreadable). */
long ntmem_counter(const char *name);
struct ntmem_counters {
	long reservations;
	long committed_pages;
	long resident_pages;
	long reset_pages;
	long contexts;
	long locked_pages;
};
int ntmem_counters_read(struct ntmem_counters *c);	/* 0 or -1 */

/* --- sections ---------------------------------------------------------- */

/* A section's descriptor (out: the struct as the kernel filled it), or -errno. */
int ntmem_section_create(int fd, uint64_t size, uint32_t flags,
			 uint32_t protect, const char *name,
			 struct ntmem_section *out);
/* The same for a section of the file @file (NTMEM_SECTION_FILE). */
int ntmem_file_section_create(int fd, int file, uint64_t size,
			      uint32_t flags, uint32_t protect,
			      const char *name, struct ntmem_section *out);
int ntmem_section_open(int fd, const char *name, uint32_t access);
/* A view of @len bytes at @offset, anywhere: its base, or NULL (*@err). */
char *ntmem_map_view_err(int fd, int section, uint64_t offset, uint64_t len,
			 uint32_t access, int *err);
char *ntmem_map_view(int fd, int section, uint64_t len, uint32_t access);
int ntmem_unmap_view(int fd, const void *addr);

/* --- observing memory --------------------------------------------------- */

/* 1 if the page holding @addr is present (pagemap bit 63), 0 if not, -errno. */
int pagemap_present(const void *addr);
/* Number of present pages in [addr, addr+len), or -errno. */
long pagemap_count_present(const void *addr, size_t len);
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
/* Pages in [addr, addr+len) whose pagemap entry has every bit of @mask. */
long pagemap_count_bits(const void *addr, size_t len, uint64_t mask);
/* The same in process @pid's /proc/PID/pagemap (0: this process). */
long pagemap_count_bits_pid(int pid, const void *addr, size_t len,
			    uint64_t mask);

long rss_kb(void);				/* VmRSS of this process */
long smaps_rss_kb(const void *addr);		/* Rss of the VMA holding addr */
/* Field @field ("Rss", "ShmemPmdMapped", ...) of the VMA holding @addr. */
long smaps_field_kb(const void *addr, const char *field);
/* The same in process @pid's /proc/PID/smaps (0: this process). */
long smaps_field_kb_pid(int pid, const void *addr, const char *field);
long meminfo_kb(const char *field);		/* e.g. "MemFree", "MemAvailable" */
long proc_status_kb(const char *field);		/* e.g. "VmRSS" */
/*
 * Free memory in kB, counting the pages that sit in the per-CPU free lists
 * (/proc/zoneinfo "count:"): MemFree alone lags a free by up to
 * pcp->high pages per CPU (tens of MB on the test VM).
 */
long free_memory_kb(void);
/* free_memory_kb() once at least @target_kb, or after @timeout_ms. */
long free_memory_settled_kb(long target_kb, int timeout_ms);

/*
 * The /proc/self/maps helpers below skip placeholders (released address
 * space, named NTMEM_PLACEHOLDER_NAME), which ntmem treats as holes;
 * maps_count_matching() sees them.
 */
int maps_count(void);			/* mappings in /proc/self/maps */
int maps_count_pid(int pid);		/* in /proc/PID/maps (0: self) */
struct maps_entry {
	uintptr_t start, end;
	char perms[8];
	char name[128];
};
/* 1 and *e filled if a mapping of @pid (0 = self) holds @addr, else 0. */
int maps_find(int pid, const void *addr, struct maps_entry *e);
/* Number of mappings whose name contains @needle. */
int maps_count_matching(const char *needle);
/* Start of the lowest mapping at or above @addr, or UINTPTR_MAX. */
uintptr_t maps_next_start(const void *addr);

/* --- transparent huge pages ---------------------------------------------- */

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define HPAGE		(2 * MiB)
#define HPAGE_KB	((long)(HPAGE / 1024))

/* The bracketed word of a THP setting ("always within_size [never] ..."). */
int bracketed_word(const char *path, char *buf, size_t len);
/* Whether anonymous memory gets huge pages in this boot: the baseline. */
bool anon_gets_thp(void);
/*
 * Whether swap is on and this kernel swaps shmem out a page at a time
 * (before 6.12): then ntmem gives no huge page (docs/design.md).
 */
bool swap_splits_huge_pages(void);

/* --- memory cgroups (cgroup v2) ----------------------------------------- */

#define CGROUP_ROOT	"/sys/fs/cgroup"

/* NULL if cgroup v2 and its memory controller are there, else why not. */
const char *memcg_unavailable(void);
/*
 * CGROUP_ROOT/@name afresh (a leftover one removed first), the memory
 * controller enabled for it, memory.max = @max_bytes and memory.swap.max
 * unlimited.  0 or -errno.
 */
int memcg_create(const char *name, long max_bytes);
int memcg_join(const char *name);		/* move the caller in; 0/-errno */
/* The number in @name's @file (e.g. "memory.current"); -1 if unreadable. */
long memcg_read(const char *name, const char *file);
/* The value of @key in @name's @file (e.g. "memory.events", "oom_kill"). */
long memcg_key(const char *name, const char *file, const char *key);
int memcg_remove(const char *name);	/* rmdir, waiting for it to empty */

/* --- contents ----------------------------------------------------------- */

/* Fill with / check for a pattern that depends on the address and @seed;
 * 8-byte aligned pointers and lengths only. */
uint64_t pattern_word(uintptr_t addr, uint64_t seed);	/* the word at addr */
void fill_pattern(void *p, size_t len, uint64_t seed);
/* Offset of the first mismatching byte, or -1 if all match. */
long check_pattern(const void *p, size_t len, uint64_t seed);
/* Offset of the first byte that is not @c, or -1. */
long check_bytes(const void *p, size_t len, unsigned char c);
/* Write one byte into every page. */
void touch_pages(void *p, size_t len, unsigned char c);

/* --- faults ------------------------------------------------------------- */

/*
 * Each returns NULL if the access completed, or the si_addr of the SIGSEGV
 * (or SIGBUS) it caused; fault_signo() tells which signal it was.  Safe to
 * use from several threads at once.
 */
void *try_read(const void *addr);
void *try_write(void *addr, unsigned char val);
/* Call code at @addr as int (*)(void); *ret gets its result. */
void *try_exec(const void *addr, int *ret);
int fault_signo(void);
int fault_code(void);

/* x86-64: mov eax, 42; ret */
extern const unsigned char code_ret42[6];

/* --- processes ---------------------------------------------------------- */

/* Run fn(arg) in a forked child; its return value becomes the exit code.
 * Returns the exit code, 128 + signal if killed, or -errno. */
int run_in_child(int (*fn)(void *), void *arg);
/* Give up CAP_IPC_LOCK (Linux's lock-memory privilege): 0 or -1. */
int drop_cap_ipc_lock(void);

/*
 * In a child process, allocate and touch anonymous memory in 4 MiB steps
 * until MemAvailable falls below @floor_kb or stop(arg) returns true, then
 * exit.  The child is the preferred OOM victim.  Returns the MiB it held
 * at the end (>= 0) or -errno.
 */
long memory_pressure(long floor_kb, bool (*stop)(void *), void *arg);

/* Elapsed nanoseconds on CLOCK_MONOTONIC. */
uint64_t now_ns(void);

/* --- assertions shared by the tests (need kselftest_harness.h) ----------- */

/*
 * si_addr of a SIGSEGV, NULL for no fault, or 0xB000...0<signo> if another
 * signal (SIGBUS) was caught, so that one comparison checks both.
 */
static inline void *segv_addr(void *fault)
{
	if (fault && fault_signo() != SIGSEGV)
		return (void *)(0xB000000000000000UL | fault_signo());
	return fault;
}

/* The expression must fault with SIGSEGV at exactly @addr. */
#define ASSERT_SEGV_AT(addr, fault) \
	ASSERT_EQ((void *)(addr), segv_addr(fault))

/* The expression must complete without a fault. */
#define ASSERT_NO_FAULT(fault) ASSERT_EQ(NULL, (fault))

/*
 * The fixture most tests need: FIXTURE(name) with self->fd, /dev/ntmem
 * opened in setup (the test fails if it cannot be) and closed in teardown.
 * Expand it after including kselftest_harness.h.
 */
#define NTMEM_FD_FIXTURE(name)						\
	FIXTURE(name) {							\
		int fd;							\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->fd = ntmem_open();				\
		ASSERT_LE(0, self->fd) TH_LOG("open %s: %s",		\
					      NTMEM_DEVICE,		\
					      strerror(-self->fd));	\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		if (self->fd > 0)					\
			close(self->fd);				\
	}

int ntmem_commit_as(uid_t uid, size_t len, int hold_fd);

#endif /* NTMEM_UTIL_H */
