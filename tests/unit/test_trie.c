/*  Unit tests of zch_trie: the topic matcher.                              */
#include "zch_trie.h"
#include "zch_topic.h"
#include "zch_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_HITS_MAX 4096

//  What one zch_trie_match call reported.
typedef struct {
    size_t count;
    void *values [S_HITS_MAX];
} s_hits_t;

//  Match callback: records each value.
static void
s_collect (void *value, void *arg)
{
    s_hits_t *hits = (s_hits_t *) arg;
    if (hits->count < S_HITS_MAX)
        hits->values [hits->count] = value;
    hits->count++;
}

//  Number of matches of a C-string topic.
static size_t
s_count (zch_trie_t *trie, const char *topic)
{
    static s_hits_t hits;
    hits.count = 0;
    zch_trie_match (trie, topic, strlen (topic), s_collect, &hits);
    return hits.count;
}

//  True when topic matches exactly one pair, and its value is value.
static int
s_only (zch_trie_t *trie, const char *topic, void *value)
{
    static s_hits_t hits;
    hits.count = 0;
    zch_trie_match (trie, topic, strlen (topic), s_collect, &hits);
    return hits.count == 1 && hits.values [0] == value;
}

//  Inserts a C-string pattern.
static int
s_insert (zch_trie_t *trie, const char *pattern, void *value)
{
    return zch_trie_insert (trie, pattern, strlen (pattern), value);
}

//  Removes a C-string pattern.
static int
s_remove (zch_trie_t *trie, const char *pattern, void *value)
{
    return zch_trie_remove (trie, pattern, strlen (pattern), value);
}

//  Life cycle, duplicates, and removal of what is not there.
static void
s_test_basics (void)
{
    zch_trie_t *trie = zch_trie_new ();
    CHECK (trie);
    int a, b;
    CHECK (zch_trie_size (trie) == 0);
    CHECK (s_insert (trie, "a.b", &a) == 0);
    CHECK (s_insert (trie, "a.b", &a) == -1);     //  same pair
    CHECK (s_insert (trie, "a.b", &b) == 0);      //  another value
    CHECK (zch_trie_size (trie) == 2);
    CHECK (s_remove (trie, "a.b", &a) == 0);
    CHECK (s_remove (trie, "a.b", &a) == -1);
    CHECK (s_remove (trie, "a", &b) == -1);       //  an inner node holds no value
    CHECK (s_remove (trie, "a.b.c", &b) == -1);
    CHECK (s_remove (trie, "x", &b) == -1);
    CHECK (zch_trie_insert (trie, "", 0, &a) == -1);
    CHECK (zch_trie_size (trie) == 1);
    CHECK (s_count (trie, "a.b") == 1);
    CHECK (s_remove (trie, "a.b", &b) == 0);
    CHECK (zch_trie_size (trie) == 0);
    CHECK (zch_trie_nodes (trie) == 0);
    CHECK (s_count (trie, "a.b") == 0);
    zch_trie_destroy (&trie);
    CHECK (trie == NULL);
    zch_trie_destroy (&trie);                       //  idempotent
    zch_trie_destroy (NULL);
}

//  Literal, '*' and '>' matching rules.
static void
s_test_wildcards (void)
{
    zch_trie_t *trie = zch_trie_new ();
    int exact, star, tail, all, mid, first;
    CHECK (s_insert (trie, "a.b", &exact) == 0);
    CHECK (s_insert (trie, "a.*", &star) == 0);
    CHECK (s_insert (trie, "a.>", &tail) == 0);
    CHECK (s_insert (trie, ">", &all) == 0);
    CHECK (s_insert (trie, "a.*.c", &mid) == 0);
    CHECK (s_insert (trie, "*", &first) == 0);

    CHECK (s_count (trie, "a.b") == 4);            //  exact, star, tail, all
    CHECK (s_count (trie, "a.x") == 3);            //  star, tail, all
    CHECK (s_count (trie, "a") == 2);              //  all, first: "a.>" needs a token after "a"
    CHECK (s_count (trie, "a.b.c") == 3);          //  tail, all, mid
    CHECK (s_count (trie, "a.b.d") == 2);          //  tail, all
    CHECK (s_count (trie, "a.b.c.d") == 2);        //  tail, all
    CHECK (s_count (trie, "b") == 2);              //  all, first
    CHECK (s_count (trie, "b.c") == 1);            //  all
    CHECK (s_count (trie, "ab") == 2);             //  all, first
    CHECK (s_count (trie, "a.bb") == 3);
    CHECK (s_only (trie, "x.y.z", &all));
    zch_trie_destroy (&trie);

    trie = zch_trie_new ();
    CHECK (s_insert (trie, "*.*", &star) == 0);
    CHECK (s_insert (trie, "*.>", &tail) == 0);
    CHECK (s_count (trie, "a") == 0);
    CHECK (s_count (trie, "a.b") == 2);
    CHECK (s_only (trie, "a.b.c", &tail));
    zch_trie_destroy (&trie);
}

