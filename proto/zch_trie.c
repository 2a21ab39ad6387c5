/*  zch_trie: the topic matcher, a token trie of subscription patterns.

    Each node holds its literal children in an open-addressing hash table
    (linear probing, backward-shift deletion, so no tombstones), plus a '*'
    child and a '>' child, and the values of the patterns ending there.
    The hash is seeded per trie so clients cannot aim collisions at it.      */
#include "zch_trie.h"
#include "zch_topic.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef struct s_node_t s_node_t;
struct s_node_t {
    s_node_t *parent;
    s_node_t **slots;           //  literal children, hashed; NULL when none
    size_t slot_cap;            //  a power of two, or 0
    size_t child_count;
    s_node_t *star;             //  the '*' child
    s_node_t *gt;               //  the '>' child
    void **values;
    size_t value_count;
    size_t value_cap;
    uint64_t hash;              //  of token, for literal children
    size_t token_len;
    char token [];
};

struct zch_trie_t {
    s_node_t *root;
    size_t size;                //  (pattern, value) pairs
    size_t nodes;               //  nodes other than the root
    uint64_t seed;
};

//  Seeded 64-bit hash of a token: FNV-1a, then a murmur3 finaliser.
static uint64_t
s_hash (uint64_t seed, const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) s [i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

//  Allocates a node for token (which may be empty for the root).
static s_node_t *
s_node_new (s_node_t *parent, const char *token, size_t len, uint64_t hash)
{
    s_node_t *node = calloc (1, sizeof (s_node_t) + len);
    if (!node)
        return NULL;
    node->parent = parent;
    node->hash = hash;
    node->token_len = len;
    if (len)
        memcpy (node->token, token, len);
    return node;
}

//  Frees a node and everything under it; depth is bounded by the number
//  of tokens in a pattern (at most 128).
static void
s_node_destroy (s_node_t *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->slot_cap; i++)
        s_node_destroy (node->slots [i]);
    s_node_destroy (node->star);
    s_node_destroy (node->gt);
    free (node->slots);
    free (node->values);
    free (node);
}

//  True when the node holds nothing and can be unlinked.
static bool
s_node_empty (const s_node_t *node)
{
    return node->value_count == 0 && node->child_count == 0
        && !node->star && !node->gt;
}

//  Finds the literal child of node named token.
static s_node_t *
s_child_find (const s_node_t *node, const char *token, size_t len, uint64_t hash)
{
    if (node->slot_cap == 0)
        return NULL;
    size_t mask = node->slot_cap - 1;
    for (size_t i = hash & mask; node->slots [i]; i = (i + 1) & mask) {
        const s_node_t *child = node->slots [i];
        if (child->hash == hash && child->token_len == len
        &&  memcmp (child->token, token, len) == 0)
            return node->slots [i];
    }
    return NULL;
}

//  Rehashes node's children into a table of cap slots (a power of two
//  larger than the child count, or 0 when there are none).
static int
s_slots_resize (s_node_t *node, size_t cap)
{
    s_node_t **slots = NULL;
    if (cap) {
        slots = calloc (cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < node->slot_cap; i++) {
            s_node_t *child = node->slots [i];
            if (!child)
                continue;
            size_t j = child->hash & (cap - 1);
            while (slots [j])
                j = (j + 1) & (cap - 1);
            slots [j] = child;
        }
    }
    free (node->slots);
    node->slots = slots;
    node->slot_cap = cap;
    return 0;
}

//  Adds a literal child, growing the table to keep it at most half full.
static int
s_child_add (s_node_t *node, s_node_t *child)
{
    if ((node->child_count + 1) * 2 > node->slot_cap
    &&  s_slots_resize (node, node->slot_cap? node->slot_cap * 2: 4))
        return -1;
    size_t mask = node->slot_cap - 1;
    size_t i = child->hash & mask;
    while (node->slots [i])
        i = (i + 1) & mask;
    node->slots [i] = child;
    node->child_count++;
    return 0;
}

//  Unlinks a literal child, shifting later entries of its probe run back,
//  and shrinks the table when it is mostly empty.
static void
s_child_remove (s_node_t *node, s_node_t *child)
{
    size_t mask = node->slot_cap - 1;
    size_t i = child->hash & mask;
    while (node->slots [i] != child)
        i = (i + 1) & mask;
    node->slots [i] = NULL;
    for (size_t j = (i + 1) & mask; node->slots [j]; j = (j + 1) & mask) {
        size_t home = node->slots [j]->hash & mask;
        //  Entry j may move to the hole at i unless its home lies
        //  cyclically in (i, j]
        bool stays = i <= j? (home > i && home <= j): (home > i || home <= j);
        if (!stays) {
            node->slots [i] = node->slots [j];
            node->slots [j] = NULL;
            i = j;
        }
    }
    node->child_count--;
    if (node->child_count == 0)
        s_slots_resize (node, 0);
    else
    if (node->slot_cap > 8 && node->child_count * 8 < node->slot_cap)
        s_slots_resize (node, node->slot_cap / 2);      //  failure is harmless
}

//  Length of the token at s[0..len): up to the first '.' or the end.
static size_t
s_token_len (const char *s, size_t len)
{
    const char *dot = len? memchr (s, '.', len): NULL;
    return dot? (size_t) (dot - s): len;
}

//  Returns a new, empty trie, or NULL when out of memory.
zch_trie_t *
zch_trie_new (void)
{
    zch_trie_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->root = s_node_new (NULL, NULL, 0, 0);
    if (!self->root) {
        free (self);
        return NULL;
    }
    if (getrandom (&self->seed, sizeof self->seed, GRND_NONBLOCK) != sizeof self->seed)
        self->seed = (uint64_t) (uintptr_t) self * 0x9e3779b97f4a7c15ULL;
    return self;
}

