/*  zch_limits: the per-address connection rate limit.                      */
#include "zch_limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_ADDR_MAX  16              //  an IPv6 address
#define S_PROBE     8               //  slots looked at per address

typedef struct {
    uint8_t addr [S_ADDR_MAX];
    uint8_t addr_len;               //  0: a free slot
    double tokens;
    int64_t seen_ms;                //  last refill
} s_bucket_t;

struct zch_rate_table_t {
    pthread_mutex_t mutex;
    s_bucket_t *buckets;
    size_t slots;
    size_t used;
};

zch_rate_table_t *
zch_rate_table_new (size_t slots)
{
    if (slots == 0)
        return NULL;
    zch_rate_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->buckets = calloc (slots, sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    self->slots = slots;
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
zch_rate_table_destroy (zch_rate_table_t **self_p)
{
    zch_rate_table_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_destroy (&self->mutex);
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

//  FNV-1a over the address bytes: cheap and good enough to spread them.
static size_t
s_hash (const uint8_t *addr, size_t len)
{
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ addr [i]) * 1099511628211ULL;
    return (size_t) hash;
}

//  The bucket of addr: its own, a free slot, or the least recently seen
//  of the probed slots (evicted).
static s_bucket_t *
s_bucket_of (zch_rate_table_t *self, const uint8_t *addr, size_t len, double burst,
             int64_t now_ms)
{
    size_t start = s_hash (addr, len) % self->slots;
    s_bucket_t *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < S_PROBE && i < self->slots; i++) {
        s_bucket_t *bucket = &self->buckets [(start + i) % self->slots];
        if (bucket->addr_len == len && memcmp (bucket->addr, addr, len) == 0)
            return bucket;
        if (bucket->addr_len == 0) {
            if (!free_slot)
                free_slot = bucket;
        }
        else
        if (!oldest || bucket->seen_ms < oldest->seen_ms)
            oldest = bucket;
    }
    s_bucket_t *bucket = free_slot? free_slot: oldest;
    if (free_slot)
        self->used++;
    memcpy (bucket->addr, addr, len);
    bucket->addr_len = (uint8_t) len;
    bucket->tokens = burst;
    bucket->seen_ms = now_ms;
    return bucket;
}

bool
zch_rate_allow (zch_rate_table_t *self, const void *addr, size_t addr_len,
                double rate, double burst, int64_t now_ms)
{
    if (rate <= 0 || !self)
        return true;
    if (burst < 1)
        burst = 1;
    if (addr_len > S_ADDR_MAX)
        addr_len = S_ADDR_MAX;
    pthread_mutex_lock (&self->mutex);
    s_bucket_t *bucket = s_bucket_of (self, addr, addr_len, burst, now_ms);
    if (now_ms > bucket->seen_ms) {
        bucket->tokens += rate * (double) (now_ms - bucket->seen_ms) / 1000.0;
        if (bucket->tokens > burst)
            bucket->tokens = burst;
        bucket->seen_ms = now_ms;
    }
    bool allowed = bucket->tokens >= 1.0;
    if (allowed)
        bucket->tokens -= 1.0;
    pthread_mutex_unlock (&self->mutex);
    return allowed;
}

size_t
zch_rate_table_size (zch_rate_table_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t used = self->used;
    pthread_mutex_unlock (&self->mutex);
    return used;
}
