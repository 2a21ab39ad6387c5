/*  source_commands: what a source client asks over the text protocol (PUB,
    PUBLISH, VERBOSE, PING, QUIT, AUTH), and the answers VERBOSE clients
    get over both protocols: a publisher confirm once the broker has
    stamped the message, every reply in the order of the requests.        */
#include "source_worker.h"
#include "zch_frame_pub.h"
#include "zch_frame_reply.h"
#include "zch_text.h"
#include "zch_topic.h"

typedef source_worker_t self_t;

static void s_verbose_answer (self_t *self, zch_conn_t *conn, bool framed, int rc, uint64_t confirm,
                              bool owed, const char *topic, size_t topic_len);
static bool s_may_publish (self_t *self, zch_conn_t *conn, const char *topic, size_t topic_len,
                           size_t payload_len);

//  source_frames' way to publish.
int
source_commands_frame_publish (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len,
                 const char *payload, size_t payload_len, const uint8_t *headers, size_t headers_size)
{
    self_t *self = ctx;
    bool verbose = (uintptr_t) zch_conn_user (conn) & SOURCE_CLIENT_VERBOSE;
    uint64_t confirm = verbose && self->confirm? zch_confirm_next (self->confirm): 0;
    if (verbose && self->confirm && !confirm)
        return -1;              //  too many confirms in flight: held back
    bool owed = verbose && self->confirm && zch_confirm_owed (self->confirm, conn);
    int rc = source_worker_publish (self, zch_conn_peer (conn), topic, topic_len, payload, payload_len,
                        headers, headers_size, confirm);
    if (rc >= 0 && verbose)
        s_verbose_answer (self, conn, true, rc, confirm, owed, topic, topic_len);
    return rc;
}

//  source_frames' check: a frame request of a client owed confirms waits
//  when its answer would overtake them.
bool
source_commands_frame_wait (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, size_t payload_len)
{
    self_t *self = ctx;
    if (!self->confirm || !zch_confirm_owed (self->confirm, conn))
        return false;
    return !topic || !s_may_publish (self, conn, topic, topic_len, payload_len);
}

//  source_frames' close: the confirms owed are not written.
void
source_commands_frame_closed (void *ctx, zch_conn_t *conn)
{
    self_t *self = ctx;
    if (self->confirm)
        zch_confirm_forget (self->confirm, conn);
}

//  Writes a reply line.
static void
s_reply (zch_conn_t *conn, const char *text)
{
    char line [256];
    int len = snprintf (line, sizeof line, "%s\n", text);
    zch_conn_write (conn, line, (size_t) len);
}

//  Writes "-ERR <prefix><reason>".
static void
s_reply_error (self_t *self, zch_conn_t *conn, const char *prefix, const char *reason)
{
    char line [256];
    int len = snprintf (line, sizeof line, "-ERR %s%s\n", prefix, reason);
    zch_conn_write (conn, line, (size_t) len);
    self->rejected++;
}

//  Answers a VERBOSE client's publish (rc as s_publish returned, 0 or 1):
//  +OK <topic> <seq> <epoch> once the broker has stamped it (frames: ["ok",
//  topic, seq, epoch]), or now, behind the replies it is owed.
static void
s_verbose_answer (self_t *self, zch_conn_t *conn, bool framed, int rc, uint64_t confirm, bool owed,
                  const char *topic, size_t topic_len)
{
    if (rc == 0 && confirm
    &&  zch_confirm_expect (self->confirm, conn, framed, topic, topic_len) == 0)
        return;
    //  A plugin drop is counted as such, not as a bad request
    char text [300];
    snprintf (text, sizeof text, "dropped by plugin %s", self->dropped_by);
    const char *code = rc? "dropped": NULL;
    if (owed && zch_confirm_reply (self->confirm, conn, framed, code, text) == 0)
        return;
    if (framed && code)
        zch_frame_reply_err (conn, code, "", text);
    else
    if (framed)
        zch_frame_reply (conn, ZCH_FRAME_OK);
    else
    if (code) {
        char line [320];
        snprintf (line, sizeof line, "-ERR %s", text);
        s_reply (conn, line);
    }
    else
        s_reply (conn, "+OK");
}

