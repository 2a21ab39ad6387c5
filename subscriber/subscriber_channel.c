/*  subscriber_channel: walkor/channel's protocol on the subscriber
    front-end.                                                              */
#include "subscriber_channel.h"
#include "subscriber_queue.h"
#include "subscriber_relay.h"
#include "subscriber_workq.h"
#include "zch_chanmsg.h"
#include "zch_frame.h"
#include "zch_frame_reply.h"
#include "zch_guard.h"
#include "zch_log.h"
#include "zch_mpread.h"
#include "zch_net.h"

#include <unistd.h>

struct subscriber_channel_t {
    subscriber_worker_t *worker;
    zch_edge_t *edge;
    uint8_t *event;             //  the delivery frame, built once per message
    size_t event_cap;
    uint64_t malformed;
};

//  The headers of a relayed publish, as msgpack maps: a PHP value other
//  than a string says so; a publishLoop routes to the loop group only
static const uint8_t s_php_headers [] =
    "\x81\xac" "content-type" "\xbe" SUBSCRIBER_PHP_SERIALIZED;
static const uint8_t s_loop_headers [] =
    "\x81\xa9" "zch-route" "\xab" "queue $loop";
static const uint8_t s_loop_php_headers [] =
    "\x82\xa9" "zch-route" "\xab" "queue $loop" "\xac" "content-type" "\xbe" SUBSCRIBER_PHP_SERIALIZED;

//  Tells the client why it is refused, then closes it: the stream cannot be
//  trusted after bytes that are not a request.
static void
s_refuse (subscriber_channel_t *self, zch_conn_t *conn, const char *reason)
{
    self->malformed++;
    zch_info ("subscriber: channel client %s sent a bad request: %s (bad requests: %llu)",
              zch_conn_peer (conn), reason, (unsigned long long) self->malformed);
    subscriber_channel_error (conn, "bad_request", "", reason);
    zch_conn_close (conn);
}

//  Checks a channel name as a topic (names map to topics one to one; what
//  a topic cannot hold is refused) and copies it NUL-terminated into topic.
//  Answers and returns false when refused.
static bool
s_topic_of (subscriber_client_t *client, const zch_chan_name_t *name, char *topic)
{
    const char *reason;
    if (name->len > ZCH_TOPIC_MAX || zch_topic_validate (name->name, name->len, &reason)) {
        subscriber_client_error (client, ZCH_FRAME_E_TOPIC, "invalid channel name: ",
                                 name->len > ZCH_TOPIC_MAX? "too long": reason);
        return false;
    }
    memcpy (topic, name->name, name->len);
    topic [name->len] = 0;
    return true;
}

static void
s_subscribe (subscriber_worker_t *self, subscriber_client_t *client, const zch_chan_request_t *request)
{
    char topic [ZCH_TOPIC_MAX + 1];
    for (uint32_t i = 0; i < request->channel_count; i++) {
        const zch_chan_name_t *name = &request->channels [i];
        if (!s_topic_of (client, name, topic))
            continue;
        //  Channel\Client subscribes again on every reconnect: a repeat is no error
        if (client->patterns && zhashx_lookup (client->patterns, topic))
            continue;
        subscriber_sync_options_t live = { .kind = SUBSCRIBER_SYNC_NONE };
        if (subscriber_may_subscribe (self, client, topic, name->len)) {
            subscriber_worker_subscribe (self, client, topic, name->len, &live);
            //  and takes its turn for publishLoop on the channel
            subscriber_queue_join (self->queue, client, topic, name->len, SUBSCRIBER_LOOP_GROUP,
                                   strlen (SUBSCRIBER_LOOP_GROUP));
        }
    }
}

