/*  zch_ws_http: the HTTP side of a WebSocket port: the upgrade request,
    parsed by http-parser, and the answers (101, an error, a static file).
    No sockets: the caller feeds bytes and sends what it gets back.         */
#ifndef ZCH_WS_HTTP_H_INCLUDED
#define ZCH_WS_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define ZCH_WS_REQUEST_MAX  8192    //  an upgrade request's head, at most
#define ZCH_WS_SUBPROTOCOL  "zchannel.v1"

typedef struct {
    bool get;                       //  the method is GET
    bool http11;                    //  HTTP/1.1 or later
    bool upgrade;                   //  Upgrade: websocket and Connection: upgrade
    char path [256];                //  the URL's path, query dropped
    char key [64];                  //  Sec-WebSocket-Key
    char version [16];              //  Sec-WebSocket-Version
    char protocols [256];           //  Sec-WebSocket-Protocol, repeats joined by ","
    char origin [256];              //  Origin, "" when absent
    char upgrade_header [64];
    char connection [128];
    size_t head_len;                //  bytes of the request's head
} zch_ws_request_t;

//  Parses the request head in buf[0..len). Returns 1 when it is whole
//  (request filled), 0 when more bytes are needed, -1 when malformed
//  (*reason set to a static text).
int zch_ws_request_parse (const char *buf, size_t len, zch_ws_request_t *request,
                          const char **reason);

//  Checks the request as a WebSocket upgrade. origins is a comma-separated
//  allow-list ("" or NULL: any). Returns 0 with accept (29 bytes) filled
//  and *subprotocol true when zchannel.v1 was asked for, or an HTTP status
//  (400, 403, 426) with *reason set.
int zch_ws_request_check (const zch_ws_request_t *request, const char *origins,
                          char accept [32], bool *subprotocol, const char **reason);

//  Writes the answer to an upgrade into out (out_cap bytes). Returns its
//  length.
size_t zch_ws_http_switch (char *out, size_t out_cap, const char *accept, bool subprotocol);

//  Builds a whole answer: status line, headers (Content-Type type,
//  Connection: close), body. Returns a malloc'd answer (caller frees)
//  with its length, or NULL when out of memory.
char *zch_ws_http_body (int status, const char *type, const char *body, size_t body_len, size_t *len);

//  Builds an error answer (status, a short text body, Connection: close).
//  Returns a malloc'd answer (caller frees) with its length, or NULL.
char *zch_ws_http_error (int status, const char *text, size_t *len);

//  Builds the answer to a plain GET of path from the files under root
//  ("/" is index.html): 200 with the file, or 404. Returns a malloc'd
//  answer (caller frees) with its length, or NULL when out of memory.
char *zch_ws_http_file (const char *root, const char *path, size_t *len);

#endif
