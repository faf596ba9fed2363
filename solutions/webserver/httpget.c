/*
 * httpget - fetches one resource over HTTP/1.1 and prints its body.
 *
 * Sends "GET PATH" to HOST:PORT, prints the status line and the headers
 * of the response on standard error and its body, byte for byte, on
 * standard output. The body is read by its Content-Length, as chunks
 * (Transfer-Encoding: chunked), or until the server closes; it may be
 * larger than any buffer and arrive in pieces of any size. The exit status
 * tells the class of the response's status (0 for 2xx, 4 for 4xx, ...).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

/* Longest line of a response head we accept, and longest head. */
#define LINE_MAX_BYTES 8192
#define HEAD_MAX_BYTES (64 * 1024)

/* Bytes of body copied at a time: any body size works with it. */
#define BODY_CHUNK (16 * 1024)

static const char usage[] =
	"Usage: httpget [-h] HOST PORT PATH\n"
	"\n"
	"Sends an HTTP/1.1 GET for PATH to HOST:PORT and prints the body of\n"
	"the response on standard output, byte for byte; its status line and\n"
	"headers go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  HOST        the server's name or address (localhost, 127.0.0.1, ::1)\n"
	"  PORT        its TCP port, 1-65535\n"
	"  PATH        what to fetch: starts with '/', no spaces (write %20)\n"
	"  -h, --help  print this help to standard output and exit\n"
	"\n"
	"Exit status:\n"
	"  0  a 2xx response (success), its whole body printed\n"
	"  1  no usable response: the connection failed, the response was\n"
	"     malformed, or its body was cut short\n"
	"  2  bad usage\n"
	"  3  a 3xx response (redirection)\n"
	"  4  a 4xx response (client error, e.g. 404 Not Found)\n"
	"  5  a 5xx response (server error)\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* What the response head says about the body. */
struct response {
	int status;		   /* 200, 404, ... */
	bool has_length;	   /* a Content-Length header came */
	unsigned long long length; /* its value */
	bool chunked;		   /* Transfer-Encoding: chunked */
};

/* Sends the GET request for path to the server at fd; where is
 * "HOST:PORT" (the Host header). Returns 0, or -1 after logging a
 * failure. */
static int send_request(int fd, const char *where, const char *path)
{
	char req[HTTP_TARGET_MAX + SL_HOSTPORTLEN + 256];
	int n;

	/* BLANK 3: Write into req the request line "GET <path> HTTP/1.1" and the headers Host (where), User-Agent (socklab-httpget), Accept (any type) and Connection (close), each line ended by CRLF, then an empty line; check snprintf()'s result and send req with sl_send_all(). */
	n = snprintf(req, sizeof req,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "User-Agent: socklab-httpget\r\n"
		     "Accept: */*\r\n"
		     "Connection: close\r\n"
		     "\r\n",
		     path, where);
	if (n < 0 || (size_t)n >= sizeof req) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "the request does not fit %zu bytes", sizeof req);
		return -1;
	}
	if (sl_send_all(fd, req, (size_t)n) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", where,
		       strerror(errno));
		return -1;
	}
	return 0;
	/* SKELETON 3:
	(void)req;
	(void)n;
	(void)fd;
	(void)where;
	(void)path;
	SL_TODO(3);
	return -1;
	*/
	/* END 3 */
}

/* Writes one line of the response head, and a '\n', on standard error. */
static void print_head_line(const char *line, size_t len)
{
	/* One fwrite() of line and '\n' together, so no other output can
	 * land between them. */
	char out[LINE_MAX_BYTES + 1];

	memcpy(out, line, len);
	out[len] = '\n';
	if (fwrite(out, 1, len + 1, stderr) != len + 1)
		sl_log(&sl_prog_log, SL_ERROR, "write standard error: %s",
		       strerror(errno));
}

/* Reads one line of the response head without its CRLF (a bare LF is
 * taken too); logs and returns -1 unless a whole line came. */
static int read_head_line(struct sl_reader *rd, char *line, size_t size,
			  size_t *len)
{
	switch (sl_reader_line(rd, line, size, len, SL_LINE_STRIP_CR)) {
	case SL_LINE_OK:
		return 0;
	case SL_LINE_TOO_LONG:
		sl_log(&sl_prog_log, SL_ERROR,
		       "a line of the response head is longer than %zu bytes",
		       size - 1);
		return -1;
	case SL_LINE_ERROR:
		sl_log(&sl_prog_log, SL_ERROR, "receive the response: %s",
		       strerror(errno));
		return -1;
	case SL_LINE_EOF:
	case SL_LINE_UNTERMINATED:
		break;
	}
	sl_log(&sl_prog_log, SL_ERROR,
	       "the server closed the connection before the end of the "
	       "response head");
	return -1;
}

