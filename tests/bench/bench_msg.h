/*  bench_msg: what zch_bench puts in a payload and how it checks what
    comes back, the same for every protocol.

    A payload starts with "<publisher>:<seq>:<send-time-ns>:" (decimal,
    CLOCK_MONOTONIC) and is padded with 'x' to the payload size. A check
    counts, per (subscriber, publisher) pair, deliveries, repeats, gaps
    and reversals, and adds each delivery's latency to the histogram.
    Seq 0 is a probe (used to learn that a ZeroMQ path is up): it is
    reported, never counted. Nothing is allocated per message.            */
#ifndef BENCH_MSG_H_INCLUDED
#define BENCH_MSG_H_INCLUDED

#include "bench_run.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_HEADER_MAX 64     //  "<pub>:<seq>:<ns>:" fits in this

typedef struct bench_check_t bench_check_t;

//  What bench_check_payload made of one payload.
typedef enum {
    BENCH_MSG_COUNTED,          //  one of ours, counted
    BENCH_MSG_PROBE,            //  one of ours with seq 0
    BENCH_MSG_FOREIGN           //  not ours; counted as foreign
} bench_msg_kind_t;

//  Writes value in decimal at to (20 bytes at most); returns the digits.
size_t bench_put_u64 (char *to, uint64_t value);

//  Nanoseconds on the monotonic clock, the clock of the payload stamps.
int64_t bench_now_ns (void);

//  Writes a payload of size bytes (or just the header, if longer) for
//  publisher/seq stamped now at to, which holds at least
//  max (size, BENCH_HEADER_MAX) bytes. Returns its length.
size_t bench_payload_fill (char *to, size_t size, int publisher, uint64_t seq);

//  Creates a check for config that fills result's counters and
//  histogram (it creates result->latency). Returns NULL when out of
//  memory.
bench_check_t *bench_check_new (const bench_config_t *config, bench_result_t *result);

//  Frees the check (not result->latency) and NULLs the pointer.
void bench_check_destroy (bench_check_t **self_p);

//  Checks one delivered payload for subscriber at time now. On a probe,
//  *publisher is the probe's publisher.
bench_msg_kind_t bench_check_payload (bench_check_t *self, int subscriber,
                                      const char *payload, size_t len, int64_t now,
                                      int *publisher);

//  Counts count messages subscriber was told lost (-ERR gap).
void bench_check_told (bench_check_t *self, int subscriber, uint64_t count);

//  Subscribers whose messages told lost differ from those they missed
//  (of result->sent): a loss untold, or a gap told for a delivery.
uint64_t bench_check_mistold (bench_check_t *self);

//  Tells whether topic (len bytes) is the configured topic, or one of
//  the configured topic's children when there are several topics.
bool bench_check_topic (bench_check_t *self, const char *topic, size_t len);

#endif
