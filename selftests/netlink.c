// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "ntmem" (include/uapi/ntmem_netlink.h):
 * GET_STATS matches the sysfs counters, GET_PROCESS and GET_REGIONS report
 * exactly what this process did, dumps are complete, SET_LIMIT and
 * GET_REGIONS enforce their permissions, malformed requests are refused
 * with an extended ack and change nothing, and a commit that fails at a
 * limit is announced on the "events" group.
 *
 * Limits are global state of the module shared by every later test in the
 * VM: each fixture puts the global limit back in its teardown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include <uapi/ntmem_netlink.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS		0x200
#endif
#define NLMSGERR_ATTR_MSG_	1

#define LIMIT_PARAM	"/sys/module/ntmem/parameters/commit_limit_mb"
#define COMM		"nl-selftest"

/* --- a small genl client ------------------------------------------------ */

struct nl {
	struct nl_sock *sk;
	int family;
};

/* One parsed reply message: every attribute, copied. */
struct reply {
	uint8_t cmd;
	bool has[NTMEM_A_MAX + 1];
	uint64_t u64[NTMEM_A_MAX + 1];	/* u32 attributes too; a string's length */
	char comm[32];
	char name[128];			/* NTMEM_A_SECTION_NAME */
	bool name_terminated;		/* ...ended by its one NUL */
};

/* What a request got back. */
struct result {
	int error;		/* 0 or -errno */
	char extack[256];	/* the kernel's message, "" if none */
	bool done;
	struct reply *replies;
	size_t n, cap;
};

static int nlc_open(struct nl *nl)
{
	int one = 1;

	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk))
		return -ECONNREFUSED;
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	/* room for big dumps */
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 1 << 20);
	nl_socket_set_msg_buf_size(nl->sk, 64 << 10);
	nl->family = genl_ctrl_resolve(nl->sk, NTMEM_GENL_NAME);
	return nl->family < 0 ? -ENOENT : 0;
}

static void nlc_close(struct nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

static void parse_reply(struct nlmsghdr *nlh, struct reply *r)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[NTMEM_A_MAX + 1];
	int i;

	memset(r, 0, sizeof(*r));
	r->cmd = gh->cmd;
	if (genlmsg_parse(nlh, 0, tb, NTMEM_A_MAX, NULL))
		return;
	for (i = 1; i <= NTMEM_A_MAX; i++) {
		if (!tb[i])
			continue;
		r->has[i] = true;
		if (i == NTMEM_A_COMM) {
			snprintf(r->comm, sizeof(r->comm), "%s",
				 (char *)nla_data(tb[i]));
		} else if (i == NTMEM_A_SECTION_NAME) {
			const char *name = nla_data(tb[i]);
			int len = nla_len(tb[i]);

			r->u64[i] = len;
			r->name_terminated = len > 0 && !name[len - 1] &&
					     strlen(name) == (size_t)len - 1;
			snprintf(r->name, sizeof(r->name), "%.*s", len, name);
		} else if (nla_len(tb[i]) == 8) {
			r->u64[i] = nla_get_u64(tb[i]);
		} else if (nla_len(tb[i]) == 4) {
			r->u64[i] = nla_get_u32(tb[i]);
		}
	}
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct result *res = arg;

	if (res->n == res->cap) {
		res->cap = res->cap ? 2 * res->cap : 64;
		res->replies = realloc(res->replies,
				       res->cap * sizeof(*res->replies));
		if (!res->replies)
			return NL_STOP;
	}
	parse_reply(nlmsg_hdr(msg), &res->replies[res->n++]);
	return NL_OK;
}

/* The extack message in the TLVs after an error or a DONE. */
static void take_extack(struct result *res, struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *a;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	a = (struct nlattr *)((char *)nlmsg_data(nlh) + off);
	rem = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG_)
			snprintf(res->extack, sizeof(res->extack), "%s",
				 (char *)nla_data(a));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct result *res = arg;

	(void)who;
	res->error = err->error;
	res->done = true;
	/* NETLINK_CAP_ACK: the request's header only, then the TLVs */
	take_extack(res, nlh, sizeof(*err));
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct result *res = arg;

	(void)msg;
	res->done = true;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct result *res = arg;

	res->done = true;
	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		res->error = *(int *)nlmsg_data(nlh);
		take_extack(res, nlh, sizeof(int));
	}
	return NL_STOP;
}

/* An attribute to send: its number, and its payload of @len bytes. */
struct attr {
	int type;
	int len;	/* 1, 2, 4 or 8; 0 ends the list */
	uint64_t value;
};

/* Send @cmd with @attrs (and NLM_F_DUMP if @dump); collect what comes back. */
static void request(struct nl *nl, uint8_t cmd, bool dump,
		    const struct attr *attrs, struct result *res)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	memset(res, 0, sizeof(*res));
	if (!msg || !cb) {
		res->error = -ENOMEM;
		goto out;
	}
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
		    dump ? NLM_F_DUMP : 0, cmd, NTMEM_GENL_VERSION);
	for (; attrs && attrs->len; attrs++) {
		uint8_t u8 = attrs->value;
		uint16_t u16 = attrs->value;
		uint32_t u32 = attrs->value;
		uint64_t u64 = attrs->value;
		void *p = attrs->len == 1 ? (void *)&u8 :
			  attrs->len == 2 ? (void *)&u16 :
			  attrs->len == 4 ? (void *)&u32 : (void *)&u64;

		nla_put(msg, attrs->type, attrs->len, p);
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, res);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, res);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, res);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, res);
	err = nl_send_auto(nl->sk, msg);
	if (err < 0) {
		res->error = -EIO;
		goto out;
	}
	while (!res->done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !res->done) {
			res->error = -EIO;
			break;
		}
	}
out:
	nlmsg_free(msg);
	nl_cb_put(cb);
}

static void result_free(struct result *res)
{
	free(res->replies);
	res->replies = NULL;
}

static int set_limit(struct nl *nl, int pid, uint64_t bytes,
		     struct result *res)
{
	struct attr a[] = {
		{ NTMEM_A_LIMIT, 8, bytes },
		{ NTMEM_A_PID, pid ? 4 : 0, pid },
		{ 0 },
	};

	request(nl, NTMEM_CMD_SET_LIMIT, false, a, res);
	return res->error;
}

