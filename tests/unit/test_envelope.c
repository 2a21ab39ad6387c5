/*  Unit tests of zch_envelope: envelope forms and the meta codec.          */
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_internal.h"
#include "zch_topic.h"
#include "zch_check.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

//  A frame over a C string.
static zch_frame_t
s_frame (const char *text)
{
    return (zch_frame_t) { (const uint8_t *) text, strlen (text) };
}

//  True when reason is the expected text.
static int
s_is (const char *reason, const char *expected)
{
    return reason && strcmp (reason, expected) == 0;
}

//  Packs a string into a test map.
static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

//  The three forms and how each one's payload is located.
static void
s_test_forms (void)
{
    zch_envelope_view_t view;
    const char *why = NULL;
    uint8_t meta [64];
    size_t meta_size = zch_meta_encode (7, 1000, 5, "me", 2, meta, sizeof meta);
    CHECK (meta_size > 0);

    zch_frame_t three [3] = { s_frame ("a.b"), { meta, meta_size }, s_frame ("xyz") };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == 0);
    CHECK_VIEW (view.topic, view.topic_len, "a.b");
    CHECK (view.meta == meta && view.meta_size == meta_size);
    CHECK (view.payload_frame == 2 && view.payload_offset == 0 && view.payload_size == 3);
    three [2] = (zch_frame_t) { NULL, 0 };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == 0);
    CHECK (view.payload_frame == 2 && view.payload_size == 0);

    zch_frame_t two [2] = { s_frame ("a.b"), s_frame ("hello world") };
    CHECK (zch_envelope_parse (two, 2, &view, &why) == 0);
    CHECK_VIEW (view.topic, view.topic_len, "a.b");
    CHECK (view.meta == NULL && view.meta_size == 0);
    CHECK (view.payload_frame == 1 && view.payload_offset == 0 && view.payload_size == 11);
    two [1] = (zch_frame_t) { NULL, 0 };
    CHECK (zch_envelope_parse (two, 2, &view, &why) == 0 && view.payload_size == 0);

    zch_frame_t one = s_frame ("a.b hello world");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == 0);
    CHECK_VIEW (view.topic, view.topic_len, "a.b");
    CHECK (view.meta == NULL);
    CHECK (view.payload_frame == 0 && view.payload_offset == 4 && view.payload_size == 11);
    CHECK (memcmp (one.data + view.payload_offset, "hello world", 11) == 0);
    one = s_frame ("t ");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == 0);
    CHECK (view.topic_len == 1 && view.payload_offset == 2 && view.payload_size == 0);
    one = s_frame ("t  two");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == 0);
    CHECK (view.payload_offset == 2 && view.payload_size == 4);

    //  a 255-byte topic fits in the single-frame form; 256 does not
    char big [400];
    memset (big, 'a', sizeof big);
    big [255] = ' ';
    one = (zch_frame_t) { (const uint8_t *) big, sizeof big };
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == 0);
    CHECK (view.topic_len == 255 && view.payload_size == sizeof big - 256);
    big [255] = 'a';
    big [256] = ' ';
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1 && s_is (why, "topic too long"));
    big [256] = 'a';
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1 && s_is (why, "topic too long"));
    //  a 256-byte topic frame in the two-frame form
    zch_frame_t long_two [2] = { { (const uint8_t *) big, 256 }, s_frame ("x") };
    CHECK (zch_envelope_parse (long_two, 2, &view, &why) == -1 && s_is (why, "topic too long"));
    long_two [0].size = 255;
    CHECK (zch_envelope_parse (long_two, 2, &view, &why) == 0);
}

//  Malformed multiparts: each with its reason, and the view cleared.
static void
s_test_malformed (void)
{
    zch_envelope_view_t view;
    const char *why = NULL;
    zch_frame_t frames [4] = { s_frame ("a"), s_frame ("b"), s_frame ("c"), s_frame ("d") };
    CHECK (zch_envelope_parse (frames, 0, &view, &why) == -1 && s_is (why, "wrong frame count"));
    CHECK (zch_envelope_parse (frames, 4, &view, &why) == -1 && s_is (why, "wrong frame count"));
    CHECK (zch_envelope_parse (NULL, 1, &view, &why) == -1 && s_is (why, "wrong frame count"));
    CHECK (zch_envelope_parse (frames, 4, &view, NULL) == -1);     //  reason optional

    zch_frame_t one = s_frame ("topic");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1);
    CHECK (s_is (why, "no space in single-frame message"));
    one = (zch_frame_t) { NULL, 0 };
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1);
    CHECK (s_is (why, "no space in single-frame message"));
    one = s_frame (" payload");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1 && s_is (why, "empty topic"));
    one = s_frame ("$ack.1 x");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1 && s_is (why, "reserved topic"));
    one = s_frame ("a.* x");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1 && s_is (why, "wildcard in topic"));
    one = s_frame ("a\tb x");
    CHECK (zch_envelope_parse (&one, 1, &view, &why) == -1);
    CHECK (s_is (why, "space or control character in topic"));

    zch_frame_t two [2] = { { NULL, 0 }, s_frame ("x") };
    CHECK (zch_envelope_parse (two, 2, &view, &why) == -1 && s_is (why, "empty topic"));
    two [0] = s_frame ("a b");
    CHECK (zch_envelope_parse (two, 2, &view, &why) == -1);
    CHECK (s_is (why, "space or control character in topic"));
    two [0] = s_frame ("a..b");
    CHECK (zch_envelope_parse (two, 2, &view, &why) == -1 && s_is (why, "empty token in topic"));
    two [0] = s_frame ("\xc0\x80");
    CHECK (zch_envelope_parse (two, 2, &view, &why) == -1 && s_is (why, "invalid utf-8 in topic"));
    two [0] = s_frame ("$ack.7");
    CHECK (zch_envelope_parse (two, 2, &view, &why) == -1 && s_is (why, "reserved topic"));
    CHECK (view.topic == NULL && view.topic_len == 0 && view.payload_size == 0);

    zch_frame_t three [3] = { s_frame ("a"), s_frame ("not msgpack map"), s_frame ("x") };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == -1 && s_is (why, "malformed meta"));
    three [1] = (zch_frame_t) { NULL, 0 };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == -1 && s_is (why, "malformed meta"));
    static const uint8_t truncated [] = { 0x81, 0xa3, 's', 'e' };
    three [1] = (zch_frame_t) { truncated, sizeof truncated };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == -1 && s_is (why, "malformed meta"));
    CHECK (view.meta == NULL);
    static const uint8_t empty_map [] = { 0x80 };
    three [1] = (zch_frame_t) { empty_map, 1 };
    CHECK (zch_envelope_parse (three, 3, &view, &why) == 0);
}

