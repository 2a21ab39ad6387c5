/*  broker_engine_redis_private: what the broker's side hands the Redis
    engine's thread, and what the thread's two files share (its shards and
    their connections).                                                    */
#ifndef BROKER_ENGINE_REDIS_PRIVATE_H_INCLUDED
#define BROKER_ENGINE_REDIS_PRIVATE_H_INCLUDED

#include <czmq.h>

#include "broker_engine.h"
#include "zch_topic.h"

#include <hiredis/async.h>

typedef struct {
    void *data;                         //  the thread's end of the pipe (PAIR)
    broker_engine_stats_t *stats;
    const zch_option_list_t *shards;    //  HOST:PORT each, checked
    const zch_option_list_t *sentinels; //  or, when not empty, HOST:PORT,... per shard, checked
    const zch_option_list_t *masters;   //  the master's name at those (one for all, or one each)
    const zch_option_list_t *no_history;    //  patterns of topics published plainly, checked
    int history_per_topic;
} broker_engine_redis_args_t;

typedef struct engine_t engine_t;
typedef struct shard_t shard_t;

typedef struct {
    shard_t *shard;
    redisAsyncContext *context;     //  NULL: down
    bool reading, writing;
    bool subscriber;
    bool up;                        //  connected (not still connecting)
} link_t;

//  One shard: its master's address (given, or as the sentinels name it)
//  and the connections to it.
struct shard_t {
    engine_t *engine;
    int index;
    char host [256];
    int port;
    link_t commands;
    link_t channels;
    int64_t retry_at;
    int64_t ping_sent;              //  when the PING awaited went out; 0: none awaited
    int64_t ping_next;
    char epoch [24];                //  the epoch a topic created now gets (decimal)
    bool ready;                     //  commands up and the generation checked: publishes may go
    bool switch_wanted;             //  the master changed or refused: connect again
    const char *sentinels;          //  HOST:PORT,...; NULL: a plain --redis shard
    const char *master;             //  the master's name at the sentinels
    link_t watch;                   //  +switch-master at one sentinel
    int watch_next;                 //  the sentinel the watch tries next
    int64_t located_logged_at;
};

struct engine_t {
    void *data;                     //  PAIR to the broker
    broker_engine_stats_t *stats;
    shard_t *shards;
    int shard_count;
    char history [16];
    zhashx_t *prefixes;             //  followed prefixes (key: the prefix; value unused)
    zlistx_t *primes;               //  prime_t in progress
    zlistx_t *barriers;             //  barrier_t waiting
    uint64_t prime_ids;
    size_t inflight;
    int64_t failed_logged_at;
    struct confirm_t *unconfirmed;  //  what publishes without a confirm pass to their callback
    zch_trie_t *no_history;         //  topics published plainly (no seq, no stream)
};

//  A publish whose source asked for a confirm: where to send it.
typedef struct confirm_t {
    engine_t *engine;
    uint64_t number;
    size_t route_len;
    size_t topic_len;
    char data [];               //  route, then topic
} confirm_t;

//  A topic's shard: FNV-1a, then Jump consistent hash.
int broker_redis_shard_of (engine_t *self, const char *topic, size_t len);

//  Writes "zch:<kind>:<topic>" into out. Returns its length.
size_t broker_redis_key (char kind, const char *topic, size_t len, char *out);

//  Sends kind and parts to the broker (never blocks).
void broker_redis_send (engine_t *self, const char *kind, const void **parts, const size_t *sizes, size_t count);

//  One publish from the broker: [topic][meta][payload], then [route][number]
//  when its source wants a confirm.
void broker_redis_publish (engine_t *self, zmsg_t *msg);

//  A source's hand-over marker: sent back to the broker once every shard
//  has answered what was sent to it before (a PING behind the publishes).
void broker_redis_marker (engine_t *self, zframe_t *frame);

//  Opens link's connection to host:port, driven by the thread's poll.
//  Returns 0 or -1.
int broker_redis_link_open (shard_t *shard, link_t *link, const char *host, int port);

//  Forgets link's connection (hiredis frees it).
void broker_redis_link_down (link_t *link);

//  Checks "HOST:PORT,HOST:PORT,...". Returns 0, or -1 with a reason.
int broker_redis_sentinel_check (const char *list, char *error, size_t error_size);

//  Sets shard's host and port to its master as the first sentinel that
//  answers names it. Returns 0, or -1 when none does (logged).
int broker_redis_sentinel_locate (shard_t *shard);

//  Opens shard's +switch-master watch at its next sentinel, if down.
void broker_redis_sentinel_watch (shard_t *shard);

//  The answer to the generation check (the zch_generation function) run
//  first on each commands connection: { generation, replication id,
//  bumped }. A server that is no master (a sentinel's stale answer, a
//  demoted master) refuses it: the shard connects again, asking the
//  sentinels. Otherwise publishes may go.
void broker_redis_generation_reply (redisAsyncContext *context, void *reply, void *shard);

//  The thread, as a zactor.
void broker_engine_redis_run (zsock_t *pipe, void *args);

#endif
