/*  zch_chanmsg: the messages of walkor/channel's protocol.                 */
#include "zch_chanmsg.h"

#include <string.h>

static const char *s_type_names [] = {
    [ZCH_CHAN_PING] = "",
    [ZCH_CHAN_SUBSCRIBE] = "subscribe",
    [ZCH_CHAN_UNSUBSCRIBE] = "unsubscribe",
    [ZCH_CHAN_PUBLISH] = "publish",
    [ZCH_CHAN_PUBLISH_LOOP] = "publishLoop",
    [ZCH_CHAN_WATCH] = "watch",
    [ZCH_CHAN_UNWATCH] = "unwatch",
    [ZCH_CHAN_ENQUEUE] = "enqueue",
    [ZCH_CHAN_RESERVE] = "reserve",
};
#define S_TYPES (sizeof s_type_names / sizeof s_type_names [0])

int
zch_chanmsg_next (const uint8_t *buf, size_t len, size_t max_body,
                  const uint8_t **body, size_t *body_len, size_t *consumed)
{
    if (len < ZCH_CHANMSG_HEADER)
        return ZCH_CHANMSG_NEED_MORE;
    uint32_t total = (uint32_t) buf [0] << 24 | (uint32_t) buf [1] << 16
                   | (uint32_t) buf [2] << 8 | buf [3];
    if (total < ZCH_CHANMSG_HEADER || total - ZCH_CHANMSG_HEADER > max_body)
        return ZCH_CHANMSG_BAD_LENGTH;
    if (len < total)
        return ZCH_CHANMSG_NEED_MORE;
    *body = buf + ZCH_CHANMSG_HEADER;
    *body_len = total - ZCH_CHANMSG_HEADER;
    *consumed = total;
    return ZCH_CHANMSG_FOUND;
}

//  True when the string value equals text.
static bool
s_is (const zch_php_value_t *value, const char *text)
{
    return value->type == ZCH_PHP_STRING && value->len == strlen (text)
        && memcmp (value->str, text, value->len) == 0;
}

//  Reads the channels array: its values, strings or ints, are the names.
static int
s_channels (zch_phpser_t *reader, zch_chan_request_t *request, const char **reason)
{
    zch_php_value_t list, key, name;
    int rc = zch_phpser_read (reader, &list);
    if (rc)
        goto failed;
    if (list.type != ZCH_PHP_ARRAY) {
        *reason = "channels is not an array";
        return ZCH_PHPSER_MALFORMED;
    }
    if (list.count > ZCH_CHANMSG_CHANNELS_MAX) {
        *reason = "too many channels in one request";
        return ZCH_PHPSER_TOO_BIG;
    }
    request->channel_count = 0;
    for (uint32_t i = 0; i < list.count; i++) {
        if ((rc = zch_phpser_read_key (reader, &key)))
            goto failed;
        size_t start = reader->pos;
        if ((rc = zch_phpser_read (reader, &name)))
            goto failed;
        zch_chan_name_t *slot = &request->channels [request->channel_count++];
        if (name.type == ZCH_PHP_STRING) {
            slot->name = name.str;
            slot->len = name.len;
        }
        else
        if (name.type == ZCH_PHP_INT) {
            //  "i:<digits>;": the name is the digits, as PHP would print them
            slot->name = (const char *) reader->data + start + 2;
            slot->len = reader->pos - start - 3;
        }
        else {
            *reason = "a channel name is neither string nor int";
            return ZCH_PHPSER_MALFORMED;
        }
    }
    rc = zch_phpser_end (reader);
    if (rc == 0)
        return 0;
failed:
    *reason = reader->reason;
    return rc;
}

