/*  zch_secure: a front-end's settings against hostile clients and
    networks, and what it builds from them: limits for its edges, the
    token table, the TLS context, CURVE towards the broker.

    One zch_secure_config_t sits in each front-end's config; every field
    is a row of zch_secure_options (a flag and a config key; strings are
    "" when off). zch_secure_prepare builds the
    shared objects (tokens, TLS) once, before the workers start, and
    zch_secure_release frees them after they stopped.                      */
#ifndef ZCH_SECURE_H_INCLUDED
#define ZCH_SECURE_H_INCLUDED

#include "zch_auth.h"
#include "zch_edge.h"
#include "zch_option.h"
#include "zch_tls.h"
#include "zch_workers.h"


typedef struct {
    int max_clients;            //  per port, over every worker; 0: no limit
    int max_subscriptions;      //  per subscriber client; 0: no limit (a subscriber_options row)
    int max_topic_length;       //  bytes, at most ZCH_TOPIC_MAX
    int max_topic_depth;        //  tokens; 0: no limit
    int idle_timeout_ms;        //  to send a first whole command or finish one begun; 0: off
    int keepalive_ms;           //  a client silent this long is closed; 0: off
    int conn_rate;              //  new connections per second per address; 0: off
    int conn_burst;             //  connections an address may open at once; 0: the rate
    const char *auth_file;      //  token table (ZPL); "": no authentication
    int auth_max_failures;      //  failed AUTHs before the close
    const char *tls_cert;       //  PEM certificate chain; "": plain TCP
    const char *tls_key;        //  PEM private key
    const char *tls_ca;         //  PEM CAs for client certificates; "": none asked
    const char *curve_server_key;   //  the broker's public certificate; "": no CURVE
    const char *curve_secret;   //  this front-end's certificate; "": an ephemeral one
    bool allow_plain_zmq;       //  tokens or TLS with a broker beyond loopback without CURVE
    //  Built by zch_secure_prepare
    zch_auth_t *auth;
    zch_tls_t *tls;
} zch_secure_config_t;

//  The settings' rows (offsets into zch_secure_config_t).
extern const zch_option_t zch_secure_options [];

//  Fills config with the defaults of zch_secure_options (not
//  max_subscriptions, the subscriber's own row).
void zch_secure_defaults (zch_secure_config_t *config);

//  Checks the settings that go together and builds the token table and
//  the TLS context. Returns 0, or -1 with a one-line reason.
int zch_secure_prepare (zch_secure_config_t *config, bool workerman, char *error, size_t error_size);

//  Frees what zch_secure_prepare built.
void zch_secure_release (zch_secure_config_t *config);

//  SIGHUP, after the settings reloaded: reads auth-file again into a new
//  token table (none when auth-file is now empty). Returns 0, or -1 with a
//  reason when the file does not load (the running table then stays).
int zch_secure_reload (zch_secure_config_t *config, char *error, size_t error_size);

//  What a reload hands each worker: a reference to the token table now in
//  effect and the limits (only the scalar settings are used).
typedef struct {
    zch_auth_t *auth;
    zch_secure_config_t limits;
} zch_secure_update_t;

//  A zch_worker_build_fn over a front-end's config (zch_frontend_config_t):
//  one update per worker.
int zch_secure_update_build (const void *config, int index, void **item, char *error, size_t error_size);

//  Frees an update (and drops its table reference); NULLs the pointer.
void zch_secure_update_free (void **update_p);

//  In the worker, at a turn boundary: takes the update (NULLs *update_p):
//  the new limits for its edges (frame_edge and channel_edge may be NULL)
//  and the guard, and the new token table, closing the clients whose
//  token is gone.
struct zch_guard_s;
void zch_secure_apply (void **update_p, struct zch_guard_s *guard, zch_edge_t *edge,
                       zch_edge_t *frame_edge, zch_edge_t *channel_edge);

//  Fills an edge's limits and TLS for a worker's text (framed false) or
//  frame port.
void zch_secure_edge (const zch_secure_config_t *config, const zch_worker_args_t *args, bool framed,
                      zch_edge_config_t *edge);

//  Checks a valid topic or pattern against the length and depth limits.
//  Returns 0, or -1 with *reason "too long" or "too deep".
int zch_secure_topic (const zch_secure_config_t *config, const char *topic, size_t len,
                      const char **reason);

//  Checks that clients' tokens or TLS cannot be passed around: with
//  either on, a broker endpoint beyond loopback needs CURVE (the broker
//  there listens to any ZeroMQ peer), or allow_plain_zmq. Returns 0, or
//  -1 with a reason that says how to fix it.
int zch_secure_check_broker (const zch_secure_config_t *config, const char *what, const char *endpoint,
                             char *error, size_t error_size);

//  Makes a broker socket CURVE when configured. Returns 0, or -1 with a reason.
int zch_secure_curve (const zch_secure_config_t *config, void *socket, char *error, size_t error_size);

//  Logs a worker's limit and auth counters, summed over its two edges
//  (frame_edge may be NULL), as key=value pairs (at exit).
struct zch_guard_s;
void zch_secure_report (const char *role, int index, zch_edge_t *edge, zch_edge_t *frame_edge,
                        const struct zch_guard_s *guard, uint64_t too_many_subs);

//  Publishes the same counters into a worker's metrics block.
struct zch_counters_s;
void zch_secure_publish (void *counters, zch_edge_t *edge, zch_edge_t *frame_edge,
                         const struct zch_guard_s *guard, uint64_t too_many_subs);

#endif
