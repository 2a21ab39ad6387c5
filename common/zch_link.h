/*  zch_link: tells a front-end worker when its link to a broker connects
    and when it goes away, through libzmq's socket monitor.

    ZeroMQ reconnects by itself and says nothing: a broker that restarted
    comes back on the same endpoint unseen, and a connecting XPUB or SUB
    reports no vanished peer. The subscriber checks the seqs and epochs of
    every topic it follows after each connection; neither front-end is
    ready (/readyz) while its link is lost.                                */
#ifndef ZCH_LINK_H_INCLUDED
#define ZCH_LINK_H_INCLUDED

#include <stdbool.h>

typedef struct zch_link_t zch_link_t;

//  Watches the connections of socket (borrowed; it must outlive the
//  link). Returns NULL when the monitor cannot be set up.
zch_link_t *zch_link_new (void *socket);

//  Stops watching; NULLs the pointer.
void zch_link_destroy (zch_link_t **self_p);

//  The descriptor that signals events may be waiting.
int zch_link_fd (zch_link_t *self);

//  Reads the events waiting. Returns how many connections were made.
int zch_link_connects (zch_link_t *self);

//  True when a connection was lost and none is up now (as of the last
//  events read). An inproc link reports no events: it is never lost.
bool zch_link_lost (zch_link_t *self);

#endif
