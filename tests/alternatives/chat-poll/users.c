#define _POSIX_C_SOURCE 200809L

#include "users.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define SCHEME "pbkdf2-sha256"
#define ITERATIONS_MAX 10000000UL

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2*N hex digits (the whole string S) into OUT. */
static int from_hex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Parses one line (its '\n' removed) into E; 0, or -1 if not a user. */
static int parse_line(char *line, struct user *e)
{
	char *part[5], *save = NULL, *end;
	int n = 0;

	for (char *t = strtok_r(line, ":", &save); t != NULL; t = strtok_r(NULL, ":", &save)) {
		if (n == 5)
			return -1;
		part[n++] = t;
	}
	if (n != 5 || !name_ok(part[0], strlen(part[0])) || strcmp(part[1], SCHEME) != 0)
		return -1;
	errno = 0;
	e->iterations = strtoul(part[2], &end, 10);
	if (errno != 0 || *end != '\0' || e->iterations < 1 || e->iterations > ITERATIONS_MAX)
		return -1;
	if (from_hex(part[3], e->salt, SALT_LEN) < 0 || from_hex(part[4], e->hash, HASH_LEN) < 0)
		return -1;
	strcpy(e->name, part[0]);
	return 0;
}

int users_read(const char *path, struct users *u)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;

	memset(u, 0, sizeof *u);
	if (f == NULL) {
		say("ERROR", "users file %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		struct user e;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (parse_line(line, &e) < 0) {
			say("WARN", "%s:%zu: not a name:%s:iterations:salt:hash line: skipped",
			    path, lineno, SCHEME);
			continue;
		}
		struct user *grown = realloc(u->list, (u->count + 1) * sizeof *grown);
		if (grown == NULL) {
			say("ERROR", "users file %s: out of memory", path);
			break;
		}
		u->list = grown;
		u->list[u->count++] = e;
	}
	free(line);
	fclose(f);
	/* The dummy: a random hash nobody's password gives. */
	u->dummy.iterations = u->count > 0 ? u->list[0].iterations : 1000;
	if (RAND_bytes(u->dummy.salt, SALT_LEN) != 1 || RAND_bytes(u->dummy.hash, HASH_LEN) != 1) {
		say("ERROR", "no random bytes for the dummy user");
		return -1;
	}
	return 0;
}

int users_check(const struct users *u, const char *name, size_t namelen,
		const char *password, size_t len)
{
	const struct user *e = &u->dummy;
	unsigned char hash[HASH_LEN];
	int known = 0;

	for (size_t i = 0; i < u->count; i++) {
		if (strlen(u->list[i].name) == namelen && memcmp(u->list[i].name, name, namelen) == 0) {
			e = &u->list[i];
			known = 1;
			break;
		}
	}
	if (PKCS5_PBKDF2_HMAC(password, (int)len, e->salt, SALT_LEN, (int)e->iterations,
			      EVP_sha256(), HASH_LEN, hash) != 1)
		return 0;
	return CRYPTO_memcmp(hash, e->hash, HASH_LEN) == 0 && known;
}

int users_add(const char *path, const char *name, const char *password,
	      unsigned long iterations)
{
	struct user e;
	FILE *f;

	if (RAND_bytes(e.salt, SALT_LEN) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), e.salt, SALT_LEN, (int)iterations,
			      EVP_sha256(), HASH_LEN, e.hash) != 1) {
		say("ERROR", "hashing the password failed");
		return -1;
	}
	f = fopen(path, "a");
	if (f == NULL) {
		say("ERROR", "users file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%s:%s:%lu:", name, SCHEME, iterations);
	for (size_t i = 0; i < SALT_LEN; i++)
		fprintf(f, "%02x", e.salt[i]);
	fputc(':', f);
	for (size_t i = 0; i < HASH_LEN; i++)
		fprintf(f, "%02x", e.hash[i]);
	fputc('\n', f);
	if (ferror(f) | (fclose(f) != 0)) {
		say("ERROR", "write users file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void users_free(struct users *u)
{
	free(u->list);
	u->list = NULL;
	u->count = 0;
}
