#!/usr/bin/python3
"""Front-ends fail over between brokers: broker A killed mid-stream
(network namespaces).

Redis on host r, broker A on host a, broker B on host b. Host a also runs
a source and a subscriber front-end given both brokers (A first, B next)
and a 2 s broker timeout. A publisher at a's source sends on topic t at
about 5,000 msg/s; a VERBOSE publisher sends on topic v. Mid-stream
(messages already delivered, more to come) broker A gets kill -9. Then:

- both front-ends really moved: their logs name broker B, their metrics
  count a move, and B's STATS shows what it took in;
- the subscriber's clients were told (-ERR offline, then -ERR online) and
  their stream on t goes on with no gap and no duplicate: seqs 1..n
  consecutive, payloads in the order sent;
- what the publisher sent and no subscriber got is at most what the
  source counted lost (zchannel_dropped_total{cause="failover"}, the same
  figure in its log);
- every VERBOSE publish was answered once: confirmed (and then delivered
  with that seq) or unconfirmed; sent again, the unconfirmed ones are
  delivered too.

It runs three times: A killed outright (it had stamped nearly everything
it read); A frozen (SIGSTOP) for half a second before the kill, so that
what the source sent it meanwhile dies unread in its buffers; and A frozen
for good, its connections open, so that only the heartbeat can find it
gone (A must still be alive when the front-ends have moved); and once more
frozen for good, but with Redis stopped for 1.5 s just before, so that A
holds a backlog of publishes it has read but Redis has not stored when it
freezes: a hand-over it confirmed must cover only what Redis answered, or
that backlog is lost uncounted. The frozen runs must see messages really
lost and VERBOSE publishes unconfirmed, or the counting was not put to the
test."""

import re
import signal
import threading
import time
import urllib.request

import msgpack
import zmq

import harness as h
import netns
import redis_hosts
from harness import subscribe

SOURCE_PORT, SUB_PORT, SOURCE_METRICS, SUB_METRICS = 2345, 2346, 9101, 9102
RATE, SECONDS, KILL_AT, FREEZE, REDIS_STOP = 5000, 6.0, 2.0, 0.5, 1.5
N = int(RATE * SECONDS)
NV = 400


def broker_cmd(hosts, host, redis_address):
    any_ep = "tcp://%s:%d"
    return [h.BROKER, "--engine", "redis", "--redis", redis_address, "--history-per-topic", str(N),
            "--ingress", any_ep % (hosts.address[host], 2206), "--egress", any_ep % (hosts.address[host], 2207),
            "--control", any_ep % (hosts.address[host], 2208)]


def front_args(hosts, data_port):
    args = []
    for host in ("a", "b"):
        args += ["--broker", "tcp://%s:%d" % (hosts.address[host], data_port),
                 "--control", "tcp://%s:2208" % hosts.address[host]]
    return args + ["--broker-timeout", "2s"]


def client(hosts, port, greeting, name):
    with hosts.inside("a"):
        c = h.LineClient(h.HOST, port, name=name)
    c.expect(greeting, what="greeting of " + name)
    return c


def metric(hosts, port, name):
    with hosts.inside("a"):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=h.STEP) as r:
            text = r.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def stats_at(hosts, host):
    """The STATS of host's broker, asked from inside host (a context of
    its own: ZeroMQ's I/O thread takes the namespace it starts in)."""
    with hosts.inside(host):
        context = zmq.Context()
        dealer = context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect("tcp://%s:2208" % hosts.address[host])
    try:
        dealer.send(b"STATS")
        h.check(dealer.poll(h.STEP * 1000), "no STATS from the broker at %s" % host)
        reply = dealer.recv_multipart()
        h.check(len(reply) == 2 and reply[0] == b"STATS", "STATS at %s: %r" % (host, reply))
        return msgpack.unpackb(reply[1], raw=False, strict_map_key=False)
    finally:
        dealer.close()
        context.term()


def paced_publish(pub, done):
    """N messages on t at RATE, in batches every 10 ms."""
    start = time.monotonic()
    sent = 0
    while sent < N:
        due = min(N, int((time.monotonic() - start) * RATE) + 50)
        if due > sent:
            pub.send(b"".join(b"PUB t m%d\n" % i for i in range(sent + 1, due + 1)))
            sent = due
        time.sleep(0.01)
    done.set()


def read_answers(client, count, out):
    """count lines from client into out, each with the time it came."""
    for _ in range(count):
        line = client.readline(timeout=60, what="answers to VERBOSE publishes")
        out.append((time.monotonic(), line))


