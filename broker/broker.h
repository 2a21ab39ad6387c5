/*  broker: the central forwarder, as a czmq actor.

    XSUB ingress subscribed to everything, XPUB egress, ROUTER control.
    Every accepted message gets its topic's next seq stamped into meta and
    is forwarded with its topic and payload frames moved, never copied.     */
#ifndef BROKER_H_INCLUDED
#define BROKER_H_INCLUDED

#include <czmq.h>

#include "broker_history.h"
#include "zch_option.h"
#include "zch_plugin_args.h"

//  Loopback by default: a ZeroMQ peer passes no token check, so reaching
//  the broker from other hosts is asked for by name (and best with CURVE)
#define BROKER_INGRESS_DEFAULT  "tcp://127.0.0.1:2206"
#define BROKER_EGRESS_DEFAULT   "tcp://127.0.0.1:2207"
#define BROKER_CONTROL_DEFAULT  "tcp://127.0.0.1:2208"
#define BROKER_EGRESS_HWM_DEFAULT 1000000   //  ZeroMQ messages: one per message for outside consumers, batches of up to 64 KiB for front-ends

typedef struct {
    const char *ingress;        //  endpoints to bind
    const char *egress;
    const char *control;
    const char *ingress_local;  //  extra endpoints (inproc, for the all-in-one); may be NULL
    const char *egress_local;
    const char *control_local;
    int egress_hwm;             //  messages queued per subscriber front-end
    int history_per_topic;      //  newest messages kept per topic (0: no history, no last value)
    size_t history_bytes;       //  bytes the history may hold over all topics
    int drain_timeout;          //  ms a drain may take at shutdown
    zch_plugin_args_t plugins;  //  the broker's plugin chain (zch_plugin_options)
    const char *curve_secret;   //  the broker's certificate: CURVE on every TCP endpoint; "": off
    const char *curve_clients;  //  with curve_secret: only these clients' public certificates; "": any
    bool allow_plain_zmq;       //  endpoints beyond loopback without CURVE, though tokens or TLS guard the edges
    size_t max_payload;         //  largest payload taken from a producer; larger ones are dropped, counted
    int engine;                 //  BROKER_ENGINE_MEMORY or BROKER_ENGINE_REDIS (broker_engine.h)
    zch_option_list_t redis;    //  the Redis engine's shards, HOST:PORT each
    zch_option_list_t sentinel; //  or shards as Sentinel groups, HOST:PORT,... each
    zch_option_list_t sentinel_master;  //  their masters' names (one for all, or one each)
    int queue_max_items;        //  items a work queue may hold (waiting and in flight)
    size_t queue_max_bytes;     //  payload bytes a work queue may hold
    zch_option_list_t no_history;   //  patterns of topics that keep no history
} broker_config_t;

//  The broker's settings (ingress_local and egress_local are the launcher's).
extern const zch_option_t broker_options [];

//  Fills config with the defaults.
void broker_config_defaults (broker_config_t *config);

//  Checks that no endpoint listens beyond loopback without CURVE while
//  the front-ends have tokens or TLS (secured): a ZeroMQ peer would pass
//  around them. Returns 0, or -1 with a reason that says how to fix it
//  (allow_plain_zmq lets it through). Without secured, or with
//  allow_plain_zmq, such an endpoint is only logged.
int broker_check_exposure (const broker_config_t *config, bool secured, char *error, size_t error_size);

//  The actor: start with zch_actor_start (broker_actor, &config, ...); the
//  config must outlive it. On $TERM it reads what is still arriving on its
//  ingress, forwards it, and ends.
void broker_actor (zsock_t *pipe, void *args);

//  Reloads the broker's plugins from config->plugins (SIGHUP): builds the
//  new chain in the caller's thread and hands it to the actor, which swaps
//  it in between two messages. Returns 0, or -1 with a reason (the old
//  chain then stays).
int broker_reload (zactor_t *broker, const broker_config_t *config, char *error, size_t error_size);

#endif
