/* test_tunnel.c - captures from students' laptops: tunnels (IP-in-IP, GRE,
 * VXLAN, GTP-U, PPPoE), Windows/BSD loopback (DLT_NULL) and `tcpdump -i
 * any` (LINUX_SLL2), each written as a small pcap file by the test and
 * read back through analysis_read_file like any capture. */
#include <CUnit/CUnit.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "report.h"
#include "testutil.h"

/* ---- a pcap file of hand-built frames ------------------------------------ */

struct pcap_file {
	char path[64];
	FILE *fp;
	uint32_t usec; /* each frame 100 us after the last */
};

/* le32 - store a little-endian 32-bit value. */
static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* pcap_open_test - a new pcap file (little-endian, microseconds). */
static void pcap_open_test(struct pcap_file *f, int linktype)
{
	uint8_t header[24] = {0};
	(void)snprintf(f->path, sizeof f->path, "/tmp/pcapcheck-test-XXXXXX");
	int fd = mkstemp(f->path);
	CU_ASSERT_FATAL(fd != -1);
	f->fp = fdopen(fd, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->fp);
	le32(header, 0xa1b2c3d4);
	header[4] = 2, header[6] = 4; /* version 2.4 */
	le32(header + 16, 262144);    /* snaplen */
	le32(header + 20, (uint32_t)linktype);
	CU_ASSERT_EQUAL(fwrite(header, 1, sizeof header, f->fp), sizeof header);
	f->usec = 0;
}

/* pcap_write_cut - one frame of len bytes on the wire, caplen captured. */
static void pcap_write_cut(struct pcap_file *f, const uint8_t *frame,
			   size_t caplen, size_t len)
{
	uint8_t record[16];
	le32(record, 1700000000);
	le32(record + 4, f->usec += 100);
	le32(record + 8, (uint32_t)caplen);
	le32(record + 12, (uint32_t)len);
	CU_ASSERT_EQUAL(fwrite(record, 1, sizeof record, f->fp), sizeof record);
	CU_ASSERT_EQUAL(fwrite(frame, 1, caplen, f->fp), caplen);
}

/* pcap_write - one whole frame. */
static void pcap_write(struct pcap_file *f, const uint8_t *frame, size_t len)
{
	pcap_write_cut(f, frame, len, len);
}

/* analyse_checked - close the file and analyse it into a (removed after),
 * with --check-checksums or without. */
static void analyse_checked(struct pcap_file *f, struct analysis *a,
			    bool checksums)
{
	struct analysis_options opt = {
		.stream_limit = STREAM_DEFAULT_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
		.check_checksums = checksums,
	};
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(fclose(f->fp), 0);
	int rc = analysis_read_file(a, f->path, &opt, err, sizeof err);
	(void)unlink(f->path);
	if (rc != 0)
		fprintf(stderr, "\n    analysis_read_file: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* analyse_file - analyse as `pcapcheck analyze` does by default. */
static void analyse_file(struct pcap_file *f, struct analysis *a)
{
	analyse_checked(f, a, false);
}

/* warnings_of - every warning of the analysis, one per line. */
static char *warnings_of(const struct analysis *a)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(report_json(a, out), 0);
	fclose(out);
	return buf;
}

/* report_has - the JSON report of a contains text. */
static void report_has(const struct analysis *a, const char *text)
{
	char *json = warnings_of(a);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, text));
	if (strstr(json, text) == NULL)
		fprintf(stderr, "\n    no \"%s\" in:\n%s\n", text, json);
	free(json);
}

/* ---- the inner packets ------------------------------------------------- */

/* inner_segment - raw IPv4/6 + TCP, 40000 -> 12000, with flags and data. */
static size_t inner_segment(uint8_t *out, int version, uint8_t flags,
			    uint32_t seq, uint32_t ack, const char *data)
{
	size_t n = data ? strlen(data) : 0;
	size_t off = version == 6 ? put_ipv6(out, 6, 20 + n)
				  : put_ipv4(out, 6, 20 + n, 0);
	off += put_tcp(out + off, seq, ack, flags, NULL, 0);
	if (n > 0)
		memcpy(out + off, data, n);
	return off + n;
}

