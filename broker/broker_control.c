/*  broker_control: requests on the broker's ROUTER control endpoint.

    The ROUTER runs with ZMQ_ROUTER_MANDATORY, so a send to a requester
    that is gone fails (EHOSTUNREACH: the stream is dropped) and a send to
    one whose queue is full fails at once (EAGAIN: the stream waits for a
    later turn) instead of being dropped silently or blocking.              */
#include "broker_control.h"
#include "broker_handover.h"
#include "broker_queues.h"
#include "broker_request.h"
#include "zch_epoch.h"
#include "zch_log.h"
#include "zch_topic.h"
#include "zch_trie.h"
#include "zch_zmq.h"

#include <czmq.h>
#include <msgpack.h>

#define CONTROL_MAX_FRAMES   8
#define CONTROL_TAG_MAX      BROKER_REQUEST_TAG_MAX
#define CONTROL_STREAMS_MAX  1024       //  streams in progress at once
#define CONTROL_CHUNK        64         //  messages per stream per turn
#define CONTROL_CHUNK_BYTES  (256 * 1024)
#define CONTROL_SCAN         4096       //  topics a snapshot looks at per turn
#define CONTROL_STALL_MS     30000      //  a stream that cannot send this long is dropped
#define CONTROL_WAIT_MAX_MS  50         //  longest sleep while every stream waits for its requester

typedef enum { STREAM_SNAPSHOT, STREAM_SEQS, STREAM_HISTORY, STREAM_HEAL } stream_kind_t;

//  One SNAPSHOT, HISTORY or HEAL answer in progress.
typedef struct {
    stream_kind_t kind;
    uint8_t route [256];        //  the requester's routing id
    size_t route_len;
    bool delimiter;             //  a REQ peer: an empty frame follows the id
    char tag [CONTROL_TAG_MAX + 1];
    size_t tag_len;
    zch_trie_t *pattern;        //  SNAPSHOT: matches the pattern
    char prefix [ZCH_TOPIC_MAX + 1];    //  SEQS: the topics' first bytes
    size_t prefix_len;
    broker_topic_t *topic;      //  HISTORY, HEAL
    uint64_t next;              //  next seq to send, or next topic index (SNAPSHOT)
    uint64_t end;               //  last seq to send, or topic count at the start (SNAPSHOT)
    uint64_t first;             //  HISTORY: where the history started
    bool hole;                  //  HISTORY: a message went missing while streaming
    bool reset;                 //  HISTORY, HEAL: the requester's position is not in this epoch
    uint64_t epoch;             //  the epoch of what the stream sends
    uint64_t sent;
    uint64_t missing;
    int64_t progress_at;        //  when a send last succeeded
} stream_t;

struct broker_control_t {
    void *control;
    broker_history_t *history;
    broker_stats_t *stats;
    zlistx_t *streams;          //  stream_t
    broker_handover_t *handover;    //  sources' hand-overs waiting for their marker
    broker_queues_t *queues;    //  work queues; NULL: none
    int wait_ms;                //  sleep while blocked: 1 ms, doubling while nothing moves
    bool topic_epochs;          //  epochs are the topics' (Redis), not this broker's
};

//  A token of a request: bytes, not NUL-terminated.
typedef struct {
    const char *data;
    size_t size;
} token_t;

static void
s_stream_free (void **item)
{
    stream_t *stream = *item;
    if (stream) {
        zch_trie_destroy (&stream->pattern);
        free (stream);
    }
    *item = NULL;
}

