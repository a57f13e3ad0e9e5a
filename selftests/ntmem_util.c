// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the ntmem selftests.  The /proc readers use plain
 * read(2) into stack buffers, never stdio or malloc, so that calling them
 * does not itself add a mapping (the heap) and disturb a VMA count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ntmem_util.h"

/* --- the device --------------------------------------------------------- */

int ntmem_open(void)
{
	int fd = open(NTMEM_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int ntmem_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int ntmem_version(int fd, struct ntmem_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
	return ntmem_ioctl(fd, NTMEM_IOC_VERSION, v);
}

uint64_t ntmem_features(int fd)
{
	struct ntmem_version v;

	return ntmem_version(fd, &v) ? 0 : v.features;
}

bool ntmem_module_has(uint64_t feature)
{
	int fd = ntmem_open();
	bool has = fd >= 0 && (ntmem_features(fd) & feature);

	if (fd >= 0)
		close(fd);
	return has;
}

int ntmem_reserve(int fd, void **addr, size_t *len, uint32_t flags,
		  uint32_t protect)
{
	struct ntmem_reserve r = {
		.size = sizeof(r),
		.flags = flags,
		.addr = (uintptr_t)*addr,
		.length = *len,
		.protect = protect,
	};
	int ret = ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &r);

	if (!ret) {
		*addr = (void *)(uintptr_t)r.addr;
		*len = r.length;
	}
	return ret;
}

void *ntmem_reserve_any(int fd, size_t len)
{
	void *addr = NULL;

	return ntmem_reserve(fd, &addr, &len, 0, 0) ? NULL : addr;
}

int ntmem_range_ioctl(int fd, unsigned long cmd, uint64_t addr, uint64_t len,
		      uint32_t protect, uint32_t flags)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.flags = flags,
		.addr = addr,
		.length = len,
		.protect = protect,
	};

	return ntmem_ioctl(fd, cmd, &r);
}

int ntmem_commit(int fd, void *addr, size_t len, uint32_t protect,
		 uint32_t flags)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_COMMIT, (uintptr_t)addr, len,
				 protect, flags);
}

int ntmem_decommit(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_DECOMMIT, (uintptr_t)addr, len,
				 0, 0);
}

int ntmem_reset(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_RESET, (uintptr_t)addr, len,
				 0, 0);
}

int ntmem_reset_undo(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_RESET_UNDO, (uintptr_t)addr,
				 len, 0, 0);
}

int ntmem_lock(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_LOCK, (uintptr_t)addr, len, 0,
				 0);
}

int ntmem_unlock(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_UNLOCK, (uintptr_t)addr, len,
				 0, 0);
}

int ntmem_release(int fd, void *addr, size_t len)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE, (uintptr_t)addr, len,
				 0, 0);
}

int ntmem_protect(int fd, void *addr, size_t len, uint32_t protect,
		  uint32_t *old_protect)
{
	struct ntmem_protect p = {
		.size = sizeof(p),
		.addr = (uintptr_t)addr,
		.length = len,
		.protect = protect,
	};
	int ret = ntmem_ioctl(fd, NTMEM_IOC_PROTECT, &p);

	if (!ret && old_protect)
		*old_protect = p.old_protect;
	return ret;
}

int ntmem_query(int fd, const void *addr, struct ntmem_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->addr = (uintptr_t)addr;
	return ntmem_ioctl(fd, NTMEM_IOC_QUERY, q);
}

void *ntmem_find_free(int fd, size_t len)
{
	void *addr = ntmem_reserve_any(fd, len);

	if (!addr || ntmem_release(fd, addr, 0))
		return NULL;
	munmap(addr, len);	/* the placeholder: free for plain mmap() too */
	return addr;
}

/* --- small file readers ------------------------------------------------- */

struct line_reader {
	int fd;
	size_t len, pos;
	char buf[16384];
};

static int lr_open(struct line_reader *lr, const char *path)
{
	lr->fd = open(path, O_RDONLY | O_CLOEXEC);
	lr->len = lr->pos = 0;
	return lr->fd < 0 ? -errno : 0;
}

