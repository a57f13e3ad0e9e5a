// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl: access to the "ntmem" generic netlink family through libnl.
 *
 * libnl 3.7 neither asks for nor parses extended acks, so this file does
 * both: it turns NETLINK_EXT_ACK on and reads the kernel's message out of
 * the TLVs that follow an error.  It also reads a dump's own error, which
 * the kernel reports in NLMSG_DONE and libnl ignores.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "ntmemctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* The family's attribute types, so that libnl checks each reply. */
static struct nla_policy ntmem_policy[NTMEM_A_MAX + 1] = {
	[NTMEM_A_PID]		= { .type = NLA_U32 },
	[NTMEM_A_COMM]		= { .type = NLA_STRING },
	[NTMEM_A_RESERVATIONS]	= { .type = NLA_U64 },
	[NTMEM_A_COMMITTED]	= { .type = NLA_U64 },
	[NTMEM_A_RESIDENT]	= { .type = NLA_U64 },
	[NTMEM_A_RESET]		= { .type = NLA_U64 },
	[NTMEM_A_LOCKED]	= { .type = NLA_U64 },
	[NTMEM_A_COMMIT_LIMIT]	= { .type = NLA_U64 },
	[NTMEM_A_COMMIT_PEAK]	= { .type = NLA_U64 },
	[NTMEM_A_FAULTS]	= { .type = NLA_U64 },
	[NTMEM_A_DROPPED]	= { .type = NLA_U64 },
	[NTMEM_A_CONTEXTS]	= { .type = NLA_U64 },
	[NTMEM_A_LIMIT]		= { .type = NLA_U64 },
	[NTMEM_A_REGION_BASE]	= { .type = NLA_U64 },
	[NTMEM_A_REGION_SIZE]	= { .type = NLA_U64 },
	[NTMEM_A_ALLOC_BASE]	= { .type = NLA_U64 },
	[NTMEM_A_ALLOC_SIZE]	= { .type = NLA_U64 },
	[NTMEM_A_ALLOC_PROTECT]	= { .type = NLA_U32 },
	[NTMEM_A_STATE]		= { .type = NLA_U32 },
	[NTMEM_A_PROTECT]	= { .type = NLA_U32 },
	[NTMEM_A_REGION_FLAGS]	= { .type = NLA_U32 },
	[NTMEM_A_EVENT]		= { .type = NLA_U32 },
	[NTMEM_A_REQUESTED]	= { .type = NLA_U64 },
	[NTMEM_A_LIMIT_RAM]	= { .type = NLA_U64 },
	[NTMEM_A_LIMIT_SWAP]	= { .type = NLA_U64 },
	[NTMEM_A_LIMIT_RESERVE]	= { .type = NLA_U64 },
	[NTMEM_A_TYPE]		= { .type = NLA_U32 },
	[NTMEM_A_SECTION_OFFSET] = { .type = NLA_U64 },
	[NTMEM_A_SECTION_SIZE]	= { .type = NLA_U64 },
	/* libnl checks the terminator a string attribute must have */
	[NTMEM_A_SECTION_NAME]	= { .type = NLA_STRING },
};

/* What one request's callbacks share (or a subscription's). */
struct ntnl_req {
	struct ntnl *nl;
	ntnl_reply_fn fn;
	void *arg;
	bool done;
	int fn_err;
	struct nl_cb *cb;	/* a subscription's callbacks */
};

uint64_t attr_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

uint32_t attr_u32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

const char *attr_str(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_string(tb[type]) : "";
}

/* The extended-ack TLVs of @nlh, starting @off bytes into it. */
static void ntnl_read_extack(struct ntnl *nl, const struct nlmsghdr *nlh,
			     size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + off),
		      nlh->nlmsg_len - off, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(nl->extack, tb[NLMSGERR_ATTR_MSG],
			    sizeof(nl->extack));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE])
		snprintf(nl->extack, sizeof(nl->extack),
			 "missing attribute %u",
			 nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

static int ntnl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct ntnl_req *req = arg;
	/* libnl hands over the payload; the header is just before it. */
	const struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	(void)who;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	req->nl->error = -e->error;
	ntnl_read_extack(req->nl, nlh, off);
	req->done = true;
	return NL_STOP;
}

static int ntnl_on_ack(struct nl_msg *msg, void *arg)
{
	struct ntnl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

/* The end of a dump: it carries the dump's error, if it failed. */
static int ntnl_on_finish(struct nl_msg *msg, void *arg)
{
	struct ntnl_req *req = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	req->done = true;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(err))
		return NL_STOP;
	memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0) {
		req->nl->error = -err;
		ntnl_read_extack(req->nl, nlh, NLMSG_HDRLEN + sizeof(err));
	}
	return NL_STOP;
}

static int ntnl_on_valid(struct nl_msg *msg, void *arg)
{
	struct ntnl_req *req = arg;
	struct nlattr *tb[NTMEM_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NTMEM_A_MAX, ntmem_policy) < 0)
		return NL_SKIP;		/* not one of ours, or malformed */
	if (req->fn && !req->fn_err)
		req->fn_err = req->fn(tb, req->arg);
	return NL_OK;
}

