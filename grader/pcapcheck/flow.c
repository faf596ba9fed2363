/* flow.c - addresses, endpoints and the direction-free key of a flow. */
#include "flow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* addr_size - number of meaningful address bytes for an IP version. */
static size_t addr_size(const struct flow_addr *a)
{
	return a->version == 6 ? 16 : 4;
}

int flow_endpoint_compare(const struct flow_endpoint *a,
			  const struct flow_endpoint *b)
{
	if (a->addr.version != b->addr.version)
		return a->addr.version < b->addr.version ? -1 : 1;
	int c = memcmp(a->addr.bytes, b->addr.bytes, addr_size(&a->addr));
	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

bool flow_endpoint_equal(const struct flow_endpoint *a,
			 const struct flow_endpoint *b)
{
	return flow_endpoint_compare(a, b) == 0;
}

struct flow_key flow_key_make(uint8_t proto, const struct flow_endpoint *src,
			      const struct flow_endpoint *dst)
{
	struct flow_key k;
	memset(&k, 0, sizeof k);
	k.proto = proto;
	bool src_first = flow_endpoint_compare(src, dst) <= 0;
	k.lo = src_first ? *src : *dst;
	k.hi = src_first ? *dst : *src;
	return k;
}

bool flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->proto == b->proto && flow_endpoint_equal(&a->lo, &b->lo) &&
	       flow_endpoint_equal(&a->hi, &b->hi);
}

/* mix - fold a 64-bit value into a running hash (multiply and xor-shift). */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15u; /* 2^64 / golden ratio: spreads the bits */
	return h ^ (h >> 29);
}

/* hash_endpoint - fold one endpoint's fields (not its padding) into h. */
static uint64_t hash_endpoint(uint64_t h, const struct flow_endpoint *e)
{
	h = mix(h, (uint64_t)e->addr.version << 16 | e->port);
	for (size_t i = 0; i < addr_size(&e->addr); i += 4) {
		const uint8_t *b = e->addr.bytes + i;
		h = mix(h, (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 |
				   (uint64_t)b[2] << 8 | b[3]);
	}
	return h;
}

uint64_t flow_key_hash(const struct flow_key *k)
{
	uint64_t h = mix(0, k->proto);
	h = hash_endpoint(h, &k->lo);
	return hash_endpoint(h, &k->hi);
}

const char *flow_addr_format(const struct flow_addr *a, char *buf, size_t len)
{
	int family = a->version == 6 ? AF_INET6 : AF_INET;
	if (inet_ntop(family, a->bytes, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "?");
	return buf;
}

const char *flow_endpoint_format(const struct flow_endpoint *e, char *buf,
				 size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	flow_addr_format(&e->addr, addr, sizeof addr);
	if (e->addr.version == 6)
		(void)snprintf(buf, len, "[%s]:%u", addr, (unsigned)e->port);
	else
		(void)snprintf(buf, len, "%s:%u", addr, (unsigned)e->port);
	return buf;
}
