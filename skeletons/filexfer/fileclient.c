/*
 * fileclient - the client of fileserver: list, upload, download, delete.
 *
 * Logs in, then runs commands typed one per line (interactive mode) or the
 * one command given on its command line (one-shot mode, for scripts):
 *
 *	ls            list the server's files with their sizes
 *	put FILE      upload FILE under its last path component
 *	get NAME      download NAME into the current folder
 *	rm NAME       delete NAME on the server
 *	quit          leave (so does the end of input)
 *
 * A download goes into "NAME.part" and takes its name only when complete
 * and its SHA-256 checked. A "get" that was cut leaves NAME.part behind:
 * the next "get NAME" asks only for the bytes from where it stopped.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "fxwire.h"
#include "sl_args.h"
#include "sl_line.h"
#include "sl_log.h"
#include "sl_net.h"
#include "xfer.h"

/* Longest command line typed, and longest password. */
#define LINE_MAX_BYTES 4096
#define PASSWORD_MAX   128

/* Transfers at least this big get a progress line on a terminal. */
#define PROGRESS_MIN (1024 * 1024)

static const char usage[] =
	"Usage: fileclient [-h] --host HOST --port PORT --user NAME\n"
	"                  [--password-file FILE] [COMMAND [ARGUMENT]]\n"
	"\n"
	"Client of fileserver. Logs in as NAME, then runs COMMAND and quits\n"
	"(one-shot mode), or else runs the commands typed one per line:\n"
	"\n"
	"  ls         list the files on the server: \"SIZE NAME\" lines\n"
	"  put FILE   upload FILE, under its last path component\n"
	"  get NAME   download NAME into the current folder; a download that\n"
	"             was cut resumes from where it stopped (NAME.part)\n"
	"  rm NAME    delete NAME on the server\n"
	"  quit       leave (so does the end of input)\n"
	"\n"
	"The password is read from FILE's first line, or else from the first\n"
	"line of standard input (typed without echo on a terminal).\n"
	"\n"
	"Options:\n"
	"  --host HOST           server name or address, IPv4 or IPv6\n"
	"  --port PORT           server TCP port, 1-65535 (servers use 12003)\n"
	"  --user NAME           user name\n"
	"  --password-file FILE  read the password from FILE (for scripts)\n"
	"  -h, --help            print this help to standard output and exit\n"
	"\n"
	"Results go to standard output, errors and logs to standard error; on\n"
	"a terminal, long transfers show a progress line.\n"
	"\n"
	"Exit status:\n"
	"  0  every command worked\n"
	"  1  a command failed, the login was refused, or the connection\n"
	"     was lost\n"
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
	char *const *command;	   /* one-shot command and argument, or NULL */
	int command_words;
};

/* What a command came to. */
enum outcome {
	DONE,	/* it worked */
	FAILED, /* it failed; the connection is still fine */
	LOST,	/* the connection is unusable */
};

/* The progress line of one transfer. */
struct progress {
	const char *verb; /* "put" or "get" */
	const char *name;
	int shown; /* last percentage printed, -1 for none */
};

/* Prints the progress line when the percentage changed (xfer_progress). */
static void show_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int percent = (int)(done * 100 / total);

	if (percent == p->shown)
		return;
	p->shown = percent;
	/* '\r' goes back to the start of the line: it is redrawn in place. */
	fprintf(stderr, "\r%s %s: %3d%% (%llu of %llu KiB)", p->verb, p->name,
		percent, (unsigned long long)(done / 1024),
		(unsigned long long)(total / 1024));
}

/* The progress reporting for a transfer of total bytes: a line on a
 * terminal for long transfers, nothing otherwise. */
static struct xfer_progress progress_for(struct progress *p, uint64_t total)
{
	struct xfer_progress x = {.fn = NULL, .arg = p};

	p->shown = -1;
	if (total >= PROGRESS_MIN && isatty(STDERR_FILENO))
		x.fn = show_progress;
	return x;
}

/* Ends the progress line, if one was drawn. */
static void end_progress(const struct progress *p)
{
	if (p->shown >= 0)
		fputc('\n', stderr);
}

/* Receives the answer to a command: DONE for OK (the frame in m), FAILED
 * for ERR (logged), LOST when the connection failed or the answer makes
 * no sense. */
static enum outcome answer(int fd, const char *what, struct fx_msg *m)
{
	enum sl_frame_status st = fx_recv(fd, m);

