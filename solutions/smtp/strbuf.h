/*
 * strbuf - a growable byte buffer for building a message in memory.
 *
 * Adding never fails on the spot: when memory runs out the buffer
 * remembers it ("failed") and ignores every later addition, so that a
 * function can add twenty header lines and check once at the end, as one
 * checks ferror() after a series of fprintf() calls.
 *
 *	struct strbuf b;
 *	strbuf_init(&b);
 *	strbuf_printf(&b, "Subject: %s\r\n", subject);
 *	strbuf_add(&b, body, len);
 *	if (strbuf_failed(&b)) ... out of memory ...
 *	strbuf_free(&b);
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;  /* len bytes, then a NUL (when data is not NULL) */
	size_t len;  /* bytes in use, without the NUL */
	size_t cap;  /* bytes allocated */
	bool failed; /* an allocation failed: the content is incomplete */
};

/* Makes b empty (nothing allocated yet). */
void strbuf_init(struct strbuf *b);

/* Releases b's memory and makes it empty again. */
void strbuf_free(struct strbuf *b);

/* Appends n bytes (which may hold NULs). */
void strbuf_add(struct strbuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
void strbuf_addstr(struct strbuf *b, const char *s);

/* Appends printf-style text. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Tells whether an addition failed for lack of memory. */
bool strbuf_failed(const struct strbuf *b);

/* Appends everything readable from fd, at most max bytes; returns 0, or -1
 * with errno set (EFBIG when there is more than max, ENOMEM). */
int strbuf_read_fd(struct strbuf *b, int fd, size_t max);

#endif
