/* decode.h - link, IP and transport decoders for captured packets.
 *
 * decode_packet() turns the captured bytes of one frame into the fields
 * the trackers need: endpoints, TCP header fields, payload length and the
 * captured payload. Lengths come from the IP and UDP length fields, never
 * from the capture length, so a packet cut short by the snaplen still
 * counts all of its bytes. Every field is read through bytes.h.
 */
#ifndef PCAPCHECK_DECODE_H
#define PCAPCHECK_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

enum decode_status {
	DECODE_OK = 0,
	DECODE_TRUNCATED, /* a needed header goes past the captured bytes */
	DECODE_MALFORMED, /* a length or version field contradicts the headers */
	DECODE_NOT_IP,	  /* ARP, LLDP, ...: not IPv4 or IPv6 */
	DECODE_FRAGMENT,  /* an IPv4 or IPv6 fragment: we do not reassemble */
	DECODE_OTHER_PROTO,  /* IP, but neither TCP nor UDP (ICMP, ESP, ...) */
	DECODE_BAD_LINKTYPE, /* a link type we cannot decode */
	DECODE_TUNNEL_OTHER /* a tunnel whose payload is not IP (GRE ERSPAN, ...) */
};

/* Encapsulations decode_packet looks through: the outer headers are
 * skipped and the inner IP packet is decoded as if it had been captured
 * alone. Students' own captures (a laptop on a mobile network, a VPN, a
 * lab VM behind VXLAN) hold them. */
enum tunnel_kind {
	TUNNEL_NONE = 0,
	TUNNEL_IP_IN_IP, /* IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4, 41) */
	TUNNEL_GRE,	 /* GRE: IPv4, IPv6, Ethernet; PPTP's GRE with PPP */
	TUNNEL_VXLAN,	 /* UDP port 4789, then Ethernet */
	TUNNEL_GTPU,	 /* GTP-U G-PDUs on UDP port 2152 */
	TUNNEL_PPPOE,	 /* PPPoE session frames (ethertype 0x8864) */
	TUNNEL_KINDS
};

/* Tunnels inside tunnels are followed this deep, no deeper. */
#define DECODE_MAX_TUNNELS 4

/* TCP flag bits as they appear in the header's 13th byte. */
enum {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80
};

/* IP protocol numbers of the transports we track. */
enum {
	PROTO_TCP = 6,
	PROTO_UDP = 17
};

struct tcp_header {
	uint32_t seq, ack;
	uint16_t window;   /* as sent, before any window scaling */
	uint8_t flags;	   /* TCP_FIN ... TCP_CWR */
	int wscale;	   /* window scale option, or -1 if absent */
	uint16_t mss;	   /* MSS option, or 0 if absent */
	size_t header_len; /* data offset in bytes, options included */
};

/* Where the innermost IP and transport headers lie (for checksums). */
struct decoded_layers {
	const uint8_t *ip;    /* the IP header */
	size_t ip_header_len; /* IPv4: its IHL in bytes; IPv6: 40 */
	const uint8_t *l4;    /* the TCP or UDP header */
	size_t l4_len;	      /* transport bytes on the wire */
	size_t l4_caplen;     /* of them captured */
};

struct decoded_packet {
	uint8_t proto; /* PROTO_TCP or PROTO_UDP */
	struct flow_endpoint src, dst;
	bool ip6_ext;	       /* IPv6 extension headers were walked over */
	uint8_t tunnel;	       /* outermost enum tunnel_kind, or TUNNEL_NONE */
	struct tcp_header tcp; /* valid when proto is TCP */
	size_t payload_len; /* payload bytes on the wire (from length fields) */
	const uint8_t *payload; /* the captured part of the payload */
	size_t payload_caplen;	/* <= payload_len when the snaplen cut it */
	struct decoded_layers layers;
};

/* decode_linktype_supported - true if decode_packet understands this DLT. */
bool decode_linktype_supported(int linktype);

/* decode_packet - decode one captured frame of link type linktype into out. */
enum decode_status decode_packet(int linktype, const uint8_t *data,
				 size_t caplen, struct decoded_packet *out);

/* decode_status_text - a short description of a decode status. */
const char *decode_status_text(enum decode_status status);

/* decode_tunnel_name - "GRE", "VXLAN", ... for an enum tunnel_kind. */
const char *decode_tunnel_name(unsigned kind);

/* decode_tunnel_key - the JSON key of a tunnel kind: "gre", "vxlan", ... */
const char *decode_tunnel_key(unsigned kind);

#endif
