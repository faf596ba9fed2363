/* mime - the message: headers, text, attachments (see mime.h). */
#define _POSIX_C_SOURCE 200809L

#include "mime.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sl_log.h"

/* Bytes of UTF-8 in one encoded word: 45 bytes are 60 base64 characters,
 * and "=?UTF-8?B?" + 60 + "?=" is 72, under the limit of 75. */
#define WORD_BYTES 45

size_t mime_base64(const void *data, size_t n, char *out)
{
	/* EVP_EncodeBlock() writes no newlines, and a NUL at the end. */
	return (size_t)EVP_EncodeBlock((unsigned char *)out,
				       (const unsigned char *)data, (int)n);
}

int mime_make_boundary(char *buf)
{
	unsigned char r[16];
	size_t used = (size_t)snprintf(buf, MIME_BOUNDARY_MAX, "=_socklab_");

	/* Random, so that no text or file can contain it by chance; "=_"
	 * can never occur in base64 text. */
	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		used += (size_t)snprintf(buf + used, MIME_BOUNDARY_MAX - used,
					 "%02x", r[i]);
	return 0;
}

/* Tells whether text is a domain name that may follow the '@' of a
 * Message-ID as it is: letters, digits, '-' and inner dots, no two dots in
 * a row, at most MIME_DOMAIN_MAX bytes. */
static bool is_domain_name(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > MIME_DOMAIN_MAX || text[0] == '.' ||
	    text[len - 1] == '.' || strstr(text, "..") != NULL)
		return false;
	return strspn(text, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == len;
}

int mime_make_message_id(const char *from, time_t now, char *buf)
{
	unsigned char r[12];
	char hex[2 * sizeof r + 1];
	const char *at = strrchr(from, '@');
	const char *domain =
		at != NULL && is_domain_name(at + 1) ? at + 1 : "localhost";

	/* The time and 96 random bits: no two messages share an id. */
	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", r[i]);
	(void)snprintf(buf, MIME_MESSAGE_ID_MAX, "<%lld.%s@%s>", (long long)now,
		       hex, domain);
	return 0;
}

const char *mime_type_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{"png", "image/png"},	     {"jpg", "image/jpeg"},
		{"jpeg", "image/jpeg"},	     {"gif", "image/gif"},
		{"txt", "text/plain"},	     {"html", "text/html"},
		{"pdf", "application/pdf"}, {"zip", "application/zip"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0];
	     i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Tells whether text is printable ASCII only: a header may hold it as is. */
