/*  zch_envelope: the ZeroMQ envelope [topic][meta][payload].

    Meta frames are decoded with msgpack-c, after a walk of our own that
    proves every length and count in the frame fits in its bytes: msgpack-c
    sizes an array's or map's allocation from its header, so a five-byte
    frame claiming 2^32 entries would otherwise ask for hundreds of GB.    */
#include "zch_envelope.h"
#include "zch_topic.h"

#include <msgpack.h>
#include <string.h>

//  Zone chunk: enough for the objects of a typical meta in one allocation
#define S_ZONE_CHUNK 1024

//  Known meta keys, as bits for duplicate detection
#define S_KEY_V    0x01
#define S_KEY_SEQ  0x02
#define S_KEY_TS   0x04
#define S_KEY_SRC  0x08
#define S_KEY_CT   0x10
#define S_KEY_H    0x20

//  Reads an n-byte big-endian unsigned integer.
static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

//  Checks that data[0..size) is exactly one msgpack value whose every
//  length fits and whose container counts are possible (each entry takes
//  at least one byte), without recursion or allocation. Returns 0 or -1.
static int
s_msgpack_check (const uint8_t *data, size_t size)
{
    size_t pos = 0;
    uint64_t pending = 1;               //  values still to read
    while (pending > 0) {
        if (pos >= size)
            return -1;
        uint8_t c = data [pos++];
        pending--;
        uint64_t skip = 0;              //  payload bytes after the header
        uint64_t items = 0;             //  nested values
        size_t len_bytes = 0;           //  size of a length field
        uint64_t extra = 0;             //  fixed bytes besides the length (ext type)
        int kind = 0;                   //  0 bytes, 1 array, 2 map
        if (c <= 0x7F || c >= 0xE0 || c == 0xC0 || c == 0xC2 || c == 0xC3)
            ;
        else
        if (c <= 0x8F)
            items = 2 * (uint64_t) (c & 0x0F);
        else
        if (c <= 0x9F)
            items = c & 0x0F;
        else
        if (c <= 0xBF)
            skip = c & 0x1F;
        else
        switch (c) {
            case 0xC4: len_bytes = 1; break;                //  bin
            case 0xC5: len_bytes = 2; break;
            case 0xC6: len_bytes = 4; break;
            case 0xC7: len_bytes = 1; extra = 1; break;     //  ext
            case 0xC8: len_bytes = 2; extra = 1; break;
            case 0xC9: len_bytes = 4; extra = 1; break;
            case 0xCA: skip = 4; break;                     //  float
            case 0xCB: skip = 8; break;
            case 0xCC: case 0xD0: skip = 1; break;          //  ints
            case 0xCD: case 0xD1: skip = 2; break;
            case 0xCE: case 0xD2: skip = 4; break;
            case 0xCF: case 0xD3: skip = 8; break;
            case 0xD4: skip = 2; break;                     //  fixext
            case 0xD5: skip = 3; break;
            case 0xD6: skip = 5; break;
            case 0xD7: skip = 9; break;
            case 0xD8: skip = 17; break;
            case 0xD9: len_bytes = 1; break;                //  str
            case 0xDA: len_bytes = 2; break;
            case 0xDB: len_bytes = 4; break;
            case 0xDC: len_bytes = 2; kind = 1; break;      //  array
            case 0xDD: len_bytes = 4; kind = 1; break;
            case 0xDE: len_bytes = 2; kind = 2; break;      //  map
            case 0xDF: len_bytes = 4; kind = 2; break;
            default:   return -1;                           //  0xC1, never used
        }
        if (len_bytes) {
            if (len_bytes > size - pos)
                return -1;
            uint64_t n = s_be (data + pos, len_bytes);
            pos += len_bytes;
            if (kind == 0)
                skip = n + extra;
            else
                items = kind == 2? 2 * n: n;
        }
        if (skip > size - pos)
            return -1;
        pos += (size_t) skip;
        if (items > size - pos || pending + items > size - pos)
            return -1;
        pending += items;
    }
    return pos == size? 0: -1;
}

//  True when a msgpack object is the string key.
static bool
s_key_is (const msgpack_object *key, const char *name)
{
    size_t len = strlen (name);
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == len
        && memcmp (key->via.str.ptr, name, len) == 0;
}

