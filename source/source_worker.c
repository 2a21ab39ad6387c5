/*  source_worker: one loop of the data-source front-end.                    */
#include "source_worker.h"
#include "zch_auth.h"
#include "zch_edge.h"
#include "zch_envelope.h"
#include "zch_frame.h"
#include "zch_frame_reply.h"
#include "zch_guard.h"
#include "zch_internal.h"
#include "zch_net.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_text.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#define SOURCE_SNDHWM       1000    //  ZeroMQ messages queued towards the broker: batches, or messages in the outsiders' form
#define SOURCE_SNDHWM_INPROC 64     //  the same in one process, where libzmq adds the broker's receive mark (1,000) to ours
#define SOURCE_BATCH_BYTES  16384   //  a batch stops growing here (a larger message goes alone)
#define SOURCE_BATCH_MESSAGES 32    //  and here: with the marks, what bounds how far a publisher runs ahead of the broker
#define SOURCE_LINGER       5000    //  ms to hand queued messages over at exit, without hand-over
#define SOURCE_HANDOVER_EVERY 1000  //  ms between hand-overs while running (what "confirmed" lags)
#define SOURCE_HANDOVER_FAILOVER_EVERY 100   //  the same with brokers to fail over to (what a move may count lost)
#define SOURCE_HANDOVER_WAIT  5000  //  ms a hand-over may take while running before it is retried
#define SOURCE_TICK         200     //  ms between housekeeping turns
#define SOURCE_PAUSED_TICK  10      //  ms between broker checks while paused or holding a message

typedef source_worker_t self_t;

static int s_pending_send (self_t *self);

//  True while the broker listens to us and (with brokers to fail over to)
//  answers its heartbeat in time: what a frozen broker is sent is lost
//  when it is given up, so clients wait instead.
static bool
s_broker_takes (self_t *self)
{
    return self->broker_subscriptions > 0 && zch_failover_answering (self->failover);
}

//  Tracks the broker's subscription: XPUB reports it as "\1" when the
//  broker connects and "\0" when it goes away. Without it a PUB-style
//  socket would drop what we send, so we publish only while it holds.
static void
s_broker_events (self_t *self)
{
    bool had = self->broker_subscriptions > 0, had_internal = self->broker_internal;
    while (zch_zmq_readable (self->publisher)) {
        zmq_msg_t message;
        zmq_msg_init (&message);
        if (zmq_msg_recv (&message, self->publisher, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&message);
            break;
        }
        const uint8_t *data = zmq_msg_data (&message);
        size_t size = zmq_msg_size (&message);
        if (size == 3 && data [1] == ZCH_INTERNAL_MARK && data [2] == ZCH_INTERNAL_VERSION)
            //  The broker reads our internal envelope
            self->broker_internal = data [0] == 1;
        else
        if (size == 1)
            self->broker_subscriptions += data [0] == 1? 1: -1;
        zmq_msg_close (&message);
    }
    //  Said once both subscriptions are in (a new pipe gets them together)
    bool has = self->broker_subscriptions > 0;
    if (had && !has)
        zch_warning ("source: worker %d lost the broker, holding clients back", self->index);
    else
    if (has && (!had || had_internal != self->broker_internal))
        zch_info ("source: worker %d connected to the broker (%s %d)", self->index,
                  self->broker_internal? "internal envelope":
                  "the outsiders' form: it reads no internal envelope", ZCH_INTERNAL_VERSION);
    //  XPUB says nothing when the broker goes away: the link's own events do
    bool was_lost = zch_link_lost (self->link);
    zch_link_connects (self->link);
    if (!was_lost && zch_link_lost (self->link))
        zch_warning ("source: worker %d lost its connection to the broker", self->index);
    zch_metrics_set (&self->counters->linked,
                     self->broker_subscriptions > 0 && !zch_link_lost (self->link));
    //  An XPUB reports POLLOUT always (libzmq 4.3), so only a send tells
    //  whether the broker takes more: what is held back goes first, then
    //  paused clients try again and pause again if the queue is still full
    bool takes = s_broker_takes (self) && s_pending_send (self) == 0;
    if (takes && zch_worker_has_paused (ZCH_WORKER (self)))
        zch_worker_resume (ZCH_WORKER (self));
    //  UDP is read only while the broker takes more: the kernel holds the rest
    if (self->udp)
        source_udp_set_ready (self->udp, takes);
}

