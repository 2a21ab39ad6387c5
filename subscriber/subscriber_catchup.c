/*  subscriber_catchup: gap healing and the worker's control link.          */
#include "subscriber_catchup_private.h"
#include "subscriber_sync.h"
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_log.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#include <czmq.h>

size_t
subscriber_catchup_held_free_all (topic_t *topic)
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
        subscriber_catchup_held_free_all (topic);
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

static void
s_prime_free (void **item)
{
    prime_t *prime = *item;
    if (prime && prime->request)
        prime->request->prime = NULL;
    free (prime);
    *item = NULL;
}

subscriber_catchup_t *
subscriber_catchup_new (const char *control, const zch_secure_config_t *secure,
                        const subscriber_catchup_handlers_t *handlers,
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
    self->primes = zlistx_new ();
    if (!self->dealer || !self->topics || !self->requests || !self->primes) {
        snprintf (error, error_size, "cannot set up the control link: %s", zmq_strerror (zmq_errno ()));
        subscriber_catchup_destroy (&self);
        return NULL;
    }
    zhashx_set_key_duplicator (self->topics, NULL);
    zhashx_set_key_destructor (self->topics, NULL);
    zhashx_set_destructor (self->topics, s_topic_free);
    zhashx_set_destructor (self->requests, s_request_free);
    zlistx_set_destructor (self->primes, s_prime_free);
    zch_zmq_set (self->dealer, ZMQ_LINGER, 0);
    if (zch_secure_curve (secure, self->dealer, error, error_size)
    ||  zch_zmq_attach (self->dealer, "to broker control", control, false, error, error_size)) {
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
    zlistx_destroy (&self->primes);
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
topic_t *
subscriber_catchup_topic_find (subscriber_catchup_t *self, const char *name, size_t len)
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
subscriber_catchup_last_seq (subscriber_catchup_t *self, const char *topic, size_t len)
{
    topic_t *entry = subscriber_catchup_topic_find (self, topic, len);
    if (!entry)
        return 0;
    return entry->edge && entry->edge == entry->last? entry->last - 1: entry->last;
}

void
subscriber_catchup_settle (subscriber_catchup_t *self, uint64_t round)
{
    for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics))
        if (topic->edge && topic->edge_round <= round) {
            topic->edge = 0;
            topic->fresh = false;
        }
}

//  Asks for a barrier round covering the edges set since the last one: a
//  barrier subscribed after their SEQ answers came back only after the
//  broker's stream has passed them.
static void
s_edges_round (subscriber_catchup_t *self)
{
    if (!self->edges_new)
        return;
    self->edges_new = false;
    self->edge_round++;
    if (self->handlers->barrier)
        self->handlers->barrier (self->ctx, self->edge_round);
    else
        subscriber_catchup_settle (self, self->edge_round);
}

