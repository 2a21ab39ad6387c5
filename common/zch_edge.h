/*  zch_edge: the TCP edge shared by both front-ends.

    One edge serves one listening socket inside one worker's loop: it
    accepts clients, splits their input into lines or, in frame mode, into
    length-prefixed frames (bounded), hands each one to the role, and queues the role's output per client with a hard
    limit. Output is written once per loop turn (zch_edge_flush), so many
    deliveries become one send. Connections are only freed at that safe
    point, never inside a handler.                                          */
#ifndef ZCH_EDGE_H_INCLUDED
#define ZCH_EDGE_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_limits.h"
#include "zch_loop.h"
#include "zch_tls.h"
#include "zch_ws.h"

typedef struct zch_edge_t zch_edge_t;
typedef struct zch_conn_t zch_conn_t;

//  What a line handler tells the edge
#define ZCH_EDGE_NEXT   0       //  line consumed, go on
#define ZCH_EDGE_PAUSE  1       //  not consumed: stop reading this client until zch_edge_resume

//  How a client's input is cut (zch_edge_config_t.framing)
#define ZCH_EDGE_LINES  0       //  text lines, LF or CRLF (proto/zch_text.h)
#define ZCH_EDGE_FRAMES 1       //  4-byte length + msgpack body (proto/zch_frame.h)
#define ZCH_EDGE_CHANNEL 2      //  walkor/channel frames: a length counting itself (proto/zch_chanmsg.h)

typedef struct {
    //  One complete line (terminator stripped), or in frame mode one
    //  frame's body (length prefix stripped). Returns ZCH_EDGE_NEXT or
    //  ZCH_EDGE_PAUSE. May write to and close conn, never free it.
    int (*on_line) (void *ctx, zch_conn_t *conn, const char *line, size_t len);
    //  The connection is about to be freed; drop every reference to it.
    void (*on_close) (void *ctx, zch_conn_t *conn);
} zch_edge_handlers_t;

typedef struct {
    const char *role;           //  for log lines: "source", "subscriber"
    const char *greeting;       //  sent on accept, without newline; may be NULL
    int framing;                //  ZCH_EDGE_LINES (the default) or ZCH_EDGE_FRAMES
    size_t max_line;            //  longest accepted line, terminator excluded, or frame body
    size_t max_output;          //  pending output per client before it is dropped
    int close_grace_ms;         //  how long a closing client may take to read its last bytes
    //  Limits against hostile clients; 0 or NULL turns each off
    size_t max_clients;         //  clients at once, counted in clients when shared
    atomic_size_t *clients;     //  a count shared by every worker's edge on one port; NULL: own
    int idle_timeout_ms;        //  to send a first whole command, and to finish any command begun
    int keepalive_ms;           //  a client that sends nothing this long is closed
    zch_rate_table_t *rates;    //  connections per second per address, shared by the workers
    double conn_rate;           //  tokens per second, with a burst of conn_burst
    double conn_burst;
    zch_tls_t *tls;             //  TLS on this port (borrowed, shared); NULL: plain TCP
} zch_edge_config_t;

typedef struct {
    uint64_t accepted;
    uint64_t closed;
    uint64_t lines_too_long;    //  or frames, in frame mode
    uint64_t slow_consumers;    //  clients dropped for exceeding max_output
    uint64_t dropped_bytes;     //  output discarded with them
    uint64_t refused_clients;   //  over max_clients
    uint64_t rate_limited;      //  over the per-address connection rate
    uint64_t idle_timeouts;     //  no whole command within idle_timeout_ms
    uint64_t keepalive_timeouts;    //  silent for keepalive_ms
    uint64_t tls_failures;      //  TLS handshakes or records that failed
    uint64_t ws_refused;        //  WebSocket upgrades refused (bad request, origin, version)
} zch_edge_stats_t;

//  Serves listen_fd (taken over: the edge closes it; -1: none) in loop. The config's
//  strings must outlive the edge. Returns NULL when out of memory.
zch_edge_t *zch_edge_new (zch_loop_t *loop, int listen_fd, const zch_edge_config_t *config,
                          const zch_edge_handlers_t *handlers, void *ctx);

//  Also serves WebSocket clients on listen_fd (taken over), a frame edge's
//  second listener: their messages reach the same handlers as frames.
//  config must outlive the edge. Returns 0, or -1 when it cannot watch it.
int zch_edge_listen_ws (zch_edge_t *self, int listen_fd, const zch_ws_config_t *config);

//  Closes every client (calling on_close) and the listener; NULLs the pointer.
void zch_edge_destroy (zch_edge_t **self_p);

//  Writes queued output and frees connections that finished closing.
//  Call once per loop turn, after the handlers ran.
void zch_edge_flush (zch_edge_t *self);

//  Offers buffered input again to every paused client, then reads again.
void zch_edge_resume (zch_edge_t *self);

