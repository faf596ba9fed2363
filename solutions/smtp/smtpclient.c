/*
 * smtpclient - send one mail through an SMTP server, speaking SMTP by hand.
 *
 * The session, as the client sees it (RFC 5321; AUTH: RFC 4954; STARTTLS:
 * RFC 3207):
 *
 *	S: 220 mail.example.org ESMTP             greeting
 *	C: EHLO [127.0.0.1]                       who we are; the server
 *	S: 250-mail.example.org                   lists its extensions
 *	S: 250 STARTTLS
 *	C: STARTTLS                               --starttls: switch to TLS,
 *	S: 220 Ready to start TLS                 then EHLO again
 *	   ... TLS handshake, then everything encrypted ...
 *	C: AUTH LOGIN                             --auth login
 *	S: 334 VXNlcm5hbWU6                       "Username:" in base64
 *	C: YWxpY2U=                               the user, in base64
 *	S: 334 UGFzc3dvcmQ6                       "Password:"
 *	C: ********                               the password, in base64
 *	S: 235 Authentication successful
 *	C: MAIL FROM:<alice@example.org>          the envelope: sender,
 *	C: RCPT TO:<bob@example.org>              one RCPT per recipient
 *	C: DATA                                   the message, then "."
 *	S: 354 End data with <CR><LF>.<CR><LF>
 *	C: QUIT
 *	S: 221 Bye
 *
 * Every reply is checked: a wrong one stops the session with a message
 * naming the command and the server's reply, then QUIT.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dialog.h"
#include "mime.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_log.h"
#include "sl_net.h"
#include "strbuf.h"
#include "tlsconn.h"

#define DEFAULT_PORT 2525
#define MAX_RECIPIENTS 32
#define MAX_FILES 16
#define MAX_FILE_BYTES ((size_t)10 << 20) /* an attachment or the body */
#define MAX_SECRET 255			  /* bytes of a user or password */

static const char usage[] =
	"Usage: smtpclient [-h] --server HOST [--port PORT] --from ADDR\n"
	"                  --to ADDR [--to ADDR...] --subject TEXT\n"
	"                  [--body-file FILE] [--attach FILE...]\n"
	"                  [--auth login|plain --user USER --password-file "
	"FILE]\n"
	"                  [--starttls | --tls] [--cafile FILE]\n"
	"                  [--timeout SECONDS]\n"
	"\n"
	"Sends one mail through the SMTP server HOST, speaking SMTP by hand.\n"
	"The dialogue goes to standard error, \"C: \" for each line sent and\n"
	"\"S: \" for each line received, with the password masked.\n"
	"\n"
	"Options:\n"
	"  --server HOST         the server's name or address (required)\n"
	"  --port PORT           its port (default 2525)\n"
	"  --from ADDR           the sender's address (required)\n"
	"  --to ADDR             a recipient's address (required; up to 32)\n"
	"  --subject TEXT        the subject, UTF-8 (required)\n"
	"  --body-file FILE      the text of the mail (default: standard "
	"input)\n"
	"  --attach FILE         attach a file (up to 16, 10 MiB each)\n"
	"  --auth login|plain    log in with AUTH LOGIN or AUTH PLAIN\n"
	"  --user USER           the user name to log in with\n"
	"  --password-file FILE  the file whose first line is the password\n"
	"  --starttls            switch to TLS with STARTTLS (port 587 style)\n"
	"  --tls                 TLS from the first byte (port 465 style)\n"
	"  --cafile FILE         trust the CA certificates of FILE (default:\n"
	"                        the system's)\n"
	"  --timeout SECONDS     give up when the server is silent that long,\n"
	"                        1-3600 (default 30)\n"
	"  -h, --help            print this help and exit\n"
	"\n"
	"Exit status: 0 the server accepted the mail; 1 it did not, or a\n"
	"connection, TLS or file problem; 2 bad usage.\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

enum tls_mode { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };
enum auth_mech { AUTH_NONE, AUTH_LOGIN, AUTH_PLAIN };

/* The command line. */
struct options {
	const char *server;
	uint16_t port;
	const char *from;
	const char *to[MAX_RECIPIENTS];
	size_t nto;
	const char *subject;
	const char *body_file; /* NULL: standard input */
	const char *files[MAX_FILES];
	size_t nfiles;
	enum auth_mech auth;
	const char *user;
	const char *password_file;
	enum tls_mode tls;
	const char *cafile;
	int timeout_s; /* a silent server is given up after this */
};

