/*
 * hbclient - client of the heartbeat chat server.
 *
 * Connects to HOST PORT. Two threads share the connection:
 *
 *  - the reader thread reads every line the server sends: it answers each
 *    heartbeat "HB n" with "HBACK n" at once, and prints each broadcast;
 *  - the main thread reads standard input and sends each line as "MSG".
 *
 * The reader must be a thread of its own because the main thread spends
 * its time blocked on standard input: a user who types nothing for ten
 * seconds must still answer every heartbeat, or the server drops them.
 *
 * At the end of standard input (or on a line ":q") the client sends its
 * FIN first with shutdown(SHUT_WR), waits for the server's FIN, and only
 * then closes the socket: a four-way FIN teardown, never a reset.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hbwire.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"

/* How long we wait for the server's FIN after sending ours. */
#define CLOSE_WAIT_MS 2000

static const char usage[] =
	"Usage: hbclient [-h] HOST PORT\n"
	"\n"
	"Chat client of the heartbeat server. Sends each line of standard\n"
	"input to the server as \"MSG <line>\", prints each line the server\n"
	"broadcasts (\"BCAST <text>\") on standard output, and answers every\n"
	"heartbeat \"HB <n>\" with \"HBACK <n>\" at once, even while nothing\n"
	"is typed.\n"
	"\n"
	"Arguments:\n"
	"  HOST        server name or address, IPv4 or IPv6 (required)\n"
	"  PORT        server TCP port, 1-65535 (required; servers use 12001)\n"
	"  -h, --help  print this help to standard output and exit\n"
	"\n"
	"A line holds up to 1000 bytes of anything but '\\n'; a longer line is\n"
	"reported and skipped. The end of standard input, or a line \":q\",\n"
	"ends the session: the client closes its side first, waits up to 2 s\n"
	"for the server to close its side, and exits. Logs go to standard\n"
	"error.\n"
	"\n"
	"Exit status:\n"
	"  0  the session ended at the end of input or with \":q\"\n"
	"  1  no connection, the server closed the connection first (for\n"
	"     example because it dropped us), or an I/O error\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

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
	/* Held around every send(), so that the two threads' lines never
	 * mix on the wire; it also guards `closing`. */
	pthread_mutex_t send_lock;
	bool closing;	  /* we sent our FIN: nothing more may be sent */
	int wake[2];	  /* the reader writes one byte to wake[1] when it
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

/* Answers heartbeat seq with "HBACK seq"; returns 0, or -1 after logging
 * why. */
static int answer_heartbeat(struct conn *c, unsigned long seq)
{
	char buf[HB_SEQ_LINE_MAX];
	size_t len = hb_format_seq(buf, sizeof buf, "HBACK", seq);
	int rc = 0;

	/* BLANK 1: Under the send lock, unless we are closing, send "HBACK <seq>\n" (buf, len) with sl_send_all(). */
	pthread_mutex_lock(&c->send_lock);
	if (!c->closing && sl_send_all(c->fd, buf, len) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", c->server,
		       strerror(errno));
		rc = -1;
	}
	pthread_mutex_unlock(&c->send_lock);
	/* SKELETON 1:
	(void)c;
	(void)len;
	SL_TODO(1);
	*/
	/* END 1 */
	return rc;
}

/* Prints the text of a broadcast on standard output, flushed at once so
 * that whoever reads our output sees it now; returns 0 or -1 (logged). */