/* swap_ports - make the TCP segment at tcp go from the server to the client. */
static void swap_ports(uint8_t *tcp)
{
	uint8_t t[2] = {tcp[0], tcp[1]};
	tcp[0] = tcp[2], tcp[1] = tcp[3];
	tcp[2] = t[0], tcp[3] = t[1];
}

/* sum16 - the one's complement sum of n bytes, folded (RFC 1071). */
static uint16_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* put_sum - store the complement of a sum at p. */
static void put_sum(uint8_t *p, uint16_t sum)
{
	p[0] = (uint8_t)(~sum >> 8);
	p[1] = (uint8_t)~sum;
}

/* l4_checksum - the TCP or UDP checksum of the raw IPv4/IPv6 packet ip. */
static void l4_checksum(uint8_t *ip, size_t n, int version, size_t field)
{
	size_t hdr = version == 6 ? 40 : 20, alen = version == 6 ? 16 : 4;
	size_t l4_len = n - hdr;
	uint32_t pseudo = (uint32_t)(version == 6 ? ip[6] : ip[9]) + l4_len;
	pseudo += sum16(0, ip + (version == 6 ? 8 : 12), 2 * alen);
	ip[hdr + field] = ip[hdr + field + 1] = 0;
	put_sum(ip + hdr + field, sum16(pseudo, ip + hdr, l4_len));
}

struct wrap;
/* fill_checksums - right checksums, one spoilt if the test asks. */
static void fill_checksums(uint8_t *ip, size_t n, const struct wrap *w,
			   int packet);

/* A wrapper puts the outer headers in front of an inner IP packet. */
struct wrap {
	int version;	 /* of the inner packet */
	uint32_t family; /* DLT_NULL only: the address family ... */
	int big_endian;	 /* ... and its byte order */
	bool sums;	 /* fill in the IPv4, TCP checksums ... */
	int corrupt_tcp; /* ... then spoil this packet's TCP one (1-based) */
	int corrupt_ip;	 /* ... or its IPv4 header's */
};
typedef size_t wrap_fn(uint8_t *out, const uint8_t *inner, size_t n,
		       const struct wrap *w);

/* write_conversation - SYN, SYN-ACK, ACK, "hi", FIN, FIN, ACK of an inner
 * IPv4 or IPv6 connection, each wrapped by wrap; returns the packets. */
static size_t write_conversation(struct pcap_file *f, wrap_fn *wrap,
				 const struct wrap *w)
{
	int version = w->version;
	static const struct {
		int server;
		uint8_t flags;
		uint32_t seq, ack;
		const char *data;
	} script[] = {
		{0, TCP_SYN, 100, 0, NULL},
		{1, TCP_SYN | TCP_ACK, 500, 101, NULL},
		{0, TCP_ACK, 101, 501, NULL},
		{0, TCP_PSH | TCP_ACK, 101, 501, "hi\n"},
		{1, TCP_ACK, 501, 104, NULL},
		{0, TCP_FIN | TCP_ACK, 104, 501, NULL},
		{1, TCP_FIN | TCP_ACK, 501, 105, NULL},
		{0, TCP_ACK, 105, 502, NULL},
	};
	size_t count = sizeof script / sizeof script[0];
	for (size_t i = 0; i < count; i++) {
		uint8_t inner[FRAME_MAX], frame[FRAME_MAX];
		size_t n = inner_segment(inner, version, script[i].flags,
					 script[i].seq, script[i].ack,
					 script[i].data);
		if (script[i].server)
			swap_ports(inner + (version == 6 ? 40 : 20));
		if (w->sums)
			fill_checksums(inner, n, w, (int)i + 1);
		pcap_write(f, frame, wrap(frame, inner, n, w));
	}
	return count;
}