	if (st != SL_FRAME_OK) {
		sl_log(&sl_prog_log, SL_ERROR, "%s: %s", what,
		       st == SL_FRAME_ERROR
			       ? strerror(errno)
			       : "the server closed the connection");
		return LOST;
	}
	if (m->nfields >= 1 && strcmp(m->f[0], "OK") == 0)
		return DONE;
	if (fx_is(m, "ERR", 3)) {
		sl_log(&sl_prog_log, SL_ERROR, "%s: refused (%s): %s", what,
		       m->f[1], m->f[2]);
		return FAILED;
	}
	sl_log(&sl_prog_log, SL_ERROR, "%s: unexpected answer %s", what,
	       m->nfields >= 1 ? m->f[0] : "(bad frame)");
	return LOST;
}

/* Sends a command of n fields; LOST (logged) when that fails. */
static enum outcome send_command(int fd, const char *what, const char *const *f,
				 size_t n)
{
	if (fx_send(fd, f, n) == 0)
		return DONE;
	sl_log(&sl_prog_log, SL_ERROR, "%s: send: %s", what, strerror(errno));
	return LOST;
}

/* Logs in as user; returns 0, or -1 after logging why not. */
static int log_in(int fd, const char *user, const char *password)
{
	const char *f[] = {"LOGIN", user, password};
	struct fx_msg m;

	/* TODO 2: Send the LOGIN frame f with send_command() and read the answer with answer(); return 0 when it is DONE, -1 otherwise. */
	(void)fd;
	(void)f;
	(void)m;
	SL_TODO(2);
	return -1;
}

/* ls: one "SIZE NAME" line per file. */
static enum outcome cmd_ls(int fd)
{
	const char *f[] = {"LIST"};
	struct fx_msg m;
	enum outcome o = send_command(fd, "ls", f, 1);
	uint64_t count;

	if (o == DONE)
		o = answer(fd, "ls", &m);
	if (o != DONE)
		return o;
	if (m.nfields != 2 || fx_parse_size(m.f[1], &count) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "ls: bad answer");
		return LOST;
	}
	for (uint64_t i = 0; i < count; i++) {
		if (fx_recv(fd, &m) != SL_FRAME_OK || !fx_is(&m, "FILE", 3)) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "ls: bad or missing FILE");
			return LOST;
		}
		printf("%s %s\n", m.f[1], m.f[2]);
	}
	return DONE;
}

/* Returns the last path component of path ("a/b/c.txt" -> "c.txt"). */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Opens path for reading, its size in *size; returns the fd, or -1 after
 * logging why not. */
static int open_upload(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "put %s: %s", path,
		       strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		sl_log(&sl_prog_log, SL_ERROR, "put %s: not a regular file",
		       path);
		(void)close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Sends the bytes of file (size of them) and the HASH frame, then reads
 * the answer. */
static enum outcome send_upload(int fd, int file, const char *name,
				uint64_t size)
{
	char err[SL_ERRLEN], hex[FX_HASH_HEX + 1];
	const char *hash_frame[] = {"HASH", hex};
	struct progress p = {.verb = "put", .name = name};
	struct xfer_progress xp = progress_for(&p, size);
	EVP_MD_CTX *md = xfer_hash_new();
	enum xfer_status st;
	struct fx_msg m;

	if (md == NULL)
		return LOST;
	/* TODO 3: Send the size bytes of file with xfer_send() (its hash into md, progress xp), end the progress line, finish md into hex with xfer_hash_hex() and send the HASH frame; any failure loses the connection (LOST, logged). Then return the answer(). */
	(void)fd;
	(void)file;
	(void)err;
	(void)hash_frame;
	(void)xp;
	(void)st;
	(void)m;
	EVP_MD_CTX_free(md);
	SL_TODO(3);
	return LOST;
}

/* put FILE: "PUT name size", "OK go", the bytes, HASH, "OK stored". */
static enum outcome cmd_put(int fd, const char *path)
{
	const char *name = base_name(path);
	char num[FX_NUM_MAX];
	const char *f[] = {"PUT", name, num};
	struct fx_msg m;
	enum outcome o;
	uint64_t size;
	int file;

	if (!fx_name_ok(name)) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "put %s: the server cannot keep "
		       "a file named '%s'",
		       path, name);
		return FAILED;
	}
	file = open_upload(path, &size);
	if (file < 0)
		return FAILED;
	fx_format_size(num, size);
	o = send_command(fd, "put", f, 3);
	if (o == DONE)
		o = answer(fd, "put", &m);
	if (o == DONE)
		o = send_upload(fd, file, name, size);
	(void)close(file); /* read only: nothing to lose */
	if (o == DONE)
		printf("stored %s (%llu bytes)\n", name,
		       (unsigned long long)size);
	return o;
}

