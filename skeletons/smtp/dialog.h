/*
 * dialog - the SMTP dialogue: commands, replies, and the text of DATA.
 *
 * The client sends one command line at a time, ended by CRLF, and the
 * server answers each with a reply: a three-digit code, then text. A
 * reply may take several lines; every line but the last has a '-' after
 * the code, the last one a space (RFC 5321, 4.2):
 *
 *	C: EHLO [127.0.0.1]
 *	S: 250-mail.example.org greets you
 *	S: 250-SIZE 10240000
 *	S: 250-STARTTLS
 *	S: 250 AUTH LOGIN PLAIN
 *
 * The first digit says how the command went: 2 done, 3 go on (send more),
 * 4 failed for now, 5 failed for good. A reply can arrive in any number of
 * pieces (TCP keeps no boundaries), so replies are read line by line
 * through a buffer that keeps what was received but not used yet.
 *
 * Every line is logged at level INFO, "C: ..." for what we send and
 * "S: ..." for what we receive. A command that carries a secret (a
 * password, in base64 or not) is logged in a masked form that the caller
 * gives: the log must never hold the password.
 */
#ifndef DIALOG_H
#define DIALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_log.h"
#include "strbuf.h"
#include "tlsconn.h"

/* Longest reply line we accept, CRLF included (RFC 5321: 512). */
#define SMTP_LINE_MAX 1000

/* Room for the lines of one reply, joined by '\n', for messages. */
#define SMTP_REPLY_MAX 4096

/* Room for one command line without its CRLF (RFC 5321: 512 with it). */
#define SMTP_COMMAND_MAX 1024

/* What a password looks like in the log. */
#define SMTP_MASK "********"

/* One reply of the server. */
struct smtp_reply {
	int code;		   /* 250: the same on every line */
	char text[SMTP_REPLY_MAX]; /* its lines, codes included, each ended
				      by '\n' (cut when too long) */
	size_t len;		   /* bytes of text */
};

/* The client's side of one SMTP session. */
struct smtp {
	struct tls_conn conn;
	const struct sl_logger *log; /* where the dialogue goes */
	bool broken;		     /* the connection failed: no QUIT */
	char in[8192];		     /* received bytes not used yet: */
	size_t in_start, in_end;     /* in[in_start..in_end) */
};

/* Starts a session on an open connection c (taken over) logging to log. */
void smtp_init(struct smtp *s, const struct tls_conn *c,
	       const struct sl_logger *log);

/* Tells how many received bytes wait in the buffer unread. */
size_t smtp_buffered(const struct smtp *s);

/* Reads one whole reply into r; returns 0, or -1 after logging why (the
 * session is then broken). */
int smtp_read_reply(struct smtp *s, struct smtp_reply *r);

/* Sends line and its CRLF, logged as "C: line", or as "C: shown" when shown
 * is not NULL; returns 0, or -1 after logging why. */
int smtp_send_line(struct smtp *s, const char *line, const char *shown);

/*
 * Sends one command line and reads its reply into r; returns 0 when the
 * reply's first digit is want's (2 for 250, 3 for 354), else -1 after
 * logging the command (as shown) and the whole reply:
 *	RCPT TO:<nobody@example.org>: the server replied 550 No such user
 *	(expected 250)
 */
int smtp_command(struct smtp *s, const char *line, const char *shown,
		 int want, struct smtp_reply *r);

/*
 * Switches the session to TLS after the server's 220 reply to STARTTLS:
 * refuses when plaintext bytes already wait after that reply (anyone on the
 * path could have added commands there, to be read as if they came through
 * TLS), then runs the handshake with the server's certificate checked
 * against cafile and host. Returns 0, or -1 after logging why (the session
 * is then broken).
 */
int smtp_start_tls(struct smtp *s, const char *host, const char *cafile);

/*
 * Sends a message (lines ended by CRLF) as the text of DATA, made
 * transparent: a line that starts with '.' gets another '.' in front
 * (RFC 5321, 4.5.2), so that no line of the message can end the data
 * early; then the end of data, "." on a line of its own. Reads the
 * server's reply, which must be 250. Returns 0, or -1 after logging why.
 */
int smtp_send_data(struct smtp *s, const struct strbuf *msg);

#endif
