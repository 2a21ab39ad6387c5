/*  broker_queues_check: the shape of a work-queue request (see the header). */
#include "broker_queues_check.h"

#include <string.h>

//  A frame that is a name: 1..max bytes (0 allowed when empty_ok), no NUL.
static bool
s_name (const zch_frame_t *frame, size_t max, bool empty_ok)
{
    return (frame->size > 0 || empty_ok) && frame->size <= max
        && (frame->size == 0 || !memchr (frame->data, 0, frame->size));
}

//  A frame of 1..BROKER_QUEUES_ID_MAX decimal digits.
static bool
s_digits (const zch_frame_t *frame)
{
    if (frame->size == 0 || frame->size > BROKER_QUEUES_ID_MAX)
        return false;
    for (size_t i = 0; i < frame->size; i++)
        if (((const char *) frame->data) [i] < '0' || ((const char *) frame->data) [i] > '9')
            return false;
    return true;
}

static bool
s_is (const zch_frame_t *frame, const char *word)
{
    return frame->size == strlen (word) && memcmp (frame->data, word, frame->size) == 0;
}

broker_queues_verb_t
broker_queues_check (const zch_frame_t *frames, size_t count, const char **reason)
{
    *reason = "not a work-queue request";
    if (count < 2)
        return BROKER_QUEUES_BAD;
    const zch_frame_t *verb = &frames [1];
    broker_queues_verb_t kind = s_is (verb, "QPUT")? BROKER_QUEUES_PUT:
                                s_is (verb, "QWATCH")? BROKER_QUEUES_WATCH:
                                s_is (verb, "QUNWATCH")? BROKER_QUEUES_UNWATCH:
                                s_is (verb, "QCREDIT")? BROKER_QUEUES_CREDIT:
                                s_is (verb, "QACK")? BROKER_QUEUES_ACK:
                                s_is (verb, "QNACK")? BROKER_QUEUES_NACK:
                                s_is (verb, "QALIVE")? BROKER_QUEUES_ALIVE: BROKER_QUEUES_BAD;
    bool ok = false;
    switch (kind) {
        case BROKER_QUEUES_PUT:
            *reason = "QPUT <tag> <queue> <payload> <content-type>";
            ok = count == 6 && s_name (&frames [2], BROKER_QUEUES_ID_MAX, true)
              && s_name (&frames [3], BROKER_QUEUES_NAME_MAX, false)
              && s_name (&frames [5], BROKER_QUEUES_CT_MAX, true);
            break;
        case BROKER_QUEUES_WATCH:
            *reason = "QWATCH <tag> <queue> <watcher>";
            ok = count == 5 && s_name (&frames [2], BROKER_QUEUES_ID_MAX, true)
              && s_name (&frames [3], BROKER_QUEUES_NAME_MAX, false)
              && s_name (&frames [4], BROKER_QUEUES_WATCHER_MAX, false);
            break;
        case BROKER_QUEUES_UNWATCH:
        case BROKER_QUEUES_CREDIT:
            *reason = kind == BROKER_QUEUES_CREDIT? "QCREDIT <queue> <watcher> <n>": "QUNWATCH <queue> <watcher>";
            ok = count == (kind == BROKER_QUEUES_CREDIT? 5u: 4u)
              && s_name (&frames [2], BROKER_QUEUES_NAME_MAX, false)
              && s_name (&frames [3], BROKER_QUEUES_WATCHER_MAX, false)
              && (kind == BROKER_QUEUES_UNWATCH || s_digits (&frames [4]));
            break;
        case BROKER_QUEUES_ACK:
        case BROKER_QUEUES_NACK:
            *reason = "QACK <id> or QNACK <id>";
            ok = count == 3 && s_digits (&frames [2]);
            break;
        case BROKER_QUEUES_ALIVE:
            *reason = "QALIVE";
            ok = count == 2;
            break;
        default:
            break;
    }
    if (!ok)
        return BROKER_QUEUES_BAD;
    *reason = NULL;
    return kind;
}
