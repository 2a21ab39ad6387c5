/*  broker_forward: a producer message from ingress to the front-ends.
    Parsed, checked, stamped with its topic's next seq, kept in the
    history and sent out with its topic and payload frames moved, never
    copied. The path through plugins is broker_plugins.c's.               */
#include "broker_self.h"
#include "zch_internal.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_topic.h"

#define BROKER_MAX_VIEWS    3   //  frames in the largest valid form

void
broker_malformed (broker_self_t *self, const char *reason)
{
    self->stats.malformed++;
    int64_t now = zclock_mono ();
    if (now - self->malformed_logged_at >= 1000) {
        zch_warning ("broker: dropped malformed message (%s); %llu dropped since the last report",
                     reason, (unsigned long long) (self->stats.malformed - self->malformed_logged));
        self->malformed_logged_at = now;
        self->malformed_logged = self->stats.malformed;
    }
}

//  Counts and, at most once a second, logs a payload over --max-payload.
static void
s_too_large (broker_self_t *self, const zch_envelope_view_t *view)
{
    self->stats.too_large++;
    int64_t now = zclock_mono ();
    if (now - self->too_large_logged_at >= 1000) {
        zch_warning ("broker: dropped a %zu-byte payload on '%.*s', over --max-payload %zu; "
                     "%llu dropped since the last report", view->payload_size, (int) view->topic_len,
                     view->topic, self->config->max_payload,
                     (unsigned long long) (self->stats.too_large - self->too_large_logged));
        self->too_large_logged_at = now;
        self->too_large_logged = self->stats.too_large;
    }
}

//  Frees the zmq_msg_t that a zero-copy payload frame points into.
static void
s_release_held (void *data, void *hint)
{
    (void) data;
    zmq_msg_t *held = hint;
    zmq_msg_close (held);
    free (held);
}

//  Makes payload a frame over part of frame without copying: frame moves
//  to the heap and lives until libzmq frees payload. Returns 0 or -1.
static int
s_payload_slice (zmq_msg_t *frame, size_t offset, size_t size, zmq_msg_t *payload)
{
    zmq_msg_t *held = malloc (sizeof *held);
    if (!held)
        return -1;
    zmq_msg_init (held);
    zmq_msg_move (held, frame);
    //  Only now is the address final (small messages live inside zmq_msg_t)
    uint8_t *data = (uint8_t *) zmq_msg_data (held) + offset;
    if (zmq_msg_init_data (payload, data, size, s_release_held, held)) {
        zmq_msg_close (held);
        free (held);
        return -1;
    }
    return 0;
}

int
broker_frames_make (zmq_msg_t frames [3], const char *topic, size_t topic_len, const uint8_t *meta,
                    size_t meta_size, const uint8_t *payload, size_t payload_size)
{
    size_t sizes [3] = { topic_len, meta_size, payload_size };
    for (size_t i = 0; i < 3; i++)
        if (zmq_msg_init_size (&frames [i], sizes [i])) {
            while (i > 0)
                zmq_msg_close (&frames [--i]);
            return -1;
        }
    memcpy (zmq_msg_data (&frames [0]), topic, topic_len);
    if (meta_size)
        memcpy (zmq_msg_data (&frames [1]), meta, meta_size);
    if (payload_size)
        memcpy (zmq_msg_data (&frames [2]), payload, payload_size);
    return 0;
}

void
broker_confirm_answer (broker_self_t *self, const zch_meta_t *producer, const char *topic,
                       size_t topic_len, uint64_t seq, uint64_t epoch, const char *reason)
{
    if (producer->has_confirm && producer->confirm_route)
        broker_confirm_send (self->confirms, producer->confirm_route, producer->confirm_route_len,
                             producer->confirm, topic, topic_len, seq, epoch, reason);
}