static void
s_unsubscribe (subscriber_worker_t *self, subscriber_client_t *client, const zch_chan_request_t *request)
{
    char topic [ZCH_TOPIC_MAX + 1];
    for (uint32_t i = 0; i < request->channel_count; i++) {
        if (!s_topic_of (client, &request->channels [i], topic))
            continue;
        if (client->patterns && zhashx_lookup (client->patterns, topic))
            subscriber_worker_unsubscribe (self, client, topic);
        subscriber_queue_leave (self->queue, client, topic);
    }
}

//  Hands one publish to the relay. Returns 0, or -1 when it cannot take
//  it now (nothing was sent).
static int
s_relay (subscriber_channel_t *self, zch_conn_t *conn, const char *topic, size_t topic_len,
         const zch_chan_request_t *request)
{
    const uint8_t *payload = request->data_is_string? (const uint8_t *) request->str: request->data;
    size_t payload_len = request->data_is_string? request->str_len: request->data_len;
    bool loop = request->type == ZCH_CHAN_PUBLISH_LOOP;
    const uint8_t *headers = loop? (request->data_is_string? s_loop_headers: s_loop_php_headers):
                                   (request->data_is_string? NULL: s_php_headers);
    size_t headers_size = !headers? 0: loop? (request->data_is_string? sizeof s_loop_headers:
                                                                       sizeof s_loop_php_headers) - 1:
                                              sizeof s_php_headers - 1;
    return subscriber_relay_publish (self->worker->relay, zch_conn_peer (conn), topic, topic_len,
                                     payload, payload_len, headers, headers_size, NULL, 0, 0);
}

//  publish and publishLoop: one message per channel, through the source's
//  path (a publishLoop's to one of the channel's channel subscribers only).
//  A client paused halfway goes on after the channels it already published.
static int
s_publish (subscriber_channel_t *self, subscriber_client_t *client, const zch_chan_request_t *request)
{
    subscriber_worker_t *worker = self->worker;
    size_t payload_len = request->data_is_string? request->str_len: request->data_len;
    if (payload_len > worker->config->max_payload) {
        subscriber_client_error (client, "too_large", "", "payload over --max-payload");
        return ZCH_EDGE_NEXT;
    }
    char topic [ZCH_TOPIC_MAX + 1];
    for (; client->relayed < request->channel_count; client->relayed++) {
        const zch_chan_name_t *name = &request->channels [client->relayed];
        const char *reason;
        if (!s_topic_of (client, name, topic))
            continue;
        if (zch_secure_topic (&worker->config->secure, topic, name->len, &reason)) {
            subscriber_client_error (client, ZCH_FRAME_E_TOPIC, "invalid channel name: ", reason);
            continue;
        }
        if (!zch_guard_publish (&worker->guard, client->conn, topic, name->len))
            continue;
        if (s_relay (self, client->conn, topic, name->len, request))
            return ZCH_EDGE_PAUSE;
    }
    client->relayed = 0;
    return ZCH_EDGE_NEXT;
}

//  watch and unwatch: each channel a work queue of the same name. A
//  watch takes one item per reserve, as Channel\Client expects.
static void
s_watch (subscriber_worker_t *self, subscriber_client_t *client, const zch_chan_request_t *request)
{
    char queue [ZCH_TOPIC_MAX + 1];
    for (uint32_t i = 0; i < request->channel_count; i++) {
        if (!s_topic_of (client, &request->channels [i], queue))
            continue;
        if (request->type == ZCH_CHAN_WATCH)
            subscriber_watch (self, client, queue, request->channels [i].len, 0);
        else
            subscriber_workq_unwatch (self->workq, client, queue);
    }
}

//  enqueue: one item per channel. A full queue is told as an error
//  event; a client paused halfway goes on after the channels it did.
static int
s_enqueue (subscriber_worker_t *self, subscriber_client_t *client, const zch_chan_request_t *request)
{
    const void *payload = request->data_is_string? (const void *) request->str: (const void *) request->data;
    size_t payload_len = request->data_is_string? request->str_len: request->data_len;
    char queue [ZCH_TOPIC_MAX + 1];
    for (; client->relayed < request->channel_count; client->relayed++) {
        const zch_chan_name_t *name = &request->channels [client->relayed];
        if (!s_topic_of (client, name, queue))
            continue;
        if (subscriber_enqueue (self, client, queue, name->len, payload, payload_len,
                                !request->data_is_string) == ZCH_EDGE_PAUSE)
            return ZCH_EDGE_PAUSE;
    }
    client->relayed = 0;
    return ZCH_EDGE_NEXT;
}

