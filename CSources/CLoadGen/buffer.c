#include "buffer.h"

#include <errno.h>
#include <stdlib.h>

int buffer_reserve(uint8_t **bytes, uint32_t *capacity, size_t needed)
{
	size_t size = *capacity ? *capacity : 256;
	uint8_t *grown;

	if (needed <= *capacity)
		return 0;
	while (size < needed)
		size *= 2;
	if (size > UINT32_MAX)
		return -ENOMEM;
	grown = realloc(*bytes, size);
	if (!grown)
		return -ENOMEM;
	*bytes = grown;
	*capacity = (uint32_t)size;
	return 0;
}
