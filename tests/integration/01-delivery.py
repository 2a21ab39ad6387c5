#!/usr/bin/python3
"""Delivery: exact, '*' and '>' patterns, non-matching topics not delivered,
a client with several matching patterns gets each message once, per-topic
seq from 1, payload bytes kept (spaces) and escaped (backslash, CR)."""

import harness as h
from harness import msg_line, subscribe


def test():
    with h.system() as S:
        # The first example, on a fresh system: seq starts at 1.
        first = S.sub_client("orders-star")
        subscribe(first, "orders.*")
        deep = S.sub_client("orders-gt")
        subscribe(deep, "orders.>")
        pub = S.source_client("publisher")
        pub.sendline("PUB orders.eu hello")
        first.expect(msg_line("orders.eu", 1, "hello"), what="first example")
        deep.expect(msg_line("orders.eu", 1, "hello"), what="orders.> gets orders.eu")

        exact = S.sub_client("exact")
        subscribe(exact, "sensors.temp")
        star = S.sub_client("star")
        subscribe(star, "sensors.*")
        gt = S.sub_client("gt")
        subscribe(gt, "sensors.>")
        multi = S.sub_client("multi")
        for p in ("sensors.temp", "sensors.*", "sensors.>", "sensors.*.temp"):
            subscribe(multi, p)
        mid = S.sub_client("mid-star")
        subscribe(mid, "sensors.*.temp")
        esc = S.sub_client("escapes")
        esc.sendline("sub esc.t")                    # verbs are case-insensitive
        esc.expect(b"+OK", what="reply to lowercase sub")
        dflt = S.sub_client("topic1")
        subscribe(dflt, "topic1")

        lines = [
            b"PUB orders.eu.x deep",          # orders.> only
            b"PUB orders nope",               # neither orders.* nor orders.>
            b"PUB orders.eu again",           # seq 2 on orders.eu
            b"PUB sensors.temp t1",
            b"PUB sensors.hum a b  c ",       # payload keeps every space
            b"PUB sensors.room1.temp r1",     # sensors.> and sensors.*.temp
            b"PUB sensors nope-root",         # no sensors.* / sensors.> match
            b"PUB sensorsX.temp nope",        # prefix but not token match
            b"PUB other.temp nope",
            b"PUB sensors.room1.hum nope-mid",  # sensors.> only
            b"pub sensors.temp t2",
            b"PUB esc.t a\\b",                # -> a\\b
            b"PUB esc.t x\ry",                # CR inside a payload -> x\ry
            b"PUB esc.t  lead and trail ",    # leading space kept
            b"PUBLISH hello world",           # default topic
            b"PUB orders.us last",
            b"PUB sensors.temp end",          # marker for all sensors clients
            b"PUB esc.t end",
            b"PUB topic1 end",
            b"PUB sensors.room1.temp end",
        ]
        pub.send(b"".join(l + b"\n" for l in lines))

        expected = {
            first: [msg_line("orders.eu", 2, "again"), msg_line("orders.us", 1, "last")],
            deep: [msg_line("orders.eu.x", 1, "deep"), msg_line("orders.eu", 2, "again"),
                   msg_line("orders.us", 1, "last")],
            exact: [msg_line("sensors.temp", 1, "t1"), msg_line("sensors.temp", 2, "t2"),
                    msg_line("sensors.temp", 3, "end")],
            star: [msg_line("sensors.temp", 1, "t1"), msg_line("sensors.hum", 1, "a b  c "),
                   msg_line("sensors.temp", 2, "t2"), msg_line("sensors.temp", 3, "end")],
            gt: [msg_line("sensors.temp", 1, "t1"), msg_line("sensors.hum", 1, "a b  c "),
                 msg_line("sensors.room1.temp", 1, "r1"),
                 msg_line("sensors.room1.hum", 1, "nope-mid"),
                 msg_line("sensors.temp", 2, "t2"), msg_line("sensors.temp", 3, "end"),
                 msg_line("sensors.room1.temp", 2, "end")],
            multi: [msg_line("sensors.temp", 1, "t1"), msg_line("sensors.hum", 1, "a b  c "),
                    msg_line("sensors.room1.temp", 1, "r1"),
                    msg_line("sensors.room1.hum", 1, "nope-mid"),
                    msg_line("sensors.temp", 2, "t2"), msg_line("sensors.temp", 3, "end"),
                    msg_line("sensors.room1.temp", 2, "end")],
            mid: [msg_line("sensors.room1.temp", 1, "r1"),
                  msg_line("sensors.room1.temp", 2, "end")],
            esc: [b"MSG esc.t 1 a\\\\b", b"MSG esc.t 2 x\\ry", b"MSG esc.t 3  lead and trail ",
                  b"MSG esc.t 4 end"],
            dflt: [b"MSG topic1 1 hello world", b"MSG topic1 2 end"],
        }
        # The escaping expectations, spelled out once more byte by byte.
        h.check(msg_line("esc.t", 1, b"a\\b") == b"MSG esc.t 1 a\\\\b", "self-check")

        total = 0
        for client, want in expected.items():
            got = client.read_lines(len(want), what="deliveries")
            h.compare_lines(client.name, got, want)
            # Nothing else (no duplicate, no non-matching topic) is pending:
            # everything was published before the last expected line, and
            # a PING/PONG round trip flushes the connection.
            extra = client.ping()
            h.check(extra == [], "%s: unexpected extra lines after the last expected one: %r"
                    % (client.name, extra))
            total += len(want)
        S.check_alive()
    return "%d clients, %d deliveries checked exactly" % (len(expected), total)


if __name__ == "__main__":
    h.run("01-delivery", test)
