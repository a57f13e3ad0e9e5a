// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl, the command-line tool of the "ntmem" generic netlink family:
 * what it prints agrees with what this process did and with sysfs, its
 * JSON parses, limits set through it bind, monitor reports a commit that
 * failed at one, and errors and bad usage exit 1 and 2.  It runs the
 * static ./ntmemctl built next to this binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <uapi/ntmem_netlink.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define NTMEMCTL	"./ntmemctl"
#define NOBODY		65534

/* ---- running ntmemctl ---------------------------------------------------- */

struct ctl {
	int status;		/* exit status, 128 + signal, or -errno */
	char out[64 * 1024];
	char err[4096];
};

static void ctl_child(int out, int err, bool nobody, char **argv)
{
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	/* Drop root the way a login would, so CAP_SYS_ADMIN is gone. */
	if (nobody && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
		_exit(126);
	execv(NTMEMCTL, argv);
	_exit(127);
}

/* Read both pipes to their ends at once, so neither can fill and block. */
static void ctl_drain(struct ctl *c, int out, int err)
{
	struct pollfd pfd[2] = { { .fd = out, .events = POLLIN },
				 { .fd = err, .events = POLLIN } };
	char *buf[2] = { c->out, c->err };
	size_t len[2] = { 0, 0 }, cap[2] = { sizeof(c->out), sizeof(c->err) };
	char sink[512];
	int i, open = 2;
	ssize_t n;

	while (open && poll(pfd, 2, -1) > 0) {
		for (i = 0; i < 2; i++) {
			if (!pfd[i].revents)
				continue;
			if (len[i] + 1 < cap[i])
				n = read(pfd[i].fd, buf[i] + len[i], cap[i] - 1 - len[i]);
			else
				n = read(pfd[i].fd, sink, sizeof(sink));
			if (n <= 0) {
				pfd[i].fd = -1;
				open--;
			} else if (len[i] + 1 < cap[i]) {
				len[i] += n;
			}
		}
	}
	c->out[len[0]] = '\0';
	c->err[len[1]] = '\0';
}

/* Run ./ntmemctl with the NULL-terminated arguments; c->status is its exit. */
static int ctl_run(struct ctl *c, bool nobody, ...)
{
	char *argv[16] = { "ntmemctl" };
	int out[2], err[2], status, argc = 1;
	va_list ap;
	pid_t pid;

	va_start(ap, nobody);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return c->status = -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		ctl_child(out[1], err[1], nobody, argv);
	close(out[1]);
	close(err[1]);
	if (pid > 0)
		ctl_drain(c, out[0], err[0]);
	close(out[0]);
	close(err[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return c->status = -errno;
	c->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
		    WEXITSTATUS(status);
	return c->status;
}

#define ctl(c, ...)		ctl_run(c, false, __VA_ARGS__, NULL)
#define ctl_nobody(c, ...)	ctl_run(c, true, __VA_ARGS__, NULL)

/* ---- reading JSON ------------------------------------------------------- */

/* A strict recursive-descent check that @s is exactly one JSON value. */
static const char *js_value(const char *s, int depth);

static const char *js_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *js_string(const char *s)
{
	int i;

	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;	/* also the end of the text */
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
					return NULL;
			s += 4;
		} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
			return NULL;
		}
	}
	return s + 1;
}

static const char *js_digits(const char *s)
{
	const char *start = s;

	while (*s >= '0' && *s <= '9')
		s++;
	return s > start ? s : NULL;
}

static const char *js_number(const char *s)
{
	if (*s == '-')
		s++;
	s = *s == '0' ? s + 1 : js_digits(s);
	if (s && *s == '.')
		s = js_digits(s + 1);
	if (!s)
		return NULL;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		s = js_digits(s);
	}
	return s;
}

