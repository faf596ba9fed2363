/*
 * hbserver - chat server that checks its clients are alive with heartbeats.
 *
 * Serves many clients at once, one thread per client. Every INTERVAL_MS
 * each client gets a heartbeat "HB n"; a client that leaves MISSES of them
 * unanswered is dropped (the server closes the connection). Lines the
 * clients send ("MSG text") are printed on standard output; lines typed on
 * standard input go to every client ("BCAST text"). Runs until killed.
 *
 * Threads:
 *   main          accepts clients and starts a thread for each
 *   one per client reads its lines (HBACK, MSG) until it leaves
 *   heartbeat     sends the heartbeats and drops silent clients
 *   broadcast     reads standard input and sends each line to everyone
 *
 * All of them share one table of clients. Its lock (struct server's
 * `lock`) is the heart of this program: whoever looks at the table, or at
 * a client's heartbeat counters, or sends to a client, holds it. So a
 * client can never be freed while the heartbeat thread sends to it, two
 * threads never write into one socket at the same time, and the counters
 * are never read half-updated.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
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

#include "hbwire.h"
#include "sl_args.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_thread.h"

#define DEFAULT_PORT 12001
#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_MISSES 3

/* Connections the kernel may complete before we accept them. */
#define BACKLOG 64

static const char usage[] =
	"Usage: hbserver [-h] [-i INTERVAL_MS] [-m MISSES] [PORT]\n"
	"\n"
	"Chat server with heartbeats. Serves many clients at once: prints\n"
	"each line a client sends (\"MSG <text>\") as \"ADDR:PORT: text\" on\n"
	"standard output, and sends each line of its standard input to every\n"
	"client (\"BCAST <text>\"). Every INTERVAL_MS it sends each client a\n"
	"heartbeat \"HB <n>\" (n = 1, 2, 3, ... per client, the first one\n"
	"INTERVAL_MS after the client connected); a client that leaves MISSES\n"
	"heartbeats unanswered is dropped: the server closes the connection.\n"
	"Runs until killed; logs go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  PORT            TCP port to listen on, on every IPv6 and IPv4\n"
	"                  address, 1-65535 (default: 12001)\n"
	"  -i INTERVAL_MS  time between two heartbeats, 10-3600000\n"
	"                  milliseconds (default: 1000)\n"
	"  -m MISSES       unanswered heartbeats that drop a client, 1-1000\n"
	"                  (default: 3)\n"
	"  -h, --help      print this help to standard output and exit\n"
	"\n"
	"A line holds up to 1024 bytes with its '\\n'. A client that sends a\n"
	"longer line is disconnected; the end of standard input stops the\n"
	"broadcasts, not the server.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port could not be opened, or a thread could not start\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	long interval_ms;
	unsigned long misses;
};

/* One connected client. The fields above `next` are set before the client
 * is in the table and never change; the others are guarded by the table
 * lock. */
struct client {
	int fd;			 /* closed only by the client's own thread */
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT", for messages */
	struct server *srv;
	struct client *next; /* the next client in the table */
	bool listed;	     /* in the table (false once removed or dropped) */
	unsigned long sent;  /* heartbeats sent: the last HB carried this */
	unsigned long acked; /* highest heartbeat answered */
	struct timespec due; /* when this client's next tick is due */
};

/* What every thread shares. */
struct server {
	pthread_mutex_t lock;	 /* guards the table and each client's
				    guarded fields, and every send */
	struct client *clients;	 /* the table: a linked list */
	struct timespec interval; /* between two heartbeats */
	unsigned long misses;	 /* unanswered heartbeats that drop a client */
};

/* Returns the monotonic time: it never jumps when the wall clock is set,
 * so intervals measured with it are true. */
static struct timespec now_mono(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t); /* cannot fail here */
	return t;
}

