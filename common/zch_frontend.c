/*  zch_frontend: the shared main of both TCP front-ends.                    */
#include "zch_frontend.h"
#include "zch_frame.h"
#include "zch_config.h"
#include "zch_failover.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_service.h"
#include "zch_topic.h"


const zch_option_t zch_frontend_options [] = {
    { "workers", ZCH_OPT_INT, offsetof (zch_frontend_config_t, workers), "2", "N",
      "loops sharing the port", .flags = ZCH_OPT_SHARED, .min = 1, .max = ZCH_WORKERS_MAX },
    { "profile", ZCH_OPT_CHOICE, offsetof (zch_frontend_config_t, workerman), "default", "NAME",
      "'workerman' for the seed system's behaviour", .flags = ZCH_OPT_SHARED, .choices = "default|workerman" },
    { "max-line", ZCH_OPT_SIZE, offsetof (zch_frontend_config_t, max_line), "64K", "BYTES",
      "longest accepted line (K/M suffixes)", .flags = ZCH_OPT_SHARED | ZCH_OPT_RELOAD },
    { "drain-timeout", ZCH_OPT_DURATION, offsetof (zch_frontend_config_t, drain_timeout),
      ZCH_DRAIN_TIMEOUT_DEFAULT, "DURATION", "longest a drain at SIGINT/SIGTERM may take (5s, 500ms)", .flags = ZCH_OPT_SHARED },
    { "frame-listen", ZCH_OPT_STRING, offsetof (zch_frontend_config_t, frame_listen), "", "HOST:PORT",
      "where frame-protocol clients connect (off when empty)", .flags = 0 },
    { "ws-listen", ZCH_OPT_STRING, offsetof (zch_frontend_config_t, ws_listen), "", "HOST:PORT",
      "where WebSocket clients (browsers) connect; wss with --tls-cert (off when empty)", .flags = 0 },
    { "ws-origin", ZCH_OPT_STRING, offsetof (zch_frontend_config_t, ws_origin), "", "ORIGINS",
      "Origins browsers may connect from, comma-separated (any when empty)", .flags = ZCH_OPT_SHARED },
    { "max-payload", ZCH_OPT_SIZE, offsetof (zch_frontend_config_t, max_payload), "1M", "BYTES",
      "largest payload a client may send (K/M suffixes)", .flags = ZCH_OPT_SHARED },
    { "broker-timeout", ZCH_OPT_DURATION, offsetof (zch_frontend_config_t, broker_timeout),
      ZCH_FAILOVER_TIMEOUT_DEFAULT, "DURATION",
      "with several brokers: how long the one in use may go without answering the heartbeat "
      "before the next is used (a heartbeat goes every quarter of it)", .flags = ZCH_OPT_NO_RUN },
    { .name = NULL }
};

int
zch_frontend_frame_edge (zch_loop_t *loop, const zch_frontend_config_t *config,
                         const zch_worker_args_t *args, const char *role,
                         const zch_edge_handlers_t *handlers, void *ctx, zch_edge_t **edge)
{
    if (args->frame_fd < 0 && args->ws_fd < 0)
        return 0;
    zch_edge_config_t frame_config = {
        .role = role, .framing = ZCH_EDGE_FRAMES,
        .max_line = config->max_payload + ZCH_FRAME_OVERHEAD,
        .max_output = config->max_output, .close_grace_ms = 1000
    };
    zch_secure_edge (&config->secure, args, true, &frame_config);
    *edge = loop? zch_edge_new (loop, args->frame_fd, &frame_config, handlers, ctx): NULL;
    if (*edge && (args->ws_fd < 0 || zch_edge_listen_ws (*edge, args->ws_fd, args->ws) == 0))
        return 0;
    if (!*edge && args->frame_fd >= 0)
        close (args->frame_fd);
    if (args->ws_fd >= 0)
        close (args->ws_fd);
    return -1;
}

zch_workers_t *
zch_frontend_start_workers (const zch_frontend_config_t *config, zactor_fn *worker,
                            char *error, size_t error_size)
{
    //  A JSON request carries its payload as text, or base64 (4/3 longer)
    zch_ws_config_t ws = {
        .origins = config->ws_origin, .root = config->ws_root,
        .max_message = config->max_payload / 3 * 4 + 4 + 2 * ZCH_FRAME_OVERHEAD
    };
    return zch_workers_start_framed (config->listen, *config->frame_listen? config->frame_listen: NULL,
                                     *config->ws_listen? config->ws_listen: NULL, &ws,
                                     config->workers, worker, config, error, error_size);
}

