/* array.c - growing arrays of structs by doubling. */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

void *array_grow(void *items, size_t *allocated, size_t minimum, size_t size)
{
	size_t n = *allocated ? *allocated * 2 : minimum;
	if (n < *allocated || n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	void *grown = realloc(items, n * size);
	if (grown != NULL)
		*allocated = n;
	return grown;
}
