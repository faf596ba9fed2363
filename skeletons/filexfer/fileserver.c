/*
 * fileserver - keeps files for logged-in users, over TCP.
 *
 * A client logs in (three wrong tries and the connection is closed), then
 * lists, uploads, downloads and deletes files of one folder, the root
 * (fxwire.h has the frames, store.h how files are kept). An upload goes to
 * a temporary file that gets its name only when every byte has come and
 * its SHA-256 is the one the client announced: an interrupted or damaged
 * upload never shows, and files survive a restart of the server.
 *
 * Threads: the main thread accepts connections and starts one thread per
 * client. A connection that has not logged in yet is *pending*: at most
 * MAX_PENDING are, each with a deadline for its whole login, and a new
 * connection drops the oldest pending one, so silent connections can
 * neither fill the server nor keep a user from logging in. At most
 * MAX_CLIENTS users are logged in; one more gets "ERR busy". The threads
 * share the two counts (under a lock) and the file system, where rename()
 * keeps uploads of the same name from mixing.
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "fxwire.h"
#include "sl_args.h"
#include "sl_io.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_thread.h"
#include "store.h"
#include "xfer.h"

#define DEFAULT_PORT 12003

/* Users logged in at a time; one more gets "ERR busy". */
#define MAX_CLIENTS 64

/* Connections not logged in yet, at a time: one more drops the oldest. */
#define MAX_PENDING 16

/* Seconds a connection has for its whole login (--login-timeout). */
#define DEFAULT_LOGIN_TIMEOUT_S 10
#define LOGIN_TIMEOUT_MAX_S	3600

/* Wrong passwords a connection may send before it is closed. */
#define LOGIN_TRIES 3

/* Connections the kernel may complete before we accept them. */
#define BACKLOG 64

/* A user who sends or takes nothing for this long is dropped: a silent
 * client does not hold a thread for ever. */
#define IO_TIMEOUT_S 120

/* After our FIN, how long and how much we still read before close(). */
#define LINGER_TIMEOUT_S 2
#define LINGER_MAX	 (256 * 1024)

static const char usage[] =
	"Usage: fileserver [-h] [--port PORT] [--login-timeout SECONDS]\n"
	"                  --root DIR --users FILE\n"
	"\n"
	"Keeps files for the users of FILE in the folder DIR: a client logs\n"
	"in (three wrong tries close the connection), then lists, uploads\n"
	"(PUT), downloads (GET, also from an offset) and deletes files. An\n"
	"upload becomes visible only when it is complete and its SHA-256 is\n"
	"the one the client announced. One thread per client: at most 64\n"
	"logged in (one more gets ERR busy) and 16 not logged in yet (one\n"
	"more drops the oldest). Runs until killed; logs go to standard\n"
	"error.\n"
	"\n"
	"Options:\n"
	"  --port PORT   TCP port to listen on, on every IPv6 and IPv4\n"
	"                address, 1-65535 (default: 12003)\n"
	"  --root DIR    the folder of the files (created if missing)\n"
	"  --users FILE  the users: lines name:pbkdf2-sha256:iterations:\n"
	"                salt_hex:hash_hex\n"
	"  --login-timeout SECONDS\n"
	"                the time a connection has for its whole login,\n"
	"                1-3600 (default: 10)\n"
	"  -h, --help    print this help to standard output and exit\n"
	"\n"
	"A file name is 1 to 255 bytes without '/' or control characters,\n"
	"and does not start with '.'.\n"
	"\n"
	"Exit status:\n"
	"  0  help printed\n"
	"  1  the port, DIR or FILE could not be opened\n"
	"  2  bad usage\n";

/* The program's logger (see sl_log.h). */
struct sl_logger sl_prog_log;

/* The settings from the command line. */
struct options {
	uint16_t port;
	const char *root;
	const char *users;
	long login_timeout_s;
};

struct client;

/* What every thread shares. */
struct server {
	struct store store;	/* never changes after start */
	struct auth_table auth; /* never changes after start */
	long login_timeout_s;	/* never changes after start */
	pthread_mutex_t lock;	/* guards what follows, and client.dropped */
	pthread_cond_t pending_left;	     /* npending went down */
	struct client *pending[MAX_PENDING]; /* not logged in, oldest first */
	size_t npending;
	unsigned long users; /* logged in */
};

