/*  zch_metrics: the counter registry and the Prometheus text rendering.    */
#include "zch_metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_BLOCKS_MAX  256

#define METRICS_ROLES_MAX   16

typedef struct {
    const char *role;
    zch_counters_t *counters;
} block_t;

//  A role, as its workers registered it
typedef struct {
    const char *name;
    bool edge;                  //  a front-end: refusals, and a broker link to be ready
} role_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static block_t s_blocks [METRICS_BLOCKS_MAX];
static size_t s_block_count;
static role_t s_roles [METRICS_ROLES_MAX];
static size_t s_role_count;
static const char *s_process_role = "zchannel";
static struct timespec s_started;
static const char *s_causes [ZCH_DROP_CAUSES] = {
    "slow_consumer", "hwm", "malformed", "plugin", "rate_limit", "too_large", "shutdown", "engine", "failover"
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
    { "zchannel_confirms_total", "counter",
      "Publisher confirms (source: +OK <topic> <seq> <epoch> to VERBOSE publishers once the broker stamped their message; broker: CONFIRM answers sent to sources).",
      offsetof (zch_counters_t, confirms), 1 },
    { "zchannel_unconfirmed_total", "counter",
      "Publishes a confirm was asked for and could not be given (source: answered -ERR unconfirmed, the publisher should send again; broker: the source's confirm link was gone or full).",
      offsetof (zch_counters_t, unconfirmed), 1 },
    { "zchannel_broker_moves_total", "counter",
      "Front-end workers' moves from a broker that stopped answering to the next of their --broker list.",
      offsetof (zch_counters_t, broker_moves), 1 },
    { "zchannel_clients", "gauge",
      "Connected clients (broker: ZeroMQ peers connected over TCP or IPC on ingress, egress and control; the inproc front-ends of zchannel run are not counted).",
      offsetof (zch_counters_t, clients), 1 },
    { "zchannel_output_bytes", "gauge",
      "Bytes queued for the front-end's clients and not yet written (subscriber: held within --output-budget).",
      offsetof (zch_counters_t, output), 1 },
    { "zchannel_subscriptions", "gauge",
      "Subscriptions held (subscriber: client patterns; broker: distinct prefixes some egress peer follows).",
      offsetof (zch_counters_t, subscriptions), 1 },
    { "zchannel_topics", "gauge",
      "Distinct topics seen.",
      offsetof (zch_counters_t, topics), 1 },
    { "zchannel_history_messages", "gauge",
      "Messages kept in history.",
      offsetof (zch_counters_t, history), 1 },
    { "zchannel_queue_items", "gauge",
      "Work-queue items waiting for a watcher, over all queues (broker).",
      offsetof (zch_counters_t, queue_items), 1 },
    { "zchannel_queue_inflight_items", "gauge",
      "Work-queue items handed to a watcher and not yet written to it (broker).",
      offsetof (zch_counters_t, queue_inflight), 1 },
    { "zchannel_queue_bytes", "gauge",
      "Payload bytes of the work-queue items waiting and in flight (broker).",
      offsetof (zch_counters_t, queue_bytes), 1 },
    { "zchannel_queue_enqueued_total", "counter",
      "Items accepted into work queues (broker).",
      offsetof (zch_counters_t, queue_enqueued), 1 },
    { "zchannel_queue_delivered_total", "counter",
      "Work-queue items handed to a watcher, redeliveries included (broker).",
      offsetof (zch_counters_t, queue_delivered), 1 },
    { "zchannel_queue_redelivered_total", "counter",
      "Work-queue items handed to another watcher after theirs lost them unwritten (broker).",
      offsetof (zch_counters_t, queue_redelivered), 1 },
    { "zchannel_queue_refused_total", "counter",
      "Enqueues refused: a full work queue, too many queues, or work queues not served (broker).",
      offsetof (zch_counters_t, queue_refused), 1 },
};

void
zch_metrics_init (void)
{
    clock_gettime (CLOCK_MONOTONIC, &s_started);
}

void
zch_metrics_process_role (const char *role)
{
    s_process_role = role;
}

//  Registers role on its first block, in order. Caller holds the lock.
static bool
s_role_add (const char *role, bool edge)
{
    for (size_t r = 0; r < s_role_count; r++)
        if (strcmp (s_roles [r].name, role) == 0)
            return true;
    if (s_role_count == METRICS_ROLES_MAX)
        return false;
    s_roles [s_role_count++] = (role_t) { role, edge };
    return true;
}

