#!/usr/bin/python3
"""Broker ingress hygiene: malformed producer messages, interleaved with valid
ones, are dropped and counted in STATS "malformed"; forwarding continues; the
valid 1-, 2- and 3-frame forms reach a ZeroMQ SUB on the egress in order with
correct meta (v=1, per-topic seq, ts, unknown keys kept) and a text client of
zchannel-subscriber. Also the control port's PING and unknown requests."""

import time

import msgpack
import zmq

import harness as h
from harness import msg_line, subscribe


def test():
    with h.system() as S:
        text = S.sub_client("text-subscriber")
        subscribe(text, "g.>")

        pub = h.zsocket(zmq.PUB, S.ingress)
        sub = h.zsocket(zmq.SUB, S.egress)
        sub.setsockopt(zmq.SUBSCRIBE, b"")

        # Wait until both ZeroMQ paths are live: probes until one arrives.
        deadline = time.monotonic() + h.STEP
        while True:
            pub.send_multipart([b"probe", b"p"])
            if sub.poll(100):
                break
            h.check(time.monotonic() < deadline,
                    "no probe came through broker %s -> %s within %.0fs"
                    % (S.ingress, S.egress, h.STEP))
        # ... then a sync message, after which no probe is in flight.
        pub.send_multipart([b"g.sync", b"sync"])

        def next_msg(what):
            while True:
                if not sub.poll(int(h.STEP * 1000)):
                    h.fail("egress SUB: nothing within %.0fs while waiting for %s"
                           % (h.STEP, what))
                frames = sub.recv_multipart()
                if frames[0] == b"probe" or frames[0].startswith(b"$"):
                    continue
                return frames

        frames = next_msg("g.sync")
        h.check(frames[0] == b"g.sync", "egress SUB: expected g.sync, got %r" % frames)
        text.expect(msg_line("g.sync", 1, "sync"), what="g.sync on the text subscriber")
        before = S.stats()
        for key in ("messages_in", "malformed", "topics"):
            h.check(key in before, "STATS lacks %r: %r" % (key, before))
        h.check(before["malformed"] == 0, "STATS malformed is %r before any garbage"
                % before["malformed"])

        meta3 = msgpack.packb({"v": 1, "src": "py-test", "x-unknown": "kept", "h": {"k": "v"}})
        # (frames sent, expected (topic, seq, payload) or None if malformed)
        plan = [
            ([b"g.one hello world"], (b"g.one", 1, b"hello world")),
            ([b"g.bad4", b"a", b"b", b"c"], None),                 # 4 frames
            ([b"g.two", b"payload two"], (b"g.two", 1, b"payload two")),
            ([b""], None),                                          # empty message
            ([b"g.three", meta3, b"p3"], (b"g.three", 1, b"p3")),
            ([b"nospace"], None),                                   # 1 frame, no space
            ([b"g.two", b"a\nb\r\\c d"], (b"g.two", 2, b"a\nb\r\\c d")),
            ([b"g.bad", b"\xc1", b"x"], None),                      # meta: not msgpack
            ([b"g.one", b"second"], (b"g.one", 2, b"second")),
            ([b"g.bad", msgpack.packb([1, 2]), b"x"], None),       # meta: not a map
            ([b"g.bad", b"\x82\xa1v\x01", b"x"], None),             # meta: truncated map
            ([b"g bad", b"x"], None),                               # space in topic
            ([b"g bad", msgpack.packb({"v": 1}), b"x"], None),     # space in topic, 3 frames
            ([b"$sys.x", b"x"], None),                              # reserved topic
            ([b"$sys payload"], None),                              # reserved topic, 1 frame
            ([b"$ack.x", msgpack.packb({"v": 1}), b"x"], None),    # reserved, 3 frames
            ([b"", b"x"], None),                                    # empty topic
            ([b"g." + b"t" * 254, b"x"], None),                     # topic of 256 bytes
            ([b"g." + b"t" * 253, b"x"], (b"g." + b"t" * 253, 1, b"x")),  # 255: fine
            ([b"g.three", b""], (b"g.three", 2, b"")),              # empty payload
            ([b"g.end", b"end"], (b"g.end", 1, b"end")),
        ]
        t_before = time.time_ns()
        for frames, _ in plan:
            pub.send_multipart(frames)
        expected = [e for _, e in plan if e is not None]
        n_bad = sum(1 for _, e in plan if e is None)

        for topic, seq, payload in expected:
            frames = next_msg("%r seq %d" % (topic, seq))
            h.check(len(frames) == 3, "egress: expected 3 frames for %r, got %r" % (topic, frames))
            h.check(frames[0] == topic and frames[2] == payload,
                    "egress: expected %r / %r (seq %d), got %r" % (topic, payload, seq, frames))
            try:
                meta = msgpack.unpackb(frames[1], raw=False)
            except Exception as e:
                h.fail("egress: meta of %r does not decode: %s (%s)" % (topic, e,
                                                                        h.short(frames[1])))
            h.check(isinstance(meta, dict), "egress: meta of %r is not a map: %r" % (topic, meta))
            h.check(meta.get("v") == 1, "egress: meta v of %r is %r" % (topic, meta.get("v")))
            h.check(meta.get("seq") == seq, "egress: meta seq of %r is %r, expected %d (meta %r)"
                    % (topic, meta.get("seq"), seq, meta))
            ts = meta.get("ts")
            h.check(isinstance(ts, int) and t_before - 60 * 10**9 < ts < time.time_ns() + 10**9,
                    "egress: meta ts of %r is %r, not ns near now (%d)" % (topic, ts, t_before))
            if topic == b"g.three" and seq == 1:
                h.check(meta.get("x-unknown") == "kept" and meta.get("src") == "py-test"
                        and meta.get("h") == {"k": "v"},
                        "egress: producer meta keys not kept: %r" % meta)
        while sub.poll(0):
            extra = sub.recv_multipart()
            h.check(extra[0] == b"probe" or extra[0].startswith(b"$"),
                    "egress: unexpected message after g.end: %r" % extra)

        h.compare_lines("text-subscriber", text.read_lines(len(expected)),
                        [msg_line(t, s, p) for t, s, p in expected])
        h.check(text.ping() == [], "text-subscriber: extra lines")

        after = S.stats()
        h.check(after["malformed"] == n_bad,
                "STATS malformed: expected %d, got %r (stats %r)" % (n_bad, after["malformed"],
                                                                    after))
        h.check(after["messages_in"] - before["messages_in"] == len(expected),
                "STATS messages_in grew by %d, expected %d (valid messages sent)"
                % (after["messages_in"] - before["messages_in"], len(expected)))
        distinct = len({t for t, _, _ in expected} | {b"g.sync", b"probe"})
        h.check(after["topics"] >= distinct,
                "STATS topics %r < %d distinct valid topics sent" % (after["topics"], distinct))

        # Control port: PING, unknown request.
        h.check(h.control_request(S.control, [b"PING"]) == [b"PONG"], "control PING")
        reply = h.control_request(S.control, [b"BOGUS"])
        h.check(reply == [b"ERR", b"unknown request"],
                "control: unknown request answered %r, expected [b'ERR', b'unknown request']"
                % reply)
        pub.close()
        sub.close()
        S.check_alive()
    return "%d malformed dropped and counted, %d valid forwarded with correct meta" % (
        n_bad, len(expected))


if __name__ == "__main__":
    h.run("08-broker-garbage", test)
