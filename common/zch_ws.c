/*  zch_ws: one WebSocket connection over the edge's transport.             */
#include "zch_ws.h"
#include "zch_frame.h"
#include "zch_metrics.h"
#include "zch_ws_http.h"
#include "zch_ws_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#define ZCH_WS_QUEUE_MAX    (256 * 1024)    //  bytes queued in wslay before the edge keeps the rest
#define ZCH_WS_READ_MAX     (1024 * 1024)   //  bytes read from the socket per zch_ws_read
#define ZCH_WS_OUT_MAX      (64 * 1024)     //  framed bytes gathered for one write to the socket

typedef enum { WS_HEAD, WS_OPEN, WS_DONE } ws_state_t;

struct zch_ws_t {
    const zch_ws_config_t *config;
    zch_ws_read_fn *raw_read;
    zch_ws_write_fn *raw_write;
    void *io;
    ws_state_t state;
    //  The HTTP phase: the request so far, then the answer
    char *head;
    size_t head_len;
    char *answer;
    size_t answer_len, answer_sent;
    size_t leftover;                //  bytes after the head, still to give wslay
    //  The WebSocket phase
    wslay_event_context_ptr ctx;
    uint8_t *in;                    //  frame-protocol bytes for the edge: in [in_start .. in_len)
    size_t in_start, in_len, in_cap;
    size_t read_budget;             //  socket bytes this zch_ws_read may still take
    bool more;                      //  the budget ran out: the socket may hold more
    bool raw_eof;
    int raw_errno;
    bool heard;
    uint8_t *out;                   //  frames wslay made, for the socket: out [out_start .. out_len)
    size_t out_start, out_len, out_cap;
    bool binary;                    //  replies go as binary frames
    uint16_t close_code;
    char close_reason [96];
    bool ending;                    //  the close goes once the messages before it went
    bool ended;
    int refused;
};

zch_ws_t *
zch_ws_new (const zch_ws_config_t *config, zch_ws_read_fn *read, zch_ws_write_fn *write, void *io)
{
    zch_ws_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->raw_read = read;
    self->raw_write = write;
    self->io = io;
    return self;
}

void
zch_ws_destroy (zch_ws_t **self_p)
{
    zch_ws_t *self = *self_p;
    if (!self)
        return;
    if (self->ctx)
        wslay_event_context_free (self->ctx);
    free (self->head);
    free (self->answer);
    free (self->in);
    free (self->out);
    free (self);
    *self_p = NULL;
}

//  Makes room for len more bytes of input for the edge. Returns 0 or -1.
static int
s_in_room (zch_ws_t *self, size_t len)
{
    if (self->in_start == self->in_len)
        self->in_start = self->in_len = 0;
    if (self->in_cap - self->in_len >= len)
        return 0;
    if (self->in_start > 0) {
        memmove (self->in, self->in + self->in_start, self->in_len - self->in_start);
        self->in_len -= self->in_start;
        self->in_start = 0;
    }
    size_t cap = self->in_cap? self->in_cap: 4096;
    while (cap - self->in_len < len)
        cap *= 2;
    if (cap != self->in_cap) {
        uint8_t *grown = realloc (self->in, cap);
        if (!grown)
            return -1;
        self->in = grown;
        self->in_cap = cap;
    }
    return 0;
}

void
zch_ws_set_close (zch_ws_t *self, uint16_t code, const char *reason)
{
    if (self->close_code)
        return;
    self->close_code = code;
    snprintf (self->close_reason, sizeof self->close_reason, "%s", reason);
}

//  Queues one text message with the layer's own error.
static void
s_queue_error (zch_ws_t *self, const char *code, const char *detail)
{
    size_t len;
    char *json = zch_ws_json_error (code, detail, &len);
    if (json) {
        struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *) json, len };
        wslay_event_queue_msg (self->ctx, &msg);
        free (json);
    }
}

