/*  zch_envelope: the ZeroMQ envelope [topic][meta][payload].

    meta is a msgpack map: v (1), seq (per-topic, broker-assigned), ts
    (nanoseconds since the Unix epoch, when the message entered the
    system), ep (the epoch the seq belongs to, broker-assigned; zch_epoch.h),
    src (origin id), ct (content type), h (map of string headers). Unknown keys
    are kept and ignored. Producers may also send [topic][payload] or one
    frame "topic payload". This module only looks at bytes: it never touches
    a socket, so the broker and the front-ends share it and fuzzers drive it. */
#ifndef ZCH_ENVELOPE_H_INCLUDED
#define ZCH_ENVELOPE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCH_META_MAX      4096  //  largest meta frame accepted or produced
#define ZCH_META_VERSION  1
#define ZCH_CONFIRM_ROUTE_MAX 31    //  a confirm route fits a fixstr

//  A frame as bytes; the envelope functions never keep these pointers.
typedef struct {
    const uint8_t *data;
    size_t size;
} zch_frame_t;

//  What an incoming multipart says, as views into its frames.
typedef struct {
    const char *topic;
    size_t topic_len;
    const uint8_t *meta;        //  NULL when the producer sent none
    size_t meta_size;
    size_t payload_frame;       //  index of the frame holding the payload
    size_t payload_offset;      //  where the payload starts in that frame
    size_t payload_size;
} zch_envelope_view_t;

//  Classifies a multipart of count frames: 3 frames [topic][meta][payload],
//  2 frames [topic][payload], or 1 frame "topic payload" (split at the first
//  space; a frame without a space is malformed). Checks the topic with
//  zch_topic_validate and, for 3 frames, the meta with zch_meta_decode.
//  Returns 0, or -1 with *reason set to a static text.
int zch_envelope_parse (const zch_frame_t *frames, size_t count,
                        zch_envelope_view_t *view, const char **reason);

//  Decoded meta. Strings are views into the meta bytes.
typedef struct {
    bool has_seq;
    uint64_t seq;
    bool has_ts;
    uint64_t ts;
    bool has_epoch;
    uint64_t epoch;             //  0 when absent
    const char *src;            //  NULL if absent
    size_t src_len;
    const char *ct;             //  NULL if absent
    size_t ct_len;
    const char *confirm_route;  //  cf: where the broker confirms the stamp; NULL if absent
    size_t confirm_route_len;
    bool has_confirm;           //  cn: the number the confirm names
    uint64_t confirm;
} zch_meta_t;

//  Decodes a meta frame: a msgpack map of at most ZCH_META_MAX bytes with
//  string keys, whose known keys have the right types (v, seq, ts and ep
//  unsigned integers, src and ct strings, h a map of strings to strings).
//  Returns 0, or -1 if it is malformed.
int zch_meta_decode (const uint8_t *data, size_t size, zch_meta_t *meta);

//  Encodes a fresh meta map {v, seq, ts, ep, src?} into out, with seq, ts
//  and ep as 9-byte uint64s (so they can be rewritten in place). src may
//  be NULL. Returns the size written, or 0 if out_cap is too small.
size_t zch_meta_encode (uint64_t seq, uint64_t ts, uint64_t epoch, const char *src, size_t src_len,
                        uint8_t *out, size_t out_cap);

//  Stamps seq and epoch, in place, into a meta that holds exactly {v, seq,
//  ts, ep} or {v, seq, ts, ep, src} as zch_meta_encode writes them, which
//  is then what zch_meta_stamp would have written. Returns false, changing
//  nothing, for any other meta: stamp that with zch_meta_stamp.
bool zch_meta_stamp_in_place (uint8_t *data, size_t size, uint64_t seq, uint64_t epoch);

//  True when meta holds exactly {v, seq, ts, ep} or {v, seq, ts, ep, src}
//  as zch_meta_encode writes them: nothing else (no headers) is in it.
bool zch_meta_is_fixed (const uint8_t *data, size_t size);

//  Re-encodes a producer's meta (already accepted by zch_meta_decode) with
//  seq and ep set, ts set to ts only if it had none, v set to 1, and every
//  other key kept. in may be NULL (no meta: same as zch_meta_encode without
//  src). Returns the size written, or 0 if in is malformed or out_cap is
//  too small.
size_t zch_meta_stamp (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                       uint64_t epoch, uint8_t *out, size_t out_cap);

//  Appends a confirm request to a meta of zchannel's own (a fixmap of at
//  most 13 pairs, size bytes in a buffer of cap): cf (route, 1 to
//  ZCH_CONFIRM_ROUTE_MAX bytes: the routing id of the requester's DEALER on
//  the broker's control endpoint) and cn (number, as a 9-byte uint64). The
//  broker answers [CONFIRM, number, topic, seq, epoch] there once it has
//  stamped the message, and takes both keys out of what it forwards.
//  Returns the new size, or 0 (nothing changed) when it does not fit.
size_t zch_meta_add_confirm (uint8_t *meta, size_t size, size_t cap, const char *route,
                             size_t route_len, uint64_t number);

//  A header from meta's h map, as views into the meta bytes (not
//  NUL-terminated).
typedef struct {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} zch_header_t;

//  Reads the h map of a meta frame (accepted by zch_meta_decode) into at
//  most cap headers. Returns how many it read (0 when h is absent), or -1
//  if the meta is malformed or holds more than cap headers.
int zch_meta_headers (const uint8_t *data, size_t size, zch_header_t *headers, size_t cap);

//  zch_meta_stamp, with h replaced by the count headers given (count 0
//  removes h). Keys must be unique. Returns the size written, or 0 if in
//  is malformed or the result does not fit out_cap or ZCH_META_MAX.
size_t zch_meta_stamp_headers (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                               uint64_t epoch, const zch_header_t *headers, size_t count,
                               uint8_t *out, size_t out_cap);

#endif