broker_control_t *
broker_control_new (void *control, broker_history_t *history, broker_stats_t *stats)
{
    broker_control_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->control = control;
    self->history = history;
    self->stats = stats;
    self->streams = zlistx_new ();
    self->handover = broker_handover_new (control);
    if (!self->streams || !self->handover) {
        zlistx_destroy (&self->streams);
        broker_handover_destroy (&self->handover);
        free (self);
        return NULL;
    }
    zlistx_set_destructor (self->streams, s_stream_free);
    self->wait_ms = 1;
    int on = 1;
    zmq_setsockopt (control, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    return self;
}

void
broker_control_topic_epochs (broker_control_t *self)
{
    self->topic_epochs = true;
}

void
broker_control_destroy (broker_control_t **self_p)
{
    if (*self_p) {
        zlistx_destroy (&(*self_p)->streams);
        broker_handover_destroy (&(*self_p)->handover);
        free (*self_p);
        *self_p = NULL;
    }
}

void
broker_control_set_queues (broker_control_t *self, broker_queues_t *queues)
{
    self->queues = queues;
}

//  Packs the counters (and the work queues', when given) as a msgpack map into buffer.
static void
s_pack_stats (msgpack_sbuffer *buffer, const broker_stats_t *stats, const broker_queues_stats_t *queues)
{
    broker_queues_stats_t none = { 0 };
    if (!queues)
        queues = &none;
    struct { const char *name; uint64_t value; } fields [] = {
        { "messages_in", stats->messages_in },
        { "bytes_in", stats->bytes_in },
        { "malformed", stats->malformed },
        { "batches_in", stats->batches_in },
        { "batched_in", stats->batched_in },
        { "subscriptions", stats->subscriptions },
        { "unsubscriptions", stats->unsubscriptions },
        { "subscriptions_held", stats->subscriptions_held },
        { "peers", stats->peers },
        { "too_large", stats->too_large },
        { "topics", stats->topics },
        { "control_errors", stats->control_errors },
        { "history_bytes", stats->history_bytes },
        { "history_messages", stats->history_messages },
        { "history_evicted", stats->history_evicted },
        { "history_store_failed", stats->history_store_failed },
        { "snapshot_requests", stats->snapshot_requests },
        { "seqs_requests", stats->seqs_requests },
        { "history_requests", stats->history_requests },
        { "history_incomplete", stats->history_incomplete },
        { "gaps", stats->gaps },
        { "gap_messages_healed", stats->gap_messages_healed },
        { "gap_messages_lost", stats->gap_messages_lost },
        { "streams_abandoned", stats->streams_abandoned },
        { "streams", stats->streams },
        { "plugin_dropped", stats->plugin_dropped },
        { "plugin_errors", stats->plugin_errors },
        { "handovers", stats->handovers },
        { "local_waits", stats->local_waits },
        { "local_wait_ms", stats->local_wait_ms },
        { "history_resets", stats->history_resets },
        { "confirms", stats->confirms },
        { "confirms_failed", stats->confirms_failed },
        { "engine_published", stats->engine_published },
        { "engine_failed", stats->engine_failed },
        { "engine_received", stats->engine_received },
        { "engine_duplicates", stats->engine_duplicates },
        { "engine_cache_resets", stats->engine_cache_resets },
        { "engine_connects", stats->engine_connects },
        { "engine_master_changes", stats->engine_master_changes },
        { "engine_generations", stats->engine_generations },
        { "epoch", stats->epoch },
        { "queues", queues->queues },
        { "queue_watchers", queues->watchers },
        { "queue_items", queues->items },
        { "queue_inflight", queues->inflight },
        { "queue_bytes", queues->bytes },
        { "queue_enqueued", queues->enqueued },
        { "queue_delivered", queues->delivered },
        { "queue_redelivered", queues->redelivered },
        { "queue_acked", queues->acked },
        { "queue_refused", queues->refused },
    };
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, sizeof fields / sizeof fields [0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields [0]; i++) {
        size_t name_len = strlen (fields [i].name);
        msgpack_pack_str (&packer, name_len);
        msgpack_pack_str_body (&packer, fields [i].name, name_len);
        msgpack_pack_uint64 (&packer, fields [i].value);
    }
}

//  Sends one reply: the routing frames, then count parts. Returns 0, or
//  -1 with errno EAGAIN (requester's queue full: nothing was sent) or
//  another errno (requester gone).
static int
s_send (broker_control_t *self, const uint8_t *route, size_t route_len, bool delimiter,
        const token_t *parts, size_t count)
{
    //  With ROUTER_MANDATORY only the routing frame can fail; once it is
    //  taken the rest of the message goes with it
    if (zmq_send (self->control, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    if (delimiter)
        zmq_send (self->control, "", 0, ZMQ_SNDMORE);
    for (size_t i = 0; i < count; i++)
        zmq_send (self->control, parts [i].data, parts [i].size, i + 1 < count? ZMQ_SNDMORE: 0);
    return 0;
}

//  Fills stream for a parsed SNAPSHOT, SEQS, HISTORY or HEAL request.
//  Returns NULL, or a reason for the requester.
static const char *
s_stream_setup (broker_control_t *self, stream_t *stream, const broker_request_t *request)
{
    memcpy (stream->tag, request->tag, request->tag_len);
    stream->tag_len = request->tag_len;
    if (request->error)
        return request->error;
    if (stream->kind == STREAM_SNAPSHOT) {
        stream->pattern = zch_trie_new ();
        if (!stream->pattern
        ||  zch_trie_insert (stream->pattern, request->subject, request->subject_len, stream))
            return "out of memory";
        stream->next = 0;
        stream->end = broker_history_topic_count (self->history);
        self->stats->snapshot_requests++;
        return NULL;
    }
    if (stream->kind == STREAM_SEQS) {
        memcpy (stream->prefix, request->subject, request->subject_len);
        stream->prefix_len = request->subject_len;
        stream->next = 0;
        stream->end = broker_history_topic_count (self->history);
        self->stats->seqs_requests++;
        return NULL;
    }
    stream->topic = broker_history_find (self->history, request->subject, request->subject_len);
    uint64_t last = stream->topic? broker_history_last_seq (stream->topic): 0;
    stream->epoch = stream->topic? broker_history_topic_epoch (stream->topic):
                                   broker_history_epoch (self->history);
    //  A position of another epoch, or past every seq this one gave out
    //  (a broker that started afresh), cannot be continued: a HISTORY then
    //  gives all the epoch holds, a HEAL nothing
    uint64_t from = request->from;
    stream->reset = (request->epoch && request->epoch != stream->epoch)
                 || (stream->kind == STREAM_HISTORY && from > last);
    if (stream->reset) {
        self->stats->history_resets++;
        from = stream->kind == STREAM_HISTORY? 0: UINT64_MAX - 1;
    }
    stream->next = from + 1;
    //  What comes after the topic's seq now is live, not history
    stream->end = request->to < last? request->to: last;
    if (stream->reset && stream->kind == STREAM_HEAL)
        stream->end = 0;
    stream->first = stream->topic? broker_history_first_seq (stream->topic): 1;
    if (stream->kind == STREAM_HISTORY)
        self->stats->history_requests++;
    else
        self->stats->gaps++;
    return NULL;
}

//  Starts a stream for a SNAPSHOT, SEQS, HISTORY or HEAL request, or answers ERR.
static void
s_stream_start (broker_control_t *self, zmq_msg_t *frames, const broker_request_t *request)
{
    stream_t *stream = calloc (1, sizeof *stream);
    const char *reason = stream? NULL: "out of memory";
    bool delimiter = request->reply_frames == 2;
    if (stream) {
        stream->kind = request->kind == BROKER_REQUEST_SNAPSHOT? STREAM_SNAPSHOT:
                       request->kind == BROKER_REQUEST_SEQS? STREAM_SEQS:
                       request->kind == BROKER_REQUEST_HISTORY? STREAM_HISTORY: STREAM_HEAL;
        stream->route_len = zmq_msg_size (&frames [0]);
        if (stream->route_len > sizeof stream->route)
            reason = "routing id too long";
        else
            memcpy (stream->route, zmq_msg_data (&frames [0]), stream->route_len);
        stream->delimiter = delimiter;
        stream->progress_at = zclock_mono ();
        if (!reason)
            reason = s_stream_setup (self, stream, request);
        if (!reason && zlistx_size (self->streams) >= CONTROL_STREAMS_MAX)
            reason = "busy";
    }
    if (reason) {
        //  The tag, once known, goes back too: the requester can tell which failed
        self->stats->control_errors++;
        token_t parts [] = { { "ERR", 3 }, { reason, strlen (reason) },
                             { stream? stream->tag: "", stream? stream->tag_len: 0 } };
        s_send (self, zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]), delimiter, parts,
                stream && stream->tag_len? 3: 2);
        void *item = stream;
        s_stream_free (&item);
        return;
    }
    zlistx_add_end (self->streams, stream);
}

//  Reads one request's frames (at most CONTROL_MAX_FRAMES are kept).
//  Returns the number of frames kept, 0 when none is waiting.
static size_t
s_recv_request (void *control, zmq_msg_t *frames)
{
    size_t count = zch_zmq_recv_frames (control, frames, CONTROL_MAX_FRAMES);
    return count < CONTROL_MAX_FRAMES? count: CONTROL_MAX_FRAMES;
}

//  Answers one request held in frames; broker_request parses it.
static void
s_request (broker_control_t *self, zmq_msg_t *frames, size_t count)
{
    zch_frame_t views [CONTROL_MAX_FRAMES];
    for (size_t i = 0; i < count; i++)
        views [i] = (zch_frame_t) { zmq_msg_data (&frames [i]), zmq_msg_size (&frames [i]) };
    broker_request_t request;
    broker_request_parse (views, count, &request);
    const uint8_t *route = zmq_msg_data (&frames [0]);
    size_t route_len = zmq_msg_size (&frames [0]);
    bool delimiter = request.reply_frames == 2;
    if (request.kind == BROKER_REQUEST_PING) {
        token_t parts [] = { { "PONG", 4 } };
        s_send (self, route, route_len, delimiter, parts, 1);
    }
    else
    if (request.kind == BROKER_REQUEST_HEALTH) {
        //  A front-end's heartbeat: down while the shared engine is unreachable,
        //  since publishes fail and nothing from other brokers comes
        char reason [96];
        int len = snprintf (reason, sizeof reason, "Redis engine: %d of %d shards unreachable",
                            self->stats->engine_shards_down, self->stats->engine_shards);
        token_t ok [] = { { "HEALTH", 6 }, { "ok", 2 } };
        token_t down [] = { { "HEALTH", 6 }, { "down", 4 }, { reason, (size_t) len } };
        if (self->stats->engine_shards_down > 0)
            s_send (self, route, route_len, delimiter, down, 3);
        else
            s_send (self, route, route_len, delimiter, ok, 2);
    }
    else
    if (request.kind == BROKER_REQUEST_STATS) {
        self->stats->streams = zlistx_size (self->streams);
        self->stats->handovers = broker_handover_done (self->handover);
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        s_pack_stats (&buffer, self->stats, self->queues? broker_queues_stats (self->queues): NULL);
        token_t parts [] = { { "STATS", 5 }, { buffer.data, buffer.size } };
        s_send (self, route, route_len, delimiter, parts, 2);
        msgpack_sbuffer_destroy (&buffer);
    }
    else
    if (request.kind == BROKER_REQUEST_HANDOVER && !request.error)
        broker_handover_register (self->handover, route, route_len, delimiter,
                                  request.tag, request.tag_len);
    else
    if (request.kind != BROKER_REQUEST_UNKNOWN)
        s_stream_start (self, frames, &request);
    else {
        self->stats->control_errors++;
        token_t parts [] = { { "ERR", 3 }, { "unknown request", 15 } };
        s_send (self, route, route_len, delimiter, parts, 2);
    }
}

void
broker_control_serve (broker_control_t *self)
{
    zmq_msg_t frames [CONTROL_MAX_FRAMES];
    size_t count;
    while ((count = s_recv_request (self->control, frames)) > 0) {
        if (self->queues && count >= 2
        &&  broker_queues_is_request (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1])))
            broker_queues_request (self->queues, frames, count);
        else
            s_request (self, frames, count);
        for (size_t i = 0; i < count; i++)
            zmq_msg_close (&frames [i]);
    }
}