//  The meta gets its time now, so every broker forwards the same one. A
//  confirm its source asked for comes back from the engine.
void
broker_forward_engine (broker_self_t *self, const zch_envelope_view_t *view, const zch_frame_t *views,
                       const zch_meta_t *producer, zch_pipeline_msg_t *msg, uint64_t now)
{
    uint8_t meta [ZCH_META_MAX];
    if (!now)
        now = zch_now_ns ();
    size_t meta_size = msg && msg->headers_changed?
        zch_meta_stamp_headers (view->meta, view->meta_size, 0, now, 0, msg->headers,
                                msg->header_count, meta, sizeof meta):
        zch_meta_stamp (view->meta, view->meta_size, 0, now, 0, meta, sizeof meta);
    const char *route = producer->has_confirm? producer->confirm_route: NULL;
    int rc = 0;
    if (meta_size == 0) {
        broker_malformed (self, "meta too large once stamped");
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0,
                               "meta too large once stamped");
    }
    else
    if (msg)
        rc = broker_engine_publish (self->engine, msg->topic, msg->topic_len, meta, meta_size,
                                    (const uint8_t *) msg->payload, msg->payload_len,
                                    route, producer->confirm_route_len, producer->confirm);
    else
        rc = broker_engine_publish (self->engine, view->topic, view->topic_len, meta, meta_size,
                                    views [view->payload_frame].data + view->payload_offset,
                                    view->payload_size, route, producer->confirm_route_len,
                                    producer->confirm);
    if (rc)
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0, "Redis engine busy");
    if (msg)
        zch_pipeline_done (self->pipeline);
    if (meta_size) {
        self->stats.messages_in++;
        self->stats.bytes_in += view->payload_size;
    }
}

int
broker_forward_frames (zmq_msg_t *frames, size_t count, const zch_envelope_view_t *view,
                       zmq_msg_t *topic_frame, zmq_msg_t *payload_frame)
{
    if (count == 1) {
        zmq_msg_init_size (topic_frame, view->topic_len);
        memcpy (zmq_msg_data (topic_frame), view->topic, view->topic_len);
        if (s_payload_slice (&frames [0], view->payload_offset, view->payload_size, payload_frame)) {
            zmq_msg_close (topic_frame);
            return -1;
        }
    }
    else {
        zmq_msg_init (topic_frame);
        zmq_msg_move (topic_frame, &frames [0]);
        zmq_msg_init (payload_frame);
        zmq_msg_move (payload_frame, &frames [view->payload_frame]);
    }
    return 0;
}

//  Counts a forwarded message and confirms it to its source when asked.
static void
s_forwarded (broker_self_t *self, const zch_envelope_view_t *view, const zch_meta_t *producer,
             broker_topic_t *topic, uint64_t seq, uint64_t epoch)
{
    self->stats.messages_in++;
    self->stats.bytes_in += view->payload_size;
    if (producer->has_confirm) {
        size_t name_len;
        const char *name = broker_history_name (topic, &name_len);
        broker_confirm_answer (self, producer, name, name_len, seq, epoch, NULL);
    }
}

void
broker_forward_send (broker_self_t *self, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame,
                     zmq_msg_t *payload_frame, const zch_envelope_view_t *view,
                     const zch_meta_t *producer, broker_topic_t *topic, uint64_t seq, uint64_t epoch)
{
    broker_send_out (self, topic_frame, meta_frame, payload_frame);
    s_forwarded (self, view, producer, topic, seq, epoch);
}

