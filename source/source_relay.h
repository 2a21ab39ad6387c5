/*  source_relay: publishes for the channel clients of subscriber
    front-ends (private to source/).

    A subscriber front-end that serves walkor/channel's protocol hands
    each publish of its clients to a source over a ZeroMQ PUSH/PULL link:
    [client address][frame-protocol pub body]. The source publishes it
    through its own path, plugins and back-pressure included: when the
    broker cannot take more, the relay stops reading, its queue fills, and
    the subscriber front-end pauses the clients that publish. Worker 0
    binds the relay; one pipe per subscriber worker keeps each client's
    order.                                                                  */
#ifndef SOURCE_RELAY_H_INCLUDED
#define SOURCE_RELAY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_secure.h"

//  Publishes one message; as source_frames_publish_fn: 0 sent (or held
//  to go first), 1 dropped by a plugin, -1 the broker cannot take it now.
//  confirm (0: none) asks the broker to confirm it on route (the
//  subscriber worker's confirm link, zch_confirm).
typedef int (source_relay_publish_fn) (void *ctx, const char *src,
                                       const char *topic, size_t topic_len,
                                       const char *payload, size_t payload_len,
                                       const uint8_t *headers, size_t headers_size,
                                       const char *route, size_t route_len, uint64_t confirm);

typedef struct source_relay_t source_relay_t;

//  Binds a PULL socket at endpoint. Returns NULL with a reason in error.
source_relay_t *source_relay_new (const char *endpoint, const zch_secure_config_t *secure,
                                  source_relay_publish_fn *publish, void *ctx,
                                  char *error, size_t error_size);

void source_relay_destroy (source_relay_t **self_p);

//  The descriptor that wakes the worker's loop when publishes come.
int source_relay_fd (source_relay_t *self);

//  Publishes what came, until none is left or the broker cannot take more.
void source_relay_work (source_relay_t *self);

//  True while a publish waits for the broker.
bool source_relay_held (source_relay_t *self);

//  True while the worker should come back soon: a publish waits for the
//  broker, or the last turn left some unread.
bool source_relay_busy (source_relay_t *self);

//  Forgets the publish that waits (at the drain timeout); the caller counts it.
void source_relay_drop (source_relay_t *self);

//  Relay messages that were not a valid publish (a programming error in
//  a peer, logged), and publishes taken.
uint64_t source_relay_malformed (source_relay_t *self);
uint64_t source_relay_received (source_relay_t *self);

#endif
