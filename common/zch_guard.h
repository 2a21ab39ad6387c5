/*  zch_guard: authentication and ACLs applied to one worker's clients.

    Both front-ends ask the guard before acting on a request. With no
    token table every request passes (and AUTH is answered "not
    enabled"). With one, a client must AUTH first: every other request
    but PING and QUIT answers "auth required"; a publish or subscribe
    outside its token's ACL answers "forbidden <topic>"; after
    max_failures failed AUTHs the client is closed and its address
    logged. Replies are lines or frames, as the client's port speaks.
    One guard per worker thread (its counters are not shared).             */
#ifndef ZCH_GUARD_H_INCLUDED
#define ZCH_GUARD_H_INCLUDED

#include "zch_auth.h"
#include "zch_edge.h"
#include "zch_text.h"

#define ZCH_AUTH_FAILURES_DEFAULT   3

typedef struct zch_guard_s {
    const char *role;           //  for log lines
    zch_auth_t *auth;           //  a reference the worker holds (zch_auth_ref); NULL: off
    int max_failures;           //  failed AUTHs before the close
    uint64_t auth_ok;
    uint64_t auth_failed;
    uint64_t auth_required;     //  requests refused before AUTH
    uint64_t forbidden;         //  publishes and subscriptions outside an ACL
    uint64_t auth_closed;       //  clients closed for repeated failures
    uint64_t revoked;           //  clients closed because a reload removed their token
    //  After a reload, for a client whose token stays: the first of what
    //  it holds that the token's new ACL no longer allows (the client is
    //  then closed), or NULL. NULL: nothing is held (the source).
    const char *(*held_refused) (void *ctx, zch_conn_t *conn, const zch_token_t *entry);
    void *held_ctx;
} zch_guard_t;

//  True when the client may make a request other than AUTH (exempt: PING,
//  QUIT and blank lines, which always may). Otherwise answers "auth
//  required" and returns false.
bool zch_guard_admits (zch_guard_t *self, zch_conn_t *conn, bool exempt);

//  The text requests both front-ends answer alike: admits the request
//  (zch_guard_admits), then answers PING, QUIT, blank lines and AUTH.
//  Returns true when the request is done with (answered, refused or the
//  connection closing), false when the role is to handle it.
bool zch_guard_text_request (zch_guard_t *self, zch_conn_t *conn, const zch_command_t *command);

//  Handles AUTH token[0..len): "+OK" / ["ok"], or "auth failed", and the
//  close after too many failures.
void zch_guard_auth (zch_guard_t *self, zch_conn_t *conn, const char *token, size_t len);

//  True when the client may publish to the valid topic; otherwise answers
//  "forbidden <topic>" and returns false.
bool zch_guard_publish (zch_guard_t *self, zch_conn_t *conn, const char *topic, size_t len);

//  Takes a new token table (*auth_p, a reference; NULLed) after a reload
//  and drops the old one: a client whose token is still there (same
//  secret) keeps its connection under the token's new ACLs (unless it
//  holds a subscription they no longer allow: "forbidden <pattern>
//  (permissions changed)", then closed); one whose
//  token is gone gets "token revoked" (an err frame "auth_revoked") and
//  is closed, and so is one that never authenticated when tokens were
//  off and are now on ("auth required").
void zch_guard_rekey (zch_guard_t *self, zch_auth_t **auth_p, zch_edge_t *edge, zch_edge_t *frame_edge,
                      zch_edge_t *channel_edge);

//  True when the client may subscribe to the valid pattern; otherwise
//  answers "forbidden <pattern>" and returns false.
bool zch_guard_subscribe (zch_guard_t *self, zch_conn_t *conn, const char *pattern, size_t len);

#endif
