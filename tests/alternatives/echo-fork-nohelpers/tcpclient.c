/*
 * tcpclient - sends each line of standard input to the uppercase echo
 * server over TCP and prints each reply line.
 *
 * Standard input is read with getline(); the replies go through a small
 * buffer of our own, since one recv() may hold part of a line or several.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"Usage: tcpclient [-h] HOST PORT\n"
	"Sends each line of standard input to the uppercase echo server and\n"
	"prints each reply. Exit status: 0 done, 1 failure, 2 bad usage.\n";

/* What came from the server and is not printed yet. */
struct inbox {
	int fd;
	char buf[LINE_MAX_BYTES + 1];
	size_t have;
};

/* A TCP socket connected to host:port (any address family), or -1. */
static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *list, *ai;
	int fd = -1, rc, saved = 0;

	rc = getaddrinfo(host, port, &hints, &list);
	if (rc != 0) {
		say("ERROR", "connect to %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(list);
	if (fd < 0)
		say("ERROR", "connect to %s:%s: %s", host, port, strerror(saved));
	return fd;
}

/* Prints the next reply line; 0, or -1 (logged) on close, error, overflow. */
static int print_reply(struct inbox *in)
{
	for (;;) {
		char *nl = memchr(in->buf, '\n', in->have);
		ssize_t n;

		if (nl != NULL) {
			size_t len = (size_t)(nl - in->buf) + 1;
			if (fwrite(in->buf, 1, len, stdout) != len || fflush(stdout) == EOF) {
				say("ERROR", "write standard output: %s", strerror(errno));
				return -1;
			}
			memmove(in->buf, in->buf + len, in->have - len);
			in->have -= len;
			return 0;
		}
		if (in->have == sizeof in->buf) {
			say("ERROR", "reply longer than %d bytes", LINE_MAX_BYTES);
			return -1;
		}
		n = recv(in->fd, in->buf + in->have, sizeof in->buf - in->have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("ERROR", "receive: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			say("ERROR", "server closed the connection before replying");
			return -1;
		}
		in->have += (size_t)n;
	}
}

/* Every line of stdin out, every reply printed; returns the exit status. */
static int talk(struct inbox *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = 0;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		size_t body = (size_t)len - (line[len - 1] == '\n');

		if (body > LINE_MAX_BYTES) {
			say("ERROR", "input line longer than %d bytes", LINE_MAX_BYTES);
			status = 1;
			break;
		}
		if (line[len - 1] != '\n') { /* a last line without '\n' */
			char *grown = realloc(line, (size_t)len + 1);
			if (grown == NULL) {
				say("ERROR", "out of memory");
				status = 1;
				break;
			}
			line = grown;
			line[len++] = '\n';
		}
		if (send_whole(in->fd, line, (size_t)len) < 0) {
			say("ERROR", "send: %s", strerror(errno));
			status = 1;
			break;
		}
		if (print_reply(in) < 0) {
			status = 1;
			break;
		}
	}
	if (status == 0 && ferror(stdin)) {
		say("ERROR", "read standard input: %s", strerror(errno));
		status = 1;
	}
	free(line);
	return status;
}

int main(int argc, char *argv[])
{
	static struct inbox in;
	long port;
	int status;

	progname = "tcpclient";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 3)
		return bad_usage(usage, "expected HOST and PORT", NULL);
	if (parse_number(argv[2], 1, 65535, &port) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535", argv[2]);
	in.fd = connect_to(argv[1], argv[2]);
	if (in.fd < 0)
		return 1;
	say("INFO", "connected to %s:%s", argv[1], argv[2]);
	status = talk(&in);
	if (close(in.fd) < 0) {
		say("ERROR", "close: %s", strerror(errno));
		status = 1;
	}
	return status;
}