//  Fails the connection with a close code (no more is read).
static void
s_fail (zch_ws_t *self, uint16_t code, const char *reason)
{
    zch_ws_set_close (self, code, reason);
    wslay_event_shutdown_read (self->ctx);
    zch_ws_end (self);
}

//  wslay: a whole message came. Text is one JSON request, binary is
//  frame-protocol bytes; both go to the edge as frames.
static void
s_on_message (wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    (void) ctx;
    zch_ws_t *self = user;
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        self->binary = true;
        if (arg->msg_length == 0)
            return;                     //  an empty message carries no frame bytes
        if (s_in_room (self, arg->msg_length) == 0) {
            memcpy (self->in + self->in_len, arg->msg, arg->msg_length);
            self->in_len += arg->msg_length;
        }
        else
            s_fail (self, WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
    }
    else
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        self->binary = false;
        //  msgpack is never longer than the JSON it came from, plus framing
        size_t cap = arg->msg_length + 64;
        if (s_in_room (self, cap)) {
            s_fail (self, WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
            return;
        }
        const char *code;
        char detail [200];
        size_t size = zch_ws_json_request ((const char *) arg->msg, arg->msg_length,
                                           self->in + self->in_len, cap, &code, detail, sizeof detail);
        if (size)
            self->in_len += size;
        else
        if (code && strcmp (code, ZCH_WS_E_UTF8) == 0)
            s_fail (self, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
        else
            s_queue_error (self, code? code: ZCH_WS_E_REQUEST, code? detail: "request too large");
    }
}

//  wslay reads: first what came behind the request head, then the socket.
static ssize_t
s_recv (wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void) flags;
    zch_ws_t *self = user;
    if (self->leftover) {
        size_t take = len < self->leftover? len: self->leftover;
        memcpy (buf, self->head + self->head_len - self->leftover, take);
        self->leftover -= take;
        return (ssize_t) take;
    }
    if (self->read_budget == 0) {
        self->more = true;
        wslay_event_set_error (ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    ssize_t got = self->raw_read (self->io, buf, len < self->read_budget? len: self->read_budget);
    if (got > 0) {
        self->read_budget -= (size_t) got;
        self->heard = true;
        return got;
    }
    if (got == 0)
        self->raw_eof = true;
    else
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        self->raw_errno = errno;
    wslay_event_set_error (ctx, self->raw_errno? WSLAY_ERR_CALLBACK_FAILURE: WSLAY_ERR_WOULDBLOCK);
    return -1;
}

//  wslay writes a frame: it is gathered with the others, so that a burst
//  of messages goes to the socket in one write (s_flush), not one each.
static ssize_t
s_send (wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void) flags;
    zch_ws_t *self = user;
    size_t room = ZCH_WS_OUT_MAX - self->out_len;
    size_t take = len < room? len: room;
    if (take && self->out_cap < self->out_len + take) {
        size_t cap = self->out_len + take > 4096? ZCH_WS_OUT_MAX: 4096;
        uint8_t *grown = realloc (self->out, cap);
        if (!grown) {
            self->raw_errno = ENOMEM;
            wslay_event_set_error (ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        self->out = grown;
        self->out_cap = cap;
    }
    if (take == 0) {
        wslay_event_set_error (ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy (self->out + self->out_len, data, take);
    self->out_len += take;
    return (ssize_t) take;
}

//  Writes the gathered frames. Returns 0 (all of them, or the socket is
//  full), or -1 with raw_errno set when the transport failed.
static int
s_flush (zch_ws_t *self)
{
    while (self->out_start < self->out_len) {
        ssize_t sent = self->raw_write (self->io, self->out + self->out_start, self->out_len - self->out_start);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            self->raw_errno = errno;
            return -1;
        }
        self->out_start += (size_t) sent;
    }
    self->out_start = self->out_len = 0;
    return 0;
}

//  Answers the HTTP request with answer (taken over) and ends the phase.
static void
s_answer (zch_ws_t *self, char *answer, size_t len, int refused)
{
    free (self->answer);
    self->answer = answer;
    self->answer_len = answer? len: 0;
    self->answer_sent = 0;
    self->refused = refused;
    if (refused || self->state != WS_OPEN)
        self->state = WS_DONE;
}

//  Turns the request head into the upgrade or an answer.
static void
s_handle_request (zch_ws_t *self, const zch_ws_request_t *request)
{
    size_t len = 0;
    if (!request->upgrade && request->get && *request->upgrade_header == 0) {
        //  A browser asking for the page or the counters
        bool page = self->config->root && *self->config->root;
        if (page && strcmp (request->path, "/metrics") == 0) {
            char *text = zch_metrics_render ();
            char *answer = NULL;
            if (text) {
                answer = zch_ws_http_body (200, "text/plain; version=0.0.4", text, strlen (text), &len);
                free (text);
            }
            s_answer (self, answer, len, 0);
        }
        else {
            char *answer = page? zch_ws_http_file (self->config->root, request->path, &len):
                                 zch_ws_http_error (426, "this port speaks WebSocket", &len);
            s_answer (self, answer, len, page? 0: 426);
        }
        return;
    }
    char accept [32];
    bool subprotocol;
    const char *reason;
    int status = zch_ws_request_check (request, self->config->origins, accept, &subprotocol, &reason);
    if (status) {
        char *answer = zch_ws_http_error (status, reason, &len);
        s_answer (self, answer, len, status);
        return;
    }
    static const struct wslay_event_callbacks callbacks = {
        .recv_callback = s_recv, .send_callback = s_send, .on_msg_recv_callback = s_on_message
    };
    char *answer = malloc (256);
    if (!answer || wslay_event_context_server_init (&self->ctx, &callbacks, self)) {
        free (answer);
        s_answer (self, NULL, 0, 500);
        return;
    }
    wslay_event_config_set_max_recv_msg_length (self->ctx, self->config->max_message);
    self->state = WS_OPEN;
    self->leftover = self->head_len - request->head_len;
    len = zch_ws_http_switch (answer, 256, accept, subprotocol);
    s_answer (self, answer, len, 0);
}

//  Reads the request head. Returns 1 once it was handled, 0 when more
//  bytes are needed, -1 (errno set) when the transport failed or ended.
static int
s_read_head (zch_ws_t *self)
{
    if (!self->head && !(self->head = malloc (ZCH_WS_REQUEST_MAX))) {
        errno = ENOMEM;
        return -1;
    }
    while (true) {
        ssize_t got = self->raw_read (self->io, self->head + self->head_len,
                                      ZCH_WS_REQUEST_MAX - self->head_len);
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return -1;
        }
        self->heard = true;
        self->head_len += (size_t) got;
        zch_ws_request_t request;
        const char *reason;
        int rc = zch_ws_request_parse (self->head, self->head_len, &request, &reason);
        size_t len = 0;
        if (rc == 1)
            s_handle_request (self, &request);
        else
        if (rc < 0) {
            char *answer = zch_ws_http_error (self->head_len >= ZCH_WS_REQUEST_MAX? 431: 400,
                                              reason, &len);
            s_answer (self, answer, len, 400);
        }
        if (rc != 0)
            return 1;
    }
}

//  Hands the edge up to len bytes of what the client's messages carried.
static ssize_t
s_take_input (zch_ws_t *self, void *buf, size_t len)
{
    size_t have = self->in_len - self->in_start;
    size_t take = have < len? have: len;
    memcpy (buf, self->in + self->in_start, take);
    self->in_start += take;
    return (ssize_t) take;
}

ssize_t
zch_ws_read (zch_ws_t *self, void *buf, size_t len)
{
    if (self->in_len > self->in_start)
        return s_take_input (self, buf, len);
    if (self->state == WS_HEAD) {
        if (s_read_head (self) < 0)
            return errno? -1: 0;
        zch_ws_send (self);
    }
    if (self->state == WS_DONE)
        return 0;
    if (self->state == WS_HEAD) {
        errno = EAGAIN;
        return -1;
    }
    self->read_budget = ZCH_WS_READ_MAX;
    self->more = false;
    int rc = wslay_event_recv (self->ctx);
    zch_ws_send (self);                 //  pongs, and closes wslay queued
    if (self->in_len > self->in_start)
        return s_take_input (self, buf, len);
    if (rc == WSLAY_ERR_CALLBACK_FAILURE && self->raw_errno) {
        errno = self->raw_errno;
        return -1;
    }
    if (rc || self->raw_eof || !wslay_event_get_read_enabled (self->ctx))
        return 0;
    errno = EAGAIN;
    return -1;
}

size_t
zch_ws_queued (zch_ws_t *self)
{
    return (self->answer_len - self->answer_sent) + (self->out_len - self->out_start)
         + (self->ctx? wslay_event_get_queued_msg_length (self->ctx): 0);
}

bool
zch_ws_buffered (zch_ws_t *self)
{
    return self->in_len > self->in_start || self->more;
}

//  The start of a ["text", str 32] frame's body
static const uint8_t s_text_prefix [] = { 0x92, 0xa4, 't', 'e', 'x', 't', 0xdb };

static void
s_put_be32 (uint8_t *out, size_t value)
{
    out [0] = (uint8_t) (value >> 24);
    out [1] = (uint8_t) (value >> 16);
    out [2] = (uint8_t) (value >> 8);
    out [3] = (uint8_t) value;
}

size_t
zch_ws_text_frame (uint8_t *out, const char *text, size_t len)
{
    s_put_be32 (out, sizeof s_text_prefix + 4 + len);
    memcpy (out + ZCH_FRAME_HEADER, s_text_prefix, sizeof s_text_prefix);
    s_put_be32 (out + ZCH_FRAME_HEADER + sizeof s_text_prefix, len);
    memcpy (out + ZCH_WS_TEXT_OVERHEAD, text, len);
    return ZCH_WS_TEXT_OVERHEAD + len;
}

//  Queues one frame the role wrote, as the client speaks. Notes the
//  close code an error frame implies.
static void
s_queue_frame (zch_ws_t *self, const uint8_t *frame, size_t size)
{
    if (size >= ZCH_WS_TEXT_OVERHEAD
    &&  memcmp (frame + ZCH_FRAME_HEADER, s_text_prefix, sizeof s_text_prefix) == 0) {
        //  Made ready as text while the client spoke JSON: it goes as it is
        struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, frame + ZCH_WS_TEXT_OVERHEAD,
                                       size - ZCH_WS_TEXT_OVERHEAD };
        wslay_event_queue_msg (self->ctx, &msg);
        return;
    }
    if (self->binary) {
        struct wslay_event_msg msg = { WSLAY_BINARY_FRAME, frame, size };
        wslay_event_queue_msg (self->ctx, &msg);
        return;
    }
    zch_frame_cmd_t cmd;
    const char *code, *reason;
    if (zch_frame_decode (frame + ZCH_FRAME_HEADER, size - ZCH_FRAME_HEADER, &cmd, &code, &reason))
        return;
    if (cmd.verb == ZCH_FRAME_ERR) {
        //  The edge's last words say why it closes
        static const struct { const char *code; uint16_t close; const char *reason; } closes [] = {
            { "slow_consumer", WSLAY_CODE_POLICY_VIOLATION, "slow consumer" },
            { "too_large", WSLAY_CODE_MESSAGE_TOO_BIG, "message too big" },
            { "idle_timeout", WSLAY_CODE_POLICY_VIOLATION, "idle timeout" },
            { "auth_failed", WSLAY_CODE_POLICY_VIOLATION, "authentication failed" },
        };
        for (size_t i = 0; i < sizeof closes / sizeof closes [0]; i++)
            if (cmd.code_len == strlen (closes [i].code)
            &&  memcmp (cmd.code, closes [i].code, cmd.code_len) == 0)
                zch_ws_set_close (self, closes [i].close, closes [i].reason);
    }
    size_t len;
    char *json = zch_ws_json_reply (&cmd, &len);
    if (json) {
        struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *) json, len };
        wslay_event_queue_msg (self->ctx, &msg);
        free (json);
    }
}

