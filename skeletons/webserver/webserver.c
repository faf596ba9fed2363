/*
 * webserver - serves the files of a document root over HTTP/1.1.
 *
 * Answers GET and HEAD requests for files under DOCROOT: 200 with the
 * file, 404 when there is none, 405 for other methods, 400 for a
 * malformed request, 431 for a request head over 8 KiB, 408 for a head
 * that does not arrive whole within the head timeout. No request can
 * reach a file outside DOCROOT ("..", "%2e%2e" and the like are refused).
 * A connection carries requests one after the other (keep-alive) until
 * the client asks to close, sends nothing within the head timeout, or an
 * error response ends it.
 *
 * Threads: the main thread accepts connections and starts one thread per
 * connection, at most MAX_THREADS at a time; when that many are busy it
 * waits for one to end before it accepts the next connection (which
 * waits meanwhile in the kernel's backlog). The threads share only the
 * count of busy threads, under a mutex.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_thread.h"

#define DEFAULT_PORT 8080
#define DEFAULT_MAX_THREADS 32

/* Seconds a client has for a whole request head (--head-timeout). */
#define DEFAULT_HEAD_TIMEOUT_S 10
#define MAX_HEAD_TIMEOUT_S 3600

/* Connections the kernel may complete before we accept them. */
#define BACKLOG 128

/* A client may keep us waiting this long for taking each piece of our
 * response. */
#define IO_TIMEOUT_S 10

/* After our FIN, how long in all and how much we still read from the
 * client before we close (see close_connection()). */
#define LINGER_TIMEOUT_S 2
#define LINGER_MAX (256 * 1024)

/* Bytes of a file read and sent at a time. */
#define BODY_CHUNK (16 * 1024)

static const char usage[] =
	"Usage: webserver [-h] [-d DOCROOT] [-t MAX_THREADS]\n"
	"                 [--head-timeout SECONDS] [PORT]\n"
	"\n"
	"Serves the files under DOCROOT over HTTP/1.1: GET and HEAD, 200,\n"
	"400, 403, 404, 405, 408, 414, 431, 505. A request for a directory\n"
	"gets its index.html. One thread per connection, at most MAX_THREADS\n"
	"at a time. Runs until killed; one log line per request on standard\n"
	"error.\n"
	"\n"
	"Arguments:\n"
	"  PORT            TCP port to listen on, on every IPv6 and IPv4\n"
	"                  address, 1-65535 (default: 8080)\n"
	"  -d DOCROOT      the folder to serve (default: the current one)\n"
	"  -t MAX_THREADS  connections served at the same time, 1-1000\n"
	"                  (default: 32)\n"
	"  --head-timeout SECONDS\n"
	"                  time a client has for a whole request head, from\n"
	"                  the moment the server starts reading it, 1-3600\n"
	"                  (default: 10); a head still incomplete then gets\n"
	"                  408, a connection with nothing of one is closed\n"
	"  -h, --help      print this help to standard output and exit\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port or DOCROOT could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	const char *root;
	long max_threads;
	long head_timeout_s;
};

/* What every thread shares. */
struct server {
	const char *root;	   /* the document root; never changes */
	unsigned long max_threads; /* connection threads allowed at once */
	long head_timeout_s;	   /* seconds for a whole request head */
	pthread_mutex_t lock;	   /* guards active */
	pthread_cond_t slot_freed; /* signalled when a thread ends */
	unsigned long active;	   /* connection threads running */
};

/* One client connection, owned by its thread. */
struct conn {
	int fd;
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT", for messages */
	struct server *srv;
	struct sl_reader rd; /* kept across the requests of the connection */
	int64_t deadline;    /* now_ms() by which the request head is whole */
};

/* Tells whether the request's method is name ("GET", "HEAD"). */
static bool method_is(const struct http_request *req, const char *name)
{
	return strcmp(req->method, name) == 0;
}

/* Logs one answered request: `ADDR:PORT "GET /x HTTP/1.1" 200 1234`. */
static void log_request(const struct conn *c, const struct http_request *req,
			int status, long long length)
{
	if (req->method[0] == '\0') {
		sl_log(&sl_prog_log, SL_INFO,
		       "%s (no valid request line) %d %lld", c->who, status,
		       length);
		return;
	}
	sl_log(&sl_prog_log, SL_INFO, "%s \"%s %s HTTP/1.%d\" %d %lld", c->who,
	       req->method, req->target, req->minor, status, length);
}

/* Returns the time in milliseconds on a clock that only goes forward
 * (the wall clock may jump). */
