/*
 * tcpclient - client of the uppercase echo service over TCP.
 *
 * Connects to HOST PORT, then for each line of standard input sends the
 * line and its '\n', waits for the server's reply line and prints it. At
 * the end of standard input it closes the socket: every reply has been
 * read, so the kernel ends the connection with a FIN, not a reset.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

/* Longest line sent or received, without its '\n'. */
#define MAX_LINE 65536

static const char usage[] =
	"Usage: tcpclient [-h] HOST PORT\n"
	"\n"
	"Send each line of standard input to an uppercase echo server over\n"
	"TCP and print the server's reply to each line on standard output.\n"
	"\n"
	"Arguments:\n"
	"  HOST        server name or address, IPv4 or IPv6 (required)\n"
	"  PORT        server TCP port, 1-65535 (required; servers use 12000)\n"
	"  -h, --help  print this help to standard output and exit\n"
	"\n"
	"A line holds up to 65536 bytes of anything but '\\n'; a last line\n"
	"without '\\n' counts as a line. Logs go to standard error.\n"
	"\n"
	"Exit status:\n"
	"  0  every line was sent and answered\n"
	"  1  no connection, the server closed before replying, a line was\n"
	"     too long, or an I/O error\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* Opens a TCP connection to host:port; returns the socket, or -1 after
 * logging why. */
static int connect_server(const char *host, uint16_t port)
{
	char err[SL_ERRLEN];
	int fd;

	/* TODO 1: Connect to the server with sl_tcp_connect() (IPv4 or IPv6). */
	(void)host;
	(void)port;
	fd = -1;
	snprintf(err, sizeof err, "no connection yet");
	SL_TODO(1);
	if (fd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return fd;
}

/* Sends one line and its '\n'; line has room for the '\n' at line[len].
 * Returns 0, or -1 after logging why. */
static int send_line(int fd, char *line, size_t len, const char *server)
{
	/* TODO 2: Put '\n' after the line and send both with one sl_send_all() call. */
	(void)fd;
	(void)line;
	(void)len;
	(void)server;
	SL_TODO(2);
	return -1;
}

/* Reads the server's reply to one line into reply; returns its length, or
 * -1 after logging why. */
static ssize_t receive_reply(struct sl_reader *from_server, char *reply,
			     size_t size, const char *server)
{
	enum sl_line_status st;
	size_t len = 0;

	/* TODO 3: Read one reply line from the server with sl_reader_line(). */
	(void)from_server;
	(void)reply;
	(void)size;
	st = SL_LINE_EOF;
	SL_TODO(3);
	switch (st) {
	case SL_LINE_OK:
		return (ssize_t)len;
	case SL_LINE_EOF:
	case SL_LINE_UNTERMINATED:
		sl_log(&sl_prog_log, SL_ERROR,
		       "server closed the connection before replying");
		break;
	case SL_LINE_TOO_LONG:
		sl_log(&sl_prog_log, SL_ERROR,
		       "reply from %s is longer than %d bytes", server,
		       MAX_LINE);
		break;
	case SL_LINE_ERROR:
		sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s", server,
		       strerror(errno));
		break;
	}
	return -1;
}

/* Writes one reply and its '\n' to standard output, flushed at once so that
 * whoever reads our output sees each reply as soon as it came. */
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

/* Logs why standard input could not give line lineno. */
static void input_failed(enum sl_line_status st, unsigned long lineno)
{
	if (st == SL_LINE_TOO_LONG)
		sl_log(&sl_prog_log, SL_ERROR,
		       "line %lu of standard input is longer than %d bytes",
		       lineno, MAX_LINE);
	else
		sl_log(&sl_prog_log, SL_ERROR, "read standard input: %s",
		       strerror(errno));
}

/* Sends every line of standard input on fd and prints the replies;
 * returns the exit status. */
static int echo_lines(int fd, const char *server)
{
	struct sl_reader in, from_server;
	char line[MAX_LINE + 1];  /* + 1: room for the '\n' we append */
	char reply[MAX_LINE + 1]; /* + 1: room for the reader's NUL */

	sl_reader_init(&in, STDIN_FILENO);
	sl_reader_init(&from_server, fd);
	for (unsigned long lineno = 1;; lineno++) {
		enum sl_line_status st;
		size_t len;
		ssize_t rlen;

		st = sl_reader_line(&in, line, sizeof line, &len, 0);
		if (st == SL_LINE_EOF)
			return SL_EXIT_OK;
		/* SL_LINE_UNTERMINATED: a last line without '\n' counts. */
		if (st != SL_LINE_OK && st != SL_LINE_UNTERMINATED) {
			input_failed(st, lineno);
			return SL_EXIT_FAILURE;
		}
		if (send_line(fd, line, len, server) < 0)
			return SL_EXIT_FAILURE;
		rlen = receive_reply(&from_server, reply, sizeof reply, server);
		if (rlen < 0 || print_reply(reply, (size_t)rlen) < 0)
			return SL_EXIT_FAILURE;
	}
}

/* Connects to host:port and echoes standard input through the server;
 * returns the exit status. */
static int run(const char *host, uint16_t port)
{
	char server[SL_HOSTPORTLEN];
	int fd, status;

	(void)sl_hostport_str(host, port, server, sizeof server);
	fd = connect_server(host, port);
	if (fd < 0)
		return SL_EXIT_FAILURE;
	sl_log(&sl_prog_log, SL_INFO, "connected to %s", server);

	status = echo_lines(fd, server);
	if (close(fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close connection to %s: %s",
		       server, strerror(errno));
		status = SL_EXIT_FAILURE;
	}
	return status;
}

int main(int argc, char *argv[])
{
	char err[SL_ERRLEN];
	uint16_t port;

	sl_log_init(&sl_prog_log, "tcpclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	opterr = 0; /* we report bad options ourselves */
	if (getopt(argc, argv, "") != -1)
		return sl_usage_error(&sl_prog_log, usage, "unknown option -%c",
				      optopt);
	if (argc - optind != 2)
		return sl_usage_error(&sl_prog_log, usage,
				      "expected HOST and PORT, got %d "
				      "argument(s)",
				      argc - optind);
	if (sl_parse_port(argv[optind + 1], &port, err, sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	return run(argv[optind], port);
}
