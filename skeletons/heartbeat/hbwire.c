/*
 * hbwire - the lines of the heartbeat protocol (see hbwire.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "hbwire.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Tells whether line starts with prefix; *rest then points after it. */
static bool has_prefix(const char *line, size_t len, const char *prefix,
		       const char **rest, size_t *restlen)
{
	size_t plen = strlen(prefix);

	if (len < plen || memcmp(line, prefix, plen) != 0)
		return false;
	*rest = line + plen;
	*restlen = len - plen;
	return true;
}

/* Reads a sequence number: decimal digits, no leading zero, no sign, not
 * 0, no overflow; returns 0, or -1 for anything else. */
static int parse_seq(const char *s, size_t len, unsigned long *seq)
{
	unsigned long v = 0;

	if (len == 0 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned digit = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (ULONG_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*seq = v;
	return 0;
}

void hb_parse(const char *line, size_t len, struct hb_msg *msg)
{
	const char *rest;
	size_t restlen;

	msg->kind = HB_KIND_UNKNOWN;
	msg->seq = 0;
	msg->text = line;
	msg->len = len;
	/* "HB " cannot match "HBACK ...": its third byte is a space. */
	if (has_prefix(line, len, "HB ", &rest, &restlen)) {
		if (parse_seq(rest, restlen, &msg->seq) == 0)
			msg->kind = HB_KIND_HB;
	} else if (has_prefix(line, len, "HBACK ", &rest, &restlen)) {
		if (parse_seq(rest, restlen, &msg->seq) == 0)
			msg->kind = HB_KIND_HBACK;
	} else if (has_prefix(line, len, "MSG ", &rest, &restlen)) {
		msg->kind = HB_KIND_MSG;
		msg->text = rest;
		msg->len = restlen;
	} else if (has_prefix(line, len, "BCAST ", &rest, &restlen)) {
		msg->kind = HB_KIND_BCAST;
		msg->text = rest;
		msg->len = restlen;
	}
}

size_t hb_format_seq(char *buf, size_t size, const char *word,
		     unsigned long seq)
{
	int n = snprintf(buf, size, "%s %lu\n", word, seq);

	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

size_t hb_format_text(char *buf, size_t size, const char *word,
		      const char *text, size_t len)
{
	size_t wlen = strlen(word);

	/* word, ' ', text, '\n' and a NUL */
	if (size < wlen + len + 3)
		return 0;
	memcpy(buf, word, wlen);
	buf[wlen] = ' ';
	memcpy(buf + wlen + 1, text, len);
	buf[wlen + 1 + len] = '\n';
	buf[wlen + 2 + len] = '\0';
	return wlen + len + 2;
}
