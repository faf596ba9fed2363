/*
 * proxy - a caching web proxy: forwards GET (and POST) requests to their
 * origin servers and keeps the responses on disk, so that the next
 * request for the same URL is answered without asking the origin.
 *
 * Each client is served by a thread of its own, at most MAX_CLIENTS at a
 * time: a slow client or a slow origin holds up its own thread only. One
 * request per connection: the proxy answers and closes.
 *
 *	main thread	waits for a free slot, accepts a client, starts its
 *			thread
 *	client thread	reads the request, answers it from the cache or
 *			through the origin (relay.c), closes, frees its slot
 *
 * The threads share the cache folder (webcache.c: no lock needed, a
 * rename publishes a file) and the count of busy slots (struct proxy's
 * lock).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "relay.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_thread.h"
#include "webcache.h"

#define DEFAULT_PORT	    8888
#define DEFAULT_CACHE_DIR   "cache"
#define DEFAULT_MAX_CLIENTS 32

/* Connections the kernel may complete before we accept them. */
#define BACKLOG 64

/* After an error response, how long (ms) and how much (bytes) of what the
 * client still sends is read and dropped before closing (see
 * linger_close()). */
#define LINGER_MS    2000
#define LINGER_BYTES (1024 * 1024)

static const char usage[] =
	"Usage: proxy [-h] [-d DIR] [-c MAX_CLIENTS] [PORT]\n"
	"\n"
	"Caching web proxy. Forwards each GET request to its origin server\n"
	"and streams the response back; a 200 response that arrived whole\n"
	"is kept in DIR, and the next GET of the same URL is answered from\n"
	"there without asking the origin. POST requests are forwarded,\n"
	"never cached. Runs until killed; logs go to standard error.\n"
	"\n"
	"A request names its URL in either form:\n"
	"  GET http://HOST[:PORT]/PATH HTTP/1.1   (browsers, curl -x)\n"
	"  GET /HOST[:PORT]/PATH HTTP/1.1   (http://localhost:8888/HOST/PATH)\n"
	"\n"
	"Arguments:\n"
	"  PORT            TCP port to listen on, on every IPv6 and IPv4\n"
	"                  address, 1-65535 (default: 8888)\n"
	"  -d DIR          cache folder, made if missing (default: ./cache)\n"
	"  -c MAX_CLIENTS  clients served at the same time, 1-1000\n"
	"                  (default: 32); more wait for their turn\n"
	"  -h, --help      print this help to standard output and exit\n"
	"\n"
	"Errors go back to the client as HTTP responses: 400 malformed\n"
	"request, 408 too slow, 411 a POST without Content-Length, 431\n"
	"headers over 16 KiB, 501 a method other than GET and POST or a\n"
	"scheme other than http, 502 the origin cannot be reached or gave\n"
	"no valid response, 504 the origin sent no response head within\n"
	"10 s.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port or the cache folder could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	const char *cache_dir;
	unsigned max_clients;
};

/* What every thread shares. */
struct proxy {
	struct webcache cache;	  /* never changes once set */
	pthread_mutex_t lock;	  /* guards busy */
	pthread_cond_t slot_free; /* signalled when a client thread ends */
	unsigned busy;		  /* client threads running */
	unsigned max_clients;	  /* never changes once set */
};

/* One client and its request; on the heap, owned by its thread. */
struct client {
	int fd;
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT", for messages */
	struct proxy *proxy;
	struct sl_reader rd; /* the client's bytes */
	struct http_request req;
	char key[SL_HOSTPORTLEN + HTTP_LINE_MAX]; /* the cache key */
	char buf[65536]; /* for copying a cached file */
};

/* Reads the next line of c's request head into line (without CR LF);
 * *head counts the bytes of the head so far. Returns 0, or the status to
 * answer with: 431 when the line or the head is too long, 408 when the
 * client is too slow, 400 when the request ends or fails before its empty
 * line. */
