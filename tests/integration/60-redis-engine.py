#!/usr/bin/python3
"""The Redis engine: two brokers share one Redis.

Each broker has its own source and subscriber front-ends. Live
subscribers at A and at B follow a topic while a publisher at A's source
and then one at B's publish: both get every message exactly once, in the
one order Redis gave, with the same seqs; ZeroMQ subscribers on both
brokers' egress see the same (epoch, seq) -> payload, the epoch being the
topic's in Redis, not either broker's. `SUB t FROM 0` at each broker
reads the topic's history back from Redis. Then Redis is killed and started again without
persistence (a publish while it is down is dropped and counted in STATS
engine_failed, and a VERBOSE publisher is told): the brokers reconnect, the next publish starts a new epoch,
and every live subscriber is told `-ERR reset <topic> <new epoch>` before
seq 1; a client resuming FROM an old position is told too. A VERBOSE
publisher gets `+OK t <seq> <epoch>` once Redis has stamped its message."""

import time

import zmq

import harness as h
import redis_hosts
import redis_server
from harness import msg_line, subscribe

N_A = 2000
N_B = 500
HISTORY = 5000


def history_lines(S, name, count):
    """The topic's history, read FROM 0 through S's subscriber."""
    c = S.sub_client(name)
    subscribe(c, "t FROM 0")
    return c.read_lines(count, timeout=30, what="history through %s" % name)


def raw_subscriber(S, name):
    """A ZeroMQ SUB on S's egress, following "t" once the broker answered its barrier."""
    sub = h.zsocket(zmq.SUB, S.egress)
    sub.setsockopt(zmq.SUBSCRIBE, b"t")
    ack = b"$ack.%s.1" % name.encode()
    sub.setsockopt(zmq.SUBSCRIBE, ack)
    h.check(sub.poll(h.STEP * 1000), "%s: no barrier answer" % name)
    h.check(sub.recv_multipart()[0] == ack, "%s: a message before its barrier" % name)
    return sub


