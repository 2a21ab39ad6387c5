/*  broker: the central forwarder actor.                                     */
#include "broker_self.h"
#include "broker_handover.h"
#include "broker_queues.h"
#include "broker_patterns.h"
#include "zch_curve.h"
#include "zch_epoch.h"
#include "zch_internal.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#define BROKER_MAX_FRAMES   4       //  one more than any valid form, to spot extras
#define BROKER_TURN         1024    //  ingress messages per turn before looking at the rest
#define BROKER_BATCH_BYTES  65536   //  a batch to the front-ends stops growing here (a larger message goes alone)
#define BROKER_BATCH_MESSAGES 1024  //  and here: a front-end's high-water mark counts batches
#define BROKER_INGRESS_HWM  1000    //  ZeroMQ messages (a source's batches count one) queued on ingress
#define BROKER_DRAIN_QUIET  300     //  ms of silence on ingress that ends a drain
#define BROKER_LINGER       5000    //  ms egress may take to deliver at exit

#include <sys/random.h>

static const char s_ack_prefix [] = "$ack.";

//  Frees what s_self_new made.
static void
s_self_destroy (broker_self_t **self_p)
{
    broker_self_t *self = *self_p;
    if (!self)
        return;
    broker_engine_destroy (&self->engine);
    broker_watch_destroy (&self->watch);
    broker_local_destroy (&self->local);
    broker_groups_destroy (&self->groups);
    broker_interest_destroy (&self->interest);
    zch_batch_destroy (&self->batch);
    if (self->ingress)
        zmq_close (self->ingress);
    if (self->egress)
        zmq_close (self->egress);
    if (self->control)
        zmq_close (self->control);
    broker_control_destroy (&self->requests);
    broker_queues_destroy (&self->queues);
    broker_confirm_destroy (&self->confirms);
    broker_history_destroy (&self->history);
    zch_trie_destroy (&self->no_history);
    zch_pipeline_destroy (&self->pipeline);
    zactor_destroy (&self->curve_auth);
    free (self);
    *self_p = NULL;
}

//  CURVE on every socket, before any bind, with the ZAP handler that
//  checks client keys. Returns 0, or -1 with a reason.
static int
s_curve (broker_self_t *self, const broker_config_t *config, char *error, size_t error_size)
{
    const char *clients = config->curve_clients && *config->curve_clients? config->curve_clients: NULL;
    if (!config->curve_secret || !*config->curve_secret) {
        if (clients) {
            snprintf (error, error_size, "--curve-clients needs --curve-secret");
            return -1;
        }
        return 0;
    }
    self->curve_auth = zch_curve_auth_new (clients, error, error_size);
    if (!self->curve_auth
    ||  zch_curve_server (self->ingress, config->curve_secret, error, error_size)
    ||  zch_curve_server (self->egress, config->curve_secret, error, error_size)
    ||  zch_curve_server (self->control, config->curve_secret, error, error_size))
        return -1;
    zch_notice ("broker: CURVE on, %s", clients? "clients from the allow-list only":
                "any client that knows the broker's public key");
    return 0;
}

//  A fresh epoch: the time in seconds above 24 random bits, so that two
//  starts never share one, even with a clock set back.
uint64_t
broker_epoch_new (void)
{
    uint32_t noise = 0;
    if (getrandom (&noise, sizeof noise, 0) != sizeof noise)
        noise = (uint32_t) zclock_usecs () ^ (uint32_t) getpid () << 8;
    uint64_t epoch = (uint64_t) time (NULL) << 24 | (noise & 0xffffff);
    return epoch? epoch: 1;
}

