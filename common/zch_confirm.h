/*  zch_confirm: publisher confirms for a front-end worker's VERBOSE
    clients (a source's own, and a subscriber's WebSocket clients, whose
    publishes a source sends for them over the relay).

    A message from a client that turned VERBOSE on carries a confirm
    request in its meta (cf: this worker's route, cn: a number,
    zch_meta_add_confirm; a source writes the route the relay names for
    a subscriber's client). The worker holds a DEALER on the broker's
    control endpoint whose routing id is that route; the broker answers
    [CONFIRM, number, topic, seq, epoch] once it has stamped the message,
    and the client gets "+OK <topic> <seq> <epoch>". Replies keep the
    order of requests: a client's other replies wait behind the confirms
    it is owed. Confirms come back in the order the messages were sent
    (one pipe each way), so a confirm proves every earlier one that has
    not come lost (a broker that died with them): those clients get
    "-ERR unconfirmed <topic>", as do those whose confirm does not come
    within ZCH_CONFIRM_WAIT ms. A publisher that needs at-least-once
    sends those again.                                                     */
#ifndef ZCH_CONFIRM_H_INCLUDED
#define ZCH_CONFIRM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_edge.h"
#include "zch_secure.h"

#define ZCH_CONFIRM_WAIT     10000   //  ms a confirm may take
#define ZCH_CONFIRM_MAX      16384   //  confirms in flight per worker

typedef struct zch_confirm_t zch_confirm_t;

//  Connects a DEALER, with a route unique to this worker of role ("source",
//  "subscriber": its logs and its route say it), to the broker's control
//  endpoint (CURVE as secure says). Returns NULL with a reason.
zch_confirm_t *zch_confirm_new (const char *role, const char *control, const zch_secure_config_t *secure,
                                int index, char *error, size_t error_size);

//  Closes the link and forgets every reply owed; NULLs the pointer.
void zch_confirm_destroy (zch_confirm_t **self_p);

//  The DEALER's descriptor, for the worker's loop.
int zch_confirm_fd (zch_confirm_t *self);

//  The route to write into meta (cf), and its length.
const char *zch_confirm_route (zch_confirm_t *self, size_t *len);

//  The number the next confirm request gets (cn); 0 when too many are in
//  flight (the caller holds the client back and tries again later).
uint64_t zch_confirm_next (zch_confirm_t *self);

//  The message numbered zch_confirm_next () went to the broker for
//  conn (borrowed; see _forget; framed: a frame client) on topic: its
//  reply waits for the confirm: "+OK <topic> <seq> <epoch>" or ["ok",
//  topic, seq, epoch]; "-ERR unconfirmed ..." or ["err", "unconfirmed",
//  ...]; "-ERR dropped by the broker: ..." or ["err", "dropped", ...].
//  Returns 0, or -1 when out of memory (the caller answers at once).
int zch_confirm_expect (zch_confirm_t *self, zch_conn_t *conn, bool framed, const char *topic,
                        size_t len);

//  A reply for conn that must come after the confirms it is owed: code
//  NULL for "+OK" (["ok"]), else "-ERR <text>" (["err", code, text]).
//  Returns 0, or -1 when out of memory.
int zch_confirm_reply (zch_confirm_t *self, zch_conn_t *conn, bool framed, const char *code,
                       const char *text);

//  True while conn is owed confirms: its other replies must wait.
bool zch_confirm_owed (zch_confirm_t *self, zch_conn_t *conn);

//  conn is going: nothing more is written to it.
void zch_confirm_forget (zch_confirm_t *self, zch_conn_t *conn);

//  Reads the broker's answers, gives up on confirms past their time, and
//  writes the replies that are due, in order. Returns true when a client
//  is owed nothing any more (paused lines may go on).
bool zch_confirm_work (zch_confirm_t *self);

//  Confirms given (+OK) and not given (-ERR unconfirmed or dropped).
uint64_t zch_confirm_given (zch_confirm_t *self);
uint64_t zch_confirm_failed (zch_confirm_t *self);

//  The worker moved to another broker (failover): every confirm still
//  awaited is answered "unconfirmed <topic>: why" now, and the link
//  leaves from for to. Returns 0, or -1 with a reason.
int zch_confirm_move (zch_confirm_t *self, const char *from, const char *to, const char *why,
                      char *error, size_t error_size);

#endif
