/*  broker_options: the broker's settings, one row each (see zch_option.h). */
#include "broker.h"
#include "broker_engine.h"

#include "zch_log.h"
#include "zch_zmq.h"

#include <limits.h>

#define S_STR(x) S_STR_(x)
#define S_STR_(x) #x

const zch_option_t broker_options [] = {
    { "ingress", ZCH_OPT_STRING, offsetof (broker_config_t, ingress), BROKER_INGRESS_DEFAULT, "EP",
      "where producers publish (XSUB); loopback unless named", .flags = 0 },
    { "egress", ZCH_OPT_STRING, offsetof (broker_config_t, egress), BROKER_EGRESS_DEFAULT, "EP",
      "where front-ends subscribe (XPUB); loopback unless named", .flags = 0 },
    { "control", ZCH_OPT_STRING, offsetof (broker_config_t, control), BROKER_CONTROL_DEFAULT, "EP",
      "control requests: PING, STATS, SNAPSHOT, HISTORY, HEAL, SEQS (ROUTER)", .flags = 0 },
    { "egress-hwm", ZCH_OPT_INT, offsetof (broker_config_t, egress_hwm), S_STR (BROKER_EGRESS_HWM_DEFAULT),
      "N", "ZeroMQ messages queued per peer before drops: one per message for a ZeroMQ consumer, up to 1,024 messages of one topic (64 KiB) for a subscriber front-end", .flags = 0, .min = 1, .max = INT_MAX },
    { "history-per-topic", ZCH_OPT_INT, offsetof (broker_config_t, history_per_topic),
      S_STR (BROKER_HISTORY_PER_TOPIC_DEFAULT), "N",
      "newest messages kept per topic (0: no history, no last value)", .flags = 0, .min = 0, .max = INT_MAX },
    { "history-bytes", ZCH_OPT_SIZE, offsetof (broker_config_t, history_bytes), "256M", "BYTES",
      "bytes of history over all topics; the oldest go first", .flags = 0 },
    { "drain-timeout", ZCH_OPT_DURATION, offsetof (broker_config_t, drain_timeout), "5s", "DURATION",
      "longest a drain at SIGINT/SIGTERM may take (5s, 500ms)", .flags = ZCH_OPT_SHARED },
    { "curve-secret", ZCH_OPT_STRING, offsetof (broker_config_t, curve_secret), "", "FILE",
      "CURVE on every endpoint with this certificate (zchannel keygen); off when empty", .flags = 0 },
    { "curve-clients", ZCH_OPT_STRING, offsetof (broker_config_t, curve_clients), "", "DIR",
      "with curve-secret: only clients whose public certificates are in DIR (empty: any)", .flags = 0 },
    { "allow-plain-zmq", ZCH_OPT_BOOL, offsetof (broker_config_t, allow_plain_zmq), "false", NULL,
      "let an endpoint listen beyond loopback without CURVE although clients need tokens or TLS",
      .flags = 0 },
    { "max-payload", ZCH_OPT_SIZE, offsetof (broker_config_t, max_payload), "1M", "BYTES",
      "largest payload taken from a producer; larger ones are dropped and counted (K/M suffixes)",
      .flags = ZCH_OPT_SHARED },
    { "no-history", ZCH_OPT_LIST, offsetof (broker_config_t, no_history), "", "PATTERN",
      "topics matching PATTERN keep no history (repeatable): a seq each, but no FROM, SNAPSHOT or healing",
      .flags = 0, .max = ZCH_OPT_LIST_MAX },
    { "engine", ZCH_OPT_CHOICE, offsetof (broker_config_t, engine), "memory", "ENGINE",
      "where seqs, history and fan-out live: memory (this broker) or redis (shared by brokers)",
      .flags = 0, .choices = BROKER_ENGINE_CHOICES },
    { "redis", ZCH_OPT_LIST, offsetof (broker_config_t, redis), "", "HOST:PORT",
      "a Redis shard of --engine redis (repeat for more; a topic's shard by consistent hash)",
      .flags = 0, .max = ZCH_OPT_LIST_MAX },
    { "sentinel", ZCH_OPT_LIST, offsetof (broker_config_t, sentinel), "", "SENTINELS",
      "instead of --redis: a shard whose master Redis sentinels name, SENTINELS = HOST:PORT,HOST:PORT,... (repeat for more shards)",
      .flags = 0, .max = ZCH_OPT_LIST_MAX },
    { "sentinel-master", ZCH_OPT_LIST, offsetof (broker_config_t, sentinel_master), "", "NAME",
      "the master's name at the sentinels: one for all --sentinel shards, or one each, in order",
      .flags = 0, .max = ZCH_OPT_LIST_MAX },
    { "queue-max-items", ZCH_OPT_INT, offsetof (broker_config_t, queue_max_items), "100000", "N",
      "items a work queue holds, waiting and in flight; past it ENQUEUE is refused", .flags = 0,
      .min = 1, .max = INT_MAX },
    { "queue-max-bytes", ZCH_OPT_SIZE, offsetof (broker_config_t, queue_max_bytes), "64M", "BYTES",
      "payload bytes a work queue holds, waiting and in flight; past it ENQUEUE is refused",
      .flags = 0 },
    { .name = NULL }
};

void
broker_config_defaults (broker_config_t *config)
{
    memset (config, 0, sizeof *config);
    zch_option_defaults (broker_options, config);
}

int
broker_check_exposure (const broker_config_t *config, bool secured, char *error, size_t error_size)
{
    if (config->curve_secret && *config->curve_secret)
        return 0;
    const struct { const char *flag; const char *endpoint; } endpoints [] = {
        { "ingress", config->ingress }, { "egress", config->egress }, { "control", config->control }
    };
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints [0]; i++) {
        const char *endpoint = endpoints [i].endpoint;
        if (zch_zmq_endpoint_local (endpoint))
            continue;
        if (secured && !config->allow_plain_zmq) {
            snprintf (error, error_size,
                      "--%s %s listens beyond loopback without CURVE while clients need tokens or TLS: "
                      "ZeroMQ peers there would pass without either; set --curve-secret, bind it to "
                      "127.0.0.1, or pass --allow-plain-zmq if that is meant",
                      endpoints [i].flag, endpoint);
            return -1;
        }
        if (!config->allow_plain_zmq)
            zch_warning ("broker: --%s %s listens beyond loopback without CURVE: any host that reaches it "
                         "may %s; set --curve-secret, or --allow-plain-zmq to say it is meant",
                         endpoints [i].flag, endpoint,
                         i == 0? "publish": i == 1? "subscribe": "read history and stats");
    }
    return 0;
}