/* Next line without its newline, NUL-terminated; NULL at the end. */
static char *lr_next(struct line_reader *lr)
{
	for (;;) {
		char *nl = memchr(lr->buf + lr->pos, '\n', lr->len - lr->pos);
		ssize_t n;

		if (nl) {
			char *line = lr->buf + lr->pos;

			*nl = '\0';
			lr->pos = nl + 1 - lr->buf;
			return line;
		}
		/* Move the partial line to the front and read more. */
		memmove(lr->buf, lr->buf + lr->pos, lr->len - lr->pos);
		lr->len -= lr->pos;
		lr->pos = 0;
		if (lr->len == sizeof(lr->buf) - 1)
			lr->len = 0;		/* absurdly long line: drop */
		n = read(lr->fd, lr->buf + lr->len, sizeof(lr->buf) - 1 - lr->len);
		if (n <= 0) {
			if (!lr->len)
				return NULL;
			lr->buf[lr->len] = '\0';	/* last line, no newline */
			lr->pos = lr->len;
			return lr->buf;
		}
		lr->len += n;
	}
}

static void lr_close(struct line_reader *lr)
{
	close(lr->fd);
}

/* "Name:   123 kB" lines of /proc/meminfo and /proc/self/status. */
static long field_kb(const char *path, const char *field)
{
	struct line_reader lr;
	size_t flen = strlen(field);
	long val = -1;
	char *line;

	if (lr_open(&lr, path))
		return -1;
	while ((line = lr_next(&lr))) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	lr_close(&lr);
	return val;
}

long meminfo_kb(const char *field)
{
	return field_kb("/proc/meminfo", field);
}

long free_memory_kb(void)
{
	long free = meminfo_kb("MemFree"), pcp = 0;
	struct line_reader lr;
	char *line;

	if (free < 0 || lr_open(&lr, "/proc/zoneinfo"))
		return -1;
	/* "count:" lines are the per-CPU free lists of each zone. */
	while ((line = lr_next(&lr))) {
		char *c = strstr(line, "count:");

		if (c && strspn(line, " ") == (size_t)(c - line))
			pcp += strtol(c + 6, NULL, 10);
	}
	lr_close(&lr);
	return free + pcp * (PAGE_SZ / KiB);
}

/*
 * free_memory_kb() once it is at least @target_kb, or after @timeout_ms:
 * what an exited process held comes back through deferred work (RCU,
 * per-CPU lists, KASAN's quarantine), later on a loaded or debug kernel.
 */
long free_memory_settled_kb(long target_kb, int timeout_ms)
{
	long free = free_memory_kb();

	for (int waited = 0; free < target_kb && waited < timeout_ms;
	     waited += 50) {
		usleep(50 * 1000);
		free = free_memory_kb();
	}
	return free;
}

long proc_status_kb(const char *field)
{
	return field_kb("/proc/self/status", field);
}

long rss_kb(void)
{
	return proc_status_kb("VmRSS");
}

long read_long_file(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

long file_key_long(const char *path, const char *key)
{
	struct line_reader lr;
	size_t klen = strlen(key);
	long val = -1;
	char *line;

	if (lr_open(&lr, path))
		return -1;
	while ((line = lr_next(&lr))) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	lr_close(&lr);
	return val;
}

long ntmem_counter(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/misc/ntmem/%s", name);
	return read_long_file(path);
}

int ntmem_counters_read(struct ntmem_counters *c)
{
	c->reservations = ntmem_counter("reservations");
	c->committed_pages = ntmem_counter("committed_pages");
	c->resident_pages = ntmem_counter("resident_pages");
	c->reset_pages = ntmem_counter("reset_pages");
	c->contexts = ntmem_counter("contexts");
	c->locked_pages = ntmem_counter("locked_pages");
	return (c->reservations < 0 || c->committed_pages < 0 ||
		c->resident_pages < 0 || c->reset_pages < 0 ||
		c->contexts < 0 || c->locked_pages < 0) ? -1 : 0;
}

/* --- memory cgroups (v2) ------------------------------------------------ */

int write_text_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		n = -errno;
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : n < 0 ? (int)n : -EIO;
}

static void memcg_path(char *buf, size_t size, const char *name,
		       const char *file)
{
	snprintf(buf, size, CGROUP_ROOT "/%s%s%s", name, file ? "/" : "",
		 file ? file : "");
}

