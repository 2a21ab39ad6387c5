/*  source_failover: a source worker's moves between brokers.

    When zch_failover gives the broker in use up, what the worker sent it
    since its last confirmed hand-over may or may not have been stamped:
    that many are counted as lost (dropped, cause "failover"; at most that
    many were) and logged, VERBOSE publishers get "-ERR unconfirmed" at
    once for every message not confirmed (so they know what to send
    again), and the ingress socket, the hand-over and the confirm links
    move to the next broker. Until that broker subscribes to the worker,
    nothing is published: clients are held back (TCP back-pressure), and
    nothing is queued for a broker that is not there (ZMQ_IMMEDIATE).     */
#include "source_worker.h"
#include "zch_log.h"
#include "zch_zmq.h"

//  Counts what the old broker never confirmed, and moves every link.
static void
s_move (source_worker_t *self)
{
    zch_failover_t *failover = self->failover;
    const char *from = zch_failover_previous_broker (failover);
    const char *to = zch_failover_broker (failover);
    uint64_t unconfirmed = self->handover?
        self->published - source_handover_confirmed (self->handover): 0;
    self->failover_lost += unconfirmed;
    zch_warning ("source: worker %d left broker %s: %llu messages sent to it since its last "
                 "confirmation may be lost (counted: %llu in all); publishing through %s",
                 self->index, from, (unsigned long long) unconfirmed,
                 (unsigned long long) self->failover_lost, to);
    char error [512], why [320];
    snprintf (why, sizeof why, "broker %s was given up", from);
    const char *control_from = zch_failover_previous_control (failover);
    const char *control_to = zch_failover_control (failover);
    //  A socket of its own for the new broker: the old one's pipe and
    //  subscription go with it, and nothing is sent before the new broker
    //  subscribes (a socket without a pipe would drop it without a word)
    void *old = self->publisher;
    zch_link_t *old_link = self->link;
    int subscriptions = self->broker_subscriptions;
    bool internal = self->broker_internal;
    zch_loop_remove (self->loop, &self->publisher_watch);
    zch_loop_remove (self->loop, &self->link_watch);
    if (source_worker_publisher_open (self, error, sizeof error) == 0) {
        zch_link_destroy (&old_link);   //  before its socket
        zmq_close (old);
    }
    else {
        //  Out of sockets: the worker stays on the old one (its clients
        //  held back while that broker does not answer) rather than none
        self->publisher = old;
        self->link = old_link;
        self->broker_subscriptions = subscriptions;
        self->broker_internal = internal;
        zch_worker_watch (ZCH_WORKER (self), &self->publisher_watch, zch_zmq_fd (old));
        zch_worker_watch (ZCH_WORKER (self), &self->link_watch, zch_link_fd (old_link));
        zch_error ("source: worker %d: %s", self->index, error);
    }
    if ((self->handover && source_handover_move (self->handover, control_from, control_to,
                                                 self->published, error, sizeof error))
    ||  (self->confirm && zch_confirm_move (self->confirm, control_from, control_to, why,
                                            error, sizeof error)))
        zch_error ("source: worker %d: %s", self->index, error);
    zch_metrics_set (&self->counters->broker_moves, zch_failover_moves (failover));
    zch_metrics_set (&self->counters->dropped [ZCH_DROP_FAILOVER], self->failover_lost);
}

void
source_failover_turn (source_worker_t *self)
{
    int events = self->failover? zch_failover_work (self->failover): 0;
    if (events & ZCH_FAILOVER_MOVED)
        s_move (self);
}