static int get_process(struct nl *nl, int pid, struct reply *r)
{
	struct attr a[] = { { NTMEM_A_PID, 4, pid }, { 0 } };
	struct result res;

	request(nl, NTMEM_CMD_GET_PROCESS, false, a, &res);
	if (!res.error && res.n == 1)
		*r = res.replies[0];
	else if (!res.error)
		res.error = -EPROTO;
	result_free(&res);
	return res.error;
}

static void get_regions(struct nl *nl, int pid, struct result *res)
{
	struct attr a[] = { { NTMEM_A_PID, 4, pid }, { 0 } };

	request(nl, NTMEM_CMD_GET_REGIONS, true, a, res);
}

/* --- the fixture --------------------------------------------------------- */

FIXTURE(nl) {
	int fd;
	struct nl nl;
	long saved_limit;	/* commit_limit_pages at setup */
	long saved_param;	/* commit_limit_mb at setup */
};

FIXTURE_SETUP(nl)
{
	prctl(PR_SET_NAME, COMM);
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	self->saved_limit = ntmem_counter("commit_limit_pages");
	self->saved_param = read_long_file(LIMIT_PARAM);
	ASSERT_LT(0, self->saved_limit);
	ASSERT_EQ(0, nlc_open(&self->nl))
		TH_LOG("family %s not found", NTMEM_GENL_NAME);
}

FIXTURE_TEARDOWN(nl)
{
	struct result res;

	/* the module's default (param 0) or exactly the limit found */
	if (self->nl.sk && ntmem_counter("commit_limit_pages") !=
			   self->saved_limit)
		set_limit(&self->nl, 0, self->saved_param == 0 ? 0 :
			  (uint64_t)self->saved_limit * PAGE_SZ, &res);
	if (self->nl.sk)
		set_limit(&self->nl, getpid(), 0, &res);
	nlc_close(&self->nl);
	if (self->fd > 0)
		close(self->fd);
}

/* --- GET_STATS ------------------------------------------------------------ */

TEST_F(nl, stats_match_sysfs)
{
	static const struct { int attr; const char *file; bool bytes; } map[] = {
		{ NTMEM_A_RESERVATIONS, "reservations", false },
		{ NTMEM_A_COMMITTED, "committed_pages", true },
		{ NTMEM_A_RESIDENT, "resident_pages", true },
		{ NTMEM_A_RESET, "reset_pages", true },
		{ NTMEM_A_LOCKED, "locked_pages", true },
		{ NTMEM_A_COMMIT_LIMIT, "commit_limit_pages", true },
		{ NTMEM_A_COMMIT_PEAK, "commit_peak_pages", true },
		{ NTMEM_A_FAULTS, "faults", false },
		{ NTMEM_A_DROPPED, "dropped_pages", true },
		{ NTMEM_A_CONTEXTS, "contexts", false },
	};
	char *p = ntmem_reserve_any(self->fd, 1 * MiB);
	struct result res;
	size_t i;

	/* make the counters non-trivial first */
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 256 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	touch_pages(p, 64 * KiB, 1);
	ASSERT_EQ(0, ntmem_reset(self->fd, p, 16 * KiB));

	request(&self->nl, NTMEM_CMD_GET_STATS, false, NULL, &res);
	ASSERT_EQ(0, res.error) TH_LOG("GET_STATS: %s", res.extack);
	ASSERT_EQ(1, res.n);
	ASSERT_EQ(NTMEM_CMD_GET_STATS, res.replies[0].cmd);
	for (i = 0; i < ARRAY_SIZE(map); i++) {
		long v = ntmem_counter(map[i].file);

		ASSERT_LE(0, v);
		ASSERT_TRUE(res.replies[0].has[map[i].attr]);
		EXPECT_EQ((uint64_t)v * (map[i].bytes ? PAGE_SZ : 1),
			  res.replies[0].u64[map[i].attr])
			TH_LOG("%s", map[i].file);
	}
	EXPECT_LE(16 * KiB, res.replies[0].u64[NTMEM_A_RESET]);
	result_free(&res);
}

/*
 * The automatic limit's parts: RAM and swap as /proc/meminfo has them,
 * less the reserve, make the limit; with an explicit limit, no parts.
 */
TEST_F(nl, stats_limit_parts)
{
	const uint64_t *u;
	uint64_t limit, quarter, reserve;
	struct result res;

	ASSERT_EQ(0, self->saved_param);	/* the automatic limit */
	request(&self->nl, NTMEM_CMD_GET_STATS, false, NULL, &res);
	ASSERT_EQ(0, res.error) TH_LOG("GET_STATS: %s", res.extack);
	ASSERT_EQ(1, res.n);
	ASSERT_TRUE(res.replies[0].has[NTMEM_A_LIMIT_RAM]);
	ASSERT_TRUE(res.replies[0].has[NTMEM_A_LIMIT_SWAP]);
	ASSERT_TRUE(res.replies[0].has[NTMEM_A_LIMIT_RESERVE]);
	u = res.replies[0].u64;
	EXPECT_EQ((uint64_t)meminfo_kb("MemTotal") * 1024, u[NTMEM_A_LIMIT_RAM]);
	EXPECT_EQ((uint64_t)meminfo_kb("SwapTotal") * 1024,
		  u[NTMEM_A_LIMIT_SWAP]);
	/* a quarter of RAM's pages, at least 64 MiB; an eighth of swap's */
	quarter = u[NTMEM_A_LIMIT_RAM] / PAGE_SZ / 4 * PAGE_SZ;
	reserve = (quarter > 64 * MiB ? quarter : 64 * MiB) +
		  u[NTMEM_A_LIMIT_SWAP] / PAGE_SZ / 8 * PAGE_SZ;
	EXPECT_EQ(reserve, u[NTMEM_A_LIMIT_RESERVE]);
	EXPECT_EQ(u[NTMEM_A_LIMIT_RAM] + u[NTMEM_A_LIMIT_SWAP] -
		  u[NTMEM_A_LIMIT_RESERVE], u[NTMEM_A_COMMIT_LIMIT]);
	limit = u[NTMEM_A_COMMIT_LIMIT];
	result_free(&res);

	ASSERT_EQ(0, set_limit(&self->nl, 0, 100 * MiB, &res));
	result_free(&res);
	request(&self->nl, NTMEM_CMD_GET_STATS, false, NULL, &res);
	ASSERT_EQ(0, res.error);
	EXPECT_EQ(100 * MiB, res.replies[0].u64[NTMEM_A_COMMIT_LIMIT]);
	EXPECT_FALSE(res.replies[0].has[NTMEM_A_LIMIT_RAM]);
	EXPECT_FALSE(res.replies[0].has[NTMEM_A_LIMIT_SWAP]);
	EXPECT_FALSE(res.replies[0].has[NTMEM_A_LIMIT_RESERVE]);
	result_free(&res);
	ASSERT_EQ(0, set_limit(&self->nl, 0, 0, &res));
	result_free(&res);
	ASSERT_EQ((long)(limit / PAGE_SZ), ntmem_counter("commit_limit_pages"));
}

