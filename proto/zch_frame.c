/*  zch_frame: the frame protocol. See zch_frame.h.

    Bodies are read with zch_mpread so that topics and payloads stay views
    into the connection's buffer (a payload may be 1 MiB); frames are
    written by hand because their size must be known before a byte is
    written (the length prefix, and the reserved output space).            */
#include "zch_frame.h"
#include "zch_envelope.h"
#include "zch_mpread.h"

#include <string.h>

//  Writes an n-byte big-endian unsigned integer.
static void
s_put_be (uint8_t *out, uint64_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out [i] = (uint8_t) (value >> (8 * (n - 1 - i)));
}

int
zch_frame_next (const uint8_t *buf, size_t len, size_t max_body,
                const uint8_t **body, size_t *body_len, size_t *consumed,
                uint32_t *declared)
{
    if (len < ZCH_FRAME_HEADER)
        return ZCH_FRAME_NEED_MORE;
    uint32_t size = (uint32_t) buf [0] << 24 | (uint32_t) buf [1] << 16
                  | (uint32_t) buf [2] << 8 | buf [3];
    if (declared)
        *declared = size;
    if (size > max_body)
        return ZCH_FRAME_TOO_LONG;
    if (len - ZCH_FRAME_HEADER < size)
        return ZCH_FRAME_NEED_MORE;
    *body = buf + ZCH_FRAME_HEADER;
    *body_len = size;
    *consumed = ZCH_FRAME_HEADER + (size_t) size;
    return ZCH_FRAME_FOUND;
}

//  True when a str equals the NUL-terminated word.
static bool
s_is (const char *text, size_t len, const char *word)
{
    return strlen (word) == len && memcmp (text, word, len) == 0;
}

int
zch_headers_check (const uint8_t *data, size_t size, size_t *used, uint32_t *count)
{
    zch_mpread_t reader;
    zch_mpread_init (&reader, data, size);
    uint32_t n;
    if (zch_mpread_map (&reader, &n))
        return -1;
    for (uint32_t i = 0; i < 2 * n; i++) {
        const char *text;
        size_t len;
        if (zch_mpread_str (&reader, &text, &len))
            return -1;
    }
    *used = reader.pos;
    *count = n;
    return 0;
}

//  Reads an optional trailing element: nil or absent gives NULL, else a
//  map (of strings when strings is true). Returns 0 or -1.
static int
s_optional_map (zch_mpread_t *reader, bool present, bool strings,
                const uint8_t **map, size_t *map_size, uint32_t *count)
{
    *map = NULL;
    *map_size = 0;
    *count = 0;
    if (!present || zch_mpread_nil (reader))
        return 0;
    const uint8_t *start = reader->data + reader->pos;
    size_t left = reader->size - reader->pos;
    if (strings) {
        size_t used;
        if (zch_headers_check (start, left, &used, count))
            return -1;
        reader->pos += used;
    }
    else {
        zch_mpread_t probe = *reader;
        if (zch_mpread_map (&probe, count) || zch_mpread_skip (reader))
            return -1;
    }
    *map = start;
    *map_size = (size_t) (reader->data + reader->pos - start);
    return 0;
}

