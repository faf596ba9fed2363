/*
 * secret - read a password: typed on a terminal without echo, or from the
 * first line of a file (for scripts).
 *
 * A terminal normally echoes what is typed. termios(3) lets a program turn
 * the ECHO flag off while the password is typed, and back on afterwards;
 * the Enter key is then not echoed either, so we print the line end
 * ourselves.
 */
#ifndef SECRET_H
#define SECRET_H

#include <stddef.h>

#include "sl_line.h"

/*
 * Reads one line from in into buf (at most size - 1 bytes and a NUL), its
 * length in *len. When in's fd is a terminal, first writes prompt to
 * standard error and turns echo off until the line is read. Returns 0, or
 * -1 with err set (end of input, a read error, a line too long).
 */
int secret_read(struct sl_reader *in, const char *prompt, char *buf,
		size_t size, size_t *len, char *err, size_t errlen);

/* Reads the first line of the file at path into buf like secret_read();
 * returns 0, or -1 with err set. */
int secret_read_file(const char *path, char *buf, size_t size, size_t *len,
		     char *err, size_t errlen);

#endif
