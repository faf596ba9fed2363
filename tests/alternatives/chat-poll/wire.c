#define _POSIX_C_SOURCE 200809L

#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *progname = "chat";
int verbose;

void split_payload(const char *p, size_t len, struct payload *out)
{
	const char *end = p + len, *start = p + 1;

	out->type = p[0];
	out->nfields = 0;
	if (len == 1)
		return;
	for (;;) {
		const char *zero = memchr(start, '\0', (size_t)(end - start));
		const char *stop = zero != NULL ? zero : end;

		if (out->nfields == MAX_FIELDS) {
			out->nfields = -1;
			return;
		}
		out->f[out->nfields++] = (struct field){start, (size_t)(stop - start)};
		if (zero == NULL)
			return;
		start = zero + 1;
	}
}

size_t build_frame(char *out, char type, const struct field *f, int n)
{
	size_t len = 1;

	for (int i = 0; i < n; i++)
		len += f[i].len + (i > 0);
	if (len > PAYLOAD_MAX)
		return 0;
	out[0] = (char)(len >> 24);
	out[1] = (char)(len >> 16);
	out[2] = (char)(len >> 8);
	out[3] = (char)len;
	out[4] = type;
	len = 5;
	for (int i = 0; i < n; i++) {
		if (i > 0)
			out[len++] = '\0';
		memcpy(out + len, f[i].p, f[i].len);
		len += f[i].len;
	}
	return len;
}

struct field str_field(const char *s)
{
	return (struct field){s, strlen(s)};
}

int field_is(struct field f, const char *s)
{
	return f.len == strlen(s) && memcmp(f.p, s, f.len) == 0;
}

int name_ok(const char *s, size_t len)
{
	if (len < 1 || len > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int text_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = u[i];
		unsigned long cp;
		size_t more;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= more)
			return 0;
		for (size_t k = 1; k <= more; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += more + 1;
	}
	return 1;
}

void say(const char *level, const char *fmt, ...)
{
	struct timespec now = {0};
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	if (strcmp(level, "DEBUG") == 0 && !verbose)
		return;
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

int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
