/*
 * webserver - serves the files of a folder over HTTP/1.1, one forked
 * child process per connection.
 *
 * The parent accepts; at MAX_THREADS children it waits (sigsuspend) for
 * one to end before it accepts again.  A SIGCHLD handler reaps children
 * and counts them.  Each child serves its connection's requests in turn
 * (keep-alive), each head within the head timeout (--head-timeout, 10 s:
 * one deadline for the whole head, 408 when it passes mid-head), each
 * write within 10 s, and closes
 * politely: our FIN, then whatever the client still sends is read and
 * dropped, then close(), so that no reset destroys the last response.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 8192	     /* the largest request head we take */
#define PATH_MAX_LEN 1024    /* the longest decoded path */
#define IO_TIMEOUT_S 10
#define LINGER_MS 2000	     /* the polite close waits this long at most */
#define LINGER_BYTES (1 << 20)

static const char usage[] =
	"Usage: webserver [-h] [-d DOCROOT] [-t MAX_THREADS] [--head-timeout SECONDS] [PORT]\n"
	"Serves the files of DOCROOT (default .) over HTTP/1.1 on PORT (default\n"
	"8080), IPv6 and IPv4, at most MAX_THREADS connections at once (1-1000,\n"
	"default 32), each in a process of its own. A request head must come\n"
	"whole within SECONDS (1-3600, default 10) of when its reading began.\n";

static volatile sig_atomic_t ended; /* children reaped, by the handler only */

/* --- logging ------------------------------------------------------- */

static void say(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const char *level, const char *fmt, ...)
{
	struct timespec now = {0};
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && localtime_r(&now.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s webserver: ", stamp, now.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- one connection -------------------------------------------------- */

struct conn {
	int fd;
	int root;		/* the document root, opened once */
	char who[64];
	char buf[HEAD_MAX];	/* received; a head starts at buf[0] */
	size_t have;
	long head_ms;		/* the time a whole head may take */
};

struct request {
	char line[HEAD_MAX];	/* the request line, for the log */
	char *method, *target, *version;
	int keep_alive;
};

static int send_all(int fd, const char *p, size_t len)
{
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

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
		{".html", "text/html"}, {".htm", "text/html"}, {".txt", "text/plain"},
		{".css", "text/css"}, {".js", "text/javascript"}, {".json", "application/json"},
		{".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
		{".gif", "image/gif"}, {".svg", "image/svg+xml"}, {".ico", "image/x-icon"},
		{".pdf", "application/pdf"},
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot, types[i][0]) == 0)
				return types[i][1];
	return "application/octet-stream";
}

/* Sends a head; 0, or -1 when the client is gone. */
static int send_head(struct conn *c, int status, const char *type, long long length,
		     int keep_alive, const char *extra)
{
	char head[512];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nServer: socklab-webserver\r\nContent-Type: %s\r\n"
			 "Content-Length: %lld\r\n%sConnection: %s\r\n\r\n",
			 status, reason(status), type, length, extra, keep_alive ? "keep-alive" : "close");
	return send_all(c->fd, head, (size_t)n);
}

/* A whole error response: head and a small page (none for HEAD). */
static int send_error(struct conn *c, int status, int keep_alive, int head_only)
{
	char page[256];
	int n = snprintf(page, sizeof page,
			 "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
			 "<body><h1>%d %s</h1></body></html>\n",
			 status, reason(status), status, reason(status));

	if (send_head(c, status, "text/html", n, keep_alive,
		      status == 405 ? "Allow: GET, HEAD\r\n" : "") < 0)
		return -1;
	return head_only ? 0 : send_all(c->fd, page, (size_t)n);
}

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Reads until buf holds a whole head ("\r\n\r\n"), all of it within
 * c->head_ms; returns its length with the blank line, 0 when the client
 * closed or sent nothing in time before a request began, -1 on a failure
 * mid-request, -408 when time ran out mid-head, -431 when it is too big. */
static long read_head(struct conn *c)
{
	long long deadline = mono_ms() + c->head_ms;

	for (;;) {
		for (size_t i = 3; i < c->have; i++)
			if (memcmp(c->buf + i - 3, "\r\n\r\n", 4) == 0)
				return (long)(i + 1);
		if (c->have == sizeof c->buf)
			return -431;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		long long left = deadline - mono_ms();
		int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			say("WARN", "%s: poll: %s", c->who, strerror(errno));
			return c->have > 0 ? -1 : 0;
		}
		if (ready == 0)
			return c->have > 0 ? -408 : 0;
		ssize_t n = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (c->have > 0)
				say("WARN", "%s: %s in the middle of a request", c->who,
				    n == 0 ? "closed" : strerror(errno));
			return c->have > 0 ? -1 : 0;
		}
		c->have += (size_t)n;
	}
}

static int is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

/* Parses the head (LEN bytes of c->buf, '\0's put in place of CRLFs)
 * into R; returns 0 or the status of the error. */