/* Opens "NAME.part" (created if missing) and adds what it holds to md;
 * returns its fd with the size in *offset, or -1 after logging. */
static int open_part(const char *part, EVP_MD_CTX *md, uint64_t *offset)
{
	char err[SL_ERRLEN];
	struct stat st;
	int fd = open(part, O_RDWR | O_CREAT, 0644);

	if (fd < 0 || fstat(fd, &st) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "get: open %s: %s", part,
		       strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	*offset = (uint64_t)st.st_size;
	/* Reading the part leaves the file offset at its end: the rest
	 * will be written after it. */
	if (xfer_hash_file(fd, *offset, md, err, sizeof err) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "get: %s: %s", part, err);
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Receives the rest of the file (size in all, offset of it in part
 * already) into part and checks the HASH frame; DONE when both hashes
 * match. On LOST part is kept, so that the next get resumes. */
static enum outcome receive_download(int fd, int part, const char *name,
				     uint64_t size, uint64_t offset,
				     EVP_MD_CTX *md)
{
	char err[SL_ERRLEN], got[FX_HASH_HEX + 1];
	struct progress p = {.verb = "get", .name = name};
	struct xfer_progress xp = progress_for(&p, size - offset);
	enum xfer_status st;
	struct fx_msg m;

	/* TODO 4: Receive size - offset bytes into part with xfer_recv() (md, xp), end the progress line; XFER_PEER loses the connection (log it, free md, LOST). Then receive the "HASH hex" frame with fx_recv() (LOST if it is not one), finish md into got; FAILED after a local write error or when got differs from the announced hex, else DONE. */
	(void)fd;
	(void)end_progress;
	(void)part;
	(void)size;
	(void)offset;
	(void)err;
	(void)got;
	(void)xp;
	(void)st;
	(void)m;
	EVP_MD_CTX_free(md);
	SL_TODO(4);
	return LOST;
}

/* Asks for name from offset: "GET name offset", then "OK size"; DONE with
 * the size in *size. */
static enum outcome ask_download(int fd, const char *name, uint64_t offset,
				 uint64_t *size)
{
	char num[FX_NUM_MAX];
	const char *f[] = {"GET", name, num};
	struct fx_msg m;
	enum outcome o;

	fx_format_size(num, offset);
	o = send_command(fd, "get", f, 3);
	if (o == DONE)
		o = answer(fd, "get", &m);
	if (o == DONE && (m.nfields != 2 || fx_parse_size(m.f[1], size) < 0 ||
			  *size < offset)) {
		sl_log(&sl_prog_log, SL_ERROR, "get %s: bad answer", name);
		o = LOST;
	}
	return o;
}

/* Gives part its final name, or drops it when the download failed. */
static enum outcome finish_part(int part, const char *part_path,
				const char *name, enum outcome o)
{
	if (close(part) < 0 && o == DONE) {
		sl_log(&sl_prog_log, SL_ERROR, "get %s: close %s: %s", name,
		       part_path, strerror(errno));
		o = FAILED;
	}
	if (o == DONE && rename(part_path, name) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "get %s: rename %s: %s", name,
		       part_path, strerror(errno));
		o = FAILED;
	}
	if (o == FAILED)
		(void)unlink(part_path); /* a bad part: start over next time */
	return o;
}

/* get NAME: into NAME.part, renamed to NAME once complete and checked. */
static enum outcome cmd_get(int fd, const char *name)
{
	char part_path[FX_NAME_MAX + sizeof ".part"];
	EVP_MD_CTX *md;
	uint64_t offset, size;
	enum outcome o;
	int part;

	if (!fx_name_ok(name)) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "get: '%s' is not a valid file "
		       "name",
		       name);
		return FAILED;
	}
	(void)snprintf(part_path, sizeof part_path, "%s.part", name);
	md = xfer_hash_new();
	if (md == NULL)
		return LOST;
	part = open_part(part_path, md, &offset);
	if (part < 0) {
		EVP_MD_CTX_free(md);
		return FAILED;
	}
	o = ask_download(fd, name, offset, &size);
	if (o == DONE)
		o = receive_download(fd, part, name, size, offset, md);
	else
		EVP_MD_CTX_free(md);
	if (o == FAILED && offset == 0)
		(void)unlink(part_path); /* nothing came: leave no trace */
	o = finish_part(part, part_path, name, o);
	if (o == DONE)
		printf("got %s (%llu bytes%s)\n", name,
		       (unsigned long long)size, offset > 0 ? ", resumed" : "");
	return o;
}

