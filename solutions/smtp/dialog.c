/* dialog - the SMTP dialogue (see dialog.h). */
#include "dialog.h"

#include <stdio.h>
#include <string.h>

void smtp_init(struct smtp *s, const struct tls_conn *c,
	       const struct sl_logger *log)
{
	s->conn = *c;
	s->log = log;
	s->broken = false;
	s->in_start = 0;
	s->in_end = 0;
}

size_t smtp_buffered(const struct smtp *s)
{
	return s->in_end - s->in_start;
}

/* Marks the session broken after logging msg: no more commands. */
static int broken(struct smtp *s, const char *msg)
{
	sl_log(s->log, SL_ERROR, "%s", msg);
	s->broken = true;
	return -1;
}

/* Refills the input buffer with what the server sends next (moving the
 * unused bytes to the front); returns 0, or -1 after logging why. */
static int fill(struct smtp *s)
{
	char err[SL_ERRLEN + SL_HOSTPORTLEN];
	ssize_t n;

	memmove(s->in, s->in + s->in_start, smtp_buffered(s));
	s->in_end -= s->in_start;
	s->in_start = 0;
	n = conn_recv(&s->conn, s->in + s->in_end, sizeof s->in - s->in_end,
		      err, sizeof err);
	if (n < 0)
		return broken(s, err);
	if (n == 0) {
		(void)snprintf(err, sizeof err,
			       "%s closed the connection in the middle of a "
			       "reply", s->conn.peer);
		return broken(s, err);
	}
	s->in_end += (size_t)n;
	return 0;
}

/* Reads one reply line into line (size bytes with the NUL), without its
 * CRLF (a bare LF is accepted too); returns 0, or -1 after logging why. */
static int read_line(struct smtp *s, char *line, size_t size)
{
	for (;;) {
		char *start = s->in + s->in_start;
		char *nl = memchr(start, '\n', smtp_buffered(s));

		if (nl != NULL) {
			size_t len = (size_t)(nl - start);

			s->in_start += len + 1;
			if (len > 0 && start[len - 1] == '\r')
				len--;
			if (len >= size)
				return broken(s, "the server sent a reply line "
						 "longer than 1000 bytes");
			memcpy(line, start, len);
			line[len] = '\0';
			return 0;
		}
		if (smtp_buffered(s) >= SMTP_LINE_MAX)
			return broken(s, "the server sent a reply line longer "
					 "than 1000 bytes");
		if (fill(s) < 0)
			return -1;
	}
}

/* Returns the code of a reply line ("250-..." -> 250), or -1 when the line
 * does not start with three digits followed by '-', ' ' or nothing. */
