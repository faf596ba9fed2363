/*
 * test_line - sl_line: the buffered line reader, its limits, CRLF, NUL
 * bytes, unterminated last lines, and raw reads through the same buffer.
 */
#define _DEFAULT_SOURCE

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_line.h"
#include "sl_tests.h"
#include "testutil.h"

/* One test's stream: a feeder thread writing text, a reader on it. */
struct stream {
	struct feeder feeder;
	struct sl_reader rd;
};

/* Starts feeding len bytes of text in chunks; false if that failed. */
static bool open_stream(struct stream *s, const char *text, size_t len,
			size_t chunk, bool lockstep)
{
	int fd = feeder_start(&s->feeder, text, len, chunk, lockstep);

	if (fd < 0)
		return false;
	sl_reader_init(&s->rd, fd);
	return true;
}

/* The same with the whole text in one write. */
static bool open_text(struct stream *s, const char *text, size_t len)
{
	return open_stream(s, text, len, len, false);
}

static void close_stream(struct stream *s)
{
	CU_ASSERT_EQUAL(feeder_finish(&s->feeder), 0);
}

/* Asserts that the next line is want (wlen bytes) with status st. */
#define EXPECT_LINE(s, size, flags, st, want, wlen)                           \
	do {                                                                  \
		char line_[(size)];                                           \
		size_t len_ = 12345;                                          \
		CU_ASSERT_EQUAL(sl_reader_line(&(s)->rd, line_, sizeof line_, \
					       &len_, (flags)),               \
				(st));                                        \
		CU_ASSERT_EQUAL(len_, (wlen));                                \
		if (len_ == (wlen) && (wlen) < sizeof line_) {                \
			CU_ASSERT(memcmp(line_, (want), (wlen)) == 0);        \
			CU_ASSERT_EQUAL(line_[(wlen)], '\0');                 \
		}                                                             \
	} while (0)

static void test_lines_and_eof(void)
{
	static const char text[] = "one\ntwo\n\n";
	struct stream s;

	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "one", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "two", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "", 0);
	EXPECT_LINE(&s, 16, 0, SL_LINE_EOF, "", 0);
	EXPECT_LINE(&s, 16, 0, SL_LINE_EOF, "", 0); /* end is final */
	close_stream(&s);

	CU_ASSERT_FATAL(open_text(&s, "", 0));
	EXPECT_LINE(&s, 16, 0, SL_LINE_EOF, "", 0);
	close_stream(&s);
}

static void test_unterminated_last_line(void)
{
	static const char text[] = "one\ntwo";
	struct stream s;

	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "one", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_UNTERMINATED, "two", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_EOF, "", 0);
	close_stream(&s);
}

static void test_crlf(void)
{
	static const char text[] = "a\r\nb\rc\r\n\r\r\n\r\nlast\r";
	struct stream s;

	/* With SL_LINE_STRIP_CR only the '\r' right before '\n' goes. */
	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "a", 1);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "b\rc", 3);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "\r", 1);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "", 0);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_UNTERMINATED, "last\r",
		    5);
	close_stream(&s);

	/* Without the flag the '\r' is data. */
	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "a\r", 2);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "b\rc\r", 4);
	close_stream(&s);
}

static void test_nul_bytes(void)
{
	static const char text[] = "a\0b\n\0\n\xff\xc3\xa9\n";
	struct stream s;

	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "a\0b", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "\0", 1);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "\xff\xc3\xa9", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_EOF, "", 0);
	close_stream(&s);
}

static void test_limit(void)
{
	static const char text[] = "0123456789\n"  /* exactly 10: fits */
				   "0123456789A\n" /* 11: too long */
				   "next\n"
				   "0123456789\r\n"  /* 10 + CR: fits */
				   "0123456789A\r\n" /* 11 + CR: too long */
				   "0123456789A\n"   /* 11, no CR: too long */
				   "after\n";
	struct stream s;

	/* size 11: lines of at most 10 bytes. */
	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 11, 0, SL_LINE_OK, "0123456789", 10);
	EXPECT_LINE(&s, 11, 0, SL_LINE_TOO_LONG, "", 0);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&s.rd), SL_LINE_OK);
	EXPECT_LINE(&s, 11, 0, SL_LINE_OK, "next", 4);
	EXPECT_LINE(&s, 11, SL_LINE_STRIP_CR, SL_LINE_OK, "0123456789", 10);
	EXPECT_LINE(&s, 11, SL_LINE_STRIP_CR, SL_LINE_TOO_LONG, "", 0);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&s.rd), SL_LINE_OK);
	/* 11 bytes fill the room kept for a '\r': still too long, and the
	 * skip must drop this line only. */
	EXPECT_LINE(&s, 11, SL_LINE_STRIP_CR, SL_LINE_TOO_LONG, "", 0);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&s.rd), SL_LINE_OK);
	EXPECT_LINE(&s, 11, SL_LINE_STRIP_CR, SL_LINE_OK, "after", 5);
	EXPECT_LINE(&s, 11, 0, SL_LINE_EOF, "", 0);
	close_stream(&s);
}

