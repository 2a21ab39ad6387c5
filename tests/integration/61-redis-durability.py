#!/usr/bin/python3
"""The Redis engine with persistence: history that survives every broker.

Redis runs with its append-only file (fsync always). Two brokers, each with
its front-ends, publish 300 messages on a topic (half at each); then every
zchannel process is stopped, and new ones are started on new ports. A client
at the new B resuming with `SUB t FROM 100@<epoch>` gets seqs 101..300 of
the same epoch and nothing else; new publishes continue at 301 in that
epoch. Then Redis itself is killed and started again from its file: the
seq, epoch and history are still there."""


import harness as h
import redis_server
from harness import msg_line, subscribe

N = 300


def test():
    redis = redis_server.Redis(aof=True)
    args = redis_server.engine_args(redis) + ["--history-per-topic", "1000"]
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        live = B.sub_client("live")
        subscribe(live, "t")
        A.source_client("pub-a").send(b"".join(b"PUB t m%d\n" % i for i in range(1, N // 2 + 1)))
        live.read_lines(N // 2, what="the first half")
        B.source_client("pub-b").send(b"".join(b"PUB t m%d\n" % i for i in range(N // 2 + 1, N + 1)))
        lines = live.read_lines(N // 2, what="the second half")
        h.compare_lines("live", lines, [msg_line("t", i, "m%d" % i) for i in range(N // 2 + 1, N + 1)])
    reply = redis_server.command(redis.port, "HGET", "zch:h:t", "epoch")
    epoch = h.epoch_text(int(reply.split(b"\r\n")[1])).decode()

    def resume(S, name, position, seqs):
        c = S.sub_client(name)
        subscribe(c, "t FROM %s" % position)
        h.compare_lines(name, c.read_lines(len(seqs), timeout=20),
                        [msg_line("t", i, "m%d" % i) for i in seqs])
        h.check(c.ping() == [], "%s: more than seqs %d..%d" % (name, seqs[0], seqs[-1]))
        return c

    # Every zchannel process is gone; new ones on new ports
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        c = resume(B, "resume-b", "100@" + epoch, list(range(101, N + 1)))
        A.source_client("pub-a2").send(b"PUB t m%d\n" % (N + 1))
        c.expect(msg_line("t", N + 1, "m%d" % (N + 1)), what="seq %d after the restart" % (N + 1))
    # Redis too, from its append-only file
    redis.kill()
    redis.start()
    with h.system(broker_args=args) as A:
        resume(A, "resume-a", "290@" + epoch, list(range(291, N + 2)))
    redis.remove()
    return ("%d messages through two brokers; after all brokers restarted, FROM 100@%s gave "
            "101..%d and publishing went on at %d in the same epoch; after Redis restarted from "
            "its append-only file too, FROM 290 went on" % (N, epoch, N, N + 1))


if __name__ == "__main__":
    redis_server.skip_unless_available("61-redis-durability")
    h.run("61-redis-durability", test, budget=100)