const char *memcg_unavailable(void)
{
	char buf[256];
	ssize_t n;
	int fd = open(CGROUP_ROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "no cgroup v2 at " CGROUP_ROOT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return "cannot read " CGROUP_ROOT "/cgroup.controllers";
	buf[n] = '\0';
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (!strcmp(t, "memory"))
			return NULL;
	return "no memory controller in " CGROUP_ROOT "/cgroup.controllers";
}

int memcg_create(const char *name, long max_bytes)
{
	char path[256], text[32];
	int ret;

	ret = write_text_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	memcg_path(path, sizeof(path), name, NULL);
	rmdir(path);
	if (mkdir(path, 0755))
		return -errno;
	memcg_path(path, sizeof(path), name, "memory.max");
	snprintf(text, sizeof(text), "%ld", max_bytes);
	ret = write_text_file(path, text);
	if (ret)
		return ret;
	/* absent without swap accounting: nothing to lift then */
	memcg_path(path, sizeof(path), name, "memory.swap.max");
	if (!access(path, F_OK))
		ret = write_text_file(path, "max");
	return ret;
}

int memcg_join(const char *name)
{
	char path[256], pid[32];

	memcg_path(path, sizeof(path), name, "cgroup.procs");
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_text_file(path, pid);
}

long memcg_read(const char *name, const char *file)
{
	char path[256];

	memcg_path(path, sizeof(path), name, file);
	return read_long_file(path);
}

long memcg_key(const char *name, const char *file, const char *key)
{
	char path[256];

	memcg_path(path, sizeof(path), name, file);
	return file_key_long(path, key);
}

int memcg_remove(const char *name)
{
	char path[256];

	memcg_path(path, sizeof(path), name, NULL);
	/* the last task's exit may still be on its way out of the group */
	for (int i = 0; i < 50; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		usleep(100000);
	}
	return -errno;
}

/* --- pagemap, maps, smaps ----------------------------------------------- */

int pagemap_present(const void *addr)
{
	long n = pagemap_count_present(addr, 1);

	return n < 0 ? (int)n : n > 0;
}

long pagemap_count_present(const void *addr, size_t len)
{
	return pagemap_count_bits(addr, len, PM_PRESENT);
}

long pagemap_count_bits(const void *addr, size_t len, uint64_t mask)
{
	return pagemap_count_bits_pid(0, addr, len, mask);
}

/* pid 0: this process */
static void proc_path(char *buf, size_t size, int pid, const char *file)
{
	if (pid)
		snprintf(buf, size, "/proc/%d/%s", pid, file);
	else
		snprintf(buf, size, "/proc/self/%s", file);
}

long pagemap_count_bits_pid(int pid, const void *addr, size_t len,
			    uint64_t mask)
{
	uintptr_t first = (uintptr_t)addr / PAGE_SZ;
	uintptr_t last = ((uintptr_t)addr + len - 1) / PAGE_SZ;
	uint64_t ent[512];
	long count = 0;
	char path[64];
	int fd;

	proc_path(path, sizeof(path), pid, "pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (first <= last) {
		size_t cnt = last - first + 1;
		ssize_t n;

		if (cnt > 512)
			cnt = 512;
		n = pread(fd, ent, cnt * 8, first * 8);
		if (n != (ssize_t)(cnt * 8)) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		for (size_t i = 0; i < cnt; i++)
			count += (ent[i] & mask) == mask;
		first += cnt;
	}
	close(fd);
	return count;
}

static int parse_maps_line(const char *line, struct maps_entry *e)
{
	unsigned long start, end;
	int name_off = 0;
	char perms[8];

	if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms,
		   &name_off) < 3)
		return 0;
	e->start = start;
	e->end = end;
	memcpy(e->perms, perms, sizeof(e->perms));
	e->name[0] = '\0';
	if (name_off)
		snprintf(e->name, sizeof(e->name), "%s", line + name_off);
	return 1;
}

/* Released address space, which ntmem keeps as a placeholder mapping. */
static int is_placeholder(const struct maps_entry *e)
{
	return strstr(e->name, NTMEM_PLACEHOLDER_NAME) != NULL;
}

