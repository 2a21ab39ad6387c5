/*  subscriber_worker: one loop of the subscriber front-end.                 */
#include "subscriber_worker.h"
#include "subscriber_channel.h"
#include "subscriber_relay.h"
#include "zch_confirm.h"
#include "subscriber_queue.h"
#include "subscriber_workq.h"
#include "zch_guard.h"
#include "zch_epoch.h"
#include "zch_internal.h"
#include "zch_log.h"
#include "zch_net.h"
#include "zch_zmq.h"

#define SUBSCRIBER_BATCH        4096    //  broker messages per turn before serving clients
#define SUBSCRIBER_TICK         200     //  ms between housekeeping turns
#define SUBSCRIBER_DRAIN_QUIET  200     //  ms of silence from the broker that ends a drain
//  Messages queued on the in-process link: the broker waits beyond them
#define SUBSCRIBER_LOCAL_HWM    64      //  batches of up to 64 KiB from the broker in this process

//  Lets the commands that waited (behind a barrier or a catch-up) go on.
static void
s_resume (subscriber_worker_t *self)
{
    zch_worker_resume (ZCH_WORKER (self));
}

//  Trie callback: writes the delivery to one matching client, once (a
//  client catching up holds it, or drops it as a repeat).
static void
s_deliver_to (void *value, void *arg)
{
    subscriber_client_t *client = value;
    subscriber_delivery_t *delivery = arg;
    subscriber_worker_t *self = delivery->self;
    if (client->last_delivery == self->delivery)
        return;
    client->last_delivery = self->delivery;
    if (client->sync) {
        bool fresh = subscriber_sync_offer (&client->sync, delivery->topic, delivery->topic_len,
                                            delivery->seq, delivery->payload, delivery->payload_len);
        if (!client->sync)
            s_resume (self);    //  its commands waited for the catch-up
        if (!fresh)
            return;
    }
    subscriber_write_delivery (self, client, delivery);
}

//  Runs the egress plugins on a delivery, pointing it at their result.
//  Returns 0, or -1 when a plugin dropped it.
static int
s_plugins_run (subscriber_worker_t *self, subscriber_delivery_t *delivery, uint64_t ts)
{
    zch_pipeline_msg_t msg = {
        .topic = delivery->topic, .topic_len = delivery->topic_len,
        .payload = (const uint8_t *) delivery->payload, .payload_len = delivery->payload_len,
        .meta = delivery->meta, .meta_size = delivery->meta_size,
        .seq = delivery->seq, .ts = ts
    };
    if (zch_pipeline_run (self->pipeline, &msg) == ZCH_PLUGIN_DROP)
        return -1;
    delivery->topic = msg.topic;
    delivery->topic_len = msg.topic_len;
    delivery->payload = (const char *) msg.payload;
    delivery->payload_len = msg.payload_len;
    if (msg.headers_changed) {
        //  Frame clients see the headers the plugins left
        size_t size = zch_meta_stamp_headers (delivery->meta, delivery->meta_size, delivery->seq, ts,
                                              delivery->epoch, msg.headers, msg.header_count,
                                              self->plugin_meta, sizeof self->plugin_meta);
        if (size) {
            delivery->meta = self->plugin_meta;
            delivery->meta_size = size;
        }
    }
    return 0;
}

//  Runs the egress plugins once, then hands the result to every matching
//  client, once each.
static void
s_fan_out (subscriber_worker_t *self, subscriber_delivery_t *delivery, uint64_t ts)
{
    if (!self->pipeline || s_plugins_run (self, delivery, ts) == 0) {
        self->delivery++;
        subscriber_index_match (self->subscriptions, delivery->topic, delivery->topic_len,
                                s_deliver_to, delivery);
    }
    else
        self->plugin_dropped++;
    if (self->pipeline)
        zch_pipeline_done (self->pipeline);
}

//  A message healed from the broker's history, or released after a heal:
//  what a live message gets (its meta is not kept, so no headers).
static void
s_deliver (void *ctx, const char *topic, size_t topic_len, uint64_t seq,
           const char *payload, size_t payload_len)
{
    subscriber_worker_t *self = ctx;
    subscriber_delivery_t delivery = {
        .self = self, .topic = topic, .topic_len = topic_len, .seq = seq,
        .payload = payload, .payload_len = payload_len
    };
    s_fan_out (self, &delivery, zch_now_ns ());
}

