/*  subscriber_control: the DEALER to the broker's control endpoint and the
    routing of answers by tag.                                              */
#include "subscriber_control.h"
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_log.h"
#include "zch_zmq.h"

#include <czmq.h>

#define CONTROL_MAX_FRAMES  6

//  A request in flight, by tag.
struct subscriber_control_request_t {
    char tag [24];
    const subscriber_control_handlers_t *handlers;   //  NULL once cancelled
    void *arg;
    int64_t deadline;
};

struct subscriber_control_t {
    void *dealer;
    zhashx_t *requests;         //  tag -> subscriber_control_request_t
    uint64_t next_tag;
};

static void
s_request_free (void **item)
{
    free (*item);
    *item = NULL;
}

subscriber_control_t *
subscriber_control_new (const char *endpoint, const zch_secure_config_t *secure,
                        char *error, size_t error_size)
{
    subscriber_control_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->dealer = zmq_socket (zsys_init (), ZMQ_DEALER);
    self->requests = zhashx_new ();
    if (!self->dealer || !self->requests) {
        snprintf (error, error_size, "cannot set up the control link: %s", zmq_strerror (zmq_errno ()));
        subscriber_control_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->requests, s_request_free);
    zch_zmq_set (self->dealer, ZMQ_LINGER, 0);
    if (zch_secure_curve (secure, self->dealer, error, error_size)
    ||  zch_zmq_attach (self->dealer, "to broker control", endpoint, false, error, error_size)) {
        subscriber_control_destroy (&self);
        return NULL;
    }
    return self;
}

void
subscriber_control_destroy (subscriber_control_t **self_p)
{
    subscriber_control_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->requests);
    if (self->dealer)
        zmq_close (self->dealer);
    free (self);
    *self_p = NULL;
}

int
subscriber_control_fd (subscriber_control_t *self)
{
    return zch_zmq_fd (self->dealer);
}

