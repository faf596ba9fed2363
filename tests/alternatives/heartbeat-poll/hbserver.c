/*
 * hbserver - a chat server with heartbeats, as one poll() loop.
 *
 * No threads: one loop waits on the listening socket, standard input and
 * every client at once, with a poll() timeout that ends at the earliest
 * heartbeat due.  Each client keeps its own rhythm (due += interval) and
 * its own buffer for a line that arrives in pieces.  Sends never block
 * (MSG_DONTWAIT): a client whose socket buffer is full is dropped.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "say.h"

#define MAX_CLIENTS 200
#define BCAST_TEXT_MAX (HB_LINE_MAX - 7) /* "BCAST " + text + "\n" */

static const char usage[] =
	"Usage: hbserver [-h] [-i INTERVAL_MS] [-m MISSES] [PORT]\n"
	"Chat server with heartbeats on PORT (default 12001), IPv6 and IPv4.\n"
	"  -i INTERVAL_MS  heartbeat interval, 10-3600000 (default 1000)\n"
	"  -m MISSES       unanswered heartbeats that drop a client, 1-1000\n"
	"                  (default 3)\n"
	"Lines typed on standard input go to every client as BCAST.\n";

struct client {
	int fd;			/* -1 once closed: removed at the end of the round */
	char who[64];		/* "ADDR:PORT" */
	unsigned long sent;	/* number of the last HB sent */
	unsigned long acked;	/* highest HBACK counted */
	int64_t due;		/* when the next tick is, ms of the monotonic clock */
	char in[HB_LINE_MAX];	/* a line received in part */
	size_t have;
};

static struct {
	long interval_ms;
	unsigned long misses;
	struct client *clients[MAX_CLIENTS];
	int count;
	char in[BCAST_TEXT_MAX + 1]; /* standard input, a line in part */
	size_t have;
	int skipping;		     /* inside a stdin line too long to send */
	int stdin_open;
} srv;

/* Closes C's connection (our FIN) and marks it for removal. */
static void forget(struct client *c)
{
	if (close(c->fd) < 0)
		say("ERROR", "close connection of %s: %s", c->who, strerror(errno));
	c->fd = -1;
}

static void drop(struct client *c, const char *why)
{
	say("WARN", "dropping %s: %s", c->who, why);
	forget(c);
}

/* Sends one whole line without blocking; drops C when it cannot. */
static void send_line(struct client *c, const char *line, size_t len)
{
	ssize_t n;

	do
		n = send(c->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return;
	if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		drop(c, "it does not read: its socket cannot take more data");
	else
		drop(c, strerror(errno));
}

static void broadcast(const char *text, size_t len)
{
	char line[HB_LINE_MAX];

	memcpy(line, "BCAST ", 6);
	memcpy(line + 6, text, len);
	line[6 + len] = '\n';
	for (int i = 0; i < srv.count; i++)
		if (srv.clients[i]->fd >= 0)
			send_line(srv.clients[i], line, len + 7);
}

/* Reads what standard input has; each whole line is broadcast. */
static void read_stdin(void)
{
	ssize_t n = read(STDIN_FILENO, srv.in + srv.have, sizeof srv.in - srv.have);
	size_t start = 0;

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		if (n < 0)
			say("ERROR", "read standard input: %s", strerror(errno));
		if (srv.have > 0 && !srv.skipping)
			broadcast(srv.in, srv.have);
		say("INFO", "end of standard input: no more broadcasts");
		srv.stdin_open = 0;
		return;
	}
	srv.have += (size_t)n;
	for (size_t i = 0; i < srv.have; i++) {
		if (srv.in[i] != '\n')
			continue;
		if (!srv.skipping)
			broadcast(srv.in + start, i - start);
		srv.skipping = 0;
		start = i + 1;
	}
	memmove(srv.in, srv.in + start, srv.have - start);
	srv.have -= start;
	if (srv.have == sizeof srv.in) {
		if (!srv.skipping)
			say("ERROR", "a line of standard input is longer than %d bytes: not sent",
			    BCAST_TEXT_MAX);
		srv.skipping = 1;
		srv.have = 0;
	}
}

/* Acts on one line from C (without its '\n'). */
static void handle_line(struct client *c, const char *line, size_t len)
{
	if (len > 6 && memcmp(line, "HBACK ", 6) == 0) {
		char digits[24];
		unsigned long seq;

		if (len - 6 >= sizeof digits)
			goto unknown;
		memcpy(digits, line + 6, len - 6);
		digits[len - 6] = '\0';
		if (digits[strspn(digits, "0123456789")] != '\0')
			goto unknown;
		seq = strtoul(digits, NULL, 10);
		if (c->acked < seq && seq <= c->sent)
			c->acked = seq;
		return;
	}
	if (len >= 4 && memcmp(line, "MSG ", 4) == 0) {
		char out[sizeof c->who + 2 + HB_LINE_MAX];
		int w = snprintf(out, sizeof out, "%s: ", c->who);

		memcpy(out + w, line + 4, len - 4);
		out[(size_t)w + len - 4] = '\n';
		if (fwrite(out, 1, (size_t)w + len - 3, stdout) != (size_t)w + len - 3 ||
		    fflush(stdout) == EOF)
			say("ERROR", "write standard output: %s", strerror(errno));
		return;
	}
unknown:
	say("WARN", "%s sent an unknown line (%zu bytes): ignored", c->who, len);
}

