/*  zch_conn: one client of the edge: its input (lines or frames offered to
    the role), its output buffer, its TLS and WebSocket layers, slow and
    over-long clients, and its close.                                       */
#include "zch_edge_private.h"
#include "zch_chanmsg.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_net.h"
#include "zch_text.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ZCH_OUT_INITIAL     4096        //  first output buffer of a client

static atomic_uint_fast64_t s_next_conn_id = 1;

static void s_conn_ready (zch_watch_t *watch, uint32_t events);

//  The transport under a WebSocket (and everything else): TLS or the socket.
static ssize_t
s_raw_read (void *io, void *buf, size_t len)
{
    zch_conn_t *conn = io;
    return conn->tls? zch_tls_read (conn->tls, buf, len): recv (conn->watch.fd, buf, len, 0);
}

static ssize_t
s_raw_write (void *io, const void *data, size_t len)
{
    zch_conn_t *conn = io;
    return conn->tls? zch_tls_write (conn->tls, data, len):
                      send (conn->watch.fd, data, len, MSG_NOSIGNAL);
}

//  A client accepted on fd (a WebSocket client when ws), watched by the
//  edge's loop. Returns NULL (fd closed) when it cannot be set up.
zch_conn_t *
zch_conn_new (zch_edge_t *edge, int fd, bool ws)
{
    zch_conn_t *conn = calloc (1, sizeof *conn);
    if (!conn) {
        close (fd);
        return NULL;
    }
    if (edge->config.tls && !(conn->tls = zch_tls_conn_new (edge->config.tls, fd))) {
        close (fd);
        free (conn);
        return NULL;
    }
    if (ws && !(conn->ws = zch_ws_new (edge->ws_config, s_raw_read, s_raw_write, conn))) {
        zch_tls_conn_destroy (&conn->tls);
        close (fd);
        free (conn);
        return NULL;
    }
    conn->watch.fd = fd;
    conn->watch.handler = s_conn_ready;
    conn->edge = edge;
    conn->id = atomic_fetch_add (&s_next_conn_id, 1);
    conn->written_cap = UINT64_MAX;
    zch_net_peer_name (fd, conn->peer, sizeof conn->peer);
    int on = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (zch_loop_add (edge->loop, &conn->watch, EPOLLIN)) {
        zch_ws_destroy (&conn->ws);
        zch_tls_conn_destroy (&conn->tls);
        close (fd);
        free (conn);
        return NULL;
    }
    return conn;
}

//  Frees a connection now; only called from the flush or destroy.
void
zch_conn_free (zch_conn_t *conn)
{
    zch_edge_t *edge = conn->edge;
    if (edge->handlers.on_close)
        edge->handlers.on_close (edge->ctx, conn);
    zch_loop_remove (edge->loop, &conn->watch);
    for (int which = 0; which < ZCH_EDGE_TIMERS; which++)
        zch_edge_timer_stop (conn, which);
    if (conn->ws && zch_ws_refused (conn->ws))
        edge->stats.ws_refused++;
    zch_ws_destroy (&conn->ws);
    zch_tls_conn_destroy (&conn->tls);
    if (edge->config.clients)
        atomic_fetch_sub (edge->config.clients, 1);
    //  Unread input would make close() reset the connection and throw
    //  away what the kernel still has to send, the last error included
    char discard [4096];
    for (int i = 0; i < 16 && recv (conn->watch.fd, discard, sizeof discard, 0) > 0; i++)
        ;
    close (conn->watch.fd);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        edge->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    edge->conn_count--;
    edge->stats.closed++;
    zch_debug ("%s: client %s closed", edge->config.role, conn->peer);
    free (conn->in);
    free (conn->out);
    free (conn);
}

//  Stops reading a client and schedules its close after the grace period.
void
zch_conn_close (zch_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    conn->close_deadline = zclock_mono () + conn->edge->config.close_grace_ms;
    zch_conn_mark_dirty (conn);
}

size_t
zch_conn_pending (zch_conn_t *conn)
{
    return conn->out_len - conn->out_start;
}

uint64_t
zch_conn_written (zch_conn_t *conn)
{
    return conn->written < conn->written_cap? conn->written: conn->written_cap;
}

