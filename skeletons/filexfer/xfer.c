/*
 * xfer - move a file's bytes between a socket and a file (xfer.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "xfer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_io.h"
#include "sl_log.h" /* SL_TODO in the skeleton */

EVP_MD_CTX *xfer_hash_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
}

int xfer_hash_hex(EVP_MD_CTX *md, char hex[FX_HASH_HEX + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok = EVP_DigestFinal_ex(md, digest, &len) == 1 &&
		 len * 2 == FX_HASH_HEX;

	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; ok && i < len; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return ok ? 0 : -1;
}

/* The size of the next piece: a whole chunk, or what is left. */
static size_t piece(uint64_t left)
{
	return left < XFER_CHUNK ? (size_t)left : XFER_CHUNK;
}

/* Tells p (if it has a function) how far the transfer is. */
static void report(const struct xfer_progress *p, uint64_t done, uint64_t total)
{
	if (p != NULL && p->fn != NULL)
		p->fn(p->arg, done, total);
}

/* Reads exactly len bytes of file into buf; returns 0, or -1 with err set
 * (a read error, or the file ended early: it shrank under us). */
static int read_file(int file, char *buf, size_t len, char *err, size_t errlen)
{
	switch (sl_read_exact(file, buf, len, NULL)) {
	case SL_READ_OK:
		return 0;
	case SL_READ_EOF:
	case SL_READ_TRUNCATED:
		(void)snprintf(err, errlen, "read file: it ended early");
		return -1;
	case SL_READ_ERROR:
		break;
	}
	(void)snprintf(err, errlen, "read file: %s", strerror(errno));
	return -1;
}

int xfer_hash_file(int file, uint64_t size, EVP_MD_CTX *md, char *err,
		   size_t errlen)
{
	char *buf = malloc(XFER_CHUNK);
	int rc = 0;

	if (buf == NULL) {
		(void)snprintf(err, errlen, "hash file: out of memory");
		return -1;
	}
	while (rc == 0 && size > 0) {
		size_t n = piece(size);

		rc = read_file(file, buf, n, err, errlen);
		if (rc == 0 && EVP_DigestUpdate(md, buf, n) != 1) {
			(void)snprintf(err, errlen,
				       "hash file: OpenSSL failed");
			rc = -1;
		}
		size -= n;
	}
	free(buf);
	return rc;
}

/* xfer_send() with its buffer. */
static enum xfer_status send_loop(int sock, int file, uint64_t size,
				  EVP_MD_CTX *md, const struct xfer_progress *p,
				  char *buf, char *err, size_t errlen)
{
	uint64_t done = 0;

	/* TODO 11: Until size bytes are sent: read the next piece(size - done) bytes of file with read_file() (XFER_LOCAL on failure), add them to md with EVP_DigestUpdate(), send them all with sl_send_all() (XFER_PEER on failure, err naming errno), add them to done and report(p, done, size). */
	(void)sock;
	(void)file;
	(void)size;
	(void)md;
	(void)p;
	(void)report;
	(void)buf;
	(void)done;
	SL_TODO(11);
	(void)snprintf(err, errlen, "send: TODO 11 not done yet");
	return XFER_PEER;
	return XFER_OK;
}

enum xfer_status xfer_send(int sock, int file, uint64_t size, EVP_MD_CTX *md,
			   const struct xfer_progress *p, char *err,
			   size_t errlen)
{
	char *buf = malloc(XFER_CHUNK);
	enum xfer_status st;

	if (buf == NULL) {
		(void)snprintf(err, errlen, "send: out of memory");
		return XFER_LOCAL;
	}
	st = send_loop(sock, file, size, md, p, buf, err, errlen);
	free(buf);
	return st;
}

/* Writes what arrived to the file, unless an earlier write failed (then
 * *failed stays true: the rest is only read, to stay in step). */
static void keep(int file, const char *buf, size_t n, bool *failed, char *err,
		 size_t errlen)
{
	if (*failed || sl_write_all(file, buf, n) == 0)
		return;
	(void)snprintf(err, errlen, "write file: %s", strerror(errno));
	*failed = true;
}

/* xfer_recv() with its buffer. */
static enum xfer_status recv_loop(int sock, int file, uint64_t size,
				  EVP_MD_CTX *md, const struct xfer_progress *p,
				  char *buf, char *err, size_t errlen)
{
	uint64_t done = 0;
	bool failed = false;

	/* TODO 12: Until size bytes have arrived: read at most piece(size - done) bytes with sl_read_some() (XFER_PEER when it returns 0 or -1, err saying which), add the n bytes that came to md, keep() them in the file, add n to done and report(p, done, size). */
	(void)sock;
	(void)file;
	(void)size;
	(void)md;
	(void)p;
	(void)buf;
	(void)done;
	(void)keep;
	SL_TODO(12);
	(void)snprintf(err, errlen, "receive: TODO 12 not done yet");
	return XFER_PEER;
	return failed ? XFER_LOCAL : XFER_OK;
}

enum xfer_status xfer_recv(int sock, int file, uint64_t size, EVP_MD_CTX *md,
			   const struct xfer_progress *p, char *err,
			   size_t errlen)
{
	char *buf = malloc(XFER_CHUNK);
	enum xfer_status st;

	if (buf == NULL) {
		(void)snprintf(err, errlen, "receive: out of memory");
		return XFER_PEER; /* cannot even drain: out of step */
	}
	st = recv_loop(sock, file, size, md, p, buf, err, errlen);
	free(buf);
	return st;
}
