/*  zch_envelope: the ZeroMQ envelope [topic][meta][payload].

    Meta frames are read in place with zch_mpread, which checks every
    length against the bytes left and never allocates: the broker and the
    front-ends read a meta per message, so decoding costs no malloc, and a
    five-byte frame claiming 2^32 entries is refused rather than sized.
    Stamping copies the producer's other keys byte for byte.

    zchannel writes v, seq, ts and ep first, with seq, ts and ep as 9-byte
    uint64s (the fixed layout): a meta that is only that, plus src, is read
    at fixed offsets, and the broker stamps its seq and epoch in place, with
    no walk and no copy; anything else takes the full walk.                 */
#include "zch_envelope.h"
#include "zch_mpread.h"
#include "zch_topic.h"

#include <msgpack.h>
#include <endian.h>
#include <string.h>

//  The fixed layout: map header, "v" 1, "seq" 0xcf + 8 bytes, "ts" 0xcf +
//  8 bytes, "ep" 0xcf + 8 bytes, then (in the 5-pair form) "src" and a
//  str8 or fixstr
#define S_FIXED_SEQ_AT  9
#define S_FIXED_TS_AT   21
#define S_FIXED_EP_AT   33
#define S_FIXED_HEAD    41      //  bytes up to the end of ep, with a fixmap
#define S_FIXED_SRC_AT  41
#define S_FIXED_PAIRS   4       //  v, seq, ts, ep
static const uint8_t s_fixed_v_seq [] = { 0xa1, 'v', ZCH_META_VERSION, 0xa3, 's', 'e', 'q', 0xcf };
static const uint8_t s_fixed_ts [] = { 0xa2, 't', 's', 0xcf };
static const uint8_t s_fixed_ep [] = { 0xa2, 'e', 'p', 0xcf };
static const uint8_t s_fixed_src [] = { 0xa3, 's', 'r', 'c' };

//  Known meta keys, as bits for duplicate detection
#define S_KEY_V    0x01
#define S_KEY_SEQ  0x02
#define S_KEY_TS   0x04
#define S_KEY_SRC  0x08
#define S_KEY_CT   0x10
#define S_KEY_H    0x20
#define S_KEY_EP   0x40
#define S_KEY_CF   0x80         //  confirm route: where the broker confirms the stamp
#define S_KEY_CN   0x100        //  confirm number

//  Containers a meta value may nest (the map itself is one more level)
#define S_META_DEPTH 30

//  The keys a stamp writes itself, and those it takes out: a confirm
//  request is for the broker, not for consumers
#define S_KEYS_STAMPED (S_KEY_V | S_KEY_SEQ | S_KEY_TS | S_KEY_EP | S_KEY_CF | S_KEY_CN)

//  Called for each key/value pair of a valid meta, in order: bit names a
//  known key (0 for others); pair spans the key and its value; value is
//  where the value starts. Returns 0, or -1 to stop the walk.
typedef int (s_pair_fn) (void *arg, unsigned bit, const uint8_t *pair, size_t pair_size,
                         const uint8_t *value, size_t value_size);

//  Which known key text is, as its bit; 0 for any other key.
static unsigned
s_key_bit (const char *text, size_t len)
{
    switch (len) {
        case 1: return text [0] == 'v'? S_KEY_V: text [0] == 'h'? S_KEY_H: 0;
        case 2: return memcmp (text, "ts", 2) == 0? S_KEY_TS: memcmp (text, "ct", 2) == 0? S_KEY_CT:
                       memcmp (text, "ep", 2) == 0? S_KEY_EP: memcmp (text, "cf", 2) == 0? S_KEY_CF:
                       memcmp (text, "cn", 2) == 0? S_KEY_CN: 0;
        case 3: return memcmp (text, "seq", 3) == 0? S_KEY_SEQ: memcmp (text, "src", 3) == 0? S_KEY_SRC: 0;
        default: return 0;
    }
}

//  Steps over a value, refusing containers nested deeper than depth:
//  meta goes on to consumers whose decoders stop at 32 levels (msgpack-c's).
static int
s_skip_value (zch_mpread_t *reader, int depth)
{
    uint32_t count;
    uint64_t items;
    if (zch_mpread_array (reader, &count) == 0)
        items = count;
    else
    if (zch_mpread_map (reader, &count) == 0)
        items = 2 * (uint64_t) count;
    else
        return zch_mpread_skip (reader);
    if (depth == 0)
        return -1;
    for (uint64_t i = 0; i < items; i++)
        if (s_skip_value (reader, depth - 1))
            return -1;
    return 0;
}

