/*
 * chatwire - the frames of the chat protocol (see chatwire.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "chatwire.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_frame.h"

struct chat_field chat_str(const char *s)
{
	struct chat_field f = {.p = s, .len = strlen(s)};

	return f;
}

size_t chat_build(char *buf, size_t size, char type,
		  const struct chat_field *f, size_t n)
{
	size_t used = 1;

	if (size < 1)
		return 0;
	buf[0] = type;
	for (size_t i = 0; i < n; i++) {
		size_t sep = i > 0 ? 1 : 0; /* a 0x00 between two fields */

		if (f[i].len > size - used || sep > size - used - f[i].len)
			return 0;
		if (sep)
			buf[used++] = '\0';
		memcpy(buf + used, f[i].p, f[i].len);
		used += f[i].len;
	}
	return used;
}

int chat_parse(const char *payload, size_t len, struct chat_msg *m)
{
	const char *p, *end = payload + len;

	if (len == 0)
		return -1;
	m->type = payload[0];
	m->nfields = 0;
	if (len == 1)
		return 0; /* a type without fields */
	p = payload + 1;
	for (;;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *stop = nul != NULL ? nul : end;

		if (m->nfields == CHAT_FIELDS_MAX)
			return -1;
		m->f[m->nfields].p = p;
		m->f[m->nfields].len = (size_t)(stop - p);
		m->nfields++;
		if (nul == NULL)
			return 0;
		p = nul + 1;
	}
}

int chat_send(int fd, char type, const struct chat_field *f, size_t n)
{
	char payload[CHAT_PAYLOAD_MAX];
	size_t len = chat_build(payload, sizeof payload, type, f, n);

	if (len == 0) {
		errno = EMSGSIZE;
		return -1;
	}
	return sl_frame_send(fd, payload, len, CHAT_PAYLOAD_MAX);
}

bool chat_field_is(struct chat_field field, const char *s)
{
	return field.len == strlen(s) && memcmp(field.p, s, field.len) == 0;
}

int chat_field_copy(struct chat_field field, char *buf, size_t size)
{
	if (field.len >= size)
		return -1;
	memcpy(buf, field.p, field.len);
	buf[field.len] = '\0';
	return 0;
}

bool chat_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > CHAT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			  ch == '.';

		if (!ok)
			return false;
	}
	return true;
}

bool chat_password_ok(const char *s, size_t len)
{
	if (len == 0 || len > CHAT_PASSWORD_MAX)
		return false;
	/* NUL separates fields; line ends would cut a password typed or
	 * read from a file in two. */
	return memchr(s, '\0', len) == NULL && memchr(s, '\n', len) == NULL &&
	       memchr(s, '\r', len) == NULL;
}

/* Decodes the UTF-8 character at s[0..left-1]; returns its length in
 * bytes and its code point in *cp, or 0 when the bytes are not one valid
 * character. */
static size_t utf8_char(const unsigned char *s, size_t left, uint32_t *cp)
{
	/* The smallest code point of each length: a smaller one is an
	 * "overlong" form, which hides characters from simple filters. */
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n;
	uint32_t v;

	if (s[0] < 0x80)
		n = 1, v = s[0];
	else if ((s[0] & 0xE0) == 0xC0)
		n = 2, v = s[0] & 0x1Fu;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3, v = s[0] & 0x0Fu;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4, v = s[0] & 0x07u;
	else
		return 0; /* a continuation byte, or 0xF8..0xFF */
	if (n > left)
		return 0; /* cut in the middle */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	if (v < least[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

bool chat_utf8_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_char(u + i, len - i, &cp);

		/* Control characters could move the cursor or fake a
		 * "[time] sender" header line on the reader's terminal. */
		if (n == 0 || cp < 0x20 || cp == 0x7F ||
		    (cp >= 0x80 && cp < 0xA0))
			return false;
		i += n;
	}
	return true;
}

void chat_time_field(char *buf, time_t t)
{
	(void)snprintf(buf, CHAT_TIME_MAX + 1, "%lld", (long long)t);
}

int chat_parse_time(struct chat_field field, time_t *t)
{
	long long v = 0;

	if (field.len == 0 || field.len > 18)
		return -1; /* 18 digits cannot overflow a long long */
	for (size_t i = 0; i < field.len; i++) {
		if (field.p[i] < '0' || field.p[i] > '9')
			return -1;
		v = v * 10 + (field.p[i] - '0');
	}
	*t = (time_t)v;
	return 0;
}
