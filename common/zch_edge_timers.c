/*  zch_edge_timers: the edge's timer lists (idle, keepalive), a leaf: it
    keeps each connection's place on a list, soonest first, and says who
    is due; what happens to them is the edge's business.                    */
#include "zch_edge_private.h"

#include <czmq.h>

//  Takes conn off a timer list.
void
zch_edge_timer_stop (zch_conn_t *conn, int which)
{
    zch_edge_timer_t *timer = &conn->timers [which];
    if (!timer->at)
        return;
    zch_edge_t *edge = conn->edge;
    if (timer->prev)
        timer->prev->timers [which].next = timer->next;
    else
        edge->timer_head [which] = timer->next;
    if (timer->next)
        timer->next->timers [which].prev = timer->prev;
    else
        edge->timer_tail [which] = timer->prev;
    *timer = (zch_edge_timer_t) { 0 };
}

//  Puts conn at the end of a timer list, due at. Each list has one
//  period, so appending keeps it sorted and both steps cost O(1).
void
zch_edge_timer_start (zch_conn_t *conn, int which, int64_t at)
{
    zch_edge_timer_stop (conn, which);
    zch_edge_t *edge = conn->edge;
    zch_edge_timer_t *timer = &conn->timers [which];
    timer->at = at? at: 1;
    timer->prev = edge->timer_tail [which];
    if (timer->prev)
        timer->prev->timers [which].next = conn;
    else
        edge->timer_head [which] = conn;
    edge->timer_tail [which] = conn;
}

//  The idle timer runs while a client owes a command: from accept to its
//  first whole command, and from the first byte of any later command to
//  its end. A paused client's input is whole commands waiting on us, so
//  it owes nothing.
void
zch_conn_idle_update (zch_conn_t *conn)
{
    zch_edge_t *edge = conn->edge;
    if (!edge->config.idle_timeout_ms)
        return;
    bool owes = !conn->spoke || (conn->in_len > 0 && !conn->paused);
    if (!owes)
        zch_edge_timer_stop (conn, ZCH_EDGE_IDLE);
    else
    if (!conn->timers [ZCH_EDGE_IDLE].at)
        zch_edge_timer_start (conn, ZCH_EDGE_IDLE, zclock_mono () + edge->config.idle_timeout_ms);
}

zch_conn_t *
zch_edge_timer_due (zch_edge_t *self, int which, int64_t now)
{
    zch_conn_t *conn = self->timer_head [which];
    if (!conn || conn->timers [which].at > now)
        return NULL;
    zch_edge_timer_stop (conn, which);
    return conn;
}
