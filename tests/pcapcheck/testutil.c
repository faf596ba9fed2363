/* testutil.c - builders for the pcapcheck unit tests. */
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <pcap/dlt.h>
#include <string.h>

/* be16, be32 - store big-endian values. */
static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

size_t put_ipv4(uint8_t *p, uint8_t proto, size_t payload_len, uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	be16(p + 2, (uint16_t)(20 + payload_len));
	be16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	p[12] = 127, p[15] = 1; /* 127.0.0.1 */
	p[16] = 127, p[19] = 1;
	return 20;
}

size_t put_ipv6(uint8_t *p, uint8_t next, size_t payload_len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	be16(p + 4, (uint16_t)payload_len);
	p[6] = next;
	p[7] = 64;
	p[23] = 1; /* ::1 */
	p[39] = 1;
	return 40;
}

size_t put_tcp(uint8_t *p, uint32_t seq, uint32_t ack, uint8_t flags,
	       const uint8_t *opts, size_t optlen)
{
	memset(p, 0, 20);
	be16(p, 40000);
	be16(p + 2, 12000);
	be32(p + 4, seq);
	be32(p + 8, ack);
	p[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	p[13] = flags;
	be16(p + 14, 65495);
	if (optlen > 0)
		memcpy(p + 20, opts, optlen);
	return 20 + optlen;
}

size_t put_udp(uint8_t *p, size_t payload_len)
{
	memset(p, 0, 8);
	be16(p, 50000);
	be16(p + 2, 12000);
	be16(p + 4, (uint16_t)(8 + payload_len));
	return 8;
}

size_t put_link(uint8_t *p, int linktype, int version)
{
	uint16_t ethertype = version == 6 ? 0x86dd : 0x0800;
	switch (linktype) {
	case DLT_EN10MB:
		memset(p, 0, 12);
		be16(p + 12, ethertype);
		return 14;
	case DLT_LINUX_SLL:
		memset(p, 0, 16);
		be16(p + 2, 772);
		be16(p + 14, ethertype);
		return 16;
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		be16(p, ethertype);
		return 20;
	case DLT_NULL: /* little-endian host */
		memset(p, 0, 4);
		p[0] = version == 6 ? 30 : 2;
		return 4;
	case DLT_LOOP: /* network byte order */
		memset(p, 0, 4);
		p[3] = version == 6 ? 24 : 2;
		return 4;
	default: /* RAW, IPV4, IPV6: no link header */
		return 0;
	}
}

size_t build_tcp_frame(uint8_t *out, int linktype, int version,
		       const uint8_t *payload, size_t n)
{
	/* MSS 65495, then a NOP and window scale 7. */
	static const uint8_t opts[] = {2, 4, 0xff, 0xd7, 1, 3, 3, 7};
	size_t off = put_link(out, linktype, version);
	size_t tcp_len = 20 + sizeof opts + n;
	off += version == 6 ? put_ipv6(out + off, 6, tcp_len)
			    : put_ipv4(out + off, 6, tcp_len, 0);
	off += put_tcp(out + off, 1000, 0, TCP_SYN, opts, sizeof opts);
	if (n > 0)
		memcpy(out + off, payload, n);
	return off + n;
}

void conv_init(struct conv *v, uint32_t c_isn, uint32_t s_isn)
{
	struct tcp_options opt = {
		.stream_limit = STREAM_DEFAULT_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
		.keep_events = true,
	};
	memset(v, 0, sizeof *v);
	tcp_table_init(&v->t, &opt);
	for (int i = 0; i < 2; i++) {
		v->ep[i].addr.version = 4;
		v->ep[i].addr.bytes[0] = 127;
		v->ep[i].addr.bytes[3] = 1;
	}
	v->ep[CLIENT].port = 40000;
	v->ep[SERVER].port = 12000;
	v->nxt[CLIENT] = c_isn;
	v->nxt[SERVER] = s_isn;
	v->ts = 1700000000LL * 1000000000LL;
}

void conv_free(struct conv *v)
{
	tcp_table_free(&v->t);
}

void conv_segment(struct conv *v, int who, uint8_t flags, const uint8_t *data,
		  size_t caplen, size_t len, uint32_t seq, uint32_t ack,
		  uint16_t window)
{
	struct decoded_packet pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.proto = PROTO_TCP;
	pkt.src = v->ep[who];
	pkt.dst = v->ep[!who];
	pkt.tcp.seq = seq;
	pkt.tcp.ack = (flags & TCP_ACK) ? ack : 0;
	pkt.tcp.flags = flags;
	pkt.tcp.window = window;
	pkt.tcp.wscale = -1;
	pkt.tcp.header_len = 20;
	pkt.payload = data;
	pkt.payload_caplen = caplen;
	pkt.payload_len = len;
	CU_ASSERT_EQUAL_FATAL(tcp_track(&v->t, v->ts, &pkt), 0);
	v->ts += 100000;
	/* Advance the sender as TCP does: payload, SYN and FIN take sequence space. */
	uint32_t end =
		seq + (uint32_t)len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	if (!(flags & TCP_RST) && (int32_t)(end - v->nxt[who]) > 0)
		v->nxt[who] = end;
}

void conv_send_at(struct conv *v, int who, uint8_t flags, const char *data,
		  uint32_t seq, uint32_t ack)
{
	size_t n = data ? strlen(data) : 0;
	conv_segment(v, who, flags, (const uint8_t *)data, n, n, seq, ack, 512);
}

void conv_send(struct conv *v, int who, uint8_t flags, const char *data)
{
	conv_send_at(v, who, flags, data, v->nxt[who], v->nxt[!who]);
}

void conv_handshake(struct conv *v)
{
	conv_send(v, CLIENT, TCP_SYN, NULL);
	conv_send(v, SERVER, TCP_SYN | TCP_ACK, NULL);
	conv_send(v, CLIENT, TCP_ACK, NULL);
}

void conv_echo(struct conv *v)
{
	conv_send(v, CLIENT, TCP_PSH | TCP_ACK, "hello\n");
	conv_send(v, SERVER, TCP_ACK, NULL);
	conv_send(v, SERVER, TCP_PSH | TCP_ACK, "HELLO\n");
	conv_send(v, CLIENT, TCP_ACK, NULL);
}

void conv_close(struct conv *v, int first)
{
	conv_send(v, first, TCP_FIN | TCP_ACK, NULL);
	conv_send(v, !first, TCP_ACK, NULL);
	conv_send(v, !first, TCP_FIN | TCP_ACK, NULL);
	conv_send(v, first, TCP_ACK, NULL);
}

const struct tcp_conn *conv_conn(const struct conv *v, size_t i)
{
	CU_ASSERT_FATAL(i < v->t.count);
	return &v->t.conns[i];
}
