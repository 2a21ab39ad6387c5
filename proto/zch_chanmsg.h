/*  zch_chanmsg: the messages of walkor/channel's protocol, the wire format
    of Workerman's Channel\Client.

    A frame is a 4-byte big-endian length that counts itself, then PHP
    serialize() of an array {type, channels, data}; an empty frame (length
    4) is a ping. Clients send the types below; the server sends
    {type: "event"|"queue", channel, data}. Decoding is zch_phpser's,
    bounded: the data value is kept in its serialized form (a view).       */
#ifndef ZCH_CHANMSG_H_INCLUDED
#define ZCH_CHANMSG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_phpser.h"

#define ZCH_CHANMSG_HEADER       4      //  the length prefix, counted in the length
#define ZCH_CHANMSG_CHANNELS_MAX 256    //  channels named in one request

//  Result codes of zch_chanmsg_next (as zch_frame_next's)
#define ZCH_CHANMSG_FOUND      1
#define ZCH_CHANMSG_NEED_MORE  0
#define ZCH_CHANMSG_BAD_LENGTH -1       //  over max_body, or under the 4 bytes it counts

//  Finds the first whole frame in buf[0..len). On ZCH_CHANMSG_FOUND sets
//  *body, *body_len (the serialized bytes, maybe none: a ping) and
//  *consumed. A length over 4 + max_body, or under 4, is refused as soon
//  as the four length bytes are in.
int zch_chanmsg_next (const uint8_t *buf, size_t len, size_t max_body,
                      const uint8_t **body, size_t *body_len, size_t *consumed);

typedef enum {
    ZCH_CHAN_PING = 0,          //  the empty frame
    ZCH_CHAN_SUBSCRIBE,
    ZCH_CHAN_UNSUBSCRIBE,
    ZCH_CHAN_PUBLISH,
    ZCH_CHAN_PUBLISH_LOOP,
    ZCH_CHAN_WATCH,
    ZCH_CHAN_UNWATCH,
    ZCH_CHAN_ENQUEUE,
    ZCH_CHAN_RESERVE
} zch_chan_type_t;

typedef struct {
    const char *name;           //  a view into the body; an int channel is its digits
    size_t len;
} zch_chan_name_t;

//  One decoded request; every pointer points into the body.
typedef struct {
    zch_chan_type_t type;
    uint32_t channel_count;
    zch_chan_name_t channels [ZCH_CHANMSG_CHANNELS_MAX];
    const uint8_t *data;        //  the data value as serialized ("N;" when absent)
    size_t data_len;
    bool data_is_string;        //  then str/str_len are its bytes
    const char *str;
    size_t str_len;
} zch_chan_request_t;

//  Decodes one frame body. limits bound the whole value (NULL: defaults).
//  Returns 0, or a negative ZCH_PHPSER_* code (ZCH_PHPSER_NEED_MORE: the
//  body ends inside the value) with *reason a static text.
int zch_chanmsg_decode (const uint8_t *body, size_t len, const zch_phpser_limits_t *limits,
                        zch_chan_request_t *request, const char **reason);

//  The request type's name on the wire ("publishLoop", ...).
const char *zch_chanmsg_type_name (zch_chan_type_t type);

//  Largest size zch_chanmsg_encode_event writes.
size_t zch_chanmsg_event_size (size_t channel_len, size_t data_len);

//  Writes a whole frame {type: kind, channel, data} into out (out_cap
//  bytes); kind is "event" or "queue". data is a serialized value when
//  serialized, else string bytes. Returns the size written, or 0 if it
//  does not fit.
size_t zch_chanmsg_encode_event (uint8_t *out, size_t out_cap, const char *kind,
                                 const char *channel, size_t channel_len,
                                 const uint8_t *data, size_t data_len, bool serialized);

//  Writes a whole request frame {type, channels: [channel], data} (data
//  as in zch_chanmsg_encode_event; NULL for none). For tools and tests.
size_t zch_chanmsg_encode_request (uint8_t *out, size_t out_cap, zch_chan_type_t type,
                                   const char *channel, size_t channel_len,
                                   const uint8_t *data, size_t data_len, bool serialized);

#endif
