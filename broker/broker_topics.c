/*  broker_topics: per-topic state in a hash keyed by topic.                 */
#include "broker_topics.h"
#include "zch_topic.h"

#include <czmq.h>

typedef struct {
    uint64_t seq;               //  last seq given out
} broker_topic_t;

struct broker_topics_t {
    zhashx_t *by_name;
};

static void
s_topic_free (void **item)
{
    free (*item);
    *item = NULL;
}

broker_topics_t *
broker_topics_new (void)
{
    broker_topics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->by_name = zhashx_new ();
    if (!self->by_name) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->by_name, s_topic_free);
    return self;
}

void
broker_topics_destroy (broker_topics_t **self_p)
{
    if (*self_p) {
        zhashx_destroy (&(*self_p)->by_name);
        free (*self_p);
        *self_p = NULL;
    }
}

uint64_t
broker_topics_next_seq (broker_topics_t *self, const char *topic, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return 0;
    memcpy (key, topic, len);
    key [len] = 0;
    broker_topic_t *entry = zhashx_lookup (self->by_name, key);
    if (!entry) {
        entry = calloc (1, sizeof *entry);
        if (!entry || zhashx_insert (self->by_name, key, entry)) {
            free (entry);
            return 0;
        }
    }
    return ++entry->seq;
}

uint64_t
broker_topics_peek_seq (broker_topics_t *self, const char *topic, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return 0;
    memcpy (key, topic, len);
    key [len] = 0;
    broker_topic_t *entry = zhashx_lookup (self->by_name, key);
    return entry? entry->seq + 1: 1;
}

size_t
broker_topics_count (broker_topics_t *self)
{
    return zhashx_size (self->by_name);
}
