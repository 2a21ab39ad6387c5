#!/usr/bin/python3
"""Gap healing: the subscriber front-end's broker link is made to drop
(--upstream-hwm 20 on the front-end, --egress-hwm 20 on the broker) and its
reader is stalled (SIGSTOP) while 30,000 messages of 1 KiB
go through the broker, on 400 topics (more gaps at once than a worker
asks about at a time). After SIGCONT its two clients still get every
message, per topic in seq order, with no -ERR line; the broker's STATS show
that messages were really dropped on the link and filled from the history."""

import signal
import time

import harness as h
from harness import msg_line, subscribe

N = 30000
TOPICS = ["g.t%03d" % i for i in range(400)]     # more than the 256 heals a worker sends at once
SIZE = 1024


def payload(i):
    head = b"%06d:" % i
    return head + b"x" * (SIZE - len(head))


def test():
    with h.system(workers=1, broker_args=["--egress-hwm", "20", "--history-per-topic", str(N)],
                  sub_args=["--upstream-hwm", "20", "--max-output", "64M"]) as S:
        clients = [S.sub_client("client-%d" % k) for k in range(2)]
        for c in clients:
            subscribe(c, "g.>")
        pub = S.source_client("publisher")
        # The front-end stops reading its broker link: what does not fit in
        # the high-water marks and socket buffers is dropped by the broker.
        S.subscriber.popen.send_signal(signal.SIGSTOP)
        try:
            plan = [(TOPICS[i % len(TOPICS)], i) for i in range(N)]
            data = b"".join(b"PUB %s %s\n" % (t.encode(), payload(i)) for t, i in plan)
            for off in range(0, len(data), 1 << 20):
                pub.send(data[off:off + (1 << 20)])
            deadline = time.monotonic() + 30
            while S.stats()["messages_in"] < N:
                h.check(time.monotonic() < deadline, "broker did not accept %d messages" % N)
                time.sleep(0.05)
        finally:
            S.subscriber.popen.send_signal(signal.SIGCONT)
        want = {t: [] for t in TOPICS}
        for t, i in plan:
            want[t].append(msg_line(t, len(want[t]) + 1, payload(i)))
        got = h.read_many(clients, [N] * len(clients), timeout=40, what="deliveries")
        for c, lines in zip(clients, got):
            per = {t: [] for t in TOPICS}
            for line in lines:
                h.check(line.startswith(b"MSG "), "%s: unexpected line %s" % (c.name, h.short(line, 100)))
                per[h.parse_msg(line)[0].decode()].append(line)
            for t in TOPICS:
                h.compare_lines("%s topic %s" % (c.name, t), per[t], want[t])
            h.check(c.ping() == [], "%s: lines after the %d deliveries" % (c.name, N))
        stats = S.stats()
        h.check(stats["gaps"] > 0 and stats["gap_messages_healed"] > 0,
                "no gap was healed (gaps %d, healed %d): the link did not drop, the test "
                "proves nothing" % (stats["gaps"], stats["gap_messages_healed"]))
        h.check(stats["gap_messages_lost"] == 0, "STATS gap_messages_lost %d"
                % stats["gap_messages_lost"])
        S.check_alive()
    return ("%d x %d B through a stalled, dropping link: %d gaps, %d messages healed from "
            "history, both clients got everything in order"
            % (N, SIZE, stats["gaps"], stats["gap_messages_healed"]))


if __name__ == "__main__":
    # stops one role's process: three processes only
    h.run("28-gap-heal", test, budget=80, deployments=("procs",))
