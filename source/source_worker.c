/*  source_worker: one loop of the data-source front-end.                    */
#include "source_worker.h"
#include "zch_auth.h"
#include "zch_edge.h"
#include "zch_envelope.h"
#include "zch_frame.h"
#include "zch_frame_reply.h"
#include "zch_guard.h"
#include "zch_net.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_text.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#define SOURCE_SNDHWM       10000   //  messages queued towards the broker
#define SOURCE_LINGER       5000    //  ms to hand queued messages over at exit, without hand-over
#define SOURCE_HANDOVER_EVERY 1000  //  ms between hand-overs while running (what "confirmed" lags)
#define SOURCE_HANDOVER_WAIT  5000  //  ms a hand-over may take while running before it is retried
#define SOURCE_TICK         200     //  ms between housekeeping turns
#define SOURCE_PAUSED_TICK  10      //  ms between broker checks while paused or holding a message

typedef source_worker_t self_t;

static int s_pending_send (self_t *self);

static void
s_watch_nothing (zch_watch_t *watch, uint32_t events)
{
    //  ZeroMQ descriptors only say "look again": the turn checks them
    (void) watch;
    (void) events;
}

//  Tracks the broker's subscription: XPUB reports it as "\1" when the
//  broker connects and "\0" when it goes away. Without it a PUB-style
//  socket would drop what we send, so we publish only while it holds.
static void
s_broker_events (self_t *self)
{
    while (zch_zmq_readable (self->publisher)) {
        zmq_msg_t message;
        zmq_msg_init (&message);
        if (zmq_msg_recv (&message, self->publisher, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&message);
            break;
        }
        if (zmq_msg_size (&message) >= 1) {
            bool subscribe = ((uint8_t *) zmq_msg_data (&message)) [0] == 1;
            self->broker_subscriptions += subscribe? 1: -1;
            zch_metrics_set (&self->counters->linked, self->broker_subscriptions > 0);
            if (self->broker_subscriptions <= 0)
                zch_warning ("source: worker %d lost the broker, holding clients back", self->index);
            else
                zch_info ("source: worker %d connected to the broker", self->index);
        }
        zmq_msg_close (&message);
    }
    //  An XPUB reports POLLOUT always (libzmq 4.3), so only a send tells
    //  whether the broker takes more: what is held back goes first, then
    //  paused clients try again and pause again if the queue is still full
    bool takes = self->broker_subscriptions > 0 && s_pending_send (self) == 0;
    if (takes) {
        if (zch_edge_has_paused (self->edge))
            zch_edge_resume (self->edge);
        if (self->frame_edge && zch_edge_has_paused (self->frame_edge))
            zch_edge_resume (self->frame_edge);
    }
    //  UDP is read only while the broker takes more: the kernel holds the rest
    if (self->udp)
        source_udp_set_ready (self->udp, takes);
}

