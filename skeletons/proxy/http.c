/*
 * http - request lines, targets, header lines and status lines (see
 * http.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_args.h"
#include "sl_log.h"
#include "sl_net.h"

/* Bytes a host name or IPv6 literal may hold: anything else (a space, a
 * '@' of "user@host", a '/') makes the request malformed. */
#define HOST_CHARS                   \
	"abcdefghijklmnopqrstuvwxyz" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789.-_:"

/* Headers that concern one connection only: the proxy drops them and
 * writes its own Host and Connection to the origin. */
static const char *const hop_by_hop[] = {
	"Host",
	"Connection",
	"Keep-Alive",
	"Proxy-Connection",
	"Proxy-Authorization",
	"TE",
	"Trailer",
	"Upgrade",
};

/* Splits "host[:port]" (len bytes; an IPv6 address in brackets,
 * "[::1]:8080") into req->host and req->port (80 when absent); returns 0
 * or 400. */
static int parse_authority(const char *text, size_t len,
			   struct http_request *req)
{
	const char *host = text, *end = text + len, *colon;
	char port[8], err[SL_ERRLEN];
	size_t hostlen;

	if (len > 0 && text[0] == '[') {
		const char *close = memchr(text, ']', len);

		if (close == NULL)
			return 400;
		host = text + 1;
		hostlen = (size_t)(close - host);
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return 400;
	} else {
		colon = memchr(text, ':', len);
		hostlen = colon != NULL ? (size_t)(colon - text) : len;
	}
	if (hostlen == 0 || hostlen >= sizeof req->host ||
	    strspn(host, HOST_CHARS) < hostlen)
		return 400;
	memcpy(req->host, host, hostlen);
	req->host[hostlen] = '\0';
	req->port = 80;
	if (colon == NULL)
		return 0;
	if ((size_t)(end - colon - 1) >= sizeof port)
		return 400;
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	return sl_parse_port(port, &req->port, err, sizeof err) < 0 ? 400 : 0;
}

/* Splits "host[:port][/path]" into req's host, port and path ("/" when
 * there is none); returns 0 or 400. */
static int parse_host_and_path(const char *text, struct http_request *req)
{
	/* The host ends where the path or the query begins. */
	size_t hostlen = strcspn(text, "/?");
	const char *path = text + hostlen;
	int n;

	if (parse_authority(text, hostlen, req) != 0)
		return 400;
	n = snprintf(req->path, sizeof req->path, "%s%s",
		     path[0] == '/' ? "" : "/", path);
	return n < 0 || (size_t)n >= sizeof req->path ? 400 : 0;
}

/* Splits a target in either form into req's host, port and path; returns
 * 0, 400, or 501 for a URL of another scheme (https://, ftp://). */
static int parse_target(const char *target, struct http_request *req)
{
	if (target[0] == '/') /* "/host:port/path": the original handout */
		return parse_host_and_path(target + 1, req);
	if (strncasecmp(target, "http://", 7) == 0)
		return parse_host_and_path(target + 7, req);
	return strstr(target, "://") != NULL ? 501 : 400;
}

int http_parse_request_line(char *line, struct http_request *req)
{
	char *method, *target, *version, *rest;

	/* TODO 1: Split line at its spaces into method, target and version; accept GET and POST, HTTP/1.0 and HTTP/1.1; parse the target with parse_target(). */
	(void)method;
	(void)target;
	(void)version;
	(void)rest;
	(void)line;
	(void)req;
	(void)parse_target;
	SL_TODO(1);
	return 400;
}

bool http_header_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *v;

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	v = line + n + 1;
	v += strspn(v, " \t");
	if (value != NULL)
		*value = v;
	return true;
}

/* Tells whether line is one of the hop_by_hop headers. */
static bool is_hop_by_hop(const char *line)
{
	size_t i;

	for (i = 0; i < sizeof hop_by_hop / sizeof hop_by_hop[0]; i++)
		if (http_header_is(line, hop_by_hop[i], NULL))
			return true;
	return false;
}

int http_add_header(struct http_request *req, const char *line, size_t len)
{
	const char *value;

	/* TODO 2: Reject a line without a colon (400); note Content-Length (400 if bad or twice); refuse Transfer-Encoding (411); skip hop-by-hop headers; append the rest and CR LF to req->headers (431 when full). */
	(void)req;
	(void)line;
	(void)len;
	(void)value;
	(void)is_hop_by_hop;
	SL_TODO(2);
	return 0;
}

int http_parse_length(const char *value, unsigned long long *length)
{
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -1; /* strtoull would take "-1" or "+1" */
	errno = 0;
	*length = strtoull(value, &end, 10);
	end += strspn(end, " \t");
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int http_parse_status_line(const char *line, int *status)
{
	const char *code = line + 9; /* after "HTTP/1.x " */

	if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] == '\0' ||
	    line[8] != ' ' || strspn(code, "0123456789") != 3 ||
	    (code[3] != ' ' && code[3] != '\0'))
		return -1;
	*status =
		(code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	return 0;
}

int http_cache_key(const struct http_request *req, char *buf, size_t len)
{
	char hostport[SL_HOSTPORTLEN];
	int n;

	if (sl_hostport_str(req->host, req->port, hostport, sizeof hostport) <
	    0)
		return -1;
	n = snprintf(buf, len, "%s%s", hostport, req->path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}
