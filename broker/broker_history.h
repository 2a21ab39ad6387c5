/*  broker_history: what the broker keeps per topic: its seq counter, its
    last value and a bounded history.

    Each topic holds its newest messages, at most per_topic of them, and all
    topics together hold at most max_bytes (a message costs its meta, its
    payload and a fixed record). When the byte bound is passed the oldest
    go first: older messages before any topic's last value, each group in
    the order it was stored. A topic's held messages are always contiguous
    in seq (only its oldest is ever evicted), so "the history starts at"
    one seq. Topics are never forgotten (their seq must go on), so memory is
    max_bytes plus a small fixed cost per topic. per_topic 0 keeps nothing:
    no history, no last value.                                              */
#ifndef BROKER_HISTORY_H_INCLUDED
#define BROKER_HISTORY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_trie.h"

#define BROKER_HISTORY_PER_TOPIC_DEFAULT 1024
#define BROKER_HISTORY_BYTES_DEFAULT     ((size_t) 256 * 1024 * 1024)   //  "256M" in broker_options

typedef struct broker_history_t broker_history_t;
typedef struct broker_topic_t broker_topic_t;

//  One held message, as views into the history: valid until the history
//  next changes (add).
typedef struct {
    uint64_t seq;
    const uint8_t *meta;
    size_t meta_size;
    const uint8_t *payload;
    size_t payload_size;
} broker_message_t;

//  Returns a new, empty history whose topics' seqs belong to epoch (a
//  nonzero value new at each start: zch_epoch.h), or NULL when out of memory.
broker_history_t *broker_history_new (size_t per_topic, size_t max_bytes, uint64_t epoch);

//  Topics matching patterns (borrowed; broker_patterns.h), created from
//  now on, keep no history: their seqs go on, nothing is stored.
void broker_history_skip (broker_history_t *self, zch_trie_t *patterns);

//  False for a topic that keeps no history (broker_history_skip).
bool broker_history_keeps (broker_topic_t *topic);

//  Frees the history and every topic; NULLs the pointer.
void broker_history_destroy (broker_history_t **self_p);

//  Returns the topic (a validated topic, not NUL-terminated), creating it
//  the first time, or NULL when out of memory or longer than ZCH_TOPIC_MAX.
//  The topic lives as long as the history.
broker_topic_t *broker_history_topic (broker_history_t *self, const char *topic, size_t len);

//  Returns the topic if it exists, else NULL.
broker_topic_t *broker_history_find (broker_history_t *self, const char *topic, size_t len);

//  The seq the topic's next message will get (1 for its first). It is
//  only taken by broker_history_add, so a message dropped before that
//  leaves no hole in the seqs.
uint64_t broker_history_next_seq (broker_topic_t *topic);

//  Takes seq (from broker_history_next_seq) as the topic's last and
//  stores a copy of the message, then evicts
//  down to the bounds (which may evict this very message, if it alone is
//  larger than max_bytes). Returns 0, or -1 when out of memory (nothing
//  stored; the topic's history is cleared so it stays contiguous).
int broker_history_add (broker_history_t *self, broker_topic_t *topic, uint64_t seq,
                        const uint8_t *meta, size_t meta_size,
                        const uint8_t *payload, size_t payload_size);

//  Forgets what topic holds and starts it again at epoch, its last seq
//  given out being last_seq (a shared engine's order, where the topic's
//  seqs come from elsewhere).
void broker_history_reset (broker_history_t *self, broker_topic_t *topic, uint64_t epoch, uint64_t last_seq);

//  Finds the oldest held message of topic with seq >= seq. Returns 0 and
//  fills message, or -1 when there is none.
int broker_history_get (broker_topic_t *topic, uint64_t seq, broker_message_t *message);

//  The topic's last value. Returns 0, or -1 when it is no longer held.
int broker_history_last (broker_topic_t *topic, broker_message_t *message);

//  The epoch new topics get, and the one topic's seqs belong to.
uint64_t broker_history_epoch (broker_history_t *self);
uint64_t broker_history_topic_epoch (broker_topic_t *topic);

//  The last seq given out on topic (0 if none yet).
uint64_t broker_history_last_seq (broker_topic_t *topic);

//  The first seq the history holds for topic, or last seq + 1 when it
//  holds none: what a request "from the beginning" would start at.
uint64_t broker_history_first_seq (broker_topic_t *topic);

//  Number of messages held for topic.
size_t broker_history_held (broker_topic_t *topic);

//  The topic's name (NUL-terminated) and its length.
const char *broker_history_name (broker_topic_t *topic, size_t *len);

//  Topics in the order they were created: index 0 .. topic_count - 1.
//  New topics only ever go at the end, so an index stays valid.
size_t broker_history_topic_count (broker_history_t *self);
broker_topic_t *broker_history_topic_at (broker_history_t *self, size_t index);

//  Totals: bytes and messages held, and messages evicted since start.
size_t broker_history_bytes (broker_history_t *self);
size_t broker_history_messages (broker_history_t *self);
uint64_t broker_history_evicted (broker_history_t *self);

//  Messages whose node the pool could not serve (a malloc) since start:
//  in a steady stream this stops growing.
uint64_t broker_history_mallocs (broker_history_t *self);

//  What one message costs against max_bytes.
size_t broker_history_cost (size_t meta_size, size_t payload_size);

#endif
