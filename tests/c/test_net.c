/*
 * test_net - sl_net: TCP and UDP over IPv4, IPv6 and dual stack, and the
 * error texts of failed lookups, connects and binds.
 */
#define _DEFAULT_SOURCE

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_io.h"
#include "sl_net.h"
#include "sl_tests.h"
#include "testutil.h"

/* Accepts one client of lfd; writes its address text into who. */
static int accept_named(int lfd, char *who, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	int fd = accept(lfd, (struct sockaddr *)&ss, &sslen);

	if (fd >= 0 && sl_sockaddr_str((struct sockaddr *)&ss, who, len) < 0)
		snprintf(who, len, "(unprintable)");
	return fd;
}

/* Returns the address family of a bound socket, or -1. */
static int local_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ss.ss_family;
}

/* Connects to host:port of listener lfd, checks that bytes go both ways
 * and that the server sees the client as want_prefix + client port. */
static void check_tcp_path(int lfd, const char *host, const char *want_prefix)
{
	char err[SL_ERRLEN] = "", who[SL_ADDRSTRLEN] = "", want[SL_ADDRSTRLEN];
	char buf[8];
	int c, s;

	c = sl_tcp_connect(host, local_port(lfd), err, sizeof err);
	CU_ASSERT_FATAL(c >= 0);
	s = accept_named(lfd, who, sizeof who);
	CU_ASSERT_FATAL(s >= 0);
	snprintf(want, sizeof want, "%s%u", want_prefix, local_port(c));
	CU_ASSERT_STRING_EQUAL(who, want);

	CU_ASSERT_EQUAL(sl_send_all(c, "ping", 4), 0);
	CU_ASSERT_EQUAL(sl_read_exact(s, buf, 4, NULL), SL_READ_OK);
	CU_ASSERT(memcmp(buf, "ping", 4) == 0);
	CU_ASSERT_EQUAL(sl_send_all(s, "PONG", 4), 0);
	CU_ASSERT_EQUAL(sl_read_exact(c, buf, 4, NULL), SL_READ_OK);
	CU_ASSERT(memcmp(buf, "PONG", 4) == 0);
	close(c);
	close(s);
}

static void test_tcp_ipv4(void)
{
	char err[SL_ERRLEN] = "";
	int lfd = sl_tcp_listen("127.0.0.1", 0, 4, err, sizeof err);
	int on = 0;
	socklen_t len = sizeof on;

	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT(local_port(lfd) != 0);
	CU_ASSERT(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, &len) == 0);
	CU_ASSERT(on != 0);
	check_tcp_path(lfd, "127.0.0.1", "127.0.0.1:");
	check_tcp_path(lfd, "localhost", "127.0.0.1:");
	close(lfd);
}

static void test_accept(void)
{
	char err[SL_ERRLEN] = "";
	struct sockaddr_storage peer;
	char peer_text[SL_ADDRSTRLEN];
	int lfd = sl_tcp_listen("127.0.0.1", 0, 4, err, sizeof err);
	int c, s;

	CU_ASSERT_FATAL(lfd >= 0);
	c = sl_tcp_connect("127.0.0.1", local_port(lfd), err, sizeof err);
	CU_ASSERT_FATAL(c >= 0);
	s = sl_accept(lfd, &peer, err, sizeof err);
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL(sl_sockaddr_str((struct sockaddr *)&peer, peer_text,
					sizeof peer_text), 0);
	CU_ASSERT(strncmp(peer_text, "127.0.0.1:", 10) == 0);
	close(s);
	close(c);
	/* No address wanted. */
	c = sl_tcp_connect("127.0.0.1", local_port(lfd), err, sizeof err);
	CU_ASSERT_FATAL(c >= 0);
	s = sl_accept(lfd, NULL, err, sizeof err);
	CU_ASSERT(s >= 0);
	close(s);
	close(c);
	close(lfd);
	/* A socket that does not listen: -1, errno kept, err says so. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL(sl_accept(lfd, &peer, err, sizeof err), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "accept a connection: Invalid argument");
	close(lfd);
}

static void test_tcp_ipv6(void)
{
	char err[SL_ERRLEN] = "";
	int lfd = sl_tcp_listen("::1", 0, 4, err, sizeof err);

	CU_ASSERT_FATAL(lfd >= 0);
	check_tcp_path(lfd, "::1", "[::1]:");
	close(lfd);
}

static void test_tcp_dual_stack(void)
{
	char err[SL_ERRLEN] = "";
	int lfd = sl_tcp_listen(NULL, 0, 4, err, sizeof err);
	int v6only = 1;
	socklen_t optlen = sizeof v6only;

	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL(local_family(lfd), AF_INET6);
	CU_ASSERT(getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			     &optlen) == 0);
	CU_ASSERT_EQUAL(v6only, 0);
	/* An IPv4 client arrives as ::ffff:127.0.0.1, shown as IPv4. */
	check_tcp_path(lfd, "127.0.0.1", "127.0.0.1:");
	check_tcp_path(lfd, "::1", "[::1]:");
	close(lfd);
}

