/*  subscriber_sync: one client's SNAPSHOT or FROM catch-up.                 */
#include "subscriber_sync.h"
#include "zch_epoch.h"
#include "zch_mpread.h"
#include "zch_text.h"
#include "zch_topic.h"

#include <czmq.h>

struct subscriber_sync_t {
    subscriber_control_t *control;
    const subscriber_sync_handlers_t *handlers;
    void *ctx;
    zch_conn_t *conn;
    subscriber_sync_kind_t kind;
    subscriber_control_request_t *request;  //  in flight until the END marker
    uint64_t from;              //  FROM: the client's seq
    uint64_t epoch;             //  FROM: the client's epoch, 0 when not given
    bool reset_told;            //  FROM: the client was told its position is gone
    char topic [ZCH_TOPIC_MAX + 1]; //  FROM: the topic
    bool sent_any;              //  FROM: a history message was written
    zhashx_t *floors;           //  topic -> last seq written by the stream (as a pointer)
    char *held;                 //  live deliveries held: records, see s_hold
    size_t held_len;
    size_t held_cap;
    size_t max_held;
};

//  A held record: seq, topic length, payload length, then the bytes.
typedef struct {
    uint64_t seq;
    size_t topic_len;
    size_t payload_len;
} record_t;

int
subscriber_sync_parse (const char *text, size_t len, subscriber_sync_options_t *options,
                       const char **reason)
{
    *options = (subscriber_sync_options_t) { .kind = SUBSCRIBER_SYNC_NONE };
    while (len > 0 && text [len - 1] == ' ')
        len--;
    if (len == 0)
        return 0;
    if (len == 8 && strncasecmp (text, "SNAPSHOT", 8) == 0) {
        options->kind = SUBSCRIBER_SYNC_SNAPSHOT;
        return 0;
    }
    if (len > 6 && strncasecmp (text, "QUEUE ", 6) == 0) {
        size_t at = 6;
        while (at < len && text [at] == ' ')
            at++;
        options->queue = text + at;
        options->queue_len = len - at;
        return 0;
    }
    if (len > 5 && strncasecmp (text, "FROM ", 5) == 0) {
        size_t at = 5;
        while (at < len && text [at] == ' ')
            at++;
        if (zch_position_parse (text + at, len - at, &options->from, &options->epoch) == 0) {
            options->kind = SUBSCRIBER_SYNC_FROM;
            return 0;
        }
        *reason = "usage: SUB <topic> FROM <seq>[@<epoch>]";
        return -1;
    }
    *reason = "unknown SUB option (SNAPSHOT, FROM <seq>[@<epoch>] or QUEUE <group>)";
    return -1;
}

int
subscriber_sync_parse_map (const uint8_t *opts, size_t size, subscriber_sync_options_t *options,
                           const char **reason)
{
    *options = (subscriber_sync_options_t) { .kind = SUBSCRIBER_SYNC_NONE };
    zch_mpread_t reader;
    uint32_t count;
    zch_mpread_init (&reader, opts, size);
    if (!opts || zch_mpread_map (&reader, &count) || count == 0)
        return 0;
    *reason = "sub options: {\"snapshot\": true}, {\"from\": seq, \"epoch\": str} or "
              "{\"queue\": group}, and \"verbose\": bool";
    bool snapshot = false, from = false, epoch = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *text;
        size_t key_len, text_len;
        if (zch_mpread_str (&reader, &key, &key_len) || reader.pos >= reader.size)
            return -1;
        uint8_t byte = reader.data [reader.pos];
        if (key_len == 8 && memcmp (key, "snapshot", 8) == 0 && !snapshot && byte == 0xc3) {
            //  msgpack true is the single byte 0xc3
            snapshot = true;
            reader.pos++;
        }
        else
        if (key_len == 7 && memcmp (key, "verbose", 7) == 0 && (byte == 0xc2 || byte == 0xc3)) {
            options->verbose = byte == 0xc3;
            reader.pos++;
        }
        else
        if (key_len == 4 && memcmp (key, "from", 4) == 0 && !from
        &&  zch_mpread_uint (&reader, &options->from) == 0 && options->from < UINT64_MAX)
            from = true;
        else
        if (key_len == 5 && memcmp (key, "epoch", 5) == 0 && !epoch
        &&  zch_mpread_str (&reader, &text, &text_len) == 0
        &&  zch_epoch_parse (text, text_len, &options->epoch) == 0)
            epoch = true;
        else
        if (key_len == 5 && memcmp (key, "queue", 5) == 0 && !options->queue
        &&  zch_mpread_str (&reader, &options->queue, &options->queue_len) == 0)
            ;
        else
            return -1;
    }
    if ((snapshot && (from || epoch)) || (epoch && !from) || (options->queue && (snapshot || from)))
        return -1;
    options->kind = snapshot? SUBSCRIBER_SYNC_SNAPSHOT: from? SUBSCRIBER_SYNC_FROM: SUBSCRIBER_SYNC_NONE;
    return 0;
}