/* What the server said it can do in its reply to EHLO. */
struct caps {
	bool starttls;
	bool auth_login, auth_plain;
	bool size;		       /* SIZE: MAIL FROM may say SIZE=n */
	unsigned long long size_limit; /* its largest message; 0: none */
};

/* ---- the command line ----------------------------------------------- */

/* Tells whether addr can go between < > in a command: not empty, no
 * CR, LF, '<', '>' or space (which would let it add commands). */
static bool valid_address(const char *addr)
{
	return addr[0] != '\0' && strpbrk(addr, "\r\n<> ") == NULL;
}

/* Checks the options that go together; returns 0 or the usage status. */
static int check_options(const struct options *o)
{
	if (o->server == NULL || o->from == NULL || o->nto == 0 ||
	    o->subject == NULL)
		return sl_usage_error(&sl_prog_log, usage, "--server, --from, "
				      "--to and --subject are required");
	if (!valid_address(o->from))
		return sl_usage_error(&sl_prog_log, usage,
				      "bad --from address: %s", o->from);
	for (size_t i = 0; i < o->nto; i++)
		if (!valid_address(o->to[i]))
			return sl_usage_error(&sl_prog_log, usage,
					      "bad --to address: %s", o->to[i]);
	if (strpbrk(o->subject, "\r\n") != NULL)
		return sl_usage_error(&sl_prog_log, usage,
				      "the subject must be one line");
	if (o->auth != AUTH_NONE &&
	    (o->user == NULL || o->password_file == NULL))
		return sl_usage_error(&sl_prog_log, usage, "--auth needs "
				      "--user and --password-file");
	if (o->user != NULL && strlen(o->user) > MAX_SECRET)
		return sl_usage_error(&sl_prog_log, usage,
				      "the user name is over %d bytes",
				      MAX_SECRET);
	return 0;
}

