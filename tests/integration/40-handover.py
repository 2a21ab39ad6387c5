#!/usr/bin/python3
"""Source hand-over at shutdown (separate processes).

(a) Broker far behind: the broker is frozen (SIGSTOP) while two publishers
    have every message accepted (a PONG after their PUBs), then the source
    gets SIGTERM; the test checks
    that the source is still running a moment later (waiting for the
    broker's confirmation, so the broker really was behind when the source
    was told to stop), lets the broker go on (SIGCONT), and checks that the
    source exits 0 and that a ZeroMQ consumer on the broker's egress got
    every accepted message, none missing. Repeated RUNS times
    (ZCH_HANDOVER_RUNS to change it).
(b) Broker gone: the broker stays frozen; the source must exit 0 within its
    drain timeout and log how many messages the broker never confirmed (at
    least those accepted while it was frozen)."""

import os
import re
import signal
import time

import zmq

import harness as h

RUNS = int(os.environ.get("ZCH_HANDOVER_RUNS", "5"))
PER_PUBLISHER = 2000
#  Big enough that what is accepted (8 MB) overflows the kernel's socket
#  buffers towards the frozen broker and stays in the source's own queue
PAD = b"x" * 2000


def start_pair(drain):
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                     name="broker")
    h.wait_broker(control, broker)
    port = h.free_port()
    source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, port), "--broker", ingress,
                      "--control", control, "--workers", "2", "--drain-timeout", drain],
                     name="source")
    h.wait_frontend(port, h.SOURCE_GREETING, source, name="source-ready").close()
    consumer = h.zsocket(zmq.SUB, egress)
    consumer.setsockopt(zmq.RCVHWM, 0)
    consumer.setsockopt(zmq.SUBSCRIBE, b"ho.")
    return broker, source, port, consumer


def wait_live(port, source, consumer):
    """Publishes probes until the consumer sees one: the path is up."""
    pub = h.LineClient(h.HOST, port, name="probe", proc=source)
    pub.expect(h.SOURCE_GREETING, h.STEP, "greeting")
    deadline = time.monotonic() + h.STEP
    sent = 0
    while time.monotonic() < deadline:
        pub.sendline("PUB ho.probe x")
        sent += 1
        if consumer.poll(200):
            consumer.recv_multipart()
            break
    else:
        h.fail("no probe reached the egress consumer")
    pub.close()
    while consumer.poll(300):       # probes still on their way
        consumer.recv_multipart()
    return sent


def publish_accepted(port, source, topic, n):
    """Publishes n messages, then PING: its PONG says the source took them
    all (VERBOSE would wait for the frozen broker's confirms)."""
    pub = h.LineClient(h.HOST, port, name="publisher-" + topic, proc=source)
    pub.expect(h.SOURCE_GREETING, h.STEP, "greeting")
    pub.send(b"".join(b"PUB %s m%d-%s\n" % (topic.encode(), i, PAD) for i in range(n)) + b"PING\n")
    return pub


def expect_oks(pub, n):
    pub.expect(b"PONG", timeout=30, what="PONG after %d PUBs: all accepted" % n)


def behind(run):
    broker, source, port, consumer = start_pair("60s")
    wait_live(port, source, consumer)
    h.freeze(broker)
    topics = ["ho.a%d" % run, "ho.b%d" % run]
    pubs = [publish_accepted(port, source, t, PER_PUBLISHER) for t in topics]
    for p in pubs:
        expect_oks(p, PER_PUBLISHER)
    source.signal(signal.SIGTERM)
    time.sleep(1.0)
    waited = source.alive()
    broker.popen.send_signal(signal.SIGCONT)
    h.check(waited, "run %d: the source exited within 1 s of SIGTERM with the broker frozen "
            "(exit code %r): it did not wait for the hand-over" % (run, source.returncode))
    rc = source.wait(30)
    h.check(rc == 0, "run %d: source exit code %r after SIGTERM, expected 0" % (run, rc))
    want = {(t.encode(), b"m%d-%s" % (i, PAD)) for t in topics for i in range(PER_PUBLISHER)}
    got = set()
    deadline = time.monotonic() + 30
    while want - got and time.monotonic() < deadline:
        if consumer.poll(200):
            frames = consumer.recv_multipart()
            got.add((frames[0], frames[-1]))
    missing = sorted(want - got)
    h.check(not missing, "run %d: %d of %d accepted messages never reached the broker's egress, "
            "e.g. %r" % (run, len(missing), len(want), [(t, p[:8]) for t, p in missing[:3]]))
    h.wait_stderr(source, "confirmed all")
    consumer.close()
    broker.stop()
    return len(want)


def gone():
    broker, source, port, consumer = start_pair("1500ms")
    probes = wait_live(port, source, consumer)
    h.freeze(broker)
    n = 50
    expect_oks(publish_accepted(port, source, "ho.gone", n), n)
    t0 = time.monotonic()
    source.signal(signal.SIGTERM)
    rc = source.wait(10)
    took = time.monotonic() - t0
    h.check(rc == 0, "broker gone: source exit code %r after SIGTERM, expected 0 within 10 s" % rc)
    h.check(took >= 1.4, "broker gone: the source exited after %.1fs, before its drain timeout "
            "(1.5 s): it did not wait for the hand-over" % took)
    text = source.stderr_text()
    lost = [int(x) for x in re.findall(r"did not confirm the hand-over before the drain timeout "
                                       r"\(1500 ms\): up to (\d+) messages", text)]
    #  What was sent before the freeze may or may not have been confirmed yet
    h.check(lost and n <= sum(lost) <= n + probes,
            "broker gone: expected the source to log between %d and %d unconfirmed messages, "
            "logged %r" % (n, n + probes, lost))
    consumer.close()
    broker.kill()
    return took, sum(lost)


def test():
    total = sum(behind(run) for run in range(RUNS))
    took, lost = gone()
    return ("%d runs with the broker frozen at SIGTERM: all %d accepted messages delivered; "
            "broker gone: exit after %.1fs, %d unconfirmed logged" % (RUNS, total, took, lost))


if __name__ == "__main__":
    # freezes the broker's process under the source's: three processes only
    h.run("40-handover", test, budget=60 + 25 * RUNS, deployments=("procs",))
