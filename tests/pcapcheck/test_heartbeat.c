/* test_heartbeat.c - messages cut from the reassembled streams, whatever
 * the segmentation; heartbeat pairing, misses and statistics; option escapes.
 * The wire format is the heartbeat lab's: "HB <seq>\n" from the server,
 * "HBACK <seq>\n" back, "MSG <text>\n" and "BCAST <text>\n" beside them. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "heartbeat.h"
#include "testutil.h"

#define MS 1000000LL

/* hb_conv - a conversation after its handshake, cutting with matcher m. */
static void hb_conv(struct conv *v, struct hb_matcher *m, const char *request,
		    const char *reply, const char *delim)
{
	char err[256];
	CU_ASSERT_EQUAL_FATAL(
		hb_matcher_init(m, request, reply, delim, err, sizeof err), 0);
	conv_init(v, 1000, 5000);
	v->t.opt.hb = m;
	conv_handshake(v);
}

/* key_is - message i of connection c has this kind and key. */
static void key_is(const struct tcp_conn *c, size_t i, enum hb_kind kind,
		   const char *key)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	CU_ASSERT_FATAL(i < c->hb.count);
	CU_ASSERT_EQUAL(c->hb.msgs[i].kind, kind);
	size_t n;
	const uint8_t *p = hb_key(&c->hb, i, streams, &n);
	CU_ASSERT_EQUAL(n, strlen(key));
	if (n == strlen(key) && n > 0)
		CU_ASSERT_EQUAL(memcmp(p, key, n), 0);
}

/* summarize - hb_summarize of connection c (caller frees). */
static void summarize(const struct tcp_conn *c, struct hb_summary *s)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	CU_ASSERT_EQUAL_FATAL(hb_summarize(&c->hb, streams, s), 0);
}