//  Sends what the plugins passed earlier and the broker could not take.
//  Returns 0 when nothing is held back (any more), -1 while the broker
//  still cannot take it: until it goes, nothing else may be published.
static int
s_pending_send (self_t *self)
{
    if (!source_pending_held (self->pending))
        return 0;
    size_t payload_len = source_pending_payload_size (self->pending);
    if (self->broker_subscriptions <= 0 || source_pending_send (self->pending, self->publisher))
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
//  map, or NULL) go into meta as "h". Returns 0 when it was sent or held
//  back to go first (the plugins ran: see s_pending_keep), 1 when a plugin
//  dropped it, or -1 when the broker cannot take it now: then nothing was
//  sent, no plugin has seen it, and the caller pauses the client.
int
source_worker_publish (self_t *self, const char *src, const char *topic, size_t topic_len,
           const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size,
           uint64_t confirm)
{
    if (self->broker_subscriptions <= 0 || s_pending_send (self))
        return -1;
    uint64_t ts = zch_now_ns ();
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
        size_t route_len;
        const char *route = source_confirm_route (self->confirm, &route_len);
        size_t with = zch_meta_add_confirm (meta_out, meta_size, ZCH_META_MAX, route, route_len, confirm);
        meta_size = with? with: meta_size;
    }
    int rc = meta_size? zmq_send (self->publisher, msg.topic, msg.topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT): 0;
    if (rc >= 0 && meta_size) {
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

//  source_udp's way to publish.
static int
s_udp_publish (void *ctx, const char *topic, size_t topic_len,
               const char *payload, size_t payload_len, const char *src)
{
    return source_worker_publish (ctx, src, topic, topic_len, payload, payload_len, NULL, 0, 0);
}

//  source_relay's way to publish.
static int
s_relay_publish (void *ctx, const char *src, const char *topic, size_t topic_len,
                 const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size)
{
    return source_worker_publish (ctx, src, topic, topic_len, payload, payload_len, headers, headers_size, 0);
}

//  Writes the confirms that came, in order; a client owed nothing more
//  may go on with the lines it held back.
static void
s_confirm_turn (self_t *self)
{
    if (self->confirm && source_confirm_work (self->confirm)) {
        zch_edge_resume (self->edge);
        if (self->frame_edge)
            zch_edge_resume (self->frame_edge);
    }
}

//  Frees what s_self_new made.
static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zch_edge_destroy (&self->edge);
    zch_edge_destroy (&self->frame_edge);
    source_udp_destroy (&self->udp);
    source_relay_destroy (&self->relay);
    zch_pipeline_destroy (&self->pipeline);
    source_pending_destroy (&self->pending);
    source_handover_destroy (&self->handover);
    zch_auth_destroy (&self->guard.auth);
    source_confirm_destroy (&self->confirm);
    if (self->publisher)
        zmq_close (self->publisher);
    zch_loop_destroy (&self->loop);
    free (self);
    *self_p = NULL;
}

//  Sets up the frame edge and UDP ingest when configured. Returns 0 or -1.
static int
s_self_extras (self_t *self, const zch_worker_args_t *args, char *error, size_t error_size)
{
    static const zch_edge_handlers_t frame_handlers = {
        .on_line = source_frames_on_frame, .on_close = source_frames_on_close
    };
    self->frames = (source_frames_t) {
        .publish = source_commands_frame_publish, .wait = source_commands_frame_wait,
        .closed = source_commands_frame_closed,
        .ctx = self, .max_payload = self->config->max_payload,
        .guard = &self->guard, .secure = &self->config->secure
    };
    if (zch_frontend_frame_edge (self->loop, self->config, args, "source", &frame_handlers,
                                 &self->frames, &self->frame_edge)) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    if (*self->config->relay && self->index == 0) {
        self->relay = source_relay_new (self->config->relay, &self->config->secure, s_relay_publish,
                                        self, error, error_size);
        if (!self->relay)
            return -1;
        self->relay_watch = (zch_watch_t) { .fd = source_relay_fd (self->relay), .handler = s_watch_nothing };
        zch_loop_add (self->loop, &self->relay_watch, EPOLLIN);
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

//  Sets up the loop, the edge and the broker socket.
static self_t *
s_self_new (zsock_t *pipe, const zch_worker_args_t *args, char *error, size_t error_size)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self) {
        close (args->listen_fd);
        if (args->frame_fd >= 0)
            close (args->frame_fd);
        if (args->ws_fd >= 0)
            close (args->ws_fd);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->pipe = pipe;
    self->bye = ZCH_EDGE_BYE_TEXT;
    self->config = args->config;
    self->index = args->index;
    self->loop = zch_loop_new ();
    static const zch_edge_handlers_t handlers = {
        .on_line = source_commands_on_line, .on_close = source_commands_on_close
    };
    zch_edge_config_t edge_config = {
        .role = "source", .greeting = SOURCE_GREETING, .max_line = self->config->max_line,
        .max_output = self->config->max_output, .close_grace_ms = 1000
    };
    zch_secure_edge (&self->config->secure, args, false, &edge_config);
    self->guard = (zch_guard_t) {
        .role = "source", .auth = zch_auth_ref (self->config->secure.auth),
        .max_failures = self->config->secure.auth_max_failures
    };
    self->edge = self->loop? zch_edge_new (self->loop, args->listen_fd, &edge_config, &handlers, self): NULL;
    if (!self->edge) {
        close (args->listen_fd);
        if (args->frame_fd >= 0)
            close (args->frame_fd);
        if (args->ws_fd >= 0)
            close (args->ws_fd);
        snprintf (error, error_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    if (s_self_extras (self, args, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->publisher = zmq_socket (zsys_init (), ZMQ_XPUB);
    self->counters = zch_metrics_edge_counters ("source");
    if (!self->publisher || !self->counters) {
        snprintf (error, error_size, "cannot create socket: %s", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    self->pending = source_pending_new ();
    if (!self->pending) {
        snprintf (error, error_size, "out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    zch_zmq_set (self->publisher, ZMQ_XPUB_NODROP, 1);
    zch_zmq_set (self->publisher, ZMQ_SNDHWM, SOURCE_SNDHWM);
    //  With the hand-over, its answer (not a linger timer) says when the
    //  queue has gone, and a broker that never answers is given up on
    zch_zmq_set (self->publisher, ZMQ_LINGER, *self->config->control? 0: SOURCE_LINGER);
    if (zch_secure_curve (&self->config->secure, self->publisher, error, error_size)
    ||  zch_zmq_attach (self->publisher, "to broker", self->config->broker, false, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    if (*self->config->control) {
        self->handover = source_handover_new (self->config->control, &self->config->secure,
                                              self->index, error, error_size);
        if (!self->handover) {
            s_self_destroy (&self);
            return NULL;
        }
        self->handover_watch = (zch_watch_t) { .fd = source_handover_fd (self->handover),
                                               .handler = s_watch_nothing };
        self->confirm = source_confirm_new (self->config->control, &self->config->secure,
                                            self->index, error, error_size);
        if (!self->confirm) {
            s_self_destroy (&self);
            return NULL;
        }
        self->confirm_watch = (zch_watch_t) { .fd = source_confirm_fd (self->confirm),
                                              .handler = s_watch_nothing };
    }
    if (zch_pipeline_build (&self->config->plugins, ZCH_PLUGIN_STAGE_SOURCE, &self->pipeline,
                            error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->state.reload_free = zch_pipeline_free;
    self->pipe_watch = (zch_watch_t) { .fd = zsock_fd (pipe), .handler = s_watch_nothing };
    self->publisher_watch = (zch_watch_t) { .fd = zch_zmq_fd (self->publisher), .handler = s_watch_nothing };
    zch_loop_add (self->loop, &self->pipe_watch, EPOLLIN);
    zch_loop_add (self->loop, &self->publisher_watch, EPOLLIN);
    if (self->handover)
        zch_loop_add (self->loop, &self->handover_watch, EPOLLIN);
    if (self->confirm)
        zch_loop_add (self->loop, &self->confirm_watch, EPOLLIN);
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
    zch_secure_publish (counters, self->edge, self->frame_edge, &self->guard, 0);
    const zch_edge_stats_t *edge = zch_edge_stats (self->edge);
    const zch_edge_stats_t *frame_edge = self->frame_edge? zch_edge_stats (self->frame_edge): NULL;
    const source_udp_stats_t *udp = self->udp? source_udp_stats (self->udp): NULL;
    uint64_t hwm_dropped = (udp? udp->dropped + udp->kernel_dropped: 0) + self->pending_dropped;
    uint64_t held = (source_pending_held (self->pending)? 1: 0)
                  + (self->udp && source_udp_holding (self->udp)? 1: 0)
                  + (self->relay && source_relay_held (self->relay)? 1: 0);
    uint64_t malformed = self->rejected + edge->lines_too_long
                       + self->frames.malformed + self->frames.rejected
                       + (frame_edge? frame_edge->lines_too_long: 0) + (udp? udp->malformed: 0)
                       + (self->relay? source_relay_malformed (self->relay): 0);
    zch_metrics_set (&counters->messages_received,
                     self->published + self->plugin_dropped + hwm_dropped + held);
    zch_metrics_set (&counters->bytes_received, self->received_bytes);
    zch_metrics_set (&counters->messages_sent, self->published);
    zch_metrics_set (&counters->bytes_sent, self->published_bytes);
    zch_metrics_set (&counters->dropped [ZCH_DROP_MALFORMED], malformed);
    zch_metrics_set (&counters->dropped [ZCH_DROP_PLUGIN], self->plugin_dropped);
    if (self->confirm) {
        zch_metrics_set (&counters->confirms, source_confirm_given (self->confirm));
        zch_metrics_set (&counters->unconfirmed, source_confirm_failed (self->confirm));
    }
    zch_metrics_set (&counters->dropped [ZCH_DROP_HWM], hwm_dropped);
    zch_metrics_set (&counters->dropped [ZCH_DROP_SHUTDOWN], self->unconfirmed_lost);
    zch_metrics_set (&counters->dropped [ZCH_DROP_SLOW_CONSUMER],
                     edge->slow_consumers + (frame_edge? frame_edge->slow_consumers: 0));
    zch_metrics_set (&counters->slow_consumer_bytes,
                     edge->dropped_bytes + (frame_edge? frame_edge->dropped_bytes: 0));
    zch_metrics_set (&counters->plugin_ns,
                     self->plugin_ns + (self->pipeline? zch_pipeline_ns (self->pipeline): 0));
    zch_metrics_set (&counters->clients, zch_edge_client_count (self->edge)
                     + (self->frame_edge? zch_edge_client_count (self->frame_edge): 0));
}

//  Takes the pipeline a reload sent, between two messages.
static void
s_plugins_swap (self_t *self)
{
    if (self->pipeline) {
        zch_pipeline_report (self->pipeline, "source");
        self->plugin_ns += zch_pipeline_ns (self->pipeline);
    }
    zch_pipeline_destroy (&self->pipeline);
    self->pipeline = self->state.reload;
    self->state.reload = NULL;
    self->state.reloaded = false;
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
    &&  (final || now - self->handover_at >= SOURCE_HANDOVER_EVERY)
    &&  source_handover_start (self->handover) == 0)
        self->handover_at = now;
    source_handover_work (self->handover, self->broker_subscriptions > 0? self->publisher: NULL,
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
s_drain (self_t *self)
{
    zch_edge_stop_accepting (self->edge);
    zch_edge_close_all (self->edge, ZCH_EDGE_BYE_CODE, self->bye);
    if (self->frame_edge) {
        zch_edge_stop_accepting (self->frame_edge);
        zch_edge_close_all (self->frame_edge, ZCH_EDGE_BYE_CODE, self->bye);
    }
    if (self->udp)
        source_udp_stop (self->udp);
    int64_t deadline = zclock_mono () + self->config->drain_timeout;
    while ((zch_edge_client_count (self->edge) > 0
        ||  (self->frame_edge && zch_edge_client_count (self->frame_edge) > 0)
        ||  source_pending_held (self->pending) || s_handover_owed (self)
        ||  (self->udp && source_udp_holding (self->udp))
        ||  (self->relay && source_relay_busy (self->relay)))
    &&  zclock_mono () < deadline) {
        zch_edge_flush (self->edge);
        if (self->frame_edge)
            zch_edge_flush (self->frame_edge);
        zch_loop_run_once (self->loop, 10);
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

//  Logs the frame and UDP counters at exit (metrics will take them later).
static void
s_log_extras (self_t *self)
{
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
}

void
source_worker_actor (zsock_t *pipe, void *args)
{
    char error [512];
    self_t *self = s_self_new (pipe, args, error, sizeof error);
    if (!self) {
        zch_error ("source: %s", error);
        zch_actor_ready (pipe, error);
        return;
    }
    if (self->index == 0) {
        zch_notice ("source: listening on %s, publishing to %s", self->config->listen, self->config->broker);
        if (*self->config->frame_listen)
            zch_notice ("source: frame protocol on %s", self->config->frame_listen);
        if (*self->config->ws_listen)
            zch_notice ("source: WebSocket on %s%s", self->config->ws_listen,
                        self->config->secure.tls? " (wss)": "");
        if (self->udp)
            zch_notice ("source: UDP ingest on %s%s%s", self->config->udp_listen,
                        *self->config->udp_topic? ", raw payloads for ": "",
                        self->config->udp_topic);
        if (self->udp && self->config->secure.auth)
            zch_warning ("source: UDP ingest takes no tokens: its datagrams bypass auth-file");
    }
    zch_actor_ready (pipe, NULL);
    while (!self->state.stopping) {
        bool waiting = zch_edge_has_paused (self->edge)
                    || (self->frame_edge && zch_edge_has_paused (self->frame_edge))
                    || source_pending_held (self->pending)
                    || (self->udp && source_udp_holding (self->udp))
                    || (self->relay && source_relay_busy (self->relay));
        if (zch_loop_run_once (self->loop, waiting? SOURCE_PAUSED_TICK: SOURCE_TICK) < 0) {
            //  Nothing more can be served: say so, then drain what can be
            zch_error ("source: worker %d: its event loop failed: %s; closing its clients",
                       self->index, strerror (errno));
            self->bye = ZCH_EDGE_FATAL_TEXT;
            break;
        }
        zch_worker_commands (self->pipe, &self->state);
        if (self->state.limits_changed && self->frame_edge)
            zch_edge_set_limits (self->frame_edge, self->config->max_payload + ZCH_FRAME_OVERHEAD,
                                 self->state.max_output);
        zch_worker_apply_limits (&self->state, self->edge);
        zch_secure_apply (&self->state.secure, &self->guard, self->edge, self->frame_edge, NULL);
        if (self->state.reloaded)
            s_plugins_swap (self);
        s_broker_events (self);
        if (self->relay)
            source_relay_work (self->relay);
        s_confirm_turn (self);
        s_handover_turn (self, false, SOURCE_HANDOVER_WAIT);
        s_publish_metrics (self);
        zch_edge_flush (self->edge);
        if (self->frame_edge)
            zch_edge_flush (self->frame_edge);
        if (self->udp)
            source_udp_report (self->udp, false);
    }
    s_drain (self);
    if (self->pipeline)
        zch_pipeline_report (self->pipeline, "source");
    zch_info ("source: worker %d stopped after publishing %llu messages",
              self->index, (unsigned long long) self->published);
    s_log_extras (self);
    zch_secure_report ("source", self->index, self->edge, self->frame_edge, &self->guard, 0);
    zch_worker_await_term (pipe, &self->state);
    s_self_destroy (&self);
    zch_tls_thread_end ();
}

//  Builds worker index's new pipeline, off its thread.
static int
s_build (const void *config, int index, void **item, char *error, size_t error_size)
{
    (void) index;
    const source_config_t *source = config;
    return zch_pipeline_build (&source->plugins, ZCH_PLUGIN_STAGE_SOURCE,
                               (zch_pipeline_t **) item, error, error_size);
}

int
source_reload (zch_workers_t *workers, char *error, size_t error_size)
{
    return zch_workers_reload (workers, s_build, zch_pipeline_free, error, error_size);
}

zch_workers_t *
source_start (const source_config_t *config, char *error, size_t error_size)
{
    if (*config->udp_listen && zch_net_udp_check_free (config->udp_listen, error, error_size))
        return NULL;
    return zch_frontend_start_workers (config, source_worker_actor, error, error_size);
}
