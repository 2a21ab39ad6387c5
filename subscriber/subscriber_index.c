/*  subscriber_index: upstream prefixes and the local trie, in step.         */
#include "subscriber_index.h"
#include "zch_internal.h"
#include "zch_topic.h"

#include <czmq.h>

struct subscriber_index_t {
    void *upstream;
    zch_trie_t *trie;
    zhashx_t *prefixes;         //  prefix -> reference count (as a pointer)
};

subscriber_index_t *
subscriber_index_new (void *upstream)
{
    subscriber_index_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->upstream = upstream;
    self->trie = zch_trie_new ();
    self->prefixes = zhashx_new ();
    if (!self->trie || !self->prefixes) {
        subscriber_index_destroy (&self);
        return NULL;
    }
    return self;
}

void
subscriber_index_destroy (subscriber_index_t **self_p)
{
    subscriber_index_t *self = *self_p;
    if (!self)
        return;
    zch_trie_destroy (&self->trie);
    zhashx_destroy (&self->prefixes);
    free (self);
    *self_p = NULL;
}

//  Copies the literal prefix of pattern as a C string into key.
static void
s_prefix_key (const char *pattern, size_t len, char *key)
{
    size_t prefix_len = zch_pattern_prefix_len (pattern, len);
    memcpy (key, pattern, prefix_len);
    key [prefix_len] = 0;
}

//  Subscribes or unsubscribes key upstream in the internal envelope: the
//  broker sends what matches in that form (zch_internal.h).
static int
s_upstream (subscriber_index_t *self, int option, const char *key)
{
    uint8_t prefix [ZCH_INTERNAL_HEAD + ZCH_TOPIC_MAX];
    size_t len = strlen (key);
    prefix [0] = ZCH_INTERNAL_MARK;
    prefix [1] = ZCH_INTERNAL_VERSION;
    memcpy (prefix + ZCH_INTERNAL_HEAD, key, len);
    return zmq_setsockopt (self->upstream, option, prefix, ZCH_INTERNAL_HEAD + len);
}

int
subscriber_index_hold_prefix (subscriber_index_t *self, const char *pattern, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    s_prefix_key (pattern, len, key);
    uintptr_t count = (uintptr_t) zhashx_lookup (self->prefixes, key);
    if (count == 0) {
        if (s_upstream (self, ZMQ_SUBSCRIBE, key))
            return -1;
        if (zhashx_insert (self->prefixes, key, (void *) 1)) {
            s_upstream (self, ZMQ_UNSUBSCRIBE, key);
            return -1;
        }
        return 1;
    }
    zhashx_update (self->prefixes, key, (void *) (count + 1));
    return 0;
}

int
subscriber_index_release_prefix (subscriber_index_t *self, const char *pattern, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    s_prefix_key (pattern, len, key);
    uintptr_t count = (uintptr_t) zhashx_lookup (self->prefixes, key);
    if (count > 1)
        zhashx_update (self->prefixes, key, (void *) (count - 1));
    else
    if (count == 1) {
        zhashx_delete (self->prefixes, key);
        s_upstream (self, ZMQ_UNSUBSCRIBE, key);
        return 1;
    }
    return 0;
}

int
subscriber_index_add (subscriber_index_t *self, const char *pattern, size_t len, void *value)
{
    return zch_trie_insert (self->trie, pattern, len, value);
}

int
subscriber_index_remove (subscriber_index_t *self, const char *pattern, size_t len, void *value)
{
    return zch_trie_remove (self->trie, pattern, len, value);
}

void
subscriber_index_match (subscriber_index_t *self, const char *topic, size_t len,
                        zch_trie_match_fn *fn, void *arg)
{
    zch_trie_match (self->trie, topic, len, fn, arg);
}

size_t
subscriber_index_prefix_count (subscriber_index_t *self)
{
    return zhashx_size (self->prefixes);
}
