/*  broker_plugins: a producer message's path through the broker's
    plugins. They run before any seq is taken, so that a message they drop
    leaves no gap and no trace; the history keeps the message as
    forwarded, after them.                                                */
#include "broker_self.h"
#include "zch_log.h"
#include "zch_main.h"

//  The seq the next message on topic will get, without creating the topic
//  (a message the plugins drop must leave no trace).
static uint64_t
s_peek_seq (broker_self_t *self, const char *name, size_t len)
{
    broker_topic_t *topic = broker_history_find (self->history, name, len);
    return topic? broker_history_next_seq (topic): 1;
}

//  Runs the plugins on a parsed message. Returns 0 (msg holds the
//  result), or -1 when dropped (counted; the pipeline is already recycled).
static int
s_plugins_run (broker_self_t *self, const zch_envelope_view_t *view, const zch_frame_t *views,
               uint64_t now, zch_pipeline_msg_t *msg)
{
    zch_meta_t meta = { 0 };
    if (view->meta)
        zch_meta_decode (view->meta, view->meta_size, &meta);
    *msg = (zch_pipeline_msg_t) {
        .topic = view->topic, .topic_len = view->topic_len,
        .payload = views [view->payload_frame].data + view->payload_offset,
        .payload_len = view->payload_size, .meta = view->meta, .meta_size = view->meta_size,
        .seq = s_peek_seq (self, view->topic, view->topic_len),
        .ts = meta.has_ts? meta.ts: now
    };
    uint64_t errors = zch_pipeline_errors (self->pipeline);
    int rc = zch_pipeline_run (self->pipeline, msg);
    self->stats.plugin_errors += zch_pipeline_errors (self->pipeline) - errors;
    if (rc == ZCH_PLUGIN_DROP) {
        self->stats.plugin_dropped++;
        self->plugin_dropped_bytes += view->payload_size;
        zch_pipeline_done (self->pipeline);
        return -1;
    }
    return 0;
}

//  Replaces the frames a plugin changed with copies of its result.
static void
s_plugins_apply (const zch_pipeline_msg_t *msg, zmq_msg_t *topic_frame, zmq_msg_t *payload_frame)
{
    if (msg->topic_changed) {
        zmq_msg_close (topic_frame);
        zmq_msg_init_size (topic_frame, msg->topic_len);
        memcpy (zmq_msg_data (topic_frame), msg->topic, msg->topic_len);
    }
    if (msg->payload_changed) {
        zmq_msg_close (payload_frame);
        zmq_msg_init_size (payload_frame, msg->payload_len);
        if (msg->payload_len)
            memcpy (zmq_msg_data (payload_frame), msg->payload, msg->payload_len);
    }
}

void
broker_plugins_swap (broker_self_t *self, zch_pipeline_t *pipeline)
{
    if (self->pipeline) {
        zch_pipeline_report (self->pipeline, "broker");
        self->plugin_ns += zch_pipeline_ns (self->pipeline);
    }
    zch_pipeline_destroy (&self->pipeline);
    self->pipeline = pipeline;
}

void
broker_plugins_forward (broker_self_t *self, zmq_msg_t *frames, size_t count,
                        const zch_envelope_view_t *view, const zch_frame_t *views,
                        const zch_meta_t *producer)
{
    uint64_t now = zch_now_ns ();
    zch_pipeline_msg_t msg;
    if (s_plugins_run (self, view, views, now, &msg)) {
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0,
                               "dropped by a broker plugin");
        return;
    }
    if (self->engine) {
        broker_forward_engine (self, view, views, producer, &msg, now);
        return;
    }
    broker_topic_t *topic = broker_history_topic (self->history, msg.topic, msg.topic_len);
    uint64_t seq = topic? broker_history_next_seq (topic): 0;
    uint64_t epoch = topic? broker_history_topic_epoch (topic): 0;
    uint8_t meta [ZCH_META_MAX];
    size_t meta_size = 0;
    if (seq)
        meta_size = msg.headers_changed?
            zch_meta_stamp_headers (view->meta, view->meta_size, seq, now, epoch, msg.headers,
                                    msg.header_count, meta, sizeof meta):
            zch_meta_stamp (view->meta, view->meta_size, seq, now, epoch, meta, sizeof meta);
    zmq_msg_t topic_frame, meta_frame, payload_frame;
    const char *reason = seq? "meta too large once stamped": "out of memory";
    if (meta_size) {
        if (broker_history_add (self->history, topic, seq, meta, meta_size,
                                (const uint8_t *) msg.payload, msg.payload_len))
            self->stats.history_store_failed++;
        reason = "out of memory";
        if (broker_forward_frames (frames, count, view, &topic_frame, &payload_frame) == 0) {
            s_plugins_apply (&msg, &topic_frame, &payload_frame);
            reason = NULL;
        }
    }
    //  Only now: the plugins' result may point into their buffers
    zch_pipeline_done (self->pipeline);
    if (reason) {
        broker_malformed (self, reason);
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0, reason);
        return;
    }
    zmq_msg_init_size (&meta_frame, meta_size);
    memcpy (zmq_msg_data (&meta_frame), meta, meta_size);
    broker_forward_send (self, &topic_frame, &meta_frame, &payload_frame, view, producer, topic, seq, epoch);
}