/* rm NAME: "DEL name", "OK deleted". */
static enum outcome cmd_rm(int fd, const char *name)
{
	const char *f[] = {"DEL", name};
	struct fx_msg m;
	enum outcome o = send_command(fd, "rm", f, 2);

	if (o == DONE)
		o = answer(fd, "rm", &m);
	if (o == DONE)
		printf("deleted %s\n", name);
	return o;
}

/* Runs one command word with its argument (NULL when none was given). */
static enum outcome run_command(int fd, const char *word, const char *arg)
{
	bool needs_arg = strcmp(word, "put") == 0 || strcmp(word, "get") == 0 ||
			 strcmp(word, "rm") == 0;

	if (needs_arg && (arg == NULL || *arg == '\0')) {
		sl_log(&sl_prog_log, SL_ERROR, "%s: needs a file name", word);
		return FAILED;
	}
	if (strcmp(word, "ls") == 0)
		return cmd_ls(fd);
	if (strcmp(word, "put") == 0)
		return cmd_put(fd, arg);
	if (strcmp(word, "get") == 0)
		return cmd_get(fd, arg);
	if (strcmp(word, "rm") == 0)
		return cmd_rm(fd, arg);
	sl_log(&sl_prog_log, SL_ERROR,
	       "unknown command '%s' (ls, put FILE, get NAME, rm NAME, quit)",
	       word);
	return FAILED;
}

/* Says goodbye: QUIT, its answer, then close(): our FIN goes first, and
 * nothing is left unread, so no reset. Returns 0, or -1 after logging. */
