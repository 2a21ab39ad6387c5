#!/usr/bin/python3
"""The Redis engine over two shards.

Two brokers list the same two redis-servers. A subscriber at B follows
every topic ("SUB *"); a publisher at A publishes 50 messages on each of
40 topics. Each topic's hash and stream are on exactly one shard, both
shards hold some, the two brokers agree (the topic's seqs run 1..50 on
it), and the subscriber gets every message once, each topic in order."""

import harness as h
import redis_server
from harness import subscribe

TOPICS, EACH = 40, 50


def test():
    shards = [redis_server.Redis("redis-%d" % i) for i in range(2)]
    args = redis_server.engine_args(*shards)
    with h.system(broker_args=args) as A, h.system(broker_args=args) as B:
        sub = B.sub_client("sub-b")
        subscribe(sub, "s.*")
        pub = A.source_client("pub-a")
        pub.send(b"".join(b"PUB s.%d m%d\n" % (t, i) for i in range(1, EACH + 1) for t in range(TOPICS)))
        got = {}
        for line in sub.read_lines(TOPICS * EACH, timeout=30, what="every topic's messages"):
            topic, seq, payload = h.parse_msg(line)
            got.setdefault(topic, []).append((seq, payload))
        for t in range(TOPICS):
            h.check(got.get(b"s.%d" % t) == [(i, b"m%d" % i) for i in range(1, EACH + 1)],
                    "topic s.%d at B: %r" % (t, got.get(b"s.%d" % t, [])[:3]))
        h.check(sub.ping() == [], "more than expected")
    held = []
    for shard in shards:
        keys = {k for k in redis_server.command(shard.port, "KEYS", "zch:h:*").split(b"\r\n") if k.startswith(b"zch:")}
        held.append(keys)
    h.check(not (held[0] & held[1]), "topics on both shards: %r" % (held[0] & held[1]))
    h.check(len(held[0]) + len(held[1]) == TOPICS, "%d + %d topic hashes, not %d"
            % (len(held[0]), len(held[1]), TOPICS))
    h.check(held[0] and held[1], "one shard holds every topic: %d and %d" % (len(held[0]), len(held[1])))
    for shard in shards:
        shard.remove()
    return ("%d topics x %d messages through two brokers over two shards: %d and %d topics per "
            "shard, none on both, every message once and in order" % (TOPICS, EACH, len(held[0]), len(held[1])))


if __name__ == "__main__":
    redis_server.skip_unless_available("64-redis-shards")
    h.run("64-redis-shards", test, budget=100)
