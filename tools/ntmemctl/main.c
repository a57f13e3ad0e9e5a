// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl: command dispatch and the argument handling all commands share.
 *
 *   ntmemctl [-j] COMMAND [OPTIONS] [ARGS]
 *
 * -j and -h are accepted before the command as well as after it, so that
 * both "ntmemctl -j ps" and "ntmemctl ps -j" work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ntmemctl.h"

const char *progname = "ntmemctl";

static const struct command *const commands[] = {
	&cmd_stats, &cmd_ps, &cmd_map, &cmd_limit, &cmd_monitor,
};

/* -j before the command, inherited by the command's own options. */
static bool json_before_command;

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [-j] COMMAND [OPTIONS] [ARGS]\n"
		   "       %s --version\n\n"
		   "Inspect and control ntmem, the Windows NT virtual-memory module.\n\n"
		   "Commands:\n", progname, progname);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i]->synopsis);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     JSON output\n"
		   "  -h, --help     this help; COMMAND --help: the command's\n"
		   "  -V, --version  the version\n");
}

static void cmd_help(const struct command *cmd)
{
	printf("Usage: %s %s\n\n%s", progname, cmd->synopsis, cmd->help);
	printf("  -j, --json     JSON output\n"
	       "  -h, --help     this help\n");
}

int cmd_usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", progname, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s %s\n", progname, cmd->synopsis);
	return GETOPT_USAGE;
}

#define MAX_LONGOPTS	8

int cmd_getopt(const struct command *cmd, int argc, char **argv,
	       struct cmd_opts *o, const char *extra,
	       const struct option *longopts,
	       int (*opt)(int c, const char *arg, void *ctx), void *ctx)
{
	struct option all[MAX_LONGOPTS + 3] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	char shortopts[32];
	int c, n = 2;

	for (; longopts && longopts[n - 2].name && n < MAX_LONGOPTS + 2; n++)
		all[n] = longopts[n - 2];
	/* ':' first: a missing argument is reported as ':', not '?'. */
	snprintf(shortopts, sizeof(shortopts), ":jh%s", extra ? extra : "");
	o->json = json_before_command;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'h':
			cmd_help(cmd);
			return GETOPT_HELP;
		case ':':
			return cmd_usage_error(cmd, "option '%s' needs an argument",
					       argv[optind - 1]);
		case '?':
			return cmd_usage_error(cmd, "unknown option '%s'",
					       argv[optind - 1]);
		default:
			if (!opt || opt(c, optarg, ctx))
				return cmd_usage_error(cmd, "bad option value '%s'",
						       optarg ? optarg : "");
		}
	}
	return optind;
}

/* Output that could not be written fails the run (ntmemctl ps >/dev/full). */
static int finish(int ret)
{
	int err = fflush(stdout) ? errno : 0;

	if (!err && !ferror(stdout))
		return ret;
	fprintf(stderr, "%s: write error: %s\n", progname,
		err ? strerror(err) : "output lost");
	return ret ? ret : 1;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	int c;

	/* '+': stop at the command; its options are its own. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_before_command = true;
			break;
		case 'h':
			usage(stdout);
			return finish(0);
		case 'V':
			printf("%s %s (generic netlink family '%s', version %d)\n",
			       progname, NTMEMCTL_VERSION, NTMEM_GENL_NAME,
			       NTMEM_GENL_VERSION);
			return finish(0);
		default:
			fprintf(stderr, "%s: unknown option '%s'\n", progname,
				argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given\n", progname);
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n", progname,
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return finish(cmd->run(argc - optind, argv + optind));
}