/* expect_inner_connection - one clean connection 40000 -> 12000. */
static void expect_inner_connection(const struct analysis *a, int version)
{
	CU_ASSERT_EQUAL_FATAL(a->tcp.count, 1);
	const struct tcp_conn *c = &a->tcp.conns[0];
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].ep.port, 40000);
	CU_ASSERT_EQUAL(c->side[TCP_RESP].ep.port, 12000);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].ep.addr.version, version);
	CU_ASSERT_STRING_EQUAL(tcp_conn_state(c), "SF");
	CU_ASSERT_STRING_EQUAL(c->zeek.history, "ShADaFf");
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 3);
}

/* check_tunnel - a conversation through wrap: decoded, counted, reported. */
static void check_tunnel(int linktype, wrap_fn *wrap, int version,
			 unsigned kind, const char *name)
{
	struct pcap_file f;
	struct analysis a;
	pcap_open_test(&f, linktype);
	struct wrap w = {.version = version};
	size_t n = write_conversation(&f, wrap, &w);
	analyse_file(&f, &a);
	expect_inner_connection(&a, version);
	CU_ASSERT_EQUAL(a.tunnelled[kind], n);
	char warning[128];
	(void)snprintf(warning, sizeof warning,
		       "\"%zu packets came through %s: the outer headers", n,
		       name);
	report_has(&a, warning);
	analysis_free(&a);
}

static void fill_checksums(uint8_t *ip, size_t n, const struct wrap *w,
			   int packet)
{
	l4_checksum(ip, n, w->version, 16);
	if (packet == w->corrupt_tcp)
		ip[(w->version == 6 ? 40 : 20) + 16] ^= 0x55;
	if (w->version == 4) {
		ip[10] = ip[11] = 0;
		put_sum(ip + 10, sum16(0, ip, 20));
		if (packet == w->corrupt_ip)
			ip[10] ^= 0x55;
	}
}

/* ---- the outer headers ------------------------------------------------- */

