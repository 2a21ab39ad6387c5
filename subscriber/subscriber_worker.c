/*  subscriber_worker: one loop of the subscriber front-end.                 */
#include "subscriber.h"
#include "subscriber_index.h"
#include "zch_edge.h"
#include "zch_envelope.h"
#include "zch_frame.h"
#include "zch_frame_reply.h"
#include "zch_guard.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_text.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#define SUBSCRIBER_RCVHWM       1000000 //  messages queued from the broker
#define SUBSCRIBER_BATCH        4096    //  broker messages per turn before serving clients
#define SUBSCRIBER_TICK         200     //  ms between housekeeping turns
#define SUBSCRIBER_DRAIN_QUIET  200     //  ms of silence from the broker that ends a drain

#define PATTERN_PENDING ((void *) 1)    //  waiting for its barrier
#define PATTERN_ACTIVE  ((void *) 2)    //  in the trie, delivering

typedef struct {
    zch_conn_t *conn;
    zhashx_t *patterns;         //  pattern -> PATTERN_*; NULL until the first SUB
    uint64_t last_delivery;     //  number of the last delivery written, to write each once
    int barriers;               //  barriers in flight; other commands wait for them
    bool framed;                //  a frame-protocol client: replies and deliveries are frames
} client_t;

//  A subscription barrier in flight: "$ack.<worker id>.<number>" was
//  subscribed after the client's pattern, so its answer proves the pattern
//  live at the broker.
typedef struct {
    uint64_t number;
    client_t *client;           //  NULL once the client is gone
    char pattern [ZCH_TOPIC_MAX + 1];
} barrier_t;

typedef struct {
    zsock_t *pipe;
    const subscriber_config_t *config;
    int index;
    zch_loop_t *loop;
    zch_edge_t *edge;
    zch_edge_t *frame_edge;     //  frame-protocol clients, NULL when off
    void *upstream;             //  SUB on the broker's egress
    subscriber_index_t *subscriptions;
    zch_watch_t pipe_watch;
    zch_watch_t upstream_watch;
    zlistx_t *barriers;         //  barrier_t, oldest first
    char ack_prefix [64];       //  "$ack.<worker id>."
    uint64_t next_barrier;
    uint64_t delivery;          //  number of the message being delivered
    uint8_t plugin_meta [ZCH_META_MAX];     //  meta with the headers egress plugins set
    char *line;                 //  the delivery line, built once per message
    size_t line_cap;
    char *frame;                //  the delivery frame, built once per message
    size_t frame_cap;
    uint64_t frames_malformed;  //  frame requests that did not decode
    zch_worker_state_t state;
    uint64_t received;
    uint64_t malformed;
    zch_counters_t *counters;   //  published once per turn (see s_publish_metrics)
    uint64_t received_bytes;
    uint64_t delivered;         //  one per message per client
    uint64_t delivered_bytes;
    uint64_t patterns;          //  client subscriptions held
    uint64_t plugin_dropped;
    uint64_t plugin_ns;         //  time in pipelines replaced by reloads
    zch_pipeline_t *pipeline;   //  subscriber egress plugins; NULL: none
    zch_guard_t guard;          //  AUTH and ACLs for both edges
    uint64_t too_many_subs;     //  SUBs refused over max_subscriptions
} self_t;

//  What s_deliver_to needs while matching one message.
typedef struct {
    self_t *self;
    const char *topic;
    size_t topic_len;
    uint64_t seq;
    const char *payload;
    size_t payload_len;
    const uint8_t *meta;        //  for the headers frame clients get
    size_t meta_size;
    size_t line_len;            //  0 until built
    size_t frame_len;           //  0 until built
} delivery_t;

static void
s_watch_nothing (zch_watch_t *watch, uint32_t events)
{
    //  ZeroMQ descriptors only say "look again": the turn checks them
    (void) watch;
    (void) events;
}

//  Writes a reply line.
static void
s_reply (zch_conn_t *conn, const char *text)
{
    char line [320];
    int len = snprintf (line, sizeof line, "%s\n", text);
    zch_conn_write (conn, line, (size_t) len);
}

//  Writes "-ERR <prefix><reason>".
static void
s_reply_error (zch_conn_t *conn, const char *prefix, const char *reason)
{
    char line [320];
    int len = snprintf (line, sizeof line, "-ERR %s%s\n", prefix, reason);
    zch_conn_write (conn, line, (size_t) len);
}

