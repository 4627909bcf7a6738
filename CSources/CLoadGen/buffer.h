/* Growable byte buffers, for what arrives or leaves in pieces: the bytes a socket write could not
 * take yet, a WebSocket frame split across reads, a fragmented WebSocket message. */
#ifndef AB_BUFFER_H
#define AB_BUFFER_H

#include <stddef.h>
#include <stdint.h>

/* Makes room for `needed` bytes in `*bytes` (doubling from 256, kept below 4 GiB); 0 or -ENOMEM,
 * the buffer unchanged on failure. */
int buffer_reserve(uint8_t **bytes, uint32_t *capacity, size_t needed);

#endif
