/*  broker_queues: work queues held in the broker, on its ROUTER control
    endpoint.

    An item waits in its queue until a watcher has credit for it; it then
    goes to exactly one watcher (round robin over those with credit) and
    stays in the broker, in flight, until the front-end says it was written
    to the client (QACK: forgotten) or was not (QNACK: back at the head of
    its queue, given to another watcher, counted as redelivered). A
    front-end that goes silent (no QALIVE for BROKER_QUEUES_SILENT_MS) or
    unreachable loses its watchers and its items in flight come back the
    same way. Each queue is bounded by items and bytes, counting those in
    flight: past either bound an enqueue is refused, said and counted.

    The requests, after the DEALER's routing frame (proto/PROTOCOL.md 5.1):
      QPUT <tag> <queue> <payload> <content-type>   -> QOK <tag> | QERR <tag> <code> <text>
      QWATCH <tag> <queue> <watcher>                -> QOK <tag> | QERR <tag> <code> <text>
      QUNWATCH <queue> <watcher>
      QCREDIT <queue> <watcher> <n>                 (n more items for that watcher)
      QACK <id>   QNACK <id>   QALIVE
    and what the broker sends a watcher's front-end:
      QITEM <queue> <watcher> <id> <payload> <content-type>
      QAGAIN      (to a QALIVE it cannot place: watch again)                */
#ifndef BROKER_QUEUES_H_INCLUDED
#define BROKER_QUEUES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "zch_metrics.h"

#define BROKER_QUEUES_SILENT_MS  10000   //  a front-end silent this long is taken as gone

typedef struct {
    uint64_t queues;            //  queues now (gauges first)
    uint64_t watchers;          //  watchers over all queues
    uint64_t items;             //  items waiting
    uint64_t inflight;          //  items handed out, not yet acknowledged
    uint64_t bytes;             //  payload bytes of both
    uint64_t enqueued;          //  counters since start
    uint64_t delivered;         //  items handed to a watcher (redeliveries included)
    uint64_t redelivered;       //  of those, items given again after a watcher lost them
    uint64_t acked;             //  items written to their watcher
    uint64_t refused;           //  enqueues refused: queue full, too many queues, disabled
} broker_queues_stats_t;

typedef struct broker_queues_t broker_queues_t;

//  Queues answering on the ROUTER socket control (borrowed), each bounded
//  by max_items and max_bytes. disabled: NULL, or why work queues are not
//  served (every QPUT and QWATCH is refused with it). NULL when out of memory.
broker_queues_t *broker_queues_new (void *control, size_t max_items, size_t max_bytes,
                                    const char *disabled);

//  Frees every queue and item; NULLs the pointer.
void broker_queues_destroy (broker_queues_t **self_p);

//  True when the request's first body frame names a queue request: the
//  caller then hands it to broker_queues_request.
bool broker_queues_is_request (const void *verb, size_t size);

//  Handles one queue request: frames [0] is the routing id, count frames.
void broker_queues_request (broker_queues_t *self, zmq_msg_t *frames, size_t count);

//  Hands out what waits to watchers with credit, and takes back the items
//  of front-ends gone silent. Returns how long the loop may sleep: -1
//  (nothing to do), or a few ms (a front-end could not take more).
int broker_queues_work (broker_queues_t *self);

//  Publishes the counters into the metrics block counters.
void broker_queues_publish (broker_queues_t *self, zch_counters_t *counters);

//  The counters.
const broker_queues_stats_t *broker_queues_stats (broker_queues_t *self);

#endif
