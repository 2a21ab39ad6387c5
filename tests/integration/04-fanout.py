#!/usr/bin/python3
"""Fan-out: 50 subscriber clients on one pattern each receive all 2,000
messages, in order, with seq 1..2000."""

import harness as h
from harness import msg_line, subscribe

CLIENTS = 50
N = 2000


def test():
    h.raise_nofile()
    with h.system() as S:
        subs = []
        for i in range(CLIENTS):
            c = S.sub_client("sub-%02d" % i)
            subscribe(c, "fan.*")
            subs.append(c)
        pub = S.source_client("publisher")
        want = [msg_line("fan.out", i, "payload-%d" % i) for i in range(1, N + 1)]
        pub.send(b"".join(b"PUB fan.out payload-%d\n" % i for i in range(1, N + 1)))
        got = h.read_many(subs, [N] * CLIENTS, timeout=40, what="fan.out deliveries")
        for c, lines in zip(subs, got):
            h.compare_lines(c.name, lines, want)
        for c in subs:
            extra = c.ping()
            h.check(extra == [], "%s: unexpected lines after %d deliveries: %r"
                    % (c.name, N, extra[:3]))
        S.check_alive()
    return "%d clients x %d messages, all in order" % (CLIENTS, N)


if __name__ == "__main__":
    h.run("04-fanout", test)
