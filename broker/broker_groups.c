/*  broker_groups: queue groups.                                            */
#include "broker_groups.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_mpread.h"
#include "zch_topic.h"
#include "zch_trie.h"

#include <czmq.h>

#define S_ADDRESS_MAX   128     //  "$q.<worker id>.<number>"

//  A member: its address, and whether its front-end says it is slow.
typedef struct {
    bool slow;
    char address [];
} s_member_t;

//  One (group, pattern) and its members, in the order they joined.
typedef struct {
    char *name;                 //  the group's name
    char *pattern;
    zlistx_t *members;          //  s_member_t (owned)
    size_t next;                //  the member whose turn it is
} s_group_t;

//  An addressed copy waiting for the local egress
typedef struct {
    zmq_msg_t frames [3];
} s_copy_t;

struct broker_groups_t {
    zlistx_t *waiting;          //  s_copy_t, oldest first
    zhashx_t *groups;           //  "G P" -> s_group_t
    zch_trie_t *trie;           //  P -> s_group_t, to match topics
    size_t members;
    uint64_t routed;
    uint64_t unrouted;
    int64_t unrouted_logged_at;
    uint64_t refused;
};

static void
s_group_destroy (void **item)
{
    s_group_t *group = *item;
    if (group) {
        zlistx_destroy (&group->members);
        free (group->pattern);
        free (group->name);
        free (group);
    }
    *item = NULL;
}

broker_groups_t *
broker_groups_new (void)
{
    broker_groups_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->groups = zhashx_new ();
    self->trie = zch_trie_new ();
    self->waiting = zlistx_new ();
    if (!self->groups || !self->trie || !self->waiting) {
        broker_groups_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->groups, s_group_destroy);
    return self;
}

void
broker_groups_destroy (broker_groups_t **self_p)
{
    broker_groups_t *self = *self_p;
    if (!self)
        return;
    zch_trie_destroy (&self->trie);
    zhashx_destroy (&self->groups);
    if (self->waiting) {
        for (s_copy_t *copy = zlistx_first (self->waiting); copy; copy = zlistx_next (self->waiting)) {
            for (int i = 0; i < 3; i++)
                zmq_msg_close (&copy->frames [i]);
            free (copy);
        }
        zlistx_destroy (&self->waiting);
    }
    free (self);
    *self_p = NULL;
}

//  Splits "G P ADDRESS" into its three words and checks each. Returns 0.
static int
s_parse (const char *text, size_t len, char *group, char *pattern, char *address)
{
    char words [3][ZCH_TOPIC_MAX + 1];
    size_t word = 0, at = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text [i] == ' ') {
            if (word == 3 || i == at || i - at > ZCH_TOPIC_MAX)
                return -1;
            memcpy (words [word], text + at, i - at);
            words [word++][i - at] = 0;
            at = i + 1;
        }
    }
    if (word != 3 || strlen (words [0]) > BROKER_GROUP_MAX
    ||  zch_pattern_validate (words [1], strlen (words [1]), NULL)
    ||  strncmp (words [2], "$q.", 3) != 0 || strlen (words [2]) > S_ADDRESS_MAX)
        return -1;
    strcpy (group, words [0]);
    strcpy (pattern, words [1]);
    strcpy (address, words [2]);
    return 0;
}

//  Members are the same when their addresses are.
static int
s_member_compare (const void *one, const void *other)
{
    return strcmp (((const s_member_t *) one)->address, ((const s_member_t *) other)->address);
}

//  The member with that address, as the list's cursor too; NULL if none.
static s_member_t *
s_find (s_group_t *group, const char *address)
{
    for (s_member_t *member = zlistx_first (group->members); member;
         member = zlistx_next (group->members))
        if (strcmp (member->address, address) == 0)
            return member;
    return NULL;
}

static void
s_join (broker_groups_t *self, const char *key, const char *name, const char *pattern,
        const char *address)
{
    s_group_t *group = zhashx_lookup (self->groups, key);
    if (!group) {
        group = calloc (1, sizeof *group);
        if (group) {
            group->pattern = strdup (pattern);
            group->name = strdup (name);
            group->members = zlistx_new ();
        }
        if (!group || !group->pattern || !group->name || !group->members
        ||  zch_trie_insert (self->trie, pattern, strlen (pattern), group)) {
            s_group_destroy ((void **) &group);
            zch_error ("broker: out of memory adding queue group %s", key);
            return;
        }
        zlistx_set_destructor (group->members, (zlistx_destructor_fn *) zstr_free);
        zlistx_set_comparator (group->members, s_member_compare);
        zhashx_insert (self->groups, key, group);
    }
    if (s_find (group, address))
        return;
    s_member_t *member = calloc (1, sizeof *member + strlen (address) + 1);
    if (member)
        strcpy (member->address, address);
    if (member && zlistx_add_end (group->members, member)) {
        self->members++;
        zch_debug ("broker: %s joined queue group %s", address, key);
    }
    else
        free (member);
}

