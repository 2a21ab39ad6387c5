#!/usr/bin/python3
"""The internal envelope on the ingress, source to broker (proto/PROTOCOL.md
section 3.6, "On the ingress").

- A publisher's burst on two topics, in runs of ten, reaches the subscriber
  whole and in order; the broker's STATS show that it came in internal
  batches (batched_in grew by every message, batches_in by fewer).
- Internal frames from an outside producer: a valid version-1 batch is
  forwarded like any message; a batch of version 2, a malformed batch
  body, a batch on a bad topic and a lone internal topic frame are dropped
  and counted as malformed (a bad topic counts every message of its batch),
  with one log line naming the version, while a real publisher's messages
  all go through.
- Three processes only: a real source meets two stand-in brokers, a pyzmq
  XSUB that subscribes only to everything (a broker of a release without
  the internal envelope), which gets section 3.1's three frames per message
  and never an internal one, and one that also subscribes the version-1
  prefix, which gets batches holding several messages."""

import struct
import time

import msgpack
import zmq

import harness as h
from harness import msg_line, subscribe

BURST = 2000        # messages in one publisher write
RUN = 10            # consecutive messages of one topic in it


def batch_body(entries):
    """A version-1 batch frame: count, then meta and payload sizes and bytes."""
    body = struct.pack(">I", len(entries))
    for meta, payload in entries:
        body += struct.pack(">I", len(meta)) + meta + struct.pack(">I", len(payload)) + payload
    return body


def burst_in_batches(S):
    tsub = S.sub_client("text-sub")
    subscribe(tsub, "ib.>")
    src = S.source_client("text-pub")
    src.sendline("PUB ib.warm 0")
    tsub.expect(msg_line("ib.warm", 1, b"0"), what="the warm-up message")
    before = S.stats()
    lines, expected, seqs = [], [], {"ib.a": 0, "ib.b": 0}
    for i in range(BURST):
        topic = "ib.a" if (i // RUN) % 2 == 0 else "ib.b"
        seqs[topic] += 1
        lines.append("PUB %s %d" % (topic, i))
        expected.append(msg_line(topic, seqs[topic], b"%d" % i))
    src.send(("\n".join(lines) + "\n").encode())
    h.compare_lines("text-sub", tsub.read_lines(BURST, what="the burst"), expected)
    after = S.stats()
    batched = after["batched_in"] - before["batched_in"]
    batches = after["batches_in"] - before["batches_in"]
    h.check(batched == BURST, "STATS batched_in grew by %d for a burst of %d through the source"
            % (batched, BURST))
    h.check(0 < batches < BURST, "STATS batches_in grew by %d for %d messages: no batch held more "
            "than one" % (batches, BURST))
    h.check(after["malformed"] == before["malformed"], "malformed grew: %r" % after)
    return batches


def outside_internal_frames(S):
    tsub = S.sub_client("text-sub-2")
    subscribe(tsub, "ix.>")
    src = S.source_client("text-pub-2")
    pub = h.zsocket(zmq.PUB, S.ingress)
    # the PUB's pipe is live once one of its probes comes through; a sync
    # after it comes after every probe (one PUB keeps its order)
    deadline = time.monotonic() + h.STEP
    probes = 0
    while not tsub.pump(0.1) and not tsub.buf:
        probes += 1
        pub.send_multipart([b"ix.probe", b"%d" % probes])
        h.check(time.monotonic() < deadline, "no probe from the PUB reached the subscriber")
    pub.send_multipart([b"ix.sync", b"s"])
    tsub.read_until(lambda l: l.startswith(b"MSG ix.sync "), what="the PUB's sync")
    before = S.stats()
    meta = msgpack.packb({"v": 1, "src": "py-batch"})
    good = batch_body([(meta, b"one"), (meta, b"two")])
    bad = [
        [b"\x00\x02ix.v", good],                                  # another version
        [b"\x00\x01ix.m", b"\x00\x00\x00\x05junk"],               # count beyond the bytes
        [b"\x00\x01ix bad", batch_body([(meta, b"a"), (meta, b"b"), (meta, b"c")])],  # bad topic: 3
        [b"\x00\x01ix.lone"],                                     # one frame
        [b"\x00\x01ix.t", good + b"x"],                           # bytes after the last entry
    ]
    n_bad = 1 + 1 + 3 + 1 + 1
    src.sendline("PUB ix.real before")
    for frames in bad[:3]:
        pub.send_multipart(frames)
    pub.send_multipart([b"\x00\x01ix.py", good])
    for frames in bad[3:]:
        pub.send_multipart(frames)
    src.sendline("PUB ix.real after")
    want = {msg_line("ix.real", 1, b"before"), msg_line("ix.real", 2, b"after"),
            msg_line("ix.py", 1, b"one"), msg_line("ix.py", 2, b"two")}
    got = tsub.read_lines(4, what="the real and the valid batch's messages")
    h.check(set(got) == want, "got %r, want %r" % (got, sorted(want)))
    h.check(got.index(msg_line("ix.py", 1, b"one")) < got.index(msg_line("ix.py", 2, b"two")),
            "the valid batch's messages out of order: %r" % got)
    h.check(tsub.ping() == [], "extra deliveries after the bad frames")
    deadline = time.monotonic() + h.STEP
    while S.stats()["malformed"] - before["malformed"] < n_bad and time.monotonic() < deadline:
        time.sleep(0.05)
    after = S.stats()
    h.check(after["malformed"] - before["malformed"] == n_bad,
            "malformed grew by %d, want %d" % (after["malformed"] - before["malformed"], n_bad))
    h.wait_stderr(S.broker, "internal envelope version 2, this broker reads 1")
    pub.close()
    return n_bad


def stand_in_broker(subscriptions, publish_lines):
    """A real source against a pyzmq XSUB that subscribes as given; returns
    what the XSUB received for publish_lines sent in one write, and the
    source's log."""
    ep = h.tcp_ep(h.free_port())
    xsub = h.zsocket(zmq.XSUB, ep, bind=True)
    port = h.free_port()
    source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, port), "--broker", ep,
                      "--workers", "1"], name="source")
    try:
        h.wait_frontend(port, h.SOURCE_GREETING, source)
        # subscribed again until the source has them: the source's XPUB
        # passes each prefix up once, however often it comes
        deadline = time.monotonic() + h.STEP
        while "connected to the broker" not in source.stderr_text():
            for s in subscriptions:
                xsub.send(s)
            time.sleep(0.1)
            h.check(time.monotonic() < deadline, "the source never saw the stand-in's subscriptions")
        client = h.LineClient(h.HOST, port, name="pub", proc=source)
        client.expect(h.SOURCE_GREETING)
        client.send(("\n".join(publish_lines) + "\n").encode())
        got = []
        deadline = time.monotonic() + h.STEP
        while time.monotonic() < deadline:
            if xsub.poll(300):
                got.append(xsub.recv_multipart())
            elif got:
                break
        return got, source.stderr_text()
    finally:
        source.kill()
        xsub.close()