/* be16_at - store a big-endian 16-bit value. */
static void be16_at(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* outer_ip - an outer IPv4 or IPv6 header for n bytes of protocol proto. */
static size_t outer_ip(uint8_t *out, int outer_version, uint8_t proto, size_t n)
{
	return outer_version == 6 ? put_ipv6(out, proto, n)
				  : put_ipv4(out, proto, n, 0);
}

/* ethernet - an Ethernet header announcing ethertype. */
static size_t ethernet(uint8_t *out, uint16_t ethertype)
{
	memset(out, 0, 12);
	out[5] = 1; /* a MAC address that is not all zeros */
	be16_at(out + 12, ethertype);
	return 14;
}

/* ipip - raw IP: the inner packet straight inside the other IP version
 * (IPv4 in IPv6, IPv6 in IPv4); also IPv4 in IPv4. */
static size_t wrap_ipip(uint8_t *out, const uint8_t *inner, size_t n,
			const struct wrap *w)
{
	int version = w->version;
	int outer = version == 4 ? 6 : 4;
	size_t off = outer_ip(out, outer, version == 4 ? 4 : 41, n);
	memcpy(out + off, inner, n);
	return off + n;
}

static size_t wrap_4in4(uint8_t *out, const uint8_t *inner, size_t n,
			const struct wrap *w)
{
	(void)w;
	size_t off = put_ipv4(out, 4, n, 0);
	memcpy(out + off, inner, n);
	return off + n;
}

/* wrap_gre - Ethernet, IPv4, GRE with a key, then the inner IP packet. */
static size_t wrap_gre(uint8_t *out, const uint8_t *inner, size_t n,
		       const struct wrap *w)
{
	int version = w->version;
	size_t off = ethernet(out, 0x0800);
	off += put_ipv4(out + off, 47, 8 + n, 0);
	be16_at(out + off, 0x2000); /* K: a key follows */
	be16_at(out + off + 2, version == 6 ? 0x86dd : 0x0800);
	memset(out + off + 4, 0x11, 4);
	off += 8;
	memcpy(out + off, inner, n);
	return off + n;
}

/* wrap_gre_pptp - IPv4, PPTP's GRE (version 1, key, sequence), PPP. */
static size_t wrap_gre_pptp(uint8_t *out, const uint8_t *inner, size_t n,
			    const struct wrap *w)
{
	int version = w->version;
	size_t off = put_ipv4(out, 47, 12 + 4 + n, 0);
	be16_at(out + off, 0x3001); /* K, S, version 1 */
	be16_at(out + off + 2, 0x880b);
	memset(out + off + 4, 0, 8); /* payload length, call id, sequence */
	off += 12;
	out[off] = 0xff, out[off + 1] = 0x03; /* PPP address and control */
	be16_at(out + off + 2, version == 6 ? 0x0057 : 0x0021);
	off += 4;
	memcpy(out + off, inner, n);
	return off + n;
}

/* wrap_gre_teb - IPv6, GRE bridging Ethernet, then the inner frame. */
static size_t wrap_gre_teb(uint8_t *out, const uint8_t *inner, size_t n,
			   const struct wrap *w)
{
	int version = w->version;
	size_t off = put_ipv6(out, 47, 4 + 14 + n);
	be16_at(out + off, 0);
	be16_at(out + off + 2, 0x6558);
	off += 4;
	off += ethernet(out + off, version == 6 ? 0x86dd : 0x0800);
	memcpy(out + off, inner, n);
	return off + n;
}

/* outer_udp - Ethernet, IPv4, UDP to port, for n bytes of UDP payload. */
static size_t outer_udp(uint8_t *out, uint16_t port, size_t n)
{
	size_t off = ethernet(out, 0x0800);
	off += put_ipv4(out + off, 17, 8 + n, 0);
	put_udp(out + off, n);
	be16_at(out + off, 33333);
	be16_at(out + off + 2, port);
	return off + 8;
}

/* wrap_vxlan - UDP to 4789, VXLAN (I flag, VNI 42), Ethernet, inner IP. */
static size_t wrap_vxlan(uint8_t *out, const uint8_t *inner, size_t n,
			 const struct wrap *w)
{
	int version = w->version;
	size_t off = outer_udp(out, 4789, 8 + 14 + n);
	memset(out + off, 0, 8);
	out[off] = 0x08;
	out[off + 6] = 42;
	off += 8;
	off += ethernet(out + off, version == 6 ? 0x86dd : 0x0800);
	memcpy(out + off, inner, n);
	return off + n;
}

/* wrap_gtpu - UDP to 2152, a GTPv1-U G-PDU with a sequence number and
 * one extension header (PDU session container), then the inner IP. */
static size_t wrap_gtpu(uint8_t *out, const uint8_t *inner, size_t n,
			const struct wrap *w)
{
	(void)w;
	size_t gtp_len = 8 + 4 + 4;
	size_t off = outer_udp(out, 2152, gtp_len + n);
	out[off] = 0x36; /* version 1, PT, E and S */
	out[off + 1] = 0xff;
	be16_at(out + off + 2, (uint16_t)(gtp_len - 8 + n));
	memset(out + off + 4, 0x22, 4);	      /* TEID */
	memset(out + off + 8, 0, 3);	      /* sequence, N-PDU */
	out[off + 11] = 0x85;		      /* next: PDU session container */
	out[off + 12] = 1;		      /* 4 bytes long */
	out[off + 13] = 0, out[off + 14] = 9; /* QFI 9 */
	out[off + 15] = 0;		      /* no further extension */
	off += gtp_len;
	memcpy(out + off, inner, n);
	return off + n;
}

/* wrap_pppoe - Ethernet, a PPPoE session header, PPP, the inner IP. */
static size_t wrap_pppoe(uint8_t *out, const uint8_t *inner, size_t n,
			 const struct wrap *w)
{
	int version = w->version;
	size_t off = ethernet(out, 0x8864);
	out[off] = 0x11, out[off + 1] = 0;
	be16_at(out + off + 2, 0x1234);
	be16_at(out + off + 4, (uint16_t)(2 + n));
	be16_at(out + off + 6, version == 6 ? 0x0057 : 0x0021);
	off += 8;
	memcpy(out + off, inner, n);
	return off + n;
}

/* ---- the tests ---------------------------------------------------------- */

static void test_ip_in_ip(void)
{
	check_tunnel(DLT_RAW, wrap_ipip, 4, TUNNEL_IP_IN_IP, "IP-in-IP");
	check_tunnel(DLT_RAW, wrap_ipip, 6, TUNNEL_IP_IN_IP, "IP-in-IP");
	check_tunnel(DLT_RAW, wrap_4in4, 4, TUNNEL_IP_IN_IP, "IP-in-IP");
}

static void test_gre(void)
{
	check_tunnel(DLT_EN10MB, wrap_gre, 4, TUNNEL_GRE, "GRE");
	check_tunnel(DLT_EN10MB, wrap_gre, 6, TUNNEL_GRE, "GRE");
	check_tunnel(DLT_RAW, wrap_gre_pptp, 4, TUNNEL_GRE, "GRE");
	check_tunnel(DLT_RAW, wrap_gre_teb, 6, TUNNEL_GRE, "GRE");
}

static void test_vxlan(void)
{
	check_tunnel(DLT_EN10MB, wrap_vxlan, 4, TUNNEL_VXLAN, "VXLAN");
	check_tunnel(DLT_EN10MB, wrap_vxlan, 6, TUNNEL_VXLAN, "VXLAN");
}

static void test_gtpu(void)
{
	check_tunnel(DLT_EN10MB, wrap_gtpu, 4, TUNNEL_GTPU, "GTP-U");
	check_tunnel(DLT_EN10MB, wrap_gtpu, 6, TUNNEL_GTPU, "GTP-U");
}

static void test_pppoe(void)
{
	check_tunnel(DLT_EN10MB, wrap_pppoe, 4, TUNNEL_PPPOE, "PPPoE");
	check_tunnel(DLT_EN10MB, wrap_pppoe, 6, TUNNEL_PPPOE, "PPPoE");
}

/* test_tunnel_cut_everywhere - every tunnel frame cut at every length:
 * never a read past the captured bytes (ASan), never a wrong success. */
static void test_tunnel_cut_everywhere(void)
{
	struct {
		int linktype;
		wrap_fn *wrap;
	} cases[] = {{DLT_RAW, wrap_ipip},     {DLT_EN10MB, wrap_gre},
		     {DLT_RAW, wrap_gre_pptp}, {DLT_RAW, wrap_gre_teb},
		     {DLT_EN10MB, wrap_vxlan}, {DLT_EN10MB, wrap_gtpu},
		     {DLT_EN10MB, wrap_pppoe}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t inner[FRAME_MAX], frame[FRAME_MAX];
		size_t n = inner_segment(inner, 4, TCP_SYN, 1, 0, "data");
		struct wrap w = {.version = 4};
		size_t len = cases[i].wrap(frame, inner, n, &w);
		for (size_t cut = 0; cut <= len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
			memcpy(copy, frame, cut);
			struct decoded_packet p;
			enum decode_status st =
				decode_packet(cases[i].linktype, copy, cut, &p);
			free(copy);
			CU_ASSERT(st == DECODE_OK || st == DECODE_TRUNCATED);
			if (cut == len)
				CU_ASSERT(st == DECODE_OK &&
					  p.proto == PROTO_TCP &&
					  p.payload_len == 4);
		}
	}
}

/* test_tunnel_skipped - tunnels carrying no IP are counted, with why. */
static void test_tunnel_skipped(void)
{
	struct pcap_file f;
	struct analysis a;
	uint8_t inner[FRAME_MAX], frame[FRAME_MAX];
	size_t n = inner_segment(inner, 4, TCP_SYN, 1, 0, NULL);
	struct wrap w = {.version = 4};
	pcap_open_test(&f, DLT_EN10MB);
	size_t len = wrap_gre(frame, inner, n, &w);
	be16_at(frame + 14 + 20 + 2, 0x88be); /* ERSPAN */
	pcap_write(&f, frame, len);
	len = wrap_pppoe(frame, inner, n, &w);
	be16_at(frame + 14 + 6, 0xc021); /* LCP */
	pcap_write(&f, frame, len);
	pcap_write(&f, frame, len);
	len = wrap_vxlan(frame, inner, n, &w);
	frame[14 + 20 + 8] = 0; /* no I flag */
	pcap_write(&f, frame, len);
	analyse_file(&f, &a);
	CU_ASSERT_EQUAL(a.tcp.count, 0);
	CU_ASSERT_EQUAL(a.skipped.tunnel_other[TUNNEL_GRE], 1);
	CU_ASSERT_EQUAL(a.skipped.tunnel_other[TUNNEL_PPPOE], 2);
	CU_ASSERT_EQUAL(a.skipped.tunnel_other[TUNNEL_VXLAN], 1);
	report_has(&a, "\"1 GRE packets skipped: GRE of another version");
	report_has(&a, "\"2 PPPoE packets skipped: PPP control frames");
	report_has(&a, "\"1 VXLAN packets skipped: VXLAN without");
	report_has(&a,
		   "\"gre\": {\n      \"decoded\": 0,\n      \"skipped\": 1");
	analysis_free(&a);
}

/* test_gtp_echo_is_udp - a GTP echo request on port 2152 is plain UDP. */
static void test_gtp_echo_is_udp(void)
{
	uint8_t frame[FRAME_MAX];
	size_t off = outer_udp(frame, 2152, 12);
	memset(frame + off, 0, 12);
	frame[off] = 0x32, frame[off + 1] = 1; /* echo request */
	struct decoded_packet p;
	CU_ASSERT_EQUAL(decode_packet(DLT_EN10MB, frame, off + 12, &p),
			DECODE_OK);
	CU_ASSERT_EQUAL(p.proto, PROTO_UDP);
	CU_ASSERT_EQUAL(p.tunnel, TUNNEL_NONE);
	CU_ASSERT_EQUAL(p.payload_len, 12);
}

/* wrap_null - a DLT_NULL header: the family in either byte order. */
static size_t wrap_null(uint8_t *out, const uint8_t *inner, size_t n,
			const struct wrap *w)
{
	memset(out, 0, 4);
	for (int i = 0; i < 4; i++)
		out[w->big_endian ? 3 - i : i] =
			(uint8_t)(w->family >> (8 * i));
	memcpy(out + 4, inner, n);
	return 4 + n;
}

/* test_null_loopback - Windows (Npcap) and BSD/macOS loopback captures:
 * DLT_NULL with AF_INET 2 and AF_INET6 23 (Windows), 24, 26, 28 or 30,
 * either byte order. */
static void test_null_loopback(void)
{
	const uint32_t families[] = {2, 23, 24, 26, 28, 30};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		for (int be = 0; be <= 1; be++) {
			struct pcap_file f;
			struct analysis a;
			int version = families[i] == 2 ? 4 : 6;
			struct wrap w = {.version = version,
					 .family = families[i],
					 .big_endian = be};
			pcap_open_test(&f, DLT_NULL);
			(void)write_conversation(&f, wrap_null, &w);
			analyse_file(&f, &a);
			CU_ASSERT_STRING_EQUAL(analysis_linktype_name(&a),
					       "NULL");
			expect_inner_connection(&a, version);
			CU_ASSERT_EQUAL(a.skipped.not_ip, 0);
			analysis_free(&a);
		}
	}
}

