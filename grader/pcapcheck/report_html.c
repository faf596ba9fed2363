/* report_html.c - the HTML page of a capture, for TAs (see report_html.h).
 *
 * One pass over the analysis writes the page straight to a stream: no DOM,
 * no buffering. Layout and colours live in one CSS block; the ladders use
 * class names only, so the legend and the arrows cannot disagree.
 */
#include "report_html.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heartbeat.h"
#include "json.h"
#include "textfmt.h"

/* Payload bytes shown beside an arrow. */
#define ARROW_PREVIEW TCP_EVENT_PREVIEW
/* Bytes of each direction's stream shown in a connection's summary. */
#define SUMMARY_PREVIEW 64
/* A pause longer than this (ns) is marked in the time column. */
#define PAUSE_NS 1000000000LL

/* Ladder geometry, in SVG user units (CSS pixels). */
enum {
	LADDER_WIDTH = 980,
	LADDER_TIME_X = 96, /* right edge of the time column */
	LADDER_LEFT = 210,  /* the client's (originator's) lifeline */
	LADDER_RIGHT = 880, /* the server's (responder's) lifeline */
	LADDER_HOST = 180,  /* width of the box over a lifeline */
	LADDER_TOP = 70,    /* y of the first arrow */
	LADDER_ROW = 30,    /* between two arrows */
	LADDER_SLOPE = 10,  /* an arrow drops this much: time goes down */
	LADDER_HEAD = 9,    /* arrowhead length */
	LADDER_BOTTOM = 24  /* below the last arrow */
};

/* What an arrow is drawn as; the order is the legend's. */
enum seg_kind {
	KIND_HANDSHAKE,
	KIND_DATA,
	KIND_ACK,
	KIND_FIN,
	KIND_RST,
	KIND_REXMIT,
	KIND_KEEPALIVE,
	KIND_HB_REQ,
	KIND_HB_REP,
	KIND_COUNT
};

static const struct {
	const char *css, *label;
} kinds[KIND_COUNT] = {
	[KIND_HANDSHAKE] = {"hs", "handshake (SYN, SYN-ACK, ACK)"},
	[KIND_DATA] = {"data", "payload"},
	[KIND_ACK] = {"ack", "pure ACK"},
	[KIND_FIN] = {"fin", "FIN (teardown)"},
	[KIND_RST] = {"rst", "RST (reset)"},
	[KIND_REXMIT] = {"rexmit", "retransmission"},
	[KIND_KEEPALIVE] = {"keepalive", "TCP keep-alive (and its ACK)"},
	[KIND_HB_REQ] = {"hb-req", "heartbeat request"},
	[KIND_HB_REP] = {"hb-rep", "heartbeat reply"},
};

/* Everything the writers need; owned by report_html's caller. */
struct page {
	FILE *out;
	const struct analysis *a;
	const struct html_options *opt;
	const struct hb_matcher *hb; /* the analysis's, or NULL */
};

static const char page_css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"margin:0;color:#1f2328;background:#f6f8fa}\n"
	"main{max-width:1060px;margin:0 auto;padding:20px 24px 48px}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0}\n"
	"code,.mono,td.mono{font-family:ui-monospace,'DejaVu Sans Mono',"
	"Menlo,monospace;font-size:12.5px}\n"
	"section.card,header.card,details.card{background:#fff;border:1px "
	"solid #d0d7de;border-radius:8px;padding:14px 18px;margin:14px 0}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;"
	"gap:2px 14px;margin:8px 0 0}dl.facts dt{color:#59636e}"
	"dl.facts dd{margin:0}\n"
	"ul.warn{margin:4px 0 0;padding-left:20px;color:#9a6700}\n"
	"table{border-collapse:collapse;width:100%}"
	"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
	"#eaeef2;vertical-align:top}th{font-size:12px;color:#59636e;"
	"font-weight:600}\n"
	"table.conns td{white-space:nowrap}table.conns tr:hover td{"
	"background:#f6f8fa}\n"
	".badge{display:inline-block;padding:0 7px;border-radius:10px;"
	"font-weight:600;font-size:12px;color:#fff;background:#9a6700}\n"
	".badge.good{background:#1a7f37}.badge.bad{background:#cf222e}"
	".badge.open{background:#0969da}\n"
	"details.card summary{font-weight:600;cursor:pointer}\n"
	".help{display:grid;grid-template-columns:1fr 1fr;gap:0 24px}"
	".help table td:first-child{font-family:ui-monospace,monospace;"
	"font-weight:600;width:5.5em}\n"
	".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0;"
	"font-size:12.5px}.legend span{white-space:nowrap}"
	".legend svg{vertical-align:middle;margin-right:4px}\n"
	".verdict{margin:6px 0 8px}.verdict span{margin-right:14px}\n"
	".ladder-wrap{overflow-x:auto}svg.ladder{display:block;"
	"background:#fff}\n"
	"svg text{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,"
	"monospace;font-size:11.5px;fill:#1f2328}\n"
	".life{stroke:#8c959f;stroke-width:1.5;stroke-dasharray:4 4}\n"
	".host rect{fill:#ddf4ff;stroke:#54aeff}.host text{font-size:12px;"
	"text-anchor:middle}.host .role{font-weight:700}\n"
	".t{fill:#59636e;text-anchor:end}.t.pause{fill:#9a6700;"
	"font-weight:700}\n"
	".seg line{stroke-width:1.6}.seg .pl{fill:#0a3069}"
	".seg .note{fill:#8250df;font-weight:600}\n"
	".hs line{stroke:#0969da}.hs polygon{fill:#0969da}"
	".hs .lbl{fill:#0550ae}\n"
	".data line{stroke:#24292f}.data polygon{fill:#24292f}\n"
	".ack line{stroke:#8c959f}.ack polygon{fill:#8c959f}"
	".ack .lbl{fill:#59636e}\n"
	".fin line{stroke:#bc4c00;stroke-width:2.2}.fin polygon{fill:#bc4c00}"
	".fin .lbl{fill:#953800;font-weight:600}\n"
	".rst line{stroke:#cf222e;stroke-width:2.8}.rst polygon{fill:#cf222e}"
	".rst .lbl{fill:#a40e26;font-weight:700}\n"
	".rexmit line{stroke:#8250df;stroke-dasharray:6 3}"
	".rexmit polygon{fill:#8250df}\n"
	".keepalive line{stroke:#0a7d8c;stroke-dasharray:2 3}"
	".keepalive polygon{fill:#0a7d8c}\n"
	".hb-req line{stroke:#1a7f37;stroke-width:2.2}"
	".hb-req polygon{fill:#1a7f37}.hb-req .lbl{fill:#116329}\n"
	".hb-rep line{stroke:#4ac26b;stroke-width:2.2}"
	".hb-rep polygon{fill:#4ac26b}.hb-rep .lbl{fill:#116329}\n"
	".band{fill:#f6f8fa}.band.hs{fill:#ddf4ff;opacity:.6}"
	".band.end{fill:#fff1e5;opacity:.7}\n"
	"p.omitted{color:#9a6700;font-weight:600}\n"
	".mark line{stroke:#9a6700;stroke-width:1.5;stroke-dasharray:8 4}"
	".mark text{fill:#9a6700;font-weight:700}\n"
	".after-mark{color:#9a6700;font-weight:600}\n"
	"a{color:#0969da}\n";

