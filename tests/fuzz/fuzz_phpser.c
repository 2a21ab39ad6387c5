/*  fuzz_phpser: the PHP-serialize reader and writer, and the channel
    protocol's frames.

    Input: byte 0 picks the limits, the rest is tried as one serialized
    value and as a stream of channel-protocol frames. What reads is written
    again value by value and must read back to the same bytes (the writer
    is PHP's canonical form, so a second pass is a fixed point); a prefix
    of an accepted value must need more bytes. Every decoded request's
    data is sent back as an event, which must decode as PHP would; what
    converts to JSON must parse as JSON.                                    */
#include "zch_chanmsg.h"
#include "zch_phpser.h"
#include "zch_phpjson.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  Copies one value from reader to writer; returns the reader's code.
static int
s_copy (zch_phpser_t *reader, zch_phpser_out_t *out)
{
    zch_php_value_t value, key;
    int rc = zch_phpser_read (reader, &value);
    if (rc)
        return rc;
    switch (value.type) {
        case ZCH_PHP_NULL:   zch_phpser_put_null (out); return 0;
        case ZCH_PHP_BOOL:   zch_phpser_put_bool (out, value.boolean); return 0;
        case ZCH_PHP_INT:    zch_phpser_put_int (out, value.integer); return 0;
        case ZCH_PHP_FLOAT:  zch_phpser_put_float (out, value.real); return 0;
        case ZCH_PHP_STRING: zch_phpser_put_string (out, value.str, value.len); return 0;
        case ZCH_PHP_ARRAY:  break;
    }
    zch_phpser_put_array (out, value.count);
    for (uint32_t i = 0; i < value.count; i++) {
        if ((rc = zch_phpser_read_key (reader, &key)))
            return rc;
        S_ASSERT (key.type == ZCH_PHP_INT || key.type == ZCH_PHP_STRING);
        if (key.type == ZCH_PHP_INT)
            zch_phpser_put_int (out, key.integer);
        else
            zch_phpser_put_string (out, key.str, key.len);
        if ((rc = s_copy (reader, out)))
            return rc;
    }
    zch_phpser_put_end (out);
    return zch_phpser_end (reader);
}

//  Writes data[0..size) again; returns the bytes (caller frees) or NULL.
static uint8_t *
s_rewrite (const uint8_t *data, size_t size, const zch_phpser_limits_t *limits, size_t *len)
{
    zch_phpser_t reader;
    zch_phpser_init (&reader, data, size, limits);
    //  numbers may grow when written canonically ("d:.5;" is "d:0.5;")
    size_t cap = size * 4 + 64;
    uint8_t *buf = malloc (cap);
    if (!buf)
        return NULL;
    zch_phpser_out_t out;
    zch_phpser_out_init (&out, buf, cap);
    if (s_copy (&reader, &out) || reader.pos != size) {
        free (buf);
        return NULL;
    }
    S_ASSERT (!out.overflow);
    *len = out.len;
    return buf;
}

static void
s_value (const uint8_t *data, size_t size, const zch_phpser_limits_t *limits)
{
    const char *reason = NULL;
    int rc = zch_phpser_check (data, size, limits, &reason);
    S_ASSERT (rc <= 0 && rc >= ZCH_PHPSER_TOO_BIG);
    S_ASSERT (rc == 0 || reason);
    if (rc)
        return;
    S_ASSERT (size > 0 && zch_phpser_check (data, size - 1, limits, NULL) != ZCH_PHPSER_OK);
    size_t once_len, twice_len;
    uint8_t *once = s_rewrite (data, size, limits, &once_len);
    S_ASSERT (once);
    //  the rewrite may be longer (canonical numbers): check it without the string limit
    zch_phpser_limits_t wide = *limits;
    wide.max_string = once_len;
    uint8_t *twice = s_rewrite (once, once_len, &wide, &twice_len);
    S_ASSERT (twice && twice_len == once_len && memcmp (once, twice, once_len) == 0);
    free (once);
    free (twice);
    //  what converts is one JSON value. A key holding NUL (a PHP object's
    //  private property, "\0Class\0name") is valid JSON that jansson
    //  alone refuses, so only that refusal is allowed
    size_t json_len;
    char *json = zch_phpjson_convert (data, size, &json_len);
    if (json) {
        json_error_t error;
        json_t *back = json_loadb (json, json_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
        S_ASSERT (back || strstr (error.text, "NUL byte in object key"));
        json_decref (back);
        free (json);
    }
}

static void
s_frames (const uint8_t *data, size_t size, const zch_phpser_limits_t *limits)
{
    size_t offset = 0;
    while (offset < size) {
        const uint8_t *body;
        size_t body_len, consumed;
        int rc = zch_chanmsg_next (data + offset, size - offset, 1 << 16, &body, &body_len, &consumed);
        if (rc != ZCH_CHANMSG_FOUND)
            break;
        S_ASSERT (consumed == body_len + 4 && consumed <= size - offset);
        offset += consumed;
        zch_chan_request_t request;
        const char *reason = NULL;
        if (zch_chanmsg_decode (body, body_len, limits, &request, &reason)) {
            S_ASSERT (reason);
            continue;
        }
        S_ASSERT (request.channel_count <= ZCH_CHANMSG_CHANNELS_MAX);
        S_ASSERT (request.data >= body || request.data_len == 2);
        for (uint32_t i = 0; i < request.channel_count; i++) {
            const zch_chan_name_t *name = &request.channels [i];
            S_ASSERT (name->name >= (const char *) body
                   && name->name + name->len <= (const char *) body + body_len);
            size_t cap = zch_chanmsg_event_size (name->len, request.data_len);
            uint8_t *event = malloc (cap);
            if (!event)
                return;
            size_t len = zch_chanmsg_encode_event (event, cap, "event", name->name, name->len,
                                                   request.data, request.data_len, true);
            S_ASSERT (len > 4 && len <= cap);
            zch_phpser_limits_t wide = *limits;
            wide.max_string = len;
            S_ASSERT (zch_phpser_check (event + 4, len - 4, &wide, NULL) == 0);
            free (event);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    zch_phpser_limits_t limits = {
        .max_depth = 1 + data [0] % ZCH_PHPSER_DEPTH_MAX,
        .max_elements = (size_t) 1 << (data [0] % 17),
        .max_string = data [0] & 0x80? 64: size
    };
    s_value (data + 1, size - 1, &limits);
    s_frames (data + 1, size - 1, &limits);
    return 0;
}