void
broker_control_marker (broker_control_t *self, const uint8_t *frame, size_t size)
{
    broker_handover_marker (self->handover, frame, size);
}

//  Sends one held message of the stream. Returns 0 or -1 (see s_send).
static int
s_send_message (broker_control_t *self, stream_t *stream, broker_topic_t *topic,
                const broker_message_t *message)
{
    size_t name_len;
    const char *name = broker_history_name (topic, &name_len);
    token_t parts [] = {
        { "MSG", 3 }, { stream->tag, stream->tag_len }, { name, name_len },
        { (const char *) message->meta, message->meta_size },
        { (const char *) message->payload, message->payload_size }
    };
    return s_send (self, stream->route, stream->route_len, stream->delimiter, parts, 5);
}

//  Sends the stream's END marker and counts the answer. Returns 0 or -1
//  (see s_send).
static int
s_send_end (broker_control_t *self, stream_t *stream)
{
    char a [24], b [24], epoch [ZCH_EPOCH_TEXT_MAX + 1];
    zch_epoch_format (stream->topic? broker_history_topic_epoch (stream->topic):
                      stream->epoch? stream->epoch:
                      stream->kind == STREAM_SEQS && self->topic_epochs? 0:
                      broker_history_epoch (self->history), epoch);
    if (stream->kind == STREAM_SNAPSHOT || stream->kind == STREAM_SEQS) {
        snprintf (a, sizeof a, "%llu", (unsigned long long) stream->sent);
        snprintf (b, sizeof b, "%llu", (unsigned long long) stream->missing);
    }
    else
    if (stream->kind == STREAM_HISTORY) {
        snprintf (a, sizeof a, "%llu", (unsigned long long) stream->first);
        snprintf (b, sizeof b, "%llu", (unsigned long long) stream->end);
    }
    else {
        snprintf (a, sizeof a, "%llu", (unsigned long long) stream->sent);
        snprintf (b, sizeof b, "%llu", (unsigned long long) stream->missing);
    }
    const char *status = stream->reset? "RESET": stream->missing? "GAP": "OK";
    token_t parts [] = {
        { "END", 3 }, { stream->tag, stream->tag_len }, { status, strlen (status) },
        { a, strlen (a) }, { b, strlen (b) }, { epoch, strlen (epoch) }
    };
    if (s_send (self, stream->route, stream->route_len, stream->delimiter, parts, 6))
        return -1;
    if (stream->kind == STREAM_HISTORY && stream->missing)
        self->stats->history_incomplete++;
    if (stream->kind == STREAM_HEAL) {
        self->stats->gap_messages_healed += stream->sent;
        self->stats->gap_messages_lost += stream->missing;
    }
    return 0;
}

