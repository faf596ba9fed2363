/*
 * secret - read a password without echo (see secret.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from in into buf; returns 0, or -1 with err set. */
static int read_line(struct sl_reader *in, const char *what, char *buf,
		     size_t size, size_t *len, char *err, size_t errlen)
{
	switch (sl_reader_line(in, buf, size, len, SL_LINE_STRIP_CR)) {
	case SL_LINE_OK:
	case SL_LINE_UNTERMINATED:
		return 0;
	case SL_LINE_EOF:
		(void)snprintf(err, errlen, "%s: no password (empty input)",
			       what);
		return -1;
	case SL_LINE_TOO_LONG:
		(void)snprintf(err, errlen, "%s: password longer than %zu bytes",
			       what, size - 1);
		return -1;
	case SL_LINE_ERROR:
		break;
	}
	(void)snprintf(err, errlen, "read %s: %s", what, strerror(errno));
	return -1;
}

/* Turns the terminal's echo off, keeping the old settings in *saved;
 * returns 0, or -1 with errno set. */
static int echo_off(int fd, struct termios *saved)
{
	struct termios quiet;

	if (tcgetattr(fd, saved) < 0)
		return -1;
	quiet = *saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	/* TCSAFLUSH drops what was typed before the prompt: it was echoed. */
	return tcsetattr(fd, TCSAFLUSH, &quiet);
}

int secret_read(struct sl_reader *in, const char *prompt, char *buf,
		size_t size, size_t *len, char *err, size_t errlen)
{
	struct termios saved;
	bool tty = isatty(in->fd) == 1;
	int rc;

	if (!tty)
		return read_line(in, "password from standard input", buf, size,
				 len, err, errlen);
	if (echo_off(in->fd, &saved) < 0) {
		(void)snprintf(err, errlen, "turn terminal echo off: %s",
			       strerror(errno));
		return -1;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	rc = read_line(in, "password from the terminal", buf, size, len, err,
		       errlen);
	/* Echo back on whatever happened: a terminal left silent is a
	 * terminal the user cannot use any more. */
	if (tcsetattr(in->fd, TCSANOW, &saved) < 0 && rc == 0) {
		(void)snprintf(err, errlen, "turn terminal echo on: %s",
			       strerror(errno));
		rc = -1;
	}
	fputs("\n", stderr); /* the Enter key was not echoed */
	return rc;
}

int secret_read_file(const char *path, char *buf, size_t size, size_t *len,
		     char *err, size_t errlen)
{
	struct sl_reader rd;
	int fd = open(path, O_RDONLY);
	int rc;

	if (fd < 0) {
		(void)snprintf(err, errlen, "open password file %s: %s", path,
			       strerror(errno));
		return -1;
	}
	sl_reader_init(&rd, fd);
	rc = read_line(&rd, path, buf, size, len, err, errlen);
	(void)close(fd); /* read only: nothing to lose */
	return rc;
}
