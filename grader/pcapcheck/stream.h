/* stream.h - the reassembled byte stream of one TCP direction.
 *
 * Segments are written at their offset in the stream (relative sequence
 * number minus one), whatever order they arrive in; the stream knows how
 * many bytes from the start are contiguous. Only the first `limit` bytes
 * are kept: enough for payload previews and application messages without
 * letting a long capture grow memory without bound.
 */
#ifndef PCAPCHECK_STREAM_H
#define PCAPCHECK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_DEFAULT_LIMIT ((size_t)1 << 20)
#define STREAM_MAX_PENDING   4

/* Bytes [start, end) received beyond a hole. */
struct stream_range {
	uint64_t start, end;
};

struct stream {
	uint8_t *data;
	size_t allocated;
	size_t limit;	     /* bytes kept at most */
	uint64_t contiguous; /* bytes [0, contiguous) are all known */
	struct stream_range pending[STREAM_MAX_PENDING];
	size_t npending;
	bool lost; /* more holes than we track: some data was dropped */
};

/* stream_init - make an empty stream that keeps at most limit bytes. */
void stream_init(struct stream *s, size_t limit);

/* stream_free - release the stream's buffer. */
void stream_free(struct stream *s);

/* stream_add - store n bytes at stream offset off; 0, or -1 with errno. */
int stream_add(struct stream *s, uint64_t off, const uint8_t *p, size_t n);

/* stream_bytes - the contiguous bytes from the start; *n gets their count. */
const uint8_t *stream_bytes(const struct stream *s, size_t *n);

#endif
