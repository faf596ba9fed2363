/* tcp.c - TCP connection tracking (see tcp.h). */
#include "tcp.h"

#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TCP_MIN_CONNS  64
#define TCP_MIN_EVENTS 16

void tcp_table_init(struct tcp_table *t, const struct tcp_options *opt)
{
	memset(t, 0, sizeof *t);
	t->opt = *opt;
	flowtable_init(&t->index);
}

void tcp_table_free(struct tcp_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		stream_free(&t->conns[i].side[TCP_ORIG].stream);
		stream_free(&t->conns[i].side[TCP_RESP].stream);
		free(t->conns[i].events);
		hb_conn_free(&t->conns[i].hb);
	}
	free(t->conns);
	flowtable_free(&t->index);
	memset(t, 0, sizeof *t);
}

/* reserve_conn - room for one more connection; 0, or -1 with errno. */
static int reserve_conn(struct tcp_table *t)
{
	if (t->count < t->allocated)
		return 0;
	struct tcp_conn *conns = array_grow(t->conns, &t->allocated,
					    TCP_MIN_CONNS, sizeof *conns);
	if (conns == NULL)
		return -1;
	t->conns = conns;
	return 0;
}

/* reserve_event - room for one more timeline event; 0, or -1 with errno. */
static int reserve_event(struct tcp_conn *c)
{
	if (c->nevents < c->events_allocated)
		return 0;
	struct tcp_event *events = array_grow(c->events, &c->events_allocated,
					      TCP_MIN_EVENTS, sizeof *events);
	if (events == NULL)
		return -1;
	c->events = events;
	return 0;
}

/* side_init - a side at endpoint ep that has sent nothing yet. */
static void side_init(struct tcp_side *s, const struct flow_endpoint *ep,
		      size_t limit)
{
	memset(s, 0, sizeof *s);
	s->ep = *ep;
	s->wscale = -1;
	s->wscale_offered = -1;
	stream_init(&s->stream, limit);
}

/* new_conn - append the connection pkt starts; 0, or -1 with errno. */
static int new_conn(struct tcp_table *t, int64_t ts,
		    const struct decoded_packet *pkt, size_t *index)
{
	if (reserve_conn(t) == -1)
		return -1;
	struct tcp_conn *c = &t->conns[t->count];
	memset(c, 0, sizeof *c);
	c->id = (unsigned)t->count + 1;

	/* As Zeek: the sender of the first packet is the originator, even of
	 * a SYN-ACK; if the SYN it answers comes next, the roles flip then. */
	uint8_t f = pkt->tcp.flags;
	bool pure_syn = (f & TCP_SYN) && !(f & TCP_ACK);
	side_init(&c->side[TCP_ORIG], &pkt->src, t->opt.stream_limit);
	side_init(&c->side[TCP_RESP], &pkt->dst, t->opt.stream_limit);
	zeek_init(&c->zeek, !pure_syn);
	c->partial_start = !pure_syn;
	c->first_ts = c->last_ts = ts;
	c->close.first_closer = c->close.first_fin = c->close.first_rst =
		TCP_NOBODY;
	*index = t->count++;
	return 0;
}

/* is_closed - true once either side sent a FIN or a RST (Zeek's IsClosed). */
static bool is_closed(const struct tcp_conn *c)
{
	return c->zeek.ep[0].did_close || c->zeek.ep[1].did_close;
}

/* is_reuse - true if pkt starts a new connection on c's ports (Zeek). */
static bool is_reuse(const struct tcp_conn *c, const struct decoded_packet *pkt)
{
	uint8_t f = pkt->tcp.flags;
	if (!(f & TCP_SYN) || (f & TCP_ACK))
		return false;
	if (is_closed(c))
		return true; /* after a close any SYN is new */
	/* The SYN a SYN-ACK seen first answered (the ack named its ISN) is
	 * the same connection, in the wrong order (Zeek's IsReuse). */
	const struct zeek_endpoint *o = &c->zeek.ep[0], *r = &c->zeek.ep[1];
	if (o->state == ZEEK_SYN_ACK_SENT && r->state == ZEEK_INACTIVE &&
	    pkt->tcp.seq == r->start_seq)
		return false;
	/* Otherwise a SYN with another ISN is a new connection. */
	return pkt->tcp.seq != o->start_seq;
}

