/*  subscriber_heal: gap healing on a worker's broker link, over the
    control link (subscriber_control).

    The worker hands every live message to subscriber_heal_live first. It
    tracks the last seq seen per topic; when one jumps (a ZeroMQ
    high-water mark dropped messages on the way) it holds that topic's
    live messages, asks the broker for the missing range (HEAL), delivers
    what comes back in order, then what it held. Seqs the history no
    longer holds are reported through the gap handler. Messages of other
    topics flow on meanwhile.

    Every seq belongs to an epoch. A topic whose messages (or SEQS answers)
    come in another epoch than before started afresh at the broker (it
    restarted): what the old epoch still owed is reported lost, the clients
    are told through the reset handler, and the topic goes on in the new
    epoch from seq 1, healed like any other gap. A new epoch on one topic
    makes the next quiet moment check every topic (SEQS), so that quiet
    topics are told too.

    A dropped last message leaves no jump, and a topic whose every message
    was dropped is never seen. So each upstream prefix, once live, is
    primed with the seqs of the topics under it (SEQS), and once the link
    has dropped something or had a backlog deep enough to drop, the same
    request checks every topic under it when the link goes quiet
    (subscriber_heal_quiet), at most every HEAL_CHECK_MS, until a check
    finds nothing missing. A check heals up to the seq the broker gave.    */
#ifndef SUBSCRIBER_HEAL_H_INCLUDED
#define SUBSCRIBER_HEAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "subscriber_control.h"

typedef struct subscriber_heal_t subscriber_heal_t;

typedef struct {
    //  Hands a message to the clients (what a live message gets).
    void (*deliver) (void *ctx, const char *topic, size_t topic_len, uint64_t seq,
                     const char *payload, size_t payload_len);
    //  Seqs from..to of topic are lost for good: tell the clients.
    void (*gap) (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to);
    //  The topic's seqs start afresh in epoch: tell the clients.
    void (*reset) (void *ctx, const char *topic, size_t topic_len, uint64_t epoch);
    //  A prime left seqs that may still come live (edges): subscribe a
    //  barrier now and call subscriber_heal_settle (round) once it
    //  returns, when every edge of the round has come or never will.
    void (*barrier) (void *ctx, uint64_t round);
} subscriber_heal_handlers_t;

//  Counters since start.
typedef struct {
    uint64_t gaps;              //  seq jumps seen on the broker link
    uint64_t healed;            //  messages recovered from the history
    uint64_t lost;              //  messages the history no longer held
    uint64_t held_dropped;      //  live messages not held while healing (healed later)
    uint64_t checks;            //  SEQS checks sent after drops or backlogs
    uint64_t tails;             //  lags those found (a lost tail, an unseen topic)
    uint64_t resets;            //  topics seen in a new epoch
} subscriber_heal_stats_t;

//  Heals over control (borrowed: it outlives the heal). handlers and ctx
//  are borrowed. Returns NULL when out of memory.
subscriber_heal_t *subscriber_heal_new (subscriber_control_t *control,
                                        const subscriber_heal_handlers_t *handlers, void *ctx);

//  Cancels its requests and frees everything; NULLs the pointer.
void subscriber_heal_destroy (subscriber_heal_t **self_p);

//  A live message from the broker. Returns true when the caller should
//  deliver it now, false when it is held (or a repeat) and will be
//  delivered, in order, through the deliver handler.
bool subscriber_heal_live (subscriber_heal_t *self, const char *topic, size_t topic_len,
                           uint64_t seq, uint64_t epoch, const char *payload, size_t payload_len);

//  Tells that the broker link has nothing to read now. If it dropped
//  messages since the last check, checks the seqs of every topic under
//  each primed prefix and heals what lags.
void subscriber_heal_quiet (subscriber_heal_t *self);

//  Tells that the broker link had a backlog as deep as a turn's batch or
//  the link's high-water mark: the broker may have dropped messages on the
//  way, even the last of a burst, which no later seq would show. Once the
//  link is quiet, the seqs of every topic are checked as after a drop.
void subscriber_heal_backlog (subscriber_heal_t *self);

//  An upstream prefix just went live: asks the broker for the seqs of the
//  topics under it now (SEQS), so that a topic seen for the first time
//  later can tell whether earlier messages were dropped on the way.
void subscriber_heal_prime (subscriber_heal_t *self, const char *prefix, size_t len);

//  Forgets the seqs of topics under prefix (no longer subscribed
//  upstream): a later message there is not a gap.
void subscriber_heal_forget_prefix (subscriber_heal_t *self, const char *prefix, size_t len);

//  The barrier asked for round came back: the broker's stream has passed
//  every edge of that round and earlier ones, so they are no longer
//  awaited (an edge published before its prefix went live never comes).
void subscriber_heal_settle (subscriber_heal_t *self, uint64_t round);

//  The last seq delivered on topic, 0 if none. A prime's seq still
//  awaited live is not delivered yet.
uint64_t subscriber_heal_last_seq (subscriber_heal_t *self, const char *topic, size_t len);

//  The broker's epoch as last seen (on any message or barrier), 0 before.
uint64_t subscriber_heal_epoch (subscriber_heal_t *self);

//  The broker link (re)connected: a broker that restarted may have sent
//  messages before the subscriptions reached it, so every topic is checked
//  (SEQS) at the next quiet moment.
void subscriber_heal_link_up (subscriber_heal_t *self);

//  A barrier came in epoch: a broker seen in a new one is checked (SEQS)
//  at the next quiet moment.
void subscriber_heal_barrier (subscriber_heal_t *self, uint64_t epoch);

//  Counters.
const subscriber_heal_stats_t *subscriber_heal_stats (subscriber_heal_t *self);

//  The worker moves to another broker (failover): the control link leaves
//  from for to, heals in flight are asked again there, what else was asked
//  fails, and every topic's seq is checked at the new broker once
//  subscriber_heal_moved says it follows the worker's prefixes, and the
//  link is quiet. Returns 0, or -1 with a reason (heals go on regardless).
int subscriber_heal_move (subscriber_heal_t *self, const char *from, const char *to,
                          char *error, size_t error_size);

//  The new broker follows every prefix the worker does (a barrier came
//  back): the check of every topic's seq may run.
void subscriber_heal_moved (subscriber_heal_t *self);

#endif