/* put_code - one byte as a visible escape ("\n", "\x01"). */
static void put_code(FILE *out, uint8_t c)
{
	switch (c) {
	case '\n':
		fputs("\\n", out);
		break;
	case '\r':
		fputs("\\r", out);
		break;
	case '\t':
		fputs("\\t", out);
		break;
	default:
		fprintf(out, "\\x%02x", (unsigned)c);
	}
}

/* code_point - the character of the valid K-byte UTF-8 sequence at p. */
static uint32_t code_point(const uint8_t *p, size_t k)
{
	static const uint8_t lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = p[0] & lead_mask[k];

	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (p[i] & 0x3fu);
	return cp;
}

/* hides_text - whether showing CP as itself could hide or reorder what is
 * around it: C1 controls, the bidi embeddings, overrides, isolates and
 * marks, the line and paragraph separators and the byte-order mark. */
static bool hides_text(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* put_escaped - bytes as HTML text: markup characters as entities, valid
 * UTF-8 kept (but characters that hide or reorder text, as \uXXXX),
 * controls and stray bytes as visible escapes; in a payload a
 * backslash is doubled so that the escapes stay unambiguous. Returns how
 * many bytes were written, never more than max (a character is not cut). */
static size_t put_escaped(FILE *out, const uint8_t *p, size_t n, size_t max,
			  bool payload)
{
	size_t i = 0;
	while (i < n && i < max) {
		uint8_t c = p[i];
		size_t k = c >= 0x80 ? utf8_sequence_length(p + i, n - i) : 1;
		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&#39;", out);
		else if (c == '\\' && payload)
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f || k == 0)
			put_code(out, c);
		else if (k > 1 && hides_text(code_point(p + i, k)))
			fprintf(out, "\\u%04x", (unsigned)code_point(p + i, k));
		else
			(void)fwrite(p + i, 1, k, out);
		i += k == 0 ? 1 : k;
	}
	return i;
}

/* put_text - a NUL-terminated string as HTML text. */
static void put_text(FILE *out, const char *s)
{
	size_t n = strlen(s);
	(void)put_escaped(out, (const uint8_t *)s, n, n, false);
}

/* put_preview - a quoted, escaped payload preview, "…" when cut short. */
static void put_preview(FILE *out, const uint8_t *p, size_t n, size_t total,
			size_t max)
{
	fputs("&quot;", out);
	size_t shown = put_escaped(out, p, n, max, true);
	fputs("&quot;", out);
	if (shown < total)
		fputs("…", out);
}

/* put_endpoint - "addr:port", escaped. */
static void put_endpoint(FILE *out, const struct flow_endpoint *e)
{
	char buf[FLOW_ENDPOINT_STRLEN];
	put_text(out, flow_endpoint_format(e, buf, sizeof buf));
}

/* put_seconds - a time in ns as seconds with six decimals. */
static void put_seconds(FILE *out, int64_t ns)
{
	text_seconds(out, ns);
}

/* ---------------------------------------------------------------- header */

/* emit_warning_item - a warning_fn writing one escaped list item. */
static void emit_warning_item(void *ctx, const char *message)
{
	FILE *out = ctx;
	fputs("<li>", out);
	put_text(out, message);
	fputs("</li>\n", out);
}

/* count_warning - a warning_fn that lets analysis_warnings count. */
static void count_warning(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
}

/* write_head - doctype, title and the style sheet. */
static void write_head(const struct page *pg)
{
	FILE *out = pg->out;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>pcapcheck: ",
	      out);
	put_text(out, pg->a->file ? pg->a->file : "capture");
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
		page_css);
}

