/*  broker_engine: where a topic's order, history and fan-out live.

    The memory engine is the broker itself: broker_history stamps the seqs
    and keeps the history, and nothing here is used. The Redis engine
    shares them between brokers: each publish goes to Redis, which takes
    the seq, stores and fans out in one step; every broker forwards what
    comes back from Redis for the prefixes its front-ends follow, and keeps
    broker_history as a cache of those topics for HISTORY, HEAL, SNAPSHOT,
    SEQS and STATS.

    The Redis work runs on its own thread (broker_engine_redis.c), so the
    broker's loop never waits on a network round trip per message: it
    hands a publish over an inproc pipe and goes on, and what Redis sends
    back arrives on the same pipe, in Redis's order. The pipe towards the
    engine is bounded (a full pipe holds the broker, and so its ingress,
    back), and the engine drops and counts a publish at once while Redis
    cannot be reached: nothing waits without bound.                        */
#ifndef BROKER_ENGINE_H_INCLUDED
#define BROKER_ENGINE_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "broker_control.h"
#include "broker_history.h"
#include "zch_option.h"

#define BROKER_ENGINE_MEMORY 0
#define BROKER_ENGINE_REDIS  1
#define BROKER_ENGINE_CHOICES "memory|redis"

typedef struct broker_engine_t broker_engine_t;

//  What the engine counts; read by the broker's metrics and STATS.
typedef struct {
    atomic_uint_least64_t published;        //  stamped by Redis
    atomic_uint_least64_t failed;           //  dropped: Redis unreachable or refused
    atomic_uint_least64_t received;         //  messages Redis fanned out to this broker
    atomic_uint_least64_t connects;         //  connections to Redis opened (first ones and again)
    atomic_int shards_down;                 //  shards whose commands connection is not up now
    atomic_uint_least64_t master_changes;   //  the sentinels named another master
    atomic_uint_least64_t generations;      //  a promoted master seen: a shard's generation bumped
} broker_engine_stats_t;

//  Starts the Redis engine on shards (HOST:PORT each; a topic's shard by
//  Jump consistent hash) or, when sentinels is not empty, on one shard per
//  Sentinel group (HOST:PORT,... each) whose master is named masters (one
//  name for all, or one each), keeping history_per_topic entries per
//  stream. Topics matching no_history (patterns) take a plain PUBLISH:
//  no seq in Redis, no stream; each broker numbers what it forwards.
//  Returns NULL with a reason in error.
broker_engine_t *broker_engine_redis_new (const zch_option_list_t *shards, const zch_option_list_t *sentinels,
                                          const zch_option_list_t *masters, const zch_option_list_t *no_history,
                                          int history_per_topic, char *error, size_t error_size);

//  Stops the engine (waits a moment for publishes in flight); NULLs the pointer.
void broker_engine_destroy (broker_engine_t **self_p);

//  The socket to poll for what the engine sends back (ZMQ_POLLIN).
void *broker_engine_socket (broker_engine_t *self);

//  The engine's counters.
const broker_engine_stats_t *broker_engine_stats (broker_engine_t *self);

//  Hands one publish (meta without seq) to the engine; route (NULL: none)
//  and number name the confirm its source asked for, which the engine
//  hands back once Redis has stamped it or failed to. Returns 0, or -1
//  when the engine has not taken it within a second (counted as failed;
//  no confirm follows).
int broker_engine_publish (broker_engine_t *self, const char *topic, size_t topic_len,
                           const uint8_t *meta, size_t meta_size,
                           const uint8_t *payload, size_t payload_size,
                           const char *route, size_t route_len, uint64_t number);

//  A front-end's subscription (on) or the last unsubscription (off) of a
//  prefix, as the broker's XPUB reports it.
void broker_engine_follow (broker_engine_t *self, bool on, const char *prefix, size_t len);

//  A barrier (a "$ack." topic): the engine hands it back once every
//  earlier subscription is in place in Redis and its topic is cached.
void broker_engine_barrier (broker_engine_t *self, const uint8_t *topic, size_t len);

//  A source's hand-over marker (its "$handover.<marker>" frame): the engine
//  hands it back once Redis has answered every publish sent before it, so
//  that "DONE" means stamped and stored, not only read.
void broker_engine_marker (broker_engine_t *self, const uint8_t *frame, size_t size);

//  What the broker does with what the engine hands back.
typedef struct {
    broker_history_t *history;  //  the cache
    //  forward a stamped message to the front-ends (frames taken over)
    void (*forward) (void *arg, zmq_msg_t *topic, zmq_msg_t *meta, zmq_msg_t *payload);
    bool (*held) (void *arg);   //  true: nothing may be forwarded now
    void (*barrier) (void *arg, const uint8_t *topic, size_t len);  //  answer a barrier
    void (*marker) (void *arg, const uint8_t *frame, size_t size);  //  answer a hand-over marker
    //  confirm a publish: its seq and epoch, or (reason set) why it was dropped
    void (*confirm) (void *arg, const char *route, size_t route_len, uint64_t number,
                     const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch, const char *reason);
    void *arg;
    uint64_t duplicates;        //  the same seq again (two prefixes, a cache that was primed)
    uint64_t cache_resets;      //  a new epoch or a gap in what Redis sent
} broker_engine_sink_t;

//  Handles up to limit messages from the engine. Returns how many.
size_t broker_engine_drain (broker_engine_t *self, broker_engine_sink_t *sink, size_t limit);

//  Copies the engine's counters and sink's into stats (STATS).
void broker_engine_fill_stats (broker_engine_t *self, const broker_engine_sink_t *sink,
                               broker_stats_t *stats);

//  A fresh epoch, new at every call (broker.c).
uint64_t broker_epoch_new (void);

#endif
