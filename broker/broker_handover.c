/*  broker_handover: registered markers, answered when they come through.   */
#include "broker_handover.h"
#include "broker_request.h"
#include "zch_log.h"

#include <czmq.h>

#define HANDOVER_MAX        1024    //  registrations waiting at once
#define HANDOVER_MAX_AGE    60000   //  ms before a registration whose marker never came is forgotten

typedef struct {
    uint8_t route [256];
    size_t route_len;
    bool delimiter;
    char marker [BROKER_REQUEST_TAG_MAX];
    size_t marker_len;
    int64_t at;
} waiting_t;

struct broker_handover_t {
    void *control;
    waiting_t *waiting;         //  HANDOVER_MAX slots, count in use, oldest first
    size_t count;
    uint64_t done;
};

broker_handover_t *
broker_handover_new (void *control)
{
    broker_handover_t *self = calloc (1, sizeof *self);
    if (self)
        self->waiting = calloc (HANDOVER_MAX, sizeof *self->waiting);
    if (!self || !self->waiting) {
        free (self);
        return NULL;
    }
    self->control = control;
    return self;
}

void
broker_handover_destroy (broker_handover_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->waiting);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Sends [verb, text, marker] to the requester (a gone requester is no
//  error: ROUTER_MANDATORY just refuses the send).
static void
s_answer (broker_handover_t *self, const waiting_t *to, const char *verb, const char *text)
{
    const char *first = streq (verb, "ERR")? verb: "HANDOVER";
    if (zmq_send (self->control, to->route, to->route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    if (to->delimiter)
        zmq_send (self->control, "", 0, ZMQ_SNDMORE);
    zmq_send (self->control, first, strlen (first), ZMQ_SNDMORE);
    if (streq (verb, "ERR")) {
        zmq_send (self->control, text, strlen (text), ZMQ_SNDMORE);
        zmq_send (self->control, to->marker, to->marker_len, 0);
    }
    else {
        zmq_send (self->control, to->marker, to->marker_len, ZMQ_SNDMORE);
        zmq_send (self->control, text, strlen (text), 0);
    }
}

//  Forgets the registration at index, keeping the rest oldest first.
static void
s_remove (broker_handover_t *self, size_t index)
{
    memmove (&self->waiting [index], &self->waiting [index + 1],
             (self->count - index - 1) * sizeof *self->waiting);
    self->count--;
}

void
broker_handover_register (broker_handover_t *self, const uint8_t *route, size_t route_len,
                          bool delimiter, const char *marker, size_t marker_len)
{
    int64_t now = zclock_mono ();
    while (self->count && now - self->waiting [0].at > HANDOVER_MAX_AGE)
        s_remove (self, 0);
    waiting_t request = { .route_len = route_len, .delimiter = delimiter,
                          .marker_len = marker_len, .at = now };
    if (route_len > sizeof request.route || marker_len > sizeof request.marker)
        return;     //  the request parser bounds the marker; libzmq the routing id
    memcpy (request.route, route, route_len);
    memcpy (request.marker, marker, marker_len);
    if (self->count == HANDOVER_MAX) {
        s_answer (self, &request, "ERR", "busy");
        return;
    }
    self->waiting [self->count++] = request;
    s_answer (self, &request, "HANDOVER", "WAITING");
}

void
broker_handover_marker (broker_handover_t *self, const uint8_t *frame, size_t size)
{
    size_t prefix = strlen (BROKER_HANDOVER_TOPIC);
    if (size < prefix)
        return;
    const uint8_t *marker = frame + prefix;
    size_t marker_len = size - prefix;
    //  A one-frame message may carry a payload after a space
    const uint8_t *space = memchr (marker, ' ', marker_len);
    if (space)
        marker_len = (size_t) (space - marker);
    for (size_t i = 0; i < self->count; i++)
        if (self->waiting [i].marker_len == marker_len
        &&  memcmp (self->waiting [i].marker, marker, marker_len) == 0) {
            s_answer (self, &self->waiting [i], "HANDOVER", "DONE");
            s_remove (self, i);
            self->done++;
            return;
        }
}

uint64_t
broker_handover_done (broker_handover_t *self)
{
    return self->done;
}
