/* checksum.c - Internet checksums (RFC 1071) of IPv4, TCP and UDP. */
#include "checksum.h"

/* sum_bytes - add n bytes to a one's complement sum as 16-bit words. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n % 2 == 1)
		sum += (uint32_t)p[n - 1] << 8; /* padded with a zero byte */
	return sum;
}

/* fold - the 16-bit one's complement of a sum; 0 when the data was right. */
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* pseudo_header_sum - the sum of the IPv4 or IPv6 pseudo-header. */
static uint32_t pseudo_header_sum(const struct decoded_packet *pkt)
{
	size_t addr_len = pkt->src.addr.version == 6 ? 16 : 4;
	uint32_t sum = sum_bytes(0, pkt->src.addr.bytes, addr_len);
	sum = sum_bytes(sum, pkt->dst.addr.bytes, addr_len);
	uint32_t len = (uint32_t)pkt->layers.l4_len;
	return sum + pkt->proto + (len >> 16) + (len & 0xffff);
}

/* udp_unchecked - a UDP checksum of 0 means "none" over IPv4 only. */
static bool udp_unchecked(const struct decoded_packet *pkt)
{
	const uint8_t *udp = pkt->layers.l4;
	return pkt->proto == PROTO_UDP && pkt->src.addr.version == 4 &&
	       udp[6] == 0 && udp[7] == 0;
}

enum checksum_verdict checksum_verify(const struct decoded_packet *pkt)
{
	const struct decoded_layers *l = &pkt->layers;
	if (pkt->src.addr.version == 4 &&
	    fold(sum_bytes(0, l->ip, l->ip_header_len)) != 0)
		return CHECKSUM_BAD_IP;
	/* The transport header was decoded, so its 8 bytes were captured. */
	if (l->l4_caplen < l->l4_len || udp_unchecked(pkt))
		return CHECKSUM_OK;
	uint32_t sum = pseudo_header_sum(pkt);
	if (fold(sum_bytes(sum, l->l4, l->l4_len)) != 0)
		return CHECKSUM_BAD_TRANSPORT;
	return CHECKSUM_OK;
}
