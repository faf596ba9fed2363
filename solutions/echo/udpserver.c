/*
 * udpserver - uppercase echo server over UDP.
 *
 * Listens on every address, IPv6 and IPv4, and answers each datagram with
 * the same bytes, ASCII a-z turned to A-Z, sent back to the address and
 * port it came from. UDP has no connections: one socket serves every
 * client, one datagram at a time. It runs until killed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_args.h"
#include "sl_log.h"
#include "sl_net.h"

#define DEFAULT_PORT 12000

/* Room for any datagram: no UDP payload is longer, even over IPv6. */
#define MAX_DATAGRAM 65536

static const char usage[] =
	"Usage: udpserver [-h] [PORT]\n"
	"\n"
	"Uppercase echo server over UDP: answers each datagram with the same\n"
	"bytes, ASCII a-z turned to A-Z, sent back to its sender. Runs until\n"
	"killed; logs go to standard error.\n"
	"\n"
	"Arguments:\n"
	"  PORT        UDP port to listen on, on every IPv6 and IPv4 address,\n"
	"              1-65535 (default: 12000)\n"
	"  -h, --help  print this help to standard output and exit\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* Receives one datagram and sends it back, upper-cased, to its sender;
 * failures are logged and the server goes on. */
static void serve_datagram(int fd)
{
	/* BLANK 10: Receive a datagram with recvfrom(), turn a-z into A-Z, and send it back to its sender with sendto(). */
	char buf[MAX_DATAGRAM], who[SL_ADDRSTRLEN];
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof peer;
	ssize_t n, sent;

	n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer,
		     &peerlen);
	if (n < 0) {
		if (errno != EINTR)
			sl_log(&sl_prog_log, SL_ERROR, "receive: %s",
			       strerror(errno));
		return;
	}
	if (sl_sockaddr_str((struct sockaddr *)&peer, who, sizeof who) < 0)
		(void)snprintf(who, sizeof who, "(unknown address)");
	sl_log(&sl_prog_log, SL_INFO, "%zd bytes from %s", n, who);

	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	}
	/* One datagram in, one out: sendto() sends all of it or fails. */
	sent = sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peerlen);
	if (sent < 0)
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", who,
		       strerror(errno));
	/* SKELETON 10:
	(void)fd;
	SL_TODO(10);
	pause();
	*/
	/* END 10 */
}

int main(int argc, char *argv[])
{
	uint16_t port = DEFAULT_PORT;
	char err[SL_ERRLEN];
	int fd;

	sl_log_init(&sl_prog_log, "udpserver", SL_INFO);
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

	fd = sl_udp_bind(NULL, port, err, sizeof err);
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO, "listening on UDP port %u",
	       (unsigned)port);
	for (;;)
		serve_datagram(fd);
}
