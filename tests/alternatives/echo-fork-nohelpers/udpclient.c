/*
 * udpclient - sends each line of standard input (without its '\n') as one
 * datagram on a connected UDP socket, waits for the reply with poll() and
 * a timeout, and prints it.  A lost reply is reported and skipped.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"Usage: udpclient [-h] [-W TIMEOUT_MS] HOST PORT\n"
	"Sends each line as one datagram and prints each reply; waits\n"
	"TIMEOUT_MS (1-600000, default 1000) for each.\n"
	"Exit status: 0 every line got a reply, 1 otherwise, 2 bad usage.\n";

struct server {
	int fd;
	const char *host, *port;
	int timeout_ms;
};

/* A UDP socket connected to host:port, or -1. */
static int open_connected(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *list, *ai;
	int fd = -1, rc;

	rc = getaddrinfo(host, port, &hints, &list);
	if (rc != 0) {
		say("ERROR", "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			say("ERROR", "connect to %s:%s: %s", host, port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(list);
	return fd;
}

static void report(const struct server *s, const char *what)
{
	if (errno == ECONNREFUSED)
		say("ERROR", "no server at %s:%s (port unreachable)", s->host, s->port);
	else
		say("ERROR", "%s: %s", what, strerror(errno));
}

/* One line out, its reply printed; 0, or -1 when it got no reply. */
static int one_line(const struct server *s, const char *line, size_t len,
		    unsigned long lineno)
{
	static char reply[65536];
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	ssize_t n;
	int ready;

	do
		n = send(s->fd, line, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		report(s, "send");
		return -1;
	}
	do
		ready = poll(&pfd, 1, s->timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready == 0) {
		say("ERROR", "no reply within %d ms (line %lu)", s->timeout_ms, lineno);
		return -1;
	}
	if (ready < 0) {
		say("ERROR", "poll: %s", strerror(errno));
		return -1;
	}
	do
		n = recv(s->fd, reply, sizeof reply, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		report(s, "receive");
		return -1;
	}
	if (fwrite(reply, 1, (size_t)n, stdout) != (size_t)n ||
	    putchar('\n') == EOF || fflush(stdout) == EOF) {
		say("ERROR", "write standard output: %s", strerror(errno));
		exit(1);
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct server s = {.timeout_ms = 1000};
	unsigned long lineno = 0, lost = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long ms;
	int opt;

	progname = "udpclient";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	opterr = 0;
	while ((opt = getopt(argc, argv, "W:")) != -1) {
		if (opt != 'W' || parse_number(optarg, 1, 600000, &ms) < 0)
			return bad_usage(usage, "bad option (-W takes 1 to 600000 ms)", NULL);
		s.timeout_ms = (int)ms;
	}
	if (argc - optind != 2)
		return bad_usage(usage, "expected HOST and PORT", NULL);
	if (parse_number(argv[optind + 1], 1, 65535, &ms) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535", argv[optind + 1]);
	s.host = argv[optind];
	s.port = argv[optind + 1];
	s.fd = open_connected(s.host, s.port);
	if (s.fd < 0)
		return 1;
	say("INFO", "sending to %s:%s over UDP", s.host, s.port);

	while ((len = getline(&line, &cap, stdin)) > 0) {
		size_t body = (size_t)len - (line[len - 1] == '\n');

		lineno++;
		if (body > DGRAM_MAX_BYTES) {
			say("ERROR", "line %lu is longer than %d bytes: not sent", lineno, DGRAM_MAX_BYTES);
			lost++;
		} else if (one_line(&s, line, body, lineno) < 0) {
			lost++;
		}
	}
	free(line);
	close(s.fd);
	return lost == 0 && !ferror(stdin) ? 0 : 1;
}
