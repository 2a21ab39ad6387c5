/*  fuzz_control: the broker's control-request parser, and the check of
    its work-queue requests (broker_queues_check.h).

    Input: a sequence of frames, each a one-byte length (0..255) and that
    many bytes (the last one cut short by the end of input). The parser
    must keep its reply frames within the frames given, point only into
    them, and accept only what a plain reading of the rules accepts.       */
#include "broker_queues_check.h"
#include "broker_request.h"
#include "zch_topic.h"

#include <stdint.h>
#include <string.h>

#define S_FRAMES_MAX 16

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  True when [text, text + size) lies inside the input.
static int
s_inside (const char *text, size_t size, const uint8_t *data, size_t data_size)
{
    const uint8_t *at = (const uint8_t *) text;
    return at >= data && at + size <= data + data_size;
}

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
    //  A work-queue request accepted has the frames and bounds of its verb
    const char *why = NULL;
    broker_queues_verb_t verb = broker_queues_check (frames, count, &why);
    S_ASSERT ((verb == BROKER_QUEUES_BAD) == (why != NULL));
    if (verb != BROKER_QUEUES_BAD) {
        static const size_t arity [] = { 0, 6, 5, 4, 5, 3, 3, 2 };
        S_ASSERT (verb <= BROKER_QUEUES_ALIVE && count == arity [verb]);
        if (verb == BROKER_QUEUES_PUT || verb == BROKER_QUEUES_WATCH)
            S_ASSERT (frames [3].size >= 1 && frames [3].size <= BROKER_QUEUES_NAME_MAX
                      && !memchr (frames [3].data, 0, frames [3].size));
        if (verb == BROKER_QUEUES_ACK || verb == BROKER_QUEUES_NACK)
            S_ASSERT (frames [2].size >= 1 && frames [2].size <= BROKER_QUEUES_ID_MAX);
    }
    broker_request_t request;
    memset (&request, 0x5a, sizeof request);
    broker_request_parse (frames, count, &request);
    S_ASSERT (request.reply_frames <= count);
    S_ASSERT (count == 0 || request.reply_frames >= 1);
    S_ASSERT (request.kind >= BROKER_REQUEST_UNKNOWN && request.kind <= BROKER_REQUEST_HANDOVER);
    S_ASSERT (request.tag && request.tag_len <= BROKER_REQUEST_TAG_MAX);
    S_ASSERT (request.tag_len == 0 || s_inside (request.tag, request.tag_len, data, size));
    if (request.kind == BROKER_REQUEST_UNKNOWN || request.kind == BROKER_REQUEST_PING
    ||  request.kind == BROKER_REQUEST_STATS || request.kind == BROKER_REQUEST_HEALTH) {
        S_ASSERT (request.error == NULL);
        if (request.kind != BROKER_REQUEST_UNKNOWN)
            S_ASSERT (count > request.reply_frames);
        return 0;
    }
    if (request.error)
        return 0;
    if (request.kind == BROKER_REQUEST_HANDOVER) {
        //  The marker is the tag: present, bounded, inside the input
        S_ASSERT (request.tag_len > 0);
        return 0;
    }
    //  An accepted stream request: its subject lies in the input and is valid
    const char *reason;
    S_ASSERT (s_inside (request.subject, request.subject_len, data, size));
    if (request.kind == BROKER_REQUEST_SNAPSHOT)
        S_ASSERT (zch_pattern_validate (request.subject, request.subject_len, &reason) == 0);
    else
    if (request.kind == BROKER_REQUEST_SEQS)
        S_ASSERT (request.subject_len <= ZCH_TOPIC_MAX);
    else {
        S_ASSERT (zch_topic_validate (request.subject, request.subject_len, &reason) == 0);
        S_ASSERT (request.from != UINT64_MAX);
        if (request.kind == BROKER_REQUEST_HISTORY)
            S_ASSERT (request.to == UINT64_MAX);
    }
    return 0;
}