//  Every broker and control endpoint must be safe with the security
//  settings (CURVE where the network is not this host's).
static int
zch_frontend_check_brokers (const zch_frontend_config_t *config, char *error, size_t error_size)
{
    for (int i = 0; i < config->broker.count; i++)
        if (zch_secure_check_broker (&config->secure, "broker", config->broker.items [i], error, error_size))
            return -1;
    for (int i = 0; i < config->control.count; i++)
        if (zch_secure_check_broker (&config->secure, "control", config->control.items [i], error, error_size))
            return -1;
    return 0;
}

int
zch_frontend_check (const zch_frontend_config_t *config, const char *program)
{
    const char *reason;
    bool udp_listen = config->udp_listen && *config->udp_listen;
    bool udp_topic = config->udp_topic && *config->udp_topic;
    if (!config->takes_udp && (udp_listen || udp_topic)) {
        fprintf (stderr, "%s: UDP ingest is served by the source front-end, not here\n", program);
        return -1;
    }
    char failover_reason [256];
    if (zch_failover_check (&config->broker, &config->control, failover_reason, sizeof failover_reason)) {
        fprintf (stderr, "%s: %s\n", program, failover_reason);
        return -1;
    }
    if (udp_topic && !udp_listen) {
        fprintf (stderr, "%s: --udp-topic needs --udp-listen\n", program);
        return -1;
    }
    if (udp_topic && zch_topic_validate (config->udp_topic, strlen (config->udp_topic), &reason)) {
        fprintf (stderr, "%s: --udp-topic '%s' is not a valid topic: %s\n",
                 program, config->udp_topic, reason);
        return -1;
    }
    return 0;
}

void
zch_frontend_reload_secure (zch_frontend_config_t *config, zch_workers_t *workers, const char *role)
{
    char error [512];
    if (zch_secure_reload (&config->secure, error, sizeof error)) {
        zch_error ("%s: tokens not reloaded, keeping the running ones: %s", role, error);
        return;
    }
    if (zch_workers_send_each (workers, "SECURE", zch_secure_update_build, zch_secure_update_free,
                               error, sizeof error))
        zch_error ("%s: tokens and limits not reloaded: %s", role, error);
    else
    if (config->secure.auth)
        zch_notice ("%s: tokens reloaded: %zu", role, zch_auth_size (config->secure.auth));
}

int
zch_frontend_main (int argc, char *argv [], const char *program, const char *usage,
                   const char *section, const zch_option_t *role_options,
                   zch_frontend_config_t *config, zch_frontend_start_fn *start,
                   zch_frontend_reload_fn *reload)
{
    zch_process_config_t process;
    zch_config_part_t parts [] = {
        { section, "", role_options, config, sizeof *config },
        { section, "", zch_frontend_options, config, sizeof *config },
        { section, "", zch_plugin_options, &config->plugins, sizeof config->plugins },
        { section, "", zch_secure_options, &config->secure, sizeof config->secure },
        { section, "", zch_process_options, &process, sizeof process },
    };
    zch_config_t *settings = zch_config_new (program, usage, parts, sizeof parts / sizeof parts [0], false);
    if (!settings) {
        fprintf (stderr, "%s: out of memory\n", program);
        return 1;
    }
    int exit_code = zch_config_load (settings, argc, argv);
    if (exit_code < 0 && zch_frontend_check (config, program))
        exit_code = 2;
    if (exit_code >= 0) {
        zch_config_destroy (&settings);
        return exit_code;
    }
    char error [512];
    zch_service_t *service = zch_service_new (program, section, &process, error, sizeof error);
    if (service
    &&  (zch_frontend_check_brokers (config, error, sizeof error)
    ||   zch_secure_prepare (&config->secure, config->workerman, error, sizeof error)))
        zch_service_destroy (&service);
    zch_workers_t *workers = service? start (config, error, sizeof error): NULL;
    if (!workers) {
        fprintf (stderr, "%s: %s\n", program, error);
        zch_secure_release (&config->secure);
        zch_service_destroy (&service);
        zch_config_destroy (&settings);
        return 1;
    }
    while (zch_signals_wait () == SIGHUP)
    {
        //  Settings first, then the plugins from the settings now in effect
        int changed = zch_config_reload (settings);
        if (changed > 0) {
            zch_service_reloaded (service);
            zch_workers_set_limits (workers, config->max_line, config->max_output);
        }
        if (changed >= 0) {
            zch_frontend_reload_secure (config, workers, section);
            if (reload (workers, error, sizeof error))
                zch_error ("%s: reload failed, keeping the running plugins: %s", section, error);
            else
                zch_notice ("%s: plugins reloaded", section);
        }
    }
    zch_workers_destroy (&workers);
    zch_secure_release (&config->secure);
    zch_service_destroy (&service);
    zch_config_destroy (&settings);
    return 0;
}
