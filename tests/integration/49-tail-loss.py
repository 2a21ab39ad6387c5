#!/usr/bin/python3
"""Tail loss is told: the subscriber front-end's broker link drops to the
very end of a burst, so no later seq shows the loss. The front-end is
stalled (SIGSTOP) while N messages of 1 KiB on tail.t, then a few on
tail.u, go through the broker: far more than the link's high-water marks
and socket buffers hold (asserted from the kernel's buffer limits), so the
broker drops the rest of tail.t and every message of tail.u on the link.
After SIGCONT the front-end reads the backlog, finds the link quiet, checks
the topics' seqs with the broker and heals what it lacks: the client gets
every seq of both topics, in order, either delivered or inside a
`-ERR gap` line (the history holds only the last HISTORY of each topic),
and nothing twice; once the backlog flows, no line waits longer than a
second, so every loss is told within a second of the link's end. Both
deployments' front-ends run this code; the three processes show it here."""

import signal
import time

import harness as h
from harness import subscribe

N = 45000
SIZE = 1024
LATE = 5                # messages of tail.u, published last
HWM = 10                # --egress-hwm and --upstream-hwm, in batches
BATCH = 65536           # bytes a batch of the internal envelope may hold
HISTORY = 20000


def payload(i):
    head = b"%06d:" % i
    return head + b"x" * (SIZE - len(head))


def kernel_max(name):
    with open("/proc/sys/net/ipv4/" + name) as f:
        return int(f.read().split()[2])


def test():
    # What the link can hold while the front-end is stopped: both sockets'
    # buffers at their largest, and both high-water marks
    room = kernel_max("tcp_rmem") + kernel_max("tcp_wmem") + 2 * HWM * (BATCH + SIZE + 64)
    h.check(N * SIZE > room, "the burst (%d bytes) would fit the link (%d bytes): nothing "
            "would be dropped to the end" % (N * SIZE, room))
    with h.system(workers=1, broker_args=["--egress-hwm", str(HWM), "--history-per-topic",
                                          str(HISTORY)],
                  sub_args=["--upstream-hwm", str(HWM), "--max-output", "256M"]) as S:
        c = S.sub_client("client")
        subscribe(c, "tail.>")
        pub = S.source_client("publisher")
        S.subscriber.popen.send_signal(signal.SIGSTOP)
        try:
            data = b"".join(b"PUB tail.t %s\n" % payload(i) for i in range(1, N + 1))
            data += b"".join(b"PUB tail.u late%d\n" % i for i in range(1, LATE + 1))
            for off in range(0, len(data), 1 << 20):
                pub.send(data[off:off + (1 << 20)])
            deadline = time.monotonic() + 30
            while S.stats()["messages_in"] < N + LATE:
                h.check(time.monotonic() < deadline, "broker did not accept %d messages" % (N + LATE))
                time.sleep(0.05)
        finally:
            S.subscriber.popen.send_signal(signal.SIGCONT)
        final = {"tail.t": N, "tail.u": LATE}
        next_seq = {"tail.t": 1, "tail.u": 1}
        delivered = told = 0
        deadline = time.monotonic() + 30
        wait = 20               # the front-end wakes from SIGSTOP
        while any(next_seq[t] <= final[t] for t in final):
            h.check(time.monotonic() < deadline, "client: still owed %s after 30 s: the tail's "
                    "loss was never told" % {t: (next_seq[t], final[t]) for t in final})
            # Once the backlog flows, the link's end shows within a second:
            # what is still owed then must be healed or told within it
            line = c.readline(timeout=wait, what="delivery or gap within %.0f s (owed %s of %s): "
                              "a loss went untold" % (wait, next_seq, final))
            wait = 1
            if line.startswith(b"-ERR gap "):
                topic, span = line.split()[2:4]
                topic = topic.decode()
                a, b = (int(x) for x in span.split(b"-"))
                h.check(topic in final and a == next_seq[topic] and a <= b <= final[topic],
                        "client: %r while %s was owed" % (line, next_seq))
                next_seq[topic] = b + 1
                told += b - a + 1
                continue
            m = h.parse_msg(line)
            h.check(m is not None, "client: unexpected line %s" % h.short(line, 100))
            topic, seq = m[0].decode(), m[1]
            h.check(topic in final and seq == next_seq[topic], "client: %s seq %d while %d was "
                    "owed (%s)" % (topic, seq, next_seq.get(topic, 0),
                                   "repeat" if seq < next_seq.get(topic, 0) else "gap untold"))
            want = payload(seq) if topic == "tail.t" else b"late%d" % seq
            h.check(m[2] == want, "client: %s seq %d carries %s" % (topic, seq, h.short(m[2], 60)))
            next_seq[topic] = seq + 1
            delivered += 1
        h.check(c.ping() == [], "client: lines after the last seq of each topic")
        stats = S.stats()
        healed = stats["gap_messages_healed"]
        h.check(healed > 0, "the broker healed nothing: the link did not drop")
        S.check_alive()
    return ("%d + %d messages through a link stalled to the end of the burst: %d delivered "
            "(%d healed from history), %d told lost in -ERR gap, nothing untold"
            % (N, LATE, delivered, healed, told))


if __name__ == "__main__":
    h.run("49-tail-loss", test, budget=100, deployments=("procs",))
