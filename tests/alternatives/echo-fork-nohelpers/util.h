/* util.h - the few things all four echo programs need: log lines,
 * argument checks, printing an address, sending a whole buffer. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest TCP line (without its '\n') and longest UDP payload. */
#define LINE_MAX_BYTES 65536
#define DGRAM_MAX_BYTES 65507

extern const char *progname;

/* "2026-11-24T10:00:00.123 LEVEL prog: message" on standard error. */
void say(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns 1 if an argument is -h or --help. */
int wants_help(int argc, char *argv[]);

/* Logs the problem, prints USAGE on stderr; returns 2 (the exit status). */
int bad_usage(const char *usage, const char *problem, const char *arg);

/* Parses a whole decimal number from lo to hi; 0 or -1. */
int parse_number(const char *s, long lo, long hi, long *out);

/* "127.0.0.1:40000" or "[::1]:40000" (IPv4-mapped IPv6 shown as IPv4). */
const char *addr_text(const struct sockaddr *sa, char *buf, size_t size);

/* send() until all LEN bytes are gone (no SIGPIPE); 0 or -1 with errno. */
int send_whole(int fd, const void *buf, size_t len);

/* Uppercases a-z in place; every other byte stays. */
void to_upper_ascii(char *buf, size_t len);

#endif