static int print_broadcast(const char *text, size_t len)
{
	if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF ||
	    fflush(stdout) == EOF) {
		sl_log(&sl_prog_log, SL_ERROR, "write standard output: %s",
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* Acts on one line from the server; returns 0, or -1 to stop reading. */
static int handle_server_line(struct conn *c, const char *line, size_t len)
{
	struct hb_msg msg;

	hb_parse(line, len, &msg);
	switch (msg.kind) {
	case HB_KIND_HB:
		return answer_heartbeat(c, msg.seq);
	case HB_KIND_BCAST:
		return print_broadcast(msg.text, msg.len);
	case HB_KIND_HBACK:
	case HB_KIND_MSG:
	case HB_KIND_UNKNOWN:
		break;
	}
	sl_log(&sl_prog_log, SL_WARN, "ignored an unexpected line from %s "
	       "(%zu bytes)", c->server, len);
	return 0;
}

/* Reads lines from the server until it closes or something fails;
 * returns how it ended. */
static enum reader_end read_server(struct conn *c)
{
	struct sl_reader rd;
	char line[HB_LINE_MAX]; /* the longest line without '\n', and a NUL */
	size_t len;

	sl_reader_init(&rd, c->fd);
	for (;;) {
		switch (sl_reader_line(&rd, line, sizeof line, &len, 0)) {
		case SL_LINE_OK:
			if (handle_server_line(c, line, len) < 0)
				return READER_FAILED;
			break;
		case SL_LINE_UNTERMINATED:
			sl_log(&sl_prog_log, SL_WARN,
			       "the last line from %s has no '\\n'", c->server);
			return READER_EOF;
		case SL_LINE_EOF:
			return READER_EOF;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "%s sent a line longer than %d bytes", c->server,
			       HB_LINE_MAX);
			return READER_FAILED;
		case SL_LINE_ERROR:
			sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s",
			       c->server, strerror(errno));
			return READER_FAILED;
		}
	}
}

/* The reader thread: reads the server until the end, then wakes the main
 * thread through the pipe. */
static void *reader_main(void *arg)
{
	struct conn *c = arg;

	c->end = read_server(c);
	/* A full pipe is impossible (one byte, written once). */
	if (write(c->wake[1], "x", 1) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "wake the main thread: %s",
		       strerror(errno));
	return NULL;
}

/* Sends one typed line as "MSG <line>\n"; returns 0, or -1 after logging
 * why. */
static int send_msg(struct conn *c, const char *line, size_t len)
{
	char buf[HB_LINE_MAX + 1];
	size_t n = hb_format_text(buf, sizeof buf, "MSG", line, len);
	int rc = 0;

	/* BLANK 2: Under the send lock, send "MSG <line>\n" (buf, n) with sl_send_all(); log and return -1 on failure. */
	pthread_mutex_lock(&c->send_lock);
	if (sl_send_all(c->fd, buf, n) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "send to %s: %s", c->server,
		       strerror(errno));
		rc = -1; /* chat() hangs up */
	}
	pthread_mutex_unlock(&c->send_lock);
	/* SKELETON 2:
	(void)c;
	(void)n;
	SL_TODO(2);
	*/
	/* END 2 */
	return rc;
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

/* Ends the session from our side: our FIN first, then the server's FIN
 * (bounded wait), then the reader thread is joined. */
static void hang_up(struct conn *c, pthread_t reader)
{
	/* BLANK 3: Under the send lock, set c->closing and send our FIN with shutdown(SHUT_WR) (not close()). */
	pthread_mutex_lock(&c->send_lock);
	c->closing = true; /* no HBACK may follow our FIN */
	if (shutdown(c->fd, SHUT_WR) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "shutdown connection to %s: %s",
		       c->server, strerror(errno));
	pthread_mutex_unlock(&c->send_lock);
	/* SKELETON 3:
	SL_TODO(3);
	*/
	/* END 3 */
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
				{.fd = STDIN_FILENO, .events = POLLIN}};
	int rc;

	/* Lines already buffered by the reader: poll() cannot see them. */
	do {
		rc = poll(pfd, sl_reader_buffered(in) > 0 ? 1 : 2,
			  sl_reader_buffered(in) > 0 ? 0 : -1);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "poll: %s", strerror(errno));
		return WAKE_ERROR;
	}
	return pfd[0].revents != 0 ? WAKE_READER : WAKE_STDIN;
}

/* Tells whether a typed line asks to quit. */
static bool is_quit(const char *line, size_t len)
{
	return len == 2 && memcmp(line, ":q", 2) == 0;
}