static int64_t now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t); /* cannot fail for it */
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Waits until fd has something to read (bytes, or the end of the stream)
 * or deadline (a now_ms() time) passes. Returns 0, or -1 with errno:
 * ETIMEDOUT when the deadline passed, poll()'s error otherwise.
 */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		/* What is left of the time, not a fresh timeout per wait. */
		int64_t left = deadline - now_ms();
		int ready;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ready = poll(&pfd, 1, (int)left);
		if (ready > 0)
			return 0;
		if (ready < 0 && errno != EINTR)
			return -1;
	}
}

/* Waits until c has a byte of its request to hand out, at most until its
 * deadline; returns 0, or -1 with errno (ETIMEDOUT: the deadline passed). */
static int wait_for_bytes(struct conn *c)
{
	/* poll() cannot see the bytes the reader already holds. */
	if (sl_reader_buffered(&c->rd) > 0)
		return 0;
	return wait_readable(c->fd, c->deadline);
}

/*
 * Reads one line of the request head without its CRLF (a bare LF is
 * accepted too, as RFC 9112 allows), like sl_reader_line(), but never
 * waits past c->deadline: then it returns SL_LINE_ERROR with errno
 * ETIMEDOUT. It takes the reader's bytes one at a time, so that every wait
 * for the socket is a wait_for_bytes() of its own; inside sl_reader_line()
 * each recv() would wait anew, as long as a client trickles in a line.
 */
static enum sl_line_status read_line(struct conn *c, char *line, size_t size,
				     size_t *len)
{
	size_t used = 0;
	char ch;

	*len = 0;
	for (;;) {
		ssize_t n;

		if (wait_for_bytes(c) < 0)
			return SL_LINE_ERROR;
		n = sl_reader_read(&c->rd, &ch, 1);
		if (n < 0)
			return SL_LINE_ERROR;
		if (n == 0)
			return used == 0 ? SL_LINE_EOF : SL_LINE_UNTERMINATED;
		if (ch == '\n')
			break;
		if (used == size - 1)
			return SL_LINE_TOO_LONG;
		line[used++] = ch;
	}
	if (used > 0 && line[used - 1] == '\r')
		used--;
	line[used] = '\0';
	*len = used;
	return SL_LINE_OK;
}

/* Logs why a request head could not be read to its end. */
static void log_read_end(const struct conn *c, enum sl_line_status st)
{
	if (st == SL_LINE_ERROR && errno == ETIMEDOUT)
		sl_log(&sl_prog_log, SL_INFO,
		       "%s: nothing received for %ld s: closing", c->who,
		       c->srv->head_timeout_s);
	else if (st == SL_LINE_ERROR)
		sl_log(&sl_prog_log, SL_WARN, "receive from %s: %s", c->who,
		       strerror(errno));
	else
		sl_log(&sl_prog_log, SL_WARN,
		       "%s closed the connection in the middle of a request",
		       c->who);
}

/* Parses one header line into req; returns 0 or the error status. */
static int parse_header_line(struct http_request *req, char *line)
{
	char *name, *value;

	if (http_split_header(line, &name, &value) < 0)
		return HTTP_BAD_REQUEST;
	return http_request_header(req, name, value);
}

/*
 * Reads a request head (request line, header lines, empty line) into req,
 * all of it within the head timeout. Returns 0; or the status of the
 * error response to send (400 malformed, 408 not whole in time, 431
 * longer than HTTP_HEAD_MAX); or -1 when there is nothing to answer: the
 * client closed or sent nothing in time before a request (logged, except
 * for a clean close), or vanished in the middle of one (logged).
 */
static int read_request(struct conn *c, struct http_request *req)
{
	char line[HTTP_HEAD_MAX + 1];
	size_t len, total = 0;
	int status = 0;

	memset(req, 0, sizeof *req); /* an error may come before any field */
	/* One deadline for the whole head, not a timeout per piece: a client
	 * that sends a byte every few seconds must not hold a thread for
	 * hours. */
	c->deadline = now_ms() + c->srv->head_timeout_s * 1000;
	/* Nothing of a request in time (an idle kept-alive connection): close
	 * without a 408, which could cross a request sent just then and be
	 * taken for its answer. */
	if (wait_for_bytes(c) < 0) {
		log_read_end(c, SL_LINE_ERROR);
		return -1;
	}
	/* TODO 7: Read lines with read_line() until the empty line: the first is the request line (http_parse_request_line()), the others headers (parse_header_line()); count each line and its CRLF against HTTP_HEAD_MAX (431 when over); a read that failed with errno ETIMEDOUT gets 408; return -1 (with log_read_end(), except at a clean end before the first line) when no whole head arrives. */
	(void)line;
	(void)len;
	(void)total;
	(void)status;
	(void)read_line;
	(void)log_read_end;
	(void)parse_header_line;
	(void)c;
	SL_TODO(7);
	return HTTP_BAD_REQUEST;
}

