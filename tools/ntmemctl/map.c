// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl map PID: a process's address space as ntmem sees it, region by
 * region, like Sysinternals VMMap or WinDbg's !address
 * (NTMEM_CMD_GET_REGIONS, dumped).  The kernel sends the regions in
 * address order, so the regions of one allocation arrive together; the
 * table shows a header row per allocation -- a private reservation, a
 * view of a section, or a Windows placeholder, which is one region --
 * then its regions.  Above it, one line pictures the span from the lowest
 * to the highest reservation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uapi/ntmem.h>

#include "ntmemctl.h"

struct region {
	uint64_t base, size, alloc_base, alloc_size, resident;
	uint32_t alloc_protect, state, protect, flags;
	uint32_t type;			/* 0: an older module sent none */
	bool view;			/* a view: the section_* fields are set */
	uint64_t section_offset, section_size;
	char *section_name;		/* NULL: none (unnamed, or not a view) */
};

struct region_list {
	struct region *r;
	size_t n, cap;
};

static int map_reply(struct nlattr **tb, void *arg)
{
	struct region_list *l = arg;
	struct region *r = array_next((void **)&l->r, &l->n, &l->cap,
				      sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->base = attr_u64(tb, NTMEM_A_REGION_BASE);
	r->size = attr_u64(tb, NTMEM_A_REGION_SIZE);
	r->alloc_base = attr_u64(tb, NTMEM_A_ALLOC_BASE);
	r->alloc_size = attr_u64(tb, NTMEM_A_ALLOC_SIZE);
	r->alloc_protect = attr_u32(tb, NTMEM_A_ALLOC_PROTECT);
	r->state = attr_u32(tb, NTMEM_A_STATE);
	r->protect = attr_u32(tb, NTMEM_A_PROTECT);
	r->resident = attr_u64(tb, NTMEM_A_RESIDENT);
	r->flags = attr_u32(tb, NTMEM_A_REGION_FLAGS);
	r->type = attr_u32(tb, NTMEM_A_TYPE);
	r->view = tb[NTMEM_A_SECTION_SIZE] != NULL;
	r->section_offset = attr_u64(tb, NTMEM_A_SECTION_OFFSET);
	r->section_size = attr_u64(tb, NTMEM_A_SECTION_SIZE);
	r->section_name = NULL;
	if (tb[NTMEM_A_SECTION_NAME]) {
		r->section_name = strdup(attr_str(tb, NTMEM_A_SECTION_NAME));
		if (!r->section_name) {
			l->n--;		/* nothing to free in it */
			return -ENOMEM;
		}
	}
	return 0;
}

static void region_list_free(struct region_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->r[i].section_name);
	free(l->r);
}

/*
 * What an allocation is: "private", "mapped", "placeholder"; a type this
 * tool does not know in hex, so that nothing is hidden; NULL if the module
 * is too old to say.
 */
static const char *alloc_type(char *buf, uint32_t type)
{
	if (!type)
		return NULL;
	if (type_name(type))
		return type_name(type);
	snprintf(buf, PROT_BUF, "0x%x", type);
	return buf;
}

static bool is_placeholder(const struct region *r)
{
	return r->type == NTMEM_TYPE_PLACEHOLDER;
}

/* A PAGE_* name, or null for none (reserved pages, a 0 allocation protection). */
static void json_protect(const char *key, uint32_t protect)
{
	char buf[PROT_BUF];

	if (protect)
		json_str(key, fmt_protect(buf, protect));
	else
		json_null(key);
}

