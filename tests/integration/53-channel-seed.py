#!/usr/bin/python3
"""The seed system on zchannel: the article's data-source and subscriber
Workerman servers (tests/integration/seed/, on Channel\\Client) pass
messages through `zchannel run --channel-listen`: a telnet-like client of
the subscriber server gets "Received: <line>" for every line a client of
the data-source server sends, in order, and zchannel's own text subscriber
sees the same messages with their seqs."""

import os
import socket
import time

import channel as ch
import harness as h

N = 20
SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed")


class Raw:
    """A plain TCP client (the article's servers use Workerman's tcp://,
    which has no framing: a greeting ends without a newline)."""

    def __init__(self, port, name):
        self.name, self.buf = name, b""
        self.sock = socket.create_connection((h.HOST, port), timeout=h.STEP)

    def wait_for(self, data, what, timeout=h.STEP):
        deadline = time.monotonic() + timeout
        while data not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                h.fail("%s: no %r within %.0fs (%s); got %s" % (self.name, data, timeout, what,
                                                              h.short(self.buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            h.check(chunk, "%s: closed while waiting for %s" % (self.name, what))
            self.buf += chunk
        at = self.buf.index(data) + len(data)
        before, self.buf = self.buf[:at], self.buf[at:]
        return before

    def send(self, data):
        self.sock.sendall(data)


def seed_server(script, port, channel_port):
    env = dict(os.environ, PEERS=ch.PEERS, LISTEN_PORT=str(port), CHANNEL_PORT=str(channel_port))
    out = open(h.tempfile.NamedTemporaryFile(prefix="zch-seed-", suffix=".out", delete=False).name, "w+b")
    proc = h.start([ch.PHP, os.path.join(SEED, script), "start"], name=script, stdout=out, env=env)
    proc.outfile = out
    ch.wait_started(proc)
    return proc


def test():
    ch.require_php("53-channel-seed")
    ports = [h.free_port() for _ in range(4)]
    source_port, sub_port, channel_port, ds_port = ports
    wm_port = h.free_port()
    control = h.tcp_ep(h.free_port())
    run = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, source_port),
                   "--subscriber-listen", "%s:%d" % (h.HOST, sub_port),
                   "--channel-listen", "%s:%d" % (h.HOST, channel_port),
                   "--ingress", h.tcp_ep(h.free_port()), "--egress", h.tcp_ep(h.free_port()),
                   "--control", control], name="zchannel-run")
    h.wait_broker(control, run)
    watcher = h.wait_frontend(sub_port, h.SUBSCRIBER_GREETING, run, name="zchannel-text-sub")
    h.subscribe(watcher, "topic1")
    data_source = seed_server("data_source.php", ds_port, channel_port)
    subscriber = seed_server("subscriber.php", wm_port, channel_port)

    reader = Raw(wm_port, "seed-subscriber-client")
    reader.wait_for(b"Welcome to Subscriber Server", "greeting")
    reader.send(b"hello\r\n")                   # any message subscribes it to topic1
    writer = Raw(ds_port, "seed-data-source-client")
    writer.wait_for(b"Welcome to Data Source Server", "greeting")

    # The subscription is made on the subscriber server's first message: publish
    # markers until one comes through
    deadline = time.monotonic() + h.STEP
    k = 0
    while True:
        writer.send(b"marker-%d\r\n" % k)
        k += 1
        try:
            reader.wait_for(b"Received: marker-", "a marker", timeout=0.3)
            break
        except h.TestFailure:
            h.check(time.monotonic() < deadline, "no marker came through within %.0fs" % h.STEP)
    reader.wait_for(b"\r\n", "the end of the marker")
    time.sleep(0.3)
    reader.buf = b""

    # One message at a time (Workerman's tcp:// has no framing: two lines
    # sent together are one message)
    for i in range(1, N + 1):
        line = b"publish data-%d\r\n" % i
        writer.send(line)
        got = reader.wait_for(b"Received: " + line, "message %d" % i)
        h.check(got == b"Received: " + line,
                "seed subscriber client: expected only %r, got %r" % (b"Received: " + line, got))

    # zchannel carried them: its own text subscriber saw the same, in seq order
    seqs = []
    while True:
        topic, seq, payload = h.parse_msg(watcher.readline(what="zchannel's copy"))
        if payload.startswith(b"publish data-1\\r"):
            seqs.append(seq)
            break
    for i in range(2, N + 1):
        topic, seq, payload = h.parse_msg(watcher.readline(what="zchannel's copy %d" % i))
        h.check(payload == b"publish data-%d\\r\\n" % i and seq == seqs[-1] + 1,
                "zchannel text subscriber: message %d is %r seq %d" % (i, payload, seq))
        seqs.append(seq)
    for proc in (subscriber, data_source):
        ch.stop(proc)
    h.check(run.alive(), "zchannel run died: %s" % run.describe())
    run.stop()
    return "%d messages from the seed's data source to its subscriber through zchannel's " \
           "channel port, seqs %d..%d" % (N, seqs[0], seqs[-1])


if __name__ == "__main__":
    h.run("53-channel-seed", test, budget=120, deployments=h.ONCE)
