/*  broker_patterns: a set of topic patterns from a list setting (the
    topics of --no-history), and whether a topic matches any of them.     */
#ifndef BROKER_PATTERNS_H_INCLUDED
#define BROKER_PATTERNS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_option.h"
#include "zch_trie.h"

//  Returns the patterns of list as a trie (empty for an empty list; the
//  caller destroys it), or NULL with a reason naming flag in error.
zch_trie_t *broker_patterns_new (const zch_option_list_t *list, const char *flag, char *error, size_t error_size);

//  True when topic matches a pattern of patterns (NULL: none).
bool broker_patterns_match (zch_trie_t *patterns, const char *topic, size_t len);

#endif