/* The members of an object (@obj) or the elements of an array. */
static const char *js_members(const char *s, bool obj, int depth)
{
	char close = obj ? '}' : ']';

	s = js_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (obj) {
			s = js_string(js_ws(s));
			if (!s)
				return NULL;
			s = js_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = js_value(s, depth + 1);
		if (!s)
			return NULL;
		s = js_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *js_value(const char *s, int depth)
{
	s = js_ws(s);
	if (depth > 32)
		return NULL;
	if (*s == '{' || *s == '[')
		return js_members(s, *s == '{', depth);
	if (*s == '"')
		return js_string(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	return js_number(s);
}

static bool json_valid(const char *s)
{
	s = js_value(s, 0);
	return s && !*js_ws(s);
}

/* The number after "key": at or after @from, or -1 if there is none. */
static long long json_num(const char *from, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(from, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* The object of array @json that starts with "pid":@pid, or NULL. */
static const char *json_find_pid(const char *json, pid_t pid)
{
	char pat[48];

	snprintf(pat, sizeof(pat), "{\"pid\":%d,", pid);
	return strstr(json, pat);
}

/* ---- the fixture -------------------------------------------------------- */

/* Is the family registered?  Asked directly, not through the tool. */
static bool family_registered(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	bool found = false;

	if (sk && !genl_connect(sk))
		found = genl_ctrl_resolve(sk, NTMEM_GENL_NAME) >= 0;
	nl_socket_free(sk);
	return found;
}

FIXTURE(ntmemctl) {
	int fd;
	char pid[16];
	pid_t monitor;		/* killed by the teardown if a test fails early */
	struct ctl c;
};

FIXTURE_SETUP(ntmemctl)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	snprintf(self->pid, sizeof(self->pid), "%d", getpid());
	ASSERT_EQ(0, access(NTMEMCTL, X_OK)) TH_LOG("no %s here", NTMEMCTL);
}

/* The module is shared by the tests after these: leave no limit set. */
FIXTURE_TEARDOWN(ntmemctl)
{
	if (self->monitor > 0) {
		kill(self->monitor, SIGKILL);
		waitpid(self->monitor, NULL, 0);
	}
	if (self->fd > 0) {
		ctl(&self->c, "limit", "--pid", self->pid, "0");
		close(self->fd);
	}
}

/* Every other test skips without the family; this one fails. */
#define NEED_FAMILY()							\
	do {								\
		if (!family_registered())				\
			SKIP(return, "no generic netlink family '%s'",	\
			     NTMEM_GENL_NAME);				\
	} while (0)

TEST_F(ntmemctl, family_registered)
{
	ASSERT_TRUE(family_registered());
	ASSERT_EQ(0, ctl(&self->c, "stats")) TH_LOG("stderr: %s", self->c.err);
	ASSERT_STREQ("", self->c.err);
}

/* ---- stats and ps ------------------------------------------------------- */

TEST_F(ntmemctl, stats_json_matches_sysfs)
{
	char *p = ntmem_reserve_any(self->fd, 4 * MiB);
	long pages;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 3 * MiB, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ctl(&self->c, "-j", "stats")) TH_LOG("%s", self->c.err);
	pages = ntmem_counter("committed_pages");
	ASSERT_TRUE(json_valid(self->c.out)) TH_LOG("not JSON: %s", self->c.out);
	ASSERT_EQ('{', self->c.out[0]);
	ASSERT_LE(3 * MiB / PAGE_SZ, pages);
	ASSERT_EQ(pages * (long long)PAGE_SZ, json_num(self->c.out, "committed"));
	ASSERT_EQ(ntmem_counter("reservations"), json_num(self->c.out, "reservations"));
	ASSERT_EQ(ntmem_counter("commit_limit_pages") * (long long)PAGE_SZ,
		  json_num(self->c.out, "commit_limit"));
	ASSERT_LT(0, json_num(self->c.out, "commit_limit"));

	/* The table says the same, in MiB. */
	ASSERT_EQ(0, ctl(&self->c, "stats"));
	ASSERT_NE(NULL, strstr(self->c.out, "Committed"));
	ASSERT_NE(NULL, strstr(self->c.out, "MiB"));
}

TEST_F(ntmemctl, ps_json_lists_this_process)
{
	char *p = ntmem_reserve_any(self->fd, 2 * MiB);
	const char *me;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, MiB, NTMEM_PAGE_READWRITE, 0));
	touch_pages(p, 16 * PAGE_SZ, 1);
	ASSERT_EQ(0, ctl(&self->c, "ps", "--json")) TH_LOG("%s", self->c.err);
	ASSERT_TRUE(json_valid(self->c.out)) TH_LOG("not JSON: %s", self->c.out);
	ASSERT_EQ('[', self->c.out[0]);
	me = json_find_pid(self->c.out, getpid());
	ASSERT_NE(NULL, me) TH_LOG("pid %d not in %s", getpid(), self->c.out);
	ASSERT_EQ(0, strncmp(strstr(me, "\"comm\":"), "\"comm\":\"ntmemctl_cli\"", 21));
	ASSERT_EQ(1, json_num(me, "reservations"));
	ASSERT_EQ((long long)MiB, json_num(me, "committed"));
	ASSERT_EQ(16 * (long long)PAGE_SZ, json_num(me, "resident"));
	ASSERT_EQ(0, json_num(me, "limit"));

	ASSERT_EQ(0, ctl(&self->c, "ps"));
	ASSERT_NE(NULL, strstr(self->c.out, self->pid));
	ASSERT_NE(NULL, strstr(self->c.out, "ntmemctl_cli"));
}

/* ---- map ---------------------------------------------------------------- */

/*
 * 1 MiB reserved; 128 KiB read-write at +64K (one page touched), 64 KiB
 * read-only guard pages at +256K: five regions.
 */
static char *make_layout(struct __test_metadata *_metadata, int fd)
{
	char *p = ntmem_reserve_any(fd, MiB);

	EXPECT_NE(NULL, p);
	if (!p)
		return NULL;
	EXPECT_EQ(0, ntmem_commit(fd, p + 64 * KiB, 128 * KiB,
				  NTMEM_PAGE_READWRITE, 0));
	EXPECT_EQ(0, ntmem_commit(fd, p + 256 * KiB, 64 * KiB,
				  NTMEM_PAGE_READONLY | NTMEM_PAGE_GUARD, 0));
	p[64 * KiB] = 1;
	return p;
}

/* The JSON object of one region, exactly as map -j must print it. */
static void region_json(char *buf, size_t len, char *alloc, size_t off,
			size_t size, const char *state, const char *protect,
			size_t resident)
{
	uintptr_t a = (uintptr_t)alloc, base = a + off;

	snprintf(buf, len, "{\"base\":%lu,\"end\":%lu,\"size\":%zu,\"state\":\"%s\","
		 "\"protect\":%s,\"alloc_base\":%lu,\"alloc_size\":%lu,"
		 "\"alloc_protect\":null,\"resident\":%zu,\"write_watch\":false,"
		 "\"type\":\"private\",\"copy_on_write\":false,\"file_backed\":false,"
		 "\"from_placeholder\":false,\"section_offset\":null,"
		 "\"section_size\":null,\"section_name\":null}",
		 base, base + size, size, state, protect, a, MiB, resident);
}

/*
 * A name in UTF-8 comes out as it is; only the quote and the control
 * character are escaped, and a byte that is not UTF-8 becomes U+FFFD.
 */
TEST_F(ntmemctl, ps_json_passes_utf8_through)
{
	static const char want[] = "\"comm\":\"caf\xc3\xa9 \\\"\\u0001\\ufffd\"";
	char *p = ntmem_reserve_any(self->fd, 2 * MiB);
	const char *me, *comm;
	int ret;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, prctl(PR_SET_NAME, "caf\xc3\xa9 \"\x01\xff"));
	ret = ctl(&self->c, "ps", "--json");
	prctl(PR_SET_NAME, "ntmemctl_cli");
	ASSERT_EQ(0, ret) TH_LOG("%s", self->c.err);
	ASSERT_TRUE(json_valid(self->c.out)) TH_LOG("not JSON: %s", self->c.out);
	me = json_find_pid(self->c.out, getpid());
	ASSERT_NE(NULL, me) TH_LOG("pid %d not in %s", getpid(), self->c.out);
	comm = strstr(me, "\"comm\":");
	ASSERT_NE(NULL, comm);
	ASSERT_EQ(0, strncmp(comm, want, strlen(want)))
		TH_LOG("%.40s, not %s", comm, want);
}