/* Stores one option's value in o; returns 0 or the usage status. */
static int take_option(int opt, const char *arg, struct options *o)
{
	char err[SL_ERRLEN];
	long secs;

	switch (opt) {
	case 's': o->server = arg; break;
	case 'f': o->from = arg; break;
	case 'j': o->subject = arg; break;
	case 'b': o->body_file = arg; break;
	case 'u': o->user = arg; break;
	case 'w': o->password_file = arg; break;
	case 'c': o->cafile = arg; break;
	case 'S': o->tls = TLS_STARTTLS; break;
	case 'T': o->tls = TLS_IMPLICIT; break;
	case 'p':
		if (sl_parse_port(arg, &o->port, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		break;
	case 't':
		if (o->nto == MAX_RECIPIENTS)
			return sl_usage_error(&sl_prog_log, usage,
					      "more than %d recipients",
					      MAX_RECIPIENTS);
		o->to[o->nto++] = arg;
		break;
	case 'a':
		if (o->nfiles == MAX_FILES)
			return sl_usage_error(&sl_prog_log, usage,
					      "more than %d attachments",
					      MAX_FILES);
		o->files[o->nfiles++] = arg;
		break;
	case 'o':
		if (sl_parse_long(arg, "--timeout", 1, 3600, &secs, err,
				  sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		o->timeout_s = (int)secs;
		break;
	case 'A':
		if (strcasecmp(arg, "login") == 0)
			o->auth = AUTH_LOGIN;
		else if (strcasecmp(arg, "plain") == 0)
			o->auth = AUTH_PLAIN;
		else
			return sl_usage_error(&sl_prog_log, usage,
					      "--auth takes login or plain, "
					      "not %s", arg);
		break;
	default:
		return sl_usage_error(&sl_prog_log, usage,
				      "unknown option or missing value");
	}
	return 0;
}

/* Parses the command line into o; returns 0 or the usage status. */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 's'},
		{"port", required_argument, NULL, 'p'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"subject", required_argument, NULL, 'j'},
		{"body-file", required_argument, NULL, 'b'},
		{"attach", required_argument, NULL, 'a'},
		{"auth", required_argument, NULL, 'A'},
		{"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'w'},
		{"starttls", no_argument, NULL, 'S'},
		{"tls", no_argument, NULL, 'T'},
		{"cafile", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	int opt, rc;

	*o = (struct options){.port = DEFAULT_PORT,
			      .timeout_s = CONN_TIMEOUT_S};
	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if ((rc = take_option(opt, optarg, o)) != 0)
			return rc;
	if (optind < argc)
		return sl_usage_error(&sl_prog_log, usage,
				      "unexpected argument: %s", argv[optind]);
	return check_options(o);
}

/* ---- files ---------------------------------------------------------- */

/* Reads the whole file path (standard input for NULL) into b, at most
 * MAX_FILE_BYTES; returns 0, or -1 after logging why. */
static int read_file(const char *path, struct strbuf *b)
{
	int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	int rc;

	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "open %s: %s", path,
		       strerror(errno));
		return -1;
	}
	rc = strbuf_read_fd(b, fd, MAX_FILE_BYTES);
	if (rc < 0)
		sl_log(&sl_prog_log, SL_ERROR, "read %s: %s",
		       path != NULL ? path : "standard input",
		       errno == EFBIG ? "larger than 10 MiB" : strerror(errno));
	if (path != NULL)
		(void)close(fd);
	return rc;
}

/* Reads the password: the first line of path, without its line end, into
 * pw (MAX_SECRET bytes and a NUL); returns 0, or -1 after logging why. */
static int read_password(const char *path, char *pw)
{
	struct strbuf b;
	size_t len;

	strbuf_init(&b);
	if (read_file(path, &b) < 0) {
		strbuf_free(&b);
		return -1;
	}
	len = b.data != NULL ? strcspn(b.data, "\r\n") : 0;
	if (len == 0 || len > MAX_SECRET) {
		sl_log(&sl_prog_log, SL_ERROR, "%s: the password must be one "
		       "line of 1 to %d bytes", path, MAX_SECRET);
		len = 0;
	} else {
		memcpy(pw, b.data, len);
		pw[len] = '\0';
	}
	/* Wipe the copy: memory that held a password is not reused as is. */
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);
	strbuf_free(&b);
	return len > 0 ? 0 : -1;
}

/* Builds the whole message into msg from the options, the body and the
 * attachments; returns 0, or -1 after logging why. */
static int build_message(const struct options *o, struct strbuf *msg)
{
	struct strbuf body, data[MAX_FILES];
	struct mime_file files[MAX_FILES];
	char boundary[MIME_BOUNDARY_MAX], message_id[MIME_MESSAGE_ID_MAX];
	time_t now = time(NULL);
	size_t loaded = 0;
	int rc = -1;

	strbuf_init(&body);
	if (read_file(o->body_file, &body) < 0)
		goto out;
	for (; loaded < o->nfiles; loaded++) {
		strbuf_init(&data[loaded]);
		if (read_file(o->files[loaded], &data[loaded]) < 0) {
			strbuf_free(&data[loaded]);
			goto out;
		}
		files[loaded] = (struct mime_file){
			.name = strrchr(o->files[loaded], '/') != NULL
					? strrchr(o->files[loaded], '/') + 1
					: o->files[loaded],
			.data = data[loaded].data,
			.len = data[loaded].len};
	}
	if (mime_make_boundary(boundary) < 0 ||
	    mime_make_message_id(o->from, now, message_id) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "no random bytes for the MIME "
		       "boundary and the Message-ID");
		goto out;
	}
	mime_build(&(struct mime_mail){.from = o->from, .to = o->to,
				       .nto = o->nto, .subject = o->subject,
				       .body = body.data ? body.data : "",
				       .body_len = body.len, .files = files,
				       .nfiles = o->nfiles,
				       .boundary = boundary,
				       .message_id = message_id,
				       .date = now},
		   msg);
	rc = 0;
	if (strbuf_failed(msg)) {
		sl_log(&sl_prog_log, SL_ERROR, "out of memory for the message");
		rc = -1;
	}
out:
	while (loaded > 0)
		strbuf_free(&data[--loaded]);
	strbuf_free(&body);
	return rc;
}

/* ---- the session ---------------------------------------------------- */

/* Writes our address as an SMTP address literal ("[127.0.0.1]",
 * "[IPv6:::1]"), the name EHLO gives when we have no DNS name. */
