/*  zch_frontend: what both TCP front-ends (source, subscriber) share as
    programs: their settings, their flags, and their main.                  */
#ifndef ZCH_FRONTEND_H_INCLUDED
#define ZCH_FRONTEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_args.h"
#include "zch_secure.h"
#include "zch_workers.h"

typedef struct {
    const char *listen;         //  HOST:PORT for text clients
    const char *broker;         //  broker endpoint (ingress or egress)
    int workers;                //  loops sharing the port
    bool workerman;             //  the seed system's compatibility profile
    size_t max_line;            //  longest accepted line
    size_t max_output;          //  pending output per client before it is dropped
    const char *frame_listen;   //  HOST:PORT for frame-protocol clients; NULL: off
    size_t max_payload;         //  largest payload accepted from a client
    bool takes_udp;             //  the role serves UDP ingest (the source)
    const char *udp_listen;     //  HOST:PORT for datagrams; NULL: off
    const char *udp_topic;      //  with udp_listen: each datagram is a raw payload for it
    zch_plugin_args_t plugins;  //  this front-end's plugin chain
    zch_secure_config_t secure; //  limits, tokens, TLS, CURVE
} zch_frontend_config_t;

typedef zch_workers_t *(zch_frontend_start_fn) (const zch_frontend_config_t *config,
                                                char *error, size_t error_size);

//  Reloads the workers' plugins (SIGHUP). Returns 0, or -1 with a reason
//  (the old plugins then stay).
typedef int (zch_frontend_reload_fn) (zch_workers_t *workers, char *error, size_t error_size);

//  Sets profile from its name. Returns 0, or -1 if the name is unknown.
int zch_frontend_set_profile (zch_frontend_config_t *config, const char *name);

//  Checks the settings that depend on each other (UDP flags on a role that
//  takes them, --udp-topic with --udp-listen and a valid topic). Returns
//  0, or -1 after a one-line error on stderr naming program.
int zch_frontend_check (const zch_frontend_config_t *config, const char *program);

//  The whole main of a front-end program: parses the flags over the
//  defaults in config (printing usage for --help, whose role-specific
//  first lines are summary), starts the workers with start, reloads
//  plugins with reload on SIGHUP, runs until SIGINT or SIGTERM and drains.
//  Returns the exit code.
int zch_frontend_main (int argc, char *argv [], const char *program, const char *summary,
                       zch_frontend_config_t *config, zch_frontend_start_fn *start,
                       zch_frontend_reload_fn *reload);

#endif
