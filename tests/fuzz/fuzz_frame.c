/*  fuzz_frame: the frame protocol from raw connection bytes.

    Input: byte 0 picks the largest frame body, byte 1 the size of the
    pieces the rest arrives in. The rest is cut into frames with
    zch_frame_next piece by piece and at once (both must find the same
    frames); every frame goes through zch_frame_decode, and what decodes is
    encoded again and must decode to the same thing. The whole input is
    also tried as a meta map (zch_headers_in_meta) and skipped with
    zch_mpread_skip.                                                        */
#include "zch_frame.h"
#include "zch_mpread.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_FRAMES_MAX 256

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

typedef struct {
    size_t count;
    size_t offset [S_FRAMES_MAX];
    size_t len [S_FRAMES_MAX];
    bool too_long;
} s_pass_t;

//  Cuts input into frames, feeding it piece bytes at a time.
static void
s_scan (const uint8_t *input, size_t size, size_t max_body, size_t piece, s_pass_t *pass)
{
    memset (pass, 0, sizeof *pass);
    uint8_t *buf = malloc (size + 1);
    if (!buf)
        return;
    size_t len = 0, base = 0, fed = 0;
    while (!pass->too_long && (fed < size || len > 0)) {
        size_t take = size - fed < piece? size - fed: piece;
        memcpy (buf + len, input + fed, take);
        len += take;
        fed += take;
        while (true) {
            const uint8_t *body;
            size_t body_len, consumed;
            int rc = zch_frame_next (buf, len, max_body, &body, &body_len, &consumed, NULL);
            if (rc == ZCH_FRAME_TOO_LONG) {
                pass->too_long = true;
                break;
            }
            if (rc == ZCH_FRAME_NEED_MORE)
                break;
            S_ASSERT (rc == ZCH_FRAME_FOUND && body == buf + 4 && consumed == body_len + 4);
            S_ASSERT (body_len <= max_body && consumed <= len);
            if (pass->count < S_FRAMES_MAX) {
                pass->offset [pass->count] = base + 4;
                pass->len [pass->count] = body_len;
            }
            pass->count++;
            memmove (buf, buf + consumed, len - consumed);
            len -= consumed;
            base += consumed;
        }
        if (take == 0)
            break;                      //  an incomplete frame at the end
    }
    free (buf);
}

//  Decodes a frame, and re-encodes what decoded to check the encoders.
static void
s_frame (const uint8_t *body, size_t len)
{
    zch_frame_cmd_t cmd, again;
    const char *code = NULL, *reason = NULL;
    if (zch_frame_decode (body, len, &cmd, &code, &reason)) {
        S_ASSERT (code && reason);
        return;
    }
    uint8_t *out = NULL;
    size_t size = 0;
    switch (cmd.verb) {
        case ZCH_FRAME_PUB:
            out = malloc (zch_frame_pub_size (cmd.topic_len, cmd.payload_len, cmd.headers_size));
            if (out)
                size = zch_frame_encode_pub (out, cmd.topic, cmd.topic_len, cmd.payload,
                                             cmd.payload_len, cmd.headers, cmd.headers_size);
            break;
        case ZCH_FRAME_MSG:
            out = malloc (zch_frame_msg_size (cmd.topic_len, cmd.payload_len, cmd.headers_size));
            if (out)
                size = zch_frame_encode_msg (out, cmd.topic, cmd.topic_len, cmd.seq, cmd.payload,
                                             cmd.payload_len, cmd.headers, cmd.headers_size);
            break;
        case ZCH_FRAME_UNSUB:
        case ZCH_FRAME_SUB:
            out = malloc (cmd.topic_len + 32);
            if (out)
                size = zch_frame_encode_sub (out, cmd.topic_len + 32, cmd.verb == ZCH_FRAME_UNSUB,
                                             cmd.topic, cmd.topic_len);
            break;
        default:
            return;
    }
    if (!out)
        return;
    S_ASSERT (size > 4);
    S_ASSERT (zch_frame_decode (out + 4, size - 4, &again, &code, &reason) == 0);
    S_ASSERT (again.verb == cmd.verb && again.topic_len == cmd.topic_len);
    S_ASSERT (memcmp (again.topic, cmd.topic, cmd.topic_len) == 0);
    S_ASSERT (again.payload_len == cmd.payload_len && again.seq == cmd.seq);
    S_ASSERT (cmd.payload_len == 0 || memcmp (again.payload, cmd.payload, cmd.payload_len) == 0);
    S_ASSERT (again.header_count == cmd.header_count);
    free (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_body = data [0] == 255? ZCH_PAYLOAD_MAX_DEFAULT: (size_t) data [0] * 4;
    size_t piece = (size_t) (data [1] % 17) + 1;
    const uint8_t *input = data + 2;
    size_t input_size = size - 2;

    static s_pass_t whole, pieces;
    s_scan (input, input_size, max_body, input_size? input_size: 1, &whole);
    s_scan (input, input_size, max_body, piece, &pieces);
    S_ASSERT (whole.count == pieces.count && whole.too_long == pieces.too_long);
    for (size_t i = 0; i < whole.count && i < S_FRAMES_MAX; i++) {
        S_ASSERT (whole.offset [i] == pieces.offset [i] && whole.len [i] == pieces.len [i]);
        s_frame (input + whole.offset [i], whole.len [i]);
    }
    //  the whole input as one body, as meta, as any msgpack value
    s_frame (input, input_size);
    const uint8_t *headers;
    size_t headers_size;
    if (zch_headers_in_meta (input, input_size, &headers, &headers_size) == 0)
        S_ASSERT (headers >= input && headers + headers_size <= input + input_size);
    zch_mpread_t reader;
    zch_mpread_init (&reader, input, input_size);
    if (zch_mpread_skip (&reader) == 0)
        S_ASSERT (reader.pos <= input_size);
    return 0;
}