/*
 * Sends the status line and headers of a response whose body is length
 * bytes of type; extra holds more header lines, each ended by CRLF (or is
 * NULL). Returns 0, or -1 after logging a failure.
 */
static int send_head(struct conn *c, int status, const char *type,
		     long long length, bool keep_alive, const char *extra)
{
	char head[1024];
	int n;

	/* TODO 8: Write into head the status line "HTTP/1.1 <status> <reason>", then the headers Server, Content-Type, Content-Length, Connection (close or keep-alive) and extra, each line ended by CRLF, then an empty line; check snprintf()'s result and send head with sl_send_all(). */
	(void)head;
	(void)n;
	(void)c;
	(void)status;
	(void)type;
	(void)length;
	(void)keep_alive;
	(void)extra;
	SL_TODO(8);
	return -1;
}

/* Sends exactly length bytes of the open file fd (named path, for
 * messages) as the body; returns 0, or -1 after logging a failure. */
static int send_file_body(struct conn *c, int fd, long long length,
			  const char *path)
{
	char buf[BODY_CHUNK];
	long long left = length;

	/* TODO 9: Until left is 0, read up to sizeof buf bytes of the file with sl_read_some() and send them with sl_send_all(); log and return -1 when a read fails, the file ends early (it shrank: the Content-Length sent is now wrong) or a send fails. */
	(void)buf;
	(void)left;
	(void)c;
	(void)fd;
	(void)path;
	SL_TODO(9);
	return -1;
}

/* Sends an error response: status, a small HTML page saying it (only the
 * head when with_body is false: the answer to HEAD) and, for 405, the
 * methods allowed. Returns 0, or -1 after logging a failure. */
static int send_error(struct conn *c, int status, bool keep_alive,
		      bool with_body)
{
	const char *extra = status == HTTP_METHOD_NOT_ALLOWED
				    ? "Allow: GET, HEAD\r\n"
				    : NULL;
	char body[512];
	int n;

	/* TODO 10: Write a small HTML page into body whose title and <h1> say "<status> <reason>"; send the head with send_head() (type text/html, the page's length) and then, if with_body, the page with sl_send_all(). */
	(void)extra;
	(void)body;
	(void)n;
	(void)c;
	(void)status;
	(void)keep_alive;
	(void)with_body;
	SL_TODO(10);
	return -1;
}

/* Answers req (its method empty when its request line was bad) with an
 * error status; returns true when the connection may carry another
 * request. */
static bool respond_error(struct conn *c, const struct http_request *req,
			  int status)
{
	/* After a "not found" the connection is still in step; after a bad
	 * request we may not know where the next one starts, and a request
	 * body we refused is still coming: close. */
	bool keep_alive = req->keep_alive && (status == HTTP_NOT_FOUND ||
					      status == HTTP_FORBIDDEN);
	bool with_body = !method_is(req, "HEAD");
	int rc = send_error(c, status, keep_alive, with_body);

	log_request(c, req, status, 0);
	return rc == 0 && keep_alive;
}

/* Opens path and reads its status; returns 0, or the status of the error
 * response (404, 403, 414, 500) after logging an unexpected failure. */
static int open_path(const char *path, int *fd, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO someone left in the root must not
	 * hang the thread; reads of regular files ignore the flag. */
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return HTTP_NOT_FOUND;
		if (errno == EACCES)
			return HTTP_FORBIDDEN;
		if (errno == ENAMETOOLONG)
			return HTTP_URI_TOO_LONG;
		sl_log(&sl_prog_log, SL_ERROR, "open %s: %s", path,
		       strerror(errno));
		return HTTP_INTERNAL_ERROR;
	}
	if (fstat(*fd, st) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "stat %s: %s", path,
		       strerror(errno));
		(void)close(*fd);
		return HTTP_INTERNAL_ERROR;
	}
	return 0;
}

/*
 * Opens the regular file rel (a path made by http_target_to_path()) under
 * root, or the index.html of the directory rel; full (size bytes) gets the
 * path opened. Returns 0 with *fd open and *st its status, or the status
 * of the error response.
 */
