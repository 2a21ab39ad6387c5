/*  zch_ws_json: JSON text messages <-> frame-protocol frames.              */
#include "zch_ws_json.h"
#include "zch_mpread.h"

#include <jansson.h>
#include <msgpack.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Packs a str.
static void
s_pack_str (msgpack_packer *packer, const char *text, size_t len)
{
    msgpack_pack_str (packer, len);
    msgpack_pack_str_body (packer, text, len);
}

//  A string field of object, or NULL (and *len 0) when absent or not a string.
static const char *
s_string (json_t *object, const char *key, size_t *len)
{
    json_t *value = json_object_get (object, key);
    *len = json_is_string (value)? json_string_length (value): 0;
    return json_is_string (value)? json_string_value (value): NULL;
}

//  Decodes base64 text into a fresh buffer. Returns it (caller frees) with
//  *out_len, or NULL when the text is not base64.
static uint8_t *
s_base64_decode (const char *text, size_t len, size_t *out_len)
{
    if (len % 4 != 0 || len > INT32_MAX)
        return NULL;
    uint8_t *out = malloc (len / 4 * 3 + 1);
    if (!out)
        return NULL;
    int size = EVP_DecodeBlock (out, (const unsigned char *) text, (int) len);
    if (size < 0) {
        free (out);
        return NULL;
    }
    //  EVP_DecodeBlock counts the padding as data
    for (size_t i = len; i > 0 && text [i - 1] == '=' && size > 0; i--)
        size--;
    *out_len = (size_t) size;
    return out;
}

//  Packs the "headers" object (string values only) as a msgpack map.
//  Returns 0, or -1 when it is not an object of strings.
static int
s_pack_headers (msgpack_packer *packer, json_t *headers)
{
    if (!json_is_object (headers))
        return -1;
    const char *key;
    json_t *value;
    json_object_foreach (headers, key, value)
        if (!json_is_string (value))
            return -1;
    msgpack_pack_map (packer, json_object_size (headers));
    json_object_foreach (headers, key, value) {
        s_pack_str (packer, key, strlen (key));
        s_pack_str (packer, json_string_value (value), json_string_length (value));
    }
    return 0;
}

