#!/usr/bin/python3
"""Fan-out overload inside one process: one publisher at full speed, 100
subscriber clients on its topic, through zchannel run. The subscriber
front-end cannot deliver 100 times what the source takes, so it must slow
the broker, the broker the source, and the source the publisher: every
client gets every message in order, none is lost, no gap, no -ERR. The
scenario is checked, not assumed: the broker's STATS show it waited for the
front-end (local_waits), and the publisher was held to the clients' pace
(its publishing lasted most of the run, where unchecked it would end in a
small fraction of it).

zch_bench (tests/bench) does the publishing and the reading: C, 100
connections, and it checks every payload's publisher, sequence and order.

Between processes the broker must not wait for one slow front-end: it
drops at the link's high-water mark and the front-end heals from history
or tells the loss. The three processes run the same load with small
high-water marks and history, so the link drops to the end of the burst:
every client gets every message or an `-ERR gap` for exactly what it
missed (zch_bench counts both per client), the last within a second of the last
delivery (its --linger 1), and the broker's STATS show the drops.

Then (zchannel run) the front-end's own part, with --max-output 256K: a client that reads,
but slowly, gets all of 4 MB published at once (the front-end waits for it
instead of queueing past its limit), while a client on the same worker that
does not read at all is still dropped as a slow consumer, and told so."""

import json
import os
import threading
import time

import harness as h

SUBSCRIBERS = 100
MESSAGES = int(os.environ.get("ZCH_FANOUT_MESSAGES", "150000"))
BENCH = os.path.join(os.environ.get("ZCH_BUILD", os.path.join(os.path.dirname(h.BROKER), "..")),
                     "tests", "bench", "zch_bench")


SLOW_N = 4000                # 1 KiB payloads: 4 MB, 16 times the client's --max-output


def slow_reader(c, n, out):
    """Reads n lines at a few MB/s, on a small receive buffer."""
    lines = []
    try:
        while len(lines) < n:
            line = c.take_line()
            if line is not None:
                lines.append(line)
                continue
            if c.eof or not c.pump(20):
                break
            time.sleep(0.005)
    finally:
        out.append(lines)


def test_slow_reader():
    with h.system(workers=1, sub_args=["--max-output", "256K"]) as S:
        stuck = S.sub_client("stuck", rcvbuf=4096)
        h.subscribe(stuck, "slow.t")
        slow = S.sub_client("slow", rcvbuf=32768)
        h.subscribe(slow, "slow.t")
        pub = S.source_client()
        payload = lambda i: b"%06d:" % i + b"s" * 1017
        got = []
        t = threading.Thread(target=slow_reader, args=(slow, SLOW_N, got), daemon=True)
        t.start()
        pub.send(b"".join(b"PUB slow.t " + payload(i) + b"\n" for i in range(1, SLOW_N + 1)))
        t.join(120)
        h.check(got, "the slow reader did not finish")
        h.compare_lines("slow reader", got[0],
                        [h.msg_line("slow.t", i, payload(i)) for i in range(1, SLOW_N + 1)])
        tail = stuck.read_to_eof(timeout=30, what="the client that does not read: dropped")
        h.check(tail.endswith(b"-ERR slow consumer\n"), "the stuck client's last words: %s"
                % h.short(tail[-200:]))
        # 4 MB reached a client allowed 256K of queued output: the front-end
        # held the rest back for it (unchecked, it is dropped at 256K)
        return stuck.name


def bench(S, messages, linger):
    rc, out, err = h.run_cmd([BENCH, "--source", "%s:%d" % (h.HOST, S.source_port),
                              "--subscriber", "%s:%d" % (h.HOST, S.sub_port),
                              "--publishers", "1", "--subscribers", str(SUBSCRIBERS),
                              "--messages", str(messages), "--size", "64",
                              "--linger", str(linger), "--timeout", "60", "--json"], timeout=150)
    h.check(out.strip(), "zch_bench exit %d, no result: %s" % (rc, h.short(err, 2000)))
    return rc, json.loads(out.decode().strip().splitlines()[-1]), err


