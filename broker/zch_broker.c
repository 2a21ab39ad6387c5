/*  zchannel-broker: the central broker as its own daemon.                  */
#include "broker.h"
#include "zch_args.h"
#include "zch_log.h"
#include "zch_main.h"

#include <getopt.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: zchannel-broker [OPTION]...\n"
        "Forward messages from producers to subscriber front-ends, stamping a\n"
        "per-topic sequence number into each.\n"
        "\n"
        "  --ingress EP       where producers publish (XSUB), default " BROKER_INGRESS_DEFAULT "\n"
        "  --egress EP        where front-ends subscribe (XPUB), default " BROKER_EGRESS_DEFAULT "\n"
        "  --control EP       control requests (ROUTER), default " BROKER_CONTROL_DEFAULT "\n"
        "  --egress-hwm N     messages queued per subscriber before drops, default %d\n"
        "  --plugin SPEC      add a plugin to the chain, in order:\n"
        "                     NAME[@PATTERN][:key=value,...] (see plugins/README.md)\n"
        "  --plugin-path DIR  look for zch_NAME.so in DIR first (repeatable)\n"
        "  --curve-secret FILE   CURVE on every endpoint with this certificate (zchannel keygen)\n"
        "  --curve-clients DIR   with --curve-secret: let in only the clients whose public\n"
        "                     certificates are in DIR, default: any client knowing our key\n"
        "  --log-level LEVEL  error, warning, notice, info or debug, default info\n"
        "  --help             show this help and exit\n"
        "  --version          show the version and exit\n"
        "\n"
        "SIGINT or SIGTERM: forward what producers already sent, then exit.\n"
        "SIGHUP: reload the plugins (a failed reload keeps the old ones).\n",
        BROKER_EGRESS_HWM_DEFAULT);
}

int
main (int argc, char *argv [])
{
    broker_config_t config;
    broker_config_defaults (&config);
    static const struct option options [] = {
        { "ingress", required_argument, NULL, 'i' },
        { "egress", required_argument, NULL, 'e' },
        { "control", required_argument, NULL, 'c' },
        { "egress-hwm", required_argument, NULL, 'H' },
        { "log-level", required_argument, NULL, 'l' },
        { "plugin", required_argument, NULL, 'P' },
        { "plugin-path", required_argument, NULL, 'D' },
        { "curve-secret", required_argument, NULL, 'S' },
        { "curve-clients", required_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'i': config.ingress = optarg; break;
            case 'e': config.egress = optarg; break;
            case 'c': config.control = optarg; break;
            case 'H':
                if (zch_args_int ("zchannel-broker", "--egress-hwm", optarg, 1, INT_MAX, &config.egress_hwm))
                    return 2;
                break;
            case 'l':
                if (zch_log_set_level (optarg)) {
                    fprintf (stderr, "zchannel-broker: unknown log level '%s'\n", optarg);
                    return 2;
                }
                break;
            case 'P':
                if (zch_args_plugin ("zchannel-broker", "--plugin", optarg, &config.plugins))
                    return 2;
                break;
            case 'D':
                if (zch_args_plugin_path ("zchannel-broker", optarg, &config.plugins))
                    return 2;
                break;
            case 'S': config.curve_secret = optarg; break;
            case 'K': config.curve_clients = optarg; break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("zchannel-broker %s\n", ZCH_VERSION); return 0;
            default:
                zch_args_bad_option ("zchannel-broker", argv [optind - 1]);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "zchannel-broker: unexpected argument '%s' (see --help)\n", argv [optind]);
        return 2;
    }
    zch_process_init ("zchannel-broker");
    char error [512];
    zactor_t *broker = zch_actor_start (broker_actor, &config, error, sizeof error);
    if (!broker) {
        fprintf (stderr, "zchannel-broker: %s\n", error);
        return 1;
    }
    while (zch_signals_wait () == SIGHUP)
        if (broker_reload (broker, &config, error, sizeof error))
            zch_error ("broker: reload failed, keeping the running plugins: %s", error);
        else
            zch_notice ("broker: plugins reloaded");
    zactor_destroy (&broker);
    return 0;
}