//  Decodes hand-written bytes; returns the return code.
static int
s_decode (const void *bytes, size_t size, zch_meta_t *meta)
{
    return zch_meta_decode ((const uint8_t *) bytes, size, meta);
}

#define S_DECODE(meta, ...) \
    s_decode ((const uint8_t []) { __VA_ARGS__ }, sizeof ((const uint8_t []) { __VA_ARGS__ }), (meta))

//  Accepted meta maps: known keys, integer encodings, unknown keys.
static void
s_test_meta_valid (void)
{
    zch_meta_t meta;
    uint8_t buf [ZCH_META_MAX];
    size_t size = zch_meta_encode (42, 1700000000123456789ULL, 5, "src-1", 5, buf, sizeof buf);
    CHECK (size > 0);
    CHECK (zch_meta_decode (buf, size, &meta) == 0);
    CHECK (meta.has_seq && meta.seq == 42);
    CHECK (meta.has_ts && meta.ts == 1700000000123456789ULL);
    CHECK_VIEW (meta.src, meta.src_len, "src-1");
    CHECK (meta.src > (const char *) buf && meta.src < (const char *) buf + size);
    CHECK (meta.ct == NULL && meta.ct_len == 0);

    CHECK (S_DECODE (&meta, 0x80) == 0);                           //  {}
    CHECK (!meta.has_seq && !meta.has_ts && !meta.src && !meta.ct);
    //  {"seq": uint8 200}, uint16, uint32, uint64 max, and a
    //  non-negative int8 (msgpack-c reads it as an unsigned integer)
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xcc, 200) == 0 && meta.seq == 200);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xcd, 1, 0) == 0 && meta.seq == 256);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xce, 1, 0, 0, 0) == 0 && meta.seq == 1u << 24);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xcf, 0xff, 0xff, 0xff, 0xff,
                     0xff, 0xff, 0xff, 0xff) == 0 && meta.seq == UINT64_MAX);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xd0, 5) == 0 && meta.seq == 5);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0x00) == 0 && meta.has_seq && meta.seq == 0);
    //  {"ct": "text/plain", "h": {"k": "v"}, "v": 1}
    //  (decoded outside CHECK: the views must outlive the bytes' block)
    int rc = S_DECODE (&meta, 0x83, 0xa2, 'c', 't', 0xaa, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n',
                       0xa1, 'h', 0x81, 0xa1, 'k', 0xa1, 'v', 0xa1, 'v', 0x01);
    CHECK (rc == 0);
    CHECK_VIEW (meta.ct, meta.ct_len, "text/plain");
    //  str8 / str16 keys and values; map16 at the top
    rc = S_DECODE (&meta, 0xde, 0, 1, 0xd9, 3, 's', 'r', 'c', 0xda, 0, 2, 'o', 'k');
    CHECK (rc == 0);
    CHECK_VIEW (meta.src, meta.src_len, "ok");
    //  empty src, empty h
    CHECK (S_DECODE (&meta, 0x82, 0xa3, 's', 'r', 'c', 0xa0, 0xa1, 'h', 0x80) == 0);
    CHECK (meta.src != NULL && meta.src_len == 0);

    //  unknown keys of every type are accepted and ignored, also twice
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 10);
    s_pack_str (&pk, "nil");   msgpack_pack_nil (&pk);
    s_pack_str (&pk, "bool");  msgpack_pack_true (&pk);
    s_pack_str (&pk, "neg");   msgpack_pack_int64 (&pk, -5);
    s_pack_str (&pk, "f32");   msgpack_pack_float (&pk, 1.5f);
    s_pack_str (&pk, "f64");   msgpack_pack_double (&pk, 2.5);
    s_pack_str (&pk, "bin");   msgpack_pack_bin (&pk, 2); msgpack_pack_bin_body (&pk, "\0\1", 2);
    s_pack_str (&pk, "ext");   msgpack_pack_ext (&pk, 3, 7); msgpack_pack_ext_body (&pk, "abc", 3);
    s_pack_str (&pk, "arr");   msgpack_pack_array (&pk, 2); msgpack_pack_int (&pk, 1); msgpack_pack_nil (&pk);
    s_pack_str (&pk, "map");   msgpack_pack_map (&pk, 1); msgpack_pack_int (&pk, 1); msgpack_pack_int (&pk, 2);
    s_pack_str (&pk, "nil");   msgpack_pack_false (&pk);
    CHECK (zch_meta_decode ((const uint8_t *) sb.data, sb.size, &meta) == 0);
    CHECK (!meta.has_seq && !meta.has_ts);
    msgpack_sbuffer_destroy (&sb);

    //  nesting within msgpack-c's depth limit
    uint8_t deep [64];
    size_t n = 0;
    deep [n++] = 0x81;
    deep [n++] = 0xa1;
    deep [n++] = 'x';
    for (int i = 0; i < 20; i++)
        deep [n++] = 0x91;
    deep [n++] = 0xc0;
    CHECK (zch_meta_decode (deep, n, &meta) == 0);
}

