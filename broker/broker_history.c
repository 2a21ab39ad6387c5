/*  broker_history: per-topic seq, last value and bounded history.

    Every held message is one block (record, meta, payload) from the
    history's pool (broker_pool.h: an evicted message's block serves the
    next of its size, so a steady stream does no malloc or free) on three
    links: its topic's list (oldest to newest) and one of two global lists,
    "older" (messages that are no longer their topic's newest) or "lasts"
    (each topic's newest). Byte eviction takes the head of "older" first,
    then the head of "lasts"; both heads are always their topic's oldest
    message, so a topic's held seqs stay contiguous.                        */
#include "broker_history.h"
#include "broker_patterns.h"
#include "broker_pool.h"
#include "zch_topic.h"

#include <czmq.h>

typedef struct node_t node_t;

struct node_t {
    node_t *prev;               //  in its global list
    node_t *next;
    node_t *newer;              //  in its topic's list
    broker_topic_t *topic;
    uint64_t seq;
    size_t meta_size;
    size_t payload_size;
    uint8_t data [];            //  meta, then payload
};

typedef struct {
    node_t *head;               //  oldest
    node_t *tail;
} list_t;

struct broker_topic_t {
    uint64_t seq;               //  last seq given out
    uint64_t epoch;             //  the epoch its seqs belong to
    node_t *oldest;
    node_t *newest;
    size_t held;
    bool skipped;               //  keeps no history (--no-history)
    size_t name_len;
    char name [];
};

struct broker_history_t {
    uint64_t epoch;             //  new topics' epoch
    size_t per_topic;
    size_t max_bytes;
    zhashx_t *by_name;          //  name -> broker_topic_t (keys are the topics' own names)
    broker_topic_t **topics;    //  in creation order
    size_t topic_count;
    size_t topic_cap;
    list_t older;
    list_t lasts;
    size_t bytes;
    size_t messages;
    uint64_t evicted;
    zch_trie_t *skip;           //  topics that keep no history (borrowed)
    broker_pool_t *pool;        //  the nodes' blocks
};

size_t
broker_history_cost (size_t meta_size, size_t payload_size)
{
    return sizeof (node_t) + meta_size + payload_size;
}

//  Gives node's block back to the pool.
static void
s_node_free (broker_history_t *self, node_t *node)
{
    broker_pool_give (self->pool, node, sizeof *node + node->meta_size + node->payload_size);
}

static void
s_list_append (list_t *list, node_t *node)
{
    node->next = NULL;
    node->prev = list->tail;
    if (list->tail)
        list->tail->next = node;
    else
        list->head = node;
    list->tail = node;
}

static void
s_list_unlink (list_t *list, node_t *node)
{
    if (node->prev)
        node->prev->next = node->next;
    else
        list->head = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        list->tail = node->prev;
    node->prev = node->next = NULL;
}

//  Removes the oldest message of topic, which must hold one.
static void
s_evict_oldest (broker_history_t *self, broker_topic_t *topic)
{
    node_t *node = topic->oldest;
    s_list_unlink (node == topic->newest? &self->lasts: &self->older, node);
    topic->oldest = node->newer;
    if (topic->newest == node)
        topic->newest = NULL;
    topic->held--;
    self->bytes -= broker_history_cost (node->meta_size, node->payload_size);
    self->messages--;
    self->evicted++;
    s_node_free (self, node);
}

broker_history_t *
broker_history_new (size_t per_topic, size_t max_bytes, uint64_t epoch)
{
    broker_history_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->epoch = epoch;
    self->per_topic = per_topic;
    self->max_bytes = max_bytes;
    self->by_name = zhashx_new ();
    //  Free blocks beyond what the history may hold would be waste
    self->pool = broker_pool_new (max_bytes < BROKER_POOL_FREE_MAX? max_bytes: BROKER_POOL_FREE_MAX);
    if (!self->by_name || !self->pool) {
        zhashx_destroy (&self->by_name);
        broker_pool_destroy (&self->pool);
        free (self);
        return NULL;
    }
    //  The key is the topic's own name: no second copy per topic
    zhashx_set_key_duplicator (self->by_name, NULL);
    zhashx_set_key_destructor (self->by_name, NULL);
    return self;
}

void
broker_history_destroy (broker_history_t **self_p)
{
    broker_history_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->topic_count; i++) {
        broker_topic_t *topic = self->topics [i];
        while (topic->oldest) {
            node_t *node = topic->oldest;
            topic->oldest = node->newer;
            s_node_free (self, node);
        }
        free (topic);
    }
    free (self->topics);
    zhashx_destroy (&self->by_name);
    broker_pool_destroy (&self->pool);
    free (self);
    *self_p = NULL;
}

broker_topic_t *
broker_history_find (broker_history_t *self, const char *topic, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return NULL;
    memcpy (key, topic, len);
    key [len] = 0;
    return zhashx_lookup (self->by_name, key);
}

