/* tlsconn - a TCP connection that may switch to TLS (see tlsconn.h). */
#define _POSIX_C_SOURCE 200809L

#include "tlsconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sl_io.h"
#include "sl_log.h"

/* Writes "what: reason" into err, the reason being OpenSSL's oldest queued
 * error (or "unknown error"); empties OpenSSL's error queue. */
static void tls_error(char *err, size_t errlen, const char *what)
{
	unsigned long code = ERR_get_error();
	char reason[256] = "unknown error";

	if (code != 0)
		ERR_error_string_n(code, reason, sizeof reason);
	ERR_clear_error();
	(void)snprintf(err, errlen, "%s: %s", what, reason);
}

/* Writes "what host:port: reason" into err; a timeout gets a plain name. */
static void io_error(const struct tls_conn *c, char *err, size_t errlen,
		     const char *what, int errnum)
{
	if (errnum == EAGAIN || errnum == EWOULDBLOCK)
		(void)snprintf(err, errlen, "%s %s: no progress in %d s", what,
			       c->peer, c->timeout_s);
	else
		(void)snprintf(err, errlen, "%s %s: %s", what, c->peer,
			       strerror(errnum));
}

/* Writes why a TLS call failed (it returned rc, and errno was errnum) into
 * err as "what host:port: reason". A socket timeout (SO_RCVTIMEO,
 * SO_SNDTIMEO) reaches OpenSSL as EAGAIN, which it reports as "want read"
 * or "want write": it gets the words of plain TCP, "no progress in N s". */
static void tls_io_error(const struct tls_conn *c, int rc, int errnum,
			 char *err, size_t errlen, const char *what)
{
	char where[SL_HOSTPORTLEN + 32];

	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		io_error(c, err, errlen, what, EAGAIN);
		ERR_clear_error();
		return;
	case SSL_ERROR_SYSCALL:
		if (errnum != 0) {
			io_error(c, err, errlen, what, errnum);
			ERR_clear_error();
			return;
		}
		break;
	default:
		break;
	}
	(void)snprintf(where, sizeof where, "%s %s", what, c->peer);
	tls_error(err, errlen, where);
}

/* Bounds every send and receive on fd by seconds, so that a server that
 * stops answering cannot hang us; returns 0 or -1 with errno. */
static int set_timeouts(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return -1;
	return 0;
}

int conn_open(struct tls_conn *c, const char *host, uint16_t port,
	      int timeout_s, char *err, size_t errlen)
{
	c->ctx = NULL;
	c->ssl = NULL;
	c->timeout_s = timeout_s;
	(void)sl_hostport_str(host, port, c->peer, sizeof c->peer);
	c->fd = sl_tcp_connect(host, port, err, errlen);
	if (c->fd < 0)
		return -1;
	if (set_timeouts(c->fd, timeout_s) < 0) {
		(void)snprintf(err, errlen, "set the timeouts of %s: %s",
			       c->peer, strerror(errno));
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* Returns a client TLS context that trusts the CA certificates of cafile
 * (NULL: the system's) and refuses a server whose certificate does not
 * verify; NULL with err set. */
static SSL_CTX *client_context(const char *cafile, char *err, size_t errlen)
{
	char what[512];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls_error(err, errlen, "create a TLS context");
		return NULL;
	}
	/* TLS 1.0 and 1.1 are broken and retired (RFC 8996). */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_error(err, errlen, "require TLS 1.2 or later");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* TODO 14: Trust the CA certificates of cafile (or the system's when it is NULL) and make the handshake fail unless the server's certificate verifies (SSL_VERIFY_PEER). */
	(void)what;
	(void)cafile;
	SL_TODO(14);
	return ctx;
}

/* Tells whether host is an IPv4 or IPv6 address rather than a name. */
static bool is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	       inet_pton(AF_INET6, host, addr) == 1;
}

/* Tells OpenSSL which server we expect: the certificate must name host (an
 * IP address among its IP addresses, a name among its DNS names), and a
 * name is also sent in the handshake (SNI) so that a server hosting many
 * names picks the right certificate. Returns 0 or -1 with err set. */
static int expect_server(SSL *ssl, const char *host, char *err, size_t errlen)
{
	int ok;

	/* TODO 15: Require the certificate to name host: X509_VERIFY_PARAM_set1_ip_asc() for an IP address, else SSL_set_tlsext_host_name() (SNI) and SSL_set1_host(). */
	ok = 1;
	(void)ssl;
	(void)host;
	(void)is_ip_literal;
	SL_TODO(15);
	if (ok != 1) {
		tls_error(err, errlen, "set the expected server name");
		return -1;
	}
	return 0;
}

/* Writes why the handshake (SSL_connect() returned rc, errno errnum)
 * failed into err: the certificate check's reason when that is what
 * failed, else the connection's or OpenSSL's. */
static void handshake_error(const struct tls_conn *c, int rc, int errnum,
			    char *err, size_t errlen)
{
	long verify = SSL_get_verify_result(c->ssl);

	if (verify != X509_V_OK) {
		(void)snprintf(err, errlen,
			       "TLS handshake with %s: the server's "
			       "certificate was refused: %s",
			       c->peer, X509_verify_cert_error_string(verify));
		ERR_clear_error();
		return;
	}
	tls_io_error(c, rc, errnum, err, errlen, "TLS handshake with");
}

int conn_start_tls(struct tls_conn *c, const char *host, const char *cafile,
		   char *err, size_t errlen)
{
	int rc;

	c->ctx = client_context(cafile, err, errlen);
	if (c->ctx == NULL)
		return -1;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL) {
		tls_error(err, errlen, "create a TLS session");
		return -1;
	}
	if (expect_server(c->ssl, host, err, errlen) < 0)
		return -1;
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		tls_error(err, errlen, "attach TLS to the socket");
		return -1;
	}
	errno = 0;
	if ((rc = SSL_connect(c->ssl)) != 1) {
		handshake_error(c, rc, errno, err, errlen);
		return -1;
	}
	return 0;
}