//  The path without plugins: the topic as sent, and a meta as zchannel's
//  source writes it takes its seq where it lies, when meta_in_place gives
//  its bytes writable and read by no one else. Without frames (a message
//  of an internal batch) frames are made only if an outside consumer or a
//  queue group needs them.
static void
s_forward_plain (broker_self_t *self, zmq_msg_t *frames, size_t count, const zch_envelope_view_t *view,
                 const zch_frame_t *views, const zch_meta_t *producer, uint8_t *meta_in_place)
{
    broker_topic_t *topic = broker_history_topic (self->history, view->topic, view->topic_len);
    uint64_t seq = topic? broker_history_next_seq (topic): 0;
    uint64_t epoch = topic? broker_history_topic_epoch (topic): 0;
    uint8_t stamped [ZCH_META_MAX];
    const uint8_t *meta = stamped;
    size_t meta_size = 0;
    bool in_place = seq && meta_in_place
                 && zch_meta_stamp_in_place (meta_in_place, view->meta_size, seq, epoch);
    if (in_place) {
        meta = view->meta;
        meta_size = view->meta_size;
    }
    else
    if (seq)
        meta_size = zch_meta_stamp (view->meta, view->meta_size, seq, zch_now_ns (), epoch,
                                    stamped, sizeof stamped);
    if (meta_size == 0) {
        const char *reason = seq? "meta too large once stamped": "out of memory";
        broker_malformed (self, reason);
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0, reason);
        return;
    }
    //  Kept before the frames move: a small payload lives inside its zmq_msg_t
    if (broker_history_add (self->history, topic, seq, meta, meta_size,
                            views [view->payload_frame].data + view->payload_offset, view->payload_size))
        self->stats.history_store_failed++;
    if (!frames) {
        broker_send_view (self, view->topic, view->topic_len, meta, meta_size,
                          views [view->payload_frame].data + view->payload_offset, view->payload_size);
        s_forwarded (self, view, producer, topic, seq, epoch);
        return;
    }
    zmq_msg_t topic_frame, meta_frame, payload_frame;
    if (broker_forward_frames (frames, count, view, &topic_frame, &payload_frame)) {
        broker_malformed (self, "out of memory");
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0, "out of memory");
        return;
    }
    if (in_place) {
        zmq_msg_init (&meta_frame);
        zmq_msg_move (&meta_frame, &frames [1]);
    }
    else {
        zmq_msg_init_size (&meta_frame, meta_size);
        memcpy (zmq_msg_data (&meta_frame), stamped, meta_size);
    }
    broker_forward_send (self, &topic_frame, &meta_frame, &payload_frame, view, producer, topic, seq, epoch);
}

//  A message whose envelope has been checked, from either form: the
//  payload limit, a queue group's route, then plugins, engine or the plain
//  path. producer is its decoded meta (empty when it came without one);
//  meta_in_place as s_forward_plain's. Without frames only the plain path
//  may run, and only while no queue group has members.
static void
s_forward_checked (broker_self_t *self, zmq_msg_t *frames, size_t count, const zch_envelope_view_t *view,
                   const zch_frame_t *views, const zch_meta_t *producer, uint8_t *meta_in_place)
{
    //  Before the plugins and any seq: a drop leaves no gap
    if (view->payload_size > self->config->max_payload) {
        s_too_large (self, view);
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0, "payload too large");
        return;
    }
    //  For one queue group only (a channel client's publishLoop): no seq
    if (count == 3 && view->meta
    &&  broker_groups_route_only (self->groups, self->egress, self->local, view->topic,
                                  view->topic_len, view->meta, view->meta_size,
                                  frames? &frames [1]: NULL, frames? &frames [2]: NULL)) {
        broker_confirm_answer (self, producer, view->topic, view->topic_len, 0, 0,
                               "sent to one queue-group member, without a seq");
        self->stats.messages_in++;
        self->stats.bytes_in += view->payload_size;
        return;
    }
    if (self->pipeline)
        broker_plugins_forward (self, frames, count, view, views, producer);
    else
    if (self->engine)
        broker_forward_engine (self, view, views, producer, NULL, 0);
    else
        s_forward_plain (self, frames, count, view, views, producer, meta_in_place);
}

void
broker_forward (broker_self_t *self, zmq_msg_t *frames, size_t count)
{
    zch_frame_t views [BROKER_MAX_VIEWS];
    for (size_t i = 0; i < count && i < BROKER_MAX_VIEWS; i++) {
        views [i].data = zmq_msg_data (&frames [i]);
        views [i].size = zmq_msg_size (&frames [i]);
    }
    zch_envelope_view_t view;
    const char *reason;
    if (count > BROKER_MAX_VIEWS || zch_envelope_parse (views, count, &view, &reason)) {
        broker_malformed (self, count > BROKER_MAX_VIEWS? "wrong frame count": reason);
        return;
    }
    //  A source's confirm request (a walk only for metas not in the fixed layout)
    zch_meta_t producer = { 0 };
    if (view.meta)
        zch_meta_decode (view.meta, view.meta_size, &producer);
    //  In place unless libzmq shares the frame with another reader
    uint8_t *meta_in_place = count == 3 && !zmq_msg_get (&frames [1], ZMQ_SHARED)?
        zmq_msg_data (&frames [1]): NULL;
    s_forward_checked (self, frames, count, &view, views, &producer, meta_in_place);
}

//  Counts a whole internal batch as malformed: n messages, one log line.
static void
s_batch_malformed (broker_self_t *self, size_t n, const char *reason)
{
    self->stats.malformed += n - 1;
    broker_malformed (self, reason);
}

