/*  fuzz_auth: the token file parser and the ACL checks.

    Input: ZPL text, then optionally a NUL byte and lines of probes. The
    text goes through zch_auth_parse (a table or a reason, never a crash);
    each probe line is offered as a token, and as a topic and a pattern to
    every entry. Pairs of valid probe patterns check zch_pattern_covers
    against a trie: when a covers b, every probe topic b matches, a must
    match too.                                                              */
#include "zch_auth.h"
#include "zch_topic.h"
#include "zch_trie.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_PROBES_MAX 32

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  Match callback: counts hits.
static void
s_hit (void *value, void *arg)
{
    (void) value;
    (*(int *) arg)++;
}

//  True when the valid pattern matches the valid topic, by the trie.
static bool
s_matches (const char *pattern, size_t plen, const char *topic, size_t tlen)
{
    zch_trie_t *trie = zch_trie_new ();
    int hits = 0;
    if (trie && zch_trie_insert (trie, pattern, plen, trie) == 0)
        zch_trie_match (trie, topic, tlen, s_hit, &hits);
    zch_trie_destroy (&trie);
    return hits > 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr (data, 0, size);
    size_t text_len = nul? (size_t) (nul - data): size;
    char *text = malloc (text_len + 1);
    if (!text)
        return 0;
    memcpy (text, data, text_len);
    text [text_len] = 0;
    char error [256] = "";
    zch_auth_t *auth = zch_auth_parse (text, error, sizeof error);
    S_ASSERT (auth || error [0]);
    free (text);

    //  The probes: one per line after the NUL
    const char *probes [S_PROBES_MAX];
    size_t lens [S_PROBES_MAX], count = 0;
    const char *cursor = nul? (const char *) nul + 1: NULL;
    const char *end = (const char *) data + size;
    while (cursor && cursor < end && count < S_PROBES_MAX) {
        const char *line_end = memchr (cursor, '\n', (size_t) (end - cursor));
        size_t len = line_end? (size_t) (line_end - cursor): (size_t) (end - cursor);
        probes [count] = cursor;
        lens [count++] = len;
        cursor = line_end? line_end + 1: NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const zch_token_t *token = auth? zch_auth_check (auth, probes [i], lens [i]): NULL;
        if (token)
            S_ASSERT (zch_token_name (token) != NULL);
        if (!auth)
            continue;
        for (size_t k = 0; k < zch_auth_size (auth); k++) {
            //  every entry, reached through a probe that may name it
            const zch_token_t *entry = zch_auth_check (auth, probes [k % count], lens [k % count]);
            if (!entry)
                continue;
            if (zch_topic_validate (probes [i], lens [i], NULL) == 0)
                (void) zch_token_may_publish (entry, probes [i], lens [i]);
            if (zch_pattern_validate (probes [i], lens [i], NULL) == 0)
                (void) zch_token_may_subscribe (entry, probes [i], lens [i]);
        }
    }
    //  covers agrees with matching
    for (size_t a = 0; a < count; a++) {
        if (zch_pattern_validate (probes [a], lens [a], NULL))
            continue;
        S_ASSERT (zch_pattern_covers (probes [a], lens [a], probes [a], lens [a]));
        for (size_t b = 0; b < count; b++) {
            if (zch_pattern_validate (probes [b], lens [b], NULL)
            ||  !zch_pattern_covers (probes [a], lens [a], probes [b], lens [b]))
                continue;
            for (size_t t = 0; t < count; t++)
                if (zch_topic_validate (probes [t], lens [t], NULL) == 0
                &&  s_matches (probes [b], lens [b], probes [t], lens [t]))
                    S_ASSERT (s_matches (probes [a], lens [a], probes [t], lens [t]));
        }
    }
    zch_auth_destroy (&auth);
    return 0;
}
