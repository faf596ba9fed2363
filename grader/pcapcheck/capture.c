/* capture.c - live capture on one interface into a pcap file. */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>

/* How long to wait for packets before looking at the stop flag again. */
#define POLL_INTERVAL_MS 100

/* Bytes of the file's own header, and of each packet's record header. */
enum { PCAP_FILE_HEADER = 24, PCAP_RECORD_HEADER = 16 };

/* pcap_error_text - pcap's message for a failed call, or its status text. */
static const char *pcap_error_text(pcap_t *p, int status)
{
	const char *text = pcap_geterr(p);
	return text != NULL && text[0] != '\0' ? text
					       : pcap_statustostr(status);
}

/* configure - settings that must be made before activation; 0 or -1 and err. */
static int configure(struct capture *c, char *err, size_t errlen)
{
	pcap_t *p = c->pcap;
	if (pcap_set_snaplen(p, c->opt->snaplen) != 0 ||
	    pcap_set_promisc(p, 0) != 0 ||
	    pcap_set_timeout(p, POLL_INTERVAL_MS) != 0 ||
	    pcap_set_buffer_size(p, CAPTURE_BUFFER_SIZE) != 0) {
		(void)snprintf(err, errlen,
			       "capture on %s: cannot configure: %s",
			       c->opt->iface, pcap_geterr(p));
		return -1;
	}
	/* Without immediate mode Linux holds packets back until a buffer fills. */
	if (pcap_set_immediate_mode(p, 1) != 0) {
		(void)snprintf(err, errlen,
			       "capture on %s: cannot set immediate mode: %s",
			       c->opt->iface, pcap_geterr(p));
		return -1;
	}
	/* Nanosecond timestamps where the system has them; microseconds otherwise. */
	(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	return 0;
}

/* activate - start the capture; warnings are fine, errors are not. */
static int activate(struct capture *c, char *err, size_t errlen)
{
	int status = pcap_activate(c->pcap);
	if (status < 0) {
		(void)snprintf(err, errlen, "capture on %s: %s", c->opt->iface,
			       pcap_error_text(c->pcap, status));
		return -1;
	}
	return 0;
}

/* set_filter - compile and install the BPF filter, if one was given. */
static int set_filter(struct capture *c, char *err, size_t errlen)
{
	if (c->opt->filter == NULL)
		return 0;
	struct bpf_program program;
	if (pcap_compile(c->pcap, &program, c->opt->filter, 1,
			 PCAP_NETMASK_UNKNOWN) == -1) {
		(void)snprintf(err, errlen, "capture on %s: filter '%s': %s",
			       c->opt->iface, c->opt->filter,
			       pcap_geterr(c->pcap));
		return -1;
	}
	int rc = pcap_setfilter(c->pcap, &program);
	pcap_freecode(&program);
	if (rc == -1) {
		(void)snprintf(err, errlen, "capture on %s: filter '%s': %s",
			       c->opt->iface, c->opt->filter,
			       pcap_geterr(c->pcap));
		return -1;
	}
	return 0;
}

/* open_output - create the pcap file and write its header. */
static int open_output(struct capture *c, char *err, size_t errlen)
{
	c->fp = fopen(c->opt->file, "wb");
	if (c->fp == NULL) {
		(void)snprintf(err, errlen, "write %s: %s", c->opt->file,
			       strerror(errno));
		return -1;
	}
	c->dumper = pcap_dump_fopen(c->pcap, c->fp);
	if (c->dumper == NULL) {
		(void)snprintf(err, errlen, "write %s: %s", c->opt->file,
			       pcap_geterr(c->pcap));
		(void)fclose(c->fp);
		c->fp = NULL;
		return -1;
	}
	if (pcap_dump_flush(c->dumper) == -1) {
		(void)snprintf(err, errlen, "write %s: %s", c->opt->file,
			       strerror(errno));
		return -1;
	}
	return 0;
}

int capture_open(struct capture *c, const struct capture_options *opt,
		 char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->opt = opt;
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	c->pcap = pcap_create(opt->iface, pcap_err);
	if (c->pcap == NULL) {
		(void)snprintf(err, errlen, "capture on %s: %s", opt->iface,
			       pcap_err);
		return -1;
	}
	if (configure(c, err, errlen) == -1 || activate(c, err, errlen) == -1 ||
	    set_filter(c, err, errlen) == -1)
		goto error;
	if (pcap_setnonblock(c->pcap, 1, pcap_err) == -1) {
		(void)snprintf(err, errlen,
			       "capture on %s: non-blocking mode: %s",
			       opt->iface, pcap_err);
		goto error;
	}
	if (open_output(c, err, errlen) == -1)
		goto error;
	c->file_bytes = PCAP_FILE_HEADER;
	return 0;

error:
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	pcap_close(c->pcap);
	memset(c, 0, sizeof *c);
	return -1;
}

/* write_packet - pcap_dispatch callback: append one packet to the file,
 * whole, as headers only, or not at all, as the byte budget says. */
static void write_packet(u_char *user, const struct pcap_pkthdr *h,
			 const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	const struct capture_options *o = c->opt;
	struct pcap_pkthdr kept = *h;
	bool headers_only = o->full_bytes != 0 &&
			    c->file_bytes >= o->full_bytes &&
			    kept.caplen > CAPTURE_HEADER_BYTES;

	c->captured++;
	if (headers_only)
		kept.caplen = CAPTURE_HEADER_BYTES;
	if (o->max_bytes != 0 &&
	    c->file_bytes + PCAP_RECORD_HEADER + kept.caplen > o->max_bytes) {
		c->unwritten++;
		return;
	}
	pcap_dump((u_char *)c->dumper, &kept, bytes);
	c->file_bytes += PCAP_RECORD_HEADER + kept.caplen;
	c->cut += headers_only;
}

/* limit_reached - true once max_packets packets were written. */
static bool limit_reached(const struct capture *c)
{
	return c->opt->max_packets != 0 && c->captured >= c->opt->max_packets;
}

/* dispatch - write what is queued now (within the limit); count or -1. */
static int dispatch(struct capture *c, char *err, size_t errlen)
{
	int budget = -1;
	if (c->opt->max_packets != 0) {
		uint64_t left = c->opt->max_packets - c->captured;
		budget = left > INT32_MAX ? INT32_MAX : (int)left;
	}
	int n = pcap_dispatch(c->pcap, budget, write_packet, (u_char *)c);
	if (n < 0) {
		(void)snprintf(err, errlen, "capture on %s: %s", c->opt->iface,
			       pcap_error_text(c->pcap, n));
		return -1;
	}
	/* Flush after every batch: the file must be readable at any moment. */
	if (n > 0 && pcap_dump_flush(c->dumper) == -1) {
		(void)snprintf(err, errlen, "write %s: %s", c->opt->file,
			       strerror(errno));
		return -1;
	}
	return n;
}

/* wait_readable - wait up to POLL_INTERVAL_MS for packets or a signal. */
static int wait_readable(struct capture *c, char *err, size_t errlen)
{
	struct pollfd pfd = {pcap_get_selectable_fd(c->pcap), POLLIN, 0};
	if (poll(&pfd, 1, POLL_INTERVAL_MS) == -1 && errno != EINTR) {
		(void)snprintf(err, errlen, "capture on %s: poll: %s",
			       c->opt->iface, strerror(errno));
		return -1;
	}
	return 0;
}

int capture_run(struct capture *c, volatile sig_atomic_t *stop, char *err,
		size_t errlen)
{
	while (!*stop && !limit_reached(c)) {
		if (wait_readable(c, err, errlen) == -1 ||
		    dispatch(c, err, errlen) == -1)
			return -1;
	}
	/* Stopped: drain every packet the kernel still holds for us. */
	int n;
	do {
		if (limit_reached(c))
			return 0;
		n = dispatch(c, err, errlen);
	} while (n > 0);
	return n == -1 ? -1 : 0;
}

int capture_close(struct capture *c, uint64_t *dropped, char *err,
		  size_t errlen)
{
	int rc = 0;
	struct pcap_stat stats;
	*dropped = 0;
	if (pcap_stats(c->pcap, &stats) == 0)
		*dropped = stats.ps_drop;
	if (pcap_dump_flush(c->dumper) == -1) {
		(void)snprintf(err, errlen, "write %s: %s", c->opt->file,
			       strerror(errno));
		rc = -1;
	}
	pcap_dump_close(c->dumper); /* also closes the file */
	pcap_close(c->pcap);
	c->dumper = NULL;
	c->pcap = NULL;
	return rc;
}

const char *capture_linktype(const struct capture *c)
{
	const char *name = pcap_datalink_val_to_name(pcap_datalink(c->pcap));
	return name != NULL ? name : "unknown";
}

int capture_snaplen(const struct capture *c)
{
	return pcap_snapshot(c->pcap);
}
