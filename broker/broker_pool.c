/*  broker_pool: size-classed free lists of history nodes, bounded in
    bytes. A free block holds the link to the next free block of its
    class in its first bytes.                                               */
#include "broker_pool.h"

#include <stdlib.h>

//  Eight classes of 16 .. 128 bytes, then eight per doubling up to
//  BROKER_POOL_LARGEST (2^16): 8 + 9 x 8
#define POOL_CLASSES 80

typedef struct block_t block_t;
struct block_t {
    block_t *next;
};

struct broker_pool_t {
    block_t *free [POOL_CLASSES];
    size_t free_bytes;
    size_t max_free;
    uint64_t mallocs;
};

//  The class of a block of size bytes (0 < size <= BROKER_POOL_LARGEST),
//  and through class_size the bytes that class's blocks have.
static size_t
s_class (size_t size, size_t *class_size)
{
    if (size <= 128) {
        size_t index = (size + 15) / 16 - 1;
        *class_size = (index + 1) * 16;
        return index;
    }
    //  2^k < size <= 2^(k+1), in steps of 2^(k-3)
    unsigned k = 63 - (unsigned) __builtin_clzll ((unsigned long long) (size - 1));
    size_t step_index = (size - 1 - ((size_t) 1 << k)) >> (k - 3);
    *class_size = ((size_t) 1 << k) + ((step_index + 1) << (k - 3));
    return 8 + (k - 7) * 8 + step_index;
}

size_t
broker_pool_block_size (size_t size)
{
    size_t class_size = size;
    if (size > 0 && size <= BROKER_POOL_LARGEST)
        s_class (size, &class_size);
    return class_size;
}

broker_pool_t *
broker_pool_new (size_t max_free)
{
    broker_pool_t *self = calloc (1, sizeof *self);
    if (self)
        self->max_free = max_free;
    return self;
}

void
broker_pool_destroy (broker_pool_t **self_p)
{
    broker_pool_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < POOL_CLASSES; i++)
        while (self->free [i]) {
            block_t *block = self->free [i];
            self->free [i] = block->next;
            free (block);
        }
    free (self);
    *self_p = NULL;
}

void *
broker_pool_take (broker_pool_t *self, size_t size)
{
    if (size > BROKER_POOL_LARGEST) {
        self->mallocs++;
        return malloc (size);
    }
    size_t class_size;
    size_t index = s_class (size, &class_size);
    block_t *block = self->free [index];
    if (block) {
        self->free [index] = block->next;
        self->free_bytes -= class_size;
        return block;
    }
    self->mallocs++;
    return malloc (class_size);
}

void
broker_pool_give (broker_pool_t *self, void *block, size_t size)
{
    if (!block)
        return;
    size_t class_size = size;
    size_t index = size <= BROKER_POOL_LARGEST? s_class (size, &class_size): 0;
    if (size > BROKER_POOL_LARGEST || self->free_bytes + class_size > self->max_free) {
        free (block);
        return;
    }
    block_t *free_block = block;
    free_block->next = self->free [index];
    self->free [index] = free_block;
    self->free_bytes += class_size;
}

size_t
broker_pool_free_bytes (broker_pool_t *self)
{
    return self->free_bytes;
}

uint64_t
broker_pool_mallocs (broker_pool_t *self)
{
    return self->mallocs;
}
