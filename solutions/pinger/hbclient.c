/*
 * hbclient - the UDP heartbeat client: "I am alive", every INTERVAL_MS.
 *
 * Sends "Heartbeat <seq> <time>" to an hbserver, seq 1, 2, 3, ... and the
 * wall-clock time of sending, one datagram every INTERVAL_MS, until killed
 * or until COUNT heartbeats are sent. Nothing comes back: a heartbeat is
 * one-way, and the server tells from the numbers which ones were lost and
 * from the time how long each took.
 *
 * The heartbeats keep their rhythm: heartbeat n leaves at start + (n-1) *
 * interval on the monotonic clock, so the time spent sending never adds up
 * into a drift.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pingclock.h"
#include "pingwire.h"
#include "sl_args.h"
#include "sl_log.h"
#include "sl_net.h"

#define DEFAULT_INTERVAL_MS 1000

static const char usage[] =
	"Usage: hbclient [-h] HOST PORT [-i INTERVAL_MS] [-c COUNT]\n"
	"\n"
	"UDP heartbeat client: sends \"Heartbeat <seq> <time>\" to an "
	"hbserver\n"
	"every INTERVAL_MS, seq counting from 1, time in microseconds of the\n"
	"wall clock.\n"
	"\n"
	"Arguments:\n"
	"  HOST            server name or address, IPv4 or IPv6 (required)\n"
	"  PORT            server UDP port, 1-65535 (required; hbserver uses "
	"12001)\n"
	"  -i INTERVAL_MS  time between two heartbeats, 10-3600000 "
	"milliseconds\n"
	"                  (default: 1000)\n"
	"  -c COUNT        stop after COUNT heartbeats, 1-1000000000 "
	"(default:\n"
	"                  until killed)\n"
	"  -h, --help      print this help to standard output and exit\n"
	"\n"
	"Options may come before or after HOST and PORT. Logs go to standard\n"
	"error.\n"
	"\n"
	"Exit status:\n"
	"  0  COUNT heartbeats sent\n"
	"  1  the socket failed\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The heartbeat sender. */
struct beater {
	int fd;		     /* UDP socket connected to the server */
	const char *server;  /* "HOST:PORT", for messages */
	int64_t interval_us; /* between two heartbeats */
	uint64_t count;	     /* heartbeats to send, 0: no end */
};

/* Sleeps until monotonic time due_us. An absolute wake-up time keeps the
 * rhythm: sleeping "interval" after each send would add the send's time
 * to every interval. */
static void sleep_until(int64_t due_us)
{
	struct timespec due = {.tv_sec = due_us / 1000000,
			       .tv_nsec = due_us % 1000000 * 1000};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) ==
	       EINTR)
		;
}

/* Sends heartbeat seq stamped with the wall clock; returns 0, or -1 after
 * logging a failure that ends the run. */
static int send_heartbeat(const struct beater *b, uint64_t seq)
{
	struct pw_msg msg = {.seq = seq, .time_us = wall_now_us()};
	char buf[PW_MAX];
	size_t len = pw_format(buf, sizeof buf, PW_HEARTBEAT, &msg);
	ssize_t n;

	do {
		n = send(b->fd, buf, len, 0);
		/* ECONNREFUSED: an ICMP "port unreachable" that an earlier
		 * heartbeat brought back, and this one was not sent. No
		 * server right now: say so and send anyway (one may come). */
		if (n < 0 && errno == ECONNREFUSED)
			sl_log(&sl_prog_log, SL_WARN,
			       "no server at %s (port unreachable)", b->server);
	} while (n < 0 && (errno == EINTR || errno == ECONNREFUSED));
	if (n < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", b->server,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* Sends the heartbeats; returns the exit status. */
static int beat(const struct beater *b)
{
	int64_t due = mono_now_us(); /* the first one leaves at once */

	for (uint64_t seq = 1; b->count == 0 || seq <= b->count; seq++) {
		/* BLANK 1: Sleep until due with sleep_until(), send heartbeat seq with send_heartbeat() (return SL_EXIT_FAILURE if it fails), then move due one interval on. */
		sleep_until(due);
		if (send_heartbeat(b, seq) < 0)
			return SL_EXIT_FAILURE;
		due += b->interval_us;
		/* SKELETON 1:
		(void)seq;
		(void)due;
		(void)sleep_until;    // yours to call
		(void)send_heartbeat; // yours to call
		SL_TODO(1);
		return SL_EXIT_FAILURE;
		*/
		/* END 1 */
	}
	return SL_EXIT_OK;
}

/* Opens the socket to host:port and sends the heartbeats; returns the exit
 * status. */
static int run(const char *host, uint16_t port, long interval_ms, long count)
{
	char server[SL_HOSTPORTLEN], err[SL_ERRLEN];
	struct beater b = {.server = server,
			   .interval_us = (int64_t)interval_ms * 1000,
			   .count = (uint64_t)count};
	int status;

	(void)sl_hostport_str(host, port, server, sizeof server);
	b.fd = sl_udp_connect(host, port, err, sizeof err);
	if (b.fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO, "sending heartbeats to %s every %ld ms",
	       server, interval_ms);
	status = beat(&b);
	if (close(b.fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close socket: %s",
		       strerror(errno));
		status = SL_EXIT_FAILURE;
	}
	return status;
}

int main(int argc, char *argv[])
{
	long interval_ms = DEFAULT_INTERVAL_MS, count = 0;
	char err[SL_ERRLEN];
	uint16_t port;
	static const struct option no_long_options[] = {{NULL, 0, NULL, 0}};
	int opt;

	sl_log_init(&sl_prog_log, "hbclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	opterr = 0; /* we report bad options ourselves */
	/* getopt_long(), unlike POSIX getopt(), also finds the options
	 * after HOST and PORT. There are no long options but --help. */
	while ((opt = getopt_long(argc, argv, ":i:c:", no_long_options,
				  NULL)) != -1) {
		if (opt == ':' || opt == '?')
			return sl_option_error(&sl_prog_log, usage, opt,
					       optopt);
		if (opt == 'i' &&
		    sl_parse_long(optarg, "INTERVAL_MS", 10, 3600000,
				  &interval_ms, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 'c' && sl_parse_long(optarg, "COUNT", 1, 1000000000,
						&count, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
	}
	if (argc - optind != 2)
		return sl_usage_error(&sl_prog_log, usage,
				      "expected HOST and PORT, got %d "
				      "argument(s)",
				      argc - optind);
	if (sl_parse_port(argv[optind + 1], &port, err, sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return run(argv[optind], port, interval_ms, count);
}
