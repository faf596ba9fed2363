/* report_json.c - the analysis as JSON for the grader (see report.h). */
#include "report.h"

#include "json.h"

#define NS_PER_MS 1000000

/* write_endpoint - {"addr": ..., "port": ...} */
static void write_endpoint(struct json_writer *w, const char *key,
			   const struct flow_endpoint *e)
{
	char addr[FLOW_ENDPOINT_STRLEN];
	json_key(w, key);
	json_begin_object(w);
	json_key(w, "addr");
	json_string(w, flow_addr_format(&e->addr, addr, sizeof addr));
	json_key(w, "port");
	json_uint(w, e->port);
	json_end_object(w);
}

/* write_seconds - a time in ns as seconds with nine decimals. */
static void write_seconds(struct json_writer *w, const char *key, int64_t ns)
{
	json_key(w, key);
	json_fixed(w, ns, 9);
}

/* write_pair - {"orig": o, "resp": r} */
static void write_pair(struct json_writer *w, const char *key, uint64_t o,
		       uint64_t r)
{
	json_key(w, key);
	json_begin_object(w);
	json_key(w, "orig");
	json_uint(w, o);
	json_key(w, "resp");
	json_uint(w, r);
	json_end_object(w);
}

/* write_handshake - which handshake segments were seen, and its round trip. */
static void write_handshake(struct json_writer *w,
			    const struct tcp_handshake *hs)
{
	bool complete = hs->syn && hs->synack && hs->ack;
	json_key(w, "handshake");
	json_begin_object(w);
	json_key(w, "syn");
	json_bool(w, hs->syn);
	json_key(w, "synack");
	json_bool(w, hs->synack);
	json_key(w, "ack");
	json_bool(w, hs->ack);
	json_key(w, "complete");
	json_bool(w, complete);
	/* Wireshark's initial RTT: from the first SYN to the handshake's ACK. */
	json_key(w, "rtt_ms");
	if (complete)
		json_fixed(w, hs->ack_ts - hs->syn_ts, 6);
	else
		json_null(w);
	json_end_object(w);
}

/* write_mark_label - the label of the latest mark at or before ts, or null. */
static void write_mark_label(struct json_writer *w, const struct analysis *a,
			     int64_t ts)
{
	const struct mark *m = marks_last_before(a->marks, ts);
	if (m == NULL)
		json_null(w);
	else
		json_string(w, m->label);
}

/* write_close_after - KEY: the mark side d's first FIN or RST came after. */
static void write_close_after(struct json_writer *w, const struct analysis *a,
			      const struct tcp_conn *c, enum tcp_dir d,
			      const char *key)
{
	int64_t ts;
	json_key(w, key);
	if (tcp_first_close_of(c, d, &ts))
		write_mark_label(w, a, ts);
	else
		json_null(w);
}

/* write_closings - "closes": each side's first FIN and RST, with its time
 * since the epoch (to compare with the grader's clock), its time in the
 * capture, and the mark it came after. */
static void write_closings(struct json_writer *w, const struct analysis *a,
			   const struct tcp_conn *c)
{
	struct tcp_closing cl[TCP_MAX_CLOSINGS];
	size_t n = tcp_closings(c, cl);
	json_key(w, "closes");
	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(w);
		json_key(w, "from");
		json_string(w, tcp_dir_name(cl[i].from));
		json_key(w, "flag");
		json_string(w, cl[i].flag == TCP_RST ? "RST" : "FIN");
		write_seconds(w, "time", cl[i].ts);
		write_seconds(w, "at", cl[i].ts - a->first_ts);
		json_key(w, "after_event");
		write_mark_label(w, a, cl[i].ts);
		json_end_object(w);
	}
	json_end_array(w);
}

/* write_marks - the top-level "events": the grader's moments. */
static void write_marks(struct json_writer *w, const struct analysis *a)
{
	json_key(w, "events");
	json_begin_array(w);
	for (size_t i = 0; a->marks != NULL && i < a->marks->n; i++) {
		const struct mark *m = &a->marks->v[i];
		json_begin_object(w);
		write_seconds(w, "time", m->ts);
		write_seconds(w, "at", m->ts - a->first_ts);
		json_key(w, "label");
		json_string(w, m->label);
		json_end_object(w);
	}
	json_end_array(w);
}

