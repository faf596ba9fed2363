/*
 * hbserver - the UDP heartbeat server: who is alive, who went quiet.
 *
 * Receives "Heartbeat <seq> <time>" datagrams from any number of hbclients
 * on one socket and reports on standard output, per client (known by its
 * address and port): each heartbeat with its one-way delay (our wall clock
 * minus the time it carries), the heartbeats lost (gaps in the numbers),
 * and that the client stopped once no heartbeat came for TIMEOUT_MS. A
 * stopped client is forgotten; the server goes on serving the others, and
 * the next heartbeat from that address starts a new client. Runs until
 * killed.
 *
 * The one-way delay compares two wall clocks, the client's and ours: it is
 * exact on one host and as good as the clocks' synchronisation (NTP)
 * between two. Silences are measured with the monotonic clock.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
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

#define DEFAULT_PORT	   12001
#define DEFAULT_TIMEOUT_MS 3000

/* Clients followed at once; heartbeats from more are logged and ignored. */
#define MAX_CLIENTS 64

static const char usage[] =
	"Usage: hbserver [-h] [--timeout MS] [PORT]\n"
	"\n"
	"UDP heartbeat server: for each client, prints every heartbeat with\n"
	"its one-way delay, the heartbeats lost, and that the client stopped\n"
	"when no heartbeat came for MS milliseconds. Serves any number of\n"
	"clients at once and runs until killed; logs go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  PORT          UDP port to listen on, on every IPv6 and IPv4\n"
	"                address, 1-65535 (default: 12001)\n"
	"  --timeout MS  silence after which a client has stopped, 10-3600000\n"
	"                milliseconds (default: 3000)\n"
	"  -h, --help    print this help to standard output and exit\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* One client, known by its address. */
struct client {
	bool active;		 /* the slot is in use */
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT": the client's identity */
	uint64_t last_seq;	 /* highest heartbeat number counted */
	int64_t last_mono_us;	 /* when that heartbeat came */
	uint64_t received;	 /* heartbeats counted */
	uint64_t lost;		 /* heartbeats missing from the numbers */
};

/* The server's state, owned by main(). */
struct server {
	int fd;
	long timeout_ms;
	struct client clients[MAX_CLIENTS];
};

/* Prints one line of the report and flushes it at once; a failure is
 * logged. */
static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n < 0 || putchar('\n') == EOF || fflush(stdout) == EOF)
		sl_log(&sl_prog_log, SL_ERROR, "write standard output: %s",
		       strerror(errno));
}

/* Returns the active client called who, or NULL. */
static struct client *find_client(struct server *srv, const char *who)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		if (c->active && strcmp(c->who, who) == 0)
			return c;
	}
	return NULL;
}

/* Takes a free slot for a new client called who and reports it; returns
 * it, or NULL (logged) when every slot is taken. */
static struct client *add_client(struct server *srv, const char *who)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		if (!c->active) {
			*c = (struct client){.active = true};
			(void)snprintf(c->who, sizeof c->who, "%s", who);
			report("%s: new client", who);
			return c;
		}
	}
	sl_log(&sl_prog_log, SL_WARN,
	       "%d clients already: heartbeat from %s ignored", MAX_CLIENTS,
	       who);
	return NULL;
}

/* Reports the gap first..last (first <= last) of lost heartbeats. */
static void report_lost(struct client *c, uint64_t first, uint64_t last)
{
	c->lost += last - first + 1;
	if (first == last)
		report("%s: lost heartbeat %" PRIu64, c->who, first);
	else
		report("%s: lost heartbeats %" PRIu64 "-%" PRIu64, c->who,
		       first, last);
}

/*
 * Counts heartbeat hb of client c, which came at monotonic time now_mono
 * and wall-clock time now_wall: reports the numbers missing since the last
 * one, then the heartbeat and its one-way delay. A number not above the
 * last one (a duplicate, or one overtaken by a later one) is reported and
 * not counted.
 */