static void test_unescape(void)
{
	uint8_t buf[HB_TEXT_MAX];
	size_t n;
	CU_ASSERT_EQUAL(hb_unescape("HB\\x20", buf, sizeof buf, &n), 0);
	CU_ASSERT(n == 3 && memcmp(buf, "HB ", 3) == 0);
	CU_ASSERT_EQUAL(hb_unescape("\\r\\n\\t\\\\\\x00\\xFf", buf, sizeof buf,
				    &n),
			0);
	CU_ASSERT(n == 6 && memcmp(buf, "\r\n\t\\\0\xff", 6) == 0);
	CU_ASSERT_EQUAL(hb_unescape("\\q", buf, sizeof buf, &n), -1);
	CU_ASSERT_EQUAL(hb_unescape("\\x4", buf, sizeof buf, &n), -1);
	CU_ASSERT_EQUAL(hb_unescape("\\x", buf, sizeof buf, &n), -1);
	CU_ASSERT_EQUAL(hb_unescape("end\\", buf, sizeof buf, &n), -1);
	CU_ASSERT_EQUAL(hb_unescape("abcd", buf, 3, &n), -1); /* too long */
	CU_ASSERT_EQUAL(hb_unescape("abc", buf, 3, &n), 0);

	struct hb_matcher m;
	char err[256];
	CU_ASSERT_EQUAL(hb_matcher_init(&m, "HB ", "HBACK ", "\\r\\n", err,
					sizeof err),
			0);
	CU_ASSERT(m.delim_len == 2 && memcmp(m.delim, "\r\n", 2) == 0);
	CU_ASSERT_EQUAL(hb_matcher_init(&m, "", "B", "\\n", err, sizeof err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--hb-request must not be empty"));
	CU_ASSERT_EQUAL(hb_matcher_init(&m, "A", "A", "\\n", err, sizeof err),
			-1);
	CU_ASSERT_EQUAL(hb_matcher_init(&m, "A", "B", "\\z", err, sizeof err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--hb-delim"));
}

/* classify - kind of text under m, and its key offset. */
static enum hb_kind classify(const struct hb_matcher *m, const char *text,
			     size_t *key_off)
{
	return hb_classify(m, (const uint8_t *)text, strlen(text), key_off);
}

static void test_prefix_ambiguity(void)
{
	struct hb_matcher m;
	char err[256];
	size_t k;
	/* "HBACK 1" starts with "HB" too: the longer prefix wins. */
	CU_ASSERT_EQUAL_FATAL(
		hb_matcher_init(&m, "HB", "HBACK", "\\n", err, sizeof err), 0);
	CU_ASSERT_EQUAL(classify(&m, "HBACK 1", &k), HB_REPLY);
	CU_ASSERT_EQUAL(k, 5);
	CU_ASSERT_EQUAL(classify(&m, "HB 1", &k), HB_REQUEST);
	CU_ASSERT_EQUAL(k, 2);
	CU_ASSERT_EQUAL(classify(&m, "MSG HB 1", &k), HB_OTHER);
	CU_ASSERT_EQUAL(classify(&m, "H", &k), HB_OTHER);
	/* And the other way round: the request prefix is the longer one. */
	CU_ASSERT_EQUAL_FATAL(hb_matcher_init(&m, "PINGPONG ", "PING ", "\\n",
					      err, sizeof err),
			      0);
	CU_ASSERT_EQUAL(classify(&m, "PINGPONG 3", &k), HB_REQUEST);
	CU_ASSERT_EQUAL(classify(&m, "PING 3", &k), HB_REPLY);
	CU_ASSERT_EQUAL(k, 5);
}

/* test_split_and_coalesced - a message across two segments, two in one,
 * a delimiter of two bytes split between segments: cut the same. */
static void test_split_and_coalesced(void)
{
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\r\\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB ");
	int64_t done = v.ts;
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "1\r"); /* delimiter split */
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "\nHB 2\r\nHB 3\r\n");
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK,
		  "HBACK 1\r\nMSG hi\r\nHBACK 2\r\nHBACK 3\r\nMSG unfinished");
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(c->hb.count, 6);
	key_is(c, 0, HB_REQUEST, "1");
	key_is(c, 1, HB_REQUEST, "2");
	key_is(c, 2, HB_REQUEST, "3");
	key_is(c, 3, HB_REPLY, "1");
	key_is(c, 5, HB_REPLY, "3");
	/* Message 1 ends in the segment with the delimiter's last byte. */
	CU_ASSERT_EQUAL(c->hb.msgs[0].ts, done + 100000);
	CU_ASSERT_EQUAL(c->hb.msgs[0].segment, 5);
	CU_ASSERT_EQUAL(c->hb.msgs[1].segment, 5);
	CU_ASSERT_EQUAL(c->hb.side[TCP_RESP].messages, 3);
	CU_ASSERT_EQUAL(c->hb.side[TCP_ORIG].messages, 4); /* not the last */
	struct hb_summary s;
	summarize(c, &s);
	CU_ASSERT_EQUAL(s.requester, TCP_RESP);
	CU_ASSERT_EQUAL(s.pairs, 3);
	hb_summary_free(&s);
	conv_free(&v);
}

/* test_byte_by_byte - one byte per segment gives the same messages. */
static void test_byte_by_byte(void)
{
	const char *text = "HB 10\nBCAST x\nHB 11\n";
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\n");
	for (size_t i = 0; text[i] != '\0'; i++) {
		char one[2] = {text[i], '\0'};
		conv_send(&v, SERVER, TCP_PSH | TCP_ACK, one);
	}
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(c->hb.count, 2);
	CU_ASSERT_EQUAL(c->hb.side[TCP_RESP].messages, 3);
	key_is(c, 0, HB_REQUEST, "10");
	key_is(c, 1, HB_REQUEST, "11");
	CU_ASSERT_EQUAL(c->hb.msgs[0].segment, 3 + 5); /* the "\n" of "HB 10\n" */
	conv_free(&v);
}

/* test_retransmission_and_keepalive - neither makes a message. */
static void test_retransmission_and_keepalive(void)
{
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\n");
	uint32_t seq = v.nxt[SERVER];
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 1\n");
	conv_send_at(&v, SERVER, TCP_PSH | TCP_ACK, "HB 1\n", seq,
		     v.nxt[CLIENT]);
	conv_send_at(&v, SERVER, TCP_ACK, "\n", v.nxt[SERVER] - 1,
		     v.nxt[CLIENT]); /* 1-byte keep-alive */
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "HBACK 1\n");
	const struct tcp_conn *c = conv_conn(&v, 0);
	CU_ASSERT_EQUAL(c->side[TCP_RESP].retransmissions, 1);
	CU_ASSERT_EQUAL(c->side[TCP_RESP].keepalives, 1);
	CU_ASSERT_EQUAL(c->hb.count, 2);
	CU_ASSERT_EQUAL(c->hb.side[TCP_RESP].messages, 1);
	CU_ASSERT_EQUAL(c->hb.msgs[0].segment, 3);
	conv_free(&v);
}

