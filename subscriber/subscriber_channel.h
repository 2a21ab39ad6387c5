/*  subscriber_channel: walkor/channel's protocol on the subscriber
    front-end (private to subscriber/), so Workerman apps using
    Channel\Client connect unchanged.

    A channel connection both subscribes and publishes. Its subscriptions
    are the worker's own (patterns, barriers, deliveries, gap notices);
    its publishes go over the worker's relay (subscriber_relay) to a
    source front-end, which publishes them through its own path: its
    plugins and its back-pressure. When the relay cannot take more, the
    client is paused until it can, so nothing is dropped.                   */
#ifndef SUBSCRIBER_CHANNEL_H_INCLUDED
#define SUBSCRIBER_CHANNEL_H_INCLUDED

#include "subscriber_worker.h"
#include "zch_workers.h"

//  The content type of a payload that is a PHP value other than a string,
//  in its serialize() form.
#define SUBSCRIBER_PHP_SERIALIZED "application/vnd.php.serialized"

//  The queue group every channel client joins on each channel it follows:
//  a publishLoop goes to one of its members (any client may join it with
//  SUB <channel> QUEUE $loop)
#define SUBSCRIBER_LOOP_GROUP "$loop"

typedef struct subscriber_channel_t subscriber_channel_t;

//  Listens on config->channel_listen (shared with the other workers);
//  publishes through worker->relay, which must be set. Sets
//  worker->channel_edge.
//  Returns NULL with a reason in error.
subscriber_channel_t *subscriber_channel_new (subscriber_worker_t *worker, const zch_worker_args_t *args,
                                              char *error, size_t error_size);

//  Closes the listener and every channel client (their on_close runs);
//  NULLs the pointer and worker->channel_edge.
void subscriber_channel_destroy (subscriber_channel_t **self_p);

//  Writes a delivery to a channel client as {type: event, channel, data},
//  built once per delivery.
void subscriber_channel_write_delivery (subscriber_channel_t *self, subscriber_client_t *client,
                                        subscriber_delivery_t *delivery);

//  True when the delivery's payload is a PHP value other than a string in
//  its serialize() form (its header says so, and it reads as one); found
//  once per delivery.
bool subscriber_php_value (subscriber_delivery_t *delivery);

//  Writes {type: "error", channel: code, data: "<prefix><reason>"}: the
//  channel protocol has no error message, so zchannel adds this one.
void subscriber_channel_error (zch_conn_t *conn, const char *code, const char *prefix, const char *reason);

//  Requests refused as malformed (bad frames, refused values).
uint64_t subscriber_channel_malformed (subscriber_channel_t *self);

#endif
