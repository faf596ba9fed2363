/*
 * chatclient - client of the chat room (chatserver).
 *
 * Logs in with a user name and a password (typed without echo, or read
 * from --password-file), then two threads share the connection:
 *
 *  - the reader thread reads every frame the server sends and shows it
 *    under a "[time] sender" header;
 *  - the main thread reads what the user types and sends each line: to
 *    everyone, or to one user when it starts with "@name ".
 *
 * The reader must be a thread of its own because the main thread spends
 * its time blocked on the keyboard: messages must appear while the user
 * types nothing. Only the main thread sends and only the reader prints,
 * so neither needs a lock.
 *
 * ":q" (or the end of input) ends the session: a CTL "quit" frame, then
 * our FIN with shutdown(SHUT_WR); we close only after the server's FIN, so
 * the connection ends with a four-way FIN teardown, never a reset.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chatwire.h"
#include "secret.h"
#include "sl_args.h"
#include "sl_frame.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

/* How long we wait for the server's FIN after sending ours. */
#define CLOSE_WAIT_MS 2000

/* The longest typed line we read whole (a terminal's line is at most 4095
 * bytes): longer messages are refused, and a whole line lets us say by how
 * much. */
#define INPUT_LINE_MAX 4096

static const char usage[] =
	"Usage: chatclient [-h] --host HOST --port PORT --user NAME\n"
	"                  [--password-file FILE]\n"
	"\n"
	"Client of the chat room. Logs in as NAME, shows every message under\n"
	"a \"[time] sender\" header, and sends each line typed:\n"
	"\n"
	"  hello everyone     to everyone else online\n"
	"  @bob hi there      to bob only (a private message)\n"
	"  ::q                the line \":q\" (a leading \"::\" stands for \":\")\n"
	"  :q                 leave the room (so does the end of input)\n"
	"\n"
	"The password is read from FILE's first line, or else from the first\n"
	"line of standard input (typed without echo on a terminal).\n"
	"\n"
	"Options:\n"
	"  --host HOST           server name or address, IPv4 or IPv6\n"
	"  --port PORT           server TCP port, 1-65535 (servers use 12002)\n"
	"  --user NAME           user name: 1 to 32 letters, digits, '_', '-'\n"
	"                        or '.'\n"
	"  --password-file FILE  read the password from FILE (for scripts)\n"
	"  -h, --help            print this help to standard output and exit\n"
	"\n"
	"A message is 1 to 1000 bytes of UTF-8 text; a longer line is refused\n"
	"whole (never cut). Logs go to standard error.\n"
	"\n"
	"Exit status:\n"
	"  0  the session ended with \":q\" or at the end of input\n"
	"  1  no connection, login refused, the server closed the connection\n"
	"     first, or an I/O error\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	const char *host;
	uint16_t port;
	bool port_set;
	const char *user;
	const char *password_file; /* NULL: read standard input */
};

/* How the reader thread ended. */
enum reader_end {
	READER_RUNNING,
	READER_EOF,    /* the server closed its side */
	READER_FAILED, /* an error, already logged */
};

/* The connection, shared by the main thread and the reader thread. */
struct conn {
	int fd;
	const char *server; /* "host:port", for messages */
	int wake[2];	    /* the reader writes one byte to wake[1] when it
			       ends, which wakes the main thread's poll() */
	enum reader_end end; /* read by main only after pthread_join() */
};

/* Opens a TCP connection to host:port; returns the socket, or -1 after
 * logging why. */
static int connect_server(const char *host, uint16_t port)
{
	char err[SL_ERRLEN];
	int fd = sl_tcp_connect(host, port, err, sizeof err);

	if (fd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return fd;
}

/* Writes t as local "YYYY-MM-DD HH:MM:SS" into buf (20 bytes). */
static void format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		(void)snprintf(buf, size, "%lld", (long long)t);
}

/* Shows one message: a "[time] sender" header line (sender followed by
 * note, e.g. " (private)"), then the text on a line of its own; returns
 * 0, or -1 (logged) when standard output fails. */
static int print_message(time_t t, const char *sender, const char *note,
			 const char *text, size_t len)
{
	char when[32];

	format_time(t, when, sizeof when);
	/* TODO 1: Print "[when] sender" and note on one line, then the len bytes of text and '\n', and flush standard output; log and return -1 if that fails. */
	(void)when;
	(void)sender;
	(void)note;
	(void)text;
	(void)len;
	SL_TODO(1);
	return 0;
}