/* --- GET_PROCESS ---------------------------------------------------------- */

TEST_F(nl, process_self_exact)
{
	char *p = ntmem_reserve_any(self->fd, 1 * MiB);
	char *q = ntmem_reserve_any(self->fd, 64 * KiB);
	struct reply r;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 64 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	touch_pages(p, 16 * PAGE_SZ, 7);
	ASSERT_EQ(0, ntmem_lock(self->fd, p, 4 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_reset(self->fd, p + 8 * PAGE_SZ, 8 * PAGE_SZ));

	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(NTMEM_CMD_GET_PROCESS, r.cmd);
	EXPECT_EQ((uint64_t)getpid(), r.u64[NTMEM_A_PID]);
	EXPECT_STREQ(COMM, r.comm);
	EXPECT_EQ(2, r.u64[NTMEM_A_RESERVATIONS]);
	EXPECT_EQ(64 * PAGE_SZ, r.u64[NTMEM_A_COMMITTED]);
	EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_RESIDENT]);
	EXPECT_EQ(8 * PAGE_SZ, r.u64[NTMEM_A_RESET]);
	EXPECT_EQ(4 * PAGE_SZ, r.u64[NTMEM_A_LOCKED]);
	ASSERT_TRUE(r.has[NTMEM_A_LIMIT]);
	EXPECT_EQ(0, r.u64[NTMEM_A_LIMIT]);

	/* undone: the numbers follow */
	ASSERT_EQ(0, ntmem_unlock(self->fd, p, 4 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_release(self->fd, q, 0));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(1, r.u64[NTMEM_A_RESERVATIONS]);
	EXPECT_EQ(0, r.u64[NTMEM_A_LOCKED]);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(0, r.u64[NTMEM_A_RESERVATIONS]);
	EXPECT_EQ(0, r.u64[NTMEM_A_COMMITTED]);
	EXPECT_EQ(0, r.u64[NTMEM_A_RESIDENT]);
	EXPECT_EQ(0, r.u64[NTMEM_A_RESET]);
}

TEST_F(nl, process_unknown_pid)
{
	struct attr a[] = { { NTMEM_A_PID, 4, 0x3fffffff }, { 0 } };
	struct result res;
	struct reply r;
	pid_t child = fork();

	/* a process without a context: ENOENT */
	ASSERT_LE(0, child);
	if (!child) {
		pause();
		_exit(0);
	}
	EXPECT_EQ(-ENOENT, get_process(&self->nl, child, &r));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	request(&self->nl, NTMEM_CMD_GET_PROCESS, false, a, &res);
	EXPECT_EQ(-ENOENT, res.error);
	EXPECT_STRNE("", res.extack);
	result_free(&res);
}

TEST_F(nl, process_dump_has_self_and_child)
{
	int ready[2], go[2];
	bool seen_self = false, seen_child = false;
	struct result res;
	pid_t child;
	size_t i;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		int fd = ntmem_open();
		char *p = fd >= 0 ? ntmem_reserve_any(fd, 3 * GRAN) : NULL;

		prctl(PR_SET_NAME, "nl-child");
		if (!p || ntmem_commit(fd, p, 5 * PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0))
			_exit(1);
		c = 1;
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));

	request(&self->nl, NTMEM_CMD_GET_PROCESS, true, NULL, &res);
	EXPECT_LE((long)res.n, ntmem_counter("contexts"));
	ASSERT_EQ(0, res.error) TH_LOG("dump: %s", res.extack);
	for (i = 0; i < res.n; i++) {
		struct reply *r = &res.replies[i];

		EXPECT_EQ(NTMEM_CMD_GET_PROCESS, r->cmd);
		if (r->u64[NTMEM_A_PID] == (uint64_t)getpid()) {
			EXPECT_FALSE(seen_self);
			seen_self = true;
			EXPECT_STREQ(COMM, r->comm);
		}
		if (r->u64[NTMEM_A_PID] == (uint64_t)child) {
			EXPECT_FALSE(seen_child);
			seen_child = true;
			EXPECT_STREQ("nl-child", r->comm);
			EXPECT_EQ(1, r->u64[NTMEM_A_RESERVATIONS]);
			EXPECT_EQ(5 * PAGE_SZ, r->u64[NTMEM_A_COMMITTED]);
			EXPECT_EQ(0, r->u64[NTMEM_A_RESIDENT]);
		}
	}
	EXPECT_TRUE(seen_self);
	EXPECT_TRUE(seen_child);
	result_free(&res);

	/* the dump filtered by NTMEM_A_PID: just the child */
	{
		struct attr a[] = { { NTMEM_A_PID, 4, child }, { 0 } };

		request(&self->nl, NTMEM_CMD_GET_PROCESS, true, a, &res);
		EXPECT_EQ(0, res.error);
		EXPECT_EQ(1, res.n);
		if (res.n == 1)
			EXPECT_EQ((uint64_t)child,
				  res.replies[0].u64[NTMEM_A_PID]);
		result_free(&res);
	}
	c = 0;
	EXPECT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, NULL, 0));
}

/* --- GET_REGIONS ---------------------------------------------------------- */

struct run {
	uint64_t off, size;	/* in the allocation */
	uint32_t state, protect;
	uint64_t resident;
};

