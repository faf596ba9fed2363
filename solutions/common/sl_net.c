/*
 * sl_net - open TCP and UDP sockets by name, IPv4 or IPv6 (see sl_net.h).
 *
 * The four public openers fill in a struct open_req and hand it to one
 * generic function, open_socket(), which holds the only getaddrinfo() loop
 * of the kit.
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What to do with each candidate address. */
enum role {
	ROLE_CONNECT,
	ROLE_BIND,
	ROLE_LISTEN
};

/* One request to open a socket, as the public functions describe it. */
struct open_req {
	const char *host; /* name or literal, never NULL here */
	uint16_t port;
	int family;   /* AF_UNSPEC, or one family for a wildcard attempt */
	int socktype; /* SOCK_STREAM or SOCK_DGRAM */
	enum role role;
	int backlog;	 /* for ROLE_LISTEN */
	bool dual_stack; /* turn IPV6_V6ONLY off: the IPv6 wildcard only */
};

/* Writes "<step> <where>: <reason>" into err, when there is an err. */
static void set_error(char *err, size_t errlen, const char *step,
		      const char *where, const char *reason)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s %s: %s", step, where, reason);
}

/* connect() that survives EINTR: the kernel goes on with the handshake
 * after a signal, so wait for it with poll() and fetch its outcome. */
static int connect_fd(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t optlen = sizeof(int);
	int rc, soerr;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINTR)
		return -1;
	do {
		rc = poll(&pfd, 1, -1);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &optlen) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Sets the options of a server socket, then binds it and maybe listens;
 * *step names the call that failed. */
static int bind_fd(int fd, const struct addrinfo *ai,
		   const struct open_req *req, const char **step)
{
	const int on = 1, off = 0;

	if (req->socktype == SOCK_STREAM) {
		/* Not for UDP: there it would let two servers share a port. */
		*step = "set SO_REUSEADDR on";
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) <
		    0)
			return -1;
	}
	if (req->dual_stack && ai->ai_family == AF_INET6) {
		*step = "turn IPV6_V6ONLY off on";
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			       sizeof off) < 0)
			return -1;
	}
	*step = "bind to";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		return -1;
	if (req->role == ROLE_LISTEN) {
		*step = "listen on";
		if (listen(fd, req->backlog) < 0)
			return -1;
	}
	return 0;
}

/* Opens one candidate address; returns the socket, or -1 with errno set
 * and *step naming the call that failed. */
static int try_address(const struct addrinfo *ai, const struct open_req *req,
		       const char **step)
{
	int fd, rc, saved;

	*step = "create socket for";
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (req->role == ROLE_CONNECT) {
		*step = "connect to";
		rc = connect_fd(fd, ai->ai_addr, ai->ai_addrlen);
	} else {
		rc = bind_fd(fd, ai, req, step);
	}
	if (rc == 0)
		return fd;
	saved = errno;
	(void)close(fd); /* the failure we report is the one in errno */
	errno = saved;
	return -1;
}

/* The kit's getaddrinfo() loop: returns the first candidate of req that
 * works, or -1 with err set and errno that of the last failed call
 * (EAFNOSUPPORT or EINVAL when the lookup itself failed). */
