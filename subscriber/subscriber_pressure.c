/*  subscriber_pressure: how far a worker lets its clients fall behind.
    Inside zchannel run it stops reading the broker while a client is far
    behind (the broker then waits, and slows the publishers); everywhere it
    keeps the output queued over all clients within the front-end's budget,
    dropping the clients furthest behind first.                             */
#include "subscriber_worker.h"
#include "zch_log.h"

#include <unistd.h>

//  The budget setting as bytes: a size, or "auto" (0 here).
static int
s_budget_parse (const char *text, size_t *bytes, char *reason, size_t reason_size)
{
    *bytes = 0;
    if (streq (text, "auto"))
        return 0;
    static const zch_option_t size = { .name = "output-budget", .type = ZCH_OPT_SIZE, .arg = "BYTES" };
    return zch_option_parse (&size, bytes, text, reason, reason_size);
}

int
subscriber_budget_check (const char *text, char *reason, size_t reason_size)
{
    size_t bytes;
    return s_budget_parse (text, &bytes, reason, reason_size);
}

//  This worker's share of the front-end's output budget: the setting, or a
//  quarter of the machine's memory, over the workers.
size_t
subscriber_budget (const subscriber_config_t *config)
{
    size_t budget;
    char reason [128];
    if (s_budget_parse (config->output_budget, &budget, reason, sizeof reason) || !budget) {
        long pages = sysconf (_SC_PHYS_PAGES);
        long page_size = sysconf (_SC_PAGESIZE);
        budget = pages > 0 && page_size > 0? (size_t) pages / 4 * (size_t) page_size: (size_t) 1 << 30;
    }
    return budget / (size_t) (config->workers > 0? config->workers: 1);
}

//  The client with the most output queued over the worker's edges (NULL
//  when none has any), and how much in *behind.
static zch_conn_t *
s_furthest (subscriber_worker_t *self, size_t *behind)
{
    zch_edge_t *edges [] = { self->edge, self->frame_edge, self->channel_edge };
    zch_conn_t *furthest = NULL;
    *behind = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges [0]; i++) {
        size_t pending;
        zch_conn_t *conn = edges [i]? zch_edge_most_behind (edges [i], &pending): NULL;
        if (conn && pending > *behind) {
            furthest = conn;
            *behind = pending;
        }
    }
    return furthest;
}

//  Output queued over the worker's edges.
size_t
subscriber_output_queued (subscriber_worker_t *self)
{
    return zch_edge_pending_output (self->edge)
         + (self->frame_edge? zch_edge_pending_output (self->frame_edge): 0)
         + (self->channel_edge? zch_edge_pending_output (self->channel_edge): 0);
}

//  Keeps the output queued within the worker's budget: past it, the client
//  furthest behind is dropped as a slow consumer, then the next, so that
//  many clients each under max_output cannot exhaust the machine together.
void
subscriber_keep_budget (subscriber_worker_t *self)
{
    size_t queued = subscriber_output_queued (self);
    while (queued > self->budget) {
        size_t behind;
        zch_conn_t *furthest = s_furthest (self, &behind);
        if (!furthest)
            break;
        zch_warning ("subscriber: worker %d has %zu bytes queued, over its output budget of %zu: "
                     "dropping the client furthest behind (%zu bytes)", self->index, queued,
                     self->budget, behind);
        zch_conn_drop_slow (furthest);
        self->over_budget++;
        queued = subscriber_output_queued (self);
    }
}

size_t
subscriber_worker_behind_mark (subscriber_worker_t *self)
{
    //  the limit now in effect: a reload's, or the settings' until one came
    size_t max_output = self->state.max_output? self->state.max_output: self->config->max_output;
    size_t mark = self->config->behind_mark;
    return max_output / 2 < mark? max_output / 2: mark;
}

//  With the broker in this process (zchannel run): true while the client
//  furthest behind has more output queued than the worker lets build up
//  (behind-mark, half of max_output at most), so the broker link stays
//  unread and the broker waits (and slows the publishers) instead of
//  anything being dropped. When the clients hold it so for stall-timeout,
//  every one still past the mark is dropped as a slow consumer, so clients
//  that do not read cannot stall the others.
bool
subscriber_clients_behind (subscriber_worker_t *self)
{
    if (!self->config->broker_local)
        return false;
    size_t mark = subscriber_worker_behind_mark (self);
    size_t behind;
    zch_conn_t *furthest = s_furthest (self, &behind);
    if (behind <= mark) {
        self->waiting_since = 0;
        self->room = mark - behind;
        return false;
    }
    int64_t now = zclock_mono ();
    if (!self->waiting_since)
        self->waiting_since = now;
    else
    if (now - self->waiting_since >= self->config->stall_timeout) {
        while (furthest && behind > mark) {
            zch_conn_drop_slow (furthest);
            furthest = s_furthest (self, &behind);
        }
        self->waiting_since = 0;
    }
    return true;
}