/* add_hole - remember that [start, end) was skipped (forgotten if too many). */
static void add_hole(struct tcp_side *s, int64_t start, int64_t end)
{
	if (s->nholes < TCP_MAX_HOLES) {
		s->holes[s->nholes].start = start;
		s->holes[s->nholes].end = end;
		s->nholes++;
	}
}

/* fill_holes - take [start, end) out of the holes; true if it filled any. */
static bool fill_holes(struct tcp_side *s, int64_t start, int64_t end)
{
	bool filled = false;
	for (size_t i = 0; i < s->nholes;) {
		struct tcp_hole *h = &s->holes[i];
		if (start >= h->end || end <= h->start) {
			i++;
			continue;
		}
		filled = true;
		int64_t old_end = h->end;
		if (start <= h->start && end >= h->end) {
			s->holes[i] = s->holes[--s->nholes]; /* all of it */
			continue;
		}
		if (start <= h->start)
			h->start = end;
		else
			h->end = start;
		if (start > h->start && end < old_end)
			add_hole(s, end,
				 old_end); /* filled in the middle: two holes */
		i++;
	}
	return filled;
}

/* classify - keep-alive, retransmission, out of order or hole? */
static unsigned classify(struct tcp_side *s, uint8_t flags,
			 const struct zeek_result *zr, size_t len)
{
	bool rst = flags & TCP_RST;
	int64_t seg_len = (rst ? 0 : (int64_t)len) + !!(flags & TCP_SYN) +
			  !!(flags & TCP_FIN);
	int64_t end = zr->rel_seq + seg_len;
	unsigned notes = 0;
	if (s->seq_known && !rst) {
		/* A keep-alive is a bare ACK with 0 or 1 byte at one before the next
		 * sequence number (a retransmitted last byte would carry PSH). */
		bool bare_ack = (flags & ~(TCP_ECE | TCP_CWR)) == TCP_ACK;
		if (bare_ack && len <= 1 && zr->rel_seq == s->next_seq - 1)
			notes |= NOTE_KEEPALIVE;
		else if (seg_len > 0 && zr->rel_seq < s->next_seq)
			notes |= fill_holes(s, zr->rel_seq, end)
					 ? NOTE_OUT_OF_ORDER
					 : NOTE_RETRANSMISSION;
		else if (zr->rel_seq > s->next_seq) {
			notes |= NOTE_PREVIOUS_LOST;
			add_hole(s, s->next_seq, zr->rel_seq);
		}
	}
	if (!rst && !zr->seq_underflow && !(notes & NOTE_KEEPALIVE)) {
		if (!s->seq_known || end > s->next_seq)
			s->next_seq = end;
		s->seq_known = true;
	}
	return notes;
}

/* check_gap - an ack beyond all the peer was seen sending: Wireshark's
 * "ACKed unseen segment" (Zeek's 'G' is zeek.c's, from its reassembler). */
static unsigned check_gap(struct tcp_conn *c, enum tcp_dir dir, uint8_t flags,
			  int64_t rel_ack)
{
	enum tcp_dir other = dir == TCP_ORIG ? TCP_RESP : TCP_ORIG;
	struct tcp_side *peer = &c->side[other];
	/* Acks on FIN and RST segments at the very end are not reliable (Zeek). */
	if (!(flags & TCP_ACK) || (flags & (TCP_FIN | TCP_RST)) ||
	    !peer->seq_known || rel_ack <= peer->next_seq)
		return 0;
	peer->next_seq = rel_ack; /* report each hole once */
	return NOTE_ACKED_UNSEEN;
}

/* check_keepalive_ack - a bare ACK answering the peer's keep-alive. */
static unsigned check_keepalive_ack(struct tcp_side *me, struct tcp_side *peer,
				    uint8_t flags, size_t len, unsigned notes)
{
	bool answer = peer->keepalive_sent && len == 0 && (flags & TCP_ACK) &&
		      !(flags & (TCP_SYN | TCP_FIN | TCP_RST));
	peer->keepalive_sent = false;
	me->keepalive_sent = notes & NOTE_KEEPALIVE;
	return answer ? NOTE_KEEPALIVE_ACK : 0;
}

