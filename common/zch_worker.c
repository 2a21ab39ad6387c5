/*  zch_worker: the base every front-end worker embeds.                     */
#include "zch_worker.h"
#include "zch_auth.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_secure.h"
#include "zch_tls.h"

static void
s_watch_nothing (zch_watch_t *watch, uint32_t events)
{
    //  ZeroMQ descriptors only say "look again": the turn checks them
    (void) watch;
    (void) events;
}

int
zch_worker_watch (zch_worker_t *self, zch_watch_t *watch, int fd)
{
    *watch = (zch_watch_t) { .fd = fd, .handler = s_watch_nothing };
    return zch_loop_add (self->loop, watch, EPOLLIN);
}

int
zch_worker_init (zch_worker_t *self, zsock_t *pipe, const zch_worker_args_t *args,
                 const char *role, const char *greeting, const zch_edge_handlers_t *handlers,
                 const zch_edge_handlers_t *frame_handlers, void *frame_ctx,
                 char *error, size_t error_size)
{
    self->pipe = pipe;
    self->config = args->config;
    self->role = role;
    self->index = args->index;
    self->bye = ZCH_EDGE_BYE_TEXT;
    self->loop = zch_loop_new ();
    self->counters = zch_metrics_edge_counters (role);
    zch_edge_config_t edge_config = {
        .role = role, .greeting = greeting, .max_line = self->config->max_line,
        .max_output = self->config->max_output, .close_grace_ms = 1000
    };
    zch_secure_edge (&self->config->secure, args, false, &edge_config);
    self->guard = (zch_guard_t) {
        .role = role, .auth = zch_auth_ref (self->config->secure.auth),
        .max_failures = self->config->secure.auth_max_failures
    };
    self->edge = self->loop? zch_edge_new (self->loop, args->listen_fd, &edge_config, handlers, self): NULL;
    if (!self->edge) {
        zch_worker_close_listeners (args);
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    if (zch_frontend_frame_edge (self->loop, self->config, args, role, frame_handlers,
                                 frame_ctx? frame_ctx: self, &self->frame_edge)
    ||  !self->counters) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    if (zch_pipeline_build (&self->config->plugins, self->config->plugin_stage, &self->pipeline,
                            error, error_size))
        return -1;
    self->state.reload_free = zch_pipeline_free;
    zch_worker_watch (self, &self->pipe_watch, zsock_fd (pipe));
    return 0;
}

void
zch_worker_close_listeners (const zch_worker_args_t *args)
{
    close (args->listen_fd);
    if (args->frame_fd >= 0)
        close (args->frame_fd);
    if (args->ws_fd >= 0)
        close (args->ws_fd);
}

void
zch_worker_close_edges (zch_worker_t *self)
{
    zch_edge_destroy (&self->edge);
    zch_edge_destroy (&self->frame_edge);
}

void
zch_worker_clear (zch_worker_t *self)
{
    zch_worker_close_edges (self);
    zch_pipeline_destroy (&self->pipeline);
    zch_auth_destroy (&self->guard.auth);
    zch_loop_destroy (&self->loop);
}

//  Takes the pipeline a reload sent, between two messages.
static void
s_plugins_swap (zch_worker_t *self)
{
    if (self->pipeline) {
        zch_pipeline_report (self->pipeline, self->role);
        self->plugin_ns += zch_pipeline_ns (self->pipeline);
    }
    zch_pipeline_destroy (&self->pipeline);
    self->pipeline = self->state.reload;
    self->state.reload = NULL;
    self->state.reloaded = false;
}

//  Takes what the owner sent: new limits and tokens, new plugins.
static void
s_commands (zch_worker_t *self)
{
    zch_worker_commands (self->pipe, &self->state);
    if (self->state.limits_changed && self->frame_edge)
        zch_edge_set_limits (self->frame_edge, self->config->max_payload + ZCH_FRAME_OVERHEAD,
                             self->state.max_output);
    zch_worker_apply_limits (&self->state, self->edge);
    zch_secure_apply (&self->state.secure, &self->guard, self->edge, self->frame_edge,
                      self->channel_edge);
    if (self->state.reloaded)
        s_plugins_swap (self);
}

void
zch_worker_run (zsock_t *pipe, zch_worker_t *self, const zch_worker_class_t *role,
                const char *error)
{
    if (!self) {
        zch_error ("%s: %s", role->role, error);
        zch_actor_ready (pipe, error);
        return;
    }
    zch_actor_ready (pipe, NULL);
    int timeout = role->tick;
    while (!self->state.stopping) {
        if (zch_loop_run_once (self->loop, timeout) < 0) {
            //  Nothing more can be served: say so, then drain what can be
            zch_error ("%s: worker %d: its event loop failed: %s; closing its clients",
                       role->role, self->index, strerror (errno));
            self->bye = ZCH_EDGE_FATAL_TEXT;
            break;
        }
        s_commands (self);
        timeout = role->turn (self);
    }
    role->drain (self);
    if (self->pipeline)
        zch_pipeline_report (self->pipeline, role->role);
    role->report (self);
    zch_worker_await_term (pipe, &self->state);
    role->destroy (&self);
    zch_tls_thread_end ();
}

void
zch_worker_announce (zch_worker_t *self, const char *link)
{
    if (self->index != 0)
        return;
    zch_notice ("%s: listening on %s, %s %s", self->role, self->config->listen, link,
                self->config->broker.items [0]);
    if (self->config->broker.count > 1)
        zch_notice ("%s: %d brokers to fail over to, a heartbeat every %d ms, the next one after "
                    "%d ms without an answer", self->role, self->config->broker.count,
                    self->config->broker_timeout / 4, self->config->broker_timeout);
    if (*self->config->frame_listen)
        zch_notice ("%s: frame protocol on %s", self->role, self->config->frame_listen);
    if (*self->config->ws_listen)
        zch_notice ("%s: WebSocket on %s%s", self->role, self->config->ws_listen,
                    self->config->secure.tls? " (wss)": "");
}

//  The worker's edges that are on, in order: text, frames, channel.
static size_t
s_edges (zch_worker_t *self, zch_edge_t *edges [3])
{
    size_t count = 0;
    zch_edge_t *all [] = { self->edge, self->frame_edge, self->channel_edge };
    for (size_t i = 0; i < 3; i++)
        if (all [i])
            edges [count++] = all [i];
    return count;
}

typedef void (s_edge_fn) (zch_edge_t *edge);
typedef size_t (s_edge_count_fn) (zch_edge_t *edge);

//  Calls fn on every edge that is on.
static void
s_each (zch_worker_t *self, s_edge_fn *fn)
{
    zch_edge_t *edges [3];
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++)
        fn (edges [i]);
}