//  Sends the batch gathered so far to the front-ends: on the TCP egress
//  when one follows there, and to the ones in this process.
static void
s_batch_flush (broker_self_t *self)
{
    zmq_msg_t frames [2];
    if (zch_batch_take (self->batch, &frames [0], &frames [1]))
        return;
    if (broker_interest_internal (self->interest)) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        for (int i = 0; i < 2; i++) {
            zmq_msg_copy (&copy, &frames [i]);
            zmq_msg_send (&copy, self->egress, i == 0? ZMQ_SNDMORE: 0);
        }
        zmq_msg_close (&copy);
    }
    if (self->local)
        broker_local_send (self->local, frames, 2);
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
}

//  Answers a barrier: proves every earlier subscription of its front-end
//  is in place; with the epoch, so a front-end learns it as it subscribes.
//  On egress (self->egress or the local one), or on both when NULL: only
//  the front-end that subscribed the barrier's topic gets the answer.
static void
s_barrier_send (broker_self_t *self, void *egress, const uint8_t *topic, size_t len)
{
    uint8_t meta [64];
    size_t meta_size = zch_meta_encode (0, zch_now_ns (), self->epoch, NULL, 0, meta, sizeof meta);
    //  Its payload names the internal version (zch_internal.h)
    char hello [16];
    int hello_len = snprintf (hello, sizeof hello, "%s%d", ZCH_INTERNAL_HELLO, ZCH_INTERNAL_VERSION);
    //  What went before it goes first
    s_batch_flush (self);
    if (!egress || egress == self->egress) {
        zmq_send (self->egress, topic, len, ZMQ_SNDMORE);
        zmq_send (self->egress, meta, meta_size, ZMQ_SNDMORE);
        zmq_send (self->egress, hello, (size_t) hello_len, 0);
    }
    if (self->local && egress != self->egress)
        broker_local_answer (self->local, topic, len, meta, meta_size, hello, (size_t) hello_len);
}

//  A hand-over marker the engine hands back (broker_engine_sink_t).
static void
s_marker_answer (void *arg, const uint8_t *frame, size_t size)
{
    broker_control_marker (((broker_self_t *) arg)->requests, frame, size);
}

//  A barrier the engine hands back (broker_engine_sink_t).
static void
s_barrier_answer (void *arg, const uint8_t *topic, size_t len)
{
    s_barrier_send (arg, NULL, topic, len);
}

static void s_send_message (broker_self_t *self, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame,
                            zmq_msg_t *payload_frame);

//  Sends a stamped message to the front-ends, taking the frames over. The
//  outside egress never blocks: what a slow front-end cannot take, its
//  high-water mark drops, and the front-end sees the seq gap. The
//  front-ends in this process get the frames themselves and may make the
//  broker wait (broker_local).
void
broker_send_out (void *arg, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame, zmq_msg_t *payload_frame)
{
    broker_self_t *self = arg;
    //  A queue group's member gets its own copy, addressed (broker_groups.h),
    //  after the message itself: kept aside before its frames go
    char group_topic [ZCH_TOPIC_MAX];
    size_t group_topic_len = zmq_msg_size (topic_frame);
    zmq_msg_t group_meta, group_payload;
    bool grouped = broker_groups_members (self->groups) > 0 && group_topic_len <= sizeof group_topic;
    if (grouped) {
        memcpy (group_topic, zmq_msg_data (topic_frame), group_topic_len);
        zmq_msg_init (&group_meta);
        zmq_msg_init (&group_payload);
        zmq_msg_copy (&group_meta, meta_frame);
        zmq_msg_copy (&group_payload, payload_frame);
    }
    s_send_message (self, topic_frame, meta_frame, payload_frame);
    if (grouped) {
        broker_groups_route (self->groups, self->egress, self->local, group_topic, group_topic_len,
                             &group_meta, &group_payload);
        zmq_msg_close (&group_meta);
        zmq_msg_close (&group_payload);
    }
}

