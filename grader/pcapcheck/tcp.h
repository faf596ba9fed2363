/* tcp.h - TCP connection tracking: one record per connection, found by
 * its 4-tuple, with Zeek's verdict and our own counters beside it.
 *
 * Feed every decoded TCP segment to tcp_track() in capture order. A new
 * SYN with a new ISN on a 4-tuple whose connection has closed starts a
 * new record (port reuse), as in Zeek. Each record keeps what a grader
 * or a TA asks about: handshake, bytes and segments each way,
 * retransmissions, keep-alives, how it ended, and the first bytes of the
 * reassembled stream in each direction.
 */
#ifndef PCAPCHECK_TCP_H
#define PCAPCHECK_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "flowtable.h"
#include "heartbeat.h"
#include "stream.h"
#include "zeek.h"

/* Directions: who sent a segment. TCP_NOBODY means "not seen". */
enum tcp_dir {
	TCP_ORIG = 0,
	TCP_RESP = 1,
	TCP_NOBODY = 2
};

/* Wireshark's tcp.completeness bits. */
enum {
	COMPLETENESS_SYN = 1,
	COMPLETENESS_SYNACK = 2,
	COMPLETENESS_ACK = 4,
	COMPLETENESS_DATA = 8,
	COMPLETENESS_FIN = 16,
	COMPLETENESS_RST = 32
};

/* Notes on a segment, in Wireshark's words (see tcp_note_text). */
enum {
	NOTE_RETRANSMISSION = 1,
	NOTE_KEEPALIVE = 2,
	NOTE_PORT_REUSE = 4,
	NOTE_PREVIOUS_LOST = 8,
	NOTE_ZERO_WINDOW = 16,
	NOTE_ACKED_UNSEEN = 32,
	NOTE_KEEPALIVE_ACK = 64,
	NOTE_OUT_OF_ORDER = 128
};

enum tcp_teardown {
	TEARDOWN_LEFT_OPEN,
	TEARDOWN_FOUR_WAY_FIN,
	TEARDOWN_SIMULTANEOUS_CLOSE,
	TEARDOWN_HALF_CLOSE,
	TEARDOWN_RESET_BY_ORIG,
	TEARDOWN_RESET_BY_RESP,
	TEARDOWN_FIN_UNANSWERED
};

#define TCP_EVENT_PREVIEW 24

/* One segment as the timeline (pcapcheck inspect) shows it. */
struct tcp_event {
	int64_t ts; /* nanoseconds since the epoch */
	int64_t rel_seq, rel_ack;
	uint32_t window; /* scaled when both SYNs agreed on scaling */
	uint32_t len;	 /* payload bytes on the wire */
	uint8_t dir, flags;
	uint16_t notes;
	uint8_t preview_len;
	uint8_t preview[TCP_EVENT_PREVIEW];
};

#define TCP_MAX_HOLES 4

/* Sequence numbers [start, end) skipped by a side: not seen (yet). */
struct tcp_hole {
	int64_t start, end;
};

/* What one side sent, and what we learned from it. */
struct tcp_side {
	struct flow_endpoint ep;
	bool seq_known;	     /* next_seq is meaningful */
	bool keepalive_sent; /* its last segment was a keep-alive */
	int64_t next_seq; /* one past the highest relative sequence number sent */
	struct tcp_hole holes[TCP_MAX_HOLES]; /* below next_seq, not seen */
	size_t nholes;
	int wscale;	    /* window scale in use, or -1 while unknown */
	int wscale_offered; /* window scale option in its SYN, or -1 */
	uint64_t pkts, data_segs, retransmissions, keepalives;
	uint64_t fin_packets, rst_packets;
	uint64_t bad_checksums; /* not counted in pkts (--check-checksums) */
	int64_t first_fin_ts, first_rst_ts; /* ns; valid once a count is > 0 */
	struct stream stream;
};

/* Facts about the end of a connection, gathered as segments arrive. */
struct tcp_close {
	enum tcp_dir first_closer; /* who sent the first FIN or RST */
	enum tcp_dir first_fin;	   /* who sent the first FIN */
	int64_t first_fin_end; /* relative sequence number just past that FIN */
	bool second_fin;       /* the other side sent a FIN too */
	bool second_acked_first; /* ... acknowledging the first FIN */
	bool data_after_fin; /* the other side sent new data between the FINs */
	enum tcp_dir first_rst; /* who sent the first RST */
	bool rst_after_fins;	/* that RST came after both sides' FINs */
};