//  The sum of fn over every edge that is on.
static size_t
s_sum (zch_worker_t *self, s_edge_count_fn *fn)
{
    zch_edge_t *edges [3];
    size_t sum = 0;
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++)
        sum += fn (edges [i]);
    return sum;
}

void
zch_worker_flush (zch_worker_t *self)
{
    s_each (self, zch_edge_flush);
}

void
zch_worker_resume (zch_worker_t *self)
{
    s_each (self, zch_edge_resume);
}

void
zch_worker_stop_accepting (zch_worker_t *self)
{
    s_each (self, zch_edge_stop_accepting);
}

void
zch_worker_close_all (zch_worker_t *self)
{
    zch_edge_t *edges [3];
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++)
        zch_edge_close_all (edges [i], ZCH_EDGE_BYE_CODE, self->bye);
}

bool
zch_worker_has_paused (zch_worker_t *self)
{
    zch_edge_t *edges [3];
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++)
        if (zch_edge_has_paused (edges [i]))
            return true;
    return false;
}

size_t
zch_worker_clients (zch_worker_t *self)
{
    return s_sum (self, zch_edge_client_count);
}

size_t
zch_worker_pending_output (zch_worker_t *self)
{
    return s_sum (self, zch_edge_pending_output);
}

uint64_t
zch_worker_too_long (zch_worker_t *self)
{
    zch_edge_t *edges [3];
    uint64_t too_long = 0;
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++)
        too_long += zch_edge_stats (edges [i])->lines_too_long;
    return too_long;
}

void
zch_worker_publish_metrics (zch_worker_t *self, uint64_t too_many_subs, uint64_t slow_more)
{
    zch_counters_t *counters = self->counters;
    zch_secure_publish (counters, self->edge, self->frame_edge, &self->guard, too_many_subs);
    zch_edge_t *edges [3];
    uint64_t slow = slow_more, slow_bytes = 0;
    for (size_t i = 0, count = s_edges (self, edges); i < count; i++) {
        slow += zch_edge_stats (edges [i])->slow_consumers;
        slow_bytes += zch_edge_stats (edges [i])->dropped_bytes;
    }
    zch_metrics_set (&counters->dropped [ZCH_DROP_PLUGIN], self->plugin_dropped);
    zch_metrics_set (&counters->dropped [ZCH_DROP_SLOW_CONSUMER], slow);
    zch_metrics_set (&counters->slow_consumer_bytes, slow_bytes);
    zch_metrics_set (&counters->plugin_ns,
                     self->plugin_ns + (self->pipeline? zch_pipeline_ns (self->pipeline): 0));
    zch_metrics_set (&counters->clients, zch_worker_clients (self));
}

//  Builds worker index's new pipeline, off its thread.
static int
s_build (const void *config, int index, void **item, char *error, size_t error_size)
{
    (void) index;
    const zch_frontend_config_t *frontend = config;
    return zch_pipeline_build (&frontend->plugins, frontend->plugin_stage,
                               (zch_pipeline_t **) item, error, error_size);
}

int
zch_worker_reload_plugins (zch_workers_t *workers, char *error, size_t error_size)
{
    return zch_workers_reload (workers, s_build, zch_pipeline_free, error, error_size);
}
