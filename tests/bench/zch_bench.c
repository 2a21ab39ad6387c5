/*  zch_bench: throughput and latency through a pub/sub path: zchannel
    over its text protocol (PUB lines into the source front-end, MSG lines
    out of the subscriber front-end) or ZeroMQ-native, and, for comparison,
    NATS, Redis and MQTT servers over their own protocols. See bench_run.h
    and bench_zmq.h for how it loads the path; this file is the command
    line and the report.

    Exit status: 0 when every message sent reached every subscriber, once
    and in order; 1 when anything was lost, repeated or reordered, a server
    answered -ERR, or the run could not be done; 2 on a usage error.       */
#include "bench_net.h"
#include "bench_proto.h"
#include "bench_run.h"
#include "bench_zmq.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_SIZE_MAX (16u << 20)

//  Prints the usage text to stream.
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: zch_bench [OPTIONS]\n"
        "Load a running pub/sub path and report throughput, loss, order and\n"
        "latency.\n"
        "\n"
        "  --proto NAME            zch (zchannel text, default), nats, redis, mqtt\n"
        "                          (3.1.1, QoS 0) or zmq (PUB/SUB multipart)\n"
        "  --source ADDR           where publishers connect: HOST:PORT (default\n"
        "                          127.0.0.1:2345), or with zmq an endpoint\n"
        "                          (default tcp://127.0.0.1:2206)\n"
        "  --subscriber ADDR       where subscribers connect (default\n"
        "                          127.0.0.1:2346; with zmq tcp://127.0.0.1:2207)\n"
        "                          NATS, Redis and MQTT take the same address twice\n"
        "  --publishers P          publisher connections (default 1)\n"
        "  --subscribers S         subscriber connections (default 1)\n"
        "  --messages M            messages per publisher (default 1000000)\n"
        "  --size B                payload bytes, padded with 'x' (default 64)\n"
        "  --rate R                messages per second per publisher; 0 = as fast\n"
        "                          as the source takes them (default 0)\n"
        "  --topic T               topic to publish and subscribe (default bench)\n"
        "  --topics N              publish over N topics T.0 .. T.N-1 (T/0 .. with\n"
        "                          mqtt) and subscribe to all with a wildcard\n"
        "                          (default 1: T alone)\n"
        "  --duration SECS         publishers stop after SECS even if M is not\n"
        "                          reached (default 0: no limit)\n"
        "  --linger SECS           once publishers are done, stop after SECS\n"
        "                          without a delivery and count the rest as lost\n"
        "                          (default 3)\n"
        "  --timeout SECS          give up after SECS without progress and count\n"
        "                          what is missing as lost (default 30)\n"
        "  --idle N                hold N more connections open (alternately on\n"
        "                          the source and subscriber addresses, with the\n"
        "                          protocol's handshake) during the run\n"
        "  --watch-pid PID         report the resident size of PID (repeat for up\n"
        "                          to 8 processes): before, with the idle\n"
        "                          connections, and the most during the run; and\n"
        "                          the CPU time they use from the first send on\n"
        "  --json                  print the result as one JSON object\n"
        "  --free-ports N          print N free loopback TCP ports and exit\n"
        "  -h, --help              show this help and exit\n"
        "\n"
        "Each payload starts with '<publisher>:<seq>:<send-time-ns>:'. With zmq,\n"
        "a PUB socket waits at its high-water mark instead of dropping.\n"
        "Exits 0 when every subscriber got every message once and in order,\n"
        "1 otherwise, 2 on a usage error.\n");
}

//  Parses a number of seconds, fractions allowed, in [0, 86400].
static int
s_seconds_arg (const char *text, double *value)
{
    char *end;
    errno = 0;
    double v = strtod (text, &end);
    if (*text < '0' || *text > '9' || *end || errno || v < 0 || v > 86400)
        return -1;
    *value = v;
    return 0;
}

//  Tells whether text is a usable topic: one token, printable, no spaces.
static bool
s_topic_valid (const char *text)
{
    if (!*text || strlen (text) > 255)
        return false;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\\')
            return false;
    return true;
}