static void map_json(const struct region_list *l)
{
	char type[PROT_BUF];
	size_t i;

	json_open(NULL, '[');
	for (i = 0; i < l->n; i++) {
		const struct region *r = &l->r[i];

		json_open(NULL, '{');
		json_u64("base", r->base);
		json_u64("end", r->base + r->size);
		json_u64("size", r->size);
		json_str("state", state_name(r->state));
		json_protect("protect", r->protect);
		json_u64("alloc_base", r->alloc_base);
		json_u64("alloc_size", r->alloc_size);
		json_protect("alloc_protect", r->alloc_protect);
		json_u64("resident", r->resident);
		json_bool("write_watch", r->flags & NTMEM_REGION_WRITE_WATCH);
		/* what this tree added: after the fields scripts know */
		if (alloc_type(type, r->type))
			json_str("type", alloc_type(type, r->type));
		else
			json_null("type");
		json_bool("copy_on_write", r->flags & NTMEM_REGION_COPY);
		json_bool("file_backed", r->flags & NTMEM_REGION_FILE);
		json_bool("from_placeholder",
			  r->flags & NTMEM_REGION_FROM_PLACEHOLDER);
		if (r->view) {
			json_u64("section_offset", r->section_offset);
			json_u64("section_size", r->section_size);
		} else {
			json_null("section_offset");
			json_null("section_size");
		}
		if (r->section_name)
			json_str("section_name", r->section_name);
		else
			json_null("section_name");
		json_close('}');
	}
	json_close(']');
	json_end_line();
}

#define PICTURE_WIDTH	64

/*
 * What a column of the picture shows: the "most" any byte of it is --
 * committed, reserved, a placeholder (address space held for later, which
 * can hold no memory until replaced), free.
 */
static char picture_cell(const struct region_list *l, uint64_t lo, uint64_t hi)
{
	char c = '.';
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct region *r = &l->r[i];

		if (r->base >= hi || r->base + r->size <= lo)
			continue;
		if (r->state == NTMEM_STATE_COMMIT)
			return '#';
		if (!is_placeholder(r))
			c = '+';
		else if (c == '.')
			c = '-';
	}
	return c;
}

/*
 * "0x... [##++++....+++#] 0x...": each column is an equal, page-rounded
 * slice of [lowest base, highest end), so the gaps between reservations
 * show as free.
 */
static void map_picture(const struct region_list *l)
{
	uint64_t lo = UINT64_MAX, hi = 0, col, a;
	long page = sysconf(_SC_PAGESIZE);
	char line[PICTURE_WIDTH + 1], buf[SIZE_BUF];
	bool holds = false;
	int n = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		holds |= is_placeholder(&l->r[i]);
		if (l->r[i].alloc_base < lo)
			lo = l->r[i].alloc_base;
		if (l->r[i].alloc_base + l->r[i].alloc_size > hi)
			hi = l->r[i].alloc_base + l->r[i].alloc_size;
	}
	col = (hi - lo + PICTURE_WIDTH - 1) / PICTURE_WIDTH;
	col = (col + page - 1) / page * page;
	for (a = lo; a < hi && n < PICTURE_WIDTH; a += col)
		line[n++] = picture_cell(l, a, a + col);
	line[n] = '\0';
	printf("0x%016llx [%s] 0x%016llx\n", (unsigned long long)lo, line,
	       (unsigned long long)hi);
	/* the legend names placeholders only where there are some */
	printf("%18s  one column = %s: # committed, + reserved, %s. free\n\n",
	       "", fmt_size(buf, col), holds ? "- placeholder, " : "");
}

#define COUNT_BUF	40

/* "1 view", "2 placeholders" */
static const char *fmt_count(char *buf, size_t n, const char *what)
{
	snprintf(buf, COUNT_BUF, "%zu %s%s", n, what, n == 1 ? "" : "s");
	return buf;
}

/*
 * A view's committed pages are the section's, perhaps another process's
 * charge, and a placeholder is address space without memory: the line
 * says how much of each total they are, when there are any, so that it
 * reads as before for a process of private reservations only.
 */
