/*  zchannel: the launcher. `zchannel run` starts broker, source and
    subscriber in one process (the front-ends reach the broker over inproc);
    `zchannel pub` and `zchannel sub` are client tools.                     */
#include "broker.h"
#include "source.h"
#include "subscriber.h"
#include "zch_config.h"
#include "zch_curve.h"
#include "zch_log.h"
#include "zch_main.h"
#include "zch_service.h"
#include "zchannel_client.h"

#define RUN_INGRESS_LOCAL   "inproc://zchannel-ingress"
#define RUN_EGRESS_LOCAL    "inproc://zchannel-egress"
#define RUN_CONTROL_LOCAL   "inproc://zchannel-control"
#define RUN_RELAY_LOCAL     "inproc://zchannel-relay"
//  --profile workerman: Channel\Client's port, and where the ZeroMQ ingress goes instead
#define RUN_WORKERMAN_CHANNEL   "0.0.0.0:2206"
#define RUN_WORKERMAN_INGRESS   "tcp://*:2216"

typedef struct {
    zch_process_config_t process;
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
        "  run     run broker, source and subscriber in one process (see zchannel run --help)\n"
        "  pub     publish a message, one per line of stdin, or a file (see zchannel pub --help)\n"
        "  sub     print the messages on a pattern (see zchannel sub --help)\n"
        "  keygen  write a CURVE certificate pair, PATH and PATH.pub\n"
        "  stat    show the broker's counters, refreshed every second (see zchannel stat --help)\n"
        "\n"
        "zchannel run takes every setting of the three roles: the broker's as they\n"
        "are (--ingress, --egress, --control, ...), the front-ends' and every\n"
        "stage's plugins prefixed (--source-listen, --subscriber-frame-listen,\n"
        "--broker-plugin, ...), and --profile, --workers, --max-line, --max-output,\n"
        "--max-payload, --drain-timeout, --plugin-path, --udp-listen, --udp-topic\n"
        "and the limits, tokens and TLS (--max-clients, --idle-timeout, --auth-file,\n"
        "--tls-cert, ...) for every role having them at once; the broker's CURVE\n"
        "(--curve-secret, --curve-clients) covers its TCP endpoints, which listen on\n"
        "loopback unless named; with tokens or TLS, one named beyond loopback needs\n"
        "CURVE or --allow-plain-zmq. --config FILE\n"
        "reads sections run/, broker/, source/, subscriber/ and tokens/.\n");
}

//  SIGHUP: the settings, then every stage's plugins from the settings now
//  in effect, each stage kept as it was if its reload fails. A config file
//  that does not load changes nothing, plugins included.
static void
s_run_reload (zch_config_t *settings, zch_service_t *service, run_config_t *config,
              zactor_t *broker, zch_workers_t *subscriber, zch_workers_t *source)
{
    int changed = zch_config_reload (settings);
    if (changed < 0)
        return;
    if (changed > 0) {
        zch_service_reloaded (service);
        zch_workers_set_limits (source, config->source.max_line, config->source.max_output);
        zch_workers_set_limits (subscriber, config->subscriber.max_line, config->subscriber.max_output);
    }
    zch_frontend_reload_secure (&config->source, source, "source");
    zch_frontend_reload_secure (&config->subscriber, subscriber, "subscriber");
    //  Each role logs its reload as its own program does
    char error [512];
    if (source_reload (source, error, sizeof error))
        zch_error ("source: reload failed, keeping the running plugins: %s", error);
    else
        zch_notice ("source: plugins reloaded");
    if (broker_reload (broker, &config->broker, error, sizeof error))
        zch_error ("broker: reload failed, keeping the running plugins: %s", error);
    else
        zch_notice ("broker: plugins reloaded");
    if (subscriber_reload (subscriber, error, sizeof error))
        zch_error ("subscriber: reload failed, keeping the running plugins: %s", error);
    else
        zch_notice ("subscriber: plugins reloaded");
}

