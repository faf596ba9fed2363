/* test_search.c - byte strings found in reassembled payloads whatever the
 * segmentation, and the start of TLS after a STARTTLS line (or at byte 0),
 * with the offsets' capture times; the JSON and text views. */
#include <CUnit/CUnit.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "report_search.h"
#include "search.h"
#include "testutil.h"

/* A TLS 1.2 handshake record header with a ClientHello (type 1) after it,
 * and one with a ServerHello (type 2); the length bytes hold a zero. */
static const uint8_t client_hello[] = {0x16, 0x03, 0x01, 0x00, 0x40, 0x01,
				       0x00, 0x00, 0x3c, 0x03, 0x03};
static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x50, 0x02,
				       0x00, 0x00, 0x4c, 0x03, 0x03};

/* send_bytes - WHO sends n bytes (NUL bytes allowed) at its next seq. */
static void send_bytes(struct conv *v, int who, const uint8_t *p, size_t n)
{
	conv_segment(v, who, TCP_ACK | TCP_PSH, p, n, n, v->nxt[who],
		     v->nxt[!who], 512);
}

/* string_of - a search string from a command-line text (asserts it parses). */
static struct search_string string_of(const char *text)
{
	struct search_string s;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(search_parse_string(&s, text, err, sizeof err),
			      0);
	return s;
}

