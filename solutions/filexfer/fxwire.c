/*
 * fxwire - the control frames of the file transfer protocol (fxwire.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "fxwire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_log.h" /* SL_TODO in the skeleton */

int fx_send(int fd, const char *const *fields, size_t n)
{
	char payload[FX_PAYLOAD_MAX];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t flen = strlen(fields[i]);
		size_t sep = i > 0 ? 1 : 0;

		if (len + sep + flen > sizeof payload) {
			errno = EMSGSIZE;
			return -1;
		}
		if (sep)
			payload[len++] = '\0';
		memcpy(payload + len, fields[i], flen);
		len += flen;
	}
	return sl_frame_send(fd, payload, len, sizeof payload);
}

/* Cuts m->buf (len bytes, NUL-terminated) at each NUL into m->f. */
static void split_fields(struct fx_msg *m, size_t len)
{
	const char *p = m->buf;
	const char *end = m->buf + len;

	m->nfields = 0;
	for (;;) {
		if (m->nfields == FX_FIELDS_MAX) {
			m->nfields = 0; /* too many: nothing matches it */
			return;
		}
		m->f[m->nfields++] = p;
		p += strlen(p);
		if (p == end)
			return;
		p++; /* over the separator */
	}
}

enum sl_frame_status fx_recv(int fd, struct fx_msg *m)
{
	size_t len;
	enum sl_frame_status st =
		sl_frame_recv(fd, m->buf, FX_PAYLOAD_MAX, &len);

	m->nfields = 0;
	if (st == SL_FRAME_OK) {
		m->buf[len] = '\0';
		split_fields(m, len);
	}
	return st;
}

bool fx_is(const struct fx_msg *m, const char *word, size_t nfields)
{
	return m->nfields == nfields && strcmp(m->f[0], word) == 0;
}

bool fx_name_ok(const char *name)
{
	/* BLANK 9: Accept 1 to FX_NAME_MAX bytes with no '/', no control character (below 0x20, or 0x7f) and no '.' first; refuse anything else. */
	size_t len = strlen(name);

	/* The name goes after "ROOT/": a '/' or a leading ".." would
	 * climb out of the root, a leading '.' could reach our temporary
	 * files, and control characters make names nobody can type. */
	if (len == 0 || len > FX_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)name[i];

		if (b == '/' || b < 0x20 || b == 0x7f)
			return false;
	}
	return true;
	/* SKELETON 9:
	(void)name;
	SL_TODO(9);
	return false;
	*/
	/* END 9 */
}

int fx_parse_size(const char *text, uint64_t *value)
{
	uint64_t v = 0;

	if (*text == '\0')
		return -1;
	for (const char *p = text; *p != '\0'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (*p < '0' || *p > '9' || v > (FX_SIZE_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}

void fx_format_size(char *buf, uint64_t value)
{
	(void)snprintf(buf, FX_NUM_MAX, "%" PRIu64, value);
}
