/* decode.c - link, IP and transport decoders for captured packets. */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "bytes.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	ETHERTYPE_PPPOE_SESSION = 0x8864,
	ETHERTYPE_TEB = 0x6558 /* GRE: transparent Ethernet bridging */
};

enum {
	ETH_HEADER_LEN = 14,
	VLAN_TAG_LEN = 4,
	SLL_HEADER_LEN = 16,
	SLL2_HEADER_LEN = 20
};
enum {
	IPV4_MIN_HEADER_LEN = 20,
	IPV6_HEADER_LEN = 40,
	TCP_MIN_HEADER_LEN = 20,
	UDP_HEADER_LEN = 8
};

/* IPv6 next-header values that are extension headers we can walk over. */
enum {
	IP6_HOPOPTS = 0,
	IP6_ROUTING = 43,
	IP6_FRAGMENT = 44,
	IP6_AH = 51,
	IP6_DSTOPTS = 60
};

/* IP protocols and UDP ports that carry a tunnel. */
enum {
	PROTO_IPIP = 4,
	PROTO_IPV6 = 41,
	PROTO_GRE = 47,
	PORT_VXLAN = 4789,
	PORT_GTPU = 2152
};

enum {
	PPPOE_HEADER_LEN = 6,
	VXLAN_HEADER_LEN = 8,
	GTP_HEADER_LEN = 8,
	GTP_OPTIONAL_LEN =
		4,	 /* sequence number, N-PDU number, next extension */
	GTP_GPDU = 0xff, /* the message type of a tunnelled packet */
	GRE_HEADER_LEN = 4
};

/* PPP protocol numbers of IPv4 and IPv6. */
enum {
	PPP_IPV4 = 0x0021,
	PPP_IPV6 = 0x0057,
	GRE_PPP = 0x880b /* PPTP's enhanced GRE (version 1) carries PPP */
};

/* The network layer found inside a link-layer frame or a tunnel. */
struct network {
	int version; /* 4, 6, or 0 for "not IP" */
	struct bytes ip;
	uint8_t tunnel; /* the link layer was a tunnel (PPPoE) */
};

bool decode_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

/* version_of_ethertype - IP version carried by an ethertype, or 0. */
static int version_of_ethertype(uint16_t ethertype)
{
	if (ethertype == ETHERTYPE_IPV4)
		return 4;
	if (ethertype == ETHERTYPE_IPV6)
		return 6;
	return 0;
}

/* network_at - the network layer of the given version starting at off. */
static struct network network_at(const struct bytes *frame, size_t off,
				 int version)
{
	struct network n = {version, bytes_tail(frame, off), TUNNEL_NONE};
	return n;
}

/* version_of_ppp - IP version of a PPP protocol number, or 0. */
static int version_of_ppp(uint16_t protocol)
{
	if (protocol == PPP_IPV4)
		return 4;
	if (protocol == PPP_IPV6)
		return 6;
	return 0;
}

/* link_ppp - find IP in a PPP frame at off: an optional address and
 * control field (0xff 0x03), then a protocol of 2 bytes, or 1 when
 * compressed (an odd first byte). */
static enum decode_status link_ppp(const struct bytes *frame, size_t off,
				   struct network *net)
{
	uint8_t first, second;
	if (get_u8(frame, off, &first) == -1 ||
	    get_u8(frame, off + 1, &second) == -1)
		return DECODE_TRUNCATED;
	if (first == 0xff && second == 0x03) {
		off += 2;
		if (get_u8(frame, off, &first) == -1)
			return DECODE_TRUNCATED;
	}
	uint16_t protocol = first;
	if (first % 2 == 0) {
		if (get_be16(frame, off, &protocol) == -1)
			return DECODE_TRUNCATED;
		off++;
	}
	*net = network_at(frame, off + 1, version_of_ppp(protocol));
	return DECODE_OK;
}