def sources_meet_stand_ins():
    lines = ["PUB is.t %d" % i for i in range(50)]
    # a broker of a release without the internal envelope: everything only
    got, log = stand_in_broker([b"\x01"], lines)
    h.check(all(len(f) == 3 and f[0] == b"is.t" for f in got),
            "the old broker got other than [topic][meta][payload]: %s" % repr(got[:3])[:400])
    h.check([f[2] for f in got] == [b"%d" % i for i in range(50)],
            "the old broker got %d of 50 messages, or out of order" % len(got))
    h.check("the outsiders' form: it reads no internal envelope 1" in log,
            "the source did not say it sends the outsiders' form: %s" % log[-2000:])
    # this release: the version-1 prefix first, then everything
    got, log = stand_in_broker([b"\x01\x00\x01", b"\x01"], lines)
    payloads = []
    for frames in got:
        h.check(len(frames) == 2 and frames[0] == b"\x00\x01is.t",
                "not an internal batch: %s" % repr(frames)[:300])
        body = frames[1]
        count, at = struct.unpack(">I", body[:4])[0], 4
        for _ in range(count):
            size = struct.unpack(">I", body[at:at + 4])[0]
            meta = msgpack.unpackb(body[at + 4:at + 4 + size], raw=False)
            h.check(meta.get("v") == 1 and not meta.get("seq"), "a batch meta already stamped: %r" % meta)
            at += 4 + size
            size = struct.unpack(">I", body[at:at + 4])[0]
            payloads.append(body[at + 4:at + 4 + size])
            at += 4 + size
        h.check(at == len(body), "bytes after a batch's last entry")
    h.check(payloads == [b"%d" % i for i in range(50)],
            "the batches held %d of 50 messages, or out of order" % len(payloads))
    h.check(len(got) < 50, "50 messages in one write came as %d batches: none held more than one"
            % len(got))
    h.check("connected to the broker (internal envelope 1)" in log,
            "the source did not say it sends the internal envelope: %s" % log[-2000:])
    return len(got)


def test():
    with h.system(workers=1) as S:
        batches = burst_in_batches(S)
        n_bad = outside_internal_frames(S)
        S.check_alive()
    summary = ("a burst of %d in %d batches, in order; %d bad internal messages dropped and "
               "counted beside a real publisher" % (BURST, batches, n_bad))
    if h.DEPLOYMENT == "procs":
        n = sources_meet_stand_ins()
        summary += ("; a source sent an old broker three frames per message and this release's "
                    "50 messages in %d batches" % n)
    return summary


if __name__ == "__main__":
    h.run("75-internal-ingress", test, budget=60)