ssize_t
zch_ws_write (zch_ws_t *self, const void *data, size_t len)
{
    if (self->state != WS_OPEN)
        return (ssize_t) len;           //  no client to hear it: the edge's words before the upgrade
    const uint8_t *bytes = data;
    size_t taken = 0;
    while (len - taken >= ZCH_FRAME_HEADER
    &&     wslay_event_get_queued_msg_length (self->ctx) < ZCH_WS_QUEUE_MAX) {
        const uint8_t *header = bytes + taken;
        size_t size = ZCH_FRAME_HEADER + ((size_t) header [0] << 24 | (size_t) header [1] << 16
                                          | (size_t) header [2] << 8 | header [3]);
        if (size > len - taken)
            break;
        s_queue_frame (self, header, size);
        taken += size;
    }
    if (zch_ws_send (self))
        return -1;
    if (taken == 0) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t) taken;
}

int
zch_ws_send (zch_ws_t *self)
{
    while (self->answer_sent < self->answer_len) {
        ssize_t sent = self->raw_write (self->io, self->answer + self->answer_sent,
                                        self->answer_len - self->answer_sent);
        if (sent < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR? 0: -1;
        self->answer_sent += (size_t) sent;
    }
    for (int pass = 0; pass < 2; pass++) {
        //  wslay frames into the gathering buffer until it is full, which
        //  goes out whole before wslay frames more
        bool failed = s_flush (self) != 0;
        while (!failed && self->out_start == self->out_len
        &&     self->ctx && wslay_event_want_write (self->ctx))
            failed = wslay_event_send (self->ctx) || s_flush (self);
        if (failed) {
            if (!self->raw_errno)
                self->raw_errno = EPIPE;
            errno = self->raw_errno;
            return -1;
        }
        if (!self->ending || self->ended)
            break;
        zch_ws_end (self);              //  its turn may have come
    }
    return 0;
}

bool
zch_ws_wants_write (zch_ws_t *self)
{
    return self->answer_sent < self->answer_len
        || (self->ctx && !self->raw_errno
            && (self->out_start < self->out_len || wslay_event_want_write (self->ctx)
                || (self->ending && !self->ended)));
}

void
zch_ws_end (zch_ws_t *self)
{
    if (self->ended || !self->ctx || self->state != WS_OPEN)
        return;
    //  wslay sends control frames ahead of queued messages: the close
    //  waits until the last words before it are out
    self->ending = true;
    if (wslay_event_get_queued_msg_count (self->ctx) > 0)
        return;
    self->ended = true;
    const char *reason = self->close_code? self->close_reason: "";
    wslay_event_queue_close (self->ctx, self->close_code? self->close_code: WSLAY_CODE_NORMAL_CLOSURE,
                             (const uint8_t *) reason, strlen (reason));
}

void
zch_ws_ping (zch_ws_t *self)
{
    if (self->state == WS_OPEN && !self->ended) {
        struct wslay_event_msg msg = { WSLAY_PING, (const uint8_t *) "", 0 };
        wslay_event_queue_msg (self->ctx, &msg);
    }
}

bool
zch_ws_heard (zch_ws_t *self)
{
    bool heard = self->heard;
    self->heard = false;
    return heard;
}

int
zch_ws_refused (zch_ws_t *self)
{
    return self->refused;
}

bool
zch_ws_speaks_json (zch_ws_t *self)
{
    return !self->binary;
}
