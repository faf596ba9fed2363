/*
 * sl_line - a buffered line reader over a file descriptor.
 *
 * TCP delivers a stream of bytes, not messages: one read() may return half a
 * line or three lines at once. A struct sl_reader keeps the bytes that were
 * read but not yet used, so each call hands out exactly one line.
 *
 * The reader is owned by the caller (usually on the stack, one per
 * connection), holds its own buffer, and keeps no state anywhere else.
 * Lines are binary-safe: they may contain NUL bytes, so use the returned
 * length, not strlen(). Raw bytes (an HTTP body after its headers) are read
 * through the same buffer with sl_reader_read() and sl_reader_read_exact(),
 * so nothing that was already buffered is lost.
 *
 *	struct sl_reader rd;
 *	char line[MAX_LINE + 1];
 *	size_t len;
 *
 *	sl_reader_init(&rd, fd);
 *	while (sl_reader_line(&rd, line, sizeof line, &len, 0) == SL_LINE_OK)
 *		handle(line, len);
 */
#ifndef SL_LINE_H
#define SL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sl_io.h"

/* Bytes a reader buffers; a line may be longer than this. */
#define SL_READER_BUFSIZE 8192

/* Flag for sl_reader_line(): also remove a '\r' just before the '\n'. */
#define SL_LINE_STRIP_CR 0x1u

struct sl_reader {
	int fd;	      /* where the bytes come from */
	size_t start; /* first buffered byte not handed out yet */
	size_t end;   /* one past the last buffered byte */
	bool eof;     /* read() returned 0: never read this fd again */
	char buf[SL_READER_BUFSIZE];
};

/* What sl_reader_line() and sl_reader_skip_line() found. */
enum sl_line_status {
	SL_LINE_ERROR = -1,	  /* a read failed; errno says why */
	SL_LINE_OK = 0,		  /* a line that ended with '\n' */
	SL_LINE_EOF = 1,	  /* end of stream with nothing pending */
	SL_LINE_UNTERMINATED = 2, /* end of stream after a last piece with no
				     '\n': the piece is returned as the line */
	SL_LINE_TOO_LONG = 3,	  /* more than size - 1 bytes before '\n' */
};

/* Binds r to fd with an empty buffer. */
void sl_reader_init(struct sl_reader *r, int fd);

/*
 * Reads one line into line[0..size-1]: at most size - 1 bytes, without the
 * '\n' (and without a '\r' before it when flags has SL_LINE_STRIP_CR), then
 * a terminating NUL. *len receives the line's length (0 unless SL_LINE_OK
 * or SL_LINE_UNTERMINATED). On SL_LINE_TOO_LONG the line buffer is emptied
 * and the rest of the line stays in the stream: call sl_reader_skip_line()
 * to drop it, or close the connection. After SL_LINE_ERROR the bytes of the
 * partial line are lost.
 */
enum sl_line_status sl_reader_line(struct sl_reader *r, char *line, size_t size,
				   size_t *len, unsigned flags);

/* Discards bytes up to and including the next '\n': SL_LINE_OK, or
 * SL_LINE_EOF if the stream ended first, or SL_LINE_ERROR. */
enum sl_line_status sl_reader_skip_line(struct sl_reader *r);

/* Reads at most len raw bytes, buffered ones first; returns the count, 0 at
 * end of stream, or -1 with errno set. */
ssize_t sl_reader_read(struct sl_reader *r, void *buf, size_t len);

/* Reads exactly len raw bytes, buffered ones first; *got (if not NULL)
 * receives how many arrived. */
enum sl_read_status sl_reader_read_exact(struct sl_reader *r, void *buf,
					 size_t len, size_t *got);

/* Returns how many bytes are buffered: they will be handed out without a
 * read(), so poll() on the fd would not see them. */
size_t sl_reader_buffered(const struct sl_reader *r);

#endif
