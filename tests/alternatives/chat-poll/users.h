/* users.h - the users file: one "name:pbkdf2-sha256:iterations:salt:hash"
 * line per user (salt 16 bytes, hash 32 bytes, both in hex). */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>

#define SALT_LEN 16
#define HASH_LEN 32

struct user {
	char name[33];
	unsigned long iterations;
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
};

struct users {
	struct user *list;
	size_t count;
	struct user dummy; /* checked for unknown names: the same cost */
};

/* Reads PATH into U; lines in another form are skipped with a warning.
 * Returns 0, or -1 after logging why. */
int users_read(const char *path, struct users *u);

/* 1 if PASSWORD (LEN bytes) is NAME's; 0 for a wrong password and for an
 * unknown name alike, after the same work. */
int users_check(const struct users *u, const char *name, size_t namelen,
		const char *password, size_t len);

/* Appends NAME with a fresh salt and the hash of PASSWORD to PATH.
 * Returns 0, or -1 after logging why. */
int users_add(const char *path, const char *name, const char *password,
	      unsigned long iterations);

void users_free(struct users *u);

#endif
