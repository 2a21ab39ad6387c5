"""A redis-server of the test's own on a free loopback port, for the Redis
engine's tests: started, pinged until ready, stopped or killed, restarted on
the same port (with or without its append-only file)."""

import os
import shutil
import socket
import sys
import tempfile
import time

import harness as h

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def skip_unless_available(name):
    """Exits with the skip code, saying why, when redis-server is missing."""
    if not os.access(REDIS_SERVER, os.X_OK):
        print("SKIP %s: redis-server is not installed (apt-get install redis-server)" % name)
        sys.exit(77)


def command(port, *args, timeout=h.STEP, host=h.HOST):
    """Sends one command (RESP) and returns the raw reply bytes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() if isinstance(x, str) else x for x in args)))
        return s.recv(65536)


class Redis:
    def __init__(self, name="redis", aof=False):
        self.name = name
        self.aof = aof
        self.port = h.free_port()
        self.dir = tempfile.mkdtemp(prefix="zch-redis-")
        self.proc = None
        self.start()

    @property
    def address(self):
        return "%s:%d" % (h.HOST, self.port)

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", h.HOST, "--dir", self.dir,
                "--save", "", "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.proc = h.start(args, name=self.name)
        deadline = time.monotonic() + h.STEP
        while True:
            try:
                if command(self.port, "PING", timeout=1).startswith(b"+PONG"):
                    return
            except OSError:
                pass
            h.check(self.proc.alive(), "%s did not start: %s" % (self.name, self.proc.describe()))
            h.check(time.monotonic() < deadline, "%s not answering PING" % self.name)
            time.sleep(0.05)

    def kill(self):
        """SIGKILL: what it had not written is gone."""
        self.proc.kill()
        self.proc.wait(5)

    def stop(self):
        if self.proc and self.proc.alive():
            self.proc.stop()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_patterns(server, count, host=h.HOST):
    """Waits until at least count clients of Redis follow a pattern (brokers)."""
    deadline = time.monotonic() + h.STEP
    while True:
        reply = command(server.port, "CLIENT", "LIST", host=host)
        followers = sum(1 for line in reply.split(b"\n") if b" psub=" in line and b" psub=0 " not in line)
        if followers >= count:
            return
        h.check(time.monotonic() < deadline, "%d clients of Redis follow a pattern, not %d" % (followers, count))
        time.sleep(0.05)


def engine_args(*servers):
    args = ["--engine", "redis"]
    for server in servers:
        args += ["--redis", server.address]
    return args