/* Returns a + b. */
static struct timespec ts_add(struct timespec a, struct timespec b)
{
	a.tv_sec += b.tv_sec;
	a.tv_nsec += b.tv_nsec;
	if (a.tv_nsec >= 1000000000L) {
		a.tv_sec++;
		a.tv_nsec -= 1000000000L;
	}
	return a;
}

/* Tells whether a is not later than b. */
static bool ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* Sends a whole line to one client without ever blocking; caller holds
 * the lock. Returns 0, or -1 with errno set (EAGAIN: the client's buffer
 * is full because it stopped reading). */
static int send_locked(struct client *c, const char *buf, size_t len)
{
	/* Blocking here would stall every thread waiting for the lock: a
	 * client that does not read its data is treated as gone instead. */
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Takes c out of the table; caller holds the lock. */
static void unlink_locked(struct server *srv, struct client *c)
{
	struct client **pp = &srv->clients;

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	c->next = NULL;
	c->listed = false;
}

/* Puts a new client into the table, its first heartbeat one interval from
 * now. */
static void add_client(struct server *srv, struct client *c)
{
	/* BLANK 4: Under the lock, set c's first due time to now + interval and put c at the head of the table (c->listed = true). */
	pthread_mutex_lock(&srv->lock);
	c->due = ts_add(now_mono(), srv->interval);
	c->listed = true;
	c->next = srv->clients;
	srv->clients = c;
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 4:
	(void)srv;
	(void)c;
	SL_TODO(4);
	*/
	/* END 4 */
}

/* Takes c out of the table unless the heartbeat thread did already;
 * returns true if c was still in it. */
static bool remove_client(struct server *srv, struct client *c)
{
	bool was_listed = false;

	/* BLANK 5: Under the lock, if c is still listed take it out of the table with unlink_locked() and remember that it was. */
	pthread_mutex_lock(&srv->lock);
	was_listed = c->listed;
	if (was_listed)
		unlink_locked(srv, c);
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 5:
	(void)srv;
	(void)c;
	SL_TODO(5);
	*/
	/* END 5 */
	return was_listed;
}

/* Drops c: our FIN now, out of the table; caller holds the lock. The
 * client's own thread then sees the end of its stream and closes fd. */
static void drop_locked(struct server *srv, struct client *c, const char *why)
{
	sl_log(&sl_prog_log, SL_WARN, "dropping %s: %s", c->who, why);
	/* BLANK 6: Send our FIN and wake the client's thread with shutdown(SHUT_RDWR) on c->fd (not close()). */
	/* Not close(): the client's thread may be inside recv() on this fd,
	 * and a closed number can be reused at once by the next accept().
	 * ENOTCONN: the client reset the connection, nothing left to shut. */
	if (shutdown(c->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		sl_log(&sl_prog_log, SL_ERROR, "shutdown connection of %s: %s",
		       c->who, strerror(errno));
	/* SKELETON 6:
	SL_TODO(6);
	*/
	/* END 6 */
	unlink_locked(srv, c);
}

/* Sends a whole line to c, or drops c when that fails; returns 0, or -1
 * when c was dropped. Caller holds the lock. */
static int send_or_drop_locked(struct server *srv, struct client *c,
			       const char *buf, size_t len)
{
	char why[64];

	if (send_locked(c, buf, len) == 0)
		return 0;
	(void)snprintf(why, sizeof why, "send: %s", strerror(errno));
	drop_locked(srv, c, why);
	return -1;
}

/* Records the answer to heartbeat seq: only a heartbeat that was sent and
 * is newer than the last answer counts. */
static void record_ack(struct server *srv, struct client *c, unsigned long seq)
{
	bool counted = false;

	/* BLANK 7: Under the lock, set c->acked to seq when c->acked < seq <= c->sent (set counted). */
	pthread_mutex_lock(&srv->lock);
	if (c->acked < seq && seq <= c->sent) {
		c->acked = seq;
		counted = true;
	}
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 7:
	(void)srv;
	(void)c;
	(void)seq;
	SL_TODO(7);
	*/
	/* END 7 */
	if (!counted)
		sl_log(&sl_prog_log, SL_DEBUG, "%s: ignored HBACK %lu", c->who,
		       seq);
}

/* One heartbeat tick of client c: drop it if MISSES heartbeats are
 * unanswered, otherwise send the next one; caller holds the lock. */
static void tick_locked(struct server *srv, struct client *c)
{
	char buf[HB_SEQ_LINE_MAX];
	size_t len;

	/* BLANK 8: If c->sent - c->acked >= srv->misses, drop c with drop_locked() ("N heartbeats unanswered") and return. */
	char why[64];

	if (c->sent - c->acked >= srv->misses) {
		(void)snprintf(why, sizeof why, "%lu heartbeats unanswered",
			       c->sent - c->acked);
		drop_locked(srv, c, why);
		return;
	}
	/* SKELETON 8:
	SL_TODO(8);
	*/
	/* END 8 */
	len = hb_format_seq(buf, sizeof buf, "HB", c->sent + 1);
	if (send_or_drop_locked(srv, c, buf, len) == 0)
		c->sent++;
}

/* Runs the ticks that are due at now, and returns when the next one is
 * due (now + interval when the table is empty); caller holds the lock. */
static struct timespec run_due_ticks(struct server *srv, struct timespec now)
{
	struct timespec next = ts_add(now, srv->interval);
	struct client *c, *after;

	for (c = srv->clients; c != NULL; c = after) {
		after = c->next; /* a tick may take c out of the table */
		if (ts_le(c->due, now)) {
			/* Advance by whole intervals, so late wake-ups do
			 * not add up; skip the ticks that a very late
			 * wake-up missed rather than send them in a burst. */
			c->due = ts_add(c->due, srv->interval);
			if (ts_le(c->due, now))
				c->due = ts_add(now, srv->interval);
			tick_locked(srv, c);
			if (!c->listed)
				continue; /* dropped: c belongs to its thread */
		}
		if (!ts_le(next, c->due))
			next = c->due;
	}
	return next;
}

/* The heartbeat thread: one thread keeps every client's own schedule,
 * sleeping until the earliest due tick. */
static void *heartbeat_main(void *arg)
{
	struct server *srv = arg;
	struct timespec wake;

	for (;;) {
		pthread_mutex_lock(&srv->lock);
		wake = run_due_ticks(srv, now_mono());
		pthread_mutex_unlock(&srv->lock);
		/* A client added while we sleep is due one interval after
		 * it came, never before `wake`: nobody needs to wake us. An
		 * absolute time on the monotonic clock keeps the rhythm. */
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake,
				       NULL) == EINTR)
			;
	}
	return NULL;
}

/* Sends "BCAST <text>\n" to every client in the table; drops those whose
 * send fails. */
static void broadcast(struct server *srv, const char *text, size_t len)
{
	char buf[HB_LINE_MAX + 1];
	size_t n = hb_format_text(buf, sizeof buf, "BCAST", text, len);

	/* BLANK 9: Under the lock, send buf (n bytes) to every client of the table with send_or_drop_locked(). */
	struct client *c, *after;

	pthread_mutex_lock(&srv->lock);
	for (c = srv->clients; c != NULL; c = after) {
		after = c->next; /* a drop takes c out of the table */
		(void)send_or_drop_locked(srv, c, buf, n);
	}
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 9:
	(void)srv;
	(void)n;
	SL_TODO(9);
	*/
	/* END 9 */
}

/* The broadcast thread: each line of standard input goes to every
 * client; at the end of input the thread ends and the server goes on. */
static void *stdin_main(void *arg)
{
	struct server *srv = arg;
	struct sl_reader in;
	/* The longest text that fits a line: "BCAST " + text + '\n'. */
	char line[HB_LINE_MAX - 7 + 1];
	size_t len;

	sl_reader_init(&in, STDIN_FILENO);
	for (;;) {
		switch (sl_reader_line(&in, line, sizeof line, &len, 0)) {
		case SL_LINE_OK:
		case SL_LINE_UNTERMINATED:
			broadcast(srv, line, len);
			continue;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "a line of standard input is longer than %zu "
			       "bytes: not sent",
			       sizeof line - 1);
			if (sl_reader_skip_line(&in) != SL_LINE_OK)
				break;
			continue;
		case SL_LINE_EOF:
			break;
		case SL_LINE_ERROR:
			sl_log(&sl_prog_log, SL_ERROR,
			       "read standard input: %s", strerror(errno));
			break;
		}
		sl_log(&sl_prog_log, SL_INFO,
		       "end of standard input: no more broadcasts");
		return NULL;
	}
}