/* write_teardown - how the connection ended and who started it. */
static void write_teardown(struct json_writer *w, const struct analysis *a,
			   const struct tcp_conn *c)
{
	enum tcp_dir closer = tcp_first_closer(c);
	json_key(w, "teardown");
	json_begin_object(w);
	json_key(w, "kind");
	json_string(w, tcp_teardown_name(tcp_teardown(c)));
	json_key(w, "first_closer");
	if (closer == TCP_NOBODY)
		json_null(w);
	else
		json_string(w, tcp_dir_name(closer));
	json_key(w, "fin_packets");
	json_uint(w, c->side[TCP_ORIG].fin_packets +
			     c->side[TCP_RESP].fin_packets);
	write_close_after(w, a, c, TCP_ORIG, "orig_close_after_event");
	write_close_after(w, a, c, TCP_RESP, "resp_close_after_event");
	json_end_object(w);
}

/* write_preview - the first bytes of one direction's reassembled stream. */
static void write_preview(struct json_writer *w, const char *key,
			  const struct stream *s)
{
	size_t n;
	const uint8_t *p = stream_bytes(s, &n);
	json_key(w, key);
	json_bytes(w, p, n < REPORT_PREVIEW ? n : REPORT_PREVIEW);
}

/* write_counts - bytes, packets, segments, retransmissions, keep-alives. */
static void write_counts(struct json_writer *w, const struct tcp_conn *c)
{
	const struct tcp_side *o = &c->side[TCP_ORIG], *r = &c->side[TCP_RESP];
	json_key(w, "orig_bytes");
	json_uint(w, tcp_bytes(c, TCP_ORIG));
	json_key(w, "resp_bytes");
	json_uint(w, tcp_bytes(c, TCP_RESP));
	json_key(w, "orig_pkts");
	json_uint(w, o->pkts);
	json_key(w, "resp_pkts");
	json_uint(w, r->pkts);
	json_key(w, "orig_bad_checksums");
	json_uint(w, o->bad_checksums);
	json_key(w, "resp_bad_checksums");
	json_uint(w, r->bad_checksums);
	json_key(w, "orig_data_segs");
	json_uint(w, o->data_segs);
	json_key(w, "resp_data_segs");
	json_uint(w, r->data_segs);
	write_pair(w, "retransmissions", o->retransmissions,
		   r->retransmissions);
	write_pair(w, "keepalives", o->keepalives, r->keepalives);
}

/* write_ms - a duration in ns as milliseconds with six decimals. */
static void write_ms(struct json_writer *w, const char *key, int64_t ns)
{
	json_key(w, key);
	json_fixed(w, ns, 6);
}

/* write_stats - {"count", "mean", ...} in ms, or null for an empty series;
 * the range and deviation only where asked for. */
static void write_stats(struct json_writer *w, const char *key,
			const struct hb_stats *s, bool spread)
{
	json_key(w, key);
	if (s->count == 0) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "count");
	json_uint(w, s->count);
	write_ms(w, "mean", s->mean);
	if (spread)
		write_ms(w, "min", s->min);
	write_ms(w, "max", s->max);
	if (spread)
		write_ms(w, "stddev", s->stddev);
	json_end_object(w);
}

/* write_hb_event - one request: key, times, delay (null if unanswered). */
static void write_hb_event(struct json_writer *w, const struct analysis *a,
			   const struct tcp_conn *c,
			   const struct stream *const streams[2],
			   const struct hb_summary *s, size_t i)
{
	size_t n;
	const uint8_t *key = hb_key(&c->hb, i, streams, &n);
	size_t r = s->reply_of[i];
	int64_t sent = c->hb.msgs[i].ts;
	json_begin_object(w);
	json_key(w, "key");
	json_bytes(w, key, n);
	write_seconds(w, "request", sent - a->first_ts);
	if (r == HB_NONE) {
		json_key(w, "reply");
		json_null(w);
		json_key(w, "delay_ms");
		json_null(w);
	} else {
		write_seconds(w, "reply", c->hb.msgs[r].ts - a->first_ts);
		write_ms(w, "delay_ms", c->hb.msgs[r].ts - sent);
	}
	json_end_object(w);
}

