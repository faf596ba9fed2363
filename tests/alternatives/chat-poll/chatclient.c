/*
 * chatclient - the chat room's client, as one poll() loop.
 *
 * No reader thread: poll() waits on the keyboard and the socket at once.
 * Frames from the server and lines from the keyboard both go through
 * buffers of our own, since either may arrive in pieces.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define LINE_BUF 4096	  /* longest typed line we hold (longer: refused) */
#define GOODBYE_MS 2000	  /* how long we wait for the server's FIN */

static const char usage[] =
	"Usage: chatclient [-h] --host HOST --port PORT --user NAME [--password-file FILE]\n"
	"Logs in to a chat room and sends each typed line: '@name text' privately,\n"
	"'::text' as ':text', ':q' (or the end of input) quits. The password is\n"
	"the first line of FILE, or else of standard input (without echo).\n"
	"Exit status: 0 after quitting, 1 on failure, 2 bad usage.\n";

enum { GO_ON, QUIT, FAILED };

struct lines {
	char data[LINE_BUF];
	size_t have;
	int skipping; /* inside a line too long to hold */
};

struct frames {
	char data[2 * (4 + PAYLOAD_MAX)];
	size_t have;
};

static int sock = -1;

/* --- showing what arrives ------------------------------------------- */

static int show(const char *stamp_text, size_t stamp_len, const char *who, const char *note,
		const char *text, size_t len)
{
	char digits[24], when[32] = "?";
	time_t t = time(NULL);
	struct tm tm;

	if (stamp_text != NULL && stamp_len > 0 && stamp_len < sizeof digits) {
		memcpy(digits, stamp_text, stamp_len);
		digits[stamp_len] = '\0';
		t = (time_t)strtoll(digits, NULL, 10);
	}
	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	if (printf("[%s] %s%s\n", when, who, note) < 0 || fwrite(text, 1, len, stdout) != len ||
	    putchar('\n') == EOF || fflush(stdout) == EOF) {
		say("ERROR", "write standard output: %s", strerror(errno));
		return FAILED;
	}
	return GO_ON;
}

/* Shows one frame from the server. */
static int shown(const char *p, size_t len)
{
	struct payload m;
	char line[NAME_MAX_LEN + 64], who[NAME_MAX_LEN + 1];

	split_payload(p, len, &m);
	if ((m.type == 'M' || m.type == 'P') && m.nfields == 3 && m.f[1].len <= NAME_MAX_LEN) {
		memcpy(who, m.f[1].p, m.f[1].len);
		who[m.f[1].len] = '\0';
		return show(m.f[0].p, m.f[0].len, who, m.type == 'P' ? " (private)" : "",
			    m.f[2].p, m.f[2].len);
	}
	if (m.type == 'C' && m.nfields == 3 && m.f[2].len <= NAME_MAX_LEN) {
		const char *what = field_is(m.f[1], "welcome") ? ": welcome, you are in the room"
				   : field_is(m.f[1], "online") ? " is now online"
				   : field_is(m.f[1], "offline") ? " is now offline" : NULL;
		if (what == NULL)
			return GO_ON;
		int n = snprintf(line, sizeof line, "%.*s%s", (int)m.f[2].len, m.f[2].p, what);
		return show(m.f[0].p, m.f[0].len, "System", "", line, (size_t)n);
	}
	if (m.type == 'E' && m.nfields == 2) {
		char text[PAYLOAD_MAX + 8];
		int n = snprintf(text, sizeof text, "error: %.*s", (int)m.f[1].len, m.f[1].p);
		return show(NULL, 0, "System", "", text, (size_t)n);
	}
	say("WARN", "an unknown frame from the server (type 0x%02x): ignored", (unsigned char)m.type);
	return GO_ON;
}

/* Reads once from the socket and shows every whole frame; GO_ON, or
 * FAILED when the server closed (EOF) or failed. SEEN counts frames. */
static int receive(struct frames *b, int *seen, int *closed)
{
	ssize_t n;
	size_t at = 0;

	do
		n = recv(sock, b->data + b->have, sizeof b->data - b->have, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		*closed = 1;
		if (n < 0)
			say("ERROR", "receive from the server: %s", strerror(errno));
		return FAILED;
	}
	b->have += (size_t)n;
	while (b->have - at >= 4) {
		const unsigned char *h = (const unsigned char *)b->data + at;
		size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];

		if (len == 0 || len > PAYLOAD_MAX) {
			say("ERROR", "the server sent a frame of %zu bytes: out of step", len);
			return FAILED;
		}
		if (b->have - at < 4 + len)
			break;
		if (seen != NULL && (*seen)++ == 0 && b->data[at + 4] == 'E') {
			struct payload m;
			split_payload(b->data + at + 4, len, &m);
			say("ERROR", "login refused: %.*s", m.nfields == 2 ? (int)m.f[1].len : 0,
			    m.nfields == 2 ? m.f[1].p : "");
			return FAILED;
		}
		if (shown(b->data + at + 4, len) != GO_ON)
			return FAILED;
		at += 4 + len;
	}
	memmove(b->data, b->data + at, b->have - at);
	b->have -= at;
	return GO_ON;
}