TEST_F(nl, regions_known_layout)
{
	void *a = NULL, *w = NULL;
	size_t alen = 16 * PAGE_SZ, wlen = 3 * PAGE_SZ;
	const struct run expect[] = {
		{ 0, 2, NTMEM_STATE_RESERVE, 0, 0 },
		{ 2, 4, NTMEM_STATE_COMMIT, NTMEM_PAGE_READWRITE, 2 },
		{ 6, 2, NTMEM_STATE_COMMIT, NTMEM_PAGE_READONLY, 0 },
		{ 8, 8, NTMEM_STATE_RESERVE, 0, 0 },
	};
	struct result res;
	size_t i;

	ASSERT_EQ(0, ntmem_reserve(self->fd, &a, &alen, 0,
				   NTMEM_PAGE_READWRITE));
	ASSERT_EQ(0, ntmem_reserve(self->fd, &w, &wlen,
				   NTMEM_RESERVE_WRITE_WATCH | NTMEM_RESERVE_COMMIT,
				   NTMEM_PAGE_READWRITE));
	ASSERT_EQ(0, ntmem_commit(self->fd, PTR_ADD(a, 2 * PAGE_SZ),
				  4 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, PTR_ADD(a, 6 * PAGE_SZ),
				  2 * PAGE_SZ, NTMEM_PAGE_READONLY, 0));
	touch_pages(PTR_ADD(a, 2 * PAGE_SZ), 2 * PAGE_SZ, 3);
	touch_pages(w, PAGE_SZ, 4);

	get_regions(&self->nl, getpid(), &res);
	ASSERT_EQ(0, res.error) TH_LOG("dump: %s", res.extack);
	ASSERT_EQ(5, res.n);
	/* address order: whichever reservation is lower comes first */
	for (i = 0; i < res.n; i++) {
		struct reply *r = &res.replies[i];
		bool in_a = r->u64[NTMEM_A_ALLOC_BASE] == (uintptr_t)a;
		size_t k;

		EXPECT_EQ(NTMEM_CMD_GET_REGIONS, r->cmd);
		if (i)
			EXPECT_LT(res.replies[i - 1].u64[NTMEM_A_REGION_BASE],
				  r->u64[NTMEM_A_REGION_BASE]);
		if (!in_a) {
			EXPECT_EQ((uintptr_t)w, r->u64[NTMEM_A_ALLOC_BASE]);
			EXPECT_EQ((uintptr_t)w, r->u64[NTMEM_A_REGION_BASE]);
			EXPECT_EQ(wlen, r->u64[NTMEM_A_REGION_SIZE]);
			EXPECT_EQ(wlen, r->u64[NTMEM_A_ALLOC_SIZE]);
			EXPECT_EQ(NTMEM_STATE_COMMIT, r->u64[NTMEM_A_STATE]);
			EXPECT_EQ(NTMEM_PAGE_READWRITE,
				  r->u64[NTMEM_A_PROTECT]);
			EXPECT_EQ(PAGE_SZ, r->u64[NTMEM_A_RESIDENT]);
			EXPECT_EQ(NTMEM_REGION_WRITE_WATCH,
				  r->u64[NTMEM_A_REGION_FLAGS]);
			continue;
		}
		k = (r->u64[NTMEM_A_REGION_BASE] - (uintptr_t)a) / PAGE_SZ;
		EXPECT_EQ(16 * PAGE_SZ, r->u64[NTMEM_A_ALLOC_SIZE]);
		EXPECT_EQ(NTMEM_PAGE_READWRITE, r->u64[NTMEM_A_ALLOC_PROTECT]);
		ASSERT_TRUE(r->has[NTMEM_A_REGION_FLAGS]);
		EXPECT_EQ(0, r->u64[NTMEM_A_REGION_FLAGS]);
		for (size_t j = 0; j < 4; j++) {
			if (expect[j].off != k)
				continue;
			EXPECT_EQ(expect[j].size * PAGE_SZ,
				  r->u64[NTMEM_A_REGION_SIZE]);
			EXPECT_EQ(expect[j].state, r->u64[NTMEM_A_STATE]);
			EXPECT_EQ(expect[j].protect, r->u64[NTMEM_A_PROTECT]);
			EXPECT_EQ(expect[j].resident * PAGE_SZ,
				  r->u64[NTMEM_A_RESIDENT]);
			k = ~0UL;
		}
		EXPECT_EQ(~0UL, k) TH_LOG("unexpected run at +%#llx",
					  (unsigned long long)
					  (r->u64[NTMEM_A_REGION_BASE] -
					   (uintptr_t)a));
	}
	result_free(&res);
}

/*
 * Views and placeholders: at a free base B, in 64 KiB granules G,
 *   [0, G)    a private reservation
 *   [G, 5G)   a placeholder split in three: [G, 2G) replaced by a view of
 *             a named section (2G, at offset G), [2G, 3G) by a private
 *             reservation, [3G, 5G) left a placeholder (one region)
 *   [5G, 6G)  a copy-on-write view of a file section (2G), at offset G
 *   [6G, 7G)  a read view of the named section, at offset 0
 *   [7G, 8G)  a shared view of the file section, at offset 0
 */
struct want_region {
	uint64_t off, size;
	uint32_t type, flags, alloc_protect, state;
	int64_t section_offset;		/* -1: not a view */
	uint64_t section_size;
	bool named;
};

static int view_at(int fd, int s, uint64_t addr, uint64_t offset,
		   uint32_t access, uint32_t flags)
{
	struct ntmem_view v = {
		.size = sizeof(v), .flags = NTMEM_RESERVE_FIXED | flags,
		.addr = addr, .offset = offset, .length = GRAN,
		.section = s, .access = access,
	};

	return ntmem_ioctl(fd, NTMEM_IOC_MAP_VIEW, &v);
}

static int reserve_at(int fd, uint64_t addr, uint64_t len, uint32_t flags)
{
	void *a = (void *)(uintptr_t)addr;
	size_t l = len;

	return ntmem_reserve(fd, &a, &l, NTMEM_RESERVE_FIXED | flags, 0);
}