/* count_segment - per-side counters of one segment. */
static void count_segment(struct tcp_side *s, int64_t ts, uint8_t flags,
			  size_t len, unsigned notes)
{
	s->pkts++;
	if (len > 0 && !(flags & TCP_RST) &&
	    !(notes & (NOTE_KEEPALIVE | NOTE_RETRANSMISSION)))
		s->data_segs++;
	if (notes & NOTE_RETRANSMISSION)
		s->retransmissions++;
	if (notes & NOTE_KEEPALIVE)
		s->keepalives++;
	if ((flags & TCP_FIN) && s->fin_packets++ == 0)
		s->first_fin_ts = ts;
	if ((flags & TCP_RST) && s->rst_packets++ == 0)
		s->first_rst_ts = ts;
}

/* note_handshake - record SYN, SYN-ACK and the ACK that completes it. */
static void note_handshake(struct tcp_handshake *hs, enum tcp_dir dir,
			   uint8_t flags, int64_t ts)
{
	bool syn = flags & TCP_SYN, ack = flags & TCP_ACK;
	if (dir == TCP_ORIG && syn && !ack && !hs->syn) {
		hs->syn = true;
		hs->syn_ts = ts;
	}
	if (dir == TCP_RESP && syn && ack)
		hs->synack = true;
	if (dir == TCP_ORIG && !syn && ack && !(flags & TCP_RST) &&
	    hs->synack && !hs->ack) {
		hs->ack = true;
		hs->ack_ts = ts;
	}
}

/* note_completeness - Wireshark's completeness bits for one segment, given
 * those so far: a SYN counts only as the first segment seen (tshark gives
 * 30, not 31, when the SYN-ACK was captured before its SYN). */
static unsigned note_completeness(unsigned so_far, uint8_t flags, size_t len)
{
	unsigned bits = 0;
	if ((flags & TCP_SYN) && (flags & TCP_ACK))
		bits |= COMPLETENESS_SYNACK;
	else if ((flags & TCP_SYN) && so_far == 0)
		bits |= COMPLETENESS_SYN;
	else if (flags & TCP_ACK)
		bits |= COMPLETENESS_ACK;
	if (len > 0)
		bits |= COMPLETENESS_DATA;
	if (flags & TCP_FIN)
		bits |= COMPLETENESS_FIN;
	if (flags & TCP_RST)
		bits |= COMPLETENESS_RST;
	return bits;
}

/* note_close - gather the facts that classify the teardown later. */
static void note_close(struct tcp_close *cl, enum tcp_dir dir, uint8_t flags,
		       const struct zeek_result *zr, size_t len, bool new_data)
{
	if (new_data && cl->first_fin != TCP_NOBODY && cl->first_fin != dir &&
	    !cl->second_fin)
		cl->data_after_fin = true;
	if ((flags & (TCP_FIN | TCP_RST)) && cl->first_closer == TCP_NOBODY)
		cl->first_closer = dir;
	if (flags & TCP_RST) {
		if (cl->first_rst == TCP_NOBODY) {
			cl->first_rst = dir;
			cl->rst_after_fins = cl->second_fin;
		}
	} else if (flags & TCP_FIN) {
		if (cl->first_fin == TCP_NOBODY) {
			cl->first_fin = dir;
			cl->first_fin_end = zr->rel_seq + (int64_t)len + 1;
		} else if (cl->first_fin != dir && !cl->second_fin) {
			cl->second_fin = true;
			cl->second_acked_first =
				(flags & TCP_ACK) &&
				zr->rel_ack >= cl->first_fin_end;
		}
	}
}

/* note_window_scale - scaling is on only when both SYNs carried the option. */
static void note_window_scale(struct tcp_side *me, struct tcp_side *peer,
			      const struct tcp_header *h)
{
	if (!(h->flags & TCP_SYN))
		return;
	me->wscale_offered = h->wscale;
	if (h->flags & TCP_ACK) {
		bool both =
			me->wscale_offered >= 0 && peer->wscale_offered >= 0;
		me->wscale = both ? me->wscale_offered : 0;
		peer->wscale = both ? peer->wscale_offered : 0;
	}
}

/* scaled_window - the window a segment advertises, in bytes where known. */
static uint32_t scaled_window(const struct tcp_side *s,
			      const struct tcp_header *h)
{
	/* The window in a SYN is never scaled. */
	if ((h->flags & TCP_SYN) || s->wscale <= 0)
		return h->window;
	return (uint32_t)h->window << s->wscale;
}

