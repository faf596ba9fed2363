/* zeek.c - Zeek's model of a TCP connection (see zeek.h). */
#include "zeek.h"

#include <string.h>

#include "decode.h"

/* Zeek distrusts SYN and RST sequence numbers that jump further than this. */
#define TOO_LARGE_SEQ_DELTA 1048576

/* History letters recorded at most once per direction (responder: << 16). */
enum {
	HIST_SYN = 0x01,
	HIST_FIN = 0x02,
	HIST_RST = 0x04,
	HIST_FIN_RST = 0x08,
	HIST_DATA = 0x10,
	HIST_ACK = 0x20,
	HIST_MULTI_FLAG = 0x40
};

/* seq_delta - signed distance from b to a in the 32-bit sequence space. */
static int32_t seq_delta(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	return d <= INT32_MAX ? (int32_t)d : -(int32_t)(UINT32_MAX - d) - 1;
}

/* rel_near - the 64-bit relative sequence number of seq nearest to ref. */
static int64_t rel_near(uint32_t start, uint32_t seq, int64_t ref)
{
	return ref + seq_delta(seq - start, (uint32_t)ref);
}

/* add_letter - append a history letter, lower case for the responder. */
static void add_letter(struct zeek_conn *z, bool is_orig, char code)
{
	if (!is_orig)
		code = (char)(code - 'A' + 'a');
	if (z->history_len < ZEEK_HISTORY_MAX)
		z->history[z->history_len++] = code;
	z->history[z->history_len] = '\0';
}

/* check_letter - add code the first time mask is seen; true if seen before. */
static bool check_letter(struct zeek_conn *z, bool is_orig, uint32_t mask,
			 char code)
{
	if (!is_orig)
		mask <<= 16;
	if (z->hist_seen & mask)
		return true;
	z->hist_seen |= mask;
	add_letter(z, is_orig, code);
	return false;
}

/* scaled_letter - count an event; a letter at the 1st, 10th, 100th... */
static void scaled_letter(struct zeek_conn *z, bool is_orig,
			  struct zeek_scaled *c, char code)
{
	if (++c->count != c->threshold)
		return;
	add_letter(z, is_orig, code);
	uint32_t next = c->threshold * 10;
	if (next <= c->threshold)
		c->count = 0; /* the threshold would wrap: count again */
	else
		c->threshold = next;
}

/* reassembly_init - Zeek's reassembler before any data: byte 1 next. */
static void reassembly_init(struct zeek_endpoint *e)
{
	e->reassem = e->trim = 1;
	e->nblocks = 0;
}

/* endpoint_init - an endpoint that has sent nothing. */
static void endpoint_init(struct zeek_endpoint *e)
{
	memset(e, 0, sizeof *e);
	e->state = e->prev_state = ZEEK_INACTIVE;
	e->rxmt.threshold = e->win0.threshold = e->gap.threshold = 1;
	e->bad_sum.threshold = 1;
	reassembly_init(e);
}

void zeek_init(struct zeek_conn *z, bool partial)
{
	memset(z, 0, sizeof *z);
	endpoint_init(&z->ep[0]);
	endpoint_init(&z->ep[1]);
	z->partial = partial;
}

/* flip_roles - Zeek's FlipRoles: the endpoints swap, the history keeps
 * its letters (their case stays that of the old roles) and gets a '^'. */
static void flip_roles(struct zeek_conn *z)
{
	struct zeek_endpoint t = z->ep[0];
	z->ep[0] = z->ep[1];
	z->ep[1] = t;
	z->partial = false;
	add_letter(z, true, '^');
}

/* set_state - move an endpoint to a new state, remembering the previous one. */
static void set_state(struct zeek_endpoint *e, enum zeek_state state)
{
	if (state == e->state)
		return;
	e->prev_state = e->state;
	e->state = state;
}

/* start_space - begin an endpoint's sequence space at a segment. */
static void start_space(struct zeek_endpoint *e, bool syn, uint32_t seq,
			uint32_t seg_len)
{
	/* Without a SYN, pretend one came just before so that data starts at 1. */
	e->start_seq = syn ? seq : seq - 1;
	e->ack_rel = 0;
	e->last_rel = syn ? seg_len : 1;
	reassembly_init(e);
}

