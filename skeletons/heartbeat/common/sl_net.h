/*
 * sl_net - open TCP and UDP sockets by name, IPv4 or IPv6.
 *
 * Every function runs the same getaddrinfo() loop: ask for every address of
 * the host (AF_UNSPEC), try each candidate in order, close the sockets that
 * failed, keep the first that works, and free the list on every path.
 *
 * On failure a function returns -1 and writes into err (errlen bytes, may
 * be truncated) a message naming the attempt and its object, e.g.
 *	connect to localhost:12000: Connection refused
 *	resolve no-such-host.invalid:80: Name or service not known
 * When several addresses were tried, the message is the last one's.
 */
#ifndef SL_NET_H
#define SL_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any text made by sl_sockaddr_str() or sl_hostport_str() on a
 * numeric address: "[" + IPv6 text + "]:" + port + NUL fits easily. */
#define SL_ADDRSTRLEN 64

/* Room for sl_hostport_str() on any DNS name (at most 253 bytes). */
#define SL_HOSTPORTLEN 264

/* Room for the error messages of this module (longer ones are truncated). */
#define SL_ERRLEN 256

/* Returns a TCP socket connected to host:port, or -1 with err set. */
int sl_tcp_connect(const char *host, uint16_t port, char *err, size_t errlen);

/*
 * Returns a TCP socket listening on host:port (port 0: the kernel picks
 * one), or -1 with err set. SO_REUSEADDR is on, so a restarted server can
 * bind again while old connections are in TIME_WAIT. With host NULL the
 * socket listens on every address: IPv6 "::" with IPV6_V6ONLY off, which
 * also accepts IPv4 clients (seen as ::ffff:a.b.c.d), or IPv4 "0.0.0.0"
 * when the machine has no IPv6.
 */
int sl_tcp_listen(const char *host, uint16_t port, int backlog, char *err,
		  size_t errlen);

/* Returns a UDP socket bound to host:port, or -1 with err set; host NULL
 * means every address, with the same dual-stack rule as sl_tcp_listen(). */
int sl_udp_bind(const char *host, uint16_t port, char *err, size_t errlen);

/*
 * Returns a connected UDP socket for host:port, or -1 with err set. Plain
 * send() and recv() then work, the kernel drops datagrams from any other
 * address, and an ICMP "port unreachable" comes back as ECONNREFUSED on a
 * later send() or recv(). UDP has no handshake, so the first address of
 * the host is the one used.
 */
int sl_udp_connect(const char *host, uint16_t port, char *err, size_t errlen);

/*
 * Waits for the next connection on the listening socket lfd and returns its
 * socket, with the client's address in *peer (NULL: not wanted). A signal
 * (EINTR) or a client that left before it was accepted (ECONNABORTED) is
 * not a failure: it waits on. On failure it returns -1 with err set, after
 * a pause of 100 ms: the usual cause, no file descriptor left (EMFILE),
 * would otherwise make a server's accept loop spin.
 */
int sl_accept(int lfd, struct sockaddr_storage *peer, char *err,
	      size_t errlen);

/*
 * Writes an IPv4 or IPv6 socket address as "127.0.0.1:40000" or
 * "[::1]:40000" (an IPv4-mapped IPv6 address is shown as IPv4) into buf;
 * returns 0, or -1 with errno EAFNOSUPPORT (other family) or ENOSPC.
 */
int sl_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Writes host and port as "host:port", or "[host]:port" when host is an
 * IPv6 literal; returns 0, or -1 with errno ENOSPC. */
int sl_hostport_str(const char *host, uint16_t port, char *buf, size_t len);

#endif
