/*  subscriber_catchup_private: what the parts of subscriber_catchup share:
    subscriber_catchup.c (the link, healing, held messages) and
    subscriber_catchup_seqs.c (SEQS primes and checks, epochs). Private to
    them.                                                                   */
#ifndef SUBSCRIBER_CATCHUP_PRIVATE_H_INCLUDED
#define SUBSCRIBER_CATCHUP_PRIVATE_H_INCLUDED

#include "subscriber_catchup.h"
#include "zch_topic.h"

#include <czmq.h>

#define CATCHUP_HOLD_MAX    100000  //  live messages held per healing topic
#define CATCHUP_HOLD_BYTES  (64 * 1024 * 1024)  //  payload bytes held over all topics
#define CATCHUP_TIMEOUT     10000   //  ms without an answer before a request is given up
#define CATCHUP_HEALS_MAX   256     //  HEALs in flight; more topics wait their turn
#define CATCHUP_MAX_FRAMES  6
#define CATCHUP_CHECK_MS    500     //  least time between two checks of every topic's seq
#define CATCHUP_UNLISTED_MAX 20     //  checks again while a broker without an epoch does not list a topic

typedef struct held_t held_t;
typedef struct request_t request_t;
typedef struct prime_t prime_t;

typedef enum { REQUEST_HEAL, REQUEST_SYNC, REQUEST_PRIME, REQUEST_CHECK } request_kind_t;

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
    bool waiting;               //  on the waiting list: needs a HEAL
    topic_t *next_waiting;
    held_t *held;               //  oldest first
    held_t *held_tail;
    size_t held_count;
    size_t name_len;
    char name [];
};

//  A request in flight, by tag.
struct request_t {
    char tag [24];
    request_kind_t kind;
    topic_t *topic;             //  a HEAL; NULL once the topic is forgotten
    subscriber_sync_t *sync;    //  a client's catch-up; NULL once the client is gone
    prime_t *prime;             //  a SEQS (prime or check); NULL once the prefix is released
    int64_t deadline;
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

struct subscriber_catchup_t {
    void *dealer;
    const subscriber_catchup_handlers_t *handlers;
    void *ctx;
    zhashx_t *topics;           //  name -> topic_t (keyed by its own name)
    zhashx_t *requests;         //  tag -> request_t
    zlistx_t *primes;           //  prime_t
    uint64_t next_tag;
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
    subscriber_catchup_stats_t stats;
};

//  subscriber_catchup.c
//  Looks topic up. Returns NULL when it is unknown.
topic_t *subscriber_catchup_topic_find (subscriber_catchup_t *self, const char *name, size_t len);
//  Starts tracking a topic whose last seq delivered is last, or NULL.
topic_t *subscriber_catchup_topic_new (subscriber_catchup_t *self, const char *name, size_t len,
                                       uint64_t last);
//  Asks the broker for seqs from..to of topic (now or when a slot frees).
void subscriber_catchup_heal_start (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to);
//  Frees what topic holds; returns the payload bytes freed.
size_t subscriber_catchup_held_free_all (topic_t *topic);
//  Reports seqs from..to of topic as lost.
void subscriber_catchup_lost (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to);
//  Takes topic off the list of those waiting for a HEAL slot.
void subscriber_catchup_waiting_remove (subscriber_catchup_t *self, topic_t *topic);
//  Sends a request of count tokens plus a fresh tag; its record, or NULL.
request_t *subscriber_catchup_request_send (subscriber_catchup_t *self, const char *const *tokens,
                                            const size_t *sizes, size_t count);

//  subscriber_catchup_seqs.c
//  True when a done prime covers topic name.
bool subscriber_catchup_primed (subscriber_catchup_t *self, const char *name, size_t len);
//  One [SEQ, tag, topic, seq, epoch] of a prime's or a check's answer.
void subscriber_catchup_seq (subscriber_catchup_t *self, request_kind_t kind, const char *name,
                             size_t len, uint64_t seq, uint64_t epoch);
//  After a complete check of prime's prefix in epoch: resets the topics it did not list
//  (epoch 0, a broker whose epochs are the topics': checks them again instead).
void subscriber_catchup_sweep (subscriber_catchup_t *self, prime_t *prime, uint64_t epoch);
//  topic's seqs start afresh in epoch.
void subscriber_catchup_topic_reset (subscriber_catchup_t *self, topic_t *topic, uint64_t epoch);
//  Notes the broker's epoch as seen on a message or a barrier.
void subscriber_catchup_broker_epoch (subscriber_catchup_t *self, uint64_t epoch);

#endif
