#define _POSIX_C_SOURCE 200809L

#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

const char *progname = "echo";

void say(const char *level, const char *fmt, ...)
{
	struct timespec now;
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    localtime_r(&now.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s: ", stamp, now.tv_nsec / 1000000,
		level, progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int bad_usage(const char *usage, const char *problem, const char *arg)
{
	say("ERROR", "%s%s%s", problem, arg ? ": " : "", arg ? arg : "");
	fputs(usage, stderr);
	return 2;
}

int parse_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

const char *addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	struct sockaddr_in v4;
	socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						   : sizeof(struct sockaddr_in);
	char host[INET6_ADDRSTRLEN], serv[8];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memset(&v4, 0, sizeof v4);
			v4.sin_family = AF_INET;
			v4.sin_port = s6->sin6_port;
			memcpy(&v4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
			sa = (const struct sockaddr *)&v4;
			len = sizeof v4;
		}
	}
	if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "(unknown address)");
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
	return buf;
}

int send_whole(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void to_upper_ascii(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
}