int
zch_frame_decode (const uint8_t *body, size_t len, zch_frame_cmd_t *cmd,
                  const char **code, const char **reason)
{
    memset (cmd, 0, sizeof *cmd);
    zch_mpread_t reader;
    zch_mpread_init (&reader, body, len);
    if (len == 0 || zch_mpread_skip (&reader) || !zch_mpread_done (&reader)) {
        *code = ZCH_FRAME_E_MALFORMED;
        *reason = "not one msgpack value";
        return -1;
    }
    zch_mpread_init (&reader, body, len);
    uint32_t count;
    const char *verb;
    size_t verb_len;
    if (zch_mpread_array (&reader, &count) || count == 0) {
        *code = ZCH_FRAME_E_SHAPE;
        *reason = "not a non-empty array";
        return -1;
    }
    if (zch_mpread_str (&reader, &verb, &verb_len)) {
        *code = ZCH_FRAME_E_SHAPE;
        *reason = "verb is not a string";
        return -1;
    }
    *code = ZCH_FRAME_E_SHAPE;
    *reason = "wrong arguments";
    int rc = 0;
    if (s_is (verb, verb_len, "pub") || s_is (verb, verb_len, "enqueue")) {
        cmd->verb = s_is (verb, verb_len, "pub")? ZCH_FRAME_PUB: ZCH_FRAME_ENQUEUE;
        rc = (count != 3 && count != 4)
          || zch_mpread_str (&reader, &cmd->topic, &cmd->topic_len)
          || zch_mpread_bytes (&reader, &cmd->payload, &cmd->payload_len)
          || s_optional_map (&reader, count == 4, true, &cmd->headers,
                             &cmd->headers_size, &cmd->header_count);
        if (!rc && cmd->headers_size > ZCH_HEADERS_MAX) {
            *reason = "headers too large";
            rc = 1;
        }
    }
    else
    if (s_is (verb, verb_len, "sub") || s_is (verb, verb_len, "watch")) {
        cmd->verb = s_is (verb, verb_len, "sub")? ZCH_FRAME_SUB: ZCH_FRAME_WATCH;
        rc = (count != 2 && count != 3)
          || zch_mpread_str (&reader, &cmd->topic, &cmd->topic_len)
          || s_optional_map (&reader, count == 3, false, &cmd->opts,
                             &cmd->opts_size, &cmd->opt_count);
    }
    else
    if (s_is (verb, verb_len, "unsub") || s_is (verb, verb_len, "unwatch")) {
        cmd->verb = s_is (verb, verb_len, "unsub")? ZCH_FRAME_UNSUB: ZCH_FRAME_UNWATCH;
        rc = count != 2 || zch_mpread_str (&reader, &cmd->topic, &cmd->topic_len);
    }
    else
    if (s_is (verb, verb_len, "msg") || s_is (verb, verb_len, "item")) {
        cmd->verb = s_is (verb, verb_len, "msg")? ZCH_FRAME_MSG: ZCH_FRAME_ITEM;
        rc = count != 5
          || zch_mpread_str (&reader, &cmd->topic, &cmd->topic_len)
          || zch_mpread_uint (&reader, &cmd->seq)
          || zch_mpread_bytes (&reader, &cmd->payload, &cmd->payload_len)
          || s_optional_map (&reader, true, true, &cmd->headers,
                             &cmd->headers_size, &cmd->header_count);
    }
    else
    if (s_is (verb, verb_len, "err")) {
        cmd->verb = ZCH_FRAME_ERR;
        rc = count != 3
          || zch_mpread_str (&reader, &cmd->code, &cmd->code_len)
          || zch_mpread_str (&reader, &cmd->text, &cmd->text_len);
    }
    else
    if (s_is (verb, verb_len, "auth")) {
        cmd->verb = ZCH_FRAME_AUTH;
        rc = count != 2 || zch_mpread_str (&reader, &cmd->text, &cmd->text_len);
    }
    else
    if (s_is (verb, verb_len, "verbose")) {
        cmd->verb = ZCH_FRAME_VERBOSE;
        //  msgpack false and true are the single bytes 0xc2 and 0xc3
        rc = count != 2 || reader.pos >= reader.size
          || (reader.data [reader.pos] != 0xc2 && reader.data [reader.pos] != 0xc3);
        if (!rc)
            cmd->flag = reader.data [reader.pos++] == 0xc3;
    }
    else
    if (s_is (verb, verb_len, "ok")) {
        //  ["ok"]; ["ok", epoch] answering a verbose sub; ["ok", topic,
        //  seq, epoch] confirming a pub
        cmd->verb = ZCH_FRAME_OK;
        rc = count == 3 || count > 4
          || (count == 4 && (zch_mpread_str (&reader, &cmd->topic, &cmd->topic_len)
                             || zch_mpread_uint (&reader, &cmd->seq)))
          || (count >= 2 && zch_mpread_str (&reader, &cmd->text, &cmd->text_len));
    }
    else
    if (s_is (verb, verb_len, "ping") || s_is (verb, verb_len, "pong")) {
        cmd->verb = s_is (verb, verb_len, "ping")? ZCH_FRAME_PING: ZCH_FRAME_PONG;
        rc = count != 1;
    }
    else {
        *code = ZCH_FRAME_E_VERB;
        *reason = "unknown verb";
        return -1;
    }
    if (rc) {
        zch_frame_verb_t known = cmd->verb;
        memset (cmd, 0, sizeof *cmd);
        cmd->verb = known;              //  tells which request failed
        return -1;
    }
    return 0;
}

