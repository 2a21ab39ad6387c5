/*  source_handover: proof from the broker that what a source worker sent
    has been processed, so nothing accepted is lost when the worker stops.

    A hand-over registers a marker on the broker's control endpoint
    (HANDOVER <marker> -> [HANDOVER, marker, WAITING]), then sends the
    marker down the worker's own ingress socket as a message on the
    reserved topic $handover.<marker>. The broker answers
    [HANDOVER, marker, DONE] when the marker comes through its ingress:
    ZeroMQ keeps a pipe's order, so by then it has processed every message
    the worker sent before the marker. Registering first means the broker
    has the request before the marker can arrive, whichever of the two
    sockets it reads first. A worker hands over now and then while it
    runs (so "confirmed" stays close to "sent") and once at shutdown.     */
#ifndef SOURCE_HANDOVER_H_INCLUDED
#define SOURCE_HANDOVER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_secure.h"

#define SOURCE_HANDOVER_TOPIC   "$handover."

typedef struct source_handover_t source_handover_t;

//  Connects a DEALER to the broker's control endpoint (CURVE as secure
//  says). index names the worker in logs. Returns NULL with a reason.
source_handover_t *source_handover_new (const char *control, const zch_secure_config_t *secure,
                                        int index, char *error, size_t error_size);

//  Closes the link; NULLs the pointer.
void source_handover_destroy (source_handover_t **self_p);

//  The DEALER's descriptor, for the worker's loop (see zch_zmq_fd).
int source_handover_fd (source_handover_t *self);

//  Starts a hand-over unless one is in progress. Returns 0, or -1 when the
//  request could not be queued (tried again on a later call).
int source_handover_start (source_handover_t *self);

//  Moves the hand-over in progress on: reads the broker's answers and,
//  once registered, sends the marker on publisher (the worker's ingress
//  socket) when it takes it. sent is how many messages the worker has
//  sent on publisher so far. Gives up on a hand-over that got no answer
//  for timeout_ms (a later start tries again).
void source_handover_work (source_handover_t *self, void *publisher, uint64_t sent, int timeout_ms);

//  True while a hand-over is in progress.
bool source_handover_busy (source_handover_t *self);

//  How many of the messages sent the broker has confirmed processing.
uint64_t source_handover_confirmed (source_handover_t *self);

//  The worker moved to another broker (failover): a hand-over in progress
//  is given up, the sent messages are written off as confirmed (the
//  caller counted what was not), and the link leaves from for to.
//  Returns 0, or -1 with a reason.
int source_handover_move (source_handover_t *self, const char *from, const char *to, uint64_t sent,
                          char *error, size_t error_size);

#endif
