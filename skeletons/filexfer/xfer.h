/*
 * xfer - move a file's bytes between a socket and a file, exactly as many
 * as announced, adding each byte to a SHA-256 digest on the way.
 *
 * Both programs use it: the client sends with xfer_send() on "put" and
 * receives with xfer_recv() on "get", the server the other way round. The
 * bytes go through a buffer of XFER_CHUNK bytes: a large one, because each
 * read() and write() costs a system call, and a 1 GiB file in 8 KiB pieces
 * would be 131072 of each.
 */
#ifndef XFER_H
#define XFER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "fxwire.h"

/* Bytes moved at a time. */
#define XFER_CHUNK (256 * 1024)

/* What a transfer came to. */
enum xfer_status {
	XFER_OK = 0,	/* every byte moved */
	XFER_PEER = 1,	/* the connection failed or ended early: the
			   stream is out of step, close it */
	XFER_LOCAL = 2, /* the file could not be read or written; after
			   xfer_recv() the stream is still in step (the
			   rest was read and dropped) */
};

/* Told after each chunk how many bytes have moved (for a progress line);
 * fn may be NULL. */
struct xfer_progress {
	void (*fn)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

/* Starts a SHA-256 digest; returns it, or NULL (out of memory). */
EVP_MD_CTX *xfer_hash_new(void);

/* Finishes md into 64 lower-case hex digits and a NUL, and frees it;
 * returns 0, or -1 when OpenSSL failed. */
int xfer_hash_hex(EVP_MD_CTX *md, char hex[FX_HASH_HEX + 1]);

/* Reads size bytes of file (from its current offset) into md only, e.g.
 * the part of a file the other side already has; returns 0, or -1 with err
 * set. */
int xfer_hash_file(int file, uint64_t size, EVP_MD_CTX *md, char *err,
		   size_t errlen);

/* Sends the next size bytes of file on sock, adding them to md. */
enum xfer_status xfer_send(int sock, int file, uint64_t size, EVP_MD_CTX *md,
			   const struct xfer_progress *p, char *err,
			   size_t errlen);

/* Receives exactly size bytes from sock into file, adding them to md. */
enum xfer_status xfer_recv(int sock, int file, uint64_t size, EVP_MD_CTX *md,
			   const struct xfer_progress *p, char *err,
			   size_t errlen);

#endif