/* write_header - the capture's facts and its warnings. */
static void write_header(const struct page *pg)
{
	FILE *out = pg->out;
	const struct analysis *a = pg->a;
	size_t warnings = analysis_warnings(a, count_warning, NULL);
	fputs("<header class=\"card\">\n<h1>pcapcheck report</h1>\n"
	      "<dl class=\"facts\">\n<dt>file</dt><dd class=\"mono\">",
	      out);
	put_text(out, a->file ? a->file : "");
	fputs("</dd>\n<dt>link type</dt><dd>", out);
	put_text(out, analysis_linktype_name(a));
	fprintf(out,
		"</dd>\n<dt>packets</dt><dd>%" PRIu64 "%s, %zu TCP "
		"connection%s, %zu UDP flow%s</dd>\n",
		a->packets, a->truncated ? " (file truncated)" : "",
		a->tcp.count, text_plural(a->tcp.count), a->udp.count,
		text_plural(a->udp.count));
	for (size_t i = 0; a->marks != NULL && i < a->marks->n; i++) {
		fputs(i == 0 ? "<dt>events</dt><dd>" : "<br>", out);
		put_seconds(out, a->marks->v[i].ts - a->first_ts);
		fputs(" s: ", out);
		put_text(out, a->marks->v[i].label);
		if (i + 1 == a->marks->n)
			fputs("</dd>\n", out);
	}
	fprintf(out, "<dt>warnings</dt><dd>%s", warnings ? "" : "none");
	if (warnings) {
		fputs("<ul class=\"warn\">\n", out);
		(void)analysis_warnings(a, emit_warning_item, out);
		fputs("</ul>", out);
	}
	fputs("</dd>\n</dl>\n</header>\n", out);
}

/* ------------------------------------------------------------- legend */

/* write_swatch - a short arrow of one kind, for legends. */
static void write_swatch(FILE *out, enum seg_kind k)
{
	fprintf(out,
		"<svg width=\"34\" height=\"10\" aria-hidden=\"true\">"
		"<g class=\"%s\"><line x1=\"1\" y1=\"5\" x2=\"26\" y2=\"5\"/>"
		"<polygon points=\"33,5 25,1 25,9\"/></g></svg>",
		kinds[k].css);
}

/* write_legend - every arrow kind with its swatch; heartbeats if asked. */
static void write_legend(const struct page *pg)
{
	FILE *out = pg->out;
	fputs("<div class=\"legend\">", out);
	for (int k = 0; k < KIND_COUNT; k++) {
		if ((k == KIND_HB_REQ || k == KIND_HB_REP) && pg->hb == NULL)
			continue;
		fputs("<span>", out);
		write_swatch(out, (enum seg_kind)k);
		fprintf(out, "%s</span>", kinds[k].label);
	}
	fputs("</div>\n", out);
}

/* write_heartbeat_note - which prefixes mark heartbeats, escaped. */
static void write_heartbeat_note(const struct page *pg)
{
	const struct hb_matcher *hb = pg->hb;
	FILE *out = pg->out;
	if (hb == NULL)
		return;
	fputs("<p>Heartbeats: a message that begins with request <code>", out);
	put_preview(out, hb->request, hb->request_len, hb->request_len,
		    HB_TEXT_MAX);
	fputs("</code> or reply <code>", out);
	put_preview(out, hb->reply, hb->reply_len, hb->reply_len, HB_TEXT_MAX);
	fputs("</code>", out);
	fputs(", in messages that end with <code>", out);
	put_preview(out, hb->delim, hb->delim_len, hb->delim_len, HB_TEXT_MAX);
	fputs("</code>. A message's arrow is the segment that completed it "
	      "in the reassembled stream.</p>\n",
	      out);
}

static const char help_states[] =
	"<table><tr><th colspan=\"2\">conn_state (Zeek)</th></tr>\n"
	"<tr><td>SF</td><td>normal: handshake, then both FINs</td></tr>\n"
	"<tr><td>S0</td><td>SYN, never answered</td></tr>\n"
	"<tr><td>REJ</td><td>SYN answered by RST: nobody listening</td></tr>\n"
	"<tr><td>S1</td><td>established, not closed (yet)</td></tr>\n"
	"<tr><td>S2 / S3</td><td>established, only the client / server "
	"sent a FIN</td></tr>\n"
	"<tr><td>RSTO / RSTR</td><td>established, then the client / server "
	"reset it</td></tr>\n"
	"<tr><td>RSTOS0</td><td>SYN, then RST from the client, no "
	"SYN-ACK</td></tr>\n"
	"<tr><td>RSTRH</td><td>SYN-ACK, then RST from the server, no SYN "
	"seen</td></tr>\n"
	"<tr><td>SH / SHR</td><td>SYN (SYN-ACK) then FIN, no answer</td></tr>\n"
	"<tr><td>OTH</td><td>no SYN: the capture began mid-connection</td>"
	"</tr>\n</table>\n";

static const char help_history[] =
	"<table><tr><th colspan=\"2\">history letters: UPPER client, lower "
	"server</th></tr>\n"
	"<tr><td>S s</td><td>SYN (without ACK)</td></tr>\n"
	"<tr><td>H h</td><td>SYN-ACK</td></tr>\n"
	"<tr><td>A a</td><td>pure ACK (first one only)</td></tr>\n"
	"<tr><td>D d</td><td>payload (first segment only)</td></tr>\n"
	"<tr><td>F f</td><td>FIN</td></tr>\n"
	"<tr><td>R r</td><td>RST</td></tr>\n"
	"<tr><td>T t</td><td>retransmission (at 1, 10, 100, "
	"&hellip;)</td></tr>\n"
	"<tr><td>W w</td><td>zero window</td></tr>\n"
	"<tr><td>G g</td><td>content gap: data acked but not captured whole "
	"(lost to the capture, cut by the snaplen)</td></tr>\n"
	"<tr><td>C c</td><td>bad checksum, packet not counted (only with "
	"--check-checksums)</td></tr>\n"
	"<tr><td>I Q</td><td>odd flags (SYN+RST, SYN+FIN)</td></tr>\n"
	"<tr><td>^</td><td>roles flipped: the SYN-ACK came first, then its "
	"SYN; the letters before keep the old roles' case</td></tr>\n"
	"</table>\n";

