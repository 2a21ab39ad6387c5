/*  broker_watch: subscriptions held and peers connected (see the header).  */
#include "broker_watch.h"

#include <czmq.h>

#define WATCH_SOCKETS_MAX   4

struct broker_watch_t {
    zhashx_t *prefixes;         //  hex of each held prefix -> itself (a set)
    void *monitors [WATCH_SOCKETS_MAX];     //  PAIR sockets reading the monitor events
    void *watched [WATCH_SOCKETS_MAX];
    size_t count;
    uint64_t accepted;
    uint64_t disconnected;
};

void
broker_watch_destroy (broker_watch_t **self_p)
{
    broker_watch_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        zmq_socket_monitor (self->watched [i], NULL, 0);
        if (self->monitors [i])
            zmq_close (self->monitors [i]);
    }
    zhashx_destroy (&self->prefixes);
    free (self);
    *self_p = NULL;
}

broker_watch_t *
broker_watch_new (void *context, void **sockets, size_t count)
{
    assert (count <= WATCH_SOCKETS_MAX);
    broker_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->prefixes = zhashx_new ();
    if (!self->prefixes) {
        broker_watch_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        char endpoint [64];
        snprintf (endpoint, sizeof endpoint, "inproc://zchannel-broker-watch-%p-%zu", (void *) self, i);
        self->watched [i] = sockets [i];
        self->count = i + 1;
        if (zmq_socket_monitor (sockets [i], endpoint, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED)
        ||  !(self->monitors [i] = zmq_socket (context, ZMQ_PAIR))
        ||  zmq_connect (self->monitors [i], endpoint)) {
            broker_watch_destroy (&self);
            return NULL;
        }
    }
    return self;
}

//  The set's key for a prefix: its bytes in hex (prefixes may hold NUL).
static void
s_key (const uint8_t *data, size_t size, char *key)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        key [2 * i] = digits [data [i] >> 4];
        key [2 * i + 1] = digits [data [i] & 15];
    }
    key [2 * size] = 0;
}

void
broker_watch_subscription (broker_watch_t *self, const uint8_t *data, size_t size)
{
    if (size < 1 || (data [0] != 0 && data [0] != 1))
        return;
    char *key = malloc (2 * size + 1);
    if (!key)
        return;
    s_key (data + 1, size - 1, key);
    if (data [0] == 1)
        zhashx_insert (self->prefixes, key, self->prefixes);    //  no-op when held
    else
        zhashx_delete (self->prefixes, key);
    free (key);
}

size_t
broker_watch_pollitems (broker_watch_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t i;
    for (i = 0; i < self->count && i < max; i++)
        items [i] = (zmq_pollitem_t) { self->monitors [i], 0, ZMQ_POLLIN, 0 };
    return i;
}

void
broker_watch_events (broker_watch_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        while (true) {
            //  An event: [uint16 event, uint32 value][endpoint]
            zmq_msg_t frame;
            zmq_msg_init (&frame);
            if (zmq_msg_recv (&frame, self->monitors [i], ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&frame);
                break;
            }
            bool more = zmq_msg_more (&frame);
            if (zmq_msg_size (&frame) >= 2) {
                uint16_t event;
                memcpy (&event, zmq_msg_data (&frame), sizeof event);
                if (event == ZMQ_EVENT_ACCEPTED)
                    self->accepted++;
                else
                if (event == ZMQ_EVENT_DISCONNECTED)
                    self->disconnected++;
            }
            zmq_msg_close (&frame);
            while (more) {
                zmq_msg_init (&frame);
                more = zmq_msg_recv (&frame, self->monitors [i], 0) >= 0 && zmq_msg_more (&frame);
                zmq_msg_close (&frame);
            }
        }
}

size_t
broker_watch_subscriptions (broker_watch_t *self)
{
    return zhashx_size (self->prefixes);
}

uint64_t
broker_watch_peers (broker_watch_t *self)
{
    return self->accepted > self->disconnected? self->accepted - self->disconnected: 0;
}
