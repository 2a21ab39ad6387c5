#!/usr/bin/python3
"""Publisher confirms: with VERBOSE on, a source answers a PUB with
`+OK <topic> <seq> <epoch>` only once the broker has stamped the message.

(a) 300 pipelined PUBs on three topics, with a bad topic and a PING among
    them: every reply in the order of the requests, each +OK naming the
    seq the broker gave (as a subscriber sees it) and the broker's epoch.
(b) A message the broker drops (its --max-payload is below the source's)
    is answered `-ERR dropped by the broker: payload too large`.
(e) Frames: after ["verbose", true] each pub is answered ["ok", topic,
    seq, epoch] once stamped, errors and pong in their places.
(c) The broker frozen (SIGSTOP): no +OK for what the source took, until
    the broker goes on (SIGCONT).
(d) The broker frozen, then killed (SIGKILL) and started afresh: each PUB
    gets exactly one answer, +OK in the new epoch (what the source still
    held reaches the new broker) or `-ERR unconfirmed` (what went down with
    the old one, its socket buffers included);
    sending the unconfirmed ones again gets them all confirmed, and a
    client reading the new epoch from its start finds every payload, no
    (epoch, seq) twice. The confirms are counted in the metrics."""

import re
import signal
import time
import urllib.request

import harness as h
from frames import FrameClient
from harness import msg_line, subscribe


def start_broker(S, name):
    proc = h.start([h.BROKER, "--ingress", S.ingress, "--egress", S.egress, "--control", S.control,
                    "--history-per-topic", "4096"], name=name)
    h.wait_broker(S.control, proc)
    return proc


def metric(port, name):
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        text = r.read().decode()
    m = re.search(r'^%s\{role="source"\} (\d+)' % name, text, re.M)
    h.check(m, "metrics: no %s for the source" % name)
    return int(m.group(1))


def frames(S, fport, epoch):
    """(e) The frame protocol: ["verbose", true], then each pub answered
    ["ok", topic, seq, epoch] once stamped, in order with the other replies."""
    f = FrameClient(fport, "frame-publisher", S.source)
    f.send(["verbose", True])
    f.expect(["ok"], what="verbose on")
    f.send(["pub", "c.fr", b"a"])
    f.send(["pub", "bad..topic", b"b"])
    f.send(["pub", "c.fr", b"c", {"k": "v"}])
    f.send(["pub", "c.big", b"x" * 40])
    f.send(["ping"])
    f.expect(["ok", "c.fr", 1, epoch.decode()], what="confirm of the first pub")
    f.expect_err("bad_topic", "the bad topic, in its place")
    f.expect(["ok", "c.fr", 2, epoch.decode()], what="confirm of the second pub")
    f.expect_err("dropped", "the broker's drop, in its place")
    f.expect(["pong"], what="pong after the answers")