/* wrap_sll2 - a LINUX_SLL2 header as `tcpdump -i any` writes it. */
static size_t wrap_sll2(uint8_t *out, const uint8_t *inner, size_t n,
			const struct wrap *w)
{
	int version = w->version;
	memset(out, 0, 20);
	be16_at(out, version == 6 ? 0x86dd : 0x0800); /* protocol */
	out[7] = 1;				      /* interface index 1 */
	be16_at(out + 8, 772);			      /* ARPHRD_LOOPBACK */
	out[10] = 0;				      /* to us */
	out[11] = 6;				      /* address length */
	memcpy(out + 20, inner, n);
	return 20 + n;
}

/* test_sll2_any - a `tcpdump -i any` capture (tcpdump 4.99: LINUX_SLL2). */
static void test_sll2_any(void)
{
	for (int version = 4; version <= 6; version += 2) {
		struct pcap_file f;
		struct analysis a;
		struct wrap w = {.version = version};
		pcap_open_test(&f, DLT_LINUX_SLL2);
		(void)write_conversation(&f, wrap_sll2, &w);
		analyse_file(&f, &a);
		CU_ASSERT_STRING_EQUAL(analysis_linktype_name(&a),
				       "LINUX_SLL2");
		expect_inner_connection(&a, version);
		analysis_free(&a);
	}
}