static int parse_head(struct conn *c, size_t len, struct request *r)
{
	char *p = c->buf, *end = c->buf + len - 2, *eol, *sp1, *sp2;
	int close_asked = 0, keep_asked = 0;

	r->line[0] = '\0';
	if (memchr(c->buf, '\0', len) != NULL)
		return 400;
	c->buf[len - 1] = '\0'; /* the head's last '\n': now a C string */
	eol = strstr(p, "\r\n");
	*eol = '\0';
	snprintf(r->line, sizeof r->line, "%s", p);
	sp1 = strchr(p, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp2 == sp1 + 1)
		return 400;
	*sp1 = *sp2 = '\0';
	r->method = p;
	r->target = sp1 + 1;
	r->version = sp2 + 1;
	if (!is_token(r->method))
		return 400;
	if (strcmp(r->version, "HTTP/1.1") != 0 && strcmp(r->version, "HTTP/1.0") != 0) {
		int major, minor;
		char tail;
		return sscanf(r->version, "HTTP/%d.%d%c", &major, &minor, &tail) == 2 ? 505 : 400;
	}
	for (p = eol + 2; p < end; p = eol + 2) {
		char *colon;

		eol = strstr(p, "\r\n");
		*eol = '\0';
		colon = strchr(p, ':');
		if (colon == NULL || colon == p)
			return 400;
		*colon = '\0';
		if (!is_token(p))
			return 400;
		if (strcasecmp(p, "Connection") == 0) {
			char *v = colon + 1, *save = NULL;
			for (char *t = strtok_r(v, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
				close_asked |= strcasecmp(t, "close") == 0;
				keep_asked |= strcasecmp(t, "keep-alive") == 0;
			}
		}
	}
	r->keep_alive = !close_asked && (strcmp(r->version, "HTTP/1.1") == 0 || keep_asked);
	return 0;
}

static int hexdigit(char ch)
{
	return isdigit((unsigned char)ch) ? ch - '0'
	       : isxdigit((unsigned char)ch) ? tolower((unsigned char)ch) - 'a' + 10 : -1;
}

/* Turns a target into a path relative to the root (OUT), decoding %XX
 * first and refusing '..' after; 0, or the status of the error. */
static int target_path(const char *target, char *out, size_t size)
{
	char decoded[PATH_MAX_LEN + 1];
	size_t n = 0, o = 0;

	if (target[0] != '/')
		return 400;
	for (const char *p = target; *p && *p != '?' && *p != '#'; p++) {
		char ch = *p;
		if (ch == '%') {
			int hi = hexdigit(p[1]), lo = hi < 0 ? -1 : hexdigit(p[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return 400;
			ch = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n == PATH_MAX_LEN)
			return 414;
		decoded[n++] = ch;
	}
	decoded[n] = '\0';
	out[0] = '\0';
	for (char *save = NULL, *seg = strtok_r(decoded, "/", &save); seg;
	     seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0)
			return 400;
		int w = snprintf(out + o, size - o, "%s%s", o ? "/" : "", seg);
		if (w < 0 || (size_t)w >= size - o)
			return 414;
		o += (size_t)w;
	}
	return 0;
}

/* Opens the file for PATH under the root (a folder: its index.html);
 * returns the descriptor with its size and name, or -status. */
static int open_file(struct conn *c, char *path, size_t size, off_t *length)
{
	struct stat st;
	int fd = openat(c->root, path[0] ? path : ".", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		int dir = fd;
		fd = openat(dir, "index.html", O_RDONLY | O_CLOEXEC);
		close(dir);
		strncat(path, path[0] ? "/index.html" : "index.html", size - strlen(path) - 1);
		if (fd >= 0 && fstat(fd, &st) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return errno == EACCES ? -403 : -404;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -404;
	}
	*length = st.st_size;
	return fd;
}

/* Sends LENGTH bytes of file FD; 0, or -1 when the client is gone. */
static int send_file(struct conn *c, int fd, off_t length)
{
	char chunk[65536];

	while (length > 0) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			say("ERROR", "read file: %s", n < 0 ? strerror(errno) : "shorter than its size");
			return -1;
		}
		if (send_all(c->fd, chunk, (size_t)n) < 0)
			return -1;
		length -= n;
	}
	return 0;
}

/* Answers one parsed request; returns 1 to keep the connection, 0 to
 * close it, -1 when the client is gone. */
static int answer(struct conn *c, struct request *r)
{
	char path[PATH_MAX_LEN + 16];
	int head_only = strcmp(r->method, "HEAD") == 0, status, fd;
	off_t length = 0;

	if (!head_only && strcmp(r->method, "GET") != 0) {
		say("INFO", "%s \"%s\" 405 0", c->who, r->line);
		return send_error(c, 405, 0, 0) < 0 ? -1 : 0;
	}
	status = target_path(r->target, path, sizeof path);
	if (status != 0) {
		say("INFO", "%s \"%s\" %d 0", c->who, r->line, status);
		return send_error(c, status, 0, head_only) < 0 ? -1 : 0;
	}
	fd = open_file(c, path, sizeof path, &length);
	if (fd < 0) {
		say("INFO", "%s \"%s\" %d 0", c->who, r->line, -fd);
		return send_error(c, -fd, r->keep_alive, head_only) < 0 ? -1 : r->keep_alive;
	}
	say("INFO", "%s \"%s\" 200 %lld", c->who, r->line, (long long)length);
	status = send_head(c, 200, content_type(path), (long long)length, r->keep_alive, "");
	if (status == 0 && !head_only)
		status = send_file(c, fd, length);
	close(fd);
	return status < 0 ? -1 : r->keep_alive;
}

/* Our FIN, then up to 2 s (and 1 MiB) of what the client still sends is
 * read and dropped until its FIN; then close(). */
static void polite_close(struct conn *c)
{
	char junk[4096];
	struct timespec t0, t;
	size_t dropped = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (shutdown(c->fd, SHUT_WR) == 0) {
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			long left = LINGER_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
						 (t.tv_nsec - t0.tv_nsec) / 1000000);
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			if (left <= 0 || dropped > LINGER_BYTES || poll(&pfd, 1, (int)left) <= 0)
				break;
			ssize_t n = recv(c->fd, junk, sizeof junk, 0);
			if (n <= 0)
				break;
			dropped += (size_t)n;
		}
	}
	close(c->fd);
}