/* init_endpoint - set up or restart a sequence space; true if changed. */
static bool init_endpoint(struct zeek_endpoint *e, uint8_t flags, uint32_t seq,
			  uint32_t seg_len)
{
	bool syn = flags & TCP_SYN;
	uint32_t old_start = e->start_seq;
	switch (e->state) {
	case ZEEK_INACTIVE:
		start_space(e, syn, seq, seg_len);
		return true;
	case ZEEK_SYN_SENT:
	case ZEEK_SYN_ACK_SENT:
		if (syn && seq != e->start_seq)
			start_space(e, true, seq, seg_len);
		break;
	case ZEEK_ESTABLISHED:
	case ZEEK_PARTIAL:
		/* A SYN here: guess that this one really sets the connection up. */
		if (syn)
			start_space(e, true, seq, seg_len);
		break;
	case ZEEK_RESET:
		/* The RST that initialised us may have been spoofed: trust the SYN. */
		if (syn && e->prev_state == ZEEK_INACTIVE)
			start_space(e, true, seq, seg_len);
		break;
	case ZEEK_CLOSED:
		break;
	}
	return e->start_seq != old_start;
}

/* update_history - add the letters of one segment with Zeek's repeat rules. */
static void update_history(struct zeek_conn *z, bool is_orig,
			   struct zeek_endpoint *e, uint8_t flags,
			   int64_t rel_seq, size_t len)
{
	bool syn = flags & TCP_SYN, fin = flags & TCP_FIN,
	     rst = flags & TCP_RST;
	int control_bits = syn + fin + rst;
	if (control_bits > 1) {
		if (fin && rst)
			(void)check_letter(z, is_orig, HIST_FIN_RST, 'I');
		else
			(void)check_letter(z, is_orig, HIST_MULTI_FLAG, 'Q');
	} else if (syn) {
		char code = flags & TCP_ACK ? 'H' : 'S';
		if (check_letter(z, is_orig, HIST_SYN, code) &&
		    rel_seq != e->hist_last_syn)
			add_letter(z, is_orig, code);
		e->hist_last_syn = rel_seq;
	} else if (fin) {
		/* A FIN's position is after the data it carries. */
		int64_t fin_pos = rel_seq + (int64_t)len;
		if (check_letter(z, is_orig, HIST_FIN, 'F') &&
		    fin_pos != e->hist_last_fin)
			add_letter(z, is_orig, 'F');
		e->hist_last_fin = fin_pos;
	} else if (rst) {
		if (check_letter(z, is_orig, HIST_RST, 'R') &&
		    rel_seq != e->hist_last_rst)
			add_letter(z, is_orig, 'R');
		e->hist_last_rst = rel_seq;
	} else if (len > 0) {
		(void)check_letter(z, is_orig, HIST_DATA, 'D');
	} else if (flags & TCP_ACK) {
		(void)check_letter(z, is_orig, HIST_ACK, 'A');
	}
}

/* update_window - record a zero window advertisement that matters. */
static void update_window(struct zeek_conn *z, bool is_orig,
			  const struct zeek_endpoint *e,
			  const struct zeek_endpoint *peer,
			  const struct zeek_segment *s)
{
	/* Zero windows on or after a RST, or after the peer's FIN, are boring. */
	if (s->window == 0 && !(s->flags & TCP_RST) &&
	    peer->state != ZEEK_CLOSED && e->state != ZEEK_RESET)
		scaled_letter(z, is_orig, &z->ep[is_orig ? 0 : 1].win0, 'W');
}

/* init_peer - number a silent peer's sequence space from the ack we saw. */
static void init_peer(struct zeek_endpoint *peer, uint32_t ack)
{
	peer->start_seq = ack - 1;
	peer->ack_rel = 0;
	peer->last_rel = 0;
}

/* update_ack - advance the highest acknowledged sequence number of peer. */
static void update_ack(struct zeek_endpoint *peer, uint32_t ack,
		       int64_t rel_ack)
{
	int32_t delta =
		seq_delta(ack, peer->start_seq + (uint32_t)peer->ack_rel);
	/* An ack of 0 far ahead is more likely broken than a wrapped connection. */
	if (ack == 0 && delta > TOO_LARGE_SEQ_DELTA)
		return;
	if (delta > 0)
		peer->ack_rel = rel_ack;
}