bool
zch_conn_closing (zch_conn_t *conn)
{
    return conn->closing || conn->dead;
}

//  Drops a client that does not read: keeps the line or frame the kernel
//  already has part of (so the stream stays aligned), discards the rest,
//  and queues the error in its place.
static void
s_conn_drop_slow (zch_conn_t *conn)
{
    zch_edge_t *edge = conn->edge;
    size_t keep = conn->out_start;
    if (edge->config.framing != ZCH_EDGE_LINES)
        keep = conn->frame_end;
    else
    if (conn->mid_line) {
        char *line_end = memchr (conn->out + conn->out_start, '\n',
                                 conn->out_len - conn->out_start);
        if (line_end)
            keep = (size_t) (line_end - conn->out) + 1;
    }
    size_t dropped = conn->out_len - keep;
    conn->out_len = keep;
    //  What follows in place of the discarded bytes is not them
    conn->written_cap = conn->written + (keep - conn->out_start);
    edge->stats.slow_consumers++;
    edge->stats.dropped_bytes += dropped;
    zch_warning ("%s: slow consumer %s dropped, %zu bytes of output discarded (slow consumers: %llu)",
                 edge->config.role, conn->peer, dropped,
                 (unsigned long long) edge->stats.slow_consumers);
    //  max_output bounds what roles queue, not this last line
    if (zch_conn_make_room (conn, edge->slow_reply_len) == 0) {
        memcpy (conn->out + conn->out_len, edge->slow_reply, edge->slow_reply_len);
        conn->out_len += edge->slow_reply_len;
    }
    //  The kernel's buffer is full by now: grow it by a little so that the
    //  rest of the line and the error fit, and the client learns why
    int sndbuf = 0;
    socklen_t sndbuf_len = sizeof sndbuf;
    if (getsockopt (conn->watch.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sndbuf_len) == 0) {
        //  (a WebSocket's queue goes first, and its JSON is longer than frames)
        size_t needed = conn->out_len - conn->out_start + 64 * 1024;
        if (conn->ws)
            needed += zch_ws_queued (conn->ws) + conn->out_len - conn->out_start;
        if (needed < INT_MAX / 4) {
            sndbuf = sndbuf / 2 + (int) needed;    //  the kernel doubles it back
            setsockopt (conn->watch.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        }
    }
    zch_conn_close (conn);
}

//  Makes room for len more bytes of output, compacting or growing.
//  Returns 0, or -1 when out of memory.
int
zch_conn_make_room (zch_conn_t *conn, size_t len)
{
    if (conn->out_start == conn->out_len)
        conn->out_start = conn->out_len = conn->frame_end = 0;
    if (conn->out_cap - conn->out_len >= len)
        return 0;
    if (conn->out_start > 0) {
        memmove (conn->out, conn->out + conn->out_start, conn->out_len - conn->out_start);
        conn->out_len -= conn->out_start;
        conn->frame_end -= conn->out_start;
        conn->out_start = 0;
        if (conn->out_cap - conn->out_len >= len)
            return 0;
    }
    size_t new_cap = conn->out_cap? conn->out_cap: ZCH_OUT_INITIAL;
    while (new_cap - conn->out_len < len + ZCH_REPLY_MAX)
        new_cap *= 2;
    char *grown = realloc (conn->out, new_cap);
    if (!grown)
        return -1;
    conn->out = grown;
    conn->out_cap = new_cap;
    return 0;
}

char *
zch_conn_reserve (zch_conn_t *conn, size_t len)
{
    if (conn->closing || conn->dead)
        return NULL;
    size_t pending = conn->out_len - conn->out_start;
    if (pending + len > conn->edge->config.max_output) {
        s_conn_drop_slow (conn);
        return NULL;
    }
    if (zch_conn_make_room (conn, len)) {
        conn->dead = true;
        zch_conn_mark_dirty (conn);
        return NULL;
    }
    return conn->out + conn->out_len;
}

void
zch_conn_commit (zch_conn_t *conn, size_t len)
{
    conn->out_len += len;
    zch_conn_mark_dirty (conn);
}

int
zch_conn_write (zch_conn_t *conn, const void *data, size_t len)
{
    char *space = zch_conn_reserve (conn, len);
    if (!space)
        return -1;
    memcpy (space, data, len);
    zch_conn_commit (conn, len);
    return 0;
}

//  Writes the edge's own error to a client: a line, or an err frame.
void
zch_conn_say (zch_conn_t *conn, const char *code, const char *text)
{
    char reply [ZCH_REPLY_MAX];
    size_t len;
    if (conn->edge->config.framing != ZCH_EDGE_LINES)
        len = zch_edge_error_reply (conn->edge->config.framing, reply, sizeof reply, code, text);
    else {
        //  A long text is cut, keeping the line's end
        int n = snprintf (reply, sizeof reply, "-ERR %.*s\n", (int) sizeof reply - 7, text);
        len = n > 0? (size_t) n: 0;
    }
    if (zch_conn_make_room (conn, len) == 0) {
        //  past max_output on purpose: these are last words
        memcpy (conn->out + conn->out_len, reply, len);
        conn->out_len += len;
        zch_conn_mark_dirty (conn);
    }
}

//  Finds the next frame in buf, with zch_line_next's result codes.
static int
s_frame_next (zch_edge_t *edge, const char *buf, size_t len,
              const char **body, size_t *body_len, size_t *consumed)
{
    if (edge->config.framing == ZCH_EDGE_CHANNEL) {
        int rc = zch_chanmsg_next ((const uint8_t *) buf, len, edge->config.max_line,
                                   (const uint8_t **) body, body_len, consumed);
        return rc == ZCH_CHANMSG_FOUND? ZCH_LINE_FOUND:
               rc == ZCH_CHANMSG_NEED_MORE? ZCH_LINE_NEED_MORE: ZCH_LINE_TOO_LONG;
    }
    int rc = zch_frame_next ((const uint8_t *) buf, len, edge->config.max_line,
                             (const uint8_t **) body, body_len, consumed, NULL);
    return rc == ZCH_FRAME_FOUND? ZCH_LINE_FOUND:
           rc == ZCH_FRAME_NEED_MORE? ZCH_LINE_NEED_MORE: ZCH_LINE_TOO_LONG;
}

//  Offers complete lines (or frames) in buf to the role. Returns how many bytes were
//  consumed; stops early when the client pauses or closes.
static size_t
s_conn_parse (zch_conn_t *conn, const char *buf, size_t len)
{
    zch_edge_t *edge = conn->edge;
    size_t offset = 0;
    bool frames = edge->config.framing != ZCH_EDGE_LINES;
    while (!conn->paused && !conn->closing && !conn->dead) {
        const char *line;
        size_t line_len, consumed;
        int rc = frames? s_frame_next (edge, buf + offset, len - offset, &line, &line_len, &consumed):
                 zch_line_next (&conn->scanner, buf + offset, len - offset,
                                edge->config.max_line, &line, &line_len, &consumed);
        if (rc == ZCH_LINE_NEED_MORE)
            break;
        if (rc == ZCH_LINE_TOO_LONG) {
            edge->stats.lines_too_long++;
            zch_notice ("%s: client %s sent a %s over %zu bytes, closing", edge->config.role,
                        conn->peer, frames? "frame": "line", edge->config.max_line);
            zch_conn_write (conn, edge->too_long_reply, edge->too_long_reply_len);
            zch_conn_close (conn);
            return len;                 //  the rest of the stream is not trusted
        }
        conn->spoke = true;
        if (edge->handlers.on_line (edge->ctx, conn, line, line_len) == ZCH_EDGE_PAUSE) {
            conn->paused = true;
            if (zch_edge_pause (edge, conn)) {
                conn->dead = true;
                zch_conn_mark_dirty (conn);
            }
            zch_loop_modify (edge->loop, &conn->watch, conn->watch.events & ~EPOLLIN);
            break;
        }
        offset += consumed;
    }
    return offset;
}

//  Keeps the unconsumed tail buf [consumed..len) as the client's input.
//  Returns 0, or -1 when out of memory.
static int
s_conn_keep_input (zch_conn_t *conn, const char *buf, size_t len, size_t consumed)
{
    size_t rest = len - consumed;
    if (rest == 0) {
        free (conn->in);                //  idle clients hold no buffer
        conn->in = NULL;
        conn->in_len = conn->in_cap = 0;
        return 0;
    }
    if (buf == conn->in) {
        memmove (conn->in, conn->in + consumed, rest);
        conn->in_len = rest;
        return 0;
    }
    if (conn->in_cap < rest) {
        size_t new_cap = rest < ZCH_READ_CHUNK? ZCH_READ_CHUNK: rest;
        char *grown = realloc (conn->in, new_cap);
        if (!grown)
            return -1;
        conn->in = grown;
        conn->in_cap = new_cap;
    }
    memcpy (conn->in, buf + consumed, rest);
    conn->in_len = rest;
    return 0;
}

//  Reads what the client sent and parses it. Clients with no partial line
//  read into the edge's scratch buffer, so most reads copy nothing.
static void
s_conn_read (zch_conn_t *conn)
{
    zch_edge_t *edge = conn->edge;
    char *buf;
    size_t have, room;
    if (conn->in_len == 0) {
        buf = edge->scratch;
        have = 0;
        room = sizeof edge->scratch;
    }
    else {
        //  A line may reach max_line plus CR LF; read in chunks up to that
        size_t want = conn->in_len + ZCH_READ_CHUNK;
        if (conn->in_cap < want) {
            char *grown = realloc (conn->in, want);
            if (!grown) {
                conn->dead = true;
                zch_conn_mark_dirty (conn);
                return;
            }
            conn->in = grown;
            conn->in_cap = want;
        }
        buf = conn->in;
        have = conn->in_len;
        room = conn->in_cap - conn->in_len;
    }
    ssize_t got = conn->ws? zch_ws_read (conn->ws, buf + have, room): s_raw_read (conn, buf + have, room);
    //  A WebSocket's pongs keep it alive though they carry no request
    if ((got > 0 || (conn->ws && zch_ws_heard (conn->ws))) && edge->config.keepalive_ms)
        zch_edge_timer_start (conn, ZCH_EDGE_KEEPALIVE, zclock_mono () + edge->config.keepalive_ms);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            if (conn->tls)
                zch_conn_tls_failed (conn);
            conn->dead = true;
            zch_conn_mark_dirty (conn);
        }
        return;
    }
    //  At end of stream what the client already sent still counts; it is
    //  closed once every line was handled (a paused client resumes first)
    if (got == 0)
        conn->eof = true;
    size_t len = have + (size_t) got;
    size_t consumed = s_conn_parse (conn, buf, len);
    if (s_conn_keep_input (conn, buf, len, consumed)) {
        conn->dead = true;
        zch_conn_mark_dirty (conn);
    }
    zch_conn_idle_update (conn);
    if (conn->eof && !conn->paused)
        zch_conn_close (conn);
}