int
zch_headers_in_meta (const uint8_t *meta, size_t meta_size,
                     const uint8_t **headers, size_t *headers_size)
{
    //  What zchannel's source writes without headers needs no walk
    if (zch_meta_is_fixed (meta, meta_size))
        return -1;
    zch_mpread_t reader;
    zch_mpread_init (&reader, meta, meta_size);
    uint32_t count;
    if (zch_mpread_map (&reader, &count))
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        size_t key_len;
        if (zch_mpread_str (&reader, &key, &key_len))
            return -1;
        size_t start = reader.pos;
        if (zch_mpread_skip (&reader))
            return -1;
        if (s_is (key, key_len, "h")) {
            *headers = meta + start;
            *headers_size = reader.pos - start;
            return 0;
        }
    }
    return -1;
}

//  Writes a str header for len bytes; returns its size (at most 5).
static size_t
s_put_str (uint8_t *out, size_t len)
{
    if (len <= 31) {
        out [0] = (uint8_t) (0xA0 | len);
        return 1;
    }
    if (len <= 0xFF) {
        out [0] = 0xD9;
        out [1] = (uint8_t) len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out [0] = 0xDA;
        s_put_be (out + 1, len, 2);
        return 3;
    }
    out [0] = 0xDB;
    s_put_be (out + 1, len, 4);
    return 5;
}

//  Writes a bin header for len bytes; returns its size (at most 5).
static size_t
s_put_bin (uint8_t *out, size_t len)
{
    if (len <= 0xFF) {
        out [0] = 0xC4;
        out [1] = (uint8_t) len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out [0] = 0xC5;
        s_put_be (out + 1, len, 2);
        return 3;
    }
    out [0] = 0xC6;
    s_put_be (out + 1, len, 4);
    return 5;
}

//  Writes a str with its bytes; returns the size.
static size_t
s_put_text (uint8_t *out, const void *text, size_t len)
{
    size_t header = s_put_str (out, len);
    memcpy (out + header, text, len);
    return header + len;
}

//  Writes an unsigned integer in its shortest form; returns the size.
static size_t
s_put_uint (uint8_t *out, uint64_t value)
{
    if (value <= 0x7F) {
        out [0] = (uint8_t) value;
        return 1;
    }
    size_t n = value <= 0xFF? 1: value <= 0xFFFF? 2: value <= 0xFFFFFFFFu? 4: 8;
    out [0] = (uint8_t) (n == 1? 0xCC: n == 2? 0xCD: n == 4? 0xCE: 0xCF);
    s_put_be (out + 1, value, n);
    return 1 + n;
}

//  Writes the length prefix of a frame whose body is out[4..end).
static size_t
s_finish (uint8_t *out, size_t end)
{
    s_put_be (out, end - ZCH_FRAME_HEADER, ZCH_FRAME_HEADER);
    return end;
}

size_t
zch_frame_msg_size (size_t topic_len, size_t payload_len, size_t headers_size)
{
    return ZCH_FRAME_HEADER + 1 + 4 + 5 + topic_len + 9 + 5 + payload_len
         + (headers_size? headers_size: 1);
}

size_t
zch_frame_encode_msg (uint8_t *out, const char *topic, size_t topic_len, uint64_t seq,
                      const uint8_t *payload, size_t payload_len,
                      const uint8_t *headers, size_t headers_size)
{
    size_t at = ZCH_FRAME_HEADER;
    out [at++] = 0x95;
    at += s_put_text (out + at, "msg", 3);
    at += s_put_text (out + at, topic, topic_len);
    at += s_put_uint (out + at, seq);
    at += s_put_bin (out + at, payload_len);
    memcpy (out + at, payload, payload_len);
    at += payload_len;
    if (headers && headers_size) {
        memcpy (out + at, headers, headers_size);
        at += headers_size;
    }
    else
        out [at++] = 0x80;
    return s_finish (out, at);
}

