/*
 * sl_frame - length-prefixed messages over a stream socket (sl_frame.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_frame.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sl_io.h"

/* Writes n as 4 big-endian bytes, whatever the byte order of this CPU. */
static void put_be32(unsigned char *p, uint32_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

/* Reads 4 big-endian bytes as a number. */
static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Sends every byte of the iov array with sendmsg(), resuming after short
 * sends and EINTR; returns 0, or -1 with errno set. */
static int send_iov_all(int fd, struct iovec *iov, size_t count)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = count};

	while (msg.msg_iovlen > 0) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* Step over the buffers sent in full, then into the next. */
		left = (size_t)n;
		while (msg.msg_iovlen > 0 && left >= msg.msg_iov->iov_len) {
			left -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base =
				(char *)msg.msg_iov->iov_base + left;
			msg.msg_iov->iov_len -= left;
		}
	}
	return 0;
}

int sl_frame_send(int fd, const void *payload, size_t len, size_t max)
{
	unsigned char header[SL_FRAME_HEADER];
	struct iovec iov[2];

	if (len > max || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	put_be32(header, (uint32_t)len);
	iov[0].iov_base = header;
	iov[0].iov_len = sizeof header;
	iov[1].iov_base = (void *)payload; /* sendmsg only reads it */
	iov[1].iov_len = len;
	/* One sendmsg() for both: two small writes could wait on Nagle. */
	return send_iov_all(fd, iov, 2);
}

enum sl_frame_status sl_frame_recv(int fd, void *buf, size_t max, size_t *len)
{
	unsigned char header[SL_FRAME_HEADER];
	uint32_t announced;

	*len = 0;
	switch (sl_read_exact(fd, header, sizeof header, NULL)) {
	case SL_READ_OK:
		break;
	case SL_READ_EOF:
		return SL_FRAME_EOF;
	case SL_READ_TRUNCATED:
		return SL_FRAME_TRUNCATED;
	case SL_READ_ERROR:
		return SL_FRAME_ERROR;
	}
	announced = get_be32(header);
	*len = announced;
	if (announced > max)
		return SL_FRAME_TOO_LARGE;

	switch (sl_read_exact(fd, buf, announced, NULL)) {
	case SL_READ_OK:
		return SL_FRAME_OK;
	case SL_READ_EOF: /* after the header, any end is inside the frame */
	case SL_READ_TRUNCATED:
		return SL_FRAME_TRUNCATED;
	case SL_READ_ERROR:
		break;
	}
	return SL_FRAME_ERROR;
}