def test():
    redis = redis_server.Redis()
    args = redis_server.engine_args(redis) + ["--history-per-topic", str(HISTORY)]
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        raw_a, raw_b = raw_subscriber(A, "raw-a"), raw_subscriber(B, "raw-b")
        sub_a, sub_b = A.sub_client("sub-a"), B.sub_client("sub-b")
        subscribe(sub_a, "t")
        subscribe(sub_b, "t")
        pub_a = A.source_client("pub-a")
        pub_a.send(b"".join(b"PUB t a%d\n" % i for i in range(1, N_A + 1)))
        expected = [msg_line("t", i, "a%d" % i) for i in range(1, N_A + 1)]
        got_a, got_b = h.read_many([sub_a, sub_b], [N_A, N_A], timeout=30, what="A's messages")
        h.compare_lines("subscriber at A", got_a, expected)
        h.compare_lines("subscriber at B", got_b, expected)
        pub_b = B.source_client("pub-b")
        pub_b.send(b"".join(b"PUB t b%d\n" % i for i in range(1, N_B + 1)))
        expected = [msg_line("t", N_A + i, "b%d" % i) for i in range(1, N_B + 1)]
        got_a, got_b = h.read_many([sub_a, sub_b], [N_B, N_B], timeout=30, what="B's messages")
        h.compare_lines("subscriber at A, from B", got_a, expected)
        h.compare_lines("subscriber at B, from B", got_b, expected)
        h.check(sub_a.ping() == [] and sub_b.ping() == [], "a message delivered twice")
        # Work queues live in one broker's memory: refused with Redis, saying why
        sub_a.sendline("ENQUEUE jobs j1")
        line = sub_a.readline(what="ENQUEUE under --engine redis")
        h.check(line == b"-ERR work queues need --engine memory (they live in one broker's memory)",
                "ENQUEUE under --engine redis: %r" % line)
        h.check(A.stats()["queue_refused"] == 1, "the refused ENQUEUE was not counted")

        total = N_A + N_B
        seen_a = redis_hosts.raw_collect(raw_a, total, "egress of A")
        seen_b = redis_hosts.raw_collect(raw_b, total, "egress of B")
        h.check(seen_a == seen_b, "(epoch, seq) -> payload differs between A and B")
        epochs = {e for e, _ in seen_a}
        h.check(len(epochs) == 1, "more than one epoch: %r" % epochs)
        epoch1 = h.epoch_text(epochs.pop()).decode()
        h.check(epoch1 not in (h.epoch_text(A.stats()["epoch"]).decode(), h.epoch_text(B.stats()["epoch"]).decode()),
                "the topic's epoch is a broker's own: it must come from Redis")

        # The history, from Redis, through each broker
        expected = [msg_line("t", i, "a%d" % i) for i in range(1, N_A + 1)] + \
                   [msg_line("t", N_A + i, "b%d" % i) for i in range(1, N_B + 1)]
        h.compare_lines("history at A", history_lines(A, "hist-a", total), expected)
        h.compare_lines("history at B", history_lines(B, "hist-b", total), expected)
        with h.system(broker_args=args) as C:
            # a broker that saw none of it reads the stream in Redis
            h.compare_lines("history at a new broker C", history_lines(C, "hist-c", total), expected)

        # A VERBOSE publisher is confirmed once Redis has stamped its message
        pub_b.sendline("VERBOSE on")
        pub_b.expect(b"+OK", what="VERBOSE on")
        pub_b.sendline("PUB t confirmed")
        seq, epoch = h.expect_confirm(pub_b, "t", total + 1, what="confirm through Redis")
        h.check(epoch.decode() == epoch1, "confirm names epoch %s, the topic's is %s" % (epoch, epoch1))
        for c in (sub_a, sub_b):
            c.expect(msg_line("t", total + 1, "confirmed"), what="the confirmed message")
        total += 1

        # Redis loses everything: a new epoch, told to every client
        marks = [h.wait_stderr(S.broker, "channels connected") for S in (A, B)]
        redis.kill()
        # what a broker takes while Redis is down is dropped, and counted
        pub_a.send(b"PUB t lost\n")
        deadline = time.monotonic() + h.STEP
        while A.stats()["engine_failed"] < 1:
            h.check(time.monotonic() < deadline, "a publish while Redis was down was not counted")
            time.sleep(0.05)
        pub_b.sendline("PUB t refused")
        line = pub_b.readline(what="a VERBOSE publish while Redis is down")
        h.check(line in (b"-ERR dropped by the broker: Redis unreachable",
                         b"-ERR dropped by the broker: Redis connection lost, stamped or not"),
                "a VERBOSE publish while Redis is down: %r" % line)
        redis.start()
        for S, mark in zip((A, B), marks):
            h.wait_stderr(S.broker, "channels connected", timeout=15, start=mark)
        # both brokers follow the topic again
        redis_server.wait_patterns(redis, 2)
        deadline_ok = False
        pub_a.send(b"PUB t new1\n")
        line = sub_b.readline(timeout=15, what="B after Redis came back")
        h.check(line.startswith(b"-ERR reset t "), "B after Redis restart: %r" % line)
        epoch2 = line.split()[3].decode()
        h.check(epoch2 != epoch1, "Redis restarted empty but the epoch stayed %s" % epoch1)
        sub_b.expect(msg_line("t", 1, "new1"), what="seq 1 of the new epoch at B")
        sub_a.expect(b"-ERR reset t " + epoch2.encode(), what="reset at A")
        sub_a.expect(msg_line("t", 1, "new1"), what="seq 1 of the new epoch at A")
        resume = B.sub_client("resume")
        resume.sendline("SUB t FROM %d@%s" % (total - 10, epoch1))
        resume.expect(b"+OK", what="reply to SUB FROM an old position")
        resume.expect(b"-ERR reset t " + epoch2.encode(), what="reset for FROM an old position")
        resume.expect(msg_line("t", 1, "new1"), what="the new epoch's history")
        deadline_ok = True
        A.check_alive()
        B.check_alive()
    redis.remove()
    return ("%d + %d messages published at A and B reached both exactly once in order; both "
            "histories from Redis agree (epoch %s); Redis restarted empty: reset to epoch %s told "
            "live and resuming clients%s" % (N_A, N_B, epoch1, epoch2, "" if deadline_ok else "?"))


if __name__ == "__main__":
    redis_server.skip_unless_available("60-redis-engine")
    h.run("60-redis-engine", test, budget=100)
