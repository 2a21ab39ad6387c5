/*  client_stat_metrics: `zchannel stat --metrics HOST:PORT`: one scrape of
    a process's Prometheus endpoint, summed into a row per role. Private to
    the launcher's client tools.                                           */
#ifndef CLIENT_STAT_METRICS_H_INCLUDED
#define CLIENT_STAT_METRICS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define CLIENT_STAT_FIELDS_MAX  64
#define CLIENT_STAT_ROLES_MAX   8

//  One counter or gauge of a role
typedef struct {
    char name [32];
    uint64_t value;
} client_stat_field_t;

//  What one role reports
typedef struct {
    char role [24];
    client_stat_field_t fields [CLIENT_STAT_FIELDS_MAX];
    int count;
} client_stat_row_t;

//  Adds value to the field called name of row (made if new).
void client_stat_row_add (client_stat_row_t *row, const char *name, uint64_t value);

//  The value of the field called name of row, or -1 when it has none.
int64_t client_stat_row_get (const client_stat_row_t *row, const char *name);

//  Scrapes http://address/metrics and adds a row per role it reports to
//  rows (*count of them, up to CLIENT_STAT_ROLES_MAX): messages_in,
//  messages_out, dropped (every cause), clients, subscriptions, topics.
//  Returns 0, or -1 with a reason on stderr.
int client_stat_metrics (const char *address, int timeout_ms, client_stat_row_t *rows, int *count);

#endif
