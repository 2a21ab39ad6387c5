"""Helpers for the tests of limits, tokens, TLS and CURVE: a well-behaved
pair that keeps publishing and receiving while others misbehave, and the
counters each front-end worker logs at exit."""

import re
import threading
import time

import harness as h


class GoodPair:
    """A publisher on the source and a subscriber on the subscriber front-end,
    on topic `good.t`. publish(n) sends n messages; finish() checks that the
    subscriber received every one, in order, with seqs 1..total."""

    def __init__(self, S, topic="good.t"):
        self.topic = topic
        self.sub = S.sub_client("good-sub")
        h.subscribe(self.sub, topic)
        self.pub = S.source_client("good-pub")
        self.sent = 0
        self.got = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stop.is_set():
            self.sub.pump(0.1)
            while True:
                line = self.sub.take_line()
                if line is None:
                    break
                self.got.append(line)
            if self.sub.eof:
                return

    def publish(self, n):
        self.pub.send(b"".join(b"PUB %s %08d\n" % (self.topic.encode(), self.sent + i)
                               for i in range(n)))
        self.sent += n

    def finish(self, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.got) < self.sent and time.monotonic() < deadline and not self.sub.eof:
            time.sleep(0.05)
        self.stop.set()
        self.thread.join(5)
        want = [h.msg_line(self.topic, i + 1, b"%08d" % i) for i in range(self.sent)]
        h.compare_lines("good-sub", self.got, want)
        self.pub.ping()                 # the publisher is still served too


def counters(proc, role):
    """Sums the key=value counters of every '<role>: worker N limits|auth:'
    line in proc's log (written at exit)."""
    with open(proc.errpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    total = {}
    lines = re.findall(r"%s: worker \d+ (?:limits|auth): (.*)" % role, text)
    h.check(lines, "%s: no counter lines in its log" % role)
    for line in lines:
        for key, value in re.findall(r"(\w+)=(\d+)", line):
            total[key] = total.get(key, 0) + int(value)
    return total


def per_worker(proc, pattern):
    """{worker index: number} from the lines of proc's log matching pattern,
    a regex with two groups: the worker's index, then the number."""
    with open(proc.errpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return {int(i): int(n) for i, n in re.findall(pattern, text)}


def spread(proc, role, least=2):
    """Checks from the per-worker counters (logged at exit) that clients
    connected to at least `least` workers; returns {worker: accepted}."""
    accepted = per_worker(proc, r"%s: worker (\d+) limits: accepted=(\d+)" % role)
    busy = [i for i, n in accepted.items() if n > 0]
    h.check(len(busy) >= least, "%s: clients reached %d worker(s) (accepted per worker %r), "
            "expected at least %d" % (role, len(busy), accepted, least))
    return accepted


def stop(proc):
    """SIGTERM and wait (the log then has the counters)."""
    proc.signal(15)
    rc = proc.wait(h.STOP_WAIT)
    h.check(rc == 0, "%s: exit %r after SIGTERM" % (proc.name, rc))


def expect_close(client, first, timeout=h.STEP):
    """The client's next line is `first`, then the server closes."""
    client.expect(first, timeout)
    client.read_to_eof(timeout, "close after %r" % first)
