/*  subscriber_heal_seqs: the SEQS requests of the worker's control
    link (a prime when a prefix goes live, a check after drops or a
    reconnection) and what the broker's epochs tell.                      */
#include "subscriber_heal_private.h"
#include "zch_epoch.h"
#include "zch_log.h"

//  True when some prime (a prefix still subscribed upstream) covers name.
static bool
s_covered (subscriber_heal_t *self, const char *name, size_t len)
{
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
        if (prime->len <= len && memcmp (prime->prefix, name, prime->len) == 0)
            return true;
    return false;
}

//  True when a done prime covers topic name.
bool
subscriber_heal_primed (subscriber_heal_t *self, const char *name, size_t len)
{
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
        if (prime->done && prime->len <= len && memcmp (prime->prefix, name, prime->len) == 0)
            return true;
    return false;
}

//  A prime's seq may still come live: awaited until a barrier round settles it.
static void
s_edge (subscriber_heal_t *self, topic_t *topic, uint64_t seq)
{
    topic->edge = seq;
    topic->fresh = true;
    topic->edge_round = self->edge_round + 1;
    self->edges_new = true;
}

//  One [SEQ, tag, topic, seq, epoch] of a SEQS answer. A prime takes it as the
//  topic's start; a check heals what the topic lacks, up to seq itself:
//  seqs that were still on their way live come again as repeats and are
//  dropped, while waiting for another check to confirm seq would tell a
//  lost tail late.
void
subscriber_heal_seq (subscriber_heal_t *self, request_kind_t kind, const char *name, size_t len,
                     uint64_t seq, uint64_t epoch)
{
    topic_t *topic = subscriber_heal_topic_find (self, name, len);
    if (topic && epoch && topic->epoch && epoch != topic->epoch) {
        subscriber_heal_topic_reset (self, topic, epoch);
        if (kind == REQUEST_PRIME) {
            //  As for a topic first seen now: what came before is not owed
            topic->last = seq;
            s_edge (self, topic, seq);
            return;
        }
    }
    if (kind == REQUEST_PRIME) {
        if (!topic && (topic = subscriber_heal_topic_new (self, name, len, seq))) {
            s_edge (self, topic, seq);
            topic->epoch = epoch;
        }
        return;
    }
    if (!topic && !(topic = subscriber_heal_topic_new (self, name, len, 0)))
        return;
    topic->checked_round = self->check_round;
    topic->unlisted = 0;
    if (!topic->epoch)
        topic->epoch = epoch;
    if (seq <= topic->last)
        return;
    self->suspect = true;       //  something is missing: check again next time
    if (topic->healing || topic->held || topic->waiting)
        return;
    if (self->handlers->barrier) {
        //  What the broker stamped before it answered may still be on its
        //  way live, more of it than the history keeps after a burst: heal
        //  what is still missing once a barrier shows the stream passed it
        topic->owed = seq > topic->owed? seq: topic->owed;
        topic->owed_round = self->edge_round + 1;
        self->edges_new = true;
        return;
    }
    subscriber_heal_tail (self, topic, seq);
}

void
subscriber_heal_tail (subscriber_heal_t *self, topic_t *topic, uint64_t seq)
{
    if (seq <= topic->last || topic->healing || topic->held || topic->waiting)
        return;
    self->stats.tails++;
    subscriber_heal_heal_start (self, topic, topic->last + 1, seq);
    if (!topic->healing && !topic->waiting) {
        subscriber_heal_lost (self, topic, topic->last + 1, seq);
        topic->last = seq;
    }
}

//  After a complete check of prime's prefix in the broker's epoch: a
//  topic of another epoch that the answer did not list is gone from the
//  broker (it started afresh and has not seen it since): its clients are
//  told now rather than at its next message, which may never come.
//  A broker whose epochs are the topics' own (the Redis engine) says epoch
//  0: a topic it did not list may only not be in its cache yet (a broker
//  that just started reads it from Redis), so it is checked again, a
//  bounded number of times, and never taken as gone.
void
subscriber_heal_sweep (subscriber_heal_t *self, prime_t *prime, uint64_t epoch)
{
    if (!epoch) {
        for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics))
            if (topic->checked_round != self->check_round && topic->unlisted < HEAL_UNLISTED_MAX
            &&  topic->name_len >= prime->len && memcmp (topic->name, prime->prefix, prime->len) == 0) {
                topic->unlisted++;
                self->suspect = true;
            }
        return;
    }
    zlistx_t *gone = zlistx_new ();
    if (!gone)
        return;
    for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics))
        if (topic->epoch && topic->epoch != epoch && topic->checked_round != self->check_round
        &&  topic->name_len >= prime->len && memcmp (topic->name, prime->prefix, prime->len) == 0)
            zlistx_add_end (gone, topic);
    for (topic_t *topic = zlistx_first (gone); topic; topic = zlistx_next (gone))
        subscriber_heal_topic_reset (self, topic, epoch);
    zlistx_destroy (&gone);
}

//  Sends SEQS for prime's prefix, as a prime or a check. Returns 0 or -1.
static int
s_seqs_send (subscriber_heal_t *self, prime_t *prime, request_kind_t kind)
{
    const char *tokens [] = { "SEQS", prime->prefix };
    size_t sizes [] = { 4, prime->len };
    prime->request = subscriber_heal_request_send (self, kind, tokens, sizes, 2);
    if (!prime->request)
        return -1;
    prime->request->prime = prime;
    return 0;
}

