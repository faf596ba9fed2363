/*
 * store - the server's files: one folder (the root), one file per name.
 *
 * Names are checked with fx_name_ok() before they get here, so "ROOT/name"
 * is always inside the root. An upload goes into a new temporary file
 * "ROOT/.part-XXXXXX" (a leading '.': no client name can reach it, and
 * LIST skips it) and gets its name with rename() only once it is complete
 * and checked. rename() replaces the name in one step: a reader sees the
 * old file or the new one, never a mix, and of two uploads of one name the
 * last one renamed wins. A server that dies mid-upload leaves only a
 * temporary file, which the next start removes.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "fxwire.h"

/* Room for "ROOT/name" and "ROOT/.part-XXXXXX". */
#define STORE_PATH_MAX 4096

/* The root folder. */
struct store {
	const char *root;
};

/* An upload in progress. */
struct store_upload {
	int fd;			    /* the temporary file, open for writing */
	char tmp[STORE_PATH_MAX];   /* its path */
	char final[STORE_PATH_MAX]; /* the path it gets when committed */
};

/* One file of a listing. */
struct store_entry {
	char name[FX_NAME_MAX + 1];
	uint64_t size;
};

/* Opens the root (created if missing) and removes the temporary files a
 * previous run left; returns 0, or -1 with err set. */
int store_open(struct store *s, const char *root, char *err, size_t errlen);

/* Starts the upload of name into a new temporary file; returns 0, or -1
 * with errno set. */
int store_begin(const struct store *s, const char *name,
		struct store_upload *u);

/* Makes a complete upload visible under its name; returns 0, or -1 with
 * errno set (the temporary file is removed either way). */
int store_commit(struct store_upload *u);

/* Drops an upload: the temporary file is closed and removed. */
void store_abort(struct store_upload *u);

/* Opens the file name for reading, its size in *size; returns the fd, or
 * -1 with errno set (ENOENT: no such file). */
int store_open_file(const struct store *s, const char *name, uint64_t *size);

/* Removes the file name; returns 0, or -1 with errno set. */
int store_delete(const struct store *s, const char *name);

/* Lists the files (temporary ones left out) sorted by name into a new
 * array *out of *count entries, which the caller frees; returns 0, or -1
 * with errno set. */
int store_list(const struct store *s, struct store_entry **out, size_t *count);

#endif
