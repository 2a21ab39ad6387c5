/*  zch_frame: the frame protocol, incremental and bounded.

    A frame is a 4-byte big-endian length, then that many bytes holding one
    msgpack array whose first element is the verb:

        client: ["pub", topic, payload, headers?]  ["sub", pattern, opts?]
                ["unsub", pattern]  ["ping"]  ["auth", token]
        server: ["msg", topic, seq, payload, headers]  ["ok"]
                ["err", code, text]  ["pong"]

    zch_frame_next finds whole frames in a caller-owned buffer without
    copying and refuses a length over the limit as soon as the four length
    bytes are in. zch_frame_decode checks one frame's body and returns
    views into it. The encoders write frames into caller-owned memory.
    No sockets, no allocation.                                              */
#ifndef ZCH_FRAME_H_INCLUDED
#define ZCH_FRAME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCH_FRAME_HEADER        4               //  the length prefix
#define ZCH_PAYLOAD_MAX_DEFAULT (1024 * 1024)   //  --max-payload
//  What a frame may hold besides its payload: verb, topic, seq, headers
//  and msgpack framing. A frame body over max_payload + this is refused.
#define ZCH_FRAME_OVERHEAD      (8 * 1024)
//  Largest encoded headers map (it must fit in meta, ZCH_META_MAX)
#define ZCH_HEADERS_MAX         3072

//  Result codes of zch_frame_next
#define ZCH_FRAME_FOUND      1      //  a whole frame: *body, *body_len, *consumed
#define ZCH_FRAME_NEED_MORE  0      //  not all of it yet
#define ZCH_FRAME_TOO_LONG  -1      //  its length is over max_body

//  Looks for the first whole frame in buf[0..len). On ZCH_FRAME_FOUND sets
//  *body and *body_len (the msgpack bytes) and *consumed (bytes to drop
//  from the front: 4 + body). A stated length over max_body is refused at
//  once. *declared, when not NULL, gets the stated length whenever the four
//  length bytes are in (for messages).
int zch_frame_next (const uint8_t *buf, size_t len, size_t max_body,
                    const uint8_t **body, size_t *body_len, size_t *consumed,
                    uint32_t *declared);

typedef enum {
    ZCH_FRAME_UNKNOWN = 0,
    ZCH_FRAME_PUB,
    ZCH_FRAME_SUB,
    ZCH_FRAME_UNSUB,
    ZCH_FRAME_PING,
    ZCH_FRAME_MSG,
    ZCH_FRAME_OK,
    ZCH_FRAME_ERR,
    ZCH_FRAME_PONG,
    ZCH_FRAME_AUTH,             //  ["auth", token]; the token is in text
    ZCH_FRAME_VERBOSE,          //  ["verbose", bool]: publisher confirms on or off (flag)
    ZCH_FRAME_ENQUEUE,          //  ["enqueue", queue, payload, headers?]: queue in topic
    ZCH_FRAME_WATCH,            //  ["watch", queue, opts?]
    ZCH_FRAME_UNWATCH,          //  ["unwatch", queue]
    ZCH_FRAME_ITEM              //  ["item", queue, id, payload, headers]: queue in topic, id in seq
} zch_frame_verb_t;

//  One decoded frame; every pointer points into the decoded body.
typedef struct {
    zch_frame_verb_t verb;
    const char *topic;          //  pub and msg: topic; sub and unsub: pattern
    size_t topic_len;
    const uint8_t *payload;     //  pub and msg (bin or str on the wire)
    size_t payload_len;
    const uint8_t *headers;     //  pub and msg: the msgpack map, NULL if absent or nil
    size_t headers_size;
    uint32_t header_count;
    const uint8_t *opts;        //  sub: the msgpack map, NULL if absent or nil
    size_t opts_size;
    uint32_t opt_count;
    uint64_t seq;               //  msg
    const char *code;           //  err
    size_t code_len;
    const char *text;           //  err: the text; auth: the token; ok: the epoch (may be absent)
    size_t text_len;
    bool flag;                  //  verbose: on
} zch_frame_cmd_t;

