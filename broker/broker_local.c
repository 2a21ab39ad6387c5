/*  broker_local: the in-process egress that waits instead of dropping.     */
#include "broker_local.h"
#include "zch_log.h"
#include "zch_zmq.h"

#define LOCAL_HWM       10000   //  messages queued per front-end worker on our side
#define LOCAL_LINGER    5000    //  ms the queue may take to go at exit
#define LOCAL_PARTS     3

struct broker_local_t {
    void *socket;               //  XPUB, NODROP
    zmq_msg_t held [LOCAL_PARTS];   //  the message a front-end could not take
    bool holding;
    zlist_t *answers;           //  zmsg_t: barrier answers waiting behind it
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
    self->answers = zlist_new ();
    if (!self->socket || !self->answers) {
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
    for (int i = 0; i < LOCAL_PARTS; i++)
        zmq_msg_init (&self->held [i]);
    return self;
}

void
broker_local_destroy (broker_local_t **self_p)
{
    broker_local_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < LOCAL_PARTS; i++)
        zmq_msg_close (&self->held [i]);
    if (self->answers) {
        zmsg_t *answer;
        while ((answer = zlist_pop (self->answers)))
            zmsg_destroy (&answer);
        zlist_destroy (&self->answers);
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

//  Sends the held message. libzmq checks the high-water mark on the first
//  frame only, so once that went the rest goes too. Returns 0 or -1.
static int
s_send_held (broker_local_t *self)
{
    if (zmq_msg_send (&self->held [0], self->socket, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_msg_send (&self->held [1], self->socket, ZMQ_SNDMORE);
    zmq_msg_send (&self->held [2], self->socket, 0);
    self->holding = false;
    return 0;
}

//  Sends the answers waiting, oldest first. Returns 0 when none is left.
static int
s_send_answers (broker_local_t *self)
{
    zmsg_t *answer;
    while ((answer = zlist_first (self->answers))) {
        zframe_t *topic = zmsg_first (answer);
        zframe_t *meta = zmsg_next (answer);
        if (zmq_send (self->socket, zframe_data (topic), zframe_size (topic),
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            return -1;
        zmq_send (self->socket, zframe_data (meta), zframe_size (meta), ZMQ_SNDMORE);
        zmq_send (self->socket, "", 0, 0);
        zlist_pop (self->answers);
        zmsg_destroy (&answer);
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
    int rc = 0;
    if (self->holding && s_send_held (self))
        rc = -1;
    else
    if (zlist_size (self->answers) && s_send_answers (self))
        rc = -1;
    s_waiting (self, rc < 0);
    return rc;
}

int
broker_local_send (broker_local_t *self, zmq_msg_t *topic, zmq_msg_t *meta, zmq_msg_t *payload)
{
    assert (!self->holding);
    zmq_msg_move (&self->held [0], topic);
    zmq_msg_move (&self->held [1], meta);
    zmq_msg_move (&self->held [2], payload);
    self->holding = true;
    return broker_local_flush (self);
}

void
broker_local_answer (broker_local_t *self, const void *topic, size_t topic_len,
                     const void *meta, size_t meta_size)
{
    if (!self->holding && zlist_size (self->answers) == 0
    &&  zmq_send (self->socket, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        zmq_send (self->socket, meta, meta_size, ZMQ_SNDMORE);
        zmq_send (self->socket, "", 0, 0);
        return;
    }
    zmsg_t *answer = zmsg_new ();
    if (!answer || zmsg_addmem (answer, topic, topic_len) || zmsg_addmem (answer, meta, meta_size)
    ||  zlist_append (self->answers, answer)) {
        zch_error ("broker: out of memory holding a barrier answer");
        zmsg_destroy (&answer);
    }
}

bool
broker_local_holding (broker_local_t *self)
{
    return self->holding || zlist_size (self->answers) > 0;
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