static void
s_matched (void *value, void *arg)
{
    (void) value;
    *(bool *) arg = true;
}

//  One chunk of a SEQS answer: the last seq of each topic under the prefix.
//  Returns 0 or -1 (see s_send).
static int
s_seqs_chunk (broker_control_t *self, stream_t *stream)
{
    size_t scanned = 0, sent = 0;
    while (stream->next < stream->end && scanned < CONTROL_SCAN && sent < CONTROL_CHUNK * 4) {
        broker_topic_t *topic = broker_history_topic_at (self->history, stream->next);
        size_t name_len;
        const char *name = broker_history_name (topic, &name_len);
        uint64_t seq = broker_history_last_seq (topic);
        if (seq > 0 && name_len >= stream->prefix_len
        &&  memcmp (name, stream->prefix, stream->prefix_len) == 0) {
            char text [24], epoch [ZCH_EPOCH_TEXT_MAX + 1];
            snprintf (text, sizeof text, "%llu", (unsigned long long) seq);
            zch_epoch_format (broker_history_topic_epoch (topic), epoch);
            token_t parts [] = {
                { "SEQ", 3 }, { stream->tag, stream->tag_len }, { name, name_len }, { text, strlen (text) },
                { epoch, strlen (epoch) }
            };
            if (s_send (self, stream->route, stream->route_len, stream->delimiter, parts, 5))
                return -1;
            stream->sent++;
            sent++;
        }
        stream->next++;
        scanned++;
    }
    return 0;
}

