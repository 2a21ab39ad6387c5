/*  zch_secure: a front-end's settings against hostile clients.             */
#include "zch_secure.h"
#include "zch_curve.h"
#include "zch_guard.h"
#include "zch_topic.h"

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