/* Mappings of @pid whose name holds @needle (NULL: all but placeholders). */
static int count_maps_of(int pid, const char *needle)
{
	struct line_reader lr;
	char path[64];
	int n = 0;
	char *line;

	proc_path(path, sizeof(path), pid, "maps");
	if (lr_open(&lr, path))
		return -1;
	while ((line = lr_next(&lr))) {
		struct maps_entry m;

		if (parse_maps_line(line, &m))
			n += needle ? strstr(m.name, needle) != NULL :
				      !is_placeholder(&m);
	}
	lr_close(&lr);
	return n;
}

static int count_maps(const char *needle)
{
	return count_maps_of(0, needle);
}

int maps_count(void)
{
	return count_maps(NULL);
}

int maps_count_pid(int pid)
{
	return count_maps_of(pid, NULL);
}

int maps_find(int pid, const void *addr, struct maps_entry *e)
{
	struct line_reader lr;
	char path[64];
	int found = 0;
	char *line;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	if (lr_open(&lr, path))
		return 0;
	while ((line = lr_next(&lr))) {
		struct maps_entry m;

		if (parse_maps_line(line, &m) && !is_placeholder(&m) &&
		    m.start <= (uintptr_t)addr && (uintptr_t)addr < m.end) {
			*e = m;
			found = 1;
			break;
		}
	}
	lr_close(&lr);
	return found;
}

int maps_count_matching(const char *needle)
{
	return count_maps(needle);
}

uintptr_t maps_next_start(const void *addr)
{
	uintptr_t best = UINTPTR_MAX;
	struct line_reader lr;
	char *line;

	if (lr_open(&lr, "/proc/self/maps"))
		return 0;
	while ((line = lr_next(&lr))) {
		struct maps_entry m;

		if (parse_maps_line(line, &m) && !is_placeholder(&m) &&
		    m.start >= (uintptr_t)addr && m.start < best)
			best = m.start;
	}
	lr_close(&lr);
	return best;
}

long smaps_field_kb(const void *addr, const char *field)
{
	return smaps_field_kb_pid(0, addr, field);
}