/* Notes what header line says about the body in resp (Content-Length,
 * Transfer-Encoding); returns 0, or -1 after logging a malformed one. */
static int apply_header(struct response *resp, char *line)
{
	char *name, *value;

	if (http_split_header(line, &name, &value) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "malformed header line: %s",
		       line);
		return -1;
	}
	if (strcasecmp(name, "Content-Length") == 0) {
		if (http_parse_length(value, &resp->length) < 0) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "bad Content-Length: \"%s\"", value);
			return -1;
		}
		resp->has_length = true;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		resp->chunked = http_list_has(value, "chunked");
	}
	return 0;
}

/*
 * Reads the response head: the status line (its code into resp->status)
 * and the header lines up to the empty line (applied to resp), printing
 * each line on standard error. Returns 0, or -1 after logging why the
 * head is unusable.
 */
static int read_head(struct sl_reader *rd, struct response *resp)
{
	char line[LINE_MAX_BYTES];
	size_t len, total = 0;

	/* BLANK 4: Read the status line with read_head_line(), print it with print_head_line() and parse it with http_parse_status_line() (log "malformed status line" and return -1 on failure); then read, print and apply_header() each header line until the empty one, returning -1 if the head grows over HEAD_MAX_BYTES. */
	if (read_head_line(rd, line, sizeof line, &len) < 0)
		return -1;
	print_head_line(line, len);
	if (http_parse_status_line(line, len, &resp->status) < 0) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "malformed status line (expected \"HTTP/1.1 200 OK\" "
		       "or the like)");
		return -1;
	}
	for (;;) {
		if (read_head_line(rd, line, sizeof line, &len) < 0)
			return -1;
		print_head_line(line, len);
		total += len + 2;
		if (total > HEAD_MAX_BYTES) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "the response head is longer than %d bytes",
			       HEAD_MAX_BYTES);
			return -1;
		}
		if (len == 0)
			return 0;
		if (apply_header(resp, line) < 0)
			return -1;
	}
	/* SKELETON 4:
	(void)line;
	(void)len;
	(void)total;
	(void)rd;
	(void)resp;
	(void)print_head_line;
	(void)read_head_line;
	(void)apply_header;
	SL_TODO(4);
	return -1;
	*/
	/* END 4 */
}

/*
 * Copies body bytes from rd to standard output: exactly length bytes, or,
 * when until_close is true, every byte until the server closes. Returns
 * 0, or -1 after logging a failed read or write or a body cut short.
 */
static int copy_body(struct sl_reader *rd, unsigned long long length,
		     bool until_close)
{
	char buf[BODY_CHUNK];
	unsigned long long left = length;

	/* BLANK 5: Loop while until_close or left > 0: read at most sizeof buf (and at most left) bytes with sl_reader_read(), write them with sl_write_all() to STDOUT_FILENO; a read of 0 ends an until_close body and is an error ("closed after N of M body bytes") otherwise. */
	while (until_close || left > 0) {
		size_t want = !until_close && left < sizeof buf ? (size_t)left
								: sizeof buf;
		ssize_t n = sl_reader_read(rd, buf, want);

		if (n < 0) {
			sl_log(&sl_prog_log, SL_ERROR, "receive the body: %s",
			       strerror(errno));
			return -1;
		}
		if (n == 0 && until_close)
			return 0;
		if (n == 0) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "the server closed the connection after %llu "
			       "of %llu body bytes",
			       length - left, length);
			return -1;
		}
		if (sl_write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "write standard output: %s", strerror(errno));
			return -1;
		}
		if (!until_close)
			left -= (unsigned long long)n;
	}
	return 0;
	/* SKELETON 5:
	(void)buf;
	(void)left;
	(void)rd;
	(void)length;
	(void)until_close;
	SL_TODO(5);
	return -1;
	*/
	/* END 5 */
}

/* Parses the hexadecimal size at the start of a chunk-size line
 * ("1a" or "1a;name=value"); returns 0, or -1 when there is none. */
