/* analysis.h - offline analysis of one capture file.
 *
 * analysis_read_file() opens a pcap or pcapng file (micro- or nanosecond
 * timestamps), decodes every packet and feeds TCP segments and UDP
 * datagrams to their trackers. A file cut short in the middle of a
 * packet is not an error: what came before is analysed and the result
 * says "truncated". The reports (JSON, text, timeline) read the result.
 */
#ifndef PCAPCHECK_ANALYSIS_H
#define PCAPCHECK_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "marks.h"
#include "tcp.h"
#include "udp.h"

#define ANALYSIS_ERROR_MAX 512

/* Packets that were counted but not tracked, by reason. */
struct analysis_skipped {
	uint64_t not_ip, other_proto, fragments, truncated, malformed;
	uint64_t
		ip6_ext; /* tracked, but IPv6 extension headers were walked over */
	uint64_t tunnel_other[TUNNEL_KINDS]; /* a tunnel carrying no IP */
	uint64_t bad_ip_checksum; /* dropped, as Zeek (--check-checksums) */
};

struct analysis_options {
	size_t stream_limit;  /* bytes of each TCP direction to reassemble */
	size_t stream_budget; /* bytes of stream memory for all connections */
	bool keep_events;     /* keep per-connection timelines (inspect) */
	const struct hb_matcher *hb; /* cut messages, find heartbeats; or NULL */
	const struct marks *marks;   /* the grader's moments; or NULL */
	bool check_checksums; /* verify IPv4, TCP and UDP checksums (Zeek) */
};

struct analysis {
	const char *file; /* as given on the command line */
	int linktype;
	uint64_t packets;
	int64_t first_ts; /* ns; every reported time is relative to it */
	bool truncated;
	char read_error[ANALYSIS_ERROR_MAX]; /* why reading stopped early */
	struct analysis_skipped skipped;
	uint64_t tunnelled[TUNNEL_KINDS]; /* came through a tunnel, by kind */
	bool check_checksums;		  /* from the options */
	uint64_t bad_tcp_checksums, bad_udp_checksums; /* marked, not counted */
	struct tcp_table tcp;
	struct udp_table udp;
	const struct marks *marks; /* from the options; may be NULL */
};

/* analysis_init - an empty analysis of packets of the given link type. */
void analysis_init(struct analysis *a, int linktype,
		   const struct analysis_options *opt);

/* analysis_free - release everything the analysis holds. */
void analysis_free(struct analysis *a);

/* analysis_packet - decode and account one frame seen at ts (ns); 0 or -1. */
int analysis_packet(struct analysis *a, int64_t ts, const uint8_t *data,
		    size_t caplen);

/* analysis_read_file - analyse every packet of a capture file; 0 or -1. */
int analysis_read_file(struct analysis *a, const char *path,
		       const struct analysis_options *opt, char *err,
		       size_t errlen);

/* analysis_linktype_name - the link type's libpcap name, e.g. "EN10MB". */
const char *analysis_linktype_name(const struct analysis *a);

/* A sink for warning messages (see analysis_warnings). */
typedef void warning_fn(void *ctx, const char *message);

/* analysis_warnings - pass each warning to emit; returns their number. */
size_t analysis_warnings(const struct analysis *a, warning_fn *emit, void *ctx);

#endif