//  Replies "+OK" or ["ok"], as the client speaks.
static void
s_client_ok (client_t *client)
{
    if (client->framed)
        zch_frame_reply (client->conn, ZCH_FRAME_OK);
    else
        s_reply (client->conn, "+OK");
}

//  Replies "-ERR <prefix><reason>" or ["err", code, ...], as the client speaks.
static void
s_client_error (client_t *client, const char *code, const char *prefix, const char *reason)
{
    if (client->framed)
        zch_frame_reply_err (client->conn, code, prefix, reason);
    else
        s_reply_error (client->conn, prefix, reason);
}

//  Makes sure a delivery buffer holds size bytes. Returns 0 or -1.
static int
s_room (char **buffer, size_t *cap, size_t size)
{
    if (*cap >= size)
        return 0;
    size_t new_cap = *cap? *cap: 4096;
    while (new_cap < size)
        new_cap *= 2;
    char *grown = realloc (*buffer, new_cap);
    if (!grown)
        return -1;
    *buffer = grown;
    *cap = new_cap;
    return 0;
}

//  Makes sure the delivery line buffer holds size bytes. Returns 0 or -1.
static int
s_line_room (self_t *self, size_t size)
{
    return s_room (&self->line, &self->line_cap, size);
}

//  Builds the delivery frame once: ["msg", topic, seq, payload, headers].
//  Returns its length, 0 if out of memory.
static size_t
s_build_frame (self_t *self, delivery_t *delivery)
{
    const uint8_t *headers = NULL;
    size_t headers_size = 0;
    if (delivery->meta)
        zch_headers_in_meta (delivery->meta, delivery->meta_size, &headers, &headers_size);
    size_t size = zch_frame_msg_size (delivery->topic_len, delivery->payload_len, headers_size);
    if (s_room (&self->frame, &self->frame_cap, size))
        return 0;
    return zch_frame_encode_msg ((uint8_t *) self->frame, delivery->topic, delivery->topic_len,
                                 delivery->seq, (const uint8_t *) delivery->payload,
                                 delivery->payload_len, headers, headers_size);
}

//  Builds the delivery line once: "MSG <topic> <seq> <payload>", or in
//  the workerman profile "Received: <payload>". Returns its length, 0 if
//  out of memory.
static size_t
s_build_line (self_t *self, delivery_t *delivery)
{
    size_t escaped = zch_text_escaped_size (delivery->payload, delivery->payload_len);
    if (s_line_room (self, delivery->topic_len + escaped + 48))
        return 0;
    char *cursor = self->line;
    if (self->config->workerman)
        cursor += sprintf (cursor, "Received: ");
    else {
        memcpy (cursor, "MSG ", 4);
        memcpy (cursor + 4, delivery->topic, delivery->topic_len);
        cursor += 4 + delivery->topic_len;
        cursor += sprintf (cursor, " %llu ", (unsigned long long) delivery->seq);
    }
    cursor += zch_text_escape (delivery->payload, delivery->payload_len, cursor);
    *cursor++ = '\n';
    return (size_t) (cursor - self->line);
}

//  Trie callback: writes the delivery to one matching client, once.
static void
s_deliver_to (void *value, void *arg)
{
    client_t *client = value;
    delivery_t *delivery = arg;
    self_t *self = delivery->self;
    if (client->last_delivery == self->delivery)
        return;
    client->last_delivery = self->delivery;
    if (client->framed) {
        if (delivery->frame_len == 0)
            delivery->frame_len = s_build_frame (self, delivery);
        if (delivery->frame_len && zch_conn_write (client->conn, self->frame, delivery->frame_len) == 0) {
            self->delivered++;
            self->delivered_bytes += delivery->payload_len;
        }
        return;
    }
    if (delivery->line_len == 0)
        delivery->line_len = s_build_line (self, delivery);
    if (delivery->line_len && zch_conn_write (client->conn, self->line, delivery->line_len) == 0) {
        self->delivered++;
        self->delivered_bytes += delivery->payload_len;
    }
}