//  One chunk of a snapshot: the last value of each matching topic.
//  Returns 0 when the chunk went out, -1 when a send failed (see s_send).
static int
s_snapshot_chunk (broker_control_t *self, stream_t *stream)
{
    size_t scanned = 0, sent = 0, bytes = 0;
    while (stream->next < stream->end && scanned < CONTROL_SCAN
       &&  sent < CONTROL_CHUNK && bytes < CONTROL_CHUNK_BYTES) {
        broker_topic_t *topic = broker_history_topic_at (self->history, stream->next);
        size_t name_len;
        const char *name = broker_history_name (topic, &name_len);
        bool match = false;
        zch_trie_match (stream->pattern, name, name_len, s_matched, &match);
        broker_message_t message;
        if (match && broker_history_last (topic, &message) == 0) {
            if (s_send_message (self, stream, topic, &message))
                return -1;
            stream->sent++;
            sent++;
            bytes += message.payload_size + message.meta_size;
        }
        else
        if (match && broker_history_last_seq (topic) > 0)
            stream->missing++;
        stream->next++;
        scanned++;
    }
    return 0;
}

//  One chunk of a HISTORY or HEAL answer: held messages from next to end,
//  counting the seqs no longer held. Returns 0 or -1 (see s_send).
static int
s_history_chunk (broker_control_t *self, stream_t *stream)
{
    size_t sent = 0, bytes = 0;
    while (stream->next <= stream->end && sent < CONTROL_CHUNK && bytes < CONTROL_CHUNK_BYTES) {
        broker_message_t message;
        if (broker_history_get (stream->topic, stream->next, &message) || message.seq > stream->end) {
            stream->missing += stream->end - stream->next + 1;
            stream->next = stream->end + 1;
            break;
        }
        if (message.seq > stream->next) {
            stream->missing += message.seq - stream->next;
            stream->next = message.seq;
        }
        if (s_send_message (self, stream, stream->topic, &message))
            return -1;
        stream->sent++;
        stream->next++;
        sent++;
        bytes += message.payload_size + message.meta_size;
    }
    return 0;
}