//  Reads one known key's value into meta, checking its type; other values
//  are stepped over. Returns 0 or -1.
static int
s_read_value (zch_mpread_t *reader, unsigned bit, zch_meta_t *meta)
{
    uint64_t number;
    uint32_t count;
    const char *text;
    size_t len;
    switch (bit) {
        case S_KEY_V:
            return zch_mpread_uint (reader, &number);
        case S_KEY_SEQ:
            meta->has_seq = true;
            return zch_mpread_uint (reader, &meta->seq);
        case S_KEY_TS:
            meta->has_ts = true;
            return zch_mpread_uint (reader, &meta->ts);
        case S_KEY_EP:
            meta->has_epoch = true;
            return zch_mpread_uint (reader, &meta->epoch);
        case S_KEY_CF:
            return zch_mpread_str (reader, &meta->confirm_route, &meta->confirm_route_len)
                || meta->confirm_route_len > ZCH_CONFIRM_ROUTE_MAX? -1: 0;
        case S_KEY_CN:
            meta->has_confirm = true;
            return zch_mpread_uint (reader, &meta->confirm);
        case S_KEY_SRC:
            return zch_mpread_str (reader, &meta->src, &meta->src_len);
        case S_KEY_CT:
            return zch_mpread_str (reader, &meta->ct, &meta->ct_len);
        case S_KEY_H:
            if (zch_mpread_map (reader, &count))
                return -1;
            for (uint32_t i = 0; i < 2 * count; i++)
                if (zch_mpread_str (reader, &text, &len))
                    return -1;
            return 0;
        default:
            return s_skip_value (reader, S_META_DEPTH);
    }
}

//  Checks a meta frame, fills meta, and calls fn (if any) for each pair.
//  A known key may appear once. Returns 0 or -1.
static int
s_meta_walk (const uint8_t *data, size_t size, zch_meta_t *meta, s_pair_fn *fn, void *arg)
{
    memset (meta, 0, sizeof *meta);
    if (!data || size == 0 || size > ZCH_META_MAX)
        return -1;
    zch_mpread_t reader;
    zch_mpread_init (&reader, data, size);
    uint32_t count;
    if (zch_mpread_map (&reader, &count))
        return -1;
    unsigned seen = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t pair_start = reader.pos;
        const char *key;
        size_t key_len;
        if (zch_mpread_str (&reader, &key, &key_len))
            return -1;
        unsigned bit = s_key_bit (key, key_len);
        if (seen & bit)
            return -1;
        seen |= bit;
        size_t value_start = reader.pos;
        if (s_read_value (&reader, bit, meta))
            return -1;
        if (fn && fn (arg, bit, data + pair_start, reader.pos - pair_start,
                      data + value_start, reader.pos - value_start))
            return -1;
    }
    return zch_mpread_done (&reader)? 0: -1;
}

//  Writes value as 8 big-endian bytes (msgpack's order).
static void
s_put_u64 (uint8_t *at, uint64_t value)
{
    value = htobe64 (value);
    memcpy (at, &value, sizeof value);
}

//  Reads 8 big-endian bytes.
static uint64_t
s_get_u64 (const uint8_t *at)
{
    uint64_t value;
    memcpy (&value, at, sizeof value);
    return be64toh (value);
}

//  Where src's bytes start in a meta of the fixed layout holding exactly
//  {v, seq, ts, ep} or {v, seq, ts, ep, src}, with *src_len set; 0 when
//  there is no src; -1 when data is anything else (the full walk decides).
static long
s_fixed_layout (const uint8_t *data, size_t size, size_t *src_len)
{
    *src_len = 0;
    if (!data || size < S_FIXED_HEAD || (data [0] != 0x84 && data [0] != 0x85)
    ||  memcmp (data + 1, s_fixed_v_seq, sizeof s_fixed_v_seq)
    ||  memcmp (data + S_FIXED_SEQ_AT + 8, s_fixed_ts, sizeof s_fixed_ts)
    ||  memcmp (data + S_FIXED_TS_AT + 8, s_fixed_ep, sizeof s_fixed_ep))
        return -1;
    if (data [0] == 0x84)
        return size == S_FIXED_HEAD? 0: -1;
    size_t at = S_FIXED_SRC_AT + sizeof s_fixed_src;
    if (size <= at || memcmp (data + S_FIXED_SRC_AT, s_fixed_src, sizeof s_fixed_src))
        return -1;
    if ((data [at] & 0xe0) == 0xa0) {
        *src_len = data [at] & 0x1f;
        at += 1;
    }
    else
    if (data [at] == 0xd9 && size > at + 1) {
        *src_len = data [at + 1];
        at += 2;
    }
    else
        return -1;
    return size == at + *src_len? (long) at: -1;
}

