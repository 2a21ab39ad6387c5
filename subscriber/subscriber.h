/*  subscriber: the subscriber front-end. Plain TCP clients subscribe to
    patterns; each worker holds one SUB socket on the broker's egress with
    one upstream subscription per distinct literal prefix, matches topics
    exactly itself, and writes each delivery once per matching client.      */
#ifndef SUBSCRIBER_H_INCLUDED
#define SUBSCRIBER_H_INCLUDED

#include "zch_frontend.h"

#define SUBSCRIBER_LISTEN_DEFAULT   "0.0.0.0:2346"
#define SUBSCRIBER_BROKER_DEFAULT   "tcp://127.0.0.1:2207"
#define SUBSCRIBER_CONTROL_DEFAULT  "tcp://127.0.0.1:2208"
#define SUBSCRIBER_RELAY_DEFAULT    "tcp://127.0.0.1:2209"
#define SUBSCRIBER_RCVHWM           4096    //  ZeroMQ messages queued from the broker: batches of up to 64 KiB
#define SUBSCRIBER_WORKERS_DEFAULT  2
#define SUBSCRIBER_GREETING         "Welcome to Subscriber Server"
#define SUBSCRIBER_WORKERMAN_TOPIC  "topic1"

//  broker is the broker's egress, control its control endpoint.
typedef zch_frontend_config_t subscriber_config_t;

//  The subscriber's own options (zch_frontend_options has the shared ones).
extern const zch_option_t subscriber_options [];

//  Checks an output-budget value: a size, or "auto". Returns 0, or -1 with
//  a reason.
int subscriber_budget_check (const char *text, char *reason, size_t reason_size);

//  Fills config with the defaults of both tables.
void subscriber_config_defaults (subscriber_config_t *config);

//  Starts the workers; config must outlive them. Returns NULL with a
//  one-line reason in error.
zch_workers_t *subscriber_start (const subscriber_config_t *config, char *error, size_t error_size);

//  Reloads the workers' plugins from config->plugins (SIGHUP); as
//  source_reload. Returns 0, or -1 with a reason (the old chains stay).
int subscriber_reload (zch_workers_t *workers, char *error, size_t error_size);

//  One worker, as a czmq actor (args: zch_worker_args_t).
void subscriber_worker_actor (zsock_t *pipe, void *args);

#endif
