/*  broker_control: requests on the broker's ROUTER control endpoint.

    A DEALER (or REQ) peer sends one request, as one frame of tokens
    separated by spaces or as one frame per token:
      PING                              -> [PONG]
      STATS                             -> [STATS, msgpack map of counters]
      SNAPSHOT <pattern> [tag]          -> [MSG, tag, topic, meta, payload]...
                                           [END, tag, OK|GAP, sent, missing]
      HISTORY <topic> <from-seq>[@<epoch>] [tag]
                                        -> [MSG, tag, topic, meta, payload]...
                                           [END, tag, OK|GAP|RESET, first, last, epoch]
      HEAL <topic> <from>[@<epoch>] <to> [tag]
                                        -> [MSG, ...]... [END, tag, OK|GAP|RESET, sent, lost, epoch]
      SEQS <prefix> [tag]               -> [SEQ, tag, topic, seq, epoch]...
                                           [END, tag, OK, sent, 0, epoch]
                                           (epoch 0 on the Redis engine: see
                                           broker_control_topic_epochs)
    (SNAPSHOT's END carries the epoch too.)
      HANDOVER <marker>                 -> [HANDOVER, marker, WAITING], later
                                           [HANDOVER, marker, DONE] (broker_handover.h)
    anything else -> [ERR, reason]. proto/PROTOCOL.md section 5 is the
    reference. Streams go out in bounded chunks, one chunk per stream per
    loop turn, and a requester that does not read (its high-water mark is
    full) is skipped, never waited for, so forwarding never stalls.        */
#ifndef BROKER_CONTROL_H_INCLUDED
#define BROKER_CONTROL_H_INCLUDED

#include <stdint.h>

#include "broker_history.h"

typedef struct {
    uint64_t messages_in;       //  accepted and forwarded
    uint64_t bytes_in;          //  payload bytes of those
    uint64_t malformed;         //  producer messages dropped as malformed
    uint64_t batches_in;        //  internal batches read from sources (ZeroMQ messages)
    uint64_t batched_in;        //  the messages they carried
    uint64_t subscriptions;     //  subscribe requests seen on egress
    uint64_t unsubscriptions;   //  unsubscribes seen: only when no peer follows the prefix any more
    uint64_t subscriptions_held;    //  prefixes some egress peer follows (refreshed before serving)
    uint64_t peers;             //  ZeroMQ peers connected over TCP or IPC (refreshed before serving)
    uint64_t too_large;         //  producer messages dropped for a payload over max_payload
    uint64_t topics;            //  distinct topics (refreshed before serving)
    uint64_t control_errors;    //  control requests that made no sense
    uint64_t history_bytes;     //  held by the history (refreshed before serving)
    uint64_t history_messages;
    uint64_t history_evicted;   //  messages the bounds pushed out
    uint64_t history_store_failed;  //  messages not stored (out of memory)
    uint64_t snapshot_requests;
    uint64_t seqs_requests;
    uint64_t history_requests;
    uint64_t history_incomplete;    //  HISTORY answers that did not reach back to from-seq
    uint64_t gaps;                  //  HEAL requests: a front-end saw a seq jump
    uint64_t gap_messages_healed;   //  messages sent to fill them
    uint64_t gap_messages_lost;     //  messages asked for and no longer held
    uint64_t streams_abandoned;     //  requester gone, or stalled too long
    uint64_t streams;               //  in progress now
    uint64_t plugin_dropped;    //  messages the broker's plugins dropped (no seq taken)
    uint64_t plugin_errors;     //  errors the broker's plugins returned
    uint64_t handovers;         //  source hand-overs confirmed (refreshed before serving)
    uint64_t local_waits;       //  times a front-end in this process made the broker wait
    uint64_t local_wait_ms;     //  and for how long in all (both refreshed before serving)
    uint64_t history_resets;    //  HISTORY and HEAL requests whose position was of another epoch
    uint64_t confirms;          //  CONFIRM answers sent to sources
    int engine_shards;          //  Redis engine: its shards (0: the memory engine)
    int engine_shards_down;     //  of those, unreachable now (HEALTH answers down)
    uint64_t confirms_failed;   //  confirms whose source was gone or full
    uint64_t engine_published;  //  Redis engine: publishes Redis stamped
    uint64_t engine_failed;     //  publishes dropped: Redis unreachable or refusing
    uint64_t engine_received;   //  messages Redis fanned out to this broker
    uint64_t engine_duplicates; //  of those, seqs already forwarded
    uint64_t engine_cache_resets;   //  a new epoch or a gap: a topic's cache started again
    uint64_t engine_connects;   //  connections to Redis opened (first ones and again)
    uint64_t engine_master_changes; //  the sentinels named another master
    uint64_t engine_generations;    //  promoted masters seen: a shard's topics start new epochs
    uint64_t epoch;             //  the epoch of this run's seqs (not a counter)
} broker_stats_t;

typedef struct broker_control_t broker_control_t;

//  Serves the ROUTER socket control (borrowed) over history (borrowed),
//  counting into stats (borrowed). Returns NULL when out of memory.
broker_control_t *broker_control_new (void *control, broker_history_t *history,
                                      broker_stats_t *stats);

//  Says the topics' epochs are their own, not this broker's (the Redis
//  engine): a SEQS answer then ends with epoch 0, since a topic it does not
//  list may only not be cached yet, and must not be taken as gone.
void broker_control_topic_epochs (broker_control_t *self);

//  Serves work-queue requests (broker_queues.h) with queues (borrowed) too.
struct broker_queues_t;
void broker_control_set_queues (broker_control_t *self, struct broker_queues_t *queues);

//  Drops every stream in progress; NULLs the pointer.
void broker_control_destroy (broker_control_t **self_p);

//  Reads and answers (or starts streaming) every request waiting.
void broker_control_serve (broker_control_t *self);

//  An ingress message on a $handover. topic: answers the hand-over it
//  ends (see broker_handover_marker).
void broker_control_marker (broker_control_t *self, const uint8_t *frame, size_t size);

//  Sends one chunk of each stream in progress. Returns how long the loop
//  may sleep before calling again: -1 (no stream), 0 (more to send now)
//  or a few ms (every stream waits for a slow requester).
int broker_control_work (broker_control_t *self);

#endif