//  Sends a request of count tokens plus a fresh tag. Returns the request
//  record, or NULL.
request_t *
subscriber_catchup_request_send (subscriber_catchup_t *self, const char *const *tokens, const size_t *sizes,
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
    request_t *request = subscriber_catchup_request_send (self, tokens, sizes, count);
    if (request) {
        request->sync = sync;
        request->kind = REQUEST_SYNC;
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

//  Sends the request for seqs from..to of topic. topic->healing says
//  whether it went.
static void
s_heal_send (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to)
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
    topic->healing = subscriber_catchup_request_send (self, tokens, sizes, 4);
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
subscriber_catchup_heal_start (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to)
{
    self->stats.gaps++;
    self->suspect = true;       //  a link that drops may also have dropped tails
    if (self->heals < CATCHUP_HEALS_MAX) {
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
subscriber_catchup_lost (subscriber_catchup_t *self, topic_t *topic, uint64_t from, uint64_t to)
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
s_held_flush (subscriber_catchup_t *self, topic_t *topic)
{
    while (topic->held && !topic->healing && !topic->waiting) {
        held_t *held = topic->held;
        if (held->seq > topic->last + 1 && topic->last > 0) {
            subscriber_catchup_heal_start (self, topic, topic->last + 1, held->seq - 1);
            if (topic->healing || topic->waiting)
                return;
            subscriber_catchup_lost (self, topic, topic->last + 1, held->seq - 1);
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
s_hold (subscriber_catchup_t *self, topic_t *topic, uint64_t seq, const char *payload, size_t size)
{
    held_t *held = topic->held_count < CATCHUP_HOLD_MAX && self->held_bytes + size <= CATCHUP_HOLD_BYTES?
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
subscriber_catchup_topic_new (subscriber_catchup_t *self, const char *name, size_t len, uint64_t last)
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
subscriber_catchup_live (subscriber_catchup_t *self, const char *name, size_t len,
                         uint64_t seq, uint64_t epoch, const char *payload, size_t payload_len)
{
    subscriber_catchup_broker_epoch (self, epoch);
    topic_t *topic = subscriber_catchup_topic_find (self, name, len);
    if (!topic) {
        //  Under a primed prefix a new topic owes every seq from 1
        topic = subscriber_catchup_topic_new (self, name, len, subscriber_catchup_primed (self, name, len) || seq == 0? 0: seq - 1);
        if (!topic)
            return true;
        topic->epoch = epoch;
    }
    else
    if (epoch && topic->epoch && epoch != topic->epoch)
        subscriber_catchup_topic_reset (self, topic, epoch);     //  seq goes on from 1 in the new epoch
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
    subscriber_catchup_heal_start (self, topic, topic->last + 1, seq - 1);
    if (!topic->healing && !topic->waiting) {
        subscriber_catchup_lost (self, topic, topic->last + 1, seq - 1);
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
    if (seq > topic->last + 1)
        subscriber_catchup_lost (self, topic, topic->last + 1, seq - 1);
    topic->last = seq;
    topic->fresh = false;
    self->stats.healed++;
    self->handlers->deliver (self->ctx, topic->name, topic->name_len, seq, payload, size);
}

//  Sends the requests of waiting topics while there is room.
static void
s_heal_pump (subscriber_catchup_t *self)
{
    while (self->waiting && self->heals < CATCHUP_HEALS_MAX) {
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
                subscriber_catchup_lost (self, topic, topic->last + 1, to);
        }
        s_held_flush (self, topic);
    }
}

//  Takes topic off the waiting list.
void
subscriber_catchup_waiting_remove (subscriber_catchup_t *self, topic_t *topic)
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
s_heal_end (subscriber_catchup_t *self, topic_t *topic)
{
    topic->healing = NULL;
    self->heals--;
    if (topic->last < topic->heal_to) {
        subscriber_catchup_lost (self, topic, topic->last + 1, topic->heal_to);
        topic->last = topic->heal_to;
    }
    s_held_flush (self, topic);
    s_heal_pump (self);
}

//  Parses an epoch frame. Returns 0 if it is none.
static uint64_t
s_epoch (zmq_msg_t *frame)
{
    uint64_t epoch = 0;
    zch_epoch_parse (zmq_msg_data (frame), zmq_msg_size (frame), &epoch);
    return epoch;
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

//  A request ended: with its END (a, b, reset and epoch as in the END
//  frames), or failed (complete false, a = b = 0). Frees it.
static void
s_request_done (subscriber_catchup_t *self, request_t *request, bool complete, uint64_t a, uint64_t b,
                bool reset, uint64_t epoch)
{
    if (request->kind == REQUEST_HEAL) {
        if (request->topic)
            s_heal_end (self, request->topic);
        else
            self->heals--;      //  its topic was forgotten meanwhile
    }
    else
    if (request->kind == REQUEST_SYNC) {
        if (request->sync) {
            subscriber_sync_on_end (request->sync, complete, a, b, reset, epoch);
            self->handlers->sync_ended (self->ctx);
        }
    }
    else
    if (request->prime) {
        request->prime->request = NULL;
        if (request->kind == REQUEST_PRIME)
            request->prime->done = complete;
        else
        if (complete)
            subscriber_catchup_sweep (self, request->prime, epoch);
    }
    //  A check or a prime that failed goes again at the next quiet moment
    if ((request->kind == REQUEST_CHECK || request->kind == REQUEST_PRIME) && !complete)
        self->suspect = true;
    if (request->kind == REQUEST_PRIME)
        s_edges_round (self);
    zhashx_delete (self->requests, request->tag);
}

//  Handles one answer from the broker, held in frames.
static void
s_answer (subscriber_catchup_t *self, zmq_msg_t *frames, size_t count)
{
    char tag [24];
    const char *kind = count > 0? zmq_msg_data (&frames [0]): "";
    size_t kind_size = count > 0? zmq_msg_size (&frames [0]): 0;
    bool error = kind_size == 3 && memcmp (kind, "ERR", 3) == 0;
    //  [ERR, reason, tag]; the others [kind, tag, ...]
    size_t tag_at = error? 2: 1;
    size_t tag_size = count > tag_at? zmq_msg_size (&frames [tag_at]): 0;
    if (tag_size == 0 || tag_size >= sizeof tag)
        return;                 //  an ERR without a tag: the request times out
    memcpy (tag, zmq_msg_data (&frames [tag_at]), tag_size);
    tag [tag_size] = 0;
    request_t *request = zhashx_lookup (self->requests, tag);
    if (!request)
        return;
    request->deadline = zclock_mono () + CATCHUP_TIMEOUT;
    zch_meta_t meta;
    if (kind_size == 3 && memcmp (kind, "MSG", 3) == 0 && count == 5
    &&  zch_meta_decode (zmq_msg_data (&frames [3]), zmq_msg_size (&frames [3]), &meta) == 0) {
        const char *topic = zmq_msg_data (&frames [2]);
        size_t topic_len = zmq_msg_size (&frames [2]);
        const char *payload = zmq_msg_data (&frames [4]);
        size_t payload_len = zmq_msg_size (&frames [4]);
        //  A healed message of another epoch than its topic's is not the one missing
        if (request->topic && (!meta.epoch || !request->topic->epoch || meta.epoch == request->topic->epoch))
            s_heal_message (self, request->topic, meta.seq, payload, payload_len);
        else
        if (request->sync)
            subscriber_sync_on_message (request->sync, topic, topic_len, meta.seq, meta.epoch,
                                        payload, payload_len);
        return;
    }
    if (kind_size == 3 && memcmp (kind, "SEQ", 3) == 0 && count >= 4) {
        //  A topic that was there when the prefix went live: its seq then
        const char *topic = zmq_msg_data (&frames [2]);
        size_t topic_len = zmq_msg_size (&frames [2]);
        if (request->prime && topic_len <= ZCH_TOPIC_MAX)
            subscriber_catchup_seq (self, request->kind, topic, topic_len, s_number (&frames [3]),
                   count > 4? s_epoch (&frames [4]): 0);
        return;
    }
    if (error) {
        zch_warning ("subscriber: the broker refused request %s: %.*s", tag,
                     (int) zmq_msg_size (&frames [1]), (const char *) zmq_msg_data (&frames [1]));
        s_request_done (self, request, false, 0, 0, false, 0);
    }
    else
    if (kind_size == 3 && memcmp (kind, "END", 3) == 0 && count >= 5) {
        size_t status_size = zmq_msg_size (&frames [2]);
        const char *status = zmq_msg_data (&frames [2]);
        bool complete = status_size == 2 && memcmp (status, "OK", 2) == 0;
        bool reset = status_size == 5 && memcmp (status, "RESET", 5) == 0;
        s_request_done (self, request, complete, s_number (&frames [3]), s_number (&frames [4]),
                        reset, count > 5? s_epoch (&frames [5]): 0);
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
        s_request_done (self, request, false, 0, 0, false, 0);
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
subscriber_catchup_write (subscriber_catchup_t *self, zch_conn_t *conn, const char *topic,
                          size_t topic_len, uint64_t seq, const char *payload,
                          size_t payload_len, bool processed)
{
    self->handlers->write (self->ctx, conn, topic, topic_len, seq, payload, payload_len, processed);
}

void
subscriber_catchup_notice (subscriber_catchup_t *self, zch_conn_t *conn, const char *code,
                           const char *text)
{
    self->handlers->notice (self->ctx, conn, code, text);
}

int
subscriber_catchup_move (subscriber_catchup_t *self, const char *from, const char *to,
                         char *error, size_t error_size)
{
    if (zch_zmq_move (self->dealer, "to broker control", from, to, error, error_size))
        return -1;
    //  What was asked of the old broker will not be answered: heals are
    //  asked of the new one (it shares the order and history), the rest
    //  end now instead of at their timeout
    zlistx_t *pending = zlistx_new ();
    if (!pending)
        return 0;               //  they time out as before
    for (request_t *request = zhashx_first (self->requests); request;
         request = zhashx_next (self->requests))
        zlistx_add_end (pending, request);
    for (request_t *request = zlistx_first (pending); request; request = zlistx_next (pending)) {
        topic_t *topic = request->kind == REQUEST_HEAL? request->topic: NULL;
        if (topic) {
            topic->healing = NULL;
            self->heals--;
            zhashx_delete (self->requests, request->tag);
            s_heal_send (self, topic, topic->last + 1, topic->heal_to);
        }
        else
            s_request_done (self, request, false, 0, 0, false, 0);
    }
    zlistx_destroy (&pending);
    //  A check now would find the topics the new broker has not primed yet
    //  missing there, and reset them: it waits for subscriber_catchup_moved
    self->moving = true;
    return 0;
}

void
subscriber_catchup_moved (subscriber_catchup_t *self)
{
    self->moving = false;
    self->suspect = true;       //  check every topic's seq at the new broker
}
