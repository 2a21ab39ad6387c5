/*  zch_edge_private: the edge's structures, shared by its parts: zch_edge.c
    (listeners, accept, flush), zch_conn.c (one client), zch_edge_timers.c
    (timer lists) and zch_edge_limits.c (admission, TLS failures, the
    edge's own errors). Nothing outside the edge includes this.            */
#ifndef ZCH_EDGE_PRIVATE_H_INCLUDED
#define ZCH_EDGE_PRIVATE_H_INCLUDED

#include "zch_edge.h"

#include "zch_text.h"

#include <sys/socket.h>

#define ZCH_READ_CHUNK      (64 * 1024)
#define ZCH_REPLY_MAX       384         //  the edge's own last words to a client

//  A connection's place on one of the edge's timer lists
#define ZCH_EDGE_IDLE          0           //  must finish a command by then
#define ZCH_EDGE_KEEPALIVE     1           //  must say something by then
#define ZCH_EDGE_TIMERS        2

typedef struct {
    zch_conn_t *prev, *next;
    int64_t at;                     //  0: not on the list
} zch_edge_timer_t;

struct zch_conn_t {
    zch_watch_t watch;                  //  first, so a watch is its conn
    zch_edge_t *edge;
    uint64_t id;
    void *user;
    char peer [64];
    //  Input not yet consumed; NULL while empty, so idle clients cost nothing
    char *in;
    size_t in_len, in_cap;
    zch_line_scanner_t scanner;
    //  Output not yet written: out [out_start .. out_len)
    char *out;
    size_t out_start, out_len, out_cap;
    uint64_t written;                   //  bytes the kernel (or the TLS or WebSocket layer) took, ever
    uint64_t written_cap;               //  after a slow-consumer drop: how far the queued bytes got
    bool mid_line;                      //  the kernel has part of a line
    size_t frame_end;                   //  frame mode: first frame boundary >= out_start
    bool dirty;                         //  in the edge's dirty list
    bool paused;                        //  in the edge's paused list
    bool eof;                           //  the client sent all it will send
    bool closing;                       //  reading stopped, closes when written
    bool dead;                          //  close now, discard output
    int64_t close_deadline;
    zch_conn_t *prev, *next;            //  all clients
    zch_edge_timer_t timers [ZCH_EDGE_TIMERS];
    bool spoke;                         //  a whole command came at least once
    zch_tls_conn_t *tls;                //  NULL on plain TCP
    zch_ws_t *ws;                       //  NULL unless it came on the WebSocket listener
    const void *auth;                   //  zch_guard's view of who it is
    int auth_failures;
};

struct zch_edge_t {
    zch_loop_t *loop;
    zch_watch_t listener;
    zch_watch_t ws_listener;            //  WebSocket clients, fd -1 when none
    const zch_ws_config_t *ws_config;
    int64_t ws_ping_at;                 //  next keepalive ping to WebSocket clients
    bool accepting;
    int64_t accept_resume_at;           //  after EMFILE, 0 otherwise
    zch_edge_config_t config;
    zch_edge_handlers_t handlers;
    void *ctx;
    zch_conn_t *conns;                  //  list head
    size_t conn_count;
    //  Clients with output to write or closing, and paused clients
    zch_conn_t **dirty;
    size_t dirty_count, dirty_cap;
    zch_conn_t **paused;
    size_t paused_count, paused_cap;
    char scratch [ZCH_READ_CHUNK];
    zch_edge_stats_t stats;
    //  What the edge itself says to a slow or over-long client, per mode
    char slow_reply [ZCH_REPLY_MAX];
    size_t slow_reply_len;
    char too_long_reply [ZCH_REPLY_MAX];
    size_t too_long_reply_len;
    //  Timer lists, soonest first (every entry of a list has the same period)
    zch_conn_t *timer_head [ZCH_EDGE_TIMERS], *timer_tail [ZCH_EDGE_TIMERS];
    int64_t refusal_logged_at;          //  refusals are logged once a second at most
    int64_t timeout_logged_at;          //  and so are timeouts
};

//  zch_edge.c: puts conn on the flush list; on the paused list (0 or -1).
void zch_conn_mark_dirty (zch_conn_t *conn);
int zch_edge_pause (zch_edge_t *self, zch_conn_t *conn);

//  zch_conn.c: a client accepted on fd (NULL: fd closed); frees one now
//  (from the flush or the edge's destroy); makes room for len bytes of
//  output (0 or -1); writes what the kernel takes; sets its interest set;
//  offers a paused client its input again.
zch_conn_t *zch_conn_new (zch_edge_t *edge, int fd, bool ws);
void zch_conn_free (zch_conn_t *conn);
int zch_conn_make_room (zch_conn_t *conn, size_t len);
void zch_conn_write_out (zch_conn_t *conn);
void zch_conn_update_interest (zch_conn_t *conn);
void zch_conn_resume (zch_conn_t *conn);

//  zch_edge_timers.c: the timer lists (a leaf): takes conn off a list;
//  puts it at a list's end, due at; runs the idle timer as the client
//  owes a command or not; takes the first due client off a list (NULL:
//  none is due).
void zch_edge_timer_stop (zch_conn_t *conn, int which);
void zch_edge_timer_start (zch_conn_t *conn, int which, int64_t at);
void zch_conn_idle_update (zch_conn_t *conn);
zch_conn_t *zch_edge_timer_due (zch_edge_t *self, int which, int64_t now);

//  zch_edge_limits.c: admission at accept; a TLS client that failed.
int zch_edge_admit (zch_edge_t *self, int fd, const struct sockaddr_storage *address);
void zch_conn_tls_failed (zch_conn_t *conn);

//  zch_edge_limits.c: the edge's own error in a framed mode (ZCH_EDGE_FRAMES:
//  an err frame; ZCH_EDGE_CHANNEL: an {type: error, channel: code, data:
//  text} frame). Returns its size, 0 if it does not fit cap.
size_t zch_edge_error_reply (int framing, char *out, size_t cap, const char *code, const char *text);

#endif
