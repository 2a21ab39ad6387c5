/*  subscriber_queue: queue-group members on the subscriber front-end.      */
#include "subscriber_queue.h"
#include "zch_frame_reply.h"
#include "zch_log.h"

#define S_TOMBSTONE_MS  10000   //  how long copies for a member that left are sent on

typedef struct {
    uint64_t number;
    subscriber_client_t *client;    //  NULL once it left: a tombstone
    int64_t left_at;
    bool withdrawn;             //  out of the turns while it is slow
    char group [SUBSCRIBER_QUEUE_GROUP_MAX + 1];
    char pattern [ZCH_TOPIC_MAX + 1];
    char membership [ZCH_TOPIC_MAX + SUBSCRIBER_QUEUE_GROUP_MAX + 96];
} s_member_t;

struct subscriber_queue_t {
    subscriber_worker_t *worker;
    char prefix [64];           //  "$q.<worker id>."
    bool following;             //  prefix subscribed upstream
    zhashx_t *members;          //  "<number>" -> s_member_t (tombstones too)
    size_t active;
    uint64_t next_number;
    uint64_t dropped;
    int64_t dropped_logged_at;
    uint64_t skips;
};

static void
s_member_free (void **item)
{
    free (*item);
    *item = NULL;
}

subscriber_queue_t *
subscriber_queue_new (subscriber_worker_t *worker)
{
    subscriber_queue_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->worker = worker;
    //  the worker's barrier prefix is "$ack.<id>."
    snprintf (self->prefix, sizeof self->prefix, "$q.%s", worker->ack_prefix + 5);
    self->members = zhashx_new ();
    if (!self->members) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->members, s_member_free);
    return self;
}

void
subscriber_queue_destroy (subscriber_queue_t **self_p)
{
    subscriber_queue_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->members);
    free (self);
    *self_p = NULL;
}

int
subscriber_queue_check_group (const char *group, size_t len, const char **reason)
{
    if (len == 0 || len > SUBSCRIBER_QUEUE_GROUP_MAX) {
        *reason = "queue group names have 1 to 64 bytes";
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) group [i] <= ' ' || group [i] == 0x7f) {
            *reason = "queue group names are printable, without spaces";
            return -1;
        }
    return 0;
}

//  Joins or leaves the group at the broker for a member ("$queue G P
//  ADDRESS"), or, with slow, tells it the member is slow or not any more
//  ("$qslow G P ADDRESS", subscribed while it is).
static void
s_upstream (subscriber_queue_t *self, s_member_t *member, bool join, bool slow)
{
    char text [sizeof member->membership];
    strcpy (text, member->membership);
    if (slow)
        memcpy (text, "$qslow ", 7);
    zmq_setsockopt (self->worker->upstream, join? ZMQ_SUBSCRIBE: ZMQ_UNSUBSCRIBE, text, strlen (text));
}

void
subscriber_queue_join (subscriber_queue_t *self, subscriber_client_t *client,
                       const char *pattern, size_t len, const char *group, size_t group_len)
{
    for (s_member_t *member = zhashx_first (self->members); member;
         member = zhashx_next (self->members))
        if (member->client == client && strlen (member->pattern) == len
        &&  memcmp (member->pattern, pattern, len) == 0 && strlen (member->group) == group_len
        &&  memcmp (member->group, group, group_len) == 0) {
            subscriber_worker_confirm (self->worker, client);
            return;
        }
    s_member_t *member = calloc (1, sizeof *member);
    if (!member) {
        subscriber_client_error (client, ZCH_FRAME_E_INTERNAL, "", "out of memory");
        return;
    }
    member->number = ++self->next_number;
    member->client = client;
    memcpy (member->group, group, group_len);
    memcpy (member->pattern, pattern, len);
    snprintf (member->membership, sizeof member->membership, "$queue %s %s %s%llu",
              member->group, member->pattern, self->prefix, (unsigned long long) member->number);
    char key [24];
    snprintf (key, sizeof key, "%llu", (unsigned long long) member->number);
    zhashx_insert (self->members, key, member);
    self->active++;
    if (!self->following) {
        zmq_setsockopt (self->worker->upstream, ZMQ_SUBSCRIBE, self->prefix, strlen (self->prefix));
        self->following = true;
    }
    s_upstream (self, member, true, false);
    //  +OK once the broker has the membership: the barrier comes after it
    subscriber_worker_confirm (self->worker, client);
}

size_t
subscriber_queue_leave (subscriber_queue_t *self, subscriber_client_t *client, const char *pattern)
{
    size_t ended = 0;
    if (!self)
        return 0;               //  a worker that failed to start
    for (s_member_t *member = zhashx_first (self->members); member;
         member = zhashx_next (self->members)) {
        if (member->client != client || (pattern && strcmp (member->pattern, pattern)))
            continue;
        s_upstream (self, member, false, false);
        if (member->withdrawn)
            s_upstream (self, member, false, true);
        //  kept a while as a tombstone: copies already on the way go to
        //  another member of its group
        member->client = NULL;
        member->left_at = zclock_mono ();
        self->active--;
        ended++;
    }
    return ended;
}