long smaps_field_kb_pid(int pid, const void *addr, const char *field)
{
	size_t n = strlen(field);
	struct line_reader lr;
	char path[64];
	int in_vma = 0;
	long kb = -1;
	char *line;

	proc_path(path, sizeof(path), pid, "smaps");
	if (lr_open(&lr, path))
		return -1;
	while ((line = lr_next(&lr))) {
		struct maps_entry m;

		/* Field lines start with a capital letter, headers with hex. */
		if (!(line[0] >= 'A' && line[0] <= 'Z') &&
		    parse_maps_line(line, &m)) {
			if (in_vma)
				break;
			in_vma = m.start <= (uintptr_t)addr &&
				 (uintptr_t)addr < m.end;
			continue;
		}
		if (in_vma && !strncmp(line, field, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	lr_close(&lr);
	return kb;
}

long smaps_rss_kb(const void *addr)
{
	return smaps_field_kb(addr, "Rss");
}

/* --- contents ----------------------------------------------------------- */

uint64_t pattern_word(uintptr_t a, uint64_t seed)
{
	return (a * 0x9E3779B97F4A7C15ULL) ^ seed ^ (a >> 12);
}

void fill_pattern(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;

	if (((uintptr_t)p | len) & 7)
		abort();
	for (size_t i = 0; i < len / 8; i++)
		w[i] = pattern_word((uintptr_t)&w[i], seed);
}

long check_pattern(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;

	if (((uintptr_t)p | len) & 7)
		abort();
	for (size_t i = 0; i < len / 8; i++) {
		uint64_t want = pattern_word((uintptr_t)&w[i], seed);

		if (w[i] != want) {
			const unsigned char *a = (const void *)&w[i];
			const unsigned char *b = (const void *)&want;
			long off = i * 8;

			while (*a == *b)
				a++, b++, off++;
			return off;
		}
	}
	return -1;
}

long check_bytes(const void *p, size_t len, unsigned char c)
{
	const unsigned char *b = p;
	size_t i = 0;

	/* Word at a time where possible: TCG is slow. */
	if (!((uintptr_t)p & 7)) {
		const uint64_t *w = p;
		uint64_t want = 0x0101010101010101ULL * c;

		for (; i + 8 <= len; i += 8)
			if (w[i / 8] != want)
				break;
	}
	for (; i < len; i++)
		if (b[i] != c)
			return i;
	return -1;
}

void touch_pages(void *p, size_t len, unsigned char c)
{
	for (size_t off = 0; off < len; off += PAGE_SZ)
		((volatile unsigned char *)p)[off] = c;
}

/* --- faults ------------------------------------------------------------- */

const unsigned char code_ret42[6] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

static __thread sigjmp_buf fault_env;
static __thread volatile sig_atomic_t fault_armed;
static __thread void *volatile fault_addr;
static __thread volatile int fault_sig, fault_si_code;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!fault_armed) {
		/* Not ours: die of it as if no handler were installed. */
		signal(sig, SIG_DFL);
		return;
	}
	fault_armed = 0;
	fault_addr = si->si_addr;
	fault_sig = sig;
	fault_si_code = si->si_code;
	siglongjmp(fault_env, 1);
}

static void fault_install(void)
{
	struct sigaction sa = {
		.sa_sigaction = fault_handler,
		.sa_flags = SA_SIGINFO,
	};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

int fault_signo(void)
{
	return fault_sig;
}

int fault_code(void)
{
	return fault_si_code;
}

void *try_read(const void *addr)
{
	pthread_once(&fault_once, fault_install);
	fault_sig = 0;
	if (sigsetjmp(fault_env, 1))
		return fault_addr;
	fault_armed = 1;
	(void)*(const volatile unsigned char *)addr;
	fault_armed = 0;
	return NULL;
}

void *try_write(void *addr, unsigned char val)
{
	pthread_once(&fault_once, fault_install);
	fault_sig = 0;
	if (sigsetjmp(fault_env, 1))
		return fault_addr;
	fault_armed = 1;
	*(volatile unsigned char *)addr = val;
	fault_armed = 0;
	return NULL;
}

void *try_exec(const void *addr, int *ret)
{
	int (*volatile fn)(void) = (int (*)(void))(uintptr_t)addr;
	int r;

	pthread_once(&fault_once, fault_install);
	fault_sig = 0;
	if (sigsetjmp(fault_env, 1))
		return fault_addr;
	fault_armed = 1;
	r = fn();
	fault_armed = 0;
	if (ret)
		*ret = r;
	return NULL;
}

/* --- processes ---------------------------------------------------------- */

int run_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

long memory_pressure(long floor_kb, bool (*stop)(void *), void *arg)
{
	const size_t chunk = 4 * MiB;
	long held = -ENOMEM;
	int pfd[2], status;
	pid_t pid;

	if (pipe(pfd))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		long mib = 0, total = meminfo_kb("MemTotal") / 1024;
		int fd = open("/proc/self/oom_score_adj", O_WRONLY);

		if (fd >= 0) {
			if (write(fd, "1000", 4) != 4)
				_exit(2);
			close(fd);
		}
		close(pfd[0]);
		while (mib < total) {
			if (stop && stop(arg))
				break;
			if (meminfo_kb("MemAvailable") < floor_kb)
				break;
			if (mmap(NULL, chunk, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0) == MAP_FAILED)
				break;
			mib += chunk / MiB;
		}
		if (write(pfd[1], &mib, sizeof(mib)) != sizeof(mib))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &held, sizeof(held)) != sizeof(held))
		held = -ENOMEM;		/* the child died, e.g. OOM-killed */
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return held;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

char *ntmem_reserve_adjacent_pair(int fd)
{
	char *f = ntmem_find_free(fd, 1 << 20);
	void *x = f, *y = f + 0x10000;
	size_t xl = 0x10000, yl = 0x10000;

	if (!f || ntmem_reserve(fd, &x, &xl, NTMEM_RESERVE_FIXED, 0) ||
	    ntmem_reserve(fd, &y, &yl, NTMEM_RESERVE_FIXED, 0))
		return NULL;
	return f;
}

/* --- transparent huge pages ---------------------------------------------- */

int bracketed_word(const char *path, char *buf, size_t len)
{
	char text[256], *l, *r;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = 0;
	l = strchr(text, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || (size_t)(r - l) >= len)
		return -EINVAL;
	memcpy(buf, l + 1, r - l - 1);
	buf[r - l - 1] = 0;
	return 0;
}

bool anon_gets_thp(void)
{
	size_t len = 4 * HPAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;
	long kb;

	if (m == MAP_FAILED)
		return false;
	a = (char *)(((uintptr_t)m + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	memset(a, 1, 2 * HPAGE);
	kb = smaps_field_kb(a, "AnonHugePages");
	munmap(m, len);
	return kb >= HPAGE_KB;
}

bool swap_splits_huge_pages(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (meminfo_kb("SwapTotal") <= 0 || uname(&u) ||
	    sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major < 6 || (major == 6 && minor < 12);
}

/* --- capabilities --------------------------------------------------------- */

int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d);
}

/* --- sections ---------------------------------------------------------- */

int ntmem_section_create(int fd, uint64_t size, uint32_t flags,
			  uint32_t protect, const char *name,
			  struct ntmem_section *out)
{
	return ntmem_file_section_create(fd, -1, size, flags, protect, name,
					 out);
}

int ntmem_file_section_create(int fd, int file, uint64_t size,
			      uint32_t flags, uint32_t protect,
			      const char *name, struct ntmem_section *out)
{
	struct ntmem_section s = {
		.size = sizeof(s), .max_size = size,
		.flags = flags | (file >= 0 ? NTMEM_SECTION_FILE : 0),
		.protect = protect, .name = (uintptr_t)name,
		.name_len = name ? strlen(name) : 0,
		.file = file,
	};
	int err = ntmem_ioctl(fd, NTMEM_IOC_SECTION_CREATE, &s);

	if (out)
		*out = s;
	return err ? err : s.fd;
}

int ntmem_section_open(int fd, const char *name, uint32_t access)
{
	struct ntmem_section s = {
		.size = sizeof(s), .access = access, .name = (uintptr_t)name,
		.name_len = strlen(name),
	};
	int err = ntmem_ioctl(fd, NTMEM_IOC_SECTION_OPEN, &s);

	return err ? err : s.fd;
}

/* A view of @len bytes at @offset, anywhere: its base, or NULL (*@err). */
char *ntmem_map_view_err(int fd, int section, uint64_t offset, uint64_t len,
			  uint32_t access, int *err)
{
	struct ntmem_view v = {
		.size = sizeof(v), .offset = offset, .length = len,
		.section = section, .access = access,
	};

	*err = ntmem_ioctl(fd, NTMEM_IOC_MAP_VIEW, &v);
	return *err ? NULL : (char *)(uintptr_t)v.addr;
}

char *ntmem_map_view(int fd, int section, uint64_t len, uint32_t access)
{
	int err;

	return ntmem_map_view_err(fd, section, 0, len, access, &err);
}

int ntmem_unmap_view(int fd, const void *addr)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_UNMAP_VIEW, (uintptr_t)addr, 0,
				 0, 0);
}

/*
 * In a child running as @uid (real, effective and saved), reserve and
 * commit @len bytes read-write.  With @hold_fd < 0: wait for it, and give
 * 0, -28 (ENOSPC) or another negative code.  Else the child writes a byte
 * to @hold_fd and holds the commit until killed: its pid.
 */
int ntmem_commit_as(uid_t uid, size_t len, int hold_fd)
{
	pid_t child = fork();
	int status;

	if (child < 0)
		return -errno;
	if (!child) {
		int fd;
		char *p;

		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(20);
		fd = ntmem_open();
		p = fd < 0 ? NULL : ntmem_reserve_any(fd, len);
		if (!p)
			_exit(21);
		switch (ntmem_commit(fd, p, len, NTMEM_PAGE_READWRITE, 0)) {
		case 0:
			break;
		case -ENOSPC:
			_exit(28);
		default:
			_exit(22);
		}
		if (hold_fd < 0)
			_exit(0);
		if (write(hold_fd, "x", 1) != 1)
			_exit(23);
		pause();	/* holds the commit until killed */
		_exit(24);
	}
	if (hold_fd >= 0)
		return child;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status) ? -WEXITSTATUS(status) : 0;
}