/* write_help - the "how to read this page" note for TAs. */
static void write_help(const struct page *pg)
{
	FILE *out = pg->out;
	fputs("<details class=\"card\" open>\n<summary>How to read this "
	      "page</summary>\n"
	      "<p>Each TCP connection is drawn as a ladder: the <b>client</b> "
	      "(originator, who sent the first SYN) on the left, the "
	      "<b>server</b> (responder) on the right, one arrow per segment "
	      "and time going down. Arrows are evenly spaced by order, not by "
	      "time, so that bursts stay readable: read the time (seconds "
	      "since the first packet) on the left; an orange time follows a "
	      "pause of more than a second. Labels are Wireshark's: flags, "
	      "relative Seq/Ack, payload length and the first bytes of the "
	      "payload (<code>\\n</code> is a newline, <code>\\xHH</code> a "
	      "byte that is not text).</p>\n",
	      out);
	write_legend(pg);
	write_heartbeat_note(pg);
	fprintf(out, "<div class=\"help\">\n%s%s</div>\n</details>\n",
		help_states, help_history);
}

/* ------------------------------------------------------- summary table */

/* state_class - the badge colour of a conn_state. */
static const char *state_class(const char *state)
{
	if (strcmp(state, "SF") == 0)
		return "good";
	if (strcmp(state, "S1") == 0)
		return "open";
	if (strncmp(state, "RST", 3) == 0 || strcmp(state, "REJ") == 0)
		return "bad";
	return "warn";
}

/* write_rtt - the handshake's initial RTT in ms, or a dash. */
static void write_rtt(FILE *out, const struct tcp_handshake *hs)
{
	if (hs->syn && hs->synack && hs->ack)
		fprintf(out, "%.3f ms",
			(double)(hs->ack_ts - hs->syn_ts) / 1e6);
	else
		fputs("&mdash;", out);
}

/* write_tcp_row - one connection's line of the summary table. */
static void write_tcp_row(FILE *out, const struct tcp_conn *c)
{
	const struct tcp_side *o = &c->side[TCP_ORIG], *r = &c->side[TCP_RESP];
	const char *state = tcp_conn_state(c);
	enum tcp_dir closer = tcp_first_closer(c);
	fprintf(out,
		"<tr><td><a href=\"#tcp-%u\">TCP %u</a></td><td "
		"class=\"mono\">",
		c->id, c->id);
	put_endpoint(out, &o->ep);
	fputs(" → ", out);
	put_endpoint(out, &r->ep);
	fprintf(out, "</td><td><span class=\"badge %s\">", state_class(state));
	put_text(out, state);
	fputs("</span></td><td class=\"mono\">", out);
	put_text(out, c->zeek.history);
	fprintf(out, "</td><td>%s", tcp_teardown_name(tcp_teardown(c)));
	if (closer != TCP_NOBODY)
		fprintf(out, " (%s first)",
			closer == TCP_ORIG ? "client" : "server");
	fprintf(out,
		"</td><td>%" PRIu64 " / %" PRIu64 "</td><td>%" PRIu64
		" / %" PRIu64 "</td><td>%" PRIu64 " / %" PRIu64 "</td><td>",
		tcp_bytes(c, TCP_ORIG), tcp_bytes(c, TCP_RESP), o->pkts,
		r->pkts, o->retransmissions, r->retransmissions);
	write_rtt(out, &c->handshake);
	fputs("</td></tr>\n", out);
}

/* write_udp_row - one flow's line of the summary table. */
static void write_udp_row(FILE *out, const struct udp_flow *f)
{
	const struct udp_side *o = &f->side[UDP_ORIG], *r = &f->side[UDP_RESP];
	fprintf(out,
		"<tr><td><a href=\"#udp-%u\">UDP %u</a></td><td "
		"class=\"mono\">",
		f->id, f->id);
	put_endpoint(out, &o->ep);
	fputs(" → ", out);
	put_endpoint(out, &r->ep);
	fprintf(out,
		"</td><td>&mdash;</td><td>&mdash;</td><td>%" PRIu64
		" answered, %" PRIu64 " unanswered</td><td>%" PRIu64
		" / %" PRIu64 "</td><td>%" PRIu64 " / %" PRIu64
		"</td><td>&mdash;</td><td>&mdash;</td></tr>\n",
		f->pairs, udp_unanswered(f), o->bytes, r->bytes, o->dgrams,
		r->dgrams);
}

/* write_summary - the table of every connection and flow with its verdict. */
static void write_summary(const struct page *pg)
{
	FILE *out = pg->out;
	const struct analysis *a = pg->a;
	fputs("<section class=\"card\">\n<h2>Connections</h2>\n"
	      "<table class=\"conns\">\n<tr><th></th><th>client → server</th>"
	      "<th>state</th><th>history</th><th>teardown / exchanges</th>"
	      "<th>bytes c→s / s→c</th><th>segments</th><th>retransmissions"
	      "</th><th>handshake RTT</th></tr>\n",
	      out);
	for (size_t i = 0; i < a->tcp.count; i++)
		write_tcp_row(out, &a->tcp.conns[i]);
	for (size_t i = 0; i < a->udp.count; i++)
		write_udp_row(out, &a->udp.flows[i]);
	if (a->tcp.count + a->udp.count == 0)
		fputs("<tr><td colspan=\"9\">no TCP or UDP traffic in this "
		      "capture</td></tr>\n",
		      out);
	fputs("</table>\n</section>\n", out);
}