//  A client catch-up's message for its one client. One from the broker's
//  history goes through the egress plugins first, like a live one.
static void
s_sync_write (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, uint64_t seq,
              const char *payload, size_t payload_len, bool processed)
{
    subscriber_worker_t *self = ctx;
    subscriber_client_t *client = zch_conn_user (conn);
    if (!client)
        return;
    subscriber_delivery_t delivery = {
        .self = self, .topic = topic, .topic_len = topic_len, .seq = seq,
        .payload = payload, .payload_len = payload_len
    };
    bool plugins = !processed && self->pipeline;
    if (plugins && s_plugins_run (self, &delivery, zch_now_ns ()))
        self->plugin_dropped++;
    else
        subscriber_write_delivery (self, client, &delivery);
    if (plugins)
        zch_pipeline_done (self->pipeline);
}

//  A client catch-up's notice for its one client.
static void
s_sync_notice (void *ctx, zch_conn_t *conn, const char *code, const char *text)
{
    (void) ctx;
    subscriber_client_t *client = zch_conn_user (conn);
    if (client)
        subscriber_client_error (client, code, "", text);
}

//  Trie callback: tells one matching client, once, of lost messages, or
//  (delivery->epoch set) that the topic's seqs start afresh: then a floor
//  its catch-up keeps from the old epoch goes.
static void
s_notice_to (void *value, void *arg)
{
    subscriber_client_t *client = value;
    subscriber_delivery_t *delivery = arg;
    if (client->last_delivery == delivery->self->delivery)
        return;
    client->last_delivery = delivery->self->delivery;
    if (delivery->epoch && client->sync)
        subscriber_sync_forget (client->sync, delivery->topic, delivery->topic_len);
    subscriber_client_error (client, delivery->epoch? SUBSCRIBER_E_RESET: SUBSCRIBER_E_GAP, "",
                             delivery->payload);
}

//  Messages from..to of topic are lost for good: "-ERR gap <topic>
//  <from>-<to>" (frames: ["err", "gap", ...]) to every client that
//  follows the topic.
static void
s_gap (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to)
{
    subscriber_worker_t *self = ctx;
    char text [ZCH_TOPIC_MAX + 64];
    int len = snprintf (text, sizeof text, "gap %.*s %llu-%llu", (int) topic_len, topic,
                        (unsigned long long) from, (unsigned long long) to);
    subscriber_delivery_t delivery = { .self = self, .payload = text, .payload_len = (size_t) len };
    self->delivery++;
    subscriber_index_match (self->subscriptions, topic, topic_len, s_notice_to, &delivery);
}

//  The topic's seqs start afresh in epoch (the broker started afresh):
//  "-ERR reset <topic> <epoch>" (frames: ["err", "reset", ...]) to every
//  client that follows the topic, before its first message of the epoch.
static void
s_reset (void *ctx, const char *topic, size_t topic_len, uint64_t epoch)
{
    subscriber_worker_t *self = ctx;
    char text [ZCH_TOPIC_MAX + ZCH_EPOCH_TEXT_MAX + 16], epoch_text [ZCH_EPOCH_TEXT_MAX + 1];
    zch_epoch_format (epoch, epoch_text);
    int len = snprintf (text, sizeof text, "reset %.*s %s", (int) topic_len, topic, epoch_text);
    subscriber_delivery_t delivery = {
        .self = self, .topic = topic, .topic_len = topic_len, .epoch = epoch,
        .payload = text, .payload_len = (size_t) len
    };
    self->delivery++;
    subscriber_index_match (self->subscriptions, topic, topic_len, s_notice_to, &delivery);
}

//  A client's catch-up ended: the commands it paused may go on.
static void
s_sync_ended (void *ctx)
{
    s_resume ((subscriber_worker_t *) ctx);
}

//  What a catch-up needs of the live stream: the last seq delivered.
static uint64_t
s_sync_last_seq (void *ctx, const char *topic, size_t topic_len)
{
    return subscriber_heal_last_seq (((subscriber_worker_t *) ctx)->heal, topic, topic_len);
}