//  Rejected meta frames: shape, truncation, trailing bytes, types, sizes,
//  and headers that claim more than the frame holds.
static void
s_test_meta_malformed (void)
{
    zch_meta_t meta;
    CHECK (zch_meta_decode (NULL, 0, &meta) == -1);
    CHECK (zch_meta_decode ((const uint8_t *) "", 0, &meta) == -1);
    //  not a map
    CHECK (S_DECODE (&meta, 0x90) == -1);
    CHECK (S_DECODE (&meta, 0x01) == -1);
    CHECK (S_DECODE (&meta, 0xc0) == -1);
    CHECK (S_DECODE (&meta, 0xa1, 'x') == -1);
    CHECK (S_DECODE (&meta, 0xc1) == -1);
    //  trailing bytes after the map
    CHECK (S_DECODE (&meta, 0x80, 0xc0) == -1);
    CHECK (S_DECODE (&meta, 0x80, 0x80) == -1);
    //  non-string keys
    CHECK (S_DECODE (&meta, 0x81, 0x01, 0x02) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xc4, 1, 'v', 0x01) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xc0, 0x01) == -1);
    //  known keys with the wrong types
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xa1, '1') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xff) == -1);                  //  -1
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xd0, 0x80) == -1);            //  int8 -128
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xcb, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'e', 'q', 0xc0) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa2, 't', 's', 0xc3) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'v', 0xa1, '1') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'r', 'c', 0x01) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa3, 's', 'r', 'c', 0xc4, 1, 'x') == -1);          //  bin, not str
    CHECK (S_DECODE (&meta, 0x81, 0xa2, 'c', 't', 0xc0) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'h', 0x90) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'h', 0xa1, 'x') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'h', 0x81, 0xa1, 'k', 0x01) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'h', 0x81, 0x01, 0xa1, 'v') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'h', 0x81, 0xa1, 'k', 0xc4, 1, 'v') == -1);
    //  a known key twice
    CHECK (S_DECODE (&meta, 0x82, 0xa3, 's', 'e', 'q', 0x01, 0xa3, 's', 'e', 'q', 0x02) == -1);
    CHECK (S_DECODE (&meta, 0x82, 0xa3, 's', 'r', 'c', 0xa0, 0xa3, 's', 'r', 'c', 0xa0) == -1);
    //  headers claiming more than there is: none may cause a large allocation
    CHECK (S_DECODE (&meta, 0xdf, 0xff, 0xff, 0xff, 0xff) == -1);
    CHECK (S_DECODE (&meta, 0xde, 0xff, 0xff) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xdb, 0xff, 0xff, 0xff, 0xff, 'a') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xc6, 0xff, 0xff, 0xff, 0xff, 'a') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xc9, 0xff, 0xff, 0xff, 0xff, 1, 'a') == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0x9f, 1, 2, 3) == -1);
    CHECK (S_DECODE (&meta, 0x8f) == -1);
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xd8, 1) == -1);                         //  fixext16, short
    CHECK (S_DECODE (&meta, 0x81, 0xa1, 'x', 0xcf, 1, 2) == -1);                      //  uint64, short

    //  every strict prefix of a valid meta is rejected
    uint8_t buf [ZCH_META_MAX];
    size_t size = zch_meta_encode (9, 99, 5, "abc", 3, buf, sizeof buf);
    int ok = 1;
    for (size_t cut = 0; cut < size; cut++)
        ok &= zch_meta_decode (buf, cut, &meta) == -1;
    CHECK (ok);

    //  nesting deeper than msgpack-c's stack (32)
    uint8_t deep [128];
    size_t n = 0;
    deep [n++] = 0x81;
    deep [n++] = 0xa1;
    deep [n++] = 'x';
    for (int i = 0; i < 100; i++)
        deep [n++] = 0x91;
    deep [n++] = 0xc0;
    CHECK (zch_meta_decode (deep, n, &meta) == -1);

    //  exactly ZCH_META_MAX bytes is accepted, one more is not:
    //  {"pad": bin32 of n bytes} takes 1 + 4 + 5 + n bytes
    static uint8_t big [ZCH_META_MAX + 1];
    size_t pad = ZCH_META_MAX - 10;
    memcpy (big, "\x81\xa3pad\xc6", 6);
    big [6] = 0;
    big [7] = 0;
    big [8] = (uint8_t) (pad >> 8);
    big [9] = (uint8_t) pad;
    CHECK (zch_meta_decode (big, ZCH_META_MAX, &meta) == 0);
    pad++;
    big [8] = (uint8_t) (pad >> 8);
    big [9] = (uint8_t) pad;
    CHECK (zch_meta_decode (big, ZCH_META_MAX + 1, &meta) == -1);
}

