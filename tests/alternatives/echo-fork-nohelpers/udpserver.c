/*
 * udpserver - answers each datagram with the same bytes, a-z uppercased,
 * sent back to the address it came from (IPv6 and IPv4 on one socket).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static const char usage[] =
	"Usage: udpserver [-h] [PORT]\n"
	"Uppercase echo server over UDP (IPv6 and IPv4), default port 12000.\n"
	"Exit status: 1 if the port cannot be opened, 2 on bad usage.\n";

int main(int argc, char *argv[])
{
	static char buf[65536];
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	long port = 12000;
	int fd, off = 0;

	progname = "udpserver";
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 2)
		return bad_usage(usage, "too many arguments", NULL);
	if (argc == 2 && parse_number(argv[1], 1, 65535, &port) < 0)
		return bad_usage(usage, "PORT must be a number from 1 to 65535", argv[1]);
	any.sin6_port = htons((unsigned short)port);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) < 0) {
		say("ERROR", "bind to [::]:%ld: %s", port, strerror(errno));
		return 1;
	}
	say("INFO", "listening on UDP port %ld", port);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		char who[80];
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);

		if (n < 0) {
			if (errno != EINTR)
				say("ERROR", "receive: %s", strerror(errno));
			continue;
		}
		addr_text((struct sockaddr *)&peer, who, sizeof who);
		say("INFO", "%zd bytes from %s", n, who);
		to_upper_ascii(buf, (size_t)n);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen) < 0)
			say("ERROR", "send to %s: %s", who, strerror(errno));
	}
}