bool
zch_meta_is_fixed (const uint8_t *data, size_t size)
{
    size_t src_len;
    return s_fixed_layout (data, size, &src_len) >= 0;
}

//  Decodes a meta frame; strings in meta point into data.
int
zch_meta_decode (const uint8_t *data, size_t size, zch_meta_t *meta)
{
    size_t src_len;
    long src_at = s_fixed_layout (data, size, &src_len);
    if (src_at >= 0) {
        *meta = (zch_meta_t) {
            .has_seq = true, .seq = s_get_u64 (data + S_FIXED_SEQ_AT),
            .has_ts = true, .ts = s_get_u64 (data + S_FIXED_TS_AT),
            .has_epoch = true, .epoch = s_get_u64 (data + S_FIXED_EP_AT),
            .src = src_at? (const char *) data + src_at: NULL, .src_len = src_len
        };
        return 0;
    }
    if (s_meta_walk (data, size, meta, NULL, NULL)) {
        memset (meta, 0, sizeof *meta);
        return -1;
    }
    return 0;
}

//  The caller's fixed output buffer, as a msgpack_packer target.
typedef struct {
    uint8_t *data;
    size_t cap;
    size_t size;
} s_out_t;

//  msgpack_packer write callback: appends or fails without writing.
static int
s_out_write (void *data, const char *buf, size_t len)
{
    s_out_t *out = (s_out_t *) data;
    if (len > out->cap - out->size)
        return -1;
    if (len)
        memcpy (out->data + out->size, buf, len);
    out->size += len;
    return 0;
}

//  Packs a string key.
static int
s_pack_key (msgpack_packer *pk, const char *key)
{
    size_t len = strlen (key);
    return msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, key, len);
}

//  Writes a header for a map of pairs, then v, seq, ts and ep in the fixed
//  layout. Returns 0, or -1 (nothing written) if it does not fit.
static int
s_write_head (s_out_t *out, uint32_t pairs, uint64_t seq, uint64_t ts, uint64_t epoch)
{
    uint8_t head [5 + S_FIXED_HEAD - 1];
    size_t size = 0;
    if (pairs < 16)
        head [size++] = (uint8_t) (0x80 | pairs);
    else
    if (pairs <= UINT16_MAX) {
        head [size++] = 0xde;
        head [size++] = (uint8_t) (pairs >> 8);
        head [size++] = (uint8_t) pairs;
    }
    else {
        head [size++] = 0xdf;
        for (int shift = 24; shift >= 0; shift -= 8)
            head [size++] = (uint8_t) (pairs >> shift);
    }
    memcpy (head + size, s_fixed_v_seq, sizeof s_fixed_v_seq);
    size += sizeof s_fixed_v_seq;
    s_put_u64 (head + size, seq);
    size += 8;
    memcpy (head + size, s_fixed_ts, sizeof s_fixed_ts);
    size += sizeof s_fixed_ts;
    s_put_u64 (head + size, ts);
    size += 8;
    memcpy (head + size, s_fixed_ep, sizeof s_fixed_ep);
    size += sizeof s_fixed_ep;
    s_put_u64 (head + size, epoch);
    size += 8;
    return s_out_write (out, (const char *) head, size);
}

//  Encodes a fresh meta {v, seq, ts, ep, src?} in the fixed layout; 0 if
//  it does not fit out_cap or ZCH_META_MAX.
size_t
zch_meta_encode (uint64_t seq, uint64_t ts, uint64_t epoch, const char *src, size_t src_len,
                 uint8_t *out, size_t out_cap)
{
    if (!out || (src && src_len > UINT32_MAX))
        return 0;
    s_out_t buf = { out, out_cap < ZCH_META_MAX? out_cap: ZCH_META_MAX, 0 };
    if (s_write_head (&buf, src? S_FIXED_PAIRS + 1: S_FIXED_PAIRS, seq, ts, epoch))
        return 0;
    if (!src)
        return buf.size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, s_out_write);
    int rc = msgpack_pack_str (&pk, 3) || msgpack_pack_str_body (&pk, "src", 3)
          || msgpack_pack_str (&pk, src_len) || msgpack_pack_str_body (&pk, src, src_len);
    return rc? 0: buf.size;
}

//  Stamps seq and epoch into a meta of the fixed layout where they lie.
bool
zch_meta_stamp_in_place (uint8_t *data, size_t size, uint64_t seq, uint64_t epoch)
{
    size_t src_len;
    if (s_fixed_layout (data, size, &src_len) < 0)
        return false;
    s_put_u64 (data + S_FIXED_SEQ_AT, seq);
    s_put_u64 (data + S_FIXED_EP_AT, epoch);
    return true;
}

