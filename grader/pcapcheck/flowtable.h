/* flowtable.h - a hash table from flow keys to indexes (open addressing).
 *
 * The table stores no flows itself: it maps each key to the index of the
 * caller's current record for that flow, so that records can live in one
 * growable array and a reused 4-tuple can be pointed at its newest record.
 */
#ifndef PCAPCHECK_FLOWTABLE_H
#define PCAPCHECK_FLOWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct flow_slot {
	struct flow_key key;
	uint64_t hash;
	size_t index; /* FLOWTABLE_EMPTY when the slot is free */
};

#define FLOWTABLE_EMPTY SIZE_MAX

struct flow_table {
	struct flow_slot *slots;
	size_t capacity; /* a power of two, or 0 before the first insert */
	size_t count;
};

/* flowtable_init - make an empty table (no allocation yet). */
void flowtable_init(struct flow_table *t);

/* flowtable_free - release the table's memory. */
void flowtable_free(struct flow_table *t);

/* flowtable_find - index stored for key, or FLOWTABLE_EMPTY if none. */
size_t flowtable_find(const struct flow_table *t, const struct flow_key *key);

/* flowtable_put - store index for key (insert or replace); 0 or -1. */
int flowtable_put(struct flow_table *t, const struct flow_key *key,
		  size_t index);

#endif
