/*
 * chatserver - a chat room over TCP with logins, presence and private
 * messages.
 *
 * Serves many clients at once, one thread per client. A client first logs
 * in with a user name and password (checked against the users file's
 * salted PBKDF2 hashes); then every message it sends goes to everyone else
 * online with its sender and time, or to one user ("@bob hi" on the
 * client: a PRIVATE frame). Everyone is told when a user comes online or
 * goes offline, however the user left: with CTL "quit", by closing, by a
 * reset, or by a crash in the middle of a frame.
 *
 * Threads:
 *   main           accepts clients and starts a thread for each; drops a
 *                  connection that has not logged in when its login time
 *                  is up, or to make room for a newer one
 *   one per client logs its client in, then reads its frames until it
 *                  leaves
 *
 * Two budgets bound the threads: at most --max-clients users logged in,
 * and at most --max-pending connections waiting to log in (the pending
 * queue). They are apart so that connections which never log in cannot
 * hold a user out: the oldest of them makes room for a newcomer, and none
 * takes a user's seat.
 *
 * The threads share the table of the users online and the pending queue.
 * Their lock (struct server's `lock`) is held by whoever reads or changes
 * them, and around every send to a client of the table: so a client is
 * never freed while another thread sends to it, two threads never write
 * into one socket at once (their frames would mix), and everyone sees the
 * messages of one sender in the order they were sent.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chatwire.h"
#include "secret.h"
#include "sl_args.h"
#include "sl_frame.h"
#include "sl_io.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_thread.h"
#include "users.h"

#define DEFAULT_PORT 12002
#define DEFAULT_MAX_CLIENTS 100
#define MAX_CLIENTS_LIMIT 10000

/* Connections waiting to log in at once (--max-pending): few, since a
 * login takes a moment; when one more arrives, the oldest is dropped. */
#define DEFAULT_MAX_PENDING 32
#define MAX_PENDING_LIMIT 10000

/* Connections the kernel may complete before we accept them. A burst of
 * clients connects faster than we accept and start a thread for each:
 * when the queue is full the kernel drops their SYN, and they try again
 * only a second later. (Linux caps it at net.core.somaxconn.) */
#define BACKLOG 1024

/* A connection must have sent its whole LOGIN this long after it was
 * accepted, or it is dropped: a deadline for the whole frame, not a
 * timeout per recv(), which a client sending a byte now and then would
 * never reach. */
#define LOGIN_TIMEOUT_MS 10000

/* A send to a client blocks at most this long (its buffers are full:
 * it stopped reading); then the client is dropped, so that one stuck
 * client cannot stall the room for longer. */
#define SEND_TIMEOUT_MS 1000

/* After CTL "quit", how long we wait for the client's FIN. */
#define QUIT_WAIT_MS 2000

static const char usage[] =
	"Usage: chatserver [-h] [-v] --users FILE [--port PORT]\n"
	"                  [--max-clients N] [--max-pending P]\n"
	"       chatserver --users FILE --add-user NAME [--iterations N]\n"
	"\n"
	"Chat room over TCP. Each client logs in with a user name and password\n"
	"from FILE; then each message it sends goes to everyone else online\n"
	"(or, as a PRIVATE frame, to one user), with its sender and time.\n"
	"Everyone is told when a user comes online or goes offline. A user\n"
	"may be logged in once at a time. Runs until killed; every event is\n"
	"logged on standard error.\n"
	"\n"
	"With --add-user, adds user NAME to FILE (created if missing) with a\n"
	"salted PBKDF2-SHA256 hash of the password read from standard input\n"
	"(typed without echo on a terminal), then exits.\n"
	"\n"
	"Options:\n"
	"  --users FILE       the users file: name:pbkdf2-sha256:iterations:\n"
	"                     salt_hex:hash_hex, one user per line (required)\n"
	"  --port PORT        TCP port to listen on, on every IPv6 and IPv4\n"
	"                     address, 1-65535 (default: 12002)\n"
	"  --max-clients N    users logged in at once, 1-10000 (default: 100);\n"
	"                     one more LOGIN is told the room is full\n"
	"  --max-pending P    connections waiting to log in at once, 1-10000\n"
	"                     (default: 32); when one more arrives, the oldest\n"
	"                     is closed. Each has 10 s to send its LOGIN\n"
	"  --add-user NAME    add a user and exit\n"
	"  --iterations N     PBKDF2 iterations for --add-user, 1-10000000\n"
	"                     (default: 100000)\n"
	"  -v, --verbose      log debugging details too\n"
	"  -h, --help         print this help to standard output and exit\n"
	"\n"
	"A message is 1 to 1000 bytes of UTF-8 text without control\n"
	"characters; a longer one is refused with an ERROR frame, never cut.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed, or the user added\n"
	"  1  the users file or the port could not be used\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	const char *users_path;
	long max_clients;
	long max_pending;
	const char *add_user; /* NULL: serve */
	long iterations;
	bool verbose;
};

