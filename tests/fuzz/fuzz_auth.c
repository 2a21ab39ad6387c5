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
    //  covers agrees with matching: a trie per valid pattern, once
    static bool matches [S_PROBES_MAX][S_PROBES_MAX];
    bool valid [S_PROBES_MAX];
    for (size_t p = 0; p < count; p++) {
        valid [p] = zch_pattern_validate (probes [p], lens [p], NULL) == 0;
        if (!valid [p])
            continue;
        S_ASSERT (zch_pattern_covers (probes [p], lens [p], probes [p], lens [p]));
        zch_trie_t *trie = zch_trie_new ();
        if (!trie || zch_trie_insert (trie, probes [p], lens [p], trie)) {
            zch_trie_destroy (&trie);
            valid [p] = false;
            continue;
        }
        for (size_t t = 0; t < count; t++) {
            int hits = 0;
            if (zch_topic_validate (probes [t], lens [t], NULL) == 0)
                zch_trie_match (trie, probes [t], lens [t], s_hit, &hits);
            matches [p][t] = hits > 0;
        }
        zch_trie_destroy (&trie);
    }
    for (size_t a = 0; a < count; a++)
        for (size_t b = 0; b < count; b++) {
            if (!valid [a] || !valid [b]
            ||  !zch_pattern_covers (probes [a], lens [a], probes [b], lens [b]))
                continue;
            for (size_t t = 0; t < count; t++)
                S_ASSERT (!matches [b][t] || matches [a][t]);
        }
    zch_auth_destroy (&auth);
    return 0;
}