static int parse_chunk_size(const char *line, unsigned long long *size)
{
	unsigned long long n = 0;
	const char *p = line;

	for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t'; p++) {
		int digit = (*p >= '0' && *p <= '9')   ? *p - '0'
			    : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			    : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
						       : -1;

		if (digit < 0 || n > (~0ULL >> 4))
			return -1;
		n = n * 16 + (unsigned)digit;
	}
	if (p == line)
		return -1;
	*size = n;
	return 0;
}

/*
 * Copies a chunked body to standard output: chunks "<hex size>\r\n<size
 * bytes>\r\n", then "0\r\n", trailer lines and an empty line. Returns 0,
 * or -1 after logging what was wrong.
 */
static int copy_chunked(struct sl_reader *rd)
{
	char line[LINE_MAX_BYTES];
	unsigned long long size;
	size_t len;

	for (;;) {
		if (read_head_line(rd, line, sizeof line, &len) < 0)
			return -1;
		if (parse_chunk_size(line, &size) < 0) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "bad chunk size line in a chunked body: %s",
			       line);
			return -1;
		}
		if (size == 0)
			break;
		if (copy_body(rd, size, false) < 0)
			return -1;
		if (read_head_line(rd, line, sizeof line, &len) < 0)
			return -1;
		if (len != 0) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "a chunk of %llu bytes is not followed by CRLF",
			       size);
			return -1;
		}
	}
	do { /* the trailer: header lines up to an empty one */
		if (read_head_line(rd, line, sizeof line, &len) < 0)
			return -1;
	} while (len != 0);
	return 0;
}

/* Copies the body that resp announces to standard output; returns 0, or
 * -1 after logging a failure. */
static int copy_response_body(struct sl_reader *rd,
			      const struct response *resp)
{
	/* These statuses never have a body, whatever the headers say. */
	if (resp->status / 100 == 1 || resp->status == 204 ||
	    resp->status == 304)
		return 0;
	if (resp->chunked)
		return copy_chunked(rd);
	if (resp->has_length)
		return copy_body(rd, resp->length, false);
	return copy_body(rd, 0, true); /* HTTP/1.0 style: until close */
}

/* Returns the exit status for a response with status code status. */
static int exit_status_of(int status)
{
	/* BLANK 6: Return SL_EXIT_OK (0) for 2xx, 3, 4 or 5 for 3xx, 4xx or 5xx (the status class), and SL_EXIT_FAILURE for any other code. */
	if (status >= 200 && status <= 299)
		return SL_EXIT_OK;
	if (status >= 300 && status <= 599)
		return status / 100;
	return SL_EXIT_FAILURE;
	/* SKELETON 6:
	(void)status;
	SL_TODO(6);
	return SL_EXIT_OK;
	*/
	/* END 6 */
}

/* Tells whether path can go into a request line as it is: it starts with
 * '/' and holds no space or control byte. */
static bool path_ok(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
	}
	return strlen(path) < HTTP_TARGET_MAX;
}

/* Sends the request on fd and prints the response; returns the exit
 * status. */
static int fetch(int fd, const char *where, const char *path)
{
	struct sl_reader rd;
	struct response resp = {.status = 0};

	if (send_request(fd, where, path) < 0)
		return SL_EXIT_FAILURE;
	sl_reader_init(&rd, fd);
	if (read_head(&rd, &resp) < 0)
		return SL_EXIT_FAILURE;
	if (copy_response_body(&rd, &resp) < 0)
		return SL_EXIT_FAILURE;
	return exit_status_of(resp.status);
}

int main(int argc, char *argv[])
{
	char err[SL_ERRLEN];
	char where[SL_HOSTPORTLEN];
	uint16_t port;
	int fd, status;

	sl_log_init(&sl_prog_log, "httpget", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	if (argc != 4)
		return sl_usage_error(&sl_prog_log, usage,
				      "expected HOST PORT PATH, got %d "
				      "arguments",
				      argc - 1);
	if (sl_parse_port(argv[2], &port, err, sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	if (!path_ok(argv[3]))
		return sl_usage_error(&sl_prog_log, usage,
				      "bad PATH \"%s\": it must start with '/' "
				      "and hold no spaces",
				      argv[3]);
	if (sl_hostport_str(argv[1], port, where, sizeof where) < 0)
		return sl_usage_error(&sl_prog_log, usage, "HOST is too long");

	fd = sl_tcp_connect(argv[1], port, err, sizeof err);
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	status = fetch(fd, where, argv[3]);
	if (close(fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection to %s: %s",
		       where, strerror(errno));
	return status;
}
