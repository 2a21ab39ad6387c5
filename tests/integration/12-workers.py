#!/usr/bin/python3
"""Workers: source and subscriber with --workers 4 (connections spread over
worker threads sharing one port). 20 source connections each publish 500
messages on their own topic; 10 subscriber connections on `>` each receive
all 10,000 with every topic's order intact. The workers' own counters
(logged at exit) show that the connections did spread: publishers on at
least two source workers, each of which published, and subscribers on at
least two subscriber workers, each of which received."""

import threading

import harness as h
from guard import per_worker, spread, stop
from harness import subscribe

WORKERS = 4
PUBS = 20
PER_PUB = 500
SUBS = 10


def test():
    h.raise_nofile()
    with h.system(workers=WORKERS) as S:
        subs = []
        for i in range(SUBS):
            c = S.sub_client("sub-%d" % i)
            subscribe(c, ">")
            subs.append(c)
        pubs = [S.source_client("pub-%02d" % i) for i in range(PUBS)]
        errors = []

        def publish(i, c):
            try:
                c.send(b"".join(b"PUB w.p%02d %d-%d\n" % (i, i, k)
                                for k in range(1, PER_PUB + 1)))
            except OSError as e:
                errors.append("pub-%02d: %s" % (i, e))

        threads = [threading.Thread(target=publish, args=(i, c), daemon=True)
                   for i, c in enumerate(pubs)]
        for t in threads:
            t.start()
        total = PUBS * PER_PUB
        got = h.read_many(subs, [total] * SUBS, timeout=40, what="deliveries")
        for t in threads:
            t.join(h.STEP)
        h.check(not errors, "publish failed: %s" % errors)

        for c, lines in zip(subs, got):
            nxt = {}
            for n, line in enumerate(lines):
                m = h.parse_msg(line)
                h.check(m is not None and m[0].startswith(b"w.p"),
                        "%s: line %d is not a delivery of w.pNN: %r" % (c.name, n, line))
                topic, seq, payload = m
                i = int(topic[3:])
                k = nxt.get(i, 1)
                h.check(seq == k and payload == b"%d-%d" % (i, k),
                        "%s: topic %r: expected seq %d payload %r, got seq %d payload %r "
                        "(line %d)" % (c.name, topic, k, b"%d-%d" % (i, k), seq, payload, n))
                nxt[i] = k + 1
            short = {i: v - 1 for i, v in nxt.items() if v - 1 != PER_PUB}
            h.check(len(nxt) == PUBS and not short,
                    "%s: per-topic counts wrong: %d topics, short %r" % (c.name, len(nxt), short))
        for c in subs:
            h.check(c.ping() == [], "%s: unexpected extra lines" % c.name)
        for c in pubs:
            h.check(c.ping() == [], "%s: unexpected lines from the source" % c.name)
        S.check_alive()
        stop(S.source)
        stop(S.subscriber)
        src = spread(S.source, "source")
        sub = spread(S.subscriber, "subscriber")
        published = per_worker(S.source, r"source: worker (\d+) stopped after publishing (\d+)")
        received = per_worker(S.subscriber, r"subscriber: worker (\d+) stopped after receiving (\d+)")
        h.check(sum(published.values()) == total and len([n for n in published.values() if n]) >= 2,
                "source workers published %r: expected %d over at least two" % (published, total))
        h.check(len([n for n in received.values() if n]) >= 2,
                "subscriber workers received %r: expected traffic on at least two" % received)
    return ("%d publishers x %d on %d workers -> %d subscribers x %d, per-topic order intact; "
            "published per source worker %r, clients per subscriber worker %r" % (
                PUBS, PER_PUB, WORKERS, SUBS, total, published, sub))


if __name__ == "__main__":
    h.run("12-workers", test)
