/* bytes.h - bounds-checked, endian-safe reads from captured bytes.
 *
 * Every header field of a packet is read through one of these getters:
 * each checks that the field lies inside the captured bytes before it
 * touches memory, and returns -1 instead of reading past the end. A
 * truncated packet is then reported by the decoder, never trusted.
 */
#ifndef PCAPCHECK_BYTES_H
#define PCAPCHECK_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A read-only view of len bytes starting at data. */
struct bytes {
	const uint8_t *data;
	size_t len;
};

/* bytes_has - true if n bytes starting at off lie inside the view. */
static inline bool bytes_has(const struct bytes *b, size_t off, size_t n)
{
	return off <= b->len && n <= b->len - off;
}

/* bytes_tail - the view of everything from off on (off <= b->len). */
static inline struct bytes bytes_tail(const struct bytes *b, size_t off)
{
	struct bytes t = {b->data + off, b->len - off};
	return t;
}

/* get_u8 - read the byte at off; 0, or -1 if it was not captured. */
static inline int get_u8(const struct bytes *b, size_t off, uint8_t *v)
{
	if (!bytes_has(b, off, 1))
		return -1;
	*v = b->data[off];
	return 0;
}

/* get_be16 - read a big-endian (network order) 16-bit field; 0 or -1. */
static inline int get_be16(const struct bytes *b, size_t off, uint16_t *v)
{
	if (!bytes_has(b, off, 2))
		return -1;
	*v = (uint16_t)((uint16_t)b->data[off] << 8 | b->data[off + 1]);
	return 0;
}

/* get_be32 - read a big-endian (network order) 32-bit field; 0 or -1. */
static inline int get_be32(const struct bytes *b, size_t off, uint32_t *v)
{
	if (!bytes_has(b, off, 4))
		return -1;
	*v = (uint32_t)b->data[off] << 24 | (uint32_t)b->data[off + 1] << 16 |
	     (uint32_t)b->data[off + 2] << 8 | (uint32_t)b->data[off + 3];
	return 0;
}

/* get_le32 - read a little-endian 32-bit field; 0 or -1. */
static inline int get_le32(const struct bytes *b, size_t off, uint32_t *v)
{
	if (!bytes_has(b, off, 4))
		return -1;
	*v = (uint32_t)b->data[off + 3] << 24 |
	     (uint32_t)b->data[off + 2] << 16 |
	     (uint32_t)b->data[off + 1] << 8 | (uint32_t)b->data[off];
	return 0;
}

/* get_bytes - copy n bytes from off into out; 0, or -1 if not captured. */
static inline int get_bytes(const struct bytes *b, size_t off, uint8_t *out,
			    size_t n)
{
	if (!bytes_has(b, off, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = b->data[off + i];
	return 0;
}

#endif
