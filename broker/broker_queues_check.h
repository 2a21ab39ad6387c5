/*  broker_queues_check: the shape of a work-queue request on the broker's
    control endpoint (broker_queues.h), as a pure function over its frames
    (no sockets), so it can be fuzzed. frames [0] is the routing id.       */
#ifndef BROKER_QUEUES_CHECK_H_INCLUDED
#define BROKER_QUEUES_CHECK_H_INCLUDED

#include <stddef.h>

#include "zch_envelope.h"

#define BROKER_QUEUES_NAME_MAX     255     //  a queue's name
#define BROKER_QUEUES_WATCHER_MAX  32      //  a watcher's name
#define BROKER_QUEUES_CT_MAX       64      //  a content type
#define BROKER_QUEUES_ID_MAX       23      //  an item id, a tag, a credit: decimal

typedef enum {
    BROKER_QUEUES_BAD = 0,      //  not a work-queue request, or a malformed one
    BROKER_QUEUES_PUT,          //  QPUT <tag> <queue> <payload> <content-type>
    BROKER_QUEUES_WATCH,        //  QWATCH <tag> <queue> <watcher>
    BROKER_QUEUES_UNWATCH,      //  QUNWATCH <queue> <watcher>
    BROKER_QUEUES_CREDIT,       //  QCREDIT <queue> <watcher> <n>
    BROKER_QUEUES_ACK,          //  QACK <id>
    BROKER_QUEUES_NACK,         //  QNACK <id>
    BROKER_QUEUES_ALIVE         //  QALIVE
} broker_queues_verb_t;

//  The request's verb when count frames make a well-formed one: the right
//  number of frames, names (queue, watcher, content type) within their
//  bounds and free of NUL bytes, a queue and a watcher never empty, ids,
//  tags and credits of at most 23 bytes (a credit and an id decimal
//  digits). Otherwise BROKER_QUEUES_BAD, with *reason set.
broker_queues_verb_t broker_queues_check (const zch_frame_t *frames, size_t count, const char **reason);

#endif
