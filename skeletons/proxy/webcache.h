/*
 * webcache - the proxy's cache of responses, one file per URL in a folder.
 *
 * The folder is the index: the response to GET http://127.0.0.1:8000/a.txt
 * is the file named after its key "127.0.0.1:8000/a.txt", with every byte
 * that is not a letter, a digit, '.', '-' or '_' written as %XX:
 *
 *	cache/127.0.0.1%3A8000%2Fa.txt
 *
 * so that every key has its own name and no key can climb out of the
 * folder ("../"). A file holds the origin's whole response, status line,
 * headers and body, exactly as received.
 *
 * Every client thread uses the cache at once, and no lock is needed: a
 * response is written into a temporary file of its own ("~part-XXXXXX",
 * a name no key can have) and only a complete one is renamed to its key's
 * name. rename() replaces a name in one step, so a reader opens either no
 * file or a whole one, never a half-written one.
 */
#ifndef WEBCACHE_H
#define WEBCACHE_H

#include <limits.h>
#include <stddef.h>

/* The cache folder, which every thread shares (it never changes). */
struct webcache {
	const char *dir;
};

/* A response on its way into the cache. */
struct webcache_file {
	int fd;		      /* the temporary file, -1 when there is none */
	char tmp[PATH_MAX];   /* its name */
	char final[PATH_MAX]; /* the key's name, given at commit */
};

/* Makes the folder dir (unless it exists) and binds c to it; returns 0, or
 * -1 with err naming the problem. */
int webcache_init(struct webcache *c, const char *dir, char *err,
		  size_t errlen);

/* Opens the cached response of key for reading; returns its fd, or -1
 * with errno set (ENOENT: not cached, a miss). */
int webcache_open(const struct webcache *c, const char *key);

/* Starts a new response for key in a temporary file (f->fd); returns 0,
 * or -1 with errno set (ENAMETOOLONG: the key is too long to cache). */
int webcache_begin(const struct webcache *c, const char *key,
		   struct webcache_file *f);

/* Closes the complete response in f and publishes it under its key's
 * name; returns 0, or -1 with errno set (the temporary file is removed). */
int webcache_commit(struct webcache_file *f);

/* Throws away a response that will not be cached (incomplete, or not a
 * 200); does nothing when f holds no file. */
void webcache_abort(struct webcache_file *f);

#endif