void
subscriber_heal_backlog (subscriber_heal_t *self)
{
    self->suspect = true;
}

void
subscriber_heal_quiet (subscriber_heal_t *self)
{
    if (!self->suspect || self->moving || self->heals > 0 || self->waiting)
        return;
    //  A check scans every topic at the broker: a few a second at most
    int64_t now = zclock_mono ();
    if (now - self->checked_at < HEAL_CHECK_MS)
        return;
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
        if (prime->request)
            return;
    //  Drops at the end of a burst leave no later seq to show them, and a
    //  topic whose every message was dropped is not even known: ask the
    //  broker the seq of every topic under each prefix, and heal the lag
    self->suspect = false;
    self->checked_at = now;
    self->check_round++;
    zch_debug ("subscriber: link quiet after drops: checking the seqs of every topic");
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes)) {
        //  A prime the broker did not answer goes again: until it is done,
        //  its prefix's new topics cannot tell what they owe
        if (!prime->done)
            s_seqs_send (self, prime, REQUEST_PRIME);
        else {
            self->stats.checks++;
            s_seqs_send (self, prime, REQUEST_CHECK);
        }
        if (!prime->request)
            self->suspect = true;       //  could not go: try again
    }
}

void
subscriber_heal_prime (subscriber_heal_t *self, const char *prefix, size_t len)
{
    prime_t *prime = len <= ZCH_TOPIC_MAX? calloc (1, sizeof *prime): NULL;
    if (!prime)
        return;
    memcpy (prime->prefix, prefix, len);
    prime->len = len;
    if (s_seqs_send (self, prime, REQUEST_PRIME)) {
        free (prime);
        return;
    }
    zlistx_add_end (self->primes, prime);
}

void
subscriber_heal_forget_prefix (subscriber_heal_t *self, const char *prefix, size_t len)
{
    prime_t *prime = zlistx_first (self->primes);
    while (prime) {
        if (prime->len == len && memcmp (prime->prefix, prefix, len) == 0)
            zlistx_delete (self->primes, zlistx_cursor (self->primes));
        prime = zlistx_next (self->primes);
    }
    zlistx_t *gone = zlistx_new ();
    if (!gone)
        return;
    //  A topic that another prefix still brings keeps its seq
    for (topic_t *topic = zhashx_first (self->topics); topic; topic = zhashx_next (self->topics))
        if (topic->name_len >= len && memcmp (topic->name, prefix, len) == 0
        &&  !s_covered (self, topic->name, topic->name_len))
            zlistx_add_end (gone, topic->name);
    for (const char *name = zlistx_first (gone); name; name = zlistx_next (gone)) {
        topic_t *topic = zhashx_lookup (self->topics, name);
        if (topic->waiting)
            subscriber_heal_waiting_remove (self, topic);
        self->held_bytes -= subscriber_heal_held_free_all (topic);
        zhashx_delete (self->topics, name);
    }
    zlistx_destroy (&gone);
}

uint64_t
subscriber_heal_epoch (subscriber_heal_t *self)
{
    return self->epoch;
}

//  Notes the broker's epoch; one that changed means every topic may have
//  started afresh: check them all when the link is next quiet.
void
subscriber_heal_broker_epoch (subscriber_heal_t *self, uint64_t epoch)
{
    if (epoch == 0 || epoch == self->epoch)
        return;
    if (self->epoch) {
        char text [ZCH_EPOCH_TEXT_MAX + 1];
        zch_epoch_format (epoch, text);
        zch_notice ("subscriber: the broker is in a new epoch (%s): it started afresh", text);
        self->suspect = true;
    }
    self->epoch = epoch;
}

void
subscriber_heal_link_up (subscriber_heal_t *self)
{
    self->suspect = true;
}

void
subscriber_heal_barrier (subscriber_heal_t *self, uint64_t epoch)
{
    subscriber_heal_broker_epoch (self, epoch);
}

//  topic's seqs start afresh in epoch: what the old epoch still owed is
//  lost (a heal in flight there is forgotten), what was held goes out
//  first, then the clients are told, and the topic owes every seq from 1.
void
subscriber_heal_topic_reset (subscriber_heal_t *self, topic_t *topic, uint64_t epoch)
{
    if (topic->healing) {
        topic->healing->topic = NULL;   //  its answer is of the old epoch
        topic->healing = NULL;
    }
    if (topic->waiting)
        subscriber_heal_waiting_remove (self, topic);
    while (topic->held) {
        held_t *held = topic->held;
        topic->held = held->next;
        topic->held_count--;
        self->held_bytes -= held->size;
        if (held->seq > topic->last + 1 && topic->last > 0)
            subscriber_heal_lost (self, topic, topic->last + 1, held->seq - 1);
        if (held->seq > topic->last) {
            topic->last = held->seq;
            self->handlers->deliver (self->ctx, topic->name, topic->name_len, held->seq,
                                     held->payload, held->size);
        }
        free (held);
    }
    topic->held_tail = NULL;
    topic->owed = 0;            //  a seq of the old epoch
    char text [ZCH_EPOCH_TEXT_MAX + 1];
    zch_epoch_format (epoch, text);
    zch_info ("subscriber: %s starts afresh in epoch %s after seq %llu", topic->name, text,
              (unsigned long long) topic->last);
    topic->epoch = epoch;
    topic->last = topic->edge = 0;
    topic->fresh = false;
    self->stats.resets++;
    self->suspect = true;       //  other topics may have started afresh too
    self->handlers->reset (self->ctx, topic->name, topic->name_len, epoch);
}