static void local_literal(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[SL_ADDRSTRLEN] = "127.0.0.1:0";

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)sl_sockaddr_str((struct sockaddr *)&ss, addr,
				      sizeof addr);
	/* sl_sockaddr_str() wrote "127.0.0.1:40000" or "[::1]:40000". */
	*strrchr(addr, ':') = '\0';
	if (addr[0] == '[')
		(void)snprintf(buf, size, "[IPv6:%.*s]", (int)strlen(addr) - 2,
			       addr + 1);
	else
		(void)snprintf(buf, size, "[%s]", addr);
}

/* Reads what the server can do from the lines of its reply to EHLO
 * ("250-STARTTLS", "250-SIZE 10240000", "250 AUTH LOGIN PLAIN"). */
static void parse_caps(const struct smtp_reply *r, struct caps *caps)
{
	char text[SMTP_REPLY_MAX];
	char *save = NULL;

	*caps = (struct caps){0};
	(void)snprintf(text, sizeof text, "%s", r->text);
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *kw = line + 4; /* after "250-" */

		if (strlen(line) < 4)
			continue;
		if (strcasecmp(kw, "STARTTLS") == 0)
			caps->starttls = true;
		if (strncasecmp(kw, "SIZE", 4) == 0 &&
		    (kw[4] == ' ' || kw[4] == '\0')) {
			/* "SIZE" alone or "SIZE 0": no limit announced. */
			caps->size = true;
			caps->size_limit =
				kw[4] == ' ' ? strtoull(kw + 5, NULL, 10) : 0;
		}
		if (strncasecmp(kw, "AUTH", 4) == 0 &&
		    (kw[4] == ' ' || kw[4] == '=')) {
			/* Mechanisms are words: look for " LOGIN", " PLAIN". */
			for (const char *m = kw + 4; *m; m++) {
				if (strncasecmp(m + 1, "LOGIN", 5) == 0)
					caps->auth_login = true;
				if (strncasecmp(m + 1, "PLAIN", 5) == 0)
					caps->auth_plain = true;
			}
		}
	}
}

/* Greets the server with EHLO, or HELO when it does not know EHLO, and
 * learns its extensions; returns 0, or -1 (logged). */
static int hello(struct smtp *s, struct caps *caps)
{
	char me[SL_ADDRSTRLEN + 8], line[SMTP_COMMAND_MAX];
	struct smtp_reply r;

	local_literal(s->conn.fd, me, sizeof me);
	*caps = (struct caps){0};
	/* BLANK 8: Send "EHLO <me>" and parse_caps() of a 250 reply; when the server refuses it with a 5xx reply (and the session is not broken), send "HELO <me>" instead, which must get 250. */
	(void)snprintf(line, sizeof line, "EHLO %s", me);
	if (smtp_command(s, line, NULL, 250, &r) == 0) {
		parse_caps(&r, caps);
		return 0;
	}
	if (s->broken || r.code / 100 != 5)
		return -1;
	sl_log(&sl_prog_log, SL_INFO, "the server does not know EHLO: "
	       "trying HELO (no extensions)");
	(void)snprintf(line, sizeof line, "HELO %s", me);
	return smtp_command(s, line, NULL, 250, &r);
	/* SKELETON 8:
	(void)line;
	(void)r;
	(void)parse_caps;
	SL_TODO(8);
	return -1;
	*/
	/* END 8 */
}

/* STARTTLS: switches the session to TLS and greets the server again;
 * returns 0, or -1 (logged). */
static int start_tls(struct smtp *s, const struct options *o,
		     struct caps *caps)
{
	struct smtp_reply r;

	if (!caps->starttls) {
		sl_log(&sl_prog_log, SL_ERROR, "%s does not offer STARTTLS",
		       s->conn.peer);
		return -1;
	}
	/* BLANK 9: Send STARTTLS (it must get 220), start TLS with smtp_start_tls(), then hello() again: what the server said before TLS may have been changed on the way. */
	if (smtp_command(s, "STARTTLS", NULL, 220, &r) < 0 ||
	    smtp_start_tls(s, o->server, o->cafile) < 0)
		return -1;
	return hello(s, caps);
	/* SKELETON 9:
	(void)r;
	(void)o;
	SL_TODO(9);
	return -1;
	*/
	/* END 9 */
}

/* AUTH LOGIN: the user and the password, each in base64 after a 334
 * prompt; returns 0 when the server answers 235, or -1 (logged). */
