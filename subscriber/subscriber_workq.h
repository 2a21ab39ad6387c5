/*  subscriber_workq: work queues for a worker's clients (private to
    subscriber/). The queues live in the broker (broker_queues.h); this
    side speaks for the worker's watchers over a DEALER of its own on the
    broker's control endpoint, made when a client first uses a queue.

    Each item the broker hands over is written to its watcher and held
    until the edge has written it (zch_conn_written): then the broker is
    told QACK and forgets it. A watcher that leaves or whose connection
    closes before its item was written gives it back (QNACK), and the
    broker hands it to another watcher. Text, frame and WebSocket watchers
    take up to their prefetch (8 unless asked) items not yet written;
    channel watchers take one per reserve, as walkor/channel's do.          */
#ifndef SUBSCRIBER_WORKQ_H_INCLUDED
#define SUBSCRIBER_WORKQ_H_INCLUDED

#include "subscriber_worker.h"

#define SUBSCRIBER_WORKQ_PREFETCH      8       //  items a watcher holds unwritten by default
#define SUBSCRIBER_WORKQ_PREFETCH_MAX  1000
#define SUBSCRIBER_WORKQ_PENDING_MAX   1000    //  requests a client may have the broker answer at once

typedef struct subscriber_workq_t subscriber_workq_t;

//  For worker (borrowed). NULL when out of memory.
subscriber_workq_t *subscriber_workq_new (subscriber_worker_t *worker);

//  Closes the broker link (what it still has to say goes first, within a
//  second); NULLs the pointer. Call after the edges are gone.
void subscriber_workq_destroy (subscriber_workq_t **self_p);

//  ENQUEUE: hands payload to the broker's queue; the client is answered
//  (+OK, ["ok"]; nothing on the channel protocol) or told why it was
//  refused once the broker replies. php: the payload is a serialized PHP
//  value. Returns ZCH_EDGE_NEXT, or ZCH_EDGE_PAUSE when the client must
//  wait (too many answers outstanding; nothing was sent).
int subscriber_workq_enqueue (subscriber_workq_t *self, subscriber_client_t *client,
                              const char *queue, size_t queue_len,
                              const void *payload, size_t payload_len, bool php);

//  WATCH: the client takes items of queue, prefetch at a time (0: one per
//  subscriber_workq_reserve). Answered once the broker has it.
void subscriber_workq_watch (subscriber_workq_t *self, subscriber_client_t *client,
                             const char *queue, size_t queue_len, uint32_t prefetch);

//  UNWATCH: no more items of queue for the client. Returns false when it
//  did not watch it.
bool subscriber_workq_unwatch (subscriber_workq_t *self, subscriber_client_t *client,
                               const char *queue);

//  A channel client's reserve: one more item of each queue it watches.
void subscriber_workq_reserve (subscriber_workq_t *self, subscriber_client_t *client);

//  The client is going: its watches end, what it holds unwritten goes back.
void subscriber_workq_leave (subscriber_workq_t *self, subscriber_client_t *client);

//  Once per loop turn, before the edges are flushed: takes the broker's
//  answers and items; and after: tells the broker what was written.
void subscriber_workq_turn (subscriber_workq_t *self);
void subscriber_workq_settle (subscriber_workq_t *self);

//  True when the broker link has input waiting: a ZeroMQ descriptor
//  signals only changes, and sending may take the one that said so.
bool subscriber_workq_readable (subscriber_workq_t *self);

//  Items written to clients.
uint64_t subscriber_workq_delivered (subscriber_workq_t *self);

#endif
