/*  zch_edge: the TCP edge shared by both front-ends: its listeners (accept,
    admission, back-off), its clients' list, and the flush that writes
    their output, runs their timers and frees the closed (zch_conn.c is
    one client, zch_edge_timers.c the timer lists).                         */
#include "zch_edge.h"
#include "zch_edge_private.h"
#include "zch_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ZCH_ACCEPT_BATCH    64
#define ZCH_ACCEPT_BACKOFF  100         //  ms without accepting after EMFILE
#define ZCH_WS_PING_MS      20000       //  keepalive pings to WebSocket clients, without --keepalive

static const char s_slow_consumer [] = "-ERR slow consumer\n";
static const char s_line_too_long [] = "-ERR line too long\n";

static void s_listener_ready (zch_watch_t *watch, uint32_t events);
static void s_ws_listener_ready (zch_watch_t *watch, uint32_t events);

//  Appends conn to a list of pointers, growing it. Returns 0 or -1.
static int
s_list_push (zch_conn_t ***list, size_t *count, size_t *cap, zch_conn_t *conn)
{
    if (*count == *cap) {
        size_t new_cap = *cap? *cap * 2: 64;
        zch_conn_t **grown = realloc (*list, new_cap * sizeof *grown);
        if (!grown)
            return -1;
        *list = grown;
        *cap = new_cap;
    }
    (*list) [(*count)++] = conn;
    return 0;
}

//  Puts conn on the dirty list so the next flush writes it.
void
zch_conn_mark_dirty (zch_conn_t *conn)
{
    if (!conn->dirty) {
        zch_edge_t *edge = conn->edge;
        if (s_list_push (&edge->dirty, &edge->dirty_count, &edge->dirty_cap, conn) == 0)
            conn->dirty = true;
        else
            conn->dead = true;          //  cannot track it: drop rather than leak
    }
}

//  Puts conn on the paused list (its reading stops). Returns 0 or -1.
int
zch_edge_pause (zch_edge_t *self, zch_conn_t *conn)
{
    return s_list_push (&self->paused, &self->paused_count, &self->paused_cap, conn);
}

zch_edge_t *
zch_edge_new (zch_loop_t *loop, int listen_fd, const zch_edge_config_t *config,
              const zch_edge_handlers_t *handlers, void *ctx)
{
    zch_edge_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->config = *config;
    self->handlers = *handlers;
    self->ctx = ctx;
    if (config->framing != ZCH_EDGE_LINES) {
        char text [64];
        snprintf (text, sizeof text, "frame over %zu bytes", config->max_line);
        self->slow_reply_len = zch_edge_error_reply (config->framing, self->slow_reply, ZCH_REPLY_MAX,
                                                     "slow_consumer", "slow consumer");
        self->too_long_reply_len = zch_edge_error_reply (config->framing, self->too_long_reply,
                                                         ZCH_REPLY_MAX, "too_large", text);
    }
    else {
        self->slow_reply_len = sizeof s_slow_consumer - 1;
        memcpy (self->slow_reply, s_slow_consumer, self->slow_reply_len);
        self->too_long_reply_len = sizeof s_line_too_long - 1;
        memcpy (self->too_long_reply, s_line_too_long, self->too_long_reply_len);
    }
    self->listener.fd = listen_fd;
    self->listener.handler = s_listener_ready;
    self->ws_listener.fd = -1;
    if (listen_fd >= 0 && zch_loop_add (loop, &self->listener, EPOLLIN)) {
        free (self);
        return NULL;
    }
    self->accepting = true;
    return self;
}

int
zch_edge_listen_ws (zch_edge_t *self, int listen_fd, const zch_ws_config_t *config)
{
    self->ws_listener.fd = listen_fd;
    self->ws_listener.handler = s_ws_listener_ready;
    self->ws_config = config;
    int interval = self->config.keepalive_ms? self->config.keepalive_ms / 3: ZCH_WS_PING_MS;
    self->ws_ping_at = zclock_mono () + interval;
    if (zch_loop_add (self->loop, &self->ws_listener, EPOLLIN)) {
        self->ws_listener.fd = -1;
        return -1;
    }
    return 0;
}

void
zch_edge_destroy (zch_edge_t **self_p)
{
    zch_edge_t *self = *self_p;
    if (!self)
        return;
    while (self->conns)
        zch_conn_free (self->conns);
    if (self->listener.fd >= 0) {
        zch_loop_remove (self->loop, &self->listener);
        close (self->listener.fd);
    }
    if (self->ws_listener.fd >= 0) {
        zch_loop_remove (self->loop, &self->ws_listener);
        close (self->ws_listener.fd);
    }
    free (self->dirty);
    free (self->paused);
    free (self);
    *self_p = NULL;
}

