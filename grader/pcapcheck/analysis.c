/* analysis.c - offline analysis of one capture file (see analysis.h). */
#include "analysis.h"

#include "checksum.h"

#include <errno.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_SEC 1000000000LL

void analysis_init(struct analysis *a, int linktype,
		   const struct analysis_options *opt)
{
	memset(a, 0, sizeof *a);
	a->linktype = linktype;
	struct tcp_options topt = {
		.stream_limit = opt->stream_limit,
		.stream_budget = opt->stream_budget,
		.keep_events = opt->keep_events,
		.hb = opt->hb,
	};
	tcp_table_init(&a->tcp, &topt);
	udp_table_init(&a->udp, opt->keep_events);
	a->marks = opt->marks;
	a->check_checksums = opt->check_checksums;
}

void analysis_free(struct analysis *a)
{
	tcp_table_free(&a->tcp);
	udp_table_free(&a->udp);
}

/* count_skipped - count a packet we could not track, by reason. */
static void count_skipped(struct analysis_skipped *s, enum decode_status st)
{
	switch (st) {
	case DECODE_OK:
		break;
	case DECODE_TRUNCATED:
		s->truncated++;
		break;
	case DECODE_MALFORMED:
	case DECODE_BAD_LINKTYPE:
		s->malformed++;
		break;
	case DECODE_NOT_IP:
		s->not_ip++;
		break;
	case DECODE_FRAGMENT:
		s->fragments++;
		break;
	case DECODE_OTHER_PROTO:
		s->other_proto++;
		break;
	case DECODE_TUNNEL_OTHER:
		break; /* counted by tunnel kind, see count_tunnel */
	}
}

/* count_tunnel - count a packet that came through a tunnel. */
static void count_tunnel(struct analysis *a, const struct decoded_packet *pkt,
			 enum decode_status st)
{
	if (pkt->tunnel == TUNNEL_NONE || pkt->tunnel >= TUNNEL_KINDS)
		return;
	if (st == DECODE_TUNNEL_OTHER)
		a->skipped.tunnel_other[pkt->tunnel]++;
	else
		a->tunnelled[pkt->tunnel]++;
}

/* check_and_track - track a packet whose checksums are right; mark the
 * others as Zeek does (a bad IPv4 header: dropped; a bad TCP or UDP
 * checksum: its connection marked, the packet not counted). 0 or -1. */
static int check_and_track(struct analysis *a, int64_t ts,
			   const struct decoded_packet *pkt)
{
	bool tcp = pkt->proto == PROTO_TCP;
	switch (checksum_verify(pkt)) {
	case CHECKSUM_BAD_IP:
		a->skipped.bad_ip_checksum++;
		return 0;
	case CHECKSUM_BAD_TRANSPORT:
		if (tcp) {
			a->bad_tcp_checksums++;
			return tcp_bad_checksum(&a->tcp, ts, pkt);
		}
		a->bad_udp_checksums++;
		return udp_bad_checksum(&a->udp, ts, pkt);
	case CHECKSUM_OK:
		break;
	}
	return tcp ? tcp_track(&a->tcp, ts, pkt) : udp_track(&a->udp, ts, pkt);
}

int analysis_packet(struct analysis *a, int64_t ts, const uint8_t *data,
		    size_t caplen)
{
	if (a->packets++ == 0)
		a->first_ts = ts;
	struct decoded_packet pkt;
	enum decode_status st = decode_packet(a->linktype, data, caplen, &pkt);
	if (pkt.ip6_ext)
		a->skipped.ip6_ext++;
	count_tunnel(a, &pkt, st);
	if (st != DECODE_OK) {
		count_skipped(&a->skipped, st);
		return 0;
	}
	if (a->check_checksums)
		return check_and_track(a, ts, &pkt);
	if (pkt.proto == PROTO_TCP)
		return tcp_track(&a->tcp, ts, &pkt);
	return udp_track(&a->udp, ts, &pkt);
}

/* read_packets - feed every packet of a capture to the analysis; 0 or -1. */
static int read_packets(struct analysis *a, pcap_t *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	/* Opened with nanosecond precision, tv_usec holds nanoseconds. */
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		int64_t ts = (int64_t)h->ts.tv_sec * NS_PER_SEC +
			     (int64_t)h->ts.tv_usec;
		if (analysis_packet(a, ts, data, h->caplen) == -1)
			return -1;
	}
	if (rc == PCAP_ERROR) {
		/* A cut-off last record: keep what came before, and say so. */
		a->truncated = true;
		(void)snprintf(a->read_error, sizeof a->read_error, "%s",
			       pcap_geterr(p));
	}
	return 0;
}

int analysis_read_file(struct analysis *a, const char *path,
		       const struct analysis_options *opt, char *err,
		       size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		(void)snprintf(err, errlen, "open %s: %s", path,
			       strerror(errno));
		return -1;
	}
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (p == NULL) {
		(void)fclose(fp);
		(void)snprintf(err, errlen, "read %s: %s", path, pcap_err);
		return -1;
	}
	int linktype = pcap_datalink(p);
	if (!decode_linktype_supported(linktype)) {
		const char *name = pcap_datalink_val_to_name(linktype);
		(void)snprintf(err, errlen,
			       "read %s: unsupported link type %d (%s)", path,
			       linktype, name ? name : "unknown");
		pcap_close(p);
		return -1;
	}
	analysis_init(a, linktype, opt);
	a->file = path;
	int rc = read_packets(a, p);
	if (rc == -1)
		(void)snprintf(err, errlen, "analyse %s: %s", path,
			       strerror(errno));
	pcap_close(p); /* also closes fp */
	return rc;
}

