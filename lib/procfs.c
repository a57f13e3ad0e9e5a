// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading the kernel's text files (/proc, /sys) without stdio, so that the
 * memory-status calls take no lock a fork or a signal could leave held.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

ssize_t ntmem__read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

bool ntmem__text_field(const char *text, const char *name, uint64_t *value)
{
	size_t n = strlen(name);
	const char *p;

	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':') {
			*value = strtoull(p + n + 1, NULL, 10);
			return true;
		}
	return false;
}

bool ntmem__file_u64(const char *path, uint64_t *value)
{
	char buf[64];

	if (ntmem__read_text(path, buf, sizeof(buf)) <= 0)
		return false;
	*value = strtoull(buf, NULL, 10);
	return true;
}

bool ntmem__each_line(const char *path, bool (*fn)(const char *line, void *arg),
		      void *arg)
{
	char buf[4096], line[512];
	size_t used = 0;
	ssize_t n, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool more = true;

	if (fd < 0)
		return false;
	while (more && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n && more; i++) {
			if (buf[i] != '\n') {
				if (used < sizeof(line) - 1)	/* long: cut */
					line[used++] = buf[i];
				continue;
			}
			line[used] = '\0';
			used = 0;
			more = fn(line, arg);
		}
	}
	close(fd);
	return true;
}