static void test_wildcard_without_ipv6(void)
{
	char err[SL_ERRLEN] = "";
	int lfd, ufd;

	/* On a machine without IPv6 the wildcard falls back to 0.0.0.0. */
	fake_no_ipv6 = true;
	lfd = sl_tcp_listen(NULL, 0, 4, err, sizeof err);
	ufd = sl_udp_bind(NULL, 0, err, sizeof err);
	fake_no_ipv6 = false;
	CU_ASSERT_FATAL(lfd >= 0 && ufd >= 0);
	CU_ASSERT_EQUAL(local_family(lfd), AF_INET);
	CU_ASSERT_EQUAL(local_family(ufd), AF_INET);
	check_tcp_path(lfd, "127.0.0.1", "127.0.0.1:");
	close(lfd);
	close(ufd);
}

/* Returns a port on which nothing listens on 127.0.0.1 and ::1 right now. */
static uint16_t closed_port(int socktype)
{
	char err[SL_ERRLEN];
	int fd = socktype == SOCK_STREAM
			 ? sl_tcp_listen(NULL, 0, 1, err, sizeof err)
			 : sl_udp_bind(NULL, 0, err, sizeof err);
	uint16_t port = local_port(fd);

	close(fd);
	return port;
}

static void test_connect_refused(void)
{
	uint16_t port = closed_port(SOCK_STREAM);
	char err[SL_ERRLEN] = "", want[SL_ERRLEN];

	CU_ASSERT_FATAL(port != 0);
	CU_ASSERT_EQUAL(sl_tcp_connect("127.0.0.1", port, err, sizeof err), -1);
	snprintf(want, sizeof want, "connect to 127.0.0.1:%u: %s", port,
		 strerror(ECONNREFUSED));
	CU_ASSERT_STRING_EQUAL(err, want);

	CU_ASSERT_EQUAL(sl_tcp_connect("::1", port, err, sizeof err), -1);
	snprintf(want, sizeof want, "connect to [::1]:%u: %s", port,
		 strerror(ECONNREFUSED));
	CU_ASSERT_STRING_EQUAL(err, want);

	/* No error buffer at all is allowed. */
	CU_ASSERT_EQUAL(sl_tcp_connect("127.0.0.1", port, NULL, 0), -1);
}

static void test_second_candidate(void)
{
	char err[SL_ERRLEN] = "", want[SL_ERRLEN];
	int lfd = sl_tcp_listen("127.0.0.1", 0, 4, err, sizeof err);
	uint16_t port = local_port(lfd);
	int before = lowest_free_fd(), c;

	/* TWO_ADDRESS_HOST is ::1 first, where nothing listens on port:
	 * the loop must close that socket and go on to 127.0.0.1. */
	CU_ASSERT_FATAL(lfd >= 0 && before >= 0);
	c = sl_tcp_connect(TWO_ADDRESS_HOST, port, err, sizeof err);
	CU_ASSERT_FATAL(c >= 0);
	CU_ASSERT_EQUAL(c, before); /* the failed ::1 socket was closed */
	close(c);
	close(lfd);

	/* Every candidate fails: the last error is reported, no fd leaks. */
	before = lowest_free_fd();
	CU_ASSERT_EQUAL(sl_tcp_connect(TWO_ADDRESS_HOST, port, err, sizeof err),
			-1);
	snprintf(want, sizeof want, "connect to %s:%u: %s", TWO_ADDRESS_HOST,
		 port, strerror(ECONNREFUSED));
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(lowest_free_fd(), before);
}

