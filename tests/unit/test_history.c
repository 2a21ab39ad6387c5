/*  Unit tests of broker_history: the broker's last values and bounded
    history (eviction order, byte bound, per-topic bound, lookups).         */
#include "broker_history.h"
#include "broker_patterns.h"
#include "broker_pool.h"
#include "zch_check.h"

#include <stdlib.h>
#include <string.h>

//  Adds one message with a payload of size bytes on topic; returns its seq.
static uint64_t
s_add (broker_history_t *history, const char *name, size_t size)
{
    static uint8_t payload [4096];
    broker_topic_t *topic = broker_history_topic (history, name, strlen (name));
    if (!topic)
        return 0;
    uint64_t seq = broker_history_next_seq (topic);
    uint8_t meta [8] = { 0x80 };
    memset (payload, 'a' + (int) (seq % 26), size);
    if (broker_history_add (history, topic, seq, meta, 1, payload, size))
        return 0;
    return seq;
}

static broker_topic_t *
s_topic (broker_history_t *history, const char *name)
{
    return broker_history_find (history, name, strlen (name));
}

//  Seqs, lookups from a seq, last value.
static void
s_test_lookups (void)
{
    broker_history_t *history = broker_history_new (1024, 1024 * 1024, 1);
    CHECK (history);
    CHECK (s_topic (history, "a") == NULL);
    for (int i = 1; i <= 10; i++)
        CHECK (s_add (history, "a", 10) == (uint64_t) i);
    CHECK (s_add (history, "b", 5) == 1);
    broker_topic_t *a = s_topic (history, "a");
    CHECK (a && broker_history_held (a) == 10);
    CHECK (broker_history_first_seq (a) == 1);
    CHECK (broker_history_last_seq (a) == 10);
    broker_message_t message;
    CHECK (broker_history_get (a, 4, &message) == 0 && message.seq == 4);
    CHECK (message.payload_size == 10 && message.payload [0] == 'a' + 4);
    CHECK (message.meta_size == 1 && message.meta [0] == 0x80);
    CHECK (broker_history_get (a, 0, &message) == 0 && message.seq == 1);
    CHECK (broker_history_get (a, 10, &message) == 0 && message.seq == 10);
    CHECK (broker_history_get (a, 11, &message) == -1);
    CHECK (broker_history_last (a, &message) == 0 && message.seq == 10);
    CHECK (broker_history_topic_count (history) == 2);
    size_t len;
    CHECK (strcmp (broker_history_name (broker_history_topic_at (history, 1), &len), "b") == 0 && len == 1);
    CHECK (broker_history_topic_at (history, 2) == NULL);
    CHECK (broker_history_messages (history) == 11);
    CHECK (broker_history_bytes (history) == 10 * broker_history_cost (1, 10) + broker_history_cost (1, 5));
    //  A seq asked for but never taken leaves no trace
    CHECK (broker_history_next_seq (a) == 11);
    CHECK (broker_history_next_seq (a) == 11);
    broker_history_destroy (&history);
    CHECK (history == NULL);
}

//  The per-topic bound keeps the newest N of each topic.
static void
s_test_per_topic (void)
{
    broker_history_t *history = broker_history_new (3, 1024 * 1024, 1);
    for (int i = 0; i < 10; i++)
        s_add (history, "a", 1);
    s_add (history, "b", 1);
    broker_topic_t *a = s_topic (history, "a");
    CHECK (broker_history_held (a) == 3);
    CHECK (broker_history_first_seq (a) == 8);
    broker_message_t message;
    CHECK (broker_history_get (a, 2, &message) == 0 && message.seq == 8);
    CHECK (broker_history_get (a, 9, &message) == 0 && message.seq == 9);
    CHECK (broker_history_evicted (history) == 7);
    CHECK (broker_history_held (s_topic (history, "b")) == 1);
    broker_history_destroy (&history);

    //  0 keeps nothing, but seqs go on
    history = broker_history_new (0, 1024 * 1024, 1);
    CHECK (s_add (history, "a", 1) == 1);
    CHECK (s_add (history, "a", 1) == 2);
    a = s_topic (history, "a");
    CHECK (broker_history_held (a) == 0 && broker_history_last (a, &message) == -1);
    CHECK (broker_history_first_seq (a) == 3);
    CHECK (broker_history_bytes (history) == 0);
    broker_history_destroy (&history);
}

