/*  subscriber_options: the subscriber's own settings, one row each (see
    zch_option.h); zch_frontend_options has those both front-ends share.   */
#include "subscriber.h"
#include "zch_pipeline.h"

#include <limits.h>

#define S_STR(x) S_STR_(x)
#define S_STR_(x) #x

const zch_option_t subscriber_options [] = {
    { "listen", ZCH_OPT_STRING, offsetof (subscriber_config_t, listen), SUBSCRIBER_LISTEN_DEFAULT,
      "HOST:PORT", "where text clients connect", .flags = 0 },
    { "broker", ZCH_OPT_LIST, offsetof (subscriber_config_t, broker), SUBSCRIBER_BROKER_DEFAULT, "EP",
      "the broker's egress; repeat for brokers to fail over to, in order (each with its --control)",
      .flags = ZCH_OPT_NO_RUN },
    { "control", ZCH_OPT_LIST, offsetof (subscriber_config_t, control), SUBSCRIBER_CONTROL_DEFAULT, "EP",
      "the broker's control endpoint: snapshots, FROM and gap healing (one per --broker)",
      .flags = ZCH_OPT_NO_RUN },
    { "channel-listen", ZCH_OPT_STRING, offsetof (subscriber_config_t, channel_listen), "", "HOST:PORT",
      "where Workerman Channel\\Client apps connect (walkor/channel's protocol; off when empty)",
      .flags = ZCH_OPT_SHARED },
    { "relay", ZCH_OPT_STRING, offsetof (subscriber_config_t, relay), SUBSCRIBER_RELAY_DEFAULT, "EP",
      "with channel-listen or ws-listen: the source's relay, which publishes for channel and WebSocket clients",
      .flags = ZCH_OPT_NO_RUN },
    { "upstream-hwm", ZCH_OPT_INT, offsetof (subscriber_config_t, upstream_hwm), S_STR (SUBSCRIBER_RCVHWM),
      "N", "ZeroMQ messages (each up to 1,024 messages of one topic, 64 KiB) queued from a broker in another process before it drops (a tuning and test knob; drops are healed; zchannel run's own link waits instead)",
      .flags = 0, .min = 1, .max = INT_MAX },
    { "max-output", ZCH_OPT_SIZE, offsetof (subscriber_config_t, max_output), "64M", "BYTES",
      "output queued per client before it is dropped as a slow consumer", .flags = ZCH_OPT_SHARED | ZCH_OPT_RELOAD },
    { "output-budget", ZCH_OPT_STRING, offsetof (subscriber_config_t, output_budget), "auto", "BYTES",
      "output queued over all clients before those furthest behind are dropped as slow consumers "
      "('auto': a quarter of the machine's memory)", .flags = 0, .check = subscriber_budget_check },
    { "behind-mark", ZCH_OPT_SIZE, offsetof (subscriber_config_t, behind_mark), "1M", "BYTES",
      "output queued for one client at which zchannel run's worker stops reading the broker, which "
      "then waits (half of max-output at most); a queue group skips a member at half of it", .flags = 0 },
    { "stall-timeout", ZCH_OPT_DURATION, offsetof (subscriber_config_t, stall_timeout), "2s", "DURATION",
      "zchannel run: how long clients past behind-mark may hold the broker back before those still "
      "past it are dropped as slow consumers", .flags = 0, .min = 1, .max = 86400000 },
    { "ws-root", ZCH_OPT_STRING, offsetof (subscriber_config_t, ws_root), ZCH_WWW_DIR, "DIR",
      "the live page's files, served at / of ws-listen (none when empty)", .flags = 0 },
    { "max-subscriptions", ZCH_OPT_INT, offsetof (subscriber_config_t, secure.max_subscriptions), "1000", "N",
      "patterns one client may hold (0: no limit)", .flags = ZCH_OPT_SHARED, .min = 0, .max = INT_MAX },
    { .name = NULL }
};

void
subscriber_config_defaults (subscriber_config_t *config)
{
    memset (config, 0, sizeof *config);
    zch_option_defaults (subscriber_options, config);
    zch_option_defaults (zch_frontend_options, config);
    zch_secure_defaults (&config->secure);
    config->plugin_stage = ZCH_PLUGIN_STAGE_SUBSCRIBER;
}
