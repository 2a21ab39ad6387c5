/*  broker_watch: what the broker's sockets hold now, for the gauges.

    Subscriptions held: the distinct prefixes some egress peer follows.
    The broker's XPUB is verbose, so every subscribe reaches it (a barrier
    must be answered each time) while an unsubscribe reaches it only when
    no peer follows the prefix any more, at an UNSUB or at a disconnect.
    Counting subscribes minus unsubscribes therefore drifts upward with
    every peer that leaves while another follows the same prefix; a set of
    prefixes, added on subscribe and removed on unsubscribe, does not.

    Peers: ZeroMQ connections accepted on ingress, egress and control
    (TCP or IPC) and not yet disconnected, from libzmq socket monitors.
    Inproc peers (the front-ends of `zchannel run`) are not connections
    and are not counted.                                                    */
#ifndef BROKER_WATCH_H_INCLUDED
#define BROKER_WATCH_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct broker_watch_t broker_watch_t;

//  Watches the given sockets (raw libzmq, not yet bound) for connected
//  peers. Returns NULL when out of memory or when a monitor cannot start.
broker_watch_t *broker_watch_new (void *context, void **sockets, size_t count);

//  Stops the monitors; call before the watched sockets close. NULLs the pointer.
void broker_watch_destroy (broker_watch_t **self_p);

//  A subscription message (first byte 1 or 0, then the prefix) seen on egress.
void broker_watch_subscription (broker_watch_t *self, const uint8_t *data, size_t size);

//  Fills items with the monitor sockets to poll for input (the loop must
//  read them: libzmq's monitor waits when they fill). Returns how many.
size_t broker_watch_pollitems (broker_watch_t *self, zmq_pollitem_t *items, size_t max);

//  Reads the monitors' pending events. Cheap when there are none.
void broker_watch_events (broker_watch_t *self);

//  Prefixes followed by at least one egress peer.
size_t broker_watch_subscriptions (broker_watch_t *self);

//  ZeroMQ peers connected now over TCP or IPC.
uint64_t broker_watch_peers (broker_watch_t *self);

#endif
