/*
 * chatserver - a chat room with logins, presence and private messages,
 * served by ONE thread in one poll() loop.
 *
 * Nothing is shared between threads, so there is no lock.  Instead every
 * client keeps its own state: the bytes of the frame it is in the middle
 * of (a read may stop anywhere), and a queue of what we still have to
 * send it (a write may stop anywhere too: its sockets are non-blocking).
 * A client whose queue makes no progress for 1 s stopped reading: it is
 * dropped, and nobody else waits for it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "users.h"
#include "wire.h"

#define LOGIN_WAIT_MS 10000   /* a connection must log in within this */
#define STALL_MS 1000	      /* a client's output may wait this long */
#define GOODBYE_MS 2000	      /* how long we wait for a leaving client's FIN */
#define QUEUE_MAX (8u << 20)  /* a client's output queue, at most */
#define INBUF (2 * (4 + PAYLOAD_MAX))

static const char usage[] =
	"Usage: chatserver [-h] [-v] --users FILE [--port PORT] [--max-clients N]\n"
	"                  [--max-pending P]\n"
	"       chatserver --users FILE --add-user NAME [--iterations N]\n"
	"A chat room on PORT (default 12002), IPv6 and IPv4, for the users of\n"
	"FILE (name:pbkdf2-sha256:iterations:salt:hash lines), at most N\n"
	"users online (default 100) and P connections waiting to log in (default\n"
	"32; one more closes the oldest). --add-user reads the password from\n"
	"standard input (without echo on a terminal) and adds the user.\n"
	"Exit status: 0 help or user added, 1 users file or port unusable,\n"
	"2 bad usage.\n";

enum phase {
	LOGGING_IN, /* connected, no LOGIN yet */
	ONLINE,	    /* in the room */
	QUITTING,   /* sent CTL quit: we wait for its FIN, then close */
	REFUSED,    /* got an ERROR: we flush it, send our FIN, wait for its */
};

struct client {
	int fd;
	enum phase phase;
	int counted;	     /* a user: holds one of the --max-clients seats */
	int fin_sent;
	char who[64];	     /* "ADDR:PORT" */
	char name[NAME_MAX_LEN + 1];
	int64_t deadline;    /* LOGGING_IN, QUITTING, REFUSED: until when */
	char in[INBUF];	     /* received, not yet a whole frame */
	size_t have;
	char *out;	     /* queued for sending: out[sent..len) */
	size_t len, sent, cap;
	int64_t stalled;     /* when a send last made no progress, or 0 */
	struct client *next;
};

static struct {
	struct users users;
	struct client *clients; /* every connection, in the room or not */
	int slots_used, max_clients, max_pending;
} room;

/* --- sending: every byte goes through the client's queue ---------- */

static void drop(struct client *c, const char *why);

/* Sends what the queue holds without blocking; notes a stall. */
static void flush(struct client *c)
{
	while (c->sent < c->len) {
		ssize_t n = send(c->fd, c->out + c->sent, c->len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->stalled == 0)
				c->stalled = now_ms();
			return;
		}
		if (n < 0) {
			drop(c, strerror(errno));
			return;
		}
		c->sent += (size_t)n;
		c->stalled = 0;
	}
	c->len = c->sent = 0;
}

/* Queues one frame for C (in order after what is queued) and sends what
 * can go now. */
static void send_frame(struct client *c, char type, const struct field *f, int n)
{
	char frame[4 + PAYLOAD_MAX];
	size_t flen = build_frame(frame, type, f, n);

	if (c->fd < 0 || flen == 0)
		return;
	if (c->len + flen > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *grown;

		while (cap < c->len + flen)
			cap *= 2;
		if (cap > QUEUE_MAX || (grown = realloc(c->out, cap)) == NULL) {
			drop(c, "its output queue is full");
			return;
		}
		c->out = grown;
		c->cap = cap;
	}
	memcpy(c->out + c->len, frame, flen);
	c->len += flen;
	if (c->stalled == 0)
		flush(c);
}

static void send_error(struct client *c, const char *code, const char *text)
{
	struct field f[2] = {str_field(code), str_field(text)};

	send_frame(c, 'E', f, 2);
}

/* A stamped frame (time, then the fields) to C. */
static void send_stamped(struct client *c, char type, struct field a, struct field b)
{
	char now[24];
	struct field f[3] = {{now, 0}, a, b};

	f[0].len = (size_t)snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	send_frame(c, type, f, 3);
}

