/*  source_confirm: publisher confirms for a source worker's VERBOSE
    clients.

    A message from a client that turned VERBOSE on carries a confirm
    request in its meta (cf: this worker's route, cn: a number,
    zch_meta_add_confirm). The worker holds a DEALER on the broker's
    control endpoint whose routing id is that route; the broker answers
    [CONFIRM, number, topic, seq, epoch] once it has stamped the message,
    and the client gets "+OK <topic> <seq> <epoch>". Replies keep the
    order of requests: a client's other replies wait behind the confirms
    it is owed. Confirms come back in the order the messages were sent
    (one pipe each way), so a confirm proves every earlier one that has
    not come lost (a broker that died with them): those clients get
    "-ERR unconfirmed <topic>", as do those whose confirm does not come
    within SOURCE_CONFIRM_WAIT ms. A publisher that needs at-least-once
    sends those again.                                                     */
#ifndef SOURCE_CONFIRM_H_INCLUDED
#define SOURCE_CONFIRM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_edge.h"
#include "zch_secure.h"

#define SOURCE_CONFIRM_WAIT     10000   //  ms a confirm may take
#define SOURCE_CONFIRM_MAX      16384   //  confirms in flight per worker

typedef struct source_confirm_t source_confirm_t;

//  Connects a DEALER, with a route unique to this worker, to the broker's
//  control endpoint (CURVE as secure says). Returns NULL with a reason.
source_confirm_t *source_confirm_new (const char *control, const zch_secure_config_t *secure,
                                      int index, char *error, size_t error_size);

//  Closes the link and forgets every reply owed; NULLs the pointer.
void source_confirm_destroy (source_confirm_t **self_p);

//  The DEALER's descriptor, for the worker's loop.
int source_confirm_fd (source_confirm_t *self);

//  The route to write into meta (cf), and its length.
const char *source_confirm_route (source_confirm_t *self, size_t *len);

//  The number the next confirm request gets (cn); 0 when too many are in
//  flight (the caller holds the client back and tries again later).
uint64_t source_confirm_next (source_confirm_t *self);

//  The message numbered source_confirm_next () went to the broker for
//  conn (borrowed; see _forget; framed: a frame client) on topic: its
//  reply waits for the confirm: "+OK <topic> <seq> <epoch>" or ["ok",
//  topic, seq, epoch]; "-ERR unconfirmed ..." or ["err", "unconfirmed",
//  ...]; "-ERR dropped by the broker: ..." or ["err", "dropped", ...].
//  Returns 0, or -1 when out of memory (the caller answers at once).
int source_confirm_expect (source_confirm_t *self, zch_conn_t *conn, bool framed, const char *topic,
                           size_t len);

//  A reply for conn that must come after the confirms it is owed: code
//  NULL for "+OK" (["ok"]), else "-ERR <text>" (["err", code, text]).
//  Returns 0, or -1 when out of memory.
int source_confirm_reply (source_confirm_t *self, zch_conn_t *conn, bool framed, const char *code,
                          const char *text);

//  True while conn is owed confirms: its other replies must wait.
bool source_confirm_owed (source_confirm_t *self, zch_conn_t *conn);

//  conn is going: nothing more is written to it.
void source_confirm_forget (source_confirm_t *self, zch_conn_t *conn);

//  Reads the broker's answers, gives up on confirms past their time, and
//  writes the replies that are due, in order. Returns true when a client
//  is owed nothing any more (paused lines may go on).
bool source_confirm_work (source_confirm_t *self);

//  Confirms given (+OK) and not given (-ERR unconfirmed or dropped).
uint64_t source_confirm_given (source_confirm_t *self);
uint64_t source_confirm_failed (source_confirm_t *self);

//  The worker moved to another broker (failover): every confirm still
//  awaited is answered "unconfirmed <topic>: why" now, and the link
//  leaves from for to. Returns 0, or -1 with a reason.
int source_confirm_move (source_confirm_t *self, const char *from, const char *to, const char *why,
                         char *error, size_t error_size);

#endif