//  Appends the confirm request {cf: route, cn: number} to a meta whose map
//  header is a fixmap (zchannel's own metas).
size_t
zch_meta_add_confirm (uint8_t *meta, size_t size, size_t cap, const char *route, size_t route_len,
                      uint64_t number)
{
    size_t added = 3 + 1 + route_len + 3 + 9;
    if (cap > ZCH_META_MAX)
        cap = ZCH_META_MAX;
    if (!meta || size == 0 || (meta [0] & 0xf0) != 0x80 || (meta [0] & 0x0f) > 13
    ||  route_len == 0 || route_len > ZCH_CONFIRM_ROUTE_MAX || size + added > cap)
        return 0;
    meta [0] += 2;
    uint8_t *at = meta + size;
    memcpy (at, "\xa2" "cf", 3);
    at [3] = (uint8_t) (0xa0 | route_len);
    memcpy (at + 4, route, route_len);
    at += 4 + route_len;
    memcpy (at, "\xa2" "cn\xcf", 4);
    s_put_u64 (at + 4, number);
    return size + added;
}

//  The h replacement a stamp writes: none (keep the producer's h), or
//  count headers (count 0: no h at all).
typedef struct {
    bool replace;
    const zch_header_t *headers;
    size_t count;
} s_h_t;

//  Where a stamp writes, and what it drops from the producer's meta.
typedef struct {
    s_out_t out;
    unsigned dropped;           //  key bits not copied
    uint32_t kept;              //  pairs copied (counting pass)
    bool counting;
} s_stamp_t;

//  Walk callback: counts, then copies byte for byte, the pairs a stamp keeps.
static int
s_stamp_pair (void *arg, unsigned bit, const uint8_t *pair, size_t pair_size,
              const uint8_t *value, size_t value_size)
{
    (void) value;
    (void) value_size;
    s_stamp_t *stamp = arg;
    if (bit & stamp->dropped)
        return 0;
    if (stamp->counting) {
        stamp->kept++;
        return 0;
    }
    return s_out_write (&stamp->out, (const char *) pair, pair_size);
}

//  Re-encodes in (NULL: an empty map) with v, seq, ts and ep first, the
//  producer's other keys in their order (h replaced when h->replace).
//  Returns the size written, or 0.
static size_t
s_meta_restamp (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts, uint64_t epoch,
                const s_h_t *h, uint8_t *out, size_t out_cap)
{
    static const uint8_t empty_map [] = { 0x80 };
    if (!out)
        return 0;
    if (!in) {
        in = empty_map;
        in_size = sizeof empty_map;
    }
    s_stamp_t stamp = {
        .out = { out, out_cap < ZCH_META_MAX? out_cap: ZCH_META_MAX, 0 },
        .dropped = S_KEYS_STAMPED | (h->replace? S_KEY_H: 0), .counting = true
    };
    zch_meta_t meta;
    if (s_meta_walk (in, in_size, &meta, s_stamp_pair, &stamp))
        return 0;
    uint32_t pairs = S_FIXED_PAIRS + stamp.kept + (h->replace && h->count > 0? 1: 0);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &stamp.out, s_out_write);
    int rc = s_write_head (&stamp.out, pairs, seq, meta.has_ts? meta.ts: ts, epoch);
    stamp.counting = false;
    if (!rc)
        rc = s_meta_walk (in, in_size, &meta, s_stamp_pair, &stamp);
    if (!rc && h->replace && h->count > 0) {
        rc = s_pack_key (&pk, "h") || msgpack_pack_map (&pk, (uint32_t) h->count);
        for (size_t i = 0; !rc && i < h->count; i++) {
            const zch_header_t *header = &h->headers [i];
            rc = msgpack_pack_str (&pk, header->key_len)
              || msgpack_pack_str_body (&pk, header->key, header->key_len)
              || msgpack_pack_str (&pk, header->value_len)
              || msgpack_pack_str_body (&pk, header->value, header->value_len);
        }
    }
    return rc? 0: stamp.out.size;
}

//  Re-encodes a producer's meta with v and seq set, ts kept or set, and
//  every other key kept in its order; 0 if in is malformed or the result
//  does not fit out_cap or ZCH_META_MAX.
size_t
zch_meta_stamp (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts, uint64_t epoch,
                uint8_t *out, size_t out_cap)
{
    if (!in)
        return zch_meta_encode (seq, ts, epoch, NULL, 0, out, out_cap);
    s_h_t h = { false, NULL, 0 };
    return s_meta_restamp (in, in_size, seq, ts, epoch, &h, out, out_cap);
}