static bool is_plain_ascii(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* Returns how many of the first len bytes of text (at most max) to put in
 * one encoded word without cutting a UTF-8 character in two. */
static size_t word_cut(const char *text, size_t len, size_t max)
{
	size_t cut = len < max ? len : max;

	/* A continuation byte (10xxxxxx) must stay with its lead byte. */
	while (cut < len && cut > 0 &&
	       ((unsigned char)text[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

/* Appends the Subject header: as is when it is printable ASCII, else as
 * UTF-8 encoded words (RFC 2047) on folded lines. */
static void add_subject(struct strbuf *out, const char *subject)
{
	char word[4 * ((WORD_BYTES + 2) / 3) + 1];
	size_t len = strlen(subject);

	if (is_plain_ascii(subject)) {
		strbuf_printf(out, "Subject: %s\r\n", subject);
		return;
	}
	strbuf_addstr(out, "Subject:");
	/* BLANK 5: Cut the subject into pieces of at most WORD_BYTES bytes (word_cut()), and add each as " =?UTF-8?B?<base64>?=" on a line of its own: each line but the first starts with a space, each ends with CRLF. */
	while (len > 0) {
		size_t n = word_cut(subject, len, WORD_BYTES);

		mime_base64(subject, n, word);
		strbuf_printf(out, " =?UTF-8?B?%s?=\r\n", word);
		subject += n;
		len -= n;
	}
	/* SKELETON 5:
	(void)word;
	(void)len;
	(void)word_cut;
	strbuf_printf(out, " %s\r\n", subject);
	SL_TODO(5);
	*/
	/* END 5 */
}

/* Appends one line of text (without its line end) quoted-printable (RFC
 * 2045, 6.7): printable ASCII as it is, '=' and any other byte as "=XX",
 * a space or tab that ends the line as "=XX" too (a server may drop it),
 * and a soft line break "=" CRLF before the line would pass MIME_QP_LINE
 * characters. The reader's program removes the soft breaks. */
static void add_qp_line(struct strbuf *out, const char *line, size_t n)
{
	size_t column = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		bool as_is = (c >= '!' && c <= '~' && c != '=') ||
			     ((c == ' ' || c == '\t') && i + 1 < n);
		size_t width = as_is ? 1 : 3;

		/* Room is kept for the '=' of a soft break. */
		if (column + width > MIME_QP_LINE - 1) {
			strbuf_addstr(out, "=\r\n");
			column = 0;
		}
		if (as_is)
			strbuf_add(out, line + i, 1);
		else
			strbuf_printf(out, "=%02X", c);
		column += width;
	}
}

/* Returns the length of the line that starts at text (before end),
 * without its LF or CRLF; sets *next to where the following line starts. */
static size_t line_at(const char *text, const char *end, const char **next)
{
	const char *nl = memchr(text, '\n', (size_t)(end - text));
	size_t n = nl != NULL ? (size_t)(nl - text) : (size_t)(end - text);

	*next = nl != NULL ? nl + 1 : end;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	return n;
}

/* Appends text with every line ended by CRLF (a LF alone gets its CR),
 * including the last one; each line as it is, or quoted-printable. */
static void add_text(struct strbuf *out, const char *text, size_t len, bool qp)
{
	const char *end = text + len, *next;

	for (; text < end; text = next) {
		size_t n = line_at(text, end, &next);

		if (qp)
			add_qp_line(out, text, n);
		else
			strbuf_add(out, text, n);
		strbuf_addstr(out, "\r\n");
	}
}

/* Tells whether a line of the len bytes of text is longer than SMTP
 * carries (MIME_LINE_MAX bytes without its line end). */
static bool has_long_line(const char *text, size_t len)
{
	const char *end = text + len, *next;

	for (; text < end; text = next)
		if (line_at(text, end, &next) > MIME_LINE_MAX)
			return true;
	return false;
}

/* Appends data as base64 text in lines of at most MIME_B64_LINE
 * characters, each ended by CRLF. */
static void add_base64_lines(struct strbuf *out, const char *data, size_t len)
{
	char line[4 * ((MIME_B64_LINE_BYTES + 2) / 3) + 1];

	/* BLANK 6: Encode MIME_B64_LINE_BYTES bytes at a time with mime_base64() (76 characters) and add each line with its CRLF. */
	for (size_t off = 0; off < len; off += MIME_B64_LINE_BYTES) {
		size_t n = len - off;

		if (n > MIME_B64_LINE_BYTES)
			n = MIME_B64_LINE_BYTES;

		strbuf_add(out, line, mime_base64(data + off, n, line));
		strbuf_addstr(out, "\r\n");
	}
	/* SKELETON 6:
	(void)line;
	(void)data;
	(void)len;
	(void)out;
	SL_TODO(6);
	*/
	/* END 6 */
}

/* Tells whether n bytes of text are all 7-bit ASCII. */
static bool is_7bit(const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] > 0x7f)
			return false;
	return true;
}

/* Appends the headers and the lines of the text part: as they are, or
 * quoted-printable when one is too long for SMTP. */
static void add_text_part(struct strbuf *out, const struct mime_mail *m)
{
	bool qp = has_long_line(m->body, m->body_len);
	const char *encoding = qp ? "quoted-printable"
			       : is_7bit(m->body, m->body_len) ? "7bit"
							       : "8bit";

	strbuf_addstr(out, "Content-Type: text/plain; charset=utf-8\r\n");
	strbuf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n", encoding);
	add_text(out, m->body, m->body_len, qp);
}

/* Appends name between double quotes, with '_' for any character that
 * would end the quotes or the line (names must be printable ASCII). */
static void add_quoted_name(struct strbuf *out, const char *name)
{
	strbuf_addstr(out, "\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char c = *p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\'
				 ? '_'
				 : (char)*p;
		strbuf_add(out, &c, 1);
	}
	strbuf_addstr(out, "\"");
}

/* Appends the headers and base64 lines of one attachment. */
static void add_file_part(struct strbuf *out, const struct mime_file *f)
{
	strbuf_printf(out, "Content-Type: %s; name=", mime_type_of(f->name));
	add_quoted_name(out, f->name);
	strbuf_addstr(out, "\r\nContent-Disposition: attachment; filename=");
	add_quoted_name(out, f->name);
	strbuf_addstr(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	add_base64_lines(out, f->data, f->len);
}

/* Appends the body of a multipart/mixed message: the text part, then
 * each attachment, each after a boundary line, and the closing one. */
static void add_parts(struct strbuf *out, const struct mime_mail *m)
{
	/* BLANK 7: Before the text part and before each file part (add_text_part(), add_file_part()) add a line "--" + boundary; after the last part the closing line "--" + boundary + "--". */
	strbuf_printf(out, "--%s\r\n", m->boundary);
	add_text_part(out, m);
	for (size_t i = 0; i < m->nfiles; i++) {
		strbuf_printf(out, "--%s\r\n", m->boundary);
		add_file_part(out, &m->files[i]);
	}
	strbuf_printf(out, "--%s--\r\n", m->boundary);
	/* SKELETON 7:
	(void)add_file_part;
	add_text_part(out, m);
	SL_TODO(7);
	*/
	/* END 7 */
}

/* Appends the headers every message has: From, To, Subject, Date,
 * Message-ID, MIME-Version. */
static void add_envelope_headers(struct strbuf *out, const struct mime_mail *m)
{
	char date[64];
	struct tm tm;

	strbuf_printf(out, "From: %s\r\nTo: ", m->from);
	for (size_t i = 0; i < m->nto; i++)
		strbuf_printf(out, "%s%s", i > 0 ? ",\r\n " : "", m->to[i]);
	strbuf_addstr(out, "\r\n");
	add_subject(out, m->subject);
	/* RFC 5322 date, in UTC: "Tue, 24 Nov 2026 10:00:00 +0000". */
	if (gmtime_r(&m->date, &tm) != NULL &&
	    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) > 0)
		strbuf_printf(out, "Date: %s\r\n", date);
	strbuf_printf(out, "Message-ID: %s\r\n", m->message_id);
	strbuf_addstr(out, "MIME-Version: 1.0\r\n");
}

void mime_build(const struct mime_mail *m, struct strbuf *out)
{
	add_envelope_headers(out, m);
	if (m->nfiles == 0) {
		add_text_part(out, m);
		return;
	}
	strbuf_printf(out,
		      "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n",
		      m->boundary);
	add_parts(out, m);
}