static void map_summary(const struct region_list *l, uint32_t pid,
			const char *comm)
{
	uint64_t reserved = 0, committed = 0, resident = 0;
	uint64_t held = 0, viewed = 0;
	char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF], h[SIZE_BUF], v[SIZE_BUF];
	char kinds[2 * COUNT_BUF + 8] = "", vs[COUNT_BUF], hs[COUNT_BUF];
	char in_held[48] = "", in_views[48] = "";
	size_t i, allocs = 0, views = 0, holds = 0;

	for (i = 0; i < l->n; i++) {
		const struct region *r = &l->r[i];

		if (!i || r->alloc_base != l->r[i - 1].alloc_base) {
			allocs++;
			reserved += r->alloc_size;
			views += r->type == NTMEM_TYPE_MAPPED;
			holds += is_placeholder(r);
			held += is_placeholder(r) ? r->alloc_size : 0;
		}
		if (r->state == NTMEM_STATE_COMMIT) {
			committed += r->size;
			viewed += r->type == NTMEM_TYPE_MAPPED ? r->size : 0;
		}
		resident += r->resident;
	}
	if (views || holds)
		snprintf(kinds, sizeof(kinds), " (%s%s%s)",
			 views ? fmt_count(vs, views, "view") : "",
			 views && holds ? ", " : "",
			 holds ? fmt_count(hs, holds, "placeholder") : "");
	if (held)
		snprintf(in_held, sizeof(in_held), " (%s in placeholders)",
			 fmt_size(h, held));
	if (viewed)
		snprintf(in_views, sizeof(in_views), " (%s in views)",
			 fmt_size(v, viewed));
	printf("pid %u%s%s%s: %zu allocations%s, %zu regions; %s reserved%s, %s committed%s, %s resident\n",
	       pid, *comm ? " (" : "", comm, *comm ? ")" : "", allocs, kinds,
	       l->n, fmt_size(a, reserved), in_held, fmt_size(b, committed),
	       in_views, fmt_size(c, resident));
}

#define ROW_FMT "%-2s0x%016llx 0x%016llx %10s  %-11s %-28s 0x%016llx %10s%s%s\n"

static void map_row(const char *mark, uint64_t base, uint64_t size,
		    const char *state, uint32_t protect, uint64_t alloc_base,
		    uint64_t resident, const char *flags)
{
	char s[SIZE_BUF], r[SIZE_BUF], p[PROT_BUF];

	printf(ROW_FMT, mark, (unsigned long long)base,
	       (unsigned long long)(base + size), fmt_size(s, size), state,
	       fmt_protect(p, protect), (unsigned long long)alloc_base,
	       fmt_size(r, resident), *flags ? "  " : "", flags);
}

/* A section's name, quoted, and what comes around it in a row. */
#define FLAGS_BUF	(QUOTED_BUF(NTMEM_SECTION_NAME_MAX) + 128)

/*
 * The FLAGS of an allocation's row: "write-watch"; for a view, which part
 * of what section it maps -- 'file section "name" offset 0x10000 of 1.00
 * MiB', the name only if it has one -- and "copy-on-write"; "from
 * placeholder" for one made over a placeholder.
 */
static const char *alloc_flags(char *buf, const struct region *r)
{
	char name[QUOTED_BUF(NTMEM_SECTION_NAME_MAX)], size[SIZE_BUF];
	const char *sep = "";
	size_t n = 0;

	buf[0] = '\0';
	if (r->flags & NTMEM_REGION_WRITE_WATCH) {
		n += snprintf(buf + n, FLAGS_BUF - n, "write-watch");
		sep = ", ";
	}
	if (r->view) {
		n += snprintf(buf + n, FLAGS_BUF - n,
			      "%s%ssection%s%s offset 0x%llx of %s", sep,
			      r->flags & NTMEM_REGION_FILE ? "file " : "",
			      r->section_name ? " " : "",
			      r->section_name ? fmt_quoted(name, sizeof(name),
							   r->section_name) : "",
			      (unsigned long long)r->section_offset,
			      fmt_size(size, r->section_size));
		sep = ", ";
	}
	if (r->flags & NTMEM_REGION_COPY) {
		n += snprintf(buf + n, FLAGS_BUF - n, "%scopy-on-write", sep);
		sep = ", ";
	}
	if (r->flags & NTMEM_REGION_FROM_PLACEHOLDER)
		snprintf(buf + n, FLAGS_BUF - n, "%sfrom placeholder", sep);
	return buf;
}

/* The resident bytes of the allocation whose first region is @first. */
static uint64_t alloc_resident(const struct region_list *l, size_t first)
{
	uint64_t sum = 0;
	size_t i;

	for (i = first; i < l->n && l->r[i].alloc_base == l->r[first].alloc_base; i++)
		sum += l->r[i].resident;
	return sum;
}

