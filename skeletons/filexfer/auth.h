/*
 * auth - who may log in: the users file, with salted password hashes.
 *
 * One user per line, five fields separated by ':' (the chat lab's format):
 *
 *	alice:pbkdf2-sha256:100000:9f86d081884c7d659a2feaa0c55ad015:2cf24d...
 *	name  scheme        iterations salt (32 hex digits)  hash (64 hex)
 *
 * The hash is PBKDF2-HMAC-SHA256(password, salt, iterations), 32 bytes;
 * the salt is 16 random bytes, different for each user, so equal passwords
 * get different hashes and no precomputed table helps whoever steals the
 * file. Empty lines and lines starting with '#' are ignored; any other
 * line that is not in this form (a plaintext "name:password" above all)
 * is skipped with a warning: it never lets anybody in.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_NAME_MAX	    32
#define AUTH_SALT_LEN	    16
#define AUTH_HASH_LEN	    32
#define AUTH_SCHEME	    "pbkdf2-sha256"
#define AUTH_ITERATIONS_MAX 10000000UL

/* One user of the file. */
struct auth_user {
	char name[AUTH_NAME_MAX + 1];
	unsigned long iterations;
	unsigned char salt[AUTH_SALT_LEN];
	unsigned char hash[AUTH_HASH_LEN];
};

/* The whole file, read once at start. */
struct auth_table {
	struct auth_user *users;
	size_t count;
};

/* Reads the users file at path into t; returns 0, or -1 with err set (it
 * cannot be read, or names nobody). */
int auth_load(const char *path, struct auth_table *t, char *err, size_t errlen);

/* Frees what auth_load() allocated. */
void auth_free(struct auth_table *t);

/* Tells whether name and password belong together. An unknown name costs
 * as much time as a wrong password, so the delay of the answer does not
 * tell which names exist. */
bool auth_check(const struct auth_table *t, const char *name,
		const char *password);

#endif
