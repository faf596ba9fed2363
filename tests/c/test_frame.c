/*
 * test_frame - sl_frame: length-prefixed frames, their limits and the
 * three ways a stream can end.
 */
#define _DEFAULT_SOURCE

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_frame.h"
#include "sl_io.h"
#include "sl_tests.h"
#include "testutil.h"

static void test_wire_format(void)
{
	static const unsigned char want[] = {0,	  0,   0,   5,	'h',
					     'e', 'l', 'l', 'o'};
	unsigned char buf[sizeof want];
	int sv[2];

	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "hello", 5, 100), 0);
	CU_ASSERT_EQUAL(sl_read_exact(sv[0], buf, sizeof buf, NULL),
			SL_READ_OK);
	CU_ASSERT(memcmp(buf, want, sizeof want) == 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_round_trip_and_eof(void)
{
	char buf[16];
	size_t len = 99;
	int sv[2];

	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "one", 3, 16), 0);
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "", 0, 16), 0);
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "0123456789abcdef", 16, 16), 0);
	CU_ASSERT(shutdown(sv[1], SHUT_WR) == 0);

	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len), SL_FRAME_OK);
	CU_ASSERT(len == 3 && memcmp(buf, "one", 3) == 0);
	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len), SL_FRAME_OK);
	CU_ASSERT_EQUAL(len, 0);
	/* Exactly at the maximum. */
	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len), SL_FRAME_OK);
	CU_ASSERT(len == 16 && memcmp(buf, "0123456789abcdef", 16) == 0);
	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len), SL_FRAME_EOF);
	CU_ASSERT_EQUAL(len, 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_too_large(void)
{
	static const unsigned char header[] = {1, 2, 3, 4};
	char buf[16];
	size_t len;
	int sv[2];

	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	/* The sender refuses, and writes nothing. */
	errno = 0;
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "0123456789abcdefg", 17, 16), -1);
	CU_ASSERT_EQUAL(errno, EMSGSIZE);
	CU_ASSERT_EQUAL(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);

	/* One over the receiver's maximum, announced by a peer. */
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "0123456789abcdefg", 17, 17), 0);
	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len),
			SL_FRAME_TOO_LARGE);
	CU_ASSERT_EQUAL(len, 17);
	close(sv[0]);
	close(sv[1]);

	/* The length is read big-endian. */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT_EQUAL(write(sv[1], header, sizeof header), 4);
	CU_ASSERT_EQUAL(sl_frame_recv(sv[0], buf, 16, &len),
			SL_FRAME_TOO_LARGE);
	CU_ASSERT_EQUAL(len, 0x01020304);
	close(sv[0]);
	close(sv[1]);
}

/* Writes raw bytes, closes the writing side, and receives one frame. */
static enum sl_frame_status recv_after(const void *raw, size_t rawlen)
{
	enum sl_frame_status st = SL_FRAME_ERROR;
	char buf[16];
	size_t len;
	int sv[2];

	if (stream_pair(sv) < 0)
		return SL_FRAME_ERROR;
	if (sl_write_all(sv[1], raw, rawlen) == 0 &&
	    shutdown(sv[1], SHUT_WR) == 0)
		st = sl_frame_recv(sv[0], buf, sizeof buf, &len);
	close(sv[0]);
	close(sv[1]);
	return st;
}

static void test_eof_inside_frame(void)
{
	static const unsigned char half_header[] = {0, 0};
	static const unsigned char header_only[] = {0, 0, 0, 10};
	static const unsigned char part[] = {0, 0, 0, 10, 'a', 'b', 'c'};

	CU_ASSERT_EQUAL(recv_after(half_header, sizeof half_header),
			SL_FRAME_TRUNCATED);
	CU_ASSERT_EQUAL(recv_after(header_only, sizeof header_only),
			SL_FRAME_TRUNCATED);
	CU_ASSERT_EQUAL(recv_after(part, sizeof part), SL_FRAME_TRUNCATED);
	CU_ASSERT_EQUAL(recv_after("", 0), SL_FRAME_EOF);
}

/* Receives one frame in a thread while the test sends it. */
struct frame_reader {
	int fd;
	char *buf;
	size_t max, len;
	enum sl_frame_status st;
};

static void *read_frame(void *arg)
{
	struct frame_reader *r = arg;

	r->st = sl_frame_recv(r->fd, r->buf, r->max, &r->len);
	return NULL;
}

static void test_big_frame(void)
{
	const size_t big = 1u << 20;
	char *data = pattern(big);
	struct frame_reader r = {.buf = malloc(big), .max = big};
	pthread_t t;
	int sv[2];

	/* 1 MiB through a 4 KiB send buffer: many short transfers. */
	CU_ASSERT_FATAL(data != NULL && r.buf != NULL);
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(shrink_sndbuf(sv[1]) == 0);
	r.fd = sv[0];
	CU_ASSERT_FATAL(start_thread(&t, read_frame, &r) == 0);
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], data, big, big), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(r.st, SL_FRAME_OK);
	CU_ASSERT_EQUAL(r.len, big);
	CU_ASSERT(memcmp(r.buf, data, big) == 0);
	close(sv[0]);
	close(sv[1]);
	free(data);
	free(r.buf);
}

static void test_errors(void)
{
	char buf[4];
	size_t len;
	int sv[2];

	errno = 0;
	CU_ASSERT_EQUAL(sl_frame_recv(-1, buf, sizeof buf, &len),
			SL_FRAME_ERROR);
	CU_ASSERT_EQUAL(errno, EBADF);
	errno = 0;
	CU_ASSERT_EQUAL(sl_frame_send(-1, "x", 1, 4), -1);
	CU_ASSERT_EQUAL(errno, EBADF);

	/* The peer is gone: EPIPE, and no SIGPIPE. */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	close(sv[0]);
	errno = 0;
	CU_ASSERT_EQUAL(sl_frame_send(sv[1], "x", 1, 4), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	close(sv[1]);
}

int add_frame_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_frame", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "wire format: big-endian length, payload",
			 test_wire_format) ||
	    !CU_add_test(s, "frames up to the maximum, then EOF",
			 test_round_trip_and_eof) ||
	    !CU_add_test(s, "frames over the maximum", test_too_large) ||
	    !CU_add_test(s, "EOF inside a frame", test_eof_inside_frame) ||
	    !CU_add_test(s, "1 MiB frame through short transfers",
			 test_big_frame) ||
	    !CU_add_test(s, "bad fd, peer gone", test_errors))
		return -1;
	return 0;
}