static void test_parse_string(void)
{
	struct search_string s;
	char err[256];
	CU_ASSERT_EQUAL(search_parse_string(&s, "QUIT\\r\\n", err, sizeof err),
			0);
	CU_ASSERT(s.len == 6 && memcmp(s.bytes, "QUIT\r\n", 6) == 0);
	CU_ASSERT_EQUAL(search_parse_string(&s, "\\x00\\x16", err, sizeof err),
			0);
	CU_ASSERT(s.len == 2 && s.bytes[0] == 0 && s.bytes[1] == 0x16);
	CU_ASSERT_EQUAL(search_parse_string(&s, "", err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "must not be empty"));
	CU_ASSERT_EQUAL(search_parse_string(&s, "a\\q", err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad escape"));
	char longer[SEARCH_STRING_MAX + 2];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	CU_ASSERT_EQUAL(search_parse_string(&s, longer, err, sizeof err), -1);
}

/* tls_at - search_tls_start on p[0..n) finds a record of kind at off. */
static void tls_at(const uint8_t *p, size_t n, uint64_t off,
		   enum search_hello kind)
{
	uint64_t got;
	enum search_hello hello;
	CU_ASSERT_TRUE_FATAL(search_tls_start(p, n, &got, &hello));
	CU_ASSERT_EQUAL(got, off);
	CU_ASSERT_EQUAL(hello, kind);
}

/* no_tls - search_tls_start on p[0..n) finds nothing. */
static void no_tls(const uint8_t *p, size_t n)
{
	uint64_t got;
	enum search_hello hello;
	CU_ASSERT_FALSE(search_tls_start(p, n, &got, &hello));
}

static void test_tls_start(void)
{
	uint8_t buf[128];
	const char *plain = "EHLO a\r\nSTARTTLS\r\n";
	size_t k = strlen(plain);
	memcpy(buf, plain, k);
	memcpy(buf + k, client_hello, sizeof client_hello);
	tls_at(buf, k + sizeof client_hello, k, SEARCH_CLIENT_HELLO);
	tls_at(server_hello, sizeof server_hello, 0, SEARCH_SERVER_HELLO);

	/* Not at a line start: inside a line it is just bytes. */
	buf[0] = 'X';
	memcpy(buf + 1, client_hello, sizeof client_hello);
	no_tls(buf, 1 + sizeof client_hello);
	/* Cut before the handshake type, a wrong version, an application
	 * data record (23), a zero or an impossible length. */
	no_tls(client_hello, 5);
	memcpy(buf, client_hello, sizeof client_hello);
	buf[1] = 2;
	no_tls(buf, sizeof client_hello);
	memcpy(buf, client_hello, sizeof client_hello);
	buf[0] = 23;
	no_tls(buf, sizeof client_hello);
	memcpy(buf, client_hello, sizeof client_hello);
	buf[3] = 0;
	buf[4] = 0;
	no_tls(buf, sizeof client_hello);
	buf[3] = 0x48; /* 18432 + 0x40: over 2^14 + 2048 */
	buf[4] = 0x40;
	no_tls(buf, sizeof client_hello);
	no_tls((const uint8_t *)"250 OK\r\n", 8);
	no_tls(NULL, 0);
}

/* starttls_conv - an SMTP-like conversation: commands in clear split
 * across segments, STARTTLS, then TLS records carrying "secret". */
static void starttls_conv(struct conv *v)
{
	static const uint8_t after[] = "\x17\x03\x03\x00\x10secret MAIL FROM:";
	conv_init(v, 1000, 5000); /* keeps the timeline: times of offsets */
	conv_handshake(v);
	conv_send(v, SERVER, TCP_ACK | TCP_PSH, "220 ready\r\n");
	conv_send(v, CLIENT, TCP_ACK | TCP_PSH, "MAIL FR");
	conv_send(v, CLIENT, TCP_ACK | TCP_PSH, "OM:<a@b>\r\nSTARTTLS\r\n");
	conv_send(v, SERVER, TCP_ACK | TCP_PSH, "220 go ahead\r\n");
	send_bytes(v, CLIENT, client_hello, sizeof client_hello);
	send_bytes(v, SERVER, server_hello, sizeof server_hello);
	send_bytes(v, CLIENT, after, sizeof after - 1);
}

static void test_hits_before_and_after_tls(void)
{
	struct conv v;
	starttls_conv(&v);
	const struct tcp_conn *c = conv_conn(&v, 0);
	struct search_string s[3] = {string_of("MAIL FROM:"),
				     string_of("secret"), string_of("220 ")};
	struct search_tls tls;
	struct search_hits h[3];

	search_side(c, TCP_ORIG, s, 3, &tls, h);
	CU_ASSERT_TRUE(tls.found);
	CU_ASSERT_EQUAL(tls.offset, strlen("MAIL FROM:<a@b>\r\nSTARTTLS\r\n"));
	CU_ASSERT_EQUAL(tls.hello, SEARCH_CLIENT_HELLO);
	/* "MAIL FROM:" split over two segments is found, and once more
	 * after TLS, where it should never be. */
	CU_ASSERT_EQUAL(h[0].count, 2);
	CU_ASSERT_EQUAL(h[0].after_tls, 1);
	CU_ASSERT_EQUAL(h[0].offsets[0], 0);
	CU_ASSERT_EQUAL(h[1].count, 1);
	CU_ASSERT_EQUAL(h[1].after_tls, 1);
	CU_ASSERT_EQUAL(h[2].count, 0);
	/* Times: the segment that carried the byte, one every 100 us; "MAIL
	 * FR" is the fifth segment, the ClientHello the eighth. */
	CU_ASSERT_EQUAL(h[0].ts[0] - c->first_ts, 400000);
	CU_ASSERT_EQUAL(search_time_of(c, TCP_ORIG, 8) - c->first_ts, 500000);
	CU_ASSERT_EQUAL(tls.ts - c->first_ts, 700000);

	search_side(c, TCP_RESP, s, 3, &tls, h);
	CU_ASSERT_TRUE(tls.found);
	CU_ASSERT_EQUAL(tls.offset, strlen("220 ready\r\n220 go ahead\r\n"));
	CU_ASSERT_EQUAL(tls.hello, SEARCH_SERVER_HELLO);
	CU_ASSERT_EQUAL(h[2].count, 2);
	CU_ASSERT_EQUAL(h[2].after_tls, 0);
	conv_free(&v);
}

static void test_many_hits_are_counted_not_all_listed(void)
{
	struct conv v;
	conv_init(&v, 1, 2);
	conv_handshake(&v);
	for (int i = 0; i < SEARCH_MAX_OFFSETS + 4; i++)
		conv_send(&v, CLIENT, TCP_ACK | TCP_PSH, "aa");
	struct search_string s = string_of("aa");
	struct search_tls tls;
	struct search_hits h;
	search_side(conv_conn(&v, 0), TCP_ORIG, &s, 1, &tls, &h);
	CU_ASSERT_FALSE(tls.found);
	/* Overlapping occurrences count: "aaaa" holds "aa" three times. */
	CU_ASSERT_EQUAL(h.count, 2 * (SEARCH_MAX_OFFSETS + 4) - 1);
	CU_ASSERT_EQUAL(h.listed, SEARCH_MAX_OFFSETS);
	CU_ASSERT_EQUAL(h.after_tls, 0);
	CU_ASSERT_EQUAL(h.offsets[SEARCH_MAX_OFFSETS - 1],
			SEARCH_MAX_OFFSETS - 1);
	conv_free(&v);
}

/* report_of - a view of an analysis holding conversation v's table. */
static char *report_of(struct conv *v, const struct search_string *s,
		       size_t n, bool json)
{
	struct analysis a;
	struct analysis_options opt = {.stream_limit = 1 << 16,
				       .stream_budget = 1 << 20};
	analysis_init(&a, DLT_EN10MB, &opt);
	tcp_table_free(&a.tcp);
	a.tcp = v->t; /* the conversation's table, borrowed */
	a.file = "starttls.pcap";
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	int rc = json ? report_search_json(&a, s, n, out)
		      : report_search_text(&a, s, n, out);
	CU_ASSERT_EQUAL(rc, 0);
	fclose(out);
	udp_table_free(&a.udp);
	return buf;
}

static void test_views(void)
{
	struct conv v;
	starttls_conv(&v);
	struct search_string s[2] = {string_of("MAIL FROM:"),
				     string_of("\\x00nothing")};
	char *json = report_of(&v, s, 2, true);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"record\": \"ClientHello\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"string\": \"\\u0000nothing\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"after_tls\": 1"));
	free(json);
	char *text = report_of(&v, s, 2, false);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLS from byte 27 (ClientHello"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "\"MAIL FROM:\"  2 matches, 1 after TLS: byte 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"\\x00nothing\"  no match"));
	free(text);
	conv_free(&v);
}

int add_search_suite(void)
{
	CU_pSuite s = CU_add_suite("search", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "string escapes", test_parse_string) ||
	    !CU_add_test(s, "where TLS starts", test_tls_start) ||
	    !CU_add_test(s, "hits before and after TLS",
			 test_hits_before_and_after_tls) ||
	    !CU_add_test(s, "many hits", test_many_hits_are_counted_not_all_listed) ||
	    !CU_add_test(s, "JSON and text views", test_views))
		return -1;
	return 0;
}