//  '$' topics: only a pattern naming the first token literally matches.
static void
s_test_reserved (void)
{
    zch_trie_t *trie = zch_trie_new ();
    int all, star, star_tail, ack, ack_star, ack_tail, lit;
    CHECK (s_insert (trie, ">", &all) == 0);
    CHECK (s_insert (trie, "*", &star) == 0);
    CHECK (s_insert (trie, "*.>", &star_tail) == 0);
    CHECK (s_insert (trie, "$ack.1", &ack) == 0);
    CHECK (s_insert (trie, "$ack.*", &ack_star) == 0);
    CHECK (s_insert (trie, "$ack.>", &ack_tail) == 0);
    CHECK (s_insert (trie, "x.$y", &lit) == 0);

    CHECK (s_count (trie, "$ack.1") == 3);         //  ack, ack_star, ack_tail
    CHECK (s_count (trie, "$ack.2") == 2);
    CHECK (s_count (trie, "$ack.2.3") == 1);
    CHECK (s_count (trie, "$ack") == 0);
    CHECK (s_count (trie, "$") == 0);
    CHECK (s_count (trie, "$x.y") == 0);
    CHECK (s_count (trie, "x.$y") == 3);           //  lit, all, star_tail: only the first token is special
    CHECK (s_count (trie, "x.$z") == 2);
    zch_trie_destroy (&trie);
}

//  A value under two matching patterns is reported twice.
static void
s_test_duplicates (void)
{
    zch_trie_t *trie = zch_trie_new ();
    int v;
    CHECK (s_insert (trie, "a.b", &v) == 0);
    CHECK (s_insert (trie, "a.*", &v) == 0);
    CHECK (s_insert (trie, "a.>", &v) == 0);
    CHECK (s_count (trie, "a.b") == 3);
    CHECK (zch_trie_size (trie) == 3);
    zch_trie_destroy (&trie);
}

//  Removal frees empty nodes and keeps the others working.
static void
s_test_remove (void)
{
    zch_trie_t *trie = zch_trie_new ();
    int a, ab, abc, star;
    CHECK (s_insert (trie, "a", &a) == 0);
    CHECK (s_insert (trie, "a.b", &ab) == 0);
    CHECK (s_insert (trie, "a.b.c", &abc) == 0);
    CHECK (s_insert (trie, "a.*.c", &star) == 0);
    CHECK (zch_trie_nodes (trie) == 5);            //  a, a.b, a.b.c, a.*, a.*.c
    CHECK (s_remove (trie, "a.b", &ab) == 0);
    CHECK (zch_trie_nodes (trie) == 5);            //  a.b is still a path to a.b.c
    CHECK (s_count (trie, "a.b") == 0);
    CHECK (s_count (trie, "a.b.c") == 2);
    CHECK (s_remove (trie, "a.b.c", &abc) == 0);
    CHECK (zch_trie_nodes (trie) == 3);
    CHECK (s_only (trie, "a.b.c", &star));
    CHECK (s_only (trie, "a", &a));
    CHECK (s_remove (trie, "a", &a) == 0);
    CHECK (zch_trie_nodes (trie) == 3);
    CHECK (s_remove (trie, "a.*.c", &star) == 0);
    CHECK (zch_trie_nodes (trie) == 0);
    CHECK (zch_trie_size (trie) == 0);
    CHECK (s_count (trie, "a.b.c") == 0);
    //  the trie is reusable after emptying
    CHECK (s_insert (trie, "a.b.c", &abc) == 0);
    CHECK (s_only (trie, "a.b.c", &abc));
    zch_trie_destroy (&trie);
}

