#!/usr/bin/python3
"""The Redis engine under Sentinel: the Redis master killed mid-stream
(network namespaces).

A Redis master on host r1, its replica on r2, one sentinel on each of r1,
r2 and s (quorum 2); brokers on hosts a and b find the master through the
sentinels (--sentinel, --sentinel-master), each with its front-ends. A
publisher at a streams one topic; subscribers at a and b follow it. The
master's redis-server is killed with SIGKILL mid-stream: the sentinels
promote the replica, both brokers move to it (they ask the sentinels
again); the first to reach it sees that its replication id is a promoted
replica's and bumps the shard's generation (once: the other finds it
bumped), so the topic's next publish starts a new epoch.

Checked: the failover happened (the sentinels name r2; each broker logged
the new master and the generation bump); every subscriber either went on
gap-free or was told `-ERR reset t <epoch>` with a new epoch, and within
each epoch its seqs run 1, 2, 3... without a gap or a repeat; no (epoch,
seq) maps to two payloads across both subscribers; what was published
while Redis failed over was dropped and counted, never buffered; every
publish was stamped or counted, and what was stamped but reached no one
is at most what the dying master took in its last moment (asynchronous
replication: its epoch ended, and the subscribers were told so)."""

import os
import tempfile
import time

import msgpack

import deployment
import harness as h
from harness import subscribe
import netns
import redis_hosts
import redis_server
from redis_hosts import SOURCE_PORT, SUB_PORT, broker_stats, client, raw_subscriber

SENTINEL_PORT = 26379
MASTER = "zch"
BEFORE, AFTER = 300, 300
IN_FLIGHT = 50          # published just before the master is killed


def sentinel_conf(directory, host, address, master_address):
    path = os.path.join(directory, "sentinel-%s.conf" % host)
    with open(path, "w") as f:
        f.write("port %d\nbind %s\nprotected-mode no\ndir %s\n"
                "sentinel monitor %s %s 6379 2\n"
                "sentinel down-after-milliseconds %s 1000\n"
                "sentinel failover-timeout %s 10000\n"
                "sentinel parallel-syncs %s 1\n"
                % (SENTINEL_PORT, address, directory, MASTER, master_address, MASTER, MASTER, MASTER))
    return path


def wait_ping(hosts, host, port, proc):
    """Waits until the server on host:port answers PING (bounded)."""
    deadline = time.monotonic() + h.STEP
    while True:
        try:
            with hosts.inside(host):
                if redis_server.command(port, "PING", timeout=1, host=hosts.address[host]).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        h.check(proc.alive(), "%s did not start: %s" % (proc.name, proc.describe()))
        h.check(time.monotonic() < deadline, "%s not answering PING" % proc.name)
        time.sleep(0.05)


def sentinel_knows(hosts, host):
    """(replicas, other sentinels) the sentinel on host knows of the master."""
    with hosts.inside(host):
        reply = redis_server.command(SENTINEL_PORT, "SENTINEL", "master", MASTER, host=hosts.address[host])
    words = [w for w in reply.split(b"\r\n") if w and w[:1] not in (b"*", b"$")]
    fields = dict(zip(words[0::2], words[1::2]))
    return int(fields.get(b"num-slaves", 0)), int(fields.get(b"num-other-sentinels", 0))


def sentinel_master(hosts, host):
    """host:port the sentinel on host names as the master, as bytes."""
    with hosts.inside(host):
        reply = redis_server.command(SENTINEL_PORT, "SENTINEL", "get-master-addr-by-name", MASTER,
                                     host=hosts.address[host])
    parts = reply.split(b"\r\n")
    return parts[2] + b":" + parts[4] if len(parts) > 4 else reply


def raw_collect(sub, until, what, seen):
    """(epoch, seq) of what sub gets up to payload until, as the broker
    stamped them; each goes into seen, checked against everyone's."""
    keys = []
    deadline = time.monotonic() + 60
    while True:
        h.check(time.monotonic() < deadline and sub.poll(30000), "%s: %r never came" % (what, until))
        _, meta, payload = sub.recv_multipart()
        meta = msgpack.unpackb(meta, raw=False)
        key = (h.epoch_text(meta["ep"]), meta["seq"])
        h.check(not keys or key not in set(keys), "%s: (epoch, seq) %r twice" % (what, key))
        h.check(seen.setdefault(key, payload) == payload,
                "(epoch %s, seq %d) maps to two payloads: %r and %r" % (key[0].decode(), key[1], seen[key], payload))
        keys.append(key)
        if payload == until:
            return keys


