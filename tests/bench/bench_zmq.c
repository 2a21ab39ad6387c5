/*  bench_zmq: the ZeroMQ-native load engine. See bench_zmq.h.             */
#include "bench_zmq.h"
#include "bench_msg.h"
#include "bench_net.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define ZMQ_SEND_BATCH    256       //  messages per publisher per turn
#define ZMQ_RECV_BATCH    4096      //  messages per subscriber per turn
#define ZMQ_PROBE_NS      10000000  //  between two rounds of probes
#define ZMQ_TICK_MS       10
#define ZMQ_RSS_EVERY_NS  50000000

typedef struct {
    const bench_config_t *config;
    bench_result_t *result;
    void *ctx;
    size_t topic_len;
    int64_t start_ns;
    //  The publishing side: once the probes are done, only the publisher
    //  thread touches these, until it is joined
    void **pubs;
    uint64_t *next_seq;         //  per publisher
    uint64_t *limit;            //  per publisher
    char *payload;
    bool stopped;               //  duration over: limits cut to what was sent
    //  What the publisher thread tells the loop thread, on cache lines of
    //  their own: the loop thread writes progress_ns on every delivery
    _Alignas (64) _Atomic uint64_t sent;
    _Atomic int64_t last_send_ns;       //  0 until the first message
    atomic_bool published;      //  every publisher sent its last: sent is final
    atomic_bool quit;           //  the loop is over: stop sending
    //  The receiving side: the loop thread only
    _Alignas (64) bench_check_t *check;
    void **subs;
    bool *probed;               //  [subscriber * publishers + publisher]
    int probes_missing;
    int64_t progress_ns;        //  the last counted delivery
    int64_t rss_ns;
} zrun_t;