/* link_pppoe - find IP in a PPPoE session frame's payload at off. */
static enum decode_status link_pppoe(const struct bytes *frame, size_t off,
				     struct network *net)
{
	if (!bytes_has(frame, off, PPPOE_HEADER_LEN))
		return DECODE_TRUNCATED;
	enum decode_status st = link_ppp(frame, off + PPPOE_HEADER_LEN, net);
	net->tunnel = TUNNEL_PPPOE;
	return st;
}

/* network_of_ethertype - the network layer an ethertype announces at off. */
static enum decode_status network_of_ethertype(const struct bytes *frame,
					       size_t off, uint16_t ethertype,
					       struct network *net)
{
	if (ethertype == ETHERTYPE_PPPOE_SESSION)
		return link_pppoe(frame, off, net);
	*net = network_at(frame, off, version_of_ethertype(ethertype));
	return DECODE_OK;
}

/* link_ethernet - find IP in an Ethernet frame, skipping 802.1Q tags. */
static enum decode_status link_ethernet(const struct bytes *frame,
					struct network *net)
{
	uint16_t ethertype;
	if (get_be16(frame, 12, &ethertype) == -1)
		return DECODE_TRUNCATED;
	size_t off = ETH_HEADER_LEN;
	while (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
	       ethertype == ETHERTYPE_QINQ_OLD) {
		/* A tag is 2 bytes of TCI, then the next ethertype. */
		if (get_be16(frame, off + 2, &ethertype) == -1)
			return DECODE_TRUNCATED;
		off += VLAN_TAG_LEN;
	}
	if (!bytes_has(frame, off, 0))
		return DECODE_TRUNCATED;
	return network_of_ethertype(frame, off, ethertype, net);
}

/* link_cooked - find IP in a Linux cooked frame (SLL or SLL2). */
static enum decode_status link_cooked(const struct bytes *frame,
				      size_t proto_off, size_t header_len,
				      struct network *net)
{
	uint16_t protocol;
	if (!bytes_has(frame, 0, header_len) ||
	    get_be16(frame, proto_off, &protocol) == -1)
		return DECODE_TRUNCATED;
	return network_of_ethertype(frame, header_len, protocol, net);
}

/* version_of_family - IP version of a BSD address family value, or 0. */
static int version_of_family(uint32_t family)
{
	if (family == 2)
		return 4;
	/* AF_INET6 differs between systems: Linux 10, Windows 23 (Npcap's
	 * loopback adapter), NetBSD/OpenBSD 24, Solaris 26, FreeBSD 28,
	 * macOS 30. */
	if (family == 10 || family == 23 || family == 24 || family == 26 ||
	    family == 28 || family == 30)
		return 6;
	return 0;
}

/* link_null - find IP behind a BSD loopback header, in either byte order. */
static enum decode_status link_null(const struct bytes *frame,
				    struct network *net)
{
	uint32_t be, le;
	if (get_be32(frame, 0, &be) == -1 || get_le32(frame, 0, &le) == -1)
		return DECODE_TRUNCATED;
	/* The family is in the capturing host's byte order (DLT_LOOP: network
	 * order); a small value read one way is the right reading. */
	int version = version_of_family(be);
	if (version == 0)
		version = version_of_family(le);
	*net = network_at(frame, 4, version);
	return DECODE_OK;
}

/* link_raw - raw IP: the version nibble of the first byte says which. */
static enum decode_status link_raw(const struct bytes *frame,
				   struct network *net)
{
	uint8_t first;
	if (get_u8(frame, 0, &first) == -1)
		return DECODE_TRUNCATED;
	int version = first >> 4;
	*net = network_at(frame, 0, version == 4 || version == 6 ? version : 0);
	return DECODE_OK;
}