static void test_limit_at_eof(void)
{
	struct stream s;

	/* An unterminated last piece over the limit. */
	CU_ASSERT_FATAL(open_text(&s, "0123456789AB", 12));
	EXPECT_LINE(&s, 11, 0, SL_LINE_TOO_LONG, "", 0);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&s.rd), SL_LINE_EOF);
	close_stream(&s);

	/* 10 bytes and a '\r' with no '\n': the '\r' is data, 11 bytes. */
	CU_ASSERT_FATAL(open_text(&s, "0123456789\r", 11));
	EXPECT_LINE(&s, 11, SL_LINE_STRIP_CR, SL_LINE_TOO_LONG, "", 0);
	close_stream(&s);

	/* An unterminated piece exactly at the limit fits. */
	CU_ASSERT_FATAL(open_text(&s, "0123456789", 10));
	EXPECT_LINE(&s, 11, 0, SL_LINE_UNTERMINATED, "0123456789", 10);
	close_stream(&s);
}

static void test_tiny_buffers(void)
{
	struct stream s;
	char line[4];
	size_t len;

	/* size 1: only empty lines fit. */
	CU_ASSERT_FATAL(open_text(&s, "\na\n", 3));
	EXPECT_LINE(&s, 1, 0, SL_LINE_OK, "", 0);
	EXPECT_LINE(&s, 1, 0, SL_LINE_TOO_LONG, "", 0);
	close_stream(&s);

	/* size 0 is a caller error. */
	CU_ASSERT_FATAL(open_text(&s, "x\n", 2));
	errno = 0;
	CU_ASSERT_EQUAL(sl_reader_line(&s.rd, line, 0, &len, 0), SL_LINE_ERROR);
	CU_ASSERT_EQUAL(errno, EINVAL);
	close_stream(&s);
}

static void test_lines_longer_than_buffer(void)
{
	const size_t max = 65536; /* eight times SL_READER_BUFSIZE */
	size_t len = 3 * max + 3;
	char *text = malloc(len), *line = malloc(max + 1);
	size_t n;
	struct stream s;

	CU_ASSERT_FATAL(text != NULL && line != NULL);
	memset(text, 'x', max); /* max bytes: fits */
	text[max] = '\n';
	memset(text + max + 1, 'y', max + 1); /* max + 1: too long */
	text[2 * max + 2] = '\n';
	memset(text + 2 * max + 3, 'z', max); /* unterminated, fits */

	CU_ASSERT_FATAL(open_stream(&s, text, len, 4096, false));
	CU_ASSERT_EQUAL(sl_reader_line(&s.rd, line, max + 1, &n, 0),
			SL_LINE_OK);
	CU_ASSERT_EQUAL(n, max);
	CU_ASSERT(memcmp(line, text, max) == 0);
	CU_ASSERT_EQUAL(sl_reader_line(&s.rd, line, max + 1, &n, 0),
			SL_LINE_TOO_LONG);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&s.rd), SL_LINE_OK);
	CU_ASSERT_EQUAL(sl_reader_line(&s.rd, line, max + 1, &n, 0),
			SL_LINE_UNTERMINATED);
	CU_ASSERT_EQUAL(n, max);
	CU_ASSERT(memcmp(line, text + 2 * max + 3, max) == 0);
	close_stream(&s);
	free(text);
	free(line);
}

static void test_byte_by_byte(void)
{
	static const char text[] = "hello\r\nworld\nend";
	struct stream s;

	/* Lockstep, one byte per write: every read() returns one byte. */
	CU_ASSERT_FATAL(open_stream(&s, text, sizeof text - 1, 1, true));
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "hello", 5);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "world", 5);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_UNTERMINATED, "end", 3);
	close_stream(&s);
}

