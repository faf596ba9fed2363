/* report_search.c - the views of `pcapcheck search` (see report_search.h). */
#include "report_search.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "textfmt.h"

/* The results of one direction: its TLS start and one entry per string. */
struct side_result {
	struct search_tls tls;
	struct search_hits *hits;
};

/* side_search - search direction dir of c into r (hits: nstrings entries,
 * allocated here, or NULL when there are no strings); 0 or -1 (errno). */
static int side_search(const struct tcp_conn *c, enum tcp_dir dir,
		       const struct search_string *strings, size_t nstrings,
		       struct side_result *r)
{
	r->hits = NULL;
	if (nstrings > 0) {
		r->hits = calloc(nstrings, sizeof *r->hits);
		if (r->hits == NULL)
			return -1;
	}
	search_side(c, dir, strings, nstrings, &r->tls, r->hits);
	return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* json_endpoint - {"addr": ..., "port": ...} */
static void json_endpoint(struct json_writer *w, const char *key,
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

/* json_time - a capture time as seconds since the first packet. */
static void json_time(struct json_writer *w, const struct analysis *a,
		      int64_t ts)
{
	json_key(w, "time");
	json_fixed(w, ts - a->first_ts, 9);
}

/* json_tls - {"offset", "time", "record"}, or null. */
static void json_tls(struct json_writer *w, const struct analysis *a,
		     const struct search_tls *tls)
{
	json_key(w, "tls");
	if (!tls->found) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "offset");
	json_uint(w, tls->offset);
	json_time(w, a, tls->ts);
	json_key(w, "record");
	json_string(w, search_hello_name(tls->hello));
	json_end_object(w);
}

/* json_hits - one string's matches in one direction. */
static void json_hits(struct json_writer *w, const struct analysis *a,
		      const struct search_string *s,
		      const struct search_hits *h)
{
	json_begin_object(w);
	json_key(w, "string");
	json_bytes(w, s->bytes, s->len);
	json_key(w, "count");
	json_uint(w, h->count);
	json_key(w, "after_tls");
	json_uint(w, h->after_tls);
	json_key(w, "offsets");
	json_begin_array(w);
	for (size_t i = 0; i < h->listed; i++) {
		json_begin_object(w);
		json_key(w, "offset");
		json_uint(w, h->offsets[i]);
		json_time(w, a, h->ts[i]);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

/* json_side - one direction of a connection; 0 or -1 (errno). */
static int json_side(struct json_writer *w, const struct analysis *a,
		     const struct tcp_conn *c, enum tcp_dir dir,
		     const struct search_string *strings, size_t nstrings)
{
	struct side_result r;
	size_t searched;
	if (side_search(c, dir, strings, nstrings, &r) == -1)
		return -1;
	(void)stream_bytes(&c->side[dir].stream, &searched);
	json_key(w, dir == TCP_ORIG ? "orig_stream" : "resp_stream");
	json_begin_object(w);
	json_key(w, "bytes");
	json_uint(w, tcp_bytes(c, dir));
	json_key(w, "searched");
	json_uint(w, searched);
	json_tls(w, a, &r.tls);
	json_key(w, "matches");
	json_begin_array(w);
	for (size_t i = 0; i < nstrings; i++)
		json_hits(w, a, &strings[i], &r.hits[i]);
	json_end_array(w);
	json_end_object(w);
	free(r.hits);
	return 0;
}

int report_search_json(const struct analysis *a,
		       const struct search_string *strings, size_t nstrings,
		       FILE *out)
{
	struct json_writer w;
	json_init(&w, out);
	json_begin_object(&w);
	json_key(&w, "file");
	json_string(&w, a->file ? a->file : "");
	json_key(&w, "strings");
	json_begin_array(&w);
	for (size_t i = 0; i < nstrings; i++)
		json_bytes(&w, strings[i].bytes, strings[i].len);
	json_end_array(&w);
	json_key(&w, "tcp");
	json_begin_array(&w);
	for (size_t i = 0; i < a->tcp.count; i++) {
		const struct tcp_conn *c = &a->tcp.conns[i];
		json_begin_object(&w);
		json_key(&w, "id");
		json_uint(&w, c->id);
		json_endpoint(&w, "orig", &c->side[TCP_ORIG].ep);
		json_endpoint(&w, "resp", &c->side[TCP_RESP].ep);
		if (json_side(&w, a, c, TCP_ORIG, strings, nstrings) == -1 ||
		    json_side(&w, a, c, TCP_RESP, strings, nstrings) == -1)
			return -1;
		json_end_object(&w);
	}
	json_end_array(&w);
	json_end_object(&w);
	return json_finish(&w);
}

/* ---- text ---------------------------------------------------------------- */

#define TEXT_STRING_MAX 40

/* text_hits - "  "MAIL FROM:"  2 matches, 1 after TLS: byte 45 (0.002 s), ..." */
static void text_hits(FILE *out, const struct analysis *a,
		      const struct search_string *s,
		      const struct search_hits *h, bool tls)
{
	char t[32];
	fputs("    ", out);
	text_preview(out, s->bytes, s->len, TEXT_STRING_MAX);
	if (h->count == 0) {
		fputs("  no match\n", out);
		return;
	}
	fprintf(out, "  %" PRIu64 " match%s", h->count,
		h->count == 1 ? "" : "es");
	if (tls)
		fprintf(out, ", %" PRIu64 " after TLS", h->after_tls);
	fputc(':', out);
	for (size_t i = 0; i < h->listed; i++)
		fprintf(out, "%s byte %" PRIu64 " (%s s)", i ? "," : "",
			h->offsets[i],
			text_seconds_str(h->ts[i] - a->first_ts, t, sizeof t));
	fputs(h->listed < h->count ? ", ...\n" : "\n", out);
}

/* text_side - one direction of a connection; 0 or -1 (errno). */
static int text_side(FILE *out, const struct analysis *a,
		     const struct tcp_conn *c, enum tcp_dir dir,
		     const struct search_string *strings, size_t nstrings)
{
	struct side_result r;
	size_t searched;
	char t[32];
	if (side_search(c, dir, strings, nstrings, &r) == -1)
		return -1;
	(void)stream_bytes(&c->side[dir].stream, &searched);
	fprintf(out, "  %s  %zu of %" PRIu64 " bytes searched; ",
		dir == TCP_ORIG ? "client → server" : "server → client",
		searched, tcp_bytes(c, dir));
	if (r.tls.found)
		fprintf(out, "TLS from byte %" PRIu64 " (%s at %s s)\n",
			r.tls.offset, search_hello_name(r.tls.hello),
			text_seconds_str(r.tls.ts - a->first_ts, t, sizeof t));
	else
		fputs("no TLS\n", out);
	for (size_t i = 0; i < nstrings; i++)
		text_hits(out, a, &strings[i], &r.hits[i], r.tls.found);
	free(r.hits);
	return 0;
}

int report_search_text(const struct analysis *a,
		       const struct search_string *strings, size_t nstrings,
		       FILE *out)
{
	char o[FLOW_ENDPOINT_STRLEN], rsp[FLOW_ENDPOINT_STRLEN];
	fprintf(out, "capture   %s\n", a->file ? a->file : "");
	fprintf(out, "TCP       %zu connection%s\n", a->tcp.count,
		text_plural(a->tcp.count));
	for (size_t i = 0; i < a->tcp.count; i++) {
		const struct tcp_conn *c = &a->tcp.conns[i];
		fprintf(out, "\nTCP %u  %s → %s\n", c->id,
			flow_endpoint_format(&c->side[TCP_ORIG].ep, o, sizeof o),
			flow_endpoint_format(&c->side[TCP_RESP].ep, rsp,
					     sizeof rsp));
		if (text_side(out, a, c, TCP_ORIG, strings, nstrings) == -1 ||
		    text_side(out, a, c, TCP_RESP, strings, nstrings) == -1)
			return -1;
	}
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}