static int next_line(struct client *c, char *line, size_t size, size_t *len,
		     size_t *head)
{
	switch (sl_reader_line(&c->rd, line, size, len, SL_LINE_STRIP_CR)) {
	case SL_LINE_OK:
		*head += *len + 2;
		return *head > HTTP_HEAD_MAX ? 431 : 0;
	case SL_LINE_TOO_LONG:
		return 431;
	case SL_LINE_ERROR:
		return errno == EAGAIN || errno == EWOULDBLOCK ? 408 : 400;
	case SL_LINE_EOF:
	case SL_LINE_UNTERMINATED:
		break;
	}
	return 400;
}

/* Reads c's request line and header lines, up to the empty line, into
 * c->req; returns 0, or the status to answer with (next_line(),
 * http_parse_request_line(), http_add_header()). */
static int read_request(struct client *c)
{
	char line[HTTP_LINE_MAX + 1];
	size_t len, head = 0;
	int status;

	/* BLANK 3: Read the first line with next_line() and parse it with http_parse_request_line(); then give each next line to http_add_header() until the empty line; stop at the first nonzero status. */
	status = next_line(c, line, sizeof line, &len, &head);
	if (status == 0)
		status = http_parse_request_line(line, &c->req);
	while (status == 0) {
		status = next_line(c, line, sizeof line, &len, &head);
		if (status != 0 || len == 0)
			break; /* the empty line ends the head */
		status = http_add_header(&c->req, line, len);
	}
	return status;
	/* SKELETON 3:
	(void)c;
	(void)line;
	(void)len;
	(void)head;
	(void)next_line;
	status = 400;
	SL_TODO(3);
	return status;
	*/
	/* END 3 */
}

/* Sends len bytes to c, logging a failure; returns 0 or -1. */
static int send_to_client(struct client *c, const char *buf, size_t len)
{
	if (sl_send_all(c->fd, buf, len) == 0)
		return 0;
	sl_log(&sl_prog_log, SL_INFO, "send to %s: %s", c->who,
	       strerror(errno));
	return -1;
}

/* Closes c's connection after an error response. The client may still be
 * sending (the rest of a huge header): closing with unread bytes would
 * reset the connection, and the reset can destroy our answer before the
 * client reads it. So: our FIN first, then read and drop what comes, until
 * the client closes too or LINGER_MS / LINGER_BYTES run out. */
static void linger_close(struct client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	struct timespec start, now;
	size_t dropped = 0;

	(void)shutdown(c->fd, SHUT_WR);
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	while (dropped < LINGER_BYTES) {
		long waited;
		ssize_t n;

		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 +
			 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= LINGER_MS ||
		    poll(&pfd, 1, (int)(LINGER_MS - waited)) <= 0)
			break;
		n = sl_read_some(c->fd, c->buf, sizeof c->buf);
		if (n <= 0)
			break; /* the client's FIN, or its reset */
		dropped += (size_t)n;
	}
}

/* Answers c with an error response whose body says why in one line. */
static void answer_error(struct client *c, int status, const char *why)
{
	char body[SL_ERRLEN + 16], head[256];
	int blen = snprintf(body, sizeof body, "proxy: %s\n", why);
	int hlen;

	if (blen < 0 || (size_t)blen >= sizeof body)
		blen = (int)strlen(body); /* cut: still a whole response */
	hlen = snprintf(head, sizeof head,
			"HTTP/1.0 %d %s\r\n"
			"Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Length: %d\r\n"
			"Connection: close\r\n"
			"\r\n",
			status, http_reason(status), blen);
	sl_log(&sl_prog_log, SL_INFO, "%s: %d %s: %s", c->who, status,
	       http_reason(status), why);
	if (send_to_client(c, head, (size_t)hlen) == 0)
		(void)send_to_client(c, body, (size_t)blen);
}

/* Copies the open cached file fd to c; returns the bytes sent, or -1
 * after logging a failure. */
