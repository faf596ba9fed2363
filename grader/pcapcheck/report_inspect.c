/* report_inspect.c - a Wireshark-like timeline per connection, for people. */
#include "report.h"

#include <inttypes.h>

#include "textfmt.h"

#define EVENT_PREVIEW 20
#define HB_MARK_KEY   32 /* key bytes shown in a heartbeat mark */

/* print_time - the time column: seconds since the first packet. */
static void print_time(FILE *out, int64_t ns)
{
	char buf[32];
	text_seconds_str(ns, buf, sizeof buf);
	fprintf(out, "%12s  ", buf);
}

/* print_endpoints - "a:p → b:p" in the direction a segment travelled. */
static void print_endpoints(FILE *out, const struct flow_endpoint *from,
			    const struct flow_endpoint *to)
{
	char f[FLOW_ENDPOINT_STRLEN], t[FLOW_ENDPOINT_STRLEN];
	fprintf(out, "%s → %s", flow_endpoint_format(from, f, sizeof f),
		flow_endpoint_format(to, t, sizeof t));
}

/* print_notes - the bracketed notes of a segment, "[TCP Retransmission] ". */
static void print_notes(FILE *out, unsigned notes)
{
	for (unsigned bit = 1; bit <= NOTE_OUT_OF_ORDER; bit <<= 1)
		if (notes & bit)
			fprintf(out, "[%s] ", tcp_note_text(bit));
}

/* print_key - a key as printable ASCII, other bytes as \xHH, cut at max. */
static void print_key(FILE *out, const uint8_t *p, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], out);
		else
			fprintf(out, "\\x%02x", p[i]);
	}
	if (n > max)
		fputs("...", out);
}

/* print_hb_marks - " [HEARTBEAT k]" / " [HEARTBEAT REPLY k]" for each
 * message segment seg completed, from *next on; advances *next past them. */
static void print_hb_marks(FILE *out, const struct tcp_conn *c, size_t seg,
			   size_t *next)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	for (; *next < c->hb.count && c->hb.msgs[*next].segment <= seg;
	     (*next)++) {
		const struct hb_message *m = &c->hb.msgs[*next];
		if (m->segment != seg)
			continue;
		size_t n;
		const uint8_t *key = hb_key(&c->hb, *next, streams, &n);
		fputs(m->kind == HB_REQUEST ? "  [HEARTBEAT " : "  [HEARTBEAT REPLY ",
		      out);
		print_key(out, key, n, HB_MARK_KEY);
		fputc(']', out);
	}
}

/* print_tcp_event - one line per segment, as Wireshark's Info column. */
static void print_tcp_event(FILE *out, const struct analysis *a,
			    const struct tcp_conn *c, size_t seg, size_t *next_hb)
{
	const struct tcp_event *e = &c->events[seg];
	const struct tcp_side *from = &c->side[e->dir], *to = &c->side[!e->dir];
	char flags[64];
	print_time(out, e->ts - a->first_ts);
	print_endpoints(out, &from->ep, &to->ep);
	fputs("  ", out);
	print_notes(out, e->notes);
	fprintf(out, "[%s] Seq=%" PRId64,
		text_tcp_flags(e->flags, flags, sizeof flags), e->rel_seq);
	if (e->flags & TCP_ACK)
		fprintf(out, " Ack=%" PRId64, e->rel_ack);
	fprintf(out, " Win=%" PRIu32 " Len=%" PRIu32, e->window, e->len);
	if (e->preview_len > 0) {
		fputs("  ", out);
		text_preview(out, e->preview, e->preview_len, EVENT_PREVIEW);
		/* text_preview marks its own cut; mark a payload longer than kept. */
		if (e->len > e->preview_len && e->preview_len <= EVENT_PREVIEW)
			fputs("...", out);
	}
	print_hb_marks(out, c, seg, next_hb);
	fputc('\n', out);
}

/* print_tcp_verdict - the lines that close a connection's timeline. */
static void print_tcp_verdict(FILE *out, const struct tcp_conn *c)
{
	const struct tcp_side *o = &c->side[TCP_ORIG], *r = &c->side[TCP_RESP];
	enum tcp_dir closer = tcp_first_closer(c);
	fprintf(out, "  => %s, history %s, teardown %s", tcp_conn_state(c),
		c->zeek.history, tcp_teardown_name(tcp_teardown(c)));
	if (closer != TCP_NOBODY)
		fprintf(out, " (%s closed first)", tcp_dir_name(closer));
	fputc('\n', out);
	fprintf(out,
		"  => orig sent %" PRIu64 " byte%s in %" PRIu64
		" data segment%s, resp %" PRIu64 " byte%s in %" PRIu64
		"; retransmissions %" PRIu64 "/%" PRIu64
		", keep-alives %" PRIu64 "/%" PRIu64 "\n",
		tcp_bytes(c, TCP_ORIG), text_plural(tcp_bytes(c, TCP_ORIG)),
		o->data_segs, text_plural(o->data_segs), tcp_bytes(c, TCP_RESP),
		text_plural(tcp_bytes(c, TCP_RESP)), r->data_segs,
		o->retransmissions, r->retransmissions, o->keepalives,
		r->keepalives);
	if (c->partial_start || tcp_partial_end(c))
		fprintf(out, "  => capture %s%s%s\n",
			c->partial_start ? "started mid-connection" : "",
			c->partial_start && tcp_partial_end(c) ? ", " : "",
			tcp_partial_end(c) ? "ended before the close" : "");
}

