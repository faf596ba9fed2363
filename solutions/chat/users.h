/*
 * users - the users file: who may log in, with salted password hashes.
 *
 * One user per line, five fields separated by ':':
 *
 *	alice:pbkdf2-sha256:100000:9f86d081884c7d65...:2cf24dba5fb0a30e...
 *	name  scheme        iterations salt (hex)     hash (hex)
 *
 * The hash is PBKDF2-HMAC-SHA256(password, salt, iterations), 32 bytes; the
 * salt is 16 random bytes, different for every user, so that two users with
 * the same password get different hashes and no precomputed table helps an
 * attacker who steals the file. Empty lines and lines starting with '#' are
 * ignored. A line in any other form (a plaintext "name:password" above
 * all) is skipped with a warning: it never lets anybody in.
 */
#ifndef USERS_H
#define USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "chatwire.h"
#include "sl_log.h"

#define USER_SALT_LEN 16
#define USER_HASH_LEN 32
#define USER_SCHEME "pbkdf2-sha256"
#define USER_ITERATIONS_DEFAULT 100000UL
#define USER_ITERATIONS_MAX 10000000UL

/* One line of the file. */
struct user_entry {
	char name[CHAT_NAME_MAX + 1];
	unsigned long iterations;
	unsigned char salt[USER_SALT_LEN];
	unsigned char hash[USER_HASH_LEN];
};

/* The whole file, read once at start. */
struct user_table {
	struct user_entry *entries;
	size_t count;
	/* Checked when a name is unknown, so that an unknown name costs as
	 * much time as a wrong password: the answer's delay must not tell
	 * which names exist. */
	struct user_entry dummy;
};

/* Reads the file at path into t, logging (through lg) each line it skips;
 * returns 0, or -1 with err set (the file cannot be read, or holds no
 * user). */
int users_load(const char *path, struct user_table *t,
	       const struct sl_logger *lg, char *err, size_t errlen);

/* Frees what users_load() allocated. */
void users_free(struct user_table *t);

/* Returns the entry named name (len bytes), or NULL. */
const struct user_entry *users_find(const struct user_table *t,
				    const char *name, size_t len);

/* Tells whether pw (len bytes) is the password of entry e. */
bool users_password_ok(const struct user_entry *e, const char *pw,
		       size_t len);

/* Tells whether name and pw are a known user and its password; takes as
 * long for an unknown name as for a wrong password. */
bool users_login(const struct user_table *t, const char *name, size_t nlen,
		 const char *pw, size_t pwlen);

/* Fills e for a new user: a fresh random salt, and the hash of pw (len
 * bytes) with it; returns 0, or -1 with err set. */
int users_new_entry(const char *name, const char *pw, size_t len,
		    unsigned long iterations, struct user_entry *e, char *err,
		    size_t errlen);

/* Appends e as a line to the file at path (created with mode 0600 if
 * missing); returns 0, or -1 with err set. */
int users_append(const char *path, const struct user_entry *e, char *err,
		 size_t errlen);

#endif
