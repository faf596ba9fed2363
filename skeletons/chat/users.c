/*
 * users - the users file (see users.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sl_io.h"

/* Fields of a line: name, scheme, iterations, salt, hash. */
#define USER_FIELDS 5

/* Room for a whole line: five fields, four ':', '\n' and a NUL. */
#define USER_LINE_MAX                                                    \
	(CHAT_NAME_MAX + sizeof USER_SCHEME + 8 + 2 * USER_SALT_LEN +    \
	 2 * USER_HASH_LEN + 8)

/* Cuts line at each ':' into at most max fields; returns how many fields
 * the line has (more than max when it has too many). */
static size_t split_colons(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *colon = strchr(p, ':');

		if (n < max)
			f[n] = p;
		n++;
		if (colon == NULL)
			return n;
		*colon = '\0';
		p = colon + 1;
	}
}

/* Reads exactly 2 * n hex digits from s into out[0..n-1]; returns 0 or -1. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		const char *digits = "0123456789abcdef";
		const char *d = s[i] != '\0' ? strchr(digits, s[i]) : NULL;

		if (d == NULL)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)((d - digits) << 4);
		else
			out[i / 2] |= (unsigned char)(d - digits);
	}
	return 0;
}

/* Reads the iteration count; returns 0 or -1. */
static int parse_iterations(const char *s, unsigned long *it)
{
	char *end;

	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	*it = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *it <= USER_ITERATIONS_MAX ? 0
									 : -1;
}

/* Reads one line (without its '\n') into e; returns 0, or -1 with *why
 * saying what is wrong with it. */
static int parse_line(char *line, struct user_entry *e, const char **why)
{
	char *f[USER_FIELDS];
	size_t n = split_colons(line, f, USER_FIELDS);

	if (n != USER_FIELDS) {
		*why = "expected name:" USER_SCHEME
		       ":iterations:salt:hash (a plaintext password is never "
		       "accepted)";
		return -1;
	}
	if (!chat_name_ok(f[0], strlen(f[0]))) {
		*why = "bad user name";
		return -1;
	}
	if (strcmp(f[1], USER_SCHEME) != 0) {
		*why = "unknown scheme (only " USER_SCHEME ")";
		return -1;
	}
	if (parse_iterations(f[2], &e->iterations) < 0 ||
	    unhex(f[3], e->salt, USER_SALT_LEN) < 0 ||
	    unhex(f[4], e->hash, USER_HASH_LEN) < 0) {
		*why = "bad iterations, salt or hash";
		return -1;
	}
	(void)snprintf(e->name, sizeof e->name, "%s", f[0]);
	return 0;
}

/* Adds e at the end of t; returns 0, or -1 (out of memory). */
static int push_entry(struct user_table *t, const struct user_entry *e)
{
	struct user_entry *bigger =
		realloc(t->entries, (t->count + 1) * sizeof *bigger);

	if (bigger == NULL)
		return -1;
	t->entries = bigger;
	t->entries[t->count++] = *e;
	return 0;
}

/* Reads and drops the rest of a line that was too long. */
static void skip_rest_of_line(FILE *f)
{
	int ch;

	do {
		ch = getc(f);
	} while (ch != EOF && ch != '\n');
}

/* Reads every line of f into t; returns 0, or -1 with err set. */
static int read_lines(FILE *f, const char *path, struct user_table *t,
		      const struct sl_logger *lg, char *err, size_t errlen)
{
	char line[USER_LINE_MAX + 2];
	unsigned long lineno = 0;

	while (fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);
		struct user_entry e = {.iterations = 0};
		const char *why = NULL;

		lineno++;
		if (len > 0 && line[len - 1] == '\n') {
			line[--len] = '\0';
		} else if (!feof(f)) {
			skip_rest_of_line(f);
			why = "line too long";
		}
		if (why == NULL && (len == 0 || line[0] == '#'))
			continue;
		if (why != NULL || parse_line(line, &e, &why) < 0) {
			sl_log(lg, SL_WARN, "%s line %lu skipped: %s", path,
			       lineno, why);
			continue;
		}
		if (push_entry(t, &e) < 0) {
			(void)snprintf(err, errlen, "read %s: out of memory",
				       path);
			return -1;
		}
	}
	if (ferror(f)) {
		(void)snprintf(err, errlen, "read %s: %s", path,
			       strerror(errno));
		return -1;
	}
	return 0;
}

