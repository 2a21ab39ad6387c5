/*  zchannel-source: the data-source front-end as its own daemon.           */
#include "source.h"

int
main (int argc, char *argv [])
{
    source_config_t config;
    source_config_defaults (&config);
    return zch_frontend_main (argc, argv, "zchannel-source",
        "Accept text clients that publish (PUB <topic> <payload>) and forward\n"
        "their messages to the broker's ingress.", "source", source_options, &config, source_start,
        source_reload);
}