/* print_marks_until - the grader's events before ts not yet shown (from
 * *next on), each a line of its own at its time. */
static void print_marks_until(FILE *out, const struct analysis *a, int64_t ts,
			      size_t *next)
{
	for (; a->marks != NULL && *next < a->marks->n &&
	       a->marks->v[*next].ts <= ts;
	     ++*next) {
		print_time(out, a->marks->v[*next].ts - a->first_ts);
		fprintf(out, "---- event: %s ----\n", a->marks->v[*next].label);
	}
}

/* print_close_marks - after the verdict: which side's first FIN or RST
 * came after an event. */
static void print_close_marks(FILE *out, const struct analysis *a,
			      const struct tcp_conn *c)
{
	for (int d = TCP_ORIG; d <= TCP_RESP; d++) {
		int64_t ts;
		const struct mark *m =
			tcp_first_close_of(c, (enum tcp_dir)d, &ts)
				? marks_last_before(a->marks, ts)
				: NULL;
		if (m != NULL)
			fprintf(out, "  => %s closed only after the event '%s'\n",
				tcp_dir_name((enum tcp_dir)d), m->label);
	}
}

/* print_tcp_conn - header, one line per segment (and per event between
 * them), verdict. */
static void print_tcp_conn(FILE *out, const struct analysis *a,
			   const struct tcp_conn *c)
{
	fprintf(out, "TCP %u  ", c->id);
	print_endpoints(out, &c->side[TCP_ORIG].ep, &c->side[TCP_RESP].ep);
	fprintf(out, "  (%zu segment%s)\n", c->nevents,
		text_plural(c->nevents));
	size_t next_hb = 0; /* messages are in segment order */
	size_t next_mark = 0;
	/* Events before the connection began are not part of its story. */
	while (a->marks != NULL && next_mark < a->marks->n &&
	       c->nevents > 0 && a->marks->v[next_mark].ts < c->events[0].ts)
		next_mark++;
	for (size_t i = 0; i < c->nevents; i++) {
		print_marks_until(out, a, c->events[i].ts, &next_mark);
		print_tcp_event(out, a, c, i, &next_hb);
	}
	print_marks_until(out, a, c->last_ts, &next_mark);
	print_tcp_verdict(out, c);
	print_close_marks(out, a, c);
	fputc('\n', out);
}

/* print_udp_flow - header, one line per datagram, request/response summary. */
static void print_udp_flow(FILE *out, const struct analysis *a,
			   const struct udp_flow *f)
{
	fprintf(out, "UDP %u  ", f->id);
	print_endpoints(out, &f->side[UDP_ORIG].ep, &f->side[UDP_RESP].ep);
	fprintf(out, "  (%zu datagram%s)\n", f->nevents,
		text_plural(f->nevents));
	for (size_t i = 0; i < f->nevents; i++) {
		const struct udp_event *e = &f->events[i];
		print_time(out, e->ts - a->first_ts);
		print_endpoints(out, &f->side[e->dir].ep, &f->side[!e->dir].ep);
		fprintf(out, "  UDP Len=%" PRIu32, e->len);
		if (e->preview_len > 0) {
			fputs("  ", out);
			text_preview(out, e->preview, e->preview_len,
				     EVENT_PREVIEW);
		}
		fputc('\n', out);
	}
	fprintf(out,
		"  => %" PRIu64 " request%s, %" PRIu64 " answered, %" PRIu64
		" unanswered\n\n",
		f->side[UDP_ORIG].dgrams, text_plural(f->side[UDP_ORIG].dgrams),
		f->pairs, udp_unanswered(f));
}

/* emit_warning - a warning_fn that prints each warning on its own line. */
static void emit_warning(void *ctx, const char *message)
{
	fprintf(ctx, "warning: %s\n", message);
}

int report_inspect(const struct analysis *a, FILE *out)
{
	fprintf(out, "%s: %s, %" PRIu64 " packet%s%s\n", a->file ? a->file : "",
		analysis_linktype_name(a), a->packets, text_plural(a->packets),
		a->truncated ? " (file truncated)" : "");
	(void)analysis_warnings(a, emit_warning, out);
	fputc('\n', out);
	for (size_t i = 0; i < a->tcp.count; i++)
		print_tcp_conn(out, a, &a->tcp.conns[i]);
	for (size_t i = 0; i < a->udp.count; i++)
		print_udp_flow(out, a, &a->udp.flows[i]);
	if (fflush(out) == EOF || ferror(out))
		return -1;
	return 0;
}