//  Frees the trie (not the values) and NULLs the caller's pointer.
void
zch_trie_destroy (zch_trie_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_node_destroy ((*self_p)->root);
    free (*self_p);
    *self_p = NULL;
}

//  Unlinks and frees node and its ancestors while they hold nothing.
static void
s_prune (zch_trie_t *self, s_node_t *node)
{
    while (node != self->root && s_node_empty (node)) {
        s_node_t *parent = node->parent;
        if (parent->star == node)
            parent->star = NULL;
        else
        if (parent->gt == node)
            parent->gt = NULL;
        else
            s_child_remove (parent, node);
        free (node->slots);
        free (node->values);
        free (node);
        self->nodes--;
        node = parent;
    }
}

//  Walks from the root along pattern, creating missing nodes when create
//  is set; on running out of memory it prunes what it created.
static s_node_t *
s_walk (zch_trie_t *self, const char *pattern, size_t len, bool create)
{
    s_node_t *node = self->root;
    size_t pos = 0;
    while (true) {
        const char *token = pattern + pos;
        size_t token_len = s_token_len (token, len - pos);
        s_node_t **wild = NULL;
        if (token_len == 1 && *token == '*')
            wild = &node->star;
        else
        if (token_len == 1 && *token == '>')
            wild = &node->gt;
        s_node_t *next;
        if (wild) {
            next = *wild;
            if (!next && create) {
                next = s_node_new (node, token, 1, 0);
                if (!next) {
                    s_prune (self, node);
                    return NULL;
                }
                *wild = next;
                self->nodes++;
            }
        }
        else {
            uint64_t hash = s_hash (self->seed, token, token_len);
            next = s_child_find (node, token, token_len, hash);
            if (!next && create) {
                next = s_node_new (node, token, token_len, hash);
                if (!next || s_child_add (node, next)) {
                    free (next);
                    s_prune (self, node);
                    return NULL;
                }
                self->nodes++;
            }
        }
        if (!next)
            return NULL;
        node = next;
        pos += token_len;
        if (pos == len)
            return node;
        pos++;                  //  the dot
    }
}

//  Adds value under pattern; -1 if already there or out of memory.
int
zch_trie_insert (zch_trie_t *self, const char *pattern, size_t len, void *value)
{
    if (len == 0 || len > ZCH_TOPIC_MAX)
        return -1;              //  keeps the depth, hence recursion, bounded
    s_node_t *node = s_walk (self, pattern, len, true);
    if (!node)
        return -1;
    for (size_t i = 0; i < node->value_count; i++)
        if (node->values [i] == value)
            return -1;
    if (node->value_count == node->value_cap) {
        size_t cap = node->value_cap? node->value_cap * 2: 2;
        void **values = realloc (node->values, cap * sizeof *values);
        if (!values) {
            s_prune (self, node);
            return -1;
        }
        node->values = values;
        node->value_cap = cap;
    }
    node->values [node->value_count++] = value;
    self->size++;
    return 0;
}

//  Removes the pair and frees the nodes it leaves empty.
int
zch_trie_remove (zch_trie_t *self, const char *pattern, size_t len, void *value)
{
    if (len == 0 || len > ZCH_TOPIC_MAX)
        return -1;
    s_node_t *node = s_walk (self, pattern, len, false);
    if (!node)
        return -1;
    size_t i = 0;
    while (i < node->value_count && node->values [i] != value)
        i++;
    if (i == node->value_count)
        return -1;
    node->values [i] = node->values [--node->value_count];
    if (node->value_count == 0) {
        free (node->values);
        node->values = NULL;
        node->value_cap = 0;
    }
    self->size--;
    s_prune (self, node);
    return 0;
}

//  Reports every value stored at node.
static void
s_report (const s_node_t *node, zch_trie_match_fn *fn, void *arg)
{
    for (size_t i = 0; i < node->value_count; i++)
        fn (node->values [i], arg);
}

//  Matches the tokens left in topic[0..len) below node; at_end says that
//  no token is left. Wildcards skip a first token starting with '$'.
static void
s_match (const zch_trie_t *self, const s_node_t *node, const char *topic,
         size_t len, bool at_end, bool first, zch_trie_match_fn *fn, void *arg)
{
    if (at_end) {
        s_report (node, fn, arg);
        return;
    }
    size_t token_len = s_token_len (topic, len);
    bool next_at_end = token_len == len;
    const char *next = next_at_end? topic + len: topic + token_len + 1;
    size_t next_len = next_at_end? 0: len - token_len - 1;
    bool wild = !(first && token_len > 0 && topic [0] == '$');

    if (node->gt && wild)
        s_report (node->gt, fn, arg);
    if (node->child_count) {
        uint64_t hash = s_hash (self->seed, topic, token_len);
        const s_node_t *child = s_child_find (node, topic, token_len, hash);
        if (child)
            s_match (self, child, next, next_len, next_at_end, false, fn, arg);
    }
    if (node->star && wild)
        s_match (self, node->star, next, next_len, next_at_end, false, fn, arg);
}

//  Calls fn for every pair whose pattern matches topic.
void
zch_trie_match (zch_trie_t *self, const char *topic, size_t len,
                zch_trie_match_fn *fn, void *arg)
{
    if (len == 0)
        return;
    s_match (self, self->root, topic, len, false, true, fn, arg);
}

//  Number of (pattern, value) pairs held.
size_t
zch_trie_size (zch_trie_t *self)
{
    return self->size;
}

//  Number of nodes besides the root: 0 once every pair is removed.
size_t
zch_trie_nodes (zch_trie_t *self)
{
    return self->nodes;
}
