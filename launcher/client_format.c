/*  client_format: how `zchannel sub` prints a message. See client_format.h. */
#include "client_format.h"
#include "zch_mpread.h"
#include "zch_text.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
client_format_parse (const char *name, client_format_t *format)
{
    if (strcmp (name, "line") == 0)
        *format = CLIENT_FORMAT_LINE;
    else
    if (strcmp (name, "raw") == 0)
        *format = CLIENT_FORMAT_RAW;
    else
    if (strcmp (name, "json") == 0)
        *format = CLIENT_FORMAT_JSON;
    else
        return -1;
    return 0;
}

size_t
client_text_unescape (char *text, size_t len)
{
    size_t to = 0;
    for (size_t from = 0; from < len; from++) {
        char c = text [from];
        if (c == '\\' && from + 1 < len) {
            char next = text [from + 1];
            if (next == '\\' || next == 'r' || next == 'n') {
                c = next == 'r'? '\r': next == 'n'? '\n': '\\';
                from++;
            }
        }
        text [to++] = c;
    }
    return to;
}

//  Makes room for extra more bytes. Returns 0 or -1.
static int
s_reserve (client_buf_t *out, size_t extra)
{
    if (out->cap - out->len >= extra)
        return 0;
    size_t cap = out->cap? out->cap: 4096;
    while (cap - out->len < extra)
        cap *= 2;
    char *grown = realloc (out->data, cap);
    if (!grown)
        return -1;
    out->data = grown;
    out->cap = cap;
    return 0;
}

//  Appends bytes. Returns 0 or -1.
static int
s_put (client_buf_t *out, const void *data, size_t len)
{
    if (s_reserve (out, len))
        return -1;
    memcpy (out->data + out->len, data, len);
    out->len += len;
    return 0;
}

//  Length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid.
static size_t
s_utf8_char (const uint8_t *s, size_t len)
{
    uint8_t c = s [0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xC2 && c <= 0xDF? 2: c >= 0xE0 && c <= 0xEF? 3: c >= 0xF0 && c <= 0xF4? 4: 0;
    if (n == 0 || n > len)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s [i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s [1] < 0xA0) || (c == 0xED && s [1] > 0x9F)
    ||  (c == 0xF0 && s [1] < 0x90) || (c == 0xF4 && s [1] > 0x8F))
        return 0;                       //  overlong, surrogate, above U+10FFFF
    return n;
}

//  True when data is well-formed UTF-8.
static bool
s_utf8_valid (const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ) {
        size_t n = s_utf8_char (data + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

//  A JSON string (jansson) of data; bytes that are not valid UTF-8 become
//  the characters of their Latin-1 reading, so any bytes make a string.
//  Returns a new reference, or NULL when out of memory.
static json_t *
s_json_string (const uint8_t *data, size_t len)
{
    if (s_utf8_valid (data, len))
        return json_stringn ((const char *) data, len);
    char *text = malloc (2 * len + 1);
    if (!text)
        return NULL;
    size_t to = 0;
    for (size_t i = 0; i < len; ) {
        size_t n = s_utf8_char (data + i, len - i);
        if (n) {
            memcpy (text + to, data + i, n);
            to += n;
            i += n;
        }
        else {                          //  U+0080..U+00FF in two bytes
            text [to++] = (char) (0xC0 | data [i] >> 6);
            text [to++] = (char) (0x80 | (data [i] & 0x3F));
            i++;
        }
    }
    json_t *string = json_stringn (text, to);
    free (text);
    return string;
}

//  data as standard base64 in a JSON string; NULL when out of memory.
static json_t *
s_json_base64 (const uint8_t *data, size_t len)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *text = malloc ((len + 2) / 3 * 4 + 1);
    if (!text)
        return NULL;
    char *to = text;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) data [i] << 16;
        if (i + 1 < len)
            v |= (uint32_t) data [i + 1] << 8;
        if (i + 2 < len)
            v |= data [i + 2];
        *to++ = alphabet [(v >> 18) & 63];
        *to++ = alphabet [(v >> 12) & 63];
        *to++ = i + 1 < len? alphabet [(v >> 6) & 63]: '=';
        *to++ = i + 2 < len? alphabet [v & 63]: '=';
    }
    json_t *string = json_stringn (text, (size_t) (to - text));
    free (text);
    return string;
}

