/*
 * auth - the users file and password checks (auth.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sl_log.h"

/* Fields of a line: name, scheme, iterations, salt, hash. */
#define FIELDS 5

/* Cuts line at each ':'; returns how many fields it has (f holds at most
 * max of them). */
static size_t split_colons(char *line, char **f, size_t max)
{
	size_t n = 0;

	for (char *p = line;; n++) {
		char *colon = strchr(p, ':');

		if (n < max)
			f[n] = p;
		if (colon == NULL)
			return n + 1;
		*colon = '\0';
		p = colon + 1;
	}
}

/* Reads exactly 2 * n lower-case hex digits into out; returns 0 or -1. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		const char *d = strchr(digits, s[i]);

		if (d == NULL)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)((d - digits) << 4);
		else
			out[i / 2] |= (unsigned char)(d - digits);
	}
	return 0;
}

/* Tells whether name is 1..AUTH_NAME_MAX letters, digits, '_', '-', '.'. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= AUTH_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == len;
}

/* Reads one line (no '\n') into u; returns 0, or -1 with *why set. */
static int parse_line(char *line, struct auth_user *u, const char **why)
{
	char *f[FIELDS];
	char *end;

	if (split_colons(line, f, FIELDS) != FIELDS) {
		*why = "expected name:" AUTH_SCHEME ":iterations:salt:hash "
		       "(a plaintext password is never accepted)";
		return -1;
	}
	errno = 0;
	u->iterations = strtoul(f[2], &end, 10);
	if (!name_ok(f[0]) || strcmp(f[1], AUTH_SCHEME) != 0 || f[2][0] < '1' ||
	    f[2][0] > '9' || *end != '\0' || errno != 0 ||
	    u->iterations > AUTH_ITERATIONS_MAX ||
	    unhex(f[3], u->salt, AUTH_SALT_LEN) < 0 ||
	    unhex(f[4], u->hash, AUTH_HASH_LEN) < 0) {
		*why = "bad name, scheme, iterations, salt or hash";
		return -1;
	}
	(void)snprintf(u->name, sizeof u->name, "%s", f[0]);
	return 0;
}

/* Adds u at the end of t; returns 0, or -1 (out of memory). */
static int push_user(struct auth_table *t, const struct auth_user *u)
{
	struct auth_user *bigger =
		realloc(t->users, (t->count + 1) * sizeof *bigger);

	if (bigger == NULL)
		return -1;
	t->users = bigger;
	t->users[t->count++] = *u;
	return 0;
}

/* Reads every line of f into t; returns 0, or -1 with err set. */
static int read_users(FILE *f, const char *path, struct auth_table *t,
		      char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		struct auth_user u;
		const char *why = NULL;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (parse_line(line, &u, &why) < 0)
			sl_log(&sl_prog_log, SL_WARN, "%s line %lu skipped: %s",
			       path, lineno, why);
		else if (push_user(t, &u) < 0)
			rc = -1;
	}
	free(line);
	if (rc < 0 || ferror(f)) {
		(void)snprintf(err, errlen, "read users file %s: %s", path,
			       rc < 0 ? "out of memory" : strerror(errno));
		return -1;
	}
	return 0;
}

int auth_load(const char *path, struct auth_table *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	t->users = NULL;
	t->count = 0;
	if (f == NULL) {
		(void)snprintf(err, errlen, "open users file %s: %s", path,
			       strerror(errno));
		return -1;
	}
	rc = read_users(f, path, t, err, errlen);
	(void)fclose(f); /* read only: nothing to lose */
	if (rc == 0 && t->count == 0) {
		(void)snprintf(err, errlen, "users file %s names nobody", path);
		rc = -1;
	}
	if (rc < 0)
		auth_free(t);
	return rc;
}

void auth_free(struct auth_table *t)
{
	free(t->users);
	t->users = NULL;
	t->count = 0;
}

/* Returns the user called name, or NULL. */
static const struct auth_user *find_user(const struct auth_table *t,
					 const char *name)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->users[i].name, name) == 0)
			return &t->users[i];
	return NULL;
}

/* Tells whether password hashes to u's hash with u's salt. */
static bool password_ok(const struct auth_user *u, const char *password)
{
	unsigned char hash[AUTH_HASH_LEN];
	bool ok = false;

	/* TODO 1: Hash password with PKCS5_PBKDF2_HMAC() (u's salt and iterations, EVP_sha256(), AUTH_HASH_LEN bytes into hash) and set ok when that worked and CRYPTO_memcmp() finds hash equal to u->hash. */
	(void)u;
	(void)password;
	(void)hash;
	SL_TODO(1);
	return ok;
}

bool auth_check(const struct auth_table *t, const char *name,
		const char *password)
{
	const struct auth_user *u = find_user(t, name);
	struct auth_user nobody;

	if (u != NULL)
		return password_ok(u, password);
	/* The same work for an unknown name: the most iterations of the
	 * file, with a salt and hash no password matches in practice. */
	memset(&nobody, 0, sizeof nobody);
	for (size_t i = 0; i < t->count; i++)
		if (t->users[i].iterations > nobody.iterations)
			nobody.iterations = t->users[i].iterations;
	(void)password_ok(&nobody, password);
	return false;
}
