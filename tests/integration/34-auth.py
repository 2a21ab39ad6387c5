#!/usr/bin/python3
"""Tokens and ACLs on both front-ends, text and frame protocol: before AUTH
every request but AUTH, PING and QUIT answers `-ERR auth required`; a
plain and a hashed token authenticate; publishes and subscriptions outside
a token's patterns answer `-ERR forbidden <topic>` and nothing is
delivered for them, while allowed ones are delivered in order; three
failed AUTHs close the connection and the address is logged; every refusal
is counted. SNAPSHOT and FROM obey the same ACL: a pattern a token may
not follow live gives it no snapshot or history either."""

import hashlib
import os
import re
import tempfile
import urllib.request

import harness as h
from frames import FrameClient
from guard import counters, expect_close, stop

TOKENS = """\
#   tokens for 34-auth
tokens
    sensors
        secret = "pub-s3cret"
        publish = "sensors.>"
    reader
        sha256 = "%s"
        subscribe = "sensors.*.temp, alerts.>"
    admin
        secret = "admin-s3cret"
        publish = ">"
        subscribe = ">"
""" % hashlib.sha256(b"read-s3cret").hexdigest()


def test_text(S):
    pub = S.source_client("pub")
    for line, reply in [("PUB sensors.a.temp 1", b"-ERR auth required"),
                        ("VERBOSE on", b"-ERR auth required"),
                        ("PING", b"PONG"),
                        ("AUTH wrong", b"-ERR auth failed"),
                        ("AUTH pub-s3cret", b"+OK"),
                        ("VERBOSE on", b"+OK")]:
        pub.sendline(line)
        pub.expect(reply, what="reply to %r" % line)

    sub = S.sub_client("reader")
    sub.sendline("SUB sensors.>")
    sub.expect(b"-ERR auth required")
    sub.sendline("AUTH read-s3cret")
    sub.expect(b"+OK")
    h.subscribe(sub, "sensors.*.temp")
    h.subscribe(sub, "alerts.fire.>")
    for pattern in ["sensors.>", "orders.>", ">", "sensors.*.hum"]:
        sub.sendline("SUB " + pattern)
        sub.expect(b"-ERR forbidden " + pattern.encode())

    admin = S.source_client("admin")
    admin.sendline("AUTH admin-s3cret")
    admin.expect(b"+OK")
    # the reader may not subscribe to orders; the sensors token may not publish there
    pub.sendline("PUB orders.eu 1")
    pub.expect(b"-ERR forbidden orders.eu")
    pub.sendline("PUB alerts.fire.x 1")
    pub.expect(b"-ERR forbidden alerts.fire.x")
    want = []
    for i in range(200):
        pub.sendline("PUB sensors.k%d.temp t%d" % (i % 3, i))
        h.expect_confirm(pub, "sensors.k%d.temp" % (i % 3), i // 3 + 1)
        want.append(h.msg_line("sensors.k%d.temp" % (i % 3), i // 3 + 1, b"t%d" % i))
        pub.sendline("PUB sensors.k.hum h%d" % i)       # allowed to publish, not to read
        h.expect_confirm(pub, "sensors.k.hum", i + 1)
    admin.sendline("PUB alerts.fire.now hot")
    want.append(h.msg_line("alerts.fire.now", 1, b"hot"))
    admin.sendline("PUB orders.eu not-for-reader")
    got = sub.read_lines(len(want), what="allowed deliveries")
    # two publishers (maybe two workers): each one's messages in order
    h.compare_lines("reader", [l for l in got if not l.startswith(b"MSG alerts.")], want[:-1])
    h.compare_lines("reader", [l for l in got if l.startswith(b"MSG alerts.")], want[-1:])
    h.check(sub.ping() == [], "reader received something it may not read")

    # catch-ups obey the subscribe ACL: no snapshot or history where live is forbidden
    late = S.sub_client("late-reader")
    late.sendline("AUTH read-s3cret")
    late.expect(b"+OK")
    for line, pattern in [("SUB sensors.> SNAPSHOT", "sensors.>"),
                          ("SUB sensors.k.hum FROM 0", "sensors.k.hum"),
                          ("SUB orders.eu FROM 0", "orders.eu")]:
        late.sendline(line)
        late.expect(b"-ERR forbidden " + pattern.encode(), what="reply to %r" % line)
    late.sendline("SUB sensors.*.temp SNAPSHOT")
    late.expect(b"+OK", what="reply to an allowed SNAPSHOT")
    snap = sorted(late.read_lines(3, what="snapshot of sensors.*.temp"))
    last = {k: list(range(k, 200, 3)) for k in range(3)}     # sensors.k<k>.temp: t<i>, seq 1..
    h.compare_lines("late-reader", snap, sorted(
        h.msg_line("sensors.k%d.temp" % k, len(last[k]), b"t%d" % last[k][-1]) for k in range(3)))
    late.sendline("SUB sensors.k1.temp FROM 64")
    late.expect(b"+OK", what="reply to an allowed FROM")
    tail = late.read_lines(3, what="history of sensors.k1.temp after 64")
    h.compare_lines("late-reader", tail, [h.msg_line("sensors.k1.temp", seq, b"t%d" % last[1][seq - 1])
                                          for seq in (65, 66, 67)])
    h.check(late.ping() == [], "late-reader received something it may not read")

    # three failures close the connection
    bad = S.source_client("guesser")
    address = "%s:%d" % bad.sock.getsockname()[:2]
    for i in range(2):
        bad.sendline("AUTH guess-%d" % i)
        bad.expect(b"-ERR auth failed")
    bad.sendline("AUTH guess-2")
    expect_close(bad, b"-ERR auth failed")
    # the log names the client: its address and port, as the server saw them
    h.wait_stderr(S.source, "client %s failed AUTH 3 times" % address)
    return len(want)


def test_frames(S, fs, fb):
    sub = FrameClient(fb, "frame-reader", S.subscriber)
    sub.send(["sub", "sensors.>"])
    got = sub.read(what="reply to sub before auth")
    h.check(got[:2] == ["err", "auth_required"], "frame-reader: %r" % got)
    sub.send(["auth", "read-s3cret"])
    h.check(sub.read(what="auth") == ["ok"], "frame-reader: auth not ok")
    sub.send(["sub", "orders.>"])
    got = sub.read(what="forbidden sub")
    h.check(got == ["err", "forbidden", "forbidden orders.>"], "frame-reader: %r" % got)
    sub.send(["sub", "sensors.*.temp"])
    h.check(sub.read(what="sub") == ["ok"], "frame-reader: sub not ok")
    pub = FrameClient(fs, "frame-pub", S.source)
    pub.send(["ping"])
    h.check(pub.read(what="pong") == ["pong"], "frame-pub: ping before auth not answered")
    pub.send(["pub", "sensors.f.temp", b"x"])
    got = pub.read(what="pub before auth")
    h.check(got[:2] == ["err", "auth_required"], "frame-pub: %r" % got)
    pub.send(["auth", "pub-s3cret"])
    h.check(pub.read(what="auth") == ["ok"], "frame-pub: auth not ok")
    pub.send(["pub", "orders.x", b"x"])
    got = pub.read(what="forbidden pub")
    h.check(got == ["err", "forbidden", "forbidden orders.x"], "frame-pub: %r" % got)
    pub.send(["pub", "sensors.f.temp", b"frame payload"])
    got = sub.read(what="delivery")
    h.check(got[:4] == ["msg", "sensors.f.temp", 1, b"frame payload"], "frame-reader: %r" % got)


def refused(port, role, cause):
    """zchannel_refused_total for role and cause, from the metrics endpoint."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        text = r.read().decode()
    m = re.search(r'^zchannel_refused_total\{role="%s",cause="%s"\} (\d+)$' % (role, cause), text, re.M)
    h.check(m, "metrics: no zchannel_refused_total for %s/%s:\n%s" % (role, cause, text[-2000:]))
    return int(m.group(1))


def test():
    fd, path = tempfile.mkstemp(prefix="zch-tokens-", suffix=".zpl")
    # one file: the subscriber's settings (--config) and the tokens both use
    os.write(fd, (TOKENS + 'subscriber\n    auth-file = "%s"\n' % path).encode())
    os.close(fd)
    fs, fb, mp = h.free_port(), h.free_port(), h.free_port()
    try:
        with h.system(source_args=["--auth-file", path, "--frame-listen", "%s:%d" % (h.HOST, fs),
                                   "--metrics-listen", "%s:%d" % (h.HOST, mp)],
                      sub_args=["--config", path, "--frame-listen", "%s:%d" % (h.HOST, fb)]) as S:
            delivered = test_text(S)
            test_frames(S, fs, fb)
            h.check(refused(mp, "source", "forbidden") == 3, "metrics: forbidden publishes")
            h.check(refused(mp, "source", "auth_failed") == 4, "metrics: failed AUTHs")
            stop(S.source)
            stop(S.subscriber)
            src, sub = counters(S.source, "source"), counters(S.subscriber, "subscriber")
            h.check(src["required"] == 3 and src["failed"] == 4 and src["closed"] == 1
                    and src["forbidden"] == 3 and src["ok"] == 3, "source counters: %r" % src)
            h.check(sub["required"] == 2 and sub["forbidden"] == 8 and sub["ok"] == 3,
                    "subscriber counters: %r" % sub)
            nonzero = lambda d: {k: v for k, v in d.items() if v}
            return "%d allowed deliveries in order; counted: source %r, subscriber %r" % (
                delivered, nonzero(src), nonzero(sub))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    h.run("34-auth", test, budget=60)
