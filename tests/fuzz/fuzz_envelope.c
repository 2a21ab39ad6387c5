/*  fuzz_envelope: multiparts and meta frames from raw bytes.

    Input: byte 0 picks the stamp output capacity; the rest is a list of
    frames, each a 2-byte big-endian length then that many bytes (the last
    frame takes what is left if its length runs past the end), at most 5.
    The frames go through zch_envelope_parse; each frame also through
    zch_meta_decode and zch_meta_stamp, whose output must decode again.     */
#include "zch_envelope.h"
#include "zch_topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_FRAMES_MAX 5

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  Checks what zch_envelope_parse says about a multipart.
static void
s_parse (const zch_frame_t *frames, size_t count)
{
    zch_envelope_view_t view;
    const char *reason = NULL;
    if (zch_envelope_parse (frames, count, &view, &reason)) {
        S_ASSERT (reason != NULL && view.topic == NULL);
        return;
    }
    S_ASSERT (count >= 1 && count <= 3);
    S_ASSERT (zch_topic_validate (view.topic, view.topic_len, NULL) == 0);
    S_ASSERT ((const uint8_t *) view.topic == frames [0].data);
    S_ASSERT (view.payload_frame < count);
    const zch_frame_t *payload = &frames [view.payload_frame];
    S_ASSERT (view.payload_offset <= payload->size);
    S_ASSERT (view.payload_size == payload->size - view.payload_offset);
    if (count == 1)
        S_ASSERT (view.payload_offset == view.topic_len + 1 && frames [0].data [view.topic_len] == ' ');
    else
        S_ASSERT (view.topic_len == frames [0].size && view.payload_offset == 0);
    if (count == 3) {
        zch_meta_t meta;
        S_ASSERT (view.meta == frames [1].data && view.meta_size == frames [1].size);
        S_ASSERT (zch_meta_decode (view.meta, view.meta_size, &meta) == 0);
    }
    else
        S_ASSERT (view.meta == NULL);
}

//  Decodes a frame as meta, stamps it, and checks the stamped form.
static void
s_meta (const uint8_t *data, size_t size, size_t cap)
{
    static uint8_t out [ZCH_META_MAX + 64];
    static uint8_t fresh [ZCH_META_MAX + 64];
    zch_meta_t in, stamped;
    if (!data) {
        //  no meta: stamping is encoding
        size_t n = zch_meta_stamp (NULL, 0, 77, 1234, 5, out, cap);
        S_ASSERT (n == zch_meta_encode (77, 1234, 5, NULL, 0, fresh, cap));
        S_ASSERT (memcmp (out, fresh, n) == 0);
        return;
    }
    int valid = zch_meta_decode (data, size, &in) == 0;
    if (valid) {
        S_ASSERT (size <= ZCH_META_MAX);
        if (in.src)
            S_ASSERT ((const uint8_t *) in.src >= data && (const uint8_t *) in.src + in.src_len <= data + size);
        if (in.ct)
            S_ASSERT ((const uint8_t *) in.ct >= data && (const uint8_t *) in.ct + in.ct_len <= data + size);
    }
    size_t n = zch_meta_stamp (data, size, 77, 1234, 5, out, cap);
    if (!valid) {
        S_ASSERT (n == 0);
        return;
    }
    S_ASSERT (n <= cap && n <= ZCH_META_MAX);
    if (n == 0)
        return;                 //  did not fit
    S_ASSERT (zch_meta_decode (out, n, &stamped) == 0);
    S_ASSERT (stamped.has_seq && stamped.seq == 77);
    S_ASSERT (stamped.has_epoch && stamped.epoch == 5);
    S_ASSERT (!stamped.has_confirm && !stamped.confirm_route);     //  for the broker only
    S_ASSERT (stamped.has_ts && stamped.ts == (in.has_ts? in.ts: 1234));
    S_ASSERT (stamped.src_len == in.src_len && (!in.src) == (!stamped.src));
    if (in.src_len)
        S_ASSERT (memcmp (in.src, stamped.src, in.src_len) == 0);
    S_ASSERT (stamped.ct_len == in.ct_len && (!in.ct) == (!stamped.ct));
    //  the broker's in-place stamp, where it applies, writes the same bytes
    static uint8_t in_place [ZCH_META_MAX];
    memcpy (in_place, data, size);
    if (zch_meta_stamp_in_place (in_place, size, 77, 5))
        S_ASSERT (n == size && memcmp (in_place, out, n) == 0);
    //  stamping is idempotent apart from seq
    static uint8_t again [ZCH_META_MAX];
    size_t m = zch_meta_stamp (out, n, 77, 1, 5, again, sizeof again);
    S_ASSERT (m == n && memcmp (out, again, n) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = (size_t) data [0] * 32;       //  0 .. 8160 bytes
    if (cap > ZCH_META_MAX + 64)
        cap = ZCH_META_MAX + 64;
    zch_frame_t frames [S_FRAMES_MAX + 1];
    memset (frames, 0, sizeof frames);
    size_t count = 0;
    size_t pos = 1;
    while (pos < size && count <= S_FRAMES_MAX) {
        size_t len = 0;
        if (size - pos >= 2) {
            len = ((size_t) data [pos] << 8) | data [pos + 1];
            pos += 2;
        }
        else
            pos = size;
        if (len > size - pos)
            len = size - pos;
        frames [count].data = len? data + pos: NULL;
        frames [count].size = len;
        count++;
        pos += len;
    }
    s_parse (frames, count);
    for (size_t i = 0; i < count; i++)
        s_meta (frames [i].data, frames [i].size, cap);

    //  a fresh meta with the first frame as src decodes back
    if (count > 0) {
        static uint8_t out [ZCH_META_MAX];
        size_t n = zch_meta_encode (1, 2, 5, (const char *) frames [0].data, frames [0].size, out, cap < sizeof out? cap: sizeof out);
        if (n) {
            zch_meta_t meta;
            S_ASSERT (zch_meta_decode (out, n, &meta) == 0);
            S_ASSERT (meta.seq == 1 && meta.ts == 2 && meta.epoch == 5 && meta.src_len == frames [0].size);
        }
        else {
            //  only when it does not fit: 41 bytes of map, v, seq, ts and
            //  ep, then "src" and the string's header
            size_t len = frames [0].size;
            size_t header = len < 32? 1: len < 256? 2: len < 65536? 3: 5;
            S_ASSERT (41 + 4 + header + len > (cap < ZCH_META_MAX? cap: ZCH_META_MAX));
        }
    }
    return 0;
}
