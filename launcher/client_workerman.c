/*  client_workerman: the client tools against --profile workerman.         */
#include "client_workerman.h"
#include "client_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERMAN_PUB_PROG      "zchannel pub"
#define WORKERMAN_SUB_PROG      "zchannel sub"
#define WORKERMAN_PUB_GREETING  "Welcome to Data Source Server"
#define WORKERMAN_SUB_GREETING  "Welcome to Subscriber Server"
#define WORKERMAN_RECEIVED      "Received: "

//  Connects, reads the greeting and presents token. Returns 0 or -1
//  (reported; the link is closed).
static int
s_open (client_link_t *link, const char *prog, const char *host, int port,
        const char *greeting, const client_shared_t *shared)
{
    if (client_link_open (link, prog, host, port, &shared->tls))
        return -1;
    if (client_link_greet (link, greeting) || client_link_auth (link, shared->token)) {
        client_link_close (link);
        return -1;
    }
    return 0;
}

//  Writes text (len bytes, one or more whole lines). Returns 0 or -1.
static int
s_write (client_link_t *link, const char *text, size_t len)
{
    if (client_link_write (link, text, len) == 0)
        return 0;
    client_link_complain (link, "write failed", strerror (errno));
    return -1;
}

int
client_workerman_pub (const char *host, int port, const client_shared_t *shared, const char *message)
{
    client_link_t link;
    if (s_open (&link, WORKERMAN_PUB_PROG, host, port, WORKERMAN_PUB_GREETING, shared))
        return CLIENT_EXIT_FAIL;
    int rc = 0;
    if (message) {
        size_t len = strlen (message);
        rc = s_write (&link, message, len) || s_write (&link, "\n", 1);
    }
    else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (rc == 0 && (len = getline (&line, &cap, stdin)) > 0) {
            if (line [len - 1] != '\n')
                line [len++] = '\n';    //  getline leaves room for the NUL
            rc = s_write (&link, line, (size_t) len);
        }
        free (line);
    }
    client_link_close (&link);
    return rc? CLIENT_EXIT_FAIL: CLIENT_EXIT_OK;
}

int
client_workerman_sub (const char *host, int port, const client_shared_t *shared, uint64_t count)
{
    client_link_t link;
    if (s_open (&link, WORKERMAN_SUB_PROG, host, port, WORKERMAN_SUB_GREETING, shared))
        return CLIENT_EXIT_FAIL;
    //  Any line subscribes to topic1
    int rc = s_write (&link, "SUB " CLIENT_WORKERMAN_TOPIC "\n", 5 + strlen (CLIENT_WORKERMAN_TOPIC));
    for (uint64_t received = 0; rc == 0 && (count == 0 || received < count); ) {
        char *line;
        size_t len;
        int found = client_link_read_line (&link, 1000, &line, &len);
        if (found == CLIENT_FILL_TIMEOUT)
            continue;           //  a quiet topic: wait on
        if (found != CLIENT_LINE_FOUND) {
            client_link_complain_fill (&link, found);
            rc = -1;
        }
        else
        if (strncmp (line, WORKERMAN_RECEIVED, strlen (WORKERMAN_RECEIVED)) == 0) {
            printf ("%s\n", line + strlen (WORKERMAN_RECEIVED));
            fflush (stdout);
            received++;
        }
        else
        if (strncmp (line, "-ERR", 4) == 0) {
            client_link_complain (&link, "server error", line);
            rc = -1;
        }
    }
    client_link_close (&link);
    return rc? CLIENT_EXIT_FAIL: CLIENT_EXIT_OK;
}
