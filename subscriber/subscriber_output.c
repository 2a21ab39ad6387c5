/*  subscriber_output: replies and deliveries, written as each client
    speaks (text lines or frames).                                          */
#include "subscriber_worker.h"
#include "zch_epoch.h"
#include "subscriber_channel.h"
#include "zch_frame.h"
#include "zch_frame_reply.h"
#include "zch_phpjson.h"
#include "zch_text.h"
#include "zch_ws.h"
#include "zch_ws_json.h"

//  Writes a reply line.
void
subscriber_reply (zch_conn_t *conn, const char *text)
{
    char line [320];
    int len = snprintf (line, sizeof line, "%s\n", text);
    zch_conn_write (conn, line, (size_t) len);
}

//  Writes "-ERR <prefix><reason>".
void
subscriber_reply_error (zch_conn_t *conn, const char *prefix, const char *reason)
{
    char line [512];
    int len = snprintf (line, sizeof line, "-ERR %s%s\n", prefix, reason);
    if (len >= (int) sizeof line)
        len = (int) sizeof line - 1;
    zch_conn_write (conn, line, (size_t) len);
}

//  Replies "+OK" or ["ok"], as the client speaks.
void
subscriber_client_ok (subscriber_client_t *client, uint64_t epoch)
{
    if (client->channel)
        return;                 //  the channel protocol confirms nothing
    char text [ZCH_EPOCH_TEXT_MAX + 5];
    if (epoch)
        zch_epoch_format (epoch, text);
    if (client->framed && epoch)
        zch_frame_reply_ok_text (client->conn, text);
    else
    if (client->framed)
        zch_frame_reply (client->conn, ZCH_FRAME_OK);
    else
    if (epoch) {
        memmove (text + 4, text, strlen (text) + 1);
        memcpy (text, "+OK ", 4);
        subscriber_reply (client->conn, text);
    }
    else
        subscriber_reply (client->conn, "+OK");
}

