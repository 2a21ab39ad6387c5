#!/usr/bin/python3
"""Each shipped plugin on real traffic through the real programs:
uppercase (broker, per topic), json_wrap (source and subscriber: escaping,
seq null before the broker), filter (source, payload, VERBOSE told; broker,
topic), redact (broker, card numbers), rate_limit (broker: drops counted,
no seq consumed), zstd (compress at the source, raw frames compressed with
a ce header at the broker's egress, decompressed at the subscriber).
A program run from the build tree finds the shipped plugins by name with no
--plugin-path (the broker chain below has none); the build's plugin folder
holds the shipped plugins only, never the test fixtures."""

import json
import os
import time

import msgpack
import zmq

import harness as h
from harness import msg_line, parse_msg, plugin_args, subscribe, unescape


def egress_sub(S, prefix=b""):
    """A raw ZeroMQ SUB on the broker's egress, proven live by a barrier."""
    sock = h.zsocket(zmq.SUB, S.egress)
    sock.setsockopt(zmq.SUBSCRIBE, prefix)
    sock.setsockopt(zmq.SUBSCRIBE, b"$ack.raw")
    deadline = time.monotonic() + h.STEP
    while True:
        if sock.poll(100):
            frames = sock.recv_multipart()
            if frames[0].startswith(b"$ack.raw"):
                return sock
        if time.monotonic() > deadline:
            h.fail("no barrier answer on the egress")
        # the broker answers a barrier when it sees the subscription: renew it
        sock.setsockopt(zmq.UNSUBSCRIBE, b"$ack.raw")
        sock.setsockopt(zmq.SUBSCRIBE, b"$ack.raw")


def recv_raw(sock, n, what):
    got = []
    deadline = time.monotonic() + h.STEP
    while len(got) < n:
        if not sock.poll(max(1, int((deadline - time.monotonic()) * 1000))):
            h.fail("%s: got %d of %d raw messages: %r" % (what, len(got), n, got[-3:]))
        frames = sock.recv_multipart()
        if not frames[0].startswith(b"$"):
            got.append((frames[0], msgpack.unpackb(frames[1], raw=False), frames[2]))
    return got


def test_uppercase_redact_filter_topic():
    """Broker chain: uppercase only on up.>, redact everywhere, filter
    dropping topics under secret.>."""
    # no --plugin-path: found in the build tree's plugin folder
    broker = ["--plugin", "uppercase@up.>",
              "--plugin", "redact:regex=[0-9]{4}([ -]?[0-9]{4}){3},replacement=****",
              "--plugin", "filter:regex=^secret\\.,on=topic,action=drop"]
    with h.system(broker_args=broker) as S:
        sub = S.sub_client()
        subscribe(sub, ">")
        pub = S.source_client()
        pub.send(b"PUB up.a hello world\n"
                 b"PUB down.a hello world\n"
                 b"PUB secret.x never seen\n"
                 b"PUB up.pay card 4111 1111 1111 1111 ok\n"
                 b"PUB down.pay 4111-1111-1111-1111 and 5500000000000004\n"
                 b"PUB down.a last\n")
        got = sub.read_lines(5, what="broker chain deliveries")
        h.compare_lines("broker chain", got, [
            msg_line("up.a", 1, "HELLO WORLD"),
            msg_line("down.a", 1, "hello world"),
            msg_line("up.pay", 1, "CARD **** OK"),
            msg_line("down.pay", 1, "**** and ****"),
            msg_line("down.a", 2, "last"),
        ])
        stats = S.stats()
        h.check(stats["plugin_dropped"] == 1 and stats["messages_in"] == 5,
                "broker STATS after one filtered topic: %r" % stats)


