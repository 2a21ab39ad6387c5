#!/usr/bin/python3
"""The Redis engine: a broker killed and started again loses nothing.

Two brokers share one Redis. A subscriber at A follows a topic; A's broker
is killed with SIGKILL while B's publisher goes on (what B publishes
meanwhile is stamped by Redis: no broker memory involved), then A's broker
is started again on the same endpoints. The subscriber at A gets every
message it missed, in order, with no reset (the topic's epoch is Redis's,
not the broker's), and then the live ones: also when its front-end checks
the topic's seq before the new broker could read it from Redis."""

import signal
import time

import harness as h
import redis_server
from harness import msg_line, subscribe

N1, N2, N3 = 200, 300, 100


def test():
    redis = redis_server.Redis()
    args = redis_server.engine_args(redis) + ["--history-per-topic", "1000"]
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        sub = A.sub_client("sub-a")
        subscribe(sub, "t")
        pub = B.source_client("pub-b")
        pub.send(b"".join(b"PUB t m%d\n" % i for i in range(1, N1 + 1)))
        h.compare_lines("before", sub.read_lines(N1), [msg_line("t", i, "m%d" % i) for i in range(1, N1 + 1)])
        A.broker.signal(signal.SIGKILL)
        A.broker.wait(5)
        pub.send(b"".join(b"PUB t m%d\n" % i for i in range(N1 + 1, N1 + N2 + 1)))
        # Redis stamps them while A is gone (a FROM past what Redis holds yet
        # would rightly be a reset, so wait for the last one first)
        deadline = time.monotonic() + 30
        while redis_server.command(redis.port, "HGET", "zch:h:t", "seq") != b"$3\r\n%d\r\n" % (N1 + N2):
            h.check(time.monotonic() < deadline, "Redis never stamped seq %d" % (N1 + N2))
            time.sleep(0.05)
        # B's own subscriber proves it
        probe = B.sub_client("probe")
        subscribe(probe, "t FROM %d" % (N1 + N2 - 1))
        probe.expect(msg_line("t", N1 + N2, "m%d" % (N1 + N2)), what="the last message, at B")
        # Redis frozen while A's broker comes back: the subscriber's check of
        # its topics (SEQS) reaches a broker that has not read t from Redis
        # yet. A topic it does not list is not gone (its epoch is Redis's)
        redis.proc.signal(signal.SIGSTOP)
        try:
            A.broker = h.start([h.BROKER, "--ingress", A.ingress, "--egress", A.egress, "--control", A.control]
                               + args, name="broker-a-again")
            h.wait_broker(A.control, A.broker)
            deadline = time.monotonic() + h.STEP
            while h.broker_stats(A.control)["seqs_requests"] == 0:
                h.check(time.monotonic() < deadline, "A's subscriber never checked its topics")
                time.sleep(0.05)
            stats = h.broker_stats(A.control)
            h.check(stats["topics"] == 0, "A's broker had t before Redis could answer: %r" % stats["topics"])
        finally:
            redis.proc.signal(signal.SIGCONT)
        lines = sub.read_lines(N2, timeout=30, what="what was missed")
        h.compare_lines("missed", lines, [msg_line("t", i, "m%d" % i) for i in range(N1 + 1, N1 + N2 + 1)])
        pub.send(b"".join(b"PUB t m%d\n" % i for i in range(N1 + N2 + 1, N1 + N2 + N3 + 1)))
        lines = sub.read_lines(N3, timeout=30, what="live again")
        h.compare_lines("live", lines, [msg_line("t", i, "m%d" % i)
                                        for i in range(N1 + N2 + 1, N1 + N2 + N3 + 1)])
        h.check(sub.ping() == [], "more than expected at A")
    redis.remove()
    return ("A's broker killed after %d messages; %d published at B meanwhile reached A's subscriber "
            "once it came back, in order and without a reset, then %d live" % (N1, N2, N3))


if __name__ == "__main__":
    redis_server.skip_unless_available("63-redis-broker-restart")
    # kills and restarts a broker's process: three processes only
    h.run("63-redis-broker-restart", test, budget=100, deployments=("procs",))
