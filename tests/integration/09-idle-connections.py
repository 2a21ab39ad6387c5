#!/usr/bin/python3
"""Idle connections: 2,000 idle clients on the subscriber and 500 on the
source (each got its greeting) do not disturb a working pair, which delivers
5,000 messages in order; afterwards every idle connection is still open and
answers PING."""

import select
import socket
import time

import harness as h
from harness import msg_line, subscribe

IDLE_SUB = 2000
IDLE_SRC = 500
N = 5000


def open_idle(port, count, greeting, name, proc):
    """count connections, each having read its greeting."""
    socks = []
    deadline = time.monotonic() + 30
    for i in range(count):
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                s.connect((h.HOST, port))
                break
            except OSError as e:
                s.close()
                h.check(proc.alive(), "%s: %s" % (name, proc.describe()))
                h.check(time.monotonic() < deadline,
                        "%s: connection %d of %d failed: %s" % (name, i + 1, count, e))
                time.sleep(0.01)
        s.setblocking(False)
        socks.append(s)
    expect_all(socks, greeting + b"\n", name, "greeting", deadline)
    return socks


def expect_all(socks, want, name, what, deadline):
    """Reads exactly `want` from every socket (none may close)."""
    bufs = {s: b"" for s in socks}
    pending = set(socks)
    while pending:
        left = deadline - time.monotonic()
        h.check(left > 0, "%s: %d of %d connections did not get their %s in time, e.g. %r"
                % (name, len(pending), len(socks), what, bufs[next(iter(pending))]))
        p = select.poll()
        fds = {s.fileno(): s for s in pending}
        for fd in fds:
            p.register(fd, select.POLLIN)
        for fd, _ in p.poll(min(left, 1.0) * 1000):
            s = fds[fd]
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            h.check(data, "%s: connection %d closed while waiting for its %s (had %r)"
                    % (name, socks.index(s), what, bufs[s]))
            bufs[s] += data
            h.check(want.startswith(bufs[s]), "%s: connection %d: expected %r, got %r"
                    % (name, socks.index(s), want, bufs[s]))
            if bufs[s] == want:
                pending.discard(s)


def test():
    limit = h.raise_nofile()
    h.check(limit >= IDLE_SUB + IDLE_SRC + 200,
            "RLIMIT_NOFILE hard limit %d is too low for this test" % limit)
    with h.system() as S:
        t0 = time.monotonic()
        idle_sub = open_idle(S.sub_port, IDLE_SUB, h.SUBSCRIBER_GREETING, "idle-subscriber",
                             S.subscriber)
        idle_src = open_idle(S.source_port, IDLE_SRC, h.SOURCE_GREETING, "idle-source",
                             S.source)
        t_open = time.monotonic() - t0

        sub = S.sub_client("subscriber")
        subscribe(sub, "idle.t")
        pub = S.source_client("publisher")
        pub.send(b"".join(b"PUB idle.t n%d\n" % i for i in range(1, N + 1)))
        h.compare_lines("subscriber", sub.read_lines(N, timeout=30),
                        [msg_line("idle.t", i, "n%d" % i) for i in range(1, N + 1)])

        # Every idle connection is still open and served.
        deadline = time.monotonic() + 30
        for s in idle_sub + idle_src:
            s.send(b"PING\n")
        expect_all(idle_sub, b"PONG\n", "idle-subscriber", "PONG", deadline)
        expect_all(idle_src, b"PONG\n", "idle-source", "PONG", deadline)
        S.check_alive()
        for s in idle_sub + idle_src:
            s.close()
    return ("%d + %d idle connections (opened in %.1fs) all still served; %d messages in order"
            % (IDLE_SUB, IDLE_SRC, t_open, N))


if __name__ == "__main__":
    h.run("09-idle-connections", test, budget=80)