//  The broker's in-place stamp: only for the fixed layout, and then
//  exactly what zch_meta_stamp writes.
static void
s_test_meta_stamp_in_place (void)
{
    uint8_t meta [128], stamped [128];
    zch_meta_t decoded;
    const char *srcs [] = { NULL, "", "tcp:127.0.0.1:40000#7",
                            "a source name that needs a str8 header, over 31 bytes" };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs [0]; i++) {
        const char *src = srcs [i];
        size_t size = zch_meta_encode (0, 777, 5, src, src? strlen (src): 0, meta, sizeof meta);
        CHECK (size > 0);
        size_t expected = zch_meta_stamp (meta, size, 41, 999, 5, stamped, sizeof stamped);
        CHECK (zch_meta_stamp_in_place (meta, size, 41, 5));
        CHECK (expected == size && memcmp (meta, stamped, size) == 0);
        CHECK (zch_meta_decode (meta, size, &decoded) == 0 && decoded.seq == 41 && decoded.ts == 777);
        CHECK (decoded.has_epoch && decoded.epoch == 5);
        CHECK ((decoded.src != NULL) == (src != NULL));
        if (src)
            CHECK (decoded.src_len == strlen (src) && memcmp (decoded.src, src, decoded.src_len) == 0);
        //  one byte short or one too many: not the fixed layout, and malformed
        meta [size] = 0;
        CHECK (!zch_meta_stamp_in_place (meta, size + 1, 1, 5));
        CHECK (zch_meta_decode (meta, size + 1, &decoded) == -1);
        CHECK (!zch_meta_stamp_in_place (meta, size - 1, 1, 5));
        CHECK (zch_meta_decode (meta, size - 1, &decoded) == -1);
    }
    //  minimal integers (any msgpack writer's choice) and other keys are
    //  valid but not the fixed layout: left alone, and stamped by a copy
    static const uint8_t minimal [] = { 0x83, 0xa1, 'v', 1, 0xa3, 's', 'e', 'q', 5, 0xa2, 't', 's', 7 };
    uint8_t copy [sizeof minimal];
    memcpy (copy, minimal, sizeof minimal);
    CHECK (zch_meta_decode (copy, sizeof copy, &decoded) == 0 && decoded.seq == 5);
    CHECK (!zch_meta_stamp_in_place (copy, sizeof copy, 9, 5) && memcmp (copy, minimal, sizeof copy) == 0);
    size_t size = zch_meta_encode (3, 4, 5, "p", 1, meta, sizeof meta);
    meta [0] = 0x86;            //  a sixth pair after src
    static const uint8_t ct [] = { 0xa2, 'c', 't', 0xa1, 'x' };
    memcpy (meta + size, ct, sizeof ct);
    CHECK (zch_meta_decode (meta, size + 5, &decoded) == 0 && decoded.ct_len == 1);
    CHECK (!zch_meta_stamp_in_place (meta, size + 5, 9, 5));
    //  a src written as str16 is read by the full walk
    static const uint8_t str16 [] = {
        0x85, 0xa1, 'v', 1, 0xa3, 's', 'e', 'q', 0xcf, 0, 0, 0, 0, 0, 0, 0, 1,
        0xa2, 't', 's', 0xcf, 0, 0, 0, 0, 0, 0, 0, 2, 0xa2, 'e', 'p', 0xcf, 0, 0, 0, 0, 0, 0, 0, 3,
        0xa3, 's', 'r', 'c', 0xda, 0, 1, 'z'
    };
    memcpy (meta, str16, sizeof str16);
    CHECK (!zch_meta_stamp_in_place (meta, sizeof str16, 9, 5));
    CHECK (zch_meta_decode (meta, sizeof str16, &decoded) == 0 && decoded.seq == 1);
    CHECK_VIEW (decoded.src, decoded.src_len, "z");
}

//  A confirm request: added to zchannel's own metas, read back, and taken
//  out by any stamp (consumers never see it).
static void
s_test_meta_confirm (void)
{
    uint8_t meta [ZCH_META_MAX], stamped [ZCH_META_MAX];
    zch_meta_t decoded;
    size_t size = zch_meta_encode (0, 7, 0, "src", 3, meta, sizeof meta);
    size_t with = zch_meta_add_confirm (meta, size, sizeof meta, "cf.1.2.3", 8, 99);
    CHECK (with == size + 3 + 1 + 8 + 3 + 9);
    CHECK (zch_meta_decode (meta, with, &decoded) == 0);
    CHECK (decoded.has_confirm && decoded.confirm == 99 && decoded.ts == 7);
    CHECK_VIEW (decoded.confirm_route, decoded.confirm_route_len, "cf.1.2.3");
    CHECK_VIEW (decoded.src, decoded.src_len, "src");
    CHECK (!zch_meta_stamp_in_place (meta, with, 1, 5));      //  not the fixed layout any more
    size_t out = zch_meta_stamp (meta, with, 12, 1, 5, stamped, sizeof stamped);
    CHECK (out == size && zch_meta_decode (stamped, out, &decoded) == 0);
    CHECK (!decoded.has_confirm && !decoded.confirm_route && decoded.seq == 12 && decoded.epoch == 5);
    //  refused: no room, an empty or too long route, not a fixmap
    CHECK (zch_meta_add_confirm (meta, size, with - 1, "cf.1.2.3", 8, 1) == 0);
    CHECK (zch_meta_add_confirm (meta, size, sizeof meta, "", 0, 1) == 0);
    CHECK (zch_meta_add_confirm (meta, size, sizeof meta, "0123456789abcdef0123456789abcdef", 32, 1) == 0);
    static uint8_t map16 [] = { 0xde, 0, 0 };
    CHECK (zch_meta_add_confirm (map16, sizeof map16, sizeof map16 + 64, "cf", 2, 1) == 0);
    //  a route over 31 bytes, or of another type, is malformed
    CHECK (S_DECODE (&decoded, 0x81, 0xa2, 'c', 'f', 0x01) == -1);
    CHECK (S_DECODE (&decoded, 0x81, 0xa2, 'c', 'n', 0xa1, 'x') == -1);
}

