/*  zch_workers: N worker actors of one front-end sharing a TCP port.

    Like Workerman's `count`: each worker has its own listener on the same
    address (SO_REUSEPORT, so the kernel spreads connections), its own
    loop and its own broker socket; they share nothing.                     */
#ifndef ZCH_WORKERS_H_INCLUDED
#define ZCH_WORKERS_H_INCLUDED

#include <czmq.h>
#include <stdatomic.h>

#include "zch_limits.h"

#include "zch_edge.h"

#define ZCH_WORKERS_MAX 64

//  What each worker actor receives as args (valid while it runs).
typedef struct {
    const void *config;         //  the role's config
    int listen_fd;              //  the worker's own listener, now its to close
    int frame_fd;               //  its frame-protocol listener, or -1 (also its to close)
    int ws_fd;                  //  its WebSocket listener, or -1 (also its to close)
    const zch_ws_config_t *ws;  //  with ws_fd: how it serves WebSocket clients
    int index;                  //  0..count-1
    //  Shared by every worker of the front-end, for its limits
    atomic_size_t *clients;     //  clients on the text port now
    atomic_size_t *frame_clients;   //  clients on the frame port now
    zch_rate_table_t *rates;    //  connections per address, over both ports
} zch_worker_args_t;

typedef struct zch_workers_t zch_workers_t;

//  Frees something zch_workers_reload sent (e.g. a plugin pipeline).
typedef void (zch_worker_free_fn) (void **item_p);

//  Builds, off the workers' threads, what worker index should swap in.
//  Returns 0 with *item set (NULL is a valid item), or -1 with a reason.
typedef int (zch_worker_build_fn) (const void *config, int index, void **item,
                                   char *error, size_t error_size);

//  A worker's view of its owner's commands: DRAIN asks it to stop taking
//  work and deliver what it holds; $TERM (always last) ends it; RELOAD
//  hands it a new item (reload) to swap in at a message boundary; LIMITS
//  max-line max-output (after a SIGHUP reload) carries new limits.
typedef struct {
    bool stopping;              //  DRAIN or $TERM came
    bool terminated;            //  $TERM came
    bool limits_changed;        //  LIMITS came, not yet applied
    size_t max_line;            //  its values
    size_t max_output;
    bool reloaded;              //  a RELOAD came: take reload (may be NULL)
    void *reload;               //  the worker's now; set reload_free to free superseded ones
    zch_worker_free_fn *reload_free;
    void *secure;               //  a SECURE came (tokens and limits, zch_secure_update_t): take it
} zch_worker_state_t;

//  Reads every waiting command from the owner into state.
void zch_worker_commands (zsock_t *pipe, zch_worker_state_t *state);

//  Applies limits that LIMITS brought, at a turn boundary, to edge.
void zch_worker_apply_limits (zch_worker_state_t *state, zch_edge_t *edge);

//  Sends new limits to every worker (applied at each one's next turn).
void zch_workers_set_limits (zch_workers_t *self, size_t max_line, size_t max_output);

//  Once drained: waits for $TERM unless it already came.
void zch_worker_await_term (zsock_t *pipe, zch_worker_state_t *state);

//  Checks that address is free, opens count listeners on it and starts one
//  worker actor on each. Returns NULL with a one-line reason in error.
zch_workers_t *zch_workers_start (const char *address, int count, zactor_fn *worker,
                                  const void *config, char *error, size_t error_size);

//  The same, with a second listener per worker for the frame protocol on
//  frame_address (NULL: none; then frame_fd is -1), and a third for
//  WebSocket clients on ws_address (NULL: none; then ws_fd is -1), served
//  as ws says (copied).
zch_workers_t *zch_workers_start_framed (const char *address, const char *frame_address,
                                         const char *ws_address, const zch_ws_config_t *ws,
                                         int count, zactor_fn *worker, const void *config,
                                         char *error, size_t error_size);
//  Builds one item per worker with build (in the caller's thread), then
//  sends each to its worker (RELOAD). If any build fails, nothing is sent
//  and what was built is freed with free_fn. Returns 0, or -1 with a reason.
int zch_workers_reload (zch_workers_t *self, zch_worker_build_fn *build, zch_worker_free_fn *free_fn,
                        char *error, size_t error_size);

//  The same with another command: SECURE hands each worker the token table
//  and limits a reload brought (zch_secure_update_t, freed with
//  zch_secure_update_free, which zch_worker_state_t's owner calls).
int zch_workers_send_each (zch_workers_t *self, const char *command, zch_worker_build_fn *build,
                           zch_worker_free_fn *free_fn, char *error, size_t error_size);

//  Stops every worker (each drains as its role defines) and NULLs the pointer.
void zch_workers_destroy (zch_workers_t **self_p);

#endif
