/*  subscriber_commands: what a subscriber client asks, over the text
    protocol or frames: SUB (with SNAPSHOT or FROM), UNSUB, PING, QUIT,
    and the work queues' ENQUEUE, WATCH, UNWATCH.                           */
#include "subscriber_worker.h"
#include "subscriber_queue.h"
#include "subscriber_relay.h"
#include "subscriber_workq.h"
#include "zch_mpread.h"
#include "zch_frame.h"
#include "zch_frame_pub.h"
#include "zch_frame_reply.h"
#include "zch_confirm.h"
#include "zch_guard.h"
#include "zch_log.h"
#include "zch_text.h"

//  The client behind a connection, made on its first request. NULL (and
//  the connection closing) when out of memory.
subscriber_client_t *
subscriber_client_of (zch_conn_t *conn, bool framed)
{
    subscriber_client_t *client = zch_conn_user (conn);
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

//  The limits and the ACL on a valid pattern a client wants (for a plain
//  SUB, a SNAPSHOT and a FROM alike: what it may not follow live it may
//  not read from history either); answers and returns false when refused.
bool
subscriber_may_subscribe (subscriber_worker_t *self, subscriber_client_t *client, const char *pattern, size_t len)
{
    const char *reason;
    if (zch_secure_topic (&self->config->secure, pattern, len, &reason)) {
        subscriber_client_error (client, ZCH_FRAME_E_TOPIC, "invalid pattern: ", reason);
        return false;
    }
    if (!zch_guard_subscribe (&self->guard, client->conn, pattern, len))
        return false;
    //  A pattern already held (a repeated SUB, a SNAPSHOT of it) adds none
    size_t max_subs = (size_t) self->config->secure.max_subscriptions;
    char key [ZCH_TOPIC_MAX + 1];
    memcpy (key, pattern, len);
    key [len] = 0;
    if (max_subs && client->patterns && zhashx_size (client->patterns) >= max_subs
    &&  !zhashx_lookup (client->patterns, key)) {
        self->too_many_subs++;
        zch_info ("subscriber: client %s is over %zu subscriptions (refused: %llu)",
                  zch_conn_peer (client->conn), max_subs, (unsigned long long) self->too_many_subs);
        subscriber_client_error (client, "too_many_subscriptions", "", "too many subscriptions");
        return false;
    }
    return true;
}

//  UNSUB: ends the client's subscription to pattern and its queue-group
//  memberships on it, and answers. A group's member is answered once the
//  broker has its leave (a barrier), so that it gets nothing afterwards
//  and the group's turns are the others'. Returns false, answering
//  nothing, when it had neither.
static bool
s_unsubscribe (subscriber_worker_t *self, subscriber_client_t *client, const char *pattern)
{
    bool held = client->patterns && zhashx_lookup (client->patterns, pattern);
    if (held)
        subscriber_worker_unsubscribe (self, client, pattern);
    if (subscriber_queue_leave (self->queue, client, pattern) > 0)
        subscriber_worker_confirm (self, client);
    else
    if (held)
        subscriber_client_ok (client, 0);
    else
        return false;
    return true;
}

//  The workerman profile: any line subscribes the client to topic1.
static int
s_workerman_line (subscriber_worker_t *self, subscriber_client_t *client)
{
    if (!client->patterns || !zhashx_lookup (client->patterns, SUBSCRIBER_WORKERMAN_TOPIC))
    {
        subscriber_sync_options_t none = { .kind = SUBSCRIBER_SYNC_NONE };
        subscriber_worker_subscribe (self, client, SUBSCRIBER_WORKERMAN_TOPIC,
                                     strlen (SUBSCRIBER_WORKERMAN_TOPIC), &none);
    }
    return ZCH_EDGE_NEXT;
}

//  A queue's name breaks the rules of a topic (queues are named as
//  topics, ACLs included): answers and returns true.
static bool
s_bad_queue (subscriber_worker_t *self, subscriber_client_t *client, const char *queue, size_t len,
             bool enqueue)
{
    const char *reason;
    if (zch_topic_validate (queue, len, &reason)
    ||  zch_secure_topic (&self->config->secure, queue, len, &reason)) {
        subscriber_client_error (client, ZCH_FRAME_E_TOPIC, "invalid queue name: ", reason);
        return true;
    }
    return enqueue? !zch_guard_publish (&self->guard, client->conn, queue, len):
                    !zch_guard_subscribe (&self->guard, client->conn, queue, len);
}

//  ENQUEUE from any protocol: the payload's size, then the queue.
int
subscriber_enqueue (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                    size_t len, const void *payload, size_t payload_len, bool php)
{
    if (payload_len > self->config->max_payload) {
        subscriber_client_error (client, ZCH_FRAME_E_TOO_LARGE, "", "payload over --max-payload");
        return ZCH_EDGE_NEXT;
    }
    if (s_bad_queue (self, client, queue, len, true))
        return ZCH_EDGE_NEXT;
    return subscriber_workq_enqueue (self->workq, client, queue, len, payload, payload_len, php);
}

//  WATCH from any protocol.
void
subscriber_watch (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                  size_t len, uint32_t prefetch)
{
    if (!s_bad_queue (self, client, queue, len, false))
        subscriber_workq_watch (self->workq, client, queue, len, prefetch);
}

//  UNWATCH from any protocol.
void
subscriber_unwatch (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                    size_t len)
{
    char name [ZCH_TOPIC_MAX + 1];
    snprintf (name, sizeof name, "%.*s", (int) (len < sizeof name? len: sizeof name - 1), queue);
    if (subscriber_workq_unwatch (self->workq, client, name))
        subscriber_client_ok (client, 0);
    else
        subscriber_client_error (client, "not_watching", "", "not watching that queue");
}

//  WATCH's options in text: nothing, or PREFETCH <n>. Returns the
//  prefetch, or 0 with a reason.
static uint32_t
s_prefetch_text (const char *rest, size_t len, const char **reason)
{
    if (len == 0)
        return SUBSCRIBER_WORKQ_PREFETCH;
    char text [64];
    snprintf (text, sizeof text, "%.*s", (int) (len < sizeof text? len: sizeof text - 1), rest);
    unsigned long value = 0;
    char word [16] = "", extra [2] = "";
    if (sscanf (text, "%15s %lu %1s", word, &value, extra) != 2 || strcasecmp (word, "PREFETCH")
    ||  value < 1 || value > SUBSCRIBER_WORKQ_PREFETCH_MAX) {
        *reason = "usage: WATCH <queue> [PREFETCH <1..1000>]";
        return 0;
    }
    return (uint32_t) value;
}

//  A watch's options as frames carry them: nil, or {"prefetch": n}.
//  Returns the prefetch, or 0 with a reason.
static uint32_t
s_prefetch_map (const uint8_t *opts, size_t size, const char **reason)
{
    uint64_t value = SUBSCRIBER_WORKQ_PREFETCH;
    zch_mpread_t reader;
    uint32_t count;
    zch_mpread_init (&reader, opts, size);
    if (opts && (zch_mpread_map (&reader, &count) || count > 1))
        value = 0;
    else
    if (opts && count == 1) {
        const char *key;
        size_t key_len;
        if (zch_mpread_str (&reader, &key, &key_len) || key_len != 8 || memcmp (key, "prefetch", 8)
        ||  zch_mpread_uint (&reader, &value))
            value = 0;
    }
    if (value < 1 || value > SUBSCRIBER_WORKQ_PREFETCH_MAX) {
        *reason = "a watch takes {\"prefetch\": 1..1000}";
        return 0;
    }
    return (uint32_t) value;
}

//  One line from a client.
int
subscriber_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len)
{
    subscriber_worker_t *self = ctx;
    subscriber_client_t *client = subscriber_client_of (conn, false);
    if (!client)
        return ZCH_EDGE_NEXT;
    if (self->config->workerman)
        return s_workerman_line (self, client);
    zch_command_t command;
    const char *reason;
    int rc = zch_command_parse (line, len, &command, &reason);
    //  Replies keep the order of requests: only a plain SUB may overtake a
    //  barrier, and nothing a catch-up
    if ((client->sync && subscriber_sync_streaming (client->sync))
    ||  (client->barriers > 0 && (command.verb != ZCH_VERB_SUB || command.rest_len > 0))
    ||  (client->queue_requests > 0 && command.verb != ZCH_VERB_ENQUEUE))
        return ZCH_EDGE_PAUSE;
    if (rc) {
        subscriber_reply_error (conn, "", reason);
        return ZCH_EDGE_NEXT;
    }
    char pattern [ZCH_TOPIC_MAX + 1];
    if (zch_guard_text_request (&self->guard, conn, &command))
        return ZCH_EDGE_NEXT;
    switch (command.verb) {
        case ZCH_VERB_SUB:
        case ZCH_VERB_UNSUB:
            if (zch_pattern_validate (command.arg, command.arg_len, &reason)) {
                subscriber_reply_error (conn, "invalid pattern: ", reason);
                break;
            }
            if (command.verb == ZCH_VERB_SUB) {
                subscriber_sync_options_t options;
                if (subscriber_sync_parse (command.rest, command.rest_len, &options, &reason))
                    subscriber_reply_error (conn, "", reason);
                else
                if (options.kind == SUBSCRIBER_SYNC_FROM && zch_topic_validate (command.arg, command.arg_len, NULL))
                    subscriber_reply_error (conn, "", "FROM takes a topic, not a pattern");
                else
                if (options.queue && subscriber_queue_check_group (options.queue, options.queue_len, &reason))
                    subscriber_reply_error (conn, "", reason);
                else
                if (subscriber_may_subscribe (self, client, command.arg, command.arg_len)) {
                    options.verbose = client->verbose;
                    if (options.queue)
                        subscriber_queue_join (self->queue, client, command.arg, command.arg_len,
                                               options.queue, options.queue_len);
                    else
                        subscriber_worker_subscribe (self, client, command.arg, command.arg_len, &options);
                }
                break;
            }
            memcpy (pattern, command.arg, command.arg_len);
            pattern [command.arg_len] = 0;
            if (!s_unsubscribe (self, client, pattern))
                subscriber_reply_error (conn, "", "not subscribed");
            break;
        case ZCH_VERB_VERBOSE:
            //  On: a SUB's +OK names the broker's epoch
            client->verbose = command.arg_len == 2 && strncasecmp (command.arg, "on", 2) == 0;
            subscriber_reply (conn, "+OK");
            break;
        case ZCH_VERB_PUB:
        case ZCH_VERB_PUBLISH:
            subscriber_reply_error (conn, "", "publishing is served by the source front-end");
            break;
        case ZCH_VERB_ENQUEUE:
            return subscriber_enqueue (self, client, command.arg, command.arg_len,
                                       command.rest, command.rest_len, false);
        case ZCH_VERB_WATCH: {
            uint32_t prefetch = s_prefetch_text (command.rest, command.rest_len, &reason);
            if (prefetch)
                subscriber_watch (self, client, command.arg, command.arg_len, prefetch);
            else
                subscriber_reply_error (conn, "", reason);
            break;
        }
        case ZCH_VERB_UNWATCH:
            subscriber_unwatch (self, client, command.arg, command.arg_len);
            break;
        default:
            subscriber_reply_error (conn, "", "unknown command");
            break;
    }
    return ZCH_EDGE_NEXT;
}