/* decode_link - strip the link layer of linktype and find the IP packet. */
static enum decode_status decode_link(int linktype, const struct bytes *frame,
				      struct network *net)
{
	switch (linktype) {
	case DLT_EN10MB:
		return link_ethernet(frame, net);
	case DLT_LINUX_SLL:
		return link_cooked(frame, 14, SLL_HEADER_LEN, net);
	case DLT_LINUX_SLL2:
		return link_cooked(frame, 0, SLL2_HEADER_LEN, net);
	case DLT_NULL:
	case DLT_LOOP:
		return link_null(frame, net);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return link_raw(frame, net);
	default:
		return DECODE_BAD_LINKTYPE;
	}
}

/* The transport layer found inside an IP packet. */
struct transport {
	uint8_t proto;
	size_t len;	  /* transport bytes on the wire, from the IP lengths */
	struct bytes seg; /* the captured part of them */
};

/* transport_view - the captured part of len transport bytes starting at off. */
static struct bytes transport_view(const struct bytes *ip, size_t off,
				   size_t len)
{
	struct bytes t = bytes_tail(ip, off);
	if (t.len > len)
		t.len = len; /* drop link-layer padding after the IP packet */
	return t;
}

/* decode_ipv4 - read an IPv4 header: endpoints' addresses and transport. */
static enum decode_status decode_ipv4(const struct bytes *ip,
				      struct decoded_packet *out,
				      struct transport *tr)
{
	uint8_t vihl, proto;
	uint16_t total_len, frag;
	if (get_u8(ip, 0, &vihl) == -1)
		return DECODE_TRUNCATED;
	size_t header_len = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || header_len < IPV4_MIN_HEADER_LEN)
		return DECODE_MALFORMED;
	if (get_be16(ip, 2, &total_len) == -1 || get_be16(ip, 6, &frag) == -1 ||
	    get_u8(ip, 9, &proto) == -1 ||
	    get_bytes(ip, 12, out->src.addr.bytes, 4) == -1 ||
	    get_bytes(ip, 16, out->dst.addr.bytes, 4) == -1 ||
	    !bytes_has(ip, 0, header_len))
		return DECODE_TRUNCATED;
	/* A total length of 0 comes from segmentation offload: use caplen. */
	size_t len = total_len != 0 ? total_len : ip->len;
	if (len < header_len)
		return DECODE_MALFORMED;
	if ((frag & 0x3fff) != 0) /* more-fragments bit or a fragment offset */
		return DECODE_FRAGMENT;
	out->src.addr.version = out->dst.addr.version = 4;
	out->layers.ip = ip->data;
	out->layers.ip_header_len = header_len;
	tr->proto = proto;
	tr->len = len - header_len;
	tr->seg = transport_view(ip, header_len, tr->len);
	return DECODE_OK;
}

/* ipv6_ext_len - length of the extension header at off; 0, or a status. */
static enum decode_status ipv6_ext_len(const struct bytes *ip, size_t off,
				       uint8_t type, size_t *len)
{
	uint8_t units;
	if (get_u8(ip, off + 1, &units) == -1)
		return DECODE_TRUNCATED;
	/* AH counts 4-byte units minus 2, the others 8-byte units minus 1. */
	*len = type == IP6_AH ? ((size_t)units + 2) * 4
			      : ((size_t)units + 1) * 8;
	return DECODE_OK;
}

/* skip_ipv6_extensions - walk extension headers until the transport header. */
static enum decode_status skip_ipv6_extensions(const struct bytes *ip,
					       uint8_t *next, size_t *off,
					       size_t end, bool *walked)
{
	while (*next == IP6_HOPOPTS || *next == IP6_ROUTING ||
	       *next == IP6_DSTOPTS || *next == IP6_AH ||
	       *next == IP6_FRAGMENT) {
		if (*next == IP6_FRAGMENT)
			return DECODE_FRAGMENT;
		size_t len;
		enum decode_status st = ipv6_ext_len(ip, *off, *next, &len);
		if (st != DECODE_OK)
			return st;
		if (get_u8(ip, *off, next) == -1)
			return DECODE_TRUNCATED;
		if (len > end - *off)
			return DECODE_MALFORMED;
		*off += len;
		*walked = true;
	}
	return DECODE_OK;
}

