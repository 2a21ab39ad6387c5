/*  broker_request: what a control request says.                            */
#include "broker_request.h"
#include "zch_epoch.h"
#include "zch_topic.h"

#include <stdbool.h>
#include <string.h>

#define REQUEST_MAX_TOKENS  6

//  Parses a decimal seq. Returns 0 or -1.
static int
s_parse_seq (zch_frame_t token, uint64_t *seq)
{
    if (token.size == 0 || token.size > 20)
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < token.size; i++) {
        if (token.data [i] < '0' || token.data [i] > '9')
            return -1;
        uint64_t digit = (uint64_t) (token.data [i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *seq = value;
    return 0;
}

static bool
s_token_is (zch_frame_t token, const char *text)
{
    return token.size == strlen (text) && memcmp (token.data, text, token.size) == 0;
}

//  Splits a body into tokens: one frame is split at spaces, several frames
//  are one token each. Returns the count, or -1 if too many.
static int
s_tokens (const zch_frame_t *body, size_t count, zch_frame_t *tokens)
{
    size_t n = 0;
    if (count == 1) {
        const uint8_t *data = body [0].data;
        size_t size = body [0].size, at = 0;
        while (at < size) {
            while (at < size && data [at] == ' ')
                at++;
            size_t start = at;
            while (at < size && data [at] != ' ')
                at++;
            if (at > start) {
                if (n == REQUEST_MAX_TOKENS)
                    return -1;
                tokens [n++] = (zch_frame_t) { data + start, at - start };
            }
        }
    }
    else
        for (size_t i = 0; i < count; i++) {
            if (n == REQUEST_MAX_TOKENS)
                return -1;
            tokens [n++] = body [i];
        }
    return (int) n;
}

//  Checks the arguments of a streamed request. Returns NULL or a reason.
static const char *
s_stream_args (broker_request_t *request, const zch_frame_t *tokens, int count)
{
    const char *reason;
    int args = request->kind == BROKER_REQUEST_SNAPSHOT || request->kind == BROKER_REQUEST_SEQS? 1:
               request->kind == BROKER_REQUEST_HISTORY? 2: 3;
    if (count < 1 + args)
        return "missing arguments";
    if (count > 2 + args)
        return "too many arguments";
    if (count == 2 + args) {
        if (tokens [1 + args].size > BROKER_REQUEST_TAG_MAX)
            return "tag too long";
        request->tag = (const char *) tokens [1 + args].data;
        request->tag_len = tokens [1 + args].size;
    }
    request->subject = (const char *) tokens [1].data;
    request->subject_len = tokens [1].size;
    if (request->kind == BROKER_REQUEST_SNAPSHOT)
        return zch_pattern_validate (request->subject, request->subject_len, &reason)? reason: NULL;
    if (request->kind == BROKER_REQUEST_SEQS)
        return request->subject_len > ZCH_TOPIC_MAX? "prefix too long": NULL;
    if (zch_topic_validate (request->subject, request->subject_len, &reason))
        return reason;
    //  from may name its epoch: "<seq>@<epoch>"
    if (zch_position_parse ((const char *) tokens [2].data, tokens [2].size,
                            &request->from, &request->epoch)
    ||  (request->kind == BROKER_REQUEST_HEAL && s_parse_seq (tokens [3], &request->to)))
        return "bad seq";
    if (request->from == UINT64_MAX)
        return "bad seq";
    return NULL;
}

void
broker_request_parse (const zch_frame_t *frames, size_t count, broker_request_t *request)
{
    *request = (broker_request_t) { .kind = BROKER_REQUEST_UNKNOWN, .tag = "", .to = UINT64_MAX };
    request->reply_frames = count > 0? 1: 0;
    if (count >= 3 && frames [1].size == 0)
        request->reply_frames = 2;      //  a REQ peer's empty delimiter
    zch_frame_t tokens [REQUEST_MAX_TOKENS];
    int n = count > request->reply_frames?
        s_tokens (frames + request->reply_frames, count - request->reply_frames, tokens): 0;
    if (n < 1)
        return;
    if (s_token_is (tokens [0], "PING"))
        request->kind = BROKER_REQUEST_PING;
    else
    if (s_token_is (tokens [0], "STATS"))
        request->kind = BROKER_REQUEST_STATS;
    else
    if (s_token_is (tokens [0], "HEALTH"))
        request->kind = BROKER_REQUEST_HEALTH;
    else
    if (s_token_is (tokens [0], "SNAPSHOT"))
        request->kind = BROKER_REQUEST_SNAPSHOT;
    else
    if (s_token_is (tokens [0], "SEQS"))
        request->kind = BROKER_REQUEST_SEQS;
    else
    if (s_token_is (tokens [0], "HISTORY"))
        request->kind = BROKER_REQUEST_HISTORY;
    else
    if (s_token_is (tokens [0], "HEAL"))
        request->kind = BROKER_REQUEST_HEAL;
    else
    if (s_token_is (tokens [0], "HANDOVER"))
        request->kind = BROKER_REQUEST_HANDOVER;
    if (request->kind == BROKER_REQUEST_PING || request->kind == BROKER_REQUEST_STATS
    ||  request->kind == BROKER_REQUEST_HEALTH) {
        if (n != 1)
            request->kind = BROKER_REQUEST_UNKNOWN;     //  as before: "PING x" is not known
    }
    else
    if (request->kind == BROKER_REQUEST_HANDOVER) {
        //  The marker travels as the tag: every answer carries it
        if (n != 2)
            request->error = n < 2? "missing arguments": "too many arguments";
        else
        if (tokens [1].size == 0)
            request->error = "empty marker";
        else
        if (tokens [1].size > BROKER_REQUEST_TAG_MAX)
            request->error = "marker too long";
        else {
            request->tag = (const char *) tokens [1].data;
            request->tag_len = tokens [1].size;
        }
    }
    else
    if (request->kind != BROKER_REQUEST_UNKNOWN)
        request->error = s_stream_args (request, tokens, n);
}
