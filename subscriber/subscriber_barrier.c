/*  subscriber_barrier: the worker's subscription barriers. A barrier is a
    subscription to "$ack.<worker id>.<number>" made behind others on the
    broker link; the broker answers it at once, and a link keeps its order,
    so its answer proves everything subscribed before it live at the broker:
    a client's pattern (then its +OK, and its catch-up), a queue-group join,
    a catch-up round's edges, a move to another broker, or the link itself
    (the probe: readiness). Part of the worker (subscriber_worker.h).       */
#include "subscriber_worker.h"
#include "subscriber_heal.h"
#include "zch_frame_reply.h"
#include "zch_internal.h"
#include "zch_log.h"

#include <stdatomic.h>

#define SUBSCRIBER_BARRIER_RETRY 1000   //  ms without an answer before a barrier goes again

//  Answers the barriers up to number: their patterns go live, and each
//  client gets its +OK in the order it subscribed.
static void
s_barrier_answered (subscriber_worker_t *self, uint64_t number)
{
    subscriber_barrier_t *barrier;
    while ((barrier = zlistx_first (self->barriers)) && barrier->number <= number) {
        subscriber_client_t *client = barrier->client;
        if (barrier->probe) {
            zch_metrics_set (&self->counters->linked, 1);
            self->probing = false;
        }
        if (barrier->moved)
            subscriber_heal_moved (self->heal);
        if (barrier->settle)
            subscriber_heal_settle (self->heal, barrier->settle);
        if (client && barrier->confirm) {
            client->barriers--;
            subscriber_client_ok (client, 0);
        }
        else
        if (client) {
            size_t len = strlen (barrier->pattern);
            if (zhashx_lookup (client->patterns, barrier->pattern) == SUBSCRIBER_PATTERN_PENDING) {
                if (subscriber_index_add (self->subscriptions, barrier->pattern, len, client) == 0)
                    zhashx_update (client->patterns, barrier->pattern, SUBSCRIBER_PATTERN_ACTIVE);
            }
            client->barriers--;
            if (!self->config->workerman || client->framed)
                subscriber_client_ok (client, barrier->options.verbose?
                                              subscriber_heal_epoch (self->heal): 0);
            if (barrier->options.kind != SUBSCRIBER_SYNC_NONE) {
                client->sync = subscriber_sync_new (self->control, &subscriber_worker_sync_handlers, self, client->conn,
                                                    &barrier->options, barrier->pattern, len,
                                                    self->config->max_output, &client->sync);
                if (!client->sync)
                    subscriber_client_error (client, SUBSCRIBER_E_CATCHUP, "",
                                    "catch-up failed: cannot ask the broker");
            }
        }
        zlistx_delete (self->barriers, zlistx_cursor (self->barriers));
    }
    //  Commands that waited behind the barrier can go on
    zch_worker_resume (ZCH_WORKER (self));
}

//  A broker of another internal envelope version answered the barriers up
//  to number: nothing from it is used. The clients waiting on them are
//  told; the process logs it once.
static void
s_barrier_refused (subscriber_worker_t *self, uint64_t number, const uint8_t *hello, size_t hello_len)
{
    static atomic_bool logged;
    if (!atomic_exchange (&logged, true))
        zch_error ("subscriber: refused the broker at %s: it speaks internal envelope %s%.*s, this "
                   "front-end %s%d; nothing from it is used (run front-ends and broker of one release)",
                   zch_failover_broker (self->failover), hello_len? "": "(none: an older release)",
                   (int) (hello_len < 16? hello_len: 16), (const char *) hello, ZCH_INTERNAL_HELLO,
                   ZCH_INTERNAL_VERSION);
    subscriber_barrier_t *barrier;
    while ((barrier = zlistx_first (self->barriers)) && barrier->number <= number) {
        subscriber_client_t *client = barrier->client;
        if (client) {
            client->barriers--;
            if (!barrier->confirm && client->patterns
            &&  zhashx_lookup (client->patterns, barrier->pattern) == SUBSCRIBER_PATTERN_PENDING)
                subscriber_worker_unsubscribe (self, client, barrier->pattern);
            subscriber_client_error (client, SUBSCRIBER_E_INTERNAL, "",
                                     "the broker speaks another internal envelope version");
        }
        zlistx_delete (self->barriers, zlistx_cursor (self->barriers));
    }
    zch_worker_resume (ZCH_WORKER (self));
}

