/*  zch_link: connection events of a broker link, through libzmq's socket
    monitor (an inproc PAIR per watched socket).                            */
#include "zch_link.h"
#include "zch_zmq.h"

#include <czmq.h>

struct zch_link_t {
    void *socket;
    void *events;               //  PAIR reading the monitor
    int up;                     //  connections made less those lost
    bool dropped;               //  a connection was lost
};

zch_link_t *
zch_link_new (void *socket)
{
    zch_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->socket = socket;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://zch-link-%p", socket);
    self->events = zmq_socket (zsys_init (), ZMQ_PAIR);
    if (!self->events
    ||  zmq_socket_monitor (socket, endpoint, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
    ||  zmq_connect (self->events, endpoint)) {
        zch_link_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->events, ZMQ_LINGER, 0);
    return self;
}

void
zch_link_destroy (zch_link_t **self_p)
{
    zch_link_t *self = *self_p;
    if (!self)
        return;
    if (self->events) {
        zmq_socket_monitor (self->socket, NULL, 0);
        zmq_close (self->events);
    }
    free (self);
    *self_p = NULL;
}

int
zch_link_fd (zch_link_t *self)
{
    return zch_zmq_fd (self->events);
}

int
zch_link_connects (zch_link_t *self)
{
    int connects = 0;
    while (true) {
        //  [event (uint16) and value (uint32)][endpoint]
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, self->events, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return connects;
        }
        bool more = zmq_msg_more (&frame);
        uint16_t event = 0;
        if (zmq_msg_size (&frame) >= 2)
            memcpy (&event, zmq_msg_data (&frame), 2);
        if (event == ZMQ_EVENT_CONNECTED) {
            connects++;
            self->up++;
        }
        else
        if (event == ZMQ_EVENT_DISCONNECTED) {
            self->dropped = true;
            if (self->up > 0)
                self->up--;
        }
        zmq_msg_close (&frame);
        while (more) {
            zmq_msg_init (&frame);
            zmq_msg_recv (&frame, self->events, 0);
            more = zmq_msg_more (&frame);
            zmq_msg_close (&frame);
        }
    }
}

bool
zch_link_lost (zch_link_t *self)
{
    return self->dropped && self->up == 0;
}