int
zch_chanmsg_decode (const uint8_t *body, size_t len, const zch_phpser_limits_t *limits,
                    zch_chan_request_t *request, const char **reason)
{
    request->type = ZCH_CHAN_PING;
    request->channel_count = 0;
    request->data = (const uint8_t *) "N;";
    request->data_len = 2;
    request->data_is_string = false;
    request->str = NULL;
    request->str_len = 0;
    if (len == 0)
        return 0;

    zch_phpser_t reader;
    zch_phpser_init (&reader, body, len, limits);
    zch_php_value_t top, key, value;
    bool typed = false, listed = false;
    int rc = zch_phpser_read (&reader, &top);
    if (rc)
        goto failed;
    if (top.type != ZCH_PHP_ARRAY) {
        *reason = "a request is an array {type, channels, data}";
        return ZCH_PHPSER_MALFORMED;
    }
    for (uint32_t i = 0; i < top.count; i++) {
        if ((rc = zch_phpser_read_key (&reader, &key)))
            goto failed;
        if (s_is (&key, "channels")) {
            if ((rc = s_channels (&reader, request, reason)))
                return rc;
            listed = true;
            continue;
        }
        size_t start = reader.pos;
        if (s_is (&key, "data")) {
            if ((rc = zch_phpser_skip (&reader, &request->data, &request->data_len)))
                goto failed;
            //  a string's bytes are what travels; read it again for them
            zch_phpser_t again;
            zch_phpser_init (&again, body + start, reader.pos - start, NULL);
            request->data_is_string = zch_phpser_read (&again, &value) == 0
                                   && value.type == ZCH_PHP_STRING;
            request->str = request->data_is_string? value.str: NULL;
            request->str_len = request->data_is_string? value.len: 0;
            continue;
        }
        if (!s_is (&key, "type")) {
            if ((rc = zch_phpser_skip (&reader, NULL, NULL)))
                goto failed;
            continue;
        }
        if ((rc = zch_phpser_read (&reader, &value)))
            goto failed;
        if (value.type == ZCH_PHP_ARRAY) {
            *reason = "type is not a string";
            return ZCH_PHPSER_MALFORMED;
        }
        typed = false;
        for (size_t t = 1; t < S_TYPES; t++)
            if (s_is (&value, s_type_names [t])) {
                request->type = (zch_chan_type_t) t;
                typed = true;
            }
        if (!typed) {
            *reason = "unknown request type";
            return ZCH_PHPSER_MALFORMED;
        }
    }
    if ((rc = zch_phpser_end (&reader)))
        goto failed;
    if (reader.pos != len) {
        *reason = "bytes after the request";
        return ZCH_PHPSER_MALFORMED;
    }
    if (!typed) {
        *reason = "request without a type";
        return ZCH_PHPSER_MALFORMED;
    }
    if (!listed && request->type != ZCH_CHAN_RESERVE) {
        *reason = "request without channels";
        return ZCH_PHPSER_MALFORMED;
    }
    return 0;
failed:
    *reason = reader.reason;
    return rc;
}

const char *
zch_chanmsg_type_name (zch_chan_type_t type)
{
    return (size_t) type < S_TYPES? s_type_names [type]: "";
}

size_t
zch_chanmsg_event_size (size_t channel_len, size_t data_len)
{
    //  header, a:3:{, three keys, "queue", two string headers with lengths
    return ZCH_CHANMSG_HEADER + 160 + channel_len + data_len;
}

//  Starts a frame in out: the body goes after room for its length.
//  Returns 0, or -1 when out cannot hold even the length.
static int
s_start (zch_phpser_out_t *writer, uint8_t *out, size_t out_cap)
{
    if (out_cap < ZCH_CHANMSG_HEADER)
        return -1;
    zch_phpser_out_init (writer, out, out_cap);
    writer->len = ZCH_CHANMSG_HEADER;
    return 0;
}

//  Finishes a frame: writes the length that counts itself in front.
static size_t
s_finish (uint8_t *out, zch_phpser_out_t *writer)
{
    if (writer->overflow || writer->len > UINT32_MAX)
        return 0;
    uint32_t total = (uint32_t) writer->len;
    out [0] = (uint8_t) (total >> 24);
    out [1] = (uint8_t) (total >> 16);
    out [2] = (uint8_t) (total >> 8);
    out [3] = (uint8_t) total;
    return total;
}

//  The data value, as a string or already serialized.
static void
s_put_data (zch_phpser_out_t *writer, const uint8_t *data, size_t data_len, bool serialized)
{
    if (serialized)
        zch_phpser_put_raw (writer, data, data_len);
    else
        zch_phpser_put_string (writer, data, data_len);
}

size_t
zch_chanmsg_encode_event (uint8_t *out, size_t out_cap, const char *kind,
                          const char *channel, size_t channel_len,
                          const uint8_t *data, size_t data_len, bool serialized)
{
    zch_phpser_out_t writer;
    if (s_start (&writer, out, out_cap))
        return 0;
    zch_phpser_put_array (&writer, 3);
    zch_phpser_put_string (&writer, "type", 4);
    zch_phpser_put_string (&writer, kind, strlen (kind));
    zch_phpser_put_string (&writer, "channel", 7);
    zch_phpser_put_string (&writer, channel, channel_len);
    zch_phpser_put_string (&writer, "data", 4);
    s_put_data (&writer, data, data_len, serialized);
    zch_phpser_put_end (&writer);
    return s_finish (out, &writer);
}

size_t
zch_chanmsg_encode_request (uint8_t *out, size_t out_cap, zch_chan_type_t type,
                            const char *channel, size_t channel_len,
                            const uint8_t *data, size_t data_len, bool serialized)
{
    zch_phpser_out_t writer;
    if (s_start (&writer, out, out_cap))
        return 0;
    if (type != ZCH_CHAN_PING) {
        const char *name = zch_chanmsg_type_name (type);
        zch_phpser_put_array (&writer, data? 3: 2);
        zch_phpser_put_string (&writer, "type", 4);
        zch_phpser_put_string (&writer, name, strlen (name));
        zch_phpser_put_string (&writer, "channels", 8);
        zch_phpser_put_array (&writer, 1);
        zch_phpser_put_int (&writer, 0);
        zch_phpser_put_string (&writer, channel, channel_len);
        zch_phpser_put_end (&writer);
        if (data) {
            zch_phpser_put_string (&writer, "data", 4);
            s_put_data (&writer, data, data_len, serialized);
        }
        zch_phpser_put_end (&writer);
    }
    return s_finish (out, &writer);
}
