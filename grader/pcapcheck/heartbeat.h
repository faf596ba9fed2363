/* heartbeat.h - application messages and heartbeats of one TCP connection.
 *
 * A lab's config gives a small matcher: a delimiter that ends every
 * message, a request prefix and a reply prefix. Messages are cut from
 * each direction's reassembled stream as it grows, so segmentation does
 * not matter and retransmitted or keep-alive bytes never make a message.
 * A message's time is the capture time of the segment that completed it
 * in the stream (for data in order: the one that carried the delimiter).
 * Requests and replies are remembered by their key (the rest of the
 * message after the prefix); hb_summarize() pairs them and computes the
 * intervals, misses and reply delays once, after the capture was read.
 */
#ifndef PCAPCHECK_HEARTBEAT_H
#define PCAPCHECK_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define HB_TEXT_MAX	 64 /* bytes of a prefix or delimiter */
#define HB_DEFAULT_DELIM "\\n"
#define HB_EVENTS_MAX	 10000 /* requests listed one by one in the JSON */
#define HB_NONE		 ((size_t)-1)

/* The lab's matcher: prefixes and delimiter as raw bytes. */
struct hb_matcher {
	uint8_t request[HB_TEXT_MAX], reply[HB_TEXT_MAX], delim[HB_TEXT_MAX];
	size_t request_len, reply_len, delim_len;
};

enum hb_kind {
	HB_OTHER = 0, /* a message, neither request nor reply */
	HB_REQUEST = 1,
	HB_REPLY = 2
};

/* One request or reply; the key stays in the sender's stream. */
struct hb_message {
	int64_t ts;	  /* ns: capture time of the segment completing it */
	uint64_t key_off; /* offset of the key in the sender's stream */
	uint32_t key_len;
	uint32_t segment; /* index of that segment in the connection */
	uint8_t dir;	  /* 0 orig, 1 resp (as enum tcp_dir) */
	uint8_t kind;	  /* HB_REQUEST or HB_REPLY */
};

/* Where the message cutter of one direction stands. */
struct hb_side {
	uint64_t scanned;   /* stream bytes searched for delimiters */
	uint64_t msg_start; /* offset where the current message began */
	uint64_t messages;  /* complete messages so far */
};

/* Per connection: the cutters and every request and reply in order. */
struct hb_conn {
	struct hb_side side[2];
	struct hb_message *msgs;
	size_t count, allocated;
};

/* Mean and spread of a series of durations, all in ns. */
struct hb_stats {
	uint64_t count;
	int64_t mean, min, max, stddev;
};

/* What the reports show of one connection's heartbeats. */
struct hb_summary {
	int requester; /* 0 orig, 1 resp, 2 nobody */
	uint64_t requests, replies, pairs, unanswered, max_unanswered_run;
	struct hb_stats interval, delay;
	size_t *reply_of; /* per message: index of its reply, or HB_NONE */
};

/* hb_unescape - C escapes (\n \r \t \\ \xHH) of text into out; 0, or -1. */
int hb_unescape(const char *text, uint8_t *out, size_t cap, size_t *len);

/* hb_matcher_init - a matcher from the command-line texts; 0, or -1 with
 * a reason in err (bad escape, empty or too long, same prefixes). */
int hb_matcher_init(struct hb_matcher *m, const char *request,
		    const char *reply, const char *delim, char *err,
		    size_t errlen);

/* hb_classify - request, reply or other; *key_off is where its key starts. */
enum hb_kind hb_classify(const struct hb_matcher *m, const uint8_t *msg,
			 size_t n, size_t *key_off);

/* hb_conn_free - release a connection's message list. */
void hb_conn_free(struct hb_conn *h);

/* hb_scan - cut the messages that stream s (of direction dir) completed
 * since the last call, by the segment with index segment seen at ts;
 * 0, or -1 with errno. */
int hb_scan(struct hb_conn *h, const struct hb_matcher *m, int dir,
	    const struct stream *s, int64_t ts, uint32_t segment);

/* hb_summarize - pair requests and replies and compute the statistics;
 * streams[0] and [1] hold the keys. 0, or -1 with errno. */
int hb_summarize(const struct hb_conn *h, const struct stream *const streams[2],
		 struct hb_summary *out);

/* hb_summary_free - release what hb_summarize allocated. */
void hb_summary_free(struct hb_summary *s);

/* hb_key - the key bytes of message i; *n gets their count. */
const uint8_t *hb_key(const struct hb_conn *h, size_t i,
		      const struct stream *const streams[2], size_t *n);

#endif
