#!/usr/bin/python3
"""Queue groups (SUB <pattern> QUEUE <group>, frames {"queue": group})
across two subscriber front-ends of one broker: every message goes to
exactly one member, the members taking turns (300 messages, three members:
100 each, all distinct, each member's share in seq order), while an
ordinary subscriber gets all of them; a member that leaves (UNSUB) gets
nothing more and the others share what follows; a member that stops
reading is skipped (it gets fewer than its half, nothing is lost, it is not
cut off) and takes turns again once it has read."""

import os
import threading
import time

import frames
import harness as h

N = 300


def read_msgs(client, count, what):
    out = []
    for _ in range(count):
        topic, seq, payload = h.parse_msg(client.readline(what=what))
        out.append((seq, payload))
    return out


def read_frames(client, count, what):
    out = []
    for _ in range(count):
        msg = client.read(what=what)
        h.check(msg[0] == "msg", "%s: expected a msg frame, got %r" % (client.name, msg))
        out.append((msg[2], msg[3]))
    return out


def nothing_more(client, what):
    """PING, then the PONG must come with no delivery before it."""
    client.sendline("PING")
    line = client.readline(what="PONG after " + what)
    h.check(line == b"PONG", "%s: got %r before PONG (%s)" % (client.name, line, what))


def test():
    frame_port = h.free_port()
    with h.system(sub_args=["--frame-listen", "%s:%d" % (h.HOST, frame_port), "--max-output", "4M"]) as S:
        other_port = h.free_port()
        other = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, other_port), "--broker", S.egress,
                         "--control", S.control], name="subscriber-2")
        h.wait_frontend(other_port, h.SUBSCRIBER_GREETING, other, name="subscriber-2-ready").close()

        a = S.sub_client("member-a")
        b = frames.FrameClient(frame_port, name="member-b", proc=S.subscriber, rcvbuf=4096)
        c = h.LineClient(h.HOST, other_port, name="member-c", proc=other)
        c.expect(h.SUBSCRIBER_GREETING, h.STEP, "greeting")
        everyone = S.sub_client("ordinary")
        for member in (a, c):
            member.sendline("SUB jobs.* QUEUE workers")
            member.expect(b"+OK", h.STEP, "reply to SUB ... QUEUE")
        b.send(["sub", "jobs.*", {"queue": "workers"}])
        b.expect(["ok"], "reply to a queue sub")
        h.subscribe(everyone, "jobs.*")
        pub = S.source_client("publisher")

        # 1. three members on two front-ends take turns
        for i in range(N):
            pub.sendline("PUB jobs.a m%d" % i)
        all_of_them = read_msgs(everyone, N, "every message")
        h.check([p for _, p in all_of_them] == [b"m%d" % i for i in range(N)],
                "the ordinary subscriber did not get every message in order")
        shares = {"a": read_msgs(a, N // 3, "a's share"), "b": read_frames(b, N // 3, "b's share"),
                  "c": read_msgs(c, N // 3, "c's share")}
        for name, share in shares.items():
            seqs = [s for s, _ in share]
            h.check(seqs == sorted(seqs), "member %s: its share is out of order: %r" % (name, seqs[:10]))
        union = [p for share in shares.values() for _, p in share]
        h.check(sorted(union) == sorted(p for _, p in all_of_them) and len(set(union)) == N,
                "the members' shares are not every message exactly once")
        nothing_more(a, "its share")
        nothing_more(c, "its share")

        # 2. a member that leaves gets nothing more; the others share the rest
        c.sendline("UNSUB jobs.*")
        c.expect(b"+OK", h.STEP, "reply to UNSUB")
        for i in range(N, N + 100):
            pub.sendline("PUB jobs.a m%d" % i)
        read_msgs(everyone, 100, "the next 100")
        after = read_msgs(a, 50, "a's share after c left") + read_frames(b, 50, "b's share after c left")
        h.check(sorted(p for _, p in after) == sorted(b"m%d" % i for i in range(N, N + 100)),
                "after c left, a and b did not share the 100 messages exactly once")
        nothing_more(c, "leaving")
        nothing_more(a, "its share after c left")

        # 3. b stops reading: it is skipped, a takes the turns, nothing is lost
        # (the ordinary subscriber, whose part is shown, leaves first)
        everyone.sendline("UNSUB jobs.*")
        everyone.expect(b"+OK", h.STEP, "reply to UNSUB")
        slow_n, payload = 8000, "x" * 2000
        got_a = []
        done = threading.Event()

        raw_a = bytearray(a.buf)
        a.buf.clear()

        def drain():
            #  raw reads, parsed afterwards: a must keep up with everything
            a.sock.settimeout(0.2)
            while not done.is_set():
                try:
                    chunk = a.sock.recv(1 << 20)
                except OSError:
                    continue
                raw_a.extend(chunk)
                got_a[:] = [None] * raw_a.count(b"\n")
        readers = [threading.Thread(target=drain)]
        for t in readers:
            t.start()
        mark = os.path.getsize(S.subscriber.errpath)
        # paced (4000 msg/s), so that the front-ends keep up with the broker
        # and its skip takes effect at once
        t0 = time.monotonic()
        for i in range(slow_n):
            pub.sendline("PUB jobs.a s%d-%s" % (i, payload))
            if i % 100 == 99:
                time.sleep(max(0.0, t0 + (i + 1) / 4000.0 - time.monotonic()))
        h.wait_stderr(S.subscriber, "is slow", start=mark)
        deadline = time.monotonic() + h.STEP * 3
        got_b = []
        while len(got_a) + len(got_b) < slow_n and time.monotonic() < deadline:
            msg = b.read(what="b catching up")
            h.check(msg[0] == "msg", "b: expected its deliveries, got %r" % (msg,))
            got_b.append(msg[3])
        time.sleep(0.2)
        done.set()
        for t in readers:
            t.join()
        a.sock.settimeout(None)
        got_a = [h.parse_msg(line)[2] for line in bytes(raw_a).split(b"\n") if line]
        both = got_a + got_b
        h.check(len(both) == slow_n and len(set(both)) == slow_n,
                "while b was slow: %d deliveries, %d distinct, of %d" % (len(both), len(set(both)), slow_n))
        h.check(len(got_b) < slow_n // 2,
                "b was not skipped: it got %d of %d" % (len(got_b), slow_n))
        # caught up, b takes turns again
        for i in range(20):
            pub.sendline("PUB jobs.a back%d" % i)
        back_b = []
        deadline = time.monotonic() + h.STEP
        while len(back_b) < 1 and time.monotonic() < deadline:
            back_b.append(b.read(what="b's turn again")[3])
        S.check_alive()
        h.check(other.alive(), "the second subscriber died: %s" % other.describe())
        other.stop()
        return ("300 messages as 100+100+100 across two front-ends; 100 shared after a leave; "
                "b skipped while slow (%d of %d)" % (len(got_b), slow_n))


if __name__ == "__main__":
    h.run("54-queue-groups", test, budget=150)
