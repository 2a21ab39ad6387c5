/*  broker_patterns: a set of topic patterns, as a token trie.            */
#include "broker_patterns.h"
#include "zch_topic.h"

#include <stdio.h>
#include <string.h>

zch_trie_t *
broker_patterns_new (const zch_option_list_t *list, const char *flag, char *error, size_t error_size)
{
    zch_trie_t *patterns = zch_trie_new ();
    if (!patterns) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    for (int i = 0; i < list->count; i++) {
        const char *pattern = list->items [i];
        const char *reason = "repeated";
        if (zch_pattern_validate (pattern, strlen (pattern), &reason)
        ||  zch_trie_insert (patterns, pattern, strlen (pattern), patterns)) {
            snprintf (error, error_size, "--%s '%s': %s", flag, pattern, reason);
            zch_trie_destroy (&patterns);
            return NULL;
        }
    }
    return patterns;
}

static void
s_matched (void *value, void *arg)
{
    (void) value;
    *(bool *) arg = true;
}

bool
broker_patterns_match (zch_trie_t *patterns, const char *topic, size_t len)
{
    bool match = false;
    if (patterns)
        zch_trie_match (patterns, topic, len, s_matched, &match);
    return match;
}
