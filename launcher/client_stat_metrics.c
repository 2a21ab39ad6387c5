/*  client_stat_metrics: a role's row from its Prometheus endpoint.         */
#include "client_stat_metrics.h"
#include "client_common.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_REPLY_MAX   (4 * 1024 * 1024)

//  Prometheus names and the fields they sum into
static const struct {
    const char *metric;
    const char *field;
} s_columns [] = {
    { "zchannel_messages_received_total", "messages_in" },
    { "zchannel_messages_sent_total", "messages_out" },
    { "zchannel_dropped_total", "dropped" },
    { "zchannel_clients", "clients" },
    { "zchannel_subscriptions", "subscriptions" },
    { "zchannel_topics", "topics" },
};

void
client_stat_row_add (client_stat_row_t *row, const char *name, uint64_t value)
{
    for (int i = 0; i < row->count; i++)
        if (strcmp (row->fields [i].name, name) == 0) {
            row->fields [i].value += value;
            return;
        }
    if (row->count == CLIENT_STAT_FIELDS_MAX)
        return;
    snprintf (row->fields [row->count].name, sizeof row->fields [0].name, "%s", name);
    row->fields [row->count++].value = value;
}

int64_t
client_stat_row_get (const client_stat_row_t *row, const char *name)
{
    for (int i = 0; i < row->count; i++)
        if (strcmp (row->fields [i].name, name) == 0)
            return (int64_t) row->fields [i].value;
    return -1;
}

//  GET /metrics from host:port; the body in a new string, or NULL.
static char *
s_get (const char *address, int timeout_ms)
{
    char host [256];
    const char *colon = strrchr (address, ':');
    int port;
    if (!colon || (size_t) (colon - address) >= sizeof host || client_port_parse (colon + 1, &port)) {
        fprintf (stderr, "zchannel stat: --metrics wants HOST:PORT, not '%s'\n", address);
        return NULL;
    }
    memcpy (host, address, (size_t) (colon - address));
    host [colon - address] = 0;
    client_link_t link;
    if (client_link_open (&link, "zchannel stat", host, port, NULL))
        return NULL;
    static const char request [] = "GET /metrics HTTP/1.0\r\nAccept: text/plain\r\n\r\n";
    char *reply = NULL;
    size_t len = 0;
    if (client_link_write (&link, request, sizeof request - 1) == 0
    &&  (reply = malloc (METRICS_REPLY_MAX + 1))) {
        struct pollfd pfd = { .fd = link.fd, .events = POLLIN };
        ssize_t got = 1;
        while (got > 0 && len < METRICS_REPLY_MAX && poll (&pfd, 1, timeout_ms) == 1)
            if ((got = read (link.fd, reply + len, METRICS_REPLY_MAX - len)) > 0)
                len += (size_t) got;
        reply [len] = 0;
    }
    client_link_close (&link);
    char *body = reply? strstr (reply, "\r\n\r\n"): NULL;
    if (!body || strncmp (reply, "HTTP/1.", 7) || strncmp (reply + 8, " 200", 4)) {
        fprintf (stderr, "zchannel stat: %s: no metrics (HTTP answer %.12s)\n", address,
                 reply? reply: "none");
        free (reply);
        return NULL;
    }
    memmove (reply, body + 4, strlen (body + 4) + 1);
    return reply;
}

//  The row of role in rows, made if new; NULL when there is no room.
static client_stat_row_t *
s_row (client_stat_row_t *rows, int *count, const char *role, size_t role_len)
{
    for (int i = 0; i < *count; i++)
        if (strlen (rows [i].role) == role_len && memcmp (rows [i].role, role, role_len) == 0)
            return &rows [i];
    if (*count == CLIENT_STAT_ROLES_MAX || role_len >= sizeof rows [0].role)
        return NULL;
    client_stat_row_t *row = &rows [(*count)++];
    memset (row, 0, sizeof *row);
    memcpy (row->role, role, role_len);
    return row;
}

int
client_stat_metrics (const char *address, int timeout_ms, client_stat_row_t *rows, int *count)
{
    char *text = s_get (address, timeout_ms);
    if (!text)
        return -1;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        char *labels = strchr (line, '{'), *value = strrchr (line, ' ');
        char *role = labels? strstr (labels, "role=\""): NULL;
        if (*line == '#' || !labels || !value || !role)
            continue;
        role += 6;
        char *role_end = strchr (role, '"');
        for (size_t c = 0; role_end && c < sizeof s_columns / sizeof s_columns [0]; c++)
            if (strlen (s_columns [c].metric) == (size_t) (labels - line)
            &&  memcmp (line, s_columns [c].metric, (size_t) (labels - line)) == 0) {
                client_stat_row_t *row = s_row (rows, count, role, (size_t) (role_end - role));
                if (row)
                    client_stat_row_add (row, s_columns [c].field, strtoull (value + 1, NULL, 10));
            }
    }
    free (text);
    return 0;
}
