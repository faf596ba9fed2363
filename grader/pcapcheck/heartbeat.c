/* heartbeat.c - application messages and heartbeats (see heartbeat.h). */
#include "heartbeat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define HB_MIN_MESSAGES 64

/* A request or reply seen by the pairing: its key and message index. */
struct hb_item {
	const uint8_t *key;
	size_t len, index;
};

/* hex_value - the value of one hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* unescape_one - the escape at *p (a backslash) as one byte; advances *p. */
static int unescape_one(const char **p, uint8_t *out)
{
	const char *s = *p;
	int hi, lo;
	switch (s[1]) {
	case 'n':
		*out = '\n';
		break;
	case 'r':
		*out = '\r';
		break;
	case 't':
		*out = '\t';
		break;
	case '\\':
		*out = '\\';
		break;
	case 'x':
		/* s[2] is checked before s[3] is read: no read past the NUL. */
		if ((hi = hex_value(s[2])) < 0 || (lo = hex_value(s[3])) < 0)
			return -1;
		*out = (uint8_t)(hi * 16 + lo);
		*p = s + 4;
		return 0;
	default:
		return -1;
	}
	*p = s + 2;
	return 0;
}

int hb_unescape(const char *text, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;
	const char *p = text;
	while (*p != '\0') {
		uint8_t c;
		if (*p != '\\')
			c = (uint8_t)*p++;
		else if (unescape_one(&p, &c) == -1)
			return -1;
		if (n == cap)
			return -1;
		out[n++] = c;
	}
	*len = n;
	return 0;
}

/* parse_text - one option's text into buf; 0, or -1 with the reason. */
static int parse_text(const char *option, const char *text, uint8_t *buf,
		      size_t *len, char *err, size_t errlen)
{
	if (hb_unescape(text, buf, HB_TEXT_MAX, len) == -1) {
		(void)snprintf(err, errlen,
			       "%s: bad escape (\\n \\r \\t \\\\ \\xHH) or "
			       "longer than %d bytes: %s",
			       option, HB_TEXT_MAX, text);
		return -1;
	}
	if (*len == 0) {
		(void)snprintf(err, errlen, "%s must not be empty", option);
		return -1;
	}
	return 0;
}

int hb_matcher_init(struct hb_matcher *m, const char *request,
		    const char *reply, const char *delim, char *err,
		    size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (parse_text("--hb-request", request, m->request, &m->request_len,
		       err, errlen) == -1 ||
	    parse_text("--hb-reply", reply, m->reply, &m->reply_len, err,
		       errlen) == -1 ||
	    parse_text("--hb-delim", delim, m->delim, &m->delim_len, err,
		       errlen) == -1)
		return -1;
	/* Equal prefixes would make every reply a request as well. */
	if (m->request_len == m->reply_len &&
	    memcmp(m->request, m->reply, m->request_len) == 0) {
		(void)snprintf(err, errlen,
			       "--hb-request and --hb-reply must differ");
		return -1;
	}
	return 0;
}

/* has_prefix - true if msg[0, n) starts with prefix[0, len). */
static bool has_prefix(const uint8_t *msg, size_t n, const uint8_t *prefix,
		       size_t len)
{
	return len <= n && memcmp(msg, prefix, len) == 0;
}

enum hb_kind hb_classify(const struct hb_matcher *m, const uint8_t *msg,
			 size_t n, size_t *key_off)
{
	/* The longer prefix first: with "HB" and "HBACK", "HBACK 1" is a reply. */
	bool reply_first = m->reply_len > m->request_len;
	if (reply_first && has_prefix(msg, n, m->reply, m->reply_len)) {
		*key_off = m->reply_len;
		return HB_REPLY;
	}
	if (has_prefix(msg, n, m->request, m->request_len)) {
		*key_off = m->request_len;
		return HB_REQUEST;
	}
	if (!reply_first && has_prefix(msg, n, m->reply, m->reply_len)) {
		*key_off = m->reply_len;
		return HB_REPLY;
	}
	*key_off = 0;
	return HB_OTHER;
}

void hb_conn_free(struct hb_conn *h)
{
	free(h->msgs);
	memset(h, 0, sizeof *h);
}

/* find_delim - the first delimiter in p[from, n); true and *at if found. */
static bool find_delim(const uint8_t *p, size_t n, uint64_t from,
		       const struct hb_matcher *m, uint64_t *at)
{
	size_t d = m->delim_len;
	while (from + d <= n) {
		const uint8_t *q = memchr(p + from, m->delim[0], n - d + 1 - from);
		if (q == NULL)
			return false;
		from = (uint64_t)(q - p);
		if (memcmp(q, m->delim, d) == 0) {
			*at = from;
			return true;
		}
		from++;
	}
	return false;
}