broker_topic_t *
broker_history_topic (broker_history_t *self, const char *name, size_t len)
{
    broker_topic_t *topic = broker_history_find (self, name, len);
    if (topic || len > ZCH_TOPIC_MAX)
        return topic;
    if (self->topic_count == self->topic_cap) {
        size_t cap = self->topic_cap? self->topic_cap * 2: 1024;
        broker_topic_t **grown = realloc (self->topics, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->topics = grown;
        self->topic_cap = cap;
    }
    topic = calloc (1, sizeof *topic + len + 1);
    if (!topic)
        return NULL;
    topic->epoch = self->epoch;
    topic->skipped = broker_patterns_match (self->skip, name, len);
    memcpy (topic->name, name, len);
    topic->name [len] = 0;
    topic->name_len = len;
    if (zhashx_insert (self->by_name, topic->name, topic)) {
        free (topic);
        return NULL;
    }
    self->topics [self->topic_count++] = topic;
    return topic;
}

void
broker_history_skip (broker_history_t *self, zch_trie_t *patterns)
{
    self->skip = patterns;
}

bool
broker_history_keeps (broker_topic_t *topic)
{
    return !topic->skipped;
}

uint64_t
broker_history_next_seq (broker_topic_t *topic)
{
    return topic->seq + 1;
}

int
broker_history_add (broker_history_t *self, broker_topic_t *topic, uint64_t seq,
                    const uint8_t *meta, size_t meta_size,
                    const uint8_t *payload, size_t payload_size)
{
    topic->seq = seq;
    if (self->per_topic == 0 || topic->skipped)
        return 0;
    node_t *node = broker_pool_take (self->pool, sizeof *node + meta_size + payload_size);
    if (!node) {
        //  A hole would break contiguity: start the topic afresh
        while (topic->oldest)
            s_evict_oldest (self, topic);
        return -1;
    }
    node->newer = NULL;
    node->topic = topic;
    node->seq = seq;
    node->meta_size = meta_size;
    node->payload_size = payload_size;
    memcpy (node->data, meta, meta_size);
    if (payload_size)
        memcpy (node->data + meta_size, payload, payload_size);
    if (topic->newest) {
        s_list_unlink (&self->lasts, topic->newest);
        s_list_append (&self->older, topic->newest);
        topic->newest->newer = node;
    }
    else
        topic->oldest = node;
    topic->newest = node;
    topic->held++;
    s_list_append (&self->lasts, node);
    self->bytes += broker_history_cost (meta_size, payload_size);
    self->messages++;
    while (topic->held > self->per_topic)
        s_evict_oldest (self, topic);
    while (self->bytes > self->max_bytes) {
        node_t *victim = self->older.head? self->older.head: self->lasts.head;
        s_evict_oldest (self, victim->topic);
    }
    return 0;
}

void
broker_history_reset (broker_history_t *self, broker_topic_t *topic, uint64_t epoch, uint64_t last_seq)
{
    while (topic->oldest)
        s_evict_oldest (self, topic);
    topic->epoch = epoch;
    topic->seq = last_seq;
}

//  Fills message from node.
static void
s_view (node_t *node, broker_message_t *message)
{
    message->seq = node->seq;
    message->meta = node->data;
    message->meta_size = node->meta_size;
    message->payload = node->data + node->meta_size;
    message->payload_size = node->payload_size;
}

int
broker_history_get (broker_topic_t *topic, uint64_t seq, broker_message_t *message)
{
    node_t *node = topic->oldest;
    if (!node || seq > topic->newest->seq)
        return -1;
    //  Held seqs are contiguous: skip straight to the position
    if (seq > node->seq) {
        uint64_t skip = seq - node->seq;
        while (skip-- && node)
            node = node->newer;
    }
    if (!node)
        return -1;
    s_view (node, message);
    return 0;
}

int
broker_history_last (broker_topic_t *topic, broker_message_t *message)
{
    if (!topic->newest || topic->newest->seq != topic->seq)
        return -1;
    s_view (topic->newest, message);
    return 0;
}

uint64_t
broker_history_last_seq (broker_topic_t *topic)
{
    return topic->seq;
}

uint64_t
broker_history_first_seq (broker_topic_t *topic)
{
    return topic->oldest? topic->oldest->seq: topic->seq + 1;
}

size_t
broker_history_held (broker_topic_t *topic)
{
    return topic->held;
}

const char *
broker_history_name (broker_topic_t *topic, size_t *len)
{
    *len = topic->name_len;
    return topic->name;
}

size_t
broker_history_topic_count (broker_history_t *self)
{
    return self->topic_count;
}

broker_topic_t *
broker_history_topic_at (broker_history_t *self, size_t index)
{
    return index < self->topic_count? self->topics [index]: NULL;
}

size_t
broker_history_bytes (broker_history_t *self)
{
    return self->bytes;
}

size_t
broker_history_messages (broker_history_t *self)
{
    return self->messages;
}

uint64_t
broker_history_evicted (broker_history_t *self)
{
    return self->evicted;
}

uint64_t
broker_history_mallocs (broker_history_t *self)
{
    return broker_pool_mallocs (self->pool);
}

uint64_t
broker_history_epoch (broker_history_t *self)
{
    return self->epoch;
}

uint64_t
broker_history_topic_epoch (broker_topic_t *topic)
{
    return topic->epoch;
}
