/* strbuf - a growable byte buffer (see strbuf.h). */
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_io.h"

void strbuf_init(struct strbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void strbuf_free(struct strbuf *b)
{
	free(b->data);
	strbuf_init(b);
}

/* Makes room for n more bytes and a NUL; returns false (and marks b
 * failed) when memory runs out. */
static bool reserve(struct strbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *data;

	if (b->failed || n >= (size_t)-1 / 2 - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	while (cap < b->len + n + 1)
		cap *= 2;
	data = realloc(b->data, cap);
	if (data == NULL) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void strbuf_add(struct strbuf *b, const void *p, size_t n)
{
	if (!reserve(b, n))
		return;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void strbuf_addstr(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

bool strbuf_failed(const struct strbuf *b)
{
	return b->failed;
}

int strbuf_read_fd(struct strbuf *b, int fd, size_t max)
{
	char chunk[65536];
	ssize_t n;

	while ((n = sl_read_some(fd, chunk, sizeof chunk)) > 0) {
		if (b->len > max || (size_t)n > max - b->len) {
			errno = EFBIG;
			return -1;
		}
		strbuf_add(b, chunk, (size_t)n);
		if (b->failed) {
			errno = ENOMEM;
			return -1;
		}
	}
	return n < 0 ? -1 : 0;
}