/* add_message - remember the message p[start, end) if it is a heartbeat
 * request or reply; 0, or -1 with errno. */
static int add_message(struct hb_conn *h, const struct hb_matcher *m, int dir,
		       const uint8_t *p, uint64_t start, uint64_t end,
		       int64_t ts, uint32_t segment)
{
	size_t key_off;
	enum hb_kind kind =
		hb_classify(m, p + start, (size_t)(end - start), &key_off);
	if (kind == HB_OTHER)
		return 0;
	if (h->count == h->allocated) {
		struct hb_message *msgs = array_grow(
			h->msgs, &h->allocated, HB_MIN_MESSAGES, sizeof *msgs);
		if (msgs == NULL)
			return -1;
		h->msgs = msgs;
	}
	uint64_t key_len = end - start - key_off;
	struct hb_message *msg = &h->msgs[h->count++];
	msg->ts = ts;
	msg->key_off = start + key_off;
	msg->key_len = key_len > UINT32_MAX ? UINT32_MAX : (uint32_t)key_len;
	msg->segment = segment;
	msg->dir = (uint8_t)dir;
	msg->kind = (uint8_t)kind;
	return 0;
}

int hb_scan(struct hb_conn *h, const struct hb_matcher *m, int dir,
	    const struct stream *s, int64_t ts, uint32_t segment)
{
	struct hb_side *side = &h->side[dir];
	size_t n;
	const uint8_t *p = stream_bytes(s, &n);
	if (n <= side->scanned)
		return 0;
	/* A delimiter may have begun in the bytes scanned last time. */
	uint64_t back = m->delim_len - 1;
	uint64_t pos = side->scanned > back ? side->scanned - back : 0;
	if (pos < side->msg_start)
		pos = side->msg_start;
	side->scanned = n;
	uint64_t at;
	while (find_delim(p, n, pos, m, &at)) {
		if (add_message(h, m, dir, p, side->msg_start, at, ts,
				segment) == -1)
			return -1;
		side->messages++;
		pos = at + m->delim_len;
		side->msg_start = pos;
	}
	return 0;
}

const uint8_t *hb_key(const struct hb_conn *h, size_t i,
		      const struct stream *const streams[2], size_t *n)
{
	const struct hb_message *msg = &h->msgs[i];
	size_t avail;
	const uint8_t *p = stream_bytes(streams[msg->dir], &avail);
	/* Keys lie in the contiguous part, which never shrinks; checked anyway. */
	if (p == NULL || msg->key_off > avail ||
	    msg->key_len > avail - msg->key_off) {
		*n = 0;
		return (const uint8_t *)"";
	}
	*n = msg->key_len;
	return p + msg->key_off;
}

/* pick_requester - the side that sent more requests (first one on a tie). */
static int pick_requester(const struct hb_conn *h)
{
	uint64_t n[2] = {0, 0};
	int first = 2;
	for (size_t i = 0; i < h->count; i++) {
		if (h->msgs[i].kind != HB_REQUEST)
			continue;
		n[h->msgs[i].dir]++;
		if (first == 2)
			first = h->msgs[i].dir;
	}
	if (n[0] == n[1])
		return first;
	return n[0] > n[1] ? 0 : 1;
}

/* compare_items - by key bytes, then by message index (qsort). */
static int compare_items(const void *pa, const void *pb)
{
	const struct hb_item *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->key, b->key, n) : 0;
	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* same_key - true if two items carry the same key. */
static bool same_key(const struct hb_item *a, const struct hb_item *b)
{
	return a->len == b->len && (a->len == 0 ||
				    memcmp(a->key, b->key, a->len) == 0);
}

/* collect - the requester's requests (kind HB_REQUEST) or the other side's
 * replies as items sorted by key and order; their count. */
static size_t collect(const struct hb_conn *h,
		      const struct stream *const streams[2], int requester,
		      enum hb_kind kind, struct hb_item *items)
{
	size_t n = 0;
	for (size_t i = 0; i < h->count; i++) {
		const struct hb_message *msg = &h->msgs[i];
		bool mine = msg->dir == requester;
		if (msg->kind != kind || mine != (kind == HB_REQUEST))
			continue;
		items[n].key = hb_key(h, i, streams, &items[n].len);
		items[n].index = i;
		n++;
	}
	qsort(items, n, sizeof *items, compare_items);
	return n;
}