const subscriber_sync_handlers_t subscriber_worker_sync_handlers = {
    .write = s_sync_write, .notice = s_sync_notice, .last_seq = s_sync_last_seq,
    .ended = s_sync_ended
};

//  What one drain turn keeps between messages: the output budget's
//  bookkeeping (a batch fans out to every client, so it can queue far
//  more than it reads).
typedef struct {
    size_t queued;
    uint64_t delivered_from;
} s_turn_t;

//  Delivers one message from the broker, meta still encoded.
static void
s_upstream_message (subscriber_worker_t *self, s_turn_t *turn, const char *topic, size_t topic_len,
                    const uint8_t *meta_data, size_t meta_size, const uint8_t *payload, size_t payload_size)
{
    zch_meta_t meta;
    if (topic_len == 0 || zch_meta_decode (meta_data, meta_size, &meta)) {
        self->malformed++;
        zch_warning ("subscriber: dropped a malformed message from the broker");
        return;
    }
    subscriber_delivery_t delivery = {
        .self = self, .topic = topic, .topic_len = topic_len, .seq = meta.seq, .epoch = meta.epoch,
        .payload = (const char *) payload, .payload_len = payload_size,
        .meta = meta_data, .meta_size = meta_size
    };
    self->received++;
    self->received_bytes += delivery.payload_len;
    //  what one delivery line or frame may take, about
    size_t cost = topic_len + delivery.payload_len + 64;
    self->room = self->room > cost? self->room - cost: 0;
    if (turn->queued + (self->delivered_bytes - turn->delivered_from) > self->budget) {
        subscriber_keep_budget (self);
        turn->queued = subscriber_output_queued (self);
        turn->delivered_from = self->delivered_bytes;
    }
    //  A seq jump holds the topic until the history fills it
    if (subscriber_heal_live (self->heal, topic, topic_len, meta.seq, meta.epoch,
                              delivery.payload, delivery.payload_len))
        s_fan_out (self, &delivery, meta.ts);
}

//  Delivers the messages of one internal-envelope message (zch_internal.h):
//  the frame is checked whole before any of them is used. Returns how many.
static size_t
s_upstream_batch (subscriber_worker_t *self, s_turn_t *turn, zmq_msg_t *frames)
{
    unsigned version;
    const char *topic;
    size_t topic_len;
    zch_internal_reader_t reader;
    int rc = zch_internal_topic (zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]), &version,
                                 &topic, &topic_len);
    if (rc == ZCH_INTERNAL_OK
    &&  zch_internal_open (&reader, zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1])) > 0) {
        const uint8_t *meta, *payload;
        size_t meta_size, payload_size, count = 0;
        while (zch_internal_next (&reader, &meta, &meta_size, &payload, &payload_size)) {
            s_upstream_message (self, turn, topic, topic_len, meta, meta_size, payload, payload_size);
            count++;
        }
        return count;
    }
    self->malformed++;
    zch_warning ("subscriber: dropped a malformed message from the broker%s",
                 rc == ZCH_INTERNAL_E_VERSION? " (another internal envelope version)": "");
    return 1;
}

//  Receives up to about SUBSCRIBER_BATCH messages from the broker and
//  delivers them. Returns how many it read.
static size_t
s_upstream_drain (subscriber_worker_t *self)
{
    size_t handled = 0;
    s_turn_t turn = { subscriber_output_queued (self), self->delivered_bytes };
    //  With the broker in this process, a turn adds at most room to any
    //  client's output (s_clients_behind): the rest waits in the broker
    while (handled < SUBSCRIBER_BATCH && !(self->config->broker_local && self->room == 0)) {
        zmq_msg_t frames [3];
        size_t count = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *frame = &frames [count < 3? count: 2];
            if (count >= 3)
                zmq_msg_close (frame);
            zmq_msg_init (frame);
            if (zmq_msg_recv (frame, self->upstream, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (frame);
                for (size_t i = 0; i < count && i < 3; i++)
                    zmq_msg_close (&frames [i]);
                return handled;
            }
            more = zmq_msg_more (frame);
            count++;
        }
        const char *topic = zmq_msg_data (&frames [0]);
        size_t topic_len = zmq_msg_size (&frames [0]);
        zch_meta_t meta;
        if (count == 2 && topic_len > 0 && topic [0] == ZCH_INTERNAL_MARK)
            handled += s_upstream_batch (self, &turn, frames);
        else
        if (count == 3 && topic_len > 0 && topic [0] == '$'
        &&  zch_meta_decode (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]), &meta) == 0) {
            handled++;
            if (!subscriber_queue_deliver (self->queue, topic, topic_len, meta.seq, meta.epoch,
                                           zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]),
                                           zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2])))
                subscriber_barrier_message (self, topic, topic_len, meta.epoch,
                                  zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2]));
        }
        else
        if (count == 3) {
            handled++;
            s_upstream_message (self, &turn, topic, topic_len,
                                zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]),
                                zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2]));
        }
        else {
            handled++;
            self->malformed++;
            zch_warning ("subscriber: dropped a malformed message from the broker");
        }
        for (size_t i = 0; i < (count < 3? count: 3); i++)
            zmq_msg_close (&frames [i]);
    }
    return handled;
}

