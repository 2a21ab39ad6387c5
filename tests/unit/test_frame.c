/*  Unit tests of zch_frame and zch_mpread: framing in pieces, decoding
    every verb and every malformed shape, encoders round-tripping through
    the decoder and through msgpack-c, headers in meta.                    */
#include "zch_frame.h"
#include "zch_envelope.h"
#include "zch_mpread.h"
#include "zch_check.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

//  Packs with msgpack-c into an sbuffer and prefixes the length, so the
//  decoder is checked against an encoder that is not ours.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
} s_pack_t;

static void
s_pack_init (s_pack_t *self)
{
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
}

static void
s_pack_str (s_pack_t *self, const char *text)
{
    msgpack_pack_str (&self->packer, strlen (text));
    msgpack_pack_str_body (&self->packer, text, strlen (text));
}

//  Decodes what was packed; returns the decoder's result.
static int
s_pack_decode (s_pack_t *self, zch_frame_cmd_t *cmd, const char **code)
{
    const char *reason;
    return zch_frame_decode ((const uint8_t *) self->buffer.data, self->buffer.size,
                             cmd, code, &reason);
}

static void
test_next (void)
{
    uint8_t buf [64] = { 0, 0, 0, 3, 0x91, 0xA2, 'o', 'k', 0, 0, 0 };
    const uint8_t *body;
    size_t body_len, consumed;
    uint32_t declared = 0;
    for (size_t len = 0; len < 7; len++)
        CHECK (zch_frame_next (buf, len, 100, &body, &body_len, &consumed, NULL) == ZCH_FRAME_NEED_MORE);
    CHECK (zch_frame_next (buf, 7, 100, &body, &body_len, &consumed, &declared) == ZCH_FRAME_FOUND);
    CHECK (body == buf + 4 && body_len == 3 && consumed == 7 && declared == 3);
    CHECK (zch_frame_next (buf, 7, 3, &body, &body_len, &consumed, NULL) == ZCH_FRAME_FOUND);
    CHECK (zch_frame_next (buf, 7, 2, &body, &body_len, &consumed, NULL) == ZCH_FRAME_TOO_LONG);
    //  an absurd length is refused with only its four bytes in
    uint8_t huge [4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    CHECK (zch_frame_next (huge, 4, 1 << 20, &body, &body_len, &consumed, &declared) == ZCH_FRAME_TOO_LONG);
    CHECK (declared == 0xFFFFFFFFu);
    //  a zero length is a frame with an empty body (then malformed)
    uint8_t zero [4] = { 0 };
    CHECK (zch_frame_next (zero, 4, 10, &body, &body_len, &consumed, NULL) == ZCH_FRAME_FOUND);
    CHECK (body_len == 0 && consumed == 4);
}

static void
test_decode_client (void)
{
    zch_frame_cmd_t cmd;
    const char *code;
    s_pack_t p;

    //  pub with headers, payload as bin with every byte value
    uint8_t payload [256];
    for (int i = 0; i < 256; i++)
        payload [i] = (uint8_t) i;
    s_pack_init (&p);
    msgpack_pack_array (&p.packer, 4);
    s_pack_str (&p, "pub");
    s_pack_str (&p, "a.b");
    msgpack_pack_bin (&p.packer, sizeof payload);
    msgpack_pack_bin_body (&p.packer, payload, sizeof payload);
    msgpack_pack_map (&p.packer, 2);
    s_pack_str (&p, "k");
    s_pack_str (&p, "v");
    s_pack_str (&p, "x-id");
    s_pack_str (&p, "42");
    CHECK (s_pack_decode (&p, &cmd, &code) == 0);
    CHECK (cmd.verb == ZCH_FRAME_PUB);
    CHECK_VIEW (cmd.topic, cmd.topic_len, "a.b");
    CHECK (cmd.payload_len == 256 && memcmp (cmd.payload, payload, 256) == 0);
    CHECK (cmd.headers && cmd.header_count == 2);
    CHECK (cmd.headers_size == 1 + 2 + 2 + 5 + 3);
    msgpack_sbuffer_destroy (&p.buffer);

    //  pub, payload as str, no headers; and with nil headers
    for (int with_nil = 0; with_nil < 2; with_nil++) {
        s_pack_init (&p);
        msgpack_pack_array (&p.packer, 3 + with_nil);
        s_pack_str (&p, "pub");
        s_pack_str (&p, "t");
        s_pack_str (&p, "");
        if (with_nil)
            msgpack_pack_nil (&p.packer);
        CHECK (s_pack_decode (&p, &cmd, &code) == 0);
        CHECK (cmd.verb == ZCH_FRAME_PUB && cmd.payload_len == 0 && !cmd.headers);
        msgpack_sbuffer_destroy (&p.buffer);
    }

    //  sub with and without options, unsub, ping
    s_pack_init (&p);
    msgpack_pack_array (&p.packer, 3);
    s_pack_str (&p, "sub");
    s_pack_str (&p, "a.>");
    msgpack_pack_map (&p.packer, 1);
    s_pack_str (&p, "from");
    msgpack_pack_uint64 (&p.packer, 12);
    CHECK (s_pack_decode (&p, &cmd, &code) == 0);
    CHECK (cmd.verb == ZCH_FRAME_SUB && cmd.opts && cmd.opt_count == 1);
    CHECK_VIEW (cmd.topic, cmd.topic_len, "a.>");
    msgpack_sbuffer_destroy (&p.buffer);

    uint8_t out [128];
    size_t size = zch_frame_encode_sub (out, sizeof out, true, "x.*", 3);
    const char *reason;
    CHECK (size > 4 && zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0);
    CHECK (cmd.verb == ZCH_FRAME_UNSUB);
    CHECK_VIEW (cmd.topic, cmd.topic_len, "x.*");
    size = zch_frame_encode_sub (out, sizeof out, false, "x", 1);
    CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_SUB);
    CHECK (!cmd.opts);
    CHECK (zch_frame_encode_sub (out, 10, false, "x", 1) == 0);
    size = zch_frame_encode_simple (out, sizeof out, ZCH_FRAME_PING);
    CHECK (size == 4 + 6 && zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0);
    CHECK (cmd.verb == ZCH_FRAME_PING);
}

