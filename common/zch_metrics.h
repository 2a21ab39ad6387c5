/*  zch_metrics: counters that workers keep and an HTTP endpoint that
    serves them in Prometheus text format (libmicrohttpd).

    Each worker owns one zch_counters_t and is its only writer: it adds to
    its plain counters and publishes them with relaxed atomic stores at a
    turn boundary (or as it goes), so the hot path takes no lock and no
    locked instruction. The HTTP thread sums the blocks of each role.      */
#ifndef ZCH_METRICS_H_INCLUDED
#define ZCH_METRICS_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

//  Why a message (or, for slow consumers, a client's queued output) was dropped
typedef enum {
    ZCH_DROP_SLOW_CONSUMER = 0, //  a client that did not read: its output, then itself
    ZCH_DROP_HWM,               //  a high-water mark beyond what history heals (gap)
    ZCH_DROP_MALFORMED,         //  bad input: frames, commands, topics, too-long lines
    ZCH_DROP_PLUGIN,            //  a plugin said drop
    ZCH_DROP_RATE_LIMIT,        //  over a rate limit
    ZCH_DROP_TOO_LARGE,         //  a payload over --max-payload (the broker's, from ZeroMQ producers)
    ZCH_DROP_SHUTDOWN,          //  sent at shutdown, the broker never confirmed having it
    ZCH_DROP_ENGINE,            //  the shared engine (Redis) could not be reached or refused it
    ZCH_DROP_FAILOVER,          //  sent to a broker given up for another, never confirmed (at most this many lost)
    ZCH_DROP_CAUSES
} zch_drop_cause_t;

//  Why a client or a request was refused (limits and authentication)
typedef enum {
    ZCH_REFUSE_TOO_MANY_CLIENTS = 0,
    ZCH_REFUSE_CONN_RATE,
    ZCH_REFUSE_IDLE,
    ZCH_REFUSE_KEEPALIVE,
    ZCH_REFUSE_TOO_MANY_SUBS,
    ZCH_REFUSE_TLS,
    ZCH_REFUSE_AUTH_FAILED,
    ZCH_REFUSE_AUTH_REQUIRED,
    ZCH_REFUSE_FORBIDDEN,
    ZCH_REFUSE_CAUSES
} zch_refuse_cause_t;

typedef struct {
    //  counters, since start
    atomic_uint_least64_t messages_received;    //  into this stage
    atomic_uint_least64_t bytes_received;       //  their payload bytes
    atomic_uint_least64_t messages_sent;        //  out of this stage (per delivery)
    atomic_uint_least64_t bytes_sent;
    atomic_uint_least64_t dropped [ZCH_DROP_CAUSES];
    atomic_uint_least64_t slow_consumer_bytes;  //  output discarded with slow consumers
    atomic_uint_least64_t plugin_ns;            //  time spent in plugins
    atomic_uint_least64_t refused [ZCH_REFUSE_CAUSES];  //  clients and requests turned away
    atomic_uint_least64_t confirms;             //  publisher confirms given
    atomic_uint_least64_t unconfirmed;          //  publisher confirms that could not be given
    atomic_uint_least64_t broker_moves;         //  front-end: moves to the next broker (failover)
    //  gauges, now
    atomic_uint_least64_t clients;
    atomic_uint_least64_t subscriptions;
    atomic_uint_least64_t topics;
    atomic_uint_least64_t history;              //  messages held in history
    atomic_uint_least64_t linked;               //  1 while a front-end worker's broker link is up
    atomic_uint_least64_t output;               //  bytes queued for clients, not yet written
    //  work queues (broker): gauges, then counters
    atomic_uint_least64_t queue_items;          //  items waiting
    atomic_uint_least64_t queue_inflight;       //  items handed out, not yet written
    atomic_uint_least64_t queue_bytes;          //  payload bytes of both
    atomic_uint_least64_t queue_enqueued;
    atomic_uint_least64_t queue_delivered;      //  redeliveries included
    atomic_uint_least64_t queue_redelivered;
    atomic_uint_least64_t queue_refused;        //  enqueues refused (queue full, disabled)
} zch_counters_t;

//  Notes the process start time, for the uptime gauge. Call once, early.
void zch_metrics_init (void);

//  Names the process in its process-wide metrics (build info, uptime, CPU,
//  memory, descriptors): its role, or the launcher's name for several
//  roles in one process. role is borrowed for the process's lifetime.
void zch_metrics_process_role (const char *role);

//  A zeroed block for one worker of role (the role's own name, which
//  labels its metrics; borrowed for the process's lifetime). The registry
//  owns it until the process ends, so the worker may simply stop using
//  it. Returns NULL when out of memory.
zch_counters_t *zch_metrics_counters (const char *role);

//  The same for a front-end worker: its role also counts refusals, and
//  is ready only while the worker sets linked (its broker link is up).
zch_counters_t *zch_metrics_edge_counters (const char *role);

//  Publishes value into a counter or gauge of a block this thread owns.
static inline void
zch_metrics_set (atomic_uint_least64_t *slot, uint64_t value)
{
    atomic_store_explicit (slot, value, memory_order_relaxed);
}

//  Adds to a counter of a block this thread owns (no locked instruction).
static inline void
zch_metrics_add (atomic_uint_least64_t *slot, uint64_t value)
{
    atomic_store_explicit (slot, atomic_load_explicit (slot, memory_order_relaxed) + value,
                           memory_order_relaxed);
}

//  Renders every role's sums in Prometheus text format into a new string
//  (the caller frees it), or NULL when out of memory.
char *zch_metrics_render (void);

//  True when every role has a block and every front-end worker's broker
//  link is up; otherwise false, with the roles not ready in why.
bool zch_metrics_ready (char *why, size_t why_size);

//  Writes the process-wide metrics (zch_metrics_process.c), labelled role.
void zch_metrics_process_render (FILE *out, const char *role);

typedef struct zch_metrics_server_t zch_metrics_server_t;

//  Serves GET /metrics, /healthz (200 while the process answers) and
//  /readyz (200 once zch_metrics_ready, else 503 saying why) on
//  "HOST:PORT" in its own thread. Returns NULL with a one-line reason in
//  error.
zch_metrics_server_t *zch_metrics_server_new (const char *listen, char *error, size_t error_size);

//  Stops serving; NULLs the pointer.
void zch_metrics_server_destroy (zch_metrics_server_t **self_p);

#endif