/* decode_ipv6 - read an IPv6 header and its extension headers. */
static enum decode_status decode_ipv6(const struct bytes *ip,
				      struct decoded_packet *out,
				      struct transport *tr)
{
	uint8_t first, next;
	uint16_t payload_len;
	if (get_u8(ip, 0, &first) == -1)
		return DECODE_TRUNCATED;
	if (first >> 4 != 6)
		return DECODE_MALFORMED;
	if (get_be16(ip, 4, &payload_len) == -1 || get_u8(ip, 6, &next) == -1 ||
	    get_bytes(ip, 8, out->src.addr.bytes, 16) == -1 ||
	    get_bytes(ip, 24, out->dst.addr.bytes, 16) == -1)
		return DECODE_TRUNCATED;
	/* A payload length of 0 is a jumbogram or offload: use what was captured. */
	size_t end =
		IPV6_HEADER_LEN +
		(payload_len != 0 ? payload_len : ip->len - IPV6_HEADER_LEN);
	size_t off = IPV6_HEADER_LEN;
	enum decode_status st =
		skip_ipv6_extensions(ip, &next, &off, end, &out->ip6_ext);
	if (st != DECODE_OK)
		return st;
	if (!bytes_has(ip, off, 0))
		return DECODE_TRUNCATED; /* cut inside the extension headers */
	out->src.addr.version = out->dst.addr.version = 6;
	out->layers.ip = ip->data;
	out->layers.ip_header_len = IPV6_HEADER_LEN;
	tr->proto = next;
	tr->len = end - off;
	tr->seg = transport_view(ip, off, tr->len);
	return DECODE_OK;
}

/* ---- tunnels ---------------------------------------------------------- */

/* gre_version1 - PPTP's enhanced GRE: a key, optional sequence and ack
 * numbers, then PPP. */
static enum decode_status gre_version1(const struct bytes *g, uint16_t flags,
				       uint16_t protocol, struct network *net)
{
	size_t off = GRE_HEADER_LEN + 4; /* the key is always there */
	if (flags & 0x1000)
		off += 4; /* sequence number */
	if (flags & 0x0080)
		off += 4; /* acknowledgment number */
	if (protocol != GRE_PPP)
		return DECODE_TUNNEL_OTHER;
	if (!bytes_has(g, off, 0))
		return DECODE_TRUNCATED;
	return link_ppp(g, off, net);
}

/* tunnel_gre - find IP (or Ethernet) behind a GRE header (RFC 2784, 2890). */
static enum decode_status tunnel_gre(const struct bytes *g, struct network *net)
{
	uint16_t flags, protocol;
	if (get_be16(g, 0, &flags) == -1 || get_be16(g, 2, &protocol) == -1)
		return DECODE_TRUNCATED;
	if ((flags & 0x7) == 1)
		return gre_version1(g, flags, protocol, net);
	/* Other versions, and RFC 1701's source routes, are not decoded. */
	if ((flags & 0x7) != 0 || (flags & 0x4000))
		return DECODE_TUNNEL_OTHER;
	size_t off = GRE_HEADER_LEN;
	if (flags & 0x8000)
		off += 4; /* checksum and reserved */
	if (flags & 0x2000)
		off += 4; /* key */
	if (flags & 0x1000)
		off += 4; /* sequence number */
	if (!bytes_has(g, off, 0))
		return DECODE_TRUNCATED;
	if (protocol == ETHERTYPE_TEB) {
		struct bytes inner = bytes_tail(g, off);
		return link_ethernet(&inner, net);
	}
	*net = network_at(g, off, version_of_ethertype(protocol));
	return DECODE_OK;
}

