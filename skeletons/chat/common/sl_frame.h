/*
 * sl_frame - length-prefixed messages over a stream socket.
 *
 * TCP keeps no message boundaries, so each message (a "frame") travels as a
 * 4-byte big-endian payload length followed by the payload:
 *
 *	00 00 00 05 'h' 'e' 'l' 'l' 'o'
 *
 * The receiver reads the 4 bytes, checks the length against its own
 * maximum (never trust a length from the network), then reads exactly that
 * many bytes.
 */
#ifndef SL_FRAME_H
#define SL_FRAME_H

#include <stddef.h>

/* Size of the length prefix in bytes. */
#define SL_FRAME_HEADER 4

/* What sl_frame_recv() found. */
enum sl_frame_status {
	SL_FRAME_ERROR = -1,	/* a read failed; errno says why */
	SL_FRAME_OK = 0,	/* a whole frame */
	SL_FRAME_EOF = 1,	/* the stream ended cleanly between frames */
	SL_FRAME_TRUNCATED = 2, /* the stream ended inside a frame */
	SL_FRAME_TOO_LARGE = 3, /* the announced length is over the maximum */
};

/* Sends one frame of len payload bytes on a socket, header and payload in
 * one go, without SIGPIPE; returns 0, or -1 with errno set (EMSGSIZE when
 * len is over max). */
int sl_frame_send(int fd, const void *payload, size_t len, size_t max);

/*
 * Receives one frame whose payload may be at most max bytes into buf
 * (which holds max bytes); *len receives the payload length. On
 * SL_FRAME_TOO_LARGE, *len is the announced length and the payload is left
 * unread: the stream is out of step, so the caller usually closes it.
 */
enum sl_frame_status sl_frame_recv(int fd, void *buf, size_t max, size_t *len);

#endif
