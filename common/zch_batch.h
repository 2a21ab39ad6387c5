/*  zch_batch: consecutive messages of one topic gathered into one message
    of the internal envelope (zch_internal.h), on zchannel's own links:
    source worker to broker, broker to subscriber front-ends. Nothing waits
    to fill a batch: its owner sends it at the end of every loop turn, so a
    message alone at a low rate goes out alone, at once.                  */
#ifndef ZCH_BATCH_H_INCLUDED
#define ZCH_BATCH_H_INCLUDED

#include <czmq.h>

typedef struct zch_batch_t zch_batch_t;

//  An empty batch that stops growing at max_bytes of body (a larger
//  message goes alone) or max_messages. NULL when out of memory.
zch_batch_t *zch_batch_new (size_t max_bytes, uint32_t max_messages);

//  Frees the batch and what it holds; NULLs the pointer.
void zch_batch_destroy (zch_batch_t **self_p);

//  Adds a message (copied). Returns 0, or -1 when the batch holds another
//  topic or is full: send or take it first, then add again (an empty batch
//  always takes the message, or fails only out of memory or for a topic
//  over ZCH_TOPIC_MAX).
int zch_batch_add (zch_batch_t *self, const char *topic, size_t topic_len,
                   const void *meta, size_t meta_size, const void *payload, size_t payload_size);

//  How many messages the batch holds (0: empty).
uint32_t zch_batch_count (zch_batch_t *self);

//  The topic of what the batch holds (a view, *len set; empty when the
//  batch is).
const char *zch_batch_topic (zch_batch_t *self, size_t *len);

//  Forgets what the batch holds (the caller counted it as dropped).
void zch_batch_clear (zch_batch_t *self);

//  Moves the batch out as its two frames, topic and body (both the
//  caller's to send or close), and starts a new one. Returns 0, or -1 when
//  nothing is pending (the frames are then untouched).
int zch_batch_take (zch_batch_t *self, zmq_msg_t *topic_frame, zmq_msg_t *body_frame);

//  Sends the batch on socket without blocking and starts a new one.
//  Returns 0 when it went or was empty, -1 when the socket cannot take it
//  now (at its high-water mark): the batch is then kept as it was.
int zch_batch_send (zch_batch_t *self, void *socket);

#endif
