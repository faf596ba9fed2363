/* test_misc.c - the stream buffer, the JSON writer, the flow table and the
 * analysis of whole frames into reports. */
#include <CUnit/CUnit.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "flowtable.h"
#include "json.h"
#include "marks.h"
#include "report.h"
#include "stream.h"
#include "testutil.h"
#include "textfmt.h"

/* contiguous_is - the contiguous start of a stream equals text. */
static void contiguous_is(const struct stream *s, const char *text)
{
	size_t n;
	const uint8_t *p = stream_bytes(s, &n);
	CU_ASSERT_EQUAL(n, strlen(text));
	if (n == strlen(text) && n > 0)
		CU_ASSERT_EQUAL(memcmp(p, text, n), 0);
}

static void test_stream_order_and_limit(void)
{
	struct stream s;
	stream_init(&s, 8);
	CU_ASSERT_EQUAL(stream_add(&s, 4, (const uint8_t *)"efgh", 4), 0);
	contiguous_is(&s, "");
	CU_ASSERT_EQUAL(stream_add(&s, 0, (const uint8_t *)"ab", 2), 0);
	contiguous_is(&s, "ab");
	CU_ASSERT_EQUAL(stream_add(&s, 1, (const uint8_t *)"bcd", 3),
			0); /* overlaps both */
	contiguous_is(&s, "abcdefgh");
	CU_ASSERT_EQUAL(stream_add(&s, 6, (const uint8_t *)"ghijkl", 6),
			0); /* past the limit */
	contiguous_is(&s, "abcdefgh");
	CU_ASSERT_EQUAL(stream_add(&s, 100, (const uint8_t *)"z", 1), 0);
	CU_ASSERT_FALSE(s.lost);
	stream_free(&s);
}

static void test_stream_too_many_holes(void)
{
	struct stream s;
	stream_init(&s, 64);
	for (uint64_t off = 2; off < 2 + 2 * (STREAM_MAX_PENDING + 1); off += 2)
		CU_ASSERT_EQUAL(stream_add(&s, off, (const uint8_t *)"x", 1),
				0);
	CU_ASSERT_TRUE(s.lost);
	CU_ASSERT_EQUAL(stream_add(&s, 0, (const uint8_t *)"ab", 2), 0);
	contiguous_is(&s, "abx"); /* then a hole at 3 */
	stream_free(&s);
}

/* json_of - what writing bytes as a JSON string value produces. */
static char *json_of(const uint8_t *p, size_t n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	struct json_writer w;
	json_init(&w, out);
	json_bytes(&w, p, n);
	CU_ASSERT_EQUAL(json_finish(&w), 0);
	fclose(out);
	return buf;
}

/* escapes_to - n bytes of a C string literal -> their JSON text. */
static void escapes_to(const char *bytes, size_t n, const char *expected)
{
	char *got = json_of((const uint8_t *)bytes, n);
	CU_ASSERT_STRING_EQUAL(got, expected);
	free(got);
}

