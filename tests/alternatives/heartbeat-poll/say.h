/* say.h - log lines, argument checks and the clock both programs use. */
#ifndef SAY_H
#define SAY_H

#include <stdint.h>

/* A protocol line is at most this long, its '\n' included. */
#define HB_LINE_MAX 1024

extern const char *progname;

/* "2026-11-24T10:00:00.123 LEVEL prog: message" on standard error. */
void say(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns 1 if an argument is -h or --help. */
int wants_help(int argc, char *argv[]);

/* Logs the problem, prints USAGE on stderr; returns 2 (the exit status). */
int bad_usage(const char *usage, const char *problem);

/* Parses a whole decimal number from lo to hi; 0 or -1. */
int parse_number(const char *s, long lo, long hi, long *out);

/* Milliseconds of the monotonic clock. */
int64_t now_ms(void);

#endif