/* ------------------------------------------------------------- ladders */

/* One arrow: who sent it, when, what it is, and its label's parts. */
struct arrow {
	int row;
	bool from_orig;
	int64_t ts, gap; /* relative to the file; since the previous arrow */
	enum seg_kind kind;
	const uint8_t *payload;
	size_t payload_len, payload_total;
};

/* ladder_height - the SVG height for n arrows. */
static int ladder_height(size_t n)
{
	return LADDER_TOP + (int)n * LADDER_ROW + LADDER_BOTTOM;
}

/* write_host - the box over a lifeline: role and endpoint. */
static void write_host(FILE *out, int x, const char *role,
		       const struct flow_endpoint *e)
{
	fprintf(out,
		"<g class=\"host\"><rect x=\"%d\" y=\"6\" width=\"%d\" "
		"height=\"40\" rx=\"6\"/><text class=\"role\" x=\"%d\" "
		"y=\"22\">%s</text><text x=\"%d\" y=\"39\">",
		x - LADDER_HOST / 2, LADDER_HOST, x, role, x);
	put_endpoint(out, e);
	fputs("</text></g>\n", out);
}

/* ladder_begin - open the SVG: lifelines and the two hosts. */
static void ladder_begin(FILE *out, const char *proto, unsigned id, size_t n,
			 size_t total, const struct flow_endpoint *orig,
			 const struct flow_endpoint *resp)
{
	int h = ladder_height(n);
	fprintf(out,
		"<div class=\"ladder-wrap\"><svg class=\"ladder\" "
		"id=\"ladder-%s-%u\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"data-segments=\"%zu\" data-drawn=\"%zu\">\n",
		proto, id, LADDER_WIDTH, h, LADDER_WIDTH, h, total, n);
	fprintf(out,
		"<line class=\"life\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"life\" x1=\"%d\" y1=\"46\" x2=\"%d\" "
		"y2=\"%d\"/>\n",
		LADDER_LEFT, LADDER_LEFT, h - 4, LADDER_RIGHT, LADDER_RIGHT,
		h - 4);
	fprintf(out, "<text class=\"t\" x=\"%d\" y=\"30\">time (s)</text>\n",
		LADDER_TIME_X);
	write_host(out, LADDER_LEFT, "client", orig);
	write_host(out, LADDER_RIGHT, "server", resp);
}

/* ladder_end - close the SVG, and say how many segments were left out. */
static void ladder_end(FILE *out, size_t drawn, size_t total, const char *what)
{
	fputs("</svg></div>\n", out);
	if (drawn < total)
		fprintf(out,
			"<p class=\"omitted\">%zu more %s%s not drawn: the "
			"ladder stops after the first %zu.</p>\n",
			total - drawn, what, text_plural(total - drawn), drawn);
}

/* arrow_y - the y where an arrow starts (its end is LADDER_SLOPE lower). */
static int arrow_y(int row)
{
	return LADDER_TOP + row * LADDER_ROW;
}

/* write_arrow_open - the group, time, line and head of an arrow; the caller
 * writes the label's content and then calls write_arrow_close. */
static void write_arrow_open(FILE *out, const struct arrow *ar)
{
	int y = arrow_y(ar->row);
	int x1 = ar->from_orig ? LADDER_LEFT : LADDER_RIGHT;
	int x2 = ar->from_orig ? LADDER_RIGHT : LADDER_LEFT;
	int back = ar->from_orig ? -LADDER_HEAD : LADDER_HEAD;
	int y2 = y + LADDER_SLOPE;
	fprintf(out,
		"<g class=\"seg %s\"><text class=\"t%s\" x=\"%d\" y=\"%d\">",
		kinds[ar->kind].css, ar->gap > PAUSE_NS ? " pause" : "",
		LADDER_TIME_X, y + 9);
	put_seconds(out, ar->ts);
	fprintf(out,
		"</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<polygon points=\"%d,%d %d,%d %d,%d\"/>",
		x1, y, x2 + back / 3, y2, x2, y2, x2 + back, y2 - 4, x2 + back,
		y2 + 4);
	fprintf(out,
		"<text class=\"lbl\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"middle\">",
		(LADDER_LEFT + LADDER_RIGHT) / 2, y - 1);
}

/* write_arrow_close - the payload preview, then close the label and group. */
static void write_arrow_close(FILE *out, const struct arrow *ar)
{
	if (ar->payload_len > 0) {
		fputs(" <tspan class=\"pl\">", out);
		put_preview(out, ar->payload, ar->payload_len,
			    ar->payload_total, ARROW_PREVIEW);
		fputs("</tspan>", out);
	}
	fputs("</text></g>\n", out);
}

/* udp_kind - a datagram is one message: a heartbeat or plain data. */
static enum seg_kind udp_kind(const struct hb_matcher *hb, const uint8_t *p,
			      size_t n)
{
	size_t key_off;
	if (hb == NULL)
		return KIND_DATA;
	switch (hb_classify(hb, p, n, &key_off)) {
	case HB_REQUEST:
		return KIND_HB_REQ;
	case HB_REPLY:
		return KIND_HB_REP;
	default:
		return KIND_DATA;
	}
}

/* hb_segment_kind - KIND_HB_REQ/REP if segment i completed a heartbeat
 * message, else fallback; *next walks h's messages (in segment order). */
static enum seg_kind hb_segment_kind(const struct hb_conn *h, size_t i,
				     size_t *next, enum seg_kind fallback)
{
	while (*next < h->count && h->msgs[*next].segment < i)
		++*next;
	if (*next >= h->count || h->msgs[*next].segment != i)
		return fallback;
	return h->msgs[*next].kind == HB_REQUEST ? KIND_HB_REQ : KIND_HB_REP;
}

