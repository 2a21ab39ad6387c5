/*  zch_bench: throughput and latency through the whole zchannel path,
    over the text protocol: PUB lines into the source front-end, MSG lines
    out of the subscriber front-end. See bench_run.h for how it loads the
    path; this file is the command line and the report.

    Exit status: 0 when every message sent reached every subscriber, once
    and in order; 1 when anything was lost, repeated or reordered, a server
    answered -ERR, or the run could not be done; 2 on a usage error.       */
#include "bench_net.h"
#include "bench_run.h"

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
        "Load a running zchannel path over the text protocol and report\n"
        "throughput, loss, order and latency.\n"
        "\n"
        "  --source HOST:PORT      source text port (default 127.0.0.1:2345)\n"
        "  --subscriber HOST:PORT  subscriber text port (default 127.0.0.1:2346)\n"
        "  --publishers P          publisher connections (default 1)\n"
        "  --subscribers S         subscriber connections (default 1)\n"
        "  --messages M            messages per publisher (default 1000000)\n"
        "  --size B                payload bytes, padded with 'x' (default 64)\n"
        "  --rate R                messages per second per publisher; 0 = as fast\n"
        "                          as the source takes them (default 0)\n"
        "  --topic T               topic to publish and subscribe (default bench)\n"
        "  --timeout SECS          give up after SECS without progress and count\n"
        "                          what is missing as lost (default 30)\n"
        "  --json                  print the result as one JSON object\n"
        "  --free-ports N          print N free loopback TCP ports and exit\n"
        "  -h, --help              show this help and exit\n"
        "\n"
        "Each payload starts with '<publisher>:<seq>:<send-time-ns>:'.\n"
        "Exits 0 when every subscriber got every message once and in order,\n"
        "1 otherwise, 2 on a usage error.\n");
}

//  Parses an unsigned decimal in [low, high]; returns 0 or -1.
static int
s_number (const char *text, uint64_t low, uint64_t high, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (*text < '0' || *text > '9' || *end || errno || v < low || v > high)
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
            rc = bench_addr_parse (arg, config->source_host, sizeof config->source_host,
                                   &config->source_port);
            break;
        case 'u':
            rc = bench_addr_parse (arg, config->subscriber_host,
                                   sizeof config->subscriber_host, &config->subscriber_port);
            break;
        case 'P':
            rc = s_number (arg, 1, 10000, &value);
            config->publishers = (int) value;
            break;
        case 'S':
            rc = s_number (arg, 1, 10000, &value);
            config->subscribers = (int) value;
            break;
        case 'm':
            rc = s_number (arg, 1, UINT64_MAX / 2, &config->messages);
            break;
        case 'b':
            rc = s_number (arg, 0, BENCH_SIZE_MAX, &value);
            config->size = (size_t) value;
            break;
        case 'r':
            rc = s_number (arg, 0, 1000000000, &config->rate);
            break;
        case 't':
            config->topic = arg;
            rc = s_topic_valid (arg) ? 0 : -1;
            break;
        case 'T':
            rc = s_number (arg, 1, 86400, &value);
            config->timeout_s = (int) value;
            break;
        case 'j':
            *json = true;
            break;
        case 'f':
            rc = s_number (arg, 1, 64, free_ports);
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
    printf ("zch_bench: P=%d S=%d M=%" PRIu64 " B=%zu rate=%s topic=%s\n",
            config->publishers, config->subscribers, config->messages, config->size,
            config->rate ? "fixed" : "max", config->topic);
    if (config->rate)
        printf ("rate         %" PRIu64 " msg/s per publisher\n", config->rate);
    printf ("sent         %" PRIu64 "\n", r->sent);
    printf ("received     %" PRIu64 " (expected %" PRIu64 ")\n", r->unique, r->expected);
    printf ("lost         %" PRIu64 "\n", r->lost);
    printf ("out-of-order %" PRIu64 "\n", r->out_of_order);
    printf ("duplicates   %" PRIu64 "%s\n", r->duplicates, r->dup_check ? "" : " (not checked)");
    if (r->gaps || r->foreign || r->server_errors || r->timed_out)
        printf ("anomalies    gaps %" PRIu64 ", foreign lines %" PRIu64 ", server errors %"
                PRIu64 "%s\n", r->gaps, r->foreign, r->server_errors,
                r->timed_out ? ", timed out" : "");
    printf ("publish      %.0f msg/s (%.3f s)\n",
            s_rate (r->sent, r->first_send_ns, r->last_send_ns),
            s_seconds (r->first_send_ns, r->last_send_ns));
    printf ("delivery     %.0f msg/s (%.3f s)\n",
            s_rate (r->unique, r->first_send_ns, r->last_receive_ns),
            s_seconds (r->first_send_ns, r->last_receive_ns));
    printf ("latency      p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
            bench_hist_percentile (h, 50) / 1e3, bench_hist_percentile (h, 99) / 1e3,
            bench_hist_percentile (h, 99.9) / 1e3, bench_hist_max (h) / 1e3);
}