//  The front-ends' part: the message into this turn's batch for every
//  front-end that follows it, when any is there.
static void
s_send_internal (broker_self_t *self, const char *topic, size_t topic_len, const void *meta,
                 size_t meta_size, const void *payload, size_t payload_size)
{
    if (!self->local && !broker_interest_internal (self->interest))
        return;
    if (zch_batch_add (self->batch, topic, topic_len, meta, meta_size, payload, payload_size)) {
        s_batch_flush (self);
        if (zch_batch_add (self->batch, topic, topic_len, meta, meta_size, payload, payload_size))
            zch_error ("broker: out of memory: a message on '%.*s' was not forwarded",
                       (int) topic_len, topic);
    }
}

//  broker_send_out's own part: the message to every front-end that follows
//  it, in the internal envelope, and in the outsiders' form only when an
//  outside consumer follows its topic.
static void
s_send_message (broker_self_t *self, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame, zmq_msg_t *payload_frame)
{
    const char *topic = zmq_msg_data (topic_frame);
    size_t topic_len = zmq_msg_size (topic_frame);
    s_send_internal (self, topic, topic_len, zmq_msg_data (meta_frame), zmq_msg_size (meta_frame),
                     zmq_msg_data (payload_frame), zmq_msg_size (payload_frame));
    if (broker_interest_outside (self->interest, topic, topic_len)) {
        zmq_msg_send (topic_frame, self->egress, ZMQ_SNDMORE);
        zmq_msg_send (meta_frame, self->egress, ZMQ_SNDMORE);
        zmq_msg_send (payload_frame, self->egress, 0);
    }
    zmq_msg_close (topic_frame);
    zmq_msg_close (meta_frame);
    zmq_msg_close (payload_frame);
}

void
broker_send_view (broker_self_t *self, const char *topic, size_t topic_len,
                  const uint8_t *meta, size_t meta_size, const uint8_t *payload, size_t payload_size)
{
    if (broker_groups_members (self->groups) == 0
    &&  !broker_interest_outside (self->interest, topic, topic_len)) {
        s_send_internal (self, topic, topic_len, meta, meta_size, payload, payload_size);
        return;
    }
    zmq_msg_t frames [3];
    if (broker_frames_make (frames, topic, topic_len, meta, meta_size, payload, payload_size))
        zch_error ("broker: out of memory: a message on '%.*s' was not forwarded",
                   (int) topic_len, topic);
    else
        broker_send_out (self, &frames [0], &frames [1], &frames [2]);
}

//  True while a front-end in this process cannot take more.
static bool
s_held (void *arg)
{
    broker_self_t *self = arg;
    return self->local && (broker_local_holding (self->local) || broker_groups_holding (self->groups));
}

//  A confirm the engine hands back (broker_engine_sink_t).
static void
s_engine_confirm (void *arg, const char *route, size_t route_len, uint64_t number,
                  const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch, const char *reason)
{
    broker_self_t *self = arg;
    broker_confirm_send (self->confirms, route, route_len, number, topic, topic_len, seq, epoch, reason);
}

//  Starts the Redis engine when asked for. Returns 0, or -1 with a reason.
static int
s_engine_start (broker_self_t *self, const broker_config_t *config, char *error, size_t error_size)
{
    if (config->engine != BROKER_ENGINE_REDIS) {
        if (config->redis.count == 0 && config->sentinel.count == 0)
            return 0;
        snprintf (error, error_size, "--%s needs --engine redis", config->redis.count? "redis": "sentinel");
        return -1;
    }
    self->engine = broker_engine_redis_new (&config->redis, &config->sentinel, &config->sentinel_master,
                                           &config->no_history, config->history_per_topic, error, error_size);
    if (!self->engine)
        return -1;
    broker_control_topic_epochs (self->requests);
    self->stats.engine_shards = config->redis.count;
    self->sink = (broker_engine_sink_t) { .history = self->history, .forward = broker_send_out,
                                          .held = s_held, .barrier = s_barrier_answer, .marker = s_marker_answer,
                                          .confirm = s_engine_confirm, .arg = self };
    const zch_option_list_t *shards = config->sentinel.count? &config->sentinel: &config->redis;
    zch_notice ("broker: engine redis, %d shard%s (first %s%s)", shards->count, shards->count == 1? "": "s",
                config->sentinel.count? "at the sentinels ": "", shards->items [0]);
    return 0;
}

