/*  subscriber_catchup: gap healing and the worker's control link.          */
#include "subscriber_catchup.h"
#include "subscriber_sync.h"
#include "zch_envelope.h"
#include "zch_log.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#include <czmq.h>

#define CATCHUP_HOLD_MAX    100000  //  live messages held per healing topic
#define CATCHUP_HOLD_BYTES  (64 * 1024 * 1024)  //  payload bytes held over all topics
#define CATCHUP_TIMEOUT     10000   //  ms without an answer before a request is given up
#define CATCHUP_MAX_FRAMES  6

typedef struct held_t held_t;
typedef struct request_t request_t;

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
    request_t *healing;         //  the HEAL (or tail probe) in flight, or NULL
    uint64_t heal_to;           //  last seq it asks for (UINT64_MAX: a probe, until its END)
    bool active;                //  on the active list
    topic_t *next_active;
    held_t *held;               //  oldest first
    held_t *held_tail;
    size_t held_count;
    size_t name_len;
    char name [];
};

//  A request in flight, by tag.
struct request_t {
    char tag [24];
    topic_t *topic;             //  a HEAL
    subscriber_sync_t *sync;    //  a client's catch-up; NULL once the client is gone
    bool for_sync;
    int64_t deadline;
};

struct subscriber_catchup_t {
    void *dealer;
    const subscriber_catchup_handlers_t *handlers;
    void *ctx;
    zhashx_t *topics;           //  name -> topic_t (keyed by its own name)
    zhashx_t *requests;         //  tag -> request_t
    uint64_t next_tag;
    topic_t *active;            //  topics with traffic since the last tail probe
    bool suspect;               //  the link dropped since then: probe the tails
    size_t heals;               //  HEALs and probes in flight
    size_t held_bytes;          //  payload bytes held over all topics
    subscriber_catchup_stats_t stats;
};

static size_t
s_held_free_all (topic_t *topic)
{
    size_t bytes = 0;
    while (topic->held) {
        held_t *held = topic->held;
        topic->held = held->next;
        bytes += held->size;
        free (held);
    }
    topic->held_tail = NULL;
    topic->held_count = 0;
    return bytes;
}

static void
s_topic_free (void **item)
{
    topic_t *topic = *item;
    if (topic) {
        if (topic->healing)
            topic->healing->topic = NULL;
        s_held_free_all (topic);
        free (topic);
    }
    *item = NULL;
}

static void
s_request_free (void **item)
{
    free (*item);
    *item = NULL;
}

subscriber_catchup_t *
subscriber_catchup_new (const char *control, const subscriber_catchup_handlers_t *handlers,
                        void *ctx, char *error, size_t error_size)
{
    subscriber_catchup_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->handlers = handlers;
    self->ctx = ctx;
    self->dealer = zmq_socket (zsys_init (), ZMQ_DEALER);
    self->topics = zhashx_new ();
    self->requests = zhashx_new ();
    if (!self->dealer || !self->topics || !self->requests) {
        snprintf (error, error_size, "cannot set up the control link: %s", zmq_strerror (zmq_errno ()));
        subscriber_catchup_destroy (&self);
        return NULL;
    }
    zhashx_set_key_duplicator (self->topics, NULL);
    zhashx_set_key_destructor (self->topics, NULL);
    zhashx_set_destructor (self->topics, s_topic_free);
    zhashx_set_destructor (self->requests, s_request_free);
    zch_zmq_set (self->dealer, ZMQ_LINGER, 0);
    if (zch_zmq_attach (self->dealer, "to broker control", control, false, error, error_size)) {
        subscriber_catchup_destroy (&self);
        return NULL;
    }
    return self;
}

void
subscriber_catchup_destroy (subscriber_catchup_t **self_p)
{
    subscriber_catchup_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->topics);
    zhashx_destroy (&self->requests);
    if (self->dealer)
        zmq_close (self->dealer);
    free (self);
    *self_p = NULL;
}

int
subscriber_catchup_fd (subscriber_catchup_t *self)
{
    return zch_zmq_fd (self->dealer);
}

const subscriber_catchup_stats_t *
subscriber_catchup_stats (subscriber_catchup_t *self)
{
    return &self->stats;
}

//  Looks topic up. Returns NULL when it is unknown.
static topic_t *
s_topic_find (subscriber_catchup_t *self, const char *name, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return NULL;
    memcpy (key, name, len);
    key [len] = 0;
    return zhashx_lookup (self->topics, key);
}

uint64_t
subscriber_catchup_last_seq (subscriber_catchup_t *self, const char *topic, size_t len)
{
    topic_t *entry = s_topic_find (self, topic, len);
    return entry? entry->last: 0;
}