/* update_last_seq - advance the highest sequence number; count rexmits. */
static void update_last_seq(struct zeek_conn *z, bool is_orig,
			    struct zeek_endpoint *e, uint32_t seq_end,
			    uint8_t flags, size_t len)
{
	int32_t delta =
		seq_delta(seq_end, e->start_seq + (uint32_t)e->last_rel);
	int64_t rel_end = e->last_rel + delta;
	bool jump = delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA;
	if ((flags & (TCP_SYN | TCP_RST)) && jump)
		return; /* do not trust it */
	if ((flags & TCP_FIN) && e->last_rel == 1)
		e->last_rel = rel_end; /* only SYN and FIN seen: trust FIN */
	else if (e->state == ZEEK_RESET)
		return; /* nothing after a RST is trusted */
	else if (delta > 0)
		e->last_rel = rel_end;
	else if (len > 0)
		scaled_letter(z, is_orig, &e->rxmt, 'T');
}

/* responder_syn - the responder's first SYN (or SYN-ACK). A SYN answering
 * the originator's SYN-ACK at its acked sequence number means the capture
 * saw the SYN-ACK first: Zeek flips the roles (and says so with '^'). */
static void responder_syn(struct zeek_endpoint *e, struct zeek_endpoint *peer,
			  uint8_t flags, uint32_t seq, bool *flip)
{
	if (!(flags & TCP_ACK) && peer->state == ZEEK_SYN_ACK_SENT &&
	    seq == e->start_seq) {
		*flip = true;
		set_state(peer, ZEEK_ESTABLISHED);
	}
	if (peer->state == ZEEK_SYN_SENT)
		set_state(peer, ZEEK_ESTABLISHED);
	set_state(e, ZEEK_ESTABLISHED);
}

/* inactive_state - the first segment from a side: what does it start? */
static bool inactive_state(struct zeek_conn *z, struct zeek_endpoint *e,
			   struct zeek_endpoint *peer, bool is_orig,
			   const struct zeek_segment *s, bool *flip)
{
	uint8_t flags = s->flags;
	size_t len = s->len;
	bool do_close = false;
	if (flags & TCP_SYN) {
		if (is_orig)
			set_state(e, flags & TCP_ACK ? ZEEK_SYN_ACK_SENT
						     : ZEEK_SYN_SENT);
		else
			responder_syn(e, peer, flags, s->seq, flip);
	}
	if (flags & TCP_FIN) {
		set_state(e, ZEEK_CLOSED);
		do_close = true;
	}
	if (flags & TCP_RST) {
		set_state(e, ZEEK_RESET);
		do_close = true;
	}
	if (e->state == ZEEK_INACTIVE) {
		/* Some stacks ack a SYN before answering it: not a partial connection. */
		if (!is_orig && len == 0 && z->ep[0].state == ZEEK_SYN_SENT)
			return do_close;
		if ((flags & TCP_ACK) && peer->state == ZEEK_ESTABLISHED)
			set_state(
				e,
				ZEEK_ESTABLISHED); /* we just missed its SYN */
		else
			set_state(e, ZEEK_PARTIAL);
	}
	return do_close;
}

/* syn_sent_state - a side that sent a SYN now closes or resets. */
static bool syn_sent_state(struct zeek_endpoint *e, uint8_t flags)
{
	bool do_close = false;
	if (flags & TCP_FIN) {
		set_state(e, ZEEK_CLOSED);
		do_close = true;
	}
	if (flags & TCP_RST) {
		set_state(e, ZEEK_RESET);
		do_close = true;
	}
	return do_close;
}