static int open_file(const char *root, const char *rel, char *full,
		     size_t size, int *fd, struct stat *st)
{
	int n = snprintf(full, size, rel[0] != '\0' ? "%s/%s" : "%s", root,
			 rel);
	int status;

	if (n < 0 || (size_t)n >= size)
		return HTTP_URI_TOO_LONG;
	status = open_path(full, fd, st);
	if (status == 0 && S_ISDIR(st->st_mode)) {
		(void)close(*fd);
		if ((size_t)n + sizeof "/index.html" > size)
			return HTTP_URI_TOO_LONG;
		memcpy(full + n, "/index.html", sizeof "/index.html");
		status = open_path(full, fd, st);
	}
	if (status == 0 && !S_ISREG(st->st_mode)) {
		(void)close(*fd); /* a device or a FIFO: not ours to serve */
		return HTTP_NOT_FOUND;
	}
	return status;
}

/* Answers a GET or HEAD request with the file it names; returns true when
 * the connection may carry another request. */
static bool serve_file(struct conn *c, const struct http_request *req)
{
	char rel[HTTP_PATH_MAX];
	char full[PATH_MAX];
	struct stat st;
	int fd, status;
	bool ok;

	status = http_target_to_path(req->target, rel, sizeof rel);
	if (status == 0)
		status = open_file(c->srv->root, rel, full, sizeof full, &fd,
				   &st);
	if (status != 0)
		return respond_error(c, req, status);
	ok = send_head(c, HTTP_OK, http_content_type(full),
		       (long long)st.st_size, req->keep_alive, NULL) == 0;
	if (ok && method_is(req, "GET"))
		ok = send_file_body(c, fd, (long long)st.st_size, full) == 0;
	log_request(c, req, HTTP_OK, (long long)st.st_size);
	if (close(fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close %s: %s", full,
		       strerror(errno));
	return ok && req->keep_alive;
}

/* Reads and answers one request; returns true when the connection may
 * carry another one. */
static bool serve_request(struct conn *c)
{
	struct http_request req;
	int status = read_request(c, &req);

	if (status < 0)
		return false;
	if (status != 0)
		return respond_error(c, &req, status);
	if (req.has_body)
		req.keep_alive = false; /* we never read request bodies */
	if (!method_is(&req, "GET") && !method_is(&req, "HEAD"))
		return respond_error(c, &req, HTTP_METHOD_NOT_ALLOWED);
	return serve_file(c, &req);
}

/* Sets the send timeout of c's socket to seconds: a send that waits
 * longer for room fails with EAGAIN. (Reads need none: each one waits
 * with poll() until a deadline.) */
static void set_send_timeout(const struct conn *c, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		sl_log(&sl_prog_log, SL_WARN, "set the send timeout of %s: %s",
		       c->who, strerror(errno));
}

/*
 * Ends the connection: our FIN first, then read and drop what the client
 * still sends until its FIN (at most LINGER_MAX bytes, LINGER_TIMEOUT_S
 * in all), then close.
 */
static void close_connection(struct conn *c)
{
	char sink[4096];
	size_t drained = 0;
	int64_t deadline = now_ms() + LINGER_TIMEOUT_S * 1000;

	/* TODO 11: Send our FIN with shutdown(SHUT_WR) (log a failure other than ENOTCONN); then, while wait_readable(c->fd, deadline) says there is something, read into sink with sl_read_some() until it returns 0 or less or LINGER_MAX bytes were read; then close() c->fd, logging a failure. */
	(void)sink;
	(void)drained;
	(void)deadline;
	SL_TODO(11);
	(void)close(c->fd);
}

/* Waits until fewer than max_threads connection threads run, and counts
 * one more. */
static void take_slot(struct server *srv)
{
	/* TODO 12: Under srv->lock, wait on srv->slot_freed while srv->active == srv->max_threads, then add 1 to srv->active. */
	(void)srv;
	SL_TODO(12);
}

/* Counts one connection thread less, and wakes the main thread if it
 * waits for a free slot. */
static void release_slot(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->active--;
	pthread_cond_signal(&srv->slot_freed);
	pthread_mutex_unlock(&srv->lock);
}

/* Closes c's connection, frees c and gives its slot back. */
static void end_conn(struct conn *c)
{
	struct server *srv = c->srv;

	close_connection(c);
	free(c);
	release_slot(srv);
}

/* The thread of one connection: answers its requests until it ends. */
static void *conn_main(void *arg)
{
	struct conn *c = arg;

	set_send_timeout(c, IO_TIMEOUT_S);
	while (serve_request(c))
		;
	end_conn(c);
	return NULL;
}

/* Waits for the next connection; returns its socket (the client's address
 * in *peer), or -1 after logging a failure. */
static int accept_client(int lfd, struct sockaddr_storage *peer)
{
	char err[SL_ERRLEN];
	int fd = sl_accept(lfd, peer, err, sizeof err);

	if (fd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return fd;
}

/* Returns a new connection for socket fd from peer, or NULL after logging
 * why. */
static struct conn *new_conn(struct server *srv, int fd,
			     const struct sockaddr_storage *peer)
{
	struct conn *c = malloc(sizeof *c);

	if (c == NULL) {
		sl_log(&sl_prog_log, SL_ERROR, "allocate a connection: %s",
		       strerror(errno));
		return NULL;
	}
	c->fd = fd;
	c->srv = srv;
	sl_reader_init(&c->rd, fd);
	if (sl_sockaddr_str((const struct sockaddr *)peer, c->who,
			    sizeof c->who) < 0)
		(void)snprintf(c->who, sizeof c->who, "(unknown address)");
	return c;
}

/* Waits for a free slot, accepts the next connection and starts its
 * thread. */
static void accept_and_spawn(struct server *srv, int lfd)
{
	struct sockaddr_storage peer;
	struct conn *c;
	int fd;

	take_slot(srv);
	fd = accept_client(lfd, &peer);
	if (fd < 0) {
		release_slot(srv);
		return;
	}
	c = new_conn(srv, fd, &peer);
	if (c == NULL) {
		(void)close(fd);
		release_slot(srv);
		return;
	}
	/* TODO 13: Start conn_main(c) in a thread of its own with sl_start_thread(); if that fails, log it and end the connection with end_conn(). */
	SL_TODO(13);
	(void)conn_main(c); // serves one connection at a time until then
}

/* Option code of getopt_long() for the long-only option. */
enum {
	OPT_HEAD_TIMEOUT = 256
};

/* Reports a bad option (opt is getopt_long()'s ':' or '?'); returns the
 * exit status of bad usage. */
static int option_error(char *argv[], int opt)
{
	/* A bad long option has no letter: optopt is 0 or its code, and
	 * only argv names it. */
	if (optopt == 0 || optopt == OPT_HEAD_TIMEOUT)
		return sl_usage_error(&sl_prog_log, usage,
				      opt == ':' ? "option %s needs a value"
						 : "unknown option %s",
				      argv[optind - 1]);
	return sl_option_error(&sl_prog_log, usage, opt, optopt);
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{"head-timeout", required_argument, NULL, OPT_HEAD_TIMEOUT},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":d:t:", longopts, NULL)) != -1) {
		if (opt == 'd')
			o->root = optarg;
		if (opt == 't' &&
		    sl_parse_long(optarg, "MAX_THREADS", 1, 1000,
				  &o->max_threads, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == OPT_HEAD_TIMEOUT &&
		    sl_parse_long(optarg, "--head-timeout", 1,
				  MAX_HEAD_TIMEOUT_S, &o->head_timeout_s, err,
				  sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == ':' || opt == '?')
			return option_error(argv, opt);
	}
	if (sl_parse_optional_port(argc, argv, optind, &o->port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return 0;
}

/* Checks that root is a folder we can read; returns 0, or -1 after
 * logging why not. */
static int check_root(const char *root)
{
	struct stat st;

	if (stat(root, &st) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "document root %s: %s", root,
		       strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "document root %s: not a directory", root);
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {.port = DEFAULT_PORT,
			    .root = ".",
			    .max_threads = DEFAULT_MAX_THREADS,
			    .head_timeout_s = DEFAULT_HEAD_TIMEOUT_S};
	struct server srv = {.active = 0};
	char err[SL_ERRLEN];
	int lfd, status;

	sl_log_init(&sl_prog_log, "webserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	if (check_root(o.root) < 0)
		return SL_EXIT_FAILURE;
	srv.root = o.root;
	srv.max_threads = (unsigned long)o.max_threads;
	srv.head_timeout_s = o.head_timeout_s;

	/* sl_send_all() asks for no SIGPIPE; this covers the rest. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	lfd = sl_tcp_listen(NULL, o.port, BACKLOG, err, sizeof err);
	if (lfd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.slot_freed, NULL);
	sl_log(&sl_prog_log, SL_INFO,
	       "serving %s on port %u (at most %lu connections at a time)",
	       o.root, (unsigned)o.port, srv.max_threads);
	for (;;)
		accept_and_spawn(&srv, lfd);
}