//  Answers the barriers up to number: their patterns go live, and each
//  client gets its +OK in the order it subscribed.
static void
s_barrier_answered (self_t *self, uint64_t number)
{
    barrier_t *barrier;
    while ((barrier = zlistx_first (self->barriers)) && barrier->number <= number) {
        client_t *client = barrier->client;
        if (client) {
            size_t len = strlen (barrier->pattern);
            if (zhashx_lookup (client->patterns, barrier->pattern) == PATTERN_PENDING) {
                if (subscriber_index_add (self->subscriptions, barrier->pattern, len, client) == 0)
                    zhashx_update (client->patterns, barrier->pattern, PATTERN_ACTIVE);
            }
            client->barriers--;
            if (!self->config->workerman || client->framed)
                s_client_ok (client);
        }
        zlistx_delete (self->barriers, zlistx_cursor (self->barriers));
    }
    //  Commands that waited behind the barrier can go on
    zch_edge_resume (self->edge);
    if (self->frame_edge)
        zch_edge_resume (self->frame_edge);
}

//  Handles a message on the broker's "$ack." system topics.
static void
s_system_message (self_t *self, const char *topic, size_t topic_len)
{
    char ack_topic [ZCH_TOPIC_MAX + 1];
    size_t prefix_len = strlen (self->ack_prefix);
    if (topic_len <= prefix_len || topic_len > ZCH_TOPIC_MAX
    ||  memcmp (topic, self->ack_prefix, prefix_len) != 0)
        return;                 //  another front-end's barrier
    memcpy (ack_topic, topic, topic_len);
    ack_topic [topic_len] = 0;
    zmq_setsockopt (self->upstream, ZMQ_UNSUBSCRIBE, ack_topic, topic_len);
    s_barrier_answered (self, strtoull (ack_topic + prefix_len, NULL, 10));
}

//  Runs the egress plugins on a delivery, pointing it at their result.
//  Returns 0, or -1 when a plugin dropped it.
static int
s_plugins_run (self_t *self, delivery_t *delivery, zmq_msg_t *meta, uint64_t ts)
{
    zch_pipeline_msg_t msg = {
        .topic = delivery->topic, .topic_len = delivery->topic_len,
        .payload = (const uint8_t *) delivery->payload, .payload_len = delivery->payload_len,
        .meta = zmq_msg_data (meta), .meta_size = zmq_msg_size (meta),
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
                                              msg.headers, msg.header_count,
                                              self->plugin_meta, sizeof self->plugin_meta);
        if (size) {
            delivery->meta = self->plugin_meta;
            delivery->meta_size = size;
        }
    }
    return 0;
}

//  Takes the pipeline a reload sent, between two messages.
static void
s_plugins_swap (self_t *self)
{
    if (self->pipeline) {
        zch_pipeline_report (self->pipeline, "subscriber");
        self->plugin_ns += zch_pipeline_ns (self->pipeline);
    }
    zch_pipeline_destroy (&self->pipeline);
    self->pipeline = self->state.reload;
    self->state.reload = NULL;
    self->state.reloaded = false;
}

//  Receives up to SUBSCRIBER_BATCH messages from the broker and delivers
//  them. Returns how many it read.
static size_t
s_upstream_drain (self_t *self)
{
    size_t handled = 0;
    while (handled < SUBSCRIBER_BATCH) {
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
        handled++;
        zch_meta_t meta;
        if (count != 3
        ||  zch_meta_decode (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]), &meta)
        ||  zmq_msg_size (&frames [0]) == 0) {
            self->malformed++;
            zch_warning ("subscriber: dropped a malformed message from the broker");
        }
        else {
            const char *topic = zmq_msg_data (&frames [0]);
            size_t topic_len = zmq_msg_size (&frames [0]);
            if (topic [0] == '$')
                s_system_message (self, topic, topic_len);
            else {
                delivery_t delivery = {
                    .self = self, .topic = topic, .topic_len = topic_len, .seq = meta.seq,
                    .payload = zmq_msg_data (&frames [2]), .payload_len = zmq_msg_size (&frames [2]),
                    .meta = zmq_msg_data (&frames [1]), .meta_size = zmq_msg_size (&frames [1])
                };
                self->received++;
                self->received_bytes += delivery.payload_len;
                //  Plugins transform once per message, before the fan-out
                if (!self->pipeline || s_plugins_run (self, &delivery, &frames [1], meta.ts) == 0) {
                    self->delivery++;
                    subscriber_index_match (self->subscriptions, delivery.topic, delivery.topic_len,
                                            s_deliver_to, &delivery);
                }
                else
                    self->plugin_dropped++;
                if (self->pipeline)
                    zch_pipeline_done (self->pipeline);
            }
        }
        for (size_t i = 0; i < (count < 3? count: 3); i++)
            zmq_msg_close (&frames [i]);
    }
    return handled;
}

