#!/usr/bin/python3
"""Epochs: every seq belongs to the broker's epoch, new at each start.

Subscribers (text and frames) follow a topic through 3,000 messages; the
broker is killed with SIGKILL and started again on the same endpoints.
Each subscriber gets `-ERR reset <topic> <new epoch>` (frames: an err
`reset`) before seq 1 of the new epoch, never a silent jump back to 1; a
client of a topic that has no message since is told too. Then, against
the new broker: `FROM 2990` (a seq no broker of this epoch gave out) and
`FROM 2@<old epoch>` are resets followed by all the new epoch holds, `FROM
2` without an epoch keeps today's meaning, `FROM 3@<new epoch>` just goes
on, and once the history is trimmed past a position `FROM 3@<new epoch>`
is a reset while `FROM 3` says where the history starts. No (epoch, seq)
ever carries two payloads."""

import json
import signal

import harness as h
from frames import FrameClient
from harness import msg_line, subscribe

N1 = 3000
HISTORY = 10


def start_broker(S, name):
    proc = h.start([h.BROKER, "--ingress", S.ingress, "--egress", S.egress, "--control", S.control,
                    "--history-per-topic", str(HISTORY)], name=name)
    h.wait_broker(S.control, proc)
    return proc


def expect_reset(client, topic, epoch):
    client.expect(b"-ERR reset %s %s" % (topic.encode(), epoch), timeout=15,
                  what="reset of %s into epoch %s" % (topic, epoch.decode()))


