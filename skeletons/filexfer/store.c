/*
 * store - the server's files (store.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h" /* SL_TODO in the skeleton */

/* Temporary files start with this; fx_name_ok() refuses a leading '.'. */
#define TMP_PREFIX ".part-"

/* Writes "ROOT/name" into buf; returns 0, or -1 with errno ENAMETOOLONG. */
static int path_of(const struct store *s, const char *name, char *buf,
		   size_t len)
{
	int n = snprintf(buf, len, "%s/%s", s->root, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Removes the temporary files of an earlier run (a crash mid-upload). */
static void remove_leftovers(const struct store *s, DIR *d)
{
	struct dirent *e;
	char path[STORE_PATH_MAX];

	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    path_of(s, e->d_name, path, sizeof path) < 0)
			continue;
		if (unlink(path) < 0)
			sl_log(&sl_prog_log, SL_WARN, "remove leftover %s: %s",
			       path, strerror(errno));
		else
			sl_log(&sl_prog_log, SL_INFO, "removed leftover %s",
			       path);
	}
}

int store_open(struct store *s, const char *root, char *err, size_t errlen)
{
	DIR *d;

	s->root = root;
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		(void)snprintf(err, errlen, "create root %s: %s", root,
			       strerror(errno));
		return -1;
	}
	d = opendir(root);
	if (d == NULL) {
		(void)snprintf(err, errlen, "open root %s: %s", root,
			       strerror(errno));
		return -1;
	}
	remove_leftovers(s, d);
	(void)closedir(d); /* read only: nothing to lose */
	return 0;
}

int store_begin(const struct store *s, const char *name, struct store_upload *u)
{
	u->fd = -1;
	if (path_of(s, name, u->final, sizeof u->final) < 0 ||
	    path_of(s, TMP_PREFIX "XXXXXX", u->tmp, sizeof u->tmp) < 0)
		return -1;
	u->fd = mkstemp(u->tmp); /* a new file no other upload has */
	return u->fd < 0 ? -1 : 0;
}

int store_commit(struct store_upload *u)
{
	int rc = 0;

	/* TODO 10: Close the temporary file, then rename() it to u->final: the one step that makes the upload visible. If either fails, remove the temporary file, keep errno and return -1. */
	(void)close(u->fd);
	(void)unlink(u->tmp);
	SL_TODO(10);
	errno = ENOSYS;
	rc = -1;
	u->fd = -1;
	return rc;
}

void store_abort(struct store_upload *u)
{
	if (u->fd < 0)
		return;
	(void)close(u->fd);
	(void)unlink(u->tmp);
	u->fd = -1;
}

int store_open_file(const struct store *s, const char *name, uint64_t *size)
{
	char path[STORE_PATH_MAX];
	struct stat st;
	int fd;

	if (path_of(s, name, path, sizeof path) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW); /* no link out of the root */
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int saved = errno;

		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = ENOENT; /* a folder or a device: no file of ours */
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int store_delete(const struct store *s, const char *name)
{
	char path[STORE_PATH_MAX];

	if (path_of(s, name, path, sizeof path) < 0)
		return -1;
	return unlink(path);
}

/* Orders entries by name, byte by byte. */
static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->name,
		      ((const struct store_entry *)b)->name);
}

/* Adds the regular file name (no temporary file) to *out; returns 0, or -1
 * with errno set (out of memory). */
static int add_entry(const struct store *s, const char *name,
		     struct store_entry **out, size_t *count)
{
	char path[STORE_PATH_MAX];
	struct store_entry *bigger;
	struct stat st;

	if (!fx_name_ok(name) || path_of(s, name, path, sizeof path) < 0 ||
	    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* not one of ours, or gone meanwhile */
	bigger = realloc(*out, (*count + 1) * sizeof **out);
	if (bigger == NULL)
		return -1;
	*out = bigger;
	(void)snprintf(bigger[*count].name, sizeof bigger[*count].name, "%s",
		       name);
	bigger[*count].size = (uint64_t)st.st_size;
	(*count)++;
	return 0;
}

int store_list(const struct store *s, struct store_entry **out, size_t *count)
{
	DIR *d = opendir(s->root);
	struct dirent *e;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (d == NULL)
		return -1;
	for (;;) {
		errno = 0; /* readdir() returns NULL at the end and on errors */
		e = readdir(d);
		if (e == NULL) {
			rc = errno != 0 ? -1 : 0;
			break;
		}
		if (add_entry(s, e->d_name, out, count) < 0) {
			rc = -1;
			break;
		}
	}
	(void)closedir(d);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
		return -1;
	}
	if (*count > 1) /* qsort() must not get NULL, even for 0 entries */
		qsort(*out, *count, sizeof **out, by_name);
	return 0;
}
