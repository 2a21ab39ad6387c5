/*  bench_zmq: the load engine of zch_bench for ZeroMQ-native peers.

    P PUB sockets connect to the server's ingress and send [topic][payload]
    multipart messages; S SUB sockets connect to its egress, subscribe to
    the topic and take the last frame of each message as the payload
    (zchannel's broker sends [topic][meta][payload], a bare proxy
    [topic][payload]). A PUB socket waits at its high-water mark instead
    of dropping (ZMQ_XPUB_NODROP), as zchannel's source does. Before the
    clock starts, every publisher sends probes (seq 0) until every
    subscriber has seen one from each, so no message is lost to a
    subscription still on its way; that phase runs in the calling thread.
    Then one thread sends for all publishers (as fast as the server takes
    them, or paced) while the calling thread receives and checks, so the
    two use separate cores. Each socket is used by one thread only; the
    threads share just the count sent, the last send time and whether
    publishing is over (C11 atomics). Sockets never block.                */
#ifndef BENCH_ZMQ_H_INCLUDED
#define BENCH_ZMQ_H_INCLUDED

#include "bench_run.h"

//  Runs one benchmark between config->source_ep and
//  config->subscriber_ep. Same contract as bench_run.
int bench_zmq_run (const bench_config_t *config, bench_result_t *result);

#endif
