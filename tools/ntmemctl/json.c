// SPDX-License-Identifier: GPL-2.0
/*
 * ntmemctl: a minimal JSON writer, enough for flat objects and arrays of
 * them, on stdout.  It tracks only whether the current container needs a
 * comma before the next member.  Strings come from the kernel (a task's
 * comm may hold any byte): valid UTF-8 passes through as it is, only what
 * JSON requires is escaped (quote, backslash, control characters), and a
 * byte that is not part of valid UTF-8 becomes U+FFFD, so the output is
 * valid JSON whatever the input.
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

/*
 * The length of the valid UTF-8 sequence at @p (1 to 4), or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
static int utf8_len(const unsigned char *p)
{
	unsigned int min, cp;
	int len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		min = 0x80;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		min = 0x800;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		min = 0x10000;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void json_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int len;

	putchar('"');
	while (*p) {
		len = utf8_len(p);
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else if (len == 0)
			fputs("\\ufffd", stdout);
		else
			fwrite(p, 1, len, stdout);
		p += len ? len : 1;
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
