/* test_decode.c - the link, IP and transport decoders, on hand-built frames. */
#include <CUnit/CUnit.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* decode_exact - decode the first caplen bytes from a buffer of exactly that
 * size, so that AddressSanitizer catches any read past the captured bytes. */
static enum decode_status decode_exact(int linktype, const uint8_t *frame,
				       size_t caplen,
				       struct decoded_packet *out)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, frame, caplen);
	enum decode_status st = decode_packet(linktype, copy, caplen, out);
	/* The payload pointer must not outlive the copy: check it now. */
	if (st == DECODE_OK && out->payload_caplen > 0)
		CU_ASSERT(out->payload >= copy &&
			  out->payload + out->payload_caplen <= copy + caplen);
	free(copy);
	return st;
}

/* check_tcp_fields - the fields build_tcp_frame wrote. */
static void check_tcp_fields(const struct decoded_packet *p, int version,
			     size_t payload)
{
	CU_ASSERT_EQUAL(p->proto, PROTO_TCP);
	CU_ASSERT_EQUAL(p->src.addr.version, version);
	CU_ASSERT_EQUAL(p->src.port, 40000);
	CU_ASSERT_EQUAL(p->dst.port, 12000);
	CU_ASSERT_EQUAL(p->tcp.seq, 1000);
	CU_ASSERT_EQUAL(p->tcp.flags, TCP_SYN);
	CU_ASSERT_EQUAL(p->tcp.window, 65495);
	CU_ASSERT_EQUAL(p->tcp.mss, 65495);
	CU_ASSERT_EQUAL(p->tcp.wscale, 7);
	CU_ASSERT_EQUAL(p->tcp.header_len, 28);
	CU_ASSERT_EQUAL(p->payload_len, payload);
}

/* every_length - decode a frame cut at every length: headers cut short are
 * reported, the payload may be cut, the length always comes from IP. */
static void every_length(int linktype, int version)
{
	uint8_t frame[FRAME_MAX];
	const uint8_t payload[] = "0123456789";
	size_t len = build_tcp_frame(frame, linktype, version, payload, 10);
	size_t headers = len - 10;
	for (size_t caplen = 0; caplen <= len; caplen++) {
		struct decoded_packet p;
		enum decode_status st =
			decode_exact(linktype, frame, caplen, &p);
		if (caplen <
		    headers -
			    8) { /* the TCP options may be cut, not the base header */
			CU_ASSERT_EQUAL(st, DECODE_TRUNCATED);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(st, DECODE_OK);
		CU_ASSERT_EQUAL(p.payload_len, 10);
		CU_ASSERT_EQUAL(p.payload_caplen,
				caplen > headers ? caplen - headers : 0);
		if (caplen == len)
			check_tcp_fields(&p, version, 10);
	}
}

static void test_ethernet_ipv4_every_length(void)
{
	every_length(DLT_EN10MB, 4);
}

static void test_ethernet_ipv6_every_length(void)
{
	every_length(DLT_EN10MB, 6);
}

static void test_cooked_every_length(void)
{
	every_length(DLT_LINUX_SLL, 4);
	every_length(DLT_LINUX_SLL, 6);
	every_length(DLT_LINUX_SLL2, 4);
	every_length(DLT_LINUX_SLL2, 6);
}

static void test_null_and_loop_every_length(void)
{
	every_length(DLT_NULL, 4);
	every_length(DLT_NULL, 6);
	every_length(DLT_LOOP, 4);
	every_length(DLT_LOOP, 6);
}

static void test_raw_every_length(void)
{
	every_length(DLT_RAW, 4);
	every_length(DLT_RAW, 6);
	every_length(DLT_IPV4, 4);
	every_length(DLT_IPV6, 6);
}

/* test_null_families - every AF_INET6 value, in both byte orders. */
static void test_null_families(void)
{
	const uint32_t families[] = {10, 23, 24, 26, 28, 30};
	uint8_t frame[FRAME_MAX];
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		for (int big_endian = 0; big_endian <= 1; big_endian++) {
			size_t len =
				build_tcp_frame(frame, DLT_NULL, 6, NULL, 0);
			memset(frame, 0, 4);
			frame[big_endian ? 3 : 0] = (uint8_t)families[i];
			struct decoded_packet p;
			CU_ASSERT_EQUAL(decode_exact(DLT_NULL, frame, len, &p),
					DECODE_OK);
			CU_ASSERT_EQUAL(p.src.addr.version, 6);
		}
	}
	frame[0] = 99; /* an unknown family */
	struct decoded_packet p;
	CU_ASSERT_EQUAL(decode_exact(DLT_NULL, frame, 64, &p), DECODE_NOT_IP);
}