//  Epochs as text, and positions "<seq>@<epoch>".
static void
s_test_epoch_text (void)
{
    char text [ZCH_EPOCH_TEXT_MAX + 1];
    uint64_t epoch, seq;
    CHECK (zch_epoch_format (1, text) == 1 && strcmp (text, "1") == 0);
    CHECK (zch_epoch_format (36, text) == 2 && strcmp (text, "10") == 0);
    CHECK (zch_epoch_format (UINT64_MAX, text) == ZCH_EPOCH_TEXT_MAX && strcmp (text, "3w5e11264sgsf") == 0);
    CHECK (zch_epoch_parse (text, strlen (text), &epoch) == 0 && epoch == UINT64_MAX);
    CHECK (zch_epoch_parse ("3W5E11264SGSF", 13, &epoch) == 0 && epoch == UINT64_MAX);
    CHECK (zch_epoch_parse ("3w5e11264sgsg", 13, &epoch) == -1);       //  over 64 bits
    CHECK (zch_epoch_parse ("0", 1, &epoch) == -1);                    //  no epoch is 0
    CHECK (zch_epoch_parse ("", 0, &epoch) == -1);
    CHECK (zch_epoch_parse ("a-b", 3, &epoch) == -1);
    CHECK (zch_epoch_parse ("00000000000001", 14, &epoch) == -1);      //  too long
    for (uint64_t value = 1; value < UINT64_MAX / 7; value = value * 7 + 3) {
        size_t len = zch_epoch_format (value, text);
        CHECK (zch_epoch_parse (text, len, &epoch) == 0 && epoch == value);
    }
    CHECK (zch_position_parse ("12", 2, &seq, &epoch) == 0 && seq == 12 && epoch == 0);
    CHECK (zch_position_parse ("12@zz", 5, &seq, &epoch) == 0 && seq == 12 && epoch == 35 * 36 + 35);
    CHECK (zch_position_parse ("12@", 3, &seq, &epoch) == -1);
    CHECK (zch_position_parse ("@5", 2, &seq, &epoch) == -1);
    CHECK (zch_position_parse ("1x", 2, &seq, &epoch) == -1);
    CHECK (zch_position_parse ("18446744073709551615", 20, &seq, &epoch) == -1);
    CHECK (zch_position_parse ("18446744073709551614", 20, &seq, &epoch) == 0 && seq == UINT64_MAX - 1);
}

//  Encoding into a fixed buffer, and failing cleanly when it is too small.
static void
s_test_meta_encode (void)
{
    uint8_t buf [ZCH_META_MAX];
    zch_meta_t meta;
    size_t size = zch_meta_encode (1, 2, 5, NULL, 0, buf, sizeof buf);
    //  {v:1, seq:1, ts:2, ep:5}, seq, ts and ep as 9-byte uint64s
    static const uint8_t fixed [] = {
        0x84, 0xa1, 'v', 1, 0xa3, 's', 'e', 'q', 0xcf, 0, 0, 0, 0, 0, 0, 0, 1,
        0xa2, 't', 's', 0xcf, 0, 0, 0, 0, 0, 0, 0, 2, 0xa2, 'e', 'p', 0xcf, 0, 0, 0, 0, 0, 0, 0, 5
    };
    CHECK (size == sizeof fixed && memcmp (buf, fixed, size) == 0);
    CHECK (zch_meta_decode (buf, size, &meta) == 0 && meta.seq == 1 && meta.ts == 2 && !meta.src);
    CHECK (meta.has_epoch && meta.epoch == 5);
    //  the layout before epochs, {v, seq, ts}, is read by the full walk
    CHECK (zch_meta_decode (fixed, 29, &meta) == -1);
    uint8_t old [29];
    memcpy (old, fixed, sizeof old);
    old [0] = 0x83;
    CHECK (zch_meta_decode (old, sizeof old, &meta) == 0 && meta.seq == 1 && !meta.has_epoch);
    CHECK (!zch_meta_stamp_in_place (old, sizeof old, 2, 5));
    //  an epoch of another type is malformed
    CHECK (S_DECODE (&meta, 0x81, 0xa2, 'e', 'p', 0xa1, 'x') == -1);
    size = zch_meta_encode (1, 2, 5, "", 0, buf, sizeof buf);
    CHECK (zch_meta_decode (buf, size, &meta) == 0 && meta.src && meta.src_len == 0);

    size = zch_meta_encode (UINT64_MAX, UINT64_MAX, 5, "origin", 6, buf, sizeof buf);
    CHECK (size > 0);
    uint8_t small [64];
    int ok = 1;
    for (size_t cap = 0; cap < size; cap++) {
        memset (small, 0xee, sizeof small);
        ok &= zch_meta_encode (UINT64_MAX, UINT64_MAX, 5, "origin", 6, small, cap) == 0;
        ok &= small [cap] == 0xee;                                  //  nothing past cap
    }
    CHECK (ok);
    CHECK (zch_meta_encode (UINT64_MAX, UINT64_MAX, 5, "origin", 6, small, size) == size);
    CHECK (memcmp (small, buf, size) == 0);

    //  a src that would make the frame larger than ZCH_META_MAX
    static char src [ZCH_META_MAX];
    static uint8_t out [2 * ZCH_META_MAX];
    memset (src, 's', sizeof src);
    CHECK (zch_meta_encode (1, 2, 5, src, sizeof src, out, sizeof out) == 0);
    CHECK (zch_meta_encode (1, 2, 5, src, 100, out, sizeof out) > 100);
}