//  Frame mode: moves frame_end past the frames the kernel took, so that a
//  slow consumer's drop keeps the frame it has part of. Roles queue whole
//  frames only, so every boundary before out_len has its length in full.
static void
s_conn_pass_frames (zch_conn_t *conn)
{
    while (conn->frame_end < conn->out_start) {
        const uint8_t *header = (const uint8_t *) conn->out + conn->frame_end;
        uint32_t size = (uint32_t) header [0] << 24 | (uint32_t) header [1] << 16
                      | (uint32_t) header [2] << 8 | header [3];
        //  a channel-protocol length counts its own four bytes
        conn->frame_end += (conn->edge->config.framing == ZCH_EDGE_CHANNEL? 0: ZCH_FRAME_HEADER)
                         + (size_t) size;
    }
}

//  Writes as much queued output as the kernel takes.
void
zch_conn_write_out (zch_conn_t *conn)
{
    while (conn->out_start < conn->out_len) {
        size_t len = conn->out_len - conn->out_start;
        ssize_t sent = conn->ws? zch_ws_write (conn->ws, conn->out + conn->out_start, len):
                                 s_raw_write (conn, conn->out + conn->out_start, len);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                if (conn->tls && errno != EPIPE)
                    zch_conn_tls_failed (conn);
                conn->dead = true;
            }
            break;
        }
        conn->out_start += (size_t) sent;
        conn->written += (uint64_t) sent;
        if (conn->edge->config.framing != ZCH_EDGE_LINES)
            s_conn_pass_frames (conn);
        else
            conn->mid_line = conn->out [conn->out_start - 1] != '\n';
    }
    if (conn->ws) {
        //  Its close frame goes after everything the role queued
        if (conn->closing && conn->out_start == conn->out_len)
            zch_ws_end (conn->ws);
        if (zch_ws_send (conn->ws))
            conn->dead = true;
    }
    if (conn->out_start == conn->out_len) {
        conn->out_start = conn->out_len = conn->frame_end = 0;
        //  An idle client keeps no output buffer (10,000 idle clients would
        //  hold 40 MiB of greetings); a busy one, whose buffer grew, keeps it
        if (conn->out_cap <= ZCH_OUT_INITIAL) {
            free (conn->out);
            conn->out = NULL;
            conn->out_cap = 0;
        }
    }
}

