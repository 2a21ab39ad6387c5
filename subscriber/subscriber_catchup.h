/*  subscriber_catchup: a worker's link to the broker's control endpoint
    (a DEALER), and what it does with it.

    Gap healing: the worker hands every live message to
    subscriber_catchup_live first. It tracks the last seq seen per topic;
    when one jumps (a ZeroMQ high-water mark dropped messages on the way)
    it holds that topic's live messages, asks the broker for the missing
    range (HEAL), delivers what comes back in order, then what it held.
    Seqs the history no longer holds are reported through the gap handler.
    Messages of other topics flow on meanwhile.

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
    (subscriber_catchup_quiet), at most every CATCHUP_CHECK_MS, until a
    check finds nothing missing.

    It also carries the requests of client catch-ups (subscriber_sync.h)
    and routes their answers back to them.                                  */
#ifndef SUBSCRIBER_CATCHUP_H_INCLUDED
#define SUBSCRIBER_CATCHUP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_secure.h"

typedef struct subscriber_catchup_t subscriber_catchup_t;
typedef struct subscriber_sync_t subscriber_sync_t;
typedef struct zch_conn_t zch_conn_t;

typedef struct {
    //  Hands a message to the clients (what a live message gets).
    void (*deliver) (void *ctx, const char *topic, size_t topic_len, uint64_t seq,
                     const char *payload, size_t payload_len);
    //  Seqs from..to of topic are lost for good: tell the clients.
    void (*gap) (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to);
    //  The topic's seqs start afresh in epoch: tell the clients.
    void (*reset) (void *ctx, const char *topic, size_t topic_len, uint64_t epoch);
    //  A client's catch-up stream ended: its paused commands may go on.
    void (*sync_ended) (void *ctx);
    //  For client catch-ups: writes one message to the client behind conn,
    //  as it speaks; processed false when the egress plugins have not
    //  seen it yet (it comes from the broker's history).
    void (*write) (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, uint64_t seq,
                   const char *payload, size_t payload_len, bool processed);
    //  For client catch-ups: tells the client behind conn of a problem,
    //  as it speaks (text: "-ERR <text>"; frames: ["err", code, text]).
    void (*notice) (void *ctx, zch_conn_t *conn, const char *code, const char *text);
    //  A prime left seqs that may still come live (edges): subscribe a
    //  barrier now and call subscriber_catchup_settle (round) once it
    //  returns, when every edge of the round has come or never will.
    void (*barrier) (void *ctx, uint64_t round);
} subscriber_catchup_handlers_t;

//  Counters since start.
typedef struct {
    uint64_t gaps;              //  seq jumps seen on the broker link
    uint64_t healed;            //  messages recovered from the history
    uint64_t lost;              //  messages the history no longer held
    uint64_t held_dropped;      //  live messages not held while healing (healed later)
    uint64_t checks;            //  SEQS checks sent after drops or backlogs
    uint64_t tails;             //  lags those found (a lost tail, an unseen topic)
    uint64_t resets;            //  topics seen in a new epoch
} subscriber_catchup_stats_t;

//  Connects a DEALER to the broker's control endpoint, with CURVE when
//  secure (borrowed) says so, as the worker's SUB. handlers and ctx are
//  borrowed. Returns NULL with a reason in error.
subscriber_catchup_t *subscriber_catchup_new (const char *control, const zch_secure_config_t *secure,
                                              const subscriber_catchup_handlers_t *handlers,
                                              void *ctx, char *error, size_t error_size);

//  Closes the link and frees everything; NULLs the pointer. Destroy every
//  sync first.
void subscriber_catchup_destroy (subscriber_catchup_t **self_p);

//  The descriptor that signals the DEALER may have something to read.
int subscriber_catchup_fd (subscriber_catchup_t *self);

//  A live message from the broker. Returns true when the caller should
//  deliver it now, false when it is held (or a repeat) and will be
//  delivered, in order, through the deliver handler.
bool subscriber_catchup_live (subscriber_catchup_t *self, const char *topic, size_t topic_len,
                              uint64_t seq, uint64_t epoch, const char *payload, size_t payload_len);

