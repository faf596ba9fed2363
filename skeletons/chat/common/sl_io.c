/*
 * sl_io - move whole objects through file descriptors (see sl_io.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_io.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t sl_read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

enum sl_read_status sl_read_exact_from(sl_read_fn read_some, void *source,
				       void *buf, size_t len, size_t *got)
{
	char *p = buf;
	size_t done = 0;
	enum sl_read_status status = SL_READ_OK;

	while (done < len) {
		ssize_t n = read_some(source, p + done, len - done);

		if (n < 0) {
			status = SL_READ_ERROR;
			break;
		}
		if (n == 0) {
			status = done == 0 ? SL_READ_EOF : SL_READ_TRUNCATED;
			break;
		}
		done += (size_t)n;
	}
	if (got != NULL)
		*got = done;
	return status;
}

/* sl_read_some() in the shape of an sl_read_fn: the source is an int fd. */
static ssize_t read_some_fd(void *source, void *buf, size_t len)
{
	return sl_read_some(*(const int *)source, buf, len);
}

enum sl_read_status sl_read_exact(int fd, void *buf, size_t len, size_t *got)
{
	return sl_read_exact_from(read_some_fd, &fd, buf, len, got);
}

/* Pushes all len bytes out with send() on a socket or write() otherwise. */
static int put_all(int fd, const char *p, size_t len, bool is_socket)
{
	while (len > 0) {
		ssize_t n = is_socket ? send(fd, p, len, MSG_NOSIGNAL)
				      : write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sl_write_all(int fd, const void *buf, size_t len)
{
	return put_all(fd, buf, len, false);
}

int sl_send_all(int fd, const void *buf, size_t len)
{
	return put_all(fd, buf, len, true);
}
