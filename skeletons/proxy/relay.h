/*
 * relay - forwards one request to its origin server and streams the
 * response back to the client, keeping a copy in the cache on the way.
 *
 *	client --request--> proxy --request (HTTP/1.0)--> origin
 *	client <--bytes---- proxy <--status, headers, body-- origin
 *	                      |
 *	                      +--> cache/~part-XXXXXX, renamed to the key's
 *	                           name once the response is known complete
 *
 * The proxy asks the origin with HTTP/1.0 and "Connection: close": the
 * body then comes without chunked encoding, and its end is either the
 * announced Content-Length or, without one, the origin closing the
 * connection.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stdbool.h>

#include "http.h"
#include "sl_line.h"
#include "sl_net.h"
#include "webcache.h"

/* Seconds a socket may wait for its peer before the exchange is given up. */
#define IO_TIMEOUT_S 10

/* One forwarding: the caller fills in the first part. */
struct relay {
	int client;		     /* the client's socket */
	struct sl_reader *client_rd; /* its bytes: the request body */
	const struct http_request *req;
	const struct webcache *cache; /* NULL: do not cache the response */
	const char *key;	      /* the cache key of the request */

	/* What relay_run() found. */
	int status;		 /* the origin's status code, 0 if none */
	unsigned long long body; /* body bytes passed to the client */
	bool complete;		 /* the whole body arrived */
	bool cached;		 /* and it is now in the cache */
	bool timed_out;		 /* no response head in time: 504, not 502 */
	char err[SL_ERRLEN];	 /* what went wrong, for the log */
};

/* How a forwarding ended. */
enum relay_result {
	RELAY_DONE,	   /* a response, whole or cut, went to the client */
	RELAY_NO_RESPONSE, /* nothing was sent to the client: answer 502
			    * (504 when timed_out) */
	RELAY_CLIENT_GONE, /* the client went away during the exchange */
};

/* Forwards r->req to its origin and the response to r->client. */
enum relay_result relay_run(struct relay *r);

/* Makes reads and writes on socket fd give up (EAGAIN) after seconds
 * without progress; returns 0, or -1 with errno set. */
int set_io_timeout(int fd, int seconds);

#endif