//  Creates a socket with linger off and connects it. Publishers wait at
//  their high-water mark instead of dropping (as zchannel's source does),
//  so a run measures what the server forwards, not what the PUB discards;
//  a send that may wait gives up after ZMQ_TICK_MS.
static void *
s_zmq_socket (zrun_t *self, int type, const char *endpoint)
{
    void *socket = zmq_socket (self->ctx, type);
    int zero = 0, one = 1, tick = ZMQ_TICK_MS;
    if (!socket || zmq_setsockopt (socket, ZMQ_LINGER, &zero, sizeof zero)
    ||  (type == ZMQ_PUB && zmq_setsockopt (socket, ZMQ_XPUB_NODROP, &one, sizeof one))
    ||  (type == ZMQ_PUB && zmq_setsockopt (socket, ZMQ_SNDTIMEO, &tick, sizeof tick))
    ||  (type == ZMQ_SUB && zmq_setsockopt (socket, ZMQ_SUBSCRIBE, self->config->topic,
                                            self->topic_len))
    ||  zmq_connect (socket, endpoint)) {
        fprintf (stderr, "zch_bench: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        if (socket)
            zmq_close (socket);
        return NULL;
    }
    return socket;
}

//  Sends one [topic][payload]; returns 0, or -1 when the socket said no.
//  With wait, waits up to ZMQ_TICK_MS for room: zmq_poll cannot, as a PUB
//  always polls writable. The payload is stamped once the topic frame is
//  in, so time spent waiting for room is not counted as latency; the last
//  frame of a message whose first frame went in is never refused.
static int
s_zmq_send (zrun_t *self, int publisher, uint64_t seq, bool wait)
{
    void *socket = self->pubs [publisher];
    if (zmq_send (socket, self->config->topic, self->topic_len,
                  ZMQ_SNDMORE | (wait ? 0 : ZMQ_DONTWAIT)) == -1)
        return -1;
    size_t len = bench_payload_fill (self->payload, self->config->size, publisher, seq);
    return zmq_send (socket, self->payload, len, ZMQ_DONTWAIT) == -1 ? -1 : 0;
}

//  Returns the last seq publisher may send by now: its limit, or less when
//  paced.
static uint64_t
s_zmq_due (zrun_t *self, int publisher, int64_t now)
{
    uint64_t due = self->limit [publisher];
    if (self->config->rate) {
        double paced = (double) (now - self->start_ns) * (double) self->config->rate / 1e9 + 1;
        due = paced < (double) due ? (uint64_t) paced : due;
    }
    return due;
}

//  Sends every publisher's due messages, a batch at a time; with wait,
//  the first one due may wait for room. Returns the number sent.
//  Publisher thread only.
static uint64_t
s_zmq_publish (zrun_t *self, int64_t now, bool wait)
{
    const bench_config_t *config = self->config;
    if (config->duration_s > 0 && !self->stopped
    &&  now - self->start_ns >= (int64_t) (config->duration_s * 1e9)) {
        self->stopped = true;
        for (int i = 0; i < config->publishers; i++)
            self->limit [i] = self->next_seq [i] - 1;
    }
    uint64_t sent = 0;
    for (int i = 0; i < config->publishers; i++) {
        uint64_t due = s_zmq_due (self, i, now);
        for (int n = 0; n < ZMQ_SEND_BATCH && self->next_seq [i] <= due; n++) {
            int rc = s_zmq_send (self, i, self->next_seq [i], wait);
            wait = false;           //  once a turn, or P waits could add up
            if (rc)
                break;
            self->next_seq [i]++;
            sent++;
        }
    }
    if (sent) {
        //  One writer: a plain add, published for the loop's progress check
        uint64_t total = atomic_load_explicit (&self->sent, memory_order_relaxed) + sent;
        atomic_store_explicit (&self->sent, total, memory_order_relaxed);
        atomic_store_explicit (&self->last_send_ns, bench_now_ns (), memory_order_relaxed);
    }
    return sent;
}

//  Receives what one subscriber has, up to a batch. Returns the count.
static int
s_zmq_receive (zrun_t *self, int subscriber)
{
    int count = 0;
    zmq_msg_t topic, frame;
    zmq_msg_init (&topic);
    zmq_msg_init (&frame);
    for (; count < ZMQ_RECV_BATCH; count++) {
        if (zmq_msg_recv (&topic, self->subs [subscriber], ZMQ_DONTWAIT) == -1)
            break;
        bool more = zmq_msg_more (&topic), got = false;
        while (more && zmq_msg_recv (&frame, self->subs [subscriber], 0) != -1) {
            more = zmq_msg_more (&frame);
            got = true;
        }
        int64_t now = bench_now_ns ();
        int publisher;
        if (!got || !bench_check_topic (self->check, zmq_msg_data (&topic), zmq_msg_size (&topic))) {
            self->result->foreign++;
            continue;
        }
        bench_msg_kind_t kind = bench_check_payload (self->check, subscriber, zmq_msg_data (&frame),
                                                     zmq_msg_size (&frame), now, &publisher);
        if (kind == BENCH_MSG_COUNTED)
            self->progress_ns = now;
        else
        if (kind == BENCH_MSG_PROBE) {
            bool *seen = &self->probed [subscriber * self->config->publishers + publisher];
            self->probes_missing -= !*seen;
            *seen = true;
        }
    }
    zmq_msg_close (&topic);
    zmq_msg_close (&frame);
    return count;
}

//  Waits up to timeout_ms for any subscriber to have input.
static void
s_zmq_wait (zrun_t *self, long timeout_ms)
{
    zmq_pollitem_t items [64];
    int count = self->config->subscribers < 64 ? self->config->subscribers : 64;
    for (int i = 0; i < count; i++)
        items [i] = (zmq_pollitem_t) { .socket = self->subs [i], .events = ZMQ_POLLIN };
    zmq_poll (items, count, timeout_ms);
}

//  Sends probes until every subscriber has one from every publisher.
static int
s_zmq_probe (zrun_t *self)
{
    const bench_config_t *config = self->config;
    int64_t start = bench_now_ns (), last = 0;
    while (self->probes_missing > 0) {
        int64_t now = bench_now_ns ();
        if (now - start > (int64_t) config->timeout_s * 1000000000) {
            fprintf (stderr, "zch_bench: the ZeroMQ path is not up after %d s (%d probes "
                     "missing)\n", config->timeout_s, self->probes_missing);
            return -1;
        }
        if (now - last >= ZMQ_PROBE_NS) {
            for (int i = 0; i < config->publishers; i++)
                s_zmq_send (self, i, 0, false);
            last = now;
        }
        int got = 0;
        for (int i = 0; i < config->subscribers; i++)
            got += s_zmq_receive (self, i);
        if (!got)
            s_zmq_wait (self, 1);
    }
    return 0;
}

//  Tells whether every publisher has sent its last message.
static bool
s_zmq_published (zrun_t *self)
{
    for (int i = 0; i < self->config->publishers; i++)
        if (self->next_seq [i] <= self->limit [i])
            return false;
    return true;
}

//  After a turn that sent nothing: when no publisher has a message due
//  (they are paced), sleeps until the next one is, at most ZMQ_TICK_MS so
//  quit and the duration are seen in time. When one is due, the socket is
//  at its high-water mark and the next turn waits in its send instead.
//  Paced messages go out one by one, as the single loop sent them: sending
//  them in bursts would spare the server wake-ups and flatter its CPU.
static void
s_zmq_pause (zrun_t *self, int64_t now)
{
    const bench_config_t *config = self->config;
    int64_t pause_ns = ZMQ_TICK_MS * 1000000LL;
    for (int i = 0; i < config->publishers; i++) {
        if (self->next_seq [i] > self->limit [i])
            continue;
        if (self->next_seq [i] <= s_zmq_due (self, i, now))
            return;
        int64_t at = self->start_ns
                   + (int64_t) ((double) (self->next_seq [i] - 1) * 1e9 / (double) config->rate);
        pause_ns = at - now < pause_ns ? at - now : pause_ns;
    }
    if (pause_ns > 0) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = (long) pause_ns };
        nanosleep (&pause, NULL);
    }
}

