/*  subscriber_queue: queue-group members on the subscriber front-end
    (private to subscriber/).

    SUB <pattern> QUEUE <group> (frames: {"queue": group}) makes the client
    a member of the group on that pattern, across every front-end of the
    broker: each message the pattern matches goes to one member only, the
    members taking turns (the broker picks: broker_groups.h). The worker
    joins for the member on the egress ("$queue G P $q.<worker>.<n>"),
    follows "$q.<worker>." once, and writes what arrives for member n to
    its client. A member whose output backs up past 512 KiB (a quarter of
    max-output at most) is reported slow ("$qslow G P ADDRESS") until it
    has read most of it; the broker then gives its turns to members that
    are not, so a slow member is skipped instead of holding the group up. Copies already on their way
    to a member that left, or that is slow, go to another member of the
    same group here when there is one; for one that left and has none here
    they are counted as dropped.                                            */
#ifndef SUBSCRIBER_QUEUE_H_INCLUDED
#define SUBSCRIBER_QUEUE_H_INCLUDED

#include "subscriber_worker.h"

#define SUBSCRIBER_QUEUE_GROUP_MAX 64   //  bytes in a group name

typedef struct subscriber_queue_t subscriber_queue_t;

//  No members yet. NULL when out of memory.
subscriber_queue_t *subscriber_queue_new (subscriber_worker_t *worker);

//  Leaves every group (the upstream socket stays the worker's); NULLs.
void subscriber_queue_destroy (subscriber_queue_t **self_p);

//  Makes client a member of group on pattern (both checked by the caller:
//  a valid pattern the client may follow), answered "+OK" once the broker
//  has the membership. A repeat is answered and adds nothing.
void subscriber_queue_join (subscriber_queue_t *self, subscriber_client_t *client,
                            const char *pattern, size_t len, const char *group, size_t group_len);

//  Ends the client's memberships on pattern, or on every pattern when
//  pattern is NULL. Returns how many ended.
size_t subscriber_queue_leave (subscriber_queue_t *self, subscriber_client_t *client, const char *pattern);

//  Checks a group name. Returns 0, or -1 with *reason.
int subscriber_queue_check_group (const char *group, size_t len, const char **reason);

//  Takes a message from upstream when it is addressed to one of this
//  worker's members (returns true), and writes it to that member.
bool subscriber_queue_deliver (subscriber_queue_t *self, const char *topic, size_t topic_len,
                               uint64_t seq, uint64_t epoch, const char *meta, size_t meta_size,
                               const char *payload, size_t payload_len);

//  Once per loop turn: slow members leave the turns, caught-up ones rejoin.
void subscriber_queue_turn (subscriber_queue_t *self);

//  Members now; messages dropped because their member had left and no
//  other member of its group was here; times a slow member was skipped.
size_t subscriber_queue_members (subscriber_queue_t *self);
uint64_t subscriber_queue_dropped (subscriber_queue_t *self);
uint64_t subscriber_queue_skips (subscriber_queue_t *self);

#endif