//  Unpacks a stamped meta for inspection; the caller destroys the zone.
static int
s_unpack (const uint8_t *data, size_t size, msgpack_zone *zone, msgpack_object *obj)
{
    msgpack_zone_init (zone, 2048);
    size_t off = 0;
    return msgpack_unpack ((const char *) data, size, &off, zone, obj) == MSGPACK_UNPACK_SUCCESS
        && off == size && obj->type == MSGPACK_OBJECT_MAP? 0: -1;
}

//  True when the map's i-th key is name.
static int
s_key_at (const msgpack_object *map, uint32_t i, const char *name)
{
    if (i >= map->via.map.size)
        return 0;
    const msgpack_object *key = &map->via.map.ptr [i].key;
    return key->type == MSGPACK_OBJECT_STR
        && key->via.str.size == strlen (name)
        && memcmp (key->via.str.ptr, name, strlen (name)) == 0;
}

//  Stamping: v and seq replaced, ts kept or added, other keys kept in order.
static void
s_test_meta_stamp (void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 7);
    s_pack_str (&pk, "custom"); msgpack_pack_array (&pk, 2); msgpack_pack_int (&pk, -1); msgpack_pack_double (&pk, 0.5);
    s_pack_str (&pk, "seq");    msgpack_pack_uint64 (&pk, 5);
    s_pack_str (&pk, "src");    s_pack_str (&pk, "producer");
    s_pack_str (&pk, "v");      msgpack_pack_uint64 (&pk, 9);
    s_pack_str (&pk, "ts");     msgpack_pack_uint64 (&pk, 77);
    s_pack_str (&pk, "h");      msgpack_pack_map (&pk, 1); s_pack_str (&pk, "a"); s_pack_str (&pk, "b");
    s_pack_str (&pk, "zz");     msgpack_pack_nil (&pk);

    uint8_t out [ZCH_META_MAX];
    size_t size = zch_meta_stamp ((const uint8_t *) sb.data, sb.size, 1234, 999, 5, out, sizeof out);
    CHECK (size > 0);
    zch_meta_t meta;
    CHECK (zch_meta_decode (out, size, &meta) == 0);
    CHECK (meta.seq == 1234 && meta.ts == 77);                      //  ts kept
    CHECK_VIEW (meta.src, meta.src_len, "producer");
    msgpack_zone zone;
    msgpack_object map;
    CHECK (s_unpack (out, size, &zone, &map) == 0);
    CHECK (map.via.map.size == 8);                                  //  no duplicate v or seq
    CHECK (s_key_at (&map, 0, "v") && map.via.map.ptr [0].val.via.u64 == 1);
    CHECK (s_key_at (&map, 1, "seq"));
    CHECK (s_key_at (&map, 2, "ts"));
    CHECK (s_key_at (&map, 3, "ep") && map.via.map.ptr [3].val.via.u64 == 5);
    CHECK (s_key_at (&map, 4, "custom"));
    CHECK (map.via.map.ptr [4].val.type == MSGPACK_OBJECT_ARRAY && map.via.map.ptr [4].val.via.array.size == 2);
    CHECK (map.via.map.ptr [4].val.via.array.ptr [0].via.i64 == -1);
    CHECK (map.via.map.ptr [4].val.via.array.ptr [1].via.f64 == 0.5);
    CHECK (s_key_at (&map, 5, "src"));
    CHECK (s_key_at (&map, 6, "h") && map.via.map.ptr [6].val.type == MSGPACK_OBJECT_MAP);
    CHECK (s_key_at (&map, 7, "zz") && map.via.map.ptr [7].val.type == MSGPACK_OBJECT_NIL);
    msgpack_zone_destroy (&zone);

    //  every cap short of the size fails without writing past it
    int ok = 1;
    static uint8_t small [ZCH_META_MAX + 1];
    for (size_t cap = 0; cap < size; cap++) {
        small [cap] = 0xee;
        ok &= zch_meta_stamp ((const uint8_t *) sb.data, sb.size, 1234, 999, 5, small, cap) == 0;
        ok &= small [cap] == 0xee;
    }
    CHECK (ok);
    CHECK (zch_meta_stamp ((const uint8_t *) sb.data, sb.size, 1234, 999, 5, small, size) == size);
    msgpack_sbuffer_destroy (&sb);

    //  no ts in the input: the given one is used
    static const uint8_t no_ts [] = { 0x81, 0xa3, 's', 'r', 'c', 0xa1, 'p' };
    size = zch_meta_stamp (no_ts, sizeof no_ts, 3, 555, 5, out, sizeof out);
    CHECK (zch_meta_decode (out, size, &meta) == 0 && meta.seq == 3 && meta.ts == 555);
    CHECK_VIEW (meta.src, meta.src_len, "p");
    //  an empty map becomes {v, seq, ts, ep}
    static const uint8_t empty [] = { 0x80 };
    size = zch_meta_stamp (empty, 1, 3, 4, 5, out, sizeof out);
    uint8_t fresh [64];
    CHECK (size > 0 && size == zch_meta_encode (3, 4, 5, NULL, 0, fresh, sizeof fresh));
    CHECK (memcmp (out, fresh, size) == 0);
    //  no meta at all: same as zch_meta_encode without src
    size = zch_meta_stamp (NULL, 0, 3, 4, 5, out, sizeof out);
    CHECK (size > 0 && memcmp (out, fresh, size) == 0);
    //  malformed input
    static const uint8_t bad [] = { 0x81, 0xa3, 's', 'e', 'q', 0xa1, 'x' };
    CHECK (zch_meta_stamp (bad, sizeof bad, 1, 1, 5, out, sizeof out) == 0);
    CHECK (zch_meta_stamp (empty, 0, 1, 1, 5, out, sizeof out) == 0);
    static const uint8_t trailing [] = { 0x80, 0x00 };
    CHECK (zch_meta_stamp (trailing, sizeof trailing, 1, 1, 5, out, sizeof out) == 0);

    //  an input near ZCH_META_MAX whose stamped form would exceed it
    static uint8_t big [ZCH_META_MAX];
    size_t pad = ZCH_META_MAX - 10;
    memcpy (big, "\x81\xa3pad\xc6", 6);
    big [6] = 0;
    big [7] = 0;
    big [8] = (uint8_t) (pad >> 8);
    big [9] = (uint8_t) pad;
    static uint8_t big_out [2 * ZCH_META_MAX];
    CHECK (zch_meta_decode (big, ZCH_META_MAX, &meta) == 0);
    CHECK (zch_meta_stamp (big, ZCH_META_MAX, 1, 1, 5, big_out, sizeof big_out) == 0);
}