TEST_F(nl, regions_views_and_placeholders)
{
	const uint64_t need = NTMEM_FEATURE_SECTIONS | NTMEM_FEATURE_PLACEHOLDERS;
	const struct want_region want[] = {
		{ 0, GRAN, NTMEM_TYPE_PRIVATE, 0, 0, NTMEM_STATE_RESERVE,
		  -1, 0, false },
		{ GRAN, GRAN, NTMEM_TYPE_MAPPED, NTMEM_REGION_FROM_PLACEHOLDER,
		  NTMEM_PAGE_READWRITE, NTMEM_STATE_COMMIT, GRAN, 2 * GRAN,
		  true },
		{ 2 * GRAN, GRAN, NTMEM_TYPE_PRIVATE,
		  NTMEM_REGION_FROM_PLACEHOLDER, 0, NTMEM_STATE_RESERVE, -1, 0,
		  false },
		{ 3 * GRAN, 2 * GRAN, NTMEM_TYPE_PLACEHOLDER, 0,
		  NTMEM_PAGE_NOACCESS, NTMEM_STATE_RESERVE, -1, 0, false },
		{ 5 * GRAN, GRAN, NTMEM_TYPE_MAPPED,
		  NTMEM_REGION_COPY | NTMEM_REGION_FILE, NTMEM_PAGE_WRITECOPY,
		  NTMEM_STATE_COMMIT, GRAN, 2 * GRAN, false },
		{ 6 * GRAN, GRAN, NTMEM_TYPE_MAPPED, 0, NTMEM_PAGE_READONLY,
		  NTMEM_STATE_COMMIT, 0, 2 * GRAN, true },
		{ 7 * GRAN, GRAN, NTMEM_TYPE_MAPPED, NTMEM_REGION_FILE,
		  NTMEM_PAGE_READWRITE, NTMEM_STATE_COMMIT, 0, 2 * GRAN, false },
	};
	uint64_t b, p;
	struct result res;
	char name[64];
	int s, f, fs;
	size_t i;

	if ((ntmem_features(self->fd) & need) != need)
		SKIP(return, "module without sections or placeholders");
	b = (uintptr_t)ntmem_find_free(self->fd, 8 * GRAN);
	ASSERT_NE(0, b);
	p = b + GRAN;
	snprintf(name, sizeof(name), "nl-section-%d", getpid());
	s = ntmem_section_create(self->fd, 2 * GRAN, 0, NTMEM_PAGE_READWRITE,
				 name, NULL);
	ASSERT_LE(0, s);
	f = memfd_create("nl-section-file", MFD_CLOEXEC);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, ftruncate(f, 2 * GRAN));
	fs = ntmem_file_section_create(self->fd, f, 0, 0, NTMEM_PAGE_READWRITE,
				       NULL, NULL);
	ASSERT_LE(0, fs);

	ASSERT_EQ(0, reserve_at(self->fd, b, GRAN, 0));
	ASSERT_EQ(0, reserve_at(self->fd, p, 4 * GRAN,
				NTMEM_RESERVE_PLACEHOLDER));
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_RELEASE, p, GRAN, 0,
				       NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_RELEASE, p + GRAN,
				       GRAN, 0, NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(0, view_at(self->fd, s, p, GRAN, NTMEM_FILE_MAP_WRITE,
			     NTMEM_RESERVE_REPLACE));
	ASSERT_EQ(0, reserve_at(self->fd, p + GRAN, GRAN,
				NTMEM_RESERVE_REPLACE));
	ASSERT_EQ(0, view_at(self->fd, fs, b + 5 * GRAN, GRAN,
			     NTMEM_FILE_MAP_COPY, 0));
	ASSERT_EQ(0, view_at(self->fd, s, b + 6 * GRAN, 0, NTMEM_FILE_MAP_READ,
			     0));
	ASSERT_EQ(0, view_at(self->fd, fs, b + 7 * GRAN, 0,
			     NTMEM_FILE_MAP_WRITE, 0));

	get_regions(&self->nl, getpid(), &res);
	ASSERT_EQ(0, res.error) TH_LOG("dump: %s", res.extack);
	ASSERT_EQ(ARRAY_SIZE(want), res.n);
	for (i = 0; i < res.n; i++) {
		const struct want_region *w = &want[i];
		struct reply *r = &res.replies[i];
		bool view = w->section_offset >= 0;
		struct ntmem_query q;

		EXPECT_EQ(b + w->off, r->u64[NTMEM_A_REGION_BASE])
			TH_LOG("region %zu", i);
		EXPECT_EQ(w->size, r->u64[NTMEM_A_REGION_SIZE]);
		EXPECT_EQ(b + w->off, r->u64[NTMEM_A_ALLOC_BASE]);
		EXPECT_EQ(w->size, r->u64[NTMEM_A_ALLOC_SIZE]);
		EXPECT_EQ(w->alloc_protect, r->u64[NTMEM_A_ALLOC_PROTECT]);
		EXPECT_EQ(w->state, r->u64[NTMEM_A_STATE]);
		EXPECT_EQ(0, r->u64[NTMEM_A_RESIDENT]);
		ASSERT_TRUE(r->has[NTMEM_A_TYPE]);
		EXPECT_EQ(w->type, r->u64[NTMEM_A_TYPE]) TH_LOG("region %zu", i);
		ASSERT_TRUE(r->has[NTMEM_A_REGION_FLAGS]);
		EXPECT_EQ(w->flags, r->u64[NTMEM_A_REGION_FLAGS])
			TH_LOG("region %zu", i);
		EXPECT_EQ(view, r->has[NTMEM_A_SECTION_OFFSET]);
		EXPECT_EQ(view, r->has[NTMEM_A_SECTION_SIZE]);
		EXPECT_EQ(w->named, r->has[NTMEM_A_SECTION_NAME]);
		if (view) {
			EXPECT_EQ((uint64_t)w->section_offset,
				  r->u64[NTMEM_A_SECTION_OFFSET]);
			EXPECT_EQ(w->section_size, r->u64[NTMEM_A_SECTION_SIZE]);
		}
		if (w->named) {
			EXPECT_STREQ(name, r->name);
			EXPECT_TRUE(r->name_terminated);
			EXPECT_EQ(strlen(name) + 1, r->u64[NTMEM_A_SECTION_NAME]);
		}
		/* QUERY says the same type */
		ASSERT_EQ(0, ntmem_query(self->fd, (void *)(uintptr_t)(b + w->off),
					 &q));
		EXPECT_EQ(q.type, r->u64[NTMEM_A_TYPE]);
	}
	result_free(&res);

	/* the view goes back to a placeholder, which the dump shows */
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_UNMAP_VIEW, p, 0, 0,
				       NTMEM_RELEASE_PRESERVE));
	get_regions(&self->nl, getpid(), &res);
	ASSERT_EQ(0, res.error) TH_LOG("dump: %s", res.extack);
	ASSERT_EQ(ARRAY_SIZE(want), res.n);
	EXPECT_EQ(p, res.replies[1].u64[NTMEM_A_REGION_BASE]);
	EXPECT_EQ(GRAN, res.replies[1].u64[NTMEM_A_REGION_SIZE]);
	EXPECT_EQ(NTMEM_TYPE_PLACEHOLDER, res.replies[1].u64[NTMEM_A_TYPE]);
	EXPECT_EQ(0, res.replies[1].u64[NTMEM_A_REGION_FLAGS]);
	EXPECT_FALSE(res.replies[1].has[NTMEM_A_SECTION_OFFSET]);
	EXPECT_FALSE(res.replies[1].has[NTMEM_A_SECTION_NAME]);
	result_free(&res);
	close(fs);
	close(f);
	close(s);
}

#define MANY	12000