/* The child's whole life: requests in turn until one side is done. */
static void serve(struct conn *c)
{
	for (;;) {
		struct request r;
		long len = read_head(c);
		int keep, status;

		if (len == 0) {
			close(c->fd); /* the client closed (or went silent) between requests */
			return;
		}
		if (len == -1) {
			close(c->fd);
			return;
		}
		if (len == -431 || len == -408) {
			say("INFO", "%s (%s) %ld 0", c->who, len == -431 ? "a head too big" : "a head too slow",
			    -len);
			(void)send_error(c, (int)-len, 0, 0);
			polite_close(c);
			return;
		}
		status = parse_head(c, (size_t)len, &r);
		if (status != 0) {
			say("INFO", "%s \"%s\" %d 0", c->who, r.line, status);
			keep = send_error(c, status, 0, 0) < 0 ? -1 : 0;
		} else {
			keep = answer(c, &r);
		}
		if (keep < 0) {
			close(c->fd);
			return;
		}
		if (keep == 0) {
			polite_close(c);
			return;
		}
		memmove(c->buf, c->buf + len, c->have - (size_t)len);
		c->have -= (size_t)len;
	}
}

/* --- the parent -------------------------------------------------------- */

static void reaper(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		ended++;
	errno = saved;
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
	(void)getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

int main(int argc, char *argv[])
{
	const char *docroot = ".";
	static const struct option longs[] = {{"head-timeout", required_argument, NULL, 'T'}, {0}};
	long max = 32, port = 8080, started = 0, head_s = 10;
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	struct sigaction sa = {.sa_handler = reaper, .sa_flags = SA_NOCLDSTOP};
	struct timeval limit = {.tv_sec = IO_TIMEOUT_S};
	sigset_t chld, normal;
	int opt, lfd, root, off = 0, on = 1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "d:t:", longs, NULL)) != -1) {
		if (opt == 'd')
			docroot = optarg;
		else if (opt == 'T' ? (head_s = number(optarg, 1, 3600)) < 0
				    : opt != 't' || (max = number(optarg, 1, 1000)) < 0)
			goto bad_usage;
	}
	if (argc - optind > 1 || (argc - optind == 1 && (port = number(argv[optind], 1, 65535)) < 0))
		goto bad_usage;

	root = open(docroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		say("ERROR", "document root %s: %s", docroot, strerror(errno));
		return 1;
	}
	any.sin6_port = htons((unsigned short)port);
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(lfd, (struct sockaddr *)&any, sizeof any) < 0 || listen(lfd, 128) < 0) {
		say("ERROR", "bind to [::]:%ld: %s", port, strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigprocmask(SIG_BLOCK, &chld, &normal) < 0) {
		say("ERROR", "signals: %s", strerror(errno));
		return 1;
	}
	say("INFO", "serving %s on port %ld (at most %ld connections at once)", docroot, port, max);

	for (;;) {
		struct conn c = {.root = root, .head_ms = head_s * 1000};
		struct sockaddr_in6 peer;
		socklen_t plen = sizeof peer;
		pid_t pid;

		/* SIGCHLD is blocked here: no child can end between the test and
		 * the wait, which unblocks it. */
		while (started - ended >= max)
			sigsuspend(&normal);
		sigprocmask(SIG_SETMASK, &normal, NULL);
		c.fd = accept(lfd, (struct sockaddr *)&peer, &plen);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		if (c.fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				say("ERROR", "accept: %s", strerror(errno));
			continue;
		}
		addr_text(&peer, c.who, sizeof c.who);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			sigprocmask(SIG_SETMASK, &normal, NULL);
			if (setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0)
				say("ERROR", "time limits for %s: %s", c.who, strerror(errno));
			serve(&c);
			_exit(0);
		}
		if (pid < 0)
			say("ERROR", "fork for %s: %s", c.who, strerror(errno));
		else
			started++;
		close(c.fd);
	}

bad_usage:
	say("ERROR", "bad usage");
	fputs(usage, stderr);
	return 2;
}
