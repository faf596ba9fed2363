/*
 * chatwire - the frames of the chat protocol, built, split and checked.
 *
 * Every message is one sl_frame (sl_frame.h): a 4-byte big-endian payload
 * length, then the payload. The payload's first byte is its type, an ASCII
 * letter; the fields that follow are separated by one 0x00 byte (the last
 * field runs to the end of the payload):
 *
 *	type        dir     fields
 *	'L' LOGIN   c -> s  user, password
 *	'M' MSG     c -> s  text                   to everyone else
 *	'M' MSG     s -> c  time, sender, text
 *	'P' PRIVATE c -> s  recipient, text        to one user
 *	'P' PRIVATE s -> c  time, sender, text
 *	'C' CTL     c -> s  "quit"
 *	'C' CTL     s -> c  time, event, user      event: welcome, online, offline
 *	'E' ERROR   s -> c  code, text             code: login, duplicate,
 *	                                           offline, toolong, badtext,
 *	                                           protocol, full
 *
 * time is Unix seconds in decimal ASCII ("1764000000"). A user name is 1 to
 * CHAT_NAME_MAX bytes of letters, digits, '_', '-' and '.'; a password 1 to
 * CHAT_PASSWORD_MAX bytes of anything but NUL, '\r' and '\n'; a text 1 to
 * CHAT_TEXT_MAX bytes of valid UTF-8 without control characters. Both
 * programs share this module, so they can never disagree on the format.
 */
#ifndef CHATWIRE_H
#define CHATWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The limits of the protocol, in bytes. */
#define CHAT_NAME_MAX 32
#define CHAT_PASSWORD_MAX 128
#define CHAT_TEXT_MAX 1000 /* the maximum message length */
#define CHAT_TIME_MAX 20   /* digits of any 64-bit time */

/* The largest payload: a relayed message with the longest sender and
 * text. A frame announcing more is refused unread. */
#define CHAT_PAYLOAD_MAX \
	(1 + CHAT_TIME_MAX + 1 + CHAT_NAME_MAX + 1 + CHAT_TEXT_MAX)

/* The most fields any type has. */
#define CHAT_FIELDS_MAX 3

/* The type byte of each kind of frame. */
enum chat_type {
	CHAT_LOGIN = 'L',
	CHAT_MSG = 'M',
	CHAT_PRIVATE = 'P',
	CHAT_CTL = 'C',
	CHAT_ERROR = 'E',
};

/* One field: bytes that are not NUL-terminated. */
struct chat_field {
	const char *p;
	size_t len;
};

/* A payload split into its type and fields (which point into it). */
struct chat_msg {
	char type;
	size_t nfields;
	struct chat_field f[CHAT_FIELDS_MAX];
};

/* A field holding the NUL-terminated string s. */
struct chat_field chat_str(const char *s);

/* Builds a payload of type and n fields into buf; returns its length, or 0
 * when it does not fit in size bytes. */
size_t chat_build(char *buf, size_t size, char type,
		  const struct chat_field *f, size_t n);

/* Splits a received payload; returns 0, or -1 when it is empty or has more
 * than CHAT_FIELDS_MAX fields. */
int chat_parse(const char *payload, size_t len, struct chat_msg *m);

/* Builds and sends one frame on a socket; returns 0, or -1 with errno set
 * (EMSGSIZE when the payload would be over CHAT_PAYLOAD_MAX). */
int chat_send(int fd, char type, const struct chat_field *f, size_t n);

/* Tells whether field equals the string s. */
bool chat_field_is(struct chat_field field, const char *s);

/* Copies a field into buf (size bytes) as a string; returns 0, or -1 when
 * it does not fit. */
int chat_field_copy(struct chat_field field, char *buf, size_t size);

/* Tells whether s (len bytes) is a valid user name. */
bool chat_name_ok(const char *s, size_t len);

/* Tells whether s (len bytes) is a valid password. */
bool chat_password_ok(const char *s, size_t len);

/* Tells whether s (len bytes) is valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without control characters. */
bool chat_utf8_ok(const char *s, size_t len);

/* Writes t as decimal Unix seconds into buf (CHAT_TIME_MAX + 1 bytes). */
void chat_time_field(char *buf, time_t t);

/* Reads a time field; returns 0, or -1 when it is not decimal digits. */
int chat_parse_time(struct chat_field field, time_t *t);

#endif
