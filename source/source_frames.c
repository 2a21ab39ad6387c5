/*  source_frames: the frame protocol on the source front-end.              */
#include "source_frames.h"
#include "zch_frame_pub.h"
#include "zch_frame_reply.h"
#include "zch_log.h"

//  Publishes a ["pub", ...] request; success is silent, like text PUB.
static int
s_pub (source_frames_t *self, zch_conn_t *conn, const zch_frame_cmd_t *cmd)
{
    if (self->wait && self->wait (self->ctx, conn, cmd->topic, cmd->topic_len, cmd->payload_len))
        return ZCH_EDGE_PAUSE;
    if (!zch_frame_pub_admits (conn, cmd, self->guard, self->secure, self->max_payload, &self->rejected))
        return ZCH_EDGE_NEXT;
    //  Negative: the broker cannot take it now; positive: a plugin dropped
    //  it, counted there (a pub is answered only when it fails, as text)
    if (self->publish (self->ctx, conn, cmd->topic, cmd->topic_len,
                       (const char *) cmd->payload, cmd->payload_len,
                       cmd->headers, cmd->headers_size) < 0)
        return ZCH_EDGE_PAUSE;
    return ZCH_EDGE_NEXT;
}

int
source_frames_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len)
{
    source_frames_t *self = ctx;
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    int rc = zch_frame_decode ((const uint8_t *) body, len, &cmd, &code, &reason);
    //  While confirms are owed, only publishing goes on
    if ((rc || cmd.verb != ZCH_FRAME_PUB) && self->wait && self->wait (self->ctx, conn, NULL, 0, 0))
        return ZCH_EDGE_PAUSE;
    if (rc) {
        self->malformed++;
        zch_info ("source: client %s sent a bad frame: %s (bad frames: %llu)",
                  zch_conn_peer (conn), reason, (unsigned long long) self->malformed);
        zch_frame_reply_err (conn, code, "", reason);
        return ZCH_EDGE_NEXT;
    }
    if (cmd.verb == ZCH_FRAME_AUTH) {
        zch_guard_auth (self->guard, conn, cmd.text, cmd.text_len);
        return ZCH_EDGE_NEXT;
    }
    if (!zch_guard_admits (self->guard, conn, cmd.verb == ZCH_FRAME_PING))
        return ZCH_EDGE_NEXT;
    switch (cmd.verb) {
        case ZCH_FRAME_PUB:
            return s_pub (self, conn, &cmd);
        case ZCH_FRAME_PING:
            zch_frame_reply (conn, ZCH_FRAME_PONG);
            break;
        case ZCH_FRAME_VERBOSE:
            //  On: every pub is answered, ["ok", topic, seq, epoch] once stamped
            zch_conn_set_user (conn, (void *) (uintptr_t) (cmd.flag? SOURCE_CLIENT_VERBOSE: 0));
            zch_frame_reply (conn, ZCH_FRAME_OK);
            break;
        case ZCH_FRAME_SUB:
        case ZCH_FRAME_UNSUB:
            self->rejected++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_WRONG_PORT, "",
                                 "subscriptions are served by the subscriber front-end");
            break;
        case ZCH_FRAME_ENQUEUE:
        case ZCH_FRAME_WATCH:
        case ZCH_FRAME_UNWATCH:
            self->rejected++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_WRONG_PORT, "",
                                 "work queues are served by the subscriber front-end");
            break;
        default:
            self->malformed++;
            zch_frame_reply_err (conn, ZCH_FRAME_E_VERB, "", "not a request");
            break;
    }
    return ZCH_EDGE_NEXT;
}

void
source_frames_on_close (void *ctx, zch_conn_t *conn)
{
    source_frames_t *self = ctx;
    if (self->closed)
        self->closed (self->ctx, conn);
}