//  A small deterministic PRNG (xorshift64*), so runs are reproducible.
static uint64_t
s_rand (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

//  True when pattern matches topic, by the rules, token by token.
static int
s_naive_match (const char *pattern, const char *topic)
{
    int first = 1;
    while (1) {
        size_t plen = strcspn (pattern, ".");
        size_t tlen = strcspn (topic, ".");
        int wild = plen == 1 && (*pattern == '*' || *pattern == '>');
        if (wild && first && *topic == '$')
            return 0;
        if (plen == 1 && *pattern == '>')
            return *topic != '\0';
        if (*topic == '\0')
            return 0;
        if (!(plen == 1 && *pattern == '*')
        &&  !(plen == tlen && memcmp (pattern, topic, plen) == 0))
            return 0;
        pattern += plen;
        topic += tlen;
        if (*pattern == '\0' || *topic == '\0')
            return *pattern == '\0' && *topic == '\0';
        pattern++;
        topic++;
        first = 0;
    }
}

//  Writes a random topic or pattern of 1..4 tokens over a small alphabet.
static void
s_random_name (uint64_t *state, char *out, int pattern)
{
    static const char *const tokens [] = { "a", "b", "c", "$s", "ab" };
    int count = 1 + (int) (s_rand (state) % 4);
    out [0] = '\0';
    for (int i = 0; i < count; i++) {
        if (i)
            strcat (out, ".");
        uint64_t r = s_rand (state) % 8;
        if (pattern && r == 5)
            strcat (out, "*");
        else
        if (pattern && r == 6 && i == count - 1)
            strcat (out, ">");
        else
            strcat (out, tokens [r % 5]);
    }
}

//  The trie agrees with the naive matcher on random patterns and topics,
//  through inserts and removes.
static void
s_test_differential (void)
{
    enum { PATTERNS = 300, TOPICS = 400 };
    static char patterns [PATTERNS][32];
    static char topics [TOPICS][32];
    static int live [PATTERNS];
    uint64_t state = 0x1234567;
    zch_trie_t *trie = zch_trie_new ();
    size_t live_count = 0;
    for (int i = 0; i < PATTERNS; i++) {
        s_random_name (&state, patterns [i], 1);
        live [i] = s_insert (trie, patterns [i], &live [i]) == 0;
        live_count += live [i];
    }
    for (int i = 0; i < TOPICS; i++)
        s_random_name (&state, topics [i], 0);
    int mismatches = 0;
    for (int round = 0; round < 3; round++) {
        CHECK (zch_trie_size (trie) == live_count);
        for (int t = 0; t < TOPICS; t++) {
            static s_hits_t hits;
            hits.count = 0;
            zch_trie_match (trie, topics [t], strlen (topics [t]), s_collect, &hits);
            size_t expected = 0;
            for (int p = 0; p < PATTERNS; p++)
                if (live [p] && s_naive_match (patterns [p], topics [t])) {
                    expected++;
                    int seen = 0;
                    for (size_t h = 0; h < hits.count && h < S_HITS_MAX; h++)
                        seen |= hits.values [h] == &live [p];
                    mismatches += !seen;
                }
            mismatches += hits.count != expected;
        }
        //  remove about half of what is left
        for (int p = 0; p < PATTERNS; p++)
            if (live [p] && s_rand (&state) % 2) {
                CHECK (s_remove (trie, patterns [p], &live [p]) == 0);
                live [p] = 0;
                live_count--;
            }
    }
    CHECK (mismatches == 0);
    for (int p = 0; p < PATTERNS; p++)
        if (live [p])
            CHECK (s_remove (trie, patterns [p], &live [p]) == 0);
    CHECK (zch_trie_size (trie) == 0);
    CHECK (zch_trie_nodes (trie) == 0);
    zch_trie_destroy (&trie);
}

//  100k patterns: matching stays fast, and removing them all in a
//  scrambled order leaves no node behind (the child tables grow and shrink).
static void
s_test_many (void)
{
    enum { COUNT = 100000 };
    zch_trie_t *trie = zch_trie_new ();
    char name [64];
    int ok = 1;
    for (int i = 0; i < COUNT; i++) {
        snprintf (name, sizeof name, "dev%d.%s.m%d", i % 5000, i % 3? "temp": "*", i / 5000);
        ok &= s_insert (trie, name, (void *) (intptr_t) (i + 1)) == 0;
    }
    CHECK (ok);
    CHECK (zch_trie_size (trie) == COUNT);
    //  i = 35042 is dev42.temp.m7 (35042 % 3 == 2), a literal pattern
    CHECK (s_count (trie, "dev42.temp.m7") == 1);
    CHECK (s_count (trie, "dev42.other.m7") == 0);
    CHECK (s_count (trie, "dev3.other.m0") == 1);      //  i = 3 is dev3.*.m0
    CHECK (s_count (trie, "dev42.temp") == 0);
    CHECK (s_insert (trie, "dev42.>", (void *) 1) == 0);
    CHECK (s_count (trie, "dev42.temp.m7") == 2);
    CHECK (s_remove (trie, "dev42.>", (void *) 1) == 0);

    clock_t start = clock ();
    size_t total = 0;
    for (int i = 0; i < 200000; i++) {
        snprintf (name, sizeof name, "dev%d.temp.m%d", i % 5000, i % 20);
        total += s_count (trie, name);
    }
    double seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
    printf ("test_trie: 200000 matches over %d patterns in %.3f s (%zu hits)\n",
            COUNT, seconds, total);
    CHECK (total == 200000);
    CHECK (seconds < 5.0);          //  generous: sanitizer builds are slow

    uint64_t state = 42;
    static int order [COUNT];
    for (int i = 0; i < COUNT; i++)
        order [i] = i;
    for (int i = COUNT - 1; i > 0; i--) {
        int j = (int) (s_rand (&state) % (uint64_t) (i + 1));
        int t = order [i];
        order [i] = order [j];
        order [j] = t;
    }
    ok = 1;
    for (int k = 0; k < COUNT; k++) {
        int i = order [k];
        snprintf (name, sizeof name, "dev%d.%s.m%d", i % 5000, i % 3? "temp": "*", i / 5000);
        ok &= s_remove (trie, name, (void *) (intptr_t) (i + 1)) == 0;
        if (k == COUNT / 2)
            CHECK (zch_trie_size (trie) == COUNT - COUNT / 2 - 1);
    }
    CHECK (ok);
    CHECK (zch_trie_size (trie) == 0);
    CHECK (zch_trie_nodes (trie) == 0);
    zch_trie_destroy (&trie);
}

//  Many values on one pattern, removed from the middle.
static void
s_test_many_values (void)
{
    zch_trie_t *trie = zch_trie_new ();
    enum { COUNT = 1000 };
    int ok = 1;
    for (intptr_t i = 1; i <= COUNT; i++)
        ok &= s_insert (trie, "topic1", (void *) i) == 0;
    CHECK (ok);
    CHECK (s_count (trie, "topic1") == COUNT);
    for (intptr_t i = 2; i <= COUNT; i += 2)
        ok &= s_remove (trie, "topic1", (void *) i) == 0;
    CHECK (ok);
    CHECK (s_count (trie, "topic1") == COUNT / 2);
    CHECK (s_remove (trie, "topic1", (void *) 2) == -1);
    for (intptr_t i = 1; i <= COUNT; i += 2)
        ok &= s_remove (trie, "topic1", (void *) i) == 0;
    CHECK (ok);
    CHECK (zch_trie_nodes (trie) == 0);
    zch_trie_destroy (&trie);
}

//  Odd topics (not valid, but the matcher must not trip on them).
static void
s_test_odd_topics (void)
{
    zch_trie_t *trie = zch_trie_new ();
    int all, star;
    CHECK (s_insert (trie, ">", &all) == 0);
    CHECK (s_insert (trie, "*.*", &star) == 0);
    CHECK (s_count (trie, "") == 0);
    CHECK (s_count (trie, ".") == 2);              //  two empty tokens
    CHECK (s_count (trie, "a..") == 1);
    char long_topic [1000];
    memset (long_topic, 'a', sizeof long_topic);
    for (size_t i = 1; i < sizeof long_topic; i += 2)
        long_topic [i] = '.';
    long_topic [sizeof long_topic - 1] = '\0';
    CHECK (s_count (trie, long_topic) == 1);
    char long_pattern [ZCH_TOPIC_MAX + 2];
    memset (long_pattern, 'a', sizeof long_pattern);
    CHECK (zch_trie_insert (trie, long_pattern, ZCH_TOPIC_MAX + 1, &all) == -1);
    CHECK (zch_trie_insert (trie, long_pattern, ZCH_TOPIC_MAX, &all) == 0);
    long_pattern [ZCH_TOPIC_MAX] = '\0';
    CHECK (s_count (trie, long_pattern) == 2);     //  itself and ">"

    zch_trie_destroy (&trie);
}

int
main (void)
{
    s_test_basics ();
    s_test_wildcards ();
    s_test_reserved ();
    s_test_duplicates ();
    s_test_remove ();
    s_test_differential ();
    s_test_many ();
    s_test_many_values ();
    s_test_odd_topics ();
    CHECK_DONE ("test_trie");
}
