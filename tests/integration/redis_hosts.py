"""What the Redis engine's multi-host tests share: Redis on a host of its
own, a broker with its two front-ends on one network-namespace host
(netns.Hosts), line clients and raw ZeroMQ subscribers made from inside a
host (and what a raw subscriber collects), a broker's STATS read from
inside its host, and the checks that skip such a test where it cannot run."""

import msgpack
import zmq

import deployment
import harness as h
import netns
import redis_server

SOURCE_PORT, SUB_PORT, CONTROL = 2345, 2346, "tcp://127.0.0.1:2208"


def start_node(hosts, host, engine_args, history):
    """A broker (engine_args: how it finds Redis) and its front-ends on
    host, all on the host's loopback. Returns [broker, source, subscriber]."""
    broker = hosts.start(host, [h.BROKER] + list(engine_args) + ["--history-per-topic", str(history)],
                         name="broker-" + host)
    h.wait_stderr(broker, "channels connected", timeout=20)
    source = hosts.start(host, [h.SOURCE, "--listen", "127.0.0.1:%d" % SOURCE_PORT], name="source-" + host)
    sub = hosts.start(host, [h.SUBSCRIBER, "--listen", "127.0.0.1:%d" % SUB_PORT], name="subscriber-" + host)
    with hosts.inside(host):
        h.wait_frontend(SOURCE_PORT, h.SOURCE_GREETING, source, name="source-" + host).close()
        h.wait_frontend(SUB_PORT, h.SUBSCRIBER_GREETING, sub, name="subscriber-" + host).close()
    return [broker, source, sub]


def client(hosts, host, port, greeting, name):
    """A line client of a front-end on host, its greeting read."""
    with hosts.inside(host):
        c = h.LineClient(h.HOST, port, name=name)
    c.expect(greeting, what="greeting of " + name)
    return c


def raw_subscriber(hosts, host, topic=b"t"):
    """A ZeroMQ SUB on host's broker egress, once the broker answered its
    barrier. Returns (context, socket): close both when done."""
    with hosts.inside(host):
        context = zmq.Context()
        sub = context.socket(zmq.SUB)     # the context's I/O thread starts inside host
        sub.setsockopt(zmq.LINGER, 0)
        sub.connect("tcp://127.0.0.1:2207")
        sub.setsockopt(zmq.SUBSCRIBE, topic)
        sub.setsockopt(zmq.SUBSCRIBE, b"$ack.raw.1")
    h.check(sub.poll(h.STEP * 1000), "raw subscriber at %s: no barrier answer" % host)
    sub.recv_multipart()
    return context, sub


def broker_stats(hosts, host):
    """STATS of the broker on host, as a dict."""
    with hosts.inside(host):
        context = zmq.Context()
        s = context.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    try:
        s.connect(CONTROL)
        s.send(b"STATS")
        h.check(s.poll(h.STEP * 1000), "broker at %s: no STATS" % host)
        frames = s.recv_multipart()
    finally:
        s.close()
        context.term()
    return msgpack.unpackb(frames[-1], raw=False)


def start_redis(hosts, host, port=6379):
    """A redis-server without persistence on host; returns (process, "address:port")."""
    address = hosts.address[host]
    proc = hosts.start(host, [redis_server.REDIS_SERVER, "--bind", address, "--port", str(port),
                              "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                       name="redis")
    return proc, "%s:%d" % (address, port)


def raw_collect(sub, count, what):
    """(epoch, seq) -> payload of count messages on a raw subscriber; a seq
    seen twice fails."""
    seen = {}
    for _ in range(count):
        h.check(sub.poll(h.STEP * 1000), "%s: %d of %d messages" % (what, len(seen), count))
        _, meta, payload = sub.recv_multipart()
        meta = msgpack.unpackb(meta, raw=False)
        h.check((meta["ep"], meta["seq"]) not in seen, "%s: seq %d twice" % (what, meta["seq"]))
        seen[(meta["ep"], meta["seq"])] = payload
    return seen


def run(name, test, budget, why="runs the three programs on each host"):
    """Runs a multi-host test: with the three programs only (else SKIP,
    saying why), where redis-server and network namespaces are at hand."""
    if deployment.CURRENT != "procs":
        print("SKIP %s: %s" % (name, why))
        raise SystemExit(77)
    redis_server.skip_unless_available(name)
    netns.skip_unless_possible(name)
    h.run(name, test, budget=budget)