/* tcp_kind - what to draw a segment as; hs_ack marks the handshake's ACK,
 * plain is its kind unless a flag or a note says more. */
static enum seg_kind tcp_kind(const struct tcp_event *e, bool hs_ack,
			      enum seg_kind plain)
{
	if (e->flags & TCP_RST)
		return KIND_RST;
	if (e->flags & TCP_FIN)
		return KIND_FIN;
	if ((e->flags & TCP_SYN) || (hs_ack && e->len == 0))
		return KIND_HANDSHAKE;
	if (e->notes & NOTE_RETRANSMISSION)
		return KIND_REXMIT;
	if (e->notes & (NOTE_KEEPALIVE | NOTE_KEEPALIVE_ACK))
		return KIND_KEEPALIVE;
	return plain;
}

/* handshake_ack - index of the originator's ACK completing the handshake,
 * or SIZE_MAX; the same rule as tcp.c's note_handshake. */
static size_t handshake_ack(const struct tcp_conn *c)
{
	bool synack = false;
	for (size_t i = 0; i < c->nevents && c->handshake.ack; i++) {
		const struct tcp_event *e = &c->events[i];
		bool syn = e->flags & TCP_SYN, ack = e->flags & TCP_ACK;
		if (e->dir == TCP_RESP && syn && ack)
			synack = true;
		if (e->dir == TCP_ORIG && synack && !syn && ack &&
		    !(e->flags & TCP_RST))
			return i;
	}
	return SIZE_MAX;
}

/* write_notes - Wireshark's bracketed notes of a segment. */
static void write_notes(FILE *out, unsigned notes)
{
	for (unsigned bit = 1; bit <= NOTE_OUT_OF_ORDER; bit <<= 1)
		if (notes & bit)
			fprintf(out, "<tspan class=\"note\">[%s]</tspan> ",
				tcp_note_text(bit));
}

/* write_tcp_arrow - one segment of a TCP ladder; plain is its kind unless
 * its flags or notes say more (see tcp_kind). */
static void write_tcp_arrow(const struct page *pg, const struct tcp_conn *c,
			    size_t i, bool hs_ack, enum seg_kind plain)
{
	FILE *out = pg->out;
	const struct tcp_event *e = &c->events[i];
	struct arrow ar = {
		.row = (int)i,
		.from_orig = e->dir == TCP_ORIG,
		.ts = e->ts - pg->a->first_ts,
		.gap = i > 0 ? e->ts - c->events[i - 1].ts : 0,
		.kind = tcp_kind(e, hs_ack, plain),
		.payload = e->preview,
		.payload_len = e->preview_len,
		.payload_total = e->len,
	};
	char flags[64];
	write_arrow_open(out, &ar);
	write_notes(out, e->notes);
	fprintf(out, "[%s] Seq=%" PRId64,
		text_tcp_flags(e->flags, flags, sizeof flags), e->rel_seq);
	if (e->flags & TCP_ACK)
		fprintf(out, " Ack=%" PRId64, e->rel_ack);
	fprintf(out, " Len=%" PRIu32, e->len);
	write_arrow_close(out, &ar);
}

/* write_bands - pale backgrounds behind the handshake and the teardown. */
static void write_bands(FILE *out, const struct tcp_conn *c, size_t n,
			size_t hs_ack)
{
	size_t hs_end = 0, end_start = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct tcp_event *e = &c->events[i];
		if ((e->flags & TCP_SYN) || i == hs_ack)
			hs_end = i + 1;
		if ((e->flags & (TCP_FIN | TCP_RST)) && end_start == SIZE_MAX)
			end_start = i;
	}
	int w = LADDER_WIDTH - 4;
	if (hs_end > 0)
		fprintf(out,
			"<rect class=\"band hs\" x=\"2\" y=\"%d\" width=\"%d\" "
			"height=\"%d\"/>\n",
			arrow_y(0) - 18, w, (int)hs_end * LADDER_ROW);
	if (end_start != SIZE_MAX)
		fprintf(out,
			"<rect class=\"band end\" x=\"2\" y=\"%d\" "
			"width=\"%d\" "
			"height=\"%d\"/>\n",
			arrow_y((int)end_start) - 18, w,
			(int)(n - end_start) * LADDER_ROW);
}

/* shown - how many of total items a ladder draws. */
static size_t shown(const struct page *pg, size_t total)
{
	return total < pg->opt->max_arrows ? total : pg->opt->max_arrows;
}

/* write_marks - a dashed line across the ladder for each of the grader's
 * events between the first and the last of the n arrows drawn, half a
 * row above the first arrow at or after it. */
static void write_marks(const struct page *pg, const struct tcp_conn *c,
			size_t n)
{
	const struct marks *m = pg->a->marks;
	for (size_t k = 0; m != NULL && k < m->n && n > 0; k++) {
		int64_t ts = m->v[k].ts;
		if (ts < c->events[0].ts ||
		    (n < c->nevents && ts > c->events[n - 1].ts) || ts > c->last_ts)
			continue;
		size_t row = 0;
		while (row < n && c->events[row].ts < ts)
			row++;
		int y = arrow_y((int)row) - LADDER_ROW / 2 + 2;
		fprintf(pg->out,
			"<g class=\"mark\"><line x1=\"2\" y1=\"%d\" x2=\"%d\" "
			"y2=\"%d\"/><text x=\"%d\" y=\"%d\">",
			y, LADDER_WIDTH - 2, y, LADDER_LEFT + 8, y - 3);
		put_text(pg->out, m->v[k].label);
		fputs(" (", pg->out);
		put_seconds(pg->out, ts - pg->a->first_ts);
		fputs(" s)</text></g>\n", pg->out);
	}
}