static void record_heartbeat(struct client *c, const struct pw_msg *hb,
			     int64_t now_mono, uint64_t now_wall)
{
	/* TODO 2: If hb->seq is not above c->last_seq, report "out of order (ignored)" and return. Otherwise report the gap after c->last_seq with report_lost(), then "heartbeat N, delay D ms" (wall clock now minus hb->time_us), and update c's counters. */
	(void)c;
	(void)hb;
	(void)now_mono;
	(void)now_wall;
	(void)report_lost; // yours to call
	SL_TODO(2);
}

/* Receives one datagram and counts it if it is a heartbeat; anything else
 * is logged and ignored. */
static void receive_heartbeat(struct server *srv)
{
	char buf[PW_MAX], who[SL_ADDRSTRLEN];
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof peer;
	struct client *c;
	struct pw_msg hb;
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
	    pw_parse(buf, (size_t)n, PW_HEARTBEAT, &hb) < 0) {
		sl_log(&sl_prog_log, SL_WARN,
		       "%zd bytes from %s: not a heartbeat, ignored", n, who);
		return;
	}
	c = find_client(srv, who);
	if (c == NULL)
		c = add_client(srv, who);
	if (c != NULL)
		record_heartbeat(c, &hb, mono_now_us(), wall_now_us());
}

/* Reports and forgets every client silent for the timeout at now_mono. */
static void expire_clients(struct server *srv, int64_t now_mono)
{
	int64_t timeout_us = (int64_t)srv->timeout_ms * 1000;

	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		/* TODO 3: If c is active and its last heartbeat is timeout_us or more before now_mono, report "stopped: no heartbeat for T ms after heartbeat N (R received, L lost)" and free its slot. */
		(void)c;
		(void)timeout_us;
		(void)now_mono;
		SL_TODO(3);
	}
}

/* Returns the poll() timeout until the first active client's silence
 * reaches the timeout, or -1 (wait for ever) when there is none. */
static int poll_timeout(const struct server *srv)
{
	int64_t timeout_us = (int64_t)srv->timeout_ms * 1000;
	int64_t first = 0;
	bool any = false;

	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		const struct client *c = &srv->clients[i];
		int64_t deadline = c->last_mono_us + timeout_us;

		if (c->active && (!any || deadline < first)) {
			first = deadline;
			any = true;
		}
	}
	return any ? ms_until(first) : -1;
}

/* Serves for ever: waits for the next heartbeat or the next client
 * deadline, whichever comes first. */
static void serve(struct server *srv)
{
	struct pollfd pfd = {.fd = srv->fd, .events = POLLIN};

	for (;;) {
		int ready = poll(&pfd, 1, poll_timeout(srv));

		if (ready < 0 && errno != EINTR)
			sl_log(&sl_prog_log, SL_ERROR, "poll: %s",
			       strerror(errno));
		if (ready > 0)
			receive_heartbeat(srv);
		expire_clients(srv, mono_now_us());
	}
}

/* Reads the command line into port and timeout_ms; returns 0, or the exit
 * status of bad usage (after reporting it). */
static int parse_options(int argc, char *argv[], uint16_t *port,
			 long *timeout_ms)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == ':')
			return sl_usage_error(&sl_prog_log, usage,
					      "option %s needs a value",
					      argv[optind - 1]);
		if (opt == '?')
			return sl_usage_error(&sl_prog_log, usage,
					      "unknown option %s",
					      argv[optind - 1]);
		if (sl_parse_long(optarg, "MS", 10, 3600000, timeout_ms, err,
				  sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
	}
	if (sl_parse_optional_port(argc, argv, optind, port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return 0;
}

int main(int argc, char *argv[])
{
	struct server srv = {.fd = -1, .timeout_ms = DEFAULT_TIMEOUT_MS};
	uint16_t port = DEFAULT_PORT;
	char err[SL_ERRLEN];
	int status;

	sl_log_init(&sl_prog_log, "hbserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &port, &srv.timeout_ms);
	if (status != 0)
		return status;
	srv.fd = sl_udp_bind(NULL, port, err, sizeof err);
	if (srv.fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO,
	       "listening on UDP port %u (a client stops after %ld ms of "
	       "silence)",
	       (unsigned)port, srv.timeout_ms);
	serve(&srv);
	return SL_EXIT_FAILURE; /* serve() never returns */
}
