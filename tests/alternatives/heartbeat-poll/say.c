#define _POSIX_C_SOURCE 200809L

#include "say.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *progname = "heartbeat";

void say(const char *level, const char *fmt, ...)
{
	struct timespec now = {0};
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    localtime_r(&now.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s: ", stamp, now.tv_nsec / 1000000,
		level, progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int bad_usage(const char *usage, const char *problem)
{
	say("ERROR", "%s", problem);
	fputs(usage, stderr);
	return 2;
}

int parse_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
