/*
 * pingserver - the echo server of the UDP pinger, with simulated loss.
 *
 * Answers each ping "Ping <seq> <time>" with the same datagram in upper
 * case, "PING <seq> <time>", sent back to its sender: the server of the
 * original assignment, in C. To show what a client must cope with, it
 * drops LOSS percent of the pings and holds each reply DELAY_MS before
 * sending it.
 *
 * Which pings are dropped comes from a small random generator started from
 * a seed: the same seed drops the same pings again, so a run can be
 * replayed. The delay never stops the server: replies wait in a queue
 * while it goes on receiving, and poll() wakes it when the first one is
 * due. Datagrams that are not pings are logged and ignored. Runs until
 * killed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pingclock.h"
#include "pingwire.h"
#include "sl_args.h"
#include "sl_log.h"
#include "sl_net.h"

#define DEFAULT_PORT 12000
#define DEFAULT_LOSS 30
#define MAX_DELAY_MS 60000

/* Replies that may wait at once; more pings within one delay are dropped
 * (and logged) rather than queued without bound. */
#define QUEUE_MAX 256

static const char usage[] =
	"Usage: pingserver [-h] [--loss PERCENT] [--delay MS] [--seed S] "
	"[PORT]\n"
	"\n"
	"Echo server of the UDP pinger: answers each ping \"Ping <seq> "
	"<time>\"\n"
	"with \"PING <seq> <time>\" sent back to its sender, after dropping\n"
	"some pings on purpose. Runs until killed; logs go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  PORT            UDP port to listen on, on every IPv6 and IPv4\n"
	"                  address, 1-65535 (default: 12000)\n"
	"  --loss PERCENT  drop this percentage of the pings, 0-100 "
	"(default: 30)\n"
	"  --delay MS      send each reply MS milliseconds after its ping\n"
	"                  came, 0-60000 (default: 0)\n"
	"  --seed S        start the loss generator from S, "
	"0-9223372036854775807\n"
	"                  (default: from the clock; the seed is logged)\n"
	"  -h, --help      print this help to standard output and exit\n"
	"\n"
	"Each ping takes one draw r of the generator (splitmix64, seeded with\n"
	"S) and is dropped when r % 100 < PERCENT; the same seed drops the "
	"same\n"
	"pings. Datagrams that are not pings get no reply and take no draw.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	long loss_percent;
	long delay_ms;
	long seed;
	bool seed_given;
};

/* A reply waiting for its time. */
struct pending {
	int64_t due_us; /* monotonic time to send it */
	struct sockaddr_storage to;
	socklen_t tolen;
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT" of to, for messages */
	size_t len;
	char data[PW_MAX];
};

/* Replies in the order they are due: every reply waits the same delay,
 * so the first one queued is always the first one due (a FIFO ring). */
struct reply_queue {
	struct pending item[QUEUE_MAX];
	size_t head;  /* index of the first reply */
	size_t count; /* replies queued */
};

/* The server's state, owned by main(). */
struct server {
	int fd;
	unsigned loss_percent;
	int64_t delay_us;
	uint64_t rng; /* the generator's whole state */
	struct reply_queue queue;
};

/*
 * Returns the next number of the splitmix64 generator (Steele, Lea and
 * Flood, 2014). Its whole state is one 64-bit number, so a seed replays
 * the same sequence, and the grader computes the same numbers in Python.
 */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Queues a reply of len bytes to be sent to `to` at due_us; returns 0, or
 * -1 when the queue is full. */
static int queue_push(struct reply_queue *q, int64_t due_us, const char *data,
		      size_t len, const struct sockaddr_storage *to,
		      socklen_t tolen, const char *who)
{
	struct pending *r;

	if (q->count == QUEUE_MAX)
		return -1;
	r = &q->item[(q->head + q->count) % QUEUE_MAX];
	r->due_us = due_us;
	r->to = *to;
	r->tolen = tolen;
	(void)snprintf(r->who, sizeof r->who, "%s", who);
	memcpy(r->data, data, len);
	r->len = len;
	q->count++;
	return 0;
}

