/*
 * pingwire - the datagrams of the pinger lab, formatted and parsed.
 *
 * Every datagram is one line of ASCII text without a newline: a word, a
 * space, a sequence number, a space, a time.
 *
 *	Ping 3 1764000000123456        pinger -> pingserver   ping number 3
 *	PING 3 1764000000123456        pingserver -> pinger   its reply
 *	Heartbeat 7 1764000000123456   hbclient -> hbserver   heartbeat 7
 *
 * The sequence number counts from 1. The time is the sender's wall clock
 * (pingclock.h) in microseconds since 1970-01-01 00:00 UTC, taken just
 * before sending. Both numbers are decimal without sign or leading zeros.
 * The reply is the ping with its letters in upper case, as in the
 * original Python server; it carries the ping's time back unchanged.
 */
#ifndef PINGWIRE_H
#define PINGWIRE_H

#include <stddef.h>
#include <stdint.h>

/* The words. */
#define PW_PING	     "Ping"
#define PW_REPLY     "PING"
#define PW_HEARTBEAT "Heartbeat"

/* Longest datagram of the lab ("Heartbeat", two 20-digit numbers, two
 * spaces: 50 bytes), with room to spare. Anything longer is not ours. */
#define PW_MAX 64

/* The numbers of one datagram. */
struct pw_msg {
	uint64_t seq;	  /* sequence number, 1 and up */
	uint64_t time_us; /* sender's wall clock, microseconds */
};

/* Writes "WORD SEQ TIME" into buf (no newline), NUL-terminated; returns
 * its length without the NUL, or 0 when buf is too small. */
size_t pw_format(char *buf, size_t size, const char *word,
		 const struct pw_msg *msg);

/* Parses the len bytes of a datagram as "WORD SEQ TIME" exactly (no other
 * byte before, between or after); returns 0 and fills msg, or -1. */
int pw_parse(const char *buf, size_t len, const char *word, struct pw_msg *msg);

/* Turns ASCII a-z into A-Z in the len bytes of buf (a ping into its
 * reply). */
void pw_upper(char *buf, size_t len);

#endif