/* Makes the dummy entry: the highest iteration count of the file, a salt
 * and a hash that no password matches in practice. */
static void make_dummy(struct user_table *t)
{
	memset(&t->dummy, 0, sizeof t->dummy);
	t->dummy.iterations = 1;
	for (size_t i = 0; i < t->count; i++)
		if (t->entries[i].iterations > t->dummy.iterations)
			t->dummy.iterations = t->entries[i].iterations;
}

int users_load(const char *path, struct user_table *t,
	       const struct sl_logger *lg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	t->entries = NULL;
	t->count = 0;
	if (f == NULL) {
		(void)snprintf(err, errlen, "open users file %s: %s", path,
			       strerror(errno));
		return -1;
	}
	rc = read_lines(f, path, t, lg, err, errlen);
	(void)fclose(f); /* read only: nothing to lose */
	if (rc == 0 && t->count == 0) {
		(void)snprintf(err, errlen, "users file %s holds no valid user",
			       path);
		rc = -1;
	}
	if (rc < 0) {
		users_free(t);
		return -1;
	}
	make_dummy(t);
	return 0;
}

void users_free(struct user_table *t)
{
	free(t->entries);
	t->entries = NULL;
	t->count = 0;
}

const struct user_entry *users_find(const struct user_table *t,
				    const char *name, size_t len)
{
	for (size_t i = 0; i < t->count; i++)
		if (strlen(t->entries[i].name) == len &&
		    memcmp(t->entries[i].name, name, len) == 0)
			return &t->entries[i];
	return NULL;
}

bool users_password_ok(const struct user_entry *e, const char *pw,
		       size_t len)
{
	/* TODO 11: Derive the PBKDF2-HMAC-SHA256 hash of pw with e's salt and iterations, and compare it with e->hash in constant time (CRYPTO_memcmp). */
	(void)e;
	(void)pw;
	(void)len;
	SL_TODO(11);
	return false;
}

bool users_login(const struct user_table *t, const char *name, size_t nlen,
		 const char *pw, size_t pwlen)
{
	const struct user_entry *e = users_find(t, name, nlen);
	bool ok = users_password_ok(e != NULL ? e : &t->dummy, pw, pwlen);

	return ok && e != NULL;
}

int users_new_entry(const char *name, const char *pw, size_t len,
		    unsigned long iterations, struct user_entry *e, char *err,
		    size_t errlen)
{
	if (snprintf(e->name, sizeof e->name, "%s", name) >=
	    (int)sizeof e->name) {
		(void)snprintf(err, errlen, "user name too long");
		return -1;
	}
	e->iterations = iterations;
	/* TODO 12: Fill e->salt with USER_SALT_LEN random bytes (RAND_bytes) and e->hash with the PBKDF2-HMAC-SHA256 hash of pw; set err and return -1 if either fails. */
	(void)pw;
	(void)len;
	SL_TODO(12);
	(void)snprintf(err, errlen, "TODO 12 not done yet");
	return -1;
	return 0;
}

/* Writes n bytes as 2 * n lower-case hex digits and a NUL into out. */
static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", in[i]);
}

int users_append(const char *path, const struct user_entry *e, char *err,
		 size_t errlen)
{
	char salt[2 * USER_SALT_LEN + 1], hash[2 * USER_HASH_LEN + 1];
	char line[USER_LINE_MAX];
	int n, fd;

	hex(e->salt, USER_SALT_LEN, salt);
	hex(e->hash, USER_HASH_LEN, hash);
	n = snprintf(line, sizeof line, "%s:%s:%lu:%s:%s\n", e->name,
		     USER_SCHEME, e->iterations, salt, hash);
	if (n < 0 || (size_t)n >= sizeof line) {
		(void)snprintf(err, errlen, "user line too long");
		return -1;
	}
	/* 0600: the hashes are slow to attack, not impossible. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || sl_write_all(fd, line, (size_t)n) < 0) {
		(void)snprintf(err, errlen, "write users file %s: %s", path,
			       strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		(void)snprintf(err, errlen, "close users file %s: %s", path,
			       strerror(errno));
		return -1;
	}
	return 0;
}