//  The publisher thread: sends what is due until every publisher has sent
//  its last message or the loop thread says quit. It alone uses the PUB
//  sockets from its start to its join.
static void *
s_zmq_publisher (void *args)
{
    zrun_t *self = (zrun_t *) args;
    bool wait = false;
    while (!atomic_load_explicit (&self->quit, memory_order_relaxed)) {
        int64_t now = bench_now_ns ();
        wait = s_zmq_publish (self, now, wait) == 0;
        if (wait && s_zmq_published (self)) {
            atomic_store_explicit (&self->published, true, memory_order_release);
            break;
        }
        if (wait)
            s_zmq_pause (self, now);
    }
    return NULL;
}

//  The loop thread's side of the run: take what comes, until all that was
//  sent is delivered or nothing comes for the linger. Progress is a
//  delivery or a send, as seen by either thread.
static int
s_zmq_loop (zrun_t *self)
{
    const bench_config_t *config = self->config;
    bench_result_t *result = self->result;
    while (true) {
        int64_t now = bench_now_ns ();
        int got = 0;
        for (int i = 0; i < config->subscribers; i++)
            got += s_zmq_receive (self, i);
        if (config->watch_count && now - self->rss_ns > ZMQ_RSS_EVERY_NS) {
            uint64_t rss = bench_rss_kib (config->watch_pids, config->watch_count);
            result->rss_peak_kib = rss > result->rss_peak_kib ? rss : result->rss_peak_kib;
            self->rss_ns = now;
        }
        bool published = atomic_load_explicit (&self->published, memory_order_acquire);
        uint64_t sent = atomic_load_explicit (&self->sent, memory_order_relaxed);
        if (published && result->unique >= sent * (uint64_t) config->subscribers)
            return 0;
        int64_t last_send = atomic_load_explicit (&self->last_send_ns, memory_order_relaxed);
        int64_t progress = last_send > self->progress_ns ? last_send : self->progress_ns;
        int64_t quiet = now - progress;
        if (quiet > (int64_t) config->timeout_s * 1000000000) {
            result->timed_out = true;
            return 0;
        }
        if (published && config->linger_s > 0 && quiet > (int64_t) (config->linger_s * 1e9))
            return 0;
        if (!got)
            s_zmq_wait (self, ZMQ_TICK_MS);
    }
}