static void test_json_escaping(void)
{
	escapes_to("hello\n", 6, "\"hello\\n\"\n");
	escapes_to("a\"b\\c\t\r\b\f", 9, "\"a\\\"b\\\\c\\t\\r\\b\\f\"\n");
	escapes_to("\0\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\\u007f\"\n");
	escapes_to("caf\xc3\xa9 \xf0\x9f\x98\x80", 10,
		   "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"\n");
	escapes_to("\xff\x80", 2, "\"\\u00ff\\u0080\"\n"); /* not UTF-8 */
	escapes_to("\xc0\xaf", 2, "\"\\u00c0\\u00af\"\n"); /* overlong */
	escapes_to("\xed\xa0\x80", 3,
		   "\"\\u00ed\\u00a0\\u0080\"\n");	   /* surrogate */
	escapes_to("\xe2\x82", 2, "\"\\u00e2\\u0082\"\n"); /* cut short */
	escapes_to("\xf4\x90\x80\x80", 4,
		   "\"\\u00f4\\u0090\\u0080\\u0080\"\n"); /* > U+10FFFF */
}

static void test_json_document(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	struct json_writer w;
	json_init(&w, out);
	json_begin_object(&w);
	json_key(&w, "n");
	json_uint(&w, 42);
	json_key(&w, "t");
	json_fixed(&w, 1234567, 6);
	json_key(&w, "neg");
	json_fixed(&w, -5, 3);
	json_key(&w, "list");
	json_begin_array(&w);
	json_bool(&w, true);
	json_null(&w);
	json_end_array(&w);
	json_key(&w, "empty");
	json_begin_array(&w);
	json_end_array(&w);
	json_end_object(&w);
	CU_ASSERT_EQUAL(json_finish(&w), 0);
	fclose(out);
	CU_ASSERT_STRING_EQUAL(
		buf, "{\n  \"n\": 42,\n  \"t\": 1.234567,\n  \"neg\": -0.005,\n"
		     "  \"list\": [\n    true,\n    null\n  ],\n  \"empty\": "
		     "[]\n}\n");
	free(buf);
}

/* endpoint - 10.0.0.1:port */
static struct flow_endpoint endpoint(uint16_t port)
{
	struct flow_endpoint e;
	memset(&e, 0, sizeof e);
	e.addr.version = 4;
	e.addr.bytes[0] = 10;
	e.addr.bytes[3] = 1;
	e.port = port;
	return e;
}

static void test_flowtable(void)
{
	struct flow_table t;
	flowtable_init(&t);
	struct flow_endpoint server = endpoint(80);
	for (uint16_t port = 1; port <= 5000;
	     port++) { /* several rounds of growth */
		struct flow_endpoint client = endpoint((uint16_t)(1024 + port));
		struct flow_key k = flow_key_make(PROTO_TCP, &client, &server);
		CU_ASSERT_EQUAL_FATAL(flowtable_put(&t, &k, port), 0);
	}
	CU_ASSERT_EQUAL(t.count, 5000);
	struct flow_endpoint client = endpoint(1024 + 77);
	struct flow_key back = flow_key_make(PROTO_TCP, &server,
					     &client); /* either direction */
	CU_ASSERT_EQUAL(flowtable_find(&t, &back), 77);
	CU_ASSERT_EQUAL(flowtable_put(&t, &back, 9999), 0);
	CU_ASSERT_EQUAL(flowtable_find(&t, &back), 9999);
	CU_ASSERT_EQUAL(t.count, 5000);
	struct flow_key udp = flow_key_make(PROTO_UDP, &client, &server);
	CU_ASSERT_EQUAL(flowtable_find(&t, &udp), FLOWTABLE_EMPTY);
	flowtable_free(&t);
}

static void test_text_helpers(void)
{
	char buf[64];
	CU_ASSERT_STRING_EQUAL(
		text_tcp_flags(TCP_SYN | TCP_ACK, buf, sizeof buf), "SYN, ACK");
	CU_ASSERT_STRING_EQUAL(
		text_tcp_flags(TCP_FIN | TCP_PSH | TCP_ACK, buf, sizeof buf),
		"FIN, PSH, ACK");
	CU_ASSERT_STRING_EQUAL(text_tcp_flags(0, buf, sizeof buf), "<None>");
	CU_ASSERT_STRING_EQUAL(text_seconds_str(1234567890, buf, sizeof buf),
			       "1.234567");
	char addr[FLOW_ENDPOINT_STRLEN];
	struct flow_endpoint v6;
	memset(&v6, 0, sizeof v6);
	v6.addr.version = 6;
	v6.addr.bytes[15] = 1;
	v6.port = 12000;
	CU_ASSERT_STRING_EQUAL(flow_endpoint_format(&v6, addr, sizeof addr),
			       "[::1]:12000");
}

/* test_analysis_frames - whole frames in, the JSON report out. */
static void test_analysis_frames(void)
{
	struct analysis_options opt = {
		.stream_limit = STREAM_DEFAULT_LIMIT,
		.stream_budget = TCP_DEFAULT_STREAM_BUDGET,
	};
	struct analysis a;
	analysis_init(&a, DLT_EN10MB, &opt);
	uint8_t frame[FRAME_MAX];
	size_t len = build_tcp_frame(frame, DLT_EN10MB, 4, NULL, 0);
	CU_ASSERT_EQUAL(analysis_packet(&a, 5000000000LL, frame, len), 0);
	frame[14 + 6] = 0x20; /* a fragment: counted, skipped */
	CU_ASSERT_EQUAL(analysis_packet(&a, 5000000001LL, frame, len), 0);
	CU_ASSERT_EQUAL(analysis_packet(&a, 5000000002LL, frame, 10),
			0); /* cut short */
	CU_ASSERT_EQUAL(a.packets, 3);
	CU_ASSERT_EQUAL(a.tcp.count, 1);
	CU_ASSERT_EQUAL(a.skipped.fragments, 1);
	CU_ASSERT_EQUAL(a.skipped.truncated, 1);

	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(report_json(&a, out), 0);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"conn_state\": \"S0\""));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(buf, "\"1 IP fragments skipped (no IP reassembly)\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"rtt_ms\": null"));
	free(buf);
	analysis_free(&a);
}