//  Applies one option to config; returns 0, or -1 after a message.
static int
s_option (bench_config_t *config, int opt, const char *arg, bool *json, uint64_t *free_ports)
{
    uint64_t value = 0;
    int rc = 0;
    switch (opt) {
        case 'o':
            config->source_ep = arg;
            break;
        case 'u':
            config->subscriber_ep = arg;
            break;
        case 'p':
            config->proto = arg;
            rc = strcmp (arg, "zmq") == 0 || bench_proto_find (arg) ? 0 : -1;
            break;
        case 'n':
            rc = bench_number (arg, 1, 100000000, &config->topics);
            break;
        case 'd':
            rc = s_seconds_arg (arg, &config->duration_s);
            break;
        case 'l':
            rc = s_seconds_arg (arg, &config->linger_s);
            break;
        case 'i':
            rc = bench_number (arg, 0, 1000000, &value);
            config->idle = (int) value;
            break;
        case 'w':
            rc = config->watch_count < 8 ? bench_number (arg, 1, 1u << 30, &value) : -1;
            if (rc == 0)
                config->watch_pids [config->watch_count++] = (int) value;
            break;
        case 'P':
            rc = bench_number (arg, 1, 10000, &value);
            config->publishers = (int) value;
            break;
        case 'S':
            rc = bench_number (arg, 1, 10000, &value);
            config->subscribers = (int) value;
            break;
        case 'm':
            rc = bench_number (arg, 1, UINT64_MAX / 2, &config->messages);
            break;
        case 'b':
            rc = bench_number (arg, 0, BENCH_SIZE_MAX, &value);
            config->size = (size_t) value;
            break;
        case 'r':
            rc = bench_number (arg, 0, 1000000000, &config->rate);
            break;
        case 't':
            config->topic = arg;
            rc = s_topic_valid (arg) ? 0 : -1;
            break;
        case 'T':
            rc = bench_number (arg, 1, 86400, &value);
            config->timeout_s = (int) value;
            break;
        case 'j':
            *json = true;
            break;
        case 'f':
            rc = bench_number (arg, 1, 64, free_ports);
            break;
        default:
            return -1;
    }
    if (rc)
        fprintf (stderr, "zch_bench: invalid value '%s'\n", arg);
    return rc;
}

//  Messages per second over an interval in ns; 0 for an empty interval.
static double
s_rate (uint64_t count, int64_t from_ns, int64_t to_ns)
{
    return to_ns > from_ns ? (double) count * 1e9 / (double) (to_ns - from_ns) : 0;
}

//  Seconds between two monotonic stamps, 0 if the second is unset.
static double
s_seconds (int64_t from_ns, int64_t to_ns)
{
    return to_ns > from_ns ? (double) (to_ns - from_ns) / 1e9 : 0;
}