/* One client connection, owned by its thread. */
struct client {
	int fd;
	char addr[SL_ADDRSTRLEN];		     /* "ADDR:PORT" */
	char who[AUTH_NAME_MAX + 1 + SL_ADDRSTRLEN]; /* "name@ADDR:PORT" once
							logged in, for messages */
	struct server *srv;
	long long deadline_ms; /* of the login, on now_ms()'s clock */
	bool dropped;	       /* shut down by the main thread */
	bool logged_in;	       /* counted in users, no longer pending */
};

/* Returns the milliseconds of the monotonic clock (never set back). */
static long long now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t); /* cannot fail here */
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * The pending connections: not logged in yet, at most MAX_PENDING, oldest
 * first. A thread leaves the list when its user logs in or just before it
 * closes the socket, so the main thread may shut down (drop) any socket it
 * finds there while it holds the lock: shutdown() ends the thread's reads
 * (they return 0) and sends (they fail) at once, and the thread ends.
 */

/* Takes c out of the pending list and wakes the main thread if it waits
 * for a place. The caller holds the lock. */
static void leave_pending_locked(struct client *c)
{
	struct server *srv = c->srv;

	for (size_t i = 0; i < srv->npending; i++) {
		if (srv->pending[i] != c)
			continue;
		memmove(&srv->pending[i], &srv->pending[i + 1],
			(srv->npending - i - 1) * sizeof srv->pending[0]);
		srv->npending--;
		pthread_cond_signal(&srv->pending_left);
		return;
	}
}

/* Drops the pending connection c (see above), saying why; its thread
 * takes it out of the list. The caller holds the lock. */
