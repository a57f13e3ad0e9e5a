// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl stats: the module-wide counters and the commit limit
 * (NTMEM_CMD_GET_STATS).
 */
#include "ntmemctl.h"

enum stat_kind { STAT_BYTES, STAT_COUNT };

/* In the order shown; JSON has the same keys, sizes in bytes. */
static const struct stat_field {
	int attr;
	const char *key;
	const char *label;
	enum stat_kind kind;
} fields[] = {
	{ NTMEM_A_CONTEXTS, "contexts", "Processes (address spaces)", STAT_COUNT },
	{ NTMEM_A_RESERVATIONS, "reservations", "Reservations", STAT_COUNT },
	{ NTMEM_A_COMMITTED, "committed", "Committed", STAT_BYTES },
	{ NTMEM_A_COMMIT_LIMIT, "commit_limit", "Commit limit", STAT_BYTES },
	/* only while the limit is the automatic one */
	{ NTMEM_A_LIMIT_RAM, "commit_limit_ram", "  RAM", STAT_BYTES },
	{ NTMEM_A_LIMIT_SWAP, "commit_limit_swap", "  + swap", STAT_BYTES },
	{ NTMEM_A_LIMIT_RESERVE, "commit_limit_reserve", "  - reserve", STAT_BYTES },
	{ NTMEM_A_COMMIT_PEAK, "commit_peak", "Commit peak", STAT_BYTES },
	{ NTMEM_A_RESIDENT, "resident", "Resident", STAT_BYTES },
	{ NTMEM_A_RESET, "reset", "Reset (may be dropped)", STAT_BYTES },
	{ NTMEM_A_DROPPED, "dropped", "Dropped (reset pages)", STAT_BYTES },
	{ NTMEM_A_LOCKED, "locked", "Locked", STAT_BYTES },
	{ NTMEM_A_FAULTS, "faults", "Faults", STAT_COUNT },
};

#define NR_FIELDS	ARRAY_SIZE(fields)

static void stats_json(struct nlattr **tb)
{
	size_t i;

	json_open(NULL, '{');
	for (i = 0; i < NR_FIELDS; i++)
		if (tb[fields[i].attr])
			json_u64(fields[i].key, attr_u64(tb, fields[i].attr));
	json_close('}');
	json_end_line();
}

static void stats_text(struct nlattr **tb)
{
	char buf[SIZE_BUF];
	uint64_t v;
	size_t i;

	for (i = 0; i < NR_FIELDS; i++) {
		if (!tb[fields[i].attr])
			continue;	/* an older module: say nothing */
		v = attr_u64(tb, fields[i].attr);
		if (fields[i].kind == STAT_BYTES)
			printf("%-28s %12s  (%llu bytes)\n", fields[i].label,
			       fmt_size(buf, v), (unsigned long long)v);
		else
			printf("%-28s %12llu\n", fields[i].label,
			       (unsigned long long)v);
	}
}

static int stats_reply(struct nlattr **tb, void *arg)
{
	const struct cmd_opts *o = arg;

	if (o->json)
		stats_json(tb);
	else
		stats_text(tb);
	return 0;
}

static int stats_run(int argc, char **argv)
{
	struct cmd_opts o;
	struct ntnl nl;
	int i = cmd_getopt(&cmd_stats, argc, argv, &o, NULL, NULL, NULL, NULL);

	if (i < 0)
		return cmd_exit(i);
	if (i < argc) {
		cmd_usage_error(&cmd_stats, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (ntnl_open(&nl, "stats"))
		return 1;
	if (ntnl_call(&nl, ntnl_msg(&nl, NTMEM_CMD_GET_STATS, false),
		      stats_reply, &o)) {
		ntnl_perror(&nl, "stats");
		ntnl_close(&nl);
		return 1;
	}
	ntnl_close(&nl);
	return 0;
}

const struct command cmd_stats = {
	.name = "stats",
	.run = stats_run,
	.synopsis = "stats",
	.help = "Show the module-wide counters: processes using ntmem, reservations,\n"
		"committed, resident, reset, dropped and locked memory, page faults,\n"
		"and the global commit limit and the highest commit since the module\n"
		"was loaded.  The automatic limit (no commit_limit_mb, no `ntmemctl\n"
		"limit`) is RAM plus swap less a reserve (a quarter of RAM, at least\n"
		"64 MiB, and an eighth of swap); its parts are shown under it.  JSON sizes are in bytes.\n\nOptions:\n",
};
