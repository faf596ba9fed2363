/* flow.h - addresses, endpoints and the direction-free key of a flow.
 *
 * A TCP connection or UDP flow is found by its 4-tuple whichever way a
 * packet travels, so the key stores its two endpoints in a canonical
 * order (the smaller first) and remembers nothing about direction.
 */
#ifndef PCAPCHECK_FLOW_H
#define PCAPCHECK_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; IPv4 uses the first 4 bytes, the rest are 0. */
struct flow_addr {
	uint8_t version;   /* 4 or 6 */
	uint8_t bytes[16]; /* network byte order */
};

/* One end of a flow: address and port (host byte order). */
struct flow_endpoint {
	struct flow_addr addr;
	uint16_t port;
};

/* The key of a flow: protocol and both endpoints, smaller endpoint first. */
struct flow_key {
	uint8_t proto;
	struct flow_endpoint lo, hi;
};

/* Longest text flow_endpoint_format writes: "[v6 address]:65535". */
#define FLOW_ENDPOINT_STRLEN 56

/* flow_endpoint_compare - order by version, address, port (<0, 0, >0). */
int flow_endpoint_compare(const struct flow_endpoint *a,
			  const struct flow_endpoint *b);

/* flow_endpoint_equal - true if both have the same address and port. */
bool flow_endpoint_equal(const struct flow_endpoint *a,
			 const struct flow_endpoint *b);

/* flow_key_make - build the key of a packet from src to dst. */
struct flow_key flow_key_make(uint8_t proto, const struct flow_endpoint *src,
			      const struct flow_endpoint *dst);

/* flow_key_equal - true if two keys name the same flow. */
bool flow_key_equal(const struct flow_key *a, const struct flow_key *b);

/* flow_key_hash - a 64-bit hash of the key's fields. */
uint64_t flow_key_hash(const struct flow_key *k);

/* flow_addr_format - the address as text ("127.0.0.1", "::1"); buf. */
const char *flow_addr_format(const struct flow_addr *a, char *buf, size_t len);

/* flow_endpoint_format - "addr:port" ("[addr]:port" for IPv6); buf. */
const char *flow_endpoint_format(const struct flow_endpoint *e, char *buf,
				 size_t len);

#endif