/* tunnel_vxlan - find IP in the Ethernet frame behind a VXLAN header. */
static enum decode_status tunnel_vxlan(const struct bytes *udp,
				       struct network *net)
{
	uint8_t flags;
	if (get_u8(udp, UDP_HEADER_LEN, &flags) == -1 ||
	    !bytes_has(udp, UDP_HEADER_LEN, VXLAN_HEADER_LEN))
		return DECODE_TRUNCATED;
	if (!(flags & 0x08)) /* the I flag: a valid network identifier */
		return DECODE_TUNNEL_OTHER;
	struct bytes inner = bytes_tail(udp, UDP_HEADER_LEN + VXLAN_HEADER_LEN);
	return link_ethernet(&inner, net);
}

/* gtp_skip_extensions - walk GTP-U extension headers from off, where the
 * byte before says which comes next; each gives its length in 4 bytes. */
static enum decode_status gtp_skip_extensions(const struct bytes *g,
					      size_t *off)
{
	uint8_t next, units;
	if (get_u8(g, *off - 1, &next) == -1)
		return DECODE_TRUNCATED;
	while (next != 0) {
		if (get_u8(g, *off, &units) == -1)
			return DECODE_TRUNCATED;
		if (units == 0)
			return DECODE_MALFORMED;
		*off += (size_t)units * 4;
		if (get_u8(g, *off - 1, &next) == -1)
			return DECODE_TRUNCATED;
	}
	return DECODE_OK;
}

/* tunnel_gtpu - find the IP packet of a GTP-U G-PDU (3GPP TS 29.281). */
static enum decode_status tunnel_gtpu(const struct bytes *udp,
				      struct network *net)
{
	struct bytes g = bytes_tail(udp, UDP_HEADER_LEN);
	uint8_t flags, first;
	if (get_u8(&g, 0, &flags) == -1 || !bytes_has(&g, 0, GTP_HEADER_LEN))
		return DECODE_TRUNCATED;
	size_t off = GTP_HEADER_LEN;
	if (flags & 0x07) /* E, S or PN: the optional fields are all there */
		off += GTP_OPTIONAL_LEN;
	if (flags & 0x04) {
		enum decode_status st = gtp_skip_extensions(&g, &off);
		if (st != DECODE_OK)
			return st;
	}
	if (get_u8(&g, off, &first) == -1)
		return DECODE_TRUNCATED;
	int version = first >> 4;
	*net = network_at(&g, off, version == 4 || version == 6 ? version : 0);
	return DECODE_OK;
}

/* udp_port_is - true if either port of the UDP header in seg is port. */
static bool udp_port_is(const struct bytes *seg, uint16_t port)
{
	uint16_t src, dst;
	if (get_be16(seg, 0, &src) == -1 || get_be16(seg, 2, &dst) == -1)
		return false;
	return src == port || dst == port;
}

/* is_gtpu_gpdu - a GTPv1-U header announcing a tunnelled packet follows the
 * UDP header (echo requests and the like are ordinary UDP). */
static bool is_gtpu_gpdu(const struct bytes *seg)
{
	uint8_t flags, type;
	if (!udp_port_is(seg, PORT_GTPU) ||
	    get_u8(seg, UDP_HEADER_LEN, &flags) == -1 ||
	    get_u8(seg, UDP_HEADER_LEN + 1, &type) == -1)
		return false;
	return flags >> 5 == 1 && (flags & 0x10) && type == GTP_GPDU;
}

/* tunnel_of - the tunnel a transport carries, or TUNNEL_NONE. */
static uint8_t tunnel_of(const struct transport *tr)
{
	switch (tr->proto) {
	case PROTO_IPIP:
	case PROTO_IPV6:
		return TUNNEL_IP_IN_IP;
	case PROTO_GRE:
		return TUNNEL_GRE;
	case PROTO_UDP:
		if (is_gtpu_gpdu(&tr->seg))
			return TUNNEL_GTPU;
		if (udp_port_is(&tr->seg, PORT_VXLAN))
			return TUNNEL_VXLAN;
		return TUNNEL_NONE;
	default:
		return TUNNEL_NONE;
	}
}

