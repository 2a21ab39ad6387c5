#!/usr/bin/python3
"""The subscriber front-end's output budget: --output-budget 8M over all
its clients (each may hold --max-output 64M). Sixteen clients stop reading:
one follows two topics ("far", twice as far behind as the others), fifteen
follow one. 20 MB is published; unchecked, the front-end would queue about
170 MB for them. With the budget the client furthest behind is dropped
first (told `-ERR slow consumer`), then others until the queue fits, the
front-end's resident memory grows by no more than the budget and some
slack, and a client that keeps reading gets every message in order."""

import os
import re
import threading
import time

import harness as h
from harness import msg_line, subscribe

BUDGET = 8 << 20
N = 20000                       # 1 KiB each, alternately on b.x and b.y
NEAR = 15
SLACK = 40 << 20                # ZeroMQ's queues, allocator, the broker's history in zchannel run


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) * 1024 if m else 0


def payload(i):
    return b"%06d:" % i + b"o" * 1017


def test():
    # under AddressSanitizer, freed memory waits in a quarantine and counts
    # as resident: without one, resident memory is the front-end's again
    os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                         "quarantine_size_mb=0"]))
    with h.system(workers=1, sub_args=["--output-budget", "8M", "--max-output", "64M"]) as S:
        far = S.sub_client("far", rcvbuf=4096)
        subscribe(far, "b.>")
        near = [S.sub_client("near-%d" % i, rcvbuf=4096) for i in range(NEAR)]
        for c in near:
            subscribe(c, "b.x")
        good = S.sub_client("good")
        subscribe(good, "b.x")
        pid = S.subscriber.pid
        base = rss(pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss(pid))
                time.sleep(0.01)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        pub = S.source_client()
        # a megabyte at a time, the reading client keeping up with each: it is
        # never the one behind
        got = []
        for start in range(0, N, 1000):
            pub.send(b"".join(b"PUB b.%s %s\n" % (b"xy"[i % 2:i % 2 + 1], payload(i))
                              for i in range(start, start + 1000)))
            got += good.read_lines(500, timeout=30, what="the reading client's deliveries")
        h.compare_lines("good", got, [msg_line("b.x", i // 2 + 1, payload(i)) for i in range(0, N, 2)])
        time.sleep(0.3)
        done.set()
        sampler.join(5)
        log = S.subscriber.stderr_text()
        drops = re.findall(r"slow consumer (\S+) dropped", log)
        h.check(drops, "nobody was dropped: the budget was never reached, the test proves nothing")
        far_peer = "%s:%d" % far.sock.getsockname()
        h.check(drops[0] == far_peer, "the first client dropped was %s, not the one furthest "
                "behind (%s); drops: %r" % (drops[0], far_peer, drops))
        h.check("over its output budget" in log, "no drop was for the budget:\n%s" % log[-3000:])
        tail = far.read_to_eof(timeout=30, what="far: dropped")
        h.check(tail.endswith(b"-ERR slow consumer\n"), "far's last words: %s" % h.short(tail[-100:]))
        grown = peak[0] - base
        h.check(grown < BUDGET + SLACK, "the front-end grew by %.1f MB, over its %.0f MB budget "
                "and %.0f MB slack" % (grown / 1e6, BUDGET / 1e6, SLACK / 1e6))
    return ("%d clients dropped, the furthest behind first; resident memory grew by %.1f MB "
            "(budget %d MB); the reading client got all %d in order"
            % (len(drops), grown / 1e6, BUDGET >> 20, N // 2))


if __name__ == "__main__":
    h.run("48-output-budget", test, budget=120)
