/*  broker_request: what a control request on the broker's ROUTER says,
    as a pure function over its frames (no sockets), so it can be fuzzed.

    A request is [routing id][body] from a DEALER, or [routing id][empty
    delimiter][body] from a REQ; the routing frames (and the delimiter)
    go back unchanged in the reply. The body is one word.                  */
#ifndef BROKER_REQUEST_H_INCLUDED
#define BROKER_REQUEST_H_INCLUDED

#include <stddef.h>

#include "zch_envelope.h"

typedef enum {
    BROKER_REQUEST_UNKNOWN = 0, //  no body, or a word not known
    BROKER_REQUEST_PING,        //  "PING" -> ["PONG"]
    BROKER_REQUEST_STATS        //  "STATS" -> ["STATS", msgpack map]
} broker_request_t;

//  Parses count frames (the first is the routing id). Sets *reply_frames
//  to how many leading frames go back before the reply (at least 1 when
//  count is not 0, never more than count). Returns the request.
broker_request_t broker_request_parse (const zch_frame_t *frames, size_t count,
                                       size_t *reply_frames);

#endif