//  True when some client is paused.
bool zch_edge_has_paused (zch_edge_t *self);

//  Stops accepting new clients (for draining at shutdown).
void zch_edge_stop_accepting (zch_edge_t *self);

//  Asks every client to close once its output is written, telling each
//  why first when text is not NULL (zch_conn_say: "-ERR <text>", an err
//  frame with code) so that none sees a bare end of stream.
void zch_edge_close_all (zch_edge_t *self, const char *code, const char *text);

//  What the front-ends tell their clients when they stop.
#define ZCH_EDGE_BYE_CODE   "shutting_down"
#define ZCH_EDGE_BYE_TEXT   "shutting down"
#define ZCH_EDGE_FATAL_TEXT "internal error, closing"

//  Calls fn for every client (fn may close it, not free it).
typedef void (zch_conn_fn) (zch_conn_t *conn, void *ctx);
void zch_edge_each (zch_edge_t *self, zch_conn_fn *fn, void *ctx);

//  Bytes queued and not yet written, over all clients.
size_t zch_edge_pending_output (zch_edge_t *self);

//  The client with the most output queued and not yet written (NULL when
//  none has any), and how much in *pending.
zch_conn_t *zch_edge_most_behind (zch_edge_t *self, size_t *pending);

//  Connected clients.
size_t zch_edge_client_count (zch_edge_t *self);

//  Counters since start.
const zch_edge_stats_t *zch_edge_stats (zch_edge_t *self);

//  Changes max_line and max_output live (after a reload). Lines already
//  buffered and output already queued are kept; the limits apply from the
//  next read or write.
void zch_edge_set_limits (zch_edge_t *self, size_t max_line, size_t max_output);

//  Changes the limits against hostile clients live (a reload): max_clients,
//  idle_timeout_ms, keepalive_ms, conn_rate and conn_burst from from;
//  timers running keep their deadline, the next ones take the new values.
void zch_edge_set_guards (zch_edge_t *self, const zch_edge_config_t *from);

//  Drops conn as a slow consumer, as zch_conn_write does past max_output
//  (counted, logged, told, closed after the grace period).
void zch_conn_drop_slow (zch_conn_t *conn);

//  Queues data for the client (in frame mode, whole frames only). If that
//  would pass max_output the client is a slow consumer: its queued output
//  is dropped, "-ERR slow consumer" (an err frame in frame mode) is queued
//  instead and it is closed after the grace period. Returns 0, or -1
//  when the data was not queued (the client is closing).
int zch_conn_write (zch_conn_t *conn, const void *data, size_t len);

//  Reserves len bytes at the end of the client's output for the caller to
//  fill in place (then zch_conn_commit). Same limits as zch_conn_write;
//  returns NULL when nothing may be queued.
char *zch_conn_reserve (zch_conn_t *conn, size_t len);

//  Marks len reserved bytes as written by the caller.
void zch_conn_commit (zch_conn_t *conn, size_t len);

//  Closes the client once its queued output is written (or the grace
//  period ends). No more lines are read from it.
void zch_conn_close (zch_conn_t *conn);

//  Bytes queued for the client and not yet written.
size_t zch_conn_pending (zch_conn_t *conn);

//  Bytes of output written so far (handed to the kernel, or to the TLS or
//  WebSocket layer), ever: a byte queued when this plus zch_conn_pending was
//  N is written once this reaches N + 1.
uint64_t zch_conn_written (zch_conn_t *conn);

//  True once the client is closing.
bool zch_conn_closing (zch_conn_t *conn);

//  The role's own per-client state.
void *zch_conn_user (zch_conn_t *conn);
void zch_conn_set_user (zch_conn_t *conn, void *user);

//  "ip:port" of the client.
const char *zch_conn_peer (zch_conn_t *conn);

//  A process-unique number for the client, never reused.
uint64_t zch_conn_id (zch_conn_t *conn);

//  What the client authenticated as (zch_guard's), NULL until it did.
const void *zch_conn_auth (zch_conn_t *conn);
void zch_conn_set_auth (zch_conn_t *conn, const void *auth);

//  Counts one more failed AUTH from the client; returns the count so far.
int zch_conn_auth_failed (zch_conn_t *conn);

//  True when the client's port speaks frames (zch_edge_config_t.framing).
bool zch_conn_framed (zch_conn_t *conn);

//  True when the client came on the WebSocket listener.
bool zch_conn_websocket (zch_conn_t *conn);

//  True when the client is a WebSocket client that speaks JSON text: a
//  ready text message may be written to it (zch_ws_text_frame).
bool zch_conn_ws_json (zch_conn_t *conn);

//  Last words before a close: the edge's own error as the client's port
//  speaks ("-ERR <text>", an err frame with code, a channel error event),
//  queued even past max_output.
void zch_conn_say (zch_conn_t *conn, const char *code, const char *text);

#endif
