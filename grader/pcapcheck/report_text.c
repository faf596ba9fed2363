/* report_text.c - a summary block per connection and flow, for a TA. */
#include "report.h"

#include <inttypes.h>

#include "textfmt.h"

#define TEXT_PREVIEW 40

/* emit_warning - a warning_fn that prints each warning as a list item. */
static void emit_warning(void *ctx, const char *message)
{
	fprintf(ctx, "  - %s\n", message);
}

/* ignore_warning - a warning_fn that only lets analysis_warnings count. */
static void ignore_warning(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
}

/* print_header - the file, its link type, packet count and span. */
static void print_header(const struct analysis *a, FILE *out)
{
	fprintf(out, "capture   %s\n", a->file ? a->file : "");
	fprintf(out,
		"link      %s, %" PRIu64
		" packet%s, %zu TCP connection%s, %zu UDP flow%s\n",
		analysis_linktype_name(a), a->packets, text_plural(a->packets),
		a->tcp.count, text_plural(a->tcp.count), a->udp.count,
		text_plural(a->udp.count));
	if (a->truncated)
		fputs("          (file truncated: see warnings)\n", out);
	for (size_t i = 0; a->marks != NULL && i < a->marks->n; i++) {
		fputs(i == 0 ? "events    " : "          ", out);
		text_seconds(out, a->marks->v[i].ts - a->first_ts);
		fprintf(out, " s  %s\n", a->marks->v[i].label);
	}
	if (analysis_warnings(a, ignore_warning, NULL) == 0) {
		fputs("warnings  none\n", out);
		return;
	}
	fputs("warnings\n", out);
	(void)analysis_warnings(a, emit_warning, out);
}

/* print_closings_after_marks - one line per side whose first FIN or RST
 * came after one of the grader's events: not the program's own close, as
 * far as the capture can tell. */
static void print_closings_after_marks(const struct analysis *a,
				       const struct tcp_conn *c, FILE *out)
{
	struct tcp_closing cl[TCP_MAX_CLOSINGS];
	size_t n = tcp_closings(c, cl);
	bool said[2] = {false, false};
	for (size_t i = 0; i < n; i++) {
		const struct mark *m = marks_last_before(a->marks, cl[i].ts);
		if (m == NULL || said[cl[i].from])
			continue;
		said[cl[i].from] = true;
		fprintf(out, "  closed      %s's first %s at ", tcp_dir_name(cl[i].from),
			cl[i].flag == TCP_RST ? "RST" : "FIN");
		text_seconds(out, cl[i].ts - a->first_ts);
		fprintf(out, " s, after the event '%s'\n", m->label);
	}
}

/* print_title - "TCP 1  a:p → b:p" */
static void print_title(FILE *out, const char *proto, unsigned id,
			const struct flow_endpoint *orig,
			const struct flow_endpoint *resp)
{
	char o[FLOW_ENDPOINT_STRLEN], r[FLOW_ENDPOINT_STRLEN];
	fprintf(out, "\n%s %u  %s → %s\n", proto, id,
		flow_endpoint_format(orig, o, sizeof o),
		flow_endpoint_format(resp, r, sizeof r));
}

/* print_span - start, end and duration relative to the first packet. */
static void print_span(FILE *out, int64_t first, int64_t start, int64_t end)
{
	fputs("  time        ", out);
	text_seconds(out, start - first);
	fputs(" → ", out);
	text_seconds(out, end - first);
	fputs(" s (", out);
	text_seconds(out, end - start);
	fputs(" s)\n", out);
}

/* print_handshake - which handshake segments were seen, and the initial RTT. */
static void print_handshake(FILE *out, const struct tcp_handshake *hs)
{
	fputs("  handshake   ", out);
	if (hs->syn && hs->synack && hs->ack) {
		fprintf(out, "complete, initial RTT %.3f ms\n",
			(double)(hs->ack_ts - hs->syn_ts) / 1e6);
		return;
	}
	if (!hs->syn && !hs->synack) {
		fputs("not seen\n", out);
		return;
	}
	fprintf(out, "incomplete: SYN %s, SYN-ACK %s, ACK %s\n",
		hs->syn ? "seen" : "missing", hs->synack ? "seen" : "missing",
		hs->ack ? "seen" : "missing");
}

/* print_direction - packets, bytes, data segments one way; a preview. */
static void print_direction(FILE *out, const char *label,
			    const struct tcp_side *s, uint64_t bytes)
{
	size_t n;
	const uint8_t *p = stream_bytes(&s->stream, &n);
	fprintf(out,
		"  %s %" PRIu64 " packet%s, %" PRIu64 " byte%s in %" PRIu64
		" data segment%s",
		label, s->pkts, text_plural(s->pkts), bytes, text_plural(bytes),
		s->data_segs, text_plural(s->data_segs));
	if (n > 0) {
		fputs("  ", out);
		text_preview(out, p, n, TEXT_PREVIEW);
	}
	fputc('\n', out);
}

/* print_teardown - how it ended, and whether the capture saw it all. */
static void print_teardown(FILE *out, const struct tcp_conn *c)
{
	enum tcp_dir closer = tcp_first_closer(c);
	uint64_t fins =
		c->side[TCP_ORIG].fin_packets + c->side[TCP_RESP].fin_packets;
	fprintf(out, "  teardown    %s", tcp_teardown_name(tcp_teardown(c)));
	if (closer != TCP_NOBODY)
		fprintf(out, ", %s closed first", tcp_dir_name(closer));
	fprintf(out, " (%" PRIu64 " FIN packet%s)\n", fins, text_plural(fins));
	if (c->partial_start || tcp_partial_end(c))
		fprintf(out, "  capture     %s%s%s\n",
			c->partial_start ? "started mid-connection" : "",
			c->partial_start && tcp_partial_end(c) ? "; " : "",
			tcp_partial_end(c) ? "ended before the close" : "");
}

