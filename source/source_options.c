/*  source_options: the source's own settings, one row each (see
    zch_option.h); zch_frontend_options has those both front-ends share.   */
#include "source.h"
#include "zch_pipeline.h"

const zch_option_t source_options [] = {
    { "listen", ZCH_OPT_STRING, offsetof (source_config_t, listen), SOURCE_LISTEN_DEFAULT, "HOST:PORT",
      "where text clients connect", .flags = 0 },
    { "broker", ZCH_OPT_LIST, offsetof (source_config_t, broker), SOURCE_BROKER_DEFAULT, "EP",
      "the broker's ingress; repeat for brokers to fail over to, in order (each with its --control)",
      .flags = ZCH_OPT_NO_RUN },
    { "control", ZCH_OPT_LIST, offsetof (source_config_t, control), SOURCE_CONTROL_DEFAULT, "EP",
      "the broker's control endpoint: confirms at shutdown that it has what was sent, and "
      "confirms to VERBOSE publishers (off when empty; one per --broker when several)",
      .flags = ZCH_OPT_NO_RUN },
    { "relay-listen", ZCH_OPT_STRING, offsetof (source_config_t, relay), "", "EP",
      "where subscriber front-ends hand over what their channel clients publish (off when empty)",
      .flags = ZCH_OPT_NO_RUN },
    { "max-output", ZCH_OPT_SIZE, offsetof (source_config_t, max_output), "1M", "BYTES",
      "replies queued per client before it is dropped", .flags = ZCH_OPT_SHARED | ZCH_OPT_RELOAD },
    { "udp-listen", ZCH_OPT_STRING, offsetof (source_config_t, udp_listen), "", "HOST:PORT",
      "take datagrams, one 'PUB <topic> <payload>' each (off when empty)", .flags = ZCH_OPT_SHARED },
    { "udp-topic", ZCH_OPT_STRING, offsetof (source_config_t, udp_topic), "", "TOPIC",
      "with udp-listen: each datagram is a raw payload for TOPIC", .flags = ZCH_OPT_SHARED },
    { .name = NULL }
};

void
source_config_defaults (source_config_t *config)
{
    memset (config, 0, sizeof *config);
    zch_option_defaults (source_options, config);
    zch_option_defaults (zch_frontend_options, config);
    zch_secure_defaults (&config->secure);
    config->plugin_stage = ZCH_PLUGIN_STAGE_SOURCE;
    config->takes_udp = true;
}