static void
s_leave (broker_groups_t *self, const char *key, const char *address)
{
    s_group_t *group = zhashx_lookup (self->groups, key);
    if (!group || !s_find (group, address))
        return;
    zlistx_delete (group->members, zlistx_cursor (group->members));
    self->members--;
    if (zlistx_size (group->members) == 0) {
        zch_trie_remove (self->trie, group->pattern, strlen (group->pattern), group);
        zhashx_delete (self->groups, key);
    }
}

bool
broker_groups_subscription (broker_groups_t *self, const uint8_t *data, size_t size)
{
    size_t prefix = strlen (BROKER_GROUPS_PREFIX);
    bool slow = size >= 1 + prefix && memcmp (data + 1, BROKER_GROUPS_SLOW, prefix) == 0;
    if (size < 1 + prefix || (data [0] != 0 && data [0] != 1)
    ||  (!slow && memcmp (data + 1, BROKER_GROUPS_PREFIX, prefix) != 0))
        return false;
    char group [ZCH_TOPIC_MAX + 1], pattern [ZCH_TOPIC_MAX + 1], address [ZCH_TOPIC_MAX + 1];
    if (s_parse ((const char *) data + 1 + prefix, size - 1 - prefix, group, pattern, address)) {
        self->refused++;
        zch_warning ("broker: malformed queue membership ignored (%llu so far)",
                     (unsigned long long) self->refused);
        return true;
    }
    char key [2 * ZCH_TOPIC_MAX + 2];
    snprintf (key, sizeof key, "%s %s", group, pattern);
    if (slow) {
        s_group_t *group = zhashx_lookup (self->groups, key);
        s_member_t *member = group? s_find (group, address): NULL;
        if (member)
            member->slow = data [0] == 1;
    }
    else
    if (data [0] == 1)
        s_join (self, key, group, pattern, address);
    else
        s_leave (self, key, address);
    return true;
}

typedef struct {
    broker_groups_t *self;
    const char *only;           //  a group-only message: that group's name; NULL: every group
    size_t sent;
    void *egress;
    broker_local_t *local;
    const char *topic;
    size_t topic_len;
    zmq_msg_t *meta;
    zmq_msg_t *payload;
} s_route_t;

//  Trie callback: one addressed copy to the group's member whose turn it is.
static void
s_route_one (void *value, void *arg)
{
    s_group_t *group = value;
    s_route_t *route = arg;
    size_t count = zlistx_size (group->members);
    //  A group named with '$' takes only what is routed to it by name
    if (count == 0 || (route->only && strcmp (group->name, route->only))
    ||  (!route->only && group->name [0] == '$'))
        return;
    if (group->next >= count)
        group->next = 0;
    //  the member whose turn it is, or the next one that is not slow
    s_member_t *member = zlistx_first (group->members);
    for (size_t i = 0; i < group->next; i++)
        member = zlistx_next (group->members);
    s_member_t *chosen = NULL;
    for (size_t tried = 0; tried < count && !chosen; tried++) {
        if (!member->slow)
            chosen = member;
        group->next = (group->next + 1) % count;
        member = zlistx_next (group->members);
        if (!member)
            member = zlistx_first (group->members);
    }
    if (!chosen) {
        //  every member is slow: the turns go on among them
        chosen = member;
        group->next = (group->next + 1) % count;
    }
    const char *address = chosen->address;
    size_t address_len = strlen (address);
    s_copy_t *copy = calloc (1, sizeof *copy);
    if (!copy || zmq_msg_init_size (&copy->frames [0], address_len + 1 + route->topic_len)) {
        free (copy);
        return;
    }
    char *cursor = zmq_msg_data (&copy->frames [0]);
    memcpy (cursor, address, address_len);
    cursor [address_len] = '.';
    memcpy (cursor + address_len + 1, route->topic, route->topic_len);
    zmq_msg_init (&copy->frames [1]);
    zmq_msg_init (&copy->frames [2]);
    zmq_msg_copy (&copy->frames [1], route->meta);
    zmq_msg_copy (&copy->frames [2], route->payload);
    //  The TCP egress: the member may be on another front-end
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int i = 0; i < 3; i++) {
        zmq_msg_copy (&frame, &copy->frames [i]);
        zmq_msg_send (&frame, route->egress, i < 2? ZMQ_SNDMORE: 0);
    }
    zmq_msg_close (&frame);
    //  The local egress, in order behind what waits for it
    if (route->local) {
        zlistx_add_end (route->self->waiting, copy);
        broker_groups_flush (route->self, route->local);
    }
    else {
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&copy->frames [i]);
        free (copy);
    }
    route->self->routed++;
    route->sent++;
}