/* wrap_raw - raw IP: nothing in front. */
static size_t wrap_raw(uint8_t *out, const uint8_t *inner, size_t n,
		       const struct wrap *w)
{
	(void)w;
	memcpy(out, inner, n);
	return n;
}

/* checked_conversation - the conversation with checksums as w says,
 * analysed with --check-checksums. */
static void checked_conversation(const struct wrap *w, struct analysis *a)
{
	struct pcap_file f;
	pcap_open_test(&f, DLT_RAW);
	(void)write_conversation(&f, wrap_raw, w);
	analyse_checked(&f, a, true);
}

/* test_checksums_good - right checksums change nothing, IPv4 and IPv6. */
static void test_checksums_good(void)
{
	for (int version = 4; version <= 6; version += 2) {
		struct wrap w = {.version = version, .sums = true};
		struct analysis a;
		checked_conversation(&w, &a);
		expect_inner_connection(&a, version);
		report_has(&a, "\"warnings\": []");
		report_has(&a, "\"checked\": true");
		analysis_free(&a);
	}
}

/* test_checksums_bad_tcp - Zeek's 'C': the client's data segment has a bad
 * TCP checksum, so it is not counted and its data is missing (the
 * server's ack over it is then a gap). */
static void test_checksums_bad_tcp(void)
{
	struct wrap w = {.version = 4, .sums = true, .corrupt_tcp = 4};
	struct analysis a;
	checked_conversation(&w, &a);
	CU_ASSERT_EQUAL_FATAL(a.tcp.count, 1);
	const struct tcp_conn *c = &a.tcp.conns[0];
	CU_ASSERT_STRING_EQUAL(c->zeek.history, "ShACaGFf");
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].pkts, 4);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].bad_checksums, 1);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].data_segs, 0);
	CU_ASSERT_EQUAL(a.bad_tcp_checksums, 1);
	report_has(&a, "\"1 TCP segments with a bad checksum not counted");
	report_has(&a, "\"orig_bad_checksums\": 1");
	analysis_free(&a);

	/* Off by default: the same capture is a clean exchange. */
	struct pcap_file f;
	pcap_open_test(&f, DLT_RAW);
	(void)write_conversation(&f, wrap_raw, &w);
	analyse_file(&f, &a);
	expect_inner_connection(&a, 4);
	report_has(&a, "\"checked\": false");
	analysis_free(&a);
}

