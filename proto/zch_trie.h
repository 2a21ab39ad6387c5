/*  zch_trie: the topic matcher, a token trie of subscription patterns.

    Each (pattern, value) pair is stored once; matching a concrete topic
    walks one branch per token plus the '*' and '>' branches, so its cost
    depends on the topic's depth, not on the number of patterns.
    Topics starting with '$' are matched only by patterns that name their
    first token literally (wildcards never match system topics).            */
#ifndef ZCH_TRIE_H_INCLUDED
#define ZCH_TRIE_H_INCLUDED

#include <stddef.h>

typedef struct zch_trie_t zch_trie_t;

//  Called once per matching (pattern, value) pair. A value stored under two
//  matching patterns is reported twice; callers that want one delivery per
//  value deduplicate.
typedef void (zch_trie_match_fn) (void *value, void *arg);

//  Returns a new, empty trie, or NULL when out of memory.
zch_trie_t *zch_trie_new (void);

//  Frees the trie (not the values) and NULLs the caller's pointer.
void zch_trie_destroy (zch_trie_t **self_p);

//  Adds value under pattern (which the caller has validated; the trie copies
//  what it needs). Returns 0, or -1 if the pair is already present or
//  memory ran out (or the pattern is empty or over ZCH_TOPIC_MAX bytes).
int zch_trie_insert (zch_trie_t *self, const char *pattern, size_t len, void *value);

//  Removes the pair. Returns 0, or -1 if it was not present. Nodes left
//  empty are freed.
int zch_trie_remove (zch_trie_t *self, const char *pattern, size_t len, void *value);

//  Calls fn (value, arg) for every pair whose pattern matches topic.
//  fn must not modify the trie.
void zch_trie_match (zch_trie_t *self, const char *topic, size_t len,
                     zch_trie_match_fn *fn, void *arg);

//  Number of (pattern, value) pairs held.
size_t zch_trie_size (zch_trie_t *self);

//  Number of nodes the trie holds besides its root (0 when it is empty);
//  for tests and memory metrics.
size_t zch_trie_nodes (zch_trie_t *self);

#endif