static int open_socket(const struct open_req *req, char *err, size_t errlen)
{
	struct addrinfo hints, *list, *ai;
	char service[8], where[SL_HOSTPORTLEN];
	const char *step = "";
	int fd = -1, rc, saved;

	(void)sl_hostport_str(req->host, req->port, where, sizeof where);
	(void)snprintf(service, sizeof service, "%u", (unsigned)req->port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = req->family;
	hints.ai_socktype = req->socktype;
	hints.ai_flags = AI_NUMERICSERV;

	rc = getaddrinfo(req->host, service, &hints, &list);
	if (rc != 0) {
		set_error(err, errlen, "resolve", where,
			  rc == EAI_SYSTEM ? strerror(errno)
					   : gai_strerror(rc));
		if (rc != EAI_SYSTEM)
			errno = rc == EAI_FAMILY ? EAFNOSUPPORT : EINVAL;
		return -1;
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = try_address(ai, req, &step);
		if (fd < 0)
			set_error(err, errlen, step, where, strerror(errno));
	}
	saved = errno;
	freeaddrinfo(list);
	errno = saved;
	return fd;
}

/* Tells whether a failed IPv6 attempt means "this machine has no IPv6". */
static bool ipv6_missing(int error)
{
	return error == EAFNOSUPPORT || error == EPROTONOSUPPORT ||
	       error == EADDRNOTAVAIL;
}

/* Opens req on every address: IPv6 "::" with IPV6_V6ONLY off (IPv4 clients
 * too), or IPv4 "0.0.0.0" when IPv6 is missing. */
static int open_wildcard(struct open_req *req, char *err, size_t errlen)
{
	int fd;

	req->host = "::";
	req->family = AF_INET6;
	req->dual_stack = true;
	fd = open_socket(req, err, errlen);
	if (fd >= 0 || !ipv6_missing(errno))
		return fd;
	req->host = "0.0.0.0";
	req->family = AF_INET;
	req->dual_stack = false;
	return open_socket(req, err, errlen);
}

int sl_tcp_connect(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct open_req req = {.host = host,
			       .port = port,
			       .family = AF_UNSPEC,
			       .socktype = SOCK_STREAM,
			       .role = ROLE_CONNECT};

	return open_socket(&req, err, errlen);
}

int sl_tcp_listen(const char *host, uint16_t port, int backlog, char *err,
		  size_t errlen)
{
	struct open_req req = {.host = host,
			       .port = port,
			       .family = AF_UNSPEC,
			       .socktype = SOCK_STREAM,
			       .role = ROLE_LISTEN,
			       .backlog = backlog};

	if (host == NULL)
		return open_wildcard(&req, err, errlen);
	return open_socket(&req, err, errlen);
}

int sl_udp_bind(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct open_req req = {.host = host,
			       .port = port,
			       .family = AF_UNSPEC,
			       .socktype = SOCK_DGRAM,
			       .role = ROLE_BIND};

	if (host == NULL)
		return open_wildcard(&req, err, errlen);
	return open_socket(&req, err, errlen);
}

int sl_udp_connect(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct open_req req = {.host = host,
			       .port = port,
			       .family = AF_UNSPEC,
			       .socktype = SOCK_DGRAM,
			       .role = ROLE_CONNECT};

	return open_socket(&req, err, errlen);
}

/* Writes the numeric host of an IPv4 or IPv6 address into host and its
 * port into *port; *bracket says whether the text needs [ ] around it. */
static int split_sockaddr(const struct sockaddr *sa, char *host, size_t len,
			  unsigned *port, bool *bracket)
{
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;
	const void *addr;
	int family;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = &in4->sin_addr;
		*port = ntohs(in4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);

		/* ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket:
		 * its last four bytes are the IPv4 address. */
		family = mapped ? AF_INET : AF_INET6;
		addr = mapped ? (const void *)&in6->sin6_addr.s6_addr[12]
			      : (const void *)&in6->sin6_addr;
		*port = ntohs(in6->sin6_port);
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	*bracket = family == AF_INET6;
	return inet_ntop(family, addr, host, (socklen_t)len) != NULL ? 0 : -1;
}

int sl_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	bool bracket;
	int n;

	if (split_sockaddr(sa, host, sizeof host, &port, &bracket) < 0)
		return -1;
	n = snprintf(buf, len, bracket ? "[%s]:%u" : "%s:%u", host, port);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* Sleeps for ms milliseconds, all of them even when a signal comes. */
static void pause_ms(long ms)
{
	struct timespec left = {.tv_sec = ms / 1000,
				.tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

int sl_accept(int lfd, struct sockaddr_storage *peer, char *err,
	      size_t errlen)
{
	struct sockaddr_storage unused;
	struct sockaddr_storage *addr = peer != NULL ? peer : &unused;
	int fd;

	do {
		socklen_t len = sizeof *addr;

		fd = accept(lfd, (struct sockaddr *)addr, &len);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0) {
		int saved = errno;

		set_error(err, errlen, "accept", "a connection",
			  strerror(saved));
		pause_ms(100);
		errno = saved;
	}
	return fd;
}

int sl_hostport_str(const char *host, uint16_t port, char *buf, size_t len)
{
	bool bracket = strchr(host, ':') != NULL;
	int n;

	n = snprintf(buf, len, bracket ? "[%s]:%u" : "%s:%u", host,
		     (unsigned)port);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}