static void drop_locked(struct client *c, const char *why)
{
	c->dropped = true;
	sl_log(&sl_prog_log, SL_INFO, "%s dropped: %s", c->addr, why);
	if (shutdown(c->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		sl_log(&sl_prog_log, SL_WARN, "shutdown connection of %s: %s",
		       c->addr, strerror(errno));
}

/* Drops the oldest pending connection that is not dropped yet, if any.
 * The caller holds the lock. */
static void drop_oldest_locked(struct server *srv)
{
	char why[64];

	(void)snprintf(why, sizeof why,
		       "the oldest of %d connections not logged in",
		       MAX_PENDING);
	for (size_t i = 0; i < srv->npending; i++)
		if (!srv->pending[i]->dropped) {
			drop_locked(srv->pending[i], why);
			return;
		}
}

/* Makes c the newest pending connection, with its login deadline. When
 * MAX_PENDING are pending, drops the oldest first and waits for its
 * thread to let go: a short wait (a password check at most), never the
 * silence of a client. */
static void add_pending(struct server *srv, struct client *c)
{
	pthread_mutex_lock(&srv->lock);
	if (srv->npending == MAX_PENDING)
		drop_oldest_locked(srv);
	while (srv->npending == MAX_PENDING)
		pthread_cond_wait(&srv->pending_left, &srv->lock);
	c->deadline_ms = now_ms() + srv->login_timeout_s * 1000;
	srv->pending[srv->npending++] = c;
	pthread_mutex_unlock(&srv->lock);
}

/* Drops each pending connection whose login deadline has passed; returns
 * the milliseconds until the next deadline, or -1 when there is none. */
static int drop_expired(struct server *srv)
{
	long long now = now_ms();
	int wait_ms = -1;
	char why[64];

	(void)snprintf(why, sizeof why, "not logged in within %ld s",
		       srv->login_timeout_s);
	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->npending; i++) {
		struct client *c = srv->pending[i];

		if (c->dropped)
			continue;
		if (c->deadline_ms > now) {
			/* The list is oldest first: this is the next one. */
			wait_ms = (int)(c->deadline_ms - now);
			break;
		}
		drop_locked(c, why);
	}
	pthread_mutex_unlock(&srv->lock);
	return wait_ms;
}

/* Sends "OK" with one more field (or none when text is NULL); logs a
 * failure; returns 0 or -1. */
static int send_ok(const struct client *c, const char *text)
{
	const char *f[] = {"OK", text};

	if (fx_send(c->fd, f, text != NULL ? 2 : 1) == 0)
		return 0;
	sl_log(&sl_prog_log, SL_WARN, "send OK to %s: %s", c->who,
	       strerror(errno));
	return -1;
}

/* Sends "ERR code text", logs it; returns 0 or -1. */
static int send_err(const struct client *c, const char *code, const char *text)
{
	const char *f[] = {"ERR", code, text};

	sl_log(&sl_prog_log, SL_INFO, "%s: ERR %s: %s", c->who, code, text);
	if (fx_send(c->fd, f, 3) == 0)
		return 0;
	sl_log(&sl_prog_log, SL_WARN, "send ERR to %s: %s", c->who,
	       strerror(errno));
	return -1;
}

/* Tells whether the main thread dropped c (see drop_locked()). */
static bool was_dropped(const struct client *c)
{
	bool dropped;

	pthread_mutex_lock(&c->srv->lock);
	dropped = c->dropped;
	pthread_mutex_unlock(&c->srv->lock);
	return dropped;
}

/* Logs why the stream of c ended early; st is not SL_FRAME_OK. */
static void log_frame_end(const struct client *c, enum sl_frame_status st)
{
	if (was_dropped(c))
		return; /* the end we caused, logged with its reason */
	if (st == SL_FRAME_EOF)
		sl_log(&sl_prog_log, SL_INFO, "%s left", c->who);
	else if (st == SL_FRAME_TRUNCATED)
		sl_log(&sl_prog_log, SL_WARN, "%s left inside a frame", c->who);
	else if (st == SL_FRAME_TOO_LARGE)
		sl_log(&sl_prog_log, SL_WARN, "%s sent a frame over %d bytes",
		       c->who, FX_PAYLOAD_MAX);
	else
		sl_log(&sl_prog_log, SL_WARN, "receive from %s: %s", c->who,
		       strerror(errno));
}

/* Sets the receive and send timeouts of c's socket to seconds. */
static void set_timeouts(const struct client *c, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		sl_log(&sl_prog_log, SL_WARN, "set the timeouts of %s: %s",
		       c->who, strerror(errno));
}

/* Tells whether m is "LOGIN user password" with a known user and the right
 * password; then names c after the user. */
static bool login_ok(struct client *c, const struct fx_msg *m)
{
	if (!fx_is(m, "LOGIN", 3) ||
	    !auth_check(&c->srv->auth, m->f[1], m->f[2]))
		return false;
	/* A known name has at most AUTH_NAME_MAX bytes. */
	(void)snprintf(c->who, sizeof c->who, "%.*s@%s", AUTH_NAME_MAX, m->f[1],
		       c->addr);
	return true;
}

/* Turns the pending connection c into a logged-in user and sends "OK
 * welcome"; or, when MAX_CLIENTS users are logged in (or the main thread
 * dropped c), refuses it. Returns 0 or -1 (the connection ends). */
static int welcome(struct client *c)
{
	struct server *srv = c->srv;
	bool dropped, full;

	pthread_mutex_lock(&srv->lock);
	dropped = c->dropped;
	full = srv->users == MAX_CLIENTS;
	if (!dropped && !full) {
		leave_pending_locked(c);
		c->logged_in = true;
		srv->users++;
	}
	pthread_mutex_unlock(&srv->lock);
	if (dropped)
		return -1; /* its socket is shut down: nobody to answer */
	if (full) {
		(void)send_err(c, "busy",
			       "as many users are logged in as the server "
			       "serves; try again later");
		return -1;
	}
	sl_log(&sl_prog_log, SL_INFO, "%s logged in", c->who);
	return send_ok(c, "welcome");
}

/* Reads LOGIN frames until one is right (0) or LOGIN_TRIES were wrong or
 * the client left (-1). */
static int log_in(struct client *c)
{
	struct fx_msg m;
	int tries = 0;

	/* TODO 5: Up to LOGIN_TRIES times: receive a frame with fx_recv() (log_frame_end() and return -1 unless SL_FRAME_OK); if login_ok(), return what welcome() returns (it sends "OK welcome", or "ERR busy" when the server is full); else count the try and send "ERR login <text>", the text saying how many tries are left. Then return -1. */
	(void)c;
	(void)m;
	(void)tries;
	(void)log_frame_end;
	(void)login_ok;
	(void)welcome;
	SL_TODO(5);
	return -1;
}

/* LIST: "OK count", then one "FILE size name" frame per file. */
static bool do_list(struct client *c)
{
	struct store_entry *files;
	size_t count;
	char num[FX_NUM_MAX];
	bool ok = true;

	if (store_list(&c->srv->store, &files, &count) < 0)
		return send_err(c, "io", strerror(errno)) == 0;
	fx_format_size(num, count);
	ok = send_ok(c, num) == 0;
	for (size_t i = 0; ok && i < count; i++) {
		const char *f[] = {"FILE", num, files[i].name};

		fx_format_size(num, files[i].size);
		ok = fx_send(c->fd, f, 3) == 0;
	}
	free(files);
	return ok;
}

/* Receives the HASH frame after an upload's bytes into hex; returns 0, or
 * -1 when the client left or sent something else (out of step). */
static int recv_hash(struct client *c, char hex[FX_HASH_HEX + 1])
{
	struct fx_msg m;
	enum sl_frame_status st = fx_recv(c->fd, &m);

	if (st != SL_FRAME_OK) {
		log_frame_end(c, st);
		return -1;
	}
	if (!fx_is(&m, "HASH", 2) || strlen(m.f[1]) != FX_HASH_HEX) {
		(void)send_err(c, "protocol",
			       "expected HASH and 64 hex digits "
			       "after the file's bytes");
		return -1;
	}
	memcpy(hex, m.f[1], FX_HASH_HEX + 1);
	return 0;
}

/* Receives size bytes and the HASH frame into u, then commits it when the
 * hashes match; returns false when the connection must end. */
static bool receive_upload(struct client *c, struct store_upload *u,
			   const char *name, uint64_t size)
{
	char err[SL_ERRLEN], got[FX_HASH_HEX + 1], announced[FX_HASH_HEX + 1];
	EVP_MD_CTX *md = xfer_hash_new();
	enum xfer_status st;

	if (md == NULL) {
		store_abort(u);
		return false;
	}
	/* TODO 6: Receive the bytes with xfer_recv() into u->fd and the HASH frame with recv_hash() (abort the upload and return false if either loses the client), finish md with xfer_hash_hex(); then abort with "ERR io" after a local write failure, abort with "ERR hash" when the two hashes differ, else store_commit() and answer "OK stored" (or "ERR io"). */
	(void)c;
	(void)name;
	(void)size;
	(void)err;
	(void)got;
	(void)announced;
	(void)st;
	(void)recv_hash;
	EVP_MD_CTX_free(md);
	store_abort(u);
	SL_TODO(6);
	return false;
}

/* PUT name size: "OK go", then the bytes and HASH; see receive_upload(). */
static bool do_put(struct client *c, const struct fx_msg *m)
{
	struct store_upload u;
	uint64_t size;

	if (!fx_name_ok(m->f[1]))
		return send_err(c, "name",
				"a file name is 1 to 255 bytes "
				"without '/' or control "
				"characters, not starting with "
				"'.'") == 0;
	if (fx_parse_size(m->f[2], &size) < 0)
		return send_err(c, "protocol", "bad size") == 0;
	if (store_begin(&c->srv->store, m->f[1], &u) < 0)
		return send_err(c, "io", strerror(errno)) == 0;
	if (send_ok(c, "go") < 0) {
		store_abort(&u);
		return false;
	}
	return receive_upload(c, &u, m->f[1], size);
}

/* Sends the file open as fd (size bytes in all) from offset on: "OK size",
 * the bytes, "HASH hex" of the whole file; returns false when the
 * connection must end. */
static bool send_download(struct client *c, int fd, uint64_t size,
			  uint64_t offset)
{
	char err[SL_ERRLEN], num[FX_NUM_MAX], hex[FX_HASH_HEX + 1];
	const char *hash_frame[] = {"HASH", hex};
	EVP_MD_CTX *md = xfer_hash_new();
	enum xfer_status st;

	if (md == NULL)
		return send_err(c, "io", "out of memory") == 0;
	fx_format_size(num, size);
	/* TODO 7: Send "OK <size>" (num); add the first offset bytes of fd to md with xfer_hash_file() and send the rest with xfer_send(); finish md into hex with xfer_hash_hex() and send the HASH frame. Any failure after "OK" ends the connection (return false, md freed). */
	(void)fd;
	(void)size;
	(void)offset;
	(void)err;
	(void)hash_frame;
	(void)st;
	EVP_MD_CTX_free(md);
	SL_TODO(7);
	return send_err(c, "io", "TODO 7 not done yet") == 0;
}

/* GET name offset: see send_download(). */
static bool do_get(struct client *c, const struct fx_msg *m)
{
	uint64_t size, offset;
	int fd;
	bool ok;

	if (!fx_name_ok(m->f[1]))
		return send_err(c, "name", "not a valid file name") == 0;
	if (fx_parse_size(m->f[2], &offset) < 0)
		return send_err(c, "protocol", "bad offset") == 0;
	/* One open file for the whole download: an upload that replaces the
	 * name meanwhile does not change what this client gets. */
	fd = store_open_file(&c->srv->store, m->f[1], &size);
	if (fd < 0)
		return send_err(c, errno == ENOENT ? "nofile" : "io",
				strerror(errno)) == 0;
	if (offset > size) {
		(void)close(fd);
		return send_err(c, "offset",
				"offset past the end of the file") == 0;
	}
	ok = send_download(c, fd, size, offset);
	(void)close(fd); /* read only: nothing to lose */
	if (ok)
		sl_log(&sl_prog_log, SL_INFO,
		       "%s: sent %s (%llu bytes from %llu)", c->who, m->f[1],
		       (unsigned long long)size, (unsigned long long)offset);
	return ok;
}

/* DEL name. */
static bool do_del(struct client *c, const struct fx_msg *m)
{
	if (!fx_name_ok(m->f[1]))
		return send_err(c, "name", "not a valid file name") == 0;
	if (store_delete(&c->srv->store, m->f[1]) < 0)
		return send_err(c, errno == ENOENT ? "nofile" : "io",
				strerror(errno)) == 0;
	sl_log(&sl_prog_log, SL_INFO, "%s: deleted %s", c->who, m->f[1]);
	return send_ok(c, "deleted") == 0;
}

/* Answers one command; returns false when the connection must end. */
static bool serve_command(struct client *c, const struct fx_msg *m)
{
	if (fx_is(m, "LIST", 1))
		return do_list(c);
	if (fx_is(m, "PUT", 3))
		return do_put(c, m);
	if (fx_is(m, "GET", 3))
		return do_get(c, m);
	if (fx_is(m, "DEL", 2))
		return do_del(c, m);
	return send_err(c, "protocol",
			"unknown command or wrong number of "
			"fields") == 0;
}

/* Answers commands until the client quits (returns true) or leaves or
 * must go (false). */
static bool serve_commands(struct client *c)
{
	struct fx_msg m;
	enum sl_frame_status st;

	while ((st = fx_recv(c->fd, &m)) == SL_FRAME_OK) {
		if (fx_is(&m, "QUIT", 1))
			return send_ok(c, "bye") == 0;
		if (!serve_command(c, &m))
			return false;
	}
	log_frame_end(c, st);
	if (st == SL_FRAME_TOO_LARGE)
		(void)send_err(c, "protocol", "frame too large");
	return false;
}

/*
 * Says goodbye before close(). After QUIT (client_first) the client closes
 * first, so that TIME_WAIT stays with it and not with a busy server: we
 * read until its FIN. Otherwise our FIN goes first. Either way we read and
 * drop what the client still sends (at most LINGER_MAX bytes,
 * LINGER_TIMEOUT_S per read): close() with unread bytes would send an RST,
 * and the client could lose our last answer.
 */
static void linger(struct client *c, bool client_first)
{
	char sink[4096];
	size_t drained = 0;

	if (!client_first && shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		sl_log(&sl_prog_log, SL_WARN, "shutdown connection of %s: %s",
		       c->who, strerror(errno));
	set_timeouts(c, LINGER_TIMEOUT_S);
	while (drained < LINGER_MAX) {
		ssize_t n = sl_read_some(c->fd, sink, sizeof sink);

		if (n <= 0)
			break;
		drained += (size_t)n;
	}
}

/* Takes c out of the server's counts: its user slot, or its place among
 * the pending connections. */
static void leave_server(struct client *c)
{
	struct server *srv = c->srv;

	pthread_mutex_lock(&srv->lock);
	if (c->logged_in)
		srv->users--;
	else
		leave_pending_locked(c);
	pthread_mutex_unlock(&srv->lock);
}

/* Ends c's connection (see linger()), takes it out of the counts, closes
 * its socket and frees c. */
static void end_client(struct client *c, bool client_first)
{
	linger(c, client_first);
	/* Out of the pending list first: then the main thread no longer
	 * shuts the socket down, and the number close() frees may go to a
	 * new connection at once. */
	leave_server(c);
	if (close(c->fd) < 0)
		sl_log(&sl_prog_log, SL_ERROR, "close connection of %s: %s",
		       c->who, strerror(errno));
	free(c);
}

/* The thread of one client: login, then its commands. */
static void *client_main(void *arg)
{
	struct client *c = arg;

	bool quit = false;

	set_timeouts(c, IO_TIMEOUT_S);
	if (log_in(c) == 0)
		quit = serve_commands(c);
	end_client(c, quit);
	return NULL;
}

/* Returns a new client for socket fd from peer, or NULL after logging. */
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
	if (sl_sockaddr_str((const struct sockaddr *)peer, c->addr,
			    sizeof c->addr) < 0)
		(void)snprintf(c->addr, sizeof c->addr, "(unknown address)");
	(void)snprintf(c->who, sizeof c->who, "%s", c->addr);
	return c;
}

/* Accepts the next connection, makes it pending (see add_pending()) and
 * starts its thread. */
static void accept_and_spawn(struct server *srv, int lfd)
{
	struct sockaddr_storage peer;
	char err[SL_ERRLEN];
	struct client *c;
	int fd, rc;

	fd = sl_accept(lfd, &peer, err, sizeof err);
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return;
	}
	c = new_client(srv, fd, &peer);
	if (c == NULL) {
		(void)close(fd);
		return;
	}
	add_pending(srv, c);
	/* TODO 8: Start client_main(c) in a thread of its own with sl_start_thread(); if that fails, log it and end the client with end_client(). */
	SL_TODO(8);
	(void)rc;
	(void)client_main(c); // serves one client at a time until then
}