/* Prints "ADDR:PORT: text" on standard output as one line. */
static void print_msg(const struct client *c, const char *text, size_t len)
{
	char out[SL_ADDRSTRLEN + 2 + HB_LINE_MAX];
	size_t wlen = strlen(c->who);

	/* One fwrite() of the whole line: stdio locks the stream for each
	 * call, so the lines of two client threads never mix. */
	memcpy(out, c->who, wlen);
	memcpy(out + wlen, ": ", 2);
	memcpy(out + wlen + 2, text, len);
	out[wlen + 2 + len] = '\n';
	if (fwrite(out, 1, wlen + 3 + len, stdout) != wlen + 3 + len ||
	    fflush(stdout) == EOF)
		sl_log(&sl_prog_log, SL_ERROR, "write standard output: %s",
		       strerror(errno));
}

/* Acts on one line from client c. */
static void handle_client_line(struct client *c, const char *line,
			       size_t len)
{
	struct hb_msg msg;

	hb_parse(line, len, &msg);
	switch (msg.kind) {
	case HB_KIND_HBACK:
		record_ack(c->srv, c, msg.seq);
		return;
	case HB_KIND_MSG:
		print_msg(c, msg.text, msg.len);
		return;
	case HB_KIND_HB:
	case HB_KIND_BCAST:
	case HB_KIND_UNKNOWN:
		break;
	}
	sl_log(&sl_prog_log, SL_WARN, "%s sent an unknown line (%zu bytes): "
	       "ignored", c->who, len);
}