//  Sends this turn's batch. Returns 0 when it went (or was empty), -1
//  when the broker cannot take it now: it is then held, and goes before
//  anything else.
static int
s_batch_send (self_t *self)
{
    uint32_t count = zch_batch_count (self->batch);
    self->batch_stuck = count > 0 && (!s_broker_takes (self) || !self->broker_internal
                                      || zch_batch_send (self->batch, self->publisher));
    if (count == 0 || self->batch_stuck)
        return self->batch_stuck? -1: 0;
    self->published += count;
    self->published_bytes += self->batch_bytes;
    self->batch_bytes = 0;
    return 0;
}

//  Adds a message the plugins passed to this turn's batch, sending the
//  batch first when it holds another topic or is full. Returns 0, or -1
//  when the broker cannot take that batch now (the message is not in).
static int
s_batch_add (self_t *self, const zch_pipeline_msg_t *msg, const uint8_t *meta, size_t meta_size)
{
    if (zch_batch_add (self->batch, msg->topic, msg->topic_len, meta, meta_size,
                       msg->payload, msg->payload_len)) {
        if (s_batch_send (self)
        ||  zch_batch_add (self->batch, msg->topic, msg->topic_len, meta, meta_size,
                           msg->payload, msg->payload_len))
            return -1;
    }
    self->batch_bytes += msg->payload_len;
    return 0;
}

//  Sends what the plugins passed earlier and the broker could not take:
//  a batch, then a message. Returns 0 when nothing is held back (any
//  more), -1 while the broker still cannot take it: until it goes, nothing
//  else may be published.
static int
s_pending_send (self_t *self)
{
    if (self->batch_stuck && s_batch_send (self))
        return -1;
    if (!source_pending_held (self->pending))
        return 0;
    size_t payload_len = source_pending_payload_size (self->pending);
    if (!s_broker_takes (self) || source_pending_send (self->pending, self->publisher))
        return -1;
    self->published++;
    self->published_bytes += payload_len;
    return 0;
}

//  Holds the plugins' result when the broker could not take it, so that
//  they never see the message again: it is sent before anything else.
//  Returns 0, or 1 when it could not be kept (dropped, counted, logged).
static int
s_pending_keep (self_t *self, const char *src, const zch_pipeline_msg_t *msg,
                const uint8_t *meta, size_t meta_size, size_t received)
{
    self->received_bytes += received;
    if (source_pending_keep (self->pending, src, msg->topic, msg->topic_len, meta, meta_size,
                             msg->payload, msg->payload_len) == 0)
        return 0;
    zch_error ("source: worker %d dropped a message to %.*s from %s: out of memory holding it "
               "for the broker", self->index, (int) msg->topic_len, msg->topic, src);
    self->dropped_by = "(out of memory)";
    self->plugin_dropped++;
    return 1;
}