static void test_vlan_tag(void)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build_tcp_frame(frame + 4, DLT_EN10MB, 4,
				     (const uint8_t *)"x", 1);
	memset(frame, 0, 12);
	frame[12] = 0x81, frame[13] = 0x00; /* 802.1Q */
	frame[14] = 0x00, frame[15] = 0x05; /* VLAN 5 */
	frame[16] = 0x08, frame[17] = 0x00; /* then IPv4 */
	struct decoded_packet p;
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len + 4, &p),
			DECODE_OK);
	CU_ASSERT_EQUAL(p.payload_len, 1);
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, 17, &p),
			DECODE_TRUNCATED);
}

static void test_not_ip_and_other_protocols(void)
{
	uint8_t frame[FRAME_MAX] = {0};
	frame[12] = 0x08, frame[13] = 0x06; /* ARP */
	struct decoded_packet p;
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, 60, &p), DECODE_NOT_IP);
	size_t off = put_link(frame, DLT_EN10MB, 4);
	off += put_ipv4(frame + off, 1 /* ICMP */, 8, 0);
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, off + 8, &p),
			DECODE_OTHER_PROTO);
	CU_ASSERT_EQUAL(decode_exact(DLT_PPP, frame, off + 8, &p),
			DECODE_BAD_LINKTYPE);
	CU_ASSERT_FALSE(decode_linktype_supported(DLT_PPP));
	CU_ASSERT_TRUE(decode_linktype_supported(DLT_LINUX_SLL2));
}

static void test_ipv4_fragments(void)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build_tcp_frame(frame, DLT_RAW, 4, NULL, 0);
	struct decoded_packet p;
	frame[6] = 0x20; /* more fragments */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p), DECODE_FRAGMENT);
	frame[6] = 0x00, frame[7] = 0x10; /* a later fragment */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p), DECODE_FRAGMENT);
	frame[6] = 0x40, frame[7] = 0x00; /* don't fragment: fine */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p), DECODE_OK);
}

/* ipv6_with_extension - IPv6, one extension header of type ext, then TCP. */
static size_t ipv6_with_extension(uint8_t *frame, uint8_t ext)
{
	uint8_t tcp[64];
	size_t tcp_len = put_tcp(tcp, 1, 0, TCP_SYN, NULL, 0);
	size_t off = put_ipv6(frame, ext, 8 + tcp_len);
	memset(frame + off, 0, 8);
	frame[off] = 6; /* next header: TCP; length 0: 8 bytes */
	memcpy(frame + off + 8, tcp, tcp_len);
	return off + 8 + tcp_len;
}

static void test_ipv6_extension_headers(void)
{
	uint8_t frame[FRAME_MAX];
	struct decoded_packet p;
	const uint8_t walked[] = {0 /* hop-by-hop */, 43 /* routing */,
				  60 /* destination */};
	for (size_t i = 0; i < sizeof walked; i++) {
		size_t len = ipv6_with_extension(frame, walked[i]);
		CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
				DECODE_OK);
		CU_ASSERT_TRUE(p.ip6_ext);
		CU_ASSERT_EQUAL(p.tcp.flags, TCP_SYN);
		CU_ASSERT_EQUAL(p.payload_len, 0);
		for (size_t cut = 40; cut < len; cut++)
			CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, cut, &p),
					DECODE_TRUNCATED);
	}
	size_t len = ipv6_with_extension(frame, 44 /* fragment */);
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p), DECODE_FRAGMENT);
	len = ipv6_with_extension(frame, 0);
	frame[41] = 200; /* an extension longer than the packet */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
			DECODE_MALFORMED);
}

