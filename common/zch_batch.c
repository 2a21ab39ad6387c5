/*  zch_batch: one topic's consecutive messages (see the header).          */
#include "zch_batch.h"
#include "zch_internal.h"
#include "zch_topic.h"

struct zch_batch_t {
    uint8_t topic [ZCH_TOPIC_MAX + ZCH_INTERNAL_HEAD];
    size_t topic_size;          //  0: empty
    uint8_t *body;              //  count, then entries; handed to libzmq by take
    size_t size;
    size_t cap;
    uint32_t count;
    size_t max_bytes;
    uint32_t max_messages;
};

zch_batch_t *
zch_batch_new (size_t max_bytes, uint32_t max_messages)
{
    zch_batch_t *self = calloc (1, sizeof (zch_batch_t));
    if (self) {
        self->max_bytes = max_bytes;
        self->max_messages = max_messages? max_messages: 1;
    }
    return self;
}

void
zch_batch_destroy (zch_batch_t **self_p)
{
    zch_batch_t *self = *self_p;
    if (!self)
        return;
    free (self->body);
    free (self);
    *self_p = NULL;
}

uint32_t
zch_batch_count (zch_batch_t *self)
{
    return self->count;
}

const char *
zch_batch_topic (zch_batch_t *self, size_t *len)
{
    *len = self->topic_size > ZCH_INTERNAL_HEAD? self->topic_size - ZCH_INTERNAL_HEAD: 0;
    return (const char *) self->topic + ZCH_INTERNAL_HEAD;
}

int
zch_batch_add (zch_batch_t *self, const char *topic, size_t topic_len,
               const void *meta, size_t meta_size, const void *payload, size_t payload_size)
{
    size_t entry = zch_internal_entry_size (meta_size, payload_size);
    if (self->count > 0) {
        if (self->count >= self->max_messages || self->size + entry > self->cap
        ||  topic_len + ZCH_INTERNAL_HEAD != self->topic_size
        ||  memcmp (self->topic + ZCH_INTERNAL_HEAD, topic, topic_len) != 0)
            return -1;
    }
    else {
        self->topic_size = zch_internal_topic_write (topic, topic_len, self->topic, sizeof self->topic);
        size_t need = ZCH_INTERNAL_COUNT_HEAD + entry;
        if (!self->topic_size)
            return -1;
        if (!self->body || self->cap < need) {
            size_t cap = need > self->max_bytes? need: self->max_bytes;
            uint8_t *body = realloc (self->body, cap);
            if (!body) {
                self->topic_size = 0;
                return -1;
            }
            self->body = body;
            self->cap = cap;
        }
        self->size = ZCH_INTERNAL_COUNT_HEAD;
    }
    zch_internal_entry_write (self->body + self->size, meta, meta_size, payload, payload_size);
    self->size += entry;
    self->count++;
    return 0;
}

void
zch_batch_clear (zch_batch_t *self)
{
    self->count = 0;
    self->size = 0;
    self->topic_size = 0;
}

//  libzmq frees a body it was handed once every copy has gone.
static void
s_body_free (void *data, void *hint)
{
    (void) hint;
    free (data);
}

//  Moves the body out as a frame and empties the batch. A batch that fills
//  most of its buffer is handed over as it is; a smaller one is copied into
//  a message of its own size and the buffer kept, so a batch of one (many
//  topics, low rates) costs no large allocation and pins no large buffer in
//  the queues behind the high-water mark.
static void
s_body_take (zch_batch_t *self, zmq_msg_t *body_frame)
{
    zch_internal_count_write (self->body, self->count);
    if (self->size < self->cap / 2
    ||  zmq_msg_init_data (body_frame, self->body, self->size, s_body_free, NULL)) {
        zmq_msg_init_size (body_frame, self->size);
        memcpy (zmq_msg_data (body_frame), self->body, self->size);
    }
    else {
        self->body = NULL;
        self->cap = 0;
    }
    self->count = 0;
    self->size = 0;
    self->topic_size = 0;
}

int
zch_batch_take (zch_batch_t *self, zmq_msg_t *topic_frame, zmq_msg_t *body_frame)
{
    if (self->count == 0)
        return -1;
    zmq_msg_init_size (topic_frame, self->topic_size);
    memcpy (zmq_msg_data (topic_frame), self->topic, self->topic_size);
    s_body_take (self, body_frame);
    return 0;
}

int
zch_batch_send (zch_batch_t *self, void *socket)
{
    if (self->count == 0)
        return 0;
    //  Once the first frame is in, libzmq takes the rest of the message
    if (zmq_send (socket, self->topic, self->topic_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_msg_t body;
    s_body_take (self, &body);
    if (zmq_msg_send (&body, socket, 0) < 0)
        zmq_msg_close (&body);
    return 0;
}