//  Packs the request's array into packer; returns NULL, or the reason it
//  is not a valid request.
static const char *
s_pack_request (json_t *root, msgpack_packer *packer, const char **code)
{
    *code = ZCH_WS_E_REQUEST;
    size_t op_len, name_len, payload_len;
    const char *op = s_string (root, "op", &op_len);
    if (!op)
        return "a request needs an \"op\" string";
    if (!strcmp (op, "ping")) {
        msgpack_pack_array (packer, 1);
        s_pack_str (packer, "ping", 4);
        return NULL;
    }
    if (!strcmp (op, "auth")) {
        const char *token = s_string (root, "token", &name_len);
        if (!token)
            return "auth needs a \"token\" string";
        msgpack_pack_array (packer, 2);
        s_pack_str (packer, "auth", 4);
        s_pack_str (packer, token, name_len);
        return NULL;
    }
    if (!strcmp (op, "verbose")) {
        json_t *on = json_object_get (root, "on");
        if (!json_is_boolean (on))
            return "verbose needs \"on\": true or false";
        msgpack_pack_array (packer, 2);
        s_pack_str (packer, "verbose", 7);
        json_is_true (on)? msgpack_pack_true (packer): msgpack_pack_false (packer);
        return NULL;
    }
    if (!strcmp (op, "sub") || !strcmp (op, "unsub")) {
        const char *pattern = s_string (root, "pattern", &name_len);
        if (!pattern)
            return "sub and unsub need a \"pattern\" string";
        bool sub = !strcmp (op, "sub");
        json_t *snapshot = json_object_get (root, "snapshot");
        json_t *from = json_object_get (root, "from");
        json_t *epoch = json_object_get (root, "epoch");
        json_t *verbose = json_object_get (root, "verbose");
        bool take_snapshot = sub && json_is_true (snapshot);
        if (snapshot && !json_is_boolean (snapshot))
            return "\"snapshot\" is true or false";
        if (from && (!sub || !json_is_integer (from) || json_integer_value (from) < 0))
            return "\"from\" is a seq, a whole number";
        if (take_snapshot && from)
            return "a sub takes \"snapshot\" or \"from\", not both";
        if ((epoch && (!sub || !json_is_string (epoch))) || (verbose && (!sub || !json_is_boolean (verbose))))
            return "\"epoch\" is a string, \"verbose\" true or false";
        //  The options go as they came; the front-end judges them
        size_t options = (take_snapshot? 1: 0) + (from? 1: 0) + (epoch? 1: 0) + (verbose? 1: 0);
        msgpack_pack_array (packer, options? 3: 2);
        s_pack_str (packer, op, op_len);
        s_pack_str (packer, pattern, name_len);
        if (options)
            msgpack_pack_map (packer, options);
        if (take_snapshot) {
            s_pack_str (packer, "snapshot", 8);
            msgpack_pack_true (packer);
        }
        if (from) {
            s_pack_str (packer, "from", 4);
            msgpack_pack_uint64 (packer, (uint64_t) json_integer_value (from));
        }
        if (epoch) {
            s_pack_str (packer, "epoch", 5);
            s_pack_str (packer, json_string_value (epoch), json_string_length (epoch));
        }
        if (verbose) {
            s_pack_str (packer, "verbose", 7);
            json_is_true (verbose)? msgpack_pack_true (packer): msgpack_pack_false (packer);
        }
        return NULL;
    }
    if (!strcmp (op, "watch") || !strcmp (op, "unwatch")) {
        const char *queue = s_string (root, "queue", &name_len);
        if (!queue)
            return "watch and unwatch need a \"queue\" string";
        json_t *prefetch = json_object_get (root, "prefetch");
        if (prefetch && (op [0] == 'u' || !json_is_integer (prefetch) || json_integer_value (prefetch) < 0))
            return "\"prefetch\" is a whole number, for watch";
        msgpack_pack_array (packer, prefetch? 3: 2);
        s_pack_str (packer, op, op_len);
        s_pack_str (packer, queue, name_len);
        if (prefetch) {
            msgpack_pack_map (packer, 1);
            s_pack_str (packer, "prefetch", 8);
            msgpack_pack_uint64 (packer, (uint64_t) json_integer_value (prefetch));
        }
        return NULL;
    }
    if (!strcmp (op, "pub") || !strcmp (op, "enqueue")) {
        bool pub = !strcmp (op, "pub");
        const char *topic = s_string (root, pub? "topic": "queue", &name_len);
        const char *payload = s_string (root, "payload", &payload_len);
        if (!topic || !payload)
            return pub? "pub needs \"topic\" and \"payload\" strings":
                        "enqueue needs \"queue\" and \"payload\" strings";
        size_t enc_len;
        const char *enc = s_string (root, "enc", &enc_len);
        uint8_t *decoded = NULL;
        if (enc && strcmp (enc, "base64"))
            return "\"enc\" is \"base64\" or absent";
        if (enc && !(decoded = s_base64_decode (payload, payload_len, &payload_len)))
            return "the payload is not base64";
        json_t *headers = json_object_get (root, "headers");
        msgpack_pack_array (packer, headers? 4: 3);
        s_pack_str (packer, op, op_len);
        s_pack_str (packer, topic, name_len);
        msgpack_pack_bin (packer, payload_len);
        msgpack_pack_bin_body (packer, decoded? (const char *) decoded: payload, payload_len);
        free (decoded);
        if (headers && s_pack_headers (packer, headers))
            return "\"headers\" is an object of strings";
        return NULL;
    }
    *code = ZCH_WS_E_OP;
    return "unknown op (sub, unsub, pub, verbose, enqueue, watch, unwatch, auth, ping)";
}

size_t
zch_ws_json_request (const char *text, size_t len, uint8_t *frame, size_t frame_cap,
                     const char **code, char *detail, size_t detail_size)
{
    json_error_t error;
    json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &error);
    if (!root || !json_is_object (root)) {
        *code = !root && json_error_code (&error) == json_error_invalid_utf8? ZCH_WS_E_UTF8: ZCH_WS_E_JSON;
        snprintf (detail, detail_size, "%s", root? "a request is a JSON object": error.text);
        json_decref (root);
        return 0;
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    const char *reason = s_pack_request (root, &packer, code);
    json_decref (root);
    size_t size = 0;
    if (reason)
        snprintf (detail, detail_size, "%s", reason);
    else
    if (buffer.size + ZCH_FRAME_HEADER <= frame_cap && buffer.data) {
        uint32_t body = (uint32_t) buffer.size;
        frame [0] = (uint8_t) (body >> 24);
        frame [1] = (uint8_t) (body >> 16);
        frame [2] = (uint8_t) (body >> 8);
        frame [3] = (uint8_t) body;
        memcpy (frame + ZCH_FRAME_HEADER, buffer.data, buffer.size);
        size = ZCH_FRAME_HEADER + buffer.size;
    }
    else
        *code = NULL;
    msgpack_sbuffer_destroy (&buffer);
    return size;
}