/* write_hb_events - the requester's requests in order, HB_EVENTS_MAX at most. */
static void write_hb_events(struct json_writer *w, const struct analysis *a,
			    const struct tcp_conn *c,
			    const struct stream *const streams[2],
			    const struct hb_summary *s)
{
	size_t listed = 0;
	bool truncated = false;
	json_key(w, "events");
	json_begin_array(w);
	for (size_t i = 0; i < c->hb.count; i++) {
		const struct hb_message *m = &c->hb.msgs[i];
		if (m->kind != HB_REQUEST || m->dir != s->requester)
			continue;
		if (listed++ == HB_EVENTS_MAX) {
			truncated = true;
			break;
		}
		write_hb_event(w, a, c, streams, s, i);
	}
	json_end_array(w);
	json_key(w, "events_truncated");
	json_bool(w, truncated);
}

/* write_heartbeats - the "heartbeats" and "messages" members; 0 or -1. */
static int write_heartbeats(struct json_writer *w, const struct analysis *a,
			    const struct tcp_conn *c)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	struct hb_summary s;
	if (hb_summarize(&c->hb, streams, &s) == -1)
		return -1;
	json_key(w, "heartbeats");
	json_begin_object(w);
	json_key(w, "requester");
	if (s.requester == TCP_NOBODY)
		json_null(w);
	else
		json_string(w, tcp_dir_name((enum tcp_dir)s.requester));
	json_key(w, "requests");
	json_uint(w, s.requests);
	json_key(w, "replies");
	json_uint(w, s.replies);
	json_key(w, "pairs");
	json_uint(w, s.pairs);
	write_hb_events(w, a, c, streams, &s);
	json_key(w, "unanswered");
	json_uint(w, s.unanswered);
	json_key(w, "max_consecutive_unanswered");
	json_uint(w, s.max_unanswered_run);
	write_stats(w, "interval_ms", &s.interval, true);
	write_stats(w, "reply_delay_ms", &s.delay, false);
	json_end_object(w);
	write_pair(w, "messages", c->hb.side[TCP_ORIG].messages,
		   c->hb.side[TCP_RESP].messages);
	hb_summary_free(&s);
	return 0;
}

/* write_tcp_conn - one element of the "tcp" array; 0, or -1 with errno. */
static int write_tcp_conn(struct json_writer *w, const struct analysis *a,
			  const struct tcp_conn *c)
{
	json_begin_object(w);
	json_key(w, "id");
	json_uint(w, c->id);
	write_endpoint(w, "orig", &c->side[TCP_ORIG].ep);
	write_endpoint(w, "resp", &c->side[TCP_RESP].ep);
	write_seconds(w, "start", c->first_ts - a->first_ts);
	write_seconds(w, "end", c->last_ts - a->first_ts);
	write_seconds(w, "duration", c->last_ts - c->first_ts);
	json_key(w, "conn_state");
	json_string(w, tcp_conn_state(c));
	json_key(w, "history");
	json_string(w, c->zeek.history);
	write_handshake(w, &c->handshake);
	write_counts(w, c);
	write_teardown(w, a, c);
	write_closings(w, a, c);
	json_key(w, "partial_start");
	json_bool(w, c->partial_start);
	json_key(w, "partial_end");
	json_bool(w, tcp_partial_end(c));
	json_key(w, "tcp_completeness");
	json_uint(w, c->completeness);
	write_preview(w, "orig_payload_preview", &c->side[TCP_ORIG].stream);
	write_preview(w, "resp_payload_preview", &c->side[TCP_RESP].stream);
	if (a->tcp.opt.hb != NULL && write_heartbeats(w, a, c) == -1)
		return -1;
	json_end_object(w);
	return 0;
}