/* Sends to everyone online except EXCEPT. */
static void to_everyone(const struct client *except, char type, struct field a, struct field b)
{
	for (struct client *c = room.clients; c != NULL; c = c->next)
		if (c != except && c->phase == ONLINE && c->fd >= 0)
			send_stamped(c, type, a, b);
}

/* --- leaving --------------------------------------------------------- */

/* Closes C's socket (our FIN, unless sent) and gives its slot back; the
 * client is freed at the end of the round. */
static void close_client(struct client *c)
{
	if (c->fd < 0)
		return;
	if (close(c->fd) < 0)
		say("ERROR", "close connection of %s: %s", c->who, strerror(errno));
	c->fd = -1;
	if (c->counted)
		room.slots_used--;
	c->counted = 0;
}

/* C is no longer in the room: the others are told. */
static void goes_offline(struct client *c)
{
	if (c->phase != ONLINE)
		return;
	c->phase = QUITTING; /* anything but ONLINE: no more relays to it */
	say("INFO", "%s is now offline", c->name);
	to_everyone(c, 'C', str_field("offline"), str_field(c->name));
}

/* C stopped reading, or its socket failed: out at once. */
static void drop(struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	say("WARN", "dropping %s (%s): %s", c->who, c->name[0] ? c->name : "not logged in", why);
	shutdown(c->fd, SHUT_RDWR);
	close_client(c);
	goes_offline(c);
}

/* Refuses C with an ERROR frame: then our FIN, then we wait for its. */
static void refuse(struct client *c, const char *code, const char *text)
{
	say("WARN", "refused %s: %s", c->who, text);
	send_error(c, code, text);
	goes_offline(c);
	c->phase = REFUSED;
	c->deadline = now_ms() + GOODBYE_MS;
}

/* --- what a client sends ------------------------------------------ */

static void log_in(struct client *c, const struct payload *m)
{
	char text[NAME_MAX_LEN + 64];

	if (m->type != 'L' || m->nfields != 2 || !name_ok(m->f[0].p, m->f[0].len)) {
		refuse(c, "protocol", "expected LOGIN with a valid user name");
		return;
	}
	memcpy(c->name, m->f[0].p, m->f[0].len);
	c->name[m->f[0].len] = '\0';
	if (!users_check(&room.users, m->f[0].p, m->f[0].len, m->f[1].p, m->f[1].len)) {
		snprintf(text, sizeof text, "wrong user name or password (user %s)", c->name);
		c->name[0] = '\0';
		refuse(c, "login", text);
		return;
	}
	for (struct client *o = room.clients; o != NULL; o = o->next) {
		if (o->phase == ONLINE && strcmp(o->name, c->name) == 0) {
			snprintf(text, sizeof text, "%s is logged in already", c->name);
			c->name[0] = '\0';
			refuse(c, "duplicate", text);
			return;
		}
	}
	if (room.slots_used >= room.max_clients) {
		c->name[0] = '\0';
		refuse(c, "full", "the room is full: try again later");
		return;
	}
	c->counted = 1;
	room.slots_used++;
	c->phase = ONLINE;
	say("INFO", "%s logged in from %s: now online", c->name, c->who);
	send_stamped(c, 'C', str_field("welcome"), str_field(c->name));
	to_everyone(c, 'C', str_field("online"), str_field(c->name));
}

/* 1 if TEXT may be relayed; otherwise C got an ERROR. */
static int text_allowed(struct client *c, struct field text)
{
	if (text.len > TEXT_MAX_LEN) {
		send_error(c, "toolong", "a message holds at most 1000 bytes: not sent");
		return 0;
	}
	if (text.len == 0 || !text_ok(text.p, text.len)) {
		send_error(c, "badtext", "a message is UTF-8 text without control characters: not sent");
		return 0;
	}
	return 1;
}

static void private_message(struct client *c, struct field to, struct field text)
{
	char why[NAME_MAX_LEN + 64];

	if (!text_allowed(c, text))
		return;
	for (struct client *o = room.clients; o != NULL; o = o->next) {
		if (o->phase == ONLINE && o->fd >= 0 && field_is(to, o->name)) {
			say("INFO", "%s to %s: %zu bytes", c->name, o->name, text.len);
			send_stamped(o, 'P', str_field(c->name), text);
			return;
		}
	}
	snprintf(why, sizeof why, "%.*s is not online: message not delivered",
		 (int)(to.len > NAME_MAX_LEN ? NAME_MAX_LEN : to.len), to.p);
	send_error(c, "offline", why);
}