//  Sets the interest set from the client's state.
void
zch_conn_update_interest (zch_conn_t *conn)
{
    uint32_t events = 0;
    if (!conn->paused && !conn->closing)
        events |= EPOLLIN;
    if (conn->out_len > conn->out_start || (conn->ws && zch_ws_wants_write (conn->ws)))
        events |= EPOLLOUT;
    if (conn->tls)
        events |= zch_tls_wants (conn->tls);
    zch_loop_modify (conn->edge->loop, &conn->watch, events);
}

//  A WebSocket layer may hold input the socket no longer signals: it is
//  read before the client waits for the socket again.
static void
s_conn_read_buffered (zch_conn_t *conn)
{
    while (conn->ws && zch_ws_buffered (conn->ws) && !conn->paused && !conn->closing && !conn->dead)
        s_conn_read (conn);
}

//  A paused client may go on: offers it the input it holds, then what
//  its WebSocket layer holds; the next flush restores its reading.
void
zch_conn_resume (zch_conn_t *conn)
{
    size_t consumed = s_conn_parse (conn, conn->in, conn->in_len);
    if (s_conn_keep_input (conn, conn->in, conn->in_len, consumed))
        conn->dead = true;
    zch_conn_idle_update (conn);
    if (conn->eof && !conn->paused)
        zch_conn_close (conn);
    s_conn_read_buffered (conn);
    zch_conn_mark_dirty (conn);
}