static struct nl_cb *ntnl_callbacks(struct ntnl_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_err(cb, NL_CB_CUSTOM, ntnl_on_error, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ntnl_on_ack, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, ntnl_on_finish, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ntnl_on_valid, req);
	return cb;
}

/*
 * Connect and resolve the family.  Returns 0, or -1 with the message
 * printed ("not loaded" when the family does not exist).
 */
int ntnl_open(struct ntnl *nl, const char *cmd)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		nl->nlerr = NLE_NOMEM;
		goto fail;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		nl->nlerr = -err;
		goto fail;
	}
	/* Without it the kernel's reasons for EINVAL and EPERM are lost. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, NTMEM_GENL_NAME);
	if (nl->family == -NLE_OBJ_NOTFOUND) {
		fprintf(stderr, "%s: the ntmem module is not loaded (no generic netlink family '%s')\n",
			progname, NTMEM_GENL_NAME);
		ntnl_close(nl);
		return -1;
	}
	if (nl->family < 0) {
		nl->nlerr = -nl->family;
		goto fail;
	}
	return 0;
fail:
	ntnl_perror(nl, cmd);
	ntnl_close(nl);
	return -1;
}

void ntnl_close(struct ntnl *nl)
{
	if (nl->mc) {
		nl_cb_put(nl->mc->cb);
		free(nl->mc);
		nl->mc = NULL;
	}
	nl_socket_free(nl->sk);
	nl->sk = NULL;
}

/* A request for @cmd, to fill with attributes; NULL if out of memory. */
struct nl_msg *ntnl_msg(struct ntnl *nl, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				dump ? NLM_F_DUMP : 0, cmd,
				NTMEM_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/*
 * Send @msg (consumed) and call @fn with each reply until the kernel's ack
 * or the end of the dump.  @fn returns 0, or a negative errno that fails
 * the request (the rest of the replies are read, not passed on).  Returns
 * 0, or -1 with nl->error (and nl->extack) or nl->nlerr set.
 */
int ntnl_call(struct ntnl *nl, struct nl_msg *msg, ntnl_reply_fn fn, void *arg)
{
	struct ntnl_req req = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int err;

	nl->error = nl->nlerr = 0;
	if (!msg) {
		nl->nlerr = NLE_NOMEM;
		return -1;
	}
	cb = ntnl_callbacks(&req);
	/* nl_send_auto() asks for an ack: a "do" ends with one. */
	err = cb ? nl_send_auto(nl->sk, msg) : -NLE_NOMEM;
	nlmsg_free(msg);
	while (err >= 0 && !req.done)
		err = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (nl->error)
		return -1;
	if (err < 0) {
		nl->nlerr = -err;
		return -1;
	}
	nl->error = -req.fn_err;
	return req.fn_err ? -1 : 0;
}

static int ntnl_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Join multicast @group of the family; @fn gets each message from then on. */
int ntnl_subscribe(struct ntnl *nl, const char *group, ntnl_reply_fn fn,
		   void *arg)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, NTMEM_GENL_NAME, group);

	nl->error = nl->nlerr = 0;
	if (grp < 0) {
		nl->nlerr = -grp;
		return -1;
	}
	grp = nl_socket_add_membership(nl->sk, grp);
	if (grp < 0) {
		nl->nlerr = -grp;
		return -1;
	}
	nl->mc = calloc(1, sizeof(*nl->mc));
	if (!nl->mc) {
		nl->nlerr = NLE_NOMEM;
		return -1;
	}
	*nl->mc = (struct ntnl_req){ .nl = nl, .fn = fn, .arg = arg };
	nl->mc->cb = ntnl_callbacks(nl->mc);
	if (!nl->mc->cb) {
		nl->nlerr = NLE_NOMEM;
		return -1;
	}
	/* Events are not answers: they carry no sequence number of ours. */
	nl_cb_set(nl->mc->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, ntnl_no_seq_check,
		  NULL);
	return 0;
}

/*
 * Wait for multicast messages and hand them to the subscriber.  Returns 0
 * after a batch, 1 if a signal interrupted the wait (which is why this
 * polls first: libnl itself retries after EINTR), or -1 with nl->error or
 * nl->nlerr set (NLE_NOMEM: the socket overflowed, events were lost).
 */
int ntnl_receive(struct ntnl *nl)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	int err;

	nl->error = nl->nlerr = 0;
	if (poll(&pfd, 1, -1) < 0) {
		if (errno == EINTR)
			return 1;
		nl->error = errno;
		return -1;
	}
	nl->mc->fn_err = 0;
	err = nl_recvmsgs(nl->sk, nl->mc->cb);
	if (err < 0) {
		nl->nlerr = -err;
		return -1;
	}
	nl->error = -nl->mc->fn_err;
	return nl->error ? -1 : 0;
}

/* "ntmemctl: WHAT: Operation not permitted (kernel: ...)" */
void ntnl_perror(const struct ntnl *nl, const char *what)
{
	fprintf(stderr, "%s: %s: ", progname, what);
	if (nl->error)
		fputs(strerror(nl->error), stderr);
	else
		fprintf(stderr, "netlink: %s", nl_geterror(nl->nlerr));
	if (nl->error && nl->extack[0])
		fprintf(stderr, " (kernel: %s)", nl->extack);
	fputc('\n', stderr);
}
