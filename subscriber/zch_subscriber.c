/*  zchannel-subscriber: the subscriber front-end as its own daemon.        */
#include "subscriber.h"

int
main (int argc, char *argv [])
{
    subscriber_config_t config;
    subscriber_config_defaults (&config);
    return zch_frontend_main (argc, argv, "zchannel-subscriber",
        "Accept text clients that subscribe (SUB <pattern>) and deliver them\n"
        "every matching message from the broker's egress.", "subscriber", subscriber_options,
        &config, subscriber_start, subscriber_reload);
}
