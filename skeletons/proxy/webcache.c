/*
 * webcache - the proxy's cache of responses, one file per URL (see
 * webcache.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "webcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h"

/* Tells whether byte b may stand for itself in a file name. */
static bool plain_byte(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b >= '0' && b <= '9') || b == '.' || b == '-' || b == '_';
}

/* Writes "dir/<key escaped>" into buf (len bytes); returns 0, or -1 with
 * errno ENAMETOOLONG when the path or the file name would be too long. */
static int key_path(const struct webcache *c, const char *key, char *buf,
		    size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(buf, len, "%s/", c->dir);
	size_t used, name_start;

	if (n < 0 || (size_t)n >= len)
		goto too_long;
	used = name_start = (size_t)n;
	for (; *key != '\0'; key++) {
		unsigned char b = (unsigned char)*key;
		size_t need = plain_byte(b) ? 1 : 3;

		if (used + need >= len || used + need - name_start > NAME_MAX)
			goto too_long;
		if (need == 1) {
			buf[used++] = (char)b;
			continue;
		}
		buf[used++] = '%';
		buf[used++] = hex[b >> 4];
		buf[used++] = hex[b & 0xf];
	}
	buf[used] = '\0';
	return 0;
too_long:
	errno = ENAMETOOLONG;
	return -1;
}

int webcache_init(struct webcache *c, const char *dir, char *err, size_t errlen)
{
	struct stat st;

	c->dir = dir;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		(void)snprintf(err, errlen, "create cache folder %s: %s", dir,
			       strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		(void)snprintf(err, errlen, "cache folder %s: %s", dir,
			       errno != 0 ? strerror(errno) : "not a folder");
		return -1;
	}
	return 0;
}

int webcache_open(const struct webcache *c, const char *key)
{
	char path[PATH_MAX];

	if (key_path(c, key, path, sizeof path) < 0)
		return -1;
	return open(path, O_RDONLY);
}

int webcache_begin(const struct webcache *c, const char *key,
		   struct webcache_file *f)
{
	int n;

	f->fd = -1;
	if (key_path(c, key, f->final, sizeof f->final) < 0)
		return -1;
	/* '~' is never plain in a key's name: no clash with a key. */
	n = snprintf(f->tmp, sizeof f->tmp, "%s/~part-XXXXXX", c->dir);
	if (n < 0 || (size_t)n >= sizeof f->tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f->fd = mkstemp(f->tmp); /* a new file that no other thread has */
	return f->fd < 0 ? -1 : 0;
}

int webcache_commit(struct webcache_file *f)
{
	int rc = 0;

	/* TODO 11: Close the temporary file, then rename() it to f->final, the one step that makes the response visible; if either fails, remove the temporary file and return -1. */
	(void)close(f->fd);
	(void)unlink(f->tmp);
	errno = ENOSYS;
	rc = -1;
	SL_TODO(11);
	f->fd = -1;
	return rc;
}

void webcache_abort(struct webcache_file *f)
{
	if (f->fd < 0)
		return;
	(void)close(f->fd);
	(void)unlink(f->tmp);
	f->fd = -1;
}