size_t
zch_frame_pub_size (size_t topic_len, size_t payload_len, size_t headers_size)
{
    return ZCH_FRAME_HEADER + 1 + 4 + 5 + topic_len + 5 + payload_len + headers_size;
}

size_t
zch_frame_encode_pub (uint8_t *out, const char *topic, size_t topic_len,
                      const uint8_t *payload, size_t payload_len,
                      const uint8_t *headers, size_t headers_size)
{
    size_t at = ZCH_FRAME_HEADER;
    out [at++] = headers? 0x94: 0x93;
    at += s_put_text (out + at, "pub", 3);
    at += s_put_text (out + at, topic, topic_len);
    at += s_put_bin (out + at, payload_len);
    memcpy (out + at, payload, payload_len);
    at += payload_len;
    if (headers) {
        memcpy (out + at, headers, headers_size);
        at += headers_size;
    }
    return s_finish (out, at);
}

size_t
zch_frame_encode_sub (uint8_t *out, size_t out_cap, bool unsub,
                      const char *pattern, size_t pattern_len)
{
    if (out_cap < ZCH_FRAME_HEADER + 1 + 6 + 5 + pattern_len)
        return 0;
    size_t at = ZCH_FRAME_HEADER;
    out [at++] = 0x92;
    at += unsub? s_put_text (out + at, "unsub", 5): s_put_text (out + at, "sub", 3);
    at += s_put_text (out + at, pattern, pattern_len);
    return s_finish (out, at);
}

size_t
zch_frame_encode_simple (uint8_t *out, size_t out_cap, zch_frame_verb_t verb)
{
    const char *word = verb == ZCH_FRAME_OK? "ok": verb == ZCH_FRAME_PONG? "pong":
                       verb == ZCH_FRAME_PING? "ping": NULL;
    if (!word || out_cap < ZCH_FRAME_HEADER + 2 + strlen (word))
        return 0;
    size_t at = ZCH_FRAME_HEADER;
    out [at++] = 0x91;
    at += s_put_text (out + at, word, strlen (word));
    return s_finish (out, at);
}

size_t
zch_frame_encode_err (uint8_t *out, size_t out_cap, const char *code, const char *text)
{
    size_t code_len = strlen (code), text_len = strlen (text);
    size_t fixed = ZCH_FRAME_HEADER + 1 + 4 + 5 + 5;
    if (out_cap < 64 || code_len > out_cap / 2)
        return 0;
    if (fixed + code_len + text_len > out_cap)
        text_len = out_cap - fixed - code_len;
    size_t at = ZCH_FRAME_HEADER;
    out [at++] = 0x93;
    at += s_put_text (out + at, "err", 3);
    at += s_put_text (out + at, code, code_len);
    at += s_put_text (out + at, text, text_len);
    return s_finish (out, at);
}

size_t
zch_headers_meta_encode (uint64_t ts, const char *src, size_t src_len,
                         const uint8_t *headers, size_t headers_size,
                         uint8_t *out, size_t out_cap)
{
    size_t cap = out_cap < ZCH_META_MAX? out_cap: ZCH_META_MAX;
    if (cap < 1 + 2 + 1 + 4 + 1 + 3 + 9 + 4 + 5 + src_len + 2 + headers_size)
        return 0;
    size_t at = 0;
    out [at++] = 0x85;
    at += s_put_text (out + at, "v", 1);
    at += s_put_uint (out + at, ZCH_META_VERSION);
    at += s_put_text (out + at, "seq", 3);
    at += s_put_uint (out + at, 0);
    at += s_put_text (out + at, "ts", 2);
    at += s_put_uint (out + at, ts);
    at += s_put_text (out + at, "src", 3);
    at += s_put_text (out + at, src, src_len);
    at += s_put_text (out + at, "h", 1);
    memcpy (out + at, headers, headers_size);
    return at + headers_size;
}