/* Waits until lfd has a connection to accept; meanwhile drops each pending
 * connection whose login time is up. */
static void wait_for_connection(struct server *srv, int lfd)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	int rc;

	do
		rc = poll(&pfd, 1, drop_expired(srv));
	while (rc == 0 || (rc < 0 && errno == EINTR));
	if (rc < 0) /* accept() then waits without the deadlines */
		sl_log(&sl_prog_log, SL_ERROR, "wait for a connection: %s",
		       strerror(errno));
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longs[] = {
		{"port", required_argument, NULL, 'p'},
		{"root", required_argument, NULL, 'r'},
		{"users", required_argument, NULL, 'u'},
		{"login-timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
		if (opt == 'p' &&
		    sl_parse_port(optarg, &o->port, err, sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == 'r')
			o->root = optarg;
		if (opt == 'u')
			o->users = optarg;
		if (opt == 't' &&
		    sl_parse_long(optarg, "login timeout", 1,
				  LOGIN_TIMEOUT_MAX_S, &o->login_timeout_s, err,
				  sizeof err) < 0)
			return sl_usage_error(&sl_prog_log, usage, "%s", err);
		if (opt == ':' || opt == '?')
			return sl_usage_error(
				&sl_prog_log, usage,
				"unknown option or option without "
				"its value: %s",
				argv[optind - 1]);
	}
	if (optind < argc)
		return sl_usage_error(&sl_prog_log, usage,
				      "unexpected argument: %s", argv[optind]);
	if (o->root == NULL || o->users == NULL)
		return sl_usage_error(&sl_prog_log, usage,
				      "--root and --users are required");
	return 0;
}

/* Ignores the signals whose default action would end the whole server for
 * one client's sake; returns 0, or -1 after logging. */
static int ignore_signals(void)
{
	/* SIGPIPE: a send to a client that left (sl_send_all() asks for
	 * none, this covers the rest). SIGXFSZ: a file over the size limit;
	 * ignored, the write fails with EFBIG and only that upload fails. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGXFSZ, SIG_IGN) == SIG_ERR) {
		sl_log(&sl_prog_log, SL_ERROR, "ignore SIGPIPE and SIGXFSZ: %s",
		       strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {.port = DEFAULT_PORT,
			    .login_timeout_s = DEFAULT_LOGIN_TIMEOUT_S};
	struct server srv = {.npending = 0};
	char err[SL_ERRLEN];
	int lfd, status;

	sl_log_init(&sl_prog_log, "fileserver", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	if (ignore_signals() < 0)
		return SL_EXIT_FAILURE;
	if (auth_load(o.users, &srv.auth, err, sizeof err) < 0 ||
	    store_open(&srv.store, o.root, err, sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	lfd = sl_tcp_listen(NULL, o.port, BACKLOG, err, sizeof err);
	if (lfd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	srv.login_timeout_s = o.login_timeout_s;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.pending_left, NULL);
	sl_log(&sl_prog_log, SL_INFO, "serving %s for %zu users on port %u",
	       o.root, srv.auth.count, (unsigned)o.port);
	for (;;) {
		wait_for_connection(&srv, lfd);
		accept_and_spawn(&srv, lfd);
	}
}
