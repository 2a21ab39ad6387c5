/*  zch_frontend: the shared main of both TCP front-ends.                    */
#include "zch_frontend.h"
#include "zch_config.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_service.h"


const zch_option_t zch_frontend_options [] = {
    { "workers", ZCH_OPT_INT, offsetof (zch_frontend_config_t, workers), "2", "N",
      "loops sharing the port", .flags = ZCH_OPT_SHARED, .min = 1, .max = ZCH_WORKERS_MAX },
    { "profile", ZCH_OPT_CHOICE, offsetof (zch_frontend_config_t, workerman), "default", "NAME",
      "'workerman' for the seed system's behaviour", .flags = ZCH_OPT_SHARED, .choices = "default|workerman" },
    { "max-line", ZCH_OPT_SIZE, offsetof (zch_frontend_config_t, max_line), "64K", "BYTES",
      "longest accepted line (K/M suffixes)", .flags = ZCH_OPT_SHARED | ZCH_OPT_RELOAD },
    { "drain-timeout", ZCH_OPT_DURATION, offsetof (zch_frontend_config_t, drain_timeout),
      ZCH_DRAIN_TIMEOUT_DEFAULT, "DURATION", "longest a drain at SIGINT/SIGTERM may take (5s, 500ms)", .flags = ZCH_OPT_SHARED },
    { .name = NULL }
};

int
zch_frontend_main (int argc, char *argv [], const char *program, const char *usage,
                   const char *section, const zch_option_t *role_options,
                   zch_frontend_config_t *config, zch_frontend_start_fn *start)
{
    zch_process_config_t process;
    zch_config_part_t parts [] = {
        { section, "", role_options, config, sizeof *config },
        { section, "", zch_frontend_options, config, sizeof *config },
        { section, "", zch_process_options, &process, sizeof process },
    };
    zch_config_t *settings = zch_config_new (program, usage, parts, 3, false);
    if (!settings) {
        fprintf (stderr, "%s: out of memory\n", program);
        return 1;
    }
    int exit_code = zch_config_load (settings, argc, argv);
    if (exit_code >= 0) {
        zch_config_destroy (&settings);
        return exit_code;
    }
    char error [512];
    zch_service_t *service = zch_service_new (program, &process, error, sizeof error);
    zch_workers_t *workers = service? start (config, error, sizeof error): NULL;
    if (!workers) {
        fprintf (stderr, "%s: %s\n", program, error);
        zch_service_destroy (&service);
        zch_config_destroy (&settings);
        return 1;
    }
    while (zch_signals_wait () == SIGHUP)
        if (zch_config_reload (settings) > 0) {
            zch_service_reloaded (service);
            zch_workers_set_limits (workers, config->max_line, config->max_output);
        }
    zch_workers_destroy (&workers);
    zch_service_destroy (&service);
    zch_config_destroy (&settings);
    return 0;
}