//  zchannel run: all three roles, stopped in data-path order so that what
//  was accepted upstream is delivered downstream before each part ends.
static int
s_run (int argc, char *argv [])
{
    run_config_t config;
    zch_config_part_t parts [] = {
        { "run", "", zch_process_options, &config.process, sizeof config.process },
        { "broker", "", broker_options, &config.broker, sizeof config.broker },
        //  Plugin rows are prefixed even for the broker: --broker-plugin
        { "broker", "broker-", zch_plugin_options, &config.broker.plugins, sizeof config.broker.plugins },
        { "source", "source-", source_options, &config.source, sizeof config.source },
        { "source", "source-", zch_frontend_options, &config.source, sizeof config.source },
        { "source", "source-", zch_plugin_options, &config.source.plugins, sizeof config.source.plugins },
        { "subscriber", "subscriber-", subscriber_options, &config.subscriber, sizeof config.subscriber },
        { "subscriber", "subscriber-", zch_frontend_options, &config.subscriber, sizeof config.subscriber },
        { "subscriber", "subscriber-", zch_plugin_options, &config.subscriber.plugins,
          sizeof config.subscriber.plugins },
        { "source", "source-", zch_secure_options, &config.source.secure, sizeof config.source.secure },
        { "subscriber", "subscriber-", zch_secure_options, &config.subscriber.secure,
          sizeof config.subscriber.secure },
    };
    broker_config_defaults (&config.broker);
    source_config_defaults (&config.source);
    subscriber_config_defaults (&config.subscriber);
    zch_config_t *settings = zch_config_new ("zchannel run",
        "Run broker, source and subscriber in one process; the front-ends reach\n"
        "the broker over inproc.", parts, sizeof parts / sizeof parts [0], true);
    if (!settings) {
        fprintf (stderr, "zchannel run: out of memory\n");
        return 1;
    }
    int exit_code = zch_config_load (settings, argc, argv);
    if (exit_code < 0 && zch_frontend_check (&config.source, "zchannel run"))
        exit_code = 2;
    if (exit_code >= 0) {
        zch_config_destroy (&settings);
        return exit_code;
    }
    config.broker.ingress_local = RUN_INGRESS_LOCAL;
    config.broker.egress_local = RUN_EGRESS_LOCAL;
    config.broker.control_local = RUN_CONTROL_LOCAL;
    //  One broker, in this process: nothing to fail over to
    config.subscriber.control = (zch_option_list_t) { .items = { RUN_CONTROL_LOCAL }, .count = 1 };
    config.source.control = (zch_option_list_t) { .items = { RUN_CONTROL_LOCAL }, .count = 1 };
    config.source.broker = (zch_option_list_t) { .items = { RUN_INGRESS_LOCAL }, .count = 1 };
    config.subscriber.broker = (zch_option_list_t) { .items = { RUN_EGRESS_LOCAL }, .count = 1 };
    config.subscriber.broker_local = true;
    //  A Workerman user expects the channel server on 2206, the broker's
    //  ingress port: unless either was set, the ingress moves aside
    if (config.subscriber.workerman && !*config.subscriber.channel_listen
    &&  strcmp (config.broker.ingress, BROKER_INGRESS_DEFAULT) == 0) {
        config.subscriber.channel_listen = RUN_WORKERMAN_CHANNEL;
        config.broker.ingress = RUN_WORKERMAN_INGRESS;
    }
    //  Channel and WebSocket clients of the subscriber publish through the source
    if (*config.subscriber.channel_listen || *config.subscriber.ws_listen)
        config.subscriber.relay = config.source.relay = RUN_RELAY_LOCAL;

    char error [512];
    zch_service_t *service = zch_service_new ("zchannel", "run", &config.process, error, sizeof error);
    bool secured = *config.source.secure.auth_file || *config.source.secure.tls_cert
                || *config.subscriber.secure.auth_file || *config.subscriber.secure.tls_cert;
    if (service
    &&  (broker_check_exposure (&config.broker, secured, error, sizeof error)
    ||   zch_secure_prepare (&config.source.secure, config.source.workerman, error, sizeof error)
    ||   zch_secure_prepare (&config.subscriber.secure, config.subscriber.workerman, error, sizeof error)))
        zch_service_destroy (&service);
    zactor_t *broker = service? zch_actor_start (broker_actor, &config.broker, error, sizeof error): NULL;
    zch_workers_t *subscriber = broker? subscriber_start (&config.subscriber, error, sizeof error): NULL;
    zch_workers_t *source = subscriber? source_start (&config.source, error, sizeof error): NULL;
    if (source) {
        zch_notice ("zchannel: running; publish on %s, subscribe on %s",
                    config.source.listen, config.subscriber.listen);
        while (zch_signals_wait () == SIGHUP)
            s_run_reload (settings, service, &config, broker, subscriber, source);
        exit_code = 0;
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
    zch_service_destroy (&service);
    zch_config_destroy (&settings);
    return exit_code;
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
    if (streq (command, "stat"))
        return zchannel_stat_main (argc - 1, argv + 1);
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
