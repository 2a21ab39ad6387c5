#!/usr/bin/python3
"""Bounded history: a broker with --history-bytes 8M takes 2 messages of
2 KiB on each of 100,000 topics (about 400 MB if it kept them). Its history
stays within the flag (STATS), its resident memory grows by less than the
flag plus a fixed allowance per topic (read from /proc/<pid>/status before
and after), and the newest topics still answer a SNAPSHOT with their last
value, while the oldest report theirs as no longer held."""

import os
import time

import zmq

import harness as h

TOPICS = 100000
ROUNDS = 2
SIZE = 2048
HISTORY = 8 * 1024 * 1024
PER_TOPIC = 1024            # allowance per topic: its record, name and index entries


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    h.fail("no VmRSS for pid %d" % pid)


def test():
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    env = dict(os.environ)
    # Under AddressSanitizer freed memory waits in a quarantine: keep it small
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=4"]))
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control,
                      "--history-bytes", str(HISTORY)], name="broker", env=env)
    h.wait_broker(control, broker)
    before = rss(broker.pid)
    pub = h.zsocket(zmq.PUB, ingress)
    pub.setsockopt(zmq.SNDHWM, 0)
    # The broker subscribes to everything; wait until a probe goes through
    deadline = time.monotonic() + h.STEP
    while h.broker_stats(control)["messages_in"] == 0:
        pub.send_multipart([b"probe", b"p"])
        h.check(time.monotonic() < deadline, "broker ingress never took a message")
        time.sleep(0.05)
    sent0 = h.broker_stats(control)["messages_in"]
    body = b"y" * SIZE
    names = [b"mem.%06d" % i for i in range(TOPICS)]
    for r in range(ROUNDS):
        for name in names:
            pub.send_multipart([name, body])
    deadline = time.monotonic() + 60
    while True:
        stats = h.broker_stats(control)
        if stats["messages_in"] >= sent0 + TOPICS * ROUNDS:
            break
        h.check(time.monotonic() < deadline, "broker took %d of %d messages"
                % (stats["messages_in"] - sent0, TOPICS * ROUNDS))
        time.sleep(0.1)
    after = rss(broker.pid)
    grew = after - before
    bound = HISTORY + (TOPICS + 1) * PER_TOPIC + 32 * 1024 * 1024
    h.check(stats["history_bytes"] <= HISTORY, "STATS history_bytes %d over --history-bytes %d"
            % (stats["history_bytes"], HISTORY))
    h.check(stats["topics"] == TOPICS + 1, "STATS topics %d" % stats["topics"])
    h.check(stats["history_evicted"] > 0, "nothing evicted: %r" % stats)
    h.check(grew < bound, "broker RSS grew by %.1f MB (%.1f -> %.1f MB), bound %.1f MB"
            % (grew / 1e6, before / 1e6, after / 1e6, bound / 1e6))

    # The newest topics keep their last value; the oldest lost theirs.
    d = h.zsocket(zmq.DEALER, control)
    t0 = time.monotonic()
    d.send_multipart([b"SNAPSHOT", b"mem.>", b"s"])
    values = 0
    while True:
        h.check(d.poll(int(h.STEP * 1000)), "SNAPSHOT: no END within %.0fs" % h.STEP)
        frames = d.recv_multipart()
        if frames[0] == b"END":
            break
        h.check(frames[0] == b"MSG" and frames[4] == body, "SNAPSHOT: bad reply %s"
                % h.short(b"|".join(frames), 100))
        values += 1
    took = time.monotonic() - t0
    h.check(frames[2] == b"GAP" and int(frames[3]) == values and values + int(frames[4]) == TOPICS,
            "SNAPSHOT END %r after %d values" % (frames[:5], values))
    h.check(values >= HISTORY // (SIZE + 200) // 2, "SNAPSHOT: only %d last values held" % values)
    d.close()
    rc = broker.stop()
    h.check(rc == 0, "broker exit code %s" % rc)
    return ("%d topics x %d x %d B: RSS %.1f -> %.1f MB (+%.1f MB, bound %.1f MB), history "
            "%.1f MiB of %d MiB; snapshot of %d held values (of %d topics) in %.2fs"
            % (TOPICS, ROUNDS, SIZE, before / 1e6, after / 1e6, grew / 1e6, bound / 1e6,
               stats["history_bytes"] / 1048576, HISTORY >> 20, values, TOPICS, took))


if __name__ == "__main__":
    # starts the programs it needs itself: runs once
    h.run("30-history-memory", test, budget=100, deployments=h.ONCE)
