/* bareloop.c - read every packet of a capture with pcap_next_ex and do nothing
 * else: the floor that pcapcheck's analysis time is measured against.
 *
 *   bareloop FILE   prints "N packets, B bytes"; exit 1 if FILE cannot be read
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

/* count_packets - read to the end; 0, or -1 with pcap's message printed. */
static int count_packets(pcap_t *p, const char *path, uint64_t *packets,
			 uint64_t *bytes)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		(*packets)++;
		*bytes += h->caplen;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "bareloop: read %s: %s\n", path,
			pcap_geterr(p));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bareloop FILE\n");
		return 2;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(
		argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "bareloop: read %s: %s\n", argv[1], err);
		return 1;
	}
	uint64_t packets = 0, bytes = 0;
	int rc = count_packets(p, argv[1], &packets, &bytes);
	pcap_close(p);
	if (rc == -1)
		return 1;
	printf("%llu packets, %llu bytes\n", (unsigned long long)packets,
	       (unsigned long long)bytes);
	return 0;
}
