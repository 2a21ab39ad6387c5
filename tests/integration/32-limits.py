#!/usr/bin/python3
"""Limits against hostile clients, each hit with its error and its counter,
while a well-behaved publisher and subscriber on the same front-ends keep
going and receive every message in order: max clients (shared by two
workers), max subscriptions, topic length and depth, line length, max
output (slow consumer), idle timeout (silent and slowloris clients) and the
per-address connection rate. The max-clients scenario runs several rounds,
and the workers' counters (logged at exit) must show clients on both
subscriber workers and both source workers: the limit held over two
workers, not one."""

import socket
import time

import harness as h
from guard import GoodPair, counters, expect_close, spread, stop

IDLE_MS = 1500
#  Rounds of the max-clients scenario: each lands its clients on the two
#  workers by the kernel's SO_REUSEPORT hash; over them all, both are used
#  but for a chance of about 2^-20
MAX_CLIENTS_ROUNDS = 4


def connect_raw(port):
    s = socket.create_connection((h.HOST, port), timeout=h.STEP)
    return s


def let_in(S, name):
    """A subscriber client, retried while an earlier one's slot frees."""
    deadline = time.monotonic() + h.STEP
    while True:
        c = h.LineClient(h.HOST, S.sub_port, name=name)
        line = c.readline(what="greeting or refusal")
        if line == h.SUBSCRIBER_GREETING:
            return c
        h.check(line == b"-ERR too many clients", "%s: %r" % (name, line))
        h.check(time.monotonic() < deadline, "%s: not let in" % name)
        c.close()
        time.sleep(0.1)


def test_max_clients(S, good, publish=True):
    # good-sub is one client; with --max-clients 4 three more fit, over both workers
    # (a client of the round before may not be counted out yet: try again)
    extra = [let_in(S, "extra-%d" % i) for i in range(3)]
    for c in extra:
        subscribe_ok = c.ping() == []
        h.check(subscribe_ok, "%s: not served" % c.name)
    over = h.LineClient(h.HOST, S.sub_port, name="over-limit")
    expect_close(over, b"-ERR too many clients")
    if publish:
        good.publish(500)
    for c in extra:
        c.close()
    # once they are gone, a client is let in again
    let_in(S, "after").close()


def test_subscriptions(S, good):
    c = S.sub_client("many-subs")
    for i in range(3):
        h.subscribe(c, "many.%d" % i)
    c.sendline("SUB many.3")
    c.expect(b"-ERR too many subscriptions")
    h.subscribe(c, "many.0")            # one already held is not a new one
    c.sendline("UNSUB many.0")
    c.expect(b"+OK")
    h.subscribe(c, "many.3")
    c.sendline("SUB a.b.c.d.>")
    c.expect(b"-ERR invalid pattern: too deep")
    good.publish(500)
    h.check(c.ping() == [], "many-subs: not usable after its errors")
    c.close()


def test_topics(S, good):
    c = S.source_client("topics")
    c.sendline("VERBOSE on")
    c.expect(b"+OK")
    c.sendline("PUB a.b.c.d.e deep")
    c.expect(b"-ERR invalid topic: too deep")
    c.sendline("PUB %s long" % ("x" * 41))
    c.expect(b"-ERR invalid topic: too long")
    c.sendline("PUB a.b.c.d fine")
    c.expect(b"+OK")
    good.publish(500)
    c.sendline("PUB x " + "y" * 70000)
    expect_close(c, b"-ERR line too long")


def test_slow_consumer(S, good):
    slow = S.sub_client("slow", rcvbuf=4096)
    h.subscribe(slow, "bulk.>")
    bulk = S.source_client("bulk-pub")
    payload = b"b" * 1024
    for i in range(8):
        bulk.send(b"".join(b"PUB bulk.x %s\n" % payload for _ in range(500)))
        good.publish(100)
    h.wait_stderr(S.subscriber, "slow consumer", timeout=30)
    data = slow.read_to_eof(30, "the slow consumer's close")
    h.check(data.endswith(b"-ERR slow consumer\n"), "slow: stream ends %r" % data[-60:])
    bulk.close()


