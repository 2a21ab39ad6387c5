/*  bench_run: the load engine of zch_bench over TCP.

    One thread, one epoll loop, every socket non-blocking. Idle
    connections (if asked) open first; then subscribers connect and each
    waits for its subscription to be confirmed; then the publishers
    connect (and, where the protocol has one, finish their handshake) and
    write publishes in 64 KiB batches, as fast as the server takes them or
    paced to a rate. bench_proto frames them; bench_msg writes and checks
    the payloads. Subscribers read in 1 MiB chunks and check every
    delivery: per subscriber, each publisher's seq must rise by one with
    no gap, repeat or reversal. Nothing is allocated per message.
    bench_zmq is the same for ZeroMQ-native peers.                        */
#ifndef BENCH_RUN_H_INCLUDED
#define BENCH_RUN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_hist.h"

typedef struct {
    char source_host [256];
    int source_port;
    char subscriber_host [256];
    int subscriber_port;
    int publishers;
    int subscribers;
    uint64_t messages;          //  per publisher
    size_t size;                //  payload bytes (at least the header's)
    uint64_t rate;              //  messages per second per publisher; 0 = as fast as possible
    const char *topic;
    int timeout_s;              //  give up after this long without progress
    const char *proto;          //  "zch", "nats", "redis", "mqtt" or "zmq"
    const char *source_ep;      //  zmq: the publishers' endpoint
    const char *subscriber_ep;  //  zmq: the subscribers' endpoint
    uint64_t topics;            //  distinct topics, "<topic><sep><n>"; 1 = the topic alone
    double duration_s;          //  publishers stop after this long; 0 = after messages
    double linger_s;            //  once publishing ended, stop after this long without a delivery
    int idle;                   //  idle connections held open during the run
    int watch_pids [8];         //  processes whose RSS is reported
    int watch_count;
} bench_config_t;

typedef struct {
    uint64_t planned;           //  messages the publishers meant to send (less with duration_s)
    uint64_t sent;              //  messages written completely to the server
    uint64_t expected;          //  sent * subscribers
    uint64_t received;          //  deliveries of our messages, repeats included
    uint64_t unique;            //  distinct (subscriber, publisher, seq) received
    uint64_t lost;              //  expected - unique
    uint64_t out_of_order;      //  a seq not above the last one from that publisher
    uint64_t duplicates;        //  a (subscriber, publisher, seq) seen again
    uint64_t gaps;              //  a seq that skipped ahead (a message missing before it)
    uint64_t foreign;           //  delivery lines that are not ours or do not parse
    uint64_t server_errors;     //  -ERR lines from either front-end
    uint64_t told;              //  messages subscribers were told lost (-ERR gap T A-B: B-A+1)
    uint64_t mistold;           //  subscribers told of more or fewer than they missed
    bool timed_out;             //  stopped waiting after timeout_s without progress
    bool dup_check;             //  false when duplicates could not be told apart
    int64_t first_send_ns;
    int64_t last_send_ns;
    int64_t last_receive_ns;
    bench_hist_t *latency;      //  send to receive, ns; owned by the result
    int idle_open;              //  idle connections that were open during the run
    uint64_t rss_base_kib;      //  RSS of the watched processes before any connection
    uint64_t rss_idle_kib;      //  ... once the idle connections were open
    uint64_t rss_peak_kib;      //  ... the most seen during the run
    double server_cpu_s;        //  CPU the watched processes used from the first send to the end
} bench_result_t;

//  Runs one benchmark. Fills result (the caller destroys result->latency).
//  Returns 0 when it ran to the end (whatever it measured), or -1 when it
//  could not run (connection, subscription or memory failure), after
//  saying why on stderr.
int bench_run (const bench_config_t *config, bench_result_t *result);

#endif
