/*  zch_service: process-wide settings and their application.               */
#include "zch_service.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_metrics.h"

struct zch_service_t {
    const zch_process_config_t *config;
    zch_metrics_server_t *metrics;
};

const zch_option_t zch_process_options [] = {
    { "log-level", ZCH_OPT_CHOICE, offsetof (zch_process_config_t, log_level), "info", "LEVEL",
      "error, warning, notice, info or debug", .flags = ZCH_OPT_RELOAD, .choices = ZCH_LOG_LEVELS },
    { "syslog", ZCH_OPT_BOOL, offsetof (zch_process_config_t, syslog), "false", NULL,
      "log to syslog instead of stderr", .flags = ZCH_OPT_RELOAD },
    { "metrics-listen", ZCH_OPT_STRING, offsetof (zch_process_config_t, metrics_listen), "", "HOST:PORT",
      "serve Prometheus metrics over HTTP at /metrics (off when empty)", .flags = 0 },
    { .name = NULL }
};

//  Applies the log level and destination.
static void
s_apply_log (const zch_process_config_t *config)
{
    atomic_store_explicit (&zch_log_threshold, config->log_level, memory_order_relaxed);
    zch_log_use_syslog (config->syslog);
}

zch_service_t *
zch_service_new (const char *ident, const char *role, const zch_process_config_t *config,
                 char *error, size_t error_size)
{
    zch_service_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = config;
    zch_process_init (ident);
    zch_metrics_process_role (role);
    s_apply_log (config);
    if (config->metrics_listen && *config->metrics_listen) {
        self->metrics = zch_metrics_server_new (config->metrics_listen, error, error_size);
        if (!self->metrics) {
            free (self);
            return NULL;
        }
    }
    return self;
}

void
zch_service_reloaded (zch_service_t *self)
{
    s_apply_log (self->config);
}

void
zch_service_destroy (zch_service_t **self_p)
{
    zch_service_t *self = *self_p;
    if (!self)
        return;
    zch_metrics_server_destroy (&self->metrics);
    free (self);
    *self_p = NULL;
}