/* write_tcp_ladder - the SVG sequence diagram of one connection. */
static void write_tcp_ladder(const struct page *pg, const struct tcp_conn *c)
{
	FILE *out = pg->out;
	size_t n = shown(pg, c->nevents), hs_ack = handshake_ack(c), next = 0;
	ladder_begin(out, "tcp", c->id, n, c->nevents, &c->side[TCP_ORIG].ep,
		     &c->side[TCP_RESP].ep);
	write_bands(out, c, n, hs_ack);
	for (size_t i = 0; i < n; i++) {
		enum seg_kind plain =
			c->events[i].len > 0 ? KIND_DATA : KIND_ACK;
		if (pg->hb != NULL)
			plain = hb_segment_kind(&c->hb, i, &next, plain);
		write_tcp_arrow(pg, c, i, i == hs_ack, plain);
	}
	write_marks(pg, c, n);
	ladder_end(out, n, c->nevents, "segment");
}

/* write_stream_line - one direction's totals and the start of its stream. */
static void write_stream_line(FILE *out, const char *label,
			      const struct tcp_side *s, uint64_t bytes)
{
	size_t n;
	const uint8_t *p = stream_bytes(&s->stream, &n);
	fprintf(out,
		"<dt>%s</dt><dd>%" PRIu64 " byte%s in %" PRIu64
		" data segment%s, %" PRIu64 " packet%s",
		label, bytes, text_plural(bytes), s->data_segs,
		text_plural(s->data_segs), s->pkts, text_plural(s->pkts));
	if (n > 0) {
		fputs(" <code>", out);
		put_preview(out, p, n, n, SUMMARY_PREVIEW);
		fputs("</code>", out);
	}
	fputs("</dd>\n", out);
}

/* write_close_marks - a fact line per side whose first FIN or RST came
 * after one of the grader's events (not the program's own close). */
static void write_close_marks(FILE *out, const struct analysis *a,
			      const struct tcp_conn *c)
{
	for (int d = TCP_ORIG; d <= TCP_RESP; d++) {
		int64_t ts;
		const struct mark *m =
			tcp_first_close_of(c, (enum tcp_dir)d, &ts)
				? marks_last_before(a->marks, ts)
				: NULL;
		if (m == NULL)
			continue;
		fprintf(out, "<dt>%s closed</dt><dd class=\"after-mark\">only "
			     "after the event ‘",
			d == TCP_ORIG ? "client" : "server");
		put_text(out, m->label);
		fputs("’ (at ", out);
		put_seconds(out, ts - a->first_ts);
		fputs(" s)</dd>\n", out);
	}
}

/* write_tcp_facts - the verdict of one connection above its ladder. */
static void write_tcp_facts(FILE *out, const struct analysis *a,
			    const struct tcp_conn *c)
{
	const struct tcp_side *o = &c->side[TCP_ORIG], *r = &c->side[TCP_RESP];
	enum tcp_dir closer = tcp_first_closer(c);
	const char *state = tcp_conn_state(c);
	fprintf(out, "<div class=\"verdict\"><span class=\"badge %s\">",
		state_class(state));
	put_text(out, state);
	fputs("</span><span>history <code>", out);
	put_text(out, c->zeek.history);
	fprintf(out, "</code></span><span>teardown <b>%s</b>",
		tcp_teardown_name(tcp_teardown(c)));
	if (closer != TCP_NOBODY)
		fprintf(out, ", %s closed first",
			closer == TCP_ORIG ? "client" : "server");
	fputs("</span><span>handshake RTT ", out);
	write_rtt(out, &c->handshake);
	fputs("</span></div>\n<dl class=\"facts\">\n", out);
	write_stream_line(out, "client → server", o, tcp_bytes(c, TCP_ORIG));
	write_stream_line(out, "server → client", r, tcp_bytes(c, TCP_RESP));
	fprintf(out,
		"<dt>trouble</dt><dd>retransmissions %" PRIu64 " / %" PRIu64
		", keep-alives %" PRIu64 " / %" PRIu64 " (client / server)",
		o->retransmissions, r->retransmissions, o->keepalives,
		r->keepalives);
	if (c->partial_start)
		fputs("; the capture started mid-connection", out);
	if (tcp_partial_end(c))
		fputs("; the capture ended before the close", out);
	fputs("</dd>\n", out);
	write_close_marks(out, a, c);
	fputs("</dl>\n", out);
}

/* write_ms - a duration in ns as milliseconds. */
static void write_ms(FILE *out, int64_t ns)
{
	double ms = (double)ns / 1e6;
	fprintf(out, "%.*f ms", ms < 10 && ms > -10 ? 3 : 1, ms);
}

/* write_hb_stats - one heartbeat series' mean and range, or nothing. */
static void write_hb_stats(FILE *out, const char *what,
			   const struct hb_stats *st)
{
	if (st->count == 0)
		return;
	fprintf(out, "; %s ", what);
	write_ms(out, st->mean);
	fputs(" (", out);
	write_ms(out, st->min);
	fputs(" – ", out);
	write_ms(out, st->max);
	fputs(")", out);
}

