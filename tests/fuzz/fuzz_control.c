/*  fuzz_control: the broker's control-request parser.

    Input: a sequence of frames, each a one-byte length (0..255) and that
    many bytes (the last one cut short by the end of input). The parser
    must keep its reply frames within the frames given, and its answer
    must agree with a plain reading of the rules.                          */
#include "broker_request.h"

#include <stdint.h>
#include <string.h>

#define S_FRAMES_MAX 16

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zch_frame_t frames [S_FRAMES_MAX] = { { NULL, 0 } };
    size_t count = 0, offset = 0;
    while (offset < size && count < S_FRAMES_MAX) {
        size_t len = data [offset++];
        if (len > size - offset)
            len = size - offset;
        frames [count++] = (zch_frame_t) { data + offset, len };
        offset += len;
    }
    size_t reply_frames = 99;
    broker_request_t request = broker_request_parse (frames, count, &reply_frames);
    S_ASSERT (reply_frames <= count);
    S_ASSERT (count == 0 || reply_frames >= 1);
    S_ASSERT (request == BROKER_REQUEST_UNKNOWN || request == BROKER_REQUEST_PING
           || request == BROKER_REQUEST_STATS);
    if (request != BROKER_REQUEST_UNKNOWN) {
        //  exactly one body frame, right after the routing frames
        S_ASSERT (count == reply_frames + 1);
        const zch_frame_t *body = &frames [reply_frames];
        S_ASSERT (request == BROKER_REQUEST_PING? body->size == 4 && !memcmp (body->data, "PING", 4):
                                                   body->size == 5 && !memcmp (body->data, "STATS", 5));
    }
    return 0;
}
