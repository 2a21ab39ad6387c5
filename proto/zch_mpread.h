/*  zch_mpread: a bounded msgpack reader over a byte buffer.

    The frame protocol and headers need views into a buffer that may hold
    a 1 MiB payload: this reader returns pointers into the buffer, checks
    every length against the bytes left before reading, and never
    allocates. Each call reads one value at the cursor and returns 0, or
    -1 (cursor unchanged) when the next value is not of that type or does
    not fit. It reads the msgpack types the protocol uses; zch_mpread_skip
    steps over any value.                                                  */
#ifndef ZCH_MPREAD_H_INCLUDED
#define ZCH_MPREAD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} zch_mpread_t;

//  Starts reading data[0..size).
void zch_mpread_init (zch_mpread_t *self, const uint8_t *data, size_t size);

//  True once every byte was read.
bool zch_mpread_done (const zch_mpread_t *self);

//  An array or map header: *count entries (a map's entries are pairs).
int zch_mpread_array (zch_mpread_t *self, uint32_t *count);
int zch_mpread_map (zch_mpread_t *self, uint32_t *count);

//  A str; *text points into the buffer and is not NUL-terminated.
int zch_mpread_str (zch_mpread_t *self, const char **text, size_t *len);

//  A bin or a str, as bytes.
int zch_mpread_bytes (zch_mpread_t *self, const uint8_t **bytes, size_t *len);

//  A non-negative integer in any encoding.
int zch_mpread_uint (zch_mpread_t *self, uint64_t *value);

//  Reads a nil and returns true, or returns false and reads nothing.
bool zch_mpread_nil (zch_mpread_t *self);

//  Steps over one value of any type, containers included, checking that
//  every length fits. Iterative: no depth limit is needed.
int zch_mpread_skip (zch_mpread_t *self);

#endif