/* One connected client. fd, who, srv and deadline are set before its
 * thread starts and never change; name belongs to its own thread (it is
 * set before the client enters the table); the rest is guarded by the
 * lock. */
struct client {
	int fd;			 /* closed only by the client's own thread */
	char who[SL_ADDRSTRLEN]; /* "ADDR:PORT", for messages */
	struct server *srv;
	struct timespec deadline;     /* for its LOGIN (CLOCK_MONOTONIC) */
	char name[CHAT_NAME_MAX + 1]; /* the user, once logged in */
	bool joined;		      /* a user: holds a seat of --max-clients */
	struct client *next;	      /* the next in its list: the pending
					 queue, then the table */
	bool queued;		      /* in the pending queue now */
	bool dropped;		      /* dropped before it logged in */
	bool listed;		      /* in the table now */
};

/* What every thread shares. */
struct server {
	pthread_mutex_t lock;	 /* guards what follows but users, and every
				    send to a client of the table */
	pthread_cond_t pending_gone; /* a pending thread logged in or ended */
	struct client *online;	 /* the table: users logged in */
	struct client *pending;	 /* not logged in yet, oldest first */
	size_t npending;	 /* threads of connections not logged in */
	size_t nusers;		 /* threads of users logged in */
	size_t max_pending;	 /* at most that many pending threads */
	size_t max_clients;	 /* at most that many users */
	const struct user_table *users; /* read only once serving */
};

/* Sets a socket's receive (SO_RCVTIMEO) or send (SO_SNDTIMEO) timeout in
 * milliseconds, 0 for none; returns 0, or -1 with errno set. */
static int set_timeout(int fd, int option, long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (ms % 1000) * 1000};

	return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

/* Builds a payload "time, a, b" of type, stamped with the current time;
 * returns its length (buf holds CHAT_PAYLOAD_MAX bytes). */
static size_t stamp(char *buf, char type, struct chat_field a,
		    struct chat_field b)
{
	char now[CHAT_TIME_MAX + 1];
	struct chat_field f[3];

	chat_time_field(now, time(NULL));
	f[0] = chat_str(now);
	f[1] = a;
	f[2] = b;
	return chat_build(buf, CHAT_PAYLOAD_MAX, type, f, 3);
}

/* Takes c out of the table; caller holds the lock. */
static void unlink_locked(struct server *srv, struct client *c)
{
	struct client **pp = &srv->online;

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	c->next = NULL;
	c->listed = false;
}

/* Shuts c's socket both ways: its thread, maybe inside recv(), sees the
 * end of the stream and closes the socket itself. */