//  PUB and PUBLISH: publish, then confirm when the client asked to.
static int
s_handle_publish (self_t *self, zch_conn_t *conn, const char *topic, size_t topic_len,
                  const char *payload, size_t payload_len)
{
    const char *reason;
    //  A VERBOSE client's replies keep their order: one that would be
    //  answered at once waits while confirms are owed to it
    bool verbose = (uintptr_t) zch_conn_user (conn) & SOURCE_CLIENT_VERBOSE;
    uint64_t confirm = verbose && self->confirm? zch_confirm_next (self->confirm): 0;
    bool owed = verbose && self->confirm && zch_confirm_owed (self->confirm, conn);
    if ((verbose && self->confirm && !confirm)
    ||  (owed && !s_may_publish (self, conn, topic, topic_len, payload_len)))
        return ZCH_EDGE_PAUSE;
    if (zch_topic_validate (topic, topic_len, &reason)) {
        s_reply_error (self, conn, "invalid topic: ", reason);
        return ZCH_EDGE_NEXT;
    }
    if (payload_len > self->config->max_payload) {
        s_reply_error (self, conn, "", "payload too large");
        return ZCH_EDGE_NEXT;
    }
    if (zch_secure_topic (&self->config->secure, topic, topic_len, &reason)) {
        s_reply_error (self, conn, "invalid topic: ", reason);
        return ZCH_EDGE_NEXT;
    }
    if (!zch_guard_publish (&self->guard, conn, topic, topic_len))
        return ZCH_EDGE_NEXT;
    int rc = source_worker_publish (self, zch_conn_peer (conn), topic, topic_len, payload, payload_len, NULL, 0,
                        confirm);
    if (rc < 0)
        return ZCH_EDGE_PAUSE;
    if (!verbose)
        return ZCH_EDGE_NEXT;
    s_verbose_answer (self, conn, false, rc, confirm, owed, topic, topic_len);
    return ZCH_EDGE_NEXT;
}

//  True when a PUB of topic would pass every check of s_handle_publish
//  (which answers the failures at once).
static bool
s_may_publish (self_t *self, zch_conn_t *conn, const char *topic, size_t topic_len, size_t payload_len)
{
    return zch_frame_pub_would_pass (conn, topic, topic_len, payload_len, &self->guard,
                                     &self->config->secure, self->config->max_payload);
}

//  A client is going: the confirms owed to it are not written.
void
source_commands_on_close (void *ctx, zch_conn_t *conn)
{
    self_t *self = ctx;
    if (self->confirm)
        zch_confirm_forget (self->confirm, conn);
}

//  One line from a client.
int
source_commands_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len)
{
    self_t *self = ctx;
    if (self->config->workerman)
        return s_handle_publish (self, conn, SOURCE_DEFAULT_TOPIC, strlen (SOURCE_DEFAULT_TOPIC),
                                 line, len);
    zch_command_t command;
    const char *reason;
    int parsed = zch_command_parse (line, len, &command, &reason);
    //  While confirms are owed, only publishing goes on: any other answer
    //  would overtake them
    if (self->confirm && zch_confirm_owed (self->confirm, conn)
    &&  (parsed || (command.verb != ZCH_VERB_PUB && command.verb != ZCH_VERB_PUBLISH
                    && command.verb != ZCH_VERB_EMPTY)))
        return ZCH_EDGE_PAUSE;
    if (parsed) {
        s_reply_error (self, conn, "", reason);
        return ZCH_EDGE_NEXT;
    }
    uintptr_t flags = (uintptr_t) zch_conn_user (conn);
    if (zch_guard_text_request (&self->guard, conn, &command))
        return ZCH_EDGE_NEXT;
    switch (command.verb) {
        case ZCH_VERB_PUB:
            return s_handle_publish (self, conn, command.arg, command.arg_len,
                                     command.rest, command.rest_len);
        case ZCH_VERB_PUBLISH:
            return s_handle_publish (self, conn, SOURCE_DEFAULT_TOPIC, strlen (SOURCE_DEFAULT_TOPIC),
                                     command.rest, command.rest_len);
        case ZCH_VERB_VERBOSE:
            if (command.arg_len == 2 && strncasecmp (command.arg, "on", 2) == 0)
                flags |= SOURCE_CLIENT_VERBOSE;
            else
                flags &= ~(uintptr_t) SOURCE_CLIENT_VERBOSE;
            zch_conn_set_user (conn, (void *) flags);
            s_reply (conn, "+OK");
            break;
        case ZCH_VERB_SUB:
        case ZCH_VERB_UNSUB:
            s_reply_error (self, conn, "", "subscriptions are served by the subscriber front-end");
            break;
        case ZCH_VERB_ENQUEUE:
        case ZCH_VERB_WATCH:
        case ZCH_VERB_UNWATCH:
            s_reply_error (self, conn, "", "work queues are served by the subscriber front-end");
            break;
        default:
            s_reply_error (self, conn, "", "unknown command");
            break;
    }
    return ZCH_EDGE_NEXT;
}
