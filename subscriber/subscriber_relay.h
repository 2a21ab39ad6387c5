/*  subscriber_relay: the subscriber front-end's side of the relay, the
    ZeroMQ PUSH link to a source front-end's source_relay (private to
    subscriber/).

    The subscriber front-end does not publish itself: what its channel
    and WebSocket clients publish goes over this link, one message per
    publish, [client address][frame-protocol pub body] (and a confirm
    request, source_relay.h), and the source
    publishes it through its own path (plugins, back-pressure, counters).
    When the link cannot take more, the caller pauses the client that
    publishes and resumes it once subscriber_relay_writable says so;
    nothing is dropped on the way.                                          */
#ifndef SUBSCRIBER_RELAY_H_INCLUDED
#define SUBSCRIBER_RELAY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_loop.h"
#include "zch_secure.h"

typedef struct subscriber_relay_t subscriber_relay_t;

//  Connects a PUSH socket to endpoint (CURVE as secure says) and watches
//  it in loop. Returns NULL with a reason in error.
subscriber_relay_t *subscriber_relay_new (zch_loop_t *loop, const char *endpoint,
                                          const zch_secure_config_t *secure,
                                          char *error, size_t error_size);

//  Closes the link (what is queued goes on for a moment) and NULLs the pointer.
void subscriber_relay_destroy (subscriber_relay_t **self_p);

//  Hands one publish of the client src to the source; headers is a
//  checked msgpack map or NULL; confirm (0: none) asks the broker to
//  confirm it on route (zch_confirm_route). Returns 0, or -1 when the
//  link cannot take it now (nothing was sent: pause the client and offer
//  it again).
int subscriber_relay_publish (subscriber_relay_t *self, const char *src,
                              const char *topic, size_t topic_len,
                              const uint8_t *payload, size_t payload_len,
                              const uint8_t *headers, size_t headers_size,
                              const char *route, size_t route_len, uint64_t confirm);

//  True when the link has room again for a paused publisher.
bool subscriber_relay_writable (subscriber_relay_t *self);

//  Publishes handed over.
uint64_t subscriber_relay_relayed (subscriber_relay_t *self);

#endif
