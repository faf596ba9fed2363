/* search.h - byte strings in the payload of TCP connections, and where
 * each direction switches to TLS.
 *
 * A grader asks "did the password cross the wire in clear?", "did any
 * SMTP command follow STARTTLS in plaintext?". The answer comes from each
 * direction's reassembled stream: retransmitted bytes count once, and a
 * string split over several segments is still found.
 *
 * Where TLS starts: protocols with STARTTLS (SMTP, IMAP, POP3) switch an
 * open plaintext connection to TLS at a line boundary, and a side's first
 * TLS bytes are a handshake record: content type 22, version 3.x, a length
 * of at most 2^14 + 2048, then ClientHello (1) from the client or
 * ServerHello (2) from the server. search_tls_start() takes the first such
 * record that begins at byte 0 (implicit TLS, as on port 465) or right
 * after a '\n'. Every byte from there on is "after TLS": a plaintext
 * command found there was sent outside the encryption.
 */
#ifndef PCAPCHECK_SEARCH_H
#define PCAPCHECK_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

#define SEARCH_MAX_STRINGS 64	   /* strings per command */
#define SEARCH_STRING_MAX  256	   /* bytes of one string */
#define SEARCH_MAX_OFFSETS 16	   /* offsets listed per string and side */
#define SEARCH_NOT_FOUND   UINT64_MAX

/* Per TCP direction, bytes kept for searching (attachments are large). */
#define SEARCH_STREAM_LIMIT ((size_t)64 << 20)

/* One string to look for, as raw bytes. */
struct search_string {
	uint8_t bytes[SEARCH_STRING_MAX];
	size_t len;
	const char *text; /* as given on the command line */
};

/* What kind of record the TLS start is. */
enum search_hello {
	SEARCH_CLIENT_HELLO = 1,
	SEARCH_SERVER_HELLO = 2
};

/* Where one direction switched to TLS. */
struct search_tls {
	bool found;
	uint64_t offset; /* stream offset of the first TLS record */
	int64_t ts;	 /* ns: capture time of the segment carrying it */
	enum search_hello hello;
};

/* Where one string occurs in one direction. */
struct search_hits {
	uint64_t count, after_tls;
	size_t listed; /* offsets[0..listed) in stream order */
	uint64_t offsets[SEARCH_MAX_OFFSETS];
	int64_t ts[SEARCH_MAX_OFFSETS]; /* ns, for each listed offset */
};

/* search_parse_string - a command-line text with C escapes (\r \n \t \\
 * \xHH) into s; 0, or -1 with the reason in err. */
int search_parse_string(struct search_string *s, const char *text, char *err,
			size_t errlen);

/* search_tls_start - where TLS starts in n bytes of a direction's stream
 * (see the top of this file); false if it never does. */
bool search_tls_start(const uint8_t *p, size_t n, uint64_t *offset,
		      enum search_hello *hello);

/* search_side - TLS start and hits of each string in direction dir of c;
 * hits has one entry per string. */
void search_side(const struct tcp_conn *c, enum tcp_dir dir,
		 const struct search_string *strings, size_t nstrings,
		 struct search_tls *tls, struct search_hits *hits);

/* search_time_of - capture time (ns) of the first segment of direction dir
 * that carried stream byte off; the connection's first time if none did
 * (needs the timeline: analysis_options.keep_events). */
int64_t search_time_of(const struct tcp_conn *c, enum tcp_dir dir,
		       uint64_t off);

/* search_hello_name - "ClientHello" or "ServerHello". */
const char *search_hello_name(enum search_hello h);

#endif