static void handle_frame(struct client *c, const char *p, size_t len)
{
	struct payload m;

	split_payload(p, len, &m);
	if (c->phase == LOGGING_IN) {
		log_in(c, &m);
		return;
	}
	if (c->phase != ONLINE)
		return; /* after quit: what is still on its way is ignored */
	if (m.type == 'M' && m.nfields != 1) { /* empty, or 0x00 inside */
		send_error(c, "badtext", "a message is UTF-8 text without control characters: not sent");
	} else if (m.type == 'M') {
		if (text_allowed(c, m.f[0])) {
			say("INFO", "%s to everyone: %zu bytes", c->name, m.f[0].len);
			to_everyone(c, 'M', str_field(c->name), m.f[0]);
		}
	} else if (m.type == 'P' && m.nfields == 2) {
		private_message(c, m.f[0], m.f[1]);
	} else if (m.type == 'C' && m.nfields == 1 && field_is(m.f[0], "quit")) {
		say("INFO", "%s quits", c->name);
		goes_offline(c);
		c->phase = QUITTING;
		c->deadline = now_ms() + GOODBYE_MS;
	} else {
		say("WARN", "%s sent a frame of unknown form (type 0x%02x)", c->name,
		    (unsigned char)m.type);
		send_error(c, "protocol", "unknown frame");
	}
}

/* Acts on every whole frame in C's buffer, in order. */
static void take_frames(struct client *c)
{
	size_t at = 0;

	while (c->fd >= 0 && c->have - at >= 4) {
		const unsigned char *h = (const unsigned char *)c->in + at;
		size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];

		if (c->phase == QUITTING || c->phase == REFUSED) {
			at = c->have; /* nothing more counts */
			break;
		}
		if (n == 0 || n > PAYLOAD_MAX) {
			say("WARN", "%s announced a frame of %zu bytes (at most %d)", c->who, n,
			    PAYLOAD_MAX);
			refuse(c, "protocol", "frame too long: the stream is out of step");
			at = c->have;
			break;
		}
		if (c->have - at < 4 + n)
			break;
		handle_frame(c, c->in + at + 4, n);
		at += 4 + n;
	}
	memmove(c->in, c->in + at, c->have - at);
	c->have -= at;
}

/* The end of C's stream (EOF, or an error such as a reset). */
static void stream_ended(struct client *c, int error)
{
	if (c->phase == ONLINE || c->phase == LOGGING_IN) {
		if (error)
			say("WARN", "%s: %s", c->who, strerror(error));
		else if (c->have > 0)
			say("WARN", "%s vanished in the middle of a frame", c->name[0] ? c->name : c->who);
		else
			say("INFO", "%s closed the connection", c->who);
	}
	goes_offline(c);
	close_client(c);
}

static void read_client(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		stream_ended(c, n < 0 ? errno : 0);
		return;
	}
	c->have += (size_t)n;
	take_frames(c);
}

/* --- the loop --------------------------------------------------------- */

static void addr_text(const struct sockaddr_in6 *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?", serv[8] = "?";
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = a->sin6_port};
	const struct sockaddr *sa = (const struct sockaddr *)a;
	socklen_t len = sizeof *a;

	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		memcpy(&v4.sin_addr, &a->sin6_addr.s6_addr[12], 4);
		sa = (const struct sockaddr *)&v4;
		len = sizeof v4;
	}
	(void)getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
			  NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* When --max-pending connections wait to log in, closes the oldest of
 * them (the list is newest first), so that a newcomer gets its chance. */
static void make_room_for_one_more(void)
{
	struct client *oldest = NULL;
	int waiting = 0;

	for (struct client *c = room.clients; c != NULL; c = c->next) {
		if (c->fd >= 0 && c->phase == LOGGING_IN) {
			waiting++;
			oldest = c;
		}
	}
	if (waiting >= room.max_pending && oldest != NULL) {
		say("WARN", "dropping %s (not logged in): too many waiting to log in", oldest->who);
		close_client(oldest);
	}
}

