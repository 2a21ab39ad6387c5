/*  zch_workers: N worker actors of one front-end sharing a TCP port.        */
#include "zch_workers.h"
#include "zch_secure.h"
#include "zch_main.h"
#include "zch_net.h"

struct zch_workers_t {
    int count;
    const void *config;
    zactor_t *actors [ZCH_WORKERS_MAX];
    zch_worker_args_t args [ZCH_WORKERS_MAX];
    atomic_size_t clients;
    atomic_size_t frame_clients;
    zch_ws_config_t ws;
    zch_rate_table_t *rates;
};

zch_workers_t *
zch_workers_start (const char *address, int count, zactor_fn *worker,
                   const void *config, char *error, size_t error_size)
{
    return zch_workers_start_framed (address, NULL, NULL, NULL, count, worker, config, error, error_size);
}

zch_workers_t *
zch_workers_start_framed (const char *address, const char *frame_address, const char *ws_address,
                          const zch_ws_config_t *ws, int count, zactor_fn *worker, const void *config,
                          char *error, size_t error_size)
{
    if (count < 1 || count > ZCH_WORKERS_MAX) {
        snprintf (error, error_size, "workers must be 1..%d", ZCH_WORKERS_MAX);
        return NULL;
    }
    if (zch_net_check_free (address, error, error_size)
    ||  (frame_address && zch_net_check_free (frame_address, error, error_size))
    ||  (ws_address && zch_net_check_free (ws_address, error, error_size)))
        return NULL;
    zch_workers_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = config;
    if (ws)
        self->ws = *ws;
    self->rates = zch_rate_table_new (ZCH_RATE_SLOTS_DEFAULT);
    if (!self->rates) {
        snprintf (error, error_size, "out of memory");
        zch_workers_destroy (&self);
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        int fd = zch_net_listen (address, true, error, error_size);
        if (fd < 0) {
            zch_workers_destroy (&self);
            return NULL;
        }
        int frame_fd = frame_address? zch_net_listen (frame_address, true, error, error_size): -1;
        if (frame_address && frame_fd < 0) {
            close (fd);
            zch_workers_destroy (&self);
            return NULL;
        }
        int ws_fd = ws_address? zch_net_listen (ws_address, true, error, error_size): -1;
        if (ws_address && ws_fd < 0) {
            close (fd);
            if (frame_fd >= 0)
                close (frame_fd);
            zch_workers_destroy (&self);
            return NULL;
        }
        self->args [i] = (zch_worker_args_t) {
            .config = config, .listen_fd = fd, .frame_fd = frame_fd, .index = i,
            .ws_fd = ws_fd, .ws = &self->ws,
            .clients = &self->clients, .frame_clients = &self->frame_clients, .rates = self->rates
        };
        self->actors [i] = zch_actor_start (worker, &self->args [i], error, error_size);
        if (!self->actors [i]) {
            zch_workers_destroy (&self);
            return NULL;
        }
        self->count = i + 1;
    }
    return self;
}

void
zch_workers_destroy (zch_workers_t **self_p)
{
    zch_workers_t *self = *self_p;
    if (!self)
        return;
    //  Ask all first, so their drains overlap, then wait for each
    for (int i = 0; i < self->count; i++)
        zstr_send (self->actors [i], "DRAIN");
    for (int i = 0; i < self->count; i++)
        zactor_destroy (&self->actors [i]);
    zch_rate_table_destroy (&self->rates);
    free (self);
    *self_p = NULL;
}

int
zch_workers_reload (zch_workers_t *self, zch_worker_build_fn *build, zch_worker_free_fn *free_fn,
                    char *error, size_t error_size)
{
    return zch_workers_send_each (self, "RELOAD", build, free_fn, error, error_size);
}

int
zch_workers_send_each (zch_workers_t *self, const char *command, zch_worker_build_fn *build,
                       zch_worker_free_fn *free_fn, char *error, size_t error_size)
{
    void *items [ZCH_WORKERS_MAX] = { NULL };
    for (int i = 0; i < self->count; i++)
        if (build (self->config, i, &items [i], error, error_size)) {
            for (int j = 0; j < i; j++)
                free_fn (&items [j]);
            return -1;
        }
    for (int i = 0; i < self->count; i++)
        zsock_send (self->actors [i], "sp", command, items [i]);
    return 0;
}

//  Reads one command from the owner into state.
static void
s_worker_command (zsock_t *pipe, zch_worker_state_t *state)
{
    zmsg_t *message = zmsg_recv (pipe);
    char *command = message? zmsg_popstr (message): NULL;
    if (command && streq (command, "SECURE")) {
        zframe_t *frame = zmsg_pop (message);
        void *item = NULL;
        if (frame && zframe_size (frame) == sizeof item)
            memcpy (&item, zframe_data (frame), sizeof item);
        zframe_destroy (&frame);
        //  One not yet taken is superseded by this one
        zch_secure_update_free (&state->secure);
        state->secure = item;
    }
    else
    if (command && streq (command, "RELOAD")) {
        zframe_t *frame = zmsg_pop (message);
        void *item = NULL;
        if (frame && zframe_size (frame) == sizeof item)
            memcpy (&item, zframe_data (frame), sizeof item);
        zframe_destroy (&frame);
        //  A reload not yet taken is superseded by this one
        if (state->reloaded && state->reload && state->reload_free)
            state->reload_free (&state->reload);
        state->reload = item;
        state->reloaded = true;
    }
    else
    if (command && streq (command, "LIMITS") && zmsg_size (message) == 2) {
        char *max_line = zmsg_popstr (message);
        char *max_output = zmsg_popstr (message);
        state->max_line = strtoull (max_line, NULL, 10);
        state->max_output = strtoull (max_output, NULL, 10);
        state->limits_changed = true;
        zstr_free (&max_line);
        zstr_free (&max_output);
    }
    else {
        state->stopping = true;         //  DRAIN, $TERM, or the pipe broke
        if (!command || streq (command, "$TERM"))
            state->terminated = true;
    }
    zstr_free (&command);
    zmsg_destroy (&message);
}

void
zch_worker_commands (zsock_t *pipe, zch_worker_state_t *state)
{
    while (zsock_events (pipe) & ZMQ_POLLIN)
        s_worker_command (pipe, state);
}

void
zch_worker_apply_limits (zch_worker_state_t *state, zch_edge_t *edge)
{
    if (state->limits_changed) {
        zch_edge_set_limits (edge, state->max_line, state->max_output);
        state->limits_changed = false;
    }
}

void
zch_workers_set_limits (zch_workers_t *self, size_t max_line, size_t max_output)
{
    char line [32], output [32];
    snprintf (line, sizeof line, "%zu", max_line);
    snprintf (output, sizeof output, "%zu", max_output);
    for (int i = 0; self && i < self->count; i++)
        zstr_sendx (self->actors [i], "LIMITS", line, output, NULL);
}

void
zch_worker_await_term (zsock_t *pipe, zch_worker_state_t *state)
{
    while (!state->terminated)
        s_worker_command (pipe, state);
    //  A reload that came too late to be used
    if (state->reloaded && state->reload && state->reload_free)
        state->reload_free (&state->reload);
    state->reloaded = false;
    zch_secure_update_free (&state->secure);
}
