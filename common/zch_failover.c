/*  zch_failover: the broker list and its heartbeat.                       */
#include "zch_failover.h"
#include "zch_control_dealer.h"
#include "zch_log.h"
#include "zch_zmq.h"

#include <czmq.h>

#define FAILOVER_REASON      256
#define FAILOVER_BEATS       4      //  heartbeats per timeout
#define FAILOVER_BEAT_MIN    50     //  ms, the shortest heartbeat period

struct zch_failover_t {
    const zch_option_list_t *brokers;
    const zch_option_list_t *controls;
    const zch_secure_config_t *secure;
    const char *role;
    int index;
    int timeout;                //  ms without an ok before the broker is given up
    int current;
    int previous;
    void *dealer;               //  heartbeats to the current broker's control endpoint
    int64_t since;              //  when the current broker's time started: the move or its last ok
    int64_t beat_at;            //  when the last heartbeat went
    bool offline;
    bool said_down;             //  the current broker's last answer was "down"
    uint64_t moves;
    char reason [FAILOVER_REASON];
};

int
zch_failover_check (const zch_option_list_t *brokers, const zch_option_list_t *controls,
                    char *reason, size_t reason_size)
{
    if (brokers->count < 1) {
        snprintf (reason, reason_size, "--broker is empty: a front-end needs a broker");
        return -1;
    }
    if (brokers->count > 1 && controls->count != brokers->count) {
        snprintf (reason, reason_size, "%d brokers but %d control endpoints: with several brokers, "
                  "give one --control per --broker, in the same order", brokers->count, controls->count);
        return -1;
    }
    if (brokers->count == 1 && controls->count > 1) {
        snprintf (reason, reason_size, "one broker but %d control endpoints", controls->count);
        return -1;
    }
    return 0;
}


zch_failover_t *
zch_failover_new (const zch_option_list_t *brokers, const zch_option_list_t *controls,
                  const zch_secure_config_t *secure, int timeout_ms,
                  const char *role, int index, char *error, size_t error_size)
{
    if (zch_failover_check (brokers, controls, error, error_size))
        return NULL;
    zch_failover_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->brokers = brokers;
    self->controls = controls;
    self->secure = secure;
    self->role = role;
    self->index = index;
    self->timeout = timeout_ms > 0? timeout_ms: 1;
    self->since = zclock_mono ();
    self->beat_at = self->since - self->timeout;
    if (brokers->count > 1
    &&  !(self->dealer = zch_control_dealer_new (secure, controls->items [0], NULL, error, error_size))) {
        zch_failover_destroy (&self);
        return NULL;
    }
    return self;
}

void
zch_failover_destroy (zch_failover_t **self_p)
{
    zch_failover_t *self = *self_p;
    if (!self)
        return;
    zch_control_dealer_close (&self->dealer);
    free (self);
    *self_p = NULL;
}

int
zch_failover_fd (zch_failover_t *self)
{
    return self->dealer? zch_zmq_fd (self->dealer): -1;
}

//  One answer: [HEALTH, ok], [HEALTH, down, reason], or (a broker that
//  does not know HEALTH) [ERR, ...], which still proves it serves.
//  Returns true when it says the broker serves.
static bool
s_answer_ok (zch_failover_t *self, zmq_msg_t *frames, size_t count)
{
    const char *kind = zmq_msg_data (&frames [0]);
    size_t kind_len = zmq_msg_size (&frames [0]);
    if (kind_len == 3 && memcmp (kind, "ERR", 3) == 0)
        return true;
    if (kind_len != 6 || memcmp (kind, "HEALTH", 6) || count < 2)
        return false;
    if (zmq_msg_size (&frames [1]) == 2 && memcmp (zmq_msg_data (&frames [1]), "ok", 2) == 0)
        return true;
    int len = count >= 3? (int) zmq_msg_size (&frames [2]): 0;
    snprintf (self->reason, sizeof self->reason, "broker %s: %.*s",
              self->brokers->items [self->current], len, len? (const char *) zmq_msg_data (&frames [2]): "down");
    self->said_down = true;
    return false;
}

