/*  zch_secure: a front-end's settings against hostile clients.             */
#include "zch_secure.h"
#include "zch_curve.h"
#include "zch_frontend.h"
#include "zch_guard.h"
#include "zch_log.h"
#include "zch_metrics.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define S_OFF(field) offsetof (zch_secure_config_t, field)
#define S_BOTH  ZCH_OPT_SHARED          //  in `zchannel run`, one flag sets both front-ends

const zch_option_t zch_secure_options [] = {
    { "max-clients", ZCH_OPT_INT, S_OFF (max_clients), "10000", "N",
      "clients at once per port, over all workers (0: no limit)", .flags = S_BOTH | ZCH_OPT_RELOAD, .min = 0, .max = INT_MAX },
    { "max-topic-length", ZCH_OPT_INT, S_OFF (max_topic_length), "255", "BYTES",
      "longest topic or pattern a client may use", .flags = S_BOTH, .min = 1, .max = ZCH_TOPIC_MAX },
    { "max-topic-depth", ZCH_OPT_INT, S_OFF (max_topic_depth), "32", "N",
      "most tokens in a topic or pattern (0: no limit)", .flags = S_BOTH, .min = 0, .max = ZCH_TOPIC_MAX },
    { "idle-timeout", ZCH_OPT_DURATION, S_OFF (idle_timeout_ms), "60s", "DURATION",
      "time a client has for a whole command, after connecting and once it began one (0: off)",
      .flags = S_BOTH | ZCH_OPT_RELOAD },
    { "keepalive", ZCH_OPT_DURATION, S_OFF (keepalive_ms), "0s", "DURATION",
      "close a client that sent nothing for this long; clients PING to stay (0: off)", .flags = S_BOTH | ZCH_OPT_RELOAD },
    { "conn-rate", ZCH_OPT_INT, S_OFF (conn_rate), "0", "N",
      "new connections per second from one address (0: no limit)", .flags = S_BOTH | ZCH_OPT_RELOAD, .min = 0, .max = INT_MAX },
    { "conn-burst", ZCH_OPT_INT, S_OFF (conn_burst), "0", "N",
      "connections one address may open at once (0: conn-rate)", .flags = S_BOTH | ZCH_OPT_RELOAD, .min = 0, .max = INT_MAX },
    { "auth-file", ZCH_OPT_STRING, S_OFF (auth_file), "", "FILE",
      "tokens and their ACLs (ZPL); clients must AUTH (off when empty)", .flags = S_BOTH | ZCH_OPT_RELOAD },
    { "auth-max-failures", ZCH_OPT_INT, S_OFF (auth_max_failures), "3", "N",
      "failed AUTHs before the connection closes", .flags = S_BOTH | ZCH_OPT_RELOAD, .min = 1, .max = 1000 },
    { "tls-cert", ZCH_OPT_STRING, S_OFF (tls_cert), "", "FILE",
      "TLS on the client ports with this PEM certificate chain (off when empty)", .flags = S_BOTH },
    { "tls-key", ZCH_OPT_STRING, S_OFF (tls_key), "", "FILE",
      "the PEM private key of tls-cert", .flags = S_BOTH },
    { "tls-ca", ZCH_OPT_STRING, S_OFF (tls_ca), "", "FILE",
      "require client certificates from these PEM CAs (none when empty)", .flags = S_BOTH },
    { "curve-server-key", ZCH_OPT_STRING, S_OFF (curve_server_key), "", "FILE",
      "CURVE to the broker: its public certificate (off when empty)", .flags = ZCH_OPT_NO_RUN },
    { "curve-secret", ZCH_OPT_STRING, S_OFF (curve_secret), "", "FILE",
      "this front-end's CURVE certificate (empty: a new one each start)", .flags = ZCH_OPT_NO_RUN },
    { "allow-plain-zmq", ZCH_OPT_BOOL, S_OFF (allow_plain_zmq), "false", NULL,
      "use a broker beyond loopback without CURVE although clients need tokens or TLS",
      .flags = ZCH_OPT_NO_RUN },
    { .name = NULL }
};

//  The text of a string setting, NULL when it is off ("").
static const char *
s_set (const char *text)
{
    return text && *text? text: NULL;
}

