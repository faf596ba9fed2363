/*
 * report.c - slrun's diagnostics: one stderr line per failure, naming the
 * attempt and its object, as in "slrun: chdir(/x): No such file or directory".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "slrun.h"

/* vsay - print "slrun: MESSAGE" and, if err is not 0, ": strerror(err)". */
static void vsay(int err, const char *fmt, va_list ap)
{
	/* stderr is unbuffered: each call is one write, also in forked children. */
	(void)fputs("slrun: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	if (err != 0)
		(void)fprintf(stderr, ": %s", strerror(err));
	(void)fputc('\n', stderr);
}

/* report - print a failed attempt with the current errno; errno is kept. */
void report(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsay(err, fmt, ap);
	va_end(ap);
	errno = err;
}

/* say - print a message that has no errno behind it. */
void say(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsay(0, fmt, ap);
	va_end(ap);
	errno = err;
}
