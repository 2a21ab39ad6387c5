/*  bench_hist: a log-linear latency histogram. See bench_hist.h.          */
#include "bench_hist.h"

#include <math.h>
#include <stdlib.h>

#define HIST_SUB_BITS  10
#define HIST_SUB       (1u << HIST_SUB_BITS)               //  buckets per power of two
#define HIST_BUCKETS   (2 * HIST_SUB + (64 - HIST_SUB_BITS - 1) * HIST_SUB)

struct bench_hist_t {
    uint64_t count;
    uint64_t max;
    double sum;
    uint64_t buckets [HIST_BUCKETS];
};

//  Allocates a zeroed histogram.
bench_hist_t *
bench_hist_new (void)
{
    return calloc (1, sizeof (bench_hist_t));
}

//  Frees a histogram; idempotent.
void
bench_hist_destroy (bench_hist_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

//  Maps a value to its bucket: exact below 2 * HIST_SUB, then the top
//  HIST_SUB_BITS + 1 bits of the value select the bucket.
static unsigned
s_bucket_of (uint64_t value)
{
    if (value < 2 * HIST_SUB)
        return (unsigned) value;
    unsigned shift = 63 - (unsigned) __builtin_clzll (value) - HIST_SUB_BITS;
    unsigned top = (unsigned) (value >> shift);             //  HIST_SUB .. 2 * HIST_SUB - 1
    return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (top - HIST_SUB);
}

//  The highest value that falls into bucket.
static uint64_t
s_bucket_top (unsigned bucket)
{
    if (bucket < 2 * HIST_SUB)
        return bucket;
    unsigned shift = (bucket - 2 * HIST_SUB) / HIST_SUB + 1;
    uint64_t top = HIST_SUB + (bucket - 2 * HIST_SUB) % HIST_SUB;
    return ((top + 1) << shift) - 1;
}

//  Counts one sample.
void
bench_hist_add (bench_hist_t *self, uint64_t value)
{
    self->buckets [s_bucket_of (value)]++;
    self->count++;
    self->sum += (double) value;
    if (value > self->max)
        self->max = value;
}

//  Number of samples counted.
uint64_t
bench_hist_count (const bench_hist_t *self)
{
    return self->count;
}

//  Largest sample seen.
uint64_t
bench_hist_max (const bench_hist_t *self)
{
    return self->max;
}

//  Arithmetic mean of the samples.
double
bench_hist_mean (const bench_hist_t *self)
{
    return self->count ? self->sum / (double) self->count : 0;
}

//  Walks the buckets to the one holding the requested rank.
uint64_t
bench_hist_percentile (const bench_hist_t *self, double percent)
{
    if (self->count == 0)
        return 0;
    uint64_t rank = (uint64_t) ceil (percent / 100.0 * (double) self->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned bucket = 0; bucket < HIST_BUCKETS; bucket++) {
        seen += self->buckets [bucket];
        if (seen >= rank) {
            uint64_t top = s_bucket_top (bucket);
            return top < self->max ? top : self->max;
        }
    }
    return self->max;
}