TEST_F(ntmemctl, map_json_shows_each_region)
{
	const struct {
		size_t off, size;
		const char *state, *protect;
		size_t resident;
	} want[] = {
		{ 0, 64 * KiB, "MEM_RESERVE", "null", 0 },
		{ 64 * KiB, 128 * KiB, "MEM_COMMIT", "\"PAGE_READWRITE\"", PAGE_SZ },
		{ 192 * KiB, 64 * KiB, "MEM_RESERVE", "null", 0 },
		{ 256 * KiB, 64 * KiB, "MEM_COMMIT", "\"PAGE_READONLY+GUARD\"", 0 },
		{ 320 * KiB, 704 * KiB, "MEM_RESERVE", "null", 0 },
	};
	char *p = make_layout(_metadata, self->fd), obj[512], key[64];
	const char *s;
	size_t i;
	int n = 0;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ctl(&self->c, "map", "-j", self->pid)) TH_LOG("%s", self->c.err);
	ASSERT_TRUE(json_valid(self->c.out)) TH_LOG("not JSON: %s", self->c.out);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		region_json(obj, sizeof(obj), p, want[i].off, want[i].size,
			    want[i].state, want[i].protect, want[i].resident);
		EXPECT_NE(NULL, strstr(self->c.out, obj))
			TH_LOG("no %s in %s", obj, self->c.out);
	}
	/* Those five and no more for this allocation. */
	snprintf(key, sizeof(key), "\"alloc_base\":%lu,", (unsigned long)p);
	for (s = self->c.out; (s = strstr(s, key)); s++)
		n++;
	ASSERT_EQ(5, n);
}

