/*  zch_frame_reply: short server frames written to a frame-protocol
    client: ["ok"], ["ok", text], ["pong"], ["err", code, text]. Shared by both
    front-ends' frame handlers.                                             */
#ifndef ZCH_FRAME_REPLY_H_INCLUDED
#define ZCH_FRAME_REPLY_H_INCLUDED

#include "zch_edge.h"
#include "zch_frame.h"

//  Error codes the front-ends send besides zch_frame_decode's
#define ZCH_FRAME_E_TOPIC       "bad_topic"         //  topic or pattern breaks the rules
#define ZCH_FRAME_E_TOO_LARGE   "too_large"         //  payload over --max-payload
#define ZCH_FRAME_E_WRONG_PORT  "wrong_port"        //  a request the other front-end serves
#define ZCH_FRAME_E_NOT_SUB     "not_subscribed"    //  unsub of a pattern not subscribed
#define ZCH_FRAME_E_OPTION      "bad_option"        //  sub options not served
#define ZCH_FRAME_E_INTERNAL    "internal"          //  out of memory and the like

//  Writes ["ok"] or ["pong"].
void zch_frame_reply (zch_conn_t *conn, zch_frame_verb_t verb);

//  Writes ["ok", text] (text at most 255 bytes).
void zch_frame_reply_ok_text (zch_conn_t *conn, const char *text);

//  Tells any client an error as its port speaks: "-ERR <text>" on a text
//  port, ["err", code, text] on a frame port.
void zch_conn_error (zch_conn_t *conn, const char *code, const char *text);

//  Writes ["err", code, "<prefix><reason>"].
void zch_frame_reply_err (zch_conn_t *conn, const char *code, const char *prefix,
                          const char *reason);

#endif
