// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl ps: every process using ntmem and what it uses
 * (NTMEM_CMD_GET_PROCESS, dumped), sorted by pid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ntmemctl.h"

struct proc {
	uint32_t pid;
	char comm[32];
	uint64_t reservations, committed, resident, reset, locked, limit;
};

struct proc_list {
	struct proc *p;
	size_t n, cap;
};

static int ps_reply(struct nlattr **tb, void *arg)
{
	struct proc_list *l = arg;
	struct proc *p = array_next((void **)&l->p, &l->n, &l->cap,
				    sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->pid = attr_u32(tb, NTMEM_A_PID);
	snprintf(p->comm, sizeof(p->comm), "%s", attr_str(tb, NTMEM_A_COMM));
	p->reservations = attr_u64(tb, NTMEM_A_RESERVATIONS);
	p->committed = attr_u64(tb, NTMEM_A_COMMITTED);
	p->resident = attr_u64(tb, NTMEM_A_RESIDENT);
	p->reset = attr_u64(tb, NTMEM_A_RESET);
	p->locked = attr_u64(tb, NTMEM_A_LOCKED);
	p->limit = attr_u64(tb, NTMEM_A_LIMIT);
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void ps_json(const struct proc_list *l)
{
	size_t i;

	json_open(NULL, '[');
	for (i = 0; i < l->n; i++) {
		const struct proc *p = &l->p[i];

		json_open(NULL, '{');
		json_u64("pid", p->pid);
		json_str("comm", p->comm);
		json_u64("reservations", p->reservations);
		json_u64("committed", p->committed);
		json_u64("resident", p->resident);
		json_u64("reset", p->reset);
		json_u64("locked", p->locked);
		json_u64("limit", p->limit);
		json_close('}');
	}
	json_close(']');
	json_end_line();
}

static void ps_text(const struct proc_list *l)
{
	char c[SIZE_BUF], r[SIZE_BUF], s[SIZE_BUF], k[SIZE_BUF], m[SIZE_BUF];
	size_t i;

	printf("%7s %-16s %6s %10s %10s %10s %10s %10s\n", "PID", "COMMAND",
	       "RESV", "COMMITTED", "RESIDENT", "RESET", "LOCKED", "LIMIT");
	for (i = 0; i < l->n; i++) {
		const struct proc *p = &l->p[i];

		printf("%7u %-16s %6llu %10s %10s %10s %10s %10s\n", p->pid,
		       p->comm, (unsigned long long)p->reservations,
		       fmt_size(c, p->committed), fmt_size(r, p->resident),
		       fmt_size(s, p->reset), fmt_size(k, p->locked),
		       p->limit ? fmt_size(m, p->limit) : "-");
	}
}

static int ps_run(int argc, char **argv)
{
	struct proc_list l = { 0 };
	struct cmd_opts o;
	struct ntnl nl;
	int i = cmd_getopt(&cmd_ps, argc, argv, &o, NULL, NULL, NULL, NULL);
	int ret = 0;

	if (i < 0)
		return cmd_exit(i);
	if (i < argc) {
		cmd_usage_error(&cmd_ps, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (ntnl_open(&nl, "ps"))
		return 1;
	ret = ntnl_call(&nl, ntnl_msg(&nl, NTMEM_CMD_GET_PROCESS, true),
			ps_reply, &l);
	if (ret) {
		ntnl_perror(&nl, "ps");
	} else {
		qsort(l.p, l.n, sizeof(*l.p), by_pid);
		if (o.json)
			ps_json(&l);
		else
			ps_text(&l);
	}
	free(l.p);
	ntnl_close(&nl);
	return ret ? 1 : 0;
}

const struct command cmd_ps = {
	.name = "ps",
	.run = ps_run,
	.synopsis = "ps",
	.help = "List the processes using ntmem (with /dev/ntmem open or ntmem memory\n"
		"mapped): pid, command, reservations, committed, resident, reset and\n"
		"locked memory, and the process's own commit limit (- for none).\n"
		"JSON sizes are in bytes, a limit of 0 meaning none.\n\nOptions:\n",
};