//  Sends one envelope; src names the client, headers (a checked msgpack
//  map, or NULL) go into meta as "h", a confirm number (0: none) with the
//  route the broker answers it on. Returns 0 when it was sent or held
//  back to go first (the plugins ran: see s_pending_keep), 1 when a plugin
//  dropped it, or -1 when the broker cannot take it now: then nothing was
//  sent, no plugin has seen it, and the caller pauses the client.
static int
s_publish (self_t *self, const char *src, const char *topic, size_t topic_len,
           const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size,
           const char *route, size_t route_len, uint64_t confirm)
{
    if (!s_broker_takes (self) || s_pending_send (self))
        return -1;
    //  When the read that brought it ended its loop's wait
    uint64_t ts = zch_loop_now_ns (self->loop);
    uint8_t meta [ZCH_META_MAX], headed [ZCH_META_MAX];
    size_t meta_size = headers?
        zch_headers_meta_encode (ts, src, strlen (src), headers, headers_size, meta, sizeof meta):
        zch_meta_encode (0, ts, 0, src, strlen (src), meta, sizeof meta);
    zch_pipeline_msg_t msg = {
        .topic = topic, .topic_len = topic_len, .payload = (const uint8_t *) payload,
        .payload_len = payload_len, .meta = meta, .meta_size = meta_size, .ts = ts
    };
    if (self->pipeline && zch_pipeline_run (self->pipeline, &msg) == ZCH_PLUGIN_DROP) {
        self->dropped_by = msg.dropped_by;
        zch_pipeline_done (self->pipeline);
        self->plugin_dropped++;
        self->received_bytes += payload_len;
        return 1;
    }
    uint8_t *meta_out = meta;
    if (msg.headers_changed) {
        //  Plugin headers travel as meta "h"
        meta_size = zch_meta_stamp_headers (meta, meta_size, 0, ts, 0, msg.headers,
                                            msg.header_count, headed, sizeof headed);
        meta_out = headed;
    }
    if (confirm && meta_size) {
        //  After the plugins: a restamp takes a confirm request out
        size_t with = zch_meta_add_confirm (meta_out, meta_size, ZCH_META_MAX, route, route_len, confirm);
        meta_size = with? with: meta_size;
    }
    int rc = 0;
    if (meta_size && self->broker_internal) {
        //  In this turn's batch; the counters move as it goes
        rc = s_batch_add (self, &msg, meta_out, meta_size);
        if (rc == 0)
            self->received_bytes += payload_len;
    }
    else
    if (meta_size)
        rc = zmq_send (self->publisher, msg.topic, msg.topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0 && meta_size && !self->broker_internal) {
        //  Once the first frame is in, libzmq takes the rest of the message
        zmq_send (self->publisher, meta_out, meta_size, ZMQ_SNDMORE);
        zmq_send (self->publisher, msg.payload, msg.payload_len, 0);
        self->published++;
        self->published_bytes += msg.payload_len;
        self->received_bytes += payload_len;
        rc = 0;
    }
    else
    if (rc < 0 && self->pipeline)
        rc = s_pending_keep (self, src, &msg, meta_out, meta_size, payload_len);
    if (self->pipeline)
        zch_pipeline_done (self->pipeline);
    if (meta_size == 0) {
        self->dropped_by = "(headers too large)";
        self->plugin_dropped++;
        self->received_bytes += payload_len;
        return 1;
    }
    return rc;
}

int
source_worker_publish (self_t *self, const char *src, const char *topic, size_t topic_len,
           const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size,
           uint64_t confirm)
{
    size_t route_len = 0;
    const char *route = confirm? zch_confirm_route (self->confirm, &route_len): NULL;
    return s_publish (self, src, topic, topic_len, payload, payload_len, headers, headers_size,
                      route, route_len, confirm);
}

//  source_udp's way to publish.
static int
s_udp_publish (void *ctx, const char *topic, size_t topic_len,
               const char *payload, size_t payload_len, const char *src)
{
    return source_worker_publish (ctx, src, topic, topic_len, payload, payload_len, NULL, 0, 0);
}

//  source_relay's way to publish.
//  The broker confirms a relayed publish to the subscriber worker that asked.
static int
s_relay_publish (void *ctx, const char *src, const char *topic, size_t topic_len,
                 const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size,
                 const char *route, size_t route_len, uint64_t confirm)
{
    return s_publish (ctx, src, topic, topic_len, payload, payload_len, headers, headers_size,
                      route, route_len, confirm);
}

//  Writes the confirms that came, in order; a client owed nothing more
//  may go on with the lines it held back.
static void
s_confirm_turn (self_t *self)
{
    if (self->confirm && zch_confirm_work (self->confirm))
        zch_worker_resume (ZCH_WORKER (self));
}