/* test_checksums_bad_ip - a bad IPv4 header checksum: dropped before the
 * connection is looked up (no letter, no count but the warning's). */
static void test_checksums_bad_ip(void)
{
	struct wrap w = {.version = 4, .sums = true, .corrupt_ip = 5};
	struct analysis a;
	checked_conversation(&w, &a);
	CU_ASSERT_EQUAL_FATAL(a.tcp.count, 1);
	CU_ASSERT_EQUAL(a.skipped.bad_ip_checksum, 1);
	CU_ASSERT_EQUAL(a.tcp.conns[0].side[TCP_RESP].pkts, 2);
	CU_ASSERT_EQUAL(a.tcp.conns[0].side[TCP_RESP].bad_checksums, 0);
	report_has(&a, "\"1 packets skipped: bad IPv4 header checksum\"");
	analysis_free(&a);
}

/* test_checksums_udp - a bad UDP checksum is counted apart; 0 over IPv4
 * means "no checksum"; 0 over IPv6 is wrong. */
static void test_checksums_udp(void)
{
	struct pcap_file f;
	struct analysis a;
	pcap_open_test(&f, DLT_RAW);
	for (int version = 4; version <= 6; version += 2) {
		uint8_t ip[FRAME_MAX];
		size_t off = version == 6 ? put_ipv6(ip, 17, 8 + 4)
					  : put_ipv4(ip, 17, 8 + 4, 0);
		off += put_udp(ip + off, 4);
		memcpy(ip + off, "ping", 4);
		if (version == 4) {
			put_sum(ip + 10, sum16(0, ip, 20));
			pcap_write(&f, ip, off + 4); /* checksum 0: none */
			l4_checksum(ip, off + 4, 4, 6);
			ip[off - 1] ^= 1; /* spoilt */
		}
		pcap_write(&f, ip, off + 4); /* IPv6 with 0: wrong */
	}
	analyse_checked(&f, &a, true);
	CU_ASSERT_EQUAL_FATAL(a.udp.count, 2);
	CU_ASSERT_EQUAL(a.udp.flows[0].side[UDP_ORIG].dgrams, 1);
	CU_ASSERT_EQUAL(a.udp.flows[0].side[UDP_ORIG].bad_checksums, 1);
	CU_ASSERT_EQUAL(a.udp.flows[1].side[UDP_ORIG].dgrams, 0);
	CU_ASSERT_EQUAL(a.udp.flows[1].side[UDP_ORIG].bad_checksums, 1);
	report_has(&a, "\"2 UDP datagrams with a bad checksum not counted\"");
	analysis_free(&a);
}