def collect(sub, until, got):
    """Reads sub's lines up to a MSG with payload until into got, as
    (epoch, seq, payload); the epoch is None until a reset names one."""
    deadline = time.monotonic() + 60
    epoch = got[-1][0] if got else None
    while True:
        h.check(time.monotonic() < deadline, "%s: %r never came" % (sub.name, until))
        line = sub.readline(timeout=30, what="the stream at " + sub.name)
        if line.startswith(b"-ERR reset t "):
            epoch = line.split()[3]
            got.append((epoch, 0, None))
            continue
        parsed = h.parse_msg(line)
        h.check(parsed is not None, "%s: unexpected %r" % (sub.name, line))
        got.append((epoch, parsed[1], parsed[2]))
        if parsed[2] == until:
            return


def check_client(name, got, first_epoch, seen):
    """A client's stream: in the first epoch, then (if told so) a new one;
    within each, seqs run on by one from where it started (1 after a
    reset); every (epoch, seq) has the payload the brokers stamped."""
    last = None
    for epoch, seq, payload in got:
        epoch = epoch or first_epoch
        if payload is None:
            h.check(epoch != (last or (first_epoch,))[0], "%s: reset to the epoch it had" % name)
            last = (epoch, 0)
            continue
        if last and last[0] == epoch:
            h.check(seq == last[1] + 1, "%s: seq %d after %d in epoch %s" % (name, seq, last[1], epoch.decode()))
        else:
            h.check(last is None, "%s: epoch %s without a reset" % (name, epoch.decode()))
        key = (epoch, seq)
        h.check(seen.get(key, payload) == payload,
                "%s: (epoch %s, seq %d) is %r, the brokers stamped %r" % (name, epoch.decode(), seq, payload, seen[key]))
        last = key
    return last


