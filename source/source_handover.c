/*  source_handover: the marker-and-wait hand-over to the broker.          */
#include "source_handover.h"
#include "zch_control_dealer.h"
#include "zch_log.h"
#include "zch_zmq.h"

#include <czmq.h>
#include <unistd.h>

#define HANDOVER_MARKER_MAX 64      //  the broker's tag bound

typedef enum { HANDOVER_IDLE, HANDOVER_REGISTERING, HANDOVER_MARKING, HANDOVER_AWAITING } state_t;

struct source_handover_t {
    void *dealer;               //  to the broker's control endpoint
    int index;
    char id [32];               //  this worker's part of every marker
    uint64_t markers;           //  markers made so far
    char marker [HANDOVER_MARKER_MAX + 1];
    size_t marker_len;
    state_t state;
    int64_t started_at;
    uint64_t sent_at_marker;    //  messages sent before the marker
    uint64_t confirmed;
    bool silent_logged;         //  "no answer" said once until an answer comes
};

source_handover_t *
source_handover_new (const char *control, const zch_secure_config_t *secure, int index,
                     char *error, size_t error_size)
{
    source_handover_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->index = index;
    //  Unique across workers and restarts: pid, worker, start time
    snprintf (self->id, sizeof self->id, "%x.%d.%llx", (unsigned) getpid (), index,
              (unsigned long long) zclock_usecs () & 0xffffffffffULL);
    self->dealer = zch_control_dealer_new (secure, control, NULL, error, error_size);
    if (!self->dealer) {
        source_handover_destroy (&self);
        return NULL;
    }
    return self;
}

void
source_handover_destroy (source_handover_t **self_p)
{
    source_handover_t *self = *self_p;
    if (!self)
        return;
    zch_control_dealer_close (&self->dealer);
    free (self);
    *self_p = NULL;
}

int
source_handover_fd (source_handover_t *self)
{
    return zch_zmq_fd (self->dealer);
}

int
source_handover_start (source_handover_t *self)
{
    if (self->state != HANDOVER_IDLE)
        return 0;
    int len = snprintf (self->marker, sizeof self->marker, "%s.%llu", self->id,
                        (unsigned long long) ++self->markers);
    self->marker_len = (size_t) len;
    if (zmq_send (self->dealer, "HANDOVER", 8, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (self->dealer, self->marker, self->marker_len, 0);
    self->state = HANDOVER_REGISTERING;
    self->started_at = zclock_mono ();
    return 0;
}

static bool
s_frame_is (zmq_msg_t *frame, const char *text, size_t len)
{
    return zmq_msg_size (frame) == len && memcmp (zmq_msg_data (frame), text, len) == 0;
}

//  Takes one answer: [HANDOVER, marker, WAITING|DONE] or [ERR, reason, marker].
//  Answers to a marker given up on are ignored.
static void
s_answer (source_handover_t *self, zmq_msg_t *frames, size_t count)
{
    if (count == 3 && s_frame_is (&frames [0], "ERR", 3)
    &&  s_frame_is (&frames [2], self->marker, self->marker_len)) {
        zch_warning ("source: worker %d: the broker refused a hand-over: %.*s", self->index,
                     (int) zmq_msg_size (&frames [1]), (char *) zmq_msg_data (&frames [1]));
        self->state = HANDOVER_IDLE;
        return;
    }
    if (count != 3 || !s_frame_is (&frames [0], "HANDOVER", 8)
    ||  !s_frame_is (&frames [1], self->marker, self->marker_len))
        return;
    if (self->silent_logged)
        zch_notice ("source: worker %d: the broker answers hand-overs again", self->index);
    self->silent_logged = false;
    if (self->state == HANDOVER_REGISTERING && s_frame_is (&frames [2], "WAITING", 7))
        self->state = HANDOVER_MARKING;
    else
    if (self->state == HANDOVER_AWAITING && s_frame_is (&frames [2], "DONE", 4)) {
        self->confirmed = self->sent_at_marker;
        self->state = HANDOVER_IDLE;
    }
}

//  Reads every answer waiting on the link.
static void
s_read_answers (source_handover_t *self)
{
    while (zch_zmq_readable (self->dealer)) {
        zch_control_answer_t answer;
        size_t count = zch_control_answer_recv (&answer, self->dealer);
        s_answer (self, answer.frames, count);
        zch_control_answer_clear (&answer);
        if (count == 0)
            break;
    }
}

void
source_handover_work (source_handover_t *self, void *publisher, uint64_t sent, int timeout_ms)
{
    s_read_answers (self);
    if (self->state == HANDOVER_MARKING && publisher) {
        //  After every message sent so far, in the same pipe
        char topic [sizeof SOURCE_HANDOVER_TOPIC + HANDOVER_MARKER_MAX];
        int len = snprintf (topic, sizeof topic, "%s%s", SOURCE_HANDOVER_TOPIC, self->marker);
        if (zmq_send (publisher, topic, (size_t) len, ZMQ_DONTWAIT) >= 0) {
            self->sent_at_marker = sent;
            self->state = HANDOVER_AWAITING;
        }
    }
    if (self->state != HANDOVER_IDLE && zclock_mono () - self->started_at > timeout_ms) {
        if (!self->silent_logged)
            zch_warning ("source: worker %d: no hand-over answer from the broker's control "
                         "endpoint in %d ms (is --control its control endpoint?)",
                         self->index, timeout_ms);
        self->silent_logged = true;
        self->state = HANDOVER_IDLE;
    }
}

bool
source_handover_busy (source_handover_t *self)
{
    return self->state != HANDOVER_IDLE;
}

uint64_t
source_handover_confirmed (source_handover_t *self)
{
    return self->confirmed;
}

int
source_handover_move (source_handover_t *self, const char *from, const char *to, uint64_t sent,
                      char *error, size_t error_size)
{
    //  A marker in flight went to the old broker: its answer will not come
    self->state = HANDOVER_IDLE;
    self->confirmed = sent;
    self->silent_logged = false;
    return zch_zmq_move (self->dealer, "to broker control", from, to, error, error_size);
}
