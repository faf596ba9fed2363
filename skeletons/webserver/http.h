/*
 * http - the pieces of HTTP/1.1 that webserver and httpget share.
 *
 * An HTTP message starts with a head of text lines, each ended by CRLF
 * ("\r\n"), and an empty line; a body of bytes may follow:
 *
 *	GET /index.html HTTP/1.1\r\n          request line
 *	Host: localhost:8080\r\n              header lines "Name: value"
 *	\r\n                                  end of the head
 *
 *	HTTP/1.1 200 OK\r\n                   status line
 *	Content-Type: text/html\r\n
 *	Content-Length: 68\r\n                the body's size in bytes
 *	\r\n
 *	<!DOCTYPE html>...                    68 bytes of body
 *
 * These functions parse and check lines that a line reader already cut
 * (without their CRLF); none of them does any I/O. Each function that can
 * refuse a request returns the status code of the error response to send.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Longest request head the server reads (request line, headers, CRLFs). */
#define HTTP_HEAD_MAX 8192

/* Longest method name, and room for it with its NUL. */
#define HTTP_METHOD_MAX 16

/* Room for a request target ("/img/cat.png?size=2") with its NUL. */
#define HTTP_TARGET_MAX 2048

/* Room for a path made from a target (it is never longer). */
#define HTTP_PATH_MAX HTTP_TARGET_MAX

/* The status codes of this lab. */
enum http_status {
	HTTP_OK = 200,
	HTTP_BAD_REQUEST = 400,
	HTTP_FORBIDDEN = 403,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD_NOT_ALLOWED = 405,
	HTTP_REQUEST_TIMEOUT = 408,
	HTTP_URI_TOO_LONG = 414,
	HTTP_HEADERS_TOO_LARGE = 431,
	HTTP_INTERNAL_ERROR = 500,
	HTTP_VERSION_NOT_SUPPORTED = 505,
};

/* One parsed request head. */
struct http_request {
	char method[HTTP_METHOD_MAX]; /* "GET", "HEAD", ... as sent */
	char target[HTTP_TARGET_MAX]; /* "/index.html?x=1", as sent */
	int minor;		      /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	bool keep_alive;	      /* the client wants the connection kept */
	bool has_body;		      /* Content-Length > 0 or Transfer-Encoding */
};

/* Returns the reason phrase of status ("Not Found"), "Unknown" if none. */
const char *http_reason(int status);

/*
 * Parses a request line "METHOD SP TARGET SP HTTP/1.x" of len bytes
 * (without CRLF) into req, and sets req->keep_alive to the version's
 * default (kept for 1.1, closed for 1.0). Returns 0, or the status of the
 * error response: 400 (malformed), 414 (target too long), 505 (not 1.x),
 * with req cleared (an empty method says that no request line was read).
 */
int http_parse_request_line(const char *line, size_t len,
			    struct http_request *req);

/*
 * Splits a header line "Name: value" in place (writes NULs into line):
 * *name gets the name, *value the value without spaces around it.
 * Returns 0, or -1 when the line is not a header (no ':', an empty name,
 * blanks in the name or at the start of the line).
 */
int http_split_header(char *line, char **name, char **value);

/* Applies one request header to req (Connection, Content-Length,
 * Transfer-Encoding; others are ignored); returns 0, or 400 when the
 * value is malformed. */
int http_request_header(struct http_request *req, const char *name,
			const char *value);

/*
 * Turns a request target into a path relative to the document root:
 * "/img/a%20b.png?x=1" becomes "img/a b.png". The query is dropped, %XX
 * escapes are decoded, empty and "." segments are skipped. Returns 0, or
 * 400 when the target does not start with '/', has a bad or NUL escape,
 * or has a ".." segment (it would climb out of the document root), or
 * 414 when the path does not fit size bytes.
 */
int http_target_to_path(const char *target, char *path, size_t size);

/* Returns the media type for path's extension ("text/html" for ".html",
 * case ignored), or "application/octet-stream" for any other. */
const char *http_content_type(const char *path);

/* Parses a status line "HTTP/1.x SP NNN SP reason" of len bytes; returns
 * 0 and the code in *status, or -1 when the line is not one. */
int http_parse_status_line(const char *line, size_t len, int *status);

/* Parses a Content-Length value (decimal digits only); returns 0, or -1
 * when it is not one or overflows. */
int http_parse_length(const char *value, unsigned long long *length);

/* Tells whether the comma-separated list value holds token (case
 * ignored): "keep-alive, Upgrade" holds "upgrade". */
bool http_list_has(const char *value, const char *token);

#endif
