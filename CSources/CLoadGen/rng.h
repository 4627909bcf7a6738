/* xorshift64*: the endpoint mix, the WebSocket keys and the frames' masks need speed, not secrecy. */
#ifndef AB_RNG_H
#define AB_RNG_H

#include <stdint.h>

/* `state` must not be 0. */
static inline uint64_t rng_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ull;
}

#endif