static void test_unknown_host(void)
{
	static const int codes[] = {EAI_NONAME, EAI_AGAIN, EAI_FAIL};
	static const char prefix[] = "resolve no-such-host.invalid:80: ";
	char err[SL_ERRLEN] = "";
	bool known = false;

	CU_ASSERT_EQUAL(
		sl_tcp_connect("no-such-host.invalid", 80, err, sizeof err),
		-1);
	CU_ASSERT_FATAL(strncmp(err, prefix, sizeof prefix - 1) == 0);
	/* The reason is gai_strerror()'s, not strerror()'s: without DNS the
	 * answer is "temporary failure" instead of "not known". */
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		known |= strcmp(err + sizeof prefix - 1,
				gai_strerror(codes[i])) == 0;
	CU_ASSERT(known);

	CU_ASSERT_EQUAL(
		sl_udp_connect("no-such-host.invalid", 53, err, sizeof err),
		-1);
	CU_ASSERT(strncmp(err, "resolve no-such-host.invalid:53: ", 33) == 0);
}

static void test_address_in_use(void)
{
	char err[SL_ERRLEN] = "", want[SL_ERRLEN];
	int a = sl_tcp_listen("127.0.0.1", 0, 1, err, sizeof err);
	uint16_t port = local_port(a);

	CU_ASSERT_FATAL(a >= 0);
	CU_ASSERT_EQUAL(sl_tcp_listen("127.0.0.1", port, 1, err, sizeof err),
			-1);
	snprintf(want, sizeof want, "bind to 127.0.0.1:%u: %s", port,
		 strerror(EADDRINUSE));
	CU_ASSERT_STRING_EQUAL(err, want);
	/* The dual-stack wildcard covers 127.0.0.1 too. */
	CU_ASSERT_EQUAL(sl_tcp_listen(NULL, port, 1, err, sizeof err), -1);
	snprintf(want, sizeof want, "bind to [::]:%u: %s", port,
		 strerror(EADDRINUSE));
	CU_ASSERT_STRING_EQUAL(err, want);
	close(a);
}

/* Sends want from c, receives it on the bound server s, checks the sender
 * text, echoes it upper-case and checks that c gets the answer. */
static void check_udp_path(int s, int c, const char *want_prefix)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char buf[16], who[SL_ADDRSTRLEN] = "", want[SL_ADDRSTRLEN];

	CU_ASSERT_EQUAL(send(c, "ping", 4, 0), 4);
	CU_ASSERT_FATAL(wait_readable(s));
	CU_ASSERT_EQUAL(
		recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sslen),
		4);
	CU_ASSERT(memcmp(buf, "ping", 4) == 0);
	CU_ASSERT(sl_sockaddr_str((struct sockaddr *)&ss, who, sizeof who) ==
		  0);
	snprintf(want, sizeof want, "%s%u", want_prefix, local_port(c));
	CU_ASSERT_STRING_EQUAL(who, want);
	CU_ASSERT_EQUAL(sendto(s, "PONG", 4, 0, (struct sockaddr *)&ss, sslen),
			4);
	CU_ASSERT_FATAL(wait_readable(c));
	CU_ASSERT_EQUAL(recv(c, buf, sizeof buf, 0), 4);
	CU_ASSERT(memcmp(buf, "PONG", 4) == 0);
}

static void test_udp_round_trip(void)
{
	char err[SL_ERRLEN] = "";
	int s = sl_udp_bind(NULL, 0, err, sizeof err);
	int c4, c6;

	CU_ASSERT_FATAL(s >= 0);
	c4 = sl_udp_connect("127.0.0.1", local_port(s), err, sizeof err);
	c6 = sl_udp_connect("::1", local_port(s), err, sizeof err);
	CU_ASSERT_FATAL(c4 >= 0 && c6 >= 0);
	check_udp_path(s, c4, "127.0.0.1:");
	check_udp_path(s, c6, "[::1]:");
	close(c4);
	close(c6);
	close(s);

	/* Bound to one address only. */
	s = sl_udp_bind("127.0.0.1", 0, err, sizeof err);
	CU_ASSERT_FATAL(s >= 0);
	c4 = sl_udp_connect("localhost", local_port(s), err, sizeof err);
	CU_ASSERT_FATAL(c4 >= 0);
	check_udp_path(s, c4, "127.0.0.1:");
	close(c4);
	close(s);
}