//  Tells the client of a problem: code for frame clients, then the text.
static void
s_error (subscriber_sync_t *self, const char *code, const char *format, ...)
{
    char text [400];
    va_list args;
    va_start (args, format);
    int len = vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (len >= 0)
        self->handlers->notice (self->ctx, self->conn, code, text);
}

//  The floor of topic: the last seq the stream wrote for it, 0 if none.
static uint64_t
s_floor (subscriber_sync_t *self, const char *topic, size_t len, char *key)
{
    memcpy (key, topic, len);
    key [len] = 0;
    return (uint64_t) (uintptr_t) zhashx_lookup (self->floors, key);
}

static const subscriber_control_handlers_t s_answer_handlers;

subscriber_sync_t *
subscriber_sync_new (subscriber_control_t *control, const subscriber_sync_handlers_t *handlers, void *ctx,
                     zch_conn_t *conn, const subscriber_sync_options_t *options, const char *pattern,
                     size_t len, size_t max_held, subscriber_sync_t **previous)
{
    subscriber_sync_kind_t kind = options->kind;
    uint64_t from = options->from;
    subscriber_sync_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->control = control;
    self->handlers = handlers;
    self->ctx = ctx;
    self->conn = conn;
    self->kind = kind;
    self->from = from;
    self->epoch = options->epoch;
    self->max_held = max_held;
    if (len > ZCH_TOPIC_MAX) {
        free (self);
        return NULL;
    }
    memcpy (self->topic, pattern, len);
    self->topic [len] = 0;
    self->floors = zhashx_new ();
    if (!self->floors) {
        free (self);
        return NULL;
    }
    //  With its epoch the broker tells a position of another epoch apart
    char from_text [24 + ZCH_EPOCH_TEXT_MAX + 1], epoch [ZCH_EPOCH_TEXT_MAX + 1];
    snprintf (from_text, sizeof from_text, "%llu", (unsigned long long) from);
    if (self->epoch && zch_epoch_format (self->epoch, epoch))
        snprintf (from_text, sizeof from_text, "%llu@%s", (unsigned long long) from, epoch);
    const char *tokens [] = { kind == SUBSCRIBER_SYNC_SNAPSHOT? "SNAPSHOT": "HISTORY", pattern, from_text };
    size_t sizes [] = { strlen (tokens [0]), len, strlen (from_text) };
    if (kind == SUBSCRIBER_SYNC_FROM && from > 0) {
        char key [ZCH_TOPIC_MAX + 1];
        memcpy (key, pattern, len);
        key [len] = 0;
        zhashx_insert (self->floors, key, (void *) (uintptr_t) from);
    }
    //  The previous sync's floors still guard against repeats, but for a
    //  FROM's own topic: the client asked for what follows its seq, and the
    //  history's end becomes that topic's floor
    if (*previous) {
        zhashx_t *floors = (*previous)->floors;
        for (void *floor = zhashx_first (floors); floor; floor = zhashx_next (floors)) {
            const char *key = zhashx_cursor (floors);
            if (kind == SUBSCRIBER_SYNC_FROM && streq (key, self->topic))
                continue;
            if ((uintptr_t) zhashx_lookup (self->floors, key) < (uintptr_t) floor)
                zhashx_update (self->floors, key, floor);
        }
        subscriber_sync_destroy (previous);
    }
    self->request = subscriber_control_request (control, tokens, sizes,
                                                kind == SUBSCRIBER_SYNC_SNAPSHOT? 2: 3,
                                                &s_answer_handlers, self);
    if (!self->request) {
        subscriber_sync_destroy (&self);
        return NULL;
    }
    return self;
}