/* --- sending ---------------------------------------------------------- */

static int send_fields(char type, const struct field *f, int n)
{
	char frame[4 + PAYLOAD_MAX];
	size_t len = build_frame(frame, type, f, n), off = 0;

	while (off < len) {
		ssize_t k = send(sock, frame + off, len - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			say("ERROR", "send to the server: %s", strerror(errno));
			return FAILED;
		}
		off += (size_t)k;
	}
	return GO_ON;
}

/* 1 if TEXT may be sent; otherwise says why not. */
static int sendable(const char *text, size_t len)
{
	if (len > TEXT_MAX_LEN) {
		say("ERROR", "message too long: %zu bytes, the maximum is %d: not sent", len, TEXT_MAX_LEN);
		return 0;
	}
	if (!text_ok(text, len)) {
		say("ERROR", "message is not UTF-8 text without control characters: not sent");
		return 0;
	}
	return 1;
}

/* Acts on one typed line (without its '\n'). */
static int typed(const char *line, size_t len)
{
	if (len == 0)
		return GO_ON;
	if (len == 2 && memcmp(line, ":q", 2) == 0)
		return QUIT;
	if (line[0] == ':' && len >= 2 && line[1] == ':') {
		struct field f = {line + 1, len - 1};
		return sendable(f.p, f.len) ? send_fields('M', &f, 1) : GO_ON;
	}
	if (line[0] == ':') {
		say("WARN", "unknown command %.*s: not sent", (int)len, line);
		return GO_ON;
	}
	if (line[0] == '@') {
		const char *space = memchr(line, ' ', len);
		struct field f[2];

		if (space == NULL || !name_ok(line + 1, (size_t)(space - line - 1)) ||
		    space + 1 == line + len) {
			say("WARN", "a private message is '@name text': not sent");
			return GO_ON;
		}
		f[0] = (struct field){line + 1, (size_t)(space - line - 1)};
		f[1] = (struct field){space + 1, (size_t)(line + len - space - 1)};
		return sendable(f[1].p, f[1].len) ? send_fields('P', f, 2) : GO_ON;
	}
	struct field f = {line, len};
	return sendable(line, len) ? send_fields('M', &f, 1) : GO_ON;
}

/* --- reading the keyboard --------------------------------------------- */

/* Reads once from standard input into B; bytes read, 0 at the end, -1. */
static ssize_t fill(struct lines *b)
{
	ssize_t n;

	do
		n = read(STDIN_FILENO, b->data + b->have, sizeof b->data - b->have);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		b->have += (size_t)n;
	return n;
}

/* Moves the next whole line of B into LINE (without '\n'); 1, or 0 when
 * there is none yet.  A line too long to hold is reported and dropped. */
static int take_line(struct lines *b, char *line, size_t *len)
{
	char *nl = memchr(b->data, '\n', b->have);

	if (nl == NULL) {
		if (b->have == sizeof b->data) {
			if (!b->skipping)
				say("ERROR", "message too long: more than %zu bytes, the maximum is %d: "
				    "not sent", sizeof b->data, TEXT_MAX_LEN);
			b->skipping = 1;
			b->have = 0;
		}
		return 0;
	}
	*len = (size_t)(nl - b->data);
	memcpy(line, b->data, *len);
	b->have -= *len + 1;
	memmove(b->data, nl + 1, b->have);
	if (b->skipping) {
		b->skipping = 0;
		return take_line(b, line, len);
	}
	return 1;
}

/* The password: the first line of FILE, or of standard input (echo off
 * on a terminal).  0, or -1 after logging why. */
static int get_password(const char *file, struct lines *in, char *pw, size_t *len)
{
	if (file != NULL) {
		FILE *f = fopen(file, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		if (f == NULL) {
			say("ERROR", "password file %s: %s", file, strerror(errno));
			return -1;
		}
		n = getline(&line, &cap, f);
		fclose(f);
		*len = n > 0 ? (size_t)n - (line[n - 1] == '\n') : 0;
		if (*len <= PASSWORD_MAX_LEN)
			memcpy(pw, line, *len);
		free(line);
	} else {
		struct termios saved, quiet;
		int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
		int got = 0;

		if (tty) { /* echo off first: the prompt invites typing */
			quiet = saved;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet) < 0) {
				say("ERROR", "turn the terminal's echo off: %s", strerror(errno));
				return -1;
			}
			fputs("Password: ", stdout);
			fflush(stdout);
		}
		while (!(got = take_line(in, pw, len)) && fill(in) > 0)
			;
		if (tty) {
			if (tcsetattr(STDIN_FILENO, TCSANOW, &saved) < 0)
				say("ERROR", "turn the terminal's echo on: %s", strerror(errno));
			putchar('\n');
			fflush(stdout);
		}
		if (!got)
			*len = 0;
	}
	if (*len > 0 && pw[*len - 1] == '\r')
		(*len)--;
	if (*len == 0 || *len > PASSWORD_MAX_LEN || memchr(pw, '\0', *len) != NULL) {
		say("ERROR", "a password is 1 to %d bytes", PASSWORD_MAX_LEN);
		return -1;
	}
	return 0;
}