/* Reads the next line of standard input into line (HB_TEXT_MAX bytes and
 * a NUL); returns 1 for a line to send, 0 at the end of input or on ":q",
 * -1 on a read error (logged). Over-long lines are reported and skipped. */
static int next_line(struct sl_reader *in, char *line, size_t *len)
{
	for (;;) {
		switch (sl_reader_line(in, line, HB_TEXT_MAX + 1, len, 0)) {
		case SL_LINE_OK:
		case SL_LINE_UNTERMINATED: /* a last line without '\n' */
			return is_quit(line, *len) ? 0 : 1;
		case SL_LINE_EOF:
			return 0;
		case SL_LINE_TOO_LONG:
			sl_log(&sl_prog_log, SL_ERROR,
			       "a line of standard input is longer than %d "
			       "bytes: skipped",
			       HB_TEXT_MAX);
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

/* Sends standard input line by line until its end, ":q", or the server
 * going away; returns the exit status. */
static int chat(struct conn *c, pthread_t reader)
{
	struct sl_reader in;
	char line[HB_TEXT_MAX + 1];
	size_t len;

	sl_reader_init(&in, STDIN_FILENO);
	for (;;) {
		enum wakeup w = wait_input(c, &in);
		int got;

		if (w == WAKE_READER) {
			pthread_join(reader, NULL);
			if (c->end == READER_EOF)
				sl_log(&sl_prog_log, SL_ERROR,
				       "server closed the connection");
			return SL_EXIT_FAILURE;
		}
		got = w == WAKE_STDIN ? next_line(&in, line, &len) : -1;
		if (got == 0) {
			hang_up(c, reader);
			return SL_EXIT_OK;
		}
		if (got < 0 || send_msg(c, line, len) < 0) {
			hang_up(c, reader);
			return SL_EXIT_FAILURE;
		}
	}
}

/* Creates the wake-up pipe and the lock, starts the reader and chats;
 * returns the exit status. */
static int run_session(struct conn *c)
{
	pthread_t reader;
	int rc, status;

	if (pipe(c->wake) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "create a pipe: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	pthread_mutex_init(&c->send_lock, NULL);
	rc = pthread_create(&reader, NULL, reader_main, c);
	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start the reader thread: %s",
		       strerror(rc));
		status = SL_EXIT_FAILURE;
	} else {
		status = chat(c, reader);
	}
	pthread_mutex_destroy(&c->send_lock);
	(void)close(c->wake[0]);
	(void)close(c->wake[1]);
	return status;
}

/* Connects to host:port and runs the session; returns the exit status. */
static int run(const char *host, uint16_t port)
{
	char server[SL_HOSTPORTLEN];
	struct conn c = {.server = server, .end = READER_RUNNING};
	int status;

	(void)sl_hostport_str(host, port, server, sizeof server);
	c.fd = connect_server(host, port);
	if (c.fd < 0)
		return SL_EXIT_FAILURE;
	sl_log(&sl_prog_log, SL_INFO, "connected to %s", server);
	status = run_session(&c);
	/* Both FINs have passed (or the wait ran out): closing now sends
	 * nothing more, and nothing unread is left to turn it into a reset. */
	if (close(c.fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close connection to %s: %s",
		       server, strerror(errno));
		status = SL_EXIT_FAILURE;
	}
	return status;
}

int main(int argc, char *argv[])
{
	char err[SL_ERRLEN];
	uint16_t port;

	sl_log_init(&sl_prog_log, "hbclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	opterr = 0; /* we report bad options ourselves */
	if (getopt(argc, argv, "") != -1)
		return sl_usage_error(&sl_prog_log, usage, "unknown option -%c",
				      optopt);
	if (argc - optind != 2)
		return sl_usage_error(&sl_prog_log, usage,
				      "expected HOST and PORT, got %d "
				      "argument(s)",
				      argc - optind);
	if (sl_parse_port(argv[optind + 1], &port, err, sizeof err) < 0)
		return sl_usage_error(&sl_prog_log, usage, "%s", err);
	/* sl_send_all() already asks for no SIGPIPE; this covers stdout. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	return run(argv[optind], port);
}
