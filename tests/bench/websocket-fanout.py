#!/usr/bin/python3
"""websocket-fanout: P=1 S=100 through `zchannel run`, the subscribers over
WebSocket (JSON text messages) against the same over plain TCP (MSG lines).

Usage: tests/bench/websocket-fanout.py [--messages N] [--subscribers S]
                                       [--reps R] [--build-dir DIR]

One TCP publisher writes N 64-byte messages at full speed (the source slows
it when the system is full); S subscribers, all in this one process on one
epoll loop, read until each has N. The figure is deliveries per second
(N * S over the time from the first write to the last delivery), the
median over R runs, each against a fresh `zchannel run`. Every subscriber
checks that it got seqs 1..N in order. The server's CPU time (user +
system, from /proc) per delivery is printed too: it is what the server
spends, whatever the reader here can take. Both kinds of subscriber are read
the same way (this process reads them, and is part of the cost), so the
ratio is the figure to take, not the absolute rate.
"""
import argparse
import base64
import os
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("zchannel run exited: %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("port %d never opened" % port)


class Tcp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.got = 0
        self.sock.sendall(b"SUB bench.t\n")
        while b"+OK" not in self.buf:
            self.buf += self.sock.recv(4096)
        self.buf = self.buf[self.buf.index(b"+OK") + 4:]

    def feed(self, data):
        data = self.buf + data
        end = data.rfind(b"\n") + 1
        self.got += data.count(b"\n", 0, end)
        if self.got and end:
            last = data[data.rfind(b"\n", 0, end - 1) + 1:end]
            self.last = int(last.split(b" ", 3)[2])
        self.buf = data[end:]


class Ws:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(4096)
        self.buf = data.split(b"\r\n\r\n", 1)[1]
        body = b'{"op":"sub","pattern":"bench.t"}'
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x81, 0x80 | len(body)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(body)))
        self.got = -1                   # the ok comes first
        self.at = 0
        self.feed(b"")
        while self.got < 0:
            self.feed(self.sock.recv(4096))

    def feed(self, data):
        b = self.buf[self.at:] + data if self.at else self.buf + data
        at = 0
        while len(b) - at >= 2:
            n = b[at + 1] & 0x7F
            pos = at + 2
            if n == 126:
                if len(b) - at < 4:
                    break
                n, pos = struct.unpack(">H", b[at + 2:at + 4])[0], at + 4
            if len(b) < pos + n:
                break
            if b[at] & 0x08:            # a control frame (the server's keepalive ping)
                at = pos + n
                continue
            self.got += 1
            if self.got > 0:
                frame = b[pos:pos + n]
                if not frame.startswith(b'{"op":"msg"'):
                    raise SystemExit("a WebSocket subscriber got %r" % frame[:200])
                i = frame.find(b'"seq":')
                self.last = int(frame[i + 6:frame.index(b",", i)])
            at = pos + n
        self.buf, self.at = b, at


def cpu_seconds(pid):
    """User + system CPU time the server has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(build, kind, n, s):
    ports = {k: free_port() for k in ("src", "sub", "ws")}
    cmd = [os.path.join(build, "launcher", "zchannel"), "run",
           "--source-listen", "127.0.0.1:%d" % ports["src"],
           "--subscriber-listen", "127.0.0.1:%d" % ports["sub"],
           "--subscriber-ws-listen", "127.0.0.1:%d" % ports["ws"],
           "--max-clients", "100000", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_port(ports["src"], proc)
        wait_port(ports["ws"], proc)
        subs = [(Ws(ports["ws"]) if kind == "ws" else Tcp(ports["sub"])) for _ in range(s)]
        pub = socket.create_connection(("127.0.0.1", ports["src"]))
        pub.recv(100)
        payload = b"x" * 64
        sel = selectors.DefaultSelector()
        for sub in subs:
            sub.sock.setblocking(False)
            sel.register(sub.sock, selectors.EVENT_READ, sub)
        pub.setblocking(False)
        out = b"".join(b"PUB bench.t %s\n" % payload for _ in range(n))
        sent = 0
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()
        done = 0
        while done < s:
            if sent < len(out):
                try:
                    sent += pub.send(out[sent:sent + 262144])
                except BlockingIOError:
                    pass
            for key, _ in sel.select(0 if sent < len(out) else 1):
                sub = key.data
                try:
                    data = sub.sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                sub.feed(data)
                if sub.got >= n:
                    sel.unregister(sub.sock)
                    done += 1
            if time.monotonic() - t0 > 300:
                raise SystemExit("%s: timed out with %d of %d subscribers done" % (kind, done, s))
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        bad = [x for x in subs if x.got != n or x.last != n]
        if bad:
            raise SystemExit("%s: %d subscribers did not get 1..%d" % (kind, len(bad), n))
        return n * s / elapsed, cpu * 1e9 / (n * s)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--subscribers", type=int, default=100)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    a = p.parse_args()
    rates = {"tcp": [], "ws": []}
    costs = {"tcp": [], "ws": []}
    for _ in range(a.reps):
        for kind in ("tcp", "ws"):
            rate, cost = run_once(a.build_dir, kind, a.messages, a.subscribers)
            rates[kind].append(rate)
            costs[kind].append(cost)
    tcp, ws = statistics.median(rates["tcp"]), statistics.median(rates["ws"])
    print("P=1 S=%d, %d messages of 64 bytes, zchannel run, median of %d, load average %.1f"
          % (a.subscribers, a.messages, a.reps, os.getloadavg()[0]))
    print("%-28s %14s %22s" % ("subscribers", "deliveries/s", "server CPU ns/delivery"))
    print("%-28s %14.0f %22.0f" % ("TCP (MSG lines)", tcp, statistics.median(costs["tcp"])))
    print("%-28s %14.0f %22.0f   %.2fx of TCP" % ("WebSocket (JSON text)", ws, statistics.median(costs["ws"]),
                                                  ws / tcp))


if __name__ == "__main__":
    main()