//  One frame from a channel client (the length prefix stripped; an empty
//  body is a ping).
static int
s_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len)
{
    subscriber_channel_t *self = ctx;
    subscriber_worker_t *worker = self->worker;
    subscriber_client_t *client = subscriber_client_of (conn, false);
    if (!client)
        return ZCH_EDGE_NEXT;
    client->channel = true;
    //  Requests keep their order behind a subscription not yet live, so a
    //  client that subscribes and then publishes hears its own message
    if (client->barriers > 0)
        return ZCH_EDGE_PAUSE;
    zch_chan_request_t request;
    const char *reason;
    zch_phpser_limits_t limits = {
        .max_depth = ZCH_PHPSER_DEPTH_DEFAULT, .max_elements = ZCH_PHPSER_ELEMENTS_DEFAULT,
        .max_string = worker->config->max_payload
    };
    int rc = zch_chanmsg_decode ((const uint8_t *) body, len, &limits, &request, &reason);
    if (rc) {
        char text [160];
        snprintf (text, sizeof text, "%s: %s", zch_phpser_strerror (rc), reason);
        s_refuse (self, conn, text);
        return ZCH_EDGE_NEXT;
    }
    if (!zch_guard_admits (&worker->guard, conn, request.type == ZCH_CHAN_PING))
        return ZCH_EDGE_NEXT;
    switch (request.type) {
        case ZCH_CHAN_PING:
            break;
        case ZCH_CHAN_SUBSCRIBE:
            s_subscribe (worker, client, &request);
            break;
        case ZCH_CHAN_UNSUBSCRIBE:
            s_unsubscribe (worker, client, &request);
            break;
        case ZCH_CHAN_PUBLISH:
        case ZCH_CHAN_PUBLISH_LOOP:
            return s_publish (self, client, &request);
        case ZCH_CHAN_WATCH:
        case ZCH_CHAN_UNWATCH:
            s_watch (worker, client, &request);
            break;
        case ZCH_CHAN_ENQUEUE:
            return s_enqueue (worker, client, &request);
        case ZCH_CHAN_RESERVE:
            subscriber_workq_reserve (worker->workq, client);
            break;
        default:
            subscriber_client_error (client, "unsupported", zch_chanmsg_type_name (request.type),
                                     " is not served on this port");
            break;
    }
    return ZCH_EDGE_NEXT;
}

//  The worker's own close handler: drops the client's subscriptions.
static void
s_on_close (void *ctx, zch_conn_t *conn)
{
    subscriber_channel_t *self = ctx;
    subscriber_on_close (self->worker, conn);
}