//  Frees what s_self_new made.
static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zch_worker_close_edges (ZCH_WORKER (self));
    source_udp_destroy (&self->udp);
    source_relay_destroy (&self->relay);
    source_pending_destroy (&self->pending);
    zch_batch_destroy (&self->batch);
    source_handover_destroy (&self->handover);
    zch_confirm_destroy (&self->confirm);
    zch_failover_destroy (&self->failover);
    zch_link_destroy (&self->link);     //  before its socket
    if (self->publisher)
        zmq_close (self->publisher);
    zch_worker_clear (ZCH_WORKER (self));
    free (self);
    *self_p = NULL;
}

//  Sets up the relay and UDP ingest when configured. Returns 0 or -1.
static int
s_self_extras (self_t *self, char *error, size_t error_size)
{
    if (*self->config->relay && self->index == 0) {
        self->relay = source_relay_new (self->config->relay, &self->config->secure, s_relay_publish,
                                        self, error, error_size);
        if (!self->relay)
            return -1;
        zch_worker_watch (ZCH_WORKER (self), &self->relay_watch, source_relay_fd (self->relay));
    }
    if (*self->config->udp_listen) {
        int fd = zch_net_udp_bind (self->config->udp_listen, true, error, error_size);
        if (fd < 0)
            return -1;
        self->udp = source_udp_new (self->loop, fd,
                                    *self->config->udp_topic? self->config->udp_topic: NULL,
                                    self->config->max_payload, s_udp_publish, self);
        if (!self->udp) {
            snprintf (error, error_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

int
source_worker_publisher_open (source_worker_t *self, char *error, size_t error_size)
{
    self->publisher = zmq_socket (zsys_init (), ZMQ_XPUB);
    self->link = self->publisher? zch_link_new (self->publisher): NULL;
    if (!self->link) {
        snprintf (error, error_size, "cannot create socket: %s", zmq_strerror (zmq_errno ()));
        if (self->publisher)
            zmq_close (self->publisher);
        self->publisher = NULL;
        return -1;
    }
    self->broker_subscriptions = 0;
    zch_zmq_set (self->publisher, ZMQ_XPUB_NODROP, 1);
    bool inproc = strncmp (zch_failover_broker (self->failover), "inproc://", 9) == 0;
    zch_zmq_set (self->publisher, ZMQ_SNDHWM, inproc? SOURCE_SNDHWM_INPROC: SOURCE_SNDHWM);
    //  With the hand-over, its answer (not a linger timer) says when the
    //  queue has gone, and a broker that never answers is given up on
    bool control = self->config->control.count > 0 && *self->config->control.items [0];
    zch_zmq_set (self->publisher, ZMQ_LINGER, control? 0: SOURCE_LINGER);
    //  With brokers to fail over to, nothing is queued for one that is not
    //  connected: a dead broker's pipe goes, and clients are held back
    if (self->config->broker.count > 1)
        zch_zmq_set (self->publisher, ZMQ_IMMEDIATE, 1);
    if (zch_secure_curve (&self->config->secure, self->publisher, error, error_size)
    ||  zch_zmq_attach (self->publisher, "to broker", zch_failover_broker (self->failover), false,
                        error, error_size)
    ||  zch_worker_watch (ZCH_WORKER (self), &self->publisher_watch, zch_zmq_fd (self->publisher))) {
        zch_link_destroy (&self->link);
        zmq_close (self->publisher);
        self->publisher = NULL;
        return -1;
    }
    zch_worker_watch (ZCH_WORKER (self), &self->link_watch, zch_link_fd (self->link));
    return 0;
}

//  Sets up the base (loop, edges, plugins), then the broker socket.
static self_t *
s_self_new (zsock_t *pipe, const zch_worker_args_t *args, char *error, size_t error_size)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self) {
        zch_worker_close_listeners (args);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    static const zch_edge_handlers_t handlers = {
        .on_line = source_commands_on_line, .on_close = source_commands_on_close
    };
    static const zch_edge_handlers_t frame_handlers = {
        .on_line = source_frames_on_frame, .on_close = source_frames_on_close
    };
    const source_config_t *config = args->config;
    self->frames = (source_frames_t) {
        .publish = source_commands_frame_publish, .wait = source_commands_frame_wait,
        .closed = source_commands_frame_closed,
        .ctx = self, .max_payload = config->max_payload,
        .guard = &self->guard, .secure = &config->secure
    };
    if (zch_worker_init (ZCH_WORKER (self), pipe, args, "source", SOURCE_GREETING, &handlers,
                         &frame_handlers, &self->frames, error, error_size)
    ||  s_self_extras (self, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->pending = source_pending_new ();
    self->batch = zch_batch_new (SOURCE_BATCH_BYTES, SOURCE_BATCH_MESSAGES);
    if (!self->pending || !self->batch) {
        snprintf (error, error_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    bool control = self->config->control.count > 0 && *self->config->control.items [0];
    if (!(self->failover = zch_failover_new (&self->config->broker, &self->config->control,
                                             &self->config->secure, self->config->broker_timeout,
                                             "source", self->index, error, error_size))
    ||  source_worker_publisher_open (self, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    if (control) {
        self->handover = source_handover_new (zch_failover_control (self->failover), &self->config->secure,
                                              self->index, error, error_size);
        if (!self->handover) {
            s_self_destroy (&self);
            return NULL;
        }
        self->confirm = zch_confirm_new ("source", zch_failover_control (self->failover),
                                         &self->config->secure, self->index, error, error_size);
        if (!self->confirm) {
            s_self_destroy (&self);
            return NULL;
        }
    }
    if (self->handover)
        zch_worker_watch (ZCH_WORKER (self), &self->handover_watch, source_handover_fd (self->handover));
    if (self->confirm)
        zch_worker_watch (ZCH_WORKER (self), &self->confirm_watch, zch_confirm_fd (self->confirm));
    if (zch_failover_fd (self->failover) >= 0)
        zch_worker_watch (ZCH_WORKER (self), &self->failover_watch, zch_failover_fd (self->failover));
    return self;
}

//  Publishes the worker's counters for the metrics endpoint: before each
//  flush, so a client never sees a +OK the counters do not have yet. What
//  a plugin dropped was received; so is a message held back for the
//  broker (sent later, or dropped as hwm if it never went before the drain
//  timeout); what UDP could not hand to the broker was received and
//  dropped (hwm); bad frames and datagrams are malformed.
static void
s_publish_metrics (self_t *self)
{
    zch_counters_t *counters = self->counters;
    zch_worker_publish_metrics (ZCH_WORKER (self), 0, 0);
    const source_udp_stats_t *udp = self->udp? source_udp_stats (self->udp): NULL;
    uint64_t hwm_dropped = (udp? udp->dropped + udp->kernel_dropped: 0) + self->pending_dropped;
    uint64_t held = (source_pending_held (self->pending)? 1: 0) + zch_batch_count (self->batch)
                  + (self->udp && source_udp_holding (self->udp)? 1: 0)
                  + (self->relay && source_relay_held (self->relay)? 1: 0);
    uint64_t malformed = self->rejected + zch_worker_too_long (ZCH_WORKER (self))
                       + self->frames.malformed + self->frames.rejected + (udp? udp->malformed: 0)
                       + (self->relay? source_relay_malformed (self->relay): 0);
    zch_metrics_set (&counters->messages_received,
                     self->published + self->plugin_dropped + hwm_dropped + held);
    zch_metrics_set (&counters->bytes_received, self->received_bytes);
    zch_metrics_set (&counters->messages_sent, self->published);
    zch_metrics_set (&counters->bytes_sent, self->published_bytes);
    zch_metrics_set (&counters->dropped [ZCH_DROP_MALFORMED], malformed);
    if (self->confirm) {
        zch_metrics_set (&counters->confirms, zch_confirm_given (self->confirm));
        zch_metrics_set (&counters->unconfirmed, zch_confirm_failed (self->confirm));
    }
    zch_metrics_set (&counters->dropped [ZCH_DROP_HWM], hwm_dropped);
    zch_metrics_set (&counters->dropped [ZCH_DROP_SHUTDOWN], self->unconfirmed_lost);
}

//  Moves the hand-over on; starts one when final (at shutdown) or now and
//  then while messages go out, so that what the broker has confirmed
//  stays close to what was sent. timeout_ms bounds a hand-over.
static void
s_handover_turn (self_t *self, bool final, int timeout_ms)
{
    if (!self->handover)
        return;
    int64_t now = zclock_mono ();
    if (!source_handover_busy (self->handover)
    &&  source_handover_confirmed (self->handover) < self->published
    &&  (final || now - self->handover_at >= (self->config->broker.count > 1?
                                              SOURCE_HANDOVER_FAILOVER_EVERY: SOURCE_HANDOVER_EVERY))
    &&  source_handover_start (self->handover) == 0)
        self->handover_at = now;
    //  The marker follows everything counted as sent: never a held batch
    bool markable = self->broker_subscriptions > 0 && zch_batch_count (self->batch) == 0;
    source_handover_work (self->handover, markable? self->publisher: NULL,
                          self->published, timeout_ms);
}

//  True while the broker has not confirmed everything sent (hand-over on).
static bool
s_handover_owed (self_t *self)
{
    return self->handover && source_handover_confirmed (self->handover) < self->published;
}

//  Lets clients read their last replies, then closes them; hands the
//  broker what is held back for it, then waits until the broker confirms
//  it has processed everything sent (the hand-over). What the broker does
//  not take or confirm before the drain timeout is counted and logged.
static void
s_drain (zch_worker_t *base)
{
    self_t *self = (self_t *) base;
    zch_worker_stop_accepting (base);
    zch_worker_close_all (base);
    if (self->udp)
        source_udp_stop (self->udp);
    int64_t deadline = zclock_mono () + self->config->drain_timeout;
    while ((zch_worker_clients (base) > 0 || zch_batch_count (self->batch) > 0
        ||  source_pending_held (self->pending) || s_handover_owed (self)
        ||  (self->udp && source_udp_holding (self->udp))
        ||  (self->relay && source_relay_busy (self->relay)))
    &&  zclock_mono () < deadline) {
        zch_worker_flush (base);
        zch_loop_run_once (self->loop, 10);
        s_batch_send (self);
        s_broker_events (self);
        if (self->relay)
            source_relay_work (self->relay);
        s_confirm_turn (self);
        if (!source_pending_held (self->pending) && !(self->udp && source_udp_holding (self->udp)))
            s_handover_turn (self, true, (int) (deadline - zclock_mono ()) + 1);
    }
    if (self->udp)
        source_udp_discard (self->udp);
    if (self->relay && source_relay_held (self->relay)) {
        zch_warning ("source: worker %d dropped a channel client's publish: the broker took "
                     "nothing more before the drain timeout (%d ms)", self->index,
                     self->config->drain_timeout);
        source_relay_drop (self->relay);
        self->pending_dropped++;
    }
    uint32_t unsent = zch_batch_count (self->batch);
    if (unsent) {
        size_t topic_len;
        const char *topic = zch_batch_topic (self->batch, &topic_len);
        zch_warning ("source: worker %d dropped %u messages to %.*s held back in a batch: the broker "
                     "took nothing more before the drain timeout (%d ms)", self->index, unsent,
                     (int) topic_len, topic, self->config->drain_timeout);
        zch_batch_clear (self->batch);
        self->batch_stuck = false;
        self->pending_dropped += unsent;
    }
    if (source_pending_held (self->pending)) {
        zch_warning ("source: worker %d dropped a message to %s from %s: the broker took "
                     "nothing more before the drain timeout (%d ms)", self->index,
                     source_pending_topic (self->pending), source_pending_src (self->pending),
                     self->config->drain_timeout);
        source_pending_drop (self->pending);
        self->pending_dropped++;
    }
    if (s_handover_owed (self)) {
        self->unconfirmed_lost = self->published - source_handover_confirmed (self->handover);
        zch_warning ("source: worker %d: the broker did not confirm the hand-over before the "
                     "drain timeout (%d ms): up to %llu messages sent since its last confirmation "
                     "may be lost", self->index, self->config->drain_timeout,
                     (unsigned long long) self->unconfirmed_lost);
    }
    else
    if (self->handover && self->published)
        zch_info ("source: worker %d: the broker confirmed all %llu messages sent",
                  self->index, (unsigned long long) self->published);
    s_publish_metrics (self);
}

//  Logs the counters at exit (metrics will take them later).
static void
s_report (zch_worker_t *base)
{
    self_t *self = (self_t *) base;
    zch_info ("source: worker %d stopped after publishing %llu messages",
              self->index, (unsigned long long) self->published);
    if (self->frame_edge)
        zch_info ("source: worker %d frames: %llu malformed, %llu refused, %llu over the size limit",
                  self->index, (unsigned long long) self->frames.malformed,
                  (unsigned long long) self->frames.rejected,
                  (unsigned long long) zch_edge_stats (self->frame_edge)->lines_too_long);
    if (self->udp) {
        source_udp_report (self->udp, true);
        const source_udp_stats_t *stats = source_udp_stats (self->udp);
        zch_info ("source: worker %d udp: %llu datagrams received, %llu published, "
                  "%llu malformed, %llu dropped, %llu dropped by plugins, %llu dropped by the "
                  "kernel", self->index,
                  (unsigned long long) stats->received, (unsigned long long) stats->published,
                  (unsigned long long) stats->malformed, (unsigned long long) stats->dropped,
                  (unsigned long long) stats->plugin_dropped,
                  (unsigned long long) stats->kernel_dropped);
    }
    zch_secure_report ("source", self->index, self->edge, self->frame_edge, &self->guard, 0);
}

//  One turn's work after the owner's commands: the broker's news, the
//  relay, confirms and the hand-over, then the clients' output. Waits
//  less long while clients or messages wait for the broker.
static int
s_turn (zch_worker_t *base)
{
    self_t *self = (self_t *) base;
    //  What the clients' input gave this turn goes now, before any move
    s_batch_send (self);
    source_failover_turn (self);
    s_broker_events (self);
    if (self->relay)
        source_relay_work (self->relay);
    s_confirm_turn (self);
    s_handover_turn (self, false, SOURCE_HANDOVER_WAIT);
    s_publish_metrics (self);
    zch_worker_flush (base);
    if (self->udp)
        source_udp_report (self->udp, false);
    s_batch_send (self);
    bool waiting = zch_worker_has_paused (base)
                || source_pending_held (self->pending) || self->batch_stuck
                || (self->udp && source_udp_holding (self->udp))
                || (self->relay && source_relay_busy (self->relay));
    return waiting? SOURCE_PAUSED_TICK: SOURCE_TICK;
}

static void
s_destroy (zch_worker_t **self_p)
{
    s_self_destroy ((self_t **) self_p);
}

void
source_worker_actor (zsock_t *pipe, void *args)
{
    static const zch_worker_class_t source_class = {
        .role = "source", .tick = SOURCE_TICK, .turn = s_turn, .drain = s_drain,
        .report = s_report, .destroy = s_destroy
    };
    char error [512];
    self_t *self = s_self_new (pipe, args, error, sizeof error);
    if (self) {
        zch_worker_announce (ZCH_WORKER (self), "publishing to");
        if (self->udp && self->index == 0)
            zch_notice ("source: UDP ingest on %s%s%s", self->config->udp_listen,
                        *self->config->udp_topic? ", raw payloads for ": "",
                        self->config->udp_topic);
        if (self->udp && self->index == 0 && self->config->secure.auth)
            zch_warning ("source: UDP ingest takes no tokens: its datagrams bypass auth-file");
    }
    zch_worker_run (pipe, ZCH_WORKER (self), &source_class, error);
}

int
source_reload (zch_workers_t *workers, char *error, size_t error_size)
{
    return zch_worker_reload_plugins (workers, error, error_size);
}

zch_workers_t *
source_start (const source_config_t *config, char *error, size_t error_size)
{
    if (*config->udp_listen && zch_net_udp_check_free (config->udp_listen, error, error_size))
        return NULL;
    return zch_frontend_start_workers (config, source_worker_actor, error, error_size);
}
