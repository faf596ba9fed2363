/*
 * fxwire - the control frames of the file transfer protocol.
 *
 * Every command and every answer is one sl_frame (sl_frame.h): a 4-byte
 * big-endian payload length, then the payload. The payload is one or more
 * fields separated by a single 0x00 byte; the first field is a word in
 * capitals saying what the frame is:
 *
 *	client -> server              server -> client
 *	LOGIN user password           OK welcome       | ERR code text
 *	LIST                          OK count, then count frames FILE size name
 *	PUT name size                 OK go            | ERR code text
 *	  (size raw bytes, HASH hex)  OK stored        | ERR code text
 *	GET name offset               OK size, raw bytes from offset, HASH hex
 *	                                               | ERR code text
 *	DEL name                      OK deleted       | ERR code text
 *	QUIT                          OK bye
 *
 * Numbers (size, offset, count) are decimal ASCII. hex is the SHA-256 of
 * the whole file as 64 lower-case hex digits. The file's bytes travel raw
 * between two frames: the size announced before them says where they end,
 * so no byte value is special and no end marker is needed. Both programs
 * share this module, so they can never disagree on the format.
 */
#ifndef FXWIRE_H
#define FXWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_frame.h"

/* The largest payload of a control frame. A frame announcing more is
 * refused unread. */
#define FX_PAYLOAD_MAX 1024

/* The most fields any frame has. */
#define FX_FIELDS_MAX 3

/* The longest file name in bytes (what most file systems allow). */
#define FX_NAME_MAX 255

/* Hex digits of a SHA-256 digest. */
#define FX_HASH_HEX 64

/* Room for the decimal digits of any size, and a NUL. */
#define FX_NUM_MAX 24

/* The largest file size or offset (what off_t can hold). */
#define FX_SIZE_MAX ((uint64_t)INT64_MAX)

/* One received frame, split: each field is a NUL-terminated string that
 * points into buf. */
struct fx_msg {
	size_t nfields; /* 0 when the payload had too many fields */
	const char *f[FX_FIELDS_MAX];
	char buf[FX_PAYLOAD_MAX + 1];
};

/* Builds a payload of n fields (strings without NUL) and sends it as one
 * frame; returns 0, or -1 with errno set (EMSGSIZE: it would be over
 * FX_PAYLOAD_MAX). */
int fx_send(int fd, const char *const *fields, size_t n);

/* Receives one frame into m and splits it into fields. */
enum sl_frame_status fx_recv(int fd, struct fx_msg *m);

/* Tells whether m is the frame word with exactly nfields fields in all. */
bool fx_is(const struct fx_msg *m, const char *word, size_t nfields);

/* Tells whether name may name a stored file: 1 to FX_NAME_MAX bytes, no
 * '/', no control character, not starting with '.' (so neither "." nor
 * ".." nor a hidden file). */
bool fx_name_ok(const char *name);

/* Reads a decimal number 0..FX_SIZE_MAX (digits only); returns 0 or -1. */
int fx_parse_size(const char *text, uint64_t *value);

/* Writes value in decimal into buf (FX_NUM_MAX bytes). */
void fx_format_size(char *buf, uint64_t value);

#endif
