/*  rate_limit: a token bucket per topic. Config: rate=N (messages a
    second, required), burst=N (bucket size, default rate), max_topics=N
    (buckets kept, default 10000; topics beyond share one bucket). A message
    that finds its bucket empty is dropped (the host counts it).           */
#include <zchannel/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct bucket_s {
    struct bucket_s *next;
    double tokens;
    uint64_t updated_ns;
    char topic [];
} bucket_t;

typedef struct {
    double rate;                //  tokens a second
    double burst;
    size_t max_topics;
    size_t topics;
    size_t slots;               //  a power of two
    bucket_t **table;
    bucket_t shared;            //  for topics beyond max_topics
} limiter_t;

//  Reads a positive number from config, or fallback. Returns -1 if bad.
static double
s_number (const zch_plugin_config_t *config, const char *key, double fallback)
{
    const char *text = zch_plugin_config_get (config, key);
    if (!text)
        return fallback;
    char *end;
    double value = strtod (text, &end);
    return *end || value <= 0? -1: value;
}

static void *
s_create (const zch_plugin_config_t *config, char *error, size_t error_size)
{
    double rate = s_number (config, "rate", -1);
    double burst = s_number (config, "burst", rate);
    double max_topics = s_number (config, "max_topics", 10000);
    if (rate <= 0 || burst < 1 || max_topics < 1) {
        snprintf (error, error_size, "rate=N (> 0) is required; burst and max_topics must be >= 1");
        return NULL;
    }
    limiter_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->rate = rate;
    self->burst = burst;
    self->max_topics = (size_t) max_topics;
    self->slots = 1024;
    self->table = calloc (self->slots, sizeof *self->table);
    if (!self->table) {
        free (self);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->shared.tokens = burst;
    return self;
}

static uint64_t
s_hash (const char *text, size_t len)
{
    uint64_t hash = 14695981039346656037u;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (uint8_t) text [i]) * 1099511628211u;
    return hash;
}

//  The topic's bucket, made full on first sight (NULL: out of memory).
static bucket_t *
s_bucket (limiter_t *self, const char *topic, size_t len, uint64_t now)
{
    bucket_t **slot = &self->table [s_hash (topic, len) & (self->slots - 1)];
    for (bucket_t *bucket = *slot; bucket; bucket = bucket->next)
        if (strncmp (bucket->topic, topic, len) == 0 && bucket->topic [len] == 0)
            return bucket;
    if (self->topics >= self->max_topics)
        return &self->shared;
    bucket_t *bucket = malloc (sizeof *bucket + len + 1);
    if (!bucket)
        return NULL;
    memcpy (bucket->topic, topic, len);
    bucket->topic [len] = 0;
    bucket->tokens = self->burst;
    bucket->updated_ns = now;
    bucket->next = *slot;
    *slot = bucket;
    self->topics++;
    return bucket;
}

static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    limiter_t *self = state;
    struct timespec clock;
    clock_gettime (CLOCK_MONOTONIC, &clock);
    uint64_t now = (uint64_t) clock.tv_sec * 1000000000u + (uint64_t) clock.tv_nsec;
    bucket_t *bucket = s_bucket (self, msg->topic, msg->topic_len, now);
    if (!bucket)
        return ZCH_PLUGIN_ERROR;
    if (bucket->updated_ns == 0)
        bucket->updated_ns = now;
    bucket->tokens += (double) (now - bucket->updated_ns) / 1e9 * self->rate;
    if (bucket->tokens > self->burst)
        bucket->tokens = self->burst;
    bucket->updated_ns = now;
    if (bucket->tokens < 1)
        return ZCH_PLUGIN_DROP;
    bucket->tokens -= 1;
    return ZCH_PLUGIN_KEEP;
}

static void
s_destroy (void *state)
{
    limiter_t *self = state;
    for (size_t i = 0; i < self->slots; i++)
        while (self->table [i]) {
            bucket_t *next = self->table [i]->next;
            free (self->table [i]);
            self->table [i] = next;
        }
    free (self->table);
    free (self);
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "rate_limit",
    .version = "1.0",
    .create = s_create,
    .transform = s_transform,
    .destroy = s_destroy
};
