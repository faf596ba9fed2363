/* udp.c - UDP flows (see udp.h). */
#include "udp.h"

#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UDP_MIN_FLOWS  16
#define UDP_MIN_EVENTS 16

void udp_table_init(struct udp_table *t, bool keep_events)
{
	memset(t, 0, sizeof *t);
	t->keep_events = keep_events;
	flowtable_init(&t->index);
}

void udp_table_free(struct udp_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->flows[i].events);
	free(t->flows);
	flowtable_free(&t->index);
	memset(t, 0, sizeof *t);
}

/* new_flow - append a flow started by pkt; 0, or -1 with errno. */
static int new_flow(struct udp_table *t, int64_t ts,
		    const struct decoded_packet *pkt, size_t *index)
{
	if (t->count == t->allocated) {
		struct udp_flow *flows = array_grow(
			t->flows, &t->allocated, UDP_MIN_FLOWS, sizeof *flows);
		if (flows == NULL)
			return -1;
		t->flows = flows;
	}
	struct udp_flow *f = &t->flows[t->count];
	memset(f, 0, sizeof *f);
	f->id = (unsigned)t->count + 1;
	f->side[UDP_ORIG].ep = pkt->src;
	f->side[UDP_RESP].ep = pkt->dst;
	f->first_ts = f->last_ts = ts;
	*index = t->count++;
	return 0;
}

/* add_event - append a datagram to the timeline; 0, or -1 with errno. */
static int add_event(struct udp_flow *f, int dir, int64_t ts,
		     const struct decoded_packet *pkt)
{
	if (f->nevents == f->events_allocated) {
		struct udp_event *events =
			array_grow(f->events, &f->events_allocated,
				   UDP_MIN_EVENTS, sizeof *events);
		if (events == NULL)
			return -1;
		f->events = events;
	}
	struct udp_event *e = &f->events[f->nevents++];
	e->ts = ts;
	e->len = (uint32_t)pkt->payload_len;
	e->dir = (uint8_t)dir;
	size_t n = pkt->payload_caplen < UDP_EVENT_PREVIEW ? pkt->payload_caplen
							   : UDP_EVENT_PREVIEW;
	if (n > 0)
		memcpy(e->preview, pkt->payload, n);
	e->preview_len = (uint8_t)n;
	return 0;
}

/* count_datagram - per-side counters and request/response pairing. */
static void count_datagram(struct udp_flow *f, int dir,
			   const struct decoded_packet *pkt)
{
	struct udp_side *s = &f->side[dir];
	if (s->dgrams == 0) {
		size_t n = pkt->payload_caplen < UDP_PREVIEW
				   ? pkt->payload_caplen
				   : UDP_PREVIEW;
		if (n > 0)
			memcpy(s->preview, pkt->payload, n);
		s->preview_len = n;
	}
	s->dgrams++;
	s->bytes += pkt->payload_len;
	if (dir == UDP_ORIG) {
		f->awaiting_answer = true;
	} else if (f->awaiting_answer) {
		f->pairs++;
		f->awaiting_answer = false;
	}
}

/* find_or_start - the flow of pkt, started if none; 0, or -1 with errno. */
static int find_or_start(struct udp_table *t, int64_t ts,
			 const struct decoded_packet *pkt, size_t *i)
{
	struct flow_key key = flow_key_make(PROTO_UDP, &pkt->src, &pkt->dst);
	*i = flowtable_find(&t->index, &key);
	if (*i != FLOWTABLE_EMPTY)
		return 0;
	if (new_flow(t, ts, pkt, i) == -1 ||
	    flowtable_put(&t->index, &key, *i) == -1)
		return -1;
	return 0;
}

int udp_bad_checksum(struct udp_table *t, int64_t ts,
		     const struct decoded_packet *pkt)
{
	size_t i;
	if (find_or_start(t, ts, pkt, &i) == -1)
		return -1;
	struct udp_flow *f = &t->flows[i];
	bool orig = flow_endpoint_equal(&pkt->src, &f->side[UDP_ORIG].ep);
	f->side[orig ? UDP_ORIG : UDP_RESP].bad_checksums++;
	return 0;
}

int udp_track(struct udp_table *t, int64_t ts, const struct decoded_packet *pkt)
{
	size_t i;
	if (find_or_start(t, ts, pkt, &i) == -1)
		return -1;
	struct udp_flow *f = &t->flows[i];
	int dir = flow_endpoint_equal(&pkt->src, &f->side[UDP_ORIG].ep)
			  ? UDP_ORIG
			  : UDP_RESP;
	count_datagram(f, dir, pkt);
	f->last_ts = ts;
	if (t->keep_events && add_event(f, dir, ts, pkt) == -1)
		return -1;
	return 0;
}

uint64_t udp_unanswered(const struct udp_flow *f)
{
	return f->side[UDP_ORIG].dgrams - f->pairs;
}
