/*  zch_service: the process-wide part of every program: the settings that
    belong to the process rather than a role (log level, syslog, metrics
    endpoint), and applying them at start-up and on SIGHUP.                 */
#ifndef ZCH_SERVICE_H_INCLUDED
#define ZCH_SERVICE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zch_option.h"

typedef struct {
    int log_level;              //  zch_log_level_t
    bool syslog;                //  log to syslog instead of stderr
    const char *metrics_listen; //  HOST:PORT for Prometheus, "" for none
} zch_process_config_t;

//  The option table of zch_process_config_t.
extern const zch_option_t zch_process_options [];

typedef struct zch_service_t zch_service_t;

//  Prepares the process (zch_process_init under ident), applies the log
//  settings and starts the metrics endpoint if one is set, its process-wide
//  metrics labelled role (a static string). config must outlive the
//  service. Returns NULL with a one-line reason in error.
zch_service_t *zch_service_new (const char *ident, const char *role,
                                const zch_process_config_t *config, char *error, size_t error_size);

//  Applies the log settings again, after a reload.
void zch_service_reloaded (zch_service_t *self);

//  Stops the metrics endpoint; NULLs the pointer.
void zch_service_destroy (zch_service_t **self_p);

#endif