const char *analysis_linktype_name(const struct analysis *a)
{
	const char *name = pcap_datalink_val_to_name(a->linktype);
	return name ? name : "unknown";
}

/* warn - format one warning and pass it on; counts it in *n. */
static void warn(warning_fn *emit, void *ctx, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn(warning_fn *emit, void *ctx, size_t *n, const char *fmt, ...)
{
	char message[ANALYSIS_ERROR_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	emit(ctx, message);
	(*n)++;
}

/* warn_conn - warnings about one TCP connection. */
static void warn_conn(const struct tcp_conn *c, warning_fn *emit, void *ctx,
		      size_t *n)
{
	char orig[FLOW_ENDPOINT_STRLEN], resp[FLOW_ENDPOINT_STRLEN];
	flow_endpoint_format(&c->side[TCP_ORIG].ep, orig, sizeof orig);
	flow_endpoint_format(&c->side[TCP_RESP].ep, resp, sizeof resp);
	if (c->partial_start)
		warn(emit, ctx, n,
		     "tcp %u (%s -> %s): capture started mid-connection (no "
		     "SYN seen first)",
		     c->id, orig, resp);
	if (c->reused_open)
		warn(emit, ctx, n,
		     "tcp %u (%s -> %s): new SYN while tcp %u on the same "
		     "ports was still open",
		     c->id, orig, resp, c->reused_from);
	if (c->side[TCP_ORIG].stream.lost || c->side[TCP_RESP].stream.lost)
		warn(emit, ctx, n,
		     "tcp %u: too many holes to reassemble the payload", c->id);
}

/* Why a tunnel's packets were skipped, by kind. */
static const char *const tunnel_skip_reason[TUNNEL_KINDS] = {
	"",
	"",
	"GRE of another version, with source routes, or carrying neither "
	"IPv4, IPv6, Ethernet nor PPTP's PPP (ERSPAN, ...)",
	"VXLAN without a valid network identifier, or carrying no IP",
	"G-PDUs carrying neither IPv4 nor IPv6",
	"PPP control frames (LCP, IPCP, ...) or neither IPv4 nor IPv6",
};

/* warn_tunnels - how many packets each tunnel gave, and how many it hid. */
static void warn_tunnels(const struct analysis *a, warning_fn *emit, void *ctx,
			 size_t *n)
{
	for (unsigned k = TUNNEL_NONE + 1; k < TUNNEL_KINDS; k++) {
		const char *name = decode_tunnel_name(k);
		if (a->tunnelled[k])
			warn(emit, ctx, n,
			     "%llu packets came through %s: the outer headers "
			     "were skipped, the inner IP packets analysed",
			     (unsigned long long)a->tunnelled[k], name);
		if (a->skipped.tunnel_other[k])
			warn(emit, ctx, n, "%llu %s packets skipped: %s",
			     (unsigned long long)a->skipped.tunnel_other[k],
			     name, tunnel_skip_reason[k]);
	}
}

/* warn_checksums - what --check-checksums found. */
static void warn_checksums(const struct analysis *a, warning_fn *emit,
			   void *ctx, size_t *n)
{
	if (a->skipped.bad_ip_checksum)
		warn(emit, ctx, n,
		     "%llu packets skipped: bad IPv4 header checksum",
		     (unsigned long long)a->skipped.bad_ip_checksum);
	if (a->bad_tcp_checksums)
		warn(emit, ctx, n,
		     "%llu TCP segments with a bad checksum not counted "
		     "(history 'C'/'c')",
		     (unsigned long long)a->bad_tcp_checksums);
	if (a->bad_udp_checksums)
		warn(emit, ctx, n,
		     "%llu UDP datagrams with a bad checksum not counted",
		     (unsigned long long)a->bad_udp_checksums);
}

size_t analysis_warnings(const struct analysis *a, warning_fn *emit, void *ctx)
{
	size_t n = 0;
	const struct analysis_skipped *s = &a->skipped;
	if (a->truncated)
		warn(emit, ctx, &n, "file truncated after %llu packets (%s)",
		     (unsigned long long)a->packets, a->read_error);
	if (s->fragments)
		warn(emit, ctx, &n,
		     "%llu IP fragments skipped (no IP reassembly)",
		     (unsigned long long)s->fragments);
	if (s->ip6_ext)
		warn(emit, ctx, &n,
		     "%llu IPv6 packets had extension headers (skipped over)",
		     (unsigned long long)s->ip6_ext);
	if (s->truncated)
		warn(emit, ctx, &n,
		     "%llu packets skipped: headers cut short by the capture "
		     "length",
		     (unsigned long long)s->truncated);
	if (s->malformed)
		warn(emit, ctx, &n,
		     "%llu packets skipped: malformed IP, TCP or UDP header",
		     (unsigned long long)s->malformed);
	warn_tunnels(a, emit, ctx, &n);
	warn_checksums(a, emit, ctx, &n);
	if (a->tcp.streams_capped)
		warn(emit, ctx, &n,
		     "payload kept for previews reached %zu MiB: later payload "
		     "not "
		     "reassembled",
		     a->tcp.opt.stream_budget >> 20);
	for (size_t i = 0; i < a->tcp.count; i++)
		warn_conn(&a->tcp.conns[i], emit, ctx, &n);
	return n;
}
