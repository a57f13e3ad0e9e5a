// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl limit [--pid PID] SIZE: set the global commit limit or one
 * process's own (NTMEM_CMD_SET_LIMIT; CAP_SYS_ADMIN).
 */
#include <getopt.h>
#include <string.h>

#include "ntmemctl.h"

struct limit_args {
	uint32_t pid;		/* 0: the global limit */
};

static int limit_opt(int c, const char *arg, void *ctx)
{
	struct limit_args *a = ctx;

	return c == 'p' ? parse_pid(arg, &a->pid) : -1;
}

static int limit_set(uint32_t pid, uint64_t bytes)
{
	struct ntnl nl;
	struct nl_msg *msg;
	int ret;

	if (ntnl_open(&nl, "limit"))
		return 1;
	msg = ntnl_msg(&nl, NTMEM_CMD_SET_LIMIT, false);
	if (msg && (nla_put_u64(msg, NTMEM_A_LIMIT, bytes) < 0 ||
		    (pid && nla_put_u32(msg, NTMEM_A_PID, pid) < 0))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = ntnl_call(&nl, msg, NULL, NULL);
	if (ret)
		ntnl_perror(&nl, "limit");
	ntnl_close(&nl);
	return ret ? 1 : 0;
}

static int limit_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct limit_args a = { 0 };
	struct cmd_opts o;
	uint64_t bytes;
	int i = cmd_getopt(&cmd_limit, argc, argv, &o, "p:", longopts,
			   limit_opt, &a);
	int err;

	if (i < 0)
		return cmd_exit(i);
	if (i != argc - 1) {
		cmd_usage_error(&cmd_limit, "%s", i == argc ? "no SIZE given" :
				"too many arguments");
		return EXIT_USAGE;
	}
	err = parse_size(argv[i], &bytes);
	if (err) {
		cmd_usage_error(&cmd_limit, "%s '%s'", err == -2 ?
				"not a multiple of the page size:" :
				"bad SIZE", argv[i]);
		return EXIT_USAGE;
	}
	/* -j changes nothing: success prints nothing either way. */
	return limit_set(a.pid, bytes);
}

const struct command cmd_limit = {
	.name = "limit",
	.run = limit_run,
	.synopsis = "limit [--pid PID] SIZE",
	.help = "Set the global commit limit to SIZE bytes, or with --pid the commit\n"
		"limit of process PID alone.  SIZE is a number with an optional K, M, G\n"
		"or T suffix (powers of 1024) and must come to a multiple of the page\n"
		"size; 0 or \"default\" restores the default global limit, or removes the\n"
		"process's limit.  A limit below what is committed already only stops\n"
		"further commits.  Needs CAP_SYS_ADMIN.\n\nOptions:\n"
		"  -p, --pid PID  the limit of process PID\n",
};