//  zch_meta_stamp with the h map replaced: for plugins that change headers.
size_t
zch_meta_stamp_headers (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                        uint64_t epoch, const zch_header_t *headers, size_t count,
                        uint8_t *out, size_t out_cap)
{
    if (count > UINT32_MAX || (count && !headers))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (headers [i].key_len > UINT32_MAX || headers [i].value_len > UINT32_MAX)
            return 0;
    s_h_t h = { true, headers, count };
    return s_meta_restamp (in, in_size, seq, ts, epoch, &h, out, out_cap);
}

//  Where zch_meta_headers puts what it reads.
typedef struct {
    zch_header_t *headers;
    size_t cap;
    int count;
} s_headers_t;

//  Walk callback: reads the h map's headers as views.
static int
s_headers_pair (void *arg, unsigned bit, const uint8_t *pair, size_t pair_size,
                const uint8_t *value, size_t value_size)
{
    (void) pair;
    (void) pair_size;
    s_headers_t *found = arg;
    if (bit != S_KEY_H)
        return 0;
    zch_mpread_t reader;
    zch_mpread_init (&reader, value, value_size);
    uint32_t count;
    if (zch_mpread_map (&reader, &count) || count > found->cap)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        zch_header_t *header = &found->headers [i];
        if (zch_mpread_str (&reader, &header->key, &header->key_len)
        ||  zch_mpread_str (&reader, &header->value, &header->value_len))
            return -1;
    }
    found->count = (int) count;
    return 0;
}

//  Reads the h map of a valid meta into views over data.
int
zch_meta_headers (const uint8_t *data, size_t size, zch_header_t *headers, size_t cap)
{
    s_headers_t found = { headers, cap, 0 };
    zch_meta_t meta;
    if (s_meta_walk (data, size, &meta, s_headers_pair, &found))
        return -1;
    return found.count;
}

//  Says why a topic failed zch_topic_validate, naming the topic.
static const char *
s_topic_reason (const char *why)
{
    static const char *const reasons [][2] = {
        { "empty",                      "empty topic" },
        { "too long",                   "topic too long" },
        { "invalid utf-8",              "invalid utf-8 in topic" },
        { "space or control character", "space or control character in topic" },
        { "empty token",                "empty token in topic" },
        { "wildcard in topic",          "wildcard in topic" },
        { "reserved topic",             "reserved topic" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons [0]; i++)
        if (strcmp (why, reasons [i][0]) == 0)
            return reasons [i][1];
    return "invalid topic";
}

//  Classifies a multipart as one of the three envelope forms.
int
zch_envelope_parse (const zch_frame_t *frames, size_t count,
                    zch_envelope_view_t *view, const char **reason)
{
    memset (view, 0, sizeof *view);
    const char *why = NULL;
    if (!frames || count == 0 || count > 3) {
        why = "wrong frame count";
        goto malformed;
    }
    if (count == 1) {
        //  "topic payload": a space can only be useful within the first
        //  ZCH_TOPIC_MAX + 1 bytes
        const zch_frame_t *frame = &frames [0];
        size_t window = frame->size < ZCH_TOPIC_MAX + 1? frame->size: ZCH_TOPIC_MAX + 1;
        const uint8_t *space = window? memchr (frame->data, ' ', window): NULL;
        if (!space) {
            why = frame->size > ZCH_TOPIC_MAX? "topic too long": "no space in single-frame message";
            goto malformed;
        }
        view->topic = (const char *) frame->data;
        view->topic_len = (size_t) (space - frame->data);
        view->payload_frame = 0;
        view->payload_offset = view->topic_len + 1;
        view->payload_size = frame->size - view->payload_offset;
    }
    else {
        view->topic = (const char *) frames [0].data;
        view->topic_len = frames [0].size;
        view->payload_frame = count - 1;
        view->payload_offset = 0;
        view->payload_size = frames [count - 1].size;
    }
    const char *topic_why = NULL;
    if (zch_topic_validate (view->topic, view->topic_len, &topic_why)) {
        why = s_topic_reason (topic_why);
        goto malformed;
    }
    if (count == 3) {
        zch_meta_t meta;
        if (zch_meta_decode (frames [1].data, frames [1].size, &meta)) {
            why = "malformed meta";
            goto malformed;
        }
        view->meta = frames [1].data;
        view->meta_size = frames [1].size;
    }
    return 0;

malformed:
    memset (view, 0, sizeof *view);
    if (reason)
        *reason = why;
    return -1;
}