static void test_raw_reads_after_lines(void)
{
	static const char text[] = "HEAD\r\n\r\nBODY-0123456789";
	struct stream s;
	char body[32];
	size_t got = 99;

	/* Like HTTP: header lines, an empty line, then a counted body. */
	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "HEAD", 4);
	EXPECT_LINE(&s, 16, SL_LINE_STRIP_CR, SL_LINE_OK, "", 0);
	CU_ASSERT_EQUAL(sl_reader_buffered(&s.rd), 15);
	CU_ASSERT_EQUAL(sl_reader_read_exact(&s.rd, body, 5, &got), SL_READ_OK);
	CU_ASSERT_EQUAL(got, 5);
	CU_ASSERT(memcmp(body, "BODY-", 5) == 0);
	CU_ASSERT_EQUAL(sl_reader_read(&s.rd, body, 4), 4);
	CU_ASSERT(memcmp(body, "0123", 4) == 0);
	CU_ASSERT_EQUAL(sl_reader_read_exact(&s.rd, body, 20, &got),
			SL_READ_TRUNCATED);
	CU_ASSERT_EQUAL(got, 6);
	CU_ASSERT(memcmp(body, "456789", 6) == 0);
	CU_ASSERT_EQUAL(sl_reader_read_exact(&s.rd, body, 1, &got),
			SL_READ_EOF);
	CU_ASSERT_EQUAL(sl_reader_read(&s.rd, body, sizeof body), 0);
	close_stream(&s);
}

static void test_raw_read_then_line(void)
{
	static const char text[] = "abcdef\nrest\n";
	struct stream s;
	char buf[3];

	/* Raw bytes first, then lines from the same buffer. */
	CU_ASSERT_FATAL(open_text(&s, text, sizeof text - 1));
	CU_ASSERT_EQUAL(sl_reader_read(&s.rd, buf, sizeof buf), 3);
	CU_ASSERT(memcmp(buf, "abc", 3) == 0);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "def", 3);
	EXPECT_LINE(&s, 16, 0, SL_LINE_OK, "rest", 4);
	CU_ASSERT_EQUAL(sl_reader_read(&s.rd, buf, 0), 0);
	close_stream(&s);
}

static void test_eof_is_final(void)
{
	FILE *f = tmpfile();
	struct sl_reader rd;
	char line[8];
	size_t len;
	int fd;

	/* A file that grows after its end was seen, like a terminal where
	 * the user typed ^D and goes on typing: the end stays the end. */
	CU_ASSERT_FATAL(f != NULL);
	fd = fileno(f);
	CU_ASSERT_FATAL(pwrite(fd, "a\n", 2, 0) == 2);
	sl_reader_init(&rd, fd);
	CU_ASSERT_EQUAL(sl_reader_line(&rd, line, sizeof line, &len, 0),
			SL_LINE_OK);
	CU_ASSERT_EQUAL(sl_reader_line(&rd, line, sizeof line, &len, 0),
			SL_LINE_EOF);
	CU_ASSERT_FATAL(pwrite(fd, "b\n", 2, 2) == 2);
	CU_ASSERT_EQUAL(sl_reader_line(&rd, line, sizeof line, &len, 0),
			SL_LINE_EOF);
	fclose(f);
}

static void test_read_errors(void)
{
	struct sl_reader rd;
	char buf[8];
	size_t len = 99;

	sl_reader_init(&rd, -1);
	errno = 0;
	CU_ASSERT_EQUAL(sl_reader_line(&rd, buf, sizeof buf, &len, 0),
			SL_LINE_ERROR);
	CU_ASSERT_EQUAL(errno, EBADF);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(sl_reader_skip_line(&rd), SL_LINE_ERROR);
	CU_ASSERT_EQUAL(sl_reader_read(&rd, buf, sizeof buf), -1);
	CU_ASSERT_EQUAL(sl_reader_read_exact(&rd, buf, sizeof buf, NULL),
			SL_READ_ERROR);
}

int add_line_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_line", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "lines, empty lines, end of stream",
			 test_lines_and_eof) ||
	    !CU_add_test(s, "unterminated last line",
			 test_unterminated_last_line) ||
	    !CU_add_test(s, "CRLF with and without SL_LINE_STRIP_CR",
			 test_crlf) ||
	    !CU_add_test(s, "NUL and non-ASCII bytes inside lines",
			 test_nul_bytes) ||
	    !CU_add_test(s, "lines at and one over the limit, skip",
			 test_limit) ||
	    !CU_add_test(s, "over the limit at end of stream",
			 test_limit_at_eof) ||
	    !CU_add_test(s, "line buffers of size 1 and 0",
			 test_tiny_buffers) ||
	    !CU_add_test(s, "64 KiB lines, longer than the reader buffer",
			 test_lines_longer_than_buffer) ||
	    !CU_add_test(s, "one byte per read()", test_byte_by_byte) ||
	    !CU_add_test(s, "raw reads after lines (HTTP body)",
			 test_raw_reads_after_lines) ||
	    !CU_add_test(s, "raw read, then lines", test_raw_read_then_line) ||
	    !CU_add_test(s, "end of stream is final", test_eof_is_final) ||
	    !CU_add_test(s, "read errors", test_read_errors))
		return -1;
	return 0;
}