/* print_ms - a duration in ns as ms: 3 decimals below 10 ms, else 1. */
static void print_ms(FILE *out, int64_t ns)
{
	double ms = (double)ns / 1e6;
	fprintf(out, "%.*f", ms < 10 && ms > -10 ? 3 : 1, ms);
}

/* print_hb_timing - ", interval M ms (MIN–MAX, jitter SD), reply delay ..." */
static void print_hb_timing(FILE *out, const struct hb_summary *s)
{
	if (s->interval.count > 0) {
		fputs(", interval ", out);
		print_ms(out, s->interval.mean);
		fputs(" ms (", out);
		print_ms(out, s->interval.min);
		fputs("–", out);
		print_ms(out, s->interval.max);
		fputs(", jitter ", out);
		print_ms(out, s->interval.stddev);
		fputs(")", out);
	}
	if (s->delay.count > 0) {
		fputs(", reply delay max ", out);
		print_ms(out, s->delay.max);
		fputs(" ms", out);
	}
}

/* print_heartbeats - one line: requests, answers, misses, timing; 0 or -1. */
static int print_heartbeats(FILE *out, const struct tcp_conn *c)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	struct hb_summary s;
	if (hb_summarize(&c->hb, streams, &s) == -1)
		return -1;
	fputs("  heartbeats  ", out);
	if (s.requests == 0) {
		fprintf(out,
			"none (%" PRIu64 " replies; messages %" PRIu64
			"/%" PRIu64 " orig/resp)\n",
			s.replies, c->hb.side[TCP_ORIG].messages,
			c->hb.side[TCP_RESP].messages);
		hb_summary_free(&s);
		return 0;
	}
	fprintf(out, "%" PRIu64 " request%s by %s, %" PRIu64 " answered",
		s.requests, text_plural(s.requests),
		tcp_dir_name((enum tcp_dir)s.requester), s.pairs);
	if (s.unanswered > 0)
		fprintf(out, ", %" PRIu64 " unanswered (%" PRIu64 " in a row)",
			s.unanswered, s.max_unanswered_run);
	print_hb_timing(out, &s);
	fputc('\n', out);
	hb_summary_free(&s);
	return 0;
}

/* print_tcp_conn - one block per TCP connection; 0, or -1 with errno. */
static int print_tcp_conn(const struct analysis *a, const struct tcp_conn *c,
			  FILE *out)
{
	const struct tcp_side *o = &c->side[TCP_ORIG], *r = &c->side[TCP_RESP];
	print_title(out, "TCP", c->id, &o->ep, &r->ep);
	fprintf(out, "  state       %s  (history %s, completeness %u)\n",
		tcp_conn_state(c), c->zeek.history, c->completeness);
	print_span(out, a->first_ts, c->first_ts, c->last_ts);
	print_handshake(out, &c->handshake);
	print_direction(out, "orig → resp", o, tcp_bytes(c, TCP_ORIG));
	print_direction(out, "resp → orig", r, tcp_bytes(c, TCP_RESP));
	fprintf(out,
		"  trouble     retransmissions %" PRIu64 "/%" PRIu64
		", keep-alives %" PRIu64 "/%" PRIu64 " (orig/resp)\n",
		o->retransmissions, r->retransmissions, o->keepalives,
		r->keepalives);
	print_teardown(out, c);
	print_closings_after_marks(a, c, out);
	if (a->tcp.opt.hb != NULL)
		return print_heartbeats(out, c);
	return 0;
}

/* print_udp_flow - one block per UDP flow. */
static void print_udp_flow(const struct analysis *a, const struct udp_flow *f,
			   FILE *out)
{
	print_title(out, "UDP", f->id, &f->side[UDP_ORIG].ep,
		    &f->side[UDP_RESP].ep);
	print_span(out, a->first_ts, f->first_ts, f->last_ts);
	for (int dir = UDP_ORIG; dir <= UDP_RESP; dir++) {
		const struct udp_side *s = &f->side[dir];
		fprintf(out, "  %s %" PRIu64 " datagram%s, %" PRIu64 " byte%s",
			dir == UDP_ORIG ? "orig → resp" : "resp → orig",
			s->dgrams, text_plural(s->dgrams), s->bytes,
			text_plural(s->bytes));
		if (s->preview_len > 0) {
			fputs("  first ", out);
			text_preview(out, s->preview, s->preview_len,
				     TEXT_PREVIEW);
		}
		fputc('\n', out);
	}
	fprintf(out,
		"  exchanges   %" PRIu64 " answered, %" PRIu64 " unanswered\n",
		f->pairs, udp_unanswered(f));
}

int report_text(const struct analysis *a, FILE *out)
{
	print_header(a, out);
	for (size_t i = 0; i < a->tcp.count; i++)
		if (print_tcp_conn(a, &a->tcp.conns[i], out) == -1)
			return -1;
	for (size_t i = 0; i < a->udp.count; i++)
		print_udp_flow(a, &a->udp.flows[i], out);
	if (fflush(out) == EOF || ferror(out))
		return -1;
	return 0;
}