def test():
    work = tempfile.mkdtemp(prefix="zch-sentinel-")
    with netns.Hosts(["r1", "r2", "s", "a", "b"]) as hosts:
        r1, r2 = hosts.address["r1"], hosts.address["r2"]
        common = ["--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no",
                  "--repl-diskless-sync-delay", "0"]
        master = hosts.start("r1", [redis_server.REDIS_SERVER, "--bind", r1] + common, name="redis-r1")
        replica = hosts.start("r2", [redis_server.REDIS_SERVER, "--bind", r2, "--replicaof", r1, "6379"] + common,
                              name="redis-r2")
        wait_ping(hosts, "r1", 6379, master)
        wait_ping(hosts, "r2", 6379, replica)
        for host in ("r1", "r2", "s"):
            sentinel = hosts.start(host, ["redis-sentinel", sentinel_conf(work, host, hosts.address[host], r1)],
                                   name="sentinel-" + host)
            wait_ping(hosts, host, SENTINEL_PORT, sentinel)
        # A failover needs sentinels that know the replica and each other
        deadline = time.monotonic() + 40
        while any(sentinel_knows(hosts, x) != (1, 2) for x in ("r1", "r2", "s")):
            h.check(time.monotonic() < deadline, "the sentinels never knew the replica and each other: %r"
                    % [sentinel_knows(hosts, x) for x in ("r1", "r2", "s")])
            time.sleep(0.2)
        sentinels = ",".join("%s:%d" % (hosts.address[x], SENTINEL_PORT) for x in ("r1", "r2", "s"))
        h.check(sentinel_master(hosts, "s") == r1.encode() + b":6379", "the sentinels do not name r1 first")
        engine = ["--engine", "redis", "--sentinel", sentinels, "--sentinel-master", MASTER]
        broker_a = redis_hosts.start_node(hosts, "a", engine, 5000)[0]
        broker_b = redis_hosts.start_node(hosts, "b", engine, 5000)[0]
        subs = [client(hosts, x, SUB_PORT, h.SUBSCRIBER_GREETING, "sub-" + x) for x in ("a", "b")]
        for c in subs:
            subscribe(c, "t")
        raws = [raw_subscriber(hosts, x) for x in ("a", "b")]
        pub = client(hosts, "a", SOURCE_PORT, h.SOURCE_GREETING, "pub-a")
        pub.send(b"".join(b"PUB t m%d\n" % i for i in range(1, BEFORE + 1)))
        seen, got, raw_keys = {}, [[], []], [[], []]
        for i in range(2):
            raw_keys[i] += raw_collect(raws[i][1], b"m%d" % BEFORE, "raw-" + "ab"[i], seen)
            collect(subs[i], b"m%d" % BEFORE, got[i])
        first_epoch = raw_keys[0][0][0]

        # Mid-stream: the master dies while the publisher goes on
        marks = [h.wait_stderr(b, "channels connected") for b in (broker_a, broker_b)]
        sent = BEFORE
        for _ in range(IN_FLIGHT):
            sent += 1
            pub.sendline("PUB t m%d" % sent)
        master.kill()
        deadline = time.monotonic() + 40
        while sentinel_master(hosts, "s") != r2.encode() + b":6379":
            h.check(time.monotonic() < deadline, "the sentinels never promoted r2: %r" % sentinel_master(hosts, "s"))
            sent += 1
            pub.sendline("PUB t m%d" % sent)
            time.sleep(0.05)
        # Each broker moves to r2 and publishes there in generation 1; the
        # first to get there is the one that bumped it
        promoted = 0
        for broker, mark in zip((broker_a, broker_b), marks):
            at = h.wait_stderr(broker, "is at %s:6379 (a new master)" % r2, timeout=30, start=mark)
            h.wait_stderr(broker, "generation 1", timeout=30, start=at)
            promoted += b"was promoted" in open(broker.errpath, "rb").read()[mark:]
        h.check(promoted == 1, "%d brokers bumped the generation, not one" % promoted)
        # Once both brokers publish to r2, the stream goes on
        for _ in range(AFTER):
            sent += 1
            pub.sendline("PUB t m%d" % sent)
        for i in range(2):
            raw_keys[i] += raw_collect(raws[i][1], b"m%d" % sent, "raw-" + "ab"[i], seen)
            collect(subs[i], b"m%d" % sent, got[i])
        new_epoch = raw_keys[0][-1][0]
        h.check(new_epoch != first_epoch, "still epoch %s after the promotion" % first_epoch.decode())
        for i, c in enumerate(subs):
            h.check(raw_keys[i][-1][0] == new_epoch, "the brokers disagree on the new epoch")
            last = check_client(c.name, got[i], first_epoch, seen)
            h.check(last[0] == new_epoch, "%s: still in epoch %s after the promotion, never told"
                    % (c.name, last[0].decode()))
            h.check(c.ping() == [], "%s: more than expected" % c.name)
        for context, raw in raws:
            raw.close()
            context.term()
        # Every publish a's broker took was stamped or dropped and counted,
        # never held back for later: the ones sent while no master could
        # take them failed. Stamped and never seen can only be what the
        # dying master acknowledged in its last moment (asynchronous
        # replication: the promoted replica lacks it, and the new epoch
        # says so); bounded by what was in flight when it was killed
        stats = broker_stats(hosts, "a")
        payloads = {seen[key] for key in seen}
        h.check(stats["engine_failed"] > 0, "no publish failed during the failover: %r" % stats["engine_failed"])
        h.check(stats["engine_published"] + stats["engine_failed"] == sent,
                "%d sent, %d stamped, %d counted as dropped" % (sent, stats["engine_published"], stats["engine_failed"]))
        unseen = stats["engine_published"] - len(payloads)
        h.check(0 <= unseen <= IN_FLIGHT, "%d stamped, %d delivered" % (stats["engine_published"], len(payloads)))
        h.check(stats["engine_master_changes"] == 1, "master changes at a: %r" % stats["engine_master_changes"])
        generations = stats["engine_generations"] + broker_stats(hosts, "b")["engine_generations"]
        h.check(generations == 1, "generation bumps seen by the brokers: %r" % generations)
        count = {c.name: sum(1 for x in got[i] if x[2] is not None) for i, c in enumerate(subs)}
    return ("master killed after %d of %d published; r2 promoted; both brokers moved to it, one bumped the "
            "generation; subscribers told -ERR reset with a new epoch and then gap-free (%s messages; "
            "%d (epoch, seq) seen, none with two payloads; %d dropped and counted at a during the failover, "
            "%d acknowledged by the dying master and lost with it)"
            % (BEFORE, sent, count, len(seen), stats["engine_failed"], unseen))


if __name__ == "__main__":
    if deployment.CURRENT != "procs":
        print("SKIP 68-redis-sentinel-failover: runs the three programs on each host")
        raise SystemExit(77)
    redis_server.skip_unless_available("68-redis-sentinel-failover")
    if not os.access("/usr/bin/redis-sentinel", os.X_OK):
        print("SKIP 68-redis-sentinel-failover: redis-sentinel is not installed (apt-get install redis-sentinel)")
        raise SystemExit(77)
    netns.skip_unless_possible("68-redis-sentinel-failover")
    h.run("68-redis-sentinel-failover", test, budget=150)