//  Stops or restarts watching the listeners.
static void
s_listeners_watch (zch_edge_t *self, uint32_t events)
{
    if (self->listener.fd >= 0)
        zch_loop_modify (self->loop, &self->listener, events);
    if (self->ws_listener.fd >= 0)
        zch_loop_modify (self->loop, &self->ws_listener, events);
}

//  Accepts waiting clients on watch (a WebSocket listener when ws) and
//  greets them.
static void
s_accept (zch_edge_t *self, zch_watch_t *watch, bool ws)
{
    for (int i = 0; i < ZCH_ACCEPT_BATCH && self->accepting; i++) {
        struct sockaddr_storage address;
        socklen_t address_len = sizeof address;
        int fd = accept4 (watch->fd, (struct sockaddr *) &address, &address_len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                //  Level-triggered: without a pause this would spin
                zch_warning ("%s: cannot accept: %s", self->config.role, strerror (errno));
                s_listeners_watch (self, 0);
                self->accept_resume_at = zclock_mono () + ZCH_ACCEPT_BACKOFF;
            }
            return;
        }
        if (zch_edge_admit (self, fd, &address))
            continue;
        zch_conn_t *conn = zch_conn_new (self, fd, ws);
        if (!conn)
            return;
        if (self->config.clients)
            atomic_fetch_add (self->config.clients, 1);
        int64_t now = zclock_mono ();
        if (self->config.idle_timeout_ms)
            zch_edge_timer_start (conn, ZCH_EDGE_IDLE, now + self->config.idle_timeout_ms);
        if (self->config.keepalive_ms)
            zch_edge_timer_start (conn, ZCH_EDGE_KEEPALIVE, now + self->config.keepalive_ms);
        conn->next = self->conns;
        if (self->conns)
            self->conns->prev = conn;
        self->conns = conn;
        self->conn_count++;
        self->stats.accepted++;
        zch_debug ("%s: client %s connected", self->config.role, conn->peer);
        if (self->config.greeting && !ws) {
            size_t greeting_len = strlen (self->config.greeting);
            char *line = zch_conn_reserve (conn, greeting_len + 1);
            if (line) {
                memcpy (line, self->config.greeting, greeting_len);
                line [greeting_len] = '\n';
                zch_conn_commit (conn, greeting_len + 1);
            }
        }
    }
}

static void
s_listener_ready (zch_watch_t *watch, uint32_t events)
{
    (void) events;
    s_accept ((zch_edge_t *) ((char *) watch - offsetof (zch_edge_t, listener)), watch, false);
}

static void
s_ws_listener_ready (zch_watch_t *watch, uint32_t events)
{
    (void) events;
    s_accept ((zch_edge_t *) ((char *) watch - offsetof (zch_edge_t, ws_listener)), watch, true);
}

//  Closes the clients whose timers ran out, with their error.
static void
s_timers_expire (zch_edge_t *self, int64_t now)
{
    for (int which = 0; which < ZCH_EDGE_TIMERS; which++) {
        zch_conn_t *conn;
        while ((conn = zch_edge_timer_due (self, which, now))) {
            if (conn->closing || conn->dead)
                continue;
            if (which == ZCH_EDGE_IDLE && conn->paused && conn->spoke) {
                zch_conn_idle_update (conn);   //  waiting on us, not on the client
                continue;
            }
            uint64_t *counter = which == ZCH_EDGE_IDLE? &self->stats.idle_timeouts:
                                                 &self->stats.keepalive_timeouts;
            (*counter)++;
            //  A flood of idle clients must not flood the log: one line a second
            bool loud = now - self->timeout_logged_at >= 1000;
            if (loud)
                self->timeout_logged_at = now;
            zch_log (loud? ZCH_LOG_INFO: ZCH_LOG_DEBUG, zsys_info,
                     "%s: client %s %s, closing (%s: %llu)", self->config.role, conn->peer,
                     which == ZCH_EDGE_IDLE? "sent no whole command in time": "was silent too long",
                     which == ZCH_EDGE_IDLE? "idle timeouts": "keepalive timeouts",
                     (unsigned long long) *counter);
            zch_conn_say (conn, "idle_timeout", "idle timeout");
            zch_conn_close (conn);
        }
    }
}

