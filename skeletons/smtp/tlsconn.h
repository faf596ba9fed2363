/*
 * tlsconn - a TCP connection that may switch to TLS half-way.
 *
 * SMTP starts in plaintext and switches to TLS after the STARTTLS command
 * (the "submission" style of port 587), or speaks TLS from the first byte
 * (the "implicit TLS" style of port 465). Everything above this module
 * sends and receives through conn_send_all() and conn_recv(), and never
 * needs to know which of the two it is on.
 *
 * TLS comes from OpenSSL. The server must prove who it is: its certificate
 * must chain up to a certificate authority we trust (the --cafile) and
 * name the host we asked for. Without both checks, anyone on the path can
 * answer in the server's place with a certificate of their own, and read
 * the password and the mail.
 *
 * Errors: functions return -1 and write into err (errlen bytes) a message
 * naming what failed, e.g.
 *	TLS handshake with localhost:2525: certificate verify failed
 *	(Hostname mismatch)
 */
#ifndef TLSCONN_H
#define TLSCONN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sl_net.h"

/* Seconds a send or a receive may block before it fails, unless the
 * caller asks for another bound (smtpclient --timeout). */
#define CONN_TIMEOUT_S 30

/* How long conn_close() waits for the server's FIN after sending ours. */
#define CONN_CLOSE_WAIT_MS 2000

struct tls_conn {
	int fd;			   /* the TCP socket, -1 when closed */
	SSL_CTX *ctx;		   /* TLS settings; NULL in plaintext */
	SSL *ssl;		   /* the TLS session; NULL in plaintext */
	char peer[SL_HOSTPORTLEN]; /* "host:port", for messages */
	int timeout_s;		   /* the bound on each send and receive */
};

/* Connects to host:port in plaintext, with timeout_s seconds at most on
 * every send and receive; returns 0, or -1 with err set. */
int conn_open(struct tls_conn *c, const char *host, uint16_t port,
	      int timeout_s, char *err, size_t errlen);

/*
 * Starts TLS on the open connection: the handshake, with the server's
 * certificate checked against the CA certificates in cafile (NULL: the
 * system's) and against host (a DNS name or an IP address). Returns 0
 * once every later byte is encrypted, or -1 with err set; after a failure
 * the connection is unusable (close it).
 */
int conn_start_tls(struct tls_conn *c, const char *host, const char *cafile,
		   char *err, size_t errlen);

/* Tells whether the connection speaks TLS now. */
bool conn_is_tls(const struct tls_conn *c);

/*
 * Tells whether the handshake of a TLS connection verified the server's
 * certificate, both its chain up to a trusted CA and the name asked for;
 * writes into buf (size bytes) what was checked, for the log:
 * "certificate of localhost verified", or what was not and why.
 */
bool conn_verified(const struct tls_conn *c, char *buf, size_t size);

/* Sends all len bytes (encrypted under TLS); returns 0, or -1 with err. */
int conn_send_all(struct tls_conn *c, const void *buf, size_t len, char *err,
		  size_t errlen);

/* Receives at most len bytes; returns their count, 0 when the server
 * closed the connection, or -1 with err set. */
ssize_t conn_recv(struct tls_conn *c, void *buf, size_t len, char *err,
		  size_t errlen);

/*
 * Ends the connection without a reset: sends our FIN, reads and drops
 * whatever the server still sends until its FIN (CONN_CLOSE_WAIT_MS at
 * most), then closes the socket and frees the TLS state. Safe to call on
 * a connection that never opened or is already closed.
 */
void conn_close(struct tls_conn *c);

#endif