def test_json_wrap_and_filter_at_source():
    source = plugin_args("filter:regex=^keep", "json_wrap")
    sub = plugin_args("json_wrap@wrap.>")
    with h.system(source_args=source, sub_args=sub) as S:
        c = S.sub_client()
        subscribe(c, ">")
        pub = S.source_client()
        pub.sendline(b"VERBOSE on")
        pub.expect(b"+OK")
        tricky = b'keep "q" \\ back\ttab\x01ctl \xc3\xa9 bad\xff\xfe end\x7f'
        pub.sendline(b"PUB wrap.it " + tricky)
        h.expect_confirm(pub, "wrap.it", 1, what="+OK for a kept message")
        pub.sendline(b"PUB wrap.it drop me")
        pub.expect(b"-ERR dropped by plugin filter", what="told about the plugin drop")
        pub.sendline(b"PUB plain.it keep plain")
        h.expect_confirm(pub, "plain.it", 1)
        lines = c.read_lines(2, what="json deliveries")
        # wrap.it: wrapped at the source (seq null), then again at the subscriber
        topic, seq, payload = parse_msg(lines[0])
        h.check(topic == b"wrap.it" and seq == 1, "first delivery %r" % lines[0])
        outer = json.loads(unescape(payload))
        h.check(outer["topic"] == "wrap.it" and outer["seq"] == 1 and outer["ts"] > 0,
                "subscriber-stage json: %r" % outer)
        inner = json.loads(outer["payload"])
        h.check(inner["seq"] is None and inner["topic"] == "wrap.it" and inner["ts"] > 0,
                "source-stage json (no seq yet): %r" % inner)
        want = 'keep "q" \\ back\ttab\x01ctl \u00e9 bad\ufffd\ufffd end\x7f'
        h.check(inner["payload"] == want, "escaped payload: %r, want %r" % (inner["payload"], want))
        raw = json.loads(unescape(payload))["payload"]
        h.check("\\u0001" in raw and "\\t" in raw and '\\"' in raw and "\ufffd" in raw,
                "escapes as specified in %r" % raw)
        # plain.it: source json_wrap applies to all topics, subscriber's only to wrap.>
        topic, seq, payload = parse_msg(lines[1])
        inner = json.loads(unescape(payload))
        h.check(topic == b"plain.it" and inner["payload"] == "keep plain", "plain: %r" % lines[1])


def test_rate_limit():
    broker = plugin_args("rate_limit:rate=0.01,burst=5")
    with h.system(broker_args=broker) as S:
        c = S.sub_client()
        subscribe(c, ">")
        pub = S.source_client()
        pub.send(b"".join(b"PUB rl.a m%d\n" % i for i in range(50)) +
                 b"".join(b"PUB rl.b n%d\n" % i for i in range(3)) + b"PUB rl.a after\n")
        got = c.read_lines(8, what="rate-limited deliveries")
        want = [msg_line("rl.a", i + 1, "m%d" % i) for i in range(5)] + \
               [msg_line("rl.b", i + 1, "n%d" % i) for i in range(3)]
        h.compare_lines("rate_limit", got, want)
        h.check(c.ping() == [], "nothing more after the burst")
        stats = S.stats()
        h.check(stats["plugin_dropped"] == 46, "46 drops counted: %r" % stats)


def test_zstd():
    source = plugin_args("zstd:mode=compress,level=5")
    sub = plugin_args("zstd:mode=decompress")
    with h.system(source_args=source, sub_args=sub) as S:
        raw = egress_sub(S, b"z.")
        c = S.sub_client()
        subscribe(c, "z.>")
        pub = S.source_client()
        payloads = [b"x" * 5000, b"short", b"repeat " * 300]
        pub.send(b"".join(b"PUB z.t " + p + b"\n" for p in payloads))
        got = c.read_lines(3, what="decompressed deliveries")
        h.compare_lines("zstd round trip", got,
                        [msg_line("z.t", i + 1, p) for i, p in enumerate(payloads)])
        frames = recv_raw(raw, 3, "raw egress")
        for (topic, meta, payload), original in zip(frames, payloads):
            h.check(payload[:4] == b"\x28\xb5\x2f\xfd", "zstd magic on the wire: %r" % payload[:8])
            h.check(meta.get("h") == {"ce": "zstd"}, "ce header in meta: %r" % meta)
        h.check(len(frames[0][2]) < 100, "5000 x's compress: %d bytes" % len(frames[0][2]))
        raw.close()


def test_fixtures_not_shipped():
    """The build's plugin folder has the shipped plugins and no fixture; a
    fixture is not found by name without its folder, and the error names
    every folder searched."""
    shipped = {"zch_%s.so" % n for n in ("uppercase", "json_wrap", "filter", "redact",
                                         "rate_limit", "zstd")}
    present = {f for f in os.listdir(h.PLUGINS) if f.endswith(".so")}
    h.check(present == shipped, "%s holds %s, not the shipped plugins %s"
            % (h.PLUGINS, sorted(present), sorted(shipped)))
    rc, out, err = h.run_cmd([h.BROKER, "--ingress", "inproc://a", "--egress", "inproc://b",
                              "--control", "inproc://c", "--plugin", "count"])
    h.check(rc == 1 and b"zch_count.so not found" in err
            and os.path.realpath(h.PLUGINS).encode() in err,
            "a fixture by name without --plugin-path: exit %d: %s" % (rc, err.decode(errors="replace")))


def test():
    test_fixtures_not_shipped()
    test_uppercase_redact_filter_topic()
    test_json_wrap_and_filter_at_source()
    test_rate_limit()
    test_zstd()
    return "uppercase, redact, filter, json_wrap, rate_limit and zstd on real traffic"


if __name__ == "__main__":
    h.run("17-plugins", test, budget=80)