//  Handles a message on the broker's "$ack." system topics; its meta
//  carries the broker's epoch, its payload the broker's internal envelope
//  version, checked before anything the barrier proves is used.
void
subscriber_barrier_message (subscriber_worker_t *self, const char *topic, size_t topic_len, uint64_t epoch,
                            const uint8_t *payload, size_t payload_len)
{
    char ack_topic [ZCH_TOPIC_MAX + 1];
    size_t prefix_len = strlen (self->ack_prefix);
    if (topic_len <= prefix_len || topic_len > ZCH_TOPIC_MAX
    ||  memcmp (topic, self->ack_prefix, prefix_len) != 0)
        return;                 //  another front-end's barrier
    memcpy (ack_topic, topic, topic_len);
    ack_topic [topic_len] = 0;
    uint64_t number = strtoull (ack_topic + prefix_len, NULL, 10);
    //  Once per time it was subscribed: the SUB counts them
    int sends = 1;
    for (subscriber_barrier_t *barrier = zlistx_first (self->barriers); barrier;
         barrier = zlistx_next (self->barriers))
        if (barrier->number == number)
            sends = barrier->sends;
    for (int i = 0; i < sends; i++)
        zmq_setsockopt (self->upstream, ZMQ_UNSUBSCRIBE, ack_topic, topic_len);
    char hello [16];
    int hello_len = snprintf (hello, sizeof hello, "%s%d", ZCH_INTERNAL_HELLO, ZCH_INTERNAL_VERSION);
    if (payload_len != (size_t) hello_len || memcmp (payload, hello, payload_len) != 0) {
        s_barrier_refused (self, number, payload, payload_len);
        return;
    }
    subscriber_heal_barrier (self->heal, epoch);
    s_barrier_answered (self, number);
}

//  Subscribes again the barriers whose answer has not come for a while:
//  the broker's egress drops at its high-water mark, answers included,
//  and a barrier subscribed again still proves what came before it.
void
subscriber_barrier_retry (subscriber_worker_t *self)
{
    int64_t now = zclock_mono ();
    for (subscriber_barrier_t *barrier = zlistx_first (self->barriers); barrier;
         barrier = zlistx_next (self->barriers)) {
        if (now - barrier->sent_at < SUBSCRIBER_BARRIER_RETRY)
            continue;
        char ack_topic [ZCH_TOPIC_MAX + 1];
        int ack_len = snprintf (ack_topic, sizeof ack_topic, "%s%llu", self->ack_prefix,
                                (unsigned long long) barrier->number);
        zmq_setsockopt (self->upstream, ZMQ_SUBSCRIBE, ack_topic, (size_t) ack_len);
        barrier->sent_at = now;
        barrier->sends++;
    }
}

//  Subscribes barrier's "$ack." topic upstream, behind every subscription
//  made so far, and queues it (taken over).
static void
s_barrier_send (subscriber_worker_t *self, subscriber_barrier_t *barrier)
{
    barrier->number = ++self->next_barrier;
    char ack_topic [ZCH_TOPIC_MAX + 1];
    int ack_len = snprintf (ack_topic, sizeof ack_topic, "%s%llu", self->ack_prefix,
                            (unsigned long long) barrier->number);
    zmq_setsockopt (self->upstream, ZMQ_SUBSCRIBE, ack_topic, (size_t) ack_len);
    barrier->sent_at = zclock_mono ();
    barrier->sends = 1;
    zlistx_add_end (self->barriers, barrier);
}

//  The catch-up needs a barrier behind the SEQ answers it just read: its
//  return settles the round's edges.
void
subscriber_barrier_settle (void *ctx, uint64_t round)
{
    subscriber_worker_t *self = ctx;
    subscriber_barrier_t *barrier = calloc (1, sizeof *barrier);
    if (!barrier) {
        subscriber_heal_settle (self->heal, round);
        return;
    }
    barrier->settle = round;
    s_barrier_send (self, barrier);
}

