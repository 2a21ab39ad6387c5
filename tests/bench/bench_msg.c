/*  bench_msg: payload format and delivery checks. See bench_msg.h.        */
#include "bench_msg.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_SEEN_MAX (512u << 20)   //  bytes of duplicate bitmaps we allow

struct bench_check_t {
    const bench_config_t *config;
    bench_result_t *result;
    size_t topic_len;
    uint64_t *last_seq;             //  [subscriber * publishers + publisher]
    uint64_t *seen;                 //  bitmaps of seqs received, per pair; NULL if too big
    uint64_t *unique_by;            //  [subscriber]: distinct messages it received
    uint64_t *told_by;              //  [subscriber]: messages it was told lost
    size_t seen_words;              //  words per pair
};

//  Reads the monotonic clock.
int64_t
bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  Writes value in decimal at to; returns the digits written.
size_t
bench_put_u64 (char *to, uint64_t value)
{
    char digits [20];
    size_t n = 0;
    do {
        digits [n++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < n; i++)
        to [i] = digits [n - 1 - i];
    return n;
}

//  Reads a decimal number ending in stop from *p (below end); advances
//  *p past stop. Returns 0, or -1 if the text is not such a number.
static int
s_get_u64 (const char **p, const char *end, char stop, uint64_t *value)
{
    const char *at = *p;
    uint64_t v = 0;
    while (at < end && *at >= '0' && *at <= '9' && at - *p < 20)
        v = v * 10 + (uint64_t) (*at++ - '0');
    if (at == *p || at == end || *at != stop)
        return -1;
    *p = at + 1;
    *value = v;
    return 0;
}

//  Formats the header, then pads with 'x'.
size_t
bench_payload_fill (char *to, size_t size, int publisher, uint64_t seq)
{
    size_t n = bench_put_u64 (to, (uint64_t) publisher);
    to [n++] = ':';
    n += bench_put_u64 (to + n, seq);
    to [n++] = ':';
    n += bench_put_u64 (to + n, (uint64_t) bench_now_ns ());
    to [n++] = ':';
    if (n < size) {
        memset (to + n, 'x', size - n);
        n = size;
    }
    return n;
}

//  Allocates the per-pair tables and the histogram.
bench_check_t *
bench_check_new (const bench_config_t *config, bench_result_t *result)
{
    bench_check_t *self = calloc (1, sizeof (bench_check_t));
    if (!self)
        return NULL;
    self->config = config;
    self->result = result;
    self->topic_len = strlen (config->topic);
    size_t pairs = (size_t) config->subscribers * (size_t) config->publishers;
    self->last_seq = calloc (pairs, sizeof (uint64_t));
    self->unique_by = calloc ((size_t) config->subscribers + 1, sizeof (uint64_t));
    self->told_by = calloc ((size_t) config->subscribers + 1, sizeof (uint64_t));
    self->seen_words = (size_t) ((config->messages + 63) / 64);
    if (pairs * self->seen_words <= MSG_SEEN_MAX / sizeof (uint64_t))
        self->seen = calloc (pairs * self->seen_words, sizeof (uint64_t));
    result->dup_check = self->seen != NULL;
    result->latency = bench_hist_new ();
    if (!self->last_seq || !self->unique_by || !self->told_by || !result->latency) {
        bench_check_destroy (&self);
        return NULL;
    }
    return self;
}

//  Frees the tables; idempotent.
void
bench_check_destroy (bench_check_t **self_p)
{
    bench_check_t *self = *self_p;
    if (self) {
        free (self->last_seq);
        free (self->seen);
        free (self->unique_by);
        free (self->told_by);
        free (self);
        *self_p = NULL;
    }
}

//  A topic is ours when it is the topic, or with --topics, the topic
//  followed by a separator and anything.
bool
bench_check_topic (bench_check_t *self, const char *topic, size_t len)
{
    if (len < self->topic_len || memcmp (topic, self->config->topic, self->topic_len) != 0)
        return false;
    if (self->config->topics > 1)
        return len > self->topic_len + 1;
    return len == self->topic_len;
}

//  Counts one delivery: ours, in order, first time, and how late.
bench_msg_kind_t
bench_check_payload (bench_check_t *self, int subscriber, const char *payload, size_t len,
                     int64_t now, int *publisher_out)
{
    const bench_config_t *config = self->config;
    bench_result_t *result = self->result;
    const char *at = payload, *end = payload + len;
    uint64_t publisher, seq, stamp;
    if (s_get_u64 (&at, end, ':', &publisher) || publisher >= (uint64_t) config->publishers
    ||  s_get_u64 (&at, end, ':', &seq) || seq > config->messages
    ||  s_get_u64 (&at, end, ':', &stamp)) {
        result->foreign++;
        return BENCH_MSG_FOREIGN;
    }
    if (seq == 0) {
        *publisher_out = (int) publisher;
        return BENCH_MSG_PROBE;
    }
    result->received++;
    size_t pair = (size_t) subscriber * (size_t) config->publishers + publisher;
    if (self->seen) {
        uint64_t *word = self->seen + pair * self->seen_words + (seq - 1) / 64;
        uint64_t bit = 1ull << ((seq - 1) % 64);
        if (*word & bit) {
            result->duplicates++;
            return BENCH_MSG_COUNTED;
        }
        *word |= bit;
    }
    result->unique++;
    self->unique_by [subscriber]++;
    if (seq <= self->last_seq [pair])
        result->out_of_order++;
    else {
        if (seq > self->last_seq [pair] + 1)
            result->gaps++;
        self->last_seq [pair] = seq;
    }
    if ((int64_t) stamp <= now)
        bench_hist_add (result->latency, (uint64_t) (now - (int64_t) stamp));
    result->last_receive_ns = now;
    return BENCH_MSG_COUNTED;
}

void
bench_check_told (bench_check_t *self, int subscriber, uint64_t count)
{
    self->result->told += count;
    self->told_by [subscriber] += count;
}

uint64_t
bench_check_mistold (bench_check_t *self)
{
    uint64_t clients = 0;
    uint64_t sent = self->result->sent;
    for (int i = 0; i < self->config->subscribers; i++) {
        uint64_t missed = sent > self->unique_by [i]? sent - self->unique_by [i]: 0;
        if (missed != self->told_by [i])
            clients++;
    }
    return clients;
}