/* decapsulate - the network layer inside a tunnel of the given kind. */
static enum decode_status decapsulate(const struct transport *tr, uint8_t kind,
				      struct network *net)
{
	switch (kind) {
	case TUNNEL_IP_IN_IP:
		*net = network_at(&tr->seg, 0, tr->proto == PROTO_IPIP ? 4 : 6);
		return DECODE_OK;
	case TUNNEL_GRE:
		return tunnel_gre(&tr->seg, net);
	case TUNNEL_VXLAN:
		return tunnel_vxlan(&tr->seg, net);
	case TUNNEL_GTPU:
		return tunnel_gtpu(&tr->seg, net);
	default:
		return DECODE_TUNNEL_OTHER;
	}
}

/* decode_ip - read the IPv4 or IPv6 header of net. */
static enum decode_status decode_ip(const struct network *net,
				    struct decoded_packet *out,
				    struct transport *tr)
{
	if (net->version == 4)
		return decode_ipv4(&net->ip, out, tr);
	if (net->version == 6)
		return decode_ipv6(&net->ip, out, tr);
	return out->tunnel != TUNNEL_NONE ? DECODE_TUNNEL_OTHER : DECODE_NOT_IP;
}

/* find_transport - the innermost IP packet's transport, through tunnels. */
static enum decode_status find_transport(struct network *net,
					 struct decoded_packet *out,
					 struct transport *tr)
{
	out->tunnel = net->tunnel;
	for (int depth = 0;; depth++) {
		enum decode_status st = decode_ip(net, out, tr);
		if (st != DECODE_OK)
			return st;
		uint8_t kind = tunnel_of(tr);
		if (kind == TUNNEL_NONE || depth == DECODE_MAX_TUNNELS)
			return DECODE_OK;
		if (out->tunnel == TUNNEL_NONE)
			out->tunnel = kind;
		memset(net, 0, sizeof *net);
		st = decapsulate(tr, kind, net);
		if (st != DECODE_OK)
			return st;
	}
}

/* tcp_options - read the MSS and window-scale options that were captured. */
static void tcp_options(const struct bytes *seg, struct tcp_header *h)
{
	size_t end = h->header_len < seg->len ? h->header_len : seg->len;
	struct bytes opts = {seg->data, end};
	size_t off = TCP_MIN_HEADER_LEN;
	uint8_t kind, len;
	while (get_u8(&opts, off, &kind) == 0 && kind != 0) {
		if (kind == 1) { /* NOP: a single byte */
			off++;
			continue;
		}
		if (get_u8(&opts, off + 1, &len) == -1 || len < 2)
			return;
		if (kind == 2 && len == 4)
			(void)get_be16(&opts, off + 2, &h->mss);
		if (kind == 3 && len == 3) {
			uint8_t shift;
			if (get_u8(&opts, off + 2, &shift) == 0)
				h->wscale =
					shift > 14
						? 14
						: shift; /* RFC 7323 caps it at 14 */
		}
		off += len;
	}
}

/* decode_tcp - read a TCP header; the payload is what follows its options. */
static enum decode_status decode_tcp(const struct transport *tr,
				     struct decoded_packet *out)
{
	struct tcp_header *h = &out->tcp;
	uint8_t offset_byte;
	if (!bytes_has(&tr->seg, 0, TCP_MIN_HEADER_LEN))
		return DECODE_TRUNCATED;
	if (get_be16(&tr->seg, 0, &out->src.port) == -1 ||
	    get_be16(&tr->seg, 2, &out->dst.port) == -1 ||
	    get_be32(&tr->seg, 4, &h->seq) == -1 ||
	    get_be32(&tr->seg, 8, &h->ack) == -1 ||
	    get_u8(&tr->seg, 12, &offset_byte) == -1 ||
	    get_u8(&tr->seg, 13, &h->flags) == -1 ||
	    get_be16(&tr->seg, 14, &h->window) == -1)
		return DECODE_TRUNCATED;
	h->header_len = (size_t)(offset_byte >> 4) * 4;
	if (h->header_len < TCP_MIN_HEADER_LEN || h->header_len > tr->len)
		return DECODE_MALFORMED;
	h->wscale = -1;
	h->mss = 0;
	tcp_options(&tr->seg, h);
	out->payload_len = tr->len - h->header_len;
	return DECODE_OK;
}

