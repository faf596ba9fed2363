/* array.h - growing arrays of structs by doubling. */
#ifndef PCAPCHECK_ARRAY_H
#define PCAPCHECK_ARRAY_H

#include <stddef.h>

/* array_grow - items (of size bytes each, capacity *allocated) reallocated to
 * twice the capacity, or minimum when empty; on success *allocated is the new
 * capacity.  Returns the new array, or NULL with errno (items untouched). */
void *array_grow(void *items, size_t *allocated, size_t minimum, size_t size);

#endif