static int auth_login(struct smtp *s, const char *user, const char *password)
{
	char line[SMTP_COMMAND_MAX];
	struct smtp_reply r;
	int rc = -1;

	/* BLANK 10: Send "AUTH LOGIN" (334), the user in base64 (334), then the password in base64, logged as SMTP_MASK (235). */
	if (smtp_command(s, "AUTH LOGIN", NULL, 334, &r) == 0) {
		mime_base64(user, strlen(user), line);
		if (smtp_command(s, line, NULL, 334, &r) == 0) {
			mime_base64(password, strlen(password), line);
			rc = smtp_command(s, line, SMTP_MASK, 235, &r);
		}
	}
	/* SKELETON 10:
	(void)r;
	(void)user;
	(void)password;
	(void)s;
	line[0] = '\0';
	SL_TODO(10);
	*/
	/* END 10 */
	OPENSSL_cleanse(line, sizeof line);
	return rc;
}

/* AUTH PLAIN: "\0user\0password" in base64 on the AUTH line itself;
 * returns 0 when the server answers 235, or -1 (logged). */
static int auth_plain(struct smtp *s, const char *user, const char *password)
{
	char plain[2 * MAX_SECRET + 2], line[SMTP_COMMAND_MAX];
	size_t ulen = strlen(user), plen = strlen(password);
	struct smtp_reply r;
	int rc = -1;

	/* BLANK 11: Build "\0user\0password" in plain (NUL bytes: memcpy, not strcpy), send "AUTH PLAIN <base64>" logged as "AUTH PLAIN " SMTP_MASK; the reply must be 235. */
	plain[0] = '\0';
	memcpy(plain + 1, user, ulen);
	plain[1 + ulen] = '\0';
	memcpy(plain + 2 + ulen, password, plen);
	memcpy(line, "AUTH PLAIN ", 11);
	mime_base64(plain, 2 + ulen + plen, line + 11);
	rc = smtp_command(s, line, "AUTH PLAIN " SMTP_MASK, 235, &r);
	/* SKELETON 11:
	(void)r;
	(void)s;
	(void)ulen;
	(void)plen;
	(void)user;
	(void)password;
	line[0] = plain[0] = '\0';
	SL_TODO(11);
	*/
	/* END 11 */
	OPENSSL_cleanse(plain, sizeof plain);
	OPENSSL_cleanse(line, sizeof line);
	return rc;
}

/* Logs in with the mechanism of the options, if the server offers it;
 * returns 0, or -1 (logged). */
static int authenticate(struct smtp *s, const struct options *o,
			const struct caps *caps, const char *password)
{
	bool offered = o->auth == AUTH_LOGIN ? caps->auth_login
					     : caps->auth_plain;
	const char *name = o->auth == AUTH_LOGIN ? "LOGIN" : "PLAIN";

	if (!offered) {
		sl_log(&sl_prog_log, SL_ERROR, "%s does not offer AUTH %s%s",
		       s->conn.peer, name,
		       conn_is_tls(&s->conn) ? "" : " without TLS");
		return -1;
	}
	return o->auth == AUTH_LOGIN ? auth_login(s, o->user, password)
				     : auth_plain(s, o->user, password);
}

/* Refuses to send a message larger than the server takes: its EHLO reply
 * announced a limit (SIZE, RFC 1870), and a message over it would only be
 * refused after crossing the network. Returns 0, or -1 (logged). */
static int check_size(const struct smtp *s, const struct caps *caps,
		      size_t size)
{
	if (caps->size_limit == 0 || size <= caps->size_limit)
		return 0;
	sl_log(&sl_prog_log, SL_ERROR, "the message is %zu bytes, more than "
	       "the %llu bytes %s takes (SIZE in its reply to EHLO): not sent",
	       size, caps->size_limit, s->conn.peer);
	return -1;
}

/* The envelope: MAIL FROM (with the message's size when the server offers
 * SIZE), then one RCPT TO per recipient; returns 0, or -1 (logged) at the
 * first refusal. */
