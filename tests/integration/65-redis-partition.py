#!/usr/bin/python3
"""The Redis engine: one broker host cut off from the others, then healed
(network namespaces).

Redis on host r, brokers with their front-ends on hosts a and b, on one
bridge (198.18.0.0/24); each host's front-ends are given both brokers, their
own first. Subscribers at a and b follow a topic; b publishes. Then a's link
is taken down: b goes on publishing (b's subscriber gets everything, and is
told nothing), a VERBOSE publisher at a is told its message was dropped (the
broker gives up on a Redis that has not answered for a few seconds instead
of waiting on TCP) or unconfirmed (its source gave the broker up), and a's
subscriber client is told "-ERR offline ..." while its front-end finds no
broker that serves (a's broker answers its heartbeat "down", b's does not
answer). The link comes back: a's broker reconnects, follows and primes
again, a's subscriber client is told "-ERR online ..." and gets every
message it missed, in order, then the live ones; no seq twice."""

import re

import harness as h
import netns
import redis_hosts
import redis_server
from harness import msg_line, subscribe

SOURCE_PORT, SUB_PORT = 2345, 2346


class REDIS:
    port = 6379
N1, N2, N3 = 100, 100, 50


def brokers(hosts, host, data_port):
    """This host's broker first, the other's next (failover)."""
    args = []
    for each in [host] + [o for o in ("a", "b") if o != host]:
        args += ["--broker", "tcp://%s:%d" % (hosts.address[each], data_port),
                 "--control", "tcp://%s:2208" % hosts.address[each]]
    return args + ["--broker-timeout", "2s", "--workers", "1"]


def start_node(hosts, host, redis_address):
    ep = "tcp://%s:%%d" % hosts.address[host]
    broker = hosts.start(host, [h.BROKER, "--engine", "redis", "--redis", redis_address,
                                "--history-per-topic", "1000", "--ingress", ep % 2206,
                                "--egress", ep % 2207, "--control", ep % 2208], name="broker-" + host)
    h.wait_stderr(broker, "channels connected", timeout=15)
    source = hosts.start(host, [h.SOURCE, "--listen", "127.0.0.1:%d" % SOURCE_PORT]
                         + brokers(hosts, host, 2206), name="source-" + host)
    sub = hosts.start(host, [h.SUBSCRIBER, "--listen", "127.0.0.1:%d" % SUB_PORT]
                      + brokers(hosts, host, 2207), name="subscriber-" + host)
    with hosts.inside(host):
        h.wait_frontend(SOURCE_PORT, h.SOURCE_GREETING, source, name="source-" + host).close()
        h.wait_frontend(SUB_PORT, h.SUBSCRIBER_GREETING, sub, name="subscriber-" + host).close()
    return broker, sub


def lines(first, last):
    return [msg_line("t", i, "m%d" % i) for i in range(first, last + 1)]


