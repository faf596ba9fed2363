/*
 * tcpserver - uppercase echo server over TCP, iterative.
 *
 * Listens on every address, IPv6 and IPv4, and serves one client at a
 * time: each line comes back with ASCII a-z turned to A-Z. When the client
 * closes its side, the server closes the connection and accepts the next
 * client. It runs until killed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

#define DEFAULT_PORT 12000

/* Longest line accepted, without its '\n'. */
#define MAX_LINE 65536

/* Connections the kernel may complete while we serve another client. */
#define BACKLOG 16

static const char usage[] =
	"Usage: tcpserver [-h] [PORT]\n"
	"\n"
	"Uppercase echo server over TCP. Serves one client at a time: answers\n"
	"each line with the same bytes, ASCII a-z turned to A-Z, and closes\n"
	"the connection after the client has closed its side. Runs until\n"
	"killed; logs go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  PORT        TCP port to listen on, on every IPv6 and IPv4 address,\n"
	"              1-65535 (default: 12000)\n"
	"  -h, --help  print this help to standard output and exit\n"
	"\n"
	"A line holds up to 65536 bytes; a client that sends a longer one is\n"
	"disconnected.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* Opens the listening socket on every address, IPv6 and IPv4; returns
 * it, or -1 after logging why. */
static int open_listener(uint16_t port)
{
	char err[SL_ERRLEN];
	int lfd;

	/* BLANK 4: Open the listening socket on every address with sl_tcp_listen(NULL, ...). */
	lfd = sl_tcp_listen(NULL, port, BACKLOG, err, sizeof err);
	/* SKELETON 4:
	(void)port;
	lfd = -1;
	snprintf(err, sizeof err, "not listening yet");
	SL_TODO(4);
	*/
	/* END 4 */
	if (lfd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return lfd;
}

/* Waits a little after a failed accept(): when the process is out of file
 * descriptors, retrying at once would only spin. */
static void back_off(void)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};

	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
}

/* Waits for the next client; returns its socket (its address in *peer),
 * or -1 after logging a failure. */
static int accept_client(int lfd, struct sockaddr_storage *peer)
{
	int fd;

	/* BLANK 5: Accept the next client with accept(), retrying on EINTR and ECONNABORTED. */
	do {
		socklen_t len = sizeof *peer;

		fd = accept(lfd, (struct sockaddr *)peer, &len);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	/* SKELETON 5:
	(void)lfd;
	(void)peer;
	SL_TODO(5);
	pause();
	fd = -1;
	*/
	/* END 5 */
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "accept: %s", strerror(errno));
		back_off();
	}
	return fd;
}

/* Sends len bytes back with ASCII a-z turned to A-Z; returns 0, or -1
 * after logging why. */
static int reply(int fd, char *buf, size_t len, const char *who)
{
	/* BLANK 6: Turn a-z into A-Z in place (no other byte changes), then send the bytes back with sl_send_all(). */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	}
	if (sl_send_all(fd, buf, len) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", who,
		       strerror(errno));
		return -1;
	}
	return 0;
	/* SKELETON 6:
	(void)fd;
	(void)buf;
	(void)len;
	(void)who;
	SL_TODO(6);
	return -1;
	*/
	/* END 6 */
}

/* Answers each line of one client until it closes its side, or until
 * something fails (logged). */
static void serve_client(int fd, const char *who)
{
	struct sl_reader rd;
	char line[MAX_LINE + 1]; /* + 1: room for the '\n' of the reply */
	size_t len;

	sl_reader_init(&rd, fd);
	for (;;) {
		switch (sl_reader_line(&rd, line, sizeof line, &len, 0)) {
		case SL_LINE_OK:
			line[len++] = '\n'; /* the reply ends like the line */
			break;
		case SL_LINE_UNTERMINATED:
			break; /* a last piece without '\n': none added */
		case SL_LINE_EOF:
			return;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "%s sent a line longer than %d bytes: closing "
			       "the connection",
			       who, MAX_LINE);
			return;
		case SL_LINE_ERROR:
			sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s",
			       who, strerror(errno));
			return;
		}
		if (reply(fd, line, len, who) < 0)
			return;
	}
}

/* Accepts the next client and serves it until it leaves. */
static void serve_next(int lfd)
{
	struct sockaddr_storage peer;
	char who[SL_ADDRSTRLEN];
	int fd = accept_client(lfd, &peer);

	if (fd < 0)
		return;
	if (sl_sockaddr_str((struct sockaddr *)&peer, who, sizeof who) < 0)
		(void)snprintf(who, sizeof who, "(unknown address)");
	sl_log(&sl_prog_log, SL_INFO, "connection from %s", who);
	serve_client(fd, who);
	/* BLANK 7: Close the connection socket with close(), then log INFO "closed ADDR:PORT". */
	if (close(fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection from %s: %s",
		       who, strerror(errno));
	sl_log(&sl_prog_log, SL_INFO, "closed %s", who);
	/* SKELETON 7:
	SL_TODO(7);
	*/
	/* END 7 */
}

int main(int argc, char *argv[])
{
	uint16_t port = DEFAULT_PORT;
	char err[SL_ERRLEN];
	int lfd;

	sl_log_init(&sl_prog_log, "tcpserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	opterr = 0; /* we report bad options ourselves */
	if (getopt(argc, argv, "") != -1)
		return sl_usage_error(&sl_prog_log, usage, "unknown option -%c",
				      optopt);
	if (sl_parse_optional_port(argc, argv, optind, &port, err,
				   sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);

	/* A client that vanishes makes send() fail with EPIPE; sl_send_all
	 * already asks for no SIGPIPE, this covers any other write. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	lfd = open_listener(port);
	if (lfd < 0)
		return SL_EXIT_FAILURE;
	sl_log(&sl_prog_log, SL_INFO, "listening on port %u", (unsigned)port);
	for (;;)
		serve_next(lfd);
}
