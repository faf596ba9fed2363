/* testutil.h - builders for the pcapcheck unit tests: raw frames for the
 * decoders, and scripted TCP conversations fed straight to the tracker.
 */
#ifndef PCAPCHECK_TESTUTIL_H
#define PCAPCHECK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "tcp.h"
#include "udp.h"

/* ---- raw frames ------------------------------------------------------- */

#define FRAME_MAX 2048

/* put_ipv4 - a 20-byte IPv4 header for payload_len bytes of proto; its size. */
size_t put_ipv4(uint8_t *p, uint8_t proto, size_t payload_len, uint16_t frag);

/* put_ipv6 - a 40-byte IPv6 header (::1 to ::1); its size. */
size_t put_ipv6(uint8_t *p, uint8_t next, size_t payload_len);

/* put_tcp - a TCP header with optional options (len % 4 == 0); its size. */
size_t put_tcp(uint8_t *p, uint32_t seq, uint32_t ack, uint8_t flags,
	       const uint8_t *opts, size_t optlen);

/* put_udp - a UDP header for payload_len bytes; its size. */
size_t put_udp(uint8_t *p, size_t payload_len);

/* put_link - the link-layer header of linktype for an IP version; its size. */
size_t put_link(uint8_t *p, int linktype, int version);

/* build_tcp_frame - link + IPv4/6 + TCP (SYN, MSS and WS options) + payload. */
size_t build_tcp_frame(uint8_t *out, int linktype, int version,
		       const uint8_t *payload, size_t n);

/* ---- scripted TCP conversations ----------------------------------------- */

enum {
	CLIENT = 0,
	SERVER = 1
};

struct conv {
	struct tcp_table t;
	struct flow_endpoint ep[2]; /* [CLIENT], [SERVER] */
	uint32_t nxt[2];	    /* next sequence number of each side */
	int64_t ts;		    /* ns; each segment 100 us after the last */
};

/* conv_init - 127.0.0.1:40000 -> 127.0.0.1:12000 with these ISNs. */
void conv_init(struct conv *v, uint32_t c_isn, uint32_t s_isn);

/* conv_free - release the tracker. */
void conv_free(struct conv *v);

/* conv_send - WHO sends FLAGS and DATA at its next seq, acking all. */
void conv_send(struct conv *v, int who, uint8_t flags, const char *data);

/* conv_send_at - like conv_send with an explicit sequence and ack number. */
void conv_send_at(struct conv *v, int who, uint8_t flags, const char *data,
		  uint32_t seq, uint32_t ack);

/* conv_segment - a segment of len payload bytes, caplen of them captured. */
void conv_segment(struct conv *v, int who, uint8_t flags, const uint8_t *data,
		  size_t caplen, size_t len, uint32_t seq, uint32_t ack,
		  uint16_t window);

/* conv_handshake - SYN, SYN-ACK, ACK. */
void conv_handshake(struct conv *v);

/* conv_echo - client "hello\n", server ack, server "HELLO\n", client ack. */
void conv_echo(struct conv *v);

/* conv_close - FIN, ACK, FIN, ACK with FIRST closing first. */
void conv_close(struct conv *v, int first);

/* conv_conn - the i-th connection (asserts it exists). */
const struct tcp_conn *conv_conn(const struct conv *v, size_t i);

/* ---- suites ------------------------------------------------------------- */

int add_decode_suite(void);
int add_tcp_suite(void);
int add_verdict_suite(void);
int add_misc_suite(void);
int add_heartbeat_suite(void);
int add_search_suite(void);
int add_tunnel_suite(void);

#endif
