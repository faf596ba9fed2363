/*
 * sl_line - a buffered line reader over a file descriptor (see sl_line.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_line.h"

#include <errno.h>
#include <string.h>

void sl_reader_init(struct sl_reader *r, int fd)
{
	r->fd = fd;
	r->start = 0;
	r->end = 0;
	r->eof = false;
}

size_t sl_reader_buffered(const struct sl_reader *r)
{
	return r->end - r->start;
}

/* Makes sure some bytes are buffered, reading only when none are; returns
 * how many are buffered, 0 at end of stream, or -1 with errno set. */
static ssize_t fill(struct sl_reader *r)
{
	ssize_t n;

	if (r->start < r->end)
		return (ssize_t)(r->end - r->start);
	if (r->eof)
		return 0; /* end of stream is final, even on a terminal */
	n = sl_read_some(r->fd, r->buf, sizeof r->buf);
	if (n < 0)
		return -1;
	r->start = 0;
	r->end = (size_t)n;
	r->eof = n == 0;
	return n;
}

/* Ends a line that had no '\n' because the stream ended. */
static enum sl_line_status finish_at_eof(char *line, size_t used, size_t max,
					 size_t *len)
{
	if (used == 0)
		return SL_LINE_EOF;
	if (used > max) { /* only possible with the extra room for a '\r' */
		line[0] = '\0';
		return SL_LINE_TOO_LONG;
	}
	line[used] = '\0';
	*len = used;
	return SL_LINE_UNTERMINATED;
}

enum sl_line_status sl_reader_line(struct sl_reader *r, char *line, size_t size,
				   size_t *len, unsigned flags)
{
	bool strip_cr = (flags & SL_LINE_STRIP_CR) != 0;
	size_t max, room, used = 0;

	*len = 0;
	if (size == 0) {
		errno = EINVAL;
		return SL_LINE_ERROR;
	}
	max = size - 1;
	/* A '\r' that will be stripped may borrow the slot of the final NUL. */
	room = strip_cr ? size : max;
	line[0] = '\0';

	for (;;) {
		ssize_t avail = fill(r);
		const char *p, *nl;
		size_t piece, content;

		if (avail < 0)
			return SL_LINE_ERROR;
		if (avail == 0)
			return finish_at_eof(line, used, max, len);

		p = r->buf + r->start;
		nl = memchr(p, '\n', (size_t)avail);
		piece = nl != NULL ? (size_t)(nl - p) : (size_t)avail;
		if (piece > room - used) {
			line[0] = '\0';
			return SL_LINE_TOO_LONG;
		}
		memcpy(line + used, p, piece);
		used += piece;
		if (nl == NULL) {
			r->start += piece;
			continue;
		}

		content = used;
		if (strip_cr && content > 0 && line[content - 1] == '\r')
			content--;
		if (content > max) {
			line[0] = '\0'; /* the '\n' stays for skip_line */
			return SL_LINE_TOO_LONG;
		}
		r->start += piece + 1; /* the line and its '\n' */
		line[content] = '\0';
		*len = content;
		return SL_LINE_OK;
	}
}

enum sl_line_status sl_reader_skip_line(struct sl_reader *r)
{
	for (;;) {
		ssize_t avail = fill(r);
		const char *p, *nl;

		if (avail < 0)
			return SL_LINE_ERROR;
		if (avail == 0)
			return SL_LINE_EOF;
		p = r->buf + r->start;
		nl = memchr(p, '\n', (size_t)avail);
		if (nl != NULL) {
			r->start += (size_t)(nl - p) + 1;
			return SL_LINE_OK;
		}
		r->start = r->end;
	}
}

ssize_t sl_reader_read(struct sl_reader *r, void *buf, size_t len)
{
	ssize_t avail;
	size_t n;

	if (len == 0)
		return 0;
	avail = fill(r);
	if (avail <= 0)
		return avail;
	n = (size_t)avail < len ? (size_t)avail : len;
	memcpy(buf, r->buf + r->start, n);
	r->start += n;
	return (ssize_t)n;
}

/* sl_reader_read() in the shape of an sl_read_fn. */
static ssize_t reader_read_some(void *source, void *buf, size_t len)
{
	return sl_reader_read(source, buf, len);
}

enum sl_read_status sl_reader_read_exact(struct sl_reader *r, void *buf,
					 size_t len, size_t *got)
{
	return sl_read_exact_from(reader_read_some, r, buf, len, got);
}