void
subscriber_barrier_after_move (subscriber_worker_t *self)
{
    //  The previous move's, if still waiting, goes: it would reach the new
    //  broker among the subscriptions, not behind them; so moving on and
    //  on while no broker serves keeps one
    subscriber_barrier_t *waiting = zlistx_first (self->barriers);
    while (waiting) {
        if (waiting->moved) {
            char ack_topic [ZCH_TOPIC_MAX + 1];
            int ack_len = snprintf (ack_topic, sizeof ack_topic, "%s%llu", self->ack_prefix,
                                    (unsigned long long) waiting->number);
            for (int i = 0; i < waiting->sends; i++)
                zmq_setsockopt (self->upstream, ZMQ_UNSUBSCRIBE, ack_topic, (size_t) ack_len);
            zlistx_delete (self->barriers, zlistx_cursor (self->barriers));
            waiting = zlistx_first (self->barriers);
        }
        else
            waiting = zlistx_next (self->barriers);
    }
    subscriber_barrier_t *barrier = calloc (1, sizeof *barrier);
    if (barrier) {
        barrier->moved = true;
        s_barrier_send (self, barrier);
    }
    else
        subscriber_heal_moved (self->heal);   //  check at once rather than never
}

//  Sends a barrier that no client waits for: its answer proves the broker
//  hears the worker, which is then ready (/readyz).
void
subscriber_barrier_probe (subscriber_worker_t *self)
{
    subscriber_barrier_t *probe = calloc (1, sizeof *probe);
    if (probe) {
        probe->probe = true;
        self->probing = true;
        s_barrier_send (self, probe);
    }
}

//  Starts a subscription: the pattern's prefix goes upstream now, and a
//  barrier right behind it; the pattern delivers once the barrier returns.
void
subscriber_worker_subscribe (subscriber_worker_t *self, subscriber_client_t *client, const char *pattern,
                             size_t len, const subscriber_sync_options_t *options)
{
    subscriber_barrier_t *barrier = calloc (1, sizeof *barrier);
    if (!client->patterns)
        client->patterns = zhashx_new ();
    if (!barrier || !client->patterns) {
        free (barrier);
        subscriber_client_error (client, ZCH_FRAME_E_INTERNAL, "", "out of memory");
        return;
    }
    memcpy (barrier->pattern, pattern, len);
    barrier->pattern [len] = 0;
    if (!zhashx_lookup (client->patterns, barrier->pattern)) {
        int held = subscriber_index_hold_prefix (self->subscriptions, pattern, len);
        if (held < 0) {
            free (barrier);
            subscriber_client_error (client, ZCH_FRAME_E_INTERNAL, "", "cannot subscribe upstream");
            return;
        }
        //  A prefix new upstream is primed now, with its subscription: asked
        //  once the barrier returned, the broker would answer after messages
        //  that came live (or were dropped on the link) since, and their
        //  topics would seem to start past them
        if (held == 1)
            subscriber_heal_prime (self->heal, pattern, zch_pattern_prefix_len (pattern, len));
        zhashx_insert (client->patterns, barrier->pattern, SUBSCRIBER_PATTERN_PENDING);
        self->patterns++;
    }
    barrier->client = client;
    barrier->options = *options;
    s_barrier_send (self, barrier);
    client->barriers++;
}

//  Ends one of the client's subscriptions.
void
subscriber_worker_unsubscribe (subscriber_worker_t *self, subscriber_client_t *client, const char *pattern)
{
    void *state = zhashx_lookup (client->patterns, pattern);
    size_t len = strlen (pattern);
    if (state == SUBSCRIBER_PATTERN_ACTIVE)
        subscriber_index_remove (self->subscriptions, pattern, len, client);
    if (subscriber_index_release_prefix (self->subscriptions, pattern, len))
        //  No longer followed upstream: the next message there is no gap
        subscriber_heal_forget_prefix (self->heal, pattern, zch_pattern_prefix_len (pattern, len));
    zhashx_delete (client->patterns, pattern);
    self->patterns--;
}

void
subscriber_worker_confirm (subscriber_worker_t *self, subscriber_client_t *client)
{
    subscriber_barrier_t *barrier = calloc (1, sizeof *barrier);
    if (!barrier) {
        subscriber_client_error (client, ZCH_FRAME_E_INTERNAL, "", "out of memory");
        return;
    }
    barrier->client = client;
    barrier->confirm = true;
    s_barrier_send (self, barrier);
    client->barriers++;
}

void
subscriber_barrier_free (void **item)
{
    free (*item);
    *item = NULL;
}
