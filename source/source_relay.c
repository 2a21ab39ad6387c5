/*  source_relay: publishes for the channel clients of subscriber
    front-ends.                                                             */
#include "source_relay.h"
#include "zch_envelope.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_zmq.h"

#include <czmq.h>

#define RELAY_BATCH 4096        //  publishes per turn before the worker serves its own clients

struct source_relay_t {
    void *socket;               //  PULL, bound
    source_relay_publish_fn *publish;
    void *ctx;
    zmq_msg_t src;              //  the publish in hand
    zmq_msg_t body;
    zmq_msg_t confirm;          //  its confirm request, empty when none
    bool held;                  //  src and body wait for the broker
    bool more;                  //  the last turn stopped at RELAY_BATCH: more may be waiting
    uint64_t malformed;
    uint64_t received;
};

source_relay_t *
source_relay_new (const char *endpoint, const zch_secure_config_t *secure,
                  source_relay_publish_fn *publish, void *ctx, char *error, size_t error_size)
{
    source_relay_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->publish = publish;
    self->ctx = ctx;
    zmq_msg_init (&self->src);
    zmq_msg_init (&self->body);
    zmq_msg_init (&self->confirm);
    self->socket = zmq_socket (zsys_init (), ZMQ_PULL);
    if (!self->socket) {
        snprintf (error, error_size, "cannot create relay socket: %s", zmq_strerror (zmq_errno ()));
        source_relay_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->socket, ZMQ_LINGER, 0);
    if (zch_secure_curve (secure, self->socket, error, error_size)
    ||  zch_zmq_attach (self->socket, "relay", endpoint, true, error, error_size)) {
        source_relay_destroy (&self);
        return NULL;
    }
    return self;
}

void
source_relay_destroy (source_relay_t **self_p)
{
    source_relay_t *self = *self_p;
    if (!self)
        return;
    zmq_msg_close (&self->src);
    zmq_msg_close (&self->body);
    zmq_msg_close (&self->confirm);
    if (self->socket)
        zmq_close (self->socket);
    free (self);
    *self_p = NULL;
}

int
source_relay_fd (source_relay_t *self)
{
    return zch_zmq_fd (self->socket);
}

//  Takes the next relay message into src, body and confirm. Returns 0,
//  or -1 when none is waiting. A message of another shape is counted and
//  skipped.
static int
s_take (source_relay_t *self)
{
    while (zch_zmq_readable (self->socket)) {
        if (zmq_msg_recv (&self->src, self->socket, ZMQ_DONTWAIT) < 0)
            return -1;
        zmq_msg_close (&self->confirm);
        zmq_msg_init (&self->confirm);
        bool two = zmq_msg_more (&self->src)
                && zmq_msg_recv (&self->body, self->socket, ZMQ_DONTWAIT) >= 0;
        bool three = two && zmq_msg_more (&self->body)
                  && zmq_msg_recv (&self->confirm, self->socket, ZMQ_DONTWAIT) >= 0
                  && !zmq_msg_more (&self->confirm)
                  && zmq_msg_size (&self->confirm) > 8
                  && zmq_msg_size (&self->confirm) <= 8 + ZCH_CONFIRM_ROUTE_MAX;
        if ((two && !zmq_msg_more (&self->body)) || three)
            return 0;
        //  drop the rest of a message of another shape
        while ((zmq_msg_more (&self->body) || zmq_msg_more (&self->confirm))
        &&     zmq_msg_recv (&self->confirm, self->socket, ZMQ_DONTWAIT) >= 0)
            ;
        self->malformed++;
        zch_warning ("source: relay message of the wrong shape dropped (%llu so far)",
                     (unsigned long long) self->malformed);
    }
    return -1;
}

//  Publishes the message in hand. Returns -1 when the broker cannot take it.
static int
s_publish (source_relay_t *self)
{
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    char src [64];
    size_t src_len = zmq_msg_size (&self->src) < sizeof src? zmq_msg_size (&self->src): sizeof src - 1;
    memcpy (src, zmq_msg_data (&self->src), src_len);
    src [src_len] = 0;
    if (zch_frame_decode (zmq_msg_data (&self->body), zmq_msg_size (&self->body), &cmd, &code, &reason)
    ||  cmd.verb != ZCH_FRAME_PUB) {
        self->malformed++;
        zch_warning ("source: relay publish from %s dropped: %s (%llu so far)", src,
                     reason? reason: "not a pub", (unsigned long long) self->malformed);
        return 0;
    }
    //  A confirm request: the number, then the route the broker answers on
    uint64_t confirm = 0;
    const uint8_t *ask = zmq_msg_data (&self->confirm);
    size_t ask_size = zmq_msg_size (&self->confirm);
    for (size_t i = 0; ask_size > 8 && i < 8; i++)
        confirm = confirm << 8 | ask [i];
    if (self->publish (self->ctx, src, cmd.topic, cmd.topic_len, (const char *) cmd.payload,
                       cmd.payload_len, cmd.headers, cmd.headers_size,
                       confirm? (const char *) ask + 8: NULL, confirm? ask_size - 8: 0, confirm) < 0)
        return -1;
    self->received++;
    return 0;
}

void
source_relay_work (source_relay_t *self)
{
    //  The socket's descriptor signals only changes: a turn that leaves
    //  messages unread must come back at once, not at the next signal
    self->more = false;
    for (int count = 0; count < RELAY_BATCH; count++) {
        if (!self->held && s_take (self))
            return;
        self->held = true;
        if (s_publish (self))
            return;
        self->held = false;
    }
    self->more = true;
}

bool
source_relay_held (source_relay_t *self)
{
    return self->held;
}

bool
source_relay_busy (source_relay_t *self)
{
    return self->held || self->more;
}

void
source_relay_drop (source_relay_t *self)
{
    self->held = false;
}

uint64_t
source_relay_malformed (source_relay_t *self)
{
    return self->malformed;
}

uint64_t
source_relay_received (source_relay_t *self)
{
    return self->received;
}
