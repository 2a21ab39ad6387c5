/*  client_workerman: `zchannel pub` and `zchannel sub` against a front-end
    running --profile workerman (Workerman's data-source and subscriber
    servers), private to the launcher's client tools. There every line sent
    to the source is a payload for topic1 and nothing is answered; a
    subscriber client that sends any line is subscribed to topic1 and gets
    "Received: <payload>" lines, with no +OK.                               */
#ifndef CLIENT_WORKERMAN_H_INCLUDED
#define CLIENT_WORKERMAN_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "client_common.h"

//  The one topic of the profile
#define CLIENT_WORKERMAN_TOPIC "topic1"

//  Publishes message, or each line of standard input, as payload lines;
//  AUTH with shared's token first, when there is one; TLS as shared says.
//  Returns a CLIENT_EXIT_* code.
int client_workerman_pub (const char *host, int port, const client_shared_t *shared, const char *message);

//  Subscribes and prints each payload on a line, count of them (0: no
//  limit); the same token and TLS. Returns a CLIENT_EXIT_* code.
int client_workerman_sub (const char *host, int port, const client_shared_t *shared, uint64_t count);

#endif