//  Sends a request of count tokens plus a fresh tag. Returns the request
//  record, or NULL.
static request_t *
s_request_send (subscriber_catchup_t *self, const char *const *tokens, const size_t *sizes,
                size_t count)
{
    request_t *request = calloc (1, sizeof *request);
    if (!request)
        return NULL;
    snprintf (request->tag, sizeof request->tag, "%llu", (unsigned long long) ++self->next_tag);
    request->deadline = zclock_mono () + CATCHUP_TIMEOUT;
    for (size_t i = 0; i < count; i++)
        if (zmq_send (self->dealer, tokens [i], sizes [i], ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            //  Only the first part can fail; nothing went
            free (request);
            return NULL;
        }
    zmq_send (self->dealer, request->tag, strlen (request->tag), 0);
    zhashx_insert (self->requests, request->tag, request);
    return request;
}

void *
subscriber_catchup_request (subscriber_catchup_t *self, subscriber_sync_t *sync,
                            const char *const *tokens, const size_t *sizes, size_t count)
{
    request_t *request = s_request_send (self, tokens, sizes, count);
    if (request) {
        request->sync = sync;
        request->for_sync = true;
    }
    return request;
}

void
subscriber_catchup_cancel (subscriber_catchup_t *self, void *handle)
{
    (void) self;
    request_t *request = handle;
    if (request)
        request->sync = NULL;
}

//  Asks the broker for seqs from..to of topic, which now holds its live
//  messages until the answer is in. to UINT64_MAX is a tail probe: a
//  HISTORY of whatever came after from - 1.
static void
s_heal_start (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    char from_text [24], to_text [24];
    snprintf (from_text, sizeof from_text, "%llu", (unsigned long long) (from - 1));
    snprintf (to_text, sizeof to_text, "%llu", (unsigned long long) to);
    bool probe = to == UINT64_MAX;
    const char *tokens [] = { probe? "HISTORY": "HEAL", topic->name, from_text, to_text };
    size_t sizes [] = { strlen (tokens [0]), topic->name_len, strlen (from_text), strlen (to_text) };
    if (!probe) {
        self->stats.gaps++;
        self->suspect = true;   //  a link that drops may also have dropped tails
    }
    topic->heal_to = to;
    topic->healing = s_request_send (self, tokens, sizes, probe? 3: 4);
    if (topic->healing) {
        topic->healing->topic = topic;
        self->heals++;
    }
    else
        zch_warning ("subscriber: cannot ask the broker for %s %llu-%llu",
                     topic->name, (unsigned long long) from, (unsigned long long) to);
    zch_debug ("subscriber: gap on %s: %llu-%llu, asking the history",
               topic->name, (unsigned long long) from, (unsigned long long) to);
}

//  Reports seqs from..to of topic as lost.
static void
s_lost (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    self->stats.lost += to - from + 1;
    zch_warning ("subscriber: lost %s %llu-%llu: no longer in the broker's history",
                 topic->name, (unsigned long long) from, (unsigned long long) to);
    self->handlers->gap (self->ctx, topic->name, topic->name_len, from, to);
}

//  Delivers what topic held, in order, until it is empty or shows
//  another gap (which starts another heal).
static void
s_held_flush (subscriber_catchup_t *self, topic_t *topic)
{
    while (topic->held && !topic->healing) {
        held_t *held = topic->held;
        if (held->seq > topic->last + 1 && topic->last > 0) {
            s_heal_start (self, topic, topic->last + 1, held->seq - 1);
            if (topic->healing)
                return;
            s_lost (self, topic, topic->last + 1, held->seq - 1);
        }
        topic->held = held->next;
        if (!topic->held)
            topic->held_tail = NULL;
        topic->held_count--;
        self->held_bytes -= held->size;
        if (held->seq > topic->last) {
            topic->last = held->seq;
            self->handlers->deliver (self->ctx, topic->name, topic->name_len, held->seq,
                                     held->payload, held->size);
        }
        free (held);
    }
}

//  Holds a live message of a healing topic. Past the limit it is dropped:
//  the seq jump it leaves is healed in turn.
static void
s_hold (subscriber_catchup_t *self, topic_t *topic, uint64_t seq, const char *payload, size_t size)
{
    held_t *held = topic->held_count < CATCHUP_HOLD_MAX && self->held_bytes + size <= CATCHUP_HOLD_BYTES?
                   malloc (sizeof *held + size): NULL;
    if (!held) {
        self->stats.held_dropped++;
        return;
    }
    held->next = NULL;
    held->seq = seq;
    held->size = size;
    if (size)
        memcpy (held->payload, payload, size);
    if (topic->held_tail)
        topic->held_tail->next = held;
    else
        topic->held = held;
    topic->held_tail = held;
    topic->held_count++;
    self->held_bytes += size;
}

//  Puts topic on the list of topics with traffic since the last probe.
static void
s_active (subscriber_catchup_t *self, topic_t *topic)
{
    if (!topic->active) {
        topic->active = true;
        topic->next_active = self->active;
        self->active = topic;
    }
}

//  Takes every topic off the active list.
static void
s_active_clear (subscriber_catchup_t *self)
{
    while (self->active) {
        topic_t *topic = self->active;
        self->active = topic->next_active;
        topic->active = false;
        topic->next_active = NULL;
    }
}

bool
subscriber_catchup_live (subscriber_catchup_t *self, const char *name, size_t len,
                         uint64_t seq, const char *payload, size_t payload_len)
{
    topic_t *topic = s_topic_find (self, name, len);
    if (topic)
        s_active (self, topic);
    else {
        topic = calloc (1, sizeof *topic + len + 1);
        if (!topic)
            return true;
        memcpy (topic->name, name, len);
        topic->name_len = len;
        if (zhashx_insert (self->topics, topic->name, topic)) {
            free (topic);
            return true;
        }
        topic->last = seq;
        s_active (self, topic);
        return true;
    }
    if (topic->healing || topic->held) {
        if (seq > topic->last)
            s_hold (self, topic, seq, payload, payload_len);
        return false;
    }
    if (seq == topic->last + 1) {
        topic->last = seq;
        return true;
    }
    if (seq <= topic->last) {
        //  Already delivered by a probe; or, seq 1, a broker that started afresh
        if (seq > 1)
            return false;
        topic->last = seq;
        return true;
    }
    s_hold (self, topic, seq, payload, payload_len);
    s_heal_start (self, topic, topic->last + 1, seq - 1);
    if (!topic->healing) {
        s_lost (self, topic, topic->last + 1, seq - 1);
        s_held_flush (self, topic);
    }
    return false;
}

//  One message of a HEAL answer.
static void
s_heal_message (subscriber_catchup_t *self, topic_t *topic, uint64_t seq,
                const char *payload, size_t size)
{
    if (seq <= topic->last || seq > topic->heal_to)
        return;
    if (topic->heal_to == UINT64_MAX)
        self->suspect = true;   //  a probe found a lost tail: look again later
    if (seq > topic->last + 1)
        s_lost (self, topic, topic->last + 1, seq - 1);
    topic->last = seq;
    self->stats.healed++;
    self->handlers->deliver (self->ctx, topic->name, topic->name_len, seq, payload, size);
}

//  The end of a HEAL answer (or its timeout): what did not come is lost;
//  then what was held goes out.
static void
s_heal_end (subscriber_catchup_t *self, topic_t *topic, uint64_t end)
{
    topic->healing = NULL;
    self->heals--;
    if (topic->heal_to == UINT64_MAX)
        topic->heal_to = end > topic->last? end: topic->last;
    if (topic->last < topic->heal_to) {
        s_lost (self, topic, topic->last + 1, topic->heal_to);
        topic->last = topic->heal_to;
    }
    s_held_flush (self, topic);
}

//  Parses a decimal number frame. Returns 0 if it is none.
static uint64_t
s_number (zmq_msg_t *frame)
{
    char text [24];
    size_t size = zmq_msg_size (frame);
    if (size == 0 || size >= sizeof text)
        return 0;
    memcpy (text, zmq_msg_data (frame), size);
    text [size] = 0;
    return strtoull (text, NULL, 10);
}

//  Handles one answer from the broker, held in frames.
static void
s_answer (subscriber_catchup_t *self, zmq_msg_t *frames, size_t count)
{
    char tag [24];
    size_t tag_size = count >= 2? zmq_msg_size (&frames [1]): 0;
    if (count < 2 || tag_size == 0 || tag_size >= sizeof tag)
        return;                 //  ERR without a tag: the request times out
    memcpy (tag, zmq_msg_data (&frames [1]), tag_size);
    tag [tag_size] = 0;
    request_t *request = zhashx_lookup (self->requests, tag);
    if (!request)
        return;
    request->deadline = zclock_mono () + CATCHUP_TIMEOUT;
    const char *kind = zmq_msg_data (&frames [0]);
    size_t kind_size = zmq_msg_size (&frames [0]);
    zch_meta_t meta;
    if (kind_size == 3 && memcmp (kind, "MSG", 3) == 0 && count == 5
    &&  zch_meta_decode (zmq_msg_data (&frames [3]), zmq_msg_size (&frames [3]), &meta) == 0) {
        const char *topic = zmq_msg_data (&frames [2]);
        size_t topic_len = zmq_msg_size (&frames [2]);
        const char *payload = zmq_msg_data (&frames [4]);
        size_t payload_len = zmq_msg_size (&frames [4]);
        if (request->topic)
            s_heal_message (self, request->topic, meta.seq, payload, payload_len);
        else
        if (request->sync)
            subscriber_sync_on_message (request->sync, topic, topic_len, meta.seq, payload, payload_len);
        return;
    }
    if (kind_size == 3 && memcmp (kind, "END", 3) == 0 && count == 5) {
        bool complete = zmq_msg_size (&frames [2]) == 2
                     && memcmp (zmq_msg_data (&frames [2]), "OK", 2) == 0;
        if (request->topic)
            //  A probe's END says up to where the history went (frame 4)
            s_heal_end (self, request->topic, s_number (&frames [4]));
        else
        if (!request->for_sync)
            self->heals--;      //  its topic was forgotten meanwhile
        else
        if (request->sync) {
            subscriber_sync_on_end (request->sync, complete, s_number (&frames [3]), s_number (&frames [4]));
            self->handlers->sync_ended (self->ctx);
        }
        zhashx_delete (self->requests, tag);
    }
}

//  Gives up on requests the broker has not answered in time.
static void
s_expire (subscriber_catchup_t *self)
{
    int64_t now = zclock_mono ();
    zlistx_t *expired = NULL;
    for (request_t *request = zhashx_first (self->requests); request;
         request = zhashx_next (self->requests))
        if (now > request->deadline) {
            if (!expired)
                expired = zlistx_new ();
            if (expired)
                zlistx_add_end (expired, request);
        }
    if (!expired)
        return;
    for (request_t *request = zlistx_first (expired); request; request = zlistx_next (expired)) {
        zch_warning ("subscriber: the broker did not answer request %s in time", request->tag);
        if (request->topic)
            s_heal_end (self, request->topic, 0);
        else
        if (!request->for_sync)
            self->heals--;
        else
        if (request->sync) {
            subscriber_sync_on_end (request->sync, false, 0, 0);
            self->handlers->sync_ended (self->ctx);
        }
        zhashx_delete (self->requests, request->tag);
    }
    zlistx_destroy (&expired);
}

void
subscriber_catchup_drain (subscriber_catchup_t *self)
{
    while (true) {
        zmq_msg_t frames [CATCHUP_MAX_FRAMES];
        size_t count = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *frame = &frames [count < CATCHUP_MAX_FRAMES? count: CATCHUP_MAX_FRAMES - 1];
            if (count >= CATCHUP_MAX_FRAMES)
                zmq_msg_close (frame);
            zmq_msg_init (frame);
            if (zmq_msg_recv (frame, self->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (frame);
                for (size_t i = 0; i < count && i < CATCHUP_MAX_FRAMES; i++)
                    zmq_msg_close (&frames [i]);
                if (zhashx_size (self->requests))
                    s_expire (self);
                return;
            }
            more = zmq_msg_more (frame);
            count++;
        }
        size_t held = count < CATCHUP_MAX_FRAMES? count: CATCHUP_MAX_FRAMES;
        s_answer (self, frames, held);
        for (size_t i = 0; i < held; i++)
            zmq_msg_close (&frames [i]);
    }
}

void
subscriber_catchup_quiet (subscriber_catchup_t *self)
{
    if (!self->suspect || self->heals > 0)
        return;
    //  Drops at the end of a burst leave no later seq to show them: ask
    //  the history what came after the last seq of every busy topic
    self->suspect = false;
    for (topic_t *topic = self->active; topic; topic = topic->next_active)
        if (!topic->healing && !topic->held) {
            self->stats.probes++;
            s_heal_start (self, topic, topic->last + 1, UINT64_MAX);
        }
    s_active_clear (self);
}

void
subscriber_catchup_forget_prefix (subscriber_catchup_t *self, const char *prefix, size_t len)
{
    s_active_clear (self);
    zlistx_t *gone = zlistx_new ();
    if (!gone)
        return;
    for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics))
        if (topic->name_len >= len && memcmp (topic->name, prefix, len) == 0)
            zlistx_add_end (gone, topic->name);
    for (const char *name = zlistx_first (gone); name; name = zlistx_next (gone)) {
        topic_t *topic = zhashx_lookup (self->topics, name);
        self->held_bytes -= s_held_free_all (topic);
        zhashx_delete (self->topics, name);
    }
    zlistx_destroy (&gone);
}
