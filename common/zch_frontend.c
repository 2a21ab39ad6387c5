/*  zch_frontend: the shared main of both TCP front-ends.                    */
#include "zch_frontend.h"
#include "zch_args.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_topic.h"

#include <getopt.h>

int
zch_frontend_set_profile (zch_frontend_config_t *config, const char *name)
{
    if (streq (name, "workerman"))
        config->workerman = true;
    else
    if (streq (name, "default"))
        config->workerman = false;
    else
        return -1;
    return 0;
}

//  Prints the usage text, with the defaults now in config.
static void
s_usage (const char *program, const char *summary, const zch_frontend_config_t *config)
{
    printf ("Usage: %s [OPTION]...\n%s\n\n"
            "  --listen HOST:PORT    where text clients connect, default %s\n"
            "  --broker EP           the broker endpoint, default %s\n"
            "  --workers N           loops sharing the port, default %d\n"
            "  --profile NAME        'workerman' for the seed system's behaviour, default 'default'\n"
            "  --max-line BYTES      longest accepted line (K/M suffixes), default %zu\n"
            "  --max-output BYTES    output queued per client before it is dropped, default %zu\n"
            "  --frame-listen HOST:PORT  where frame-protocol clients connect, default off\n"
            "  --max-payload BYTES   largest payload a client may send, default %zu\n"
            "%s"
            "  --plugin SPEC         add a plugin to the chain, in order:\n"
            "                        NAME[@PATTERN][:key=value,...] (see plugins/README.md)\n"
            "  --plugin-path DIR     look for zch_NAME.so in DIR first (repeatable)\n"
            "%s"
            "  --log-level LEVEL     error, warning, notice, info or debug, default info\n"
            "  --help                show this help and exit\n"
            "  --version             show the version and exit\n"
            "\n"
            "SIGINT or SIGTERM: stop accepting, deliver what is queued, then exit.\n"
            "SIGHUP: reload the plugins (a failed reload keeps the old ones).\n",
            program, summary, config->listen, config->broker, config->workers,
            config->max_line, config->max_output, config->max_payload,
            config->takes_udp?
            "  --udp-listen HOST:PORT    take datagrams, one 'PUB <topic> <payload>' each, default off\n"
            "  --udp-topic TOPIC     with --udp-listen: each datagram is a raw payload for TOPIC\n": "",
            zch_secure_usage);
}

int
zch_frontend_check (const zch_frontend_config_t *config, const char *program)
{
    const char *reason;
    if (!config->takes_udp && (config->udp_listen || config->udp_topic)) {
        fprintf (stderr, "%s: UDP ingest is served by the source front-end, not here\n", program);
        return -1;
    }
    if (config->udp_topic && !config->udp_listen) {
        fprintf (stderr, "%s: --udp-topic needs --udp-listen\n", program);
        return -1;
    }
    if (config->udp_topic
    &&  zch_topic_validate (config->udp_topic, strlen (config->udp_topic), &reason)) {
        fprintf (stderr, "%s: --udp-topic '%s' is not a valid topic: %s\n",
                 program, config->udp_topic, reason);
        return -1;
    }
    return 0;
}

//  Parses the flags into config. Returns -1 to go on, else an exit code.
static int
s_parse (int argc, char *argv [], const char *program, const char *summary,
         zch_frontend_config_t *config)
{
    static const struct option options [] = {
        { "listen", required_argument, NULL, 'L' },
        { "broker", required_argument, NULL, 'b' },
        { "workers", required_argument, NULL, 'w' },
        { "profile", required_argument, NULL, 'p' },
        { "max-line", required_argument, NULL, 'm' },
        { "max-output", required_argument, NULL, 'o' },
        { "log-level", required_argument, NULL, 'l' },
        { "frame-listen", required_argument, NULL, 'F' },
        { "max-payload", required_argument, NULL, 'P' },
        { "udp-listen", required_argument, NULL, 'U' },
        { "udp-topic", required_argument, NULL, 'T' },
        { "plugin", required_argument, NULL, 'G' },
        { "plugin-path", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    struct option all [64];
    size_t count = 0;
    for (size_t i = 0; options [i].name; i++)
        all [count++] = options [i];
    for (size_t i = 0; zch_secure_getopt [i].name; i++)
        all [count++] = zch_secure_getopt [i];
    all [count] = options [sizeof options / sizeof options [0] - 1];
    opterr = 0;
    int option;
    while ((option = getopt_long (argc, argv, "", all, NULL)) != -1) {
        if (option >= ZCH_SECURE_OPT_BASE) {
            if (zch_secure_flag (&config->secure, option, optarg, program))
                return 2;
            continue;
        }
        switch (option) {
            case 'L': config->listen = optarg; break;
            case 'b': config->broker = optarg; break;
            case 'w':
                if (zch_args_int (program, "--workers", optarg, 1, ZCH_WORKERS_MAX, &config->workers))
                    return 2;
                break;
            case 'p':
                if (zch_frontend_set_profile (config, optarg)) {
                    fprintf (stderr, "%s: unknown profile '%s' (known: default, workerman)\n", program, optarg);
                    return 2;
                }
                break;
            case 'm':
                if (zch_args_size (program, "--max-line", optarg, &config->max_line))
                    return 2;
                break;
            case 'o':
                if (zch_args_size (program, "--max-output", optarg, &config->max_output))
                    return 2;
                break;
            case 'l':
                if (zch_log_set_level (optarg)) {
                    fprintf (stderr, "%s: unknown log level '%s'\n", program, optarg);
                    return 2;
                }
                break;
            case 'F': config->frame_listen = optarg; break;
            case 'P':
                if (zch_args_size (program, "--max-payload", optarg, &config->max_payload))
                    return 2;
                break;
            case 'U': config->udp_listen = optarg; break;
            case 'T': config->udp_topic = optarg; break;
            case 'G':
                if (zch_args_plugin (program, "--plugin", optarg, &config->plugins))
                    return 2;
                break;
            case 'D':
                if (zch_args_plugin_path (program, optarg, &config->plugins))
                    return 2;
                break;
            case 'h': s_usage (program, summary, config); return 0;
            case 'V': printf ("%s %s\n", program, ZCH_VERSION); return 0;
            default:
                zch_args_bad_option (program, argv [optind - 1]);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, argv [optind]);
        return 2;
    }
    return zch_frontend_check (config, program)? 2: -1;
}

int
zch_frontend_main (int argc, char *argv [], const char *program, const char *summary,
                   zch_frontend_config_t *config, zch_frontend_start_fn *start,
                   zch_frontend_reload_fn *reload)
{
    int exit_code = s_parse (argc, argv, program, summary, config);
    if (exit_code >= 0)
        return exit_code;
    zch_process_init (program);
    char error [512];
    if (zch_secure_prepare (&config->secure, config->workerman, error, sizeof error)) {
        fprintf (stderr, "%s: %s\n", program, error);
        return 1;
    }
    zch_workers_t *workers = start (config, error, sizeof error);
    if (!workers) {
        fprintf (stderr, "%s: %s\n", program, error);
        zch_secure_release (&config->secure);
        return 1;
    }
    while (zch_signals_wait () == SIGHUP)
        if (reload (workers, error, sizeof error))
            zch_error ("%s: reload failed, keeping the running plugins: %s", program, error);
        else
            zch_notice ("%s: plugins reloaded", program);
    zch_workers_destroy (&workers);
    zch_secure_release (&config->secure);
    return 0;
}