//  A WebSocket client's ["pub", ...]: the source's checks here (the
//  client's token is known here), then over the relay to the source's
//  publish path. A full relay pauses the client.
static int
s_publish (subscriber_worker_t *self, subscriber_client_t *client, const zch_frame_cmd_t *cmd)
{
    zch_conn_t *conn = client->conn;
    if (!zch_frame_pub_admits (conn, cmd, &self->guard, &self->config->secure, self->config->max_payload,
                               &self->frames_rejected))
        return ZCH_EDGE_NEXT;
    //  A VERBOSE client's publish asks the broker for a confirm, which
    //  comes back here (the source writes this worker's route into it)
    uint64_t confirm = client->confirms && self->confirm? zch_confirm_next (self->confirm): 0;
    if (client->confirms && self->confirm && !confirm)
        return ZCH_EDGE_PAUSE;  //  too many confirms in flight: held back
    size_t route_len = 0;
    const char *route = confirm? zch_confirm_route (self->confirm, &route_len): NULL;
    if (subscriber_relay_publish (self->relay, zch_conn_peer (conn), cmd->topic, cmd->topic_len,
                                  cmd->payload, cmd->payload_len, cmd->headers, cmd->headers_size,
                                  route, route_len, confirm))
        return ZCH_EDGE_PAUSE;
    //  Without a control link (or memory to wait) it is answered once on its way
    if (client->confirms
    &&  (!confirm || zch_confirm_expect (self->confirm, conn, true, cmd->topic, cmd->topic_len)))
        zch_frame_reply (conn, ZCH_FRAME_OK);
    return ZCH_EDGE_NEXT;
}