/* Sends one reply; a failure is logged and the server goes on. */
static void send_reply(int fd, const struct pending *r)
{
	ssize_t n;

	/* One datagram out: sendto() sends all of it or fails; a signal
	 * (EINTR) means it sent nothing yet. */
	do {
		n = sendto(fd, r->data, r->len, 0,
			   (const struct sockaddr *)&r->to, r->tolen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", r->who,
		       strerror(errno));
}

/* Sends, in order, every queued reply that is due at now_us. */
static void send_due_replies(struct server *srv, int64_t now_us)
{
	struct reply_queue *q = &srv->queue;

	while (q->count > 0 && q->item[q->head].due_us <= now_us) {
		send_reply(srv->fd, &q->item[q->head]);
		q->head = (q->head + 1) % QUEUE_MAX;
		q->count--;
	}
}

/* Returns the poll() timeout until the first queued reply is due, or -1
 * (wait for ever) when none is queued. */
static int poll_timeout(const struct server *srv)
{
	const struct reply_queue *q = &srv->queue;

	return q->count > 0 ? ms_until(q->item[q->head].due_us) : -1;
}

/* Tells whether ping seq from who is dropped, and logs the decision. */
static bool simulate_loss(struct server *srv, uint64_t seq, const char *who)
{
	bool drop = false;

	/* BLANK 8: Take one draw of next_random(&srv->rng) per ping: drop the ping when the draw % 100 is below srv->loss_percent. */
	drop = next_random(&srv->rng) % 100 < srv->loss_percent;
	/* SKELETON 8:
	(void)srv;
	(void)next_random; // yours to call
	SL_TODO(8);
	*/
	/* END 8 */
	if (drop)
		sl_log(&sl_prog_log, SL_INFO,
		       "dropped ping %" PRIu64 " from %s (simulated loss)", seq,
		       who);
	return drop;
}

/* Receives one datagram; queues the reply to a ping that is not dropped.
 * Anything else is logged and ignored. */
static void serve_datagram(struct server *srv)
{
	char buf[PW_MAX], who[SL_ADDRSTRLEN];
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof peer;
	struct pw_msg msg;
	ssize_t n;

	/* MSG_TRUNC: n is the datagram's whole length, even when only the
	 * first PW_MAX bytes fit in buf. */
	n = recvfrom(srv->fd, buf, sizeof buf, MSG_TRUNC,
		     (struct sockaddr *)&peer, &peerlen);
	if (n < 0) {
		if (errno != EINTR)
			sl_log(&sl_prog_log, SL_ERROR, "receive: %s",
			       strerror(errno));
		return;
	}
	if (sl_sockaddr_str((struct sockaddr *)&peer, who, sizeof who) < 0)
		(void)snprintf(who, sizeof who, "(unknown address)");
	if ((size_t)n > sizeof buf ||
	    pw_parse(buf, (size_t)n, PW_PING, &msg) < 0) {
		sl_log(&sl_prog_log, SL_WARN,
		       "%zd bytes from %s: not a ping, ignored", n, who);
		return;
	}
	if (simulate_loss(srv, msg.seq, who))
		return;
	pw_upper(buf, (size_t)n);
	if (queue_push(&srv->queue, mono_now_us() + srv->delay_us, buf,
		       (size_t)n, &peer, peerlen, who) < 0)
		sl_log(&sl_prog_log, SL_WARN,
		       "ping %" PRIu64 " from %s dropped: %d replies already "
		       "wait",
		       msg.seq, who, QUEUE_MAX);
}

/* Serves for ever: waits for the next datagram or the next reply due,
 * whichever comes first. */
static void serve(struct server *srv)
{
	struct pollfd pfd = {.fd = srv->fd, .events = POLLIN};

	for (;;) {
		/* BLANK 9: poll() for a datagram, at most until the first queued reply is due (poll_timeout()); serve the datagram if one came, then send the replies that are due. */
		int ready = poll(&pfd, 1, poll_timeout(srv));

		if (ready < 0 && errno != EINTR)
			sl_log(&sl_prog_log, SL_ERROR, "poll: %s",
			       strerror(errno));
		if (ready > 0)
			serve_datagram(srv);
		send_due_replies(srv, mono_now_us());
		/* SKELETON 9:
		(void)pfd;
		(void)poll_timeout;     // yours to call
		(void)serve_datagram;   // yours to call
		(void)send_due_replies; // yours to call
		SL_TODO(9);
		pause();
		*/
		/* END 9 */
	}
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{"loss", required_argument, NULL, 'l'},
		{"delay", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt, rc = 0;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == 'l')
			rc = sl_parse_long(optarg, "PERCENT", 0, 100,
					   &o->loss_percent, err, sizeof err);
		else if (opt == 'd')
			rc = sl_parse_long(optarg, "MS", 0, MAX_DELAY_MS,
					   &o->delay_ms, err, sizeof err);
		else if (opt == 's')
			rc = sl_parse_long(optarg, "S", 0, LONG_MAX, &o->seed,
					   err, sizeof err);
		else if (opt == ':')
			return sl_usage_error(&sl_prog_log, usage,
					      "option %s needs a value",
					      argv[optind - 1]);
		else
			return sl_usage_error(&sl_prog_log, usage,
					      "unknown option %s",
					      argv[optind - 1]);
		if (rc < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 's')
			o->seed_given = true;
	}
	if (sl_parse_optional_port(argc, argv, optind, &o->port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return 0;
}

int main(int argc, char *argv[])
{
	struct server srv = {.fd = -1};
	struct options o = {.port = DEFAULT_PORT, .loss_percent = DEFAULT_LOSS};
	char err[SL_ERRLEN];
	int status;

	sl_log_init(&sl_prog_log, "pingserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	if (!o.seed_given) /* a different run each time, but replayable */
		o.seed = (long)(wall_now_us() % LONG_MAX);
	srv.loss_percent = (unsigned)o.loss_percent;
	srv.delay_us = (int64_t)o.delay_ms * 1000;
	srv.rng = (uint64_t)o.seed;

	srv.fd = sl_udp_bind(NULL, o.port, err, sizeof err);
	if (srv.fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO,
	       "listening on UDP port %u (loss %ld%%, delay %ld ms, seed %ld)",
	       (unsigned)o.port, o.loss_percent, o.delay_ms, o.seed);
	serve(&srv);
	return SL_EXIT_FAILURE; /* serve() never returns */
}
