/*  broker_local: the in-process egress that waits instead of dropping.     */
#include "broker_local.h"
#include "zch_log.h"
#include "zch_zmq.h"

#define LOCAL_HWM       64      //  batches (up to 64 KiB each) queued per front-end worker on our side
#define LOCAL_LINGER    5000    //  ms the queue may take to go at exit
#define LOCAL_PARTS     3

//  A message or a barrier answer a front-end could not take yet.
typedef struct {
    zmq_msg_t parts [LOCAL_PARTS];
    size_t count;
} s_held_t;

struct broker_local_t {
    void *socket;               //  XPUB, NODROP
    zlist_t *held;              //  s_held_t: what waits, in order
    uint64_t waits;
    uint64_t wait_ms;
    int64_t waiting_since;
};

broker_local_t *
broker_local_new (void *context, const char *endpoint, char *error, size_t error_size)
{
    broker_local_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->socket = zmq_socket (context, ZMQ_XPUB);
    self->held = zlist_new ();
    if (!self->socket || !self->held) {
        snprintf (error, error_size, "cannot create the local egress: %s", zmq_strerror (zmq_errno ()));
        broker_local_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->socket, ZMQ_XPUB_NODROP, 1);
    zch_zmq_set (self->socket, ZMQ_XPUB_VERBOSE, 1);
    zch_zmq_set (self->socket, ZMQ_SNDHWM, LOCAL_HWM);
    zch_zmq_set (self->socket, ZMQ_LINGER, LOCAL_LINGER);
    if (zch_zmq_attach (self->socket, "egress", endpoint, true, error, error_size)) {
        broker_local_destroy (&self);
        return NULL;
    }
    return self;
}

void
broker_local_destroy (broker_local_t **self_p)
{
    broker_local_t *self = *self_p;
    if (!self)
        return;
    if (self->held) {
        s_held_t *held;
        while ((held = zlist_pop (self->held))) {
            for (size_t i = 0; i < held->count; i++)
                zmq_msg_close (&held->parts [i]);
            free (held);
        }
        zlist_destroy (&self->held);
    }
    if (self->socket)
        zmq_close (self->socket);
    free (self);
    *self_p = NULL;
}

void *
broker_local_socket (broker_local_t *self)
{
    return self->socket;
}

//  Starts or ends a wait, for the counters.
static void
s_waiting (broker_local_t *self, bool waiting)
{
    if (waiting && !self->waiting_since) {
        self->waiting_since = zclock_mono ();
        self->waits++;
    }
    else
    if (!waiting && self->waiting_since) {
        self->wait_ms += (uint64_t) (zclock_mono () - self->waiting_since);
        self->waiting_since = 0;
    }
}

//  Sends what is held, oldest first. libzmq checks the high-water mark
//  on the first frame only, so once that went the rest goes too. Returns 0
//  when nothing is left.
static int
s_send_held (broker_local_t *self)
{
    s_held_t *held;
    while ((held = zlist_first (self->held))) {
        int flags = held->count > 1? ZMQ_SNDMORE: 0;
        if (zmq_msg_send (&held->parts [0], self->socket, flags | ZMQ_DONTWAIT) < 0)
            return -1;
        for (size_t i = 1; i < held->count; i++)
            zmq_msg_send (&held->parts [i], self->socket, i + 1 < held->count? ZMQ_SNDMORE: 0);
        zlist_pop (self->held);
        free (held);
    }
    return 0;
}

int
broker_local_flush (broker_local_t *self)
{
    if (!broker_local_holding (self))
        return 0;
    //  Takes the front-ends' news (what they read since) before trying
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt (self->socket, ZMQ_EVENTS, &events, &size);
    int rc = s_send_held (self);
    s_waiting (self, rc < 0);
    return rc;
}

//  Queues a message behind what is held, taking its frames over.
static int
s_hold (broker_local_t *self, zmq_msg_t *frames, size_t count)
{
    assert (count >= 1 && count <= LOCAL_PARTS);
    s_held_t *held = calloc (1, sizeof *held);
    if (!held || zlist_append (self->held, held)) {
        free (held);
        for (size_t i = 0; i < count; i++)
            zmq_msg_close (&frames [i]);
        zch_error ("broker: out of memory holding a message for a subscriber front-end");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        zmq_msg_init (&held->parts [i]);
        zmq_msg_move (&held->parts [i], &frames [i]);
    }
    held->count = count;
    return 0;
}

int
broker_local_send (broker_local_t *self, zmq_msg_t *frames, size_t count)
{
    //  Nothing held: straight on when the front-ends have room
    if (zlist_size (self->held) == 0
    &&  zmq_msg_send (&frames [0], self->socket, (count > 1? ZMQ_SNDMORE: 0) | ZMQ_DONTWAIT) >= 0) {
        for (size_t i = 1; i < count; i++)
            zmq_msg_send (&frames [i], self->socket, i + 1 < count? ZMQ_SNDMORE: 0);
        return 0;
    }
    if (s_hold (self, frames, count))
        return -1;
    return broker_local_flush (self);
}

void
broker_local_answer (broker_local_t *self, const void *topic, size_t topic_len,
                     const void *meta, size_t meta_size, const void *payload, size_t payload_size)
{
    zmq_msg_t frames [3];
    zmq_msg_init_size (&frames [0], topic_len);
    memcpy (zmq_msg_data (&frames [0]), topic, topic_len);
    zmq_msg_init_size (&frames [1], meta_size);
    memcpy (zmq_msg_data (&frames [1]), meta, meta_size);
    zmq_msg_init_size (&frames [2], payload_size);
    if (payload_size)
        memcpy (zmq_msg_data (&frames [2]), payload, payload_size);
    broker_local_send (self, frames, 3);
}

bool
broker_local_holding (broker_local_t *self)
{
    return zlist_size (self->held) > 0;
}

int
broker_local_fd (broker_local_t *self)
{
    int fd = -1;
    size_t size = sizeof fd;
    zmq_getsockopt (self->socket, ZMQ_FD, &fd, &size);
    return fd;
}

uint64_t
broker_local_waits (broker_local_t *self)
{
    return self->waits;
}

uint64_t
broker_local_wait_ms (broker_local_t *self)
{
    return self->wait_ms + (self->waiting_since? (uint64_t) (zclock_mono () - self->waiting_since): 0);
}
