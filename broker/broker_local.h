/*  broker_local: the egress to the front-ends in this process (zchannel
    run). Unlike the TCP egress it never drops: an XPUB with NODROP whose
    sends fail when a front-end's queue is full, so the broker holds the
    message and stops reading its ingress until the front-end takes more.
    That is the back-pressure that slows the source, and through it the
    publishers, instead of losing what a front-end cannot take.             */
#ifndef BROKER_LOCAL_H_INCLUDED
#define BROKER_LOCAL_H_INCLUDED

#include <czmq.h>

typedef struct broker_local_t broker_local_t;

//  Binds an XPUB to endpoint (inproc) in context. Returns NULL with a
//  reason in error.
broker_local_t *broker_local_new (void *context, const char *endpoint, char *error, size_t error_size);

void broker_local_destroy (broker_local_t **self_p);

//  The socket, to read its subscriptions from and to poll.
void *broker_local_socket (broker_local_t *self);

//  Sends a message to the front-ends that follow its topic, taking its
//  count frames (at most 3) over. When one of them cannot take it now the
//  message is held, behind anything held before: returns -1 then, and
//  broker_local_flush sends what is held, in order, once they take more.
int broker_local_send (broker_local_t *self, zmq_msg_t *frames, size_t count);

//  Answers a barrier ([topic][meta][payload]), after what is held if
//  anything is, so that answers and messages keep their order.
void broker_local_answer (broker_local_t *self, const void *topic, size_t topic_len,
                          const void *meta, size_t meta_size, const void *payload, size_t payload_size);

//  Sends what is held. Returns 0 when nothing is held (any more), -1 while
//  a front-end still cannot take it.
int broker_local_flush (broker_local_t *self);

//  True while a message or an answer is held.
bool broker_local_holding (broker_local_t *self);

//  The socket's ZMQ_FD: readable when a front-end has taken some of its
//  queue (among other things), so the broker can wait on it while holding.
int broker_local_fd (broker_local_t *self);

//  Times the broker had to wait for a front-end, and the milliseconds it
//  waited in all.
uint64_t broker_local_waits (broker_local_t *self);
uint64_t broker_local_wait_ms (broker_local_t *self);

#endif