/* Shows a MSG or PRIVATE frame (time, sender, text); returns 0 or -1. */
static int show_message(const struct chat_msg *m)
{
	char sender[CHAT_NAME_MAX + 1];
	time_t t;

	/* Checked before it reaches the terminal: control characters in a
	 * text could fake a header line or move the cursor. */
	if (m->nfields != 3 || chat_parse_time(m->f[0], &t) < 0 ||
	    !chat_name_ok(m->f[1].p, m->f[1].len) ||
	    !chat_utf8_ok(m->f[2].p, m->f[2].len)) {
		sl_log(&sl_prog_log, SL_WARN, "ignored a malformed message");
		return 0;
	}
	(void)chat_field_copy(m->f[1], sender, sizeof sender);
	return print_message(t, sender,
			     m->type == CHAT_PRIVATE ? " (private)" : "",
			     m->f[2].p, m->f[2].len);
}

/* Shows a CTL frame (time, event, user) as a System notice; returns 0 or
 * -1. */
static int show_notice(const struct chat_msg *m)
{
	char user[CHAT_NAME_MAX + 1], text[CHAT_NAME_MAX + 64];
	const char *before = "", *after;
	time_t t;
	int n;

	if (m->nfields != 3 || chat_parse_time(m->f[0], &t) < 0 ||
	    !chat_name_ok(m->f[2].p, m->f[2].len)) {
		sl_log(&sl_prog_log, SL_WARN, "ignored a malformed notice");
		return 0;
	}
	(void)chat_field_copy(m->f[2], user, sizeof user);
	if (chat_field_is(m->f[1], "welcome"))
		before = "welcome, ", after = ": you are online";
	else if (chat_field_is(m->f[1], "online"))
		after = " is now online";
	else if (chat_field_is(m->f[1], "offline"))
		after = " is now offline";
	else
		return 0; /* an event this version does not know */
	n = snprintf(text, sizeof text, "%s%s%s", before, user, after);
	return print_message(t, "System", "", text, (size_t)n);
}

/* Shows an ERROR frame (code, text) as a System notice stamped now;
 * returns 0 or -1. */
static int show_error(const struct chat_msg *m)
{
	char text[CHAT_TEXT_MAX + 16];
	int n;

	if (m->nfields != 2 || !chat_utf8_ok(m->f[1].p, m->f[1].len)) {
		sl_log(&sl_prog_log, SL_WARN, "ignored a malformed error");
		return 0;
	}
	n = snprintf(text, sizeof text, "error: %.*s", (int)m->f[1].len,
		     m->f[1].p);
	if (n < 0 || (size_t)n >= sizeof text)
		n = (int)sizeof text - 1;
	return print_message(time(NULL), "System", "", text, (size_t)n);
}

/* Shows one frame from the server; returns 0, or -1 to stop reading. */
static int show_frame(const struct chat_msg *m)
{
	switch (m->type) {
	case CHAT_MSG:
	case CHAT_PRIVATE:
		return show_message(m);
	case CHAT_CTL:
		return show_notice(m);
	case CHAT_ERROR:
		return show_error(m);
	}
	sl_log(&sl_prog_log, SL_WARN, "ignored a frame of unknown type 0x%02x",
	       (unsigned char)m->type);
	return 0;
}

/* Receives the next frame into buf (CHAT_PAYLOAD_MAX bytes) and splits it
 * into m; returns 0, 1 at the end of the stream, or -1 (logged). */
static int next_frame(struct conn *c, char *buf, struct chat_msg *m)
{
	size_t len;

	switch (sl_frame_recv(c->fd, buf, CHAT_PAYLOAD_MAX, &len)) {
	case SL_FRAME_OK:
		if (chat_parse(buf, len, m) == 0)
			return 0;
		sl_log(&sl_prog_log, SL_ERROR, "%s sent an empty frame",
		       c->server);
		return -1;
	case SL_FRAME_EOF:
		return 1;
	case SL_FRAME_TRUNCATED:
		sl_log(&sl_prog_log, SL_ERROR,
		       "%s closed in the middle of a frame", c->server);
		return -1;
	case SL_FRAME_TOO_LARGE:
		sl_log(&sl_prog_log, SL_ERROR,
		       "%s announced a frame of %zu bytes (at most %d)",
		       c->server, len, CHAT_PAYLOAD_MAX);
		return -1;
	case SL_FRAME_ERROR:
		break;
	}
	sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s", c->server,
	       strerror(errno));
	return -1;
}