//  Reads and handles every answer waiting from the broker, and gives up
//  on requests the broker has not answered for too long.
void subscriber_catchup_drain (subscriber_catchup_t *self);

//  Tells that the broker link has nothing to read now. If it dropped
//  messages since the last check, checks the seqs of every topic under
//  each primed prefix and heals what lags.
void subscriber_catchup_quiet (subscriber_catchup_t *self);

//  Tells that the broker link had a backlog as deep as a turn's batch or
//  the link's high-water mark: the broker may have dropped messages on the
//  way, even the last of a burst, which no later seq would show. Once the
//  link is quiet, the seqs of every topic are checked as after a drop.
void subscriber_catchup_backlog (subscriber_catchup_t *self);

//  An upstream prefix just went live: asks the broker for the seqs of the
//  topics under it now (SEQS), so that a topic seen for the first time
//  later can tell whether earlier messages were dropped on the way.
void subscriber_catchup_prime (subscriber_catchup_t *self, const char *prefix, size_t len);

//  Forgets the seqs of topics under prefix (no longer subscribed
//  upstream): a later message there is not a gap.
void subscriber_catchup_forget_prefix (subscriber_catchup_t *self, const char *prefix, size_t len);

//  The barrier asked for round came back: the broker's stream has passed
//  every edge of that round and earlier ones, so they are no longer
//  awaited (an edge published before its prefix went live never comes).
void subscriber_catchup_settle (subscriber_catchup_t *self, uint64_t round);

//  The last seq delivered on topic, 0 if none. A prime's seq still
//  awaited live is not delivered yet.
uint64_t subscriber_catchup_last_seq (subscriber_catchup_t *self, const char *topic, size_t len);

//  The broker's epoch as last seen (on any message or barrier), 0 before.
uint64_t subscriber_catchup_epoch (subscriber_catchup_t *self);

//  The broker link (re)connected: a broker that restarted may have sent
//  messages before the subscriptions reached it, so every topic is checked
//  (SEQS) at the next quiet moment.
void subscriber_catchup_link_up (subscriber_catchup_t *self);

//  A barrier came in epoch: a broker seen in a new one is checked (SEQS)
//  at the next quiet moment.
void subscriber_catchup_barrier (subscriber_catchup_t *self, uint64_t epoch);

//  Counters.
const subscriber_catchup_stats_t *subscriber_catchup_stats (subscriber_catchup_t *self);

//  For subscriber_sync: sends a request (tokens, then a tag of its own)
//  whose answers go to sync. Returns a handle for _cancel, or NULL.
void *subscriber_catchup_request (subscriber_catchup_t *self, subscriber_sync_t *sync,
                                  const char *const *tokens, const size_t *sizes, size_t count);

//  For subscriber_sync: writes through the worker's handlers (see above).
void subscriber_catchup_write (subscriber_catchup_t *self, zch_conn_t *conn, const char *topic,
                               size_t topic_len, uint64_t seq, const char *payload,
                               size_t payload_len, bool processed);
void subscriber_catchup_notice (subscriber_catchup_t *self, zch_conn_t *conn, const char *code,
                                const char *text);

//  For subscriber_sync: its client is gone; answers to request are ignored.
void subscriber_catchup_cancel (subscriber_catchup_t *self, void *request);

//  The worker moved to another broker (failover): the control link
//  leaves from for to, heals in flight are asked again there, other
//  requests end as failed, and every topic's seq is checked at the new
//  broker once subscriber_catchup_moved says it follows the worker's
//  prefixes, and the link is quiet. Returns 0, or -1 with a reason.
int subscriber_catchup_move (subscriber_catchup_t *self, const char *from, const char *to,
                             char *error, size_t error_size);

//  The new broker follows every prefix the worker does (a barrier came
//  back): the check of every topic's seq may run.
void subscriber_catchup_moved (subscriber_catchup_t *self);

#endif