/* write_heartbeats - the connection's heartbeat summary line; 0 or -1. */
static int write_heartbeats(FILE *out, const struct tcp_conn *c)
{
	const struct stream *const streams[2] = {&c->side[TCP_ORIG].stream,
						 &c->side[TCP_RESP].stream};
	struct hb_summary s;
	if (hb_summarize(&c->hb, streams, &s) == -1)
		return -1;
	fprintf(out,
		"<dl class=\"facts\"><dt>heartbeats</dt><dd>%" PRIu64
		" request%s",
		s.requests, text_plural(s.requests));
	if (s.requests > 0)
		fprintf(out, " by the %s",
			s.requester == TCP_ORIG ? "client" : "server");
	fprintf(out, ", %" PRIu64 " answered, %" PRIu64 " unanswered", s.pairs,
		s.unanswered);
	if (s.max_unanswered_run > 1)
		fprintf(out, " (%" PRIu64 " in a row)", s.max_unanswered_run);
	write_hb_stats(out, "interval", &s.interval);
	write_hb_stats(out, "reply delay", &s.delay);
	fputs("</dd></dl>\n", out);
	hb_summary_free(&s);
	return 0;
}

/* write_tcp_section - heading, verdict, legend and ladder of a connection;
 * 0, or -1 with errno. */
static int write_tcp_section(const struct page *pg, const struct tcp_conn *c)
{
	FILE *out = pg->out;
	fprintf(out, "<section class=\"card\" id=\"tcp-%u\">\n<h2>TCP %u ",
		c->id, c->id);
	put_endpoint(out, &c->side[TCP_ORIG].ep);
	fputs(" → ", out);
	put_endpoint(out, &c->side[TCP_RESP].ep);
	fputs("</h2>\n", out);
	write_tcp_facts(out, pg->a, c);
	if (pg->hb != NULL && write_heartbeats(out, c) == -1)
		return -1;
	write_legend(pg);
	write_tcp_ladder(pg, c);
	fputs("</section>\n", out);
	return 0;
}

/* write_udp_arrow - one datagram of a UDP ladder. */
static void write_udp_arrow(const struct page *pg, const struct udp_flow *f,
			    size_t i)
{
	const struct udp_event *e = &f->events[i];
	struct arrow ar = {
		.row = (int)i,
		.from_orig = e->dir == UDP_ORIG,
		.ts = e->ts - pg->a->first_ts,
		.gap = i > 0 ? e->ts - f->events[i - 1].ts : 0,
		.payload = e->preview,
		.payload_len = e->preview_len,
		.payload_total = e->len,
	};
	ar.kind = udp_kind(pg->hb, e->preview, e->preview_len);
	write_arrow_open(pg->out, &ar);
	fprintf(pg->out, "UDP Len=%" PRIu32, e->len);
	write_arrow_close(pg->out, &ar);
}

/* write_udp_section - heading, totals and ladder of a UDP flow. */
static void write_udp_section(const struct page *pg, const struct udp_flow *f)
{
	FILE *out = pg->out;
	fprintf(out, "<section class=\"card\" id=\"udp-%u\">\n<h2>UDP %u ",
		f->id, f->id);
	put_endpoint(out, &f->side[UDP_ORIG].ep);
	fputs(" → ", out);
	put_endpoint(out, &f->side[UDP_RESP].ep);
	fprintf(out,
		"</h2>\n<div class=\"verdict\"><span>%" PRIu64
		" request%s, %" PRIu64 " answered, %" PRIu64
		" unanswered</span><span>datagrams %" PRIu64 " / %" PRIu64
		" (client / server)</span></div>\n",
		f->side[UDP_ORIG].dgrams, text_plural(f->side[UDP_ORIG].dgrams),
		f->pairs, udp_unanswered(f), f->side[UDP_ORIG].dgrams,
		f->side[UDP_RESP].dgrams);
	size_t n = shown(pg, f->nevents);
	ladder_begin(out, "udp", f->id, n, f->nevents, &f->side[UDP_ORIG].ep,
		     &f->side[UDP_RESP].ep);
	for (size_t i = 0; i < n; i++)
		write_udp_arrow(pg, f, i);
	ladder_end(out, n, f->nevents, "datagram");
	fputs("</section>\n", out);
}

int report_html(const struct analysis *a, const struct html_options *opt,
		FILE *out)
{
	struct page pg = {.out = out, .a = a, .opt = opt, .hb = a->tcp.opt.hb};
	write_head(&pg);
	write_header(&pg);
	write_help(&pg);
	write_summary(&pg);
	for (size_t i = 0; i < a->tcp.count; i++)
		if (write_tcp_section(&pg, &a->tcp.conns[i]) == -1)
			return -1;
	for (size_t i = 0; i < a->udp.count; i++)
		write_udp_section(&pg, &a->udp.flows[i]);
	fputs("</main>\n</body>\n</html>\n", out);
	if (fflush(out) == EOF || ferror(out))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ the file */

/* write_temp - write the page into the open temporary file fd; 0 or -1. */
static int write_temp(const struct analysis *a, const struct html_options *opt,
		      int fd)
{
	/* A page is for people to open: not the 0600 that mkstemp gives. */
	if (fchmod(fd, 0644) == -1) {
		(void)close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		(void)close(fd);
		return -1;
	}
	int rc = report_html(a, opt, f);
	int saved = errno;
	if (fclose(f) == EOF && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

int report_html_file(const struct analysis *a, const struct html_options *opt,
		     const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof ".XXXXXX");
	if (tmp == NULL) {
		(void)snprintf(err, errlen, "write %s: %s", path,
			       strerror(errno));
		return -1;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", sizeof ".XXXXXX");
	/* Beside the target, so that rename() replaces it in one step and a
	 * reader never sees half a page. */
	int fd = mkstemp(tmp);
	int rc = fd == -1 ? -1 : write_temp(a, opt, fd);
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1) {
		(void)snprintf(err, errlen, "write %s: %s", path,
			       strerror(errno));
		if (fd != -1)
			(void)unlink(tmp);
	}
	free(tmp);
	return rc;
}