/* Logs in as user with password pw (len bytes) and shows the welcome;
 * returns 0, or -1 after logging why (the server refused us). */
static int log_in(struct conn *c, const char *user, const char *pw,
		  size_t len)
{
	char buf[CHAT_PAYLOAD_MAX];
	struct chat_msg m;

	/* TODO 2: Send the LOGIN frame (fields: user, then the len bytes of pw) with chat_send(); log and return -1 if that fails. */
	(void)user;
	(void)pw;
	(void)len;
	SL_TODO(2);
	return -1;
	if (next_frame(c, buf, &m) != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s closed before answering "
		       "our LOGIN", c->server);
		return -1;
	}
	if (m.type == CHAT_ERROR && m.nfields == 2) {
		sl_log(&sl_prog_log, SL_ERROR, "login refused: %.*s",
		       (int)m.f[1].len, m.f[1].p);
		return -1;
	}
	if (m.type != CHAT_CTL || m.nfields != 3 ||
	    !chat_field_is(m.f[1], "welcome")) {
		sl_log(&sl_prog_log, SL_ERROR, "%s did not welcome us",
		       c->server);
		return -1;
	}
	sl_log(&sl_prog_log, SL_INFO, "logged in to %s as %s", c->server,
	       user);
	return show_frame(&m);
}

/* The reader thread: shows the server's frames until the end, then wakes
 * the main thread through the pipe. */
static void *reader_main(void *arg)
{
	struct conn *c = arg;
	char buf[CHAT_PAYLOAD_MAX];
	struct chat_msg m;
	int rc;

	while ((rc = next_frame(c, buf, &m)) == 0 && show_frame(&m) == 0)
		;
	c->end = rc == 1 ? READER_EOF : READER_FAILED;
	/* A full pipe is impossible (one byte, written once). */
	if (write(c->wake[1], "x", 1) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "wake the main thread: %s",
		       strerror(errno));
	return NULL;
}

/* What a typed line asks for. */
enum line_kind {
	LINE_SKIP,    /* nothing to send (empty, or reported) */
	LINE_QUIT,    /* ":q" */
	LINE_MSG,     /* text to everyone */
	LINE_PRIVATE, /* text to user `to` */
};

/* Splits "@name text" into to and text. */
static enum line_kind split_private(const char *line, size_t len,
				    struct chat_field *to,
				    struct chat_field *text)
{
	const char *space = memchr(line, ' ', len);

	if (space == NULL || space == line + 1 || space + 1 == line + len) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "a private message is \"@name text\": not sent");
		return LINE_SKIP;
	}
	to->p = line + 1;
	to->len = (size_t)(space - line) - 1;
	text->p = space + 1;
	text->len = len - (size_t)(space + 1 - line);
	return LINE_PRIVATE;
}

/* Reads what a typed line asks for; sets text (and to, for a private
 * message) to the parts of line to send. */
static enum line_kind classify(const char *line, size_t len,
			       struct chat_field *to, struct chat_field *text)
{
	to->p = NULL;
	to->len = 0;
	text->p = line;
	text->len = len;
	/* TODO 3: ":q" quits; "::rest" sends ":rest" (drop the first ':'); any other line starting with ':' is an unknown command (log it, skip it); "@name text" is private (split_private()); an empty line is skipped; anything else goes to everyone. */
	SL_TODO(3);
	(void)split_private;
	return len == 0 ? LINE_SKIP : LINE_MSG; // every line as it is
}

/* Tells whether text may be sent; says why not otherwise. Never cuts a
 * text: cut at a byte count, it could end in half a UTF-8 character. */
static bool sendable(struct chat_field text)
{
	if (text.len > CHAT_TEXT_MAX) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "message too long: %zu bytes, the maximum is %d: not "
		       "sent",
		       text.len, CHAT_TEXT_MAX);
		return false;
	}
	if (!chat_utf8_ok(text.p, text.len)) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "message is not UTF-8 text without control "
		       "characters: not sent");
		return false;
	}
	return true;
}

/* Sends one typed line as the frame it asks for; returns 1 to go on (sent
 * or skipped), 0 on ":q", -1 after logging a send failure. */
