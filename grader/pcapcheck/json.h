/* json.h - a tiny streaming JSON writer with correct string escaping.
 *
 * Values are written as they come, with two-space indentation; the writer
 * only remembers, per nesting level, whether a comma is due. Strings are
 * byte strings: valid UTF-8 is kept, control characters are escaped, and
 * any byte that is not part of valid UTF-8 is written as \u00XX with the
 * byte's value, so that any payload can be shown without breaking JSON.
 */
#ifndef PCAPCHECK_JSON_H
#define PCAPCHECK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	int depth;
	bool comma_due[JSON_MAX_DEPTH];
	bool after_key;
};

/* json_init - start writing one JSON document to out. */
void json_init(struct json_writer *w, FILE *out);

/* json_begin_object, json_end_object - { and } */
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);

/* json_begin_array, json_end_array - [ and ] */
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);

/* json_key - the key of the next member of the current object. */
void json_key(struct json_writer *w, const char *key);

/* json_string - a NUL-terminated string value. */
void json_string(struct json_writer *w, const char *s);

/* json_bytes - n bytes as a string value (see the escaping rules above). */
void json_bytes(struct json_writer *w, const uint8_t *p, size_t n);

/* json_uint, json_bool, json_null - scalar values. */
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* json_fixed - the number v / 10^decimals (decimals >= 1), printed exactly. */
void json_fixed(struct json_writer *w, int64_t v, int decimals);

/* json_finish - end the document with a newline; 0, or -1 if writing failed. */
int json_finish(struct json_writer *w);

/* json_write_escaped - write bytes as the inside of a JSON string. */
void json_write_escaped(FILE *out, const uint8_t *p, size_t n);

/* utf8_sequence_length - length of the valid UTF-8 sequence at p, or 0. */
size_t utf8_sequence_length(const uint8_t *p, size_t n);

#endif