/* Reads the lines of client c until it leaves, is dropped, or breaks the
 * protocol (logged). */
static void read_client(struct client *c)
{
	struct sl_reader rd;
	char line[HB_LINE_MAX]; /* the longest line without '\n', and a NUL */
	size_t len;

	sl_reader_init(&rd, c->fd);
	for (;;) {
		switch (sl_reader_line(&rd, line, sizeof line, &len, 0)) {
		case SL_LINE_OK:
			handle_client_line(c, line, len);
			continue;
		case SL_LINE_EOF:
			return;
		case SL_LINE_UNTERMINATED:
			sl_log(&sl_prog_log, SL_WARN,
			       "%s ended with a line without '\\n': ignored",
			       c->who);
			return;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "%s sent a line longer than %d bytes: closing "
			       "the connection",
			       c->who, HB_LINE_MAX);
			return;
		case SL_LINE_ERROR:
			sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s",
			       c->who, strerror(errno));
			return;
		}
	}
}

/* The thread of one client: serves it, takes it out of the table, closes
 * its socket (our FIN, unless a drop sent it already) and frees it. */
static void *client_main(void *arg)
{
	struct client *c = arg;

	read_client(c);
	/* Once out of the table no other thread can reach c: closing and
	 * freeing it is safe. */
	if (remove_client(c->srv, c))
		sl_log(&sl_prog_log, SL_INFO, "%s left", c->who);
	if (close(c->fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection of %s: %s",
		       c->who, strerror(errno));
	free(c);
	return NULL;
}

/* Waits for the next client; returns its socket (its address in *peer),
 * or -1 after logging a failure. */
static int accept_client(int lfd, struct sockaddr_storage *peer)
{
	char err[SL_ERRLEN];
	int fd = sl_accept(lfd, peer, err, sizeof err);

	if (fd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return fd;
}

/* Returns a new client for socket fd from peer, not in the table yet, or
 * NULL after logging why. */
static struct client *new_client(struct server *srv, int fd,
				 const struct sockaddr_storage *peer)
{
	struct client *c = calloc(1, sizeof *c);

	if (c == NULL) {
		sl_log(&sl_prog_log, SL_ERROR, "allocate a client: %s",
		       strerror(errno));
		return NULL;
	}
	c->fd = fd;
	c->srv = srv;
	if (sl_sockaddr_str((const struct sockaddr *)peer, c->who,
			    sizeof c->who) < 0)
		(void)snprintf(c->who, sizeof c->who, "(unknown address)");
	return c;
}

/* Accepts the next client, puts it in the table and starts its thread. */
static void accept_and_spawn(struct server *srv, int lfd)
{
	struct sockaddr_storage peer;
	struct client *c;
	int fd = accept_client(lfd, &peer);

	if (fd < 0)
		return;
	c = new_client(srv, fd, &peer);
	if (c == NULL) {
		(void)close(fd);
		return;
	}
	sl_log(&sl_prog_log, SL_INFO, "connection from %s", c->who);
	add_client(srv, c);
	/* BLANK 10: Start client_main(c) in a thread of its own with sl_start_thread(); if that fails, log it and clean up as client_main() would. */
	int rc = sl_start_thread(client_main, c);

	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start a thread for %s: %s",
		       c->who, strerror(rc));
		(void)remove_client(srv, c);
		(void)close(fd);
		free(c);
	}
	/* SKELETON 10:
	SL_TODO(10);
	(void)client_main(c); // serves one client at a time until then
	*/
	/* END 10 */
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	char err[SL_ERRLEN];
	long misses;
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt(argc, argv, ":i:m:")) != -1) {
		if (opt == 'i' &&
		    sl_parse_long(optarg, "INTERVAL_MS", 10, 3600000,
				  &o->interval_ms, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 'm' &&
		    sl_parse_long(optarg, "MISSES", 1, 1000, &misses, err,
				  sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 'm')
			o->misses = (unsigned long)misses;
		if (opt == ':' || opt == '?')
			return sl_option_error(&sl_prog_log, usage, opt,
					       optopt);
	}
	if (sl_parse_optional_port(argc, argv, optind, &o->port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return 0;
}

/* Starts the heartbeat and broadcast threads, then accepts clients
 * forever; returns only when a thread cannot start. */
static int serve(struct server *srv, int lfd)
{
	int rc = sl_start_thread(heartbeat_main, srv);

	if (rc == 0)
		rc = sl_start_thread(stdin_main, srv);
	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start a thread: %s",
		       strerror(rc));
		return SL_EXIT_FAILURE;
	}
	for (;;)
		accept_and_spawn(srv, lfd);
}

int main(int argc, char *argv[])
{
	struct options o = {.port = DEFAULT_PORT,
			    .interval_ms = DEFAULT_INTERVAL_MS,
			    .misses = DEFAULT_MISSES};
	struct server srv = {.clients = NULL};
	char err[SL_ERRLEN];
	int lfd, status;

	sl_log_init(&sl_prog_log, "hbserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	srv.interval.tv_sec = o.interval_ms / 1000;
	srv.interval.tv_nsec = o.interval_ms % 1000 * 1000000L;
	srv.misses = o.misses;

	/* send_locked() asks for no SIGPIPE; this covers standard output. */
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
	sl_log(&sl_prog_log, SL_INFO,
	       "listening on port %u (heartbeat every %ld ms, drop after %lu "
	       "unanswered)",
	       (unsigned)o.port, o.interval_ms, o.misses);
	return serve(&srv, lfd);
}
