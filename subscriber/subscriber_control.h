/*  subscriber_control: a worker's link to the broker's control endpoint
    (ROUTER 2208): one DEALER that carries requests and routes each answer
    back by its tag.

    A request is a few tokens; the link adds a tag of its own and hands
    every answer carrying that tag to the request's handlers: each MSG
    (a message of a history, snapshot or heal stream), each SEQ (a
    topic's seq in a SEQS answer), then the END, or a failure (an ERR,
    or no answer within SUBSCRIBER_CONTROL_TIMEOUT), after which the
    request is gone. It knows nothing of what the requests are for: gap
    healing (subscriber_heal) and client catch-ups (subscriber_sync) use
    it alike.                                                               */
#ifndef SUBSCRIBER_CONTROL_H_INCLUDED
#define SUBSCRIBER_CONTROL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_secure.h"

#define SUBSCRIBER_CONTROL_TIMEOUT  10000   //  ms without an answer before a request fails

typedef struct subscriber_control_t subscriber_control_t;
typedef struct subscriber_control_request_t subscriber_control_request_t;

typedef struct {
    //  One [MSG, tag, topic, meta, payload] of the answer.
    void (*message) (void *arg, const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch,
                     const char *payload, size_t payload_len);
    //  One [SEQ, tag, topic, seq, epoch?] of the answer.
    void (*seq) (void *arg, const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch);
    //  The END (complete for OK, reset for RESET; a, b and epoch as its
    //  frames say, proto/PROTOCOL.md), or a failure: complete false and
    //  a = b = 0. The request is gone once this returns.
    void (*end) (void *arg, bool complete, uint64_t a, uint64_t b, bool reset, uint64_t epoch);
} subscriber_control_handlers_t;

//  Connects a DEALER to the broker's control endpoint, with CURVE when
//  secure (borrowed) says so. Returns NULL with a reason in error.
subscriber_control_t *subscriber_control_new (const char *endpoint, const zch_secure_config_t *secure,
                                              char *error, size_t error_size);

//  Closes the link and forgets every request (no handler is called);
//  NULLs the pointer.
void subscriber_control_destroy (subscriber_control_t **self_p);

//  The descriptor that signals the DEALER may have something to read.
int subscriber_control_fd (subscriber_control_t *self);

//  Sends count tokens and a fresh tag; handlers (borrowed, static) get
//  its answers with arg. Returns a handle for _cancel, or NULL when it
//  could not go.
subscriber_control_request_t *subscriber_control_request (subscriber_control_t *self,
                                                          const char *const *tokens,
                                                          const size_t *sizes, size_t count,
                                                          const subscriber_control_handlers_t *handlers,
                                                          void *arg);

//  No handler is called for request any more (its answers are ignored).
//  Only before its end handler ran.
void subscriber_control_cancel (subscriber_control_t *self, subscriber_control_request_t *request);

//  Moves the link from one broker's endpoint to another's (failover):
//  what was asked of the old broker will not be answered, so every request
//  still open ends now, as failed. Returns 0, or -1 with a reason (the
//  requests stay).
int subscriber_control_move (subscriber_control_t *self, const char *from, const char *to,
                             char *error, size_t error_size);

//  Reads and routes every answer waiting, and fails requests the broker
//  has not answered for too long.
void subscriber_control_drain (subscriber_control_t *self);

#endif