/* add_event - append one segment to the connection's timeline; 0 or -1. */
static int add_event(struct tcp_conn *c, enum tcp_dir dir, int64_t ts,
		     const struct decoded_packet *pkt,
		     const struct zeek_result *zr, unsigned notes)
{
	if (reserve_event(c) == -1)
		return -1;
	struct tcp_event *e = &c->events[c->nevents++];
	memset(e, 0, sizeof *e);
	e->ts = ts;
	e->rel_seq = zr->rel_seq;
	e->rel_ack = zr->rel_ack;
	e->window = scaled_window(&c->side[dir], &pkt->tcp);
	e->len = (uint32_t)pkt->payload_len;
	e->dir = (uint8_t)dir;
	e->flags = pkt->tcp.flags;
	e->notes = (uint16_t)notes;
	size_t n = pkt->payload_caplen < TCP_EVENT_PREVIEW ? pkt->payload_caplen
							   : TCP_EVENT_PREVIEW;
	if (n > 0)
		memcpy(e->preview, pkt->payload, n);
	e->preview_len = (uint8_t)n;
	return 0;
}

/* add_payload - put the segment's captured payload into the sender's stream. */
static int add_payload(struct tcp_table *t, struct tcp_side *s,
		       const struct decoded_packet *pkt,
		       const struct zeek_result *zr, unsigned notes)
{
	uint8_t flags = pkt->tcp.flags;
	if (pkt->payload_caplen == 0 || (flags & TCP_RST) ||
	    zr->seq_underflow || (notes & NOTE_KEEPALIVE))
		return 0;
	/* Data starts one after the SYN; a SYN may carry data itself. */
	int64_t data_seq = zr->rel_seq + ((flags & TCP_SYN) ? 1 : 0);
	if (data_seq < 1)
		return 0;
	if (t->stream_memory >= t->opt.stream_budget) {
		t->streams_capped = true;
		return 0;
	}
	size_t before = s->stream.allocated;
	if (stream_add(&s->stream, (uint64_t)(data_seq - 1), pkt->payload,
		       pkt->payload_caplen) == -1)
		return -1;
	t->stream_memory += s->stream.allocated - before;
	return 0;
}

/* track_messages - cut the messages this segment completed in dir's stream;
 * their memory counts against the stream budget. 0, or -1 with errno. */
static int track_messages(struct tcp_table *t, struct tcp_conn *c,
			  enum tcp_dir dir, int64_t ts)
{
	/* The segment's index in the connection: its event's index too. */
	uint64_t segment = c->side[TCP_ORIG].pkts + c->side[TCP_RESP].pkts - 1;
	size_t before = c->hb.allocated;
	if (hb_scan(&c->hb, t->opt.hb, dir, &c->side[dir].stream, ts,
		    segment > UINT32_MAX ? UINT32_MAX : (uint32_t)segment) == -1)
		return -1;
	t->stream_memory += (c->hb.allocated - before) * sizeof *c->hb.msgs;
	return 0;
}

/* flip_conn - Zeek swapped the roles: the SYN-ACK seen first answered a SYN
 * seen later. Swap the sides and everything kept by direction. */
static void flip_conn(struct tcp_conn *c)
{
	struct tcp_side t = c->side[TCP_ORIG];
	c->side[TCP_ORIG] = c->side[TCP_RESP];
	c->side[TCP_RESP] = t;
	for (size_t i = 0; i < c->nevents; i++)
		c->events[i].dir = (uint8_t)!c->events[i].dir;
	for (size_t i = 0; i < c->hb.count; i++)
		c->hb.msgs[i].dir = (uint8_t)!c->hb.msgs[i].dir;
	struct hb_side h = c->hb.side[0];
	c->hb.side[0] = c->hb.side[1];
	c->hb.side[1] = h;
	c->handshake.synack = true; /* the flip needs the SYN-ACK seen first */
	c->partial_start = false;
}

