// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl: values as people read them -- sizes in KiB/MiB/GiB, Windows'
 * PAGE_* and MEM_* names -- and the sizes and pids people type.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uapi/ntmem.h>

#include "ntmemctl.h"

/* "0 B", "512 B", "4.00 KiB", "12.5 MiB", "640 GiB": three digits at most. */
const char *fmt_size(char *buf, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, SIZE_BUF, "%u B", (unsigned int)bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* Round first, so that 1023.9 KiB does not print as "1024 KiB". */
	if (v >= 999.5 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, SIZE_BUF, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s",
		 v, units[u]);
	return buf;
}

static const struct {
	uint32_t bit;
	const char *name;
} protections[] = {
	{ NTMEM_PAGE_NOACCESS, "PAGE_NOACCESS" },
	{ NTMEM_PAGE_READONLY, "PAGE_READONLY" },
	{ NTMEM_PAGE_READWRITE, "PAGE_READWRITE" },
	{ NTMEM_PAGE_WRITECOPY, "PAGE_WRITECOPY" },
	{ NTMEM_PAGE_EXECUTE, "PAGE_EXECUTE" },
	{ NTMEM_PAGE_EXECUTE_READ, "PAGE_EXECUTE_READ" },
	{ NTMEM_PAGE_EXECUTE_READWRITE, "PAGE_EXECUTE_READWRITE" },
	{ NTMEM_PAGE_EXECUTE_WRITECOPY, "PAGE_EXECUTE_WRITECOPY" },
}, modifiers[] = {
	{ NTMEM_PAGE_GUARD, "+GUARD" },
	{ NTMEM_PAGE_NOCACHE, "+NOCACHE" },
	{ NTMEM_PAGE_WRITECOMBINE, "+WRITECOMBINE" },
};

#define MODIFIER_BITS	(NTMEM_PAGE_GUARD | NTMEM_PAGE_NOCACHE | \
			 NTMEM_PAGE_WRITECOMBINE)

/*
 * "PAGE_READWRITE+GUARD"; "-" for 0 (reserved pages have no protection);
 * a value this tool does not know in hex, so that nothing is hidden.
 */
const char *fmt_protect(char *buf, uint32_t protect)
{
	uint32_t base = protect & ~MODIFIER_BITS;
	size_t i;

	if (!protect)
		return strcpy(buf, "-");
	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(protections); i++)
		if (protections[i].bit == base)
			strcpy(buf, protections[i].name);
	if (!buf[0]) {
		snprintf(buf, PROT_BUF, "0x%x", protect);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(modifiers); i++)
		if (protect & modifiers[i].bit)
			strcat(buf, modifiers[i].name);
	return buf;
}

const char *state_name(uint32_t state)
{
	switch (state) {
	case NTMEM_STATE_COMMIT:
		return "MEM_COMMIT";
	case NTMEM_STATE_RESERVE:
		return "MEM_RESERVE";
	case NTMEM_STATE_FREE:
		return "MEM_FREE";
	default:
		return "?";
	}
}

/* The kind of an allocation (NTMEM_A_TYPE); NULL if unknown or not sent. */
const char *type_name(uint32_t type)
{
	switch (type) {
	case NTMEM_TYPE_PRIVATE:
		return "private";
	case NTMEM_TYPE_MAPPED:
		return "mapped";
	case NTMEM_TYPE_PLACEHOLDER:
		return "placeholder";
	default:
		return NULL;
	}
}

/*
 * @s in double quotes for a table: a section name is any bytes, so quote,
 * backslash and control characters are escaped (\", \\, \xNN) and cannot
 * break the row; other bytes (UTF-8) pass as they are.  QUOTED_BUF(n)
 * bytes hold any @s of n bytes; a longer one is cut short.
 */
const char *fmt_quoted(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	buf[n++] = '"';
	/* room for the longest escape, the closing quote and the NUL */
	for (; *s && n + 4 + 2 <= len; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			n += sprintf(buf + n, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n += sprintf(buf + n, "\\x%02x", c);
		else
			buf[n++] = c;
	}
	strcpy(buf + n, "\"");
	return buf;
}

/* The multiplier of a size suffix: K, M, G, T, optionally with "iB"/"B". */
static int size_suffix(const char *s, unsigned int *shift)
{
	static const char units[] = "KMGT";
	const char *u;

	if (!*s) {
		*shift = 0;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*s));
	if (!u)
		return -1;
	*shift = 10 * (unsigned int)(u - units + 1);
	s++;
	return (!*s || !strcasecmp(s, "B") || !strcasecmp(s, "iB")) ? 0 : -1;
}

/*
 * SIZE: a decimal number of bytes with an optional K/M/G/T suffix (powers
 * of 1024), or "default" for 0.  Returns 0, -1 if malformed or too large,
 * -2 if not a multiple of the page size; *bytes is set only on success.
 */
int parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long n;
	unsigned int shift;
	char *end;

	if (!strcmp(s, "default")) {
		*bytes = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || size_suffix(end, &shift) || n > (UINT64_MAX >> shift))
		return -1;
	n <<= shift;
	if (n % (unsigned long long)sysconf(_SC_PAGESIZE))
		return -2;
	*bytes = n;
	return 0;
}

/* A positive decimal pid. */
int parse_pid(const char *s, uint32_t *pid)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n == 0 || n > INT32_MAX)
		return -1;
	*pid = n;
	return 0;
}
