// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * This process's ntmem usage from the module's generic netlink family
 * (include/uapi/ntmem_netlink.h, GET_PROCESS): the commit charge and the
 * resident bytes.  Raw netlink, so libntmem needs no libnl; one socket per
 * call, the family id resolved once.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <uapi/ntmem_netlink.h>

#include "internal.h"

struct nl_msg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[128];
};

static int family_id;		/* 0 until resolved */

static void put_attr(struct nl_msg *m, uint16_t type, const void *data,
		     uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->n.nlmsg_len = NLMSG_ALIGN(m->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Send @req and receive its reply into @buf: the reply's length, or -1
 * (an error reply included, with errno set). */
static ssize_t transact(int fd, struct nl_msg *req, char *buf, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;

	if (sendto(fd, req, req->n.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -1;
	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(h, (size_t)n))
		return -1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		errno = e->error ? -e->error : EPROTO;
		return -1;
	}
	return n;
}

/* Call @fn for each attribute of the generic netlink reply in @buf. */
static void each_attr(const char *buf, void (*fn)(const struct nlattr *, void *),
		      void *arg)
{
	const struct nlmsghdr *h = (const void *)buf;
	const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
	const char *end = buf + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		fn(a, arg);
		p += NLA_ALIGN(a->nla_len);
	}
}

static void family_attr(const struct nlattr *a, void *arg)
{
	if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
		memcpy(arg, (const char *)a + NLA_HDRLEN, sizeof(uint16_t));
}

static int resolve_family(int fd)
{
	struct nl_msg req = { 0 };
	char buf[4096];
	uint16_t id = 0;

	req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.n.nlmsg_type = GENL_ID_CTRL;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	put_attr(&req, CTRL_ATTR_FAMILY_NAME, NTMEM_GENL_NAME,
		 sizeof(NTMEM_GENL_NAME));
	if (transact(fd, &req, buf, sizeof(buf)) < 0)
		return 0;
	each_attr(buf, family_attr, &id);
	return id;
}

struct usage {
	uint64_t committed, resident;
};

static void usage_attr(const struct nlattr *a, void *arg)
{
	struct usage *u = arg;
	uint64_t v;

	if (a->nla_len < NLA_HDRLEN + sizeof(v))
		return;
	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	if ((a->nla_type & NLA_TYPE_MASK) == NTMEM_A_COMMITTED)
		u->committed = v;
	else if ((a->nla_type & NLA_TYPE_MASK) == NTMEM_A_RESIDENT)
		u->resident = v;
}

bool ntmem__process_usage(uint64_t *committed, uint64_t *resident)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int id = __atomic_load_n(&family_id, __ATOMIC_RELAXED);
	struct usage u = { 0, 0 };
	struct nl_msg req = { 0 };
	uint32_t pid = (uint32_t)getpid();
	char buf[4096];
	bool ok = false;

	if (fd < 0)
		return false;
	if (!id) {
		id = resolve_family(fd);
		__atomic_store_n(&family_id, id, __ATOMIC_RELAXED);
	}
	if (id) {
		req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
		req.n.nlmsg_type = (uint16_t)id;
		req.n.nlmsg_flags = NLM_F_REQUEST;
		req.g.cmd = NTMEM_CMD_GET_PROCESS;
		req.g.version = NTMEM_GENL_VERSION;
		put_attr(&req, NTMEM_A_PID, &pid, sizeof(pid));
		if (transact(fd, &req, buf, sizeof(buf)) >= 0) {
			each_attr(buf, usage_attr, &u);
			ok = true;
		} else if (errno == ENOENT) {	/* no ntmem context yet */
			ok = true;
		}
	}
	close(fd);
	*committed = u.committed;
	*resident = u.resident;
	return ok;
}
