/*  broker_batch: the messages of one loop turn on one topic, gathered
    into one message of the internal envelope (zch_internal.h) for the
    subscriber front-ends. Nothing waits to fill a batch: the broker takes
    it at the end of every turn, so a message alone at a low rate goes out
    alone, at once.                                                       */
#ifndef BROKER_BATCH_H_INCLUDED
#define BROKER_BATCH_H_INCLUDED

#include <czmq.h>

typedef struct broker_batch_t broker_batch_t;

broker_batch_t *broker_batch_new (void);

void broker_batch_destroy (broker_batch_t **self_p);

//  Adds a stamped message (copied). Returns 0, or -1 when the batch holds
//  another topic or is full: take it first, then add again (an empty batch
//  always takes the message, or fails only out of memory).
int broker_batch_add (broker_batch_t *self, const char *topic, size_t topic_len,
                      const void *meta, size_t meta_size, const void *payload, size_t payload_size);

//  True while the batch holds a message.
bool broker_batch_pending (broker_batch_t *self);

//  Moves the batch out as its two frames, topic and body (both the
//  caller's to send or close), and starts a new one. Returns 0, or -1 when
//  nothing is pending (the frames are then untouched).
int broker_batch_take (broker_batch_t *self, zmq_msg_t *topic_frame, zmq_msg_t *body_frame);

#endif
