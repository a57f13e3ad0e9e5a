// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl: a minimal JSON writer, enough for flat objects and arrays of
 * them, on stdout.  It tracks only whether the current container needs a
 * comma before the next member.  Strings come from the kernel (a task's
 * comm may hold any byte), so every byte that is not printable ASCII is
 * escaped: the output is valid JSON whatever the input.
 */
#include "ntmemctl.h"

#define JSON_MAX_DEPTH	8

static int depth;
static bool need_comma[JSON_MAX_DEPTH];

static void json_escaped(const char *s);

/* Start a member (@key) or an element (@key NULL) of the open container. */
static void json_key(const char *key)
{
	if (depth > 0 && need_comma[depth - 1])
		putchar(',');
	if (depth > 0)
		need_comma[depth - 1] = true;
	if (key) {
		json_escaped(key);
		putchar(':');
	}
}

static void json_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Open an object ('{') or array ('['), as member @key or an element. */
void json_open(const char *key, char bracket)
{
	json_key(key);
	putchar(bracket);
	if (depth < JSON_MAX_DEPTH)
		need_comma[depth] = false;
	depth++;
}

void json_close(char bracket)
{
	putchar(bracket);
	if (depth > 0)
		depth--;
}

void json_u64(const char *key, uint64_t v)
{
	json_key(key);
	printf("%llu", (unsigned long long)v);
}

void json_str(const char *key, const char *s)
{
	json_key(key);
	json_escaped(s);
}

void json_null(const char *key)
{
	json_key(key);
	fputs("null", stdout);
}

void json_bool(const char *key, bool v)
{
	json_key(key);
	fputs(v ? "true" : "false", stdout);
}

/* End a top-level value: a newline, flushed (monitor writes to pipes). */
void json_end_line(void)
{
	putchar('\n');
	fflush(stdout);
}
