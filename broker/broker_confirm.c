/*  broker_confirm: [CONFIRM, number, topic, seq, epoch|reason] to a source. */
#include "broker_confirm.h"
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_topic.h"

#include <czmq.h>

//  One confirm, ready to send.
typedef struct {
    char route [ZCH_CONFIRM_ROUTE_MAX + 1];
    size_t route_len;
    char number [24];
    char seq [24];
    char last [64];             //  the epoch, or why it was dropped
    int64_t since;
    size_t topic_len;
    char topic [ZCH_TOPIC_MAX + 1];
} confirm_t;

struct broker_confirm_t {
    void *control;
    zlistx_t *backlog;          //  confirm_t, oldest first
    uint64_t sent;
    uint64_t failed;
};

static void
s_confirm_free (void **item)
{
    free (*item);
    *item = NULL;
}

broker_confirm_t *
broker_confirm_new (void *control)
{
    broker_confirm_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->control = control;
    self->backlog = zlistx_new ();
    if (!self->backlog) {
        free (self);
        return NULL;
    }
    zlistx_set_destructor (self->backlog, s_confirm_free);
    return self;
}

void
broker_confirm_destroy (broker_confirm_t **self_p)
{
    broker_confirm_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->backlog);
    free (self);
    *self_p = NULL;
}

//  Sends one confirm. Returns 0, 1 when its source cannot take it now, or
//  -1 when its source is gone.
static int
s_send (broker_confirm_t *self, const confirm_t *confirm)
{
    //  With ROUTER_MANDATORY only the routing frame can fail
    if (zmq_send (self->control, confirm->route, confirm->route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno () == EAGAIN? 1: -1;
    zmq_send (self->control, "CONFIRM", 7, ZMQ_SNDMORE);
    zmq_send (self->control, confirm->number, strlen (confirm->number), ZMQ_SNDMORE);
    zmq_send (self->control, confirm->topic, confirm->topic_len, ZMQ_SNDMORE);
    zmq_send (self->control, confirm->seq, strlen (confirm->seq), ZMQ_SNDMORE);
    zmq_send (self->control, confirm->last, strlen (confirm->last), 0);
    self->sent++;
    return 0;
}

void
broker_confirm_send (broker_confirm_t *self, const char *route, size_t route_len, uint64_t number,
                     const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch,
                     const char *reason)
{
    confirm_t confirm;
    if (route_len > ZCH_CONFIRM_ROUTE_MAX || topic_len > ZCH_TOPIC_MAX) {
        self->failed++;
        return;
    }
    memcpy (confirm.route, route, route_len);
    confirm.route_len = route_len;
    memcpy (confirm.topic, topic, topic_len);
    confirm.topic_len = topic_len;
    snprintf (confirm.number, sizeof confirm.number, "%llu", (unsigned long long) number);
    snprintf (confirm.seq, sizeof confirm.seq, "%llu", (unsigned long long) seq);
    if (reason)
        snprintf (confirm.last, sizeof confirm.last, "%s", reason);
    else
        zch_epoch_format (epoch, confirm.last);
    //  Behind those waiting, so every source gets its confirms in order
    int rc = zlistx_size (self->backlog)? 1: s_send (self, &confirm);
    if (rc < 0)
        self->failed++;
    if (rc <= 0)
        return;
    confirm_t *waiting = zlistx_size (self->backlog) < BROKER_CONFIRM_BACKLOG?
                         malloc (sizeof *waiting): NULL;
    if (!waiting || !zlistx_add_end (self->backlog, waiting)) {
        free (waiting);
        self->failed++;
        return;
    }
    *waiting = confirm;
    waiting->since = zclock_mono ();
}

int
broker_confirm_work (broker_confirm_t *self)
{
    int64_t now = zclock_mono ();
    confirm_t *confirm;
    while ((confirm = zlistx_first (self->backlog))) {
        int rc = s_send (self, confirm);
        if (rc > 0 && now - confirm->since < BROKER_CONFIRM_STALL_MS)
            return 1;
        if (rc != 0)
            self->failed++;
        zlistx_delete (self->backlog, zlistx_cursor (self->backlog));
    }
    return -1;
}

uint64_t
broker_confirm_sent (broker_confirm_t *self)
{
    return self->sent;
}

uint64_t
broker_confirm_failed (broker_confirm_t *self)
{
    return self->failed;
}