static void test_udp_port_unreachable(void)
{
	uint16_t port = closed_port(SOCK_DGRAM);
	char err[SL_ERRLEN] = "", buf[8];
	int c;

	CU_ASSERT_FATAL(port != 0);
	c = sl_udp_connect("127.0.0.1", port, err, sizeof err);
	CU_ASSERT_FATAL(c >= 0);
	CU_ASSERT_EQUAL(send(c, "x", 1, 0), 1);
	/* The ICMP error wakes poll() and comes out of recv(). */
	CU_ASSERT_FATAL(wait_readable(c));
	errno = 0;
	CU_ASSERT_EQUAL(recv(c, buf, sizeof buf, 0), -1);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	close(c);
}

static void test_sockaddr_str(void)
{
	struct sockaddr_in in4 = {.sin_family = AF_INET,
				  .sin_port = htons(40000)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6,
				   .sin6_port = htons(443)};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	char buf[SL_ADDRSTRLEN];

	CU_ASSERT_FATAL(inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr) == 1);
	CU_ASSERT(sl_sockaddr_str((struct sockaddr *)&in4, buf, sizeof buf) ==
		  0);
	CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1:40000");

	CU_ASSERT_FATAL(inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr) ==
			1);
	CU_ASSERT(sl_sockaddr_str((struct sockaddr *)&in6, buf, sizeof buf) ==
		  0);
	CU_ASSERT_STRING_EQUAL(buf, "[2001:db8::1]:443");

	CU_ASSERT_FATAL(
		inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr) == 1);
	CU_ASSERT(sl_sockaddr_str((struct sockaddr *)&in6, buf, sizeof buf) ==
		  0);
	CU_ASSERT_STRING_EQUAL(buf, "192.0.2.7:443");

	/* "192.0.2.7:443" needs 14 bytes with its NUL. */
	errno = 0;
	CU_ASSERT_EQUAL(sl_sockaddr_str((struct sockaddr *)&in6, buf, 13), -1);
	CU_ASSERT_EQUAL(errno, ENOSPC);
	CU_ASSERT_EQUAL(sl_sockaddr_str((struct sockaddr *)&in6, buf, 14), 0);

	errno = 0;
	CU_ASSERT_EQUAL(
		sl_sockaddr_str((struct sockaddr *)&un, buf, sizeof buf), -1);
	CU_ASSERT_EQUAL(errno, EAFNOSUPPORT);
}

static void test_hostport_str(void)
{
	char buf[SL_ADDRSTRLEN];

	CU_ASSERT(sl_hostport_str("localhost", 12000, buf, sizeof buf) == 0);
	CU_ASSERT_STRING_EQUAL(buf, "localhost:12000");
	CU_ASSERT(sl_hostport_str("::1", 80, buf, sizeof buf) == 0);
	CU_ASSERT_STRING_EQUAL(buf, "[::1]:80");
	errno = 0;
	CU_ASSERT_EQUAL(sl_hostport_str("localhost", 12000, buf, 15), -1);
	CU_ASSERT_EQUAL(errno, ENOSPC);
}

int add_net_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_net", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "TCP over IPv4 (literal and name)",
			 test_tcp_ipv4) ||
	    !CU_add_test(s, "TCP over IPv6 ::1", test_tcp_ipv6) ||
	    !CU_add_test(s, "accept: peer address, none wanted, errors",
			 test_accept) ||
	    !CU_add_test(s, "TCP dual-stack listen reached over v4 and v6",
			 test_tcp_dual_stack) ||
	    !CU_add_test(s, "wildcard falls back to IPv4 without IPv6",
			 test_wildcard_without_ipv6) ||
	    !CU_add_test(s, "connect refused: error text",
			 test_connect_refused) ||
	    !CU_add_test(s, "connect goes on to the second address",
			 test_second_candidate) ||
	    !CU_add_test(s, "unknown host: gai_strerror text",
			 test_unknown_host) ||
	    !CU_add_test(s, "address in use: error text",
			 test_address_in_use) ||
	    !CU_add_test(s, "UDP bind/connect round trips",
			 test_udp_round_trip) ||
	    !CU_add_test(s, "UDP port unreachable gives ECONNREFUSED",
			 test_udp_port_unreachable) ||
	    !CU_add_test(s, "sockaddr_str: v4, v6, mapped, errors",
			 test_sockaddr_str) ||
	    !CU_add_test(s, "hostport_str", test_hostport_str))
		return -1;
	return 0;
}