TEST_F(ntmemctl, map_text_has_table_and_picture)
{
	char *p = make_layout(_metadata, self->fd), hex[32], *line;
	bool picture = false;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ctl(&self->c, "map", self->pid)) TH_LOG("%s", self->c.err);
	snprintf(hex, sizeof(hex), "%016lx", (unsigned long)p);
	ASSERT_NE(NULL, strstr(self->c.out, hex)) TH_LOG("no %s in:\n%s", hex, self->c.out);
	ASSERT_NE(NULL, strstr(self->c.out, "PAGE_READONLY+GUARD"));
	ASSERT_NE(NULL, strstr(self->c.out, "MEM_RESERVE"));
	/* The picture: "0x... [##++..] 0x...", committed and reserved shown. */
	for (line = strtok(self->c.out, "\n"); line; line = strtok(NULL, "\n")) {
		char *open = strchr(line, '['), *close = strchr(line, ']');

		if (open && close && close > open + 1 &&
		    strspn(open + 1, "#+.") == (size_t)(close - open - 1) &&
		    memchr(open, '#', close - open) && memchr(open, '+', close - open))
			picture = true;
	}
	ASSERT_TRUE(picture);
}

/* ---- map: views and placeholders ---------------------------------------- */

/*
 * What a child maps, at a free base B, in 64 KiB granules G:
 *   [0, 2G)   a shared view of a named section of 4G, at offset G; its
 *             first page written (resident)
 *   [2G, 3G)  free
 *   [3G, 4G)  a copy-on-write view of a section of a file of G; its first
 *             page written (a private copy: PAGE_READWRITE, resident)
 *   [4G, 6G)  a placeholder split in two: [4G, 5G) stays a placeholder,
 *             [5G, 6G) is a view of an unnamed section in its place
 *   [6G, 7G)  free
 *   [7G, 8G)  a private reservation, its first 16 KiB committed
 */
#define MAP_SPAN	(8 * GRAN)

static int view_at(int fd, int s, char *addr, uint64_t offset, uint64_t len,
		   uint32_t access, uint32_t flags)
{
	struct ntmem_view v = {
		.size = sizeof(v), .flags = NTMEM_RESERVE_FIXED | flags,
		.addr = (uintptr_t)addr, .offset = offset, .length = len,
		.section = s, .access = access,
	};

	return ntmem_ioctl(fd, NTMEM_IOC_MAP_VIEW, &v);
}

/* In the child: the layout above at *@base; 0, or the step that failed. */
static int map_layout(const char *name, char **base)
{
	static char page[GRAN];
	int fd = ntmem_open(), s, f;
	size_t len;
	void *a;
	char *b;

	if (fd < 0)
		return 1;
	b = ntmem_find_free(fd, MAP_SPAN);
	if (!b)
		return 2;
	*base = b;
	s = ntmem_section_create(fd, 4 * GRAN, 0, NTMEM_PAGE_READWRITE, name,
				 NULL);
	if (s < 0 || view_at(fd, s, b, GRAN, 2 * GRAN, NTMEM_FILE_MAP_WRITE, 0))
		return 3;
	b[0] = 1;
	/*
	 * Every page of the file in its page cache: a copy-on-write view of
	 * a tmpfs file's hole oopses the module (a NULL ->read_folio).
	 */
	f = memfd_create("ntmemctl-map", MFD_CLOEXEC);
	if (f < 0 || ftruncate(f, GRAN) ||
	    pwrite(f, memset(page, 'f', sizeof(page)), sizeof(page), 0) !=
	    sizeof(page))
		return 4;
	s = ntmem_file_section_create(fd, f, 0, 0, NTMEM_PAGE_READWRITE, NULL,
				      NULL);
	if (s < 0 || view_at(fd, s, b + 3 * GRAN, 0, 0, NTMEM_FILE_MAP_COPY, 0))
		return 5;
	b[3 * GRAN] = 1;
	a = b + 4 * GRAN;
	len = 2 * GRAN;
	if (ntmem_reserve(fd, &a, &len, NTMEM_RESERVE_FIXED |
			  NTMEM_RESERVE_PLACEHOLDER, 0) ||
	    ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE, (uintptr_t)b + 5 * GRAN,
			      GRAN, 0, NTMEM_RELEASE_PRESERVE))
		return 6;
	s = ntmem_section_create(fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL, NULL);
	if (s < 0 || view_at(fd, s, b + 5 * GRAN, 0, GRAN, NTMEM_FILE_MAP_WRITE,
			     NTMEM_RESERVE_REPLACE))
		return 7;
	a = b + 7 * GRAN;
	len = GRAN;
	if (ntmem_reserve(fd, &a, &len, NTMEM_RESERVE_FIXED, 0) ||
	    ntmem_commit(fd, a, 16 * KiB, NTMEM_PAGE_READWRITE, 0))
		return 8;
	return 0;		/* the descriptors stay open: the name with them */
}