//  Prints the result as one JSON object on one line.
static void
s_report_json (const bench_config_t *config, const bench_result_t *r)
{
    const bench_hist_t *h = r->latency;
    printf ("{\"publishers\":%d,\"subscribers\":%d,\"messages\":%" PRIu64
            ",\"size\":%zu,\"rate\":%" PRIu64 ",\"topic\":\"%s\""
            ",\"sent\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"received\":%" PRIu64
            ",\"lost\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"duplicates\":%" PRIu64
            ",\"gaps\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"server_errors\":%" PRIu64
            ",\"timed_out\":%s,\"duplicates_checked\":%s"
            ",\"publish_seconds\":%.6f,\"publish_rate\":%.1f"
            ",\"delivery_seconds\":%.6f,\"delivery_rate\":%.1f"
            ",\"latency_us\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f"
            ",\"mean\":%.3f,\"samples\":%" PRIu64 "}}\n",
            config->publishers, config->subscribers, config->messages, config->size,
            config->rate, config->topic, r->sent, r->expected, r->unique, r->lost,
            r->out_of_order, r->duplicates, r->gaps, r->foreign, r->server_errors,
            r->timed_out ? "true" : "false", r->dup_check ? "true" : "false",
            s_seconds (r->first_send_ns, r->last_send_ns),
            s_rate (r->sent, r->first_send_ns, r->last_send_ns),
            s_seconds (r->first_send_ns, r->last_receive_ns),
            s_rate (r->unique, r->first_send_ns, r->last_receive_ns),
            bench_hist_percentile (h, 50) / 1e3, bench_hist_percentile (h, 99) / 1e3,
            bench_hist_percentile (h, 99.9) / 1e3, bench_hist_max (h) / 1e3,
            bench_hist_mean (h) / 1e3, bench_hist_count (h));
}

//  Parses argv into config; returns 0 to run, 1 when done (help, free
//  ports), -1 on a usage error.
static int
s_parse (int argc, char **argv, bench_config_t *config, bool *json, int *exit_code)
{
    static const struct option options [] = {
        { "source", required_argument, NULL, 'o' },
        { "subscriber", required_argument, NULL, 'u' },
        { "publishers", required_argument, NULL, 'P' },
        { "subscribers", required_argument, NULL, 'S' },
        { "messages", required_argument, NULL, 'm' },
        { "size", required_argument, NULL, 'b' },
        { "rate", required_argument, NULL, 'r' },
        { "topic", required_argument, NULL, 't' },
        { "timeout", required_argument, NULL, 'T' },
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
    return 0;
}

//  Entry point: parse, run, report.
int
main (int argc, char **argv)
{
    bench_config_t config = {
        .source_host = "127.0.0.1", .source_port = 2345,
        .subscriber_host = "127.0.0.1", .subscriber_port = 2346,
        .publishers = 1, .subscribers = 1, .messages = 1000000, .size = 64,
        .rate = 0, .topic = "bench", .timeout_s = 30
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
    rc = bench_run (&config, &result);
    if (rc == 0) {
        if (json)
            s_report_json (&config, &result);
        else
            s_report_text (&config, &result);
    }
    bool clean = rc == 0 && result.lost == 0 && result.out_of_order == 0
              && result.duplicates == 0 && result.server_errors == 0
              && result.sent == (uint64_t) config.publishers * config.messages;
    bench_hist_destroy (&result.latency);
    return clean ? 0 : 1;
}
