#!/usr/bin/python3
"""The broker's ZeroMQ side, as an outsider meets it.

- Exposure: the broker's endpoints listen on loopback unless named; with
  tokens or TLS on the front-ends, `zchannel run` refuses an endpoint named
  beyond loopback without CURVE (one line saying how to fix it) and starts
  with --allow-plain-zmq; a front-end with tokens refuses a plain broker
  beyond loopback; a standalone broker beyond loopback logs a warning.
- --max-payload: a ZeroMQ producer's payload over the broker's limit is
  dropped, counted (STATS too_large, zchannel_dropped_total{cause=
  "too_large"}), logged once per second at most, and the next message on
  the topic takes the next seq; in `zchannel run` the one flag bounds it.
- Churn: ZeroMQ subscribers that come, follow a prefix another peer also
  follows, and go, many times over: the subscriptions gauge and STATS
  subscriptions_held count what is held (one prefix, then none), not the
  requests; zchannel_clients{role="broker"} counts the connected peers.
"""

import os
import tempfile
import time
import urllib.request

import msgpack
import zmq

import harness as h

CYCLES = 300


def scrape(port):
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        text = r.read().decode()
    values = {}
    for line in text.split("\n"):
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, text


def tokens_file():
    fd, path = tempfile.mkstemp(prefix="zch-tokens-", suffix=".zpl")
    os.write(fd, b'tokens\n    admin\n        secret = "s3cret"\n        publish = ">"\n'
                 b'        subscribe = ">"\n')
    os.close(fd)
    return path


def wait_for(what, pred, timeout=h.STEP):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got is True:
            return
        if time.monotonic() > deadline:
            h.fail("%s: still %r after %.0fs" % (what, got, timeout))
        time.sleep(0.05)


def test_exposure():
    tokens = tokens_file()
    try:
        # the defaults are loopback
        rc, out, err = h.run_cmd([h.BROKER, "--print-config"])
        for port in (2206, 2207, 2208):
            h.check(('"tcp://127.0.0.1:%d"' % port).encode() in out,
                    "default endpoint for %d is not loopback:\n%s" % (port, out.decode()))
        ports = [h.free_port() for _ in range(5)]
        run = [h.LAUNCHER, "run", "--auth-file", tokens,
               "--source-listen", "%s:%d" % (h.HOST, ports[0]),
               "--subscriber-listen", "%s:%d" % (h.HOST, ports[1]),
               "--ingress", "tcp://0.0.0.0:%d" % ports[2],
               "--egress", h.tcp_ep(ports[3]), "--control", h.tcp_ep(ports[4])]
        rc, out, err = h.run_cmd(run)
        h.check(rc != 0 and b"--ingress tcp://0.0.0.0:%d listens beyond loopback without CURVE" % ports[2]
                in err and b"--allow-plain-zmq" in err and b"--curve-secret" in err,
                "run with tokens and a plain ingress on 0.0.0.0: exit %d, stderr %s" % (rc, h.short(err)))
        # meant: it starts, and the plain ZeroMQ side works as asked
        p = h.start(run + ["--allow-plain-zmq"], name="run-allowed")
        h.wait_broker(h.tcp_ep(ports[4]), p)
        p.stop()
        h.check(p.returncode == 0, "run --allow-plain-zmq: %s" % p.describe())
        # a front-end with tokens and a plain broker beyond loopback
        port = h.free_port()
        rc, out, err = h.run_cmd([h.SOURCE, "--auth-file", tokens, "--listen", "%s:%d" % (h.HOST, port),
                                  "--broker", "tcp://192.0.2.1:2206"])
        h.check(rc != 0 and b"--broker tcp://192.0.2.1:2206 is beyond loopback without CURVE" in err
                and b"--allow-plain-zmq" in err,
                "source with tokens and a plain remote broker: exit %d, stderr %s" % (rc, h.short(err)))
        # a standalone broker beyond loopback says so
        ports = [h.free_port() for _ in range(3)]
        p = h.start([h.BROKER, "--ingress", "tcp://0.0.0.0:%d" % ports[0], "--egress", h.tcp_ep(ports[1]),
                     "--control", h.tcp_ep(ports[2])], name="broker-wide")
        h.wait_broker(h.tcp_ep(ports[2]), p)
        h.wait_stderr(p, "--ingress tcp://0.0.0.0:%d listens beyond loopback without CURVE" % ports[0])
        p.stop()
        h.check(p.returncode == 0, "broker: %s" % p.describe())
    finally:
        os.unlink(tokens)


def publish_sizes(ingress, control, egress, sizes):
    """Publishes one message per size on 'big.t' from a ZeroMQ PUB; returns
    what a ZeroMQ SUB on egress received (seq, size)."""
    sub = h.zsocket(zmq.SUB, egress)
    sub.setsockopt(zmq.SUBSCRIBE, b"big.")
    pub = h.zsocket(zmq.PUB, ingress)
    # both linked: a probe comes through
    deadline = time.monotonic() + h.STEP
    while True:
        pub.send_multipart([b"big.probe", b"p"])
        if sub.poll(100):
            sub.recv_multipart()
            break
        h.check(time.monotonic() < deadline, "no probe came through the broker")
    while sub.poll(300):
        sub.recv_multipart()
    for size in sizes:
        pub.send_multipart([b"big.t", b"x" * size])
    got = []
    while sub.poll(1000):
        topic, meta, payload = sub.recv_multipart()
        got.append((msgpack.unpackb(meta, raw=False)["seq"], len(payload)))
    pub.close()
    sub.close()
    return got


