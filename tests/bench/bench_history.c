/*  bench_history: what the broker's history costs per message, alone:
    broker_history_add with eviction at the per-topic bound, and
    snapshot-style lookups of every topic's last value. Not a test.
    Usage: bench_history [MESSAGES [TOPICS [SIZE]]]                         */
#include "broker_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char *argv [])
{
    long messages = argc > 1? atol (argv [1]): 5000000;
    long topics = argc > 2? atol (argv [2]): 100;
    long size = argc > 3? atol (argv [3]): 64;
    broker_history_t *history = broker_history_new (BROKER_HISTORY_PER_TOPIC_DEFAULT,
                                                    BROKER_HISTORY_BYTES_DEFAULT, 1);
    broker_topic_t **table = calloc ((size_t) topics, sizeof *table);
    uint8_t *payload = calloc (1, (size_t) size);
    uint8_t meta [40] = { 0x83 };
    if (!history || !table || !payload)
        return 1;
    for (long i = 0; i < topics; i++) {
        char name [32];
        int len = snprintf (name, sizeof name, "bench.%ld", i);
        table [i] = broker_history_topic (history, name, (size_t) len);
    }
    double t0 = s_now ();
    for (long i = 0; i < messages; i++) {
        broker_topic_t *topic = table [i % topics];
        broker_history_add (history, topic, broker_history_next_seq (topic),
                            meta, sizeof meta, payload, (size_t) size);
    }
    double took = s_now () - t0;
    printf ("add: %ld x %ld B over %ld topics: %.0f ns per message (%.1f M/s), %zu held, "
            "%.1f MiB\n", messages, size, topics, took / messages * 1e9, messages / took / 1e6,
            broker_history_messages (history), broker_history_bytes (history) / 1048576.0);
    t0 = s_now ();
    size_t found = 0;
    broker_message_t message;
    for (long i = 0; i < topics; i++)
        found += broker_history_last (table [i], &message) == 0;
    took = s_now () - t0;
    printf ("last values: %zu topics in %.3f ms\n", found, took * 1e3);
    broker_history_destroy (&history);
    free (table);
    free (payload);
    return 0;
}
