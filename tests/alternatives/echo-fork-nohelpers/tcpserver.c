/*
 * tcpserver - uppercase echo over TCP, one forked child per client.
 *
 * The parent only accepts; each child buffers its client's bytes up to a
 * '\n', sends the line back uppercased, and closes after the client's FIN.
 * A SIGCHLD handler reaps the children so that none stays a zombie.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"Usage: tcpserver [-h] [PORT]\n"
	"Uppercase echo server over TCP (IPv6 and IPv4), default port 12000.\n"
	"Exit status: 1 if the port cannot be opened, 2 on bad usage.\n";

static void reap_children(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* A socket listening on [::]:port that takes IPv4 clients too, or -1. */
static int open_listener(unsigned short port)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0), off = 0, on = 1;

	if (fd < 0) {
		say("ERROR", "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) < 0 ||
	    listen(fd, 16) < 0) {
		say("ERROR", "bind to [::]:%u: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the LEN bytes at BUF uppercased; 0 or -1 (logged). */
static int answer(int fd, char *buf, size_t len, const char *who)
{
	to_upper_ascii(buf, len);
	if (send_whole(fd, buf, len) < 0) {
		say("ERROR", "send to %s: %s", who, strerror(errno));
		return -1;
	}
	return 0;
}

/* Serves one client until it closes, fails, or sends a line too long. */
static void serve(int fd, const char *who)
{
	static char buf[LINE_MAX_BYTES + 1];
	size_t have = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof buf - have, 0);
		size_t start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("ERROR", "receive from %s: %s", who, strerror(errno));
			return;
		}
		if (n == 0) { /* end of stream: answer a last piece without '\n' */
			if (have > 0)
				(void)answer(fd, buf, have, who);
			return;
		}
		have += (size_t)n;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			if (answer(fd, buf + start, i + 1 - start, who) < 0)
				return;
			start = i + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == sizeof buf) { /* 65537 bytes and no '\n' */
			say("ERROR", "%s sent a line longer than %d bytes: closing",
			    who, LINE_MAX_BYTES);
			return;
		}
	}
}

/* The child's whole life: serve, close, log. */
static void child(int fd, const char *who)
{
	serve(fd, who);
	if (close(fd) < 0)
		say("ERROR", "close %s: %s", who, strerror(errno));
	say("INFO", "closed %s", who);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = {.sa_handler = reap_children};
	long port = 12000;
	int lfd;

	progname = "tcpserver";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 2)
		return bad_usage(usage, "too many arguments", NULL);
	if (argc == 2 && parse_number(argv[1], 1, 65535, &port) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535", argv[1]);

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP; /* no SA_RESTART: accept() sees EINTR */
	if (sigaction(SIGCHLD, &sa, NULL) < 0) {
		say("ERROR", "sigaction: %s", strerror(errno));
		return 1;
	}
	lfd = open_listener((unsigned short)port);
	if (lfd < 0)
		return 1;
	say("INFO", "listening on port %ld", port);

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		char who[80];
		pid_t pid;
		int fd = accept(lfd, (struct sockaddr *)&peer, &len);

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				say("ERROR", "accept: %s", strerror(errno));
			continue;
		}
		addr_text((struct sockaddr *)&peer, who, sizeof who);
		say("INFO", "connection from %s", who);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			child(fd, who);
			_exit(0);
		}
		if (pid < 0)
			say("ERROR", "fork for %s: %s", who, strerror(errno));
		/* The parent's copy: the child alone ends the connection. */
		close(fd);
	}
}