/* decode_udp - read a UDP header; its length field bounds the payload. */
static enum decode_status decode_udp(const struct transport *tr,
				     struct decoded_packet *out)
{
	uint16_t udp_len;
	if (!bytes_has(&tr->seg, 0, UDP_HEADER_LEN))
		return DECODE_TRUNCATED;
	if (get_be16(&tr->seg, 0, &out->src.port) == -1 ||
	    get_be16(&tr->seg, 2, &out->dst.port) == -1 ||
	    get_be16(&tr->seg, 4, &udp_len) == -1)
		return DECODE_TRUNCATED;
	if (tr->len < UDP_HEADER_LEN)
		return DECODE_MALFORMED;
	/* Trust the UDP length when it fits in the IP packet (it may be shorter). */
	bool fits = udp_len >= UDP_HEADER_LEN && udp_len <= tr->len;
	out->payload_len = (fits ? udp_len : tr->len) - UDP_HEADER_LEN;
	return DECODE_OK;
}

/* set_payload - point out at the captured bytes of the payload at off. */
static void set_payload(const struct transport *tr, size_t off,
			struct decoded_packet *out)
{
	size_t captured = tr->seg.len > off ? tr->seg.len - off : 0;
	out->payload = tr->seg.data + (captured ? off : 0);
	out->payload_caplen =
		captured < out->payload_len ? captured : out->payload_len;
}

enum decode_status decode_packet(int linktype, const uint8_t *data,
				 size_t caplen, struct decoded_packet *out)
{
	memset(out, 0, sizeof *out);
	struct bytes frame = {data, caplen};
	struct network net;
	enum decode_status st = decode_link(linktype, &frame, &net);
	if (st != DECODE_OK)
		return st;

	struct transport tr;
	st = find_transport(&net, out, &tr);
	if (st != DECODE_OK)
		return st;

	out->proto = tr.proto;
	out->layers.l4 = tr.seg.data;
	out->layers.l4_len = tr.len;
	out->layers.l4_caplen = tr.seg.len;
	if (tr.proto == PROTO_TCP)
		st = decode_tcp(&tr, out);
	else if (tr.proto == PROTO_UDP)
		st = decode_udp(&tr, out);
	else
		return DECODE_OTHER_PROTO;
	if (st != DECODE_OK)
		return st;
	set_payload(&tr,
		    tr.proto == PROTO_TCP ? out->tcp.header_len
					  : UDP_HEADER_LEN,
		    out);
	return DECODE_OK;
}

const char *decode_status_text(enum decode_status status)
{
	switch (status) {
	case DECODE_OK:
		return "ok";
	case DECODE_TRUNCATED:
		return "headers cut short by the capture length";
	case DECODE_MALFORMED:
		return "malformed header";
	case DECODE_NOT_IP:
		return "not IPv4 or IPv6";
	case DECODE_FRAGMENT:
		return "IP fragment";
	case DECODE_OTHER_PROTO:
		return "neither TCP nor UDP";
	case DECODE_BAD_LINKTYPE:
		return "unsupported link type";
	case DECODE_TUNNEL_OTHER:
		return "tunnel carrying neither IPv4 nor IPv6";
	}
	return "unknown";
}

const char *decode_tunnel_name(unsigned kind)
{
	static const char *const names[TUNNEL_KINDS] = {
		"none", "IP-in-IP", "GRE", "VXLAN", "GTP-U", "PPPoE"};
	return kind < TUNNEL_KINDS ? names[kind] : "?";
}

const char *decode_tunnel_key(unsigned kind)
{
	static const char *const keys[TUNNEL_KINDS] = {
		"none", "ip_in_ip", "gre", "vxlan", "gtpu", "pppoe"};
	return kind < TUNNEL_KINDS ? keys[kind] : "?";
}
