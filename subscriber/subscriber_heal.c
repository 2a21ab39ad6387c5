/*  subscriber_heal: gap healing on the broker link.                         */
#include "subscriber_heal_private.h"
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_log.h"
#include "zch_topic.h"

#include <czmq.h>

size_t
subscriber_heal_held_free_all (topic_t *topic)
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
        subscriber_heal_held_free_all (topic);
        free (topic);
    }
    *item = NULL;
}

//  Frees a request record; its answers, if any come, are ignored.
static void
s_request_free (void **item)
{
    request_t *request = *item;
    if (request) {
        if (request->handle)
            subscriber_control_cancel (request->heal->control, request->handle);
        if (request->topic && request->topic->healing == request)
            request->topic->healing = NULL;
        if (request->prime && request->prime->request == request)
            request->prime->request = NULL;
        free (request);
    }
    *item = NULL;
}

static void
s_prime_free (void **item)
{
    prime_t *prime = *item;
    if (prime && prime->request)
        prime->request->prime = NULL;
    free (prime);
    *item = NULL;
}

subscriber_heal_t *
subscriber_heal_new (subscriber_control_t *control, const subscriber_heal_handlers_t *handlers, void *ctx)
{
    subscriber_heal_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->control = control;
    self->handlers = handlers;
    self->ctx = ctx;
    self->topics = zhashx_new ();
    self->requests = zlistx_new ();
    self->primes = zlistx_new ();
    if (!self->topics || !self->requests || !self->primes) {
        subscriber_heal_destroy (&self);
        return NULL;
    }
    zhashx_set_key_duplicator (self->topics, NULL);
    zhashx_set_key_destructor (self->topics, NULL);
    zhashx_set_destructor (self->topics, s_topic_free);
    zlistx_set_destructor (self->requests, s_request_free);
    zlistx_set_destructor (self->primes, s_prime_free);
    return self;
}

void
subscriber_heal_destroy (subscriber_heal_t **self_p)
{
    subscriber_heal_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->requests);
    zhashx_destroy (&self->topics);
    zlistx_destroy (&self->primes);
    free (self);
    *self_p = NULL;
}

const subscriber_heal_stats_t *
subscriber_heal_stats (subscriber_heal_t *self)
{
    return &self->stats;
}

//  Looks topic up. Returns NULL when it is unknown.
topic_t *
subscriber_heal_topic_find (subscriber_heal_t *self, const char *name, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return NULL;
    memcpy (key, name, len);
    key [len] = 0;
    return zhashx_lookup (self->topics, key);
}

//  A prime's seq is where the topic starts, not a delivery: while that one
//  may still come live (edge), the last delivered is the one before.
uint64_t
subscriber_heal_last_seq (subscriber_heal_t *self, const char *topic, size_t len)
{
    topic_t *entry = subscriber_heal_topic_find (self, topic, len);
    if (!entry)
        return 0;
    return entry->edge && entry->edge == entry->last? entry->last - 1: entry->last;
}

void
subscriber_heal_settle (subscriber_heal_t *self, uint64_t round)
{
    zlistx_t *tails = NULL;
    for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics)) {
        if (topic->edge && topic->edge_round <= round) {
            topic->edge = 0;
            topic->fresh = false;
        }
        if (topic->owed && topic->owed_round <= round) {
            //  Healed after the walk: a heal may change the table (out
            //  of memory, the next round takes it)
            if (!tails)
                tails = zlistx_new ();
            if (tails)
                zlistx_add_end (tails, topic);
        }
    }
    for (topic_t *topic = tails? zlistx_first (tails): NULL; topic; topic = zlistx_next (tails)) {
        uint64_t owed = topic->owed;
        topic->owed = 0;
        subscriber_heal_tail (self, topic, owed);
    }
    zlistx_destroy (&tails);
}

//  Asks for a barrier round covering the edges set since the last one: a
//  barrier subscribed after their SEQ answers came back only after the
//  broker's stream has passed them.
static void
s_edges_round (subscriber_heal_t *self)
{
    if (!self->edges_new)
        return;
    self->edges_new = false;
    self->edge_round++;
    if (self->handlers->barrier)
        self->handlers->barrier (self->ctx, self->edge_round);
    else
        subscriber_heal_settle (self, self->edge_round);
}

static const subscriber_control_handlers_t s_request_handlers;

