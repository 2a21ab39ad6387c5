/*  zch_worker: the base every front-end worker embeds (one loop of a
    front-end: its actor's life cycle, its owner's commands, its edges,
    its plugin chain, its guard and metrics block).

    A role's worker struct begins with ZCH_WORKER_FIELDS, so a pointer to
    it is a zch_worker_t * (ZCH_WORKER casts), and the role's own code
    reads the shared fields by their names, as its own.                    */
#ifndef ZCH_WORKER_H_INCLUDED
#define ZCH_WORKER_H_INCLUDED

#include <czmq.h>

#include "zch_edge.h"
#include "zch_frontend.h"
#include "zch_guard.h"
#include "zch_loop.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_workers.h"

#define ZCH_WORKER_FIELDS                                                       \
    zsock_t *pipe;              /*  to the owner (zch_workers)  */             \
    const zch_frontend_config_t *config;                                       \
    const char *role;           /*  "source", "subscriber": logs, metrics  */  \
    int index;                  /*  0..count-1  */                             \
    zch_loop_t *loop;                                                          \
    zch_edge_t *edge;           /*  text clients  */                           \
    zch_edge_t *frame_edge;     /*  frame and WebSocket clients, NULL when off  */ \
    zch_edge_t *channel_edge;   /*  channel clients (the role owns it), or NULL  */ \
    zch_watch_t pipe_watch;                                                    \
    zch_worker_state_t state;   /*  what the owner's commands brought  */      \
    zch_counters_t *counters;   /*  published once per turn  */                \
    zch_guard_t guard;          /*  AUTH and ACLs for every edge  */           \
    const char *bye;            /*  what clients are told when the worker stops  */ \
    zch_pipeline_t *pipeline;   /*  the role's plugins (config->plugin_stage); NULL: none  */ \
    uint64_t plugin_dropped;                                                   \
    uint64_t plugin_ns;         /*  time in pipelines replaced by reloads  */

typedef struct {
    ZCH_WORKER_FIELDS
} zch_worker_t;

#define ZCH_WORKER(worker) ((zch_worker_t *) (worker))

//  What a role adds to the base's life cycle (zch_worker_run).
typedef struct {
    const char *role;
    int tick;                   //  ms the first wait may take
    //  The role's work in a turn, after the owner's commands: returns how
    //  long (ms) the next wait for events may take.
    int (*turn) (zch_worker_t *self);
    //  Delivers or hands over what the worker holds, then closes clients.
    void (*drain) (zch_worker_t *self);
    //  Logs the worker's counters at exit.
    void (*report) (zch_worker_t *self);
    //  Frees the role's worker (which calls zch_worker_clear).
    void (*destroy) (zch_worker_t **self_p);
} zch_worker_class_t;

//  Sets up the base in a role's zeroed worker: its loop, the owner's pipe,
//  the metrics block, the guard, the text edge on args->listen_fd (with
//  greeting), the frame edge when args has its listeners (frame_handlers,
//  given frame_ctx, or self when NULL), and the plugin chain. The text
//  edge's handlers get self. Returns 0, or -1 with a one-line reason (the
//  listeners then closed; zch_worker_clear frees what was made).
int zch_worker_init (zch_worker_t *self, zsock_t *pipe, const zch_worker_args_t *args,
                     const char *role, const char *greeting, const zch_edge_handlers_t *handlers,
                     const zch_edge_handlers_t *frame_handlers, void *frame_ctx,
                     char *error, size_t error_size);

//  Closes the listeners args hands a worker that could not start.
void zch_worker_close_listeners (const zch_worker_args_t *args);

//  Closes the text and frame edges (their clients' on_close runs, so
//  first, while the role's state is whole).
void zch_worker_close_edges (zch_worker_t *self);

//  Frees what the base holds (last: the loop).
void zch_worker_clear (zch_worker_t *self);

//  Watches a descriptor that only says "look again" (ZeroMQ's): the turn
//  checks its socket. Returns 0 or -1.
int zch_worker_watch (zch_worker_t *self, zch_watch_t *watch, int fd);

//  The actor's body: reports self ready (or error when self is NULL),
//  runs turns until the owner asks it to stop (each: wait for events,
//  take the owner's commands, the role's turn), drains, reports, waits
//  for $TERM and destroys self.
void zch_worker_run (zsock_t *pipe, zch_worker_t *self, const zch_worker_class_t *role,
                     const char *error);

//  Logs, from worker 0, where the front-end listens and its broker link
//  (link: "publishing to", "receiving from").
void zch_worker_announce (zch_worker_t *self, const char *link);

//  Over every edge: writes what is queued; lets paused clients go on;
//  stops accepting; closes every client with the bye.
void zch_worker_flush (zch_worker_t *self);
void zch_worker_resume (zch_worker_t *self);
void zch_worker_stop_accepting (zch_worker_t *self);
void zch_worker_close_all (zch_worker_t *self);

//  Over every edge: true when a client is paused; the clients connected;
//  the output queued.
bool zch_worker_has_paused (zch_worker_t *self);
size_t zch_worker_clients (zch_worker_t *self);
size_t zch_worker_pending_output (zch_worker_t *self);

//  Lines or frames over the size limit, over every edge.
uint64_t zch_worker_too_long (zch_worker_t *self);

//  Publishes the counters every front-end has (security, plugins, slow
//  consumers, clients); slow_more adds the role's own slow consumers.
void zch_worker_publish_metrics (zch_worker_t *self, uint64_t too_many_subs, uint64_t slow_more);

//  Reloads every worker's plugins (SIGHUP): builds each one's chain here
//  from config->plugins, and each swaps it in between two messages.
//  Returns 0, or -1 with a reason (the old chains then stay).
int zch_worker_reload_plugins (zch_workers_t *workers, char *error, size_t error_size);

#endif
