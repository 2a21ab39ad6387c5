/*  zch_frontend: what both TCP front-ends (source, subscriber) share as
    programs: their settings, their option table, and their main.           */
#ifndef ZCH_FRONTEND_H_INCLUDED
#define ZCH_FRONTEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_option.h"
#include "zch_plugin_args.h"
#include "zch_secure.h"
#include "zch_workers.h"

#define ZCH_DRAIN_TIMEOUT_DEFAULT "5s"

typedef struct {
    const char *listen;         //  HOST:PORT for text clients
    zch_option_list_t broker;   //  broker endpoints (ingress or egress), in failover order
    int broker_timeout;         //  ms a broker may go without answering before the next one is used
    int workers;                //  loops sharing the port
    int workerman;              //  profile: 0 default, 1 the seed system's compatibility profile
    size_t max_line;            //  longest accepted line
    size_t max_output;          //  pending output per client before it is dropped
    const char *output_budget;  //  pending output over all clients (the subscriber's): a size,
                                //  or "auto", a quarter of the machine's memory
    size_t behind_mark;         //  with broker_local: output queued for one client at which
                                //  the subscriber stops reading the broker; half of it, where
                                //  a queue group skips a member (the subscriber's)
    int stall_timeout;          //  with broker_local: ms clients past behind_mark may hold the
                                //  broker before they are dropped (the subscriber's)
    zch_option_list_t control;  //  the brokers' control endpoints, paired with broker (each role's options)
    int upstream_hwm;           //  messages queued from the broker (a tuning and test knob)
    bool broker_local;          //  the broker runs in this process (zchannel run): the
                                //  subscriber waits for its clients instead of letting it drop
    int drain_timeout;          //  ms a drain may take at shutdown
    const char *frame_listen;   //  HOST:PORT for frame-protocol clients; "": off
    const char *channel_listen; //  HOST:PORT for walkor/channel clients (the subscriber's); "": off
    const char *relay;          //  the source's relay for channel publishes: where the source
                                //  binds it ("": off), where the subscriber sends to
    const char *ws_listen;      //  HOST:PORT for WebSocket clients; "": off
    const char *ws_origin;      //  Origins a browser may connect from, comma-separated; "": any
    const char *ws_root;        //  the live page's files, served on ws_listen (the subscriber's)
    size_t max_payload;         //  largest payload accepted from a client
    bool takes_udp;             //  the role serves UDP ingest (the source)
    int plugin_stage;           //  the stage its workers' plugins run at (zch_plugin_stage_t)
    const char *udp_listen;     //  HOST:PORT for datagrams; "": off
    const char *udp_topic;      //  with udp_listen: each datagram is a raw payload for it; "": none
    zch_plugin_args_t plugins;  //  this front-end's plugin chain (zch_plugin_options)
    zch_secure_config_t secure; //  limits, tokens, TLS, CURVE (zch_secure_options)
} zch_frontend_config_t;

//  Options both front-ends have with the same default; each role's own
//  table (source_options, subscriber_options) holds the rest.
extern const zch_option_t zch_frontend_options [];

typedef zch_workers_t *(zch_frontend_start_fn) (const zch_frontend_config_t *config,
                                                char *error, size_t error_size);

//  Reloads the workers' plugins (SIGHUP). Returns 0, or -1 with a reason
//  (the old plugins then stay).
typedef int (zch_frontend_reload_fn) (zch_workers_t *workers, char *error, size_t error_size);

//  Starts the workers of a front-end on its ports: listen, and frame_listen
//  and ws_listen when set. Returns NULL with a one-line reason in error.
zch_workers_t *zch_frontend_start_workers (const zch_frontend_config_t *config, zactor_fn *worker,
                                           char *error, size_t error_size);

//  A worker's frame edge: frame-protocol clients on args->frame_fd and
//  WebSocket clients on args->ws_fd, each when >= 0, served by handlers
//  with ctx; *edge stays NULL when there are neither. Returns 0, or -1
//  when out of memory (the listeners then closed).
int zch_frontend_frame_edge (zch_loop_t *loop, const zch_frontend_config_t *config,
                             const zch_worker_args_t *args, const char *role,
                             const zch_edge_handlers_t *handlers, void *ctx, zch_edge_t **edge);

//  Checks the settings that depend on each other (UDP settings on a role
//  that takes them, udp-topic with udp-listen and a valid topic). Returns
//  0, or -1 after a one-line error on stderr naming program.
int zch_frontend_check (const zch_frontend_config_t *config, const char *program);

//  SIGHUP, after the settings reloaded: reads the tokens again and hands
//  every worker the token table and the limits now in effect (a token
//  file that does not load is logged and the running tokens stay).
void zch_frontend_reload_secure (zch_frontend_config_t *config, zch_workers_t *workers, const char *role);

//  The whole main of a front-end program: reads the settings (defaults,
//  --config file, flags; usage opens --help) for section, starts the
//  workers with start, on SIGHUP reloads the settings and then the
//  plugins with reload, runs until SIGINT or SIGTERM and drains. Returns
//  the exit code.
int zch_frontend_main (int argc, char *argv [], const char *program, const char *usage,
                       const char *section, const zch_option_t *role_options,
                       zch_frontend_config_t *config, zch_frontend_start_fn *start,
                       zch_frontend_reload_fn *reload);

#endif