//  Handles readiness of one client.
static void
s_conn_ready (zch_watch_t *watch, uint32_t events)
{
    zch_conn_t *conn = (zch_conn_t *) watch;
    if (conn->dead)
        return;
    if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
        conn->dead = true;
        zch_conn_mark_dirty (conn);
        return;
    }
    if (events & EPOLLOUT || (conn->tls && conn->out_len > conn->out_start))
        zch_conn_mark_dirty (conn);            //  TLS: a waiting write may need what came in
    if ((events & (conn->tls? EPOLLIN | EPOLLOUT: EPOLLIN)) && !conn->paused && !conn->closing)
        s_conn_read (conn);
    s_conn_read_buffered (conn);
}

void
zch_conn_drop_slow (zch_conn_t *conn)
{
    if (!conn->closing && !conn->dead)
        s_conn_drop_slow (conn);
}

void *
zch_conn_user (zch_conn_t *conn)
{
    return conn->user;
}

void
zch_conn_set_user (zch_conn_t *conn, void *user)
{
    conn->user = user;
}

const char *
zch_conn_peer (zch_conn_t *conn)
{
    return conn->peer;
}

uint64_t
zch_conn_id (zch_conn_t *conn)
{
    return conn->id;
}

const void *
zch_conn_auth (zch_conn_t *conn)
{
    return conn->auth;
}

void
zch_conn_set_auth (zch_conn_t *conn, const void *auth)
{
    conn->auth = auth;
}

int
zch_conn_auth_failed (zch_conn_t *conn)
{
    return ++conn->auth_failures;
}

bool
zch_conn_framed (zch_conn_t *conn)
{
    return conn->edge->config.framing == ZCH_EDGE_FRAMES;
}

bool
zch_conn_websocket (zch_conn_t *conn)
{
    return conn->ws != NULL;
}

bool
zch_conn_ws_json (zch_conn_t *conn)
{
    return conn->ws && zch_ws_speaks_json (conn->ws);
}
