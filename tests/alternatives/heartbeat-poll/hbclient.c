/*
 * hbclient - the heartbeat chat client, as one poll() loop.
 *
 * No reader thread: poll() waits on standard input and the socket
 * together, so a heartbeat is answered the moment it arrives, whatever
 * the user is doing.  Both inputs go through buffers of our own, since a
 * line may arrive in pieces and several may arrive at once.
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

#include "say.h"

#define TEXT_MAX 1000	    /* longest MSG text we send */
#define QUIT_WAIT_MS 2000   /* how long we wait for the server's FIN */

static const char usage[] =
	"Usage: hbclient [-h] HOST PORT\n"
	"Chat client with heartbeats: sends each line of standard input,\n"
	"prints broadcasts, answers heartbeats. ':q' or end of input quits.\n"
	"Exit status: 0 after quitting, 1 on failure or when the server\n"
	"closes first, 2 on bad usage.\n";

/* Bytes read from one side, up to a whole line. */
struct linebuf {
	char data[HB_LINE_MAX];
	size_t have;
	int skipping; /* inside a line too long for the buffer */
};

enum { GO_ON, QUIT, FAILED };

static int sock = -1;

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

static int send_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("ERROR", "send to server: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line typed by the user (without '\n'). */
static int typed(const char *line, size_t len)
{
	char out[4 + TEXT_MAX + 1];

	if (len == 2 && memcmp(line, ":q", 2) == 0)
		return QUIT;
	if (len > TEXT_MAX) {
		say("ERROR", "a line longer than %d bytes: not sent", TEXT_MAX);
		return GO_ON;
	}
	memcpy(out, "MSG ", 4);
	memcpy(out + 4, line, len);
	out[4 + len] = '\n';
	return send_all(out, len + 5) < 0 ? FAILED : GO_ON;
}

static int all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* One line from the server (without '\n'); heartbeats answered only
 * while ANSWER (not after our FIN). */
static int heard(const char *line, size_t len, int answer)
{
	if (len > 3 && memcmp(line, "HB ", 3) == 0 && all_digits(line + 3, len - 3)) {
		char out[HB_LINE_MAX + 3];

		if (!answer)
			return GO_ON;
		memcpy(out, "HBACK ", 6);
		memcpy(out + 6, line + 3, len - 3);
		out[len + 3] = '\n';
		return send_all(out, len + 4) < 0 ? FAILED : GO_ON;
	}
	if (len >= 6 && memcmp(line, "BCAST ", 6) == 0) {
		if (fwrite(line + 6, 1, len - 6, stdout) != len - 6 || putchar('\n') == EOF ||
		    fflush(stdout) == EOF) {
			say("ERROR", "write standard output: %s", strerror(errno));
			return FAILED;
		}
		return GO_ON;
	}
	say("WARN", "unknown line from the server (%zu bytes): ignored", len);
	return GO_ON;
}

/* Calls ON_LINE for each whole line now in B; stops at QUIT or FAILED.
 * A line that does not fit is reported and skipped. */
static int split(struct linebuf *b, int (*on_line)(const char *, size_t, int), int arg)
{
	size_t start = 0;
	int rc = GO_ON;

	for (size_t i = 0; i < b->have && rc == GO_ON; i++) {
		if (b->data[i] != '\n')
			continue;
		if (!b->skipping)
			rc = on_line(b->data + start, i - start, arg);
		b->skipping = 0;
		start = i + 1;
	}
	memmove(b->data, b->data + start, b->have - start);
	b->have -= start;
	if (b->have == sizeof b->data) {
		if (!b->skipping)
			say("ERROR", "a line longer than %zu bytes: skipped", sizeof b->data - 1);
		b->skipping = 1;
		b->have = 0;
	}
	return rc;
}

static int typed_line(const char *line, size_t len, int unused)
{
	(void)unused;
	return typed(line, len);
}

/* Reads into B from FD; returns the byte count, 0 at the end, -1 on error. */
static ssize_t fill(struct linebuf *b, int fd)
{
	ssize_t n;

	do
		n = read(fd, b->data + b->have, sizeof b->data - b->have);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		b->have += (size_t)n;
	return n;
}

/* The conversation, until the user quits (QUIT) or something fails. */
static int converse(void)
{
	struct linebuf from_user = {0}, from_server = {0};

	for (;;) {
		struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN},
					{.fd = STDIN_FILENO, .events = POLLIN}};
		ssize_t n;
		int rc;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("ERROR", "poll: %s", strerror(errno));
			return FAILED;
		}
		if (pfd[0].revents) {
			n = fill(&from_server, sock);
			if (n == 0) {
				say("ERROR", "server closed the connection");
				return FAILED;
			}
			if (n < 0) {
				say("ERROR", "receive from server: %s", strerror(errno));
				return FAILED;
			}
			if ((rc = split(&from_server, heard, 1)) != GO_ON)
				return rc;
		}
		if (pfd[1].revents) {
			n = fill(&from_user, STDIN_FILENO);
			if (n < 0) {
				say("ERROR", "read standard input: %s", strerror(errno));
				return FAILED;
			}
			if (n == 0) { /* the end of input; a last line without '\n' counts */
				if (from_user.have > 0 && !from_user.skipping &&
				    typed(from_user.data, from_user.have) == FAILED)
					return FAILED;
				return QUIT;
			}
			if ((rc = split(&from_user, typed_line, 0)) != GO_ON)
				return rc;
		}
	}
}

/* Our FIN, then up to 2 s for the server's; 0, or -1 (logged). */
static int quit(void)
{
	struct linebuf rest = {0};
	int64_t deadline = now_ms() + QUIT_WAIT_MS;

	if (shutdown(sock, SHUT_WR) < 0) {
		say("ERROR", "shutdown: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			say("WARN", "no FIN from the server within %d ms", QUIT_WAIT_MS);
			return 0;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = fill(&rest, sock);
		if (n <= 0)
			return 0;
		(void)split(&rest, heard, 0); /* broadcasts still print */
	}
}

int main(int argc, char *argv[])
{
	long port;
	int rc;

	progname = "hbclient";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 3)
		return bad_usage(usage, "expected HOST and PORT");
	if (parse_number(argv[2], 1, 65535, &port) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535");
	sock = connect_to(argv[1], argv[2]);
	if (sock < 0)
		return 1;
	say("INFO", "connected to %s:%s", argv[1], argv[2]);
	rc = converse();
	if (rc == QUIT && quit() < 0)
		rc = FAILED;
	if (close(sock) < 0) {
		say("ERROR", "close: %s", strerror(errno));
		rc = FAILED;
	}
	return rc == QUIT ? 0 : 1;
}
