#!/usr/bin/python3
"""Control streams never stall forwarding. A ZeroMQ requester asks for a
SNAPSHOT of 5,000 topics of 1 KiB and then reads nothing: meanwhile a text
subscriber gets all of 10,000 messages published through the source, and
the broker shows the stream still waiting. When the requester goes away,
the broker drops its stream and counts it. A requester that reads gets its
whole snapshot (every topic once, END OK), then a HISTORY with a tag.
Text clients that leave in the middle of a snapshot harm nobody."""

import time

import msgpack
import zmq

import harness as h
from harness import msg_line, subscribe

TOPICS = 5000
N = 10000


def wait_stats(S, pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        stats = S.stats()
        if pred(stats):
            return stats
        h.check(time.monotonic() < deadline, "broker STATS never showed %s: %r" % (what, stats))
        time.sleep(0.05)


def test():
    with h.system() as S:
        pub = h.zsocket(zmq.PUB, S.ingress)
        pub.setsockopt(zmq.SNDHWM, 0)
        deadline = time.monotonic() + h.STEP
        while S.stats()["messages_in"] == 0:
            pub.send_multipart([b"probe", b"p"])
            h.check(time.monotonic() < deadline, "broker ingress never took a message")
            time.sleep(0.05)
        body = b"v" * 1024
        for i in range(TOPICS):
            pub.send_multipart([b"cs.%05d" % i, body])
        wait_stats(S, lambda s: s["topics"] >= TOPICS + 1, "%d topics" % TOPICS)

        slow = h.zsocket(zmq.DEALER, S.control)
        slow.setsockopt(zmq.RCVHWM, 1)
        slow.setsockopt(zmq.RCVBUF, 4096)
        slow.send_multipart([b"SNAPSHOT", b"cs.>", b"slow"])
        wait_stats(S, lambda s: s["snapshot_requests"] == 1 and s["streams"] == 1, "the stream")

        sub = S.sub_client("live-subscriber")
        subscribe(sub, "live.t")
        src = S.source_client("publisher")
        src.send(b"".join(b"PUB live.t m%d\n" % i for i in range(1, N + 1)))
        got = sub.read_lines(N, timeout=30, what="live deliveries beside a stalled stream")
        h.compare_lines("live-subscriber", got, [msg_line("live.t", i, "m%d" % i)
                                                 for i in range(1, N + 1)])
        stats = S.stats()
        h.check(stats["streams"] == 1, "the stalled stream is gone early: %r" % stats)

        slow.close()
        stats = wait_stats(S, lambda s: s["streams"] == 0, "the stream dropped")
        h.check(stats["streams_abandoned"] == 1, "STATS streams_abandoned %d"
                % stats["streams_abandoned"])

        reader = h.zsocket(zmq.DEALER, S.control)
        reader.send(b"SNAPSHOT cs.> all")
        seen = set()
        while True:
            h.check(reader.poll(int(h.STEP * 1000)), "SNAPSHOT: nothing within %.0fs" % h.STEP)
            frames = reader.recv_multipart()
            h.check(frames[1] == b"all", "SNAPSHOT: wrong tag in %r" % frames[:3])
            if frames[0] == b"END":
                break
            h.check(frames[0] == b"MSG" and frames[2] not in seen and frames[4] == body,
                    "SNAPSHOT: bad or repeated %r" % frames[:3])
            seen.add(frames[2])
        epoch = h.epoch_text(S.stats()["epoch"])
        h.check(frames[2:] == [b"OK", b"%d" % TOPICS, b"0", epoch], "SNAPSHOT END %r" % frames)
        h.check(len(seen) == TOPICS, "SNAPSHOT: %d topics" % len(seen))
        reader.send_multipart([b"HISTORY", b"live.t", b"%d" % (N - 3), b"h1"])
        frames = [reader.recv_multipart() for _ in range(4)]
        seqs = [msgpack.unpackb(f[3])["seq"] for f in frames[:3]]
        epochs = {h.epoch_text(msgpack.unpackb(f[3])["ep"]) for f in frames[:3]}
        h.check([f[:3] for f in frames[:3]] == [[b"MSG", b"h1", b"live.t"]] * 3
                and seqs == [N - 2, N - 1, N] and epochs == {epoch}, "HISTORY: %r" % frames)
        h.check(frames[3] == [b"END", b"h1", b"OK", b"%d" % (N - 1023), b"%d" % N, epoch],
                "HISTORY END %r" % frames[3])
        # A position of another epoch: everything held, then END RESET
        reader.send_multipart([b"HISTORY", b"live.t", b"%d@zz" % (N - 1), b"h2"])
        frames = [reader.recv_multipart() for _ in range(1025)]
        seqs = [msgpack.unpackb(f[3])["seq"] for f in frames[:1024]]
        h.check(seqs == list(range(N - 1023, N + 1)), "HISTORY from another epoch: seqs %r..." % seqs[:5])
        h.check(frames[1024] == [b"END", b"h2", b"RESET", b"%d" % (N - 1023), b"%d" % N, epoch],
                "HISTORY END from another epoch %r" % frames[1024])
        # A seq past the topic's last, without epoch: the same (a broker that started afresh)
        reader.send_multipart([b"HISTORY", b"live.t", b"%d" % (N + 5), b"h3"])
        frames = [reader.recv_multipart() for _ in range(1025)]
        h.check(frames[1024][:3] == [b"END", b"h3", b"RESET"], "HISTORY END past the last %r" % frames[1024])
        # HEAL of another epoch sends nothing
        reader.send_multipart([b"HEAL", b"live.t", b"%d@zz" % (N - 5), b"%d" % N, b"h4"])
        h.check(reader.recv_multipart() == [b"END", b"h4", b"RESET", b"0", b"0", epoch], "HEAL of another epoch")
        h.check(S.stats()["history_resets"] == 3, "STATS history_resets %r" % S.stats()["history_resets"])
        reader.send_multipart([b"SEQS", b"cs.0000", b"q"])
        frames = [reader.recv_multipart() for _ in range(11)]
        h.check(sorted(f[2] for f in frames[:10]) == [b"cs.%05d" % i for i in range(10)]
                and all(f[:2] == [b"SEQ", b"q"] and f[3:] == [b"1", epoch] for f in frames[:10])
                and frames[10] == [b"END", b"q", b"OK", b"10", b"0", epoch], "SEQS cs.0000: %r" % frames)
        reader.send(b"HISTORY live.t x")
        h.check(reader.recv_multipart() == [b"ERR", b"bad seq"], "HISTORY with a bad seq")
        reader.close()

        # Text clients that leave in the middle of their snapshot harm nobody.
        for k in range(5):
            gone = S.sub_client("leaver-%d" % k)
            gone.sendline("SUB cs.> SNAPSHOT")
            gone.expect(b"+OK", what="reply to SUB cs.> SNAPSHOT")
            gone.close()
        stay = S.sub_client("stayer")
        stay.sendline("SUB cs.> SNAPSHOT")
        stay.expect(b"+OK", what="reply to SUB cs.> SNAPSHOT")
        lines = stay.read_lines(TOPICS, timeout=20, what="snapshot lines")
        h.check(len(set(lines)) == TOPICS, "stayer: %d distinct lines" % len(set(lines)))
        h.check(stay.ping() == [], "stayer: lines after the snapshot")
        S.check_alive()
    return ("%d live messages delivered beside a stalled %d-topic snapshot stream; the stream "
            "dropped and counted when its requester left" % (N, TOPICS))


if __name__ == "__main__":
    h.run("31-control-streams", test, budget=80)