/* Reads what C sent and acts on each whole line. */
static void read_client(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
	size_t start = 0;

	if (n < 0 && errno == EINTR)
		return;
	if (n < 0) {
		drop(c, strerror(errno));
		return;
	}
	if (n == 0) {
		if (c->have > 0)
			say("WARN", "%s ended with a line without '\\n': ignored", c->who);
		say("INFO", "%s left", c->who);
		forget(c);
		return;
	}
	c->have += (size_t)n;
	for (size_t i = 0; i < c->have; i++) {
		if (c->in[i] != '\n')
			continue;
		handle_line(c, c->in + start, i - start);
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->have - start);
	c->have -= start;
	if (c->have == sizeof c->in) {
		say("ERROR", "%s sent a line longer than %d bytes: closing the connection",
		    c->who, HB_LINE_MAX);
		forget(c);
	}
}

static void addr_text(const struct sockaddr_in6 *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?", serv[8] = "?";
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = a->sin6_port};
	const struct sockaddr *sa = (const struct sockaddr *)a;
	socklen_t len = sizeof *a;

	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		memcpy(&v4.sin_addr, &a->sin6_addr.s6_addr[12], 4);
		sa = (const struct sockaddr *)&v4;
		len = sizeof v4;
	}
	(void)getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
			  NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static void accept_client(int lfd)
{
	struct sockaddr_in6 peer;
	socklen_t len = sizeof peer;
	struct client *c;
	int fd = accept(lfd, (struct sockaddr *)&peer, &len);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			say("ERROR", "accept: %s", strerror(errno));
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL || srv.count == MAX_CLIENTS) {
		say("ERROR", "no room for another client (%d connected)", srv.count);
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	addr_text(&peer, c->who, sizeof c->who);
	c->due = now_ms() + srv.interval_ms;
	srv.clients[srv.count++] = c;
	say("INFO", "connection from %s", c->who);
}

/* Each client whose tick is due: dropped, or sent its next heartbeat. */
static void tick(int64_t now)
{
	for (int i = 0; i < srv.count; i++) {
		struct client *c = srv.clients[i];
		char line[32];

		if (c->fd < 0 || c->due > now)
			continue;
		c->due += srv.interval_ms;
		if (c->due <= now) /* a whole interval late: no burst to catch up */
			c->due = now + srv.interval_ms;
		if (c->sent - c->acked >= srv.misses) {
			snprintf(line, sizeof line, "%lu heartbeats unanswered", c->sent - c->acked);
			drop(c, line);
			continue;
		}
		c->sent++;
		send_line(c, line, (size_t)snprintf(line, sizeof line, "HB %lu\n", c->sent));
	}
}

/* Frees the clients closed during this round. */
static void sweep(void)
{
	int kept = 0;

	for (int i = 0; i < srv.count; i++) {
		if (srv.clients[i]->fd < 0)
			free(srv.clients[i]);
		else
			srv.clients[kept++] = srv.clients[i];
	}
	srv.count = kept;
}

/* Milliseconds until the earliest tick, or -1 without clients. */
static int wait_ms(void)
{
	int64_t now = now_ms(), soonest = -1;

	for (int i = 0; i < srv.count; i++) {
		int64_t left = srv.clients[i]->due - now;
		if (soonest < 0 || left < soonest)
			soonest = left < 0 ? 0 : left;
	}
	return soonest > INT_MAX ? INT_MAX : (int)soonest;
}

static int open_listener(unsigned short port)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0), off = 0, on = 1;

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) < 0 || listen(fd, 64) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		say("ERROR", "bind to [::]:%u: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

static void serve(int lfd)
{
	struct pollfd pfd[2 + MAX_CLIENTS];

	for (;;) {
		int n = srv.count, ready;

		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = srv.stdin_open ? STDIN_FILENO : -1, .events = POLLIN};
		for (int i = 0; i < n; i++)
			pfd[2 + i] = (struct pollfd){.fd = srv.clients[i]->fd, .events = POLLIN};
		ready = poll(pfd, (nfds_t)(2 + n), wait_ms());
		if (ready < 0 && errno != EINTR) {
			say("ERROR", "poll: %s", strerror(errno));
			return;
		}
		if (ready > 0) {
			if (pfd[1].revents)
				read_stdin();
			for (int i = 0; i < n; i++)
				if (pfd[2 + i].revents && srv.clients[i]->fd >= 0)
					read_client(srv.clients[i]);
			if (pfd[0].revents & POLLIN)
				accept_client(lfd);
		}
		tick(now_ms());
		sweep();
	}
}

int main(int argc, char *argv[])
{
	long interval = 1000, misses = 3, port = 12001;
	int opt, lfd;

	progname = "hbserver";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	opterr = 0;
	while ((opt = getopt(argc, argv, "i:m:")) != -1) {
		if (opt == 'i' && parse_number(optarg, 10, 3600000, &interval) == 0)
			continue;
		if (opt == 'm' && parse_number(optarg, 1, 1000, &misses) == 0)
			continue;
		return bad_usage(usage, "bad option or value");
	}
	if (argc - optind > 1)
		return bad_usage(usage, "too many arguments");
	if (argc - optind == 1 && parse_number(argv[optind], 1, 65535, &port) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535");
	srv.interval_ms = interval;
	srv.misses = (unsigned long)misses;
	srv.stdin_open = 1;
	lfd = open_listener((unsigned short)port);
	if (lfd < 0)
		return 1;
	say("INFO", "listening on port %ld (heartbeat every %ld ms, drop after %ld unanswered)",
	    port, interval, misses);
	serve(lfd);
	return 1;
}
