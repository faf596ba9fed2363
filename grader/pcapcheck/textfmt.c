/* textfmt.c - small formatting helpers shared by the text views. */
#include "textfmt.h"

#include <inttypes.h>
#include <string.h>

#include "decode.h"

const char *text_seconds_str(int64_t ns, char *buf, size_t len)
{
	uint64_t magnitude = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t us = magnitude / 1000;
	(void)snprintf(buf, len, "%s%" PRIu64 ".%06" PRIu64, ns < 0 ? "-" : "",
		       us / 1000000, us % 1000000);
	return buf;
}

void text_seconds(FILE *out, int64_t ns)
{
	char buf[32];
	fputs(text_seconds_str(ns, buf, sizeof buf), out);
}

/* preview_char - print one byte as itself if printable, else as an escape. */
static void preview_char(FILE *out, uint8_t c)
{
	switch (c) {
	case '\n':
		fputs("\\n", out);
		return;
	case '\r':
		fputs("\\r", out);
		return;
	case '\t':
		fputs("\\t", out);
		return;
	case '"':
		fputs("\\\"", out);
		return;
	case '\\':
		fputs("\\\\", out);
		return;
	default:
		if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", (unsigned)c);
	}
}

void text_preview(FILE *out, const uint8_t *p, size_t n, size_t max)
{
	size_t shown = n < max ? n : max;
	fputc('"', out);
	for (size_t i = 0; i < shown; i++)
		preview_char(out, p[i]);
	fputc('"', out);
	if (shown < n)
		fputs("...", out);
}

const char *text_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

const char *text_tcp_flags(uint8_t flags, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {{TCP_FIN, "FIN"}, {TCP_SYN, "SYN"}, {TCP_RST, "RST"},
		     {TCP_PSH, "PSH"}, {TCP_ACK, "ACK"}, {TCP_URG, "URG"},
		     {TCP_ECE, "ECE"}, {TCP_CWR, "CWR"}};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & names[i].bit))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
				 used ? ", " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		(void)snprintf(buf, len, "<None>");
	return buf;
}
