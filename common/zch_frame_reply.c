/*  zch_frame_reply: short server frames. See zch_frame_reply.h.            */
#include "zch_frame_reply.h"

#include <stdio.h>
#include <string.h>

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

void
zch_conn_error (zch_conn_t *conn, const char *code, const char *text)
{
    if (zch_conn_framed (conn))
        zch_frame_reply_err (conn, code, "", text);
    else {
        char line [400];
        int len = snprintf (line, sizeof line, "-ERR %s\n", text);
        zch_conn_write (conn, line, (size_t) len < sizeof line? (size_t) len: sizeof line - 1);
    }
}

void
zch_frame_reply_ok_text (zch_conn_t *conn, const char *text)
{
    //  ["ok", text]: a fixarray of 2, fixstr "ok", then text as str8
    size_t len = strlen (text);
    uint8_t frame [4 + 1 + 3 + 2 + 255];
    if (len > 255)
        return;
    size_t body = 1 + 3 + 2 + len;
    frame [0] = 0;
    frame [1] = 0;
    frame [2] = (uint8_t) (body >> 8);
    frame [3] = (uint8_t) body;
    memcpy (frame + 4, "\x92\xa2ok\xd9", 5);
    frame [9] = (uint8_t) len;
    memcpy (frame + 10, text, len);
    zch_conn_write (conn, frame, 4 + body);
}