//  Reads every answer waiting; true when one of them was ok.
static bool
s_read_answers (zch_failover_t *self)
{
    bool ok = false;
    while (true) {
        zch_control_answer_t answer;
        if (zch_control_answer_recv (&answer, self->dealer) == 0)
            return ok;
        ok |= s_answer_ok (self, answer.frames, answer.held);
        zch_control_answer_clear (&answer);
    }
}

//  The current broker's time is over: the clients are told once, and the
//  next broker of the list gets its turn.
static int
s_give_up (zch_failover_t *self, int64_t now)
{
    int events = 0;
    if (!self->said_down)
        snprintf (self->reason, sizeof self->reason, "broker %s has not answered for %d ms",
                  self->brokers->items [self->current], self->timeout);
    if (!self->offline) {
        self->offline = true;
        events |= ZCH_FAILOVER_OFFLINE;
        zch_warning ("%s: worker %d is offline: %s", self->role, self->index, self->reason);
    }
    self->previous = self->current;
    self->current = (self->current + 1) % self->brokers->count;
    self->said_down = false;
    self->since = now;
    self->beat_at = now - self->timeout;
    self->moves++;
    //  The same socket (the worker's loop watches it), on the next broker;
    //  heartbeats queued for the old one go with it
    char error [256];
    if (zch_zmq_move (self->dealer, "to broker control", self->controls->items [self->previous],
                      self->controls->items [self->current], error, sizeof error))
        zch_error ("%s: worker %d: %s", self->role, self->index, error);
    zch_notice ("%s: worker %d moves from broker %s to broker %s (%s)", self->role, self->index,
                self->brokers->items [self->previous], self->brokers->items [self->current],
                self->controls->items [self->current]);
    return events | ZCH_FAILOVER_MOVED;
}

int
zch_failover_work (zch_failover_t *self)
{
    if (!self->dealer)
        return 0;
    int events = 0;
    int64_t now = zclock_mono ();
    if (s_read_answers (self)) {
        self->since = now;
        self->said_down = false;
        if (self->offline) {
            self->offline = false;
            events |= ZCH_FAILOVER_ONLINE;
            zch_notice ("%s: worker %d is online through broker %s", self->role, self->index,
                        self->brokers->items [self->current]);
        }
    }
    else
    if (now - self->since >= self->timeout)
        return events | s_give_up (self, now);
    int period = self->timeout / FAILOVER_BEATS;
    if (now - self->beat_at >= (period < FAILOVER_BEAT_MIN? FAILOVER_BEAT_MIN: period)) {
        //  A peer that is gone keeps what is queued for it up to the high-
        //  water mark, dropped at the next move
        zmq_send (self->dealer, "HEALTH", 6, ZMQ_DONTWAIT);
        self->beat_at = now;
    }
    return events;
}

const char *
zch_failover_broker (zch_failover_t *self)
{
    return self->brokers->items [self->current];
}

const char *
zch_failover_control (zch_failover_t *self)
{
    return self->controls->count > self->current? self->controls->items [self->current]: "";
}

const char *
zch_failover_previous_broker (zch_failover_t *self)
{
    return self->brokers->items [self->previous];
}

const char *
zch_failover_previous_control (zch_failover_t *self)
{
    return self->controls->count > self->previous? self->controls->items [self->previous]: "";
}

const char *
zch_failover_reason (zch_failover_t *self)
{
    return self->reason;
}

bool
zch_failover_answering (zch_failover_t *self)
{
    return !self->dealer || zclock_mono () - self->since < self->timeout / 2;
}

int
zch_failover_current (zch_failover_t *self)
{
    return self->current;
}

uint64_t
zch_failover_moves (zch_failover_t *self)
{
    return self->moves;
}

bool
zch_failover_offline (zch_failover_t *self)
{
    return self->offline;
}
