/*  zch_failover: which of several brokers a front-end worker uses, and
    when it moves to the next.

    A front-end given more than one broker (--broker and --control, each
    repeated, paired in order) watches the one it uses with a heartbeat
    of its own on that broker's control endpoint: a HEALTH request every
    quarter of the broker timeout, answered [HEALTH, ok] while the broker
    serves, or [HEALTH, down, reason] while it cannot (its Redis engine
    is unreachable). A broker that has not answered ok for the whole
    timeout is given up: the clients are told the front-end is offline,
    and the worker moves to the next broker of the list (round robin),
    which gets the same time to answer. The first ok after that says the
    front-end is online again. So a dead, frozen or cut-off broker is
    left within the timeout (plus one heartbeat), whatever TCP says.

    The module owns only its heartbeat DEALER; the worker moves its own
    sockets when work () says so (zch_zmq_move).                          */
#ifndef ZCH_FAILOVER_H_INCLUDED
#define ZCH_FAILOVER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_option.h"
#include "zch_secure.h"

#define ZCH_FAILOVER_TIMEOUT_DEFAULT "3s"

//  What zch_failover_work reports, as bits
#define ZCH_FAILOVER_MOVED   1      //  a new current broker: move the sockets to it
#define ZCH_FAILOVER_OFFLINE 2      //  no broker has answered ok for the timeout: tell the clients
#define ZCH_FAILOVER_ONLINE  4      //  the current broker answers ok again: tell the clients

typedef struct zch_failover_t zch_failover_t;

//  Checks that brokers and controls pair up: one control per broker when
//  there are several (controls may be empty with one). Returns 0, or -1
//  with a reason.
int zch_failover_check (const zch_option_list_t *brokers, const zch_option_list_t *controls,
                        char *reason, size_t reason_size);

//  Watches brokers (borrowed lists; data endpoints, and their control
//  endpoints in the same order) for worker index of role ("source").
//  With fewer than two brokers there is nothing to move to: the result
//  only names the one broker, and work () never reports anything.
//  Returns NULL with a reason in error.
zch_failover_t *zch_failover_new (const zch_option_list_t *brokers, const zch_option_list_t *controls,
                                  const zch_secure_config_t *secure, int timeout_ms,
                                  const char *role, int index, char *error, size_t error_size);

//  Closes the heartbeat link; NULLs the pointer.
void zch_failover_destroy (zch_failover_t **self_p);

//  The heartbeat DEALER's descriptor for the worker's loop, or -1 when
//  there is no heartbeat (one broker).
int zch_failover_fd (zch_failover_t *self);

//  Reads the heartbeat answers, sends the next heartbeat when due, and
//  gives the current broker up when its time is over. Returns the
//  ZCH_FAILOVER_* bits of what happened (0: nothing).
int zch_failover_work (zch_failover_t *self);

//  The current broker's data endpoint and control endpoint ("" when none).
const char *zch_failover_broker (zch_failover_t *self);
const char *zch_failover_control (zch_failover_t *self);

//  The previous broker's endpoints, after a move (what to disconnect).
const char *zch_failover_previous_broker (zch_failover_t *self);
const char *zch_failover_previous_control (zch_failover_t *self);

//  Why the front-end is offline, or went offline last (one line).
const char *zch_failover_reason (zch_failover_t *self);

//  False while the current broker is late with its heartbeat answer (none
//  for half the timeout): a source holds its publishers back rather than
//  fill the buffers of a broker that may be frozen (lost if it is given
//  up). Always true with one broker.
bool zch_failover_answering (zch_failover_t *self);

//  Position of the current broker in the list (0 first), moves made so
//  far, and whether the front-end is offline now.
int zch_failover_current (zch_failover_t *self);
uint64_t zch_failover_moves (zch_failover_t *self);
bool zch_failover_offline (zch_failover_t *self);

#endif