//  Sends a request of count tokens over the control link. Returns its
//  record, or NULL.
request_t *
subscriber_heal_request_send (subscriber_heal_t *self, request_kind_t kind, const char *const *tokens,
                              const size_t *sizes, size_t count)
{
    request_t *request = calloc (1, sizeof *request);
    if (!request)
        return NULL;
    request->heal = self;
    request->kind = kind;
    request->item = zlistx_add_end (self->requests, request);
    request->handle = request->item? subscriber_control_request (self->control, tokens, sizes, count,
                                                                 &s_request_handlers, request): NULL;
    if (!request->handle) {
        if (request->item)
            zlistx_delete (self->requests, request->item);
        else
            free (request);
        return NULL;
    }
    return request;
}

//  Sends the request for seqs from..to of topic. topic->healing says
//  whether it went.
static void
s_heal_send (subscriber_heal_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    char from_text [24 + ZCH_EPOCH_TEXT_MAX + 1], to_text [24];
    char epoch [ZCH_EPOCH_TEXT_MAX + 1];
    snprintf (from_text, sizeof from_text, "%llu", (unsigned long long) (from - 1));
    if (topic->epoch && zch_epoch_format (topic->epoch, epoch))
        snprintf (from_text, sizeof from_text, "%llu@%s", (unsigned long long) (from - 1), epoch);
    snprintf (to_text, sizeof to_text, "%llu", (unsigned long long) to);
    const char *tokens [] = { "HEAL", topic->name, from_text, to_text };
    size_t sizes [] = { 4, topic->name_len, strlen (from_text), strlen (to_text) };
    topic->heal_to = to;
    topic->healing = subscriber_heal_request_send (self, REQUEST_HEAL, tokens, sizes, 4);
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

//  Asks the broker for seqs from..to of topic, now or, when too many
//  requests are in flight, once one ends. Either way the topic holds its
//  live messages until the answer is in.
void
subscriber_heal_heal_start (subscriber_heal_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    self->stats.gaps++;
    self->suspect = true;       //  a link that drops may also have dropped tails
    if (self->heals < HEAL_HEALS_MAX) {
        s_heal_send (self, topic, from, to);
        return;
    }
    //  The range is worked out again when its turn comes
    topic->waiting = true;
    topic->heal_to = to;
    topic->next_waiting = NULL;
    if (self->waiting_tail)
        self->waiting_tail->next_waiting = topic;
    else
        self->waiting = topic;
    self->waiting_tail = topic;
}

//  Reports seqs from..to of topic as lost.
void
subscriber_heal_lost (subscriber_heal_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    self->stats.lost += to - from + 1;
    int64_t now = zclock_mono ();
    if (now - self->lost_logged_at >= 1000) {
        zch_warning ("subscriber: lost %s %llu-%llu: no longer in the broker's history; "
                     "%llu messages lost since the last report", topic->name,
                     (unsigned long long) from, (unsigned long long) to,
                     (unsigned long long) (self->stats.lost - self->lost_logged));
        self->lost_logged_at = now;
        self->lost_logged = self->stats.lost;
    }
    self->handlers->gap (self->ctx, topic->name, topic->name_len, from, to);
}

//  Delivers what topic held, in order, until it is empty or shows
//  another gap (which starts another heal).
static void
s_held_flush (subscriber_heal_t *self, topic_t *topic)
{
    while (topic->held && !topic->healing && !topic->waiting) {
        held_t *held = topic->held;
        if (held->seq > topic->last + 1 && topic->last > 0) {
            subscriber_heal_heal_start (self, topic, topic->last + 1, held->seq - 1);
            if (topic->healing || topic->waiting)
                return;
            subscriber_heal_lost (self, topic, topic->last + 1, held->seq - 1);
        }
        topic->held = held->next;
        if (!topic->held)
            topic->held_tail = NULL;
        topic->held_count--;
        self->held_bytes -= held->size;
        if (held->seq > topic->last) {
            topic->last = held->seq;
            topic->fresh = false;
            self->handlers->deliver (self->ctx, topic->name, topic->name_len, held->seq,
                                     held->payload, held->size);
        }
        free (held);
    }
}

//  Holds a live message of a healing topic. Past the limit it is dropped:
//  the seq jump it leaves is healed in turn.
static void
s_hold (subscriber_heal_t *self, topic_t *topic, uint64_t seq, const char *payload, size_t size)
{
    held_t *held = topic->held_count < HEAL_HOLD_MAX && self->held_bytes + size <= HEAL_HOLD_BYTES?
                   malloc (sizeof *held + size): NULL;
    if (!held) {
        //  A later seq shows the jump; at the end of a burst only a check can
        self->stats.held_dropped++;
        self->suspect = true;
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

//  Starts tracking a topic whose last seq delivered is last. Returns it,
//  or NULL when out of memory.
topic_t *
subscriber_heal_topic_new (subscriber_heal_t *self, const char *name, size_t len, uint64_t last)
{
    topic_t *topic = calloc (1, sizeof *topic + len + 1);
    if (!topic)
        return NULL;
    memcpy (topic->name, name, len);
    topic->name_len = len;
    topic->last = last;
    if (zhashx_insert (self->topics, topic->name, topic)) {
        free (topic);
        return NULL;
    }
    return topic;
}

bool
subscriber_heal_live (subscriber_heal_t *self, const char *name, size_t len,
                      uint64_t seq, uint64_t epoch, const char *payload, size_t payload_len)
{
    subscriber_heal_broker_epoch (self, epoch);
    topic_t *topic = subscriber_heal_topic_find (self, name, len);
    if (!topic) {
        //  Under a primed prefix a new topic owes every seq from 1
        topic = subscriber_heal_topic_new (self, name, len, subscriber_heal_primed (self, name, len) || seq == 0? 0: seq - 1);
        if (!topic)
            return true;
        topic->epoch = epoch;
    }
    else
    if (epoch && topic->epoch && epoch != topic->epoch)
        subscriber_heal_topic_reset (self, topic, epoch);     //  seq goes on from 1 in the new epoch
    else
    if (!topic->epoch)
        topic->epoch = epoch;
    if (topic->healing || topic->held || topic->waiting) {
        if (seq > topic->last)
            s_hold (self, topic, seq, payload, payload_len);
        return false;
    }
    if (seq == topic->last + 1) {
        topic->last = seq;
        topic->edge = 0;
        topic->fresh = false;
        return true;
    }
    if (topic->fresh && seq <= topic->last) {
        //  Published after the prefix went live, before the prime was
        //  answered: the topic starts here, not at the prime's seq
        topic->last = seq;
        topic->edge = 0;
        topic->fresh = false;
        return true;
    }
    if (seq <= topic->last) {
        //  Already delivered by a heal (a check heals up to the seq the
        //  broker gave, which may still come live); or, seq 1 without an
        //  epoch, a broker that started afresh (with one, that is a reset)
        if (seq > 1 || epoch)
            return false;
        topic->last = seq;
        return true;
    }
    s_hold (self, topic, seq, payload, payload_len);
    subscriber_heal_heal_start (self, topic, topic->last + 1, seq - 1);
    if (!topic->healing && !topic->waiting) {
        subscriber_heal_lost (self, topic, topic->last + 1, seq - 1);
        s_held_flush (self, topic);
    }
    return false;
}

//  One message of a HEAL answer.
static void
s_heal_message (subscriber_heal_t *self, topic_t *topic, uint64_t seq,
                const char *payload, size_t size)
{
    if (seq <= topic->last || seq > topic->heal_to)
        return;
    if (seq > topic->last + 1)
        subscriber_heal_lost (self, topic, topic->last + 1, seq - 1);
    topic->last = seq;
    topic->fresh = false;
    self->stats.healed++;
    self->handlers->deliver (self->ctx, topic->name, topic->name_len, seq, payload, size);
}

//  Sends the requests of waiting topics while there is room.
static void
s_heal_pump (subscriber_heal_t *self)
{
    while (self->waiting && self->heals < HEAL_HEALS_MAX) {
        topic_t *topic = self->waiting;
        self->waiting = topic->next_waiting;
        if (!self->waiting)
            self->waiting_tail = NULL;
        topic->waiting = false;
        topic->next_waiting = NULL;
        //  Live messages may have come meanwhile: the gap ends before the first
        uint64_t to = topic->held && topic->held->seq - 1 < topic->heal_to?
                      topic->held->seq - 1: topic->heal_to;
        if (to > topic->last) {
            s_heal_send (self, topic, topic->last + 1, to);
            if (!topic->healing)
                subscriber_heal_lost (self, topic, topic->last + 1, to);
        }
        s_held_flush (self, topic);
    }
}

//  Takes topic off the waiting list.
void
subscriber_heal_waiting_remove (subscriber_heal_t *self, topic_t *topic)
{
    topic_t **link = &self->waiting;
    self->waiting_tail = NULL;
    while (*link) {
        if (*link == topic)
            *link = topic->next_waiting;
        else {
            self->waiting_tail = *link;
            link = &(*link)->next_waiting;
        }
    }
    topic->waiting = false;
    topic->next_waiting = NULL;
}

//  The end of a HEAL answer (or its failure): what did not come is lost;
//  then what was held goes out, and waiting topics get their turn.
static void
s_heal_end (subscriber_heal_t *self, topic_t *topic)
{
    topic->healing = NULL;
    self->heals--;
    if (topic->last < topic->heal_to) {
        subscriber_heal_lost (self, topic, topic->last + 1, topic->heal_to);
        topic->last = topic->heal_to;
    }
    s_held_flush (self, topic);
    s_heal_pump (self);
}

//  A request ended: with its END (a, b, reset and epoch as in the END
//  frames), or failed (complete false). Frees it.
static void
s_on_end (void *arg, bool complete, uint64_t a, uint64_t b, bool reset, uint64_t epoch)
{
    (void) a, (void) b, (void) reset;
    request_t *request = arg;
    subscriber_heal_t *self = request->heal;
    request->handle = NULL;     //  the link is done with it
    if (request->kind == REQUEST_HEAL) {
        if (request->topic) {
            topic_t *topic = request->topic;
            request->topic = NULL;
            s_heal_end (self, topic);
        }
        else
            self->heals--;      //  its topic was forgotten meanwhile
    }
    else
    if (request->prime) {
        request->prime->request = NULL;
        if (request->kind == REQUEST_PRIME)
            request->prime->done = complete;
        else
        if (complete)
            subscriber_heal_sweep (self, request->prime, epoch);
    }
    //  A check or a prime that failed goes again at the next quiet moment
    if (request->kind != REQUEST_HEAL && !complete)
        self->suspect = true;
    s_edges_round (self);
    zlistx_delete (self->requests, request->item);
}

//  One message of a HEAL answer. A healed message of another epoch than
//  its topic's is not the one missing.
static void
s_on_message (void *arg, const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch,
              const char *payload, size_t payload_len)
{
    (void) topic, (void) topic_len;
    request_t *request = arg;
    if (request->topic && (!epoch || !request->topic->epoch || epoch == request->topic->epoch))
        s_heal_message (request->heal, request->topic, seq, payload, payload_len);
}

//  One SEQ of a prime's or a check's answer: a topic and its seq now.
static void
s_on_seq (void *arg, const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch)
{
    request_t *request = arg;
    if (request->prime && topic_len <= ZCH_TOPIC_MAX)
        subscriber_heal_seq (request->heal, request->kind, topic, topic_len, seq, epoch);
}

static const subscriber_control_handlers_t s_request_handlers = {
    .message = s_on_message, .seq = s_on_seq, .end = s_on_end
};

int
subscriber_heal_move (subscriber_heal_t *self, const char *from, const char *to,
                      char *error, size_t error_size)
{
    //  Heals in flight are asked again of the new broker (it shares the
    //  order and history): taken off the link before it fails what else
    //  was asked of the old one
    zlistx_t *again = zlistx_new ();
    for (request_t *request = zlistx_first (self->requests); request && again;
         request = zlistx_next (self->requests))
        if (request->kind == REQUEST_HEAL && request->topic)
            zlistx_add_end (again, request->topic);
    for (topic_t *topic = again? zlistx_first (again): NULL; topic; topic = zlistx_next (again)) {
        zlistx_delete (self->requests, topic->healing->item);    //  cancelled on the link
        self->heals--;
    }
    int rc = subscriber_control_move (self->control, from, to, error, error_size);
    for (topic_t *topic = again? zlistx_first (again): NULL; topic; topic = zlistx_next (again)) {
        s_heal_send (self, topic, topic->last + 1, topic->heal_to);
        if (!topic->healing) {
            subscriber_heal_lost (self, topic, topic->last + 1, topic->heal_to);
            topic->last = topic->heal_to;
            s_held_flush (self, topic);
        }
    }
    zlistx_destroy (&again);
    //  A check now would find the topics the new broker has not primed yet
    //  missing there, and reset them: it waits for subscriber_heal_moved
    self->moving = true;
    return rc;
}

void
subscriber_heal_moved (subscriber_heal_t *self)
{
    self->moving = false;
    self->suspect = true;       //  check every topic's seq at the new broker
}
