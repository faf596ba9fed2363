/*
 * relay - forwards one request to its origin server and streams the
 * response back (see relay.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sl_io.h"
#include "sl_log.h"

/* Bytes moved at a time between the origin, the cache and the client. */
#define RELAY_BUFSIZE 65536

/* What one exchange with the origin keeps while it runs; on the heap,
 * because its buffers are too big for a thread's small stack. */
struct work {
	struct relay *r;
	int origin; /* the socket to the origin, or -1 */
	struct sl_reader from_origin;
	struct webcache_file file; /* the copy on its way into the cache */
	bool has_length;	   /* the response announced its body's */
	unsigned long long length; /* length (Content-Length) */
	bool broken;		   /* a read from the origin failed */
	size_t head_len;
	char head[HTTP_HEAD_MAX]; /* status line and headers, as received */
	char buf[RELAY_BUFSIZE];
};

int set_io_timeout(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects to the origin of the request; returns 0, or -1 with r->err
 * set. */
static int connect_origin(struct work *w)
{
	const struct http_request *req = w->r->req;

	w->origin = sl_tcp_connect(req->host, req->port, w->r->err,
				   sizeof w->r->err);
	if (w->origin < 0)
		return -1;
	if (set_io_timeout(w->origin, IO_TIMEOUT_S) < 0) {
		(void)snprintf(w->r->err, sizeof w->r->err,
			       "set the timeout of the origin's socket: %s",
			       strerror(errno));
		return -1;
	}
	sl_reader_init(&w->from_origin, w->origin);
	return 0;
}

/* Sends len bytes of buf to the origin; returns 0, or -1 with r->err
 * set. */
static int send_to_origin(struct work *w, const char *buf, size_t len)
{
	if (sl_send_all(w->origin, buf, len) == 0)
		return 0;
	(void)snprintf(w->r->err, sizeof w->r->err,
		       "send the request to %.100s: %s", w->r->req->host,
		       strerror(errno));
	return -1;
}

/* Sends the request head to the origin: "METHOD path HTTP/1.0", our own
 * Host, the client's end-to-end headers, "Connection: close" and the
 * empty line, every line ended by CR LF. Returns 0, or -1 with r->err
 * set. */
static int send_request_head(struct work *w)
{
	const struct http_request *req = w->r->req;
	char host[SL_HOSTPORTLEN];
	int n;

	/* Port 80 is the default: "Host: example.org", not ":80". */
	if (req->port == 80)
		(void)snprintf(host, sizeof host, "%s", req->host);
	else if (sl_hostport_str(req->host, req->port, host, sizeof host) < 0)
		return -1; /* cannot happen: host is shorter than 254 bytes */
	/* TODO 7: Format the request head into w->buf ("%s %s HTTP/1.0", Host, the client's headers, "Connection: close", empty line; each line ended by \r\n) and send it with send_to_origin(). */
	(void)n;
	(void)host;
	(void)send_to_origin;
	(void)snprintf(w->r->err, sizeof w->r->err, "TODO 7 not done yet");
	SL_TODO(7);
	return -1;
}

/* Copies the request body, exactly the Content-Length bytes the client
 * announced, from the client to the origin (POST); returns 0, or -1 with
 * r->err set. */
static int send_request_body(struct work *w)
{
	const struct http_request *req = w->r->req;
	unsigned long long left = req->has_length ? req->length : 0;

	/* TODO 8: (Optional exercise: POST.) While bytes are left, read at most a bufferful from w->r->client_rd with sl_reader_read() and send it with send_to_origin(); a body that ends early is an error. */
	if (left > 0)
		SL_TODO(8);
	return 0;
}

/* Says why the last read failed: a socket timeout (SO_RCVTIMEO) shows
 * as EAGAIN, which strerror() would call "Resource temporarily
 * unavailable". */
static const char *read_error(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
						       : strerror(errno);
}

/* Explains in r->err why the response head could not be read. */
static int head_error(struct work *w, enum sl_line_status st)
{
	const char *why = "the response head is longer than allowed";

	if (st == SL_LINE_ERROR) {
		/* Silence, not a failure: 504 Gateway Timeout. */
		w->r->timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
		why = read_error();
	}
	else if (st == SL_LINE_EOF || st == SL_LINE_UNTERMINATED)
		why = "closed the connection before the end of its headers";
	(void)snprintf(w->r->err, sizeof w->r->err, "origin %.100s: %s",
		       w->r->req->host, why);
	return -1;
}

/* Takes one line of the response head (its CR LF already gone): the
 * status line first, then headers; notes the status and Content-Length.
 * Returns 0, or -1 with r->err set. */
static int parse_head_line(struct work *w, const char *line)
{
	const char *value;

	if (w->r->status == 0 &&
	    http_parse_status_line(line, &w->r->status) < 0) {
		(void)snprintf(w->r->err, sizeof w->r->err,
			       "origin %.100s sent no status line: \"%.40s\"",
			       w->r->req->host, line);
		return -1;
	}
	if (!http_header_is(line, "Content-Length", &value))
		return 0;
	if (w->has_length || http_parse_length(value, &w->length) < 0) {
		(void)snprintf(w->r->err, sizeof w->r->err,
			       "origin %.100s sent a bad Content-Length",
			       w->r->req->host);
		return -1;
	}
	w->has_length = true;
	return 0;
}

/* Reads the origin's status line and headers into w->head exactly as
 * they came (they go to the client and the cache unchanged); returns 0,
 * or -1 with r->err set. */
static int read_response_head(struct work *w)
{
	char line[HTTP_LINE_MAX + 2];
	size_t len;

	for (;;) {
		enum sl_line_status st = sl_reader_line(&w->from_origin, line,
							sizeof line, &len, 0);

		if (st != SL_LINE_OK || len + 1 > sizeof w->head - w->head_len)
			return head_error(w, st);
		memcpy(w->head + w->head_len, line, len);
		w->head[w->head_len + len] = '\n';
		w->head_len += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (w->r->status != 0 && len == 0)
			return 0; /* the empty line ends the head */
		if (parse_head_line(w, line) < 0)
			return -1;
	}
}

/* Passes bytes of the response on: into the cache file first, then to the
 * client, so that the file always holds what the client has. A cache
 * file that cannot be written is dropped; the client still gets its
 * response. Returns 0, or -1 (r->err set) when the client is gone. */
static int pass_on(struct work *w, const char *buf, size_t len)
{
	if (w->file.fd >= 0 && sl_write_all(w->file.fd, buf, len) < 0) {
		sl_log(&sl_prog_log, SL_WARN, "write %s: %s: not caching",
		       w->file.tmp, strerror(errno));
		webcache_abort(&w->file);
	}
	if (sl_send_all(w->r->client, buf, len) == 0)
		return 0;
	(void)snprintf(w->r->err, sizeof w->r->err,
		       "send the response to the client: %s", strerror(errno));
	return -1;
}

/* Returns how many body bytes to read next: at most what is left of the
 * Content-Length, a bufferful when there is none (the origin's close
 * ends the body then), 0 once the body is all there. */
static size_t next_read_size(const struct work *w)
{
	unsigned long long left;

	if (!w->has_length)
		return sizeof w->buf;
	left = w->length - w->r->body;
	return left < sizeof w->buf ? (size_t)left : sizeof w->buf;
}

/* Streams the body from the origin to the client (and the cache file);
 * returns 0, or -1 when the client is gone. */
static int relay_body(struct work *w)
{
	size_t want;

	/* TODO 9: While next_read_size() is not 0, read that much with sl_reader_read() and pass it on with pass_on(), counting w->r->body; the origin's close ends the body; a failed read marks the response broken (w->broken, r->err). */
	(void)w;
	(void)want;
	(void)next_read_size;
	SL_TODO(9);
	return 0;
}

/* Tells whether the whole body arrived: no failed read, and every byte
 * of the Content-Length when there is one. */
static bool body_complete(const struct work *w)
{
	return !w->broken && (!w->has_length || w->r->body == w->length);
}

/* Tells whether the response may be served from the cache later. */
static bool worth_caching(const struct work *w)
{
	/* TODO 10: Keep only a 200 OK response whose body is complete (body_complete()): an error or a cut body must be asked for again next time. */
	(void)w;
	(void)body_complete;
	SL_TODO(10);
	return false;
}

/* Publishes the copy of a complete 200 response, or throws it away. */
static void finish_cache_file(struct work *w)
{
	w->r->complete = body_complete(w);
	if (w->file.fd < 0)
		return;
	if (!worth_caching(w)) {
		webcache_abort(&w->file);
		return;
	}
	if (webcache_commit(&w->file) < 0) {
		sl_log(&sl_prog_log, SL_WARN, "cache %s as %s: %s", w->r->key,
		       w->file.final, strerror(errno));
		return;
	}
	w->r->cached = true;
}

/* Starts the copy of the response in the cache, for a cacheable request;
 * a cache that fails only means no copy. */
static void start_cache_file(struct work *w)
{
	if (w->r->cache == NULL)
		return;
	if (webcache_begin(w->r->cache, w->r->key, &w->file) < 0)
		sl_log(&sl_prog_log, SL_WARN, "cache a copy of %s: %s",
		       w->r->key, strerror(errno));
}

/* The whole exchange, step by step. */
static enum relay_result exchange(struct work *w)
{
	if (connect_origin(w) < 0 || send_request_head(w) < 0 ||
	    send_request_body(w) < 0 || read_response_head(w) < 0)
		return RELAY_NO_RESPONSE;
	start_cache_file(w);
	if (pass_on(w, w->head, w->head_len) < 0 || relay_body(w) < 0)
		return RELAY_CLIENT_GONE;
	finish_cache_file(w);
	return RELAY_DONE;
}

enum relay_result relay_run(struct relay *r)
{
	struct work *w = calloc(1, sizeof *w);
	enum relay_result result;

	if (w == NULL) {
		(void)snprintf(r->err, sizeof r->err, "allocate: %s",
			       strerror(errno));
		return RELAY_NO_RESPONSE;
	}
	w->r = r;
	w->origin = -1;
	w->file.fd = -1;
	result = exchange(w);
	webcache_abort(&w->file); /* left only when the exchange failed */
	if (w->origin >= 0 && close(w->origin) < 0)
		sl_log(&sl_prog_log, SL_WARN, "close the connection to %s: %s",
		       r->req->host, strerror(errno));
	free(w);
	return result;
}
