/*
 * http - the pieces of HTTP/1.1 that webserver and httpget share
 * (see http.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "http.h"

#include <string.h>
#include <strings.h>

#include "sl_log.h" /* SL_TODO() in the skeleton's blanks */

/* A status code and its reason phrase. */
struct reason {
	int status;
	const char *text;
};

static const struct reason reasons[] = {
	{HTTP_OK, "OK"},
	{HTTP_BAD_REQUEST, "Bad Request"},
	{HTTP_FORBIDDEN, "Forbidden"},
	{HTTP_NOT_FOUND, "Not Found"},
	{HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed"},
	{HTTP_REQUEST_TIMEOUT, "Request Timeout"},
	{HTTP_URI_TOO_LONG, "URI Too Long"},
	{HTTP_HEADERS_TOO_LARGE, "Request Header Fields Too Large"},
	{HTTP_INTERNAL_ERROR, "Internal Server Error"},
	{HTTP_VERSION_NOT_SUPPORTED, "HTTP Version Not Supported"},
};

/* A file name extension and its media type. */
struct media_type {
	const char *ext;
	const char *type;
};

static const struct media_type media_types[] = {
	{".html", "text/html"},
	{".htm", "text/html"},
	{".txt", "text/plain"},
	{".css", "text/css"},
	{".js", "text/javascript"},
	{".json", "application/json"},
	{".png", "image/png"},
	{".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"},
	{".gif", "image/gif"},
	{".svg", "image/svg+xml"},
	{".ico", "image/x-icon"},
	{".pdf", "application/pdf"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *http_reason(int status)
{
	for (size_t i = 0; i < COUNT(reasons); i++) {
		if (reasons[i].status == status)
			return reasons[i].text;
	}
	return "Unknown";
}

/* Tells whether c may appear in a method name (an HTTP "token"). */
static bool is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Copies the n bytes at p into dst (size bytes) with a NUL; returns 0, or
 * -1 when they do not fit. */
static int copy_field(char *dst, size_t size, const char *p, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* Parses "HTTP/1.0" or "HTTP/1.1" into *minor; returns 0, or the status
 * of the error response (505 for another HTTP version, 400 otherwise). */
static int parse_version(const char *p, size_t n, int *minor)
{
	if (n == 8 && memcmp(p, "HTTP/1.", 7) == 0 &&
	    (p[7] == '0' || p[7] == '1')) {
		*minor = p[7] - '0';
		return 0;
	}
	if (n == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' &&
	    p[5] <= '9' && p[6] == '.' && p[7] >= '0' && p[7] <= '9')
		return HTTP_VERSION_NOT_SUPPORTED;
	return HTTP_BAD_REQUEST;
}

/* http_parse_request_line() without the clean-up on failure. */
static int parse_request_line(const char *line, size_t len,
			      struct http_request *req)
{
	const char *end = line + len;
	const char *sp1, *sp2;
	size_t mlen;
	int status;

	memset(req, 0, sizeof *req);
	/* A NUL inside the line would cut every string made from it. */
	if (memchr(line, '\0', len) != NULL)
		return HTTP_BAD_REQUEST;
	sp1 = memchr(line, ' ', len);
	if (sp1 == NULL)
		return HTTP_BAD_REQUEST;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	/* Exactly two single spaces: an empty target or a third field is
	 * malformed. */
	if (sp2 == NULL || sp2 == sp1 + 1 ||
	    memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)) != NULL)
		return HTTP_BAD_REQUEST;
	mlen = (size_t)(sp1 - line);
	if (mlen == 0 ||
	    copy_field(req->method, sizeof req->method, line, mlen) < 0)
		return HTTP_BAD_REQUEST;
	for (size_t i = 0; i < mlen; i++) {
		if (!is_token_char(line[i]))
			return HTTP_BAD_REQUEST;
	}
	if (copy_field(req->target, sizeof req->target, sp1 + 1,
		       (size_t)(sp2 - sp1 - 1)) < 0)
		return HTTP_URI_TOO_LONG;
	status = parse_version(sp2 + 1, (size_t)(end - sp2 - 1), &req->minor);
	if (status != 0)
		return status;
	req->keep_alive = req->minor == 1;
	return 0;
}

int http_parse_request_line(const char *line, size_t len,
			    struct http_request *req)
{
	int status = parse_request_line(line, len, req);

	if (status != 0)
		memset(req, 0, sizeof *req); /* no half-parsed fields */
	return status;
}

/* Tells whether c is optional white space (OWS) in a header line. */
static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int http_split_header(char *line, char **name, char **value)
{
	char *colon = strchr(line, ':');
	char *v, *last;

	/* A line starting with a blank is an obsolete "folded" header, and
	 * a blank before the ':' is forbidden: both have been used to
	 * smuggle requests past proxies, so refuse them. */
	if (colon == NULL || colon == line || is_ows(line[0]))
		return -1;
	for (char *p = line; p < colon; p++) {
		if (is_ows(*p))
			return -1;
	}
	*colon = '\0';
	v = colon + 1;
	while (is_ows(*v))
		v++;
	last = v + strlen(v);
	while (last > v && is_ows(last[-1]))
		last--;
	*last = '\0';
	*name = line;
	*value = v;
	return 0;
}

bool http_list_has(const char *value, const char *token)
{
	size_t tlen = strlen(token);

	while (*value != '\0') {
		size_t n;

		while (*value == ',' || is_ows(*value))
			value++;
		n = strcspn(value, ", \t");
		if (n == tlen && strncasecmp(value, token, n) == 0)
			return true;
		value += n;
		while (*value != '\0' && *value != ',')
			value++;
	}
	return false;
}

int http_parse_length(const char *value, unsigned long long *length)
{
	unsigned long long n = 0;

	if (*value == '\0')
		return -1;
	for (; *value != '\0'; value++) {
		unsigned digit = (unsigned)(*value - '0');

		if (*value < '0' || *value > '9' ||
		    n > (~0ULL - digit) / 10)
			return -1;
		n = n * 10 + digit;
	}
	*length = n;
	return 0;
}

int http_request_header(struct http_request *req, const char *name,
			const char *value)
{
	unsigned long long length;

	if (strcasecmp(name, "Connection") == 0) {
		if (http_list_has(value, "close"))
			req->keep_alive = false;
		else if (http_list_has(value, "keep-alive"))
			req->keep_alive = true;
	} else if (strcasecmp(name, "Content-Length") == 0) {
		if (http_parse_length(value, &length) < 0)
			return HTTP_BAD_REQUEST;
		req->has_body = req->has_body || length > 0;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		req->has_body = true;
	}
	return 0;
}

/* Returns the value of hex digit c, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the %XX escapes of the n bytes at src into dst (at least n + 1
 * bytes), NUL-terminated; returns 0, or -1 on a bad escape or a %00. */
static int percent_decode(const char *src, size_t n, char *dst)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (src[i] != '%') {
			*dst++ = src[i];
			continue;
		}
		hi = i + 1 < n ? hex_value(src[i + 1]) : -1;
		lo = i + 2 < n ? hex_value(src[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*dst++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*dst = '\0';
	return 0;
}

/* Adds the segment seg (n bytes, decoded, no '/') to the relative path
 * being built in path (size bytes, *used of them taken, NUL-terminated);
 * returns 0, or the status of the error response. */
static int add_segment(char *path, size_t size, size_t *used, const char *seg,
		       size_t n)
{
	/* TODO 1: Skip an empty or "." segment, refuse ".." with HTTP_BAD_REQUEST, else append the segment (after a '/' unless it is the first) or return HTTP_URI_TOO_LONG when it does not fit. */
	(void)path;
	(void)size;
	(void)used;
	(void)seg;
	(void)n;
	SL_TODO(1);
	return HTTP_BAD_REQUEST;
}

int http_target_to_path(const char *target, char *path, size_t size)
{
	char decoded[HTTP_TARGET_MAX];
	size_t n = strcspn(target, "?#"); /* the query is not part of it */
	size_t used = 0;
	const char *seg;

	if (size == 0 || target[0] != '/')
		return HTTP_BAD_REQUEST;
	if (n >= sizeof decoded)
		return HTTP_URI_TOO_LONG;
	/* Decode first, check after: "%2e%2e" is ".." and "%2f" is '/'. */
	if (percent_decode(target, n, decoded) < 0)
		return HTTP_BAD_REQUEST;
	path[0] = '\0';
	for (seg = decoded; *seg != '\0';) {
		size_t len = strcspn(seg, "/");
		int status = add_segment(path, size, &used, seg, len);

		if (status != 0)
			return status;
		seg += len;
		if (*seg == '/')
			seg++;
	}
	return 0;
}

const char *http_content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash != NULL ? slash : path, '.');

	/* TODO 2: Look dot (the extension, NULL when there is none) up in media_types, ignoring case with strcasecmp(), and return its type; return "application/octet-stream" when it is not there. */
	(void)dot;
	(void)media_types;
	SL_TODO(2);
	return "application/octet-stream";
}

int http_parse_status_line(const char *line, size_t len, int *status)
{
	/* "HTTP/1.1 200 OK": version, one space, three digits, then a
	 * space and a reason phrase (which may be empty) or nothing. */
	if (len < 12 || memcmp(line, "HTTP/", 5) != 0 || line[5] < '0' ||
	    line[5] > '9' || line[6] != '.' || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
	}
	if (len > 12 && line[12] != ' ')
		return -1;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
		  (line[11] - '0');
	return 0;
}