//  Starts a subscription: the pattern's prefix goes upstream now, and a
//  barrier right behind it; the pattern delivers once the barrier returns.
static void
s_subscribe (self_t *self, client_t *client, const char *pattern, size_t len)
{
    barrier_t *barrier = calloc (1, sizeof *barrier);
    if (!client->patterns)
        client->patterns = zhashx_new ();
    if (!barrier || !client->patterns) {
        free (barrier);
        s_client_error (client, ZCH_FRAME_E_INTERNAL, "", "out of memory");
        return;
    }
    memcpy (barrier->pattern, pattern, len);
    barrier->pattern [len] = 0;
    size_t max_subs = (size_t) self->config->secure.max_subscriptions;
    if (!zhashx_lookup (client->patterns, barrier->pattern) && max_subs
    &&  zhashx_size (client->patterns) >= max_subs) {
        free (barrier);
        self->too_many_subs++;
        zch_info ("subscriber: client %s is over %zu subscriptions (refused: %llu)",
                  zch_conn_peer (client->conn), max_subs, (unsigned long long) self->too_many_subs);
        s_client_error (client, "too_many_subscriptions", "", "too many subscriptions");
        return;
    }
    if (!zhashx_lookup (client->patterns, barrier->pattern)) {
        if (subscriber_index_hold_prefix (self->subscriptions, pattern, len)) {
            free (barrier);
            s_client_error (client, ZCH_FRAME_E_INTERNAL, "", "cannot subscribe upstream");
            return;
        }
        zhashx_insert (client->patterns, barrier->pattern, PATTERN_PENDING);
        self->patterns++;
    }
    barrier->number = ++self->next_barrier;
    barrier->client = client;
    char ack_topic [ZCH_TOPIC_MAX + 1];
    int ack_len = snprintf (ack_topic, sizeof ack_topic, "%s%llu", self->ack_prefix,
                            (unsigned long long) barrier->number);
    zmq_setsockopt (self->upstream, ZMQ_SUBSCRIBE, ack_topic, (size_t) ack_len);
    zlistx_add_end (self->barriers, barrier);
    client->barriers++;
}

//  Ends one of the client's subscriptions.
static void
s_unsubscribe (self_t *self, client_t *client, const char *pattern)
{
    void *state = zhashx_lookup (client->patterns, pattern);
    size_t len = strlen (pattern);
    if (state == PATTERN_ACTIVE)
        subscriber_index_remove (self->subscriptions, pattern, len, client);
    subscriber_index_release_prefix (self->subscriptions, pattern, len);
    zhashx_delete (client->patterns, pattern);
    self->patterns--;
}

//  The limits and the ACL on a valid pattern a client wants; answers and
//  returns false when it may not have it.
static bool
s_may_subscribe (self_t *self, client_t *client, const char *pattern, size_t len)
{
    const char *reason;
    if (zch_secure_topic (&self->config->secure, pattern, len, &reason)) {
        s_client_error (client, ZCH_FRAME_E_TOPIC, "invalid pattern: ", reason);
        return false;
    }
    return zch_guard_subscribe (&self->guard, client->conn, pattern, len);
}

//  The workerman profile: any line subscribes the client to topic1.
static int
s_workerman_line (self_t *self, client_t *client)
{
    if (!client->patterns || !zhashx_lookup (client->patterns, SUBSCRIBER_WORKERMAN_TOPIC))
        s_subscribe (self, client, SUBSCRIBER_WORKERMAN_TOPIC, strlen (SUBSCRIBER_WORKERMAN_TOPIC));
    return ZCH_EDGE_NEXT;
}