subscriber_control_request_t *
subscriber_control_request (subscriber_control_t *self, const char *const *tokens, const size_t *sizes,
                            size_t count, const subscriber_control_handlers_t *handlers, void *arg)
{
    subscriber_control_request_t *request = calloc (1, sizeof *request);
    if (!request)
        return NULL;
    snprintf (request->tag, sizeof request->tag, "%llu", (unsigned long long) ++self->next_tag);
    request->deadline = zclock_mono () + SUBSCRIBER_CONTROL_TIMEOUT;
    request->handlers = handlers;
    request->arg = arg;
    for (size_t i = 0; i < count; i++)
        if (zmq_send (self->dealer, tokens [i], sizes [i], ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            //  Only the first part can fail; nothing went
            free (request);
            return NULL;
        }
    zmq_send (self->dealer, request->tag, strlen (request->tag), 0);
    zhashx_insert (self->requests, request->tag, request);
    return request;
}

void
subscriber_control_cancel (subscriber_control_t *self, subscriber_control_request_t *request)
{
    (void) self;
    if (request)
        request->handlers = NULL;
}

//  The request ended (complete or not): its end handler, then it goes.
static void
s_end (subscriber_control_t *self, subscriber_control_request_t *request, bool complete,
       uint64_t a, uint64_t b, bool reset, uint64_t epoch)
{
    if (request->handlers)
        request->handlers->end (request->arg, complete, a, b, reset, epoch);
    zhashx_delete (self->requests, request->tag);
}

int
subscriber_control_move (subscriber_control_t *self, const char *from, const char *to,
                         char *error, size_t error_size)
{
    if (zch_zmq_move (self->dealer, "to broker control", from, to, error, error_size))
        return -1;
    zlistx_t *open = zlistx_new ();
    if (!open)
        return 0;               //  they time out instead
    for (subscriber_control_request_t *request = zhashx_first (self->requests); request;
         request = zhashx_next (self->requests))
        zlistx_add_end (open, request);
    //  An end handler may ask again (of the new broker) or cancel one of
    //  these, never free it
    for (subscriber_control_request_t *request = zlistx_first (open); request;
         request = zlistx_next (open))
        s_end (self, request, false, 0, 0, false, 0);
    zlistx_destroy (&open);
    return 0;
}

//  Parses an epoch frame. Returns 0 if it is none.
static uint64_t
s_epoch (zmq_msg_t *frame)
{
    uint64_t epoch = 0;
    zch_epoch_parse (zmq_msg_data (frame), zmq_msg_size (frame), &epoch);
    return epoch;
}

//  Parses a decimal number frame. Returns 0 if it is none.
static uint64_t
s_number (zmq_msg_t *frame)
{
    char text [24];
    size_t size = zmq_msg_size (frame);
    if (size == 0 || size >= sizeof text)
        return 0;
    memcpy (text, zmq_msg_data (frame), size);
    text [size] = 0;
    return strtoull (text, NULL, 10);
}

//  True when frame holds the 3-letter word.
static bool
s_is (zmq_msg_t *frame, const char *word)
{
    return zmq_msg_size (frame) == strlen (word) && memcmp (zmq_msg_data (frame), word, strlen (word)) == 0;
}

//  Routes one answer, held in frames, to its request.
static void
s_answer (subscriber_control_t *self, zmq_msg_t *frames, size_t count)
{
    char tag [24];
    bool error = count > 0 && s_is (&frames [0], "ERR");
    //  [ERR, reason, tag]; the others [kind, tag, ...]
    size_t tag_at = error? 2: 1;
    size_t tag_size = count > tag_at? zmq_msg_size (&frames [tag_at]): 0;
    if (tag_size == 0 || tag_size >= sizeof tag)
        return;                 //  an ERR without a tag: the request times out
    memcpy (tag, zmq_msg_data (&frames [tag_at]), tag_size);
    tag [tag_size] = 0;
    subscriber_control_request_t *request = zhashx_lookup (self->requests, tag);
    if (!request)
        return;
    request->deadline = zclock_mono () + SUBSCRIBER_CONTROL_TIMEOUT;
    const subscriber_control_handlers_t *handlers = request->handlers;
    zch_meta_t meta;
    if (s_is (&frames [0], "MSG")) {
        if (count == 5 && handlers && handlers->message
        &&  zch_meta_decode (zmq_msg_data (&frames [3]), zmq_msg_size (&frames [3]), &meta) == 0)
            handlers->message (request->arg, zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2]),
                               meta.seq, meta.epoch, zmq_msg_data (&frames [4]), zmq_msg_size (&frames [4]));
        return;
    }
    if (s_is (&frames [0], "SEQ")) {
        if (count >= 4 && handlers && handlers->seq)
            handlers->seq (request->arg, zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2]),
                           s_number (&frames [3]), count > 4? s_epoch (&frames [4]): 0);
        return;
    }
    if (error) {
        zch_warning ("subscriber: the broker refused request %s: %.*s", tag,
                     (int) zmq_msg_size (&frames [1]), (const char *) zmq_msg_data (&frames [1]));
        s_end (self, request, false, 0, 0, false, 0);
    }
    else
    if (s_is (&frames [0], "END") && count >= 5) {
        bool complete = s_is (&frames [2], "OK");
        bool reset = s_is (&frames [2], "RESET");
        s_end (self, request, complete, s_number (&frames [3]), s_number (&frames [4]), reset,
               count > 5? s_epoch (&frames [5]): 0);
    }
}

//  Fails the requests the broker has not answered in time.
static void
s_expire (subscriber_control_t *self)
{
    int64_t now = zclock_mono ();
    zlistx_t *expired = NULL;
    for (subscriber_control_request_t *request = zhashx_first (self->requests); request;
         request = zhashx_next (self->requests))
        if (now > request->deadline) {
            if (!expired)
                expired = zlistx_new ();
            if (expired)
                zlistx_add_end (expired, request);
        }
    if (!expired)
        return;
    //  An end handler may cancel another of these, never free it
    for (subscriber_control_request_t *request = zlistx_first (expired); request;
         request = zlistx_next (expired)) {
        if (request->handlers)
            zch_warning ("subscriber: the broker did not answer request %s in time", request->tag);
        s_end (self, request, false, 0, 0, false, 0);
    }
    zlistx_destroy (&expired);
}

void
subscriber_control_drain (subscriber_control_t *self)
{
    while (true) {
        zmq_msg_t frames [CONTROL_MAX_FRAMES];
        size_t count = zch_zmq_recv_frames (self->dealer, frames, CONTROL_MAX_FRAMES);
        if (count == 0) {
            if (zhashx_size (self->requests))
                s_expire (self);
            return;
        }
        size_t held = count < CONTROL_MAX_FRAMES? count: CONTROL_MAX_FRAMES;
        s_answer (self, frames, held);
        for (size_t i = 0; i < held; i++)
            zmq_msg_close (&frames [i]);
    }
}