//  One malformed body and the code it must get.
static void
s_bad (const char *bytes, size_t len, const char *expected)
{
    zch_frame_cmd_t cmd;
    const char *code = NULL, *reason = NULL;
    int rc = zch_frame_decode ((const uint8_t *) bytes, len, &cmd, &code, &reason);
    CHECK (rc == -1);
    CHECK (code && strcmp (code, expected) == 0);
    CHECK (reason && *reason);
    if (rc == 0 || !code || strcmp (code, expected))
        fprintf (stderr, "  case of %zu bytes: got %s\n", len, code? code: "(none)");
}

static void
test_decode_bad (void)
{
    s_bad ("", 0, ZCH_FRAME_E_MALFORMED);
    s_bad ("\xC1", 1, ZCH_FRAME_E_MALFORMED);                   //  never-used byte
    s_bad ("\x91\xA4ping", 5, ZCH_FRAME_E_MALFORMED);           //  truncated
    s_bad ("\x91\xA4ping\x00", 7, ZCH_FRAME_E_MALFORMED);       //  trailing byte
    s_bad ("\xDD\xFF\xFF\xFF\xFF", 5, ZCH_FRAME_E_MALFORMED);   //  count that cannot fit
    s_bad ("\xC6\xFF\xFF\xFF\xFF", 5, ZCH_FRAME_E_MALFORMED);   //  length that cannot fit
    s_bad ("\x90", 1, ZCH_FRAME_E_SHAPE);                       //  empty array
    s_bad ("\x81\xA1k\xA1v", 5, ZCH_FRAME_E_SHAPE);             //  a map
    s_bad ("\xA4ping", 5, ZCH_FRAME_E_SHAPE);                   //  a bare string
    s_bad ("\x91\x01", 2, ZCH_FRAME_E_SHAPE);                   //  verb not a string
    s_bad ("\x91\xC4\x04ping", 7, ZCH_FRAME_E_SHAPE);           //  verb as bin
    s_bad ("\x91\xA4PING", 6, ZCH_FRAME_E_VERB);                //  verbs are lower case
    s_bad ("\x91\xA3pop", 5, ZCH_FRAME_E_VERB);
    s_bad ("\x92\xA4ping\x01", 7, ZCH_FRAME_E_SHAPE);           //  ping takes nothing
    s_bad ("\x92\xA3pub\xA1t", 7, ZCH_FRAME_E_SHAPE);           //  pub without payload
    s_bad ("\x93\xA3pub\x01\xA1x", 8, ZCH_FRAME_E_SHAPE);       //  topic not a string
    s_bad ("\x93\xA3pub\xA1t\x01", 8, ZCH_FRAME_E_SHAPE);       //  payload not bytes
    s_bad ("\x94\xA3pub\xA1t\xA0\x01", 9, ZCH_FRAME_E_SHAPE);   //  headers not a map
    s_bad ("\x94\xA3pub\xA1t\xA0\x81\xA1k\x01", 12, ZCH_FRAME_E_SHAPE);  //  header value not str
    s_bad ("\x94\xA3pub\xA1t\xA0\x81\x01\xA1v", 12, ZCH_FRAME_E_SHAPE);  //  header key not str
    s_bad ("\x95\xA3pub\xA1t\xA0\x80\xC0", 10, ZCH_FRAME_E_SHAPE);       //  too many
    s_bad ("\x91\xA3sub", 5, ZCH_FRAME_E_SHAPE);                //  sub without pattern
    s_bad ("\x93\xA3sub\xA1t\x01", 8, ZCH_FRAME_E_SHAPE);       //  opts not a map
    s_bad ("\x93\xA5unsub\xA1t\xC0", 10, ZCH_FRAME_E_SHAPE);    //  unsub takes one
    s_bad ("\x92\xA3sub\xC4\x01t", 8, ZCH_FRAME_E_SHAPE);       //  pattern as bin

    //  headers over ZCH_HEADERS_MAX
    size_t value_len = ZCH_HEADERS_MAX;
    char *big = malloc (16 + value_len);
    size_t at = 0;
    memcpy (big, "\x94\xA3pub\xA1t\xA0\x81\xA1k\xDA", 12);
    at = 12;
    big [at++] = (char) (value_len >> 8);
    big [at++] = (char) value_len;
    memset (big + at, 'v', value_len);
    s_bad (big, at + value_len, ZCH_FRAME_E_SHAPE);
    free (big);
}