static void wake_up(const struct client *c)
{
	/* Not close(): the client's thread may be inside recv() on this fd,
	 * and a closed number can be reused at once by the next accept().
	 * ENOTCONN: the client reset the connection, nothing left to shut. */
	if (shutdown(c->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		sl_log(&sl_prog_log, SL_ERROR, "shutdown connection of %s: %s",
		       c->who, strerror(errno));
}

/* Drops c: out of the table, and its thread woken; caller holds the lock.
 * The client's own thread then sees the end of its stream, says c is
 * offline and closes fd. */
static void drop_locked(struct server *srv, struct client *c, const char *why)
{
	sl_log(&sl_prog_log, SL_WARN, "dropping %s (%s): %s", c->name, c->who,
	       why);
	wake_up(c);
	unlink_locked(srv, c);
}

/* Appends c to the pending queue, the newest last; caller holds the
 * lock. */
static void enqueue_locked(struct server *srv, struct client *c)
{
	struct client **pp = &srv->pending;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = c;
	c->next = NULL;
	c->queued = true;
	srv->npending++;
}

/* Takes c out of the pending queue if it is still there; its thread still
 * counts as pending. Caller holds the lock. */
static void dequeue_locked(struct server *srv, struct client *c)
{
	struct client **pp = &srv->pending;

	if (!c->queued)
		return;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	c->next = NULL;
	c->queued = false;
}

/* c's thread is pending no more (its client logged in, or the thread is
 * ending): one place more for the main thread. Caller holds the lock. */
static void pending_done_locked(struct server *srv, struct client *c)
{
	dequeue_locked(srv, c);
	srv->npending--;
	pthread_cond_signal(&srv->pending_gone);
}

/* Drops c, which has not logged in: out of the queue, its thread woken
 * (it ends without a word to the client). Caller holds the lock. */
static void drop_pending_locked(struct server *srv, struct client *c,
				const char *why)
{
	sl_log(&sl_prog_log, SL_WARN, "dropping %s (not logged in): %s",
	       c->who, why);
	wake_up(c);
	dequeue_locked(srv, c);
	c->dropped = true;
}

/* Sends one frame to c, or drops c when that fails; caller holds the
 * lock. Returns 0, or -1 when c was dropped. */
static int send_or_drop_locked(struct server *srv, struct client *c,
			       const char *payload, size_t len)
{
	char why[64];

	if (sl_frame_send(c->fd, payload, len, CHAT_PAYLOAD_MAX) == 0)
		return 0;
	(void)snprintf(why, sizeof why, "send: %s",
		       errno == EAGAIN ? "it stopped reading" : strerror(errno));
	drop_locked(srv, c, why);
	return -1;
}

/* Returns the client of the table logged in as name (len bytes), or NULL;
 * caller holds the lock. */
static struct client *find_online_locked(struct server *srv, const char *name,
					 size_t len)
{
	for (struct client *c = srv->online; c != NULL; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

/* Sends a payload to every client of the table but except (which may be
 * NULL); drops those whose send fails. Caller holds the lock. */
static void send_others_locked(struct server *srv, const struct client *except,
			       const char *payload, size_t len)
{
	/* BLANK 5: Send the payload to every client of the table except `except`, with send_or_drop_locked() (which may take a client out of the table while you walk it). */
	struct client *c, *after;

	for (c = srv->online; c != NULL; c = after) {
		after = c->next; /* a failed send takes c out of the table */
		if (c != except)
			(void)send_or_drop_locked(srv, c, payload, len);
	}
	/* SKELETON 5:
	(void)srv;
	(void)except;
	(void)payload;
	(void)len;
	(void)send_or_drop_locked;
	SL_TODO(5);
	*/
	/* END 5 */
}

/* Tells everyone in the table but c that c's user is now `event` (online
 * or offline); caller holds the lock. */
static void announce_locked(struct server *srv, const struct client *c,
			    const char *event)
{
	char payload[CHAT_PAYLOAD_MAX];
	size_t len = stamp(payload, CHAT_CTL, chat_str(event),
			   chat_str(c->name));

	send_others_locked(srv, c, payload, len);
}

/* Sends c an ERROR frame: code, then the text made from fmt. Takes the
 * lock, since c may be in the table, where other threads send to it. */
static void reply_error(struct server *srv, struct client *c,
			const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_error(struct server *srv, struct client *c,
			const char *code, const char *fmt, ...)
{
	char text[CHAT_TEXT_MAX + 1];
	struct chat_field f[2];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	f[0] = chat_str(code);
	f[1] = chat_str(text);
	pthread_mutex_lock(&srv->lock);
	/* A client dropped meanwhile has a shut socket: the send just fails. */
	if (chat_send(c->fd, CHAT_ERROR, f, 2) < 0)
		sl_log(&sl_prog_log, SL_DEBUG, "send ERROR to %s: %s", c->who,
		       strerror(errno));
	pthread_mutex_unlock(&srv->lock);
}

/* What became of a login in join(). */
enum join_result {
	JOINED,
	JOIN_DROPPED,	/* dropped while its password was checked */
	JOIN_DUPLICATE, /* that user is online already */
	JOIN_FULL,	/* --max-clients users are online */
};

/* Tells whether c, whose password is right, may join the table now;
 * caller holds the lock. */
static enum join_result may_join_locked(struct server *srv,
					const struct client *c)
{
	if (c->dropped)
		return JOIN_DROPPED;
	if (find_online_locked(srv, c->name, strlen(c->name)) != NULL)
		return JOIN_DUPLICATE;
	/* Only users take seats: pending connections have a budget of their
	 * own, so that those which never log in cannot fill the room. */
	if (srv->nusers >= srv->max_clients)
		return JOIN_FULL;
	return JOINED;
}

/* Moves c's thread from the pending ones to the users; caller holds the
 * lock. */
static void become_user_locked(struct server *srv, struct client *c)
{
	pending_done_locked(srv, c);
	srv->nusers++;
	c->joined = true;
}

/* Puts c into the table as user c->name if may_join_locked() says so;
 * welcomes c and tells the others. Returns JOINED, or why not (nothing
 * sent then). */
static enum join_result join(struct server *srv, struct client *c)
{
	char welcome[CHAT_PAYLOAD_MAX];
	size_t len = stamp(welcome, CHAT_CTL, chat_str("welcome"),
			   chat_str(c->name));
	enum join_result rc;

	/* BLANK 6: Under the lock: rc = may_join_locked(); if JOINED, make c a user (become_user_locked()), put it at the head of the table (c->listed = true), send it the welcome frame, and announce it "online" to the others. */
	pthread_mutex_lock(&srv->lock);
	rc = may_join_locked(srv, c);
	if (rc == JOINED) {
		become_user_locked(srv, c);
		c->next = srv->online;
		srv->online = c;
		c->listed = true;
		/* Under the same lock as every relay: no message can reach c
		 * before its welcome. */
		(void)send_or_drop_locked(srv, c, welcome, len);
		announce_locked(srv, c, "online");
	}
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 6:
	(void)srv;
	(void)len;
	(void)may_join_locked;
	(void)become_user_locked;
	(void)announce_locked;
	SL_TODO(6);
	rc = JOIN_DUPLICATE;
	*/
	/* END 6 */
	return rc;
}

/* Takes c out of the table (unless a failed send did already) and tells
 * everyone left that its user is offline. */
static void leave(struct server *srv, struct client *c)
{
	/* BLANK 7: Under the lock, take c out of the table if it is still listed (unlink_locked()), then announce it "offline" to everyone left. */
	pthread_mutex_lock(&srv->lock);
	if (c->listed)
		unlink_locked(srv, c);
	announce_locked(srv, c, "offline");
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 7:
	(void)srv;
	SL_TODO(7);
	*/
	/* END 7 */
	sl_log(&sl_prog_log, SL_INFO, "%s is now offline", c->name);
}

/* Sends text from `from` to everyone else online. */
static void relay(struct server *srv, struct client *from,
		  struct chat_field text)
{
	char payload[CHAT_PAYLOAD_MAX];
	size_t len = stamp(payload, CHAT_MSG, chat_str(from->name), text);

	pthread_mutex_lock(&srv->lock);
	send_others_locked(srv, from, payload, len);
	pthread_mutex_unlock(&srv->lock);
	sl_log(&sl_prog_log, SL_INFO, "%s to everyone: %zu bytes", from->name,
	       text.len);
}

/* Sends text from `from` to user `to` only, or tells `from` that this user
 * is not online. */
static void deliver_private(struct server *srv, struct client *from,
			    struct chat_field to, struct chat_field text)
{
	char payload[CHAT_PAYLOAD_MAX];
	size_t len = stamp(payload, CHAT_PRIVATE, chat_str(from->name), text);
	bool delivered = false;

	/* BLANK 8: Under the lock, find the user `to` in the table and send it the payload (set delivered); the client found must not be used after the unlock. */
	struct client *c;

	pthread_mutex_lock(&srv->lock);
	c = find_online_locked(srv, to.p, to.len);
	if (c != NULL)
		delivered = send_or_drop_locked(srv, c, payload, len) == 0;
	pthread_mutex_unlock(&srv->lock);
	/* SKELETON 8:
	(void)len;
	SL_TODO(8);
	*/
	/* END 8 */
	if (!delivered) {
		reply_error(srv, from, "offline",
			    "%.*s is not online: message not delivered",
			    (int)to.len, to.p);
		return;
	}
	sl_log(&sl_prog_log, SL_INFO, "%s to %.*s (private): %zu bytes",
	       from->name, (int)to.len, to.p, text.len);
}

/* Receives c's next frame into buf (CHAT_PAYLOAD_MAX bytes) and splits it
 * into m; *len receives the payload length (the announced one when it is
 * too large). A malformed payload counts as SL_FRAME_ERROR with errno
 * EPROTO. */
static enum sl_frame_status read_frame(struct client *c, char *buf,
				       struct chat_msg *m, size_t *len)
{
	enum sl_frame_status st;

	/* BLANK 9: Receive one whole frame into buf with sl_frame_recv() (at most CHAT_PAYLOAD_MAX bytes), then split a received payload with chat_parse() (EPROTO when that fails). */
	st = sl_frame_recv(c->fd, buf, CHAT_PAYLOAD_MAX, len);
	if (st == SL_FRAME_OK && chat_parse(buf, *len, m) < 0) {
		errno = EPROTO;
		st = SL_FRAME_ERROR;
	}
	/* SKELETON 9:
	(void)c;
	(void)buf;
	(void)m;
	*len = 0;
	SL_TODO(9);
	st = SL_FRAME_EOF;
	*/
	/* END 9 */
	return st;
}

/* Logs why c's stream of frames ended (st is not SL_FRAME_OK). */
static void log_end(const struct client *c, enum sl_frame_status st,
		    size_t len)
{
	const char *who = c->name[0] != '\0' ? c->name : c->who;

	switch (st) {
	case SL_FRAME_EOF:
		sl_log(&sl_prog_log, SL_INFO, "%s closed the connection", who);
		return;
	case SL_FRAME_TRUNCATED:
		sl_log(&sl_prog_log, SL_WARN,
		       "%s vanished in the middle of a frame", who);
		return;
	case SL_FRAME_TOO_LARGE:
		sl_log(&sl_prog_log, SL_WARN,
		       "%s announced a frame of %zu bytes (at most %d): "
		       "closing",
		       who, len, CHAT_PAYLOAD_MAX);
		return;
	case SL_FRAME_ERROR:
	case SL_FRAME_OK:
		break;
	}
	if (errno == ECONNRESET)
		sl_log(&sl_prog_log, SL_WARN, "%s reset the connection", who);
	else if (errno == EPROTO)
		sl_log(&sl_prog_log, SL_WARN, "%s sent a malformed frame", who);
	else
		sl_log(&sl_prog_log, SL_ERROR, "receive from %s: %s", who,
		       strerror(errno));
}

/* Tells whether a text may be sent on; if not, says why to c. */
static bool text_ok(struct server *srv, struct client *c,
		    struct chat_field text)
{
	if (text.len > CHAT_TEXT_MAX) {
		reply_error(srv, c, "toolong",
			    "message too long: %zu bytes, the maximum is %d: "
			    "not sent",
			    text.len, CHAT_TEXT_MAX);
		return false;
	}
	if (text.len == 0 || !chat_utf8_ok(text.p, text.len)) {
		reply_error(srv, c, "badtext",
			    "a message must be 1 to %d bytes of UTF-8 text "
			    "without control characters: not sent",
			    CHAT_TEXT_MAX);
		return false;
	}
	return true;
}

/* What a frame asks of the client's thread. */
enum next_step {
	STEP_GO_ON,
	STEP_QUIT,  /* CTL "quit": the client is leaving */
	STEP_CLOSE, /* a protocol error, already answered and logged */
};

/* Acts on one frame from c. */
static enum next_step handle_frame(struct server *srv, struct client *c,
				   const struct chat_msg *m)
{
	if (m->type == CHAT_MSG && m->nfields == 1) {
		if (text_ok(srv, c, m->f[0]))
			relay(srv, c, m->f[0]);
		return STEP_GO_ON;
	}
	if (m->type == CHAT_PRIVATE && m->nfields == 2) {
		if (text_ok(srv, c, m->f[1]))
			deliver_private(srv, c, m->f[0], m->f[1]);
		return STEP_GO_ON;
	}
	if (m->type == CHAT_CTL && m->nfields == 1 &&
	    chat_field_is(m->f[0], "quit")) {
		sl_log(&sl_prog_log, SL_INFO, "%s quits", c->name);
		return STEP_QUIT;
	}
	reply_error(srv, c, "protocol", "unexpected frame of type 0x%02x",
		    (unsigned char)m->type);
	sl_log(&sl_prog_log, SL_WARN,
	       "%s sent an unexpected frame (type 0x%02x, %zu fields): closing",
	       c->name, (unsigned char)m->type, m->nfields);
	return STEP_CLOSE;
}

/* Serves c's frames until it quits, leaves or breaks the protocol;
 * returns true when it quit with CTL "quit". */
static bool serve_client(struct server *srv, struct client *c)
{
	char buf[CHAT_PAYLOAD_MAX];
	struct chat_msg m;
	size_t len;

	for (;;) {
		enum sl_frame_status st = read_frame(c, buf, &m, &len);
		enum next_step step;

		if (st != SL_FRAME_OK) {
			log_end(c, st, len);
			if (st == SL_FRAME_TOO_LARGE)
				reply_error(srv, c, "toolong",
					    "frame of %zu bytes: the maximum "
					    "is %d",
					    len, CHAT_PAYLOAD_MAX);
			return false;
		}
		step = handle_frame(srv, c, &m);
		if (step != STEP_GO_ON)
			return step == STEP_QUIT;
	}
}

/* Refuses c before it is in the table: an ERROR frame, a log line. */
static void refuse(const struct client *c, const char *code, const char *text)
{
	struct chat_field f[2] = {chat_str(code), chat_str(text)};

	sl_log(&sl_prog_log, SL_WARN, "refused %s: %s", c->who, text);
	if (chat_send(c->fd, CHAT_ERROR, f, 2) < 0)
		sl_log(&sl_prog_log, SL_DEBUG, "send ERROR to %s: %s", c->who,
		       strerror(errno));
}

/* Checks a LOGIN frame's name and password; on success copies the name
 * into c->name and returns 0, otherwise refuses c and returns -1. */
static int check_login(struct server *srv, struct client *c,
		       const struct chat_msg *m)
{
	char text[CHAT_NAME_MAX + 64];

	if (m->type != CHAT_LOGIN || m->nfields != 2 ||
	    !chat_name_ok(m->f[0].p, m->f[0].len)) {
		refuse(c, "protocol", "expected LOGIN with a valid user name");
		return -1;
	}
	if (!users_login(srv->users, m->f[0].p, m->f[0].len, m->f[1].p,
			 m->f[1].len)) {
		/* The same answer for both: which names exist is not for
		 * strangers to find out. */
		(void)snprintf(text, sizeof text,
			       "wrong user name or password (user %.*s)",
			       (int)m->f[0].len, m->f[0].p);
		refuse(c, "login", text);
		return -1;
	}
	return chat_field_copy(m->f[0], c->name, sizeof c->name);
}

/* Tells whether the main thread dropped c before it logged in. */
static bool was_dropped(struct server *srv, const struct client *c)
{
	bool dropped;

	pthread_mutex_lock(&srv->lock);
	dropped = c->dropped;
	pthread_mutex_unlock(&srv->lock);
	return dropped;
}

/* Logs c in: reads its LOGIN frame, checks it, and puts c into the table.
 * No receive timeout here: the main thread drops c when its login
 * deadline passes. Returns 0, or -1 after refusing c. */
static int log_in(struct server *srv, struct client *c)
{
	char buf[CHAT_PAYLOAD_MAX];
	char text[CHAT_NAME_MAX + 64];
	struct chat_msg m;
	size_t len;
	enum sl_frame_status st;

	st = read_frame(c, buf, &m, &len);
	if (st != SL_FRAME_OK) {
		if (!was_dropped(srv, c)) /* else the main thread said why */
			log_end(c, st, len);
		return -1;
	}
	if (check_login(srv, c, &m) < 0)
		return -1;
	switch (join(srv, c)) {
	case JOINED:
		sl_log(&sl_prog_log, SL_INFO,
		       "%s logged in from %s: now online", c->name, c->who);
		return 0;
	case JOIN_DROPPED:
		return -1;
	case JOIN_DUPLICATE:
		(void)snprintf(text, sizeof text, "%s is logged in already",
			       c->name);
		refuse(c, "duplicate", text);
		return -1;
	case JOIN_FULL:
		refuse(c, "full", "the room is full: try again later");
		return -1;
	}
	return -1;
}

/* After CTL "quit": waits (QUIT_WAIT_MS at most) for the client's FIN, so
 * that the client, not we, closes first. */
static void wait_for_fin(struct client *c)
{
	char junk[256];
	ssize_t n;

	if (set_timeout(c->fd, SO_RCVTIMEO, QUIT_WAIT_MS) < 0)
		return; /* closing now is fine too */
	do {
		n = sl_read_some(c->fd, junk, sizeof junk);
	} while (n > 0);
	if (n < 0 && errno != ECONNRESET && errno != ENOTCONN)
		sl_log(&sl_prog_log, SL_WARN, "%s did not close after quitting: %s",
		       c->name, strerror(errno));
}

/* Gives back what c's thread held: its seat among the --max-clients
 * users, or its place among the pending connections. */
static void give_back(struct server *srv, struct client *c)
{
	pthread_mutex_lock(&srv->lock);
	if (c->joined)
		srv->nusers--;
	else
		pending_done_locked(srv, c);
	pthread_mutex_unlock(&srv->lock);
}

/* The thread of one client: logs it in, serves it, says it is offline,
 * closes its socket (our FIN) and frees it. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	struct server *srv = c->srv;

	if (log_in(srv, c) == 0) {
		bool quit = serve_client(srv, c);

		leave(srv, c);
		if (quit)
			wait_for_fin(c);
	}
	/* Out of the table: no other thread sends to c any more. */
	if (close(c->fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection of %s: %s",
		       c->who, strerror(errno));
	give_back(srv, c); /* out of the queue too: nobody can reach c */
	free(c);
	return NULL;
}

/* Waits for the next client; returns its socket (its address in *peer),
 * or -1 after logging a failure. */
static int accept_client(int lfd, struct sockaddr_storage *peer)
{
	char err[SL_ERRLEN];
	int fd = sl_accept(lfd, peer, err, sizeof err);

	if (fd < 0)
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
	return fd;
}

/* Returns a new client for socket fd from peer, not in the table yet, or
 * NULL after logging why. */
static struct client *new_client(struct server *srv, int fd,
				 const struct sockaddr_storage *peer)
{
	struct client *c = calloc(1, sizeof *c);

	if (c == NULL) {
		sl_log(&sl_prog_log, SL_ERROR, "allocate a client: %s",
		       strerror(errno));
		return NULL;
	}
	c->fd = fd;
	c->srv = srv;
	if (sl_sockaddr_str((const struct sockaddr *)peer, c->who,
			    sizeof c->who) < 0)
		(void)snprintf(c->who, sizeof c->who, "(unknown address)");
	if (set_timeout(fd, SO_SNDTIMEO, SEND_TIMEOUT_MS) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "set a send timeout for %s: %s",
		       c->who, strerror(errno));
	return c;
}

/* Returns the time ms milliseconds from now on the monotonic clock. */
static struct timespec ms_from_now(long ms)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Returns the milliseconds from now until t, rounded up: 0 or less once t
 * has passed. */
static long ms_until(const struct timespec *t)
{
	struct timespec now;
	long long ns;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(t->tv_sec - now.tv_sec) * 1000000000LL +
	     (t->tv_nsec - now.tv_nsec);
	return ns <= 0 ? 0 : (long)((ns + 999999) / 1000000);
}

/* Puts c into the pending queue with its login deadline. When
 * max_pending threads are pending, first drops the oldest and waits until
 * a pending thread has ended: a crowd of connections that never log in
 * then holds nobody out, and the threads stay bounded. */
static void queue_pending(struct server *srv, struct client *c)
{
	pthread_mutex_lock(&srv->lock);
	if (srv->npending >= srv->max_pending && srv->pending != NULL)
		drop_pending_locked(srv, srv->pending,
				    "too many connections waiting to log in");
	while (srv->npending >= srv->max_pending)
		pthread_cond_wait(&srv->pending_gone, &srv->lock);
	c->deadline = ms_from_now(LOGIN_TIMEOUT_MS);
	enqueue_locked(srv, c);
	pthread_mutex_unlock(&srv->lock);
}

/* Drops the pending connections whose login deadline has passed; returns
 * the milliseconds until the next deadline, or -1 when none is pending.
 * The queue is in the order of the deadlines: the oldest first. */
static int drop_late_logins(struct server *srv)
{
	char why[64];
	int next = -1;

	(void)snprintf(why, sizeof why, "did not log in within %d ms",
		       LOGIN_TIMEOUT_MS);
	pthread_mutex_lock(&srv->lock);
	while (srv->pending != NULL) {
		long left = ms_until(&srv->pending->deadline);

		if (left > 0) {
			next = (int)left;
			break;
		}
		drop_pending_locked(srv, srv->pending, why);
	}
	pthread_mutex_unlock(&srv->lock);
	return next;
}

/* Waits at most ms milliseconds (-1: without end) for a connection on
 * lfd; tells whether one is there to accept. */
static bool connection_waiting(int lfd, int ms)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int n = poll(&p, 1, ms);

	if (n < 0 && errno != EINTR)
		sl_log(&sl_prog_log, SL_ERROR, "poll the listening socket: %s",
		       strerror(errno));
	return n > 0;
}

/* Accepts the next client, queues it as pending and starts its thread. */
static void accept_and_spawn(struct server *srv, int lfd)
{
	struct sockaddr_storage peer;
	struct client *c;
	int fd = accept_client(lfd, &peer);

	if (fd < 0)
		return;
	c = new_client(srv, fd, &peer);
	if (c == NULL) {
		(void)close(fd);
		return;
	}
	sl_log(&sl_prog_log, SL_INFO, "connection from %s", c->who);
	queue_pending(srv, c);
	/* BLANK 10: Start client_main(c) in a thread of its own with sl_start_thread(); if that fails, log it, close fd, give back its place (give_back()) and free c. */
	int rc = sl_start_thread(client_main, c);

	if (rc != 0) {
		sl_log(&sl_prog_log, SL_ERROR, "start a thread for %s: %s",
		       c->who, strerror(rc));
		(void)close(fd);
		give_back(srv, c);
		free(c);
	}
	/* SKELETON 10:
	SL_TODO(10);
	(void)client_main(c); // serves one client at a time until then
	*/
	/* END 10 */
}

/* Option codes of getopt_long() for the long-only options. */
enum {
	OPT_PORT = 256,
	OPT_USERS,
	OPT_MAX_CLIENTS,
	OPT_MAX_PENDING,
	OPT_ADD_USER,
	OPT_ITERATIONS,
};

/* Reads one option's value into o; returns 0, or -1 with err set. */
static int take_option(int opt, const char *arg, struct options *o, char *err,
		       size_t errlen)
{
	switch (opt) {
	case OPT_PORT:
		return sl_parse_port(arg, &o->port, err, errlen);
	case OPT_USERS:
		o->users_path = arg;
		return 0;
	case OPT_MAX_CLIENTS:
		return sl_parse_long(arg, "--max-clients", 1, MAX_CLIENTS_LIMIT,
				     &o->max_clients, err, errlen);
	case OPT_MAX_PENDING:
		return sl_parse_long(arg, "--max-pending", 1, MAX_PENDING_LIMIT,
				     &o->max_pending, err, errlen);
	case OPT_ADD_USER:
		o->add_user = arg;
		return 0;
	case OPT_ITERATIONS:
		return sl_parse_long(arg, "--iterations", 1,
				     (long)USER_ITERATIONS_MAX, &o->iterations,
				     err, errlen);
	case 'v':
		o->verbose = true;
		return 0;
	}
	(void)snprintf(err, errlen, "unknown option %s", arg ? arg : "");
	return -1;
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{"port", required_argument, NULL, OPT_PORT},
		{"users", required_argument, NULL, OPT_USERS},
		{"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
		{"max-pending", required_argument, NULL, OPT_MAX_PENDING},
		{"add-user", required_argument, NULL, OPT_ADD_USER},
		{"iterations", required_argument, NULL, OPT_ITERATIONS},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if (opt == ':')
			return sl_usage_error(&sl_prog_log, usage,
					      "option %s needs a value",
					      argv[optind - 1]);
		if (opt == '?')
			return sl_usage_error(&sl_prog_log, usage,
					      "unknown option %s",
					      argv[optind - 1]);
		if (take_option(opt, optarg, o, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
	}
	if (optind < argc)
		return sl_usage_error(&sl_prog_log, usage,
				      "unexpected argument %s", argv[optind]);
	if (o->users_path == NULL)
		return sl_usage_error(&sl_prog_log, usage,
				      "--users FILE is required");
	if (o->add_user != NULL &&
	    !chat_name_ok(o->add_user, strlen(o->add_user)))
		return sl_usage_error(&sl_prog_log, usage,
				      "bad user name %s: 1 to %d letters, "
				      "digits, '_', '-' or '.'",
				      o->add_user, CHAT_NAME_MAX);
	return 0;
}

/* Tells whether the users file at path holds user name already (a file
 * that cannot be read holds nobody: appending will say what is wrong). */
static bool user_exists(const char *path, const char *name)
{
	struct sl_logger quiet = sl_prog_log;
	struct user_table t;
	char err[SL_ERRLEN];
	bool found;

	quiet.level = SL_ERROR; /* skipped lines are not our business here */
	if (users_load(path, &t, &quiet, err, sizeof err) < 0)
		return false;
	found = users_find(&t, name, strlen(name)) != NULL;
	users_free(&t);
	return found;
}

/* --add-user: reads a password and appends the new user to the users
 * file; returns the exit status. */
static int add_user(const struct options *o)
{
	char pw[CHAT_PASSWORD_MAX + 1], err[SL_ERRLEN];
	struct user_entry e;
	struct sl_reader in;
	size_t len;

	if (user_exists(o->users_path, o->add_user)) {
		sl_log(&sl_prog_log, SL_ERROR, "%s already holds user %s",
		       o->users_path, o->add_user);
		return SL_EXIT_FAILURE;
	}
	sl_reader_init(&in, STDIN_FILENO);
	if (secret_read(&in, "Password: ", pw, sizeof pw, &len, err,
			sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	if (!chat_password_ok(pw, len)) {
		sl_log(&sl_prog_log, SL_ERROR, "a password is 1 to %d bytes "
		       "without NUL: %s not added", CHAT_PASSWORD_MAX,
		       o->add_user);
		return SL_EXIT_FAILURE;
	}
	if (users_new_entry(o->add_user, pw, len, (unsigned long)o->iterations,
			    &e, err, sizeof err) < 0 ||
	    users_append(o->users_path, &e, err, sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	sl_log(&sl_prog_log, SL_INFO, "added user %s to %s (%lu iterations)",
	       e.name, o->users_path, e.iterations);
	return SL_EXIT_OK;
}

/* Loads the users, listens and accepts clients forever; returns only on
 * a failure to start. */
static int serve(const struct options *o)
{
	struct user_table users;
	struct server srv = {.online = NULL, .pending = NULL};
	char err[SL_ERRLEN];
	int lfd;

	if (users_load(o->users_path, &users, &sl_prog_log, err,
		       sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	lfd = sl_tcp_listen(NULL, o->port, BACKLOG, err, sizeof err);
	if (lfd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		users_free(&users);
		return SL_EXIT_FAILURE;
	}
	srv.users = &users;
	srv.max_clients = (size_t)o->max_clients;
	srv.max_pending = (size_t)o->max_pending;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.pending_gone, NULL);
	sl_log(&sl_prog_log, SL_INFO,
	       "listening on port %u: %zu users, at most %zu online and %zu "
	       "waiting to log in",
	       (unsigned)o->port, users.count, srv.max_clients,
	       srv.max_pending);
	for (;;) {
		int next_deadline = drop_late_logins(&srv);

		if (connection_waiting(lfd, next_deadline))
			accept_and_spawn(&srv, lfd);
	}
}

int main(int argc, char *argv[])
{
	struct options o = {.port = DEFAULT_PORT,
			    .max_clients = DEFAULT_MAX_CLIENTS,
			    .max_pending = DEFAULT_MAX_PENDING,
			    .iterations = (long)USER_ITERATIONS_DEFAULT};
	int status;

	sl_log_init(&sl_prog_log, "chatserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	if (o.verbose)
		sl_prog_log.level = SL_DEBUG;
	if (o.add_user != NULL)
		return add_user(&o);
	/* sl_frame_send() asks for no SIGPIPE; this covers standard error. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE: %s",
		       strerror(errno));
		return SL_EXIT_FAILURE;
	}
	return serve(&o);
}
