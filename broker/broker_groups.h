/*  broker_groups: queue groups (private to broker/).

    A subscriber front-end makes one of its clients a member of group G on
    pattern P by subscribing, on the egress, to "$queue G P ADDRESS", where
    ADDRESS ("$q.<worker id>.<member number>") is under a prefix the
    front-end follows. For every message whose topic P matches, the broker
    sends, besides the message's ordinary copy, one addressed copy
    "ADDRESS.<topic>" (same meta, same payload) to one member of (G, P),
    the members taking turns in the order they joined. A member leaves with
    the unsubscription, which libzmq also reports when the front-end's link
    goes away. Members span front-ends: the broker alone picks. A member
    whose front-end also subscribes "$qslow G P ADDRESS" is slow: its turn
    passes to the next member that is not, unless every member is slow.
    A group whose name starts with '$' (the channel protocol's "$loop")
    gets no ordinary messages, only those routed to it by name.            */
#ifndef BROKER_GROUPS_H_INCLUDED
#define BROKER_GROUPS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "broker_local.h"

#define BROKER_GROUPS_PREFIX    "$queue "
#define BROKER_GROUPS_SLOW      "$qslow "
#define BROKER_GROUP_MAX        64      //  bytes in a group name

typedef struct broker_groups_t broker_groups_t;

//  No groups yet; NULL when out of memory.
broker_groups_t *broker_groups_new (void);

void broker_groups_destroy (broker_groups_t **self_p);

//  Takes a subscription message from the egress (1 or 0, then the
//  subscription's bytes). Returns true when it was a membership (joined,
//  left, or refused as malformed and logged), false for any other.
bool broker_groups_subscription (broker_groups_t *self, const uint8_t *data, size_t size);

//  Sends the addressed copies of one forwarded message on egress and, when
//  not NULL, on local (the egress to this process's front-ends): meta and
//  payload are copied (libzmq shares large bodies), never moved. A copy
//  local cannot take now waits here, in order (broker_groups_flush).
void broker_groups_route (broker_groups_t *self, void *egress, broker_local_t *local,
                          const char *topic, size_t topic_len, zmq_msg_t *meta, zmq_msg_t *payload);

//  Hands local the copies that wait, while it takes them.
void broker_groups_flush (broker_groups_t *self, broker_local_t *local);

//  True while copies wait for local: the broker reads no more ingress.
bool broker_groups_holding (broker_groups_t *self);

//  A message whose meta headers hold "zch-route": "queue <group>" goes
//  to one member of <group> only (each of its patterns that match), on
//  egress and local as broker_groups_route: no seq, no history, no
//  ordinary copy. Returns true when the message was
//  such (routed, or dropped when no member matched), false otherwise.
//  frames are the envelope's three frames.
bool broker_groups_route_only (broker_groups_t *self, void *egress, broker_local_t *local,
                               const char *topic, size_t topic_len, const uint8_t *meta_data,
                               size_t meta_size, zmq_msg_t *meta, zmq_msg_t *payload);

//  Members now, over every group; copies sent since start.
size_t broker_groups_members (broker_groups_t *self);
uint64_t broker_groups_routed (broker_groups_t *self);

//  Group-only messages no member took.
uint64_t broker_groups_unrouted (broker_groups_t *self);

#endif
