// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl monitor: print each event of the family's "events" multicast
 * group as it arrives, one line each, until interrupted.  Today the only
 * event is a commit that failed at a limit (NTMEM_CMD_EVENT).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "ntmemctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* No SA_RESTART: the signal must end the wait for the next event. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static const char *event_name(uint32_t event, bool json)
{
	switch (event) {
	case NTMEM_EVENT_COMMIT_LIMIT:
		return json ? "commit_limit" : "global commit limit";
	case NTMEM_EVENT_PROCESS_LIMIT:
		return json ? "process_limit" : "process commit limit";
	case NTMEM_EVENT_USER_LIMIT:
		return json ? "user_limit" : "user's share of the commit limit";
	default:
		return json ? "unknown" : "unknown event";
	}
}

/* The time an event arrived, ISO 8601 UTC with milliseconds. */
static void timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void event_json(struct nlattr **tb, const char *when)
{
	uint32_t event = attr_u32(tb, NTMEM_A_EVENT);

	json_open(NULL, '{');
	json_str("time", when);
	json_str("event", event_name(event, true));
	json_u64("pid", attr_u32(tb, NTMEM_A_PID));
	json_str("comm", attr_str(tb, NTMEM_A_COMM));
	json_u64("requested", attr_u64(tb, NTMEM_A_REQUESTED));
	json_u64("committed", attr_u64(tb, NTMEM_A_COMMITTED));
	json_u64("limit", attr_u64(tb, NTMEM_A_LIMIT));
	json_close('}');
	json_end_line();
}

static void event_text(struct nlattr **tb, const char *when)
{
	char req[SIZE_BUF], com[SIZE_BUF], lim[SIZE_BUF];

	printf("%s %s: pid %u (%s) asked to commit %s with %s committed, limit %s\n",
	       when, event_name(attr_u32(tb, NTMEM_A_EVENT), false),
	       attr_u32(tb, NTMEM_A_PID), attr_str(tb, NTMEM_A_COMM),
	       fmt_size(req, attr_u64(tb, NTMEM_A_REQUESTED)),
	       fmt_size(com, attr_u64(tb, NTMEM_A_COMMITTED)),
	       fmt_size(lim, attr_u64(tb, NTMEM_A_LIMIT)));
	fflush(stdout);		/* as it happens, also into a pipe */
}

static int event_reply(struct nlattr **tb, void *arg)
{
	const struct cmd_opts *o = arg;
	char when[40];

	if (!tb[NTMEM_A_EVENT])
		return 0;	/* not an event */
	timestamp(when, sizeof(when));
	if (o->json)
		event_json(tb, when);
	else
		event_text(tb, when);
	return 0;
}

static int monitor_loop(struct ntnl *nl)
{
	int ret;

	/* an event that cannot be written ends the monitor (main says why) */
	while (!stop && !ferror(stdout)) {
		ret = ntnl_receive(nl);
		if (ret < 0 && nl->nlerr == NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed; carry on. */
			fprintf(stderr, "%s: monitor: events were lost\n", progname);
			continue;
		}
		if (ret < 0) {
			ntnl_perror(nl, "monitor");
			return 1;
		}
	}
	return 0;
}

static int monitor_run(int argc, char **argv)
{
	struct cmd_opts o;
	struct ntnl nl;
	int i = cmd_getopt(&cmd_monitor, argc, argv, &o, NULL, NULL, NULL, NULL);
	int ret;

	if (i < 0)
		return cmd_exit(i);
	if (i < argc) {
		cmd_usage_error(&cmd_monitor, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (ntnl_open(&nl, "monitor"))
		return 1;
	catch_signals();
	if (ntnl_subscribe(&nl, NTMEM_GENL_MCGRP_EVENTS, event_reply, &o)) {
		ntnl_perror(&nl, "monitor");
		ntnl_close(&nl);
		return 1;
	}
	ret = monitor_loop(&nl);
	ntnl_close(&nl);
	return ret;
}

const struct command cmd_monitor = {
	.name = "monitor",
	.run = monitor_run,
	.synopsis = "monitor",
	.help = "Print each ntmem event as it happens, one line each, until interrupted\n"
		"(SIGINT or SIGTERM): a commit that failed at the global commit limit\n"
		"or at its process's own limit, with the pid and command, the bytes\n"
		"asked for, those committed already and the limit.  With -j, one JSON\n"
		"object per line.\n\nOptions:\n",
};