static void test_malformed_headers(void)
{
	uint8_t frame[FRAME_MAX];
	struct decoded_packet p;
	size_t len = build_tcp_frame(frame, DLT_RAW, 4, NULL, 0);
	frame[0] = 0x44; /* IHL 4: shorter than an IPv4 header */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
			DECODE_MALFORMED);
	len = build_tcp_frame(frame, DLT_RAW, 4, NULL, 0);
	frame[2] = 0, frame[3] = 10; /* total length shorter than the header */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
			DECODE_MALFORMED);
	len = build_tcp_frame(frame, DLT_RAW, 4, NULL, 0);
	frame[20 + 12] = 0x40; /* TCP data offset 4 words */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
			DECODE_MALFORMED);
	len = build_tcp_frame(frame, DLT_RAW, 4, NULL, 0);
	frame[20 + 12] = 0xf0; /* 60 bytes of TCP header in a 28-byte segment */
	CU_ASSERT_EQUAL(decode_exact(DLT_RAW, frame, len, &p),
			DECODE_MALFORMED);
	len = build_tcp_frame(frame, DLT_EN10MB, 4, NULL, 0);
	frame[14] = 0x65; /* version 6 in an IPv4 ethertype */
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len, &p),
			DECODE_MALFORMED);
}

/* test_length_from_ip - padding after the IP packet is not payload; a total
 * length of 0 (segmentation offload) means "what was captured". */
static void test_length_from_ip(void)
{
	uint8_t frame[FRAME_MAX];
	struct decoded_packet p;
	size_t len = build_tcp_frame(frame, DLT_EN10MB, 4,
				     (const uint8_t *)"abc", 3);
	memset(frame + len, 0, 6); /* Ethernet padding to 60 bytes */
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len + 6, &p),
			DECODE_OK);
	CU_ASSERT_EQUAL(p.payload_len, 3);
	CU_ASSERT_EQUAL(p.payload_caplen, 3);
	frame[14 + 2] = 0, frame[14 + 3] = 0;
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len, &p), DECODE_OK);
	CU_ASSERT_EQUAL(p.payload_len, 3);
}

static void test_udp(void)
{
	uint8_t frame[FRAME_MAX];
	size_t off = put_link(frame, DLT_EN10MB, 4);
	off += put_ipv4(frame + off, 17, 8 + 5, 0);
	off += put_udp(frame + off, 5);
	memcpy(frame + off, "ping\n", 5);
	size_t len = off + 5;
	struct decoded_packet p;
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len, &p), DECODE_OK);
	CU_ASSERT_EQUAL(p.proto, PROTO_UDP);
	CU_ASSERT_EQUAL(p.src.port, 50000);
	CU_ASSERT_EQUAL(p.payload_len, 5);
	CU_ASSERT_EQUAL(decode_packet(DLT_EN10MB, frame, len, &p),
			DECODE_OK); /* frame outlives p */
	CU_ASSERT_EQUAL(memcmp(p.payload, "ping\n", 5), 0);
	for (size_t cut = 0; cut < off; cut++)
		CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, cut, &p),
				DECODE_TRUNCATED);
	/* A UDP length below 8: the length from IP is used. */
	frame[14 + 20 + 4] = 0, frame[14 + 20 + 5] = 3;
	CU_ASSERT_EQUAL(decode_exact(DLT_EN10MB, frame, len, &p), DECODE_OK);
	CU_ASSERT_EQUAL(p.payload_len, 5);
}

int add_decode_suite(void)
{
	CU_pSuite s = CU_add_suite("decode", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "Ethernet IPv4 cut at every length",
			 test_ethernet_ipv4_every_length) ||
	    !CU_add_test(s, "Ethernet IPv6 cut at every length",
			 test_ethernet_ipv6_every_length) ||
	    !CU_add_test(s, "Linux cooked v1/v2 cut at every length",
			 test_cooked_every_length) ||
	    !CU_add_test(s, "BSD null/loop cut at every length",
			 test_null_and_loop_every_length) ||
	    !CU_add_test(s, "raw IP cut at every length",
			 test_raw_every_length) ||
	    !CU_add_test(s, "BSD null: AF_INET6 values, both byte orders",
			 test_null_families) ||
	    !CU_add_test(s, "802.1Q VLAN tag", test_vlan_tag) ||
	    !CU_add_test(s, "ARP, ICMP, unsupported link type",
			 test_not_ip_and_other_protocols) ||
	    !CU_add_test(s, "IPv4 fragments skipped", test_ipv4_fragments) ||
	    !CU_add_test(s, "IPv6 extension headers",
			 test_ipv6_extension_headers) ||
	    !CU_add_test(s, "malformed headers", test_malformed_headers) ||
	    !CU_add_test(s, "lengths come from IP, not caplen",
			 test_length_from_ip) ||
	    !CU_add_test(s, "UDP", test_udp))
		return -1;
	return 0;
}