/* test_pairing_and_runs - keys, direction, order; the longest miss run. */
static void test_pairing_and_runs(void)
{
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\n");
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "HBACK 7\n"); /* too early */
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 1\nHB 2\n");
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "HBACK 2\nHBACK 1\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 3\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 4\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HBACK 5\n"); /* wrong way */
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 5\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 7\n");
	conv_send(&v, SERVER, TCP_PSH | TCP_ACK, "HB 1\n"); /* key again */
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "HBACK 1\nHBACK 1\n");
	const struct tcp_conn *c = conv_conn(&v, 0);
	struct hb_summary s;
	summarize(c, &s);
	CU_ASSERT_EQUAL(s.requester, TCP_RESP);
	CU_ASSERT_EQUAL(s.requests, 7);
	CU_ASSERT_EQUAL(s.replies, 5); /* the client's, early one included */
	/* HB 1 (first) got the first HBACK 1, HB 2 its reply; the second
	 * HB 1 the first HBACK 1 after it; 3, 4, 5 and 7 none. */
	CU_ASSERT_EQUAL(s.pairs, 3);
	CU_ASSERT_EQUAL(s.unanswered, 4);
	CU_ASSERT_EQUAL(s.max_unanswered_run, 4);
	CU_ASSERT_EQUAL(s.reply_of[1], 4); /* HB 1 -> HBACK 1 */
	CU_ASSERT_EQUAL(s.reply_of[2], 3); /* HB 2 -> HBACK 2 */
	CU_ASSERT_EQUAL(s.reply_of[10], 11); /* the second HB 1 */
	CU_ASSERT_EQUAL(s.reply_of[9], HB_NONE); /* HB 7: its reply was early */
	CU_ASSERT_EQUAL(s.reply_of[8], HB_NONE); /* HB 5 */
	hb_summary_free(&s);
	conv_free(&v);
}

/* test_statistics - intervals between requests, reply delays. */
static void test_statistics(void)
{
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\n");
	/* Requests 100, 100.5 and 99.5 ms apart; replies 0.2, 0.4, none, 0.1 ms. */
	static const int64_t gap[4] = {0, 100 * MS, 100 * MS + MS / 2,
				       99 * MS + MS / 2};
	static const int64_t delay[4] = {MS / 5, 2 * MS / 5, -1, MS / 10};
	int64_t t0 = v.ts;
	for (int i = 0; i < 4; i++) {
		char text[32];
		t0 += gap[i];
		v.ts = t0;
		(void)snprintf(text, sizeof text, "HB %d\n", i);
		conv_send(&v, SERVER, TCP_PSH | TCP_ACK, text);
		if (delay[i] < 0)
			continue;
		v.ts = t0 + delay[i];
		(void)snprintf(text, sizeof text, "HBACK %d\n", i);
		conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, text);
	}
	struct hb_summary s;
	summarize(conv_conn(&v, 0), &s);
	CU_ASSERT_EQUAL(s.interval.count, 3);
	CU_ASSERT_EQUAL(s.interval.mean, 100 * MS);
	CU_ASSERT_EQUAL(s.interval.min, 99 * MS + MS / 2);
	CU_ASSERT_EQUAL(s.interval.max, 100 * MS + MS / 2);
	/* sqrt((0 + 0.25 + 0.25) / 3) ms = 0.408248 ms */
	CU_ASSERT_EQUAL(s.interval.stddev, 408248);
	CU_ASSERT_EQUAL(s.delay.count, 3);
	CU_ASSERT_EQUAL(s.delay.mean, 7 * MS / 30); /* 233333 ns */
	CU_ASSERT_EQUAL(s.delay.max, 2 * MS / 5);
	CU_ASSERT_EQUAL(s.unanswered, 1);
	CU_ASSERT_EQUAL(s.max_unanswered_run, 1);
	hb_summary_free(&s);
	conv_free(&v);
}

/* test_no_requests - nobody requested: no requester, no statistics. */
static void test_no_requests(void)
{
	struct conv v;
	struct hb_matcher m;
	hb_conv(&v, &m, "HB ", "HBACK ", "\\n");
	conv_send(&v, CLIENT, TCP_PSH | TCP_ACK, "MSG a\nHBACK 1\nHB 2");
	struct hb_summary s;
	summarize(conv_conn(&v, 0), &s);
	CU_ASSERT_EQUAL(s.requester, TCP_NOBODY);
	CU_ASSERT_EQUAL(s.requests, 0);
	CU_ASSERT_EQUAL(s.replies, 1);
	CU_ASSERT_EQUAL(s.interval.count, 0);
	CU_ASSERT_EQUAL(s.delay.count, 0);
	hb_summary_free(&s);
	conv_free(&v);
}

int add_heartbeat_suite(void)
{
	CU_pSuite s = CU_add_suite("heartbeat", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "option escapes and matcher", test_unescape) ||
	    !CU_add_test(s, "prefix ambiguity", test_prefix_ambiguity) ||
	    !CU_add_test(s, "split and coalesced messages",
			 test_split_and_coalesced) ||
	    !CU_add_test(s, "one byte per segment", test_byte_by_byte) ||
	    !CU_add_test(s, "retransmissions and keep-alives",
			 test_retransmission_and_keepalive) ||
	    !CU_add_test(s, "pairing and unanswered runs",
			 test_pairing_and_runs) ||
	    !CU_add_test(s, "interval and delay statistics", test_statistics) ||
	    !CU_add_test(s, "no requests", test_no_requests))
		return -1;
	return 0;
}