//  The byte bound: older messages go before any last value, oldest first;
//  then last values, oldest first.
static void
s_test_bytes (void)
{
    size_t cost = broker_history_cost (1, 100);
    broker_history_t *history = broker_history_new (1024, 6 * cost, 1);
    s_add (history, "a", 100);      //  a1
    s_add (history, "a", 100);      //  a2
    s_add (history, "b", 100);      //  b1
    s_add (history, "a", 100);      //  a3
    s_add (history, "c", 100);      //  c1
    s_add (history, "b", 100);      //  b2
    CHECK (broker_history_messages (history) == 6);
    s_add (history, "d", 100);      //  over: a1 (the oldest older message) goes
    broker_topic_t *a = s_topic (history, "a"), *b = s_topic (history, "b"),
                   *c = s_topic (history, "c"), *d = s_topic (history, "d");
    CHECK (broker_history_first_seq (a) == 2);
    CHECK (broker_history_bytes (history) <= 6 * cost);
    s_add (history, "d", 100);      //  a2 goes
    s_add (history, "d", 100);      //  b1 goes
    CHECK (broker_history_first_seq (a) == 3 && broker_history_held (a) == 1);
    CHECK (broker_history_first_seq (b) == 2 && broker_history_held (b) == 1);
    s_add (history, "d", 100);      //  d1 goes
    broker_message_t message;
    CHECK (broker_history_last (a, &message) == 0 && message.seq == 3);
    CHECK (broker_history_last (c, &message) == 0 && message.seq == 1);
    CHECK (broker_history_held (d) == 3 && broker_history_first_seq (d) == 2);
    s_add (history, "e", 100);      //  d2 goes
    s_add (history, "f", 100);      //  d3 goes: only last values are left
    CHECK (broker_history_held (d) == 1);
    CHECK (broker_history_messages (history) == 6);
    s_add (history, "g", 100);      //  a3, the oldest last value, goes
    CHECK (broker_history_held (a) == 0 && broker_history_last (a, &message) == -1);
    CHECK (broker_history_first_seq (a) == 4);
    CHECK (broker_history_last_seq (a) == 3);
    CHECK (broker_history_last (c, &message) == 0);
    s_add (history, "h", 100);      //  then c1
    CHECK (broker_history_last (c, &message) == -1);
    CHECK (broker_history_last (b, &message) == 0 && message.seq == 2);
    CHECK (broker_history_bytes (history) <= 6 * cost);
    //  A message larger than the whole bound is not kept, nor is anything else
    CHECK (s_add (history, "b", 4000) == 3);
    CHECK (broker_history_messages (history) <= 6);
    CHECK (broker_history_held (b) == 0);
    CHECK (broker_history_bytes (history) <= 6 * cost);
    broker_history_destroy (&history);
}

//  Many topics: memory held stays within the byte bound.
static void
s_test_many_topics (void)
{
    size_t bound = 64 * 1024;
    broker_history_t *history = broker_history_new (1024, bound, 1);
    char name [32];
    for (int i = 0; i < 20000; i++) {
        snprintf (name, sizeof name, "t.%d", i);
        s_add (history, name, 200);
        CHECK (broker_history_bytes (history) <= bound);
    }
    CHECK (broker_history_topic_count (history) == 20000);
    CHECK (broker_history_messages (history) == bound / broker_history_cost (1, 200));
    //  The newest topics keep their last value
    broker_message_t message;
    CHECK (broker_history_last (s_topic (history, "t.19999"), &message) == 0);
    CHECK (broker_history_last (s_topic (history, "t.0"), &message) == -1);
    broker_history_destroy (&history);
}

//  Topics matching a --no-history pattern keep nothing, their seqs go on;
//  bad patterns are refused with the flag named.
static void
s_test_no_history (void)
{
    char error [256];
    zch_option_list_t list = { .count = 2, .items = { "ticks.>", "presence.*" } };
    zch_trie_t *patterns = broker_patterns_new (&list, "no-history", error, sizeof error);
    CHECK (patterns);
    CHECK (broker_patterns_match (patterns, "ticks.a.b", 9));
    CHECK (broker_patterns_match (patterns, "presence.u1", 11));
    CHECK (!broker_patterns_match (patterns, "presence.u1.x", 13));
    CHECK (!broker_patterns_match (NULL, "ticks.a", 7));
    broker_history_t *history = broker_history_new (10, 1024 * 1024, 1);
    broker_history_skip (history, patterns);
    CHECK (s_add (history, "ticks.a", 5) == 1 && s_add (history, "ticks.a", 5) == 2);
    CHECK (s_add (history, "kept", 5) == 1);
    broker_topic_t *ticks = s_topic (history, "ticks.a");
    broker_message_t message;
    CHECK (!broker_history_keeps (ticks) && broker_history_keeps (s_topic (history, "kept")));
    CHECK (broker_history_held (ticks) == 0 && broker_history_last (ticks, &message) == -1);
    CHECK (broker_history_last_seq (ticks) == 2 && broker_history_first_seq (ticks) == 3);
    CHECK (broker_history_messages (history) == 1);
    broker_history_destroy (&history);
    zch_trie_destroy (&patterns);

    zch_option_list_t bad = { .count = 1, .items = { "a..b" } };
    CHECK (broker_patterns_new (&bad, "no-history", error, sizeof error) == NULL);
    CHECK (strstr (error, "--no-history 'a..b'") != NULL);
    zch_option_list_t twice = { .count = 2, .items = { "a.*", "a.*" } };
    CHECK (broker_patterns_new (&twice, "no-history", error, sizeof error) == NULL);
}

