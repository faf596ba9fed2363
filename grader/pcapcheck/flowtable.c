/* flowtable.c - a hash table from flow keys to indexes (open addressing). */
#include "flowtable.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define FLOWTABLE_MIN_CAPACITY 1024

void flowtable_init(struct flow_table *t)
{
	t->slots = NULL;
	t->capacity = 0;
	t->count = 0;
}

void flowtable_free(struct flow_table *t)
{
	free(t->slots);
	flowtable_init(t);
}

/* probe - the slot holding key, or the free slot where it would go. */
static struct flow_slot *probe(const struct flow_table *t,
			       const struct flow_key *key, uint64_t hash)
{
	size_t mask = t->capacity - 1;
	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		struct flow_slot *s = &t->slots[i];
		if (s->index == FLOWTABLE_EMPTY)
			return s;
		if (s->hash == hash && flow_key_equal(&s->key, key))
			return s;
	}
}

size_t flowtable_find(const struct flow_table *t, const struct flow_key *key)
{
	if (t->capacity == 0)
		return FLOWTABLE_EMPTY;
	return probe(t, key, flow_key_hash(key))->index;
}

/* grow - move every entry into a table twice as large; 0, or -1 with errno. */
static int grow(struct flow_table *t)
{
	size_t capacity =
		t->capacity ? t->capacity * 2 : FLOWTABLE_MIN_CAPACITY;
	if (capacity > SIZE_MAX / sizeof(struct flow_slot)) {
		errno = ENOMEM;
		return -1;
	}
	struct flow_slot *slots = malloc(capacity * sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < capacity; i++)
		slots[i].index = FLOWTABLE_EMPTY;

	struct flow_table bigger = {slots, capacity, t->count};
	for (size_t i = 0; i < t->capacity; i++) {
		const struct flow_slot *old = &t->slots[i];
		if (old->index != FLOWTABLE_EMPTY)
			*probe(&bigger, &old->key, old->hash) = *old;
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

int flowtable_put(struct flow_table *t, const struct flow_key *key,
		  size_t index)
{
	/* Keep the load at most one half so that probe sequences stay short. */
	if ((t->count + 1) * 2 > t->capacity && grow(t) == -1)
		return -1;
	uint64_t hash = flow_key_hash(key);
	struct flow_slot *s = probe(t, key, hash);
	if (s->index == FLOWTABLE_EMPTY)
		t->count++;
	s->key = *key;
	s->hash = hash;
	s->index = index;
	return 0;
}
