/*
 * pingwire - the datagrams of the pinger lab (see pingwire.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "pingwire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t pw_format(char *buf, size_t size, const char *word,
		 const struct pw_msg *msg)
{
	int n = snprintf(buf, size, "%s %" PRIu64 " %" PRIu64, word, msg->seq,
			 msg->time_us);

	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

/* Reads a number at *pos: decimal digits, no leading zero, not 0, no
 * overflow; advances *pos past it. Returns 0, or -1 for anything else. */
static int parse_number(const char *buf, size_t len, size_t *pos,
			uint64_t *value)
{
	uint64_t v = 0;
	size_t i = *pos;

	if (i >= len || buf[i] < '1' || buf[i] > '9')
		return -1;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		unsigned digit = (unsigned)(buf[i] - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*pos = i;
	*value = v;
	return 0;
}

int pw_parse(const char *buf, size_t len, const char *word, struct pw_msg *msg)
{
	size_t wlen = strlen(word), pos = wlen + 1;

	/* The datagram is not a C string: compare lengths, never strcmp(). */
	if (len <= wlen || memcmp(buf, word, wlen) != 0 || buf[wlen] != ' ')
		return -1;
	if (parse_number(buf, len, &pos, &msg->seq) < 0)
		return -1;
	if (pos >= len || buf[pos] != ' ')
		return -1;
	pos++;
	if (parse_number(buf, len, &pos, &msg->time_us) < 0)
		return -1;
	return pos == len ? 0 : -1;
}

void pw_upper(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	}
}
