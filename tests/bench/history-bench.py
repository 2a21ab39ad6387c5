#!/usr/bin/python3
"""history-bench.py: what the broker's history costs, and how long a
snapshot of 100,000 topics takes.

Starts zchannel-broker twice on free loopback ports, with history on
(the defaults) and off (--history-per-topic 0), pushes MESSAGES messages
of SIZE bytes over a ZeroMQ PUB and reports, for each, the broker's
forwarding rate (messages over the wall time from first to last accepted,
as its STATS show) and its CPU time per message. Then, with history on,
fills 100,000 topics and times SNAPSHOT '>' from a Python DEALER (every
value received), and through the whole path: broker, subscriber front-end
and `zchannel sub --snapshot --count 100000`.
Usage: history-bench.py [MESSAGES [SIZE]] (programs from build/, or the
ZCH_* variables of tests/integration/harness.py)"""

import os
import subprocess
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402


def stats(dealer):
    dealer.send(b"STATS")
    return msgpack.unpackb(dealer.recv_multipart()[1], raw=False)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_broker(broker, args, fn):
    ports = [h.tcp_ep(h.free_port()) for _ in range(3)]
    proc = subprocess.Popen([broker, "--ingress", ports[0], "--egress", ports[1],
                             "--control", ports[2], "--log-level", "warning"] + args)
    try:
        h.wait_broker(ports[2])
        ctx = zmq.Context.instance()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.connect(ports[0])
        dealer = ctx.socket(zmq.DEALER)
        dealer.connect(ports[2])
        while stats(dealer)["messages_in"] == 0:
            pub.send_multipart([b"warm", b"x"])
            time.sleep(0.02)
        result = fn(proc, pub, dealer)
        pub.close(0)
        dealer.close(0)
        return result
    finally:
        proc.terminate()
        proc.wait()


def forward(messages, size):
    body = b"p" * size
    names = [b"bench.%d" % (i % 100) for i in range(1000)]

    def fn(proc, pub, dealer):
        base = stats(dealer)["messages_in"]
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()
        for i in range(messages):
            pub.send_multipart([names[i % 1000], body])
        while stats(dealer)["messages_in"] < base + messages:
            time.sleep(0.01)
        took = time.monotonic() - t0
        return messages / took, (cpu_seconds(proc.pid) - cpu0) / messages * 1e9
    return fn


def snapshot(topics):
    def fn(proc, pub, dealer):
        base = stats(dealer)["messages_in"]
        for i in range(topics):
            pub.send_multipart([b"snap.%06d" % i, b"value %d" % i])
        while stats(dealer)["messages_in"] < base + topics:
            time.sleep(0.01)
        t0 = time.monotonic()
        dealer.send_multipart([b"SNAPSHOT", b">", b"t"])
        values = 0
        while True:
            frames = dealer.recv_multipart()
            if frames[0] == b"END":
                break
            values += 1
        return values, time.monotonic() - t0
    return fn


def main():
    args = sys.argv[1:]
    messages = int(args[0]) if args else 1000000
    size = int(args[1]) if len(args) > 1 else 64
    broker = h.BROKER
    for label, extra in (("history on ", []), ("history off", ["--history-per-topic", "0"])):
        rate, ns = run_broker(broker, extra, forward(messages, size))
        print("%s: %d x %d B over 100 topics: %.0f msg/s forwarded, %.0f ns broker CPU per message"
              % (label, messages, size, rate, ns))
    values, took = run_broker(broker, [], snapshot(100000))
    print("snapshot to a Python DEALER: %d topics' last values in %.3f s (%.0f values/s)"
          % (values, took, values / took))
    print(end_to_end_snapshot(100000))


def end_to_end_snapshot(topics):
    with h.system(workers=1) as S:
        pub = h.zsocket(zmq.PUB, S.ingress)
        pub.setsockopt(zmq.SNDHWM, 0)
        while S.stats()["messages_in"] == 0:
            pub.send_multipart([b"probe", b"p"])
            time.sleep(0.05)
        for i in range(topics):
            pub.send_multipart([b"snap.%06d" % i, b"value-%d" % i])
        while S.stats()["messages_in"] < topics + 1:
            time.sleep(0.05)
        t0 = time.monotonic()
        rc, out, err = h.run_cmd([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(S.sub_port),
                                  "--snapshot", "--count", str(topics), "-v", "snap.>"], timeout=60)
        took = time.monotonic() - t0
        pub.close(0)
        return ("snapshot through the front-end: zchannel sub --snapshot got %d of %d values in "
                "%.3f s (exit %d)" % (len(out.splitlines()), topics, took, rc))


if __name__ == "__main__":
    main()