/* established_state - an open side sends FIN or RST (or a late SYN). */
static bool established_state(struct zeek_endpoint *e,
			      struct zeek_endpoint *peer, uint8_t flags)
{
	bool do_close = false;
	if ((flags & TCP_SYN) && e->state == ZEEK_PARTIAL &&
	    peer->state == ZEEK_INACTIVE && !(flags & TCP_ACK))
		set_state(e, ZEEK_SYN_SENT);
	if ((flags & TCP_FIN) && !(flags & TCP_RST)) {
		set_state(e, ZEEK_CLOSED);
		/* The peer sent FIN then RST: that was a normal close after all. */
		if (peer->state == ZEEK_RESET &&
		    peer->prev_state == ZEEK_CLOSED)
			set_state(peer, ZEEK_CLOSED);
		do_close = true;
	}
	if (flags & TCP_RST) {
		set_state(e, ZEEK_RESET);
		do_close = true;
	}
	return do_close;
}

/* closed_state - a RST after our FIN counts unless both sides had closed. */
static bool closed_state(struct zeek_endpoint *e,
			 const struct zeek_endpoint *peer, uint8_t flags)
{
	if ((flags & TCP_RST) && peer->state != ZEEK_CLOSED) {
		set_state(e, ZEEK_RESET);
		return !e->did_close;
	}
	return false;
}

/* update_state - Zeek's endpoint state machine; true if the side closed.
 * *flip is set when the roles must be swapped (see responder_syn). */
static bool update_state(struct zeek_conn *z, struct zeek_endpoint *e,
			 struct zeek_endpoint *peer, bool is_orig,
			 const struct zeek_segment *s, bool *flip)
{
	uint8_t flags = s->flags;
	switch (e->state) {
	case ZEEK_INACTIVE:
		return inactive_state(z, e, peer, is_orig, s, flip);
	case ZEEK_SYN_SENT:
	case ZEEK_SYN_ACK_SENT:
		return syn_sent_state(e, flags);
	case ZEEK_ESTABLISHED:
	case ZEEK_PARTIAL:
		return established_state(e, peer, flags);
	case ZEEK_CLOSED:
		return closed_state(e, peer, flags);
	case ZEEK_RESET:
		return false;
	}
	return false;
}

/* segment_length - sequence space a segment occupies (SYN and FIN count 1). */
static uint32_t segment_length(uint8_t flags, size_t len)
{
	uint32_t n = (uint32_t)len;
	if (flags & TCP_SYN)
		n++;
	if (flags & TCP_FIN)
		n++;
	if (flags & TCP_RST)
		n -= (uint32_t)len; /* data on a RST is not in the stream */
	return n;
}

/* follow_ack - number the acknowledgment and advance the peer's acked point. */
static int64_t follow_ack(struct zeek_endpoint *peer,
			  const struct zeek_segment *s)
{
	if (!(s->flags & TCP_ACK))
		return 0;
	if (peer->state == ZEEK_INACTIVE) {
		init_peer(peer, s->ack);
		return 1;
	}
	int64_t rel_ack = rel_near(peer->start_seq, s->ack, peer->ack_rel);
	if (rel_ack < 0)
		return 0; /* before the peer's start: cannot be numbered */
	if (!(s->flags & TCP_RST)) /* acks in RSTs are not trusted */
		update_ack(peer, s->ack, rel_ack);
	return rel_ack;
}

/* is_clean - Zeek reports gaps only between sides that are established
 * or closing cleanly (in other states they arise falsely). */
static bool is_clean(const struct zeek_endpoint *e)
{
	return e->state == ZEEK_ESTABLISHED ||
	       (e->state == ZEEK_CLOSED && e->prev_state == ZEEK_ESTABLISHED);
}

/* content_gap - side i's data skipped a hole: Zeek's 'G' (scaled). */
static void content_gap(struct zeek_conn *z, int i)
{
	if (is_clean(&z->ep[i]) && is_clean(&z->ep[!i]))
		scaled_letter(z, i == 0, &z->ep[i].gap, 'G');
}

/* drop_first_block - forget the first held block. */
static void drop_first_block(struct zeek_endpoint *e)
{
	e->nblocks--;
	memmove(e->blocks, e->blocks + 1, e->nblocks * sizeof e->blocks[0]);
}

/* deliver_held - deliver the held blocks that now touch the delivered data. */
static void deliver_held(struct zeek_endpoint *e)
{
	while (e->nblocks > 0 && e->blocks[0].start <= e->reassem) {
		if (e->blocks[0].end > e->reassem)
			e->reassem = e->blocks[0].end;
		drop_first_block(e);
	}
}