/* --- the session ------------------------------------------------------ */

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *list, *ai;
	int fd = -1, rc, saved = 0;

	rc = getaddrinfo(host, port, &hints, &list);
	if (rc != 0) {
		say("ERROR", "connect to %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(list);
	if (fd < 0)
		say("ERROR", "connect to %s:%s: %s", host, port, strerror(saved));
	return fd;
}

/* Until the user quits (QUIT) or the server goes away (FAILED). */
static int converse(struct lines *in, struct frames *from)
{
	char line[LINE_BUF];
	size_t len;
	int closed = 0, rc;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN},
					{.fd = STDIN_FILENO, .events = POLLIN}};

		while (take_line(in, line, &len))
			if ((rc = typed(line, len)) != GO_ON)
				return rc;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("ERROR", "poll: %s", strerror(errno));
			return FAILED;
		}
		if (pfd[0].revents && receive(from, NULL, &closed) != GO_ON) {
			if (closed)
				say("ERROR", "server closed the connection");
			return FAILED;
		}
		if (pfd[1].revents) {
			ssize_t n = fill(in);
			if (n < 0) {
				say("ERROR", "read standard input: %s", strerror(errno));
				return FAILED;
			}
			if (n == 0) { /* the end of input; a last line without '\n' counts */
				while (take_line(in, line, &len))
					if ((rc = typed(line, len)) != GO_ON)
						return rc;
				if (in->have > 0 && !in->skipping && typed(in->data, in->have) == FAILED)
					return FAILED;
				return QUIT;
			}
		}
	}
}

/* CTL quit, our FIN, then up to 2 s for the server's FIN. */
static int leave(struct frames *from)
{
	struct field quit = str_field("quit");
	int64_t deadline = now_ms() + GOODBYE_MS;
	int closed = 0;

	if (send_fields('C', &quit, 1) != GO_ON)
		return FAILED;
	if (shutdown(sock, SHUT_WR) < 0) {
		say("ERROR", "shutdown: %s", strerror(errno));
		return FAILED;
	}
	while (!closed) {
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			say("WARN", "the server did not close within %d ms", GOODBYE_MS);
			break;
		}
		if (poll(&pfd, 1, (int)left) > 0)
			(void)receive(from, NULL, &closed);
	}
	return QUIT;
}

int main(int argc, char *argv[])
{
	const char *host = NULL, *port = NULL, *user = NULL, *pwfile = NULL;
	static struct lines in;
	static struct frames from;
	char pw[LINE_BUF];
	size_t pwlen;
	int rc, seen = 0, closed = 0;

	progname = "chatclient";
	for (int i = 1; i < argc; i++) {
		const char **value = NULL;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		value = strcmp(argv[i], "--host") == 0 ? &host
			: strcmp(argv[i], "--port") == 0 ? &port
			: strcmp(argv[i], "--user") == 0 ? &user
			: strcmp(argv[i], "--password-file") == 0 ? &pwfile : NULL;
		if (value == NULL || i + 1 == argc) {
			say("ERROR", "%s %s", argv[i], value == NULL ? "is not an option" : "needs a value");
			fputs(usage, stderr);
			return 2;
		}
		*value = argv[++i];
	}
	if (host == NULL || port == NULL || user == NULL || !name_ok(user, strlen(user))) {
		say("ERROR", "--host, --port and --user NAME (1-32 letters, digits, _-.) are required");
		fputs(usage, stderr);
		return 2;
	}
	if (get_password(pwfile, &in, pw, &pwlen) < 0)
		return 1;
	sock = connect_to(host, port);
	if (sock < 0)
		return 1;
	say("INFO", "connected to %s:%s", host, port);
	struct field login[2] = {str_field(user), {pw, pwlen}};
	rc = send_fields('L', login, 2);
	/* The first frame: the welcome, or an ERROR (login refused). */
	while (rc == GO_ON && seen == 0)
		rc = receive(&from, &seen, &closed);
	if (rc != GO_ON && closed)
		say("ERROR", "server closed the connection");
	if (rc == GO_ON)
		rc = converse(&in, &from);
	if (rc == QUIT)
		rc = leave(&from);
	if (close(sock) < 0) {
		say("ERROR", "close: %s", strerror(errno));
		rc = FAILED;
	}
	return rc == QUIT ? 0 : 1;
}
