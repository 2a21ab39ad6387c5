/*  subscriber_heal_private: what the parts of subscriber_heal share:
    subscriber_heal.c (healing, held messages, requests) and
    subscriber_heal_seqs.c (SEQS primes and checks, epochs). Private to
    them.                                                                   */
#ifndef SUBSCRIBER_HEAL_PRIVATE_H_INCLUDED
#define SUBSCRIBER_HEAL_PRIVATE_H_INCLUDED

#include "subscriber_heal.h"
#include "zch_topic.h"

#include <czmq.h>

#define HEAL_HOLD_MAX    100000  //  live messages held per healing topic
#define HEAL_HOLD_BYTES  (64 * 1024 * 1024)  //  payload bytes held over all topics
#define HEAL_HEALS_MAX   256     //  HEALs in flight; more topics wait their turn
#define HEAL_CHECK_MS    500     //  least time between two checks of every topic's seq
#define HEAL_UNLISTED_MAX 20     //  checks again while a broker without an epoch does not list a topic

typedef struct held_t held_t;
typedef struct request_t request_t;
typedef struct prime_t prime_t;

typedef enum { REQUEST_HEAL, REQUEST_PRIME, REQUEST_CHECK } request_kind_t;

//  A live message held while its topic heals.
struct held_t {
    held_t *next;
    uint64_t seq;
    size_t size;
    char payload [];
};

typedef struct topic_t topic_t;

//  What the worker knows of one topic.
struct topic_t {
    uint64_t last;              //  last seq delivered
    uint64_t epoch;             //  the epoch of last (0: not known yet)
    request_t *healing;         //  the HEAL in flight, or NULL
    uint64_t heal_to;           //  last seq it asks for
    uint64_t checked_round;     //  the last round of checks that listed it
    int unlisted;               //  checks in a row whose broker did not list it yet (no broker epoch)
    uint64_t edge;              //  seq a prime gave: it may still come live, once
    uint64_t edge_round;        //  the barrier round that settles the edge
    bool fresh;                 //  started by a prime, edge unsettled, nothing delivered yet
    uint64_t owed;              //  seq a check gave beyond last: healed once the stream has passed it
    uint64_t owed_round;        //  the barrier round after which it is
    bool waiting;               //  on the waiting list: needs a HEAL
    topic_t *next_waiting;
    held_t *held;               //  oldest first
    held_t *held_tail;
    size_t held_count;
    size_t name_len;
    char name [];
};

//  A request in flight on the control link.
struct request_t {
    subscriber_heal_t *heal;
    request_kind_t kind;
    topic_t *topic;             //  a HEAL; NULL once the topic is forgotten
    prime_t *prime;             //  a SEQS (prime or check); NULL once the prefix is released
    subscriber_control_request_t *handle;
    void *item;                 //  its place in the heal's list
};

//  An upstream prefix whose topics' seqs were asked for (SEQS) once it
//  went live. Once the answer is in (done), a topic under it seen for the
//  first time owes every seq from 1: the earlier ones were dropped. After
//  drops (or a backlog deep enough to drop) on the link the same request
//  checks every topic under it.
struct prime_t {
    request_t *request;         //  in flight, or NULL
    bool done;
    size_t len;
    char prefix [ZCH_TOPIC_MAX + 1];
};

struct subscriber_heal_t {
    subscriber_control_t *control;
    const subscriber_heal_handlers_t *handlers;
    void *ctx;
    zhashx_t *topics;           //  name -> topic_t (keyed by its own name)
    zlistx_t *requests;         //  request_t in flight
    zlistx_t *primes;           //  prime_t
    bool moving;                //  moved to another broker: no check until it follows our prefixes
    bool suspect;               //  the link dropped (or may have), or the broker changed epoch, since the last check
    int64_t checked_at;         //  when the last check went
    uint64_t epoch;             //  the broker's, as last seen
    uint64_t check_round;       //  rounds of checks sent
    int64_t lost_logged_at;     //  losses are logged at most once a second
    uint64_t lost_logged;
    size_t heals;               //  HEALs in flight
    topic_t *waiting;           //  topics waiting for a HEAL slot, oldest first
    topic_t *waiting_tail;
    size_t held_bytes;          //  payload bytes held over all topics
    uint64_t edge_round;        //  barrier rounds asked for; edges set now wait for the next
    bool edges_new;             //  edges set since the last round was asked for
    subscriber_heal_stats_t stats;
};

//  subscriber_heal.c
//  Looks topic up. Returns NULL when it is unknown.
topic_t *subscriber_heal_topic_find (subscriber_heal_t *self, const char *name, size_t len);
//  Starts tracking a topic whose last seq delivered is last, or NULL.
topic_t *subscriber_heal_topic_new (subscriber_heal_t *self, const char *name, size_t len,
                                    uint64_t last);
//  Asks the broker for seqs from..to of topic (now or when a slot frees).
void subscriber_heal_heal_start (subscriber_heal_t *self, topic_t *topic, uint64_t from, uint64_t to);
//  Frees what topic holds; returns the payload bytes freed.
size_t subscriber_heal_held_free_all (topic_t *topic);
//  Heals topic up to seq, which a check said the broker has stamped (or
//  tells the clients it is lost when it cannot be healed).
void subscriber_heal_tail (subscriber_heal_t *self, topic_t *topic, uint64_t seq);
//  Reports seqs from..to of topic as lost.
void subscriber_heal_lost (subscriber_heal_t *self, topic_t *topic, uint64_t from, uint64_t to);
//  Takes topic off the list of those waiting for a HEAL slot.
void subscriber_heal_waiting_remove (subscriber_heal_t *self, topic_t *topic);
//  Sends a request of count tokens; its record, or NULL.
request_t *subscriber_heal_request_send (subscriber_heal_t *self, request_kind_t kind,
                                         const char *const *tokens, const size_t *sizes, size_t count);

//  subscriber_heal_seqs.c
//  True when a done prime covers topic name.
bool subscriber_heal_primed (subscriber_heal_t *self, const char *name, size_t len);
//  One [SEQ, tag, topic, seq, epoch] of a prime's or a check's answer.
void subscriber_heal_seq (subscriber_heal_t *self, request_kind_t kind, const char *name,
                          size_t len, uint64_t seq, uint64_t epoch);
//  After a complete check of prime's prefix in epoch: resets the topics it did not list
//  (epoch 0, a broker whose epochs are the topics': checks them again instead).
void subscriber_heal_sweep (subscriber_heal_t *self, prime_t *prime, uint64_t epoch);
//  topic's seqs start afresh in epoch.
void subscriber_heal_topic_reset (subscriber_heal_t *self, topic_t *topic, uint64_t epoch);
//  Notes the broker's epoch as seen on a message or a barrier.
void subscriber_heal_broker_epoch (subscriber_heal_t *self, uint64_t epoch);

#endif
