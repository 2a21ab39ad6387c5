#!/usr/bin/python3
"""UNSUB: after +OK (and a PING/PONG to drain what was in flight) no more
deliveries for that pattern, while the client's other patterns and other
clients' identical subscriptions keep working. Ordering is established by
publishing a marker on a still-subscribed topic, on the same source
connection, after the messages that must not arrive."""

import threading
import time

import harness as h
from harness import msg_line, subscribe

FLOW = 2000


def test():
    with h.system() as S:
        pub = S.source_client("publisher")
        a = S.sub_client("client-a")         # unsubscribes u.gone
        subscribe(a, "u.gone")
        subscribe(a, "u.stay")
        b = S.sub_client("client-b")         # keeps u.gone
        subscribe(b, "u.gone")

        pub.send(b"PUB u.gone g1\nPUB u.stay s1\n")
        h.compare_lines("client-a", a.read_lines(2),
                        [msg_line("u.gone", 1, "g1"), msg_line("u.stay", 1, "s1")])
        b.expect(msg_line("u.gone", 1, "g1"))

        # 1. Unsubscribe while idle.
        a.sendline("UNSUB u.gone")
        a.expect(b"+OK", what="reply to UNSUB u.gone")
        h.check(a.ping() == [], "client-a: lines between UNSUB +OK and PONG")
        pub.send(b"PUB u.gone g2\nPUB u.gone g3\nPUB u.stay marker1\n")
        got = a.read_until(lambda l: l.endswith(b" marker1"), what="marker1")
        h.compare_lines("client-a after UNSUB", got, [msg_line("u.stay", 2, "marker1")])
        h.compare_lines("client-b (still subscribed)", b.read_lines(2),
                        [msg_line("u.gone", 2, "g2"), msg_line("u.gone", 3, "g3")])

        # 2. Errors: not subscribed (twice-unsubscribed, never subscribed).
        a.sendline("UNSUB u.gone")
        a.expect(b"-ERR not subscribed", what="second UNSUB u.gone")
        a.sendline("UNSUB never.subscribed")
        a.expect(b"-ERR not subscribed", what="UNSUB of a pattern never subscribed")

        # 3. Overlapping patterns: drop the wildcard, keep the exact one.
        c = S.sub_client("client-c")
        subscribe(c, "w.>")
        subscribe(c, "w.keep")
        pub.send(b"PUB w.keep k1\nPUB w.other o1\n")
        h.compare_lines("client-c", c.read_lines(2),
                        [msg_line("w.keep", 1, "k1"), msg_line("w.other", 1, "o1")])
        c.sendline("unsub w.>")
        c.expect(b"+OK", what="reply to unsub w.>")
        h.check(c.ping() == [], "client-c: lines between UNSUB +OK and PONG")
        pub.send(b"PUB w.other o2\nPUB w.deep.x d1\nPUB w.keep k2\n")
        got = c.read_until(lambda l: l.endswith(b" k2"), what="w.keep k2")
        h.compare_lines("client-c after UNSUB w.>", got, [msg_line("w.keep", 2, "k2")])

        # 4. Resubscribe after unsubscribing everything: deliveries resume.
        c.sendline("UNSUB w.keep")
        c.expect(b"+OK", what="reply to UNSUB w.keep")
        subscribe(c, "w.keep")
        pub.sendline("PUB w.keep k3")
        c.expect(msg_line("w.keep", 3, "k3"), what="delivery after resubscribing")

        # 5. Unsubscribe in the middle of a stream: deliveries may continue
        #    until +OK and what was in flight is drained (PONG); after the
        #    marker published after the whole stream, nothing of the stream.
        d = S.sub_client("client-d")
        subscribe(d, "f.flow")
        subscribe(d, "f.mark")
        chunks = [b"".join(b"PUB f.flow %d\n" % i for i in range(k, k + 100))
                  for k in range(1, FLOW + 1, 100)] + [b"PUB f.mark done\n"]

        def send():
            # paced so that the UNSUB lands in the middle of the stream
            for chunk in chunks:
                pub.send(chunk)
                time.sleep(0.005)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        first = d.read_lines(10, what="first deliveries of f.flow")
        d.sendline("UNSUB f.flow")
        before = d.read_until(lambda l: l == b"+OK", what="+OK to UNSUB f.flow")[:-1]
        drained = d.ping()
        seen = first + before + drained
        marks = [l for l in seen if l.startswith(b"MSG f.mark ")]
        after = []
        if not marks:
            after = d.read_until(lambda l: l.startswith(b"MSG f.mark "),
                                 what="the f.mark marker")
        sender.join(h.STEP)
        flow = [l for l in seen if not l.startswith(b"MSG f.mark ")]
        for i, line in enumerate(flow):
            h.check(line == msg_line("f.flow", i + 1, str(i + 1)),
                    "client-d: delivery %d before UNSUB took effect: expected %r, got %r"
                    % (i + 1, msg_line("f.flow", i + 1, str(i + 1)), line))
        h.compare_lines("client-d after UNSUB f.flow + PONG", marks + after,
                        [msg_line("f.mark", 1, "done")])
        S.check_alive()
    return ("UNSUB stops deliveries (idle, overlapping, mid-stream: %d of %d "
            "delivered before it took effect), others unaffected" % (len(flow), FLOW))


if __name__ == "__main__":
    h.run("03-unsub", test)