//  A block for role, registered.
static zch_counters_t *
s_counters_new (const char *role, bool edge)
{
    zch_counters_t *counters = calloc (1, sizeof *counters);
    if (!counters)
        return NULL;
    pthread_mutex_lock (&s_lock);
    if (s_block_count < METRICS_BLOCKS_MAX && s_role_add (role, edge))
        s_blocks [s_block_count++] = (block_t) { role, counters };
    else {
        free (counters);
        counters = NULL;
    }
    pthread_mutex_unlock (&s_lock);
    return counters;
}

zch_counters_t *
zch_metrics_counters (const char *role)
{
    return s_counters_new (role, false);
}

zch_counters_t *
zch_metrics_edge_counters (const char *role)
{
    return s_counters_new (role, true);
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

//  How many blocks belong to role. Caller holds the lock.
static uint64_t
s_blocks_of (const char *role)
{
    uint64_t count = 0;
    for (size_t i = 0; i < s_block_count; i++)
        count += strcmp (s_blocks [i].role, role) == 0;
    return count;
}

//  A role is ready when each of its front-end workers has its broker link.
//  Caller holds the lock.
static bool
s_role_ready (const role_t *role)
{
    return !role->edge
        || s_sum (role->name, offsetof (zch_counters_t, linked)) == s_blocks_of (role->name);
}

bool
zch_metrics_ready (char *why, size_t why_size)
{
    size_t used = 0;
    why [0] = 0;
    pthread_mutex_lock (&s_lock);
    bool ready = s_role_count > 0;
    if (!ready)
        snprintf (why, why_size, "no role started yet");
    for (size_t r = 0; r < s_role_count; r++)
        if (!s_role_ready (&s_roles [r])) {
            ready = false;
            if (used < why_size)
                used += (size_t) snprintf (why + used, why_size - used, "%s%s: broker link down",
                                           used? "; ": "", s_roles [r].name);
        }
    pthread_mutex_unlock (&s_lock);
    return ready;
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

//  Writes one metric's HELP and TYPE lines.
static void
s_header (FILE *out, const char *name, const char *type, const char *help)
{
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

//  Writes a per-cause counter for every role (front-ends only when
//  edge_only), causes from the array of slots at offset.
static void
s_causes_render (FILE *out, const char *name, const char *const *causes, int count,
                 size_t offset, bool edge_only)
{
    for (size_t r = 0; r < s_role_count; r++)
        if (s_roles [r].edge || !edge_only)
            for (int cause = 0; cause < count; cause++) {
                char labels [96];
                snprintf (labels, sizeof labels, "role=\"%s\",cause=\"%s\"", s_roles [r].name,
                          causes [cause]);
                s_value (out, name, labels, s_sum (s_roles [r].name,
                         offset + (size_t) cause * sizeof (atomic_uint_least64_t)), 1);
            }
}

char *
zch_metrics_render (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    pthread_mutex_lock (&s_lock);
    for (size_t m = 0; m < sizeof s_metrics / sizeof s_metrics [0]; m++) {
        s_header (out, s_metrics [m].name, s_metrics [m].type, s_metrics [m].help);
        for (size_t r = 0; r < s_role_count; r++) {
            char labels [64];
            snprintf (labels, sizeof labels, "role=\"%s\"", s_roles [r].name);
            s_value (out, s_metrics [m].name, labels, s_sum (s_roles [r].name, s_metrics [m].offset),
                     s_metrics [m].scale);
        }
    }
    s_header (out, "zchannel_dropped_total", "counter",
              "Messages dropped, by cause (slow_consumer: clients cut off for not reading).");
    s_causes_render (out, "zchannel_dropped_total", s_causes, ZCH_DROP_CAUSES,
                     offsetof (zch_counters_t, dropped), false);
    s_header (out, "zchannel_refused_total", "counter",
              "Clients and requests turned away by a limit or by authentication, by cause.");
    s_causes_render (out, "zchannel_refused_total", s_refusals, ZCH_REFUSE_CAUSES,
                     offsetof (zch_counters_t, refused), true);
    s_header (out, "zchannel_ready", "gauge",
              "1 when the role serves: every front-end worker has its broker link (as /readyz).");
    for (size_t r = 0; r < s_role_count; r++)
        fprintf (out, "zchannel_ready{role=\"%s\"} %d\n", s_roles [r].name, s_role_ready (&s_roles [r]));
    pthread_mutex_unlock (&s_lock);
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    double uptime = (double) (now.tv_sec - s_started.tv_sec) + (now.tv_nsec - s_started.tv_nsec) / 1e9;
    s_header (out, "zchannel_uptime_seconds", "gauge", "Time since the process started.");
    fprintf (out, "zchannel_uptime_seconds{role=\"%s\"} %.3f\n", s_process_role, uptime);
    zch_metrics_process_render (out, s_process_role);
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}
