/*
 * http - the small part of HTTP/1.x a forwarding proxy needs: the request
 * line and its target, the header lines worth forwarding, the status line
 * and Content-Length of a response.
 *
 * Functions that judge a client's request return 0, or the HTTP status
 * the proxy answers with when the request is not acceptable (400, 431,
 * 501): the caller turns that number into an error response.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest line of a request or response head, without CR LF. */
#define HTTP_LINE_MAX 8192

/* The most bytes of header lines a head may hold (431 beyond). */
#define HTTP_HEAD_MAX 16384

/* Room for a host name (at most 253 bytes) or an IPv6 literal. */
#define HTTP_HOST_MAX 256

/* Room for a method name such as "POST". */
#define HTTP_METHOD_MAX 16

/* A client's request, as the proxy forwards it. */
struct http_request {
	char method[HTTP_METHOD_MAX]; /* "GET" or "POST" */
	char host[HTTP_HOST_MAX];     /* origin server, IPv6 without [] */
	uint16_t port;		      /* its port, 80 unless the URL says */
	char path[HTTP_LINE_MAX];     /* "/dir/file?q=1": what the origin
					 is asked for */
	char headers[HTTP_HEAD_MAX];  /* the client's header lines that go
					 on to the origin, each ended by
					 CR LF */
	size_t headers_len;
	bool has_length;	   /* the request carries a body of */
	unsigned long long length; /* this many bytes (Content-Length) */
};

/*
 * Splits a request line "METHOD TARGET HTTP/1.x" (without CR LF) into
 * req's method, host, port and path. The target is either the absolute
 * form a browser or curl sends to a proxy, "http://host[:port]/path", or
 * the form of the original assignment, "/host[:port]/path". Returns 0,
 * 400 (malformed) or 501 (a method other than GET and POST, or a scheme
 * other than http).
 */
int http_parse_request_line(char *line, struct http_request *req);

/*
 * Takes one header line of the client's request (without CR LF): notes
 * Content-Length, drops the headers that concern only this hop (Host,
 * Connection, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
 * Upgrade: the proxy writes its own) and appends the others to
 * req->headers, each ended by CR LF. Returns 0, 400 (no colon, a bad
 * Content-Length), 411 (a chunked body) or 431 (no room left).
 */
int http_add_header(struct http_request *req, const char *line, size_t len);

/* Tells whether line is a header called name (any case); if so *value
 * points at its value, without the spaces around it. */
bool http_header_is(const char *line, const char *name, const char **value);

/* Parses a Content-Length value (decimal digits only); returns 0, or -1. */
int http_parse_length(const char *value, unsigned long long *length);

/* Parses a status line "HTTP/1.x NNN reason" (CR LF already removed);
 * returns 0 with *status set, or -1. */
int http_parse_status_line(const char *line, int *status);

/* Writes the name of the cached object, "host:port/path", into buf;
 * returns 0, or -1 when it does not fit. */
int http_cache_key(const struct http_request *req, char *buf, size_t len);

/* Returns the reason phrase of the error statuses the proxy sends. */
const char *http_reason(int status);

#endif
