/*
 * hbwire - the lines of the heartbeat protocol, parsed and formatted.
 *
 * Every message is one ASCII line ended by a single '\n' (no '\r'), at most
 * HB_LINE_MAX bytes with its '\n':
 *
 *	HB 7\n        server -> client  heartbeat request number 7
 *	HBACK 7\n     client -> server  the answer to it
 *	MSG hi\n      client -> server  a line the user typed
 *	BCAST hi\n    server -> client  a line typed on the server
 *
 * Numbers are decimal without leading zeros, 1 and up. Texts may hold any
 * byte but '\n'. Both programs share this module, so they can never
 * disagree on the format.
 */
#ifndef HBWIRE_H
#define HBWIRE_H

#include <stddef.h>

/* Longest line on the wire, its '\n' included. */
#define HB_LINE_MAX 1024

/* Longest text the client sends in a MSG line. */
#define HB_TEXT_MAX 1000

/* Room for "HBACK " + the digits of any unsigned long + "\n" + NUL. */
#define HB_SEQ_LINE_MAX 32

/* The kinds of line. */
enum hb_kind {
	HB_KIND_HB,	 /* "HB <seq>" */
	HB_KIND_HBACK,	 /* "HBACK <seq>" */
	HB_KIND_MSG,	 /* "MSG <text>" */
	HB_KIND_BCAST,	 /* "BCAST <text>" */
	HB_KIND_UNKNOWN, /* anything else, or a bad number */
};

/* One line, split. */
struct hb_msg {
	enum hb_kind kind;
	unsigned long seq; /* HB and HBACK */
	const char *text;  /* MSG and BCAST: points into the parsed line */
	size_t len;	   /* length of text */
};

/* Splits a line received without its '\n' into its kind and argument. */
void hb_parse(const char *line, size_t len, struct hb_msg *msg);

/* Writes "WORD SEQ\n" (e.g. "HB 3\n") into buf, NUL-terminated; returns
 * its length without the NUL, or 0 when buf is too small. */
size_t hb_format_seq(char *buf, size_t size, const char *word,
		     unsigned long seq);

/* Writes "WORD TEXT\n" into buf (len bytes of text, any byte but '\n');
 * returns its length, or 0 when it would not fit in size bytes. */
size_t hb_format_text(char *buf, size_t size, const char *word,
		      const char *text, size_t len);

#endif
