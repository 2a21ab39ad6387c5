/*  zch_metrics: the counter registry and the Prometheus text rendering.    */
#include "zch_metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_BLOCKS_MAX  256

typedef struct {
    const char *role;
    zch_counters_t *counters;
} block_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static block_t s_blocks [METRICS_BLOCKS_MAX];
static size_t s_block_count;
static struct timespec s_started;

static const char *s_roles [] = { "broker", "source", "subscriber" };
static const char *s_causes [ZCH_DROP_CAUSES] = {
    "slow_consumer", "hwm", "malformed", "plugin", "rate_limit", "too_large", "shutdown"
};
static const char *s_refusals [ZCH_REFUSE_CAUSES] = {
    "too_many_clients", "conn_rate", "idle_timeout", "keepalive", "too_many_subscriptions",
    "tls", "auth_failed", "auth_required", "forbidden"
};

//  Every metric but the drops and the uptime, by offset in zch_counters_t
static const struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;
    double scale;               //  to the unit in the name
} s_metrics [] = {
    { "zchannel_messages_received_total", "counter",
      "Messages received by the stage (source: from clients; broker: from producers; subscriber: from the broker, summed over its workers).",
      offsetof (zch_counters_t, messages_received), 1 },
    { "zchannel_bytes_received_total", "counter",
      "Payload bytes of the messages received by the stage.",
      offsetof (zch_counters_t, bytes_received), 1 },
    { "zchannel_messages_sent_total", "counter",
      "Messages sent on by the stage (subscriber: one per delivery to a client).",
      offsetof (zch_counters_t, messages_sent), 1 },
    { "zchannel_bytes_sent_total", "counter",
      "Payload bytes of the messages sent on by the stage.",
      offsetof (zch_counters_t, bytes_sent), 1 },
    { "zchannel_slow_consumer_dropped_bytes_total", "counter",
      "Output bytes discarded with clients dropped as slow consumers.",
      offsetof (zch_counters_t, slow_consumer_bytes), 1 },
    { "zchannel_plugin_seconds_total", "counter",
      "Time spent in plugins.",
      offsetof (zch_counters_t, plugin_ns), 1e-9 },
    { "zchannel_clients", "gauge",
      "Connected clients (broker: ZeroMQ peers connected over TCP or IPC on ingress, egress and control; the inproc front-ends of zchannel run are not counted).",
      offsetof (zch_counters_t, clients), 1 },
    { "zchannel_subscriptions", "gauge",
      "Subscriptions held (subscriber: client patterns; broker: distinct prefixes some egress peer follows).",
      offsetof (zch_counters_t, subscriptions), 1 },
    { "zchannel_topics", "gauge",
      "Distinct topics seen.",
      offsetof (zch_counters_t, topics), 1 },
    { "zchannel_history_messages", "gauge",
      "Messages kept in history.",
      offsetof (zch_counters_t, history), 1 },
};

void
zch_metrics_init (void)
{
    clock_gettime (CLOCK_MONOTONIC, &s_started);
}

zch_counters_t *
zch_metrics_counters (const char *role)
{
    zch_counters_t *counters = calloc (1, sizeof *counters);
    if (!counters)
        return NULL;
    pthread_mutex_lock (&s_lock);
    if (s_block_count < METRICS_BLOCKS_MAX)
        s_blocks [s_block_count++] = (block_t) { role, counters };
    else {
        free (counters);
        counters = NULL;
    }
    pthread_mutex_unlock (&s_lock);
    return counters;
}

//  Sums one slot over every block of role. Caller holds the lock.
static uint64_t
s_sum (const char *role, size_t offset)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < s_block_count; i++)
        if (strcmp (s_blocks [i].role, role) == 0)
            sum += atomic_load_explicit (
                (atomic_uint_least64_t *) ((char *) s_blocks [i].counters + offset),
                memory_order_relaxed);
    return sum;
}

//  True when some block belongs to role. Caller holds the lock.
static bool
s_has_role (const char *role)
{
    for (size_t i = 0; i < s_block_count; i++)
        if (strcmp (s_blocks [i].role, role) == 0)
            return true;
    return false;
}

//  Writes one value, in the unit of the metric.
static void
s_value (FILE *out, const char *name, const char *labels, uint64_t value, double scale)
{
    if (scale == 1)
        fprintf (out, "%s{%s} %llu\n", name, labels, (unsigned long long) value);
    else
        fprintf (out, "%s{%s} %.9f\n", name, labels, (double) value * scale);
}

char *
zch_metrics_render (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    const size_t role_count = sizeof s_roles / sizeof s_roles [0];
    pthread_mutex_lock (&s_lock);
    for (size_t m = 0; m < sizeof s_metrics / sizeof s_metrics [0]; m++) {
        fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", s_metrics [m].name, s_metrics [m].help,
                 s_metrics [m].name, s_metrics [m].type);
        for (size_t r = 0; r < role_count; r++)
            if (s_has_role (s_roles [r])) {
                char labels [64];
                snprintf (labels, sizeof labels, "role=\"%s\"", s_roles [r]);
                s_value (out, s_metrics [m].name, labels, s_sum (s_roles [r], s_metrics [m].offset),
                         s_metrics [m].scale);
            }
    }
    fprintf (out, "# HELP zchannel_dropped_total Messages dropped, by cause (slow_consumer: clients "
                  "cut off for not reading).\n# TYPE zchannel_dropped_total counter\n");
    for (size_t r = 0; r < role_count; r++)
        if (s_has_role (s_roles [r]))
            for (int cause = 0; cause < ZCH_DROP_CAUSES; cause++) {
                char labels [96];
                snprintf (labels, sizeof labels, "role=\"%s\",cause=\"%s\"", s_roles [r], s_causes [cause]);
                s_value (out, "zchannel_dropped_total", labels,
                         s_sum (s_roles [r], offsetof (zch_counters_t, dropped) + cause * sizeof (atomic_uint_least64_t)), 1);
            }
    fprintf (out, "# HELP zchannel_refused_total Clients and requests turned away by a limit or "
                  "by authentication, by cause.\n# TYPE zchannel_refused_total counter\n");
    for (size_t r = 1; r < role_count; r++)     //  the front-ends
        if (s_has_role (s_roles [r]))
            for (int cause = 0; cause < ZCH_REFUSE_CAUSES; cause++) {
                char labels [96];
                snprintf (labels, sizeof labels, "role=\"%s\",cause=\"%s\"", s_roles [r], s_refusals [cause]);
                s_value (out, "zchannel_refused_total", labels,
                         s_sum (s_roles [r], offsetof (zch_counters_t, refused) + cause * sizeof (atomic_uint_least64_t)), 1);
            }
    pthread_mutex_unlock (&s_lock);
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    double uptime = (double) (now.tv_sec - s_started.tv_sec) + (now.tv_nsec - s_started.tv_nsec) / 1e9;
    fprintf (out, "# HELP zchannel_uptime_seconds Time since the process started.\n"
                  "# TYPE zchannel_uptime_seconds gauge\nzchannel_uptime_seconds %.3f\n", uptime);
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}