//  One line from a client.
static int
s_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len)
{
    self_t *self = ctx;
    client_t *client = zch_conn_user (conn);
    if (!client) {
        client = calloc (1, sizeof *client);
        if (!client) {
            zch_conn_close (conn);
            return ZCH_EDGE_NEXT;
        }
        client->conn = conn;
        zch_conn_set_user (conn, client);
    }
    if (self->config->workerman)
        return s_workerman_line (self, client);
    zch_command_t command;
    const char *reason;
    int rc = zch_command_parse (line, len, &command, &reason);
    //  Replies keep the order of requests: only SUB may overtake a barrier
    if (client->barriers > 0 && command.verb != ZCH_VERB_SUB)
        return ZCH_EDGE_PAUSE;
    if (rc) {
        s_reply_error (conn, "", reason);
        return ZCH_EDGE_NEXT;
    }
    char pattern [ZCH_TOPIC_MAX + 1];
    if (!zch_guard_admits (&self->guard, conn, command.verb == ZCH_VERB_PING || command.verb == ZCH_VERB_QUIT
                           || command.verb == ZCH_VERB_EMPTY || command.verb == ZCH_VERB_AUTH))
        return ZCH_EDGE_NEXT;
    switch (command.verb) {
        case ZCH_VERB_SUB:
        case ZCH_VERB_UNSUB:
            if (zch_pattern_validate (command.arg, command.arg_len, &reason)) {
                s_reply_error (conn, "invalid pattern: ", reason);
                break;
            }
            if (command.verb == ZCH_VERB_SUB) {
                if (command.rest_len > 0) {
                    s_reply_error (conn, "", "SUB takes no options here");
                    break;
                }
                if (s_may_subscribe (self, client, command.arg, command.arg_len))
                    s_subscribe (self, client, command.arg, command.arg_len);
                break;
            }
            memcpy (pattern, command.arg, command.arg_len);
            pattern [command.arg_len] = 0;
            if (!client->patterns || !zhashx_lookup (client->patterns, pattern))
                s_reply_error (conn, "", "not subscribed");
            else {
                s_unsubscribe (self, client, pattern);
                s_reply (conn, "+OK");
            }
            break;
        case ZCH_VERB_PING:
            s_reply (conn, "PONG");
            break;
        case ZCH_VERB_QUIT:
            zch_conn_close (conn);
            break;
        case ZCH_VERB_EMPTY:
            break;
        case ZCH_VERB_PUB:
        case ZCH_VERB_PUBLISH:
        case ZCH_VERB_VERBOSE:
            s_reply_error (conn, "", "publishing is served by the source front-end");
            break;
        case ZCH_VERB_AUTH:
            zch_guard_auth (&self->guard, conn, command.arg, command.arg_len);
            break;
        default:
            s_reply_error (conn, "", "unknown command");
            break;
    }
    return ZCH_EDGE_NEXT;
}

//  The client behind a connection, made on its first request. NULL (and
//  the connection closing) when out of memory.
static client_t *
s_client_of (zch_conn_t *conn, bool framed)
{
    client_t *client = zch_conn_user (conn);
    if (!client) {
        client = calloc (1, sizeof *client);
        if (!client) {
            zch_conn_close (conn);
            return NULL;
        }
        client->conn = conn;
        client->framed = framed;
        zch_conn_set_user (conn, client);
    }
    return client;
}

