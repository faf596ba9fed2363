/* capture.h - live capture on one interface into a pcap file.
 *
 * capture_open() activates the interface in immediate mode with a large
 * buffer, sets the BPF filter and opens the output file; after it returns
 * the caller may announce that capturing has started. capture_run() writes
 * packets until *stop is set (from a signal handler) or the packet limit
 * is reached, then drains what the kernel still holds. capture_close()
 * flushes the file, so that it always ends on a whole packet.
 *
 * A byte budget keeps a flood from filling the disk: after full_bytes of
 * file, each packet keeps only its first CAPTURE_HEADER_BYTES (its headers:
 * the analysis still sees every segment, its length and flags); at
 * max_bytes no more packets are written, only counted.
 */
#ifndef PCAPCHECK_CAPTURE_H
#define PCAPCHECK_CAPTURE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* In immediate mode libpcap uses a ring of fixed frames, each as large as
 * the snaplen (the interface's offloads let lo pass 64 KiB segments), and
 * on lo every packet fills two (out and in). 64 KiB plus headers keeps any
 * loopback segment whole; 64 MiB then holds a burst of about 500 packets
 * while the capture is not scheduled (262144 and 8 MiB held 31). */
#define CAPTURE_DEFAULT_SNAPLEN 65792
#define CAPTURE_BUFFER_SIZE	(64 * 1024 * 1024)
/* Ethernet or cooked header, IPv6 with options, TCP with options. */
#define CAPTURE_HEADER_BYTES 160

struct capture_options {
	const char *iface;
	const char *file;
	const char *filter; /* BPF expression, or NULL for everything */
	int snaplen;
	uint64_t max_packets; /* 0: no limit */
	uint64_t full_bytes;  /* file bytes of whole packets; 0: no limit */
	uint64_t max_bytes;   /* file bytes in all; 0: no limit */
};

struct capture {
	pcap_t *pcap;
	FILE *fp;
	pcap_dumper_t *dumper;
	const struct capture_options *opt;
	uint64_t captured;
	uint64_t file_bytes; /* written so far, headers of the file included */
	uint64_t cut;        /* packets kept as headers only */
	uint64_t unwritten;  /* packets not written: max_bytes reached */
};

/* capture_open - activate, set the filter, open the file; 0 or -1 and err. */
int capture_open(struct capture *c, const struct capture_options *opt,
		 char *err, size_t errlen);

/* capture_run - write until *stop or the limit, then drain; 0 or -1 and err. */
int capture_run(struct capture *c, volatile sig_atomic_t *stop, char *err,
		size_t errlen);

/* capture_close - flush, close, count kernel drops; 0, or -1 and err. */
int capture_close(struct capture *c, uint64_t *dropped, char *err,
		  size_t errlen);

/* capture_linktype - the libpcap name of the interface's link type. */
const char *capture_linktype(const struct capture *c);

/* capture_snaplen - the snapshot length in effect. */
int capture_snaplen(const struct capture *c);

#endif