/* track_segment - account one segment of connection c sent by dir; 0 or -1. */
static int track_segment(struct tcp_table *t, struct tcp_conn *c,
			 enum tcp_dir dir, int64_t ts,
			 const struct decoded_packet *pkt, unsigned notes)
{
	struct tcp_side *me = &c->side[dir];
	struct tcp_side *peer = &c->side[dir == TCP_ORIG ? TCP_RESP : TCP_ORIG];
	const struct tcp_header *h = &pkt->tcp;
	struct zeek_segment zs = {
		.is_orig = dir == TCP_ORIG,
		.flags = h->flags,
		.seq = h->seq,
		.ack = h->ack,
		.window = h->window,
		.len = pkt->payload_len,
		.caplen = pkt->payload_caplen,
	};
	struct zeek_result zr;

	zeek_process(&c->zeek, &zs, &zr);
	if (zr.flipped) {
		flip_conn(c);
		dir = dir == TCP_ORIG ? TCP_RESP : TCP_ORIG;
		me = &c->side[dir];
		peer = &c->side[dir == TCP_ORIG ? TCP_RESP : TCP_ORIG];
	}
	if (zr.start_reset) {
		me->seq_known = false;
		me->nholes = 0;
	}
	notes |= classify(me, h->flags, &zr, pkt->payload_len);
	notes |= check_gap(c, dir, h->flags, zr.rel_ack);
	notes |= check_keepalive_ack(me, peer, h->flags, pkt->payload_len,
				     notes);
	note_window_scale(me, peer, h);
	if (h->window == 0 && !(h->flags & (TCP_SYN | TCP_FIN | TCP_RST)))
		notes |= NOTE_ZERO_WINDOW;

	uint64_t data_before = me->data_segs;
	count_segment(me, ts, h->flags, pkt->payload_len, notes);
	note_handshake(&c->handshake, dir, h->flags, ts);
	c->completeness |=
		note_completeness(c->completeness, h->flags, pkt->payload_len);
	note_close(&c->close, dir, h->flags, &zr, pkt->payload_len,
		   me->data_segs > data_before);
	c->last_ts = ts;

	if (add_payload(t, me, pkt, &zr, notes) == -1)
		return -1;
	if (t->opt.hb != NULL && track_messages(t, c, dir, ts) == -1)
		return -1;
	if (t->opt.keep_events && add_event(c, dir, ts, pkt, &zr, notes) == -1)
		return -1;
	return 0;
}

/* find_or_start - the connection pkt belongs to, started if none; its
 * index, or FLOWTABLE_EMPTY with errno. */
static size_t find_or_start(struct tcp_table *t, int64_t ts,
			    const struct decoded_packet *pkt)
{
	struct flow_key key = flow_key_make(PROTO_TCP, &pkt->src, &pkt->dst);
	size_t i = flowtable_find(&t->index, &key);
	if (i != FLOWTABLE_EMPTY)
		return i;
	if (new_conn(t, ts, pkt, &i) == -1 ||
	    flowtable_put(&t->index, &key, i) == -1)
		return FLOWTABLE_EMPTY;
	return i;
}

int tcp_bad_checksum(struct tcp_table *t, int64_t ts,
		     const struct decoded_packet *pkt)
{
	size_t i = find_or_start(t, ts, pkt);
	if (i == FLOWTABLE_EMPTY)
		return -1;
	struct tcp_conn *c = &t->conns[i];
	bool orig = flow_endpoint_equal(&pkt->src, &c->side[TCP_ORIG].ep);
	c->side[orig ? TCP_ORIG : TCP_RESP].bad_checksums++;
	zeek_bad_checksum(&c->zeek, orig);
	return 0;
}

int tcp_track(struct tcp_table *t, int64_t ts, const struct decoded_packet *pkt)
{
	struct flow_key key = flow_key_make(PROTO_TCP, &pkt->src, &pkt->dst);
	size_t i = flowtable_find(&t->index, &key);
	unsigned notes = 0, replaced = 0;
	bool replaced_open = false;
	if (i != FLOWTABLE_EMPTY && is_reuse(&t->conns[i], pkt)) {
		replaced = t->conns[i].id;
		replaced_open = !is_closed(&t->conns[i]);
		notes |= NOTE_PORT_REUSE;
		i = FLOWTABLE_EMPTY;
	}
	if (i == FLOWTABLE_EMPTY) {
		if (new_conn(t, ts, pkt, &i) == -1 ||
		    flowtable_put(&t->index, &key, i) == -1)
			return -1;
		t->conns[i].reused_from = replaced;
		t->conns[i].reused_open = replaced_open;
	}
	struct tcp_conn *c = &t->conns[i];
	enum tcp_dir dir = flow_endpoint_equal(&pkt->src, &c->side[TCP_ORIG].ep)
				   ? TCP_ORIG
				   : TCP_RESP;
	return track_segment(t, c, dir, ts, pkt, notes);
}