//  Error codes of zch_frame_decode, sent back in ["err", code, text]
#define ZCH_FRAME_E_MALFORMED   "malformed"     //  not one msgpack value, or trailing bytes
#define ZCH_FRAME_E_SHAPE       "bad_shape"     //  not an array, wrong arity or types
#define ZCH_FRAME_E_VERB        "unknown_verb"  //  a verb no side sends

//  Decodes one frame body. Checks shape and types only (a topic's rules
//  are zch_topic's); headers must be a map of str to str of at most
//  ZCH_HEADERS_MAX bytes, opts a map. Returns 0, or -1 with *code set to
//  one of ZCH_FRAME_E_* and *reason to a static text.
int zch_frame_decode (const uint8_t *body, size_t len, zch_frame_cmd_t *cmd,
                      const char **code, const char **reason);

//  Checks that data[0..size) starts with a msgpack map of str to str and
//  sets *used to its size and *count to its entries. Returns 0 or -1.
int zch_headers_check (const uint8_t *data, size_t size, size_t *used, uint32_t *count);

//  Finds the headers map (key "h") in a meta map already accepted by
//  zch_meta_decode. Returns 0 with a view of it, or -1 when meta has none.
int zch_headers_in_meta (const uint8_t *meta, size_t meta_size,
                         const uint8_t **headers, size_t *headers_size);

//  Encodes a fresh meta {v, seq 0, ts, src, h} where headers is a checked
//  map (zch_headers_check). Returns the size written, or 0 if it does not
//  fit out_cap or ZCH_META_MAX.
size_t zch_headers_meta_encode (uint64_t ts, const char *src, size_t src_len,
                                const uint8_t *headers, size_t headers_size,
                                uint8_t *out, size_t out_cap);

//  Largest size zch_frame_encode_msg writes for these parts (headers_size
//  0 for none).
size_t zch_frame_msg_size (size_t topic_len, size_t payload_len, size_t headers_size);

//  Writes ["msg", topic, seq, payload (bin), headers] with its length
//  prefix; headers NULL sends an empty map. out must hold
//  zch_frame_msg_size bytes. Returns the size written.
size_t zch_frame_encode_msg (uint8_t *out, const char *topic, size_t topic_len, uint64_t seq,
                             const uint8_t *payload, size_t payload_len,
                             const uint8_t *headers, size_t headers_size);

//  Largest size zch_frame_encode_pub writes.
size_t zch_frame_pub_size (size_t topic_len, size_t payload_len, size_t headers_size);

//  Writes ["pub", topic, payload (bin)] or, with headers (a msgpack map),
//  ["pub", topic, payload, headers]. Returns the size written.
size_t zch_frame_encode_pub (uint8_t *out, const char *topic, size_t topic_len,
                             const uint8_t *payload, size_t payload_len,
                             const uint8_t *headers, size_t headers_size);

//  Writes ["sub", pattern] or ["unsub", pattern] into out (out_cap bytes).
//  Returns the size written, or 0 if it does not fit.
size_t zch_frame_encode_sub (uint8_t *out, size_t out_cap, bool unsub,
                             const char *pattern, size_t pattern_len);

//  Writes ["ok"], ["pong"] or ["ping"] (verb ZCH_FRAME_OK, _PONG or _PING).
//  Returns the size written, or 0 if it does not fit out_cap.
size_t zch_frame_encode_simple (uint8_t *out, size_t out_cap, zch_frame_verb_t verb);

//  Writes ["err", code, text]; text is cut to fit. Returns the size
//  written, or 0 if out_cap is under 64 bytes.
size_t zch_frame_encode_err (uint8_t *out, size_t out_cap, const char *code, const char *text);

#endif