//  One frame from a frame-protocol client: the same requests as the text
//  protocol's SUB, UNSUB and PING, answered with frames.
static int
s_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len)
{
    self_t *self = ctx;
    client_t *client = s_client_of (conn, true);
    if (!client)
        return ZCH_EDGE_NEXT;
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    int rc = zch_frame_decode ((const uint8_t *) body, len, &cmd, &code, &reason);
    //  Replies keep the order of requests: only sub may overtake a barrier
    if (client->barriers > 0 && (rc || cmd.verb != ZCH_FRAME_SUB))
        return ZCH_EDGE_PAUSE;
    if (rc) {
        self->frames_malformed++;
        zch_info ("subscriber: client %s sent a bad frame: %s (bad frames: %llu)",
                  zch_conn_peer (conn), reason, (unsigned long long) self->frames_malformed);
        zch_frame_reply_err (conn, code, "", reason);
        return ZCH_EDGE_NEXT;
    }
    char pattern [ZCH_TOPIC_MAX + 1];
    if (cmd.verb == ZCH_FRAME_AUTH) {
        zch_guard_auth (&self->guard, conn, cmd.text, cmd.text_len);
        return ZCH_EDGE_NEXT;
    }
    if (!zch_guard_admits (&self->guard, conn, cmd.verb == ZCH_FRAME_PING))
        return ZCH_EDGE_NEXT;
    switch (cmd.verb) {
        case ZCH_FRAME_SUB:
        case ZCH_FRAME_UNSUB:
            if (zch_pattern_validate (cmd.topic, cmd.topic_len, &reason)) {
                zch_frame_reply_err (conn, ZCH_FRAME_E_TOPIC, "invalid pattern: ", reason);
                break;
            }
            if (cmd.verb == ZCH_FRAME_SUB) {
                if (cmd.opt_count > 0)
                    zch_frame_reply_err (conn, ZCH_FRAME_E_OPTION, "", "sub takes no options here");
                else
                if (s_may_subscribe (self, client, cmd.topic, cmd.topic_len))
                    s_subscribe (self, client, cmd.topic, cmd.topic_len);
                break;
            }
            memcpy (pattern, cmd.topic, cmd.topic_len);
            pattern [cmd.topic_len] = 0;
            if (!client->patterns || !zhashx_lookup (client->patterns, pattern))
                zch_frame_reply_err (conn, ZCH_FRAME_E_NOT_SUB, "", "not subscribed");
            else {
                s_unsubscribe (self, client, pattern);
                zch_frame_reply (conn, ZCH_FRAME_OK);
            }
            break;
        case ZCH_FRAME_PING:
            zch_frame_reply (conn, ZCH_FRAME_PONG);
            break;
        case ZCH_FRAME_PUB:
            zch_frame_reply_err (conn, ZCH_FRAME_E_WRONG_PORT, "",
                                 "publishing is served by the source front-end");
            break;
        default:
            self->frames_malformed++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_VERB, "", "not a request");
            break;
    }
    return ZCH_EDGE_NEXT;
}

//  A client is going: drop its subscriptions and forget its barriers.
static void
s_on_close (void *ctx, zch_conn_t *conn)
{
    self_t *self = ctx;
    client_t *client = zch_conn_user (conn);
    if (!client)
        return;
    if (client->patterns) {
        zlistx_t *patterns = zhashx_keys (client->patterns);
        for (const char *pattern = zlistx_first (patterns); pattern; pattern = zlistx_next (patterns))
            s_unsubscribe (self, client, pattern);
        zlistx_destroy (&patterns);
        zhashx_destroy (&client->patterns);
    }
    if (client->barriers > 0)
        for (barrier_t *barrier = zlistx_first (self->barriers); barrier;
             barrier = zlistx_next (self->barriers))
            if (barrier->client == client)
                barrier->client = NULL;
    free (client);
    zch_conn_set_user (conn, NULL);
}