const char *tcp_conn_state(const struct tcp_conn *c)
{
	return zeek_conn_state(&c->zeek);
}

uint64_t tcp_bytes(const struct tcp_conn *c, enum tcp_dir dir)
{
	return zeek_size(&c->zeek, dir == TCP_ORIG);
}

enum tcp_teardown tcp_teardown(const struct tcp_conn *c)
{
	const struct tcp_close *cl = &c->close;
	/* A RST ends the connection unless both sides had already sent FINs. */
	if (cl->first_rst != TCP_NOBODY && !cl->rst_after_fins)
		return cl->first_rst == TCP_ORIG ? TEARDOWN_RESET_BY_ORIG
						 : TEARDOWN_RESET_BY_RESP;
	if (cl->first_fin == TCP_NOBODY)
		return TEARDOWN_LEFT_OPEN;
	if (!cl->second_fin)
		return TEARDOWN_FIN_UNANSWERED;
	if (cl->data_after_fin)
		return TEARDOWN_HALF_CLOSE;
	return cl->second_acked_first ? TEARDOWN_FOUR_WAY_FIN
				      : TEARDOWN_SIMULTANEOUS_CLOSE;
}

enum tcp_dir tcp_first_closer(const struct tcp_conn *c)
{
	return c->close.first_closer;
}

bool tcp_partial_end(const struct tcp_conn *c)
{
	const struct tcp_close *cl = &c->close;
	return cl->first_rst == TCP_NOBODY && !cl->second_fin;
}

const char *tcp_teardown_name(enum tcp_teardown t)
{
	switch (t) {
	case TEARDOWN_LEFT_OPEN:
		return "left-open";
	case TEARDOWN_FOUR_WAY_FIN:
		return "four-way-fin";
	case TEARDOWN_SIMULTANEOUS_CLOSE:
		return "simultaneous-close";
	case TEARDOWN_HALF_CLOSE:
		return "half-close";
	case TEARDOWN_RESET_BY_ORIG:
		return "reset-by-originator";
	case TEARDOWN_RESET_BY_RESP:
		return "reset-by-responder";
	case TEARDOWN_FIN_UNANSWERED:
		return "fin-unanswered";
	}
	return "unknown";
}

const char *tcp_dir_name(enum tcp_dir d)
{
	return d == TCP_ORIG ? "orig" : d == TCP_RESP ? "resp" : "nobody";
}

const char *tcp_note_text(unsigned note)
{
	switch (note) {
	case NOTE_RETRANSMISSION:
		return "TCP Retransmission";
	case NOTE_KEEPALIVE:
		return "TCP Keep-Alive";
	case NOTE_PORT_REUSE:
		return "TCP Port numbers reused";
	case NOTE_PREVIOUS_LOST:
		return "TCP Previous segment not captured";
	case NOTE_ZERO_WINDOW:
		return "TCP ZeroWindow";
	case NOTE_ACKED_UNSEEN:
		return "TCP ACKed unseen segment";
	case NOTE_KEEPALIVE_ACK:
		return "TCP Keep-Alive ACK";
	case NOTE_OUT_OF_ORDER:
		return "TCP Out-Of-Order";
	default:
		return "?";
	}
}

size_t tcp_closings(const struct tcp_conn *c,
		    struct tcp_closing out[TCP_MAX_CLOSINGS])
{
	size_t n = 0;
	for (int d = TCP_ORIG; d <= TCP_RESP; d++) {
		const struct tcp_side *s = &c->side[d];
		if (s->fin_packets > 0)
			out[n++] = (struct tcp_closing){(enum tcp_dir)d,
							TCP_FIN,
							s->first_fin_ts};
		if (s->rst_packets > 0)
			out[n++] = (struct tcp_closing){(enum tcp_dir)d,
							TCP_RST,
							s->first_rst_ts};
	}
	/* Insertion sort: four items at most. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j].ts < out[j - 1].ts; j--) {
			struct tcp_closing t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

bool tcp_first_close_of(const struct tcp_conn *c, enum tcp_dir d, int64_t *ts)
{
	const struct tcp_side *s = &c->side[d];
	if (s->fin_packets == 0 && s->rst_packets == 0)
		return false;
	if (s->fin_packets > 0 &&
	    (s->rst_packets == 0 || s->first_fin_ts <= s->first_rst_ts))
		*ts = s->first_fin_ts;
	else
		*ts = s->first_rst_ts;
	return true;
}
