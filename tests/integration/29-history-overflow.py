#!/usr/bin/python3
"""History overflow. With --history-per-topic 10: `SUB o.t FROM 5` after 50
messages answers +OK, `-ERR history starts at 41`, then seq 41..50, and the
broker counts the incomplete answer; `zchannel sub --from 5` reports the
same on stderr and prints the 10 messages. Then the subscriber front-end's
broker link drops most of 30,000 messages (tiny high-water marks, reader
stopped): what the history no longer holds reaches the client as
`-ERR gap o.g <from>-<to>` lines, each exactly where the missing seqs were,
together covering every missing seq, and the broker counts exactly as many
lost messages."""

import re
import signal
import time
import urllib.request

import harness as h
from harness import msg_line, subscribe

KEEP = 10
N = 30000
SIZE = 1024


def payload(i):
    head = b"%06d:" % i
    return head + b"x" * (SIZE - len(head))


def wait_in(S, n):
    deadline = time.monotonic() + 30
    while S.stats()["messages_in"] < n:
        h.check(time.monotonic() < deadline, "broker did not accept %d messages" % n)
        time.sleep(0.05)


def scrape(port, name):
    """One sample of the Prometheus text at port, e.g. name 'x{role="broker"}'."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split(" ")[1])
    h.fail("metrics at :%d: no %s" % (port, name))


def test():
    bm, sm = h.free_port(), h.free_port()
    with h.system(workers=1, broker_args=["--history-per-topic", str(KEEP), "--egress-hwm", "20",
                                          "--metrics-listen", "%s:%d" % (h.HOST, bm)],
                  sub_args=["--upstream-hwm", "20", "--metrics-listen", "%s:%d" % (h.HOST, sm)]) as S:
        pub = S.source_client("publisher")
        pub.send(b"".join(b"PUB o.t m%d\n" % i for i in range(1, 51)))
        wait_in(S, 50)
        c = S.sub_client("from-client")
        c.sendline("SUB o.t FROM 5")
        c.expect(b"+OK", what="reply to SUB o.t FROM 5")
        c.expect(b"-ERR history starts at 41", what="history notice")
        h.compare_lines("from-client", c.read_lines(10),
                        [msg_line("o.t", i, "m%d" % i) for i in range(41, 51)])
        h.check(c.ping() == [], "from-client: more lines after seq 50")
        h.check(S.stats()["history_incomplete"] == 1, "STATS history_incomplete is not 1: %r"
                % S.stats())
        rc, out, err = h.run_cmd([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(S.sub_port),
                                  "--from", "5", "--count", "10", "o.t"])
        h.check(rc == 0, "zchannel sub --from 5: exit %d, stderr %s" % (rc, h.short(err)))
        h.check(b"history starts at 41" in err, "zchannel sub --from 5: stderr %s" % h.short(err))
        h.check(out.splitlines() == [b"m%d" % i for i in range(41, 51)],
                "zchannel sub --from 5: stdout %s" % h.short(out))

        g = S.sub_client("gap-client")
        subscribe(g, "o.g")
        S.subscriber.popen.send_signal(signal.SIGSTOP)
        try:
            data = b"".join(b"PUB o.g %s\n" % payload(i) for i in range(1, N + 1))
            for off in range(0, len(data), 1 << 20):
                pub.send(data[off:off + (1 << 20)])
            wait_in(S, 50 + N)
        finally:
            S.subscriber.popen.send_signal(signal.SIGCONT)
        last, delivered, reported, gaps = 0, 0, 0, 0
        pattern = re.compile(rb"^-ERR gap o\.g (\d+)-(\d+)$")
        while last < N:
            line = g.readline(timeout=20, what="o.g line after seq %d" % last)
            m = pattern.match(line)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                h.check(lo == last + 1 and hi >= lo, "gap-client: %r after seq %d" % (line, last))
                reported += hi - lo + 1
                gaps += 1
                last = hi
                continue
            msg = h.parse_msg(line)
            h.check(msg is not None and msg[0] == b"o.g", "gap-client: unexpected %r" % line)
            h.check(msg[1] == last + 1, "gap-client: seq %d after %d with no gap line between"
                    % (msg[1], last))
            h.check(msg[2] == payload(msg[1]), "gap-client: seq %d has the wrong payload" % msg[1])
            last = msg[1]
            delivered += 1
        h.check(g.ping() == [], "gap-client: lines after seq %d" % N)
        h.check(reported > 0, "no gap reported: the link dropped nothing, the test proves nothing")
        h.check(delivered + reported == N, "delivered %d + reported lost %d != %d"
                % (delivered, reported, N))
        stats = S.stats()
        h.check(stats["gap_messages_lost"] > 0, "STATS gap_messages_lost is 0: %r" % stats)
        h.check(stats["gap_messages_lost"] == reported, "STATS gap_messages_lost %d, but %d "
                "reported lost to the client" % (stats["gap_messages_lost"], reported))
        h.check(stats["history_evicted"] >= N - KEEP, "STATS history_evicted %d"
                % stats["history_evicted"])
        # The metrics: what the history holds, and the gaps as hwm drops
        held = scrape(bm, 'zchannel_history_messages{role="broker"}')
        h.check(held == 2 * KEEP, "zchannel_history_messages %d, expected %d" % (held, 2 * KEEP))
        hwm = scrape(sm, 'zchannel_dropped_total{role="subscriber",cause="hwm"}')
        h.check(hwm == reported, "subscriber dropped{hwm} %d, but %d reported lost" % (hwm, reported))
        S.check_alive()
    return ("FROM 5 with 10 kept: 'history starts at 41' then 41..50; %d messages over a "
            "dropping link: %d delivered, %d reported lost in %d -ERR gap lines, broker counted "
            "%d lost in HEALs" % (N, delivered, reported, gaps, stats["gap_messages_lost"]))


if __name__ == "__main__":
    # stops one role's process: three processes only
    h.run("29-history-overflow", test, budget=80, deployments=("procs",))