def test():
    mport = h.free_port()
    fport = h.free_port()
    with h.system(broker_args=["--max-payload", "32"],
                  source_args=["--workers", "1", "--metrics-listen", "%s:%d" % (h.HOST, mport),
                               "--frame-listen", "%s:%d" % (h.HOST, fport)]) as S:
        epoch1 = h.epoch_text(S.stats()["epoch"])
        sub = S.sub_client("reader")
        subscribe(sub, "c.>")
        pub = S.source_client("publisher")
        pub.sendline("VERBOSE on")
        pub.expect(b"+OK", what="VERBOSE on")

        # (a) order and seqs
        lines = []
        for i in range(300):
            lines.append(b"PUB c.t%d m%d" % (i % 3, i))
            if i == 100:
                lines.append(b"PUB bad..topic x")
            if i == 200:
                lines.append(b"PING")
        pub.send(b"\n".join(lines) + b"\n")
        for i in range(300):
            seq, epoch = h.expect_confirm(pub, "c.t%d" % (i % 3), i // 3 + 1, what="confirm %d" % i)
            h.check(epoch == epoch1, "confirm %d names epoch %r, the broker's is %r" % (i, epoch, epoch1))
            if i == 100:
                pub.expect(b"-ERR invalid topic: empty token", what="the bad topic's error, in its place")
            if i == 200:
                pub.expect(b"PONG", what="PONG in its place")
        got = sub.read_lines(300, what="deliveries")
        want = [msg_line("c.t%d" % (i % 3), i // 3 + 1, b"m%d" % i) for i in range(300)]
        h.check(sorted(got) == sorted(want), "the reader did not get what was confirmed")

        # (b) dropped by the broker
        pub.sendline(b"PUB c.big " + b"x" * 40)
        pub.expect(b"-ERR dropped by the broker: payload too large", what="the broker's drop")
        frames(S, fport, epoch1)

        # (c) no confirm while the broker is frozen
        h.freeze(S.broker)
        try:
            pub.send(b"".join(b"PUB c.f f%d\n" % i for i in range(50)) + b"PING\n")
            h.check(pub.quiet(1.0), "answers while the broker was frozen: %s" % h.short(pub.buf))
        finally:
            S.broker.popen.send_signal(signal.SIGCONT)
        for i in range(50):
            h.expect_confirm(pub, "c.f", i + 1, what="confirm after SIGCONT")
        pub.expect(b"PONG", what="PONG after the confirms")
        sub.read_lines(50, what="the frozen batch")

        # (d) frozen, then killed: every PUB answered once; resend what was not confirmed
        h.freeze(S.broker)
        n = 2000
        payload = lambda i: b"k%04d-%s" % (i, b"p" * 1000)     # more than the socket buffers hold
        pub.send(b"".join(b"PUB c.k %s\n" % payload(i) for i in range(n)))
        time.sleep(0.5)
        S.broker.signal(signal.SIGKILL)
        S.broker.wait(5)
        S.broker = start_broker(S, "broker-2")
        epoch2 = h.epoch_text(S.stats()["epoch"])
        confirmed, unconfirmed = {}, []
        for i in range(n):
            line = pub.readline(timeout=20, what="answer %d after the restart" % i)
            if line.startswith(b"-ERR unconfirmed c.k"):
                unconfirmed.append(payload(i))
                continue
            parts = line.split(b" ")
            h.check(len(parts) == 4 and parts[:2] == [b"+OK", b"c.k"] and parts[3] == epoch2,
                    "answer %d: %r (new epoch %r)" % (i, line, epoch2))
            confirmed[int(parts[2])] = payload(i)
        h.check(len(confirmed) + len(unconfirmed) == n, "answers: %d confirmed + %d unconfirmed != %d"
                % (len(confirmed), len(unconfirmed), n))
        for p in unconfirmed:
            pub.sendline(b"PUB c.k " + p)
            seq, epoch = h.expect_confirm(pub, "c.k", what="confirm of a message sent again")
            h.check(epoch == epoch2 and seq not in confirmed, "resent %r: seq %d epoch %r" % (p, seq, epoch))
            confirmed[seq] = p
        h.check(sorted(confirmed) == list(range(1, n + 1)), "the new epoch's seqs are not 1..%d" % n)
        reader = S.sub_client("epoch-2-reader")
        reader.sendline("SUB c.k FROM 0@%s" % epoch2.decode())
        reader.expect(b"+OK", what="reply to FROM 0@epoch2")
        got = reader.read_lines(n, what="the new epoch from its start")
        h.compare_lines("epoch 2 reader", got, [msg_line("c.k", s, confirmed[s]) for s in range(1, n + 1)])
        h.check({payload(i) for i in range(n)} == set(confirmed.values()), "a payload never confirmed")
        stats = S.stats()
        h.check(stats["confirms"] == n,
                "broker-2 STATS confirms %d, expected %d" % (stats["confirms"], n))
        given, failed = metric(mport, "zchannel_confirms_total"), metric(mport, "zchannel_unconfirmed_total")
        h.check(given == 300 + 2 + 50 + n and failed == 2 + len(unconfirmed),
                "source metrics: %d confirms, %d unconfirmed; expected %d and %d"
                % (given, failed, 300 + 2 + 50 + n, 2 + len(unconfirmed)))
        S.check_alive()
    return ("300 pipelined confirms in order with their seqs; a broker drop told; none while "
            "frozen; after kill -9 %d of %d confirmed by the new broker, %d unconfirmed, sent "
            "again and confirmed: all %d in epoch %s once each"
            % (n - len(unconfirmed), n, len(unconfirmed), n, epoch2.decode()))


if __name__ == "__main__":
    h.run("46-publisher-confirms", test, budget=90, deployments=("procs",))
