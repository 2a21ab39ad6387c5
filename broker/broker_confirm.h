/*  broker_confirm: tells a source that the broker stamped (or dropped) a
    message it asked a confirm for.

    A source's worker holds a DEALER on the control endpoint whose routing
    id is the confirm route it writes into meta (cf, with the number cn,
    zch_meta_add_confirm). Once the message is stamped the broker sends
    that DEALER [CONFIRM, number, topic, seq, epoch]; when the broker drops
    it (its plugins, a meta too large once stamped) seq is 0 and the last
    frame says why. The ROUTER runs with ZMQ_ROUTER_MANDATORY: a route that
    is gone fails at once (counted); a source that is slow to read (its
    queue is full) gets its confirms later, in order, from a bounded
    backlog the broker's loop works down, so forwarding never waits.     */
#ifndef BROKER_CONFIRM_H_INCLUDED
#define BROKER_CONFIRM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define BROKER_CONFIRM_BACKLOG  (1024 * 1024)   //  confirms waiting for slow sources
#define BROKER_CONFIRM_STALL_MS 30000           //  longest a confirm may wait

typedef struct broker_confirm_t broker_confirm_t;

//  Confirms over the ROUTER socket control (borrowed). NULL: out of memory.
broker_confirm_t *broker_confirm_new (void *control);

//  Drops what waits; NULLs the pointer.
void broker_confirm_destroy (broker_confirm_t **self_p);

//  Sends one confirm now, or after those still waiting. reason is NULL
//  for a stamped message (seq, epoch), else why it was dropped.
void broker_confirm_send (broker_confirm_t *self, const char *route, size_t route_len, uint64_t number,
                          const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch,
                          const char *reason);

//  Sends what waits, as far as the sources take it. Returns how long the
//  loop may sleep: -1 (nothing waits) or 1 ms.
int broker_confirm_work (broker_confirm_t *self);

//  Confirms sent, and those that could not be (source gone, backlog full,
//  waited too long).
uint64_t broker_confirm_sent (broker_confirm_t *self);
uint64_t broker_confirm_failed (broker_confirm_t *self);

#endif
