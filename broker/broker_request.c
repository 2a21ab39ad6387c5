/*  broker_request: what a control request says.                            */
#include "broker_request.h"

#include <string.h>

broker_request_t
broker_request_parse (const zch_frame_t *frames, size_t count, size_t *reply_frames)
{
    *reply_frames = count > 0? 1: 0;
    if (count >= 3 && frames [1].size == 0)
        *reply_frames = 2;              //  a REQ peer's empty delimiter
    if (count <= *reply_frames || count > *reply_frames + 1)
        return BROKER_REQUEST_UNKNOWN;  //  no body, or more than one frame of it
    const zch_frame_t *body = &frames [*reply_frames];
    if (body->size == 4 && memcmp (body->data, "PING", 4) == 0)
        return BROKER_REQUEST_PING;
    if (body->size == 5 && memcmp (body->data, "STATS", 5) == 0)
        return BROKER_REQUEST_STATS;
    return BROKER_REQUEST_UNKNOWN;
}
