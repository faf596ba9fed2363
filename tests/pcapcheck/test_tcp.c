/* test_tcp.c - connection tracking: sequence wraparound, keep-alives against
 * retransmissions, port reuse, snaplen cuts, reassembly and the timeline. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "testutil.h"

/* preview_is - the contiguous start of one side's reassembled stream. */
static void preview_is(const struct tcp_conn *c, enum tcp_dir dir,
		       const char *text)
{
	size_t n;
	const uint8_t *p = stream_bytes(&c->side[dir].stream, &n);
	CU_ASSERT_EQUAL(n, strlen(text));
	if (n == strlen(text) && n > 0)
		CU_ASSERT_EQUAL(memcmp(p, text, n), 0);
}

static void test_sequence_wraparound(void)
{
	struct conv v;
	conv_init(&v, 0xfffffff0u, 0xfffffffeu);
	conv_handshake(&v);
	for (int i = 0; i < 10;
	     i++) { /* 100 bytes: the client wraps at byte 16 */
		conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "0123456789");
		conv_send(&v, SERVER, TCP_ACK, NULL);
	}
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK,
		  "wrapped"); /* the server wraps at once */
	conv_close(&v, CLIENT);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(v.t.count, 1);
	CU_ASSERT_STRING_EQUAL(tcp_conn_state(c), "SF");
	CU_ASSERT_STRING_EQUAL(c->zeek.history, "ShADadFf");
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 100);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_RESP), 7);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].data_segs, 10);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].retransmissions, 0);
	CU_ASSERT_EQUAL(c->events[c->nevents - 1].rel_seq,
			102); /* last ACK: after FIN */
	preview_is(c, TCP_RESP, "wrapped");
	conv_free(&v);
}

/* test_keepalive_not_retransmission - 0- and 1-byte probes at next-1
 * are keep-alives; the same payload sent again is a retransmission. */
static void test_keepalive_not_retransmission(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	uint32_t data_seq = v.nxt[CLIENT];
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "hello\n");
	conv_send(&v, SERVER, TCP_ACK, NULL);
	uint32_t probe = v.nxt[CLIENT] - 1;
	conv_send_at(&v, CLIENT, TCP_ACK, NULL, probe, v.nxt[SERVER]);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	conv_send_at(&v, CLIENT, TCP_ACK, "\n", probe, v.nxt[SERVER]);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "hello\n", data_seq,
		     v.nxt[SERVER]);
	const struct tcp_conn *c = conv_conn(&v, 0);
	const struct tcp_side *o = &c->side[TCP_ORIG];
	CU_ASSERT_EQUAL(o->keepalives, 2);
	CU_ASSERT_EQUAL(o->retransmissions, 1);
	CU_ASSERT_EQUAL(o->data_segs, 1);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 6);
	CU_ASSERT_EQUAL(c->events[5].notes, NOTE_KEEPALIVE);
	CU_ASSERT_EQUAL(c->events[6].notes, NOTE_KEEPALIVE_ACK);
	CU_ASSERT_EQUAL(c->events[7].notes, NOTE_KEEPALIVE);
	CU_ASSERT_EQUAL(c->events[9].notes, NOTE_RETRANSMISSION);
	preview_is(c, TCP_ORIG,
		   "hello\n"); /* the probe's byte did not land in the stream */
	conv_free(&v);
}

/* test_out_of_order - a segment filling a hole is no retransmission. */
static void test_out_of_order(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	uint32_t first = v.nxt[CLIENT];
	conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "world", first + 6,
		     v.nxt[SERVER]);
	conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "hello ", first,
		     v.nxt[SERVER]);
	conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "hello ", first,
		     v.nxt[SERVER]);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(c->events[3].notes, NOTE_PREVIOUS_LOST);
	CU_ASSERT_EQUAL(c->events[4].notes, NOTE_OUT_OF_ORDER);
	CU_ASSERT_EQUAL(c->events[5].notes, NOTE_RETRANSMISSION);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].data_segs, 2);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].retransmissions, 1);
	preview_is(c, TCP_ORIG, "hello world");
	conv_free(&v);
}

/* test_port_reuse - a new ISN after the close is a new connection; the
 * same ISN is a retransmitted SYN; a new ISN on an open connection is new,
 * and flagged. */
static void test_port_reuse(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_close(&v, CLIENT);
	v.nxt[CLIENT] = 777777;
	v.nxt[SERVER] = 888888;
	conv_handshake(&v);
	conv_close(&v, SERVER);
	CU_ASSERT_EQUAL_FATAL(v.t.count, 2);
	const struct tcp_conn *second = conv_conn(&v, 1);
	CU_ASSERT_EQUAL(second->id, 2);
	CU_ASSERT_EQUAL(second->reused_from, 1);
	CU_ASSERT_FALSE(second->reused_open);
	CU_ASSERT_EQUAL(second->events[0].notes, NOTE_PORT_REUSE);
	CU_ASSERT_STRING_EQUAL(tcp_conn_state(conv_conn(&v, 0)), "SF");
	/* The server's last ACK is its first bare ACK here: one 'a' at the end. */
	CU_ASSERT_STRING_EQUAL(second->zeek.history, "ShAfFa");
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->side[TCP_ORIG].pkts, 6);
	conv_free(&v);

	conv_init(&v, 1000, 5000);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send_at(&v, CLIENT, TCP_SYN, NULL, 1000, 0);
	CU_ASSERT_EQUAL(v.t.count, 1);
	conv_send_at(&v, CLIENT, TCP_SYN, NULL, 424242, 0);
	CU_ASSERT_EQUAL_FATAL(v.t.count, 2);
	CU_ASSERT_TRUE(conv_conn(&v, 1)->reused_open);
	conv_free(&v);
}