static long long send_cached(struct client *c, int fd)
{
	long long sent = 0;

	/* BLANK 4: Copy the file to the client a bufferful (c->buf) at a time: sl_read_some() until it returns 0, each piece with send_to_client(); log a read error; return the bytes sent, -1 on a failure. */
	for (;;) {
		ssize_t n = sl_read_some(fd, c->buf, sizeof c->buf);

		if (n == 0)
			return sent;
		if (n < 0) {
			sl_log(&sl_prog_log, SL_ERROR, "read cached %s: %s",
			       c->key, strerror(errno));
			return -1;
		}
		if (send_to_client(c, c->buf, (size_t)n) < 0)
			return -1;
		sent += n;
	}
	/* SKELETON 4:
	(void)c;
	(void)fd;
	(void)sent;
	SL_TODO(4);
	return -1;
	*/
	/* END 4 */
}

/* Answers c from the cache when its URL is there; returns true when it
 * did (or began to: a client that left is no reason to ask the origin). */
static bool answer_from_cache(struct client *c)
{
	int fd = webcache_open(&c->proxy->cache, c->key);
	long long sent;

	if (fd < 0) {
		if (errno != ENOENT)
			sl_log(&sl_prog_log, SL_WARN, "open the cached %s: %s",
			       c->key, strerror(errno));
		return false; /* a miss */
	}
	sent = send_cached(c, fd);
	(void)close(fd);
	if (sent >= 0)
		sl_log(&sl_prog_log, SL_INFO,
		       "%s: GET http://%s: cache hit, %lld bytes", c->who,
		       c->key, sent);
	return true;
}

/* Answers c through the origin server (relay.c), caching a GET's
 * response. */
static void answer_from_origin(struct client *c)
{
	bool get = strcmp(c->req.method, "GET") == 0;
	struct relay r = {.client = c->fd,
			  .client_rd = &c->rd,
			  .req = &c->req,
			  .cache = get ? &c->proxy->cache : NULL,
			  .key = c->key};

	switch (relay_run(&r)) {
	case RELAY_DONE:
		sl_log(&sl_prog_log, SL_INFO,
		       "%s: %s http://%s: %d from the origin, %llu body "
		       "bytes%s%s",
		       c->who, c->req.method, c->key, r.status, r.body,
		       r.complete ? "" : " (cut short)",
		       r.cached ? ", cached" : "");
		if (!r.complete && r.err[0] != '\0')
			sl_log(&sl_prog_log, SL_WARN, "%s", r.err);
		return;
	case RELAY_NO_RESPONSE:
		answer_error(c, r.timed_out ? 504 : 502, r.err);
		linger_close(c);
		return;
	case RELAY_CLIENT_GONE:
		sl_log(&sl_prog_log, SL_INFO,
		       "%s: %s http://%s: the client left: %s", c->who,
		       c->req.method, c->key, r.err);
		return;
	}
}

/* Says what is wrong with a request that gets this error status. */
static const char *request_problem(int status)
{
	switch (status) {
	case 408:
		return "the request did not arrive in time";
	case 411:
		return "a POST request needs a Content-Length";
	case 431:
		return "the request's header lines are over 16384 bytes";
	case 501:
		return "only GET and POST of http:// URLs are forwarded";
	default:
		return "malformed request (expected \"GET "
		       "http://host[:port]/path "
		       "HTTP/1.1\" and header lines \"Name: value\")";
	}
}

/* Serves the one request of client c. */
static void serve_client(struct client *c)
{
	int status;

	if (set_io_timeout(c->fd, IO_TIMEOUT_S) < 0)
		sl_log(&sl_prog_log, SL_WARN, "set the timeout of %s: %s",
		       c->who, strerror(errno));
	sl_reader_init(&c->rd, c->fd);
	status = read_request(c);
	if (status == 0 && strcmp(c->req.method, "POST") == 0 &&
	    !c->req.has_length)
		status = 411;
	if (status == 0 && http_cache_key(&c->req, c->key, sizeof c->key) < 0)
		status = 400;
	if (status != 0) {
		answer_error(c, status, request_problem(status));
		linger_close(c);
		return;
	}
	if (strcmp(c->req.method, "GET") == 0 && answer_from_cache(c))
		return;
	answer_from_origin(c);
}