static void
s_barrier_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  Frees what s_self_new made.
static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zch_edge_destroy (&self->edge);     //  first: its on_close uses the rest
    zch_edge_destroy (&self->frame_edge);
    zch_pipeline_destroy (&self->pipeline);
    subscriber_index_destroy (&self->subscriptions);
    zlistx_destroy (&self->barriers);
    if (self->upstream)
        zmq_close (self->upstream);
    zch_loop_destroy (&self->loop);
    free (self->line);
    free (self->frame);
    free (self);
    *self_p = NULL;
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
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->pipe = pipe;
    self->config = args->config;
    self->index = args->index;
    self->loop = zch_loop_new ();
    self->barriers = zlistx_new ();
    self->upstream = zmq_socket (zsys_init (), ZMQ_SUB);
    self->counters = zch_metrics_counters ("subscriber");
    static const zch_edge_handlers_t handlers = { .on_line = s_on_line, .on_close = s_on_close };
    zch_edge_config_t edge_config = {
        .role = "subscriber", .greeting = SUBSCRIBER_GREETING, .max_line = self->config->max_line,
        .max_output = self->config->max_output, .close_grace_ms = 1000
    };
    zch_secure_edge (&self->config->secure, args, false, &edge_config);
    self->guard = (zch_guard_t) {
        .role = "subscriber", .auth = self->config->secure.auth,
        .max_failures = self->config->secure.auth_max_failures
    };
    self->edge = self->loop? zch_edge_new (self->loop, args->listen_fd, &edge_config, &handlers, self): NULL;
    if (!self->edge)
        close (args->listen_fd);
    if (args->frame_fd >= 0) {
        static const zch_edge_handlers_t frame_handlers = { .on_line = s_on_frame, .on_close = s_on_close };
        zch_edge_config_t frame_config = {
            .role = "subscriber", .framing = ZCH_EDGE_FRAMES,
            .max_line = self->config->max_payload + ZCH_FRAME_OVERHEAD,
            .max_output = self->config->max_output, .close_grace_ms = 1000
        };
        zch_secure_edge (&self->config->secure, args, true, &frame_config);
        self->frame_edge = self->loop? zch_edge_new (self->loop, args->frame_fd, &frame_config,
                                                     &frame_handlers, self): NULL;
        if (!self->frame_edge)
            close (args->frame_fd);
    }
    if (self->upstream)
        self->subscriptions = subscriber_index_new (self->upstream);
    if (!self->edge || !self->barriers || !self->upstream || !self->subscriptions || !self->counters
    ||  (args->frame_fd >= 0 && !self->frame_edge)) {
        snprintf (error, error_size, "cannot set up worker: %s", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->barriers, s_barrier_free);
    zch_zmq_set (self->upstream, ZMQ_RCVHWM, SUBSCRIBER_RCVHWM);
    zch_zmq_set (self->upstream, ZMQ_LINGER, 0);
    if (zch_secure_curve (&self->config->secure, self->upstream, error, error_size)
    ||  zch_zmq_attach (self->upstream, "to broker", self->config->broker, false, error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    if (zch_pipeline_build (&self->config->plugins, ZCH_PLUGIN_STAGE_SUBSCRIBER, &self->pipeline,
                            error, error_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->state.reload_free = zch_pipeline_free;
    zuuid_t *uuid = zuuid_new ();
    snprintf (self->ack_prefix, sizeof self->ack_prefix, "$ack.%s.", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    self->pipe_watch = (zch_watch_t) { .fd = zsock_fd (pipe), .handler = s_watch_nothing };
    self->upstream_watch = (zch_watch_t) { .fd = zch_zmq_fd (self->upstream), .handler = s_watch_nothing };
    zch_loop_add (self->loop, &self->pipe_watch, EPOLLIN);
    zch_loop_add (self->loop, &self->upstream_watch, EPOLLIN);
    return self;
}

//  Writes both edges' output.
static void
s_flush_edges (self_t *self)
{
    zch_edge_flush (self->edge);
    if (self->frame_edge)
        zch_edge_flush (self->frame_edge);
}

//  Output still queued (clients: the number of clients still connected)
//  over both edges, for the drain.
static size_t
s_edges_left (self_t *self, bool clients)
{
    size_t left = clients? zch_edge_client_count (self->edge): zch_edge_pending_output (self->edge);
    if (self->frame_edge)
        left += clients? zch_edge_client_count (self->frame_edge):
                         zch_edge_pending_output (self->frame_edge);
    return left;
}

//  Publishes the worker's counters for the metrics endpoint: before each
//  flush, so a client never sees a delivery the counters do not have yet.
static void
s_publish_metrics (self_t *self)
{
    zch_secure_publish (self->counters, self->edge, self->frame_edge, &self->guard, self->too_many_subs);
    zch_counters_t *counters = self->counters;
    const zch_edge_stats_t *edge = zch_edge_stats (self->edge);
    const zch_edge_stats_t *frame_edge = self->frame_edge? zch_edge_stats (self->frame_edge): NULL;
    zch_metrics_set (&counters->messages_received, self->received);
    zch_metrics_set (&counters->bytes_received, self->received_bytes);
    zch_metrics_set (&counters->messages_sent, self->delivered);
    zch_metrics_set (&counters->bytes_sent, self->delivered_bytes);
    zch_metrics_set (&counters->dropped [ZCH_DROP_MALFORMED], self->malformed + edge->lines_too_long
                     + self->frames_malformed + (frame_edge? frame_edge->lines_too_long: 0));
    zch_metrics_set (&counters->dropped [ZCH_DROP_PLUGIN], self->plugin_dropped);
    zch_metrics_set (&counters->dropped [ZCH_DROP_SLOW_CONSUMER],
                     edge->slow_consumers + (frame_edge? frame_edge->slow_consumers: 0));
    zch_metrics_set (&counters->slow_consumer_bytes,
                     edge->dropped_bytes + (frame_edge? frame_edge->dropped_bytes: 0));
    zch_metrics_set (&counters->plugin_ns,
                     self->plugin_ns + (self->pipeline? zch_pipeline_ns (self->pipeline): 0));
    zch_metrics_set (&counters->clients, s_edges_left (self, true));
    zch_metrics_set (&counters->subscriptions, self->patterns);
}

//  Delivers what the broker still sends until it has been quiet for a
//  moment, lets clients read it, then closes them.
static void
s_drain (self_t *self)
{
    zch_edge_stop_accepting (self->edge);
    if (self->frame_edge)
        zch_edge_stop_accepting (self->frame_edge);
    int64_t deadline = zclock_mono () + self->config->drain_timeout;
    int64_t quiet_since = zclock_mono ();
    while (zclock_mono () < deadline) {
        if (s_upstream_drain (self) > 0)
            quiet_since = zclock_mono ();
        s_publish_metrics (self);
        s_flush_edges (self);
        if (zclock_mono () - quiet_since >= SUBSCRIBER_DRAIN_QUIET && s_edges_left (self, false) == 0)
            break;
        zch_loop_run_once (self->loop, 10);
    }
    size_t pending = s_edges_left (self, false);
    if (pending > 0)
        zch_warning ("subscriber: worker %d: drain timeout (%d ms) reached with %zu bytes "
                     "not yet read by clients", self->index, self->config->drain_timeout, pending);
    zch_edge_close_all (self->edge);
    if (self->frame_edge)
        zch_edge_close_all (self->frame_edge);
    s_flush_edges (self);
    while (s_edges_left (self, true) > 0 && zclock_mono () < deadline + 1000) {
        zch_loop_run_once (self->loop, 10);
        s_flush_edges (self);
    }
    s_publish_metrics (self);
}

void
subscriber_worker_actor (zsock_t *pipe, void *args)
{
    char error [512];
    self_t *self = s_self_new (pipe, args, error, sizeof error);
    if (!self) {
        zch_error ("subscriber: %s", error);
        zch_actor_ready (pipe, error);
        return;
    }
    if (self->index == 0) {
        zch_notice ("subscriber: listening on %s, receiving from %s",
                    self->config->listen, self->config->broker);
        if (self->frame_edge)
            zch_notice ("subscriber: frame protocol on %s", self->config->frame_listen);
    }
    zch_actor_ready (pipe, NULL);
    bool busy = false;
    while (!self->state.stopping) {
        zch_loop_run_once (self->loop, busy? 0: SUBSCRIBER_TICK);
        zch_worker_commands (self->pipe, &self->state);
        if (self->state.limits_changed && self->frame_edge)
            zch_edge_set_limits (self->frame_edge, self->config->max_payload + ZCH_FRAME_OVERHEAD,
                                 self->state.max_output);
        zch_worker_apply_limits (&self->state, self->edge);
        if (self->state.reloaded)
            s_plugins_swap (self);
        busy = s_upstream_drain (self) == SUBSCRIBER_BATCH;
        s_publish_metrics (self);
        s_flush_edges (self);
    }
    s_drain (self);
    if (self->pipeline)
        zch_pipeline_report (self->pipeline, "subscriber");
    zch_info ("subscriber: worker %d stopped after receiving %llu messages",
              self->index, (unsigned long long) self->received);
    if (self->frame_edge)
        zch_info ("subscriber: worker %d frames: %llu malformed, %llu over the size limit",
                  self->index, (unsigned long long) self->frames_malformed,
                  (unsigned long long) zch_edge_stats (self->frame_edge)->lines_too_long);
    zch_secure_report ("subscriber", self->index, self->edge, self->frame_edge, &self->guard,
                       self->too_many_subs);
    zch_worker_await_term (pipe, &self->state);
    s_self_destroy (&self);
}

//  Builds worker index's new pipeline, off its thread.
static int
s_build (const void *config, int index, void **item, char *error, size_t error_size)
{
    (void) index;
    const subscriber_config_t *subscriber = config;
    return zch_pipeline_build (&subscriber->plugins, ZCH_PLUGIN_STAGE_SUBSCRIBER,
                               (zch_pipeline_t **) item, error, error_size);
}

int
subscriber_reload (zch_workers_t *workers, char *error, size_t error_size)
{
    return zch_workers_reload (workers, s_build, zch_pipeline_free, error, error_size);
}

zch_workers_t *
subscriber_start (const subscriber_config_t *config, char *error, size_t error_size)
{
    return zch_workers_start_framed (config->listen, *config->frame_listen? config->frame_listen: NULL,
                                     config->workers,
                                     subscriber_worker_actor, config, error, error_size);
}
