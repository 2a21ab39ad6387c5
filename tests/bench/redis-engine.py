#!/usr/bin/python3
"""redis-engine.py: what the Redis engine forwards, per shard, and what
it adds to latency.

1. Throughput: one zchannel-broker with the memory engine, then with
   --engine redis on one and on two redis-servers (shards), history on
   (--history-per-topic 1024: every publish also goes to a stream). A
   ZeroMQ PUB pushes MESSAGES messages of SIZE bytes over 64 topics as fast
   as it can; a ZeroMQ SUB on the egress takes them. Reported: messages
   per second from the first sent to the last received, and per shard.
2. Latency: at RATE messages/s for SECONDS, published at broker A and
   received at broker B (two brokers, one Redis), against one
   memory-engine broker; p50 / p99 / max of receive time minus send time.

Each redis-server is its own, on a free loopback port, no persistence.
Usage: redis-engine.py [MESSAGES [SIZE [RATE [SECONDS]]]]"""

import os
import sys
import time

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402
import redis_server  # noqa: E402

TOPICS = 64


def broker(args, name):
    ports = [h.tcp_ep(h.free_port()) for _ in range(3)]
    proc = h.start([h.BROKER, "--ingress", ports[0], "--egress", ports[1], "--control", ports[2]]
                   + args, name=name)
    h.wait_broker(ports[2], proc)
    return proc, ports


def joined(pub, sub, topics):
    """Publishes a probe until the SUB gets it: the path is up."""
    deadline = time.monotonic() + h.STEP
    while True:
        h.check(time.monotonic() < deadline, "the path never came up")
        for t in topics:
            pub.send_multipart([t, b"probe"])
        if sub.poll(200):
            while sub.poll(300):
                sub.recv_multipart()
            return


def sockets(ingress, egress):
    pub = h.ctx().socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.connect(ingress)
    sub = h.ctx().socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"b.")
    sub.connect(egress)
    return pub, sub


def throughput(args, name, messages, size):
    proc, (ingress, egress, _) = broker(args + ["--history-per-topic", "1024"], name)
    pub, sub = sockets(ingress, egress)
    topics = [b"b.%d" % i for i in range(TOPICS)]
    joined(pub, sub, topics)
    payload = b"x" * size
    t0 = time.monotonic()
    got = 0
    for i in range(messages):
        pub.send_multipart([topics[i % TOPICS], payload])
        while sub.poll(0):
            sub.recv_multipart()
            got += 1
    while got < messages:
        h.check(sub.poll(20000), "%s: %d of %d arrived" % (name, got, messages))
        sub.recv_multipart()
        got += 1
    rate = messages / (time.monotonic() - t0)
    pub.close()
    sub.close()
    proc.stop()
    return rate


def latency(pub_ep, sub_ep, rate, seconds):
    pub, sub = sockets(pub_ep, sub_ep)
    joined(pub, sub, [b"b.lat"])
    count = int(rate * seconds)
    delays = []
    start = time.monotonic()
    for i in range(count):
        due = start + i / rate
        while True:
            now = time.monotonic()
            if now >= due:
                break
            if sub.poll(max(0, int((due - now) * 1000))):
                _, _, payload = sub.recv_multipart()
                delays.append(time.monotonic_ns() - int(payload))
        pub.send_multipart([b"b.lat", b"%d" % time.monotonic_ns()])
    while len(delays) < count:
        h.check(sub.poll(10000), "latency: %d of %d arrived" % (len(delays), count))
        _, _, payload = sub.recv_multipart()
        delays.append(time.monotonic_ns() - int(payload))
    pub.close()
    sub.close()
    delays.sort()
    return [delays[int(q * (len(delays) - 1))] / 1e6 for q in (0.5, 0.99, 1.0)]


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 10
    shards = [redis_server.Redis("redis-%d" % i) for i in range(2)]
    print("throughput, %d messages of %d bytes over %d topics, history on:" % (messages, size, TOPICS))
    memory = throughput([], "memory", messages, size)
    print("  memory engine            %8.0f msg/s" % memory)
    for n in (1, 2):
        r = throughput(redis_server.engine_args(*shards[:n]), "redis-%d" % n, messages, size)
        print("  redis engine, %d shard%s   %8.0f msg/s (%.0f per shard)" % (n, "" if n == 1 else "s", r, r / n))
    print("latency at %d msg/s for %.0f s (p50 / p99 / max, ms):" % (rate, seconds))
    proc, (ingress, egress, _) = broker([], "memory-latency")
    print("  one memory-engine broker          %6.2f / %6.2f / %6.2f" % tuple(latency(ingress, egress, rate, seconds)))
    proc.stop()
    a, (a_in, _, _) = broker(redis_server.engine_args(shards[0]), "redis-a")
    b, (_, b_out, _) = broker(redis_server.engine_args(shards[0]), "redis-b")
    print("  redis engine, publish A, read B   %6.2f / %6.2f / %6.2f" % tuple(latency(a_in, b_out, rate, seconds)))
    a.stop()
    b.stop()
    for s in shards:
        s.remove()


if __name__ == "__main__":
    main()