//  The pool: size classes within 1/8 above the size asked, a block given
//  back serves the next take of its class, the free bytes stay bounded,
//  and blocks past the largest class go straight to malloc and free.
static void
s_test_pool (void)
{
    for (size_t size = 1; size <= BROKER_POOL_LARGEST; size++) {
        size_t block = broker_pool_block_size (size);
        if (block < size || block > size + size / 8 + 16) {
            CHECK (!"class size out of bounds");
            printf ("size %zu -> block %zu\n", size, block);
            break;
        }
    }
    CHECK (broker_pool_block_size (1) == 16 && broker_pool_block_size (129) == 144);
    CHECK (broker_pool_block_size (BROKER_POOL_LARGEST) == BROKER_POOL_LARGEST);
    CHECK (broker_pool_block_size (BROKER_POOL_LARGEST + 1) == BROKER_POOL_LARGEST + 1);

    broker_pool_t *pool = broker_pool_new (4096);
    CHECK (pool);
    uint8_t *a = broker_pool_take (pool, 200);
    CHECK (a && broker_pool_mallocs (pool) == 1);
    memset (a, 'x', broker_pool_block_size (200));
    broker_pool_give (pool, a, 200);
    CHECK (broker_pool_free_bytes (pool) == broker_pool_block_size (200));
    //  Same class (193 .. 208): the same block, no malloc
    CHECK (broker_pool_take (pool, 205) == a && broker_pool_mallocs (pool) == 1);
    CHECK (broker_pool_free_bytes (pool) == 0);
    //  Another class does not take it
    broker_pool_give (pool, a, 200);
    uint8_t *b = broker_pool_take (pool, 300);
    CHECK (b && b != a && broker_pool_mallocs (pool) == 2);
    broker_pool_give (pool, b, 300);
    //  Bounded: beyond 4096 free bytes blocks go back to free
    void *blocks [64];
    for (int i = 0; i < 64; i++)
        blocks [i] = broker_pool_take (pool, 1000);
    for (int i = 0; i < 64; i++)
        broker_pool_give (pool, blocks [i], 1000);
    CHECK (broker_pool_free_bytes (pool) <= 4096);
    CHECK (broker_pool_free_bytes (pool) > 4096 - broker_pool_block_size (1000));
    //  Past the largest class: never kept
    void *large = broker_pool_take (pool, BROKER_POOL_LARGEST + 1);
    CHECK (large);
    size_t before = broker_pool_free_bytes (pool);
    broker_pool_give (pool, large, BROKER_POOL_LARGEST + 1);
    CHECK (broker_pool_free_bytes (pool) == before);
    broker_pool_destroy (&pool);
    CHECK (pool == NULL);
    broker_pool_destroy (&pool);
}

//  A steady stream (each add evicts its topic's oldest, or the byte bound
//  evicts) takes its nodes from the pool: the mallocs stop at what the
//  history holds, and what is read back is what was stored.
static void
s_test_steady (void)
{
    broker_history_t *history = broker_history_new (16, 1024 * 1024, 1);
    char name [32];
    for (int i = 0; i < 100000; i++) {
        snprintf (name, sizeof name, "s.%d", i % 10);
        s_add (history, name, 100 + (size_t) (i % 7));
    }
    CHECK (broker_history_messages (history) == 160);
    CHECK (broker_history_mallocs (history) >= 160 && broker_history_mallocs (history) <= 161);
    broker_message_t message;
    broker_topic_t *topic = s_topic (history, "s.3");
    uint64_t last = broker_history_last_seq (topic);
    CHECK (broker_history_get (topic, last - 15, &message) == 0 && message.seq == last - 15);
    CHECK (message.payload_size >= 100 && message.payload [0] == 'a' + (int) ((last - 15) % 26));
    broker_history_destroy (&history);

    size_t cost = broker_history_cost (1, 500);
    history = broker_history_new (1024, 50 * cost, 1);
    for (int i = 0; i < 100000; i++) {
        snprintf (name, sizeof name, "b.%d", i % 1000);
        s_add (history, name, 500);
        CHECK (broker_history_bytes (history) <= 50 * cost);
    }
    CHECK (broker_history_messages (history) == 50);
    CHECK (broker_history_mallocs (history) >= 50 && broker_history_mallocs (history) <= 51);
    broker_history_destroy (&history);
}

int
main (void)
{
    s_test_lookups ();
    s_test_per_topic ();
    s_test_bytes ();
    s_test_many_topics ();
    s_test_no_history ();
    s_test_pool ();
    s_test_steady ();
    CHECK_DONE ("test_history");
}
