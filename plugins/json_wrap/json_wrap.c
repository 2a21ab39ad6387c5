/*  json_wrap: turns a payload into
        {"topic":"...","seq":N,"ts":N,"payload":"..."}
    written by jansson (JSON string escaping: \", \\, \n and the like,
    other control characters as \u00XX), each byte that is not part of
    valid UTF-8 first replaced by U+FFFD. seq is null at the source stage,
    where no seq exists yet. No config.                                     */
#include <zchannel/plugin.h>

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

//  Length of the valid UTF-8 sequence at text[0..len), or 0 if invalid.
static size_t
s_utf8_length (const uint8_t *text, size_t len)
{
    uint8_t c = text [0];
    size_t need;
    uint32_t min;
    if (c < 0x80)
        return 1;
    else if ((c & 0xE0) == 0xC0) { need = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { need = 3; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { need = 4; min = 0x10000; }
    else
        return 0;
    if (need > len)
        return 0;
    uint32_t code = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((text [i] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (text [i] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return need;
}

//  text as UTF-8, each byte that is not part of valid UTF-8 replaced by
//  U+FFFD, in memory from the host (freed with the message); NULL when out
//  of memory. Its length goes to *size.
static const char *
s_utf8_clean (zch_plugin_msg_t *msg, const uint8_t *text, size_t len, size_t *size)
{
    char *clean = msg->host->alloc (msg, 3 * len + 1);
    if (!clean)
        return NULL;
    size_t to = 0;
    for (size_t i = 0; i < len; ) {
        size_t step = s_utf8_length (text + i, len - i);
        if (step) {
            memcpy (clean + to, text + i, step);
            to += step;
            i += step;
        }
        else {
            memcpy (clean + to, "\xef\xbf\xbd", 3);      //  U+FFFD
            to += 3;
            i++;
        }
    }
    *size = to;
    return clean;
}

//  The message as a JSON object (jansson); NULL when out of memory.
static json_t *
s_wrap (zch_plugin_msg_t *msg)
{
    size_t topic_len, payload_len;
    const char *topic = s_utf8_clean (msg, (const uint8_t *) msg->topic, msg->topic_len, &topic_len);
    const char *payload = s_utf8_clean (msg, msg->payload, msg->payload_len, &payload_len);
    json_t *object = json_object ();
    if (!topic || !payload || !object
    ||  json_object_set_new (object, "topic", json_stringn (topic, topic_len))
    ||  json_object_set_new (object, "seq", msg->stage == ZCH_PLUGIN_STAGE_SOURCE
                                            ? json_null (): json_integer ((json_int_t) msg->seq))
    ||  json_object_set_new (object, "ts", json_integer ((json_int_t) msg->ts))
    ||  json_object_set_new (object, "payload", json_stringn (payload, payload_len))) {
        json_decref (object);
        return NULL;
    }
    return object;
}

static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    (void) state;
    json_t *object = s_wrap (msg);
    size_t size = object? json_dumpb (object, NULL, 0, JSON_COMPACT): 0;
    char *out = size? (char *) msg->host->payload_set (msg, size): NULL;
    if (out)
        json_dumpb (object, out, size, JSON_COMPACT);
    json_decref (object);
    return out? ZCH_PLUGIN_KEEP: ZCH_PLUGIN_ERROR;
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "json_wrap",
    .version = "1.0",
    .transform = s_transform
};
