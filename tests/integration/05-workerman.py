#!/usr/bin/python3
"""Workerman compatibility profile on both front-ends: exact greetings;
every source line is a payload for topic1 (even one that looks like a
command); a subscriber client that sends any line is subscribed to topic1
and receives `Received: <payload>` lines, in order."""

import time

import harness as h

N = 100


def test():
    with h.system(profile="workerman") as S:
        # Greetings, byte for byte (the harness strips only the LF).
        raw = h.LineClient(h.HOST, S.source_port, name="source-raw")
        h.check(raw.readline(what="source greeting") == b"Welcome to Data Source Server",
                "source greeting wrong")
        raw.close()
        sub = S.sub_client("wm-subscriber")     # checks the exact greeting
        idle = S.sub_client("wm-idle")           # never sends: not subscribed
        sub.sendline("hello")
        pub = S.source_client("wm-publisher")

        # No +OK in this profile: publish markers until the first arrives.
        deadline = time.monotonic() + h.STEP
        k = 0
        while True:
            pub.sendline("marker-%d" % k)
            k += 1
            sub.pump(0.1)
            if b"\n" in sub.buf:
                break
            h.check(time.monotonic() < deadline,
                    "wm-subscriber: no delivery within %.0fs after sending 'hello' (%d marker "
                    "lines published); buffered %s" % (h.STEP, k, h.short(sub.buf)))
        first = sub.readline()
        h.check(first.startswith(b"Received: marker-"),
                "wm-subscriber: first delivery should be 'Received: marker-N', got %r" % first)

        lines = [b"line %03d with  spaces" % i for i in range(N)]
        specials = [b"PUB x y", b"PUBLISH z", b"SUB topic1", b"crlf line"]
        pub.send(b"".join(l + b"\n" for l in lines) + b"PUB x y\nPUBLISH z\nSUB topic1\n"
                 + b"crlf line\r\n")
        want = [b"Received: " + l for l in lines + specials]
        got = sub.read_until(lambda l: l == want[-1], timeout=20, what="'Received: crlf line'")
        # Markers still in flight come first, in the order they were sent.
        marks = [first]
        while got and got[0].startswith(b"Received: marker-"):
            marks.append(got.pop(0))
        n0 = int(first[len(b"Received: marker-"):])
        h.compare_lines("wm-subscriber (markers)", marks,
                        [b"Received: marker-%d" % i for i in range(n0, n0 + len(marks))])
        h.compare_lines("wm-subscriber", got, want)

        h.check(idle.quiet(0.3), "wm-idle (never sent a line) received data: %s"
                % h.short(idle.buf))
        h.check(pub.quiet(0.0), "wm-publisher got bytes back: %s" % h.short(pub.buf))
        S.check_alive()
    return "greetings exact, %d lines + command-looking lines delivered as 'Received:'" % N


if __name__ == "__main__":
    h.run("05-workerman", test)