static int send_line(struct conn *c, const char *line, size_t len)
{
	struct chat_field f[2];
	enum line_kind kind = classify(line, len, &f[0], &f[1]);
	int rc;

	if (kind == LINE_QUIT)
		return 0;
	if (kind == LINE_SKIP || !sendable(f[1]))
		return 1;
	if (kind == LINE_PRIVATE && !chat_name_ok(f[0].p, f[0].len)) {
		sl_log(&sl_prog_log, SL_ERROR, "no such user name: %.*s",
		       (int)f[0].len, f[0].p);
		return 1;
	}
	if (kind == LINE_MSG)
		rc = chat_send(c->fd, CHAT_MSG, &f[1], 1);
	else
		rc = chat_send(c->fd, CHAT_PRIVATE, f, 2);
	if (rc < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", c->server,
		       strerror(errno));
		return -1;
	}
	return 1;
}

/* Waits up to timeout_ms (-1: forever) for the reader's wake-up byte;
 * returns 1 if it came, 0 on timeout, -1 on error (logged). */
static int wait_reader(struct conn *c, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->wake[0], .events = POLLIN};
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		sl_log(&sl_prog_log, SL_ERROR, "poll: %s", strerror(errno));
	return rc;
}

/* Ends the session from our side: CTL "quit" and our FIN first, then the
 * server's FIN (bounded wait), then the reader thread is joined. */
static void hang_up(struct conn *c, pthread_t reader)
{
	/* TODO 4: Send a CTL frame with the one field "quit" (chat_send()), then our FIN with shutdown(SHUT_WR) (not close()); log what fails. */
	SL_TODO(4);
	/* The reader sees the server's FIN as the end of its stream. */
	if (wait_reader(c, CLOSE_WAIT_MS) == 0)
		sl_log(&sl_prog_log, SL_WARN,
		       "%s did not close its side within %d ms", c->server,
		       CLOSE_WAIT_MS);
	/* If the reader is still blocked in recv(), this makes recv() return
	 * 0 at once; after a normal close it changes nothing. */
	(void)shutdown(c->fd, SHUT_RD);
	pthread_join(reader, NULL);
}

/* What woke the main thread. */
enum wakeup {
	WAKE_ERROR = -1,
	WAKE_STDIN,  /* standard input has something (a line or its end) */
	WAKE_READER, /* the reader thread has ended */
};

/* Waits until standard input or the reader thread has something; the
 * reader wins a tie, so a closed server is noticed first. */
static enum wakeup wait_input(struct conn *c, const struct sl_reader *in)
{
	struct pollfd pfd[2] = {{.fd = c->wake[0], .events = POLLIN},
				{.fd = in->fd, .events = POLLIN}};
	bool buffered = sl_reader_buffered(in) > 0;
	int rc;

	/* Lines already buffered by the reader: poll() cannot see them. */
	do {
		rc = poll(pfd, buffered ? 1 : 2, buffered ? 0 : -1);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "poll: %s", strerror(errno));
		return WAKE_ERROR;
	}
	return pfd[0].revents != 0 ? WAKE_READER : WAKE_STDIN;
}

/* Reads the next typed line into line (INPUT_LINE_MAX bytes and a NUL);
 * returns 1 for a line, 0 at the end of input, -1 on a read error
 * (logged). Lines too long even for that are reported and skipped. */
static int next_line(struct sl_reader *in, char *line, size_t *len)
{
	for (;;) {
		switch (sl_reader_line(in, line, INPUT_LINE_MAX + 1, len,
				       SL_LINE_STRIP_CR)) {
		case SL_LINE_OK:
		case SL_LINE_UNTERMINATED: /* a last line without '\n' */
			return 1;
		case SL_LINE_EOF:
			return 0;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "message too long: more than %d bytes, the "
			       "maximum is %d: not sent",
			       INPUT_LINE_MAX, CHAT_TEXT_MAX);
			if (sl_reader_skip_line(in) == SL_LINE_ERROR)
				break;
			continue;
		case SL_LINE_ERROR:
			break;
		}
		sl_log(&sl_prog_log, SL_ERROR, "read standard input: %s",
		       strerror(errno));
		return -1;
	}
}

/* Sends the typed lines until ":q", the end of input, or the server going
 * away; returns the exit status. */
static int chat(struct conn *c, pthread_t reader, struct sl_reader *in)
{
	char line[INPUT_LINE_MAX + 1];
	size_t len;

	for (;;) {
		enum wakeup w = wait_input(c, in);
		int got = -1;

		if (w == WAKE_READER) {
			pthread_join(reader, NULL);
			if (c->end == READER_EOF)
				sl_log(&sl_prog_log, SL_ERROR,
				       "server closed the connection");
			return SL_EXIT_FAILURE;
		}
		if (w == WAKE_STDIN)
			got = next_line(in, line, &len);
		if (got > 0)
			got = send_line(c, line, len);
		if (got == 0) { /* the end of input, or ":q" */
			hang_up(c, reader);
			return SL_EXIT_OK;
		}
		if (got < 0) {
			hang_up(c, reader);
			return SL_EXIT_FAILURE;
		}
	}
}