//  The headers map of a msg as a JSON object (an empty one when absent).
static json_t *
s_headers_object (const zch_frame_cmd_t *cmd)
{
    json_t *object = json_object ();
    zch_mpread_t reader;
    uint32_t count;
    zch_mpread_init (&reader, cmd->headers, cmd->headers_size);
    if (!object || !cmd->headers || zch_mpread_map (&reader, &count))
        return object;
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *value;
        size_t key_len, value_len;
        if (zch_mpread_str (&reader, &key, &key_len) || zch_mpread_str (&reader, &value, &value_len))
            break;
        char name [256];
        snprintf (name, sizeof name, "%.*s", (int) key_len, key);
        json_t *text = json_stringn (value, value_len);
        if (text)
            json_object_set_new (object, name, text);
    }
    return object;
}

//  The payload as a JSON string, base64 when it is not valid UTF-8
//  (*base64 then true). NULL when out of memory.
static json_t *
s_payload_string (const uint8_t *payload, size_t len, bool *base64)
{
    *base64 = false;
    json_t *text = json_stringn ((const char *) payload, len);
    if (text || len > INT32_MAX / 2)
        return text;
    char *encoded = malloc ((len + 2) / 3 * 4 + 1);
    if (!encoded)
        return NULL;
    int size = EVP_EncodeBlock ((unsigned char *) encoded, payload, (int) len);
    text = json_stringn (encoded, (size_t) size);
    free (encoded);
    *base64 = true;
    return text;
}

char *
zch_ws_json_reply (const zch_frame_cmd_t *cmd, size_t *json_len)
{
    json_t *root = NULL;
    switch (cmd->verb) {
        case ZCH_FRAME_OK:
            //  ["ok", epoch] answers a verbose sub; ["ok", topic, seq,
            //  epoch] confirms a pub
            root = cmd->topic?
                json_pack ("{s:s, s:s%, s:I, s:s%}", "op", "ok", "topic", cmd->topic, cmd->topic_len,
                           "seq", (json_int_t) cmd->seq, "epoch", cmd->text, cmd->text_len):
                cmd->text && cmd->text_len?
                json_pack ("{s:s, s:s%}", "op", "ok", "epoch", cmd->text, cmd->text_len):
                json_pack ("{s:s}", "op", "ok");
            break;
        case ZCH_FRAME_PONG:
            root = json_pack ("{s:s}", "op", "pong");
            break;
        case ZCH_FRAME_ERR:
            root = json_pack ("{s:s, s:s%, s:s%}", "op", "err", "code", cmd->code, cmd->code_len,
                              "detail", cmd->text, cmd->text_len);
            break;
        case ZCH_FRAME_MSG:
            return zch_ws_json_delivery (cmd, 0, json_len);
        case ZCH_FRAME_ITEM: {
            bool base64;
            root = json_pack ("{s:s, s:s%, s:I, s:o, s:o*}", "op", "item",
                              "queue", cmd->topic, cmd->topic_len, "id", (json_int_t) cmd->seq,
                              "headers", s_headers_object (cmd),
                              "payload", s_payload_string (cmd->payload, cmd->payload_len, &base64));
            if (root && base64)
                json_object_set_new (root, "enc", json_string ("base64"));
            break;
        }
        default:
            break;
    }
    if (!root)
        return NULL;
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    if (text)
        *json_len = strlen (text);
    return text;
}

char *
zch_ws_json_delivery (const zch_frame_cmd_t *msg, uint64_t ts, size_t *json_len)
{
    bool base64;
    json_t *root = json_pack ("{s:s, s:s%, s:I}", "op", "msg", "topic", msg->topic, msg->topic_len,
                              "seq", (json_int_t) msg->seq);
    //  Milliseconds, as JavaScript counts time: nanoseconds are past the
    //  integers a double holds exactly
    if (root && ts)
        json_object_set_new (root, "ts", json_integer ((json_int_t) (ts / 1000000)));
    if (root) {
        json_object_set_new (root, "headers", s_headers_object (msg));
        json_object_set_new (root, "payload", s_payload_string (msg->payload, msg->payload_len, &base64));
        if (base64)
            json_object_set_new (root, "enc", json_string ("base64"));
    }
    if (!root)
        return NULL;
    char *text = json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (root);
    if (text)
        *json_len = strlen (text);
    return text;
}

char *
zch_ws_json_error (const char *code, const char *detail, size_t *json_len)
{
    json_t *root = json_pack ("{s:s, s:s, s:s}", "op", "err", "code", code, "detail", detail);
    char *text = root? json_dumps (root, JSON_COMPACT): NULL;
    json_decref (root);
    if (text)
        *json_len = strlen (text);
    return text;
}