struct map_child {
	pid_t pid;
	int go;			/* closed: the child exits */
	char *base;
};

struct map_child_report {
	int step;		/* 0, or the step of map_layout() that failed */
	int err;
	char *base;
};

/* Fork a child that holds the layout until map_child_end(); its step. */
static int map_child_start(struct map_child *c, const char *name)
{
	struct map_child_report rep = { 0 };
	int ready[2], go[2];
	char x;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		close(go[1]);
		prctl(PR_SET_NAME, "map-child");	/* before the context */
		rep.step = map_layout(name, &rep.base);
		rep.err = errno;
		if (write(ready[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(1);
		_exit(read(go[0], &x, 1) == 0 ? 0 : 1);
	}
	close(ready[1]);
	close(go[0]);
	c->go = go[1];
	if (c->pid < 0 || read(ready[0], &rep, sizeof(rep)) != sizeof(rep))
		rep.step = -1;
	close(ready[0]);
	c->base = rep.base;
	errno = rep.err;
	return rep.step;
}

static void map_child_end(struct map_child *c)
{
	close(c->go);
	if (c->pid > 0)
		waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

/* One region of the layout, as map shows it; offsets from the base. */
struct want_region {
	size_t off, size;
	const char *state, *protect;	/* JSON: a quoted name, or null */
	size_t alloc_off, alloc_size;
	const char *alloc_protect;
	size_t resident;
	const char *type;
	bool copy, file, from_placeholder;
	long long section_offset, section_size;	/* -1: not a view */
	bool named;
	const char *flags;	/* its allocation's row; %s: the quoted name */
};

static const struct want_region layout[] = {
	{ 0, 2 * GRAN, "MEM_COMMIT", "\"PAGE_READWRITE\"", 0, 2 * GRAN,
	  "\"PAGE_READWRITE\"", PAGE_SZ, "mapped", false, false, false,
	  GRAN, 4 * GRAN, true, "section %s offset 0x10000 of 256 KiB" },
	{ 3 * GRAN, PAGE_SZ, "MEM_COMMIT", "\"PAGE_READWRITE\"", 3 * GRAN,
	  GRAN, "\"PAGE_WRITECOPY\"", PAGE_SZ, "mapped", true, true, false,
	  0, GRAN, false, "file section offset 0x0 of 64.0 KiB, copy-on-write" },
	{ 3 * GRAN + PAGE_SZ, GRAN - PAGE_SZ, "MEM_COMMIT",
	  "\"PAGE_WRITECOPY\"", 3 * GRAN, GRAN, "\"PAGE_WRITECOPY\"", 0,
	  "mapped", true, true, false, 0, GRAN, false, NULL },
	{ 4 * GRAN, GRAN, "MEM_RESERVE", "null", 4 * GRAN, GRAN,
	  "\"PAGE_NOACCESS\"", 0, "placeholder", false, false, false, -1, -1,
	  false, "" },
	{ 5 * GRAN, GRAN, "MEM_COMMIT", "\"PAGE_READWRITE\"", 5 * GRAN, GRAN,
	  "\"PAGE_READWRITE\"", 0, "mapped", false, false, true, 0, GRAN,
	  false, "section offset 0x0 of 64.0 KiB, from placeholder" },
	{ 7 * GRAN, 16 * KiB, "MEM_COMMIT", "\"PAGE_READWRITE\"", 7 * GRAN,
	  GRAN, "null", 0, "private", false, false, false, -1, -1, false, "" },
	{ 7 * GRAN + 16 * KiB, GRAN - 16 * KiB, "MEM_RESERVE", "null",
	  7 * GRAN, GRAN, "null", 0, "private", false, false, false, -1, -1,
	  false, NULL },
};

/* Append to @buf (of @len) what the format makes. */
static void __attribute__((format(printf, 3, 4)))
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* The whole of map -j: an array of every region's object. */
static void layout_json(char *buf, size_t len, const char *base,
			const char *name_json)
{
	uintptr_t b = (uintptr_t)base;
	size_t i;

	snprintf(buf, len, "[");
	for (i = 0; i < ARRAY_SIZE(layout); i++) {
		const struct want_region *w = &layout[i];
		char sec[256] = "\"section_offset\":null,\"section_size\":null,"
				"\"section_name\":null";

		if (w->section_offset >= 0)
			snprintf(sec, sizeof(sec), "\"section_offset\":%lld,"
				 "\"section_size\":%lld,\"section_name\":%s",
				 w->section_offset, w->section_size,
				 w->named ? name_json : "null");
		append(buf, len, "%s{\"base\":%lu,\"end\":%lu,\"size\":%zu,"
		       "\"state\":\"%s\",\"protect\":%s,\"alloc_base\":%lu,"
		       "\"alloc_size\":%zu,\"alloc_protect\":%s,\"resident\":%zu,"
		       "\"write_watch\":false,\"type\":\"%s\","
		       "\"copy_on_write\":%s,\"file_backed\":%s,"
		       "\"from_placeholder\":%s,%s}", i ? "," : "",
		       b + w->off, b + w->off + w->size, w->size, w->state,
		       w->protect, b + w->alloc_off, w->alloc_size,
		       w->alloc_protect, w->resident, w->type,
		       w->copy ? "true" : "false", w->file ? "true" : "false",
		       w->from_placeholder ? "true" : "false", sec);
	}
	append(buf, len, "]\n");
}

/* A JSON protection as the table has it: unquoted, or - for null. */
static const char *table_protect(char *buf, const char *json)
{
	if (!strcmp(json, "null"))
		return "-";
	snprintf(buf, 64, "%.*s", (int)strlen(json) - 2, json + 1);
	return buf;
}

#define MAP_ROW "%-2s0x%016lx 0x%016lx %10s  %-11s %-28s 0x%016lx %10s%s%s\n"

/* The whole of map PID, from the summary to the last row. */
static void layout_text(char *buf, size_t len, const char *base, pid_t pid,
			const char *name_quoted)
{
	static const char *const size_of[] = {	/* fmt_size() of those sizes */
		[0] = "0 B", [1] = "4.00 KiB", [4] = "16.0 KiB",
		[12] = "48.0 KiB", [15] = "60.0 KiB", [16] = "64.0 KiB",
		[32] = "128 KiB",
	};
	uintptr_t b = (uintptr_t)base;
	char p[64], flags[256];
	size_t i, j, res;

	snprintf(buf, len, "pid %d (map-child): 5 allocations (3 views, 1 placeholder), "
		 "7 regions; 384 KiB reserved (64.0 KiB in placeholders), "
		 "272 KiB committed (256 KiB in views), 8.00 KiB resident\n", pid);
	/* 8 KiB a column: G is 8 columns */
	append(buf, len, "0x%016lx [%s] 0x%016lx\n", b,
	       "################........########--------########........##++++++",
	       (unsigned long)(b + MAP_SPAN));
	append(buf, len, "%18s  one column = 8.00 KiB: # committed, + reserved, "
	       "- placeholder, . free\n\n", "");
	append(buf, len, "%-2s%-18s %-18s %10s  %-11s %-28s %-18s %10s  %s\n", "",
	       "BASE", "END", "SIZE", "STATE", "PROTECT", "ALLOCATION BASE",
	       "RESIDENT", "FLAGS");
	for (i = 0; i < ARRAY_SIZE(layout); i++) {
		const struct want_region *w = &layout[i];

		if (w->flags) {
			for (res = 0, j = i; j < ARRAY_SIZE(layout) &&
			     layout[j].alloc_off == w->alloc_off; j++)
				res += layout[j].resident;
			snprintf(flags, sizeof(flags), w->flags, name_quoted);
			append(buf, len, MAP_ROW, "*", b + w->alloc_off,
			       b + w->alloc_off + w->alloc_size,
			       size_of[w->alloc_size / PAGE_SZ], w->type,
			       table_protect(p, w->alloc_protect),
			       b + w->alloc_off, size_of[res / PAGE_SZ],
			       *flags ? "  " : "", flags);
		}
		append(buf, len, MAP_ROW, "", b + w->off, b + w->off + w->size,
		       size_of[w->size / PAGE_SZ], w->state,
		       table_protect(p, w->protect), b + w->alloc_off,
		       size_of[w->resident / PAGE_SZ], "", "");
	}
}

/*
 * Views and placeholders, exactly: each allocation's type, a view's
 * section (offset, size, name, copy-on-write, file), "from placeholder",
 * in JSON and in the table, whose summary and picture count them.
 */
TEST_F(ntmemctl, map_shows_views_and_placeholders)
{
	const uint64_t need = NTMEM_FEATURE_SECTIONS | NTMEM_FEATURE_PLACEHOLDERS;
	char name[64], name_json[80], name_quoted[80], pid[16];
	static char want[16384];
	struct map_child c;
	int step;

	NEED_FAMILY();
	if ((ntmem_features(self->fd) & need) != need)
		SKIP(return, "module without sections or placeholders");
	/* a quote in the name: escaped in both forms */
	snprintf(name, sizeof(name), "ntmemctl \"map\" %d", getpid());
	snprintf(name_json, sizeof(name_json), "\"ntmemctl \\\"map\\\" %d\"", getpid());
	snprintf(name_quoted, sizeof(name_quoted), "%s", name_json);
	step = map_child_start(&c, name);
	ASSERT_EQ(0, step) TH_LOG("child: step %d failed: %s", step, strerror(errno));
	snprintf(pid, sizeof(pid), "%d", c.pid);

	EXPECT_EQ(0, ctl(&self->c, "map", "-j", pid)) TH_LOG("%s", self->c.err);
	EXPECT_TRUE(json_valid(self->c.out)) TH_LOG("not JSON: %s", self->c.out);
	layout_json(want, sizeof(want), c.base, name_json);
	EXPECT_STREQ(want, self->c.out);

	EXPECT_EQ(0, ctl(&self->c, "map", pid)) TH_LOG("%s", self->c.err);
	layout_text(want, sizeof(want), c.base, c.pid, name_quoted);
	EXPECT_STREQ(want, self->c.out);
	map_child_end(&c);
}

/* ---- limits ------------------------------------------------------------- */

TEST_F(ntmemctl, limit_pid_binds_and_lifts)
{
	char *p = ntmem_reserve_any(self->fd, 4 * MiB);
	const char *me;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ctl(&self->c, "limit", "--pid", self->pid, "1M"))
		TH_LOG("%s", self->c.err);
	ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p, 2 * MiB, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 512 * KiB, NTMEM_PAGE_READWRITE, 0));

	ASSERT_EQ(0, ctl(&self->c, "-j", "ps"));
	me = json_find_pid(self->c.out, getpid());
	ASSERT_NE(NULL, me);
	ASSERT_EQ((long long)MiB, json_num(me, "limit"));

	ASSERT_EQ(0, ctl(&self->c, "limit", "--pid", self->pid, "0"));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * MiB, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ctl(&self->c, "-j", "ps"));
	ASSERT_EQ(0, json_num(json_find_pid(self->c.out, getpid()), "limit"));
}