/* hold_block - keep [start, end) above a hole, merged and sorted. */
static void hold_block(struct zeek_endpoint *e, int64_t start, int64_t end)
{
	size_t i = 0;
	while (i < e->nblocks && e->blocks[i].end < start)
		i++;
	/* Merge with every block it overlaps or touches. */
	size_t j = i;
	while (j < e->nblocks && e->blocks[j].start <= end) {
		if (e->blocks[j].start < start)
			start = e->blocks[j].start;
		if (e->blocks[j].end > end)
			end = e->blocks[j].end;
		j++;
	}
	if (j == i && e->nblocks == ZEEK_MAX_BLOCKS)
		return; /* no room: forgotten (see ZEEK_MAX_BLOCKS) */
	memmove(e->blocks + i + 1, e->blocks + j,
		(e->nblocks - j) * sizeof e->blocks[0]);
	e->nblocks -= j - i;
	e->nblocks++;
	e->blocks[i] = (struct zeek_block){start, end};
}

/* data_sent - Zeek's DataSent: whole payload into the reassembler. */
static void data_sent(struct zeek_endpoint *e, int64_t start, int64_t end)
{
	/* What the peer acked was delivered or reported as a gap already. */
	int64_t floor = e->ack_rel > e->trim ? e->ack_rel : e->trim;
	if (end <= floor)
		return;
	if (start < floor)
		start = floor;
	if (start <= e->reassem) {
		if (end > e->reassem)
			e->reassem = end;
		deliver_held(e);
	} else {
		hold_block(e, start, end);
	}
}

/* undelivered - the peer acked up to up_to: every hole below is a gap. */
static void undelivered(struct zeek_conn *z, int i, int64_t up_to)
{
	struct zeek_endpoint *e = &z->ep[i];
	/* A partial connection's faked start: the first byte or two acked but
	 * never seen are not worth a gap (Zeek, TCP_Reassembler::Undelivered). */
	if (up_to <= 2 && z->partial)
		return;
	while (e->nblocks > 0 && e->blocks[0].start < up_to) {
		content_gap(z, i);
		e->reassem = e->blocks[0].start;
		deliver_held(e);
	}
	if (up_to > e->reassem) {
		content_gap(z, i);
		e->reassem = up_to;
	}
}

/* ack_received - Zeek's AckReceived for side i's data: a FIN is not data. */
static void ack_received(struct zeek_conn *z, int i, int64_t rel_ack)
{
	struct zeek_endpoint *e = &z->ep[i];
	if (e->fin_cnt > 0 && rel_ack >= e->fin_seq)
		rel_ack = e->fin_seq - 1;
	if (rel_ack <= e->trim)
		return;
	if (rel_ack > e->reassem)
		undelivered(z, i, rel_ack);
	e->trim = rel_ack;
}

/* wants_contents - Zeek hands a segment's payload to the reassembler only
 * when all of it was captured (a snaplen cut leaves a hole). */
static bool wants_contents(const struct zeek_segment *s,
			   const struct zeek_result *r)
{
	return s->len > 0 && s->caplen >= s->len && !(s->flags & TCP_RST) &&
	       !r->seq_underflow;
}

void zeek_process(struct zeek_conn *z, const struct zeek_segment *s,
		  struct zeek_result *r)
{
	int me = s->is_orig ? 0 : 1;
	struct zeek_endpoint *e = &z->ep[me];
	struct zeek_endpoint *peer = &z->ep[!me];
	uint32_t seg_len = segment_length(s->flags, s->len);

	r->flipped = false;
	r->start_reset = init_endpoint(e, s->flags, s->seq, seg_len);
	r->rel_seq = rel_near(e->start_seq, s->seq, e->last_rel);
	r->seq_underflow = r->rel_seq < 0;
	update_history(z, s->is_orig, e, s->flags, r->rel_seq, s->len);
	update_window(z, s->is_orig, e, peer, s);
	if (s->flags & TCP_FIN) {
		e->fin_cnt++;
		e->fin_seq = r->rel_seq + seg_len;
	}
	r->rel_ack = follow_ack(peer, s);
	update_last_seq(z, s->is_orig, e, s->seq + seg_len, s->flags, s->len);
	bool flip = false;
	if (update_state(z, e, peer, s->is_orig, s, &flip))
		e->did_close = true;
	if (flip) {
		flip_roles(z);
		me = !me; /* the same side, now at the other index */
		r->flipped = true;
	}
	/* After the state update, so that a gap an ack reveals knows whether
	 * the connection was closing (Zeek's order). */
	if (s->flags & TCP_ACK)
		ack_received(z, !me, r->rel_ack);
	if (wants_contents(s, r)) {
		int64_t data = r->rel_seq + ((s->flags & TCP_SYN) ? 1 : 0);
		data_sent(&z->ep[me], data, data + (int64_t)s->len);
	}
}