TEST_F_TIMEOUT(nl, regions_dump_12000, 500)
{
	char **base = calloc(MANY, sizeof(*base));
	struct result res;
	size_t i, n = 0, expected = 0;

	uint64_t t0 = now_ns(), t1, t2, t3;

	ASSERT_NE(NULL, base);
	for (i = 0; i < MANY; i++) {
		base[i] = ntmem_reserve_any(self->fd, 2 * PAGE_SZ);
		ASSERT_NE(NULL, base[i]) TH_LOG("reservation %zu", i);
		/* every other one in two runs: committed page, reserved page */
		if (i % 2 == 0)
			ASSERT_EQ(0, ntmem_commit(self->fd, base[i], PAGE_SZ,
						  NTMEM_PAGE_READWRITE, 0));
		expected += i % 2 == 0 ? 2 : 1;
	}

	t1 = now_ns();
	get_regions(&self->nl, getpid(), &res);
	t2 = now_ns();
	ASSERT_EQ(0, res.error) TH_LOG("dump: %s", res.extack);
	ASSERT_EQ(expected, res.n);
	for (i = 0; i < res.n; i++) {
		struct reply *r = &res.replies[i];
		struct ntmem_query q;

		if (i)
			ASSERT_LE(res.replies[i - 1].u64[NTMEM_A_REGION_BASE] +
				  res.replies[i - 1].u64[NTMEM_A_REGION_SIZE],
				  r->u64[NTMEM_A_REGION_BASE]);
		ASSERT_EQ(0, ntmem_query(self->fd,
					 (void *)(uintptr_t)r->u64[NTMEM_A_REGION_BASE],
					 &q));
		ASSERT_EQ(q.base, r->u64[NTMEM_A_REGION_BASE]);
		ASSERT_EQ(q.region_size, r->u64[NTMEM_A_REGION_SIZE]);
		ASSERT_EQ(q.alloc_base, r->u64[NTMEM_A_ALLOC_BASE]);
		ASSERT_EQ(q.alloc_size, r->u64[NTMEM_A_ALLOC_SIZE]);
		ASSERT_EQ(q.alloc_protect, r->u64[NTMEM_A_ALLOC_PROTECT]);
		ASSERT_EQ(q.state, r->u64[NTMEM_A_STATE]);
		ASSERT_EQ(q.protect, r->u64[NTMEM_A_PROTECT]);
		ASSERT_EQ(0, r->u64[NTMEM_A_RESIDENT]);
		if (r->u64[NTMEM_A_REGION_BASE] == r->u64[NTMEM_A_ALLOC_BASE])
			n++;
	}
	ASSERT_EQ(MANY, n);
	t3 = now_ns();
	TH_LOG("reserve %llu ms, dump %llu ms, query %llu ms",
	       (unsigned long long)(t1 - t0) / 1000000,
	       (unsigned long long)(t2 - t1) / 1000000,
	       (unsigned long long)(t3 - t2) / 1000000);
	result_free(&res);
	/* the reservations go with the test process (faster than RELEASE) */
	free(base);
}

/*
 * A process dump comes in parts; contexts that go away between two parts
 * must not make the dump skip (or repeat) the ones that stay.
 */
#define CHURN_CHILDREN	120

/* Receive one part of a GET_PROCESS dump: the pids seen, 1 at its end. */
static int dump_part(struct nl_sock *sk, int *seen, size_t *n)
{
	struct sockaddr_nl who;
	unsigned char *buf = NULL;
	struct nlmsghdr *nlh;
	int len, done = 0;

	len = nl_recv(sk, &who, &buf, NULL);
	if (len <= 0)
		return -1;
	for (nlh = (void *)buf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		struct reply r;

		if (nlh->nlmsg_type == NLMSG_DONE) {
			done = 1;
			break;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			done = -1;
			break;
		}
		parse_reply(nlh, &r);
		seen[(*n)++] = r.u64[NTMEM_A_PID];
	}
	free(buf);
	return done;
}

TEST_F(nl, process_dump_while_contexts_exit)
{
	pid_t kids[CHURN_CHILDREN];
	int seen[4 * CHURN_CHILDREN], go[2], ready[2], i, j, parts = 0, done;
	struct nl small = { 0 };
	struct nl_msg *msg;
	size_t n = 0;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < CHURN_CHILDREN; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i]) {
			int fd = ntmem_open();

			close(go[1]);
			c = fd >= 0;
			if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		ASSERT_EQ(1, c);
	}
	/*
	 * Small parts: the kernel sizes them by the largest receive buffer
	 * the socket has used, so this one only ever reads with one page
	 * (the family's id comes from the fixture's socket).
	 */
	small.sk = nl_socket_alloc();
	ASSERT_NE(NULL, small.sk);
	ASSERT_EQ(0, genl_connect(small.sk));
	nl_socket_set_msg_buf_size(small.sk, 4096);
	small.family = self->nl.family;
	msg = nlmsg_alloc();
	ASSERT_NE(NULL, msg);
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, small.family, 0,
		    NLM_F_DUMP, NTMEM_CMD_GET_PROCESS, NTMEM_GENL_VERSION);
	ASSERT_LE(0, nl_send_auto(small.sk, msg));
	nlmsg_free(msg);
	done = dump_part(small.sk, seen, &n);
	parts++;
	ASSERT_EQ(0, done) TH_LOG("the dump fit in one part: no test");
	/* every child seen so far exits, and is reaped, before the next part */
	for (i = 0; i < CHURN_CHILDREN; i++)
		for (j = 0; j < (int)n; j++)
			if (seen[j] == kids[i]) {
				kill(kids[i], SIGKILL);
				waitpid(kids[i], NULL, 0);
				kids[i] = 0;
			}
	while (!done) {
		done = dump_part(small.sk, seen, &n);
		parts++;
		ASSERT_LE(0, done);
		ASSERT_GT(4 * CHURN_CHILDREN, (int)n);
	}
	TH_LOG("%d parts, %zu entries", parts, n);
	/* every child still alive is in the dump exactly once */
	for (i = 0; i < CHURN_CHILDREN; i++) {
		int times = 0;

		if (!kids[i])
			continue;
		for (j = 0; j < (int)n; j++)
			times += seen[j] == kids[i];
		EXPECT_EQ(1, times) TH_LOG("child %d (pid %d)", i, kids[i]);
	}
	close(go[1]);
	for (i = 0; i < CHURN_CHILDREN; i++)
		if (kids[i])
			waitpid(kids[i], NULL, 0);
	nlc_close(&small);
}

/* --- permissions ---------------------------------------------------------- */