//  Headers read from meta, and a stamp that replaces them.
static void
s_test_headers (void)
{
    zch_header_t headers [4];
    uint8_t meta [256], out [256], again [256];
    size_t meta_size = zch_meta_encode (0, 1000, 5, "me", 2, meta, sizeof meta);
    CHECK (zch_meta_headers (meta, meta_size, headers, 4) == 0);

    //  Add two headers: every other key is kept, seq is stamped
    zch_header_t set [2] = { { "ce", 2, "zstd", 4 }, { "k", 1, "", 0 } };
    size_t size = zch_meta_stamp_headers (meta, meta_size, 5, 2000, 5, set, 2, out, sizeof out);
    CHECK (size > 0);
    zch_meta_t decoded;
    CHECK (zch_meta_decode (out, size, &decoded) == 0);
    CHECK (decoded.seq == 5 && decoded.ts == 1000);
    CHECK_VIEW (decoded.src, decoded.src_len, "me");
    CHECK (zch_meta_headers (out, size, headers, 4) == 2);
    CHECK_VIEW (headers [0].key, headers [0].key_len, "ce");
    CHECK_VIEW (headers [0].value, headers [0].value_len, "zstd");
    CHECK_VIEW (headers [1].key, headers [1].key_len, "k");
    CHECK (headers [1].value_len == 0);
    CHECK (zch_meta_headers (out, size, headers, 1) == -1);

    //  Replace them with one: the old h goes, not doubled
    zch_header_t one = { "x", 1, "y", 1 };
    size_t size2 = zch_meta_stamp_headers (out, size, 6, 3000, 5, &one, 1, again, sizeof again);
    CHECK (size2 > 0 && zch_meta_decode (again, size2, &decoded) == 0 && decoded.seq == 6);
    CHECK (zch_meta_headers (again, size2, headers, 4) == 1);
    CHECK_VIEW (headers [0].key, headers [0].key_len, "x");

    //  Plain zch_meta_stamp keeps h as it was
    size2 = zch_meta_stamp (out, size, 7, 3000, 5, again, sizeof again);
    CHECK (size2 > 0 && zch_meta_headers (again, size2, headers, 4) == 2);

    //  Count 0 removes h; no meta at all is an empty map
    size2 = zch_meta_stamp_headers (out, size, 8, 3000, 5, NULL, 0, again, sizeof again);
    CHECK (size2 > 0 && zch_meta_headers (again, size2, headers, 4) == 0);
    size2 = zch_meta_stamp_headers (NULL, 0, 1, 3000, 5, &one, 1, again, sizeof again);
    CHECK (size2 > 0 && zch_meta_decode (again, size2, &decoded) == 0);
    CHECK (decoded.seq == 1 && decoded.ts == 3000);
    CHECK (zch_meta_headers (again, size2, headers, 4) == 1);

    //  Too small an output, malformed input
    CHECK (zch_meta_stamp_headers (meta, meta_size, 1, 1, 5, set, 2, again, 10) == 0);
    uint8_t bad [] = { 0x81, 0xA1, 'h', 0x01 };
    CHECK (zch_meta_stamp_headers (bad, sizeof bad, 1, 1, 5, set, 2, again, sizeof again) == 0);
    CHECK (zch_meta_headers (bad, sizeof bad, headers, 4) == -1);
}

