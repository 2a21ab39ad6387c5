/*  source_pending: the one message a source worker's plugins passed that
    the broker could not take yet (private to source/).

    Plugins must see each message once, yet an XPUB cannot tell before a
    send whether the broker has room (libzmq 4.3 reports POLLOUT on XPUB
    always). So the worker runs the plugins, tries the send, and when the
    queue towards the broker is full it keeps their result here instead of
    offering the line to them again later. While a message is held the
    worker publishes nothing else: it goes first, which keeps every
    client's order.                                                         */
#ifndef SOURCE_PENDING_H_INCLUDED
#define SOURCE_PENDING_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct source_pending_t source_pending_t;

//  An empty holder, or NULL when out of memory.
source_pending_t *source_pending_new (void);

//  Frees the holder and what it holds; NULLs the pointer.
void source_pending_destroy (source_pending_t **self_p);

//  Copies an envelope in: topic (at most ZCH_TOPIC_MAX bytes), meta (at
//  most ZCH_META_MAX) and payload; src names the client, for the log.
//  Nothing may be held yet. Returns 0, or -1 when out of memory or over a
//  limit (then nothing is held).
int source_pending_keep (source_pending_t *self, const char *src,
                         const char *topic, size_t topic_len,
                         const uint8_t *meta, size_t meta_size,
                         const uint8_t *payload, size_t payload_len);

//  True while a message is held.
bool source_pending_held (source_pending_t *self);

//  The held message's payload size (for the counters), topic and client
//  (NUL-terminated, for the log; valid while it is held).
size_t source_pending_payload_size (source_pending_t *self);
const char *source_pending_topic (source_pending_t *self);
const char *source_pending_src (source_pending_t *self);

//  Hands the held message to socket without blocking. Returns 0 when it
//  went (nothing is held now), -1 when the socket cannot take it yet.
int source_pending_send (source_pending_t *self, void *socket);

//  Forgets the held message (the caller counted it as dropped).
void source_pending_drop (source_pending_t *self);

#endif
