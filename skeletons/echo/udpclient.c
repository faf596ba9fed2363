/*
 * udpclient - client of the uppercase echo service over UDP.
 *
 * Sends each line of standard input as one datagram and prints the reply.
 * UDP may lose a datagram or its reply, so the client waits at most
 * TIMEOUT_MS for each reply and then goes on with the next line.
 *
 * The socket is "connected" (sl_udp_connect): the kernel then accepts
 * datagrams from the server's address only, and reports an ICMP "port
 * unreachable" (no server on that port) as ECONNREFUSED.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_args.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

/* Largest payload of one UDP datagram over IPv4; our longest line. */
#define MAX_DATAGRAM 65507

/* Room for any reply: no UDP payload is longer, even over IPv6. */
#define REPLY_BUF 65536

#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TIMEOUT_MS	   600000

static const char usage[] =
	"Usage: udpclient [-h] [-W TIMEOUT_MS] HOST PORT\n"
	"\n"
	"Send each line of standard input as one UDP datagram to an uppercase\n"
	"echo server and print each reply on standard output.\n"
	"\n"
	"Arguments:\n"
	"  HOST           server name or address, IPv4 or IPv6 (required)\n"
	"  PORT           server UDP port, 1-65535 (required; servers use "
	"12000)\n"
	"  -W TIMEOUT_MS  how long to wait for each reply, 1-600000 "
	"milliseconds\n"
	"                 (default: 1000)\n"
	"  -h, --help     print this help to standard output and exit\n"
	"\n"
	"The '\\n' of a line is not sent; a line holds up to 65507 bytes, and "
	"a\n"
	"last line without '\\n' counts. A line without a reply in time is\n"
	"reported on standard error and the client goes on. Logs go to\n"
	"standard error.\n"
	"\n"
	"Exit status:\n"
	"  0  every line got a reply\n"
	"  1  some line got no reply (timeout, no server, too long, error)\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The server as this client talks to it. */
struct udp_peer {
	int fd;		    /* connected UDP socket */
	const char *server; /* "HOST:PORT", for messages */
	int timeout_ms;	    /* wait for each reply */
};

/* Logs why a send or receive failed; ECONNREFUSED is how an ICMP "port
 * unreachable" comes back on a connected UDP socket. */
static void report_failure(const struct udp_peer *p, const char *what)
{
	if (errno == ECONNREFUSED)
		sl_log(&sl_prog_log, SL_ERROR,
		       "no server at %s (port unreachable)", p->server);
	else
		sl_log(&sl_prog_log, SL_ERROR, "%s %s: %s", what, p->server,
		       strerror(errno));
}

/* Sends one line as one datagram; returns 0, or -1 after logging why. */
static int send_datagram(const struct udp_peer *p, const char *line, size_t len)
{
	ssize_t n;

	/* TODO 8: Send the line as one datagram with send() on the connected socket. */
	(void)line;
	(void)len;
	n = -1;
	errno = ENOSYS;
	SL_TODO(8);
	if (n < 0) {
		report_failure(p, "send to");
		return -1;
	}
	return 0;
}

/* Waits up to the timeout for the reply to line lineno; returns its length,
 * or -1 after logging why (no reply in time, no server, error). */
static ssize_t wait_reply(const struct udp_peer *p, char *reply, size_t size,
			  unsigned long lineno)
{
	ssize_t n;

	/* TODO 9: Wait for the reply with poll() and the timeout, then receive it with recv(). */
	(void)reply;
	(void)size;
	(void)lineno;
	n = -1;
	errno = ENOSYS;
	SL_TODO(9);
	if (n < 0) {
		report_failure(p, "receive from");
		return -1;
	}
	return n;
}

/* Writes one reply and a '\n' to standard output, flushed at once. */
static int print_reply(const char *reply, size_t len)
{
	if (fwrite(reply, 1, len, stdout) != len || putchar('\n') == EOF ||
	    fflush(stdout) == EOF) {
		sl_log(&sl_prog_log, SL_ERROR, "write standard output: %s",
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* Drops the rest of a line too long to send; returns 0, or -1 (logged). */
static int skip_long_line(struct sl_reader *in, unsigned long lineno)
{
	sl_log(&sl_prog_log, SL_ERROR,
	       "line %lu is longer than %d bytes: not sent", lineno,
	       MAX_DATAGRAM);
	if (sl_reader_skip_line(in) == SL_LINE_ERROR) {
		sl_log(&sl_prog_log, SL_ERROR, "read standard input: %s",
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* Sends every line of standard input and prints the replies; returns the
 * exit status. */
static int echo_lines(const struct udp_peer *p)
{
	struct sl_reader in;
	char line[MAX_DATAGRAM + 1]; /* + 1: room for the reader's NUL */
	char reply[REPLY_BUF];
	unsigned long failures = 0;

	sl_reader_init(&in, STDIN_FILENO);
	for (unsigned long lineno = 1;; lineno++) {
		enum sl_line_status st;
		size_t len;
		ssize_t rlen;

		st = sl_reader_line(&in, line, sizeof line, &len, 0);
		if (st == SL_LINE_EOF)
			break;
		if (st == SL_LINE_ERROR) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "read standard input: %s", strerror(errno));
			return SL_EXIT_FAILURE;
		}
		if (st == SL_LINE_TOO_LONG) {
			if (skip_long_line(&in, lineno) < 0)
				return SL_EXIT_FAILURE;
			failures++;
			continue;
		}
		if (send_datagram(p, line, len) < 0 ||
		    (rlen = wait_reply(p, reply, sizeof reply, lineno)) < 0) {
			failures++;
			continue;
		}
		if (print_reply(reply, (size_t)rlen) < 0)
			return SL_EXIT_FAILURE;
	}
	return failures == 0 ? SL_EXIT_OK : SL_EXIT_FAILURE;
}

/* Opens the socket to host:port and echoes standard input through the
 * server; returns the exit status. */
static int run(const char *host, uint16_t port, int timeout_ms)
{
	char server[SL_HOSTPORTLEN], err[SL_ERRLEN];
	struct udp_peer p = {.server = server, .timeout_ms = timeout_ms};
	int status;

	(void)sl_hostport_str(host, port, server, sizeof server);
	p.fd = sl_udp_connect(host, port, err, sizeof err);
	if (p.fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO, "sending to %s over UDP", server);
	status = echo_lines(&p);
	if (close(p.fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close socket: %s",
		       strerror(errno));
		status = SL_EXIT_FAILURE;
	}
	return status;
}

int main(int argc, char *argv[])
{
	long timeout_ms = DEFAULT_TIMEOUT_MS;
	char err[SL_ERRLEN];
	uint16_t port;
	int opt;

	sl_log_init(&sl_prog_log, "udpclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt(argc, argv, ":W:")) != -1) {
		if (opt == ':' || opt == '?')
			return sl_option_error(&sl_prog_log, usage, opt,
					       optopt);
		if (sl_parse_long(optarg, "TIMEOUT_MS", 1, MAX_TIMEOUT_MS,
				  &timeout_ms, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
	}
	if (argc - optind != 2)
		return sl_usage_error(&sl_prog_log, usage,
				      "expected HOST and PORT, got %d "
				      "argument(s)",
				      argc - optind);
	if (sl_parse_port(argv[optind + 1], &port, err, sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return run(argv[optind], port, (int)timeout_ms);
}
