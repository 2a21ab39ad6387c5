/*  subscriber_index: a worker's subscriptions, kept in step on both sides:
    upstream, one ZeroMQ prefix subscription per distinct literal prefix
    (refcounted over every client's patterns); locally, the token trie that
    matches topics exactly.                                                 */
#ifndef SUBSCRIBER_INDEX_H_INCLUDED
#define SUBSCRIBER_INDEX_H_INCLUDED

#include <stddef.h>

#include "zch_trie.h"

typedef struct subscriber_index_t subscriber_index_t;

//  Returns a new index over the SUB socket upstream (borrowed), or NULL.
subscriber_index_t *subscriber_index_new (void *upstream);

//  Frees the index; NULLs the pointer.
void subscriber_index_destroy (subscriber_index_t **self_p);

//  Takes a reference on the pattern's literal prefix, subscribing upstream
//  on the first. Returns 1 when it did subscribe, 0 when the prefix was
//  already held, -1 on failure.
int subscriber_index_hold_prefix (subscriber_index_t *self, const char *pattern, size_t len);

//  Drops that reference, unsubscribing upstream on the last. Returns 1
//  when it did unsubscribe, else 0.
int subscriber_index_release_prefix (subscriber_index_t *self, const char *pattern, size_t len);

//  Starts (or stops) matching pattern for value. Return 0 or -1.
int subscriber_index_add (subscriber_index_t *self, const char *pattern, size_t len, void *value);
int subscriber_index_remove (subscriber_index_t *self, const char *pattern, size_t len, void *value);

//  Calls fn for every value whose pattern matches topic.
void subscriber_index_match (subscriber_index_t *self, const char *topic, size_t len,
                             zch_trie_match_fn *fn, void *arg);

//  Distinct upstream prefixes held.
size_t subscriber_index_prefix_count (subscriber_index_t *self);

#endif