def test_idle(S, good):
    silent = S.source_client("silent")          # sends nothing at all
    slowloris = S.source_client("slowloris")    # never finishes its command
    t0 = time.monotonic()
    for piece in [b"PUB", b" slow", b".t", b" pay", b"load", b" more", b" more"]:
        try:
            slowloris.send(piece)
        except OSError:
            break               # closed already: the pieces did not keep it alive
        good.publish(50)
        time.sleep(IDLE_MS / 1000 / 5)
    expect_close(silent, b"-ERR idle timeout")
    expect_close(slowloris, b"-ERR idle timeout")
    elapsed = time.monotonic() - t0
    h.check(elapsed < 30, "idle clients closed only after %.1fs" % elapsed)


def test_rate(S, good):
    # --conn-rate 1 --conn-burst 20 on the source: a burst of 40 connections
    # from one address sees some refused
    refused = accepted = 0
    socks = []
    for i in range(40):
        c = h.LineClient(h.HOST, S.source_port, name="flood-%d" % i)
        line = c.readline(what="greeting or refusal")
        if line == b"-ERR connection rate exceeded":
            c.read_to_eof(h.STEP, "close after refusal")
            refused += 1
        else:
            h.check(line == h.SOURCE_GREETING, "flood-%d: %r" % (i, line))
            accepted += 1
        socks.append(c)
    h.check(refused >= 10, "only %d of 40 connections refused by the rate (%d accepted)"
            % (refused, accepted))
    for c in socks:
        c.close()
    good.publish(500)
    return refused


def test():
    source_args = ["--workers", "2", "--max-topic-depth", "4", "--max-topic-length", "40",
                   "--idle-timeout", "%dms" % IDLE_MS, "--conn-rate", "1", "--conn-burst", "20"]
    sub_args = ["--workers", "2", "--max-clients", "4", "--max-subscriptions", "3",
                "--max-topic-depth", "4", "--max-output", "65536", "--idle-timeout", "%dms" % IDLE_MS]
    with h.system(source_args=source_args, sub_args=sub_args) as S:
        good = GoodPair(S)
        good.publish(500)
        for n in range(MAX_CLIENTS_ROUNDS):
            test_max_clients(S, good, publish=n == 0)
        test_subscriptions(S, good)
        test_topics(S, good)
        test_slow_consumer(S, good)
        test_idle(S, good)
        refused = test_rate(S, good)
        # good-sub said nothing since its SUB, far longer than the idle
        # timeout: a subscriber that finished its command is not idle
        good.finish()
        stop(S.source)
        stop(S.subscriber)
        src, sub = counters(S.source, "source"), counters(S.subscriber, "subscriber")
        spread(S.source, "source")
        accepted = spread(S.subscriber, "subscriber")
        h.check(sub["too_many_clients"] >= MAX_CLIENTS_ROUNDS, "subscriber counters: %r" % sub)
        h.check(sub["too_many_clients"] >= 1, "subscriber counters: %r" % sub)
        h.check(sub["too_many_subscriptions"] == 1, "subscriber counters: %r" % sub)
        h.check(sub["slow_consumers"] == 1, "subscriber counters: %r" % sub)
        h.check(src["rate_exceeded"] == refused, "source counters: %r, %d refused" % (src, refused))
        h.check(src["idle_timeouts"] == 2, "source counters: %r" % src)
        h.check(src["too_long"] == 1, "source counters: %r" % src)
        return ("%d good messages in order; subscriber clients per worker %r; subscriber %r; source %r"
                % (good.sent, accepted, {k: v for k, v in sub.items() if v},
                   {k: v for k, v in src.items() if v}))


if __name__ == "__main__":
    h.run("32-limits", test, budget=100)