/* pair - give each request the first unused later reply with its key. */
static void pair(const struct hb_item *req, size_t nreq,
		 const struct hb_item *rep, size_t nrep, struct hb_summary *s)
{
	size_t j = 0;
	for (size_t i = 0; i < nreq; i++) {
		/* Both lists go by key, then order: the reply cursor only moves on. */
		while (j < nrep && (compare_items(&rep[j], &req[i]) < 0))
			j++;
		if (j < nrep && same_key(&rep[j], &req[i])) {
			s->reply_of[req[i].index] = rep[j].index;
			s->pairs++;
			j++;
		}
	}
}

/* pair_all - pair the requester's requests with the other side's replies;
 * 0, or -1 with errno. */
static int pair_all(const struct hb_conn *h,
		    const struct stream *const streams[2],
		    struct hb_summary *s)
{
	struct hb_item *req = malloc(h->count * sizeof *req);
	struct hb_item *rep = malloc(h->count * sizeof *rep);
	if (req == NULL || rep == NULL) {
		free(req);
		free(rep);
		return -1;
	}
	size_t nreq = collect(h, streams, s->requester, HB_REQUEST, req);
	size_t nrep = collect(h, streams, s->requester, HB_REPLY, rep);
	pair(req, nreq, rep, nrep, s);
	free(req);
	free(rep);
	return 0;
}

/* Running sums of a series (Welford's, so no large squares are summed). */
struct hb_acc {
	uint64_t count;
	int64_t min, max;
	double mean, m2;
};

/* acc_add - add one value in ns. */
static void acc_add(struct hb_acc *a, int64_t v)
{
	if (a->count == 0 || v < a->min)
		a->min = v;
	if (a->count == 0 || v > a->max)
		a->max = v;
	a->count++;
	double delta = (double)v - a->mean;
	a->mean += delta / (double)a->count;
	a->m2 += delta * ((double)v - a->mean);
}

/* square_root - sqrt(x) by Newton's method from above (no libm needed). */
static double square_root(double x)
{
	if (x <= 0)
		return 0;
	double r = x > 1 ? x : 1;
	for (;;) {
		double next = 0.5 * (r + x / r);
		if (next >= r)
			return r;
		r = next;
	}
}

/* nearest - x rounded to the nearest integer. */
static int64_t nearest(double x)
{
	return x < 0 ? -(int64_t)(-x + 0.5) : (int64_t)(x + 0.5);
}

/* acc_stats - the series' count, mean, range and population deviation. */
static struct hb_stats acc_stats(const struct hb_acc *a)
{
	struct hb_stats s = {.count = a->count};
	if (a->count == 0)
		return s;
	s.mean = nearest(a->mean);
	s.min = a->min;
	s.max = a->max;
	s.stddev = nearest(square_root(a->m2 / (double)a->count));
	return s;
}

/* measure - requests, misses, intervals and reply delays of the requester. */
static void measure(const struct hb_conn *h, struct hb_summary *s)
{
	struct hb_acc interval = {0}, delay = {0};
	uint64_t run = 0;
	int64_t prev = 0;
	for (size_t i = 0; i < h->count; i++) {
		const struct hb_message *msg = &h->msgs[i];
		if (msg->kind != HB_REQUEST || msg->dir != s->requester)
			continue;
		if (s->requests++ > 0)
			acc_add(&interval, msg->ts - prev);
		prev = msg->ts;
		if (s->reply_of[i] == HB_NONE) {
			s->unanswered++;
			if (++run > s->max_unanswered_run)
				s->max_unanswered_run = run;
		} else {
			run = 0;
			acc_add(&delay, h->msgs[s->reply_of[i]].ts - msg->ts);
		}
	}
	s->interval = acc_stats(&interval);
	s->delay = acc_stats(&delay);
}

/* count_replies - replies from the side that did not request (any side if
 * nobody requested: stray replies still show). */
static uint64_t count_replies(const struct hb_conn *h, int requester)
{
	uint64_t n = 0;
	for (size_t i = 0; i < h->count; i++)
		if (h->msgs[i].kind == HB_REPLY && h->msgs[i].dir != requester)
			n++;
	return n;
}

int hb_summarize(const struct hb_conn *h, const struct stream *const streams[2],
		 struct hb_summary *out)
{
	memset(out, 0, sizeof *out);
	out->requester = pick_requester(h);
	out->reply_of = malloc((h->count ? h->count : 1) * sizeof *out->reply_of);
	if (out->reply_of == NULL)
		return -1;
	for (size_t i = 0; i < h->count; i++)
		out->reply_of[i] = HB_NONE;
	out->replies = count_replies(h, out->requester);
	if (out->requester != 2 && pair_all(h, streams, out) == -1) {
		hb_summary_free(out);
		return -1;
	}
	measure(h, out);
	return 0;
}

void hb_summary_free(struct hb_summary *s)
{
	free(s->reply_of);
	s->reply_of = NULL;
}