static void map_text(const struct region_list *l, uint32_t pid,
		     const char *comm)
{
	char type[PROT_BUF], flags[FLAGS_BUF];
	size_t i;

	map_summary(l, pid, comm);
	if (!l->n)
		return;
	map_picture(l);
	printf("%-2s%-18s %-18s %10s  %-11s %-28s %-18s %10s  %s\n", "",
	       "BASE", "END", "SIZE", "STATE", "PROTECT", "ALLOCATION BASE",
	       "RESIDENT", "FLAGS");
	for (i = 0; i < l->n; i++) {
		const struct region *r = &l->r[i];
		bool watch = r->flags & NTMEM_REGION_WRITE_WATCH;

		/* the allocation's row names its type where a state would be */
		if (!i || r->alloc_base != l->r[i - 1].alloc_base)
			map_row("*", r->alloc_base, r->alloc_size,
				alloc_type(type, r->type) ?: "allocation",
				r->alloc_protect, r->alloc_base,
				alloc_resident(l, i), alloc_flags(flags, r));
		map_row("", r->base, r->size, state_name(r->state), r->protect,
			r->alloc_base, r->resident, watch ? "write-watch" : "");
	}
}

static int comm_reply(struct nlattr **tb, void *arg)
{
	snprintf(arg, 32, "%s", attr_str(tb, NTMEM_A_COMM));
	return 0;
}

/* The command name, for the summary; "" if it cannot be had. */
static void map_comm(struct ntnl *nl, uint32_t pid, char comm[32])
{
	struct nl_msg *msg = ntnl_msg(nl, NTMEM_CMD_GET_PROCESS, false);

	comm[0] = '\0';
	if (msg && nla_put_u32(msg, NTMEM_A_PID, pid) < 0) {
		nlmsg_free(msg);
		return;
	}
	ntnl_call(nl, msg, comm_reply, comm);
}

static int map_regions(struct ntnl *nl, uint32_t pid, struct region_list *l)
{
	struct nl_msg *msg = ntnl_msg(nl, NTMEM_CMD_GET_REGIONS, true);

	if (msg && nla_put_u32(msg, NTMEM_A_PID, pid) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return ntnl_call(nl, msg, map_reply, l);
}

static int map_run(int argc, char **argv)
{
	struct region_list l = { 0 };
	struct cmd_opts o;
	struct ntnl nl;
	char comm[32];
	uint32_t pid;
	int i = cmd_getopt(&cmd_map, argc, argv, &o, NULL, NULL, NULL, NULL);
	int ret;

	if (i < 0)
		return cmd_exit(i);
	if (i != argc - 1) {
		cmd_usage_error(&cmd_map, "%s", i == argc ? "no PID given" :
				"too many arguments");
		return EXIT_USAGE;
	}
	if (parse_pid(argv[i], &pid)) {
		cmd_usage_error(&cmd_map, "'%s' is not a pid", argv[i]);
		return EXIT_USAGE;
	}
	if (ntnl_open(&nl, "map"))
		return 1;
	ret = map_regions(&nl, pid, &l);
	if (ret) {
		ntnl_perror(&nl, "map");
	} else if (o.json) {
		map_json(&l);
	} else {
		map_comm(&nl, pid, comm);
		map_text(&l, pid, comm);
	}
	region_list_free(&l);
	ntnl_close(&nl);
	return ret ? 1 : 0;
}

const struct command cmd_map = {
	.name = "map",
	.run = map_run,
	.synopsis = "map PID",
	.help = "Show the ntmem address space of process PID: one row per region (a run\n"
		"of pages alike in state and protection) with its base, end, size, state\n"
		"(MEM_COMMIT or MEM_RESERVE), protection (PAGE_* names, with +GUARD,\n"
		"+NOCACHE, +WRITECOMBINE), allocation base and resident size, grouped\n"
		"under a row (marked *) per allocation, which shows the allocation\n"
		"protection and type: private (a reservation), mapped (a view of a\n"
		"section: its offset, the section's size and name, copy-on-write, file)\n"
		"or placeholder (a Windows placeholder, one region); \"from placeholder\"\n"
		"marks one made over a placeholder.  Above the table, one line pictures\n"
		"the span from the lowest to the highest reservation.  Needs the right\n"
		"to read the process as ptrace would.\n\nOptions:\n",
};