//  The broker link's news. Each connection (a broker restarted, or
//  moved to) has the topics' seqs checked, and a probe proves the broker
//  hears us before the worker is ready again; a link lost is not ready.
static void
s_link_turn (subscriber_worker_t *self)
{
    bool was_lost = zch_link_lost (self->link);
    if (zch_link_connects (self->link)) {
        subscriber_heal_link_up (self->heal);
        if (!self->probing)
            subscriber_barrier_probe (self);
    }
    if (!was_lost && zch_link_lost (self->link)) {
        zch_metrics_set (&self->counters->linked, 0);
        zch_warning ("subscriber: worker %d lost the broker", self->index);
    }
}

//  A client is going: drop its subscriptions and forget its barriers.
void
subscriber_on_close (void *ctx, zch_conn_t *conn)
{
    subscriber_worker_t *self = ctx;
    subscriber_client_t *client = zch_conn_user (conn);
    if (!client)
        return;
    subscriber_sync_destroy (&client->sync);
    subscriber_queue_leave (self->queue, client, NULL);
    if (self->confirm)
        zch_confirm_forget (self->confirm, conn);
    subscriber_workq_leave (self->workq, client);
    if (client->patterns) {
        zlistx_t *patterns = zhashx_keys (client->patterns);
        for (const char *pattern = zlistx_first (patterns); pattern; pattern = zlistx_next (patterns))
            subscriber_worker_unsubscribe (self, client, pattern);
        zlistx_destroy (&patterns);
        zhashx_destroy (&client->patterns);
    }
    if (client->barriers > 0)
        for (subscriber_barrier_t *barrier = zlistx_first (self->barriers); barrier;
             barrier = zlistx_next (self->barriers))
            if (barrier->client == client)
                barrier->client = NULL;
    free (client);
    zch_conn_set_user (conn, NULL);
}

//  After a token reload: the first of the client's patterns its token may
//  no longer subscribe to, or NULL (zch_guard_t.held_refused).
static const char *
s_held_refused (void *ctx, zch_conn_t *conn, const zch_token_t *entry)
{
    (void) ctx;
    subscriber_client_t *client = zch_conn_user (conn);
    if (!client || !client->patterns)
        return NULL;
    for (void *value = zhashx_first (client->patterns); value; value = zhashx_next (client->patterns)) {
        const char *pattern = zhashx_cursor (client->patterns);
        if (!zch_token_may_subscribe (entry, pattern, strlen (pattern)))
            return pattern;
    }
    return NULL;
}

//  Frees what s_self_new made.
static void
s_self_destroy (subscriber_worker_t **self_p)
{
    subscriber_worker_t *self = *self_p;
    if (!self)
        return;
    zch_worker_close_edges (ZCH_WORKER (self));     //  first: their on_close uses the rest
    subscriber_channel_destroy (&self->channel);
    subscriber_relay_destroy (&self->relay);
    zch_confirm_destroy (&self->confirm);
    subscriber_queue_destroy (&self->queue);
    subscriber_workq_destroy (&self->workq);        //  after the edges: what they held is given back
    subscriber_heal_destroy (&self->heal);
    subscriber_control_destroy (&self->control);    //  after the edges and the heal: their requests are gone
    zch_link_destroy (&self->link);
    zch_failover_destroy (&self->failover);
    subscriber_index_destroy (&self->subscriptions);
    zlistx_destroy (&self->barriers);
    if (self->upstream)
        zmq_close (self->upstream);
    zch_worker_clear (ZCH_WORKER (self));
    free (self->line);
    free (self->frame);
    free (self->ws);
    free (self->json);
    free (self);
    *self_p = NULL;
}