//  Sends one chunk of stream. Returns 1 when it is finished, 0 when more
//  is to come, -1 when its requester cannot take more now, -2 when the
//  requester is gone. Sets *moved when the stream got anywhere.
static int
s_stream_work (broker_control_t *self, stream_t *stream, bool *moved)
{
    int rc;
    bool done;
    uint64_t next = stream->next;
    if (stream->kind == STREAM_SNAPSHOT || stream->kind == STREAM_SEQS) {
        rc = stream->kind == STREAM_SNAPSHOT? s_snapshot_chunk (self, stream): s_seqs_chunk (self, stream);
        done = stream->next >= stream->end;
    }
    else {
        rc = s_history_chunk (self, stream);
        done = stream->next > stream->end;
    }
    if (rc == 0 && done)
        rc = s_send_end (self, stream);
    int err = errno;
    *moved = rc == 0 || stream->next != next;
    if (*moved)
        stream->progress_at = zclock_mono ();
    if (rc)
        return err == EAGAIN? -1: -2;
    return done? 1: 0;
}

//  The streams' wait and the queues' together: the shorter.
static int s_streams_work (broker_control_t *self);

int
broker_control_work (broker_control_t *self)
{
    int streams = s_streams_work (self);
    int queues = self->queues? broker_queues_work (self->queues): -1;
    return streams < 0? queues: queues < 0 || streams < queues? streams: queues;
}

static int
s_streams_work (broker_control_t *self)
{
    if (zlistx_size (self->streams) == 0)
        return -1;
    bool ready = false, progress = false;
    int64_t now = zclock_mono ();
    stream_t *stream = zlistx_first (self->streams);
    while (stream) {
        bool moved = false;
        int rc = s_stream_work (self, stream, &moved);
        bool drop = rc == 1 || rc == -2;
        if (rc == -1 && now - stream->progress_at > CONTROL_STALL_MS) {
            zch_warning ("broker: dropped a control stream whose requester read nothing for %d s",
                         CONTROL_STALL_MS / 1000);
            drop = true;
        }
        if (drop && rc != 1)
            self->stats->streams_abandoned++;
        if (rc == 0)
            ready = true;
        if (moved)
            progress = true;
        if (drop) {
            zlistx_delete (self->streams, zlistx_cursor (self->streams));
            //  The cursor went back to the previous item: next is the following one
            stream = zlistx_next (self->streams);
        }
        else
            stream = zlistx_next (self->streams);
    }
    if (zlistx_size (self->streams) == 0)
        return -1;
    if (ready || progress) {
        self->wait_ms = 1;
        return ready? 0: 1;     //  a queue that just took some may take more soon
    }
    //  A full queue says nothing when it drains: look again, less and less often
    int wait = self->wait_ms;
    self->wait_ms = wait * 2 < CONTROL_WAIT_MAX_MS? wait * 2: CONTROL_WAIT_MAX_MS;
    return wait;
}