//  Fills meta from a decoded map, checking key and value types; a known
//  key may appear once. Returns 0 or -1.
static int
s_meta_fill (const msgpack_object *map, zch_meta_t *meta)
{
    unsigned seen = 0;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr [i].key;
        const msgpack_object *val = &map->via.map.ptr [i].val;
        if (key->type != MSGPACK_OBJECT_STR)
            return -1;
        unsigned bit = 0;
        if (s_key_is (key, "v") || s_key_is (key, "seq") || s_key_is (key, "ts")) {
            if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return -1;
            bit = s_key_is (key, "v")? S_KEY_V: s_key_is (key, "seq")? S_KEY_SEQ: S_KEY_TS;
            if (bit == S_KEY_SEQ) {
                meta->has_seq = true;
                meta->seq = val->via.u64;
            }
            else
            if (bit == S_KEY_TS) {
                meta->has_ts = true;
                meta->ts = val->via.u64;
            }
        }
        else
        if (s_key_is (key, "src") || s_key_is (key, "ct")) {
            if (val->type != MSGPACK_OBJECT_STR)
                return -1;
            bit = s_key_is (key, "src")? S_KEY_SRC: S_KEY_CT;
            if (bit == S_KEY_SRC) {
                meta->src = val->via.str.ptr;
                meta->src_len = val->via.str.size;
            }
            else {
                meta->ct = val->via.str.ptr;
                meta->ct_len = val->via.str.size;
            }
        }
        else
        if (s_key_is (key, "h")) {
            if (val->type != MSGPACK_OBJECT_MAP)
                return -1;
            for (uint32_t j = 0; j < val->via.map.size; j++)
                if (val->via.map.ptr [j].key.type != MSGPACK_OBJECT_STR
                ||  val->via.map.ptr [j].val.type != MSGPACK_OBJECT_STR)
                    return -1;
            bit = S_KEY_H;
        }
        if (seen & bit)
            return -1;
        seen |= bit;
    }
    return 0;
}

//  Decodes and checks a meta frame into objects allocated in zone, which
//  the caller has initialised and destroys. Returns 0 or -1.
static int
s_meta_unpack (const uint8_t *data, size_t size, msgpack_zone *zone,
               msgpack_object *obj, zch_meta_t *meta)
{
    memset (meta, 0, sizeof *meta);
    if (!data || size == 0 || size > ZCH_META_MAX)
        return -1;
    //  a map: fixmap, map16 or map32
    if (!((data [0] >= 0x80 && data [0] <= 0x8F) || data [0] == 0xDE || data [0] == 0xDF))
        return -1;
    if (s_msgpack_check (data, size))
        return -1;
    size_t off = 0;
    if (msgpack_unpack ((const char *) data, size, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS
    ||  off != size || obj->type != MSGPACK_OBJECT_MAP)
        return -1;
    if (s_meta_fill (obj, meta)) {
        memset (meta, 0, sizeof *meta);
        return -1;
    }
    return 0;
}

//  Decodes a meta frame; strings in meta point into data.
int
zch_meta_decode (const uint8_t *data, size_t size, zch_meta_t *meta)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, S_ZONE_CHUNK)) {
        memset (meta, 0, sizeof *meta);
        return -1;
    }
    msgpack_object obj;
    int rc = s_meta_unpack (data, size, &zone, &obj, meta);
    msgpack_zone_destroy (&zone);
    return rc;
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

//  Encodes a fresh meta {v, seq, ts, src?}; 0 if it does not fit out_cap
//  or ZCH_META_MAX.
size_t
zch_meta_encode (uint64_t seq, uint64_t ts, const char *src, size_t src_len,
                 uint8_t *out, size_t out_cap)
{
    if (!out || (src && src_len > UINT32_MAX))
        return 0;
    s_out_t buf = { out, out_cap < ZCH_META_MAX? out_cap: ZCH_META_MAX, 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, s_out_write);
    int rc = msgpack_pack_map (&pk, src? 4: 3)
          || s_pack_key (&pk, "v")   || msgpack_pack_uint64 (&pk, ZCH_META_VERSION)
          || s_pack_key (&pk, "seq") || msgpack_pack_uint64 (&pk, seq)
          || s_pack_key (&pk, "ts")  || msgpack_pack_uint64 (&pk, ts);
    if (!rc && src)
        rc = s_pack_key (&pk, "src")
          || msgpack_pack_str (&pk, src_len) || msgpack_pack_str_body (&pk, src, src_len);
    return rc? 0: buf.size;
}

//  True for the keys zch_meta_stamp writes itself.
static bool
s_key_stamped (const msgpack_object *key)
{
    return s_key_is (key, "v") || s_key_is (key, "seq") || s_key_is (key, "ts");
}

//  The h replacement a stamp writes: none (keep the producer's h), or
//  count headers (count 0: no h at all).
typedef struct {
    bool replace;
    const zch_header_t *headers;
    size_t count;
} s_h_t;