def test():
    fb = h.free_port()
    with h.system(broker_args=["--history-per-topic", str(HISTORY)],
                  sub_args=["--frame-listen", "%s:%d" % (h.HOST, fb)]) as S:
        epoch1 = h.epoch_text(S.stats()["epoch"])
        live = S.sub_client("live")
        live.sendline("VERBOSE on")
        live.expect(b"+OK", what="reply to VERBOSE on")
        live.sendline("SUB e.t")
        live.expect(b"+OK " + epoch1, what="verbose +OK naming the epoch")
        quiet = S.sub_client("quiet")
        subscribe(quiet, "q.t")
        fsub = FrameClient(fb, "frame-live", S.subscriber)
        fsub.send(["sub", "e.t", {"verbose": True}])
        fsub.expect(["ok", epoch1.decode()], what="verbose ok naming the epoch")

        pub = S.source_client("publisher")
        pub.send(b"".join(b"PUB e.t old%d\n" % i for i in range(1, N1 + 1)) + b"PUB q.t quiet-old\n")
        seen = {}               # (epoch, seq) -> payload, as the live client saw them
        lines = live.read_lines(N1, timeout=20, what="epoch 1 deliveries")
        h.compare_lines("live, epoch 1", lines, [msg_line("e.t", i, "old%d" % i) for i in range(1, N1 + 1)])
        for i in range(1, N1 + 1):
            seen[(epoch1, i)] = b"old%d" % i
        quiet.expect(msg_line("q.t", 1, "quiet-old"), what="the quiet topic's message")
        for i in range(1, N1 + 1):
            fsub.expect(["msg", "e.t", i, b"old%d" % i, {}], what="frame delivery %d" % i)

        # kill -9, and a new broker on the same endpoints
        S.broker.signal(signal.SIGKILL)
        S.broker.wait(5)
        S.broker = start_broker(S, "broker-2")
        epoch2 = h.epoch_text(S.stats()["epoch"])
        h.check(epoch2 != epoch1, "the new broker kept epoch %s" % epoch1)
        pub.send(b"".join(b"PUB e.t new%d\n" % i for i in range(1, 6)))

        expect_reset(live, "e.t", epoch2)
        lines = live.read_lines(5, what="epoch 2 deliveries")
        h.compare_lines("live, epoch 2", lines, [msg_line("e.t", i, "new%d" % i) for i in range(1, 6)])
        for i in range(1, 6):
            h.check((epoch2, i) not in seen, "(%s, %d) delivered twice" % (epoch2, i))
            seen[(epoch2, i)] = b"new%d" % i
        fsub.expect(["err", "reset", "reset e.t %s" % epoch2.decode()], what="frame reset")
        for i in range(1, 6):
            fsub.expect(["msg", "e.t", i, b"new%d" % i, {}], what="frame delivery %d of epoch 2" % i)
        # Nothing came on q.t since, yet its client learns that its seqs are gone
        expect_reset(quiet, "q.t", epoch2)

        def from_client(name, position):
            c = S.sub_client(name)
            c.sendline("SUB e.t FROM %s" % position)
            c.expect(b"+OK", what="reply to SUB e.t FROM %s" % position)
            return c

        # Resuming against the new broker
        c = from_client("from-2990", "2990")
        expect_reset(c, "e.t", epoch2)
        h.compare_lines("FROM 2990", c.read_lines(5), [msg_line("e.t", i, "new%d" % i) for i in range(1, 6)])
        c = from_client("from-2-old", "2@" + epoch1.decode())
        expect_reset(c, "e.t", epoch2)
        h.compare_lines("FROM 2@old", c.read_lines(5), [msg_line("e.t", i, "new%d" % i) for i in range(1, 6)])
        c = from_client("from-2", "2")
        h.compare_lines("FROM 2", c.read_lines(3), [msg_line("e.t", i, "new%d" % i) for i in range(3, 6)])
        c = from_client("from-3-new", "3@" + epoch2.decode())
        h.compare_lines("FROM 3@new", c.read_lines(2), [msg_line("e.t", i, "new%d" % i) for i in (4, 5)])
        h.check(c.ping() == [], "FROM 3@new: more than seqs 4 and 5")
        # The client tool: the reset on stderr, then the new epoch (json names it)
        rc, out, err = h.run_cmd([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(S.sub_port),
                                  "--from", "2@" + epoch1.decode(), "--count", "5", "--format", "json",
                                  "e.t"], timeout=20)
        h.check(rc == 0 and err == b"zchannel sub: reset e.t %s\n" % epoch2,
                "zchannel sub --from 2@old: exit %d, stderr %s" % (rc, h.short(err)))
        got = [json.loads(line) for line in out.splitlines()]
        h.check([(o["seq"], o["epoch"], o["payload"]) for o in got]
                == [(i, epoch2.decode(), "new%d" % i) for i in range(1, 6)], "zchannel sub json: %r" % got)
        fc = FrameClient(fb, "frame-from", S.subscriber)
        fc.send(["sub", "e.t", {"from": 2, "epoch": epoch1.decode()}])
        fc.expect(["ok"], what="frame sub from 2@old")
        fc.expect(["err", "reset", "reset e.t %s" % epoch2.decode()], what="frame reset on from")
        for i in range(1, 6):
            fc.expect(["msg", "e.t", i, b"new%d" % i, {}], what="frame history %d" % i)

        # History trimmed past a position
        pub.send(b"".join(b"PUB e.t new%d\n" % i for i in range(6, 26)))
        lines = live.read_lines(20, what="more of epoch 2")
        h.compare_lines("live, epoch 2 on", lines, [msg_line("e.t", i, "new%d" % i) for i in range(6, 26)])
        first = 26 - HISTORY
        c = from_client("from-3-trimmed", "3@" + epoch2.decode())
        expect_reset(c, "e.t", epoch2)
        h.compare_lines("FROM 3@new, trimmed", c.read_lines(HISTORY),
                        [msg_line("e.t", i, "new%d" % i) for i in range(first, 26)])
        c = from_client("from-3-plain", "3")
        c.expect(b"-ERR history starts at %d" % first, what="history starts at")
        h.compare_lines("FROM 3, trimmed", c.read_lines(HISTORY),
                        [msg_line("e.t", i, "new%d" % i) for i in range(first, 26)])
        h.check(live.ping() == [] and quiet.ping() == [], "extra lines for the live clients")
        stats = S.stats()
        h.check(stats["history_resets"] >= 3, "STATS history_resets %d" % stats["history_resets"])
        S.check_alive()
    return ("kill -9 after %d messages: text, frame and quiet-topic clients told reset %s -> %s "
            "before seq 1; FROM after the restart and after trimming reset as they must; "
            "%d (epoch, seq) pairs, one payload each" % (N1, epoch1.decode(), epoch2.decode(), len(seen)))


if __name__ == "__main__":
    # kills and restarts the broker's process: three processes only
    h.run("39-epoch-reset", test, budget=80, deployments=("procs",))