//  Another member of the same group and pattern on this worker (one in
//  the turns when in_turns), or NULL. Walks a copy of the keys: callers
//  may be iterating the members themselves.
static s_member_t *
s_stand_in (subscriber_queue_t *self, const s_member_t *other, bool in_turns)
{
    s_member_t *found = NULL;
    zlistx_t *keys = zhashx_keys (self->members);
    for (const char *key = keys? zlistx_first (keys): NULL; key && !found; key = zlistx_next (keys)) {
        s_member_t *member = zhashx_lookup (self->members, key);
        if (member != other && member->client && (!in_turns || !member->withdrawn)
        &&  !strcmp (member->group, other->group) && !strcmp (member->pattern, other->pattern))
            found = member;
    }
    zlistx_destroy (&keys);
    return found;
}

//  The longest output a member may queue before it is skipped: half of
//  what makes the worker stop reading the broker in zchannel run (a
//  quarter of max-output at most), so that a slow member is skipped before
//  it holds anyone back, and what is on its way when the broker learns it
//  still fits.
static size_t
s_slow_limit (subscriber_queue_t *self)
{
    return subscriber_worker_behind_mark (self->worker) / 2;
}

//  True when member is over its limit: the broker is told, and passes
//  its turns to members that are not slow (while there are any).
static bool
s_slow (subscriber_queue_t *self, s_member_t *member)
{
    size_t pending = zch_conn_pending (member->client->conn);
    if (pending <= s_slow_limit (self))
        return false;
    if (!member->withdrawn) {
        s_upstream (self, member, true, true);
        member->withdrawn = true;
        self->skips++;
        zch_info ("subscriber: queue member %s is slow (%zu bytes queued): skipped until it "
                  "reads (skips: %llu)", zch_conn_peer (member->client->conn), pending,
                  (unsigned long long) self->skips);
    }
    return true;
}

bool
subscriber_queue_deliver (subscriber_queue_t *self, const char *topic, size_t topic_len,
                          uint64_t seq, uint64_t epoch, const char *meta, size_t meta_size,
                          const char *payload, size_t payload_len)
{
    size_t prefix_len = strlen (self->prefix);
    if (topic_len <= prefix_len || memcmp (topic, self->prefix, prefix_len) != 0)
        return false;
    //  "<prefix><number>.<topic>"
    char key [24];
    size_t at = prefix_len, digits = 0;
    while (at < topic_len && topic [at] >= '0' && topic [at] <= '9' && digits < sizeof key - 1)
        key [digits++] = topic [at++];
    key [digits] = 0;
    s_member_t *member = digits && at < topic_len && topic [at] == '.'?
                         zhashx_lookup (self->members, key): NULL;
    if (member && !member->client)
        member = s_stand_in (self, member, false);
    else
    if (member && s_slow (self, member)) {
        //  What was on its way before the broker knew goes to a member
        //  here that is not slow, if there is one
        s_member_t *stand_in = s_stand_in (self, member, true);
        if (stand_in)
            member = stand_in;
    }
    if (!member) {
        //  logged once a second at most
        self->dropped++;
        int64_t now = zclock_mono ();
        if (now - self->dropped_logged_at >= 1000) {
            self->dropped_logged_at = now;
            zch_warning ("subscriber: worker %d dropped a queue-group message on %.*s: its member "
                         "left and no other member of its group is here (dropped: %llu)",
                         self->worker->index, (int) (topic_len - at - 1), topic + at + 1,
                         (unsigned long long) self->dropped);
        }
        return true;
    }
    at++;
    subscriber_delivery_t delivery = {
        .self = self->worker, .topic = topic + at, .topic_len = topic_len - at, .seq = seq,
        .epoch = epoch, .payload = payload, .payload_len = payload_len,
        .meta = (const uint8_t *) meta, .meta_size = meta_size
    };
    self->worker->delivery++;
    subscriber_write_delivery (self->worker, member->client, &delivery);
    return true;
}

void
subscriber_queue_turn (subscriber_queue_t *self)
{
    if (zhashx_size (self->members) == 0)
        return;
    int64_t now = zclock_mono ();
    zlistx_t *gone = NULL;
    for (s_member_t *member = zhashx_first (self->members); member;
         member = zhashx_next (self->members)) {
        if (!member->client) {
            if (now - member->left_at > S_TOMBSTONE_MS) {
                if (!gone)
                    gone = zlistx_new ();
                if (gone)
                    zlistx_add_end (gone, (void *) zhashx_cursor (self->members));
            }
            continue;
        }
        if (!member->withdrawn)
            s_slow (self, member);
        else
        //  Back in the turns once it has read most of what it had
        if (member->withdrawn && zch_conn_pending (member->client->conn) < s_slow_limit (self) / 4) {
            s_upstream (self, member, false, true);
            member->withdrawn = false;
        }
    }
    if (gone) {
        for (const char *key = zlistx_first (gone); key; key = zlistx_next (gone))
            zhashx_delete (self->members, key);
        zlistx_destroy (&gone);
    }
}

size_t
subscriber_queue_members (subscriber_queue_t *self)
{
    return self->active;
}

uint64_t
subscriber_queue_dropped (subscriber_queue_t *self)
{
    return self->dropped;
}

uint64_t
subscriber_queue_skips (subscriber_queue_t *self)
{
    return self->skips;
}
