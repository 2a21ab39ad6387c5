#!/usr/bin/python3
"""Topics without history (--no-history PATTERN), on both engines.

Memory engine: topics under `ticks.>` get a seq per message as any other,
but the broker stores none of them (STATS history_messages counts only the
kept topic): `SUB ticks.a FROM 0` answers `-ERR history starts at <next
seq>` and goes on live, and a SNAPSHOT lists no value for them (`-ERR
snapshot lacks 1 topics`, as for an evicted value); a topic not
matching keeps its history as before. A bad pattern is refused at start.

Redis engine (two brokers, one Redis): a message on `ticks.a` is one plain
PUBLISH, with no hash and no stream in Redis; subscribers at both brokers
get every message in order, each broker numbering them 1, 2, 3...; a
VERBOSE publisher is confirmed `+OK` (no seq to give: each broker numbers
its own); the kept topic still goes through the function (hash and stream
present)."""

import os

import harness as h
import redis_server
from harness import msg_line, subscribe

N = 20
ARGS = ["--no-history", "ticks.>"]


def publish(pub, topic, first, last):
    pub.send(b"".join(b"PUB %s m%d\n" % (topic.encode(), i) for i in range(first, last + 1)))


def lines(topic, first, last, seq_first=None):
    seq_first = first if seq_first is None else seq_first
    return [msg_line(topic, seq_first + i - first, "m%d" % i) for i in range(first, last + 1)]


def check_no_history(S, sub, pub):
    """FROM and SNAPSHOT on a topic without history, live going on."""
    late = S.sub_client("late")
    late.sendline("SUB ticks.a FROM 0")
    h.check(h.is_ok(late.readline(what="reply to SUB ticks.a FROM 0")), "SUB ticks.a FROM 0 refused")
    late.expect(b"-ERR history starts at %d" % (N + 1), what="the notice on a topic without history")
    snap = S.sub_client("snap")
    subscribe(snap, "ticks.> SNAPSHOT")
    # no value, and said so (as for a value evicted from the history)
    got = snap.ping()
    h.check(got == [b"-ERR snapshot lacks 1 topics: their last value is no longer held"],
            "a SNAPSHOT over a topic without history: %r" % got)
    publish(pub, "ticks.a", N + 1, N + 1)
    for c in (sub, late, snap):
        c.expect(msg_line("ticks.a", N + 1, "m%d" % (N + 1)), what="live after the notice at " + c.name)


def test_memory():
    with h.system(broker_args=ARGS + ["--history-per-topic", "100"]) as S:
        sub = S.sub_client("sub")
        subscribe(sub, "ticks.a")
        subscribe(sub, "kept.t")
        pub = S.source_client("pub")
        publish(pub, "ticks.a", 1, N)
        publish(pub, "kept.t", 1, N)
        h.compare_lines("ticks.a", sub.read_lines(N), lines("ticks.a", 1, N))
        h.compare_lines("kept.t", sub.read_lines(N), lines("kept.t", 1, N))
        stats = S.stats()
        h.check(stats["history_messages"] == N, "history holds %d messages, expected the kept topic's %d"
                % (stats["history_messages"], N))
        check_no_history(S, sub, pub)
        kept = S.sub_client("kept")
        subscribe(kept, "kept.t FROM 0")
        h.compare_lines("kept.t history", kept.read_lines(N), lines("kept.t", 1, N))
    rc, _, err = h.run_cmd([h.BROKER, "--no-history", "a..b", "--ingress", "tcp://127.0.0.1:0"], timeout=10)
    h.check(rc != 0 and b"--no-history 'a..b'" in err, "a bad --no-history pattern: exit %r, %r" % (rc, err[-200:]))


def test_redis():
    if not os.access(redis_server.REDIS_SERVER, os.X_OK):
        return "Redis engine part skipped: redis-server is not installed"
    redis = redis_server.Redis()
    args = redis_server.engine_args(redis) + ARGS + ["--history-per-topic", "100"]
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        subs = [A.sub_client("sub-a"), B.sub_client("sub-b")]
        for c in subs:
            subscribe(c, "ticks.a")
            subscribe(c, "kept.t")
        pub = A.source_client("pub-a")
        pub.sendline("VERBOSE on")
        pub.expect(b"+OK", what="VERBOSE on")
        pub.sendline("PUB ticks.a m1")
        h.check(pub.readline(what="confirm of a publish without history") == b"+OK",
                "a publish without history is confirmed plainly")
        pub.sendline("VERBOSE off")
        pub.expect(b"+OK", what="VERBOSE off")
        publish(pub, "ticks.a", 2, N)
        publish(pub, "kept.t", 1, N)
        for c in subs:
            h.compare_lines(c.name + " ticks.a", c.read_lines(N), lines("ticks.a", 1, N))
            h.compare_lines(c.name + " kept.t", c.read_lines(N), lines("kept.t", 1, N))
        h.check(redis_server.command(redis.port, "EXISTS", "zch:h:ticks.a", "zch:s:ticks.a") == b":0\r\n",
                "Redis holds a hash or a stream of a topic without history")
        h.check(redis_server.command(redis.port, "EXISTS", "zch:h:kept.t", "zch:s:kept.t") == b":2\r\n",
                "Redis lacks the kept topic's hash or stream")
        check_no_history(B, subs[1], B.source_client("pub-b"))
    redis.remove()
    return "and over Redis: a plain PUBLISH, numbered by each broker"


def test():
    test_memory()
    redis = test_redis()
    return ("ticks.> kept no history: seqs as usual, FROM told 'history starts at', SNAPSHOT empty, "
            "the kept topic's history intact; %s" % redis)


if __name__ == "__main__":
    h.run("69-no-history", test, budget=90)