static int line_code(const char *line)
{
	for (int i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (line[3] != '-' && line[3] != ' ' && line[3] != '\0')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Appends one line and a '\n' to the reply's text (cut when full). */
static void add_text(struct smtp_reply *r, const char *line)
{
	int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s\n",
			 line);

	if (n > 0)
		r->len += (size_t)n < sizeof r->text - r->len
				  ? (size_t)n
				  : sizeof r->text - r->len - 1;
}

int smtp_read_reply(struct smtp *s, struct smtp_reply *r)
{
	char line[SMTP_LINE_MAX];
	bool last = false;

	r->code = 0;
	r->len = 0;
	r->text[0] = '\0';
	/* BLANK 1: Read lines with read_line() until the reply's last one (a space or nothing after the code, not '-'); every line must have a code (line_code()) and the same one. Log each as "S: line" and add it with add_text(). */
	while (!last) {
		int code;

		if (read_line(s, line, sizeof line) < 0)
			return -1;
		sl_log(s->log, SL_INFO, "S: %s", line);
		code = line_code(line);
		if (code < 0)
			return broken(s, "the server sent a line that is not "
					 "an SMTP reply (no 3-digit code)");
		if (r->len > 0 && code != r->code)
			return broken(s, "the lines of one reply have "
					 "different codes");
		r->code = code;
		add_text(r, line);
		last = line[3] != '-';
	}
	/* SKELETON 1:
	(void)line;
	(void)last;
	(void)line_code;
	(void)add_text;
	(void)read_line;
	SL_TODO(1);
	return broken(s, "no reply read (TODO 1)");
	*/
	/* END 1 */
	return 0;
}

int smtp_send_line(struct smtp *s, const char *line, const char *shown)
{
	char err[SL_ERRLEN + SL_HOSTPORTLEN];
	char buf[SMTP_COMMAND_MAX + 2];
	size_t len = strlen(line);

	if (len > SMTP_COMMAND_MAX) {
		sl_log(s->log, SL_ERROR, "a command line is longer than %d "
		       "bytes", SMTP_COMMAND_MAX);
		return -1;
	}
	/* One send for the line and its CRLF: one segment on the wire. */
	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	sl_log(s->log, SL_INFO, "C: %s", shown != NULL ? shown : line);
	if (conn_send_all(&s->conn, buf, len + 2, err, sizeof err) < 0)
		return broken(s, err);
	return 0;
}

/* Logs the reply r as the answer to the command shown, which wanted a
 * reply like want. */
static void log_refusal(const struct smtp *s, const char *shown, int want,
			const struct smtp_reply *r)
{
	char text[SMTP_REPLY_MAX];

	/* One log line: the reply's lines joined by " / ". */
	(void)snprintf(text, sizeof text, "%.*s", (int)r->len, r->text);
	for (char *nl = strchr(text, '\n'); nl != NULL; nl = strchr(nl, '\n'))
		*nl = nl[1] != '\0' ? '/' : '\0';
	sl_log(s->log, SL_ERROR, "%s: the server replied %s (expected %d)",
	       shown, text, want);
}

int smtp_command(struct smtp *s, const char *line, const char *shown,
		 int want, struct smtp_reply *r)
{
	if (smtp_send_line(s, line, shown) < 0 || smtp_read_reply(s, r) < 0)
		return -1;
	/* BLANK 2: The command failed unless the reply's first digit is want's (250 and 251 are both fine for 250): log it with log_refusal() and return -1. */
	if (r->code / 100 != want / 100) {
		log_refusal(s, shown != NULL ? shown : line, want, r);
		return -1;
	}
	/* SKELETON 2:
	(void)want;
	(void)log_refusal;
	SL_TODO(2);
	*/
	/* END 2 */
	return 0;
}

int smtp_start_tls(struct smtp *s, const char *host, const char *cafile)
{
	char err[SL_ERRLEN + SL_HOSTPORTLEN + 128], checked[256];
	bool verified;

	if (smtp_buffered(s) > 0)
		return broken(s, "the server sent more after its reply to "
				 "STARTTLS, before TLS began: refused");
	if (conn_start_tls(&s->conn, host, cafile, err, sizeof err) < 0)
		return broken(s, err);
	/* Say what the handshake really checked: a warning when it took the
	 * certificate unchecked. */
	verified = conn_verified(&s->conn, checked, sizeof checked);
	sl_log(s->log, verified ? SL_INFO : SL_WARN, "TLS started with %s: "
	       "%s, %s, %s", s->conn.peer, SSL_get_version(s->conn.ssl),
	       SSL_get_cipher_name(s->conn.ssl), checked);
	return 0;
}

/* Appends msg to out with a '.' added before every line that starts with
 * '.', then the end of the data: CRLF "." CRLF. */
static void make_transparent(const struct strbuf *msg, struct strbuf *out)
{
	const char *p = msg->data;
	const char *end = msg->data + msg->len;

	/* BLANK 3: Copy msg into out line by line (memchr for each '\n'), adding one '.' in front of every line that starts with '.'. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) + 1
				      : (size_t)(end - p);

		if (*p == '.')
			strbuf_add(out, ".", 1);
		strbuf_add(out, p, n);
		p += n;
	}
	/* SKELETON 3:
	(void)end;
	strbuf_add(out, p, msg->len);
	SL_TODO(3);
	*/
	/* END 3 */
	/* BLANK 4: End the data: a CRLF unless the message already ends with one, then "." and CRLF. */
	if (msg->len < 2 || memcmp(end - 2, "\r\n", 2) != 0)
		strbuf_addstr(out, "\r\n");
	strbuf_addstr(out, ".\r\n");
	/* SKELETON 4:
	SL_TODO(4);
	*/
	/* END 4 */
}

int smtp_send_data(struct smtp *s, const struct strbuf *msg)
{
	char err[SL_ERRLEN + SL_HOSTPORTLEN];
	struct smtp_reply r;
	struct strbuf out;
	int rc;

	strbuf_init(&out);
	make_transparent(msg, &out);
	if (strbuf_failed(&out)) {
		strbuf_free(&out);
		sl_log(s->log, SL_ERROR, "out of memory for the message");
		return -1;
	}
	/* The message itself is not logged line by line: only its size. */
	sl_log(s->log, SL_INFO, "C: (the message: %zu bytes, then \".\")",
	       msg->len);
	rc = conn_send_all(&s->conn, out.data, out.len, err, sizeof err);
	strbuf_free(&out);
	if (rc < 0)
		return broken(s, err);
	if (smtp_read_reply(s, &r) < 0)
		return -1;
	if (r.code / 100 != 2) {
		log_refusal(s, "the end of the message", 250, &r);
		return -1;
	}
	return 0;
}
