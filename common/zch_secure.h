/*  zch_secure: a front-end's settings against hostile clients and
    networks, and what it builds from them: limits for its edges, the
    token table, the TLS context, CURVE towards the broker.

    One zch_secure_config_t sits in each front-end's config; its strings
    and numbers are flags and config keys. zch_secure_prepare builds the
    shared objects (tokens, TLS) once, before the workers start, and
    zch_secure_release frees them after they stopped.                      */
#ifndef ZCH_SECURE_H_INCLUDED
#define ZCH_SECURE_H_INCLUDED

#include "zch_auth.h"
#include "zch_edge.h"
#include "zch_tls.h"
#include "zch_workers.h"

#define ZCH_MAX_CLIENTS_DEFAULT     10000   //  per front-end port
#define ZCH_MAX_SUBS_DEFAULT        1000    //  per subscriber client
#define ZCH_TOPIC_DEPTH_DEFAULT     32      //  tokens in a topic or pattern
#define ZCH_IDLE_TIMEOUT_DEFAULT    60000   //  ms to send a whole command

typedef struct {
    size_t max_clients;         //  per port, over every worker; 0: no limit
    size_t max_subscriptions;   //  per subscriber client; 0: no limit
    size_t max_topic_length;    //  bytes, at most ZCH_TOPIC_MAX
    size_t max_topic_depth;     //  tokens; 0: no limit
    int idle_timeout_ms;        //  to send a first whole command or finish one begun; 0: off
    int keepalive_ms;           //  a client silent this long is closed; 0: off
    double conn_rate;           //  new connections per second per address; 0: off
    double conn_burst;          //  connections an address may open at once
    const char *auth_file;      //  token table (ZPL); NULL: no authentication
    int auth_max_failures;      //  failed AUTHs before the close
    const char *tls_cert;       //  PEM certificate chain; NULL: plain TCP
    const char *tls_key;        //  PEM private key
    const char *tls_ca;         //  PEM CAs for client certificates; NULL: none asked
    const char *curve_server_key;   //  the broker's public certificate; NULL: no CURVE
    const char *curve_secret;   //  this front-end's certificate; NULL: an ephemeral one
    //  Built by zch_secure_prepare
    zch_auth_t *auth;
    zch_tls_t *tls;
} zch_secure_config_t;

//  Fills config with the defaults.
void zch_secure_defaults (zch_secure_config_t *config);

//  Checks the settings that go together and builds the token table and
//  the TLS context. Returns 0, or -1 with a one-line reason.
int zch_secure_prepare (zch_secure_config_t *config, bool workerman, char *error, size_t error_size);

//  Frees what zch_secure_prepare built.
void zch_secure_release (zch_secure_config_t *config);

//  Fills an edge's limits and TLS for a worker's text (framed false) or
//  frame port.
void zch_secure_edge (const zch_secure_config_t *config, const zch_worker_args_t *args, bool framed,
                      zch_edge_config_t *edge);

//  Checks a valid topic or pattern against the length and depth limits.
//  Returns 0, or -1 with *reason "too long" or "too deep".
int zch_secure_topic (const zch_secure_config_t *config, const char *topic, size_t len,
                      const char **reason);

//  Makes a broker socket CURVE when configured. Returns 0, or -1 with a reason.
int zch_secure_curve (const zch_secure_config_t *config, void *socket, char *error, size_t error_size);



//  Until the settings table: the flags of zch_secure_config_t for
//  getopt_long (codes from ZCH_SECURE_OPT_BASE; ends with a NULL entry),
//  their --help lines, and the parse of one.
#include <getopt.h>
#define ZCH_SECURE_OPT_BASE 0x1000
extern const struct option zch_secure_getopt [];
extern const char zch_secure_usage [];

//  Sets the value of flag code. Returns 0, or -1 after a message on stderr.
int zch_secure_flag (zch_secure_config_t *config, int code, const char *value, const char *program);

//  Logs a worker's limit and auth counters, summed over its two edges
//  (frame_edge may be NULL), as key=value pairs (at exit).
struct zch_guard_s;
void zch_secure_report (const char *role, int index, zch_edge_t *edge, zch_edge_t *frame_edge,
                        const struct zch_guard_s *guard, uint64_t too_many_subs);

#endif