static void accept_client(int lfd)
{
	struct sockaddr_in6 peer;
	socklen_t plen = sizeof peer;
	struct client *c;
	int fd = accept(lfd, (struct sockaddr *)&peer, &plen);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			say("ERROR", "accept: %s", strerror(errno));
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		say("ERROR", "a new client: %s", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	make_room_for_one_more();
	c->fd = fd;
	addr_text(&peer, c->who, sizeof c->who);
	c->next = room.clients;
	room.clients = c;
	say("INFO", "connection from %s", c->who);
	c->phase = LOGGING_IN;
	c->deadline = now_ms() + LOGIN_WAIT_MS;
}

/* Timeouts and the next step of the clients that leave. */
static void housekeeping(int64_t now)
{
	for (struct client *c = room.clients; c != NULL; c = c->next) {
		if (c->fd < 0)
			continue;
		if (c->stalled != 0 && now - c->stalled >= STALL_MS) {
			drop(c, "it stopped reading: a send waited 1 s");
			continue;
		}
		if (c->phase == LOGGING_IN && now >= c->deadline) {
			say("WARN", "%s sent no LOGIN within %d s: closing", c->who, LOGIN_WAIT_MS / 1000);
			close_client(c);
		} else if ((c->phase == QUITTING || c->phase == REFUSED) && now >= c->deadline) {
			close_client(c); /* no FIN from it in time: closing is fine too */
		} else if (c->phase == REFUSED && !c->fin_sent && c->len == 0) {
			shutdown(c->fd, SHUT_WR); /* the ERROR is out: our FIN */
			c->fin_sent = 1;
		}
	}
}

/* Frees the clients closed during the round. */
static void sweep(void)
{
	struct client **link = &room.clients;

	while (*link != NULL) {
		struct client *c = *link;
		if (c->fd < 0) {
			*link = c->next;
			free(c->out);
			free(c);
		} else {
			link = &c->next;
		}
	}
}

/* Milliseconds until the next timeout of any client, or -1. */
static int next_timeout(void)
{
	int64_t now = now_ms(), soonest = INT64_MAX;

	for (struct client *c = room.clients; c != NULL; c = c->next) {
		if (c->stalled != 0 && c->stalled + STALL_MS < soonest)
			soonest = c->stalled + STALL_MS;
		if (c->phase != ONLINE && c->deadline < soonest)
			soonest = c->deadline;
	}
	if (soonest == INT64_MAX)
		return -1;
	return soonest <= now ? 0 : (int)(soonest - now > INT_MAX ? INT_MAX : soonest - now);
}

static int serve(int lfd)
{
	struct pollfd *pfd = NULL;
	struct client **who = NULL;
	size_t room_for = 0;

	for (;;) {
		size_t n = 1;

		for (struct client *c = room.clients; c != NULL; c = c->next)
			n++;
		if (n > room_for) {
			room_for = 2 * n;
			pfd = realloc(pfd, room_for * sizeof *pfd);
			who = realloc(who, room_for * sizeof *who);
			if (pfd == NULL || who == NULL) {
				say("ERROR", "out of memory");
				return 1;
			}
		}
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		n = 1;
		for (struct client *c = room.clients; c != NULL; c = c->next, n++) {
			who[n] = c;
			pfd[n] = (struct pollfd){.fd = c->fd,
						 .events = (short)(POLLIN | (c->len > c->sent ? POLLOUT : 0))};
		}
		if (poll(pfd, (nfds_t)n, next_timeout()) < 0 && errno != EINTR) {
			say("ERROR", "poll: %s", strerror(errno));
			return 1;
		}
		for (size_t i = 1; i < n; i++) {
			struct client *c = who[i];
			if (c->fd >= 0 && (pfd[i].revents & POLLOUT))
				flush(c);
			if (c->fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				read_client(c);
		}
		if (pfd[0].revents & POLLIN)
			accept_client(lfd);
		housekeeping(now_ms());
		sweep();
	}
}

/* The port number in TEXT (1-65535), or -1. */
static long port_number(const char *text)
{
	char *end;
	long port = strtol(text, &end, 10);

	return *text == '\0' || *end != '\0' || port < 1 || port > 65535 ? -1 : port;
}

static int open_listener(long port)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	int fd, off = 0, on = 1;

	any.sin6_port = htons((unsigned short)port);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) < 0 || listen(fd, 256) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		say("ERROR", "bind to [::]:%ld: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

/* --- adding a user ---------------------------------------------------- */

/* Reads the first line of standard input into PW (echo off on a tty). */
static int read_password(char *pw, size_t size)
{
	struct termios saved, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	size_t len = 0;
	char ch;

	if (tty) { /* echo off first: the prompt invites typing */
		quiet = saved;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet) < 0) {
			say("ERROR", "turn the terminal's echo off: %s", strerror(errno));
			return -1;
		}
		fputs("Password: ", stderr);
	}
	while (read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n') {
		if (len + 1 < size)
			pw[len] = ch;
		len++;
	}
	if (tty) {
		if (tcsetattr(STDIN_FILENO, TCSANOW, &saved) < 0)
			say("ERROR", "turn the terminal's echo on: %s", strerror(errno));
		fputc('\n', stderr);
	}
	if (len > 0 && len < size && pw[len - 1] == '\r')
		len--;
	if (len == 0 || len > PASSWORD_MAX_LEN || len + 1 > size) {
		say("ERROR", "a password is 1 to %d bytes", PASSWORD_MAX_LEN);
		return -1;
	}
	pw[len] = '\0';
	return 0;
}

