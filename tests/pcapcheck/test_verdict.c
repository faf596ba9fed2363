/* test_verdict.c - Zeek's conn_state and history rules and our teardown
 * kinds, each on a hand-built conversation fed through tcp_track(). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "testutil.h"

/* expect_verdict - conn_state, history and teardown of connection i. */
static void expect_verdict(const struct conv *v, size_t i, const char *state,
			   const char *history, enum tcp_teardown teardown,
			   enum tcp_dir closer)
{
	const struct tcp_conn *c = conv_conn(v, i);
	CU_ASSERT_STRING_EQUAL(tcp_conn_state(c), state);
	CU_ASSERT_STRING_EQUAL(c->zeek.history, history);
	CU_ASSERT_EQUAL(tcp_teardown(c), teardown);
	CU_ASSERT_EQUAL(tcp_first_closer(c), closer);
}

static void test_sf_four_way(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_close(&v, CLIENT);
	expect_verdict(&v, 0, "SF", "ShADadFf", TEARDOWN_FOUR_WAY_FIN,
		       TCP_ORIG);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(v.t.count, 1);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 6);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_RESP), 6);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].pkts, 6);
	CU_ASSERT_EQUAL(c->side[TCP_RESP].pkts, 5);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].data_segs, 1);
	CU_ASSERT_EQUAL(c->completeness, 31);
	CU_ASSERT_TRUE(c->handshake.syn && c->handshake.synack &&
		       c->handshake.ack);
	CU_ASSERT_EQUAL(c->handshake.ack_ts - c->handshake.syn_ts, 200000);
	CU_ASSERT_FALSE(c->partial_start);
	CU_ASSERT_FALSE(tcp_partial_end(c));
	conv_free(&v);
}

static void test_three_packet_close(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK,
		  NULL); /* acks the client's FIN */
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	expect_verdict(&v, 0, "SF", "ShAFf", TEARDOWN_FOUR_WAY_FIN, TCP_ORIG);
	conv_free(&v);
}

static void test_simultaneous_close(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	uint32_t client_before_fin = v.nxt[CLIENT];
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send_at(&v, SERVER, TCP_FIN | TCP_ACK, NULL, v.nxt[SERVER],
		     client_before_fin);
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	expect_verdict(&v, 0, "SF", "ShADadFf", TEARDOWN_SIMULTANEOUS_CLOSE,
		       TCP_ORIG);
	conv_free(&v);
}

static void test_half_close(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "GET /\n");
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "200 OK\n");
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	expect_verdict(&v, 0, "SF", "ShADFadf", TEARDOWN_HALF_CLOSE, TCP_ORIG);
	conv_free(&v);
}

static void test_rsto(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_send(&v, CLIENT, TCP_RST | TCP_ACK, NULL);
	expect_verdict(&v, 0, "RSTO", "ShADadR", TEARDOWN_RESET_BY_ORIG,
		       TCP_ORIG);
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->completeness, 47);
	CU_ASSERT_FALSE(tcp_partial_end(conv_conn(&v, 0)));
	conv_free(&v);
}

static void test_rstr_after_fin(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "hello\n");
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_RST | TCP_ACK, NULL);
	expect_verdict(&v, 0, "RSTR", "ShADFr", TEARDOWN_RESET_BY_RESP,
		       TCP_ORIG);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_ORIG), 6);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_RESP), 0);
	conv_free(&v);
}

static void test_rej(void)
{
	struct conv v;
	conv_init(&v, 1000, 0);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send(&v, SERVER, TCP_RST | TCP_ACK, NULL);
	expect_verdict(&v, 0, "REJ", "Sr", TEARDOWN_RESET_BY_RESP, TCP_RESP);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_ORIG), 0);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_RESP), 0);
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->completeness, 1 | 4 | 32);
	conv_free(&v);
}

static void test_rstos0(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send(&v, CLIENT, TCP_RST, NULL);
	expect_verdict(&v, 0, "RSTOS0", "SR", TEARDOWN_RESET_BY_ORIG, TCP_ORIG);
	conv_free(&v);
}

