/* zeek.h - Zeek's model of a TCP connection: endpoint states, history
 * letters, byte counts from sequence numbers, and conn_state.
 *
 * TAs read Zeek's conn.log vocabulary (SF, REJ, RSTO, "ShADadFf"), so the
 * verdict must mean exactly what it means in Zeek. This file follows the
 * per-packet steps of Zeek's TCP session analyzer: initialise an endpoint's
 * sequence space, add history letters, follow the acks, move the endpoint
 * state machine. Only what feeds conn.log is kept (no weirds, no timers).
 * Sequence numbers are kept relative to the endpoint's start and 64 bits
 * wide, so a 32-bit wraparound needs no special case.
 */
#ifndef PCAPCHECK_ZEEK_H
#define PCAPCHECK_ZEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum zeek_state {
	ZEEK_INACTIVE,	   /* nothing seen from this side */
	ZEEK_SYN_SENT,	   /* SYN seen, not yet answered */
	ZEEK_SYN_ACK_SENT, /* SYN-ACK seen from the originator (odd) */
	ZEEK_PARTIAL,	   /* data seen, but no SYN */
	ZEEK_ESTABLISHED,
	ZEEK_CLOSED, /* FIN sent */
	ZEEK_RESET   /* RST sent */
};

/* Data above a hole that Zeek's reassembler holds: [start, end). */
struct zeek_block {
	int64_t start, end;
};

/* Islands of data above a hole remembered per side; more are forgotten
 * (then an ack over them counts as a gap, where Zeek would not). */
#define ZEEK_MAX_BLOCKS 16

/* A history letter that Zeek repeats at 1, 10, 100, ... occurrences. */
struct zeek_scaled {
	uint32_t count, threshold;
};

struct zeek_endpoint {
	enum zeek_state state, prev_state;
	uint32_t start_seq; /* the ISN, or the first sequence number - 1 */
	int64_t last_rel;   /* one past the highest sequence number sent */
	int64_t ack_rel;    /* highest sequence number the peer acknowledged */
	uint32_t fin_cnt;
	int64_t fin_seq; /* just past the last FIN */
	bool did_close;
	int64_t hist_last_syn, hist_last_fin, hist_last_rst;
	struct zeek_scaled rxmt, win0, gap, bad_sum;
	/* Zeek's reassembler: the data it holds decides what is a gap. */
	int64_t reassem; /* next byte to deliver (last_reassem_seq) */
	int64_t trim;	 /* the highest ack taken into account (trim_seq) */
	struct zeek_block blocks[ZEEK_MAX_BLOCKS]; /* above reassem, sorted */
	size_t nblocks;
};

#define ZEEK_HISTORY_MAX 64

struct zeek_conn {
	struct zeek_endpoint ep[2]; /* [0] originator, [1] responder */
	char history[ZEEK_HISTORY_MAX + 1];
	size_t history_len;
	uint32_t hist_seen; /* letters already recorded once */
	bool partial;	    /* the first packet was not a SYN (is_partial) */
};

/* One TCP segment as Zeek's analyzer sees it. */
struct zeek_segment {
	bool is_orig;
	uint8_t flags; /* TCP_SYN, TCP_ACK, ... from decode.h */
	uint32_t seq, ack;
	uint16_t window;
	size_t len;    /* payload bytes (from the IP length) */
	size_t caplen; /* of them captured: Zeek reassembles only whole ones */
};

/* What the analyzer worked out about a segment, for the caller's own use. */
struct zeek_result {
	int64_t rel_seq;    /* relative to the sender's start (SYN = 0) */
	int64_t rel_ack;    /* relative to the receiver's start, 0 if unknown */
	bool seq_underflow; /* the segment lies before the sender's start */
	bool start_reset; /* the sender's sequence space was (re)initialised */
	bool flipped; /* a SYN answered a SYN-ACK seen first: roles swapped */
};

/* zeek_init - a connection with nothing seen; partial if its first
 * packet is not a SYN (a SYN-ACK included: Zeek flips only later). */
void zeek_init(struct zeek_conn *z, bool partial);

/* zeek_process - run one segment through Zeek's per-packet steps. After a
 * flip (r->flipped) the endpoints are swapped: ep[0] is the new originator. */
void zeek_process(struct zeek_conn *z, const struct zeek_segment *s,
		  struct zeek_result *r);

/* zeek_bad_checksum - a segment with a bad checksum: Zeek's 'C', counted
 * at the 1st, 10th, 100th..., and nothing else of the segment is used. */
void zeek_bad_checksum(struct zeek_conn *z, bool is_orig);

/* zeek_size - payload bytes a side sent, from sequence numbers (Size()). */
uint64_t zeek_size(const struct zeek_conn *z, bool is_orig);

/* zeek_conn_state - Zeek's conn_state for the connection as it stands now. */
const char *zeek_conn_state(const struct zeek_conn *z);

/* zeek_state_name - the name of an endpoint state, e.g. "ESTABLISHED". */
const char *zeek_state_name(enum zeek_state state);

#endif