/* test_marks - parsing SECONDS=LABEL, time order, the latest before. */
static void test_marks(void)
{
	struct marks m = {0};
	char err[256];
	CU_ASSERT_EQUAL(marks_add(&m, "1764000000.5=second", err, sizeof err), 0);
	CU_ASSERT_EQUAL(marks_add(&m, "1764000000.000000001=first", err,
				  sizeof err),
			0);
	CU_ASSERT_EQUAL(marks_add(&m, "1764000001=third = with '='", err,
				  sizeof err),
			0);
	CU_ASSERT_EQUAL_FATAL(m.n, 3);
	CU_ASSERT_EQUAL(m.v[0].ts, 1764000000000000001LL);
	CU_ASSERT_STRING_EQUAL(m.v[0].label, "first");
	CU_ASSERT_EQUAL(m.v[1].ts, 1764000000500000000LL);
	CU_ASSERT_STRING_EQUAL(m.v[2].label, "third = with '='");
	CU_ASSERT_PTR_NULL(marks_last_before(&m, 1764000000000000000LL));
	CU_ASSERT_PTR_EQUAL(marks_last_before(&m, 1764000000500000000LL),
			    &m.v[1]);
	CU_ASSERT_PTR_EQUAL(marks_last_before(&m, INT64_MAX), &m.v[2]);
	CU_ASSERT_PTR_NULL(marks_last_before(NULL, INT64_MAX));
	const char *bad[] = {"",	  "=x",	       "12",	  "12=",
			     "1.2.3=x",	  "-5=x",      "1e9=x",	  "12 =x",
			     "1.0000000001=too many decimals",
			     "99999999999999999999=overflow"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(marks_add(&m, bad[i], err, sizeof err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--event"));
	}
	CU_ASSERT_EQUAL(m.n, 3);

	char file[] = "# a comment\n\n1764000002=from a file\nnot a mark\n";
	FILE *f = fmemopen(file, strlen(file), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(marks_read(&m, f, "x.events", err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "x.events:4:"));
	CU_ASSERT_EQUAL(m.n, 4);
	CU_ASSERT_STRING_EQUAL(m.v[3].label, "from a file");
	fclose(f);
	marks_free(&m);
	CU_ASSERT_EQUAL(m.n, 0);
}

int add_misc_suite(void)
{
	CU_pSuite s = CU_add_suite("misc", NULL, NULL);
	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "stream: order, overlap, limit",
			 test_stream_order_and_limit) ||
	    !CU_add_test(s, "stream: too many holes",
			 test_stream_too_many_holes) ||
	    !CU_add_test(s, "JSON string escaping", test_json_escaping) ||
	    !CU_add_test(s, "JSON document layout", test_json_document) ||
	    !CU_add_test(s, "flow table", test_flowtable) ||
	    !CU_add_test(s, "text helpers", test_text_helpers) ||
	    !CU_add_test(s, "frames to JSON report", test_analysis_frames) ||
	    !CU_add_test(s, "grader's events (--event)", test_marks))
		return -1;
	return 0;
}