/* write_udp_flow - one element of the "udp" array. */
static void write_udp_flow(struct json_writer *w, const struct analysis *a,
			   const struct udp_flow *f)
{
	const struct udp_side *o = &f->side[UDP_ORIG], *r = &f->side[UDP_RESP];
	json_begin_object(w);
	json_key(w, "id");
	json_uint(w, f->id);
	write_endpoint(w, "orig", &o->ep);
	write_endpoint(w, "resp", &r->ep);
	write_seconds(w, "start", f->first_ts - a->first_ts);
	write_seconds(w, "end", f->last_ts - a->first_ts);
	write_seconds(w, "duration", f->last_ts - f->first_ts);
	json_key(w, "orig_dgrams");
	json_uint(w, o->dgrams);
	json_key(w, "resp_dgrams");
	json_uint(w, r->dgrams);
	json_key(w, "orig_bad_checksums");
	json_uint(w, o->bad_checksums);
	json_key(w, "resp_bad_checksums");
	json_uint(w, r->bad_checksums);
	json_key(w, "orig_bytes");
	json_uint(w, o->bytes);
	json_key(w, "resp_bytes");
	json_uint(w, r->bytes);
	json_key(w, "pairs");
	json_uint(w, f->pairs);
	json_key(w, "unanswered");
	json_uint(w, udp_unanswered(f));
	json_key(w, "orig_payload_preview");
	json_bytes(w, o->preview, o->preview_len);
	json_key(w, "resp_payload_preview");
	json_bytes(w, r->preview, r->preview_len);
	json_end_object(w);
}

/* emit_warning - a warning_fn that writes each warning as a JSON string. */
static void emit_warning(void *ctx, const char *message)
{
	json_string(ctx, message);
}

/* write_skipped - packets counted but not tracked, by reason, and what
 * each tunnel gave (decoded through it) or hid (skipped). */
static void write_skipped(struct json_writer *w, const struct analysis *a)
{
	const struct analysis_skipped *s = &a->skipped;
	json_key(w, "skipped");
	json_begin_object(w);
	json_key(w, "not_ip");
	json_uint(w, s->not_ip);
	json_key(w, "other_proto");
	json_uint(w, s->other_proto);
	json_key(w, "fragments");
	json_uint(w, s->fragments);
	json_key(w, "truncated");
	json_uint(w, s->truncated);
	json_key(w, "malformed");
	json_uint(w, s->malformed);
	json_end_object(w);
	json_key(w, "checksums");
	json_begin_object(w);
	json_key(w, "checked");
	json_bool(w, a->check_checksums);
	json_key(w, "bad_ip");
	json_uint(w, s->bad_ip_checksum);
	json_key(w, "bad_tcp");
	json_uint(w, a->bad_tcp_checksums);
	json_key(w, "bad_udp");
	json_uint(w, a->bad_udp_checksums);
	json_end_object(w);
	json_key(w, "tunnels");
	json_begin_object(w);
	for (unsigned k = TUNNEL_NONE + 1; k < TUNNEL_KINDS; k++) {
		json_key(w, decode_tunnel_key(k));
		json_begin_object(w);
		json_key(w, "decoded");
		json_uint(w, a->tunnelled[k]);
		json_key(w, "skipped");
		json_uint(w, s->tunnel_other[k]);
		json_end_object(w);
	}
	json_end_object(w);
}

int report_json(const struct analysis *a, FILE *out)
{
	struct json_writer w;
	json_init(&w, out);
	json_begin_object(&w);
	json_key(&w, "file");
	json_string(&w, a->file ? a->file : "");
	json_key(&w, "linktype");
	json_string(&w, analysis_linktype_name(a));
	json_key(&w, "packets");
	json_uint(&w, a->packets);
	json_key(&w, "truncated");
	json_bool(&w, a->truncated);
	json_key(&w, "warnings");
	json_begin_array(&w);
	(void)analysis_warnings(a, emit_warning, &w);
	json_end_array(&w);
	write_skipped(&w, a);
	write_marks(&w, a);
	json_key(&w, "tcp");
	json_begin_array(&w);
	for (size_t i = 0; i < a->tcp.count; i++)
		if (write_tcp_conn(&w, a, &a->tcp.conns[i]) == -1)
			return -1;
	json_end_array(&w);
	json_key(&w, "udp");
	json_begin_array(&w);
	for (size_t i = 0; i < a->udp.count; i++)
		write_udp_flow(&w, a, &a->udp.flows[i]);
	json_end_array(&w);
	json_end_object(&w);
	return json_finish(&w);
}