def test():
    with netns.Hosts(["r", "a", "b"]) as hosts:
        _, redis_address = redis_hosts.start_redis(hosts, "r")
        broker_a, subscriber_a = start_node(hosts, "a", redis_address)
        start_node(hosts, "b", redis_address)
        sub_a = redis_hosts.client(hosts, "a", SUB_PORT, h.SUBSCRIBER_GREETING, "sub-a")
        sub_b = redis_hosts.client(hosts, "b", SUB_PORT, h.SUBSCRIBER_GREETING, "sub-b")
        for c in (sub_a, sub_b):
            subscribe(c, "t")
        pub_b = redis_hosts.client(hosts, "b", SOURCE_PORT, h.SOURCE_GREETING, "pub-b")
        pub_b.send(b"".join(b"PUB t m%d\n" % i for i in range(1, N1 + 1)))
        for c in (sub_a, sub_b):
            h.compare_lines(c.name + " before", c.read_lines(N1), lines(1, N1))

        mark = h.wait_stderr(broker_a, "channels connected")
        hosts.link("a", False)
        pub_b.send(b"".join(b"PUB t m%d\n" % i for i in range(N1 + 1, N1 + N2 + 1)))
        h.compare_lines("sub-b while a is cut off", sub_b.read_lines(N2), lines(N1 + 1, N1 + N2))
        pub_a = redis_hosts.client(hosts, "a", SOURCE_PORT, h.SOURCE_GREETING, "pub-a")
        pub_a.sendline("VERBOSE on")
        pub_a.expect(b"+OK", what="VERBOSE on")
        pub_a.sendline("PUB t cut-off")
        line = pub_a.readline(timeout=20, what="the publish at a while it is cut off")
        h.check(line.startswith(b"-ERR dropped by the broker: Redis") or line.startswith(b"-ERR unconfirmed t:"),
                "publish at a while cut off: %r" % line)
        h.wait_stderr(broker_a, "has not answered", timeout=10, start=mark)
        # a's subscriber client is told while no broker serves its front-end
        told = sub_a.read_until(lambda l: l.startswith(b"-ERR offline "), timeout=20,
                                what="the offline notice at a")
        h.check(len(told) == 1, "sub-a got more than the notice while cut off: %r" % told[:3])
        cut = h.wait_stderr(subscriber_a, "is offline", start=0)

        hosts.link("a", True)
        h.wait_stderr(broker_a, "channels connected", timeout=20, start=mark)
        # a's subscriber front-end (one worker) is online again, through a's
        # broker or b's, whichever it was trying when the link came back;
        # every broker in use follows the topic in Redis again
        h.wait_stderr(subscriber_a, "is online through broker", timeout=20, start=cut)
        with open(subscriber_a.errpath, "rb") as f:
            through = re.findall(rb"is online through broker tcp://([0-9.]+):", f.read()[cut:])[-1].decode()
        with hosts.inside("r"):
            redis_server.wait_patterns(REDIS, 2 if through == hosts.address["a"] else 1,
                                       host=hosts.address["r"])
        pub_b.send(b"".join(b"PUB t m%d\n" % i for i in range(N1 + N2 + 1, N1 + N2 + N3 + 1)))
        # The publish at a was in flight when a gave up on Redis: "stamped
        # or not" is the truth, and whether it was shows in the seqs
        got_a = sub_a.read_lines(N2 + N3 + 1, timeout=30, what="a's notice, missed and live messages")
        online = [line for line in got_a if line.startswith(b"-ERR online ")]
        h.check(len(online) == 1, "sub-a not told online once: %r" % online)
        got_a = [line for line in got_a if line not in online]
        stamped = [line for line in got_a if line.endswith(b" cut-off")]
        if stamped:
            got_a += sub_a.read_lines(1, what="the last message at a")
        seqs = [h.parse_msg(line)[1] for line in got_a]
        h.check(seqs == list(range(N1 + 1, N1 + N2 + N3 + 1 + len(stamped))),
                "a's seqs after the heal: %r ... %r" % (seqs[:3], seqs[-3:]))
        h.check([h.parse_msg(line)[2] for line in got_a if not line.endswith(b" cut-off")]
                == [b"m%d" % i for i in range(N1 + 1, N1 + N2 + N3 + 1)], "a's payloads after the heal")
        got_b = sub_b.read_lines(N3 + len(stamped), what="b's live messages")
        h.check(got_b == got_a[N2:], "a and b disagree after the heal: %r vs %r" % (got_a[N2:N2 + 2], got_b[:2]))
        for c in (sub_a, sub_b):
            h.check(c.ping() == [], "%s: more than expected" % c.name)
    return ("a cut off: b's %d messages reached b only, a's VERBOSE publisher was told (%s), a's "
            "subscriber client was told %r; healed: told %r (through %s's broker), then got the %d it "
            "missed in order, then %d live (the told publish %s)"
            % (N2, line.decode(), told[0][:60], online[0][:60],
               "a" if through == hosts.address["a"] else "b", N2, N3,
               "was stamped after all" if stamped else "was not stamped"))


if __name__ == "__main__":
    redis_hosts.run("65-redis-partition", test, budget=110)
