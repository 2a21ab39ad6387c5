/*  zchannel: the launcher. `zchannel run` starts broker, source and
    subscriber in one process (the front-ends reach the broker over inproc);
    `zchannel pub` and `zchannel sub` are client tools.                     */
#include "broker.h"
#include "source.h"
#include "subscriber.h"
#include "zch_args.h"
#include "zch_curve.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_text.h"
#include "zchannel_client.h"

#include <getopt.h>

#define RUN_INGRESS_LOCAL   "inproc://zchannel-ingress"
#define RUN_EGRESS_LOCAL    "inproc://zchannel-egress"

typedef struct {
    broker_config_t broker;
    source_config_t source;
    subscriber_config_t subscriber;
} run_config_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: zchannel COMMAND [OPTION]...\n"
        "\n"
        "Commands:\n"
        "  run     run broker, source and subscriber in one process\n"
        "  pub     publish a message, one per line of stdin, or a file (see zchannel pub --help)\n"
        "  sub     print the messages on a pattern (see zchannel sub --help)\n"
        "  keygen  write a CURVE certificate pair, PATH and PATH.pub\n"
        "\n"
        "zchannel run options:\n"
        "  --source-listen HOST:PORT      text publishers, default " SOURCE_LISTEN_DEFAULT "\n"
        "  --subscriber-listen HOST:PORT  text subscribers, default " SUBSCRIBER_LISTEN_DEFAULT "\n"
        "  --ingress EP                   ZeroMQ producers (XSUB), default " BROKER_INGRESS_DEFAULT "\n"
        "  --egress EP                    ZeroMQ consumers (XPUB), default " BROKER_EGRESS_DEFAULT "\n"
        "  --control EP                   control requests (ROUTER), default " BROKER_CONTROL_DEFAULT "\n"
        "  --profile NAME                 'workerman' for the seed system's behaviour\n"
        "  --workers N                    loops per front-end, default %d\n"
        "  --max-line BYTES               longest accepted line, default %d\n"
        "  --max-output BYTES             output queued per subscriber client, default %d\n"
        "  --source-frame-listen HOST:PORT      frame-protocol publishers, default off\n"
        "  --subscriber-frame-listen HOST:PORT  frame-protocol subscribers, default off\n"
        "  --max-payload BYTES            largest payload a client may send, default %d\n"
        "  --udp-listen HOST:PORT         UDP ingest, one 'PUB <topic> <payload>' per datagram, default off\n"
        "  --udp-topic TOPIC              with --udp-listen: each datagram is a raw payload for TOPIC\n"
        "  --source-plugin SPEC           add a plugin to the source ingress chain\n"
        "  --broker-plugin SPEC           add a plugin to the broker chain\n"
        "  --subscriber-plugin SPEC       add a plugin to the subscriber egress chain\n"
        "                                 SPEC: NAME[@PATTERN][:key=value,...] (plugins/README.md)\n"
        "  --plugin-path DIR              look for zch_NAME.so in DIR first (repeatable)\n"
        "Limits, tokens and TLS, for both front-ends:\n%s"
        "  --curve-clients DIR            with --curve-secret (the broker's certificate here):\n"
        "                                 only these clients' public certificates\n"
        "  --log-level LEVEL              error, warning, notice, info or debug\n"
        "  --help                         show this help and exit\n"
        "  --version                      show the version and exit\n"
        "SIGHUP reloads every stage's plugins (a failed reload keeps the old ones).\n",
        SOURCE_WORKERS_DEFAULT, ZCH_LINE_MAX_DEFAULT, SUBSCRIBER_MAX_OUTPUT, ZCH_PAYLOAD_MAX_DEFAULT,
        zch_secure_usage);
}