static int add_user(const char *path, const char *name, const char *iterations)
{
	char pw[PASSWORD_MAX_LEN + 2], *end;
	unsigned long n = strtoul(iterations, &end, 10);
	FILE *f = fopen(path, "r");

	if (!name_ok(name, strlen(name)) || *end != '\0' || n < 1 || n > 10000000) {
		say("ERROR", "bad user name or iteration count");
		fputs(usage, stderr);
		return 2;
	}
	if (f != NULL) { /* refuse a second line for one name */
		char line[256];
		size_t nl = strlen(name);
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
				fclose(f);
				say("ERROR", "%s is in %s already", name, path);
				return 1;
			}
		}
		fclose(f);
	}
	if (read_password(pw, sizeof pw) < 0 || users_add(path, name, pw, n) < 0)
		return 1;
	say("INFO", "added %s to %s (%lu iterations)", name, path, n);
	return 0;
}

int main(int argc, char *argv[])
{
	const char *users = NULL, *port = "12002", *max = "100", *pending = "32", *add = NULL;
	const char *iterations = "100000";
	char *end;
	int lfd;

	progname = "chatserver";
	for (int i = 1; i < argc; i++) {
		const char **value = NULL;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		} else if (strcmp(argv[i], "--users") == 0) {
			value = &users;
		} else if (strcmp(argv[i], "--port") == 0) {
			value = &port;
		} else if (strcmp(argv[i], "--max-clients") == 0) {
			value = &max;
		} else if (strcmp(argv[i], "--max-pending") == 0) {
			value = &pending;
		} else if (strcmp(argv[i], "--add-user") == 0) {
			value = &add;
		} else if (strcmp(argv[i], "--iterations") == 0) {
			value = &iterations;
		} else {
			say("ERROR", "unknown argument %s", argv[i]);
			fputs(usage, stderr);
			return 2;
		}
		if (++i == argc) {
			say("ERROR", "%s needs a value", argv[i - 1]);
			fputs(usage, stderr);
			return 2;
		}
		*value = argv[i];
	}
	if (users == NULL) {
		say("ERROR", "--users FILE is required");
		fputs(usage, stderr);
		return 2;
	}
	if (add != NULL)
		return add_user(users, add, iterations);
	room.max_clients = (int)strtol(max, &end, 10);
	if (*end != '\0' || room.max_clients < 1 || room.max_clients > 100000) {
		say("ERROR", "--max-clients must be a number from 1 to 100000");
		fputs(usage, stderr);
		return 2;
	}
	room.max_pending = (int)strtol(pending, &end, 10);
	if (*end != '\0' || room.max_pending < 1 || room.max_pending > 100000) {
		say("ERROR", "--max-pending must be a number from 1 to 100000");
		fputs(usage, stderr);
		return 2;
	}
	if (port_number(port) < 0) {
		say("ERROR", "PORT must be a number from 1 to 65535");
		fputs(usage, stderr);
		return 2;
	}
	if (users_read(users, &room.users) < 0 || (lfd = open_listener(port_number(port))) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	say("INFO", "listening on port %s: %zu users, at most %d online and %d waiting to log in",
	    port, room.users.count, room.max_clients, room.max_pending);
	return serve(lfd);
}