static int listen_events(struct nl *ev);

/* As user nobody: returns 0, or the number of the check that failed. */
static int as_nobody(pid_t parent)
{
	struct nl nl = { 0 }, ev = { 0 };
	struct result res;
	struct reply r;
	int fd, err;
	void *p;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 1;
	if (nlc_open(&nl))
		return 2;
	if (set_limit(&nl, 0, 64 * MiB, &res) != -EPERM || !res.extack[0])
		return 3;
	if (set_limit(&nl, parent, 64 * MiB, &res) != -EPERM)
		return 4;
	get_regions(&nl, parent, &res);
	if (res.error != -EPERM)
		return 5;
	result_free(&res);
	/* another user's process: neither its figures nor its name */
	if (get_process(&nl, parent, &r) != -EPERM)
		return 8;
	fd = ntmem_open();
	p = fd >= 0 ? ntmem_reserve_any(fd, GRAN) : NULL;
	if (!p)
		return 6;
	get_regions(&nl, getpid(), &res);
	if (res.error || res.n != 1 ||
	    res.replies[0].u64[NTMEM_A_REGION_BASE] != (uintptr_t)p ||
	    res.replies[0].u64[NTMEM_A_STATE] != NTMEM_STATE_RESERVE)
		return 7;
	result_free(&res);
	/* the process dump lists only what the caller may read: itself */
	request(&nl, NTMEM_CMD_GET_PROCESS, true, NULL, &res);
	if (res.error || res.n != 1 ||
	    res.replies[0].u64[NTMEM_A_PID] != (uint64_t)getpid())
		return 9;
	result_free(&res);
	if (get_process(&nl, getpid(), &r) || r.u64[NTMEM_A_PID] != (uint64_t)getpid())
		return 10;
	/* limit events name every user's processes: administrators only */
	err = listen_events(&ev);
	nlc_close(&ev);
	if (!err)
		return 11;
	nlc_close(&nl);
	return 0;
}

TEST_F(nl, unprivileged)
{
	long limit = ntmem_counter("commit_limit_pages");
	struct result res;
	struct reply r;
	pid_t child;
	int status;

	ASSERT_EQ(0, getuid()) TH_LOG("run as root");
	ASSERT_NE(NULL, ntmem_reserve_any(self->fd, GRAN));
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(as_nobody(getppid()));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("check %d failed as nobody", WEXITSTATUS(status));
	EXPECT_EQ(limit, ntmem_counter("commit_limit_pages"));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(0, r.u64[NTMEM_A_LIMIT]);

	/* root can read its own and everyone's */
	get_regions(&self->nl, getpid(), &res);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(1, res.n);
	result_free(&res);
}

TEST_F(nl, regions_no_such_process)
{
	struct result res;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (!child)
		_exit(0);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	get_regions(&self->nl, child, &res);
	EXPECT_EQ(-ESRCH, res.error);
	result_free(&res);

	/* a process without ntmem: an empty, successful dump */
	get_regions(&self->nl, getppid(), &res);
	EXPECT_EQ(0, res.error);
	result_free(&res);
}

/* --- malformed requests ------------------------------------------------- */

static bool einval_ish(int err)
{
	return err == -EINVAL || err == -ERANGE || err == -EOPNOTSUPP;
}

TEST_F(nl, malformed)
{
	const struct {
		const char *what;
		uint8_t cmd;
		bool dump;
		struct attr attrs[3];
		bool need_msg;
	} bad[] = {
		{ "PID as u8", NTMEM_CMD_GET_PROCESS, false,
		  { { NTMEM_A_PID, 1, 1 } }, true },
		{ "PID as u16", NTMEM_CMD_GET_PROCESS, false,
		  { { NTMEM_A_PID, 2, 1 } }, true },
		{ "PID as u8, dump", NTMEM_CMD_GET_REGIONS, true,
		  { { NTMEM_A_PID, 1, 1 } }, true },
		{ "PID as u64", NTMEM_CMD_SET_LIMIT, false,
		  { { NTMEM_A_LIMIT, 8, 4096 }, { NTMEM_A_PID, 8, 1 } },
		  true },
		{ "unknown attribute", NTMEM_CMD_GET_PROCESS, false,
		  { { NTMEM_A_PID, 4, 1 }, { NTMEM_A_MAX + 5, 4, 1 } }, true },
		{ "attribute of another command", NTMEM_CMD_SET_LIMIT, false,
		  { { NTMEM_A_LIMIT, 8, 4096 }, { NTMEM_A_COMM, 4, 1 } },
		  true },
		{ "attribute to GET_STATS", NTMEM_CMD_GET_STATS, false,
		  { { NTMEM_A_PID, 4, 1 } }, true },
		{ "SET_LIMIT without LIMIT", NTMEM_CMD_SET_LIMIT, false,
		  { { NTMEM_A_PID, 4, 1 } }, true },
		{ "LIMIT not a page multiple", NTMEM_CMD_SET_LIMIT, false,
		  { { NTMEM_A_LIMIT, 8, 64 * MiB + 100 } }, true },
		{ "LIMIT as u32", NTMEM_CMD_SET_LIMIT, false,
		  { { NTMEM_A_LIMIT, 4, 64 * MiB } }, true },
		{ "GET_PROCESS without PID", NTMEM_CMD_GET_PROCESS, false,
		  { { 0 } }, true },
		/* the core refuses these before the family sees them */
		{ "unknown command", 42, false, { { 0 } }, false },
		{ "EVENT as a request", NTMEM_CMD_EVENT, false, { { 0 } },
		  false },
	};
	long limit = ntmem_counter("commit_limit_pages");
	long committed = ntmem_counter("committed_pages");
	struct result res;
	struct reply r;
	size_t i;

	ASSERT_NE(NULL, ntmem_reserve_any(self->fd, GRAN));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		request(&self->nl, bad[i].cmd, bad[i].dump, bad[i].attrs,
			&res);
		EXPECT_TRUE(einval_ish(res.error))
			TH_LOG("%s: error %d", bad[i].what, res.error);
		if (bad[i].need_msg)
			EXPECT_STRNE("", res.extack)
				TH_LOG("%s: no extack message", bad[i].what);
		EXPECT_EQ(0, res.n) TH_LOG("%s: got a reply", bad[i].what);
		result_free(&res);
	}
	/* nothing changed */
	EXPECT_EQ(limit, ntmem_counter("commit_limit_pages"));
	EXPECT_EQ(committed, ntmem_counter("committed_pages"));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(0, r.u64[NTMEM_A_LIMIT]);

	/* a valid, page-multiple limit for self is taken, and reported */
	ASSERT_EQ(0, set_limit(&self->nl, getpid(), 64 * MiB, &res));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(64 * MiB, r.u64[NTMEM_A_LIMIT]);
	EXPECT_EQ(limit, ntmem_counter("commit_limit_pages"));
}