//  Packs the stamped map: v, seq, ts, then the other keys of the decoded
//  input map in their order (h replaced when h->replace). Returns the size
//  written, or 0.
static size_t
s_meta_pack_stamped (const msgpack_object *map, const zch_meta_t *meta,
                     uint64_t seq, uint64_t ts, const s_h_t *h, uint8_t *out, size_t out_cap)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (!s_key_stamped (&map->via.map.ptr [i].key)
        &&  !(h->replace && s_key_is (&map->via.map.ptr [i].key, "h")))
            kept++;
    if (h->replace && h->count > 0)
        kept++;
    s_out_t buf = { out, out_cap < ZCH_META_MAX? out_cap: ZCH_META_MAX, 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, s_out_write);
    int rc = msgpack_pack_map (&pk, 3 + kept)
          || s_pack_key (&pk, "v")   || msgpack_pack_uint64 (&pk, ZCH_META_VERSION)
          || s_pack_key (&pk, "seq") || msgpack_pack_uint64 (&pk, seq)
          || s_pack_key (&pk, "ts")  || msgpack_pack_uint64 (&pk, meta->has_ts? meta->ts: ts);
    for (uint32_t i = 0; !rc && i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (!s_key_stamped (&kv->key) && !(h->replace && s_key_is (&kv->key, "h")))
            rc = msgpack_pack_object (&pk, kv->key) || msgpack_pack_object (&pk, kv->val);
    }
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
    return rc? 0: buf.size;
}

//  Decodes in (NULL: an empty map) and packs it stamped; 0 on failure.
static size_t
s_meta_restamp (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                const s_h_t *h, uint8_t *out, size_t out_cap)
{
    static const uint8_t empty_map [] = { 0x80 };
    if (!in) {
        in = empty_map;
        in_size = sizeof empty_map;
    }
    msgpack_zone zone;
    if (!out || !msgpack_zone_init (&zone, S_ZONE_CHUNK))
        return 0;
    size_t written = 0;
    msgpack_object map;
    zch_meta_t meta;
    if (s_meta_unpack (in, in_size, &zone, &map, &meta) == 0)
        written = s_meta_pack_stamped (&map, &meta, seq, ts, h, out, out_cap);
    msgpack_zone_destroy (&zone);
    return written;
}

//  Re-encodes a producer's meta with v and seq set, ts kept or set, and
//  every other key kept in its order; 0 if in is malformed or the result
//  does not fit out_cap or ZCH_META_MAX.
size_t
zch_meta_stamp (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                uint8_t *out, size_t out_cap)
{
    if (!in)
        return zch_meta_encode (seq, ts, NULL, 0, out, out_cap);
    s_h_t h = { false, NULL, 0 };
    return s_meta_restamp (in, in_size, seq, ts, &h, out, out_cap);
}

//  zch_meta_stamp with the h map replaced: for plugins that change headers.
size_t
zch_meta_stamp_headers (const uint8_t *in, size_t in_size, uint64_t seq, uint64_t ts,
                        const zch_header_t *headers, size_t count,
                        uint8_t *out, size_t out_cap)
{
    if (count > UINT32_MAX || (count && !headers))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (headers [i].key_len > UINT32_MAX || headers [i].value_len > UINT32_MAX)
            return 0;
    s_h_t h = { true, headers, count };
    return s_meta_restamp (in, in_size, seq, ts, &h, out, out_cap);
}

//  Reads the h map of a valid meta into views over data.
int
zch_meta_headers (const uint8_t *data, size_t size, zch_header_t *headers, size_t cap)
{
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, S_ZONE_CHUNK))
        return -1;
    int count = -1;
    msgpack_object map;
    zch_meta_t meta;
    if (s_meta_unpack (data, size, &zone, &map, &meta) == 0) {
        count = 0;
        for (uint32_t i = 0; i < map.via.map.size; i++) {
            const msgpack_object_kv *kv = &map.via.map.ptr [i];
            if (!s_key_is (&kv->key, "h"))
                continue;
            if (kv->val.via.map.size > cap) {
                count = -1;
                break;
            }
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                const msgpack_object_kv *header = &kv->val.via.map.ptr [j];
                headers [j] = (zch_header_t) {
                    header->key.via.str.ptr, header->key.via.str.size,
                    header->val.via.str.ptr, header->val.via.str.size
                };
            }
            count = (int) kv->val.via.map.size;
        }
    }
    msgpack_zone_destroy (&zone);
    return count;
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
