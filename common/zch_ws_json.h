/*  zch_ws_json: the WebSocket text protocol, one JSON object per message,
    mapped onto the frame protocol so that both front-ends serve browsers
    with the frame handlers they already have.
        client: {"op":"sub","pattern":p,"snapshot":true}  {"op":"sub","pattern":t,"from":seq}
                {"op":"unsub","pattern":p}  {"op":"pub","topic":t,"payload":s,"headers":{..}}
                {"op":"auth","token":s}  {"op":"ping"}  {"op":"verbose","on":b}
        server: {"op":"ok"}  {"op":"ok","epoch":e}  {"op":"ok","topic":t,"seq":n,"epoch":e}
                {"op":"pong"}  {"op":"err","code":c,"detail":s}
                {"op":"msg","topic":t,"seq":n,"ts":ms,"headers":{..},"payload":s}
    A payload that is not valid UTF-8 travels as base64 with "enc":"base64",
    both ways. JSON by jansson, msgpack by msgpack-c.                       */
#ifndef ZCH_WS_JSON_H_INCLUDED
#define ZCH_WS_JSON_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "zch_frame.h"

//  Error codes of zch_ws_json_request, sent back as {"op":"err"}
#define ZCH_WS_E_JSON       "bad_json"      //  not one JSON object
#define ZCH_WS_E_REQUEST    "bad_request"   //  an op without its fields, or of the wrong types
#define ZCH_WS_E_OP         "unknown_op"    //  an op no side sends
#define ZCH_WS_E_UTF8       "bad_utf8"      //  the text is not UTF-8 (the connection fails: 1007)

//  Turns one text message into one frame (length prefix included) in
//  frame, which holds frame_cap bytes. Returns the frame's size, or 0
//  with *code (a ZCH_WS_E_*) and detail filled, or 0 with *code NULL when
//  the frame does not fit frame_cap.
size_t zch_ws_json_request (const char *text, size_t len, uint8_t *frame, size_t frame_cap,
                            const char **code, char *detail, size_t detail_size);

//  Turns a decoded server frame (zch_frame_decode) into its JSON text.
//  Returns a string the caller frees, with its length in *json_len, or
//  NULL when out of memory.
char *zch_ws_json_reply (const zch_frame_cmd_t *cmd, size_t *json_len);

//  A delivery as JSON: msg (a ZCH_FRAME_MSG command: topic, seq, payload,
//  headers) with "ts", the time the message entered the system in ms
//  since the Unix epoch, from ts in ns (0: none, no "ts"). Returns a
//  string the caller frees, with its length in *json_len, or NULL when
//  out of memory.
char *zch_ws_json_delivery (const zch_frame_cmd_t *msg, uint64_t ts, size_t *json_len);

//  {"op":"err","code":code,"detail":detail} for the WebSocket layer's own
//  errors. The caller frees it; NULL when out of memory.
char *zch_ws_json_error (const char *code, const char *detail, size_t *json_len);

#endif