//  One message of an internal batch, through the same path as the
//  outsiders' form. The plain path reads it where it lies in the batch
//  (meta_in_place: its meta, writable, or NULL); plugins, the engine and
//  queue groups get three frames of their own (copies: the batch frame is
//  freed when the batch is done).
static void
s_forward_entry (broker_self_t *self, const char *topic, size_t topic_len,
                 const uint8_t *meta, size_t meta_size, const uint8_t *payload, size_t payload_size,
                 uint8_t *meta_in_place)
{
    zch_meta_t producer;
    if (zch_meta_decode (meta, meta_size, &producer)) {
        broker_malformed (self, "malformed meta");
        return;
    }
    zch_envelope_view_t view = {
        .topic = topic, .topic_len = topic_len, .meta = meta, .meta_size = meta_size,
        .payload_frame = 2, .payload_offset = 0, .payload_size = payload_size
    };
    if (!self->pipeline && !self->engine && broker_groups_members (self->groups) == 0) {
        zch_frame_t views [3] = {
            { (const uint8_t *) topic, topic_len }, { meta, meta_size }, { payload, payload_size }
        };
        s_forward_checked (self, NULL, 3, &view, views, &producer, meta_in_place);
        return;
    }
    zmq_msg_t frames [3];
    if (broker_frames_make (frames, topic, topic_len, meta, meta_size, payload, payload_size)) {
        broker_malformed (self, "out of memory");
        broker_confirm_answer (self, &producer, topic, topic_len, 0, 0, "out of memory");
        return;
    }
    zch_frame_t views [3];
    for (size_t i = 0; i < 3; i++) {
        views [i].data = zmq_msg_data (&frames [i]);
        views [i].size = zmq_msg_size (&frames [i]);
    }
    view.topic = (const char *) views [0].data;
    view.meta = views [1].data;
    s_forward_checked (self, frames, 3, &view, views, &producer, zmq_msg_data (&frames [1]));
    for (size_t i = 0; i < 3; i++)
        zmq_msg_close (&frames [i]);
}

size_t
broker_forward_batch (broker_self_t *self, zmq_msg_t *frames, size_t count)
{
    if (count != 2) {
        //  A topic never starts with the mark: only the internal form may
        char reason [96];
        snprintf (reason, sizeof reason, "%zu frames behind the internal envelope's mark "
                  "(it takes 2)", count);
        broker_malformed (self, reason);
        return 1;
    }
    unsigned version = 0;
    const char *topic = NULL;
    size_t topic_len = 0;
    int form = zch_internal_topic (zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]),
                                   &version, &topic, &topic_len);
    if (form == ZCH_INTERNAL_E_VERSION) {
        //  Only a producer that ignored our subscriptions sends this
        char reason [96];
        snprintf (reason, sizeof reason, "internal envelope version %u, this broker reads %d",
                  version, ZCH_INTERNAL_VERSION);
        broker_malformed (self, reason);
        return 1;
    }
    if (form != ZCH_INTERNAL_OK) {
        broker_malformed (self, "malformed internal topic frame");
        return 1;
    }
    zch_internal_reader_t reader;
    int n = zch_internal_open (&reader, zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]));
    if (n < 0) {
        broker_malformed (self, "malformed internal batch");
        return 1;
    }
    //  The topic is checked once for the whole batch
    const char *why = NULL;
    if (zch_topic_validate (topic, topic_len, &why)) {
        s_batch_malformed (self, (size_t) n, "bad topic in an internal batch");
        return (size_t) n;
    }
    self->stats.batches_in++;
    self->stats.batched_in += (uint64_t) n;
    //  Metas are stamped where they lie unless libzmq shares the frame
    uint8_t *body = zmq_msg_get (&frames [1], ZMQ_SHARED)? NULL: zmq_msg_data (&frames [1]);
    const uint8_t *base = zmq_msg_data (&frames [1]);
    const uint8_t *meta, *payload;
    size_t meta_size, payload_size;
    while (zch_internal_next (&reader, &meta, &meta_size, &payload, &payload_size))
        s_forward_entry (self, topic, topic_len, meta, meta_size, payload, payload_size,
                         body? body + (meta - base): NULL);
    return (size_t) n;
}