//  Prints the result for people.
static void
s_report_text (const bench_config_t *config, const bench_result_t *r)
{
    const bench_hist_t *h = r->latency;
    printf ("zch_bench: %s P=%d S=%d M=%" PRIu64 " B=%zu rate=%s topic=%s topics=%" PRIu64 "\n",
            config->proto, config->publishers, config->subscribers, config->messages,
            config->size, config->rate ? "fixed" : "max", config->topic, config->topics);
    if (config->rate)
        printf ("rate         %" PRIu64 " msg/s per publisher\n", config->rate);
    printf ("sent         %" PRIu64 "\n", r->sent);
    printf ("received     %" PRIu64 " (expected %" PRIu64 ")\n", r->unique, r->expected);
    printf ("lost         %" PRIu64 "\n", r->lost);
    printf ("gaps         %" PRIu64 "\n", r->gaps);
    printf ("told lost    %" PRIu64 " (%" PRIu64 " clients told more or less than they missed)\n",
            r->told, r->mistold);
    printf ("out-of-order %" PRIu64 "\n", r->out_of_order);
    printf ("duplicates   %" PRIu64 "%s\n", r->duplicates, r->dup_check ? "" : " (not checked)");
    if (r->foreign || r->server_errors || r->timed_out)
        printf ("anomalies    foreign messages %" PRIu64 ", server errors %" PRIu64 "%s\n",
                r->foreign, r->server_errors, r->timed_out ? ", timed out" : "");
    printf ("publish      %.0f msg/s (%.3f s)\n",
            s_rate (r->sent, r->first_send_ns, r->last_send_ns),
            s_seconds (r->first_send_ns, r->last_send_ns));
    printf ("delivery     %.0f msg/s (%.3f s)\n",
            s_rate (r->unique, r->first_send_ns, r->last_receive_ns),
            s_seconds (r->first_send_ns, r->last_receive_ns));
    printf ("latency      p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
            bench_hist_percentile (h, 50) / 1e3, bench_hist_percentile (h, 99) / 1e3,
            bench_hist_percentile (h, 99.9) / 1e3, bench_hist_max (h) / 1e3);
    if (config->idle)
        printf ("idle         %d connections open\n", r->idle_open);
    if (config->watch_count) {
        printf ("rss          %.1f MiB before, %.1f MiB with idle connections, %.1f MiB peak\n",
                r->rss_base_kib / 1024.0, r->rss_idle_kib / 1024.0, r->rss_peak_kib / 1024.0);
        printf ("server cpu   %.3f s, %.2f us per delivery\n", r->server_cpu_s,
                r->unique ? r->server_cpu_s * 1e6 / (double) r->unique : 0);
    }
}

//  Prints the result as one JSON object on one line.
static void
s_report_json (const bench_config_t *config, const bench_result_t *r)
{
    const bench_hist_t *h = r->latency;
    printf ("{\"proto\":\"%s\",\"topics\":%" PRIu64 ",\"idle\":%d,\"rss_base_kib\":%" PRIu64
            ",\"rss_idle_kib\":%" PRIu64 ",\"rss_peak_kib\":%" PRIu64 ",\"planned\":%" PRIu64
            ",\"server_cpu_s\":%.3f,",
            config->proto, config->topics, r->idle_open, r->rss_base_kib, r->rss_idle_kib,
            r->rss_peak_kib, r->planned, r->server_cpu_s);
    printf ("\"publishers\":%d,\"subscribers\":%d,\"messages\":%" PRIu64
            ",\"size\":%zu,\"rate\":%" PRIu64 ",\"topic\":\"%s\""
            ",\"sent\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"received\":%" PRIu64
            ",\"lost\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"duplicates\":%" PRIu64
            ",\"gaps\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"server_errors\":%" PRIu64
            ",\"told\":%" PRIu64 ",\"mistold_clients\":%" PRIu64 ",\"timed_out\":%s,\"duplicates_checked\":%s"
            ",\"publish_seconds\":%.6f,\"publish_rate\":%.1f"
            ",\"delivery_seconds\":%.6f,\"delivery_rate\":%.1f"
            ",\"latency_us\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f"
            ",\"mean\":%.3f,\"samples\":%" PRIu64 "}}\n",
            config->publishers, config->subscribers, config->messages, config->size,
            config->rate, config->topic, r->sent, r->expected, r->unique, r->lost,
            r->out_of_order, r->duplicates, r->gaps, r->foreign, r->server_errors, r->told,
            r->mistold, r->timed_out ? "true" : "false", r->dup_check ? "true" : "false",
            s_seconds (r->first_send_ns, r->last_send_ns),
            s_rate (r->sent, r->first_send_ns, r->last_send_ns),
            s_seconds (r->first_send_ns, r->last_receive_ns),
            s_rate (r->unique, r->first_send_ns, r->last_receive_ns),
            bench_hist_percentile (h, 50) / 1e3, bench_hist_percentile (h, 99) / 1e3,
            bench_hist_percentile (h, 99.9) / 1e3, bench_hist_max (h) / 1e3,
            bench_hist_mean (h) / 1e3, bench_hist_count (h));
}

