/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmemctl: the command-line tool of the "ntmem" generic netlink family
 * (include/uapi/ntmem_netlink.h).  One file per concept: netlink.c talks
 * to the family, json.c and format.c produce output, and each command has
 * its own file.
 */
#ifndef NTMEMCTL_H
#define NTMEMCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <uapi/ntmem_netlink.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* array.c: a new (uninitialised) slot at the end of *items (n of cap
 * used, each @size bytes), grown as needed; NULL if out of memory. */
void *array_next(void **items, size_t *n, size_t *cap, size_t size);

/* Exit statuses: 0 success, 1 an error, 2 bad usage. */
#define EXIT_USAGE	2

/* Options every command takes. */
struct cmd_opts {
	bool json;
};

/* One command: its name, its entry point, its one-line synopsis. */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *help;
};

extern const struct command cmd_stats, cmd_ps, cmd_map, cmd_limit,
			    cmd_monitor;

/* main.c: shared argument handling */
extern const char *progname;
/*
 * Parse the options every command has (-j, -h) plus @extra (getopt_long
 * short options and @longopts, may be NULL), calling @opt for the extra
 * ones (it returns non-zero for a bad value).  Returns the index of the
 * first operand, or GETOPT_HELP after printing help or GETOPT_USAGE after
 * a usage error: cmd_exit() turns those into the exit status.
 */
#define GETOPT_HELP	(-1)
#define GETOPT_USAGE	(-2)
static inline int cmd_exit(int getopt_ret)
{
	return getopt_ret == GETOPT_HELP ? 0 : EXIT_USAGE;
}

struct option;
int cmd_getopt(const struct command *cmd, int argc, char **argv,
	       struct cmd_opts *o, const char *extra,
	       const struct option *longopts,
	       int (*opt)(int c, const char *arg, void *ctx), void *ctx);
/* Print "ntmemctl: CMD: message" and the usage; returns GETOPT_USAGE. */
int cmd_usage_error(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* netlink.c: the family */
struct ntnl_req;
struct ntnl {
	struct nl_sock *sk;
	int family;
	int error;		/* positive errno the kernel answered, or 0 */
	int nlerr;		/* libnl's error code when it failed itself */
	char extack[256];	/* the kernel's extended-ack message, or "" */
	struct ntnl_req *mc;	/* the multicast subscription, if any */
};

/*
 * Called with each reply's attributes, parsed by the family's policy;
 * returns 0, or a negative errno that fails the request.
 */
typedef int (*ntnl_reply_fn)(struct nlattr **tb, void *arg);

int ntnl_open(struct ntnl *nl, const char *cmd);
void ntnl_close(struct ntnl *nl);
struct nl_msg *ntnl_msg(struct ntnl *nl, uint8_t cmd, bool dump);
int ntnl_call(struct ntnl *nl, struct nl_msg *msg, ntnl_reply_fn fn,
	      void *arg);
int ntnl_subscribe(struct ntnl *nl, const char *group, ntnl_reply_fn fn,
		   void *arg);
int ntnl_receive(struct ntnl *nl);
void ntnl_perror(const struct ntnl *nl, const char *what);

uint64_t attr_u64(struct nlattr **tb, int type);
uint32_t attr_u32(struct nlattr **tb, int type);
const char *attr_str(struct nlattr **tb, int type);

/* json.c: a minimal JSON writer to stdout */
void json_open(const char *key, char bracket);
void json_close(char bracket);
void json_u64(const char *key, uint64_t v);
void json_str(const char *key, const char *s);
void json_null(const char *key);
void json_bool(const char *key, bool v);
void json_end_line(void);

/* format.c: human-readable values */
#define SIZE_BUF	16
#define PROT_BUF	64
const char *fmt_size(char *buf, uint64_t bytes);
const char *fmt_protect(char *buf, uint32_t protect);
const char *state_name(uint32_t state);
const char *type_name(uint32_t type);
#define QUOTED_BUF(len)	(4 * (len) + 3)
const char *fmt_quoted(char *buf, size_t len, const char *s);
int parse_size(const char *s, uint64_t *bytes);
int parse_pid(const char *s, uint32_t *pid);

#endif /* NTMEMCTL_H */