TEST_F(nl, set_limit_global)
{
	long limit = ntmem_counter("commit_limit_pages");
	struct result res;

	ASSERT_EQ(0, set_limit(&self->nl, 0, (uint64_t)(limit + 16) * PAGE_SZ,
			       &res)) TH_LOG("%s", res.extack);
	EXPECT_EQ(limit + 16, ntmem_counter("commit_limit_pages"));
	/* 0: back to the module's default */
	ASSERT_EQ(0, set_limit(&self->nl, 0, 0, &res));
	EXPECT_LT(0, ntmem_counter("commit_limit_pages"));
	if (self->saved_param == 0)
		EXPECT_EQ(self->saved_limit, ntmem_counter("commit_limit_pages"));
	/* a pid without a context */
	{
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (!child) {
			pause();
			_exit(0);
		}
		EXPECT_EQ(-ENOENT, set_limit(&self->nl, child, PAGE_SZ, &res));
		EXPECT_STRNE("", res.extack);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

/* --- events --------------------------------------------------------------- */

static int listen_events(struct nl *ev)
{
	int grp;

	if (nlc_open(ev))
		return -1;
	nl_socket_disable_seq_check(ev->sk);
	grp = genl_ctrl_resolve_grp(ev->sk, NTMEM_GENL_NAME,
				    NTMEM_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return -1;
	return nl_socket_add_membership(ev->sk, grp) ? -1 : 0;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Wait up to 2 s for an event about @pid; 0 with it in @r, or -1. */
static int wait_event(struct nl *ev, pid_t pid, struct reply *r)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(ev->sk),
			      .events = POLLIN };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	struct result res;
	int found = -1;

	memset(&res, 0, sizeof(res));
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &res);
	/* multicast messages carry no sequence number */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	while (found < 0 && poll(&pfd, 1, 2000) == 1) {
		size_t i;

		if (nl_recvmsgs(ev->sk, cb) < 0)
			break;
		for (i = 0; i < res.n; i++)
			if (res.replies[i].cmd == NTMEM_CMD_EVENT &&
			    res.replies[i].u64[NTMEM_A_PID] == (uint64_t)pid) {
				*r = res.replies[i];
				found = 0;
			}
		res.n = 0;
	}
	result_free(&res);
	nl_cb_put(cb);
	return found;
}

TEST_F(nl, event_process_limit)
{
	char *p = ntmem_reserve_any(self->fd, 64 * PAGE_SZ);
	struct nl ev = { 0 };
	struct result res;
	struct reply r;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, listen_events(&ev));
	ASSERT_EQ(0, set_limit(&self->nl, getpid(), 16 * PAGE_SZ, &res))
		TH_LOG("%s", res.extack);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 12 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-ENOSPC, ntmem_commit(self->fd, p + 12 * PAGE_SZ,
					8 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, wait_event(&ev, getpid(), &r));
	EXPECT_EQ(NTMEM_EVENT_PROCESS_LIMIT, r.u64[NTMEM_A_EVENT]);
	EXPECT_STREQ(COMM, r.comm);
	EXPECT_EQ(8 * PAGE_SZ, r.u64[NTMEM_A_REQUESTED]);
	EXPECT_EQ(12 * PAGE_SZ, r.u64[NTMEM_A_COMMITTED]);
	EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_LIMIT]);
	/* up to the limit still works, and the limit reads back */
	EXPECT_EQ(0, ntmem_commit(self->fd, p + 12 * PAGE_SZ, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, get_process(&self->nl, getpid(), &r));
	EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_LIMIT]);
	EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_COMMITTED]);

	/* RESERVE with COMMIT: the event comes from inside mmap */
	{
		void *q = NULL;
		size_t len = 2 * PAGE_SZ;

		ASSERT_EQ(-ENOSPC, ntmem_reserve(self->fd, &q, &len,
						 NTMEM_RESERVE_COMMIT,
						 NTMEM_PAGE_READWRITE));
		ASSERT_EQ(0, wait_event(&ev, getpid(), &r));
		EXPECT_EQ(NTMEM_EVENT_PROCESS_LIMIT, r.u64[NTMEM_A_EVENT]);
		EXPECT_EQ(2 * PAGE_SZ, r.u64[NTMEM_A_REQUESTED]);
		EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_COMMITTED]);
		EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_LIMIT]);
	}
	nlc_close(&ev);
}

TEST_F(nl, event_global_limit)
{
	char *p = ntmem_reserve_any(self->fd, 64 * PAGE_SZ);
	struct nl ev = { 0 };
	struct result res;
	struct reply r;
	long committed;
	int err;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, listen_events(&ev));
	committed = ntmem_counter("committed_pages");
	ASSERT_LE(0, committed);
	ASSERT_EQ(0, set_limit(&self->nl, 0,
			       (uint64_t)(committed + 8) * PAGE_SZ, &res))
		TH_LOG("%s", res.extack);
	ASSERT_EQ(committed + 8, ntmem_counter("commit_limit_pages"));
	err = ntmem_commit(self->fd, p, 16 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0);
	/* put it back at once: other processes share the limit */
	ASSERT_EQ(0, set_limit(&self->nl, 0, self->saved_param == 0 ? 0 :
			       (uint64_t)self->saved_limit * PAGE_SZ, &res));
	ASSERT_EQ(-ENOSPC, err);
	ASSERT_EQ(0, wait_event(&ev, getpid(), &r));
	EXPECT_EQ(NTMEM_EVENT_COMMIT_LIMIT, r.u64[NTMEM_A_EVENT]);
	EXPECT_STREQ(COMM, r.comm);
	EXPECT_EQ(16 * PAGE_SZ, r.u64[NTMEM_A_REQUESTED]);
	EXPECT_EQ((uint64_t)committed * PAGE_SZ, r.u64[NTMEM_A_COMMITTED]);
	EXPECT_EQ((uint64_t)(committed + 8) * PAGE_SZ, r.u64[NTMEM_A_LIMIT]);
	EXPECT_EQ(self->saved_limit, ntmem_counter("commit_limit_pages"));
	nlc_close(&ev);
}

TEST_HARNESS_MAIN
