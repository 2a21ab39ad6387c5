#!/usr/bin/python3
"""SNAPSHOT: 1,000 topics hold 3 values each. A late joiner's
`SUB snap.> SNAPSHOT` gets exactly one line per topic, its current value
(seq 3), and nothing else; `zchannel sub --snapshot` prints the same. Then,
while a publisher keeps publishing on those topics (part before the SUB,
the rest once it is answered, asserted on both sides), another late
joiner's snapshot is followed by every later message: per topic the seqs it gets
run without a gap or a repeat from its snapshot value to the last one
published. Frame clients get the same with ["sub", p, {"snapshot": true}]
and {"from": seq} (the notice an err frame "history_starts"), and what a
catch-up delivers passes the subscriber's plugins like live messages.
zchannel run serves it all over inproc."""

import random
import subprocess
import threading
import time

import harness as h
from frames import FrameClient
from harness import msg_line, subscribe

TOPICS = 1000
ROUNDS = 3
LIVE = 20000            # messages published while the second joiner syncs


def topic(i):
    return "snap.t%04d" % i


def wait_stats(S, key, value, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        stats = S.stats()
        if stats[key] >= value:
            return stats
        h.check(time.monotonic() < deadline, "broker STATS %s is %d, expected %d within %ds"
                % (key, stats[key], value, timeout))
        time.sleep(0.05)


def test():
    with h.system() as S:
        pub = S.source_client("publisher")
        pub.send(b"".join(b"PUB %s r%d\n" % (topic(i).encode(), r)
                          for r in range(1, ROUNDS + 1) for i in range(TOPICS)))
        wait_stats(S, "messages_in", TOPICS * ROUNDS)

        # A quiet late joiner: one current value per topic, nothing more.
        late = S.sub_client("late-joiner")
        late.sendline("SUB snap.> SNAPSHOT")
        late.expect(b"+OK", what="reply to SUB snap.> SNAPSHOT")
        got = late.read_lines(TOPICS, timeout=20, what="snapshot lines")
        want = sorted(msg_line(topic(i), ROUNDS, "r%d" % ROUNDS) for i in range(TOPICS))
        h.compare_lines("late-joiner (sorted snapshot)", sorted(got), want)
        extra = late.ping()
        h.check(extra == [], "late-joiner: lines after the snapshot: %r" % extra[:3])

        # The client tool prints the same values.
        rc, out, err = h.run_cmd([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(S.sub_port),
                                  "--snapshot", "--count", str(TOPICS), "-v", "snap.>"], timeout=20)
        h.check(rc == 0, "zchannel sub --snapshot: exit %d, stderr %s" % (rc, h.short(err)))
        lines = sorted(out.splitlines())
        h.compare_lines("zchannel sub --snapshot -v", lines,
                        sorted(b"%s %d r%d" % (topic(i).encode(), ROUNDS, ROUNDS)
                               for i in range(TOPICS)))

        # A late joiner while publishing goes on: its snapshot, then every
        # later message, per topic without gap or repeat.
        rng = random.Random(3)
        plan = [rng.randrange(TOPICS) for _ in range(LIVE)]
        data = [b"".join(b"PUB %s live%d\n" % (topic(t).encode(), k)
                         for k, t in enumerate(plan[off:off + 500], off))
                for off in range(0, LIVE, 500)]
        errors = []
        started, joined = threading.Event(), threading.Event()
        before = 5                  # chunks published before the SUB

        def publish():
            # Paced, so that publishing goes on before, during and after the
            # snapshot: the rest waits until the SUB is answered, then goes on
            # while the snapshot streams
            try:
                for n, chunk in enumerate(data):
                    if n == before:
                        started.set()
                        joined.wait(20)
                    pub.send(chunk)
                    time.sleep(0.01)
            except OSError as e:
                errors.append(e)
            started.set()

        busy = S.sub_client("busy-joiner")
        t = threading.Thread(target=publish, daemon=True)
        t.start()
        started.wait(10)            # publishing is under way: the seam is the point
        wait_stats(S, "messages_in", TOPICS * ROUNDS + before * 500)
        busy.sendline("SUB snap.> SNAPSHOT")
        busy.expect(b"+OK", what="reply to SUB snap.> SNAPSHOT")
        joined.set()
        t.join(30)
        h.check(not errors, "publisher: %r" % errors)
        total = wait_stats(S, "messages_in", TOPICS * ROUNDS + LIVE)["messages_in"]
        h.check(total == TOPICS * ROUNDS + LIVE, "broker accepted %d messages, expected %d"
                % (total, TOPICS * ROUNDS + LIVE))
        final = [ROUNDS] * TOPICS
        for t_ in plan:
            final[t_] += 1
        first, last, count = {}, {}, 0
        expect_lines = None
        # Lines to expect: per topic, from its snapshot seq to its final seq.
        while True:
            line = busy.readline(timeout=20, what="snapshot or live line (%d so far)" % count)
            m = h.parse_msg(line)
            h.check(m is not None, "busy-joiner: not a delivery: %r" % line)
            name, seq = m[0].decode(), m[1]
            i = int(name[len("snap.t"):])
            if name not in first:
                first[name] = seq
                h.check(seq >= ROUNDS, "busy-joiner: %s starts at seq %d, before its value at "
                        "the time of SUB" % (name, seq))
            else:
                h.check(seq == last[name] + 1, "busy-joiner: %s seq %d after %d (%s)"
                        % (name, seq, last[name], "repeat" if seq <= last[name] else "gap"))
            last[name] = seq
            count += 1
            if len(first) == TOPICS and all(last[topic(j)] == final[j] for j in range(TOPICS)):
                expect_lines = sum(final[j] - first[topic(j)] + 1 for j in range(TOPICS))
                break
        extra = busy.ping()
        h.check(extra == [], "busy-joiner: lines after the last message: %r" % extra[:3])
        h.check(count == expect_lines, "busy-joiner: %d lines, expected %d" % (count, expect_lines))
        # The seam was crossed both ways: values published before the SUB
        # came in the snapshot, and messages published after it came live
        snapped_live = sum(1 for j in range(TOPICS) if first[topic(j)] > ROUNDS)
        live_after = count - TOPICS
        h.check(snapped_live > 0, "busy-joiner: no snapshot value was published after the "
                "first rounds: publishing did not overlap the join")
        h.check(live_after > 0, "busy-joiner: nothing came after the snapshot: publishing "
                "did not overlap the join")
        stats = S.stats()
        h.check(stats["snapshot_requests"] == 3, "STATS snapshot_requests %d, expected 3"
                % stats["snapshot_requests"])
        S.check_alive()
    if h.DEPLOYMENT == "run":
        all_in_one()
    return ("quiet snapshot: %d topics, one value each; busy snapshot: %d lines, %d topics "
            "already past their first rounds, %d live after it, no gap, no repeat; zchannel run "
            "serves both" % (TOPICS, count, snapped_live, live_after))


def all_in_one():
    """zchannel run: its subscriber reaches the history over inproc."""
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                    "--egress", egress, "--control", control, "--history-per-topic", "3"],
                   name="zchannel-run")
    h.wait_broker(control, proc)
    pub = h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="run-publisher")
    pub.send(b"".join(b"PUB run.a v%d\n" % i for i in range(1, 6)))
    deadline = time.monotonic() + h.STEP
    while h.broker_stats(control)["messages_in"] < 5:
        h.check(time.monotonic() < deadline, "zchannel run: 5 messages not accepted")
        time.sleep(0.05)
    c = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="run-subscriber")
    c.sendline("SUB run.> SNAPSHOT")
    c.expect(b"+OK", what="zchannel run: reply to SUB run.> SNAPSHOT")
    c.expect(msg_line("run.a", 5, "v5"), what="zchannel run: snapshot value")
    d = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="run-from")
    d.sendline("SUB run.a FROM 1")
    d.expect(b"+OK", what="zchannel run: reply to SUB run.a FROM 1")
    d.expect(b"-ERR history starts at 3", what="zchannel run: history notice")
    h.compare_lines("zchannel run FROM 1", d.read_lines(3),
                    [msg_line("run.a", i, "v%d" % i) for i in (3, 4, 5)])
    rc = proc.stop()
    h.check(rc == 0, "zchannel run: exit code %s after SIGTERM" % rc)