//  Parses `zchannel run` flags. Returns -1 to go on, else an exit code.
static int
s_run_parse (int argc, char *argv [], run_config_t *config)
{
    static const struct option options [] = {
        { "source-listen", required_argument, NULL, 's' },
        { "subscriber-listen", required_argument, NULL, 'S' },
        { "ingress", required_argument, NULL, 'i' },
        { "egress", required_argument, NULL, 'e' },
        { "control", required_argument, NULL, 'c' },
        { "profile", required_argument, NULL, 'p' },
        { "workers", required_argument, NULL, 'w' },
        { "max-line", required_argument, NULL, 'm' },
        { "max-output", required_argument, NULL, 'o' },
        { "log-level", required_argument, NULL, 'l' },
        { "source-frame-listen", required_argument, NULL, 'f' },
        { "subscriber-frame-listen", required_argument, NULL, 'F' },
        { "max-payload", required_argument, NULL, 'P' },
        { "udp-listen", required_argument, NULL, 'U' },
        { "udp-topic", required_argument, NULL, 'T' },
        { "source-plugin", required_argument, NULL, 'A' },
        { "broker-plugin", required_argument, NULL, 'B' },
        { "subscriber-plugin", required_argument, NULL, 'C' },
        { "plugin-path", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { "curve-clients", required_argument, NULL, 'K' },
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
    const char *program = "zchannel run";
    opterr = 0;
    optind = 1;
    int option, workers;
    size_t size;
    while ((option = getopt_long (argc, argv, "", all, NULL)) != -1) {
        if (option >= ZCH_SECURE_OPT_BASE) {
            //  The front-ends reach the broker over inproc: CURVE is the broker's
            const char *name = all [count - 1].name;
            for (size_t i = 0; zch_secure_getopt [i].name; i++)
                if (zch_secure_getopt [i].val == option)
                    name = zch_secure_getopt [i].name;
            if (streq (name, "curve-secret"))
                config->broker.curve_secret = optarg;
            else
            if (streq (name, "curve-server-key")) {
                fprintf (stderr, "%s: --curve-server-key is for a front-end on its own\n", program);
                return 2;
            }
            else
            if (zch_secure_flag (&config->source.secure, option, optarg, program)
            ||  zch_secure_flag (&config->subscriber.secure, option, optarg, program))
                return 2;
            continue;
        }
        switch (option) {
            case 's': config->source.listen = optarg; break;
            case 'S': config->subscriber.listen = optarg; break;
            case 'i': config->broker.ingress = optarg; break;
            case 'e': config->broker.egress = optarg; break;
            case 'c': config->broker.control = optarg; break;
            case 'p':
                if (zch_frontend_set_profile (&config->source, optarg)
                ||  zch_frontend_set_profile (&config->subscriber, optarg)) {
                    fprintf (stderr, "%s: unknown profile '%s' (known: default, workerman)\n", program, optarg);
                    return 2;
                }
                break;
            case 'w':
                if (zch_args_int (program, "--workers", optarg, 1, ZCH_WORKERS_MAX, &workers))
                    return 2;
                config->source.workers = config->subscriber.workers = workers;
                break;
            case 'm':
                if (zch_args_size (program, "--max-line", optarg, &size))
                    return 2;
                config->source.max_line = config->subscriber.max_line = size;
                break;
            case 'o':
                if (zch_args_size (program, "--max-output", optarg, &config->subscriber.max_output))
                    return 2;
                break;
            case 'l':
                if (zch_log_set_level (optarg)) {
                    fprintf (stderr, "%s: unknown log level '%s'\n", program, optarg);
                    return 2;
                }
                break;
            case 'f': config->source.frame_listen = optarg; break;
            case 'F': config->subscriber.frame_listen = optarg; break;
            case 'P':
                if (zch_args_size (program, "--max-payload", optarg, &size))
                    return 2;
                config->source.max_payload = config->subscriber.max_payload = size;
                break;
            case 'U': config->source.udp_listen = optarg; break;
            case 'T': config->source.udp_topic = optarg; break;
            case 'A':
                if (zch_args_plugin (program, "--source-plugin", optarg, &config->source.plugins))
                    return 2;
                break;
            case 'B':
                if (zch_args_plugin (program, "--broker-plugin", optarg, &config->broker.plugins))
                    return 2;
                break;
            case 'C':
                if (zch_args_plugin (program, "--subscriber-plugin", optarg, &config->subscriber.plugins))
                    return 2;
                break;
            case 'D':
                if (zch_args_plugin_path (program, optarg, &config->source.plugins)
                ||  zch_args_plugin_path (program, optarg, &config->broker.plugins)
                ||  zch_args_plugin_path (program, optarg, &config->subscriber.plugins))
                    return 2;
                break;
            case 'K': config->broker.curve_clients = optarg; break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("zchannel %s\n", ZCH_VERSION); return 0;
            default:
                zch_args_bad_option (program, argv [optind - 1]);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, argv [optind]);
        return 2;
    }
    return zch_frontend_check (&config->source, program)? 2: -1;
}

//  SIGHUP: every stage's plugins, each kept as it was if its reload fails.
static void
s_run_reload (const run_config_t *config, zactor_t *broker, zch_workers_t *subscriber,
              zch_workers_t *source)
{
    char error [512];
    int failed = 0;
    if (source_reload (source, error, sizeof error) && ++failed)
        zch_error ("zchannel: source reload failed, keeping its plugins: %s", error);
    if (broker_reload (broker, &config->broker, error, sizeof error) && ++failed)
        zch_error ("zchannel: broker reload failed, keeping its plugins: %s", error);
    if (subscriber_reload (subscriber, error, sizeof error) && ++failed)
        zch_error ("zchannel: subscriber reload failed, keeping its plugins: %s", error);
    if (!failed)
        zch_notice ("zchannel: plugins reloaded");
}

//  zchannel run: all three roles, stopped in data-path order so that what
//  was accepted upstream is delivered downstream before each part ends.
static int
s_run (int argc, char *argv [])
{
    run_config_t config;
    broker_config_defaults (&config.broker);
    source_config_defaults (&config.source);
    subscriber_config_defaults (&config.subscriber);
    config.broker.ingress_local = RUN_INGRESS_LOCAL;
    config.broker.egress_local = RUN_EGRESS_LOCAL;
    config.source.broker = RUN_INGRESS_LOCAL;
    config.subscriber.broker = RUN_EGRESS_LOCAL;
    int exit_code = s_run_parse (argc, argv, &config);
    if (exit_code >= 0)
        return exit_code;

    zch_process_init ("zchannel");
    char error [512];
    if (zch_secure_prepare (&config.source.secure, config.source.workerman, error, sizeof error)
    ||  zch_secure_prepare (&config.subscriber.secure, config.subscriber.workerman, error, sizeof error)) {
        fprintf (stderr, "zchannel: %s\n", error);
        zch_secure_release (&config.source.secure);
        return 1;
    }
    zactor_t *broker = zch_actor_start (broker_actor, &config.broker, error, sizeof error);
    zch_workers_t *subscriber = broker? subscriber_start (&config.subscriber, error, sizeof error): NULL;
    zch_workers_t *source = subscriber? source_start (&config.source, error, sizeof error): NULL;
    if (source) {
        zch_notice ("zchannel: running; publish on %s, subscribe on %s",
                    config.source.listen, config.subscriber.listen);
        while (zch_signals_wait () == SIGHUP)
            s_run_reload (&config, broker, subscriber, source);
    }
    else {
        fprintf (stderr, "zchannel: %s\n", error);
        exit_code = 1;
    }
    zch_workers_destroy (&source);
    zactor_destroy (&broker);
    zch_workers_destroy (&subscriber);
    zch_secure_release (&config.source.secure);
    zch_secure_release (&config.subscriber.secure);
    return exit_code < 0? 0: exit_code;
}

//  zchannel keygen PATH: a CURVE certificate pair, PATH and PATH.pub.
static int
s_keygen (int argc, char *argv [])
{
    if (argc == 2 && (streq (argv [1], "--help") || streq (argv [1], "-h"))) {
        printf ("Usage: zchannel keygen PATH\n"
                "Write a new CURVE certificate: PATH holds the public and the secret key\n"
                "(mode 0600; give it to --curve-secret), PATH.pub the public key only\n"
                "(give the broker's to --curve-server-key, put clients' in --curve-clients DIR).\n");
        return 0;
    }
    if (argc != 2 || argv [1][0] == '-') {
        fprintf (stderr, "zchannel keygen: wants one PATH (see zchannel keygen --help)\n");
        return 2;
    }
    char error [512];
    if (zch_curve_keygen (argv [1], error, sizeof error)) {
        fprintf (stderr, "zchannel keygen: %s\n", error);
        return 1;
    }
    printf ("%s\n%s.pub\n", argv [1], argv [1]);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        s_usage (stderr);
        return 2;
    }
    const char *command = argv [1];
    if (streq (command, "run"))
        return s_run (argc - 1, argv + 1);
    if (streq (command, "pub"))
        return zchannel_pub_main (argc - 1, argv + 1);
    if (streq (command, "sub"))
        return zchannel_sub_main (argc - 1, argv + 1);
    if (streq (command, "keygen"))
        return s_keygen (argc - 1, argv + 1);
    if (streq (command, "--help") || streq (command, "-h") || streq (command, "help")) {
        s_usage (stdout);
        return 0;
    }
    if (streq (command, "--version")) {
        printf ("zchannel %s\n", ZCH_VERSION);
        return 0;
    }
    fprintf (stderr, "zchannel: unknown command '%s' (see zchannel --help)\n", command);
    return 2;
}
