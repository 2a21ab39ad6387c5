/*  broker_batch: one turn's messages of one topic (see the header).       */
#include "broker_batch.h"
#include "zch_internal.h"
#include "zch_topic.h"

#define BATCH_BYTES     65536   //  a batch body stops growing here (a larger message goes alone)
#define BATCH_MESSAGES  1024    //  and here: a front-end's high-water mark counts batches

struct broker_batch_t {
    uint8_t topic [ZCH_TOPIC_MAX + ZCH_INTERNAL_HEAD];
    size_t topic_size;          //  0: empty
    uint8_t *body;              //  count, then entries; handed to libzmq by take
    size_t size;
    size_t cap;
    uint32_t count;
};

broker_batch_t *
broker_batch_new (void)
{
    return calloc (1, sizeof (broker_batch_t));
}

void
broker_batch_destroy (broker_batch_t **self_p)
{
    broker_batch_t *self = *self_p;
    if (!self)
        return;
    free (self->body);
    free (self);
    *self_p = NULL;
}

bool
broker_batch_pending (broker_batch_t *self)
{
    return self->count > 0;
}

int
broker_batch_add (broker_batch_t *self, const char *topic, size_t topic_len,
                  const void *meta, size_t meta_size, const void *payload, size_t payload_size)
{
    size_t entry = zch_internal_entry_size (meta_size, payload_size);
    if (self->count > 0) {
        if (self->count >= BATCH_MESSAGES || self->size + entry > self->cap
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
            size_t cap = need > BATCH_BYTES? need: BATCH_BYTES;
            uint8_t *body = realloc (self->body, cap);
            if (!body)
                return -1;
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

//  libzmq frees a body it was handed once every copy has gone.
static void
s_body_free (void *data, void *hint)
{
    (void) hint;
    free (data);
}

int
broker_batch_take (broker_batch_t *self, zmq_msg_t *topic_frame, zmq_msg_t *body_frame)
{
    if (self->count == 0)
        return -1;
    zch_internal_count_write (self->body, self->count);
    //  A batch that fills most of its buffer is handed over as it is; a
    //  smaller one is copied into a message of its own size and the buffer
    //  kept, so a batch of one (many topics, low rates) costs no 64 KiB
    //  allocation and pins no 64 KiB in the queues behind the high-water mark
    if (self->size < self->cap / 2
    ||  zmq_msg_init_data (body_frame, self->body, self->size, s_body_free, NULL)) {
        zmq_msg_init_size (body_frame, self->size);
        memcpy (zmq_msg_data (body_frame), self->body, self->size);
    }
    else {
        self->body = NULL;
        self->cap = 0;
    }
    zmq_msg_init_size (topic_frame, self->topic_size);
    memcpy (zmq_msg_data (topic_frame), self->topic, self->topic_size);
    self->count = 0;
    self->size = 0;
    self->topic_size = 0;
    return 0;
}
