#!/usr/bin/python3
"""The Redis engine's shards as Sentinel groups, on loopback.

Bad settings are refused at start with a reason that names them: shards
given both as --redis and --sentinel, --sentinel without a master's name,
a master's name without --sentinel, a malformed sentinel list, --sentinel
without --engine redis. A sentinel that does not know the master: the
broker starts, says so in its log, and a VERBOSE publish is told at once
that Redis is unreachable (nothing waits). A sentinel that monitors a
redis-server: the broker asks it where the master is, logs the answer, and
a message published at one broker reaches a subscriber at another, both
finding Redis through the sentinel."""

import os
import shutil
import tempfile
import time

import harness as h
import redis_server
from harness import msg_line, subscribe

SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"


def refused(args, reason):
    rc, _, err = h.run_cmd([h.BROKER, "--ingress", h.tcp_ep(h.free_port())] + args, timeout=10)
    h.check(rc != 0 and reason.encode() in err, "%r: exit %r, %r (expected %r)" % (args, rc, err[-300:], reason))


def start_sentinel(directory, master):
    port = h.free_port()
    conf = os.path.join(directory, "sentinel.conf")
    with open(conf, "w") as f:
        f.write("port %d\nbind %s\nprotected-mode no\ndir %s\n" % (port, h.HOST, directory))
        if master:
            f.write("sentinel monitor zch %s %d 1\n" % (h.HOST, master.port))
    proc = h.start([SENTINEL, conf], name="sentinel")
    deadline = time.monotonic() + h.STEP
    while True:
        try:
            if redis_server.command(port, "PING", timeout=1).startswith(b"+PONG"):
                return proc, "%s:%d" % (h.HOST, port)
        except OSError:
            pass
        h.check(proc.alive() and time.monotonic() < deadline, "the sentinel did not start")
        time.sleep(0.05)


def test():
    refused(["--engine", "redis", "--redis", "127.0.0.1:1", "--sentinel", "127.0.0.1:2",
             "--sentinel-master", "m"], "not both")
    refused(["--engine", "redis", "--sentinel", "127.0.0.1:2"], "--sentinel wants --sentinel-master NAME")
    refused(["--engine", "redis", "--redis", "127.0.0.1:1", "--sentinel-master", "m"],
            "--sentinel-master needs --sentinel")
    refused(["--engine", "redis", "--sentinel", "127.0.0.1:2,nowhere", "--sentinel-master", "m"],
            "--sentinel wants HOST:PORT,HOST:PORT,..., not '127.0.0.1:2,nowhere'")
    refused(["--sentinel", "127.0.0.1:2", "--sentinel-master", "m"], "--sentinel needs --engine redis")

    work = tempfile.mkdtemp(prefix="zch-sentinel-")
    redis = redis_server.Redis()
    try:
        # A sentinel that knows no such master: publishes fail at once
        os.mkdir(os.path.join(work, "lost"))
        lost, lost_at = start_sentinel(os.path.join(work, "lost"), None)
        args = ["--engine", "redis", "--sentinel", lost_at, "--sentinel-master", "zch"]
        with h.system(broker_args=args) as S:
            h.wait_stderr(S.broker, "names master 'zch'", timeout=15)
            pub = S.source_client("pub")
            pub.sendline("VERBOSE on")
            pub.expect(b"+OK", what="VERBOSE on")
            pub.sendline("PUB t lost")
            line = pub.readline(what="the publish without a master")
            h.check(line == b"-ERR dropped by the broker: Redis unreachable", "without a master: %r" % line)
        lost.stop()

        # One that monitors our redis-server: two brokers find it through it
        _, sentinel_at = start_sentinel(work, redis)
        args = ["--engine", "redis", "--sentinel", sentinel_at, "--sentinel-master", "zch"]
        with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
            for S in (A, B):
                h.wait_stderr(S.broker, "says master 'zch' is at %s" % redis.address, timeout=15)
            sub = B.sub_client("sub-b")
            subscribe(sub, "t")
            pub = A.source_client("pub-a")
            pub.send(b"".join(b"PUB t m%d\n" % i for i in range(1, 101)))
            h.compare_lines("through the sentinel", sub.read_lines(100),
                            [msg_line("t", i, "m%d" % i) for i in range(1, 101)])
            h.check(A.stats()["engine_published"] == 100, "A's broker stamped %r" % A.stats()["engine_published"])
    finally:
        redis.remove()
        shutil.rmtree(work, ignore_errors=True)
    return ("five bad settings refused with their reason; an unknown master: publishes told 'Redis "
            "unreachable' at once; through a sentinel: 100 messages from A to B")


if __name__ == "__main__":
    redis_server.skip_unless_available("67-redis-sentinel-options")
    if not os.access(SENTINEL, os.X_OK):
        print("SKIP 67-redis-sentinel-options: redis-sentinel is not installed (apt-get install redis-sentinel)")
        raise SystemExit(77)
    h.run("67-redis-sentinel-options", test, budget=90)
