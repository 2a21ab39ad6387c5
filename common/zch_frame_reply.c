/*  zch_frame_reply: short server frames. See zch_frame_reply.h.            */
#include "zch_frame_reply.h"

#include <stdio.h>

void
zch_frame_reply (zch_conn_t *conn, zch_frame_verb_t verb)
{
    uint8_t frame [16];
    size_t size = zch_frame_encode_simple (frame, sizeof frame, verb);
    if (size)
        zch_conn_write (conn, frame, size);
}

void
zch_frame_reply_err (zch_conn_t *conn, const char *code, const char *prefix, const char *reason)
{
    char text [256];
    snprintf (text, sizeof text, "%s%s", prefix, reason);
    uint8_t frame [320];
    size_t size = zch_frame_encode_err (frame, sizeof frame, code, text);
    if (size)
        zch_conn_write (conn, frame, size);
}