bool conn_is_tls(const struct tls_conn *c)
{
	return c->ssl != NULL;
}

bool conn_verified(const struct tls_conn *c, char *buf, size_t size)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
	const char *host = X509_VERIFY_PARAM_get0_host(param, 0);
	char *ip = X509_VERIFY_PARAM_get1_ip_asc(param);
	long verify = SSL_get_verify_result(c->ssl);
	bool verified = false;

	/* Without SSL_VERIFY_PEER, OpenSSL still checks the certificate but
	 * goes on whatever the check found. */
	if ((SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER) == 0) {
		(void)snprintf(buf, size, "the certificate was NOT verified "
			       "(SSL_VERIFY_NONE: any certificate is taken; "
			       "the check said: %s)",
			       X509_verify_cert_error_string(verify));
	} else if (host == NULL && ip == NULL) {
		(void)snprintf(buf, size, "the certificate's chain was "
			       "verified, NOT its name (none was set: any "
			       "server with a trusted certificate is taken)");
	} else {
		(void)snprintf(buf, size, "certificate of %s verified",
			       host != NULL ? host : ip);
		verified = true;
	}
	OPENSSL_free(ip);
	return verified;
}

int conn_send_all(struct tls_conn *c, const void *buf, size_t len, char *err,
		  size_t errlen)
{
	int rc;

	if (c->ssl == NULL) {
		if (sl_send_all(c->fd, buf, len) < 0) {
			io_error(c, err, errlen, "send to", errno);
			return -1;
		}
		return 0;
	}
	if (len == 0)
		return 0;
	/* SSL_write() sends all of it or fails (no partial writes unless
	 * asked for); a length over INT_MAX is impossible for our messages. */
	errno = 0;
	if ((rc = SSL_write(c->ssl, buf, (int)len)) <= 0) {
		tls_io_error(c, rc, errno, err, errlen, "send to");
		return -1;
	}
	return 0;
}

ssize_t conn_recv(struct tls_conn *c, void *buf, size_t len, char *err,
		  size_t errlen)
{
	ssize_t n;
	int rc, errnum;

	if (c->ssl == NULL) {
		n = sl_read_some(c->fd, buf, len);
		if (n < 0)
			io_error(c, err, errlen, "receive from", errno);
		return n;
	}
	errno = 0;
	rc = SSL_read(c->ssl, buf, len > (size_t)1 << 30 ? 1 << 30 : (int)len);
	errnum = errno;
	if (rc > 0)
		return rc;
	/* The server ended TLS (close_notify): the end of the stream. */
	if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN)
		return 0;
	tls_io_error(c, rc, errnum, err, errlen, "receive from");
	return -1;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), 0 when it passed. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Reads and drops bytes from fd until the peer's FIN, an error, or
 * timeout_ms. Leaving them unread would make close() send a reset. */
static void drain(int fd, int timeout_ms)
{
	struct timespec deadline;
	char junk[4096];
	int left;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while ((left = ms_left(&deadline)) > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int rc = poll(&pfd, 1, left);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0 || sl_read_some(fd, junk, sizeof junk) <= 0)
			return;
	}
}

void conn_close(struct tls_conn *c)
{
	if (c->fd >= 0) {
		/* No TLS close_notify: the server closes its socket right
		 * after its 221 reply to QUIT, and bytes sent to a closed
		 * socket come back as a reset. QUIT and 221 already mark the
		 * end of the session, so nothing can be cut off unnoticed. */
		if (shutdown(c->fd, SHUT_WR) == 0)
			drain(c->fd, CONN_CLOSE_WAIT_MS);
		(void)close(c->fd);
		c->fd = -1;
	}
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	c->ssl = NULL;
	c->ctx = NULL;
}