void
subscriber_sync_destroy (subscriber_sync_t **self_p)
{
    subscriber_sync_t *self = *self_p;
    if (!self)
        return;
    subscriber_control_cancel (self->control, self->request);
    zhashx_destroy (&self->floors);
    free (self->held);
    free (self);
    *self_p = NULL;
}

bool
subscriber_sync_streaming (subscriber_sync_t *self)
{
    return self->request != NULL;
}

//  Holds a live delivery until the stream ends. Past max_held the client
//  is a slow consumer: told, closed, and the sync holds no more.
static void
s_hold (subscriber_sync_t *self, const char *topic, size_t topic_len, uint64_t seq,
        const char *payload, size_t payload_len)
{
    if (zch_conn_closing (self->conn))
        return;
    size_t size = sizeof (record_t) + topic_len + payload_len;
    if (self->held_len + size > self->max_held) {
        s_error (self, SUBSCRIBER_E_SLOW, "slow consumer");
        zch_conn_close (self->conn);
        return;
    }
    if (self->held_len + size > self->held_cap) {
        size_t cap = self->held_cap? self->held_cap: 64 * 1024;
        while (cap < self->held_len + size)
            cap *= 2;
        char *grown = realloc (self->held, cap);
        if (!grown) {
            s_error (self, SUBSCRIBER_E_INTERNAL, "out of memory");
            zch_conn_close (self->conn);
            return;
        }
        self->held = grown;
        self->held_cap = cap;
    }
    record_t record = { seq, topic_len, payload_len };
    memcpy (self->held + self->held_len, &record, sizeof record);
    memcpy (self->held + self->held_len + sizeof record, topic, topic_len);
    if (payload_len)
        memcpy (self->held + self->held_len + sizeof record + topic_len, payload, payload_len);
    self->held_len += size;
}

//  After the stream: true when a live delivery is new to the client
//  (past its topic's floor); drops floors the delivery moves past.
static bool
s_past_floor (subscriber_sync_t *self, const char *topic, size_t topic_len, uint64_t seq)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (topic_len > ZCH_TOPIC_MAX || zhashx_size (self->floors) == 0)
        return true;
    uint64_t floor = s_floor (self, topic, topic_len, key);
    if (floor == 0)
        return true;
    if (seq >= floor)
        zhashx_delete (self->floors, key);
    return seq > floor;
}

bool
subscriber_sync_offer (subscriber_sync_t **self_p, const char *topic, size_t topic_len,
                       uint64_t seq, const char *payload, size_t payload_len)
{
    subscriber_sync_t *self = *self_p;
    if (self->request) {
        s_hold (self, topic, topic_len, seq, payload, payload_len);
        return false;
    }
    bool fresh = s_past_floor (self, topic, topic_len, seq);
    if (zhashx_size (self->floors) == 0)
        subscriber_sync_destroy (self_p);
    return fresh;
}

void
subscriber_sync_forget (subscriber_sync_t *self, const char *topic, size_t topic_len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (topic_len <= ZCH_TOPIC_MAX && s_floor (self, topic, topic_len, key))
        zhashx_delete (self->floors, key);
}

//  FROM: the client's position cannot be continued (another epoch, a
//  broker that started afresh, or, with an epoch, history trimmed past
//  it): "-ERR reset <topic> <epoch>", and the topic's floor goes.
static void
s_reset (subscriber_sync_t *self, uint64_t epoch)
{
    char text [ZCH_EPOCH_TEXT_MAX + 1];
    zch_epoch_format (epoch, text);
    s_error (self, SUBSCRIBER_E_RESET, "reset %s %s", self->topic, text);
    self->reset_told = true;
    subscriber_sync_forget (self, self->topic, strlen (self->topic));
}