//  The headers map as a JSON object (what of it decodes); NULL when out
//  of memory.
static json_t *
s_json_headers (const uint8_t *headers, size_t headers_size)
{
    json_t *object = json_object ();
    zch_mpread_t reader;
    zch_mpread_init (&reader, headers, headers_size);
    uint32_t count = 0;
    if (object && headers && zch_mpread_map (&reader, &count) == 0)
        for (uint32_t i = 0; i < count; i++) {
            const char *key, *value;
            size_t key_len, value_len;
            if (zch_mpread_str (&reader, &key, &key_len)
            ||  zch_mpread_str (&reader, &value, &value_len))
                break;
            json_t *name = s_json_string ((const uint8_t *) key, key_len);
            if (!name
            ||  json_object_set_new (object, json_string_value (name),
                                     s_json_string ((const uint8_t *) value, value_len))) {
                json_decref (name);
                json_decref (object);
                return NULL;
            }
            json_decref (name);
        }
    return object;
}

//  Appends one message as a JSON object and a newline. Returns 0 or -1.
static int
s_render_json (client_buf_t *out, const char *topic, size_t topic_len, uint64_t seq,
               const char *epoch, const uint8_t *payload, size_t payload_len,
               const uint8_t *headers, size_t headers_size)
{
    bool text = s_utf8_valid (payload, payload_len);
    json_t *object = json_object ();
    int rc = !object
          || json_object_set_new (object, "topic", s_json_string ((const uint8_t *) topic, topic_len))
          || json_object_set_new (object, "seq", json_integer ((json_int_t) seq))
          || (epoch && *epoch && json_object_set_new (object, "epoch", json_string (epoch)))
          || json_object_set_new (object, "payload", text? s_json_string (payload, payload_len)
                                                         : s_json_base64 (payload, payload_len))
          || (!text && json_object_set_new (object, "payload_encoding", json_string ("base64")))
          || json_object_set_new (object, "headers", s_json_headers (headers, headers_size));
    size_t size = rc? 0: json_dumpb (object, NULL, 0, JSON_COMPACT);
    if (!rc && (size == 0 || s_reserve (out, size + 1)))
        rc = -1;
    if (!rc) {
        out->len += json_dumpb (object, out->data + out->len, size, JSON_COMPACT);
        out->data [out->len++] = '\n';
    }
    json_decref (object);
    return rc? -1: 0;
}

int
client_format_render (client_buf_t *out, client_format_t format, bool verbose,
                      const char *topic, size_t topic_len, uint64_t seq, const char *epoch,
                      const uint8_t *payload, size_t payload_len,
                      const uint8_t *headers, size_t headers_size)
{
    char number [32];
    if (format == CLIENT_FORMAT_RAW)
        return s_put (out, payload, payload_len);
    if (format == CLIENT_FORMAT_LINE) {
        if (verbose) {
            int len = snprintf (number, sizeof number, " %llu ", (unsigned long long) seq);
            if (s_put (out, topic, topic_len) || s_put (out, number, (size_t) len))
                return -1;
        }
        size_t escaped = zch_text_escaped_size ((const char *) payload, payload_len);
        if (s_reserve (out, escaped + 1))
            return -1;
        out->len += zch_text_escape ((const char *) payload, payload_len, out->data + out->len);
        return s_put (out, "\n", 1);
    }
    return s_render_json (out, topic, topic_len, seq, epoch, payload, payload_len,
                          headers, headers_size);
}