//  Fills in the addresses: endpoints as given for zmq, host and port
//  otherwise. Returns 0, or -1 after a message.
static int
s_addresses (bench_config_t *config)
{
    bool zmq = strcmp (config->proto, "zmq") == 0;
    if (!config->source_ep)
        config->source_ep = zmq ? "tcp://127.0.0.1:2206" : "127.0.0.1:2345";
    if (!config->subscriber_ep)
        config->subscriber_ep = zmq ? "tcp://127.0.0.1:2207" : "127.0.0.1:2346";
    if (zmq) {
        if (config->idle || config->topics > 1) {
            fprintf (stderr, "zch_bench: --idle and --topics need a TCP protocol\n");
            return -1;
        }
        return 0;
    }
    if (bench_addr_parse (config->source_ep, config->source_host, sizeof config->source_host,
                          &config->source_port)) {
        fprintf (stderr, "zch_bench: invalid value '%s'\n", config->source_ep);
        return -1;
    }
    if (bench_addr_parse (config->subscriber_ep, config->subscriber_host,
                          sizeof config->subscriber_host, &config->subscriber_port)) {
        fprintf (stderr, "zch_bench: invalid value '%s'\n", config->subscriber_ep);
        return -1;
    }
    return 0;
}

//  Parses argv into config; returns 0 to run, 1 when done (help, free
//  ports), -1 on a usage error.
static int
s_parse (int argc, char **argv, bench_config_t *config, bool *json, int *exit_code)
{
    static const struct option options [] = {
        { "proto", required_argument, NULL, 'p' },
        { "source", required_argument, NULL, 'o' },
        { "subscriber", required_argument, NULL, 'u' },
        { "publishers", required_argument, NULL, 'P' },
        { "subscribers", required_argument, NULL, 'S' },
        { "messages", required_argument, NULL, 'm' },
        { "size", required_argument, NULL, 'b' },
        { "rate", required_argument, NULL, 'r' },
        { "topic", required_argument, NULL, 't' },
        { "timeout", required_argument, NULL, 'T' },
        { "topics", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "linger", required_argument, NULL, 'l' },
        { "idle", required_argument, NULL, 'i' },
        { "watch-pid", required_argument, NULL, 'w' },
        { "json", no_argument, NULL, 'j' },
        { "free-ports", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    uint64_t free_ports = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage (stdout);
            *exit_code = 0;
            return 1;
        }
        if (s_option (config, opt, optarg, json, &free_ports))
            return -1;
    }
    if (optind < argc) {
        fprintf (stderr, "zch_bench: unexpected argument '%s'\n", argv [optind]);
        return -1;
    }
    if (free_ports) {
        *exit_code = bench_free_ports ((int) free_ports) ? 1 : 0;
        return 1;
    }
    return s_addresses (config);
}

//  Entry point: parse, run, report.
int
main (int argc, char **argv)
{
    bench_config_t config = {
        .publishers = 1, .subscribers = 1, .messages = 1000000, .size = 64,
        .rate = 0, .topic = "bench", .timeout_s = 30, .proto = "zch", .topics = 1,
        .linger_s = 3
    };
    bool json = false;
    int exit_code = 0;
    int rc = s_parse (argc, argv, &config, &json, &exit_code);
    if (rc == -1) {
        fprintf (stderr, "Try 'zch_bench --help'.\n");
        return 2;
    }
    if (rc == 1)
        return exit_code;

    bench_result_t result;
    rc = strcmp (config.proto, "zmq") == 0 ? bench_zmq_run (&config, &result)
                                            : bench_run (&config, &result);
    if (rc == 0) {
        if (json)
            s_report_json (&config, &result);
        else
            s_report_text (&config, &result);
    }
    bool clean = rc == 0 && result.lost == 0 && result.out_of_order == 0
              && result.duplicates == 0 && result.server_errors == 0
              && result.sent == result.planned && result.sent > 0;
    bench_hist_destroy (&result.latency);
    return clean ? 0 : 1;
}