static void test_rstrh(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_send_at(&v, SERVER, TCP_SYN | TCP_ACK, NULL, 5000,
		     1001); /* we missed the SYN */
	conv_send(&v, SERVER, TCP_RST, NULL);
	const struct tcp_conn *c = conv_conn(&v, 0);
	/* As in Zeek, the sender of the first packet is the originator, a
	 * SYN-ACK's too (Zeek flips at once only when the sender's port is
	 * in its likely_server_ports: RSTRH then; 12000 is not). */
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].ep.port, 12000);
	CU_ASSERT_TRUE(c->partial_start);
	expect_verdict(&v, 0, "OTH", "HR", TEARDOWN_RESET_BY_ORIG, TCP_ORIG);
	conv_free(&v);
}

static void test_sh_and_shr(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send(&v, CLIENT, TCP_FIN, NULL);
	expect_verdict(&v, 0, "SH", "SF", TEARDOWN_FIN_UNANSWERED, TCP_ORIG);
	conv_free(&v);

	conv_init(&v, 1000, 5000);
	conv_send_at(&v, SERVER, TCP_SYN | TCP_ACK, NULL, 5000, 1001);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	expect_verdict(&v, 0, "SH", "HF", TEARDOWN_FIN_UNANSWERED, TCP_ORIG);
	conv_free(&v);
}

static void test_s2_s3(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	expect_verdict(&v, 0, "S2", "ShADadF", TEARDOWN_FIN_UNANSWERED,
		       TCP_ORIG);
	CU_ASSERT_TRUE(tcp_partial_end(conv_conn(&v, 0)));
	conv_free(&v);

	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	expect_verdict(&v, 0, "S3", "ShADadf", TEARDOWN_FIN_UNANSWERED,
		       TCP_RESP);
	conv_free(&v);
}

static void test_s0_s1_oth(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send_at(&v, CLIENT, TCP_SYN, NULL, 1000,
		     0); /* retransmitted: same ISN */
	expect_verdict(&v, 0, "S0", "S", TEARDOWN_LEFT_OPEN, TCP_NOBODY);
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->side[TCP_ORIG].retransmissions, 1);
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->completeness, 1);
	conv_free(&v);

	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	expect_verdict(&v, 0, "S1", "ShADad", TEARDOWN_LEFT_OPEN, TCP_NOBODY);
	CU_ASSERT_TRUE(tcp_partial_end(conv_conn(&v, 0)));
	conv_free(&v);

	conv_init(&v, 1000, 5000);
	conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "midstream", 1001, 5001);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	expect_verdict(&v, 0, "OTH", "Da", TEARDOWN_LEFT_OPEN, TCP_NOBODY);
	CU_ASSERT_TRUE(conv_conn(&v, 0)->partial_start);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_ORIG), 9);
	conv_free(&v);
}

/* test_rst_after_both_fins - a late RST does not undo a completed close. */
static void test_rst_after_both_fins(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, CLIENT, TCP_RST, NULL);
	expect_verdict(&v, 0, "SF", "ShADadFfR", TEARDOWN_FOUR_WAY_FIN,
		       TCP_ORIG);
	conv_free(&v);
}

/* test_fin_rst_then_peer_fin - Zeek turns "FIN then RST" back into a close
 * when the peer then sends its FIN; our teardown still names the reset. */
static void test_fin_rst_then_peer_fin(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, CLIENT, TCP_RST, NULL);
	expect_verdict(&v, 0, "RSTO", "ShADadFR", TEARDOWN_RESET_BY_ORIG,
		       TCP_ORIG);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	expect_verdict(&v, 0, "SF", "ShADadFRf", TEARDOWN_RESET_BY_ORIG,
		       TCP_ORIG);
	conv_free(&v);
}

/* test_history_repeats - F repeats only at a new sequence number. */
static void test_history_repeats(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_echo(&v);
	conv_echo(&v); /* more data and acks: no new letters */
	uint32_t fin_seq = v.nxt[CLIENT];
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send_at(&v, CLIENT, TCP_FIN | TCP_ACK, NULL, fin_seq,
		     v.nxt[SERVER]); /* same FIN */
	CU_ASSERT_STRING_EQUAL(conv_conn(&v, 0)->zeek.history, "ShADadF");
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK,
		  NULL); /* a FIN at a new sequence number */
	CU_ASSERT_STRING_EQUAL(conv_conn(&v, 0)->zeek.history, "ShADadFF");
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->side[TCP_ORIG].fin_packets, 3);
	conv_free(&v);
}

