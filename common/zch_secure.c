/*  zch_secure: a front-end's settings against hostile clients.             */
#include "zch_secure.h"
#include "zch_curve.h"
#include "zch_guard.h"
#include "zch_log.h"
#include "zch_topic.h"

#include <errno.h>
#include <limits.h>

void
zch_secure_defaults (zch_secure_config_t *config)
{
    *config = (zch_secure_config_t) {
        .max_clients = ZCH_MAX_CLIENTS_DEFAULT, .max_subscriptions = ZCH_MAX_SUBS_DEFAULT,
        .max_topic_length = ZCH_TOPIC_MAX, .max_topic_depth = ZCH_TOPIC_DEPTH_DEFAULT,
        .idle_timeout_ms = ZCH_IDLE_TIMEOUT_DEFAULT, .conn_burst = 0,
        .auth_max_failures = ZCH_AUTH_FAILURES_DEFAULT
    };
}

int
zch_secure_prepare (zch_secure_config_t *config, bool workerman, char *error, size_t error_size)
{
    if ((config->tls_cert != NULL) != (config->tls_key != NULL)) {
        snprintf (error, error_size, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (config->tls_ca && !config->tls_cert) {
        snprintf (error, error_size, "--tls-ca needs --tls-cert and --tls-key");
        return -1;
    }
    if (config->curve_secret && !config->curve_server_key) {
        snprintf (error, error_size, "--curve-secret needs --curve-server-key (the broker's public certificate)");
        return -1;
    }
    if (config->auth_file && workerman) {
        snprintf (error, error_size, "the workerman profile has no AUTH command: drop --auth-file");
        return -1;
    }
    if (config->max_topic_length == 0 || config->max_topic_length > ZCH_TOPIC_MAX) {
        snprintf (error, error_size, "--max-topic-length must be 1..%d", ZCH_TOPIC_MAX);
        return -1;
    }
    if (config->auth_max_failures < 1)
        config->auth_max_failures = 1;
    if (config->auth_file
    &&  !(config->auth = zch_auth_load (config->auth_file, error, error_size)))
        return -1;
    if (config->tls_cert
    &&  !(config->tls = zch_tls_new (config->tls_cert, config->tls_key, config->tls_ca,
                                     error, error_size))) {
        zch_secure_release (config);
        return -1;
    }
    return 0;
}

void
zch_secure_release (zch_secure_config_t *config)
{
    zch_auth_destroy (&config->auth);
    zch_tls_destroy (&config->tls);
}

void
zch_secure_edge (const zch_secure_config_t *config, const zch_worker_args_t *args, bool framed,
                 zch_edge_config_t *edge)
{
    edge->max_clients = config->max_clients;
    edge->clients = framed? args->frame_clients: args->clients;
    edge->idle_timeout_ms = config->idle_timeout_ms;
    edge->keepalive_ms = config->keepalive_ms;
    edge->rates = config->conn_rate > 0? args->rates: NULL;
    edge->conn_rate = config->conn_rate;
    edge->conn_burst = config->conn_burst > 0? config->conn_burst: config->conn_rate;
    edge->tls = config->tls;
}

int
zch_secure_topic (const zch_secure_config_t *config, const char *topic, size_t len,
                  const char **reason)
{
    return zch_topic_check_limits (topic, len, config->max_topic_length, config->max_topic_depth,
                                   reason);
}

int
zch_secure_curve (const zch_secure_config_t *config, void *socket, char *error, size_t error_size)
{
    if (!config->curve_server_key)
        return 0;
    return zch_curve_client (socket, config->curve_server_key, config->curve_secret,
                             error, error_size);
}

enum {
    S_MAX_CLIENTS = ZCH_SECURE_OPT_BASE, S_MAX_SUBS, S_TOPIC_LENGTH, S_TOPIC_DEPTH, S_IDLE,
    S_KEEPALIVE, S_CONN_RATE, S_CONN_BURST, S_AUTH_FILE, S_AUTH_FAILURES, S_TLS_CERT, S_TLS_KEY,
    S_TLS_CA, S_CURVE_SERVER_KEY, S_CURVE_SECRET
};

const struct option zch_secure_getopt [] = {
    { "max-clients", required_argument, NULL, S_MAX_CLIENTS },
    { "max-subscriptions", required_argument, NULL, S_MAX_SUBS },
    { "max-topic-length", required_argument, NULL, S_TOPIC_LENGTH },
    { "max-topic-depth", required_argument, NULL, S_TOPIC_DEPTH },
    { "idle-timeout", required_argument, NULL, S_IDLE },
    { "keepalive", required_argument, NULL, S_KEEPALIVE },
    { "conn-rate", required_argument, NULL, S_CONN_RATE },
    { "conn-burst", required_argument, NULL, S_CONN_BURST },
    { "auth-file", required_argument, NULL, S_AUTH_FILE },
    { "auth-max-failures", required_argument, NULL, S_AUTH_FAILURES },
    { "tls-cert", required_argument, NULL, S_TLS_CERT },
    { "tls-key", required_argument, NULL, S_TLS_KEY },
    { "tls-ca", required_argument, NULL, S_TLS_CA },
    { "curve-server-key", required_argument, NULL, S_CURVE_SERVER_KEY },
    { "curve-secret", required_argument, NULL, S_CURVE_SECRET },
    { NULL, 0, NULL, 0 }
};

const char zch_secure_usage [] =
    "  --max-clients N       clients at once per port, over all workers, default 10000 (0: no limit)\n"
    "  --max-subscriptions N patterns per subscriber client, default 1000 (0: no limit)\n"
    "  --max-topic-length N  longest topic or pattern in bytes, 1..255, default 255\n"
    "  --max-topic-depth N   most tokens in a topic or pattern, default 32 (0: no limit)\n"
    "  --idle-timeout MS     time a client has to send a whole command, after connecting\n"
    "                        and once it began one, default 60000 (0: off)\n"
    "  --keepalive MS        close a client that sent nothing for MS, default 0 (off)\n"
    "  --conn-rate N         new connections per second per client address, default 0 (off)\n"
    "  --conn-burst N        connections an address may open at once, default: the rate\n"
    "  --auth-file FILE      tokens and their ACLs (ZPL); clients must AUTH, default off\n"
    "  --auth-max-failures N failed AUTHs before the connection closes, default 3\n"
    "  --tls-cert FILE       TLS on the client ports with this PEM certificate chain\n"
    "  --tls-key FILE        its PEM private key\n"
    "  --tls-ca FILE         require client certificates from these PEM CAs\n"
    "  --curve-server-key FILE   CURVE to the broker: its public certificate\n"
    "  --curve-secret FILE   this front-end's CURVE certificate, default: a new one\n";

//  Parses a non-negative integer up to max. Returns 0 or -1.
static int
s_number (const char *text, long long max, long long *value)
{
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text || *end || number < 0 || number > max)
        return -1;
    *value = number;
    return 0;
}

int
zch_secure_flag (zch_secure_config_t *config, int code, const char *value, const char *program)
{
    long long number = 0;
    bool numeric = code <= S_AUTH_FAILURES && code != S_AUTH_FILE;
    if (numeric && s_number (value, INT_MAX, &number)) {
        fprintf (stderr, "%s: --%s wants a number from 0 to %d, not '%s'\n", program,
                 zch_secure_getopt [code - ZCH_SECURE_OPT_BASE].name, INT_MAX, value);
        return -1;
    }
    switch (code) {
        case S_MAX_CLIENTS: config->max_clients = (size_t) number; break;
        case S_MAX_SUBS: config->max_subscriptions = (size_t) number; break;
        case S_TOPIC_LENGTH: config->max_topic_length = (size_t) number; break;
        case S_TOPIC_DEPTH: config->max_topic_depth = (size_t) number; break;
        case S_IDLE: config->idle_timeout_ms = (int) number; break;
        case S_KEEPALIVE: config->keepalive_ms = (int) number; break;
        case S_CONN_RATE: config->conn_rate = (double) number; break;
        case S_CONN_BURST: config->conn_burst = (double) number; break;
        case S_AUTH_FILE: config->auth_file = value; break;
        case S_AUTH_FAILURES: config->auth_max_failures = (int) number; break;
        case S_TLS_CERT: config->tls_cert = value; break;
        case S_TLS_KEY: config->tls_key = value; break;
        case S_TLS_CA: config->tls_ca = value; break;
        case S_CURVE_SERVER_KEY: config->curve_server_key = value; break;
        case S_CURVE_SECRET: config->curve_secret = value; break;
        default: return -1;
    }
    return 0;
}

void
zch_secure_report (const char *role, int index, zch_edge_t *edge, zch_edge_t *frame_edge,
                   const zch_guard_t *guard, uint64_t too_many_subs)
{
    zch_edge_stats_t sum = *zch_edge_stats (edge);
    if (frame_edge) {
        const zch_edge_stats_t *more = zch_edge_stats (frame_edge);
        sum.refused_clients += more->refused_clients;
        sum.rate_limited += more->rate_limited;
        sum.idle_timeouts += more->idle_timeouts;
        sum.keepalive_timeouts += more->keepalive_timeouts;
        sum.tls_failures += more->tls_failures;
        sum.slow_consumers += more->slow_consumers;
        sum.lines_too_long += more->lines_too_long;
    }
    zch_info ("%s: worker %d limits: too_many_clients=%llu rate_exceeded=%llu idle_timeouts=%llu "
              "keepalive_timeouts=%llu too_long=%llu slow_consumers=%llu too_many_subscriptions=%llu "
              "tls_failures=%llu", role, index,
              (unsigned long long) sum.refused_clients, (unsigned long long) sum.rate_limited,
              (unsigned long long) sum.idle_timeouts, (unsigned long long) sum.keepalive_timeouts,
              (unsigned long long) sum.lines_too_long, (unsigned long long) sum.slow_consumers,
              (unsigned long long) too_many_subs, (unsigned long long) sum.tls_failures);
    zch_info ("%s: worker %d auth: ok=%llu failed=%llu required=%llu forbidden=%llu closed=%llu",
              role, index, (unsigned long long) guard->auth_ok,
              (unsigned long long) guard->auth_failed, (unsigned long long) guard->auth_required,
              (unsigned long long) guard->forbidden, (unsigned long long) guard->auth_closed);
}