int add_tunnel_suite(void)
{
	CU_pSuite s = CU_add_suite("captures from anywhere", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "IPv4-in-IPv6, IPv6-in-IPv4, IPv4-in-IPv4",
			 test_ip_in_ip) ||
	    !CU_add_test(s, "GRE: IPv4, IPv6, PPTP, Ethernet", test_gre) ||
	    !CU_add_test(s, "VXLAN", test_vxlan) ||
	    !CU_add_test(s, "GTP-U with an extension header", test_gtpu) ||
	    !CU_add_test(s, "PPPoE session", test_pppoe) ||
	    !CU_add_test(s, "tunnel frames cut at every length",
			 test_tunnel_cut_everywhere) ||
	    !CU_add_test(s, "tunnels without IP: counted and said why",
			 test_tunnel_skipped) ||
	    !CU_add_test(s, "GTP echo is plain UDP", test_gtp_echo_is_udp) ||
	    !CU_add_test(s, "Windows/BSD loopback (DLT_NULL) files",
			 test_null_loopback) ||
	    !CU_add_test(s, "tcpdump -i any (LINUX_SLL2) files",
			 test_sll2_any) ||
	    !CU_add_test(s, "--check-checksums: right ones change nothing",
			 test_checksums_good) ||
	    !CU_add_test(s, "--check-checksums: bad TCP is Zeek's 'C'",
			 test_checksums_bad_tcp) ||
	    !CU_add_test(s, "--check-checksums: bad IPv4 header dropped",
			 test_checksums_bad_ip) ||
	    !CU_add_test(s, "--check-checksums: UDP", test_checksums_udp))
		return -1;
	return 0;
}