TEST_F(ntmemctl, limit_needs_privilege)
{
	NEED_FAMILY();
	ASSERT_EQ(1, ctl_nobody(&self->c, "limit", "1G"));
	ASSERT_NE(NULL, strstr(self->c.err, "ntmemctl: limit: Operation not permitted"))
		TH_LOG("stderr: %s", self->c.err);
	ASSERT_EQ(1, ctl_nobody(&self->c, "limit", "--pid", self->pid, "1M"));
	ASSERT_NE(NULL, strstr(self->c.err, "Operation not permitted"));
}

TEST_F(ntmemctl, limit_errors_exit_1)
{
	NEED_FAMILY();
	/* init has no ntmem context: ENOENT. */
	ASSERT_EQ(1, ctl(&self->c, "limit", "--pid", "1", "1M"));
	ASSERT_EQ(0, strncmp(self->c.err, "ntmemctl: limit: ", 17))
		TH_LOG("stderr: %s", self->c.err);
	ASSERT_STREQ("", self->c.out);
}

/* ---- monitor ------------------------------------------------------------ */

static pid_t monitor_start(int *out)
{
	char *argv[] = { "ntmemctl", "monitor", "-j", NULL };
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(NTMEMCTL, argv);
		_exit(127);
	}
	close(pfd[1]);
	*out = pfd[0];
	return pid;
}