void zeek_bad_checksum(struct zeek_conn *z, bool is_orig)
{
	scaled_letter(z, is_orig, &z->ep[is_orig ? 0 : 1].bad_sum, 'C');
}

uint64_t zeek_size(const struct zeek_conn *z, bool is_orig)
{
	const struct zeek_endpoint *e = &z->ep[is_orig ? 0 : 1];
	const struct zeek_endpoint *peer = &z->ep[is_orig ? 1 : 0];
	bool data_acked = e->ack_rel != 0 && e->ack_rel != 1;
	/* A half-open connection found and aborted: its numbers mean nothing. */
	if (e->prev_state == ZEEK_SYN_SENT && e->state == ZEEK_RESET &&
	    peer->state == ZEEK_INACTIVE && data_acked)
		return 0;
	int64_t size = e->last_rel > e->ack_rel ? e->last_rel : e->ack_rel;
	if (size <= 0)
		return 0;
	size--; /* the SYN (real or pretended) */
	if (e->fin_cnt > 0 && size != 0)
		size--; /* the FIN */
	return (uint64_t)size;
}

/* rstos0_history - true if history matches Zeek's /^?S[^HAFGIQ]*R.* /. */
static bool rstos0_history(const char *h)
{
	if (*h == '^')
		h++;
	if (*h++ != 'S')
		return false;
	for (; *h != '\0' && *h != 'R'; h++)
		if (strchr("HAFGIQ", *h) != NULL)
			return false;
	return *h == 'R';
}

/* is_inactive - Zeek counts a side with only partial data as inactive. */
static bool is_inactive(enum zeek_state s)
{
	return s == ZEEK_INACTIVE || s == ZEEK_PARTIAL;
}

/* conn_state_reset - conn_state when the responder sent a RST. */
static const char *conn_state_reset(const struct zeek_conn *z,
				    enum zeek_state os)
{
	if (os == ZEEK_SYN_SENT || os == ZEEK_SYN_ACK_SENT ||
	    (os == ZEEK_RESET && zeek_size(z, true) == 0 &&
	     zeek_size(z, false) == 0))
		return "REJ";
	return is_inactive(os) ? "RSTRH" : "RSTR";
}

const char *zeek_conn_state(const struct zeek_conn *z)
{
	enum zeek_state os = z->ep[0].state, rs = z->ep[1].state;
	if (rs == ZEEK_RESET)
		return conn_state_reset(z, os);
	if (os == ZEEK_RESET) {
		if (!is_inactive(rs))
			return "RSTO";
		return rstos0_history(z->history) ? "RSTOS0" : "OTH";
	}
	if (rs == ZEEK_CLOSED && os == ZEEK_CLOSED)
		return "SF";
	if (os == ZEEK_CLOSED)
		return is_inactive(rs) ? "SH" : "S2";
	if (rs == ZEEK_CLOSED)
		return is_inactive(os) ? "SHR" : "S3";
	if (os == ZEEK_SYN_SENT && rs == ZEEK_INACTIVE)
		return "S0";
	if (os == ZEEK_ESTABLISHED && rs == ZEEK_ESTABLISHED)
		return "S1";
	return "OTH";
}

const char *zeek_state_name(enum zeek_state state)
{
	static const char *const names[] = {
		"INACTIVE",    "SYN_SENT", "SYN_ACK_SENT", "PARTIAL",
		"ESTABLISHED", "CLOSED",   "RESET"};
	return (size_t)state < sizeof names / sizeof names[0] ? names[state]
							      : "?";
}
