#!/usr/bin/python3
"""FROM: a client reading a topic that is published at full speed
disconnects three times, each time after a different number of messages,
and comes back with `SUB r.t FROM <last seq it read>`; the last time it
comes back through `zchannel sub --from`. Put together, what it read is
seq 1..N exactly: no gap, no repeat. Publishing goes on across each
reconnection (the publisher keeps at most AHEAD messages past the reader):
asserted, each time the reader leaves the broker holds messages it has not
read, and not yet all N. Then
FROM on a pattern is refused, FROM beyond the last seq (a position no
broker of this epoch gave out) is an explicit reset followed by all the
history holds, and FROM <seq>@<epoch> in the broker's epoch just goes on."""

import threading
import time

import harness as h
from harness import msg_line, subscribe

N = 30000
CUTS = [2000, 9000, 17000]      # where the client goes away
AHEAD = 5000                    # the publisher's lead over the reader, at most


def payload(i):
    return "m%06d" % i


def test():
    with h.system(broker_args=["--history-per-topic", str(N)]) as S:
        first = S.sub_client("reader-0")
        subscribe(first, "r.t")
        pub = S.source_client("publisher")
        data = [b"".join(b"PUB r.t %s\n" % payload(i).encode() for i in range(j, j + 100))
                for j in range(1, N + 1, 100)]
        errors = []

        seen = []

        def publish():
            # Bursts of 100 back to back, so that publishing spans the
            # reconnections: never more than AHEAD past what the reader has,
            # up to its last cut (the client tool reads the rest)
            try:
                for k, chunk in enumerate(data):
                    deadline = time.monotonic() + 30
                    while (k * 100 - len(seen) > AHEAD and len(seen) < CUTS[-1]
                           and time.monotonic() < deadline):
                        time.sleep(0.002)
                    pub.send(chunk)
                    time.sleep(0.003)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=publish, daemon=True)
        t.start()
        published = []              # messages the broker had when each reader left
        client = first
        for k, cut in enumerate(CUTS):
            while len(seen) < cut:
                line = client.readline(timeout=20, what="delivery %d" % (len(seen) + 1))
                m = h.parse_msg(line)
                h.check(m is not None, "%s: not a delivery: %r" % (client.name, line))
                h.check(m[2] == payload(m[1]).encode(), "%s: seq %d carries %r"
                        % (client.name, m[1], m[2]))
                seen.append(m[1])
            # Gone while publishing goes on: the broker has messages this
            # reader has not read, and more are still to come
            deadline = time.monotonic() + 20
            while S.stats()["messages_in"] <= cut:
                h.check(time.monotonic() < deadline, "the broker has no message past %d" % cut)
                time.sleep(0.005)
            client.close()          # gone, with whatever was still on its way
            published.append(S.stats()["messages_in"])
            h.check(cut < published[-1] < N, "reader-%d left at %d with %d published of %d: "
                    "publishing did not overlap the resumption" % (k, cut, published[-1], N))
            if k + 1 < len(CUTS):
                client = S.sub_client("reader-%d" % (k + 1))
                client.sendline("SUB r.t FROM %d" % seen[-1])
                client.expect(b"+OK", what="reply to SUB r.t FROM %d" % seen[-1])
        # The last stretch through the client tool
        rest = N - len(seen)
        rc, out, err = h.run_cmd([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(S.sub_port),
                                  "--from", str(seen[-1]), "--count", str(rest), "-v", "r.t"],
                                 timeout=40)
        h.check(rc == 0, "zchannel sub --from %d: exit %d, stderr %s" % (seen[-1], rc, h.short(err)))
        h.check(err == b"", "zchannel sub --from: notices on stderr: %s" % h.short(err))
        for line in out.splitlines():
            topic, seq, body = line.split(b" ", 2)
            h.check(topic == b"r.t" and body == payload(int(seq)).encode(),
                    "zchannel sub --from: bad line %r" % line)
            seen.append(int(seq))
        t.join(20)
        h.check(not errors, "publisher: %r" % errors)
        for i, seq in enumerate(seen):
            if seq != i + 1:
                h.fail("message %d read is seq %d (%s)" % (i + 1, seq,
                       "a repeat" if seq <= i else "a gap: %d..%d never read" % (i + 1, seq - 1)))
        h.check(len(seen) == N, "read %d messages, expected %d" % (len(seen), N))

        # FROM wants a topic; FROM past the end is a position of another
        # epoch (a broker that started afresh): reset, then all there is.
        c = S.sub_client("checker")
        c.sendline("SUB r.* FROM 3")
        line = c.readline(what="reply to SUB r.* FROM 3")
        h.check(line.startswith(b"-ERR"), "SUB r.* FROM 3 answered %r" % line)
        c.sendline("SUB r.t FROM %d" % (N + 100))
        c.expect(b"+OK", what="reply to SUB r.t FROM beyond the end")
        epoch = h.epoch_text(S.stats()["epoch"])
        c.expect(b"-ERR reset r.t " + epoch, what="reset after FROM beyond the end")
        lines = c.read_lines(N, timeout=20, what="the history after the reset")
        h.compare_lines("checker after the reset", lines,
                        [msg_line("r.t", i, payload(i)) for i in range(1, N + 1)])
        h.check(c.ping() == [], "checker: lines after the history")
        pub.sendline("PUB r.t after")
        c.expect(msg_line("r.t", N + 1, "after"), what="the next live message")
        # The same position with the broker's epoch is not a reset
        c2 = S.sub_client("checker-2")
        c2.sendline("SUB r.t FROM %d@%s" % (N - 1, epoch.decode()))
        c2.expect(b"+OK", what="reply to SUB r.t FROM seq@epoch")
        c2.expect(msg_line("r.t", N, payload(N)), what="the history after seq@epoch")
        c2.expect(msg_line("r.t", N + 1, "after"), what="then the live message")
        stats = S.stats()
        h.check(stats["history_requests"] >= len(CUTS), "STATS history_requests %d"
                % stats["history_requests"])
        h.check(stats["history_incomplete"] == 0, "STATS history_incomplete %d"
                % stats["history_incomplete"])
        S.check_alive()
    return ("%d messages read over %d connections, resuming with FROM after %s (the broker "
            "had %s then): no gap, no repeat" % (N, len(CUTS) + 1, CUTS, published))


if __name__ == "__main__":
    h.run("27-from-resume", test, budget=80)