//  Replies "-ERR <prefix><reason>" or ["err", code, ...], as the client speaks.
void
subscriber_client_error (subscriber_client_t *client, const char *code, const char *prefix,
                         const char *reason)
{
    if (client->channel)
        subscriber_channel_error (client->conn, code, prefix, reason);
    else
    if (client->framed)
        zch_frame_reply_err (client->conn, code, prefix, reason);
    else
        subscriber_reply_error (client->conn, prefix, reason);
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
s_line_room (subscriber_worker_t *self, size_t size)
{
    return s_room (&self->line, &self->line_cap, size);
}

//  {"content-type": "application/json"} as a msgpack map
static const uint8_t s_json_headers [] = "\x81\xac" "content-type" "\xb0" "application/json";

//  A PHP value other than a string (what a channel client published)
//  reaches text and frame clients as JSON, made once per delivery. Sets
//  *payload and *len to what they get.
static void
s_payload_for (subscriber_worker_t *self, subscriber_delivery_t *delivery,
               const char **payload, size_t *len)
{
    if (!delivery->json && subscriber_php_value (delivery)) {
        size_t json_len;
        char *json = zch_phpjson_convert ((const uint8_t *) delivery->payload, delivery->payload_len,
                                          &json_len);
        if (json) {
            free (self->json);
            self->json = json;
            delivery->json = json;
            delivery->json_len = json_len;
        }
    }
    *payload = delivery->json? delivery->json: delivery->payload;
    *len = delivery->json? delivery->json_len: delivery->payload_len;
}

//  The headers a frame or WebSocket client gets: the message's, or the
//  content type of a PHP value made JSON.
static void
s_headers_for (subscriber_delivery_t *delivery, const uint8_t **headers, size_t *headers_size)
{
    *headers = NULL;
    *headers_size = 0;
    if (delivery->json) {
        *headers = s_json_headers;
        *headers_size = sizeof s_json_headers - 1;
    }
    else
    if (delivery->meta)
        zch_headers_in_meta (delivery->meta, delivery->meta_size, headers, headers_size);
}

//  Builds the delivery frame once: ["msg", topic, seq, payload, headers].
//  Returns its length, 0 if out of memory.
static size_t
s_build_frame (subscriber_worker_t *self, subscriber_delivery_t *delivery)
{
    const uint8_t *headers;
    size_t headers_size;
    const char *payload;
    size_t payload_len;
    s_payload_for (self, delivery, &payload, &payload_len);
    s_headers_for (delivery, &headers, &headers_size);
    size_t size = zch_frame_msg_size (delivery->topic_len, payload_len, headers_size);
    if (s_room (&self->frame, &self->frame_cap, size))
        return 0;
    return zch_frame_encode_msg ((uint8_t *) self->frame, delivery->topic, delivery->topic_len,
                                 delivery->seq, (const uint8_t *) payload, payload_len,
                                 headers, headers_size);
}

//  Builds the delivery's JSON once for every WebSocket client that speaks
//  it, wrapped as a ready text message (zch_ws_text_frame): {"op":"msg",
//  topic, seq, ts, headers, payload}. ts is the meta's (a message healed
//  or caught up from history has none). Returns its length, 0 if out of
//  memory.
static size_t
s_build_ws (subscriber_worker_t *self, subscriber_delivery_t *delivery)
{
    zch_frame_cmd_t msg = {
        .verb = ZCH_FRAME_MSG, .topic = delivery->topic, .topic_len = delivery->topic_len,
        .seq = delivery->seq
    };
    const char *payload;
    s_payload_for (self, delivery, &payload, &msg.payload_len);
    msg.payload = (const uint8_t *) payload;
    s_headers_for (delivery, &msg.headers, &msg.headers_size);
    zch_meta_t meta;
    uint64_t ts = delivery->meta && zch_meta_decode (delivery->meta, delivery->meta_size, &meta) == 0
               && meta.has_ts? meta.ts: 0;
    size_t json_len;
    char *json = zch_ws_json_delivery (&msg, ts, &json_len);
    size_t size = 0;
    if (json && s_room (&self->ws, &self->ws_cap, json_len + ZCH_WS_TEXT_OVERHEAD) == 0)
        size = zch_ws_text_frame ((uint8_t *) self->ws, json, json_len);
    free (json);
    return size;
}

//  Builds the delivery line once: "MSG <topic> <seq> <payload>", or in
//  the workerman profile "Received: <payload>". Returns its length, 0 if
//  out of memory.
static size_t
s_build_line (subscriber_worker_t *self, subscriber_delivery_t *delivery)
{
    const char *payload;
    size_t payload_len;
    s_payload_for (self, delivery, &payload, &payload_len);
    //  Room for the worst case (every byte escaped) spares a sizing pass
    if (s_line_room (self, delivery->topic_len + 2 * payload_len + 48))
        return 0;
    char *cursor = self->line;
    if (self->config->workerman)
        cursor += sprintf (cursor, "Received: ");
    else {
        memcpy (cursor, "MSG ", 4);
        memcpy (cursor + 4, delivery->topic, delivery->topic_len);
        cursor += 4 + delivery->topic_len;
        *cursor++ = ' ';
        cursor += zch_text_uint (delivery->seq, cursor);
        *cursor++ = ' ';
    }
    cursor += zch_text_escape (payload, payload_len, cursor);
    *cursor++ = '\n';
    return (size_t) (cursor - self->line);
}

//  Writes a delivery to one client, as it speaks: a frame, JSON for a
//  WebSocket client, or a line, each built once per delivery.
void
subscriber_write_delivery (subscriber_worker_t *self, subscriber_client_t *client,
                           subscriber_delivery_t *delivery)
{
    size_t len;
    const char *data;
    if (client->channel) {
        subscriber_channel_write_delivery (self->channel, client, delivery);
        return;
    }
    if (client->framed && zch_conn_ws_json (client->conn)) {
        if (delivery->ws_len == 0)
            delivery->ws_len = s_build_ws (self, delivery);
        len = delivery->ws_len;
        data = self->ws;
    }
    else
    if (client->framed) {
        if (delivery->frame_len == 0)
            delivery->frame_len = s_build_frame (self, delivery);
        len = delivery->frame_len;
        data = self->frame;
    }
    else {
        if (delivery->line_len == 0)
            delivery->line_len = s_build_line (self, delivery);
        len = delivery->line_len;
        data = self->line;
    }
    if (len && zch_conn_write (client->conn, data, len) == 0) {
        self->delivered++;
        self->delivered_bytes += delivery->payload_len;
    }
}