/* retransmit - one data segment, then n copies; the history. */
static const char *retransmit(int n, char history[ZEEK_HISTORY_MAX + 1])
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	uint32_t seq = v.nxt[CLIENT];
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "x");
	for (int i = 0; i < n; i++)
		conv_send_at(&v, CLIENT, TCP_PSH | TCP_ACK, "x", seq,
			     v.nxt[SERVER]);
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->side[TCP_ORIG].retransmissions,
			(uint64_t)n);
	CU_ASSERT_EQUAL(tcp_bytes(conv_conn(&v, 0), TCP_ORIG), 1);
	strcpy(history, conv_conn(&v, 0)->zeek.history);
	conv_free(&v);
	return history;
}

/* test_history_scaled - t is logged at the 1st, 10th, 100th retransmission. */
static void test_history_scaled(void)
{
	char h[ZEEK_HISTORY_MAX + 1];
	CU_ASSERT_STRING_EQUAL(retransmit(0, h), "ShAD");
	CU_ASSERT_STRING_EQUAL(retransmit(1, h), "ShADT");
	CU_ASSERT_STRING_EQUAL(retransmit(9, h), "ShADT");
	CU_ASSERT_STRING_EQUAL(retransmit(10, h), "ShADTT");
	CU_ASSERT_STRING_EQUAL(retransmit(100, h), "ShADTTT");
}

static void test_zero_window(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_segment(&v, SERVER, TCP_ACK, NULL, 0, 0, v.nxt[SERVER],
		     v.nxt[CLIENT], 0);
	conv_segment(&v, SERVER, TCP_ACK, NULL, 0, 0, v.nxt[SERVER],
		     v.nxt[CLIENT], 0);
	CU_ASSERT_STRING_EQUAL(conv_conn(&v, 0)->zeek.history, "ShAaw");
	CU_ASSERT_EQUAL(conv_conn(&v, 0)->events[4].notes & NOTE_ZERO_WINDOW,
			NOTE_ZERO_WINDOW);
	conv_free(&v);
}

/* test_gap - an ack for data never captured is a content gap ('G'), and the
 * bytes count all the same (Zeek counts from sequence numbers). */
static void test_gap(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send_at(&v, SERVER, TCP_ACK, NULL, v.nxt[SERVER],
		     v.nxt[CLIENT] + 10);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_STRING_EQUAL(c->zeek.history, "ShAaG");
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 10);
	CU_ASSERT_EQUAL(c->events[3].notes & NOTE_ACKED_UNSEEN,
			NOTE_ACKED_UNSEEN);
	conv_free(&v);
}

/* test_synack_before_syn - the capture shows the SYN-ACK before the SYN
 * (two CPUs, `-i any`): Zeek takes the SYN-ACK's sender as originator,
 * then flips when the SYN comes; its letters keep their case and '^'
 * follows them ("Hs^"). */
static void test_synack_before_syn(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_send_at(&v, SERVER, TCP_SYN | TCP_ACK, NULL, 5000, 1001);
	conv_send(&v, CLIENT, TCP_SYN, NULL);
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	conv_echo(&v);
	conv_close(&v, CLIENT);
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(v.t.count, 1);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].ep.port, 40000);
	CU_ASSERT_FALSE(c->partial_start);
	CU_ASSERT_TRUE(c->handshake.syn && c->handshake.synack &&
		       c->handshake.ack);
	expect_verdict(&v, 0, "SF", "Hs^ADadFf", TEARDOWN_FOUR_WAY_FIN,
		       TCP_ORIG);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 6);
	CU_ASSERT_EQUAL(c->side[TCP_ORIG].pkts, 6);
	CU_ASSERT_EQUAL(c->side[TCP_RESP].pkts, 5);
	CU_ASSERT_EQUAL(c->events[0].dir, TCP_RESP); /* the SYN-ACK */
	conv_free(&v);
}

