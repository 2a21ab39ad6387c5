/*  zch_ws: one WebSocket (RFC 6455) connection, as a layer between the
    edge and the socket (or TLS).

    It answers the HTTP upgrade (zch_ws_http), then runs wslay over the
    socket. What it hands up is the frame protocol, so a WebSocket client
    is served by the frame handlers a front-end already has: a binary
    message carries frame-protocol bytes as they are, a text message one
    JSON request (zch_ws_json) turned into a frame. What the role writes
    (whole frames) goes out as one message per frame: JSON text, or binary
    once the client spoke binary. A plain GET that is no upgrade gets a
    static file, the metrics, or an error, then the connection closes.   */
#ifndef ZCH_WS_H_INCLUDED
#define ZCH_WS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct zch_ws_t zch_ws_t;

typedef struct {
    const char *origins;        //  comma-separated Origin allow-list; "" or NULL: any
    const char *root;           //  static files served on plain GETs; "" or NULL: none
    size_t max_message;         //  largest message a client may send
} zch_ws_config_t;

//  The transport below: like recv and send (bytes, 0 at end, -1 and errno).
typedef ssize_t (zch_ws_read_fn) (void *io, void *buf, size_t len);
typedef ssize_t (zch_ws_write_fn) (void *io, const void *buf, size_t len);

//  A connection in its HTTP phase over io. config must outlive it.
//  Returns NULL when out of memory.
zch_ws_t *zch_ws_new (const zch_ws_config_t *config, zch_ws_read_fn *read,
                      zch_ws_write_fn *write, void *io);

//  Frees it and NULLs the pointer (the socket is the caller's).
void zch_ws_destroy (zch_ws_t **self_p);

//  Like recv, but yields frame-protocol bytes: what the client's messages
//  carried. 0 once the connection ended (a close, a refused or served
//  HTTP request, end of stream); -1 with errno EAGAIN when nothing is
//  ready, or another errno when the transport failed.
ssize_t zch_ws_read (zch_ws_t *self, void *buf, size_t len);

//  True when zch_ws_read has bytes ready without reading the socket.
bool zch_ws_buffered (zch_ws_t *self);

//  Takes whole frames from data (as the role queued them) and sends each
//  as a message. Returns the bytes taken, or -1 with errno EAGAIN when
//  its queue is full, or another errno when the transport failed.
ssize_t zch_ws_write (zch_ws_t *self, const void *data, size_t len);

//  Sends what is queued. Returns 0, or -1 when the transport failed.
int zch_ws_send (zch_ws_t *self);

//  Bytes queued for the socket, not yet taken by it.
size_t zch_ws_queued (zch_ws_t *self);

//  True while something queued waits for the socket.
bool zch_ws_wants_write (zch_ws_t *self);

//  Notes why the connection is closing (the first reason wins).
void zch_ws_set_close (zch_ws_t *self, uint16_t code, const char *reason);

//  Queues the close frame (with the reason noted, else 1000) once.
void zch_ws_end (zch_ws_t *self);

//  Queues a ping (keepalive) when the connection is open.
void zch_ws_ping (zch_ws_t *self);

//  True (once) when bytes came from the client since the last call:
//  control frames keep a client alive though they carry no request.
bool zch_ws_heard (zch_ws_t *self);

//  The HTTP status the connection was refused with, or 0.
int zch_ws_refused (zch_ws_t *self);

//  True while what the role writes goes out as JSON text (the client has
//  not spoken binary).
bool zch_ws_speaks_json (zch_ws_t *self);

//  A text message made ready by the role (a delivery's JSON, built once
//  for every client of a fan-out) travels through the edge as one more
//  frame, ["text", str] (a verb no client sends; the str as str 32), and
//  zch_ws_write sends the str as it is.
#define ZCH_WS_TEXT_OVERHEAD (4 + 1 + 5 + 5)

//  Writes that frame for text (len bytes) into out, which holds len +
//  ZCH_WS_TEXT_OVERHEAD bytes. Returns the frame's size.
size_t zch_ws_text_frame (uint8_t *out, const char *text, size_t len);

#endif