static int envelope(struct smtp *s, const struct options *o,
		    const struct caps *caps, size_t size)
{
	char line[SMTP_COMMAND_MAX];
	struct smtp_reply r;

	/* BLANK 12: Send "MAIL FROM:<from>", with " SIZE=<size>" after it when the server offers SIZE, then "RCPT TO:<to>" for each recipient; each must get 250 (stop at the first refusal). */
	if (caps->size)
		(void)snprintf(line, sizeof line, "MAIL FROM:<%s> SIZE=%zu",
			       o->from, size);
	else
		(void)snprintf(line, sizeof line, "MAIL FROM:<%s>", o->from);
	if (smtp_command(s, line, NULL, 250, &r) < 0)
		return -1;
	for (size_t i = 0; i < o->nto; i++) {
		(void)snprintf(line, sizeof line, "RCPT TO:<%s>", o->to[i]);
		if (smtp_command(s, line, NULL, 250, &r) < 0)
			return -1;
	}
	return 0;
	/* SKELETON 12:
	(void)line;
	(void)r;
	(void)o;
	(void)s;
	(void)caps;
	(void)size;
	SL_TODO(12);
	return -1;
	*/
	/* END 12 */
}

/* Runs the session from the greeting to the end of the message; returns
 * 0 once the server accepted the message, or -1 (logged). */
static int deliver(struct smtp *s, const struct options *o,
		   const struct strbuf *msg, const char *password)
{
	struct smtp_reply r;
	struct caps caps;

	if (smtp_read_reply(s, &r) < 0)
		return -1;
	if (r.code != 220) {
		sl_log(&sl_prog_log, SL_ERROR, "the server's greeting is not "
		       "220 but %d: it does not want us", r.code);
		return -1;
	}
	if (hello(s, &caps) < 0)
		return -1;
	if (o->tls == TLS_STARTTLS && start_tls(s, o, &caps) < 0)
		return -1;
	if (check_size(s, &caps, msg->len) < 0)
		return -1;
	if (o->auth != AUTH_NONE && authenticate(s, o, &caps, password) < 0)
		return -1;
	if (envelope(s, o, &caps, msg->len) < 0 ||
	    smtp_command(s, "DATA", NULL, 354, &r) < 0)
		return -1;
	return smtp_send_data(s, msg);
}

/* Ends the session: QUIT and its 221 reply unless the connection broke,
 * then our FIN after the server's (no reset). */
static void hang_up(struct smtp *s)
{
	struct smtp_reply r;

	/* BLANK 13: Unless s->broken, send QUIT (the reply should be 221; a failure is only logged); then close the connection with conn_close(). */
	if (!s->broken)
		(void)smtp_command(s, "QUIT", NULL, 221, &r);
	conn_close(&s->conn);
	/* SKELETON 13:
	(void)r;
	SL_TODO(13);
	(void)close(s->conn.fd);
	*/
	/* END 13 */
}

/* Connects (with TLS at once for --tls) and starts a session in s;
 * returns 0, or -1 (logged). */
static int open_session(const struct options *o, struct smtp *s)
{
	char err[SL_ERRLEN + SL_HOSTPORTLEN];
	struct tls_conn c;

	if (conn_open(&c, o->server, o->port, o->timeout_s, err,
		      sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return -1;
	}
	sl_log(&sl_prog_log, SL_INFO, "connected to %s", c.peer);
	smtp_init(s, &c, &sl_prog_log);
	if (o->tls == TLS_IMPLICIT &&
	    smtp_start_tls(s, o->server, o->cafile) < 0) {
		conn_close(&s->conn);
		return -1;
	}
	return 0;
}

/* Builds the message, sends it, and ends the session; returns the exit
 * status. */
static int run(const struct options *o)
{
	char password[MAX_SECRET + 1] = "";
	struct strbuf msg;
	struct smtp s;
	int rc = -1;

	strbuf_init(&msg);
	if (build_message(o, &msg) == 0 &&
	    (o->auth == AUTH_NONE ||
	     read_password(o->password_file, password) == 0) &&
	    open_session(o, &s) == 0) {
		rc = deliver(&s, o, &msg, password);
		hang_up(&s);
	}
	OPENSSL_cleanse(password, sizeof password);
	strbuf_free(&msg);
	if (rc < 0)
		return SL_EXIT_FAILURE;
	sl_log(&sl_prog_log, SL_INFO, "the server accepted the mail for %zu "
	       "recipient%s", o->nto, o->nto == 1 ? "" : "s");
	return SL_EXIT_OK;
}

int main(int argc, char *argv[])
{
	struct options o;
	int rc;

	sl_log_init(&sl_prog_log, "smtpclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc;
	/* OpenSSL writes to the socket with write(): a server gone away must
	 * give an error, not a fatal SIGPIPE. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	return run(&o);
}