/* test_gap_fin_over_hole - the last data was not captured and the FIN
 * jumps over it: the ack of the FIN reveals the hole (Zeek's 'G'; the FIN
 * itself is not data). */
static void test_gap_fin_over_hole(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "hello\n");
	conv_send(&v, SERVER, TCP_ACK, NULL);
	v.nxt[CLIENT] += 6; /* "world\n", lost to the capture */
	conv_send(&v, CLIENT, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_FIN | TCP_ACK, NULL);
	conv_send(&v, CLIENT, TCP_ACK, NULL);
	const struct tcp_conn *c = conv_conn(&v, 0);
	expect_verdict(&v, 0, "SF", "ShADaFGf", TEARDOWN_FOUR_WAY_FIN,
		       TCP_ORIG);
	CU_ASSERT_EQUAL(tcp_bytes(c, TCP_ORIG), 12);
	conv_free(&v);
}

/* test_gap_data_over_hole - a segment lost to the capture, the next one
 * seen: the ack over both is one gap, counted once. */
static void test_gap_data_over_hole(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "one\n");
	v.nxt[CLIENT] += 4; /* "two\n" not captured */
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "three\n");
	conv_send(&v, SERVER, TCP_ACK, NULL);
	conv_send(&v, SERVER, TCP_ACK, NULL); /* a duplicate: no new gap */
	CU_ASSERT_STRING_EQUAL(conv_conn(&v, 0)->zeek.history, "ShADaG");
	conv_free(&v);
}

/* test_no_gap_at_reset - an ack in a RST over a hole is not trusted. */
static void test_no_gap_at_reset(void)
{
	struct conv v;
	conv_init(&v, 1000, 5000);
	conv_handshake(&v);
	v.nxt[CLIENT] += 4;
	conv_send(&v, SERVER, TCP_RST | TCP_ACK, NULL);
	CU_ASSERT_STRING_EQUAL(conv_conn(&v, 0)->zeek.history, "ShAr");
	conv_free(&v);
}

int add_verdict_suite(void)
{
	CU_pSuite s = CU_add_suite("verdict", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "SF, four-way FIN", test_sf_four_way) ||
	    !CU_add_test(s, "SF, three-packet close",
			 test_three_packet_close) ||
	    !CU_add_test(s, "SF, simultaneous close",
			 test_simultaneous_close) ||
	    !CU_add_test(s, "SF, half-close", test_half_close) ||
	    !CU_add_test(s, "RSTO", test_rsto) ||
	    !CU_add_test(s, "RSTR after the originator's FIN",
			 test_rstr_after_fin) ||
	    !CU_add_test(s, "REJ", test_rej) ||
	    !CU_add_test(s, "RSTOS0", test_rstos0) ||
	    !CU_add_test(s, "RSTRH", test_rstrh) ||
	    !CU_add_test(s, "SH and SHR", test_sh_and_shr) ||
	    !CU_add_test(s, "S2 and S3", test_s2_s3) ||
	    !CU_add_test(s, "S0, S1, OTH", test_s0_s1_oth) ||
	    !CU_add_test(s, "RST after both FINs", test_rst_after_both_fins) ||
	    !CU_add_test(s, "FIN, RST, then the peer's FIN",
			 test_fin_rst_then_peer_fin) ||
	    !CU_add_test(s, "history: repeats", test_history_repeats) ||
	    !CU_add_test(s, "history: scaled t", test_history_scaled) ||
	    !CU_add_test(s, "history: zero window", test_zero_window) ||
	    !CU_add_test(s, "history: content gap", test_gap) ||
	    !CU_add_test(s, "SYN-ACK seen before the SYN: Zeek's late flip",
			 test_synack_before_syn) ||
	    !CU_add_test(s, "gap: a FIN jumps over a hole",
			 test_gap_fin_over_hole) ||
	    !CU_add_test(s, "gap: data jumps over a hole",
			 test_gap_data_over_hole) ||
	    !CU_add_test(s, "gap: not from an ack in a RST",
			 test_no_gap_at_reset))
		return -1;
	return 0;
}
