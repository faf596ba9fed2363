/*
 * mime - the message itself: headers, text, attachments (RFC 5322, MIME).
 *
 * SMTP carries lines of text, at most 1000 bytes each with their CRLF.
 * MIME (RFC 2045-2047) fits everything else into that: a binary file
 * becomes base64 text in lines of at most 76 characters, a subject in any
 * language becomes "encoded words" of plain ASCII, and a message with
 * attachments becomes a "multipart/mixed" body whose parts are separated
 * by a boundary line:
 *
 *	From: alice@example.org
 *	To: bob@example.org
 *	Subject: =?UTF-8?B?R3LDvMOfZQ==?=
 *	Date: Tue, 24 Nov 2026 10:00:00 +0000
 *	Message-ID: <1795514400.4f0c29d1a8e3b7560c1d9e2f@example.org>
 *	MIME-Version: 1.0
 *	Content-Type: multipart/mixed; boundary="=_socklab_8c1f..."
 *
 *	--=_socklab_8c1f...
 *	Content-Type: text/plain; charset=utf-8
 *
 *	Hello Bob, the picture is attached.
 *	--=_socklab_8c1f...
 *	Content-Type: image/png; name="cat.png"
 *	Content-Disposition: attachment; filename="cat.png"
 *	Content-Transfer-Encoding: base64
 *
 *	iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q
 *	--=_socklab_8c1f...--
 *
 * Without attachments the message is a single text/plain part. Its lines
 * go as they are (7bit for ASCII, 8bit for UTF-8), unless one is longer
 * than SMTP carries: the text is then sent quoted-printable, which cuts
 * long lines with "soft" line breaks that the reader's program removes.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

/* Longest line of base64 text (RFC 2045, 6.8), and the bytes it holds. */
#define MIME_B64_LINE 76
#define MIME_B64_LINE_BYTES 57

/* Longest encoded word "=?UTF-8?B?...?=" (RFC 2047, 2). */
#define MIME_WORD_MAX 75

/* Longest line SMTP carries, without its CRLF (RFC 5321, 4.5.3.1.6). */
#define MIME_LINE_MAX 998

/* Longest line of quoted-printable text, its soft break's '=' included
 * (RFC 2045, 6.7). */
#define MIME_QP_LINE 76

/* Room for a boundary: "=_socklab_" and 32 hex digits, and a NUL. */
#define MIME_BOUNDARY_MAX 48

/* Longest domain name (RFC 1035), and room for a Message-ID:
 * "<" time "." 24 hex digits "@" domain ">" and a NUL. */
#define MIME_DOMAIN_MAX 253
#define MIME_MESSAGE_ID_MAX (MIME_DOMAIN_MAX + 56)

/* One attached file. */
struct mime_file {
	const char *name; /* the file's name without its folders */
	const char *data; /* its bytes */
	size_t len;
};

/* Everything the message is made of. */
struct mime_mail {
	const char *from;
	const char *const *to; /* nto recipients */
	size_t nto;
	const char *subject;	     /* UTF-8 */
	const char *body;	     /* UTF-8 text, lines ended by LF or CRLF */
	size_t body_len;
	const struct mime_file *files; /* nfiles attachments */
	size_t nfiles;
	const char *boundary;	/* see mime_make_boundary() */
	const char *message_id; /* see mime_make_message_id() */
	time_t date;
};

/* Writes the base64 form of n bytes into out (room for 4 * ((n + 2) / 3)
 * characters and a NUL), in one line; returns its length. */
size_t mime_base64(const void *data, size_t n, char *out);

/* Writes a fresh random boundary into buf (MIME_BOUNDARY_MAX bytes);
 * returns 0, or -1 when the random generator failed. */
int mime_make_boundary(char *buf);

/*
 * Writes a fresh Message-ID into buf (MIME_MESSAGE_ID_MAX bytes), unique
 * to this message: "<" the time now "." random hex digits "@" the domain of
 * the sender's address from ">" (RFC 5322, 3.6.4), "localhost" when that
 * address has no domain name. Returns 0, or -1 when the random generator
 * failed.
 */
int mime_make_message_id(const char *from, time_t now, char *buf);

/* Returns the Content-Type for a file name, from its extension
 * ("cat.png" -> "image/png"; unknown: "application/octet-stream"). */
const char *mime_type_of(const char *name);

/* Appends the whole message to out, every line ended by CRLF (check
 * strbuf_failed(out) afterwards). */
void mime_build(const struct mime_mail *m, struct strbuf *out);

#endif
