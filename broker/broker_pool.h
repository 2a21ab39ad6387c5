/*  broker_pool: a bounded free list of history nodes, by size class, so
    the history's steady state (one message in, its topic's oldest out)
    reuses the evicted node instead of a malloc and a free per message.

    Blocks up to BROKER_POOL_LARGEST bytes are rounded up to one of 80 size
    classes (eight per doubling, so at most 1/8 more than asked for); a
    larger block comes from malloc and goes back to free. Blocks given back
    wait in their class's list until taken again, at most max_free bytes
    of them in all; beyond that they go back to free: the pool never holds
    more than max_free bytes that the history does not use.               */
#ifndef BROKER_POOL_H_INCLUDED
#define BROKER_POOL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define BROKER_POOL_LARGEST     ((size_t) 64 * 1024)
#define BROKER_POOL_FREE_MAX    ((size_t) 1024 * 1024)

typedef struct broker_pool_t broker_pool_t;

//  Returns a new, empty pool that keeps at most max_free bytes of free
//  blocks, or NULL when out of memory.
broker_pool_t *broker_pool_new (size_t max_free);

//  Frees every free block and the pool; NULLs the pointer. Blocks still
//  taken are the caller's: give them back before, or free them with free.
void broker_pool_destroy (broker_pool_t **self_p);

//  Returns a block of at least size bytes (size > 0), from the pool when
//  its class has one, else from malloc; NULL when out of memory. The
//  caller gives it back with broker_pool_give and the same size.
void *broker_pool_take (broker_pool_t *self, size_t size);

//  Takes back a block from broker_pool_take (size as asked then).
void broker_pool_give (broker_pool_t *self, void *block, size_t size);

//  The bytes a block of size really takes: its class's size, or size
//  itself past BROKER_POOL_LARGEST.
size_t broker_pool_block_size (size_t size);

//  Bytes waiting in the free lists, and blocks taken from malloc since
//  the start (what the pool could not serve).
size_t broker_pool_free_bytes (broker_pool_t *self);
uint64_t broker_pool_mallocs (broker_pool_t *self);

#endif