struct tcp_handshake {
	bool syn, synack, ack;
	int64_t syn_ts, ack_ts; /* first SYN, ACK completing the handshake */
};

struct tcp_conn {
	unsigned id;		 /* 1, 2, ... in order of first packet */
	struct tcp_side side[2]; /* [TCP_ORIG], [TCP_RESP] */
	struct zeek_conn zeek;
	int64_t first_ts, last_ts;
	bool partial_start; /* no SYN from the originator seen first */
	bool reused_open;   /* took over a 4-tuple whose connection was open */
	unsigned reused_from; /* id of the connection it replaced, or 0 */
	unsigned completeness;
	struct tcp_handshake handshake;
	struct tcp_close close;
	struct tcp_event *events; /* only with tcp_options.keep_events */
	size_t nevents, events_allocated;
	struct hb_conn hb; /* messages; only with tcp_options.hb */
};

/* Memory all reassembled streams may take together (passed once at most). */
#define TCP_DEFAULT_STREAM_BUDGET ((size_t)256 << 20)

struct tcp_options {
	size_t stream_limit;  /* bytes of each direction to reassemble */
	size_t stream_budget; /* bytes of stream memory for all connections */
	bool keep_events;     /* keep a timeline of segments (inspect) */
	const struct hb_matcher *hb; /* cut messages and heartbeats, or NULL */
};

struct tcp_table {
	struct tcp_conn *conns;
	size_t count, allocated;
	struct flow_table index; /* 4-tuple -> its newest connection */
	struct tcp_options opt;
	size_t stream_memory; /* allocated by all streams */
	bool streams_capped; /* the budget was reached: later payload not kept */
};

/* tcp_table_init - an empty table with the given options. */
void tcp_table_init(struct tcp_table *t, const struct tcp_options *opt);

/* tcp_table_free - release every connection and the table itself. */
void tcp_table_free(struct tcp_table *t);

/* tcp_track - account one TCP segment seen at ts (ns); 0, or -1 with errno. */
int tcp_track(struct tcp_table *t, int64_t ts,
	      const struct decoded_packet *pkt);

/* tcp_bad_checksum - a segment with a bad checksum: found (or started) a
 * connection as Zeek does, marked 'C', used no further; 0 or -1 with errno. */
int tcp_bad_checksum(struct tcp_table *t, int64_t ts,
		     const struct decoded_packet *pkt);

/* tcp_conn_state - Zeek's conn_state of a connection ("SF", "REJ", ...). */
const char *tcp_conn_state(const struct tcp_conn *c);

/* tcp_bytes - payload bytes one side sent, from sequence numbers (as Zeek). */
uint64_t tcp_bytes(const struct tcp_conn *c, enum tcp_dir dir);

/* tcp_teardown - how the connection ended. */
enum tcp_teardown tcp_teardown(const struct tcp_conn *c);

/* tcp_first_closer - who sent the first FIN (or RST), TCP_NOBODY if none. */
enum tcp_dir tcp_first_closer(const struct tcp_conn *c);

/* One side's first FIN or first RST. */
struct tcp_closing {
	enum tcp_dir from;
	uint8_t flag; /* TCP_FIN or TCP_RST */
	int64_t ts;   /* ns since the epoch */
};

#define TCP_MAX_CLOSINGS 4

/* tcp_closings - each side's first FIN and first RST, in time order, into
 * out; returns how many there are (at most TCP_MAX_CLOSINGS). */
size_t tcp_closings(const struct tcp_conn *c,
		    struct tcp_closing out[TCP_MAX_CLOSINGS]);

/* tcp_first_close_of - when side d sent its first FIN or RST: true and *ts,
 * or false if it sent neither. */
bool tcp_first_close_of(const struct tcp_conn *c, enum tcp_dir d, int64_t *ts);

/* tcp_partial_end - true if the capture stopped before the close. */
bool tcp_partial_end(const struct tcp_conn *c);

/* tcp_teardown_name - "four-way-fin", "reset-by-originator", ... */
const char *tcp_teardown_name(enum tcp_teardown t);

/* tcp_dir_name - "orig" or "resp" (or "nobody"). */
const char *tcp_dir_name(enum tcp_dir d);

/* tcp_note_text - Wireshark's text for one NOTE_ bit ("TCP Retransmission"). */
const char *tcp_note_text(unsigned note);

#endif
