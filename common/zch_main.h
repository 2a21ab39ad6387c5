/*  zch_main: what every program's main and every role actor share:
    signal handling, the actor start-up handshake, and program set-up.     */
#ifndef ZCH_MAIN_H_INCLUDED
#define ZCH_MAIN_H_INCLUDED

#include <czmq.h>

//  Prepares a process: czmq's own signal handling off, SIGINT, SIGTERM and
//  SIGHUP blocked in every thread (main collects them with
//  zch_signals_wait), SIGPIPE ignored, logging to stderr under ident, the
//  descriptor limit raised. Call first, before any thread starts.
void zch_process_init (const char *ident);

//  Waits for SIGINT, SIGTERM or SIGHUP and returns its number.
int zch_signals_wait (void);

//  Starts an actor whose function reports its start-up with
//  zch_actor_ready. Returns the actor, or NULL (after the actor has
//  stopped) with its reason copied into error.
zactor_t *zch_actor_start (zactor_fn *actor, void *args, char *error, size_t error_size);

//  Called by an actor once set up: error NULL means it is serving, else a
//  one-line reason: then this waits for the owner's $TERM, after which the
//  actor must return.
void zch_actor_ready (zsock_t *pipe, const char *error);

//  Nanoseconds since the epoch, for message timestamps.
uint64_t zch_now_ns (void);

#endif
