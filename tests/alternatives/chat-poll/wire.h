/* wire.h - what the chat server and client share: the frames' limits
 * and fields, the checks on names and texts, log lines, the clock. */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

#define NAME_MAX_LEN 32
#define PASSWORD_MAX_LEN 128
#define TEXT_MAX_LEN 1000
/* The largest payload: 'M', a 20-digit time, the longest name and text. */
#define PAYLOAD_MAX (1 + 20 + 1 + NAME_MAX_LEN + 1 + TEXT_MAX_LEN)
#define MAX_FIELDS 4

/* One field of a payload: LEN bytes at P (not NUL-terminated). */
struct field {
	const char *p;
	size_t len;
};

/* A payload split at its 0x00 bytes: the type letter and the fields. */
struct payload {
	char type;
	int nfields; /* -1: more than MAX_FIELDS */
	struct field f[MAX_FIELDS];
};

/* Splits LEN bytes (at least 1) of payload P into OUT. */
void split_payload(const char *p, size_t len, struct payload *out);

/* Writes into OUT (room for 4 + PAYLOAD_MAX bytes) the frame of type TYPE
 * with N fields; returns its length, or 0 if it would be too long. */
size_t build_frame(char *out, char type, const struct field *f, int n);

/* A field holding the C string S. */
struct field str_field(const char *s);

/* 1 if F holds exactly the C string S. */
int field_is(struct field f, const char *s);

/* 1 for 1-32 letters, digits, '_', '-' and '.'. */
int name_ok(const char *s, size_t len);

/* 1 for valid UTF-8 without control characters (C0, DEL, C1). */
int text_ok(const char *s, size_t len);

extern const char *progname;
extern int verbose;

/* "2026-11-24T10:00:00.123 LEVEL prog: message" on standard error;
 * DEBUG lines only when verbose. */
void say(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Milliseconds of the monotonic clock. */
int64_t now_ms(void);

#endif