def test_frames_and_plugins():
    """Frame sub options, and egress plugins (uppercase) on catch-ups."""
    fb = h.free_port()
    sub_args = ["--frame-listen", "%s:%d" % (h.HOST, fb)] + h.plugin_args("uppercase")
    with h.system(broker_args=["--history-per-topic", "3"], sub_args=sub_args) as S:
        pub = S.source_client("frame-publisher")
        pub.send(b"".join(b"PUB f.a v%d\n" % i for i in range(1, 6)))
        wait_stats(S, "messages_in", 5)
        snap = FrameClient(fb, "frame-snapshot", S.subscriber)
        snap.send(["sub", "f.>", {"snapshot": True}])
        snap.expect(["ok"], "reply to a snapshot sub")
        snap.expect(["msg", "f.a", 5, b"V5", {}], "the snapshot value, through the plugin")
        frm = FrameClient(fb, "frame-from", S.subscriber)
        frm.send(["sub", "f.a", {"from": 1}])
        frm.expect(["ok"], "reply to a from sub")
        err = frm.expect_err("history_starts", "history notice")
        h.check(err[2] == "history starts at 3", "frame-from: notice text %r" % err[2])
        for i in (3, 4, 5):
            frm.expect(["msg", "f.a", i, b"V%d" % i, {}], "held message %d" % i)
        text = S.sub_client("text-snapshot")
        text.sendline("SUB f.> SNAPSHOT")
        text.expect(b"+OK", what="reply to SUB f.> SNAPSHOT")
        text.expect(msg_line("f.a", 5, "V5"), what="text snapshot, through the plugin")
        pub.send(b"PUB f.a v6\n")
        for c in (snap, frm):
            c.expect(["msg", "f.a", 6, b"V6", {}], "live after the catch-up")
        text.expect(msg_line("f.a", 6, "V6"), what="text: live after the snapshot")
        out = subprocess.run([h.LAUNCHER, "sub", "--host", h.HOST, "--frame-port", str(fb),
                              "--from", "4", "--count", "2", "f.a"],
                             capture_output=True, timeout=h.STEP)
        h.check(out.returncode == 0 and out.stdout == b"V5\nV6\n",
                "zchannel sub --frame --from 4: rc %d, out %r, err %r"
                % (out.returncode, out.stdout, out.stderr))


def test_all():
    summary = test()
    test_frames_and_plugins()
    return summary + "; frame clients and subscriber plugins too"


if __name__ == "__main__":
    h.run("26-snapshot", test_all, budget=80)
