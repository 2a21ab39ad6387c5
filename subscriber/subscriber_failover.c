/*  subscriber_failover: a subscriber worker's moves between brokers.

    When zch_failover gives the broker in use up, the worker's SUB and its
    control link leave it for the next broker of the list. ZeroMQ sends
    every subscription again on the new connection; the new broker (which
    shares order and history through the Redis engine) answers, and the
    link's reconnection makes the worker check every topic's seq there:
    what was missed is healed from its history, what was seen already is
    dropped as a repeat. Clients hear "-ERR offline <why>" when no broker
    answers and "-ERR online <broker>" once one does (frames: ["err",
    "offline"|"online", text]).                                            */
#include "subscriber_worker.h"
#include "zch_confirm.h"
#include "zch_log.h"
#include "zch_zmq.h"

//  Tells one client (text or frames) the notice in ctx.
typedef struct {
    const char *code;
    const char *text;
} notice_t;

static void
s_notice_one (zch_conn_t *conn, void *ctx)
{
    notice_t *notice = ctx;
    subscriber_client_t *client = zch_conn_user (conn);
    if (client && !client->channel)
        subscriber_client_error (client, notice->code, "", notice->text);
}

static void
s_notice_all (subscriber_worker_t *self, const char *code, const char *text)
{
    notice_t notice = { code, text };
    zch_edge_each (self->edge, s_notice_one, &notice);
    if (self->frame_edge)
        zch_edge_each (self->frame_edge, s_notice_one, &notice);
}

//  Moves the SUB and the control link to the broker now in use.
static void
s_move (subscriber_worker_t *self)
{
    zch_failover_t *failover = self->failover;
    char error [512];
    if (zch_zmq_move (self->upstream, "to broker", zch_failover_previous_broker (failover),
                      zch_failover_broker (failover), error, sizeof error)
    ||  subscriber_heal_move (self->heal, zch_failover_previous_control (failover),
                              zch_failover_control (failover), error, sizeof error)
    ||  (self->confirm
    &&   zch_confirm_move (self->confirm, zch_failover_previous_control (failover),
                           zch_failover_control (failover), "the broker failed over", error, sizeof error)))
        zch_error ("subscriber: worker %d: %s", self->index, error);
    //  The SUB sent the new broker every subscription on connecting: a
    //  barrier behind them says when they are in place there
    subscriber_barrier_after_move (self);
    zch_metrics_set (&self->counters->broker_moves, zch_failover_moves (failover));
}

void
subscriber_failover_turn (subscriber_worker_t *self)
{
    int events = self->failover? zch_failover_work (self->failover): 0;
    if (!events)
        return;
    char text [512];
    if (events & ZCH_FAILOVER_OFFLINE) {
        zch_metrics_set (&self->counters->linked, 0);
        snprintf (text, sizeof text, "offline %s", zch_failover_reason (self->failover));
        s_notice_all (self, SUBSCRIBER_E_OFFLINE, text);
    }
    if (events & ZCH_FAILOVER_MOVED)
        s_move (self);
    if (events & ZCH_FAILOVER_ONLINE) {
        zch_metrics_set (&self->counters->linked, 1);
        snprintf (text, sizeof text, "online %s", zch_failover_broker (self->failover));
        s_notice_all (self, SUBSCRIBER_E_ONLINE, text);
    }
}
