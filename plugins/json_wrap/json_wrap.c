/*  json_wrap: turns a payload into
        {"topic":"...","seq":N,"ts":N,"payload":"..."}
    with JSON string escaping: \" and \\, control characters as \u00XX, and
    each byte that is not part of valid UTF-8 as \ufffd. seq is null at the
    source stage, where no seq exists yet. No config.                       */
#include <zchannel/plugin.h>

#include <stdbool.h>
#include <stdio.h>

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

//  Writes text as a JSON string body into out (NULL: only measures).
//  Returns the length.
static size_t
s_escape (const uint8_t *text, size_t len, char *out)
{
    size_t size = 0;
    for (size_t i = 0; i < len; ) {
        uint8_t c = text [i];
        char small [8];
        const char *piece = small;
        size_t piece_len;
        size_t step = 1;
        if (c == '"' || c == '\\') {
            small [0] = '\\';
            small [1] = (char) c;
            piece_len = 2;
        }
        else
        if (c < 0x20 || c == 0x7F) {
            snprintf (small, sizeof small, "\\u%04x", c);
            piece_len = 6;
        }
        else {
            step = s_utf8_length (text + i, len - i);
            if (step == 0) {
                piece = "\\ufffd";
                piece_len = 6;
                step = 1;
            }
            else {
                piece = (const char *) text + i;
                piece_len = step;
            }
        }
        if (out)
            memcpy (out + size, piece, piece_len);
        size += piece_len;
        i += step;
    }
    return size;
}

static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    (void) state;
    char numbers [64];
    int numbers_len;
    if (msg->stage == ZCH_PLUGIN_STAGE_SOURCE)
        numbers_len = snprintf (numbers, sizeof numbers, "\",\"seq\":null,\"ts\":%llu,\"payload\":\"",
                                (unsigned long long) msg->ts);
    else
        numbers_len = snprintf (numbers, sizeof numbers, "\",\"seq\":%llu,\"ts\":%llu,\"payload\":\"",
                                (unsigned long long) msg->seq, (unsigned long long) msg->ts);
    static const char head [] = "{\"topic\":\"";
    size_t topic_size = s_escape ((const uint8_t *) msg->topic, msg->topic_len, NULL);
    size_t payload_size = s_escape (msg->payload, msg->payload_len, NULL);
    size_t size = sizeof head - 1 + topic_size + (size_t) numbers_len + payload_size + 2;
    const zch_plugin_msg_t in = *msg;
    char *out = (char *) msg->host->payload_set (msg, size);
    if (!out)
        return ZCH_PLUGIN_ERROR;
    memcpy (out, head, sizeof head - 1);
    out += sizeof head - 1;
    out += s_escape ((const uint8_t *) in.topic, in.topic_len, out);
    memcpy (out, numbers, (size_t) numbers_len);
    out += numbers_len;
    out += s_escape (in.payload, in.payload_len, out);
    memcpy (out, "\"}", 2);
    return ZCH_PLUGIN_KEEP;
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "json_wrap",
    .version = "1.0",
    .transform = s_transform
};
