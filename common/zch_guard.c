/*  zch_guard: authentication and ACLs applied to one worker's clients.     */
#include "zch_guard.h"
#include "zch_frame_reply.h"
#include "zch_log.h"
#include "zch_topic.h"

//  Answers an error as the client speaks: a line or an err frame.
static void
s_error (zch_conn_t *conn, const char *code, const char *text, const char *topic, size_t len)
{
    char reason [ZCH_TOPIC_MAX + 64];
    snprintf (reason, sizeof reason, "%s%s%.*s", text, topic? " ": "", (int) len, topic? topic: "");
    zch_conn_error (conn, code, reason);
}

bool
zch_guard_admits (zch_guard_t *self, zch_conn_t *conn, bool exempt)
{
    if (!self->auth || exempt || zch_conn_auth (conn))
        return true;
    self->auth_required++;
    s_error (conn, "auth_required", "auth required", NULL, 0);
    return false;
}

void
zch_guard_auth (zch_guard_t *self, zch_conn_t *conn, const char *token, size_t len)
{
    if (!self->auth) {
        s_error (conn, "auth_off", "authentication is not enabled", NULL, 0);
        return;
    }
    const zch_token_t *entry = len? zch_auth_check (self->auth, token, len): NULL;
    if (entry) {
        self->auth_ok++;
        zch_conn_set_auth (conn, entry);
        zch_debug ("%s: client %s authenticated as '%s'", self->role, zch_conn_peer (conn),
                   zch_token_name (entry));
        if (zch_conn_framed (conn))
            zch_frame_reply (conn, ZCH_FRAME_OK);
        else
            zch_conn_write (conn, "+OK\n", 4);
        return;
    }
    self->auth_failed++;
    zch_conn_set_auth (conn, NULL);     //  a failed AUTH also ends an earlier one
    int failures = zch_conn_auth_failed (conn);
    s_error (conn, "auth_failed", "auth failed", NULL, 0);
    if (failures >= self->max_failures) {
        self->auth_closed++;
        zch_notice ("%s: client %s failed AUTH %d times, closing (auth failures: %llu)",
                    self->role, zch_conn_peer (conn), failures,
                    (unsigned long long) self->auth_failed);
        zch_conn_close (conn);
    }
    else
        zch_info ("%s: client %s failed AUTH (%d of %d)", self->role, zch_conn_peer (conn),
                  failures, self->max_failures);
}

//  Counts and answers a request outside the client's ACL.
static bool
s_forbidden (zch_guard_t *self, zch_conn_t *conn, const char *what, const char *topic, size_t len)
{
    self->forbidden++;
    const zch_token_t *entry = zch_conn_auth (conn);
    zch_info ("%s: client %s (token '%s') may not %s %.*s (forbidden: %llu)", self->role,
              zch_conn_peer (conn), zch_token_name (entry), what, (int) len, topic,
              (unsigned long long) self->forbidden);
    s_error (conn, "forbidden", "forbidden", topic, len);
    return false;
}

bool
zch_guard_publish (zch_guard_t *self, zch_conn_t *conn, const char *topic, size_t len)
{
    const zch_token_t *entry = zch_conn_auth (conn);
    if (!self->auth || (entry && zch_token_may_publish (entry, topic, len)))
        return true;
    if (!entry)
        return zch_guard_admits (self, conn, false);
    return s_forbidden (self, conn, "publish to", topic, len);
}

bool
zch_guard_subscribe (zch_guard_t *self, zch_conn_t *conn, const char *pattern, size_t len)
{
    const zch_token_t *entry = zch_conn_auth (conn);
    if (!self->auth || (entry && zch_token_may_subscribe (entry, pattern, len)))
        return true;
    if (!entry)
        return zch_guard_admits (self, conn, false);
    return s_forbidden (self, conn, "subscribe to", pattern, len);
}

//  What a rekey needs for each client.
typedef struct {
    zch_guard_t *guard;
    const zch_auth_t *auth;     //  the new table
    bool was_off;               //  no table before
} s_rekey_t;

static void
s_rekey_conn (zch_conn_t *conn, void *ctx)
{
    s_rekey_t *rekey = ctx;
    const zch_token_t *entry = zch_conn_auth (conn);
    if (zch_conn_closing (conn))
        return;
    if (!rekey->auth) {
        zch_conn_set_auth (conn, NULL);     //  tokens off: nothing to point into
        return;
    }
    if (entry) {
        const zch_token_t *now = zch_auth_same (rekey->auth, entry);
        zch_conn_set_auth (conn, now);
        const char *refused = now && rekey->guard->held_refused?
            rekey->guard->held_refused (rekey->guard->held_ctx, conn, now): NULL;
        if (now && !refused)
            return;
        if (refused) {
            char reason [ZCH_TOPIC_MAX + 64];
            snprintf (reason, sizeof reason, "forbidden %s (permissions changed)", refused);
            zch_notice ("%s: client %s closed: token '%s' may no longer follow %s (tokens reloaded)",
                        rekey->guard->role, zch_conn_peer (conn), zch_token_name (now), refused);
            zch_conn_say (conn, "forbidden", reason);
        }
        else {
            zch_notice ("%s: client %s closed: its token '%s' was removed (tokens reloaded)",
                        rekey->guard->role, zch_conn_peer (conn), zch_token_name (entry));
            zch_conn_say (conn, "auth_revoked", "token revoked");
        }
    }
    else
    if (rekey->was_off) {
        zch_notice ("%s: client %s closed: tokens are now required (tokens reloaded)",
                    rekey->guard->role, zch_conn_peer (conn));
        zch_conn_say (conn, "auth_required", "auth required (tokens are now on)");
    }
    else
        return;
    rekey->guard->revoked++;
    zch_conn_close (conn);
}

void
zch_guard_rekey (zch_guard_t *self, zch_auth_t **auth_p, zch_edge_t *edge, zch_edge_t *frame_edge,
                 zch_edge_t *channel_edge)
{
    s_rekey_t rekey = { .guard = self, .auth = *auth_p, .was_off = self->auth == NULL };
    //  Every client moves to the new table before the old one may go
    zch_edge_each (edge, s_rekey_conn, &rekey);
    if (frame_edge)
        zch_edge_each (frame_edge, s_rekey_conn, &rekey);
    if (channel_edge)
        zch_edge_each (channel_edge, s_rekey_conn, &rekey);
    zch_auth_destroy (&self->auth);
    self->auth = *auth_p;
    *auth_p = NULL;
}

bool
zch_guard_text_request (zch_guard_t *self, zch_conn_t *conn, const zch_command_t *command)
{
    zch_verb_t verb = command->verb;
    if (!zch_guard_admits (self, conn, verb == ZCH_VERB_PING || verb == ZCH_VERB_QUIT
                                    || verb == ZCH_VERB_EMPTY || verb == ZCH_VERB_AUTH))
        return true;
    switch (verb) {
        case ZCH_VERB_PING:
            zch_conn_write (conn, "PONG\n", 5);
            return true;
        case ZCH_VERB_QUIT:
            zch_conn_close (conn);
            return true;
        case ZCH_VERB_EMPTY:
            return true;
        case ZCH_VERB_AUTH:
            zch_guard_auth (self, conn, command->arg, command->arg_len);
            return true;
        default:
            return false;
    }
}
