/*  zchannel-broker: the central broker as its own daemon.                  */
#include "broker.h"
#include "zch_config.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_service.h"

int
main (int argc, char *argv [])
{
    broker_config_t config;
    zch_process_config_t process;
    zch_config_part_t parts [] = {
        { "broker", "", broker_options, &config, sizeof config },
        { "broker", "", zch_plugin_options, &config.plugins, sizeof config.plugins },
        { "broker", "", zch_process_options, &process, sizeof process },
    };
    broker_config_defaults (&config);
    zch_config_t *settings = zch_config_new ("zchannel-broker",
        "Forward messages from producers to subscriber front-ends, stamping a\n"
        "per-topic sequence number into each.", parts, sizeof parts / sizeof parts [0], false);
    if (!settings) {
        fprintf (stderr, "zchannel-broker: out of memory\n");
        return 1;
    }
    int exit_code = zch_config_load (settings, argc, argv);
    if (exit_code >= 0) {
        zch_config_destroy (&settings);
        return exit_code;
    }
    char error [512];
    zch_service_t *service = zch_service_new ("zchannel-broker", "broker", &process, error, sizeof error);
    //  Tokens and TLS live in the front-ends, which refuse a plain broker
    //  beyond loopback themselves; here such an endpoint is logged
    broker_check_exposure (&config, false, error, sizeof error);
    zactor_t *broker = service? zch_actor_start (broker_actor, &config, error, sizeof error): NULL;
    if (!broker) {
        fprintf (stderr, "zchannel-broker: %s\n", error);
        zch_service_destroy (&service);
        zch_config_destroy (&settings);
        return 1;
    }
    while (zch_signals_wait () == SIGHUP)
        if (zch_config_reload (settings) >= 0) {
            zch_service_reloaded (service);
            if (broker_reload (broker, &config, error, sizeof error))
                zch_error ("broker: reload failed, keeping the running plugins: %s", error);
            else
                zch_notice ("broker: plugins reloaded");
        }
    zactor_destroy (&broker);
    zch_service_destroy (&service);
    zch_config_destroy (&settings);
    return 0;
}
