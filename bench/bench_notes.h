/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The notes a benchmark prints under its table, collected while its rows
 * run: note() appends a line, bench_notes() is all of them.
 */
#ifndef NTMEM_BENCH_NOTES_H
#define NTMEM_BENCH_NOTES_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BENCH_NOTES_SIZE	8192

static inline char *bench_notes(void)
{
	static char notes[BENCH_NOTES_SIZE];

	return notes;
}

__attribute__((format(printf, 1, 2)))
static inline void note(const char *fmt, ...)
{
	char *notes = bench_notes();
	size_t len = strlen(notes);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(notes + len, BENCH_NOTES_SIZE - len, fmt, ap);
	va_end(ap);
}

#endif /* NTMEM_BENCH_NOTES_H */
