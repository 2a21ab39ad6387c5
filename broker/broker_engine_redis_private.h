/*  broker_engine_redis_private: what the broker's side hands the Redis
    engine's thread.                                                       */
#ifndef BROKER_ENGINE_REDIS_PRIVATE_H_INCLUDED
#define BROKER_ENGINE_REDIS_PRIVATE_H_INCLUDED

#include <czmq.h>

#include "broker_engine.h"
#include "zch_topic.h"

typedef struct {
    void *data;                         //  the thread's end of the pipe (PAIR)
    broker_engine_stats_t *stats;
    const zch_option_list_t *shards;    //  HOST:PORT each, checked
    int history_per_topic;
} broker_engine_redis_args_t;

//  The thread, as a zactor.
void broker_engine_redis_run (zsock_t *pipe, void *args);

#endif