//  Opens and binds the three sockets. Returns NULL with a reason in error.
static broker_self_t *
s_self_new (zsock_t *pipe, const broker_config_t *config, char *error, size_t error_size)
{
    broker_self_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->pipe = pipe;
    self->config = config;
    void *context = zsys_init ();
    self->ingress = zmq_socket (context, ZMQ_XSUB);
    self->egress = zmq_socket (context, ZMQ_XPUB);
    self->control = zmq_socket (context, ZMQ_ROUTER);
    self->epoch = broker_epoch_new ();
    self->stats.epoch = self->epoch;
    self->history = broker_history_new (config->history_per_topic, config->history_bytes, self->epoch);
    self->requests = self->control && self->history?
        broker_control_new (self->control, self->history, &self->stats): NULL;
    self->confirms = self->control? broker_confirm_new (self->control): NULL;
    //  Items live in this broker's memory: brokers sharing Redis would each
    //  hold part of a queue, and a failover would lose them
    self->queues = self->control? broker_queues_new (self->control, (size_t) config->queue_max_items,
        config->queue_max_bytes, config->engine == BROKER_ENGINE_REDIS?
        "work queues need --engine memory (they live in one broker's memory)": NULL): NULL;
    if (self->requests && self->queues)
        broker_control_set_queues (self->requests, self->queues);
    self->counters = zch_metrics_counters ("broker");
    void *watched [] = { self->ingress, self->egress, self->control };
    self->watch = self->ingress && self->egress && self->control?
        broker_watch_new (context, watched, 3): NULL;
    self->groups = broker_groups_new ();
    self->interest = self->egress? broker_interest_new (self->egress): NULL;
    self->batch = zch_batch_new (BROKER_BATCH_BYTES, BROKER_BATCH_MESSAGES);
    if (!self->ingress || !self->egress || !self->control || !self->history || !self->requests
    ||  !self->confirms || !self->counters || !self->watch || !self->groups || !self->queues
    ||  !self->interest || !self->batch) {
        snprintf (error, error_size, "cannot create sockets: %s", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->ingress, ZMQ_LINGER, 0);
    zch_zmq_set (self->ingress, ZMQ_RCVHWM, BROKER_INGRESS_HWM);
    zch_zmq_set (self->egress, ZMQ_LINGER, BROKER_LINGER);
    zch_zmq_set (self->egress, ZMQ_SNDHWM, config->egress_hwm);
    //  Every subscription reaches us, so each barrier is answered
    zch_zmq_set (self->egress, ZMQ_XPUB_VERBOSE, 1);
    //  Each subscription applied by hand, per peer, in its form (broker_interest)
    zch_zmq_set (self->egress, ZMQ_XPUB_MANUAL, 1);
    zch_zmq_set (self->control, ZMQ_LINGER, 0);
    if (s_curve (self, config, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    if (zch_zmq_attach (self->ingress, "ingress", config->ingress, true, error, error_size)
    ||  zch_zmq_attach (self->egress, "egress", config->egress, true, error, error_size)
    ||  zch_zmq_attach (self->control, "control", config->control, true, error, error_size)
    ||  (config->control_local
         && zch_zmq_attach (self->control, "control", config->control_local, true, error, error_size))
    ||  (config->ingress_local
         && zch_zmq_attach (self->ingress, "ingress", config->ingress_local, true, error, error_size))
    ||  (config->egress_local
         && !(self->local = broker_local_new (context, config->egress_local, error, error_size)))) {
        s_self_destroy (&self);
        return NULL;
    }
    if (zch_pipeline_build (&config->plugins, ZCH_PLUGIN_STAGE_BROKER, &self->pipeline,
                            error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    //  Topics that keep no history: a seq each, nothing stored, no resume
    self->no_history = broker_patterns_new (&config->no_history, "no-history", error, error_size);
    if (!self->no_history) {
        s_self_destroy (&self);
        return NULL;
    }
    broker_history_skip (self->history, self->no_history);
    if (s_engine_start (self, config, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    //  Filtering happens in one place, here: take everything. The internal
    //  envelope's prefix first tells our sources this broker reads it
    //  (a source sends its batches only while this subscription holds)
    uint8_t subscribe_internal [] = { 1, ZCH_INTERNAL_MARK, ZCH_INTERNAL_VERSION };
    uint8_t subscribe_all = 1;
    zmq_send (self->ingress, subscribe_internal, sizeof subscribe_internal, 0);
    zmq_send (self->ingress, &subscribe_all, 1, 0);
    return self;
}

//  A source's hand-over marker: all it sent before is processed, which
//  with the Redis engine means once Redis has answered all of it (a broker
//  killed with publishes still queued for Redis must not have confirmed them).
static void
s_marker_read (broker_self_t *self, const uint8_t *frame, size_t size)
{
    if (self->engine)
        broker_engine_marker (self->engine, frame, size);
    else
        broker_control_marker (self->requests, frame, size);
}

//  Receives and forwards up to limit messages from ingress. Returns how
//  many messages it handled (each of an internal batch counts).
static size_t
s_ingress_read (broker_self_t *self, size_t limit)
{
    size_t handled = 0;
    //  Nothing more while a front-end in this process cannot take what we have
    while (handled < limit && !(self->local && (broker_local_holding (self->local)
                                                 || broker_groups_holding (self->groups)))) {
        zmq_msg_t frames [BROKER_MAX_FRAMES];
        size_t count = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *frame = &frames [count < BROKER_MAX_FRAMES? count: BROKER_MAX_FRAMES - 1];
            if (count >= BROKER_MAX_FRAMES)
                zmq_msg_close (frame);  //  keep the count, not the extras
            zmq_msg_init (frame);
            if (zmq_msg_recv (frame, self->ingress, ZMQ_DONTWAIT) < 0) {
                //  libzmq delivers multiparts whole, so this is the
                //  first frame: nothing more to read now
                zmq_msg_close (frame);
                for (size_t i = 0; i < count && i < BROKER_MAX_FRAMES; i++)
                    zmq_msg_close (&frames [i]);
                return handled;
            }
            more = zmq_msg_more (frame);
            count++;
        }
        size_t held = count < BROKER_MAX_FRAMES? count: BROKER_MAX_FRAMES;
        size_t first_size = zmq_msg_size (&frames [0]);
        if (first_size >= strlen (BROKER_HANDOVER_TOPIC)
        &&  memcmp (zmq_msg_data (&frames [0]), BROKER_HANDOVER_TOPIC, strlen (BROKER_HANDOVER_TOPIC)) == 0)
            s_marker_read (self, zmq_msg_data (&frames [0]), first_size);
        else
        if (first_size > 0 && *(uint8_t *) zmq_msg_data (&frames [0]) == ZCH_INTERNAL_MARK)
            handled += broker_forward_batch (self, frames, count) - 1;
        else
        if (count > 3)
            broker_malformed (self, "wrong frame count");
        else
            broker_forward (self, frames, count);
        for (size_t i = 0; i < held; i++)
            zmq_msg_close (&frames [i]);
        handled++;
    }
    return handled;
}

//  s_ingress_read, then what it gathered goes out: nothing waits for a
//  fuller batch.
static size_t
s_ingress_drain (broker_self_t *self, size_t limit)
{
    size_t handled = s_ingress_read (self, limit);
    s_batch_flush (self);
    return handled;
}

//  Handles subscription messages from front-ends: answers each barrier
//  ("$ack." topic) at once, which proves every earlier subscription from
//  that front-end is in place.
static void
s_egress_drain (broker_self_t *self, void *egress)
{
    while (true) {
        zmq_msg_t message;
        zmq_msg_init (&message);
        if (zmq_msg_recv (&message, egress, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&message);
            return;
        }
        const uint8_t *raw = zmq_msg_data (&message);
        size_t raw_size = zmq_msg_size (&message);
        bool tcp = egress == self->egress;
        if (raw_size < 1 || raw [0] > 1 || raw_size > ZCH_TOPIC_MAX + ZCH_INTERNAL_HEAD + 1
        ||  (tcp && !broker_interest_apply (self->interest, raw, raw_size))) {
            zmq_msg_close (&message);
            continue;
        }
        //  The rest of the broker sees topic prefixes, whatever their form
        int source = tcp? BROKER_INTEREST_OUTSIDE: BROKER_INTEREST_LOCAL;
        const uint8_t *prefix = raw + 1;
        size_t prefix_len = raw_size - 1;
        if (prefix_len >= ZCH_INTERNAL_HEAD && prefix [0] == ZCH_INTERNAL_MARK) {
            prefix += ZCH_INTERNAL_HEAD;
            prefix_len -= ZCH_INTERNAL_HEAD;
            source = tcp? BROKER_INTEREST_TCP: BROKER_INTEREST_LOCAL;
        }
        if (!broker_interest_report (self->interest, source, raw [0] == 1, prefix, prefix_len)) {
            zmq_msg_close (&message);
            continue;
        }
        uint8_t data [ZCH_TOPIC_MAX + 1];
        size_t size = 1 + prefix_len;
        data [0] = raw [0];
        memcpy (data + 1, prefix, prefix_len);
        broker_watch_subscription (self->watch, data, size);
        broker_groups_subscription (self->groups, data, size);
        size_t topic_len = size? size - 1: 0;
        bool barrier = topic_len > strlen (s_ack_prefix)
                    && memcmp (data + 1, s_ack_prefix, strlen (s_ack_prefix)) == 0;
        if (size >= 1 && data [0] == 1) {
            self->stats.subscriptions++;
            //  With an engine, once it has what came before in place
            if (barrier && self->engine)
                broker_engine_barrier (self->engine, data + 1, topic_len);
            else
            if (barrier)
                s_barrier_send (self, egress, data + 1, topic_len);
        }
        else
        if (size >= 1 && data [0] == 0)
            self->stats.unsubscriptions++;
        if (size >= 1 && data [0] <= 1 && !barrier && self->engine)
            broker_engine_follow (self->engine, data [0] == 1, (const char *) data + 1, topic_len);
        zmq_msg_close (&message);
    }
}

//  Publishes the stats for the metrics endpoint, once per turn. What the
//  plugins dropped was received but not sent.
static void
s_publish_metrics (broker_self_t *self)
{
    zch_counters_t *counters = self->counters;
    zch_metrics_set (&counters->messages_received, self->stats.messages_in + self->stats.plugin_dropped);
    zch_metrics_set (&counters->bytes_received, self->stats.bytes_in + self->plugin_dropped_bytes);
    zch_metrics_set (&counters->messages_sent, self->stats.messages_in);
    zch_metrics_set (&counters->bytes_sent, self->stats.bytes_in);
    zch_metrics_set (&counters->dropped [ZCH_DROP_MALFORMED], self->stats.malformed);
    zch_metrics_set (&counters->dropped [ZCH_DROP_PLUGIN], self->stats.plugin_dropped);
    self->stats.confirms = broker_confirm_sent (self->confirms);
    self->stats.confirms_failed = broker_confirm_failed (self->confirms);
    zch_metrics_set (&counters->confirms, self->stats.confirms);
    zch_metrics_set (&counters->unconfirmed, self->stats.confirms_failed);
    zch_metrics_set (&counters->dropped [ZCH_DROP_TOO_LARGE], self->stats.too_large);
    if (self->engine)
        self->stats.engine_shards_down = atomic_load (&broker_engine_stats (self->engine)->shards_down);
    if (self->engine)
        zch_metrics_set (&counters->dropped [ZCH_DROP_ENGINE],
                         atomic_load (&broker_engine_stats (self->engine)->failed));
    zch_metrics_set (&counters->plugin_ns,
                     self->plugin_ns + (self->pipeline? zch_pipeline_ns (self->pipeline): 0));
    zch_metrics_set (&counters->subscriptions, broker_watch_subscriptions (self->watch));
    zch_metrics_set (&counters->clients, broker_watch_peers (self->watch));
    zch_metrics_set (&counters->topics, broker_history_topic_count (self->history));
    zch_metrics_set (&counters->history, broker_history_messages (self->history));
    broker_queues_publish (self->queues, counters);
}

//  Reads what is still arriving on ingress until it has been quiet for a
//  moment, so that messages producers already sent are not lost at exit.
static void
s_drain_for_exit (broker_self_t *self)
{
    int64_t started = zclock_mono ();
    int64_t deadline = started + self->config->drain_timeout;
    zmq_pollitem_t item = { self->ingress, 0, ZMQ_POLLIN, 0 };
    size_t drained = 0;
    while (zclock_mono () < deadline) {
        //  What a front-end in this process has not taken yet goes first
        if (self->local && broker_local_flush (self->local) == 0)
            broker_groups_flush (self->groups, self->local);
        if (self->local && (broker_local_holding (self->local)
                            || broker_groups_holding (self->groups))) {
            zmq_pollitem_t wait = { NULL, broker_local_fd (self->local), ZMQ_POLLIN, 0 };
            zmq_poll (&wait, 1, 10);
            s_egress_drain (self, broker_local_socket (self->local));
            continue;
        }
        if (zmq_poll (&item, 1, BROKER_DRAIN_QUIET) <= 0)
            break;
        drained += s_ingress_drain (self, BROKER_TURN);
        s_egress_drain (self, self->egress);
        if (self->local)
            s_egress_drain (self, broker_local_socket (self->local));
    }
    zch_info ("broker: drained %zu messages in %lld ms at exit", drained,
              (long long) (zclock_mono () - started));
    if (self->local && broker_local_holding (self->local))
        zch_warning ("broker: drain timeout (%d ms) reached while a subscriber front-end of this "
                     "process took nothing more: what it holds and what is still on ingress is "
                     "not forwarded", self->config->drain_timeout);
    s_publish_metrics (self);
}

void
broker_actor (zsock_t *pipe, void *args)
{
    const broker_config_t *config = args;
    char error [512];
    broker_self_t *self = s_self_new (pipe, config, error, sizeof error);
    if (!self) {
        zch_error ("broker: %s", error);
        zch_actor_ready (pipe, error);
        return;
    }
    char epoch [ZCH_EPOCH_TEXT_MAX + 1];
    zch_epoch_format (self->epoch, epoch);
    zch_notice ("broker: ingress %s, egress %s, control %s, epoch %s",
                config->ingress, config->egress, config->control, epoch);
    zch_actor_ready (pipe, NULL);

    zmq_pollitem_t items [11] = {
        { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
        { self->ingress, 0, ZMQ_POLLIN, 0 },
        { self->egress, 0, ZMQ_POLLIN, 0 },
        { self->control, 0, ZMQ_POLLIN, 0 }
    };
    int item_count = 4 + (int) broker_watch_pollitems (self->watch, items + 4, 4);
    //  The local egress: its subscriptions, and its descriptor to wait on
    //  while a front-end in this process cannot take what we hold
    int waiting_at = -1;
    if (self->local) {
        items [item_count++] = (zmq_pollitem_t) { broker_local_socket (self->local), 0, ZMQ_POLLIN, 0 };
        waiting_at = item_count;
        items [item_count++] = (zmq_pollitem_t) { NULL, broker_local_fd (self->local), 0, 0 };
    }
    if (self->engine)
        items [item_count++] = (zmq_pollitem_t) { broker_engine_socket (self->engine), 0, ZMQ_POLLIN, 0 };
    bool busy = false;
    int streams_wait = -1;      //  what the control streams allow the poll to sleep
    while (true) {
        int timeout = busy? 0: streams_wait;
        if (self->local) {
            //  Holding: wake when the front-ends take more (or within
            //  10 ms at worst), not for ingress, which must wait
            bool holding = broker_local_holding (self->local);
            items [1].events = holding? 0: ZMQ_POLLIN;
            items [waiting_at].events = holding? ZMQ_POLLIN: 0;
            if (holding && (timeout < 0 || timeout > 10))
                timeout = 10;
        }
        if (zmq_poll (items, item_count, timeout) < 0 && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = NULL;
            void *pipeline = NULL;
            zsock_recv (pipe, "sp", &command, &pipeline);
            bool terminate = !command || streq (command, "$TERM");
            if (command && streq (command, "RELOAD"))
                broker_plugins_swap (self, pipeline);
            zstr_free (&command);
            if (terminate)
                break;
        }
        //  Subscriptions first: a barrier must not wait behind a backlog
        s_egress_drain (self, self->egress);
        if (self->local) {
            s_egress_drain (self, broker_local_socket (self->local));
            if (broker_local_flush (self->local) == 0)
                broker_groups_flush (self->groups, self->local);
        }
        broker_watch_events (self->watch);
        busy = s_ingress_drain (self, BROKER_TURN) >= BROKER_TURN;
        if (self->engine)
            busy |= broker_engine_drain (self->engine, &self->sink, BROKER_TURN) >= BROKER_TURN;
        s_batch_flush (self);
        s_publish_metrics (self);
        if (items [3].revents & ZMQ_POLLIN) {
            self->stats.topics = broker_history_topic_count (self->history);
            self->stats.history_bytes = broker_history_bytes (self->history);
            self->stats.history_messages = broker_history_messages (self->history);
            self->stats.history_evicted = broker_history_evicted (self->history);
            self->stats.subscriptions_held = broker_watch_subscriptions (self->watch);
            self->stats.peers = broker_watch_peers (self->watch);
            self->stats.local_waits = self->local? broker_local_waits (self->local): 0;
            self->stats.local_wait_ms = self->local? broker_local_wait_ms (self->local): 0;
            if (self->engine)
                broker_engine_fill_stats (self->engine, &self->sink, &self->stats);
            broker_control_serve (self->requests);
            //  The loop may sleep now: what the queues' requests changed shows at once
            broker_queues_publish (self->queues, self->counters);
        }
        //  One chunk per snapshot or history stream per turn
        streams_wait = broker_control_work (self->requests);
        //  Confirms slow sources could not take yet go out as they read
        if (broker_confirm_work (self->confirms) > 0 && (streams_wait < 0 || streams_wait > 1))
            streams_wait = 1;
    }
    s_drain_for_exit (self);
    if (self->pipeline)
        zch_pipeline_report (self->pipeline, "broker");
    zch_notice ("broker: stopped after forwarding %llu messages (%llu malformed, %llu over "
                "--max-payload dropped)", (unsigned long long) self->stats.messages_in,
                (unsigned long long) self->stats.malformed, (unsigned long long) self->stats.too_large);
    s_self_destroy (&self);
}

int
broker_reload (zactor_t *broker, const broker_config_t *config, char *error, size_t error_size)
{
    zch_pipeline_t *pipeline;
    if (zch_pipeline_build (&config->plugins, ZCH_PLUGIN_STAGE_BROKER, &pipeline, error, error_size))
        return -1;
    return zsock_send (broker, "sp", "RELOAD", pipeline);
}
