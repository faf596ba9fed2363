/* checksum.h - the Internet checksums of a decoded packet (--check-checksums).
 *
 * Off by default: on loopback and with checksum offload the kernel leaves
 * checksums partial, so a bad one there is no corruption. A TA turns it on
 * for a capture from a real network, as Zeek does by default: a packet
 * with a bad IPv4 header checksum is dropped before anything else, a TCP
 * or UDP one is not counted and only marked ('C' in the history).
 */
#ifndef PCAPCHECK_CHECKSUM_H
#define PCAPCHECK_CHECKSUM_H

#include "decode.h"

enum checksum_verdict {
	CHECKSUM_OK = 0,       /* good, or not checkable (cut by the snaplen) */
	CHECKSUM_BAD_IP,       /* the innermost IPv4 header's */
	CHECKSUM_BAD_TRANSPORT /* the TCP or UDP checksum */
};

/* checksum_verify - check the innermost IPv4 header and the TCP or UDP
 * checksum of a packet decode_packet accepted. */
enum checksum_verdict checksum_verify(const struct decoded_packet *pkt);

#endif