//  The internal envelope: a topic frame and a batch written, read back;
//  every lie in a length or the count refused before anything is used.
static void
s_test_internal (void)
{
    uint8_t topic_frame [ZCH_TOPIC_MAX + ZCH_INTERNAL_HEAD];
    size_t topic_size = zch_internal_topic_write ("bench", 5, topic_frame, sizeof topic_frame);
    CHECK (topic_size == 7 && topic_frame [0] == 0 && topic_frame [1] == ZCH_INTERNAL_VERSION);
    CHECK (zch_internal_topic_write ("bench", 5, topic_frame, 6) == 0);
    unsigned version;
    const char *topic;
    size_t topic_len;
    CHECK (zch_internal_topic (topic_frame, topic_size, &version, &topic, &topic_len) == ZCH_INTERNAL_OK);
    CHECK_VIEW (topic, topic_len, "bench");
    CHECK (version == ZCH_INTERNAL_VERSION);
    //  Another version: told apart from garbage, its topic not given
    uint8_t other [] = { 0, ZCH_INTERNAL_VERSION + 1, 'a' };
    CHECK (zch_internal_topic (other, sizeof other, &version, &topic, &topic_len) == ZCH_INTERNAL_E_VERSION);
    CHECK (version == ZCH_INTERNAL_VERSION + 1 && topic == NULL);
    uint8_t zero [] = { 0, 0, 'a' }, bare [] = { 0, 1 }, plain [] = { 'a', 'b' };
    CHECK (zch_internal_topic (zero, sizeof zero, &version, &topic, &topic_len) == ZCH_INTERNAL_E_FORM);
    CHECK (zch_internal_topic (bare, sizeof bare, &version, &topic, &topic_len) == ZCH_INTERNAL_E_FORM);
    CHECK (zch_internal_topic (plain, sizeof plain, &version, &topic, &topic_len) == ZCH_INTERNAL_E_FORM);

    //  Three messages in one frame, an empty payload among them
    uint8_t meta [64];
    size_t meta_size = zch_meta_encode (7, 1, 5, NULL, 0, meta, sizeof meta);
    const char *payloads [] = { "one", "", "three" };
    uint8_t batch [512];
    size_t size = ZCH_INTERNAL_COUNT_HEAD;
    zch_internal_count_write (batch, 3);
    uint8_t *at = batch + size;
    for (int i = 0; i < 3; i++) {
        size += zch_internal_entry_size (meta_size, strlen (payloads [i]));
        at = zch_internal_entry_write (at, meta, meta_size, (const uint8_t *) payloads [i],
                                       strlen (payloads [i]));
    }
    CHECK ((size_t) (at - batch) == size);
    zch_internal_reader_t reader;
    CHECK (zch_internal_open (&reader, batch, size) == 3);
    const uint8_t *got_meta, *got_payload;
    size_t got_meta_size, got_payload_size;
    for (int i = 0; i < 3; i++) {
        CHECK (zch_internal_next (&reader, &got_meta, &got_meta_size, &got_payload, &got_payload_size));
        CHECK (got_meta_size == meta_size && memcmp (got_meta, meta, meta_size) == 0);
        CHECK (got_payload_size == strlen (payloads [i])
               && memcmp (got_payload, payloads [i], got_payload_size) == 0);
    }
    CHECK (!zch_internal_next (&reader, &got_meta, &got_meta_size, &got_payload, &got_payload_size));

    //  Lies: a count too high or too low, a byte short, a byte over, no count
    zch_internal_count_write (batch, 4);
    CHECK (zch_internal_open (&reader, batch, size) == -1 && reader.left == 0);
    zch_internal_count_write (batch, 2);
    CHECK (zch_internal_open (&reader, batch, size) == -1);
    zch_internal_count_write (batch, 0);
    CHECK (zch_internal_open (&reader, batch, size) == -1);
    zch_internal_count_write (batch, 0xffffffff);
    CHECK (zch_internal_open (&reader, batch, size) == -1);
    zch_internal_count_write (batch, 3);
    CHECK (zch_internal_open (&reader, batch, size - 1) == -1);
    batch [size] = 0;
    CHECK (zch_internal_open (&reader, batch, size + 1) == -1);
    CHECK (zch_internal_open (&reader, batch, 3) == -1);
    CHECK (zch_internal_open (&reader, NULL, 0) == -1);
    //  A payload length that runs past the frame
    batch [ZCH_INTERNAL_COUNT_HEAD + 4 + meta_size] = 0x7f;
    CHECK (zch_internal_open (&reader, batch, size) == -1);
    CHECK (!zch_internal_next (&reader, &got_meta, &got_meta_size, &got_payload, &got_payload_size));
    //  A meta over ZCH_META_MAX, even when the frame holds it
    static uint8_t big [ZCH_META_MAX + 64], big_meta [ZCH_META_MAX + 1];
    zch_internal_count_write (big, 1);
    uint8_t *end = zch_internal_entry_write (big + 4, big_meta, ZCH_META_MAX + 1, NULL, 0);
    CHECK (zch_internal_open (&reader, big, (size_t) (end - big)) == -1);
    end = zch_internal_entry_write (big + 4, big_meta, ZCH_META_MAX, NULL, 0);
    CHECK (zch_internal_open (&reader, big, (size_t) (end - big)) == 1);
}

int
main (void)
{
    s_test_forms ();
    s_test_malformed ();
    s_test_meta_valid ();
    s_test_meta_malformed ();
    s_test_meta_encode ();
    s_test_meta_stamp_in_place ();
    s_test_epoch_text ();
    s_test_meta_confirm ();
    s_test_meta_stamp ();
    s_test_headers ();
    s_test_internal ();
    CHECK_DONE ("test_envelope");
}