/* Creates the wake-up pipe, starts the reader and chats; returns the exit
 * status. */
static int run_session(struct conn *c, struct sl_reader *in)
{
	pthread_t reader;
	int rc, status;

	if (pipe(c->wake) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "create a pipe: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	rc = pthread_create(&reader, NULL, reader_main, c);
	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start the reader thread: %s",
		       strerror(rc));
		status = SL_EXIT_FAILURE;
	} else {
		status = chat(c, reader, in);
	}
	(void)close(c->wake[0]);
	(void)close(c->wake[1]);
	return status;
}

/* Reads the password (from the file, or standard input) into pw (room for
 * CHAT_PASSWORD_MAX bytes and a NUL); returns 0, or -1 after logging. */
static int read_password(const struct options *o, struct sl_reader *in,
			 char *pw, size_t *len)
{
	size_t size = CHAT_PASSWORD_MAX + 1;
	char err[SL_ERRLEN];
	int rc;

	if (o->password_file != NULL)
		rc = secret_read_file(o->password_file, pw, size, len, err,
				      sizeof err);
	else
		rc = secret_read(in, "Password: ", pw, size, len, err,
				 sizeof err);
	if (rc == 0 && !chat_password_ok(pw, *len)) {
		(void)snprintf(err, sizeof err, "a password is 1 to %d bytes "
			       "without NUL", CHAT_PASSWORD_MAX);
		rc = -1;
	}
	if (rc < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return rc;
}

/* Reads the password, connects, logs in and runs the session; returns
 * the exit status. */
static int run(const struct options *o)
{
	char server[SL_HOSTPORTLEN], pw[CHAT_PASSWORD_MAX + 1];
	struct conn c = {.server = server, .end = READER_RUNNING};
	struct sl_reader in;
	size_t pwlen;
	int status = SL_EXIT_FAILURE;

	sl_reader_init(&in, STDIN_FILENO);
	if (read_password(o, &in, pw, &pwlen) < 0)
		return SL_EXIT_FAILURE;
	(void)sl_hostport_str(o->host, o->port, server, sizeof server);
	c.fd = connect_server(o->host, o->port);
	if (c.fd < 0)
		return SL_EXIT_FAILURE;
	sl_log(&sl_prog_log, SL_INFO, "connected to %s", server);
	if (log_in(&c, o->user, pw, pwlen) == 0)
		status = run_session(&c, &in);
	/* Both FINs have passed (or the wait ran out, or the server refused
	 * us and closed): closing now leaves nothing unread to reset. */
	if (close(c.fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close connection to %s: %s",
		       server, strerror(errno));
		status = SL_EXIT_FAILURE;
	}
	return status;
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},
		{"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == 'H')
			o->host = optarg;
		else if (opt == 'u')
			o->user = optarg;
		else if (opt == 'f')
			o->password_file = optarg;
		else if (opt == 'p' &&
			 sl_parse_port(optarg, &o->port, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		else if (opt == 'p')
			o->port_set = true;
		else if (opt == ':')
			return sl_usage_error(&sl_prog_log, usage,
					      "option %s needs a value",
					      argv[optind - 1]);
		else
			return sl_usage_error(&sl_prog_log, usage,
					      "unknown option %s",
					      argv[optind - 1]);
	}
	if (optind < argc)
		return sl_usage_error(&sl_prog_log, usage,
				      "unexpected argument %s", argv[optind]);
	if (o->host == NULL || !o->port_set || o->user == NULL)
		return sl_usage_error(&sl_prog_log, usage,
				      "--host, --port and --user are required");
	if (!chat_name_ok(o->user, strlen(o->user)))
		return sl_usage_error(&sl_prog_log, usage,
				      "bad user name %s: 1 to %d letters, "
				      "digits, '_', '-' or '.'",
				      o->user, CHAT_NAME_MAX);
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {.host = NULL};
	int status;

	sl_log_init(&sl_prog_log, "chatclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	/* sl_frame_send() already asks for no SIGPIPE; this covers stdout. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	return run(&o);
}
