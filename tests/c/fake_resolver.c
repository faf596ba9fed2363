/*
 * fake_resolver - a getaddrinfo() for tests, linked with
 * -Wl,--wrap=getaddrinfo: every call of the library goes through
 * __wrap_getaddrinfo, which answers for TWO_ADDRESS_HOST itself and hands
 * every other name to the real resolver (__real_getaddrinfo).
 *
 * This machine's hosts file may give "localhost" one address only, and no
 * test may depend on DNS, yet the connect loop must be seen trying a second
 * candidate after the first one fails. With fake_no_ipv6 set, it also
 * plays a machine without IPv6: IPv6 lookups fail with EAI_FAMILY.
 */
#define _DEFAULT_SOURCE

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "testutil.h"

bool fake_no_ipv6;

int __real_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res);

/* Returns the lookup of a numeric address of one family, or an EAI code. */
static int numeric(const char *addr, int family, const char *service,
		   const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = *hints;

	h.ai_family = family;
	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(addr, service, &h, res);
}

int __wrap_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo *v6, *v4, *last;
	int rc;

	if (fake_no_ipv6 && hints != NULL && hints->ai_family == AF_INET6)
		return EAI_FAMILY;
	if (node == NULL || hints == NULL ||
	    strcmp(node, TWO_ADDRESS_HOST) != 0)
		return __real_getaddrinfo(node, service, hints, res);
	rc = numeric("::1", AF_INET6, service, hints, &v6);
	if (rc != 0)
		return rc;
	rc = numeric("127.0.0.1", AF_INET, service, hints, &v4);
	if (rc != 0) {
		freeaddrinfo(v6);
		return rc;
	}
	/* glibc frees a list node by node, so two lists can be chained. */
	for (last = v6; last->ai_next != NULL; last = last->ai_next)
		;
	last->ai_next = v4;
	*res = v6;
	return 0;
}