//  Sets up the loop, the edge and the broker socket.
static subscriber_worker_t *
s_self_new (zsock_t *pipe, const zch_worker_args_t *args, char *error, size_t error_size)
{
    subscriber_worker_t *self = calloc (1, sizeof *self);
    if (!self) {
        zch_worker_close_listeners (args);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    static const zch_edge_handlers_t handlers = {
        .on_line = subscriber_on_line, .on_close = subscriber_on_close
    };
    static const zch_edge_handlers_t frame_handlers = {
        .on_line = subscriber_on_frame, .on_close = subscriber_on_close
    };
    if (zch_worker_init (ZCH_WORKER (self), pipe, args, "subscriber", SUBSCRIBER_GREETING, &handlers,
                         &frame_handlers, NULL, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->guard.held_refused = s_held_refused;
    self->guard.held_ctx = self;
    self->budget = subscriber_budget (self->config);
    self->barriers = zlistx_new ();
    self->upstream = zmq_socket (zsys_init (), ZMQ_SUB);
    if (self->upstream)
        self->subscriptions = subscriber_index_new (self->upstream);
    if (!self->barriers || !self->upstream || !self->subscriptions) {
        snprintf (error, error_size, "cannot set up worker: %s", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->barriers, subscriber_barrier_free);
    zch_zmq_set (self->upstream, ZMQ_RCVHWM, self->config->broker_local?
                 SUBSCRIBER_LOCAL_HWM: self->config->upstream_hwm);
    zch_zmq_set (self->upstream, ZMQ_LINGER, 0);
    static const subscriber_heal_handlers_t heal_handlers = {
        .deliver = s_deliver, .gap = s_gap, .reset = s_reset, .barrier = subscriber_barrier_settle
    };
    self->link = zch_link_new (self->upstream);
    if (!self->link) {
        snprintf (error, error_size, "cannot watch the broker link: %s", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    if (!(self->failover = zch_failover_new (&self->config->broker, &self->config->control,
                                             &self->config->secure, self->config->broker_timeout,
                                             "subscriber", self->index, error, error_size))
    ||  zch_secure_curve (&self->config->secure, self->upstream, error, error_size)
    ||  zch_zmq_attach (self->upstream, "to broker", zch_failover_broker (self->failover), false,
                        error, error_size)
    ||  !(self->control = subscriber_control_new (zch_failover_control (self->failover),
                                                  &self->config->secure, error, error_size))) {
        s_self_destroy (&self);
        return NULL;
    }
    if (!(self->heal = subscriber_heal_new (self->control, &heal_handlers, self))) {
        snprintf (error, error_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    //  Channel and WebSocket clients publish through a source's relay
    bool publishers = *self->config->channel_listen || *self->config->ws_listen;
    if (*self->config->channel_listen && !*self->config->relay) {
        snprintf (error, error_size, "channel-listen needs a relay to a source (--relay)");
        s_self_destroy (&self);
        return NULL;
    }
    if ((publishers && *self->config->relay
    &&   !(self->relay = subscriber_relay_new (self->loop, self->config->relay, &self->config->secure,
                                               error, error_size)))
    ||  (self->relay && *zch_failover_control (self->failover)
    &&   !(self->confirm = zch_confirm_new ("subscriber", zch_failover_control (self->failover),
                                            &self->config->secure, self->index, error, error_size)))
    ||  (*self->config->channel_listen
    &&   !(self->channel = subscriber_channel_new (self, args, error, error_size)))) {
        s_self_destroy (&self);
        return NULL;
    }
    zuuid_t *uuid = zuuid_new ();
    snprintf (self->ack_prefix, sizeof self->ack_prefix, "$ack.%s.", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    self->queue = subscriber_queue_new (self);
    self->workq = subscriber_workq_new (self);
    if (!self->queue || !self->workq) {
        snprintf (error, error_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    zch_worker_watch (ZCH_WORKER (self), &self->upstream_watch, zch_zmq_fd (self->upstream));
    zch_worker_watch (ZCH_WORKER (self), &self->control_watch, subscriber_control_fd (self->control));
    zch_worker_watch (ZCH_WORKER (self), &self->link_watch, zch_link_fd (self->link));
    if (zch_failover_fd (self->failover) >= 0)
        zch_worker_watch (ZCH_WORKER (self), &self->failover_watch, zch_failover_fd (self->failover));
    if (self->confirm)
        zch_worker_watch (ZCH_WORKER (self), &self->confirm_watch, zch_confirm_fd (self->confirm));
    subscriber_barrier_probe (self);
    return self;
}

//  Writes the publisher confirms that came, and lets clients paused on a
//  full relay or on confirms owed go on (the edges' other paused clients
//  pause again at once).
static void
s_relay_turn (subscriber_worker_t *self)
{
    if (self->confirm && zch_confirm_work (self->confirm) && self->frame_edge)
        zch_edge_resume (self->frame_edge);
    if (!self->relay || !subscriber_relay_writable (self->relay))
        return;
    if (self->channel_edge && zch_edge_has_paused (self->channel_edge))
        zch_edge_resume (self->channel_edge);
    if (self->frame_edge && zch_edge_has_paused (self->frame_edge))
        zch_edge_resume (self->frame_edge);
}

//  Publishes the worker's counters for the metrics endpoint: before each
//  flush, so a client never sees a delivery the counters do not have yet.
static void
s_publish_metrics (subscriber_worker_t *self)
{
    zch_worker_publish_metrics (ZCH_WORKER (self), self->too_many_subs,
                                subscriber_queue_dropped (self->queue));
    zch_counters_t *counters = self->counters;
    zch_metrics_set (&counters->messages_received, self->received);
    zch_metrics_set (&counters->bytes_received, self->received_bytes);
    zch_metrics_set (&counters->messages_sent, self->delivered);
    zch_metrics_set (&counters->bytes_sent, self->delivered_bytes);
    zch_metrics_set (&counters->dropped [ZCH_DROP_MALFORMED], self->malformed
                     + zch_worker_too_long (ZCH_WORKER (self)) + self->frames_malformed + self->frames_rejected
                     + (self->channel? subscriber_channel_malformed (self->channel): 0));
    //  Lost on the broker link beyond what the history could heal
    zch_metrics_set (&counters->dropped [ZCH_DROP_HWM], subscriber_heal_stats (self->heal)->lost);
    zch_metrics_set (&counters->subscriptions, self->patterns);
    zch_metrics_set (&counters->output, subscriber_output_queued (self));
}

//  Delivers what the broker still sends until it has been quiet for a
//  moment, lets clients read it, then closes them.
static void
s_drain (zch_worker_t *base)
{
    subscriber_worker_t *self = (subscriber_worker_t *) base;
    zch_worker_stop_accepting (base);
    int64_t deadline = zclock_mono () + self->config->drain_timeout;
    int64_t quiet_since = zclock_mono ();
    while (zclock_mono () < deadline) {
        //  The broker has stopped: what it sent goes to the clients'
        //  queues now, bounded by max_output alone
        self->room = SIZE_MAX;
        if (s_upstream_drain (self) > 0)
            quiet_since = zclock_mono ();
        subscriber_control_drain (self->control);
        s_publish_metrics (self);
        zch_worker_flush (ZCH_WORKER (self));
        if (zclock_mono () - quiet_since >= SUBSCRIBER_DRAIN_QUIET && zch_worker_pending_output (ZCH_WORKER (self)) == 0)
            break;
        zch_loop_run_once (self->loop, 10);
    }
    size_t pending = zch_worker_pending_output (ZCH_WORKER (self));
    if (pending > 0)
        zch_warning ("subscriber: worker %d: drain timeout (%d ms) reached with %zu bytes "
                     "not yet read by clients", self->index, self->config->drain_timeout, pending);
    zch_worker_close_all (base);
    zch_worker_flush (ZCH_WORKER (self));
    while (zch_worker_clients (ZCH_WORKER (self)) > 0 && zclock_mono () < deadline + 1000) {
        zch_loop_run_once (self->loop, 10);
        zch_worker_flush (ZCH_WORKER (self));
    }
    s_publish_metrics (self);
}

//  One turn's work after the owner's commands: what the broker sent (unless
//  a client is so far behind that the broker must wait), catch-ups, the
//  channel and queue groups, then the clients' output. Goes on at once
//  after a full batch.
static int
s_turn (zch_worker_t *base)
{
    subscriber_worker_t *self = (subscriber_worker_t *) base;
    subscriber_failover_turn (self);
    s_link_turn (self);
    bool waiting = subscriber_clients_behind (self);
    size_t received = waiting? 0: s_upstream_drain (self);
    //  A full batch, or one cut short to let the clients catch up: go on
    bool busy = received >= SUBSCRIBER_BATCH || (self->config->broker_local && self->room == 0);
    //  A backlog this deep may have overflowed the broker's high-water
    //  mark: check the topics' seqs once the link is quiet (a link in
    //  this process never drops: the broker waits for room instead).
    //  The backlog is counted over the whole burst, not one turn: a
    //  backlog read in small turns may have overflowed all the same.
    if (received)
        self->burst += received;
    else
    if (!waiting)
        self->burst = 0;
    if (!self->config->broker_local
    &&  (received >= SUBSCRIBER_BATCH
     ||  (self->config->upstream_hwm > 0 && self->burst >= (uint64_t) self->config->upstream_hwm)))
        subscriber_heal_backlog (self->heal);
    subscriber_control_drain (self->control);
    if (received == 0 && !waiting)
        subscriber_heal_quiet (self->heal);
    s_relay_turn (self);
    subscriber_queue_turn (self->queue);
    subscriber_workq_turn (self->workq);
    subscriber_barrier_retry (self);
    s_publish_metrics (self);
    zch_worker_flush (base);
    subscriber_workq_settle (self->workq);
    subscriber_keep_budget (self);
    //  Caught up while waiting: read the broker again at once, not
    //  at the next tick (the clients' sockets wake nothing more)
    if (waiting && !subscriber_clients_behind (self))
        busy = true;
    //  What the broker sent while the work queues answered it wakes no one
    if (subscriber_workq_readable (self->workq))
        busy = true;
    return busy? 0: SUBSCRIBER_TICK;
}

//  Logs the counters at exit (metrics will take them later).
static void
s_report (zch_worker_t *base)
{
    subscriber_worker_t *self = (subscriber_worker_t *) base;
    zch_info ("subscriber: worker %d stopped after receiving %llu messages",
              self->index, (unsigned long long) self->received);
    if (self->frame_edge)
        zch_info ("subscriber: worker %d frames: %llu malformed, %llu over the size limit",
                  self->index, (unsigned long long) self->frames_malformed,
                  (unsigned long long) zch_edge_stats (self->frame_edge)->lines_too_long);
    zch_secure_report ("subscriber", self->index, self->edge, self->frame_edge, &self->guard,
                       self->too_many_subs);
}

static void
s_destroy (zch_worker_t **self_p)
{
    s_self_destroy ((subscriber_worker_t **) self_p);
}

void
subscriber_worker_actor (zsock_t *pipe, void *args)
{
    static const zch_worker_class_t subscriber_class = {
        .role = "subscriber", .tick = SUBSCRIBER_TICK, .turn = s_turn, .drain = s_drain,
        .report = s_report, .destroy = s_destroy
    };
    char error [512];
    subscriber_worker_t *self = s_self_new (pipe, args, error, sizeof error);
    if (self) {
        zch_worker_announce (ZCH_WORKER (self), "receiving from");
        if (self->channel_edge && self->index == 0)
            zch_notice ("subscriber: channel protocol on %s, publishing through %s",
                        self->config->channel_listen, self->config->relay);
    }
    zch_worker_run (pipe, ZCH_WORKER (self), &subscriber_class, error);
}

int
subscriber_reload (zch_workers_t *workers, char *error, size_t error_size)
{
    return zch_worker_reload_plugins (workers, error, error_size);
}

zch_workers_t *
subscriber_start (const subscriber_config_t *config, char *error, size_t error_size)
{
    if (*config->channel_listen && zch_net_check_free (config->channel_listen, error, error_size))
        return NULL;
    return zch_frontend_start_workers (config, subscriber_worker_actor, error, error_size);
}
