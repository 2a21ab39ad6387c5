#!/usr/bin/python3
"""Two brokers on two hosts over one Redis on a third (network namespaces).

Hosts r (Redis), a and b (each a broker with its source and subscriber
front-ends) are network namespaces on one bridge, 198.18.0.0/24. A
publisher at a's source sends 3,000 messages on a topic; text subscribers
at a and at b get every one exactly once and in order, ZeroMQ subscribers
on both brokers' egress see the same (epoch, seq) -> payload, and a client
at b reading `FROM 0` gets the whole history. A broker started afterwards
on a fourth host c, which saw none of it, serves the same history from
the stream in Redis."""


import harness as h
import netns
import redis_hosts
from harness import msg_line, subscribe

N = 3000
SOURCE_PORT, SUB_PORT = 2345, 2346


def start_node(hosts, host, redis_address):
    return redis_hosts.start_node(hosts, host, ["--engine", "redis", "--redis", redis_address], N)


def test():
    with netns.Hosts(["r", "a", "b", "c"]) as hosts:
        redis, redis_address = redis_hosts.start_redis(hosts, "r")
        procs = [redis] + start_node(hosts, "a", redis_address) + start_node(hosts, "b", redis_address)
        raws = {host: redis_hosts.raw_subscriber(hosts, host) for host in ("a", "b")}
        subs = {host: redis_hosts.client(hosts, host, SUB_PORT, h.SUBSCRIBER_GREETING, "sub-" + host)
                for host in ("a", "b")}
        for c in subs.values():
            subscribe(c, "t")
        pub = redis_hosts.client(hosts, "a", SOURCE_PORT, h.SOURCE_GREETING, "pub-a")
        pub.send(b"".join(b"PUB t m%d\n" % i for i in range(1, N + 1)))
        expected = [msg_line("t", i, "m%d" % i) for i in range(1, N + 1)]
        got = h.read_many([subs["a"], subs["b"]], [N, N], timeout=60, what="messages at a and b")
        for host, lines in zip(("a", "b"), got):
            h.compare_lines("subscriber at " + host, lines, expected)
        seen = {host: redis_hosts.raw_collect(raws[host][1], N, "egress at " + host) for host in ("a", "b")}
        h.check(seen["a"] == seen["b"], "(epoch, seq) -> payload differs between the hosts")
        h.check(len({e for e, _ in seen["a"]}) == 1, "more than one epoch")
        for host in ("a", "b"):
            h.check(subs[host].ping() == [], "%s: a message delivered twice" % host)
        # the history, at b and at a broker on a host that saw none of it
        procs += start_node(hosts, "c", redis_address)
        for host in ("b", "c"):
            c = redis_hosts.client(hosts, host, SUB_PORT, h.SUBSCRIBER_GREETING, "history-" + host)
            subscribe(c, "t FROM 0")
            h.compare_lines("history at " + host, c.read_lines(N, timeout=30), expected)
        for p in procs:
            h.check(p.alive(), "%s died: %s" % (p.name, p.describe()))
        for context, sub in raws.values():
            sub.close()
            context.term()
        for p in procs[::-1]:
            p.stop()
    return ("hosts a, b and c on a bridge (198.18.0.0/24), Redis on r: %d messages published at a "
            "reached a and b once each in order, the same (epoch, seq) -> payload at both egresses; "
            "the history at b and at a new broker on c" % N)


if __name__ == "__main__":
    redis_hosts.run("62-redis-hosts", test, budget=110)