def scenario(mode):
    """One run: at KILL_AT, A is killed ("kill"); or stopped (SIGSTOP) and
    killed FREEZE s later ("freeze-kill"), so that what the source sends
    meanwhile sits unread in A's buffers and dies with it, a real loss to
    count; or stopped for good ("freeze"): its connections stay open, so
    only the heartbeat can tell the front-ends it stopped answering; or
    ("redis-lag") the same after Redis was stopped REDIS_STOP s (and goes on
    once A is frozen), so A freezes with publishes not yet stored."""
    freeze = mode != "kill"
    with netns.Hosts(["r", "a", "b"]) as hosts:
        redis, redis_address = redis_hosts.start_redis(hosts, "r")
        broker_a = hosts.start("a", broker_cmd(hosts, "a", redis_address), name="broker-a")
        broker_b = hosts.start("b", broker_cmd(hosts, "b", redis_address), name="broker-b")
        for b in (broker_a, broker_b):
            h.wait_stderr(b, "channels connected", timeout=15)
        source = hosts.start("a", [h.SOURCE, "--listen", "127.0.0.1:%d" % SOURCE_PORT,
                                   "--metrics-listen", "127.0.0.1:%d" % SOURCE_METRICS]
                             + front_args(hosts, 2206), name="source-a")
        sub = hosts.start("a", [h.SUBSCRIBER, "--listen", "127.0.0.1:%d" % SUB_PORT,
                                "--metrics-listen", "127.0.0.1:%d" % SUB_METRICS]
                          + front_args(hosts, 2207), name="subscriber-a")
        with hosts.inside("a"):
            h.wait_frontend(SOURCE_PORT, h.SOURCE_GREETING, source, name="source-a").close()
            h.wait_frontend(SUB_PORT, h.SUBSCRIBER_GREETING, sub, name="subscriber-a").close()
        sub_t = client(hosts, SUB_PORT, h.SUBSCRIBER_GREETING, "sub-t")
        sub_v = client(hosts, SUB_PORT, h.SUBSCRIBER_GREETING, "sub-v")
        subscribe(sub_t, "t")
        subscribe(sub_v, "v")
        pub = client(hosts, SOURCE_PORT, h.SOURCE_GREETING, "pub")
        pub_v = client(hosts, SOURCE_PORT, h.SOURCE_GREETING, "pub-v")
        pub_v.sendline("VERBOSE on")
        pub_v.expect(b"+OK", what="VERBOSE on")

        finished = threading.Event()
        sender = threading.Thread(target=paced_publish, args=(pub, finished), daemon=True)
        sender.start()
        # The VERBOSE publisher: one message every 10 ms around the kill
        timed = []
        replies = threading.Thread(target=read_answers, args=(pub_v, NV, timed), daemon=True)
        replies.start()
        for i in range(1, NV + 1):
            pub_v.sendline("PUB v v%d" % i)
            time.sleep(0.01)
            if mode == "redis-lag" and i == int((KILL_AT - REDIS_STOP) * 100):
                redis.signal(signal.SIGSTOP)
            if i == int(KILL_AT * 100):
                # mid-stream: the subscriber has some of t, the publisher has more to send
                got_before, _ = sub_t.read_some(1, timeout=h.STEP)
                h.check(got_before and h.parse_msg(got_before[0]) is not None,
                        "nothing delivered before the kill: %r" % got_before)
                h.check(not finished.is_set(), "the publisher finished before the kill")
                stopped_at = time.monotonic()
                if freeze:
                    broker_a.signal(signal.SIGSTOP)
                    if mode == "redis-lag":
                        time.sleep(0.3)
                        redis.signal(signal.SIGCONT)
                else:
                    broker_a.kill()
            if mode == "freeze-kill" and i == int((KILL_AT + FREEZE) * 100):
                broker_a.kill()
        finished.wait(60)
        h.check(finished.is_set(), "the publisher did not finish")
        replies.join(60)
        h.check(len(timed) == NV, "VERBOSE answers: %d of %d" % (len(timed), NV))
        answers = [line for _, line in timed]
        # the source's move answers every confirm still awaited at once: the
        # first "unconfirmed" marks when it gave A up
        gave_up = [at for at, line in timed if line.startswith(b"-ERR unconfirmed")]
        detected = gave_up[0] - stopped_at if gave_up else None

        # Both front-ends moved to B, and said so
        b_data = "tcp://%s:2206" % hosts.address["b"]
        h.wait_stderr(source, "publishing through %s" % b_data, timeout=10)
        h.wait_stderr(sub, "to broker tcp://%s:2207" % hosts.address["b"], timeout=10)
        if mode in ("freeze", "redis-lag"):
            # A never closed a connection: the heartbeat alone moved them
            h.check(broker_a.alive(), "broker A is gone: the freeze did not hold")
        stats_b = stats_at(hosts, "b")
        h.check(stats_b["messages_in"] > 0, "broker B took nothing in: %r" % stats_b["messages_in"])

        # The stream on t: told, then 1..n consecutive, payloads in the order sent
        lines = got_before
        while True:
            more, why = sub_t.read_some(N, timeout=5)
            lines += more
            if why:
                break
        notices = [line for line in lines if line.startswith(b"-ERR")]
        msgs = [h.parse_msg(line) for line in lines if line.startswith(b"MSG ")]
        h.check(any(n.startswith(b"-ERR offline") for n in notices), "sub-t not told offline: %r" % notices)
        h.check(any(n.startswith(b"-ERR online") for n in notices), "sub-t not told online: %r" % notices)
        h.check(not [n for n in notices if not re.match(rb"-ERR (offline|online) ", n)],
                "sub-t got other notices: %r" % notices)
        seqs = [m[1] for m in msgs]
        wrong = [(i, s) for i, s in enumerate(seqs) if s != i + 1][:3]
        h.check(seqs and not wrong, "t's seqs not 1..n: gap or duplicate at (index, seq) %r" % wrong)
        numbers = [int(m[2][1:]) for m in msgs]
        h.check(numbers == sorted(numbers) and len(set(numbers)) == len(numbers),
                "t's payloads out of order or twice")
        delivered = len(numbers)
        missing = N - delivered
        lost = metric(hosts, SOURCE_METRICS, 'zchannel_dropped_total{role="source",cause="failover"}')
        # per worker, its last "counted ... in all" is its total
        per_worker = {}
        for worker, count in re.findall(rb"worker (\d+) left broker .*?\(counted: (\d+) in all\)",
                                        open(source.errpath, "rb").read()):
            per_worker[worker] = int(count)
        logged = sum(per_worker.values())
        h.check(per_worker and logged == lost,
                "the source's log (%r) and metric (%d) disagree on what was lost" % (logged, lost))
        h.check(missing <= lost, "%d sent on t never delivered, but only %d counted lost" % (missing, lost))
        moves_source = metric(hosts, SOURCE_METRICS, "zchannel_broker_moves_total")
        moves_sub = metric(hosts, SUB_METRICS, "zchannel_broker_moves_total")
        h.check(moves_source >= 2 and moves_sub >= 2, "moves: source %d, subscriber %d (one per worker)"
                % (moves_source, moves_sub))

        # VERBOSE: each answered once; confirmed ones delivered with that seq,
        # the unconfirmed ones sent again and delivered
        confirmed, unconfirmed = {}, []
        for i, line in enumerate(answers, 1):
            if line.startswith(b"+OK v "):
                confirmed[i] = int(line.split()[2])
            else:
                h.check(line.startswith(b"-ERR unconfirmed v"), "VERBOSE answer %d: %r" % (i, line))
                unconfirmed.append(i)
        for i in unconfirmed:
            pub_v.sendline("PUB v v%d" % i)
        for i in unconfirmed:
            line = pub_v.readline(what="answer to a resend")
            h.check(line.startswith(b"+OK v "), "resend of v%d: %r" % (i, line))
        got_v = {}
        while True:
            more, why = sub_v.read_some(NV * 2, timeout=3)
            for line in more:
                m = h.parse_msg(line)
                if m:
                    got_v.setdefault(int(m[2][1:]), []).append(m[1])
            if why:
                break
        for i, seq in confirmed.items():
            h.check(seq in got_v.get(i, []), "confirmed v%d (seq %d) not delivered with it" % (i, seq))
        h.check(all(i in got_v for i in range(1, NV + 1)), "v: not every payload delivered after resends")
        if freeze:
            h.check(missing > 0 and unconfirmed and detected is not None, "A frozen then killed, yet %d lost and %d VERBOSE publishes "
                    "unconfirmed: the scenario did not happen" % (missing, len(unconfirmed)))
    what = {"kill": "killed", "freeze-kill": "frozen %.1fs then killed" % FREEZE, "freeze": "frozen",
            "redis-lag": "frozen with Redis stopped %.1fs before" % REDIS_STOP}[mode]
    return ("A %s after %.1fs of %d msg/s: both front-ends moved to B%s; t: %d sent, %d delivered "
            "(seqs 1..%d, no gap, no duplicate), %d missing, %d counted lost by the source; "
            "VERBOSE: %d confirmed, %d unconfirmed (sent again, all delivered)"
            % (what, KILL_AT, RATE, " (the source gave A up %.1fs after)" % detected if detected else "",
               N, delivered, delivered, missing, lost, len(confirmed), len(unconfirmed)))


def test():
    return "; ".join(scenario(mode) for mode in ("kill", "freeze-kill", "freeze", "redis-lag"))


if __name__ == "__main__":
    redis_hosts.run("66-failover-kill", test, budget=200,
                    why="zchannel run embeds its one broker, which cannot be failed over "
                        "(its front-ends take no --broker); runs with the three programs")