//  One message of the answer, in epoch.
static void
s_on_message (void *arg, const char *topic, size_t topic_len, uint64_t seq, uint64_t epoch,
              const char *payload, size_t payload_len)
{
    subscriber_sync_t *self = arg;
    char key [ZCH_TOPIC_MAX + 1];
    if (topic_len > ZCH_TOPIC_MAX || zch_conn_closing (self->conn))
        return;
    if (self->kind == SUBSCRIBER_SYNC_FROM && !self->sent_any && !self->reset_told
    &&  ((self->epoch && epoch && epoch != self->epoch) || seq <= self->from
         || (self->epoch && seq > self->from + 1)))
        s_reset (self, epoch);
    uint64_t floor = s_floor (self, topic, topic_len, key);
    if (self->kind == SUBSCRIBER_SYNC_FROM) {
        if (seq <= floor)
            return;
        if (self->reset_told && !self->sent_any)
            ;                   //  the reset said it: what follows starts the new count
        else
        if (!self->sent_any && seq > self->from + 1)
            s_error (self, SUBSCRIBER_E_HISTORY_STARTS, "history starts at %llu", (unsigned long long) seq);
        else
        if (self->sent_any && seq > floor + 1)
            s_error (self, SUBSCRIBER_E_GAP, "gap %s %llu-%llu", key, (unsigned long long) floor + 1,
                     (unsigned long long) seq - 1);
        self->sent_any = true;
    }
    zhashx_update (self->floors, key, (void *) (uintptr_t) seq);
    self->handlers->write (self->ctx, self->conn, topic, topic_len, seq, payload, payload_len, false);
}

//  Writes the held live deliveries that are past their floors.
static void
s_flush_held (subscriber_sync_t *self)
{
    size_t at = 0;
    while (at < self->held_len && !zch_conn_closing (self->conn)) {
        record_t record;
        memcpy (&record, self->held + at, sizeof record);
        const char *topic = self->held + at + sizeof record;
        const char *payload = topic + record.topic_len;
        if (s_past_floor (self, topic, record.topic_len, record.seq))
            self->handlers->write (self->ctx, self->conn, topic, record.topic_len, record.seq,
                                   payload, record.payload_len, true);
        at += sizeof record + record.topic_len + record.payload_len;
    }
    free (self->held);
    self->held = NULL;
    self->held_len = self->held_cap = 0;
}

//  The END marker (complete false for GAP and RESET, reset true for
//  RESET; a, b and epoch as in proto/PROTOCOL.md), or complete false and
//  a = b = 0 when the broker did not answer. The client's paused
//  commands go on after it.
static void
s_on_end (void *arg, bool complete, uint64_t a, uint64_t b, bool reset, uint64_t epoch)
{
    subscriber_sync_t *self = arg;
    self->request = NULL;
    if (a == 0 && b == 0 && !complete)
        s_error (self, SUBSCRIBER_E_CATCHUP, "catch-up failed: the broker's history did not answer");
    else
    if (self->kind == SUBSCRIBER_SYNC_SNAPSHOT && !complete)
        s_error (self, SUBSCRIBER_E_INCOMPLETE, "snapshot lacks %llu topics: their last value is no longer held",
                 (unsigned long long) b);
    else
    if (self->kind == SUBSCRIBER_SYNC_FROM) {
        //  a: where the history started; b: the last seq it covers
        char key [ZCH_TOPIC_MAX + 1];
        if (!self->sent_any && !self->reset_told && (reset || (self->epoch && !complete)))
            s_reset (self, epoch);
        uint64_t floor = s_floor (self, self->topic, strlen (self->topic), key);
        if (self->reset_told && !self->sent_any)
            ;                   //  told: nothing of the new epoch was held
        else
        if (!self->sent_any && !complete)
            s_error (self, SUBSCRIBER_E_HISTORY_STARTS, "history starts at %llu", (unsigned long long) a);
        else
        if (self->sent_any && b > floor)
            s_error (self, SUBSCRIBER_E_GAP, "gap %s %llu-%llu", key, (unsigned long long) floor + 1,
                     (unsigned long long) b);
        //  Live goes on after b, even when the client claimed more (a
        //  broker that started afresh counts from 1 again)
        if (b > 0)
            zhashx_update (self->floors, key, (void *) (uintptr_t) b);
        else
            zhashx_delete (self->floors, key);
    }
    s_flush_held (self);
    //  Topics whose live stream already went past the floor need no filter
    zlistx_t *keys = zhashx_keys (self->floors);
    for (const char *topic = keys? zlistx_first (keys): NULL; topic; topic = zlistx_next (keys)) {
        uint64_t floor = (uint64_t) (uintptr_t) zhashx_lookup (self->floors, topic);
        if (self->handlers->last_seq (self->ctx, topic, strlen (topic)) >= floor)
            zhashx_delete (self->floors, topic);
    }
    zlistx_destroy (&keys);
    self->handlers->ended (self->ctx);
}

static const subscriber_control_handlers_t s_answer_handlers = {
    .message = s_on_message, .end = s_on_end
};