def test_procs():
    h.raise_nofile()
    # high-water marks count batches of up to 64 KiB (1,024 messages): a
    # few of each hold about what 1,000 single messages did (and drop some
    # of the 100 subscriptions' barrier answers, which go again)
    with h.system(broker_args=["--egress-hwm", "4", "--history-per-topic", "2000"],
                  sub_args=["--upstream-hwm", "4"]) as S:
        rc, r, err = bench(S, MESSAGES * 2 // 3, 1)
        stats = S.stats()
        S.check_alive()
    want = r["sent"] * SUBSCRIBERS
    h.check(not r["timed_out"] and r["out_of_order"] == 0 and r["duplicates"] == 0
            and r["foreign"] == 0, "timed out %s, out of order %d, duplicates %d, foreign %d"
            % (r["timed_out"], r["out_of_order"], r["duplicates"], r["foreign"]))
    h.check(stats["gaps"] > 0, "the link never dropped: no overload, the test proves nothing "
            "(STATS gaps %d)" % stats["gaps"])
    h.check(r["lost"] == r["told"] and r["mistold_clients"] == 0,
            "%d of %d deliveries missing, but %d told in -ERR gap lines (within a second of the "
            "last delivery), %d clients told more or less than they missed: a loss went untold "
            "(%s)" % (r["lost"], want, r["told"], r["mistold_clients"], h.short(err, 1000)))
    return ("three processes, P=1 S=%d, %d x 64 B: the link dropped (%d heals, %d healed, %d "
            "beyond history); of %d deliveries %d missing, every one told in -ERR gap"
            % (SUBSCRIBERS, r["sent"], stats["gaps"], stats["gap_messages_healed"],
               stats["gap_messages_lost"], want, r["lost"]))


def test():
    if h.DEPLOYMENT == "procs":
        return test_procs()
    test_slow_reader()
    h.raise_nofile()
    with h.system() as S:
        rc, r, err = bench(S, MESSAGES, 5)
        h.check(rc == 0, "zch_bench exit %d: %s" % (rc, h.short(err, 2000)))
        stats = S.stats()
        S.check_alive()
    want = MESSAGES * SUBSCRIBERS
    h.check(r["sent"] == MESSAGES, "the publisher sent %d of %d" % (r["sent"], MESSAGES))
    h.check(r["received"] == want and r["lost"] == 0,
            "received %d of %d deliveries, %d lost (%s)" % (r["received"], want, r["lost"], r))
    h.check(r["out_of_order"] == 0 and r["duplicates"] == 0 and r["gaps"] == 0
            and r["server_errors"] == 0 and r["foreign"] == 0,
            "out of order %d, duplicates %d, gaps %d, server errors %d, foreign %d"
            % (r["out_of_order"], r["duplicates"], r["gaps"], r["server_errors"], r["foreign"]))
    h.check(stats["gaps"] == 0 and stats["gap_messages_lost"] == 0,
            "the broker healed gaps (%d, %d lost): its in-process link dropped"
            % (stats["gaps"], stats["gap_messages_lost"]))
    # the scenario: the front-end could not keep up and the broker waited ...
    h.check(stats["local_waits"] > 0,
            "the broker never waited for the front-end: no overload, the test proves nothing "
            "(STATS %r)" % {k: stats[k] for k in ("messages_in", "local_waits", "local_wait_ms")})
    # ... and the publisher was held to the clients' pace
    held = r["publish_seconds"] / r["delivery_seconds"]
    h.check(held > 0.4, "the publisher was not slowed: it published for %.2fs of a %.2fs run "
            "(%.0f msg/s published, %.0f deliveries/s)"
            % (r["publish_seconds"], r["delivery_seconds"], r["publish_rate"], r["delivery_rate"]))
    return ("P=1 S=%d, %d x 64 B at full speed: all %d deliveries in order, none lost; the broker "
            "waited %d times (%d ms), the publisher published for %.0f%% of the run at %.0f msg/s; "
            "a slow reader got all of 4 MB with --max-output 256K, a client that did not read "
            "was dropped" % (SUBSCRIBERS, MESSAGES, want, stats["local_waits"],
                             stats["local_wait_ms"], 100 * held, r["publish_rate"]))


if __name__ == "__main__":
    h.run("47-fanout-backpressure", test, budget=170)