def test_max_payload():
    mport = h.free_port()
    with h.system(broker_args=["--max-payload", "1K", "--metrics-listen", "%s:%d" % (h.HOST, mport)]) as S:
        got = publish_sizes(S.ingress, S.control, S.egress, [1024, 1025, 100000, 10, 2000])
        h.check(got == [(1, 1024), (2, 10)], "over --max-payload: expected seq 1 (1024 bytes) and "
                "seq 2 (10 bytes), got %r" % got)
        stats = S.stats()
        h.check(stats["too_large"] == 3, "STATS too_large %r, expected 3" % stats["too_large"])
        values, _ = scrape(mport)
        dropped = values.get('zchannel_dropped_total{role="broker",cause="too_large"}')
        h.check(dropped == 3, "metrics too_large %r, expected 3" % dropped)
        h.wait_stderr(S.broker, "dropped a 1025-byte payload on 'big.t', over --max-payload 1024")
        text = S.broker.stderr_text()
        h.check(text.count("over --max-payload") == 1, "not rate-limited:\n%s" % text)
    if h.DEPLOYMENT != "run":
        return
    # zchannel run: the one --max-payload bounds the broker's ZeroMQ producers too
    ports = [h.free_port() for _ in range(5)]
    p = h.start([h.LAUNCHER, "run", "--max-payload", "2K",
                 "--source-listen", "%s:%d" % (h.HOST, ports[0]),
                 "--subscriber-listen", "%s:%d" % (h.HOST, ports[1]),
                 "--ingress", h.tcp_ep(ports[2]), "--egress", h.tcp_ep(ports[3]),
                 "--control", h.tcp_ep(ports[4])], name="run")
    h.wait_broker(h.tcp_ep(ports[4]), p)
    got = publish_sizes(h.tcp_ep(ports[2]), h.tcp_ep(ports[4]), h.tcp_ep(ports[3]), [3000, 2048])
    h.check(got == [(1, 2048)], "run --max-payload 2K: got %r" % got)
    h.check(h.broker_stats(h.tcp_ep(ports[4]))["too_large"] == 1, "run: too_large not counted")
    p.stop()
    h.check(p.returncode == 0, "run: %s" % p.describe())


def test_churn():
    # a broker alone: every peer and subscription it holds is this test's
    mport = h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control,
                      "--metrics-listen", "%s:%d" % (h.HOST, mport)], name="broker")
    h.wait_broker(control, broker)

    def gauges():
        values, _ = scrape(mport)
        return (values['zchannel_subscriptions{role="broker"}'],
                values['zchannel_clients{role="broker"}'])
    wait_for("gauges of a broker with no peer", lambda: gauges() == (0, 0) or gauges())
    stay = h.zsocket(zmq.SUB, egress)
    stay.setsockopt(zmq.SUBSCRIBE, b"churn.")
    wait_for("the lasting peer", lambda: gauges() == (1, 1) or gauges())
    requested = h.broker_stats(control)["subscriptions"]
    for i in range(CYCLES):
        s = h.zsocket(zmq.SUB, egress)
        s.setsockopt(zmq.SUBSCRIBE, b"churn.")
        s.setsockopt(zmq.SUBSCRIBE, b"churn.%d" % i)
        # the broker answers a barrier at once: both subscriptions arrived
        s.setsockopt(zmq.SUBSCRIBE, b"$ack.churn.%d" % i)
        h.check(s.poll(int(h.STEP * 1000)), "cycle %d: no barrier answer" % i)
        s.close()
    stats = h.broker_stats(control)
    h.check(stats["subscriptions"] - requested >= 3 * CYCLES,
            "the churn did not happen: %d subscribe requests over %d cycles"
            % (stats["subscriptions"] - requested, CYCLES))
    # the peers that left hold nothing; the lasting one holds churn.
    wait_for("gauges after the churn", lambda: gauges() == (1, 1) or gauges())
    held = h.broker_stats(control)["subscriptions_held"]
    h.check(held == 1, "STATS subscriptions_held %d, expected 1" % held)
    stay.close()
    wait_for("gauges once every peer left", lambda: gauges() == (0, 0) or gauges())
    broker.stop()
    h.check(broker.returncode == 0, "broker: %s" % broker.describe())
    return stats["subscriptions"] - requested


def test():
    test_exposure()
    test_max_payload()
    requests = test_churn()
    return ("plain ZeroMQ beyond loopback refused with tokens; payloads over the broker's "
            "--max-payload dropped and counted; %d connect/SUB/disconnect cycles (%d subscribe "
            "requests) left the gauges at what is held: 1 prefix, 1 peer, then none"
            % (CYCLES, requests))


if __name__ == "__main__":
    h.run("38-broker-edge", test, budget=100)