//  One frame from a frame-protocol client: the same requests as the text
//  protocol's SUB, UNSUB and PING, answered with frames; and a WebSocket
//  client's publishes, so that a browser needs one connection.
int
subscriber_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len)
{
    subscriber_worker_t *self = ctx;
    subscriber_client_t *client = subscriber_client_of (conn, true);
    if (!client)
        return ZCH_EDGE_NEXT;
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    int rc = zch_frame_decode ((const uint8_t *) body, len, &cmd, &code, &reason);
    //  Replies keep the order of requests: only a plain sub may overtake a
    //  barrier, and nothing a catch-up
    if ((client->sync && subscriber_sync_streaming (client->sync))
    ||  (client->barriers > 0 && (rc || cmd.verb != ZCH_FRAME_SUB || cmd.opt_count > 0))
    ||  (client->queue_requests > 0 && (rc || cmd.verb != ZCH_FRAME_ENQUEUE)))
        return ZCH_EDGE_PAUSE;
    //  While publisher confirms are owed, only publishing that will pass
    //  goes on: any other answer would overtake them
    if (self->confirm && zch_confirm_owed (self->confirm, conn)
    &&  (rc || cmd.verb != ZCH_FRAME_PUB
         || !zch_frame_pub_would_pass (conn, cmd.topic, cmd.topic_len, cmd.payload_len, &self->guard,
                                       &self->config->secure, self->config->max_payload)))
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
                subscriber_sync_options_t options;
                if (subscriber_sync_parse_map (cmd.opts, cmd.opts_size, &options, &reason))
                    zch_frame_reply_err (conn, ZCH_FRAME_E_OPTION, "", reason);
                else
                if (options.kind == SUBSCRIBER_SYNC_FROM && zch_topic_validate (cmd.topic, cmd.topic_len, NULL))
                    zch_frame_reply_err (conn, ZCH_FRAME_E_OPTION, "", "from takes a topic, not a pattern");
                else
                if (options.queue && subscriber_queue_check_group (options.queue, options.queue_len, &reason))
                    zch_frame_reply_err (conn, ZCH_FRAME_E_OPTION, "", reason);
                else
                if (subscriber_may_subscribe (self, client, cmd.topic, cmd.topic_len)) {
                    if (options.queue)
                        subscriber_queue_join (self->queue, client, cmd.topic, cmd.topic_len,
                                               options.queue, options.queue_len);
                    else
                        subscriber_worker_subscribe (self, client, cmd.topic, cmd.topic_len, &options);
                }
                break;
            }
            memcpy (pattern, cmd.topic, cmd.topic_len);
            pattern [cmd.topic_len] = 0;
            if (!s_unsubscribe (self, client, pattern))
                zch_frame_reply_err (conn, ZCH_FRAME_E_NOT_SUB, "", "not subscribed");
            break;
        case ZCH_FRAME_PING:
            zch_frame_reply (conn, ZCH_FRAME_PONG);
            break;
        case ZCH_FRAME_VERBOSE:
            //  On: each pub answered ["ok", topic, seq, epoch] once stamped
            client->confirms = cmd.flag;
            zch_frame_reply (conn, ZCH_FRAME_OK);
            break;
        case ZCH_FRAME_PUB:
            if (self->relay && zch_conn_websocket (conn))
                return s_publish (self, client, &cmd);
            self->frames_rejected++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_WRONG_PORT, "", self->relay?
                                 "publishing is served by the source front-end and this port's WebSocket":
                                 "publishing is served by the source front-end");
            break;
        case ZCH_FRAME_ENQUEUE:
            return subscriber_enqueue (self, client, cmd.topic, cmd.topic_len, cmd.payload,
                                       cmd.payload_len, false);
        case ZCH_FRAME_WATCH: {
            uint32_t prefetch = s_prefetch_map (cmd.opts, cmd.opts_size, &reason);
            if (prefetch)
                subscriber_watch (self, client, cmd.topic, cmd.topic_len, prefetch);
            else
                zch_frame_reply_err (conn, ZCH_FRAME_E_OPTION, "", reason);
            break;
        }
        case ZCH_FRAME_UNWATCH:
            subscriber_unwatch (self, client, cmd.topic, cmd.topic_len);
            break;
        default:
            self->frames_malformed++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_VERB, "", "not a request");
            break;
    }
    return ZCH_EDGE_NEXT;
}