static void
test_encode_round_trip (void)
{
    //  msg with a payload large enough for bin32 and every byte value
    size_t payload_len = 70000;
    uint8_t *payload = malloc (payload_len);
    for (size_t i = 0; i < payload_len; i++)
        payload [i] = (uint8_t) (i * 7);
    const uint8_t headers [] = "\x81\xA1k\xA1v";
    size_t cap = zch_frame_msg_size (3, payload_len, sizeof headers - 1);
    uint8_t *out = malloc (cap);
    size_t size = zch_frame_encode_msg (out, "a.b", 3, 1ull << 40, payload, payload_len,
                                        headers, sizeof headers - 1);
    CHECK (size <= cap);
    const uint8_t *body;
    size_t body_len, consumed;
    CHECK (zch_frame_next (out, size, size, &body, &body_len, &consumed, NULL) == ZCH_FRAME_FOUND);
    CHECK (consumed == size);
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    CHECK (zch_frame_decode (body, body_len, &cmd, &code, &reason) == 0);
    CHECK (cmd.verb == ZCH_FRAME_MSG && cmd.seq == 1ull << 40);
    CHECK (cmd.payload_len == payload_len && memcmp (cmd.payload, payload, payload_len) == 0);
    CHECK (cmd.header_count == 1 && cmd.headers_size == sizeof headers - 1);

    //  msgpack-c reads the same thing
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    CHECK (msgpack_unpack_next (&result, (const char *) body, body_len, NULL) == MSGPACK_UNPACK_SUCCESS);
    CHECK (result.data.type == MSGPACK_OBJECT_ARRAY && result.data.via.array.size == 5);
    if (result.data.type == MSGPACK_OBJECT_ARRAY && result.data.via.array.size == 5) {
        msgpack_object *items = result.data.via.array.ptr;
        CHECK (items [2].type == MSGPACK_OBJECT_POSITIVE_INTEGER && items [2].via.u64 == 1ull << 40);
        CHECK (items [3].type == MSGPACK_OBJECT_BIN && items [3].via.bin.size == payload_len);
        CHECK (items [4].type == MSGPACK_OBJECT_MAP && items [4].via.map.size == 1);
    }
    msgpack_unpacked_destroy (&result);

    //  msg without headers sends an empty map; seq of every width
    uint64_t seqs [] = { 0, 127, 128, 255, 256, 65535, 65536, 0xFFFFFFFFull, 0x100000000ull, UINT64_MAX };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs [0]; i++) {
        size = zch_frame_encode_msg (out, "t", 1, seqs [i], payload, 3, NULL, 0);
        CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0);
        CHECK (cmd.seq == seqs [i] && cmd.headers && cmd.header_count == 0);
    }

    //  pub, with and without headers; payload lengths around each bin width
    size_t lens [] = { 0, 255, 256, 65535, 65536 };
    for (size_t i = 0; i < sizeof lens / sizeof lens [0]; i++)
        for (int with_headers = 0; with_headers < 2; with_headers++) {
            size = zch_frame_encode_pub (out, "x.y", 3, payload, lens [i],
                                         with_headers? headers: NULL, with_headers? sizeof headers - 1: 0);
            CHECK (size <= zch_frame_pub_size (3, lens [i], sizeof headers - 1));
            CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0);
            CHECK (cmd.verb == ZCH_FRAME_PUB && cmd.payload_len == lens [i]);
            CHECK ((cmd.headers != NULL) == with_headers);
        }

    //  simple frames and errors
    size = zch_frame_encode_simple (out, cap, ZCH_FRAME_OK);
    CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_OK);
    CHECK (cmd.text == NULL);
    //  ["ok", epoch] answers a verbose sub; ["ok", 1] and three elements are not frames
    static const uint8_t ok_epoch [] = { 0x92, 0xa2, 'o', 'k', 0xd9, 3, 'a', 'b', 'c' };
    CHECK (zch_frame_decode (ok_epoch, sizeof ok_epoch, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_OK);
    CHECK_VIEW (cmd.text, cmd.text_len, "abc");
    static const uint8_t ok_number [] = { 0x92, 0xa2, 'o', 'k', 0x01 };
    CHECK (zch_frame_decode (ok_number, sizeof ok_number, &cmd, &code, &reason) == -1);
    static const uint8_t ok_three [] = { 0x93, 0xa2, 'o', 'k', 0xa1, 'a', 0xa1, 'b' };
    CHECK (zch_frame_decode (ok_three, sizeof ok_three, &cmd, &code, &reason) == -1);
    //  ["ok", topic, seq, epoch] confirms a pub
    static const uint8_t ok_confirm [] = { 0x94, 0xa2, 'o', 'k', 0xa1, 't', 0x07, 0xa2, 'e', '1' };
    CHECK (zch_frame_decode (ok_confirm, sizeof ok_confirm, &cmd, &code, &reason) == 0 && cmd.seq == 7);
    CHECK_VIEW (cmd.topic, cmd.topic_len, "t");
    CHECK_VIEW (cmd.text, cmd.text_len, "e1");
    //  ["verbose", true|false]; anything else is a bad shape
    static const uint8_t verbose_on [] = { 0x92, 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e', 0xc3 };
    CHECK (zch_frame_decode (verbose_on, sizeof verbose_on, &cmd, &code, &reason) == 0
           && cmd.verb == ZCH_FRAME_VERBOSE && cmd.flag);
    static const uint8_t verbose_off [] = { 0x92, 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e', 0xc2 };
    CHECK (zch_frame_decode (verbose_off, sizeof verbose_off, &cmd, &code, &reason) == 0 && !cmd.flag);
    static const uint8_t verbose_one [] = { 0x92, 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e', 0x01 };
    CHECK (zch_frame_decode (verbose_one, sizeof verbose_one, &cmd, &code, &reason) == -1);
    static const uint8_t verbose_none [] = { 0x91, 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e' };
    CHECK (zch_frame_decode (verbose_none, sizeof verbose_none, &cmd, &code, &reason) == -1);
    size = zch_frame_encode_simple (out, cap, ZCH_FRAME_PONG);
    CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_PONG);
    CHECK (zch_frame_encode_simple (out, cap, ZCH_FRAME_PUB) == 0);
    size = zch_frame_encode_err (out, cap, "bad_topic", "invalid topic: empty token");
    CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_ERR);
    CHECK_VIEW (cmd.code, cmd.code_len, "bad_topic");
    CHECK_VIEW (cmd.text, cmd.text_len, "invalid topic: empty token");
    //  a long text is cut to fit
    char text [300];
    memset (text, 'x', sizeof text - 1);
    text [sizeof text - 1] = 0;
    size = zch_frame_encode_err (out, 100, "c", text);
    CHECK (size > 0 && size <= 100);
    CHECK (zch_frame_decode (out + 4, size - 4, &cmd, &code, &reason) == 0 && cmd.verb == ZCH_FRAME_ERR);
    CHECK (zch_frame_encode_err (out, 10, "c", "t") == 0);
    free (out);
    free (payload);
}

static void
test_headers_meta (void)
{
    const uint8_t headers [] = "\x82\xA1k\xA1v\xA2k2\xA0";
    size_t used;
    uint32_t count;
    CHECK (zch_headers_check (headers, sizeof headers - 1, &used, &count) == 0);
    CHECK (used == sizeof headers - 1 && count == 2);
    CHECK (zch_headers_check (headers, sizeof headers - 2, &used, &count) == -1);
    uint8_t meta [ZCH_META_MAX];
    size_t size = zch_headers_meta_encode (123, "1.2.3.4:5", 9, headers, sizeof headers - 1,
                                           meta, sizeof meta);
    CHECK (size > 0);
    //  the envelope codec accepts it, and restamping keeps h
    zch_meta_t decoded;
    CHECK (zch_meta_decode (meta, size, &decoded) == 0);
    CHECK (decoded.has_ts && decoded.ts == 123 && decoded.src_len == 9);
    uint8_t stamped [ZCH_META_MAX];
    size_t stamped_size = zch_meta_stamp (meta, size, 77, 999, 5, stamped, sizeof stamped);
    CHECK (stamped_size > 0);
    const uint8_t *found;
    size_t found_size;
    CHECK (zch_headers_in_meta (stamped, stamped_size, &found, &found_size) == 0);
    CHECK (found_size == sizeof headers - 1 && memcmp (found, headers, found_size) == 0);
    //  meta without h
    size = zch_meta_encode (1, 2, 5, NULL, 0, meta, sizeof meta);
    CHECK (zch_headers_in_meta (meta, size, &found, &found_size) == -1);
    //  the fixed layout is known to hold no headers; a meta with h is not fixed
    CHECK (zch_meta_is_fixed (meta, size));
    size = zch_meta_encode (1, 2, 5, "1.2.3.4:5", 9, meta, sizeof meta);
    CHECK (zch_meta_is_fixed (meta, size));
    CHECK (!zch_meta_is_fixed (meta, size - 1));
    CHECK (!zch_meta_is_fixed (stamped, stamped_size));
    //  does not fit
    CHECK (zch_headers_meta_encode (1, "s", 1, headers, sizeof headers - 1, meta, 20) == 0);
}

static void
test_mpread (void)
{
    zch_mpread_t r;
    uint64_t v;
    //  uint encodings, and negative ints refused
    const uint8_t ints [] = { 0x05, 0xCC, 0xFF, 0xD0, 0x05, 0xD0, 0xFF, 0xE0 };
    zch_mpread_init (&r, ints, sizeof ints);
    CHECK (zch_mpread_uint (&r, &v) == 0 && v == 5);
    CHECK (zch_mpread_uint (&r, &v) == 0 && v == 255);
    CHECK (zch_mpread_uint (&r, &v) == 0 && v == 5);
    CHECK (zch_mpread_uint (&r, &v) == -1 && r.pos == 5);
    CHECK (zch_mpread_skip (&r) == 0);
    CHECK (zch_mpread_uint (&r, &v) == -1);         //  negative fixint
    CHECK (zch_mpread_skip (&r) == 0 && zch_mpread_done (&r));
    CHECK (zch_mpread_skip (&r) == -1);
    //  a nested structure is skipped whole
    const uint8_t nested [] = { 0x92, 0x81, 0xA1, 'a', 0x91, 0xC0, 0xD7, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    zch_mpread_init (&r, nested, sizeof nested);
    CHECK (zch_mpread_skip (&r) == 0 && zch_mpread_done (&r));
    zch_mpread_init (&r, nested, sizeof nested - 1);
    CHECK (zch_mpread_skip (&r) == -1 && r.pos == 0);
}

int
main (void)
{
    test_next ();
    test_decode_client ();
    test_decode_bad ();
    test_encode_round_trip ();
    test_headers_meta ();
    test_mpread ();
    CHECK_DONE ("test_frame");
}
