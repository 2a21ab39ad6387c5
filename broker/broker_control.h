/*  broker_control: requests on the broker's ROUTER control endpoint.

    A DEALER (or REQ) peer sends one frame: "PING" -> ["PONG"];
    "STATS" -> ["STATS", msgpack map of counters]; anything else ->
    ["ERR", "unknown request"].                                             */
#ifndef BROKER_CONTROL_H_INCLUDED
#define BROKER_CONTROL_H_INCLUDED

#include <stdint.h>

typedef struct {
    uint64_t messages_in;       //  accepted and forwarded
    uint64_t bytes_in;          //  payload bytes of those
    uint64_t malformed;         //  producer messages dropped as malformed
    uint64_t subscriptions;     //  subscribe requests seen on egress
    uint64_t unsubscriptions;
    uint64_t topics;            //  distinct topics (refreshed before serving)
    uint64_t control_errors;    //  control requests that made no sense
    uint64_t plugin_dropped;    //  messages the broker's plugins dropped (no seq taken)
    uint64_t plugin_errors;     //  errors the broker's plugins returned
} broker_stats_t;

//  Answers every request waiting on the ROUTER socket control.
void broker_control_serve (void *control, broker_stats_t *stats);

#endif
