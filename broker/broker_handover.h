/*  broker_handover: the broker's half of a source's hand-over.

    A source registers a marker (HANDOVER <marker> on the control
    endpoint, answered [HANDOVER, marker, WAITING] at once), then sends a
    message on topic $handover.<marker> down its ingress pipe. When the
    broker reads that message it answers [HANDOVER, marker, DONE]: every
    message the source sent before it has been processed. The marker is
    neither stamped nor forwarded. Registrations are bounded in number
    and in age, so a requester that never sends its marker costs little. */
#ifndef BROKER_HANDOVER_H_INCLUDED
#define BROKER_HANDOVER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_HANDOVER_TOPIC   "$handover."

typedef struct broker_handover_t broker_handover_t;

//  Answers on the ROUTER socket control (borrowed). NULL: out of memory.
broker_handover_t *broker_handover_new (void *control);

//  Forgets every registration; NULLs the pointer.
void broker_handover_destroy (broker_handover_t **self_p);

//  Registers marker for the requester at route (delimiter: a REQ peer)
//  and answers WAITING, or ERR busy when too many wait.
void broker_handover_register (broker_handover_t *self, const uint8_t *route, size_t route_len,
                               bool delimiter, const char *marker, size_t marker_len);

//  Called for every ingress message whose first frame starts with
//  BROKER_HANDOVER_TOPIC (frame: that first frame): answers DONE to the
//  requester that registered the marker. An unknown marker is ignored.
void broker_handover_marker (broker_handover_t *self, const uint8_t *frame, size_t size);

//  Hand-overs answered DONE so far.
uint64_t broker_handover_done (broker_handover_t *self);

#endif
