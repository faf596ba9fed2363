/*
 * test_io - sl_io: whole reads and writes through short transfers, EINTR,
 * end of stream and SIGPIPE.
 */
#define _DEFAULT_SOURCE

#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_io.h"
#include "sl_tests.h"
#include "testutil.h"

/* Big enough to block many times on a 4 KiB send buffer. */
#define BIG (4u << 20)

static void test_read_some(void)
{
	int sv[2];
	char buf[16];

	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(write(sv[1], "abc", 3) == 3);
	CU_ASSERT_EQUAL(sl_read_some(sv[0], buf, sizeof buf), 3);
	CU_ASSERT(memcmp(buf, "abc", 3) == 0);
	CU_ASSERT(shutdown(sv[1], SHUT_WR) == 0);
	CU_ASSERT_EQUAL(sl_read_some(sv[0], buf, sizeof buf), 0);
	close(sv[0]);
	close(sv[1]);

	errno = 0;
	CU_ASSERT_EQUAL(sl_read_some(-1, buf, sizeof buf), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
}

static void test_read_exact_short_reads(void)
{
	const size_t len = 100000;
	char *data = pattern(len), *got = malloc(len);
	struct feeder f;
	size_t n = 0;
	int fd;

	CU_ASSERT_FATAL(data != NULL && got != NULL);
	/* Lockstep chunks of 997 bytes: every read() returns <= 997. */
	fd = feeder_start(&f, data, len, 997, true);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(sl_read_exact(fd, got, len, &n), SL_READ_OK);
	CU_ASSERT_EQUAL(n, len);
	CU_ASSERT(memcmp(got, data, len) == 0);
	CU_ASSERT_EQUAL(sl_read_exact(fd, got, 1, &n), SL_READ_EOF);
	CU_ASSERT_EQUAL(feeder_finish(&f), 0);
	free(data);
	free(got);
}

static void test_read_exact_eof(void)
{
	int sv[2];
	char buf[20];
	size_t n = 99;

	/* End of stream before the first byte. */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(shutdown(sv[1], SHUT_WR) == 0);
	CU_ASSERT_EQUAL(sl_read_exact(sv[0], buf, sizeof buf, &n), SL_READ_EOF);
	CU_ASSERT_EQUAL(n, 0);
	close(sv[0]);
	close(sv[1]);

	/* End of stream inside the object: 10 of 20 bytes. */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(write(sv[1], "0123456789", 10) == 10);
	CU_ASSERT(shutdown(sv[1], SHUT_WR) == 0);
	CU_ASSERT_EQUAL(sl_read_exact(sv[0], buf, sizeof buf, &n),
			SL_READ_TRUNCATED);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT(memcmp(buf, "0123456789", 10) == 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_exact_zero_and_error(void)
{
	char buf[4];
	size_t n = 99;

	CU_ASSERT_EQUAL(sl_read_exact(-1, buf, 0, &n), SL_READ_OK);
	CU_ASSERT_EQUAL(n, 0);
	errno = 0;
	CU_ASSERT_EQUAL(sl_read_exact(-1, buf, sizeof buf, NULL),
			SL_READ_ERROR);
	CU_ASSERT_EQUAL(errno, EBADF);
}

/* A writer that waits for a few signals to hit the blocked reader. */
struct late_writer {
	int fd;
	unsigned after; /* signals to wait for before writing */
	const char *data;
	size_t len;
	int error;
};

static void *write_late(void *arg)
{
	struct late_writer *w = arg;

	if (!interrupter_wait(w->after))
		w->error = ETIMEDOUT;
	else if (sl_write_all(w->fd, w->data, w->len) < 0)
		w->error = errno;
	return NULL;
}

static void test_read_eintr(void)
{
	char buf[100], *data = pattern(sizeof buf);
	struct late_writer w = {.after = 0, .data = data, .len = sizeof buf};
	pthread_t t;
	int sv[2];
	ssize_t raw;

	CU_ASSERT_FATAL(data != NULL);
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT_FATAL(interrupter_start(2000) == 0);

	/* Control: this set-up does interrupt a plain read(). */
	raw = read(sv[0], buf, sizeof buf);
	CU_ASSERT_EQUAL(raw, -1);
	CU_ASSERT_EQUAL(errno, EINTR);

	/* sl_read_exact retries until the data arrives, 3 signals later. */
	w.fd = sv[1];
	w.after = interrupter_count() + 3;
	CU_ASSERT_FATAL(start_thread(&t, write_late, &w) == 0);
	CU_ASSERT_EQUAL(sl_read_exact(sv[0], buf, sizeof buf, NULL),
			SL_READ_OK);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.error, 0);
	CU_ASSERT(memcmp(buf, data, sizeof buf) == 0);

	/* Same for sl_read_some. */
	w.after = interrupter_count() + 3;
	CU_ASSERT_FATAL(start_thread(&t, write_late, &w) == 0);
	CU_ASSERT(sl_read_some(sv[0], buf, sizeof buf) > 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.error, 0);

	interrupter_stop();
	close(sv[0]);
	close(sv[1]);
	free(data);
}

/* A reader that starts draining only after a few signals, then checks
 * every byte against the pattern. */
struct late_reader {
	int fd;
	unsigned after;
	const char *expect;
	size_t len;
	size_t got;
	int error;
	bool mismatch;
};

static void *read_late(void *arg)
{
	struct late_reader *r = arg;
	char buf[4096];
	ssize_t n;

	if (!interrupter_wait(r->after)) {
		r->error = ETIMEDOUT;
		return NULL;
	}
	while ((n = sl_read_some(r->fd, buf, sizeof buf)) > 0) {
		if (r->got + (size_t)n > r->len ||
		    memcmp(buf, r->expect + r->got, (size_t)n) != 0)
			r->mismatch = true;
		r->got += (size_t)n;
	}
	if (n < 0)
		r->error = errno;
	return NULL;
}

static void test_write_all_short_writes_and_eintr(void)
{
	char *data = pattern(BIG);
	struct late_reader r = {.expect = data, .len = BIG};
	pthread_t t;
	int sv[2];
	ssize_t raw;

	CU_ASSERT_FATAL(data != NULL);
	CU_ASSERT_FATAL(interrupter_start(2000) == 0);

	/* Control: a plain write() into a full, small buffer is cut short
	 * by the signal (a partial count, or EINTR). */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(shrink_sndbuf(sv[1]) == 0);
	raw = write(sv[1], data, BIG);
	CU_ASSERT(raw < (ssize_t)BIG);
	close(sv[0]);
	close(sv[1]);

	/* sl_write_all goes on after short writes and EINTR. */
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(shrink_sndbuf(sv[1]) == 0);
	r.fd = sv[0];
	r.after = interrupter_count() + 3;
	CU_ASSERT_FATAL(start_thread(&t, read_late, &r) == 0);
	CU_ASSERT_EQUAL(sl_write_all(sv[1], data, BIG), 0);
	close(sv[1]);
	pthread_join(t, NULL);
	interrupter_stop();
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_FALSE(r.mismatch);
	CU_ASSERT_EQUAL(r.got, BIG);
	close(sv[0]);
	free(data);
}

static void test_write_all_file_and_error(void)
{
	FILE *f = tmpfile();
	char *text;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(sl_write_all(fileno(f), "hello\n", 6), 0);
	CU_ASSERT_EQUAL(sl_write_all(fileno(f), "", 0), 0);
	text = slurp(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "hello\n");
	free(text);
	fclose(f);

	errno = 0;
	CU_ASSERT_EQUAL(sl_write_all(-1, "x", 1), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
}

static void test_send_all(void)
{
	char *data = pattern(BIG);
	struct late_reader r = {.expect = data, .len = BIG};
	pthread_t t;
	int sv[2];

	CU_ASSERT_FATAL(data != NULL);
	/* Through short sends and EINTR, like sl_write_all. */
	CU_ASSERT_FATAL(interrupter_start(2000) == 0);
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	CU_ASSERT(shrink_sndbuf(sv[1]) == 0);
	r.fd = sv[0];
	r.after = interrupter_count() + 3;
	CU_ASSERT_FATAL(start_thread(&t, read_late, &r) == 0);
	CU_ASSERT_EQUAL(sl_send_all(sv[1], data, BIG), 0);
	close(sv[1]);
	pthread_join(t, NULL);
	interrupter_stop();
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_FALSE(r.mismatch);
	CU_ASSERT_EQUAL(r.got, BIG);
	close(sv[0]);
	free(data);
}

static void test_send_all_no_sigpipe(void)
{
	int sv[2];
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);

	/* With SIGPIPE at its default action, a send() without
	 * MSG_NOSIGNAL would kill the whole test program here. */
	CU_ASSERT_FATAL(old != SIG_ERR);
	CU_ASSERT_FATAL(stream_pair(sv) == 0);
	close(sv[0]);
	errno = 0;
	CU_ASSERT_EQUAL(sl_send_all(sv[1], "x", 1), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	close(sv[1]);
	(void)signal(SIGPIPE, old);

	errno = 0;
	CU_ASSERT_EQUAL(sl_send_all(-1, "x", 1), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
}

int add_io_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_io", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "read_some: data, end of stream, bad fd",
			 test_read_some) ||
	    !CU_add_test(s, "read_exact: through short reads",
			 test_read_exact_short_reads) ||
	    !CU_add_test(s, "read_exact: EOF before and inside the object",
			 test_read_exact_eof) ||
	    !CU_add_test(s, "read_exact: zero bytes, bad fd",
			 test_read_exact_zero_and_error) ||
	    !CU_add_test(s, "read_exact/read_some: EINTR retried",
			 test_read_eintr) ||
	    !CU_add_test(s, "write_all: short writes and EINTR",
			 test_write_all_short_writes_and_eintr) ||
	    !CU_add_test(s, "write_all: file, zero bytes, bad fd",
			 test_write_all_file_and_error) ||
	    !CU_add_test(s, "send_all: short sends and EINTR", test_send_all) ||
	    !CU_add_test(s, "send_all: EPIPE instead of SIGPIPE",
			 test_send_all_no_sigpipe))
		return -1;
	return 0;
}