/* Read one line within @ms, or return 0. */
static ssize_t read_line(int fd, char *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && poll(&pfd, 1, ms) > 0) {
		r = read(fd, buf + n, 1);
		if (r <= 0)
			break;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

TEST_F(ntmemctl, monitor_reports_limit_event)
{
	char *p = ntmem_reserve_any(self->fd, 4 * MiB), line[1024], pat[64];
	int out, status, i;

	NEED_FAMILY();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ctl(&self->c, "limit", "--pid", self->pid, "1M"));
	self->monitor = monitor_start(&out);
	ASSERT_LT(0, self->monitor);
	/* Until the monitor has joined the group, events go unseen: retry. */
	line[0] = '\0';
	for (i = 0; i < 100 && !line[0]; i++) {
		ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p, 2 * MiB,
						NTMEM_PAGE_READWRITE, 0));
		read_line(out, line, sizeof(line), 100);
	}
	ASSERT_NE(0, line[0]) TH_LOG("no event from monitor");
	ASSERT_TRUE(json_valid(line)) TH_LOG("not JSON: %s", line);
	snprintf(pat, sizeof(pat), "\"pid\":%d,", getpid());
	ASSERT_NE(NULL, strstr(line, pat)) TH_LOG("%s", line);
	ASSERT_NE(NULL, strstr(line, "\"event\":\"process_limit\""));
	ASSERT_NE(NULL, strstr(line, "\"comm\":\"ntmemctl_cli\""));
	ASSERT_EQ(2 * (long long)MiB, json_num(line, "requested"));
	ASSERT_EQ(0, json_num(line, "committed"));
	ASSERT_EQ((long long)MiB, json_num(line, "limit"));

	/* SIGTERM ends it cleanly. */
	ASSERT_EQ(0, kill(self->monitor, SIGTERM));
	ASSERT_EQ(self->monitor, waitpid(self->monitor, &status, 0));
	self->monitor = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(out);
}

