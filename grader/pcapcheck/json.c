/* json.c - a tiny streaming JSON writer (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json_writer *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->comma_due[0] = false;
	w->after_key = false;
}

/* indent - start a new line at the current depth. */
static void indent(struct json_writer *w)
{
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* before_value - the comma and indentation due before a value or key. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->comma_due[w->depth])
		fputc(',', w->out);
	if (w->depth > 0)
		indent(w);
	w->comma_due[w->depth] = true;
}

/* begin - open a container with the given bracket. */
static void begin(struct json_writer *w, char bracket)
{
	before_value(w);
	fputc(bracket, w->out);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	w->comma_due[w->depth] = false;
}

/* end - close a container; empty ones stay on one line. */
static void end(struct json_writer *w, char bracket)
{
	bool empty = !w->comma_due[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		indent(w);
	fputc(bracket, w->out);
}

void json_begin_object(struct json_writer *w)
{
	begin(w, '{');
}

void json_end_object(struct json_writer *w)
{
	end(w, '}');
}

void json_begin_array(struct json_writer *w)
{
	begin(w, '[');
}

void json_end_array(struct json_writer *w)
{
	end(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	before_value(w);
	fputc('"', w->out);
	json_write_escaped(w->out, (const uint8_t *)key, strlen(key));
	fputs("\": ", w->out);
	w->after_key = true;
}

size_t utf8_sequence_length(const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp, min;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, cp = p[0] & 0x1fu, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, cp = p[0] & 0x0fu, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, cp = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0; /* a continuation byte or 0xf8..0xff cannot start a sequence */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	/* No overlong forms, no UTF-16 surrogates, nothing beyond U+10FFFF. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* write_escape - write one byte that JSON needs escaped. */
static void write_escape(FILE *out, uint8_t c)
{
	switch (c) {
	case '"':
		fputs("\\\"", out);
		break;
	case '\\':
		fputs("\\\\", out);
		break;
	case '\n':
		fputs("\\n", out);
		break;
	case '\r':
		fputs("\\r", out);
		break;
	case '\t':
		fputs("\\t", out);
		break;
	case '\b':
		fputs("\\b", out);
		break;
	case '\f':
		fputs("\\f", out);
		break;
	default:
		fprintf(out, "\\u%04x", (unsigned)c);
		break;
	}
}

/* plain_run - how many bytes from p on need no escaping. */
static size_t plain_run(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
			break;
		size_t len = utf8_sequence_length(p + i, n - i);
		if (len == 0)
			break;
		i += len;
	}
	return i;
}

void json_write_escaped(FILE *out, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t run = plain_run(p + i, n - i);
		if (run > 0) {
			fwrite(p + i, 1, run,
			       out); /* whole runs: one call, not one per byte */
			i += run;
		}
		if (i < n) {
			/* A control or quote, or a byte that is not UTF-8 (as \u00XX). */
			write_escape(out, p[i]);
			i++;
		}
	}
}

void json_bytes(struct json_writer *w, const uint8_t *p, size_t n)
{
	before_value(w);
	fputc('"', w->out);
	json_write_escaped(w->out, p, n);
	fputc('"', w->out);
}

void json_string(struct json_writer *w, const char *s)
{
	json_bytes(w, (const uint8_t *)s, strlen(s));
}

void json_uint(struct json_writer *w, uint64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRIu64, v);
}

void json_bool(struct json_writer *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
	before_value(w);
	fputs("null", w->out);
}

void json_fixed(struct json_writer *w, int64_t v, int decimals)
{
	int64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	before_value(w);
	/* Integer arithmetic: no binary floating-point rounding in the output. */
	uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	fprintf(w->out, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "",
		magnitude / (uint64_t)scale, decimals,
		magnitude % (uint64_t)scale);
}

int json_finish(struct json_writer *w)
{
	fputc('\n', w->out);
	if (fflush(w->out) == EOF || ferror(w->out))
		return -1;
	return 0;
}