subscriber_channel_t *
subscriber_channel_new (subscriber_worker_t *worker, const zch_worker_args_t *args,
                        char *error, size_t error_size)
{
    const subscriber_config_t *config = worker->config;
    int fd = zch_net_listen (config->channel_listen, true, error, error_size);
    if (fd < 0)
        return NULL;
    subscriber_channel_t *self = calloc (1, sizeof *self);
    if (!self) {
        close (fd);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->worker = worker;
    static const zch_edge_handlers_t handlers = { .on_line = s_on_frame, .on_close = s_on_close };
    zch_edge_config_t edge_config = {
        .role = "subscriber", .framing = ZCH_EDGE_CHANNEL,
        .max_line = config->max_payload + ZCH_FRAME_OVERHEAD,
        .max_output = config->max_output, .close_grace_ms = 1000
    };
    //  The same limits as the frame port; its own count of clients
    zch_worker_args_t own = *args;
    own.clients = NULL;
    own.frame_clients = NULL;
    zch_secure_edge (&config->secure, &own, true, &edge_config);
    edge_config.tls = NULL;     //  Channel\Client speaks plain TCP only
    self->edge = zch_edge_new (worker->loop, fd, &edge_config, &handlers, self);
    if (!self->edge) {
        close (fd);
        snprintf (error, error_size, "out of memory");
        subscriber_channel_destroy (&self);
        return NULL;
    }
    worker->channel_edge = self->edge;
    return self;
}

void
subscriber_channel_destroy (subscriber_channel_t **self_p)
{
    subscriber_channel_t *self = *self_p;
    if (!self)
        return;
    zch_edge_destroy (&self->edge);
    self->worker->channel_edge = NULL;
    free (self->event);
    free (self);
    *self_p = NULL;
}

void
subscriber_channel_error (zch_conn_t *conn, const char *code, const char *prefix, const char *reason)
{
    char text [512];
    uint8_t frame [ZCH_TOPIC_MAX + 700];
    int len = snprintf (text, sizeof text, "%s%s", prefix, reason);
    size_t size = zch_chanmsg_encode_event (frame, sizeof frame, "error", code, strlen (code),
                                            (const uint8_t *) text, (size_t) len < sizeof text? (size_t) len: sizeof text - 1,
                                            false);
    if (size)
        zch_conn_write (conn, frame, size);
}

//  Whether the message's headers say its payload is a serialized PHP
//  value, and it is one this reader takes (anything else goes as a string).
static bool
s_php_value (const subscriber_delivery_t *delivery)
{
    const uint8_t *headers;
    size_t headers_size;
    if (!delivery->meta || zch_headers_in_meta (delivery->meta, delivery->meta_size,
                                                &headers, &headers_size))
        return false;
    zch_mpread_t reader;
    uint32_t count;
    zch_mpread_init (&reader, headers, headers_size);
    if (zch_mpread_map (&reader, &count))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *value;
        size_t key_len, value_len;
        if (zch_mpread_str (&reader, &key, &key_len) || zch_mpread_str (&reader, &value, &value_len))
            return false;
        if (key_len == 12 && memcmp (key, "content-type", 12) == 0)
            return value_len == strlen (SUBSCRIBER_PHP_SERIALIZED)
                && memcmp (value, SUBSCRIBER_PHP_SERIALIZED, value_len) == 0
                && zch_phpser_check (delivery->payload, delivery->payload_len, NULL, NULL) == 0;
    }
    return false;
}

void
subscriber_channel_write_delivery (subscriber_channel_t *self, subscriber_client_t *client,
                                   subscriber_delivery_t *delivery)
{
    subscriber_worker_t *worker = self->worker;
    if (delivery->channel_len == 0) {
        size_t size = zch_chanmsg_event_size (delivery->topic_len, delivery->payload_len);
        if (size > self->event_cap) {
            uint8_t *grown = realloc (self->event, size);
            if (!grown)
                return;
            self->event = grown;
            self->event_cap = size;
        }
        delivery->channel_len = zch_chanmsg_encode_event (self->event, self->event_cap, "event",
                                                          delivery->topic, delivery->topic_len,
                                                          (const uint8_t *) delivery->payload,
                                                          delivery->payload_len,
                                                          subscriber_php_value (delivery));
    }
    if (delivery->channel_len && zch_conn_write (client->conn, self->event, delivery->channel_len) == 0) {
        worker->delivered++;
        worker->delivered_bytes += delivery->payload_len;
    }
}

bool
subscriber_php_value (subscriber_delivery_t *delivery)
{
    if (delivery->php == 0)
        delivery->php = s_php_value (delivery)? 1: -1;
    return delivery->php > 0;
}

uint64_t
subscriber_channel_malformed (subscriber_channel_t *self)
{
    return self->malformed;
}