/* test_caplen_short - bytes count from segment lengths, not caplen. */
static void test_caplen_short(void)
{
	struct conv v;
	uint8_t data[1000];
	memset(data, 'x', sizeof data);
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_segment(&v, CLIENT, TCP_PSH | TCP_ACK, data, 10, sizeof data,
		     v.nxt[CLIENT], v.nxt[SERVER], 512);
	conv_segment(&v, CLIENT, TCP_PSH | TCP_ACK, data, 10, sizeof data,
		     v.nxt[CLIENT], v.nxt[SERVER], 512);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 2000);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].data_segs, 2);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].retransmissions, 0);
	/* Zeek reassembles only whole payloads: the cut ones leave a hole,
	 * and the ack over it is a content gap. */
	CU_ASSERT_STRING_EQUAL(c->zeek.history, "ShADaG");
	preview_is(c, TCP_ORIG, "xxxxxxxxxx");
	conv_free(&v);
}

/* test_stream_budget - past the memory budget, payload is no longer kept. */
static void test_stream_budget(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	/* The first stream allocation already passes a budget of 1 byte. */
	v.t.opt.stream_budget = 1;
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "first");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "second");
	const struct tcp_conn *c = conv_conn(&v, 0);
	preview_is(c, TCP_ORIG, "first");
	preview_is(c, TCP_RESP, "");
	CU_ASSERT_TRUE(v.t.streams_capped);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_RESP), 6); /* counting goes on */
	conv_free(&v);
}

/* test_timeline - relative numbers and notes as the inspect view shows them. */
static void test_timeline(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL_FATAL(c->nevents, 7);
	CU_ASSERT_EQUAL(c->events[0].rel_seq, 0);
	CU_ASSERT_EQUAL(c->events[1].rel_seq, 0);
	CU_ASSERT_EQUAL(c->events[1].rel_ack, 1);
	CU_ASSERT_EQUAL(c->events[3].rel_seq, 1);
	CU_ASSERT_EQUAL(c->events[3].len, 6);
	CU_ASSERT_EQUAL(c->events[4].rel_ack, 7);
	CU_ASSERT_EQUAL(c->events[4].dir, TCP_RESP);
	CU_ASSERT_EQUAL(c->events[6].rel_seq, 7);
	CU_ASSERT_EQUAL(memcmp(c->events[3].preview, "hello\n", 6), 0);
	conv_free(&v);
}

/* test_udp_pairs - a response answers the request before it (once). */
static void test_udp_pairs(void)
{
	struct udp_table t;
	udp_table_init(&t, true);
	struct decoded_packet req, resp;
	memset(&req, 0, sizeof req);
	req.proto = PROTO_UDP;
	req.src.addr.version = req.dst.addr.version = 4;
	req.src.addr.bytes[0] = req.dst.addr.bytes[0] = 127;
	req.src.port = 50000;
	req.dst.port = 12000;
	req.payload = (const uint8_t *)"ping";
	req.payload_len = req.payload_caplen = 4;
	resp = req;
	resp.src = req.dst;
	resp.dst = req.src;
	resp.payload = (const uint8_t *)"pong!";
	resp.payload_len = resp.payload_caplen = 5;
	const struct decoded_packet *order[] = {&req, &resp, &resp, &req,
						&req, &resp, &req};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		CU_ASSERT_EQUAL(udp_track(&t, (int64_t)i, order[i]), 0);
	CU_ASSERT_EQUAL_FATAL(t.count, 1);
	const struct udp_flow *f = &t.flows[0];
	CU_ASSERT_EQUAL(f->side[UDP_ORIG].dgrams, 4);
	CU_ASSERT_EQUAL(f->side[UDP_RESP].dgrams, 3);
	CU_ASSERT_EQUAL(f->side[UDP_ORIG].bytes, 16);
	CU_ASSERT_EQUAL(f->side[UDP_RESP].bytes, 15);
	CU_ASSERT_EQUAL(f->pairs, 2);
	CU_ASSERT_EQUAL(udp_unanswered(f), 2);
	CU_ASSERT_EQUAL(f->nevents, 7);
	udp_table_free(&t);
}

int add_tcp_suite(void)
{
	CU_pSuite s = CU_add_suite("tracking", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "sequence wraparound", test_sequence_wraparound) ||
	    !CU_add_test(s, "keep-alive is not a retransmission",
			 test_keepalive_not_retransmission) ||
	    !CU_add_test(s, "out of order is not a retransmission",
			 test_out_of_order) ||
	    !CU_add_test(s, "port reuse", test_port_reuse) ||
	    !CU_add_test(s, "caplen < len", test_caplen_short) ||
	    !CU_add_test(s, "stream memory budget", test_stream_budget) ||
	    !CU_add_test(s, "timeline numbers", test_timeline) ||
	    !CU_add_test(s, "UDP request/response pairs", test_udp_pairs))
		return -1;
	return 0;
}
