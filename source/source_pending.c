/*  source_pending: a message held back for the broker. See source_pending.h. */
#include "source_pending.h"
#include "zch_envelope.h"
#include "zch_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct source_pending_t {
    bool held;
    char topic [ZCH_TOPIC_MAX + 1];
    size_t topic_len;
    uint8_t meta [ZCH_META_MAX];
    size_t meta_size;
    uint8_t *payload;               //  grows to the largest payload held, reused
    size_t payload_len, payload_cap;
    char src [64];                  //  "ip:port", cut if ever longer
};

source_pending_t *
source_pending_new (void)
{
    return calloc (1, sizeof (source_pending_t));
}

void
source_pending_destroy (source_pending_t **self_p)
{
    source_pending_t *self = *self_p;
    if (!self)
        return;
    free (self->payload);
    free (self);
    *self_p = NULL;
}

int
source_pending_keep (source_pending_t *self, const char *src,
                     const char *topic, size_t topic_len,
                     const uint8_t *meta, size_t meta_size,
                     const uint8_t *payload, size_t payload_len)
{
    if (self->held || topic_len > ZCH_TOPIC_MAX || meta_size > ZCH_META_MAX)
        return -1;
    if (payload_len > self->payload_cap) {
        uint8_t *grown = realloc (self->payload, payload_len);
        if (!grown)
            return -1;
        self->payload = grown;
        self->payload_cap = payload_len;
    }
    memcpy (self->topic, topic, topic_len);
    self->topic [topic_len] = 0;
    self->topic_len = topic_len;
    memcpy (self->meta, meta, meta_size);
    self->meta_size = meta_size;
    if (payload_len)
        memcpy (self->payload, payload, payload_len);
    self->payload_len = payload_len;
    snprintf (self->src, sizeof self->src, "%s", src);
    self->held = true;
    return 0;
}

bool
source_pending_held (source_pending_t *self)
{
    return self->held;
}

size_t
source_pending_payload_size (source_pending_t *self)
{
    return self->payload_len;
}

const char *
source_pending_topic (source_pending_t *self)
{
    return self->topic;
}

const char *
source_pending_src (source_pending_t *self)
{
    return self->src;
}

int
source_pending_send (source_pending_t *self, void *socket)
{
    if (!self->held)
        return 0;
    if (zmq_send (socket, self->topic, self->topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    //  Once the first frame is in, libzmq takes the rest of the message
    zmq_send (socket, self->meta, self->meta_size, ZMQ_SNDMORE);
    zmq_send (socket, self->payload, self->payload_len, 0);
    self->held = false;
    return 0;
}

void
source_pending_drop (source_pending_t *self)
{
    self->held = false;
}