void
zch_edge_flush (zch_edge_t *self)
{
    int64_t now = zclock_mono ();
    if (self->timer_head [ZCH_EDGE_IDLE] || self->timer_head [ZCH_EDGE_KEEPALIVE])
        s_timers_expire (self, now);
    if (self->accept_resume_at && now >= self->accept_resume_at) {
        self->accept_resume_at = 0;
        if (self->accepting)
            s_listeners_watch (self, EPOLLIN);
    }
    if (self->ws_config && now >= self->ws_ping_at) {
        self->ws_ping_at = now + (self->config.keepalive_ms? self->config.keepalive_ms / 3: ZCH_WS_PING_MS);
        for (zch_conn_t *conn = self->conns; conn; conn = conn->next)
            if (conn->ws && !conn->closing && !conn->dead) {
                zch_ws_ping (conn->ws);
                zch_conn_mark_dirty (conn);
            }
    }
    //  Every client with output, closing or dead is on the dirty list.
    //  Closing clients stay there so their deadline is checked every turn.
    bool any_dead = false;
    for (size_t i = 0; i < self->dirty_count; i++) {
        zch_conn_t *conn = self->dirty [i];
        if (!conn->dead)
            zch_conn_write_out (conn);
        bool written = conn->out_start == conn->out_len
                    && !(conn->ws && zch_ws_wants_write (conn->ws));
        if (conn->closing && (written || now >= conn->close_deadline))
            conn->dead = true;
        if (conn->dead)
            any_dead = true;
        else
            zch_conn_update_interest (conn);
    }
    //  The paused list must forget the dead before they are freed
    if (any_dead) {
        size_t paused_kept = 0;
        for (size_t i = 0; i < self->paused_count; i++)
            if (!self->paused [i]->dead)
                self->paused [paused_kept++] = self->paused [i];
        self->paused_count = paused_kept;
    }
    size_t kept = 0;
    for (size_t i = 0; i < self->dirty_count; i++) {
        zch_conn_t *conn = self->dirty [i];
        if (conn->dead)
            zch_conn_free (conn);
        else
        if (conn->closing || conn->out_start < conn->out_len
        ||  (conn->ws && zch_ws_wants_write (conn->ws)))
            self->dirty [kept++] = conn;
        else
            conn->dirty = false;
    }
    self->dirty_count = kept;
}

void
zch_edge_resume (zch_edge_t *self)
{
    //  Take the list: a client that pauses again goes back on it
    size_t count = self->paused_count;
    zch_conn_t **list = self->paused;
    self->paused = NULL;
    self->paused_count = self->paused_cap = 0;
    for (size_t i = 0; i < count; i++) {
        zch_conn_t *conn = list [i];
        conn->paused = false;
        if (conn->dead || conn->closing)
            continue;
        zch_conn_resume (conn);
    }
    if (self->paused == NULL) {
        self->paused = list;
        self->paused_cap = count;
    }
    else
        free (list);
}

bool
zch_edge_has_paused (zch_edge_t *self)
{
    return self->paused_count > 0;
}

void
zch_edge_stop_accepting (zch_edge_t *self)
{
    self->accepting = false;
    s_listeners_watch (self, 0);
}

void
zch_edge_close_all (zch_edge_t *self, const char *code, const char *text)
{
    for (zch_conn_t *conn = self->conns; conn; conn = conn->next)
        if (!conn->closing && !conn->dead) {
            if (conn->ws)
                zch_ws_set_close (conn->ws, 1001, "server shutting down");
            if (text)
                zch_conn_say (conn, code, text);
            zch_conn_close (conn);
        }
}

void
zch_edge_each (zch_edge_t *self, zch_conn_fn *fn, void *ctx)
{
    for (zch_conn_t *conn = self->conns; conn; conn = conn->next)
        fn (conn, ctx);
}

size_t
zch_edge_pending_output (zch_edge_t *self)
{
    size_t pending = 0;
    for (size_t i = 0; i < self->dirty_count; i++)
        pending += self->dirty [i]->out_len - self->dirty [i]->out_start;
    return pending;
}

zch_conn_t *
zch_edge_most_behind (zch_edge_t *self, size_t *pending)
{
    zch_conn_t *most = NULL;
    *pending = 0;
    for (size_t i = 0; i < self->dirty_count; i++) {
        zch_conn_t *conn = self->dirty [i];
        size_t queued = conn->out_len - conn->out_start;
        if (queued > *pending && !conn->closing && !conn->dead) {
            most = conn;
            *pending = queued;
        }
    }
    return most;
}

size_t
zch_edge_client_count (zch_edge_t *self)
{
    return self->conn_count;
}

const zch_edge_stats_t *
zch_edge_stats (zch_edge_t *self)
{
    return &self->stats;
}

void
zch_edge_set_limits (zch_edge_t *self, size_t max_line, size_t max_output)
{
    self->config.max_line = max_line;
    self->config.max_output = max_output;
}
