/*  subscriber_relay: the subscriber front-end's side of the relay.          */
#include "subscriber_relay.h"
#include "zch_envelope.h"
#include "zch_frame.h"
#include "zch_zmq.h"

#include <czmq.h>

#define RELAY_HWM       10000   //  publishes queued towards the source
#define RELAY_LINGER     2000   //  ms to hand queued publishes over at exit

struct subscriber_relay_t {
    zch_loop_t *loop;
    void *socket;               //  PUSH to the source's relay
    zch_watch_t watch;
    uint8_t *buffer;            //  one publish, encoded as a frame-protocol pub
    size_t cap;
    uint64_t relayed;
};

//  The socket's descriptor must be read for libzmq to notice room; what
//  it says is asked again each turn (subscriber_relay_writable).
static void
s_watch_nothing (zch_watch_t *watch, uint32_t events)
{
    (void) watch;
    (void) events;
}

subscriber_relay_t *
subscriber_relay_new (zch_loop_t *loop, const char *endpoint, const zch_secure_config_t *secure,
                      char *error, size_t error_size)
{
    subscriber_relay_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->socket = zmq_socket (zsys_init (), ZMQ_PUSH);
    if (!self->socket) {
        snprintf (error, error_size, "cannot create relay socket: %s", zmq_strerror (zmq_errno ()));
        subscriber_relay_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->socket, ZMQ_SNDHWM, RELAY_HWM);
    zch_zmq_set (self->socket, ZMQ_LINGER, RELAY_LINGER);
    if (zch_secure_curve (secure, self->socket, error, error_size)
    ||  zch_zmq_attach (self->socket, "to the source's relay", endpoint, false, error, error_size)) {
        subscriber_relay_destroy (&self);
        return NULL;
    }
    self->loop = loop;
    self->watch = (zch_watch_t) { .fd = zch_zmq_fd (self->socket), .handler = s_watch_nothing };
    zch_loop_add (loop, &self->watch, EPOLLIN);
    return self;
}

void
subscriber_relay_destroy (subscriber_relay_t **self_p)
{
    subscriber_relay_t *self = *self_p;
    if (!self)
        return;
    if (self->loop)
        zch_loop_remove (self->loop, &self->watch);
    if (self->socket)
        zmq_close (self->socket);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

int
subscriber_relay_publish (subscriber_relay_t *self, const char *src, const char *topic, size_t topic_len,
                          const uint8_t *payload, size_t payload_len,
                          const uint8_t *headers, size_t headers_size,
                          const char *route, size_t route_len, uint64_t confirm)
{
    size_t size = zch_frame_pub_size (topic_len, payload_len, headers_size);
    if (size > self->cap) {
        uint8_t *grown = realloc (self->buffer, size);
        if (!grown)
            return -1;
        self->buffer = grown;
        self->cap = size;
    }
    size = zch_frame_encode_pub (self->buffer, topic, topic_len, payload, payload_len,
                                 headers, headers_size);
    if (zmq_send (self->socket, src, strlen (src), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    //  Once the first part is in, libzmq takes the rest of the message
    zmq_send (self->socket, self->buffer + ZCH_FRAME_HEADER, size - ZCH_FRAME_HEADER,
              confirm? ZMQ_SNDMORE: 0);
    if (confirm) {
        uint8_t ask [8 + ZCH_CONFIRM_ROUTE_MAX];
        route_len = route_len < ZCH_CONFIRM_ROUTE_MAX? route_len: ZCH_CONFIRM_ROUTE_MAX;
        for (int i = 0; i < 8; i++)
            ask [i] = (uint8_t) (confirm >> (56 - 8 * i));
        memcpy (ask + 8, route, route_len);
        zmq_send (self->socket, ask, 8 + route_len, 0);
    }
    self->relayed++;
    return 0;
}

bool
subscriber_relay_writable (subscriber_relay_t *self)
{
    return zch_zmq_writable (self->socket);
}

uint64_t
subscriber_relay_relayed (subscriber_relay_t *self)
{
    return self->relayed;
}