static int quit(int fd)
{
	const char *f[] = {"QUIT"};
	struct fx_msg m;
	int rc = 0;

	if (send_command(fd, "quit", f, 1) != DONE ||
	    answer(fd, "quit", &m) != DONE)
		rc = -1;
	if (close(fd) < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "close: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

/* Splits a typed line into its command word and the rest (the argument,
 * which may hold spaces), in place. */
static void split_line(char *line, char **word, char **arg)
{
	char *space;

	*word = line + strspn(line, " \t");
	space = strpbrk(*word, " \t");
	*arg = NULL;
	if (space != NULL) {
		*space = '\0';
		*arg = space + 1 + strspn(space + 1, " \t");
	}
}

/* Runs the commands typed on standard input until "quit" or its end;
 * returns the exit status. */
static int interactive(int fd, struct sl_reader *in)
{
	char line[LINE_MAX_BYTES];
	bool prompt = isatty(STDIN_FILENO) != 0;
	bool all_ok = true;
	size_t len;

	for (;;) {
		char *word, *arg;
		enum sl_line_status st;
		enum outcome o;

		if (prompt) {
			fputs("fileclient> ", stdout);
			(void)fflush(stdout);
		}
		st = sl_reader_line(in, line, sizeof line, &len,
				    SL_LINE_STRIP_CR);
		if (st == SL_LINE_TOO_LONG) {
			sl_log(&sl_prog_log, SL_ERROR,
			       "line too long: skipped");
			all_ok = false;
			if (sl_reader_skip_line(in) != SL_LINE_OK)
				break;
			continue;
		}
		if (st != SL_LINE_OK && st != SL_LINE_UNTERMINATED)
			break; /* end of input: leave as with "quit" */
		split_line(line, &word, &arg);
		if (*word == '\0')
			continue;
		if (strcmp(word, "quit") == 0)
			break;
		o = run_command(fd, word, arg);
		(void)fflush(stdout);
		if (o == LOST)
			return SL_EXIT_FAILURE;
		all_ok = all_ok && o == DONE;
	}
	return quit(fd) == 0 && all_ok ? SL_EXIT_OK : SL_EXIT_FAILURE;
}

/* Reads one line from in (echo off when it is a terminal) into buf;
 * returns 0, or -1 after logging. */
static int read_password_line(struct sl_reader *in, char *buf, size_t size)
{
	struct termios saved, quiet;
	bool tty = isatty(in->fd) != 0 && tcgetattr(in->fd, &saved) == 0;
	enum sl_line_status st;
	size_t len;

	if (tty) {
		fputs("password: ", stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(in->fd, TCSAFLUSH, &quiet);
	}
	st = sl_reader_line(in, buf, size, &len, SL_LINE_STRIP_CR);
	if (tty) {
		(void)tcsetattr(in->fd, TCSAFLUSH, &saved);
		fputc('\n', stderr); /* the Enter key was not echoed */
	}
	if ((st != SL_LINE_OK && st != SL_LINE_UNTERMINATED) || len == 0) {
		sl_log(&sl_prog_log, SL_ERROR,
		       "no password: expected it on the "
		       "first line (1 to %d bytes)",
		       PASSWORD_MAX);
		return -1;
	}
	return 0;
}

/* Reads the password from the file named in o, or else from in; returns 0,
 * or -1 after logging. */
static int read_password(const struct options *o, struct sl_reader *in,
			 char *buf, size_t size)
{
	struct sl_reader file;
	int fd, rc;

	if (o->password_file == NULL)
		return read_password_line(in, buf, size);
	fd = open(o->password_file, O_RDONLY);
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "open %s: %s", o->password_file,
		       strerror(errno));
		return -1;
	}
	sl_reader_init(&file, fd);
	rc = read_password_line(&file, buf, size);
	(void)close(fd); /* read only: nothing to lose */
	return rc;
}

/* Reads the command line into o; returns 0, or the exit status of bad
 * usage (after reporting it). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longs[] = {
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},
		{"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	char err[SL_ERRLEN];
	int opt;

	opterr = 0; /* we report bad options ourselves */
	while ((opt = getopt_long(argc, argv, "+:", longs, NULL)) != -1) {
		if (opt == 'H')
			o->host = optarg;
		if (opt == 'p') {
			if (sl_parse_port(optarg, &o->port, err, sizeof err) <
			    0)
				return sl_usage_error(&sl_prog_log, usage, "%s",
						      err);
			o->port_set = true;
		}
		if (opt == 'u')
			o->user = optarg;
		if (opt == 'f')
			o->password_file = optarg;
		if (opt == ':' || opt == '?')
			return sl_usage_error(
				&sl_prog_log, usage,
				"unknown option or option without "
				"its value: %s",
				argv[optind - 1]);
	}
	if (o->host == NULL || !o->port_set || o->user == NULL)
		return sl_usage_error(&sl_prog_log, usage,
				      "--host, --port and --user are required");
	if (argc - optind > 2)
		return sl_usage_error(&sl_prog_log, usage,
				      "one command and at most one argument, "
				      "got %d words",
				      argc - optind);
	o->command = optind < argc ? argv + optind : NULL;
	o->command_words = argc - optind;
	return 0;
}

/* Connects, logs in and runs the command(s); returns the exit status. */
static int run(const struct options *o)
{
	char password[PASSWORD_MAX + 1], err[SL_ERRLEN];
	struct sl_reader in;
	enum outcome out;
	int fd;

	sl_reader_init(&in, STDIN_FILENO);
	if (read_password(o, &in, password, sizeof password) < 0)
		return SL_EXIT_FAILURE;
	fd = sl_tcp_connect(o->host, o->port, err, sizeof err);
	if (fd < 0) {
		sl_log(&sl_prog_log, SL_ERROR, "%s", err);
		return SL_EXIT_FAILURE;
	}
	if (log_in(fd, o->user, password) < 0) {
		(void)close(fd);
		return SL_EXIT_FAILURE;
	}
	if (o->command == NULL)
		return interactive(fd, &in);
	out = run_command(fd, o->command[0],
			  o->command_words > 1 ? o->command[1] : NULL);
	(void)fflush(stdout);
	if (out == LOST) {
		(void)close(fd);
		return SL_EXIT_FAILURE;
	}
	return quit(fd) == 0 && out == DONE ? SL_EXIT_OK : SL_EXIT_FAILURE;
}

int main(int argc, char *argv[])
{
	struct options o = {.host = NULL};
	int status;

	sl_log_init(&sl_prog_log, "fileclient", SL_INFO);
	if (sl_help_requested(argc, argv)) {
		fputs(usage, stdout);
		return SL_EXIT_OK;
	}
	status = parse_options(argc, argv, &o);
	if (status != 0)
		return status;
	return run(&o);
}
