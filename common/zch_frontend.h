/*  zch_frontend: what both TCP front-ends (source, subscriber) share as
    programs: their settings, their option table, and their main.           */
#ifndef ZCH_FRONTEND_H_INCLUDED
#define ZCH_FRONTEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_option.h"
#include "zch_workers.h"

#define ZCH_DRAIN_TIMEOUT_DEFAULT "5s"

typedef struct {
    const char *listen;         //  HOST:PORT for text clients
    const char *broker;         //  broker endpoint (ingress or egress)
    int workers;                //  loops sharing the port
    int workerman;              //  profile: 0 default, 1 the seed system's compatibility profile
    size_t max_line;            //  longest accepted line
    size_t max_output;          //  pending output per client before it is dropped
    int drain_timeout;          //  ms a drain may take at shutdown
} zch_frontend_config_t;

//  Options both front-ends have with the same default; each role's own
//  table (source_options, subscriber_options) holds the rest.
extern const zch_option_t zch_frontend_options [];

typedef zch_workers_t *(zch_frontend_start_fn) (const zch_frontend_config_t *config,
                                                char *error, size_t error_size);

//  The whole main of a front-end program: reads the settings (defaults,
//  --config file, flags; usage opens --help) for section, starts the
//  workers with start, reloads on SIGHUP, runs until SIGINT or SIGTERM and
//  drains. Returns the exit code.
int zch_frontend_main (int argc, char *argv [], const char *program, const char *usage,
                       const char *section, const zch_option_t *role_options,
                       zch_frontend_config_t *config, zch_frontend_start_fn *start);

#endif
