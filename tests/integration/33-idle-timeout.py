#!/usr/bin/python3
"""Idle timeout and keepalive: 1,000 connections opened on the subscriber
and held without a word each get `-ERR idle timeout` and are closed (and
counted), while a subscriber that sent its SUB and then nothing keeps
receiving every message in order. On the source, --keepalive closes a
client that went silent after a PING and keeps one that pings."""

import select
import socket
import time

import harness as h
from guard import GoodPair, counters, expect_close, stop

IDLE = 1000
IDLE_MS = 2000
KEEPALIVE_MS = 1500


def open_idle(port, count, proc):
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(h.STEP)
        try:
            s.connect((h.HOST, port))
        except OSError as e:
            h.fail("idle connection %d of %d: %s (%s)" % (i + 1, count, e, proc.describe()))
        s.setblocking(False)
        socks.append(s)
    return socks


def await_all_closed(socks, want, timeout):
    """Reads every socket to EOF; each must have received exactly want."""
    bufs = {s.fileno(): b"" for s in socks}
    by_fd = {s.fileno(): s for s in socks}
    open_fds = set(bufs)
    deadline = time.monotonic() + timeout
    while open_fds:
        left = deadline - time.monotonic()
        h.check(left > 0, "%d of %d idle connections still open after %.0fs, e.g. got %r"
                % (len(open_fds), len(socks), timeout, bufs[next(iter(open_fds))]))
        p = select.poll()
        for fd in open_fds:
            p.register(fd, select.POLLIN)
        for fd, _ in p.poll(min(left, 1.0) * 1000):
            try:
                data = by_fd[fd].recv(4096)
            except ConnectionResetError:
                data = b""
            if data:
                bufs[fd] += data
            else:
                open_fds.discard(fd)
    for fd, data in bufs.items():
        h.check(data == want, "idle connection: expected %r, got %r" % (want, data))


def test_keepalive(S):
    pinger = S.source_client("pinger")
    quiet = S.source_client("quiet")
    quiet.sendline("PING")
    quiet.expect(b"PONG")
    t_end = time.monotonic() + KEEPALIVE_MS / 1000 * 2
    while time.monotonic() < t_end:
        h.check(pinger.ping() == [], "pinger: unexpected lines")
        time.sleep(KEEPALIVE_MS / 1000 / 5)
    expect_close(quiet, b"-ERR idle timeout")
    h.check(pinger.ping() == [], "pinger: closed although it pinged")


def test():
    limit = h.raise_nofile()
    h.check(limit >= IDLE + 200, "RLIMIT_NOFILE hard limit %d is too low for this test" % limit)
    with h.system(sub_args=["--idle-timeout", "%dms" % IDLE_MS]) as S:
        good = GoodPair(S)
        good.publish(1000)
        socks = open_idle(S.sub_port, IDLE, S.subscriber)
        good.publish(1000)
        await_all_closed(socks, h.SUBSCRIBER_GREETING + b"\n-ERR idle timeout\n", 60)
        for s in socks:
            s.close()
        good.publish(1000)
        good.finish()
        stop(S.subscriber)
        sub = counters(S.subscriber, "subscriber")
        h.check(sub["idle_timeouts"] == IDLE, "subscriber counters: %r" % sub)
    # the source's clients here each keep talking or go silent
    with h.system(source_args=["--idle-timeout", "0", "--keepalive", "%dms" % KEEPALIVE_MS]) as S:
        test_keepalive(S)
        stop(S.source)
        src = counters(S.source, "source")
        h.check(src["keepalive_timeouts"] == 1, "source counters: %r" % src)
        return "%d idle connections closed; %d good messages in order" % (IDLE, good.sent)


if __name__ == "__main__":
    h.run("33-idle-timeout", test, budget=100)
