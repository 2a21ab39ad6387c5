/*  source: the data-source front-end. Plain TCP clients publish lines;
    each worker turns them into envelopes on its own socket to the broker.
    When the broker cannot take more, the worker stops reading its clients,
    so TCP slows a fast publisher down instead of anything being dropped.   */
#ifndef SOURCE_H_INCLUDED
#define SOURCE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_frontend.h"

#define SOURCE_LISTEN_DEFAULT   "0.0.0.0:2345"
#define SOURCE_BROKER_DEFAULT   "tcp://127.0.0.1:2206"
#define SOURCE_CONTROL_DEFAULT  "tcp://127.0.0.1:2208"
#define SOURCE_WORKERS_DEFAULT  2
#define SOURCE_DEFAULT_TOPIC    "topic1"
#define SOURCE_GREETING         "Welcome to Data Source Server"

//  broker is the broker's ingress, control its control endpoint (the
//  hand-over at shutdown, see source_handover.h); with workerman every
//  line is a payload for topic1.
typedef zch_frontend_config_t source_config_t;

//  The source's own options (zch_frontend_options has the shared ones).
extern const zch_option_t source_options [];

//  Fills config with the defaults of both tables.
void source_config_defaults (source_config_t *config);

//  Starts the workers; config must outlive them. Returns NULL with a
//  one-line reason in error.
zch_workers_t *source_start (const source_config_t *config, char *error, size_t error_size);

//  Reloads the workers' plugins from config->plugins (SIGHUP): builds each
//  worker's new chain here, and each worker swaps it in between two
//  messages. Returns 0, or -1 with a reason (the old chains then stay).
int source_reload (zch_workers_t *workers, char *error, size_t error_size);

//  One worker, as a czmq actor (args: zch_worker_args_t).
void source_worker_actor (zsock_t *pipe, void *args);

#endif