/* Waits until fewer than max_clients threads are busy and takes a slot. */
static void take_slot(struct proxy *p)
{
	/* BLANK 5: Under p->lock, wait on p->slot_free while p->busy has reached p->max_clients, then count this client in p->busy. */
	pthread_mutex_lock(&p->lock);
	while (p->busy >= p->max_clients)
		pthread_cond_wait(&p->slot_free, &p->lock);
	p->busy++;
	pthread_mutex_unlock(&p->lock);
	/* SKELETON 5:
	(void)p;
	SL_TODO(5);
	*/
	/* END 5 */
}

/* Gives a slot back and wakes the main thread if it waits for one. */
static void give_slot(struct proxy *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->busy > 0)
		p->busy--;
	pthread_cond_signal(&p->slot_free);
	pthread_mutex_unlock(&p->lock);
}

/* The thread of one client: serves it, closes the connection, frees the
 * client and its slot. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	struct proxy *p = c->proxy;

	serve_client(c);
	if (close(c->fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection of %s: %s",
		       c->who, strerror(errno));
	free(c);
	give_slot(p);
	return NULL;
}

/* Waits for the next client; returns a new struct client for it, or NULL
 * after logging a failure. */
static struct client *accept_client(struct proxy *p, int lfd)
{
	struct sockaddr_storage peer;
	char err[SL_ERRLEN];
	struct client *c;
	int fd = sl_accept(lfd, &peer, err, sizeof err);

	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		sl_log(&sl_prog_log, SL_ERROR, "allocate a client: %s",
		       strerror(errno));
		(void)close(fd);
		return NULL;
	}
	c->fd = fd;
	c->proxy = p;
	if (sl_sockaddr_str((const struct sockaddr *)&peer, c->who,
			    sizeof c->who) < 0)
		(void)snprintf(c->who, sizeof c->who, "(unknown address)");
	return c;
}

/* Takes a slot, accepts the next client and starts its thread. */
static void accept_and_spawn(struct proxy *p, int lfd)
{
	struct client *c;
	int rc;

	take_slot(p);
	c = accept_client(p, lfd);
	if (c == NULL) {
		give_slot(p);
		return;
	}
	/* BLANK 6: Start client_main(c) in a thread of its own with sl_start_thread(); if that fails, log why (strerror(rc)), close the socket, free c and give the slot back. */
	rc = sl_start_thread(client_main, c);
	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start a thread for %s: %s",
		       c->who, strerror(rc));
		(void)close(c->fd);
		free(c);
		give_slot(p);
	}
	/* SKELETON 6:
	(void)rc;
	SL_TODO(6);
	(void)client_main(c); // serves one client at a time until then
	*/
	/* END 6 */
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	char err[SL_ERRLEN];
	long max;
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt(argc, argv, ":d:c:")) != -1) {
		if (opt == 'd')
			o->cache_dir = optarg;
		if (opt == 'c' && sl_parse_long(optarg, "MAX_CLIENTS", 1, 1000,
						&max, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 'c')
			o->max_clients = (unsigned)max;
		if (opt == ':' || opt == '?')
			return sl_option_error(&sl_prog_log, usage, opt,
					       optopt);
	}
	if (sl_parse_optional_port(argc, argv, optind, &o->port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {.port = DEFAULT_PORT,
			    .cache_dir = DEFAULT_CACHE_DIR,
			    .max_clients = DEFAULT_MAX_CLIENTS};
	struct proxy p = {.busy = 0};
	char err[SL_ERRLEN];
	int lfd, status;

	sl_log_init(&sl_prog_log, "proxy", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	p.max_clients = o.max_clients;
	/* Sends use MSG_NOSIGNAL; this covers every other write. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	if (webcache_init(&p.cache, o.cache_dir, err, sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	lfd = sl_tcp_listen(NULL, o.port, BACKLOG, err, sizeof err);
	if (lfd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.slot_free, NULL);
	sl_log(&sl_prog_log, SL_INFO,
	       "listening on port %u (cache in %s, at most %u clients at once)",
	       (unsigned)o.port, o.cache_dir, o.max_clients);
	for (;;)
		accept_and_spawn(&p, lfd);
}
