/*
 * sl_io - move whole objects through file descriptors.
 *
 * read() and write() may move fewer bytes than asked: a socket hands over
 * what has arrived so far, a full send buffer takes what fits, and a signal
 * can interrupt a blocked call (EINTR). These helpers loop until the whole
 * object has moved, so callers never see those short transfers.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include <stddef.h>
#include <sys/types.h>

/* What sl_read_exact() (and sl_reader_read_exact()) found. */
enum sl_read_status {
	SL_READ_ERROR = -1,    /* a read failed; errno says why */
	SL_READ_OK = 0,	       /* every requested byte was read */
	SL_READ_EOF = 1,       /* the stream ended before the first byte */
	SL_READ_TRUNCATED = 2, /* the stream ended inside the object */
};

/* Reads at most len bytes in one read(), retrying EINTR; returns the count,
 * 0 at end of stream, or -1 with errno set. */
ssize_t sl_read_some(int fd, void *buf, size_t len);

/* Reads exactly len bytes; *got (if not NULL) receives how many arrived. */
enum sl_read_status sl_read_exact(int fd, void *buf, size_t len, size_t *got);

/* A source of bytes for sl_read_exact_from(): returns like sl_read_some(). */
typedef ssize_t (*sl_read_fn)(void *source, void *buf, size_t len);

/* Reads exactly len bytes from any source (a plain fd, a line reader's
 * buffer): the one loop behind sl_read_exact() and sl_reader_read_exact(). */
enum sl_read_status sl_read_exact_from(sl_read_fn read_some, void *source,
				       void *buf, size_t len, size_t *got);

/* Writes all len bytes with write(); returns 0, or -1 with errno set. */
int sl_write_all(int fd, const void *buf, size_t len);

/* Sends all len bytes on a socket with MSG_NOSIGNAL, so that a peer that has
 * gone away gives -1 with errno EPIPE instead of a fatal SIGPIPE. */
int sl_send_all(int fd, const void *buf, size_t len);

#endif
