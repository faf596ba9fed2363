/* udp.h - UDP flows: datagrams each way and request/response pairing.
 *
 * A flow is every datagram between two endpoints, whichever way it goes;
 * its originator is the sender of the first datagram. A request (a
 * datagram from the originator) counts as answered when a datagram from
 * the responder follows it before the originator's next one.
 */
#ifndef PCAPCHECK_UDP_H
#define PCAPCHECK_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "flowtable.h"

enum {
	UDP_ORIG = 0,
	UDP_RESP = 1
};

#define UDP_PREVIEW	  64
#define UDP_EVENT_PREVIEW 24

/* One datagram as the timeline (pcapcheck inspect) shows it. */
struct udp_event {
	int64_t ts;
	uint32_t len;
	uint8_t dir;
	uint8_t preview_len;
	uint8_t preview[UDP_EVENT_PREVIEW];
};

struct udp_side {
	struct flow_endpoint ep;
	uint64_t dgrams, bytes;
	uint64_t bad_checksums; /* not counted in dgrams (--check-checksums) */
	uint8_t preview[UDP_PREVIEW]; /* start of its first datagram */
	size_t preview_len;
};

struct udp_flow {
	unsigned id;
	struct udp_side side[2]; /* [UDP_ORIG], [UDP_RESP] */
	int64_t first_ts, last_ts;
	uint64_t pairs;		  /* requests answered */
	bool awaiting_answer;	  /* the last datagram was a request */
	struct udp_event *events; /* only with keep_events */
	size_t nevents, events_allocated;
};

struct udp_table {
	struct udp_flow *flows;
	size_t count, allocated;
	struct flow_table index;
	bool keep_events;
};

/* udp_table_init - an empty table; keep_events keeps a timeline per flow. */
void udp_table_init(struct udp_table *t, bool keep_events);

/* udp_table_free - release every flow and the table itself. */
void udp_table_free(struct udp_table *t);

/* udp_track - account one UDP datagram seen at ts (ns); 0, or -1 with errno. */
int udp_track(struct udp_table *t, int64_t ts,
	      const struct decoded_packet *pkt);

/* udp_bad_checksum - a datagram with a bad checksum: counted apart in its
 * flow (started if none, as Zeek does); 0, or -1 with errno. */
int udp_bad_checksum(struct udp_table *t, int64_t ts,
		     const struct decoded_packet *pkt);

/* udp_unanswered - requests that no response followed. */
uint64_t udp_unanswered(const struct udp_flow *f);

#endif
