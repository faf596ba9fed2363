/* stream.c - the reassembled byte stream of one TCP direction. */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_MIN_ALLOCATION 4096

void stream_init(struct stream *s, size_t limit)
{
	memset(s, 0, sizeof *s);
	s->limit = limit;
}

void stream_free(struct stream *s)
{
	free(s->data);
	stream_init(s, s->limit);
}

/* reserve - make the buffer hold at least n bytes (n <= limit); 0 or -1. */
static int reserve(struct stream *s, size_t n)
{
	if (n <= s->allocated)
		return 0;
	size_t size = s->allocated ? s->allocated : STREAM_MIN_ALLOCATION;
	while (size < n)
		size *= 2;
	if (size > s->limit)
		size = s->limit;
	uint8_t *data = realloc(s->data, size);
	if (data == NULL)
		return -1;
	s->data = data;
	s->allocated = size;
	return 0;
}

/* remove_pending - drop the pending range at index i. */
static void remove_pending(struct stream *s, size_t i)
{
	s->pending[i] = s->pending[--s->npending];
}

/* absorb_pending - extend the contiguous part over ranges it reaches. */
static void absorb_pending(struct stream *s)
{
	for (size_t i = 0; i < s->npending;) {
		if (s->pending[i].start <= s->contiguous) {
			if (s->pending[i].end > s->contiguous)
				s->contiguous = s->pending[i].end;
			remove_pending(s, i);
			i = 0; /* the new end may reach ranges checked before */
		} else {
			i++;
		}
	}
}

/* add_pending - remember [start, end) beyond a hole, merging overlaps. */
static void add_pending(struct stream *s, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < s->npending;) {
		struct stream_range *r = &s->pending[i];
		if (r->start <= end && start <= r->end) {
			start = r->start < start ? r->start : start;
			end = r->end > end ? r->end : end;
			remove_pending(s, i);
		} else {
			i++;
		}
	}
	if (s->npending == STREAM_MAX_PENDING) {
		s->lost = true;
		return;
	}
	s->pending[s->npending].start = start;
	s->pending[s->npending].end = end;
	s->npending++;
}

int stream_add(struct stream *s, uint64_t off, const uint8_t *p, size_t n)
{
	if (off >= s->limit || n == 0)
		return 0;
	if (n > s->limit - off)
		n = (size_t)(s->limit - off);
	if (reserve(s, (size_t)off + n) == -1)
		return -1;
	memcpy(s->data + off, p, n);

	uint64_t end = off + n;
	if (off <= s->contiguous) {
		if (end > s->contiguous)
			s->contiguous = end;
		absorb_pending(s);
	} else {
		add_pending(s, off, end);
	}
	return 0;
}

const uint8_t *stream_bytes(const struct stream *s, size_t *n)
{
	*n = (size_t)s->contiguous;
	return s->data;
}