//  The measured run: starts the clock and the publisher thread, receives
//  in this thread until the run is over, then stops the publisher thread
//  and takes its count.
static int
s_zmq_measure (zrun_t *self)
{
    const bench_config_t *config = self->config;
    bench_result_t *result = self->result;
    self->start_ns = self->progress_ns = result->first_send_ns = bench_now_ns ();
    if (config->watch_count)
        result->server_cpu_s = -bench_cpu_seconds (config->watch_pids, config->watch_count);
    pthread_t publisher;
    int rc = pthread_create (&publisher, NULL, s_zmq_publisher, self);
    if (rc) {
        fprintf (stderr, "zch_bench: cannot start the publisher thread: %s\n", strerror (rc));
        return -1;
    }
    rc = s_zmq_loop (self);
    atomic_store_explicit (&self->quit, true, memory_order_relaxed);
    pthread_join (publisher, NULL);
    result->sent = atomic_load_explicit (&self->sent, memory_order_relaxed);
    result->last_send_ns = atomic_load_explicit (&self->last_send_ns, memory_order_relaxed);
    return rc;
}

//  Allocates the tables and opens the sockets.
static int
s_zmq_prepare (zrun_t *self)
{
    const bench_config_t *config = self->config;
    int pubs = config->publishers, subs = config->subscribers;
    self->topic_len = strlen (config->topic);
    self->ctx = zmq_ctx_new ();
    self->pubs = calloc ((size_t) pubs, sizeof (void *));
    self->subs = calloc ((size_t) subs, sizeof (void *));
    self->next_seq = calloc ((size_t) pubs, sizeof (uint64_t));
    self->limit = calloc ((size_t) pubs, sizeof (uint64_t));
    self->probed = calloc ((size_t) pubs * (size_t) subs, sizeof (bool));
    size_t payload = config->size > BENCH_HEADER_MAX ? config->size : BENCH_HEADER_MAX;
    self->payload = malloc (payload);
    self->check = bench_check_new (config, self->result);
    if (!self->ctx || !self->pubs || !self->subs || !self->next_seq || !self->limit
    ||  !self->probed || !self->payload || !self->check)
        return -1;
    self->probes_missing = pubs * subs;
    for (int i = 0; i < subs; i++)
        if (!(self->subs [i] = s_zmq_socket (self, ZMQ_SUB, config->subscriber_ep)))
            return -1;
    for (int i = 0; i < pubs; i++) {
        if (!(self->pubs [i] = s_zmq_socket (self, ZMQ_PUB, config->source_ep)))
            return -1;
        self->next_seq [i] = 1;
        self->limit [i] = config->messages;
    }
    return 0;
}

//  Runs one ZeroMQ benchmark; see bench_zmq.h.
int
bench_zmq_run (const bench_config_t *config, bench_result_t *result)
{
    *result = (bench_result_t) { .latency = NULL };
    zrun_t self = { .config = config, .result = result };
    int rc = -1;
    if (config->watch_count)
        result->rss_base_kib = result->rss_idle_kib = result->rss_peak_kib
            = bench_rss_kib (config->watch_pids, config->watch_count);
    if (s_zmq_prepare (&self) == 0 && s_zmq_probe (&self) == 0) {
        rc = s_zmq_measure (&self);
        if (config->watch_count)
            result->server_cpu_s += bench_cpu_seconds (config->watch_pids, config->watch_count);
    }
    for (int i = 0; self.limit && i < config->publishers; i++)
        result->planned += self.limit [i];
    result->expected = result->sent * (uint64_t) config->subscribers;
    result->lost = result->expected > result->unique ? result->expected - result->unique : 0;

    for (int i = 0; self.pubs && i < config->publishers; i++)
        if (self.pubs [i])
            zmq_close (self.pubs [i]);
    for (int i = 0; self.subs && i < config->subscribers; i++)
        if (self.subs [i])
            zmq_close (self.subs [i]);
    if (self.ctx)
        zmq_ctx_term (self.ctx);
    bench_check_destroy (&self.check);
    free (self.pubs);
    free (self.subs);
    free (self.next_seq);
    free (self.limit);
    free (self.probed);
    free (self.payload);
    return rc;
}