void
broker_groups_route (broker_groups_t *self, void *egress, broker_local_t *local,
                     const char *topic, size_t topic_len, zmq_msg_t *meta, zmq_msg_t *payload)
{
    if (self->members == 0)
        return;
    s_route_t route = {
        .self = self, .egress = egress, .local = local, .topic = topic, .topic_len = topic_len,
        .meta = meta, .payload = payload
    };
    zch_trie_match (self->trie, topic, topic_len, s_route_one, &route);
}

void
broker_groups_flush (broker_groups_t *self, broker_local_t *local)
{
    s_copy_t *copy;
    while ((copy = zlistx_first (self->waiting)) && !broker_local_holding (local)) {
        //  taken over either way: sent, or held by local until it flushes
        broker_local_send (local, copy->frames, 3);
        zlistx_delete (self->waiting, zlistx_cursor (self->waiting));
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&copy->frames [i]);
        free (copy);
    }
}

bool
broker_groups_holding (broker_groups_t *self)
{
    return zlistx_size (self->waiting) > 0;
}

//  The group named by the meta's "zch-route": "queue <group>" header, into
//  name (NUL-terminated). Returns 0, or -1 when there is none.
static int
s_route_header (const uint8_t *meta, size_t meta_size, char *name, size_t name_cap)
{
    const uint8_t *headers;
    size_t headers_size;
    if (zch_headers_in_meta (meta, meta_size, &headers, &headers_size))
        return -1;
    zch_mpread_t reader;
    uint32_t count;
    zch_mpread_init (&reader, headers, headers_size);
    if (zch_mpread_map (&reader, &count))
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *value;
        size_t key_len, value_len;
        if (zch_mpread_str (&reader, &key, &key_len) || zch_mpread_str (&reader, &value, &value_len))
            return -1;
        if (key_len == 9 && memcmp (key, "zch-route", 9) == 0) {
            if (value_len <= 6 || value_len - 6 >= name_cap || memcmp (value, "queue ", 6) != 0)
                return -1;
            memcpy (name, value + 6, value_len - 6);
            name [value_len - 6] = 0;
            return 0;
        }
    }
    return -1;
}

bool
broker_groups_route_only (broker_groups_t *self, void *egress, broker_local_t *local,
                          const char *topic, size_t topic_len, const uint8_t *meta_data,
                          size_t meta_size, zmq_msg_t *meta, zmq_msg_t *payload)
{
    char name [BROKER_GROUP_MAX + 1];
    if (s_route_header (meta_data, meta_size, name, sizeof name))
        return false;
    s_route_t route = {
        .self = self, .only = name, .egress = egress, .local = local,
        .topic = topic, .topic_len = topic_len,
        .meta = meta, .payload = payload
    };
    zch_trie_match (self->trie, topic, topic_len, s_route_one, &route);
    if (route.sent == 0) {
        //  as a publish nobody follows: nothing to deliver; logged once a second
        self->unrouted++;
        int64_t now = zclock_mono ();
        if (now - self->unrouted_logged_at >= 1000) {
            self->unrouted_logged_at = now;
            zch_info ("broker: no member of queue group %s on %.*s (group-only messages with "
                      "no member: %llu)", name, (int) topic_len, topic,
                      (unsigned long long) self->unrouted);
        }
    }
    return true;
}

uint64_t
broker_groups_unrouted (broker_groups_t *self)
{
    return self->unrouted;
}

size_t
broker_groups_members (broker_groups_t *self)
{
    return self->members;
}

uint64_t
broker_groups_routed (broker_groups_t *self)
{
    return self->routed;
}