/* ---- usage -------------------------------------------------------------- */

TEST_F(ntmemctl, bad_usage_exits_2)
{
	ASSERT_EQ(2, ctl(&self->c, "bogus"));
	ASSERT_EQ(2, ctl(&self->c, "map"));
	ASSERT_EQ(2, ctl(&self->c, "map", "notapid"));
	ASSERT_EQ(2, ctl(&self->c, "limit", "1000"));	/* not a page multiple */
	ASSERT_EQ(2, ctl(&self->c, "limit", "12X"));
	ASSERT_EQ(2, ctl(&self->c, "limit", "--pid"));
	ASSERT_EQ(2, ctl(&self->c, "stats", "--frobnicate"));
	ASSERT_EQ(2, ctl(&self->c, "stats", "extra"));
	ASSERT_NE(NULL, strstr(self->c.err, "Usage: ntmemctl stats"));
	ASSERT_EQ(2, ctl(&self->c, "-j"));
}

TEST_F(ntmemctl, help_and_version)
{
	static const char *const cmds[] = { "stats", "ps", "map", "limit", "monitor" };
	size_t i;

	ASSERT_EQ(0, ctl(&self->c, "--version"));
	ASSERT_EQ(0, strncmp(self->c.out, "ntmemctl ", 9));
	ASSERT_EQ(0, ctl(&self->c, "--help"));
	ASSERT_NE(NULL, strstr(self->c.out, "Usage: ntmemctl"));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		ASSERT_EQ(0, ctl(&self->c, cmds[i], "--help"));
		ASSERT_NE(NULL, strstr(self->c.out, cmds[i]));
		ASSERT_EQ(0, ctl(&self->c, cmds[i], "-h"));
		ASSERT_STREQ("", self->c.err);
	}
}

/* Output that cannot be written is an error, not a silent success. */
TEST(output_write_error_exits_1)
{
	static const char *const cmds[] = {
		NTMEMCTL " --help", NTMEMCTL " --version", NTMEMCTL " ps --help",
	};
	char cmd[128];
	size_t i;
	int st;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(cmd, sizeof(cmd), "%s >/dev/null", cmds[i]);
		st = system(cmd);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("%s", cmd);
		snprintf(cmd, sizeof(cmd), "%s >/dev/full 2>/dev/null", cmds[i]);
		st = system(cmd);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1)
			TH_LOG("%s: status %#x", cmd, st);
	}
}

TEST_HARNESS_MAIN
