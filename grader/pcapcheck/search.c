/* search.c - byte strings in TCP payloads, and where TLS starts (see
 * search.h). */
#include "search.h"

#include <stdio.h>
#include <string.h>

#include "heartbeat.h"

#define TLS_HANDSHAKE	  22
#define TLS_RECORD_HEADER 5
/* TLSCiphertext.length may be up to 2^14 + 2048 (RFC 5246, 6.2.3). */
#define TLS_RECORD_MAX (16384 + 2048)

int search_parse_string(struct search_string *s, const char *text, char *err,
			size_t errlen)
{
	s->text = text;
	if (hb_unescape(text, s->bytes, sizeof s->bytes, &s->len) == -1) {
		(void)snprintf(err, errlen,
			       "bad escape (\\n \\r \\t \\\\ \\xHH) or longer "
			       "than %d bytes: %s",
			       SEARCH_STRING_MAX, text);
		return -1;
	}
	if (s->len == 0) {
		(void)snprintf(err, errlen, "a search string must not be empty");
		return -1;
	}
	return 0;
}

/* hello_at - the kind of TLS handshake record that starts at p[0..n), or 0
 * if the bytes there are not one. */
static int hello_at(const uint8_t *p, size_t n)
{
	if (n < TLS_RECORD_HEADER + 1)
		return 0;
	unsigned len = (unsigned)p[3] << 8 | p[4];
	if (p[0] != TLS_HANDSHAKE || p[1] != 3 || p[2] > 4 || len == 0 ||
	    len > TLS_RECORD_MAX)
		return 0;
	if (p[5] == SEARCH_CLIENT_HELLO || p[5] == SEARCH_SERVER_HELLO)
		return p[5];
	return 0;
}

bool search_tls_start(const uint8_t *p, size_t n, uint64_t *offset,
		      enum search_hello *hello)
{
	size_t off = 0;
	while (off < n) {
		int kind = hello_at(p + off, n - off);
		if (kind != 0) {
			*offset = off;
			*hello = (enum search_hello)kind;
			return true;
		}
		/* The next candidate: just after the next line's end. */
		const uint8_t *nl = memchr(p + off, '\n', n - off);
		if (nl == NULL)
			break;
		off = (size_t)(nl - p) + 1;
	}
	return false;
}

int64_t search_time_of(const struct tcp_conn *c, enum tcp_dir dir,
		       uint64_t off)
{
	for (size_t i = 0; i < c->nevents; i++) {
		const struct tcp_event *e = &c->events[i];
		if (e->dir != dir || e->len == 0)
			continue;
		/* Data starts one after the SYN (offset = sequence - 1). */
		int64_t start = e->rel_seq + ((e->flags & TCP_SYN) ? 1 : 0) - 1;
		if (start <= (int64_t)off && (int64_t)off < start + e->len)
			return e->ts;
	}
	return c->first_ts;
}

/* find_bytes - the first occurrence of needle[0..m) in p[0..n), or NULL
 * (memmem() is a GNU extension: this is the portable loop). */
static const uint8_t *find_bytes(const uint8_t *p, size_t n,
				 const uint8_t *needle, size_t m)
{
	while (n >= m) {
		const uint8_t *first = memchr(p, needle[0], n - m + 1);
		if (first == NULL)
			return NULL;
		if (memcmp(first, needle, m) == 0)
			return first;
		n -= (size_t)(first - p) + 1;
		p = first + 1;
	}
	return NULL;
}

/* find_all - count every occurrence of s in p[0..n), listing the first
 * SEARCH_MAX_OFFSETS; overlapping occurrences count too. */
static void find_all(const struct tcp_conn *c, enum tcp_dir dir,
		     const uint8_t *p, size_t n, const struct search_string *s,
		     const struct search_tls *tls, struct search_hits *h)
{
	memset(h, 0, sizeof *h);
	size_t off = 0;
	while (off < n) {
		const uint8_t *at = find_bytes(p + off, n - off, s->bytes, s->len);
		if (at == NULL)
			break;
		uint64_t where = (uint64_t)(at - p);
		h->count++;
		if (tls->found && where >= tls->offset)
			h->after_tls++;
		if (h->listed < SEARCH_MAX_OFFSETS) {
			h->offsets[h->listed] = where;
			h->ts[h->listed] = search_time_of(c, dir, where);
			h->listed++;
		}
		off = (size_t)where + 1;
	}
}

void search_side(const struct tcp_conn *c, enum tcp_dir dir,
		 const struct search_string *strings, size_t nstrings,
		 struct search_tls *tls, struct search_hits *hits)
{
	size_t n;
	const uint8_t *p = stream_bytes(&c->side[dir].stream, &n);
	memset(tls, 0, sizeof *tls);
	tls->found = search_tls_start(p, n, &tls->offset, &tls->hello);
	if (tls->found)
		tls->ts = search_time_of(c, dir, tls->offset);
	for (size_t i = 0; i < nstrings; i++)
		find_all(c, dir, p, n, &strings[i], tls, &hits[i]);
}

const char *search_hello_name(enum search_hello h)
{
	return h == SEARCH_CLIENT_HELLO ? "ClientHello" : "ServerHello";
}
