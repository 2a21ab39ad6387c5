/*  client_format: how `zchannel sub` prints a message. See client_format.h. */
#include "client_format.h"
#include "zch_mpread.h"
#include "zch_text.h"

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

//  Appends a JSON string. Bytes that are not valid UTF-8 are written as
//  \u00XX (their Latin-1 reading), so the output stays valid JSON.
static int
s_json_string (client_buf_t *out, const uint8_t *data, size_t len)
{
    if (s_reserve (out, 6 * len + 2))
        return -1;
    char *to = out->data + out->len;
    *to++ = '"';
    for (size_t i = 0; i < len; ) {
        uint8_t c = data [i];
        size_t n = s_utf8_char (data + i, len - i);
        if (c == '"' || c == '\\') {
            *to++ = '\\';
            *to++ = (char) c;
        }
        else
        if (c < 0x20 || n == 0) {
            to += sprintf (to, "\\u%04x", c);
            n = 1;
        }
        else {
            memcpy (to, data + i, n);
            to += n;
        }
        i += n? n: 1;
    }
    *to++ = '"';
    out->len = (size_t) (to - out->data);
    return 0;
}

//  Appends data as standard base64 in a JSON string.
static int
s_json_base64 (client_buf_t *out, const uint8_t *data, size_t len)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (s_reserve (out, (len + 2) / 3 * 4 + 2))
        return -1;
    char *to = out->data + out->len;
    *to++ = '"';
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
    *to++ = '"';
    out->len = (size_t) (to - out->data);
    return 0;
}

//  Appends the headers map as a JSON object.
static int
s_json_headers (client_buf_t *out, const uint8_t *headers, size_t headers_size)
{
    if (s_put (out, "{", 1))
        return -1;
    zch_mpread_t reader;
    zch_mpread_init (&reader, headers, headers_size);
    uint32_t count = 0;
    if (headers && zch_mpread_map (&reader, &count) == 0)
        for (uint32_t i = 0; i < count; i++) {
            const char *key, *value;
            size_t key_len, value_len;
            if (zch_mpread_str (&reader, &key, &key_len)
            ||  zch_mpread_str (&reader, &value, &value_len))
                break;
            if ((i && s_put (out, ",", 1))
            ||  s_json_string (out, (const uint8_t *) key, key_len) || s_put (out, ":", 1)
            ||  s_json_string (out, (const uint8_t *) value, value_len))
                return -1;
        }
    return s_put (out, "}", 1);
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
    bool text = s_utf8_valid (payload, payload_len);
    int len = snprintf (number, sizeof number, ",\"seq\":%llu,\"payload\":", (unsigned long long) seq);
    int rc = s_put (out, "{\"topic\":", 9)
          || s_json_string (out, (const uint8_t *) topic, topic_len)
          || s_put (out, number, (size_t) len - 11)
          || (epoch && *epoch && (s_put (out, ",\"epoch\":", 9)
                                  || s_json_string (out, (const uint8_t *) epoch, strlen (epoch))))
          || s_put (out, ",\"payload\":", 11)
          || (text? s_json_string (out, payload, payload_len): s_json_base64 (out, payload, payload_len))
          || (!text && s_put (out, ",\"payload_encoding\":\"base64\"", 28))
          || s_put (out, ",\"headers\":", 11)
          || s_json_headers (out, headers, headers_size)
          || s_put (out, "}\n", 2);
    return rc? -1: 0;
}