void
zch_secure_defaults (zch_secure_config_t *config)
{
    zch_option_defaults (zch_secure_options, config);
    config->auth = NULL;
    config->tls = NULL;
}

int
zch_secure_prepare (zch_secure_config_t *config, bool workerman, char *error, size_t error_size)
{
    if ((s_set (config->tls_cert) != NULL) != (s_set (config->tls_key) != NULL)) {
        snprintf (error, error_size, "tls-cert and tls-key go together");
        return -1;
    }
    if (s_set (config->tls_ca) && !s_set (config->tls_cert)) {
        snprintf (error, error_size, "tls-ca needs tls-cert and tls-key");
        return -1;
    }
    if (s_set (config->curve_secret) && !s_set (config->curve_server_key)) {
        snprintf (error, error_size, "curve-secret needs curve-server-key (the broker's public certificate)");
        return -1;
    }
    if (s_set (config->auth_file) && workerman) {
        snprintf (error, error_size, "the workerman profile has no AUTH command: drop auth-file");
        return -1;
    }
    if (config->max_topic_length < 1 || config->max_topic_length > ZCH_TOPIC_MAX) {
        snprintf (error, error_size, "max-topic-length must be 1..%d", ZCH_TOPIC_MAX);
        return -1;
    }
    if (config->auth_max_failures < 1)
        config->auth_max_failures = 1;
    if (s_set (config->auth_file)
    &&  !(config->auth = zch_auth_load (config->auth_file, error, error_size)))
        return -1;
    if (s_set (config->tls_cert)
    &&  !(config->tls = zch_tls_new (config->tls_cert, config->tls_key, s_set (config->tls_ca),
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

int
zch_secure_reload (zch_secure_config_t *config, char *error, size_t error_size)
{
    zch_auth_t *auth = NULL;
    if (s_set (config->auth_file)
    &&  !(auth = zch_auth_load (config->auth_file, error, error_size)))
        return -1;
    zch_auth_destroy (&config->auth);
    config->auth = auth;
    return 0;
}

int
zch_secure_update_build (const void *config, int index, void **item, char *error, size_t error_size)
{
    (void) index;
    const zch_frontend_config_t *frontend = config;
    zch_secure_update_t *update = calloc (1, sizeof *update);
    if (!update) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    update->limits = frontend->secure;
    update->limits.auth = NULL;
    update->limits.tls = NULL;
    update->auth = zch_auth_ref (frontend->secure.auth);
    *item = update;
    return 0;
}

void
zch_secure_update_free (void **update_p)
{
    zch_secure_update_t *update = *update_p;
    if (update) {
        zch_auth_destroy (&update->auth);
        free (update);
    }
    *update_p = NULL;
}

void
zch_secure_apply (void **update_p, zch_guard_t *guard, zch_edge_t *edge, zch_edge_t *frame_edge,
                  zch_edge_t *channel_edge)
{
    zch_secure_update_t *update = *update_p;
    if (!update)
        return;
    zch_edge_config_t limits = { 0 };
    zch_worker_args_t none = { 0 };
    zch_secure_edge (&update->limits, &none, false, &limits);
    zch_edge_set_guards (edge, &limits);
    if (frame_edge)
        zch_edge_set_guards (frame_edge, &limits);
    if (channel_edge)
        zch_edge_set_guards (channel_edge, &limits);
    guard->max_failures = update->limits.auth_max_failures < 1? 1: update->limits.auth_max_failures;
    zch_guard_rekey (guard, &update->auth, edge, frame_edge, channel_edge);
    zch_secure_update_free (update_p);
}

void
zch_secure_edge (const zch_secure_config_t *config, const zch_worker_args_t *args, bool framed,
                 zch_edge_config_t *edge)
{
    edge->max_clients = (size_t) config->max_clients;
    edge->clients = framed? args->frame_clients: args->clients;
    edge->idle_timeout_ms = config->idle_timeout_ms;
    edge->keepalive_ms = config->keepalive_ms;
    //  Always there, so a reload can turn the rate limit on
    edge->rates = args->rates;
    edge->conn_rate = config->conn_rate;
    edge->conn_burst = config->conn_burst > 0? config->conn_burst: config->conn_rate;
    edge->tls = config->tls;
}

int
zch_secure_topic (const zch_secure_config_t *config, const char *topic, size_t len,
                  const char **reason)
{
    return zch_topic_check_limits (topic, len, (size_t) config->max_topic_length,
                                   (size_t) config->max_topic_depth, reason);
}

int
zch_secure_check_broker (const zch_secure_config_t *config, const char *what, const char *endpoint,
                         char *error, size_t error_size)
{
    if (!(s_set (config->auth_file) || s_set (config->tls_cert)) || s_set (config->curve_server_key)
    ||  config->allow_plain_zmq || !endpoint || zch_zmq_endpoint_local (endpoint))
        return 0;
    snprintf (error, error_size,
              "--%s %s is beyond loopback without CURVE while clients need tokens or TLS: the broker "
              "there takes any ZeroMQ peer, which passes without either; give the broker --curve-secret "
              "and this front-end --curve-server-key, or pass --allow-plain-zmq if that is meant",
              what, endpoint);
    return -1;
}

int
zch_secure_curve (const zch_secure_config_t *config, void *socket, char *error, size_t error_size)
{
    if (!s_set (config->curve_server_key))
        return 0;
    return zch_curve_client (socket, config->curve_server_key, s_set (config->curve_secret),
                             error, error_size);
}

//  The edge counters of a worker's two edges, summed.
static zch_edge_stats_t
s_edge_sum (zch_edge_t *edge, zch_edge_t *frame_edge)
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
    return sum;
}

void
zch_secure_publish (void *counters_p, zch_edge_t *edge, zch_edge_t *frame_edge,
                    const zch_guard_t *guard, uint64_t too_many_subs)
{
    zch_counters_t *counters = counters_p;
    if (!counters)
        return;
    zch_edge_stats_t sum = s_edge_sum (edge, frame_edge);
    uint64_t values [ZCH_REFUSE_CAUSES] = {
        [ZCH_REFUSE_TOO_MANY_CLIENTS] = sum.refused_clients,
        [ZCH_REFUSE_CONN_RATE] = sum.rate_limited,
        [ZCH_REFUSE_IDLE] = sum.idle_timeouts,
        [ZCH_REFUSE_KEEPALIVE] = sum.keepalive_timeouts,
        [ZCH_REFUSE_TOO_MANY_SUBS] = too_many_subs,
        [ZCH_REFUSE_TLS] = sum.tls_failures,
        [ZCH_REFUSE_AUTH_FAILED] = guard->auth_failed,
        [ZCH_REFUSE_AUTH_REQUIRED] = guard->auth_required,
        [ZCH_REFUSE_FORBIDDEN] = guard->forbidden
    };
    for (int cause = 0; cause < ZCH_REFUSE_CAUSES; cause++)
        zch_metrics_set (&counters->refused [cause], values [cause]);
}

void
zch_secure_report (const char *role, int index, zch_edge_t *edge, zch_edge_t *frame_edge,
                   const zch_guard_t *guard, uint64_t too_many_subs)
{
    zch_edge_stats_t sum = s_edge_sum (edge, frame_edge);
    zch_info ("%s: worker %d limits: accepted=%llu too_many_clients=%llu rate_exceeded=%llu "
              "idle_timeouts=%llu keepalive_timeouts=%llu too_long=%llu slow_consumers=%llu "
              "too_many_subscriptions=%llu tls_failures=%llu", role, index, (unsigned long long) sum.accepted,
              (unsigned long long) sum.refused_clients, (unsigned long long) sum.rate_limited,
              (unsigned long long) sum.idle_timeouts, (unsigned long long) sum.keepalive_timeouts,
              (unsigned long long) sum.lines_too_long, (unsigned long long) sum.slow_consumers,
              (unsigned long long) too_many_subs, (unsigned long long) sum.tls_failures);
    zch_info ("%s: worker %d auth: ok=%llu failed=%llu required=%llu forbidden=%llu closed=%llu "
              "revoked=%llu", role, index, (unsigned long long) guard->auth_ok,
              (unsigned long long) guard->auth_failed, (unsigned long long) guard->auth_required,
              (unsigned long long) guard->forbidden, (unsigned long long) guard->auth_closed,
              (unsigned long long) guard->revoked);
}
