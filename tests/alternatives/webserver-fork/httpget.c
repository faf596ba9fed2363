/*
 * httpget - fetches one resource over HTTP/1.1: the status line and the
 * headers go to standard error, the body to standard output, byte for
 * byte.  The body is read by Content-Length, as chunks, or until the
 * server closes.  Exit status: the status class (0 2xx, 3, 4, 5), 1 when
 * there is no usable response, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 8192
#define HEAD_MAX_LEN (64 * 1024)

static const char usage[] =
	"Usage: httpget [-h] HOST PORT PATH\n"
	"Fetches PATH from the HTTP server at HOST:PORT: the head on standard\n"
	"error, the body on standard output.\n"
	"Exit status: 0 for 2xx, 3 for 3xx, 4 for 4xx, 5 for 5xx, 1 no usable\n"
	"response, 2 bad usage.\n";

/* Bytes received and not yet used: data[pos..have). */
static struct {
	int fd;
	char data[65536];
	size_t pos, have;
} in;

static void say(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const char *level, const char *fmt, ...)
{
	struct timespec now = {0};
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && localtime_r(&now.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s httpget: ", stamp, now.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Receives more; the count, 0 at the end, -1 on error (logged). */
static ssize_t more(void)
{
	ssize_t n;

	if (in.pos == in.have)
		in.pos = in.have = 0;
	if (in.have == sizeof in.data) { /* keep the unread part, at the start */
		memmove(in.data, in.data + in.pos, in.have - in.pos);
		in.have -= in.pos;
		in.pos = 0;
	}
	do
		n = recv(in.fd, in.data + in.have, sizeof in.data - in.have, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		say("ERROR", "receive: %s", strerror(errno));
	if (n > 0)
		in.have += (size_t)n;
	return n;
}

/* One line without its CRLF (or bare LF) into LINE; 0, or -1. */
static int get_line(char *line, size_t size)
{
	size_t len = 0;

	for (;;) {
		while (in.pos < in.have) {
			char ch = in.data[in.pos++];
			if (ch == '\n') {
				if (len > 0 && line[len - 1] == '\r')
					len--;
				line[len] = '\0';
				return 0;
			}
			if (len + 1 == size) {
				say("ERROR", "a line of the response is longer than %zu bytes", size - 1);
				return -1;
			}
			line[len++] = ch;
		}
		if (more() <= 0)
			return -1;
	}
}

static int write_out(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("ERROR", "write standard output: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies COUNT body bytes to stdout (COUNT < 0: until the server closes). */
static int copy_body(long long count)
{
	for (;;) {
		size_t avail = in.have - in.pos;
		if (count >= 0 && (long long)avail > count)
			avail = (size_t)count;
		if (write_out(in.data + in.pos, avail) < 0)
			return -1;
		in.pos += avail;
		if (count >= 0 && (count -= (long long)avail) == 0)
			return 0;
		ssize_t n = more();
		if (n < 0)
			return -1;
		if (n == 0) {
			if (count < 0)
				return 0;
			say("ERROR", "the body was cut short: %lld bytes missing", count);
			return -1;
		}
	}
}

static int copy_chunks(void)
{
	char line[LINE_MAX_LEN];

	for (;;) {
		char *end;
		long long size;

		if (get_line(line, sizeof line) < 0)
			return -1;
		errno = 0;
		size = strtoll(line, &end, 16);
		if (end == line || errno || size < 0 || (*end && *end != ';' && *end != ' ')) {
			say("ERROR", "a bad chunk size line: %s", line);
			return -1;
		}
		if (size == 0)
			break;
		if (copy_body(size) < 0 || get_line(line, sizeof line) < 0 || line[0] != '\0')
			return -1;
	}
	do /* trailers, up to the empty line */
		if (get_line(line, sizeof line) < 0)
			return -1;
	while (line[0] != '\0');
	return 0;
}

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

int main(int argc, char *argv[])
{
	char line[LINE_MAX_LEN], req[LINE_MAX_LEN + 256];
	long long length = -1;
	int chunked = 0, status, n, rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
	if (argc != 4 || argv[3][0] != '/' || strlen(argv[3]) > LINE_MAX_LEN ||
	    atoi(argv[2]) < 1 || atoi(argv[2]) > 65535 || strspn(argv[2], "0123456789") != strlen(argv[2])) {
		say("ERROR", "expected HOST, PORT (1-65535) and a PATH starting with '/'");
		fputs(usage, stderr);
		return 2;
	}
	in.fd = connect_to(argv[1], argv[2]);
	if (in.fd < 0)
		return 1;
	n = snprintf(req, sizeof req,
		     "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: socklab-httpget\r\n"
		     "Accept: */*\r\nConnection: close\r\n\r\n",
		     argv[3], strchr(argv[1], ':') ? "[" : "", argv[1], strchr(argv[1], ':') ? "]" : "",
		     argv[2]);
	for (int off = 0; off < n;) {
		ssize_t k = send(in.fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			say("ERROR", "send: %s", strerror(errno));
			return 1;
		}
		off += (int)k;
	}

	/* The status line: "HTTP/1.x SP 3 digits SP reason". */
	if (get_line(line, sizeof line) < 0) {
		say("ERROR", "no response from the server");
		return 1;
	}
	if (strncmp(line, "HTTP/1.", 7) != 0 || !strchr("01", line[7]) || line[8] != ' ' ||
	    strspn(line + 9, "0123456789") != 3 || (line[12] != ' ' && line[12] != '\0')) {
		say("ERROR", "a malformed status line: %s", line);
		return 1;
	}
	status = atoi(line + 9);
	fprintf(stderr, "%s\n", line);
	for (size_t head = 0;;) { /* the headers, up to the empty line */
		char *colon;

		if (get_line(line, sizeof line) < 0) {
			say("ERROR", "the response head was cut short");
			return 1;
		}
		head += strlen(line) + 2;
		if (head > HEAD_MAX_LEN) {
			say("ERROR", "the response head is over %d bytes", HEAD_MAX_LEN);
			return 1;
		}
		if (line[0] == '\0')
			break;
		fprintf(stderr, "%s\n", line);
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		char *value = colon + 1 + strspn(colon + 1, " \t");
		if (strcasecmp(line, "Content-Length") == 0)
			length = strtoll(value, NULL, 10);
		else if (strcasecmp(line, "Transfer-Encoding") == 0 && strstr(value, "chunked"))
			chunked = 1;
	}
	if (status == 204 || status == 304 || (status >= 100 && status < 200))
		rc = 0;
	else
		rc = chunked ? copy_chunks() : copy_body(length);
	close(in.fd);
	if (rc < 0)
		return 1;
	return status >= 200 && status < 600 && status / 100 != 2 ? status / 100 : status / 100 == 2 ? 0 : 1;
}
