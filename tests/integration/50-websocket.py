#!/usr/bin/python3
"""WebSocket on both front-ends. JSON requests and deliveries (text and
base64 payloads, snapshot, from), binary frames carrying the frame protocol,
one connection to the subscriber's port that subscribes and publishes (the
source's path, limits and the token's publish ACL),
and every edge case with the close code that says why, while a bystander
browser and a TCP subscriber on the same system keep receiving: fragmented
messages, ping/pong (both ways), an oversized message (1009), invalid UTF-8
(1007), an unmasked client frame (1002), bad upgrade requests (400, 426), a
disallowed Origin (403), and a slow browser cut as a slow consumer (1008,
counted in the metrics). With --tls-cert the port is wss://."""

import json
import os
import shutil
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.request

import msgpack

import harness as h
import wsclient as w
from harness import subscribe

MAX_PAYLOAD = 4096
ORIGIN = "http://allowed.example"


class Bystanders:
    """A browser and a TCP subscriber on 'by.t' that must see every message."""

    def __init__(self, S, wsp):
        self.S, self.n = S, 0
        self.ws = w.WsClient(wsp, "bystander-ws", origin=ORIGIN)
        self.ws.subscribe("by.t")
        self.tcp = S.sub_client("bystander-tcp")
        subscribe(self.tcp, "by.t")
        self.pub = S.source_client("bystander-pub")

    def still_served(self, after):
        self.n += 1
        self.pub.sendline(b"PUB by.t after %s" % after.encode())
        m = self.ws.read_json(what="the bystander's delivery after " + after)
        h.check(m["seq"] == self.n and m["payload"] == "after " + after,
                "bystander ws after %s: %r" % (after, m))
        line = self.tcp.readline(what="the TCP bystander's delivery after " + after)
        h.check(line == h.msg_line("by.t", self.n, b"after " + after.encode()),
                "bystander tcp after %s: %r" % (after, line))


def test_json(S, wsp, wss, by):
    sub = w.WsClient(wsp, "json-sub", origin=ORIGIN)
    sub.subscribe("j.>")
    pub = w.WsClient(wss, "json-pub", origin=ORIGIN)
    sent_at = int(time.time() * 1000)
    pub.send_json({"op": "pub", "topic": "j.text", "payload": "héllo \"json\"\n",
                   "headers": {"k": "v"}})
    pub.send_json({"op": "pub", "topic": "j.bin", "payload": "AP8BgA==", "enc": "base64"})
    pub.ping()
    m1, m2 = sub.read_json(what="j.text"), sub.read_json(what="j.bin")
    # ts: when the message entered the system, in ms since the Unix epoch
    got_at = int(time.time() * 1000)
    for m in (m1, m2):
        ts = m.pop("ts", None)
        h.check(isinstance(ts, int) and sent_at <= ts <= got_at,
                "ts %r of %s not within [%d, %d]" % (ts, m.get("topic"), sent_at, got_at))
    h.check(m1 == {"op": "msg", "topic": "j.text", "seq": 1, "headers": {"k": "v"},
                   "payload": "héllo \"json\"\n"}, "text delivery: %r" % m1)
    h.check(m2 == {"op": "msg", "topic": "j.bin", "seq": 1, "headers": {}, "payload": "AP8BgA==",
                   "enc": "base64"}, "a payload that is not UTF-8 comes as base64: %r" % m2)
    # A TCP client's message reaches the browser, the browser's the TCP client
    tpub = S.source_client("tcp-pub")
    tpub.sendline(b"PUB j.text from tcp")
    m3 = sub.read_json(what="the TCP publisher's message")
    h.check(m3["seq"] == 2 and m3["payload"] == "from tcp", "tcp -> ws: %r" % m3)
    tsub = S.sub_client("tcp-sub")
    subscribe(tsub, "j.text")
    pub.send_json({"op": "pub", "topic": "j.text", "payload": "from ws"})
    h.check(tsub.readline() == h.msg_line("j.text", 3, b"from ws"), "ws -> tcp")
    h.check(sub.read_json(what="its own message")["payload"] == "from ws", "ws -> ws")
    # Snapshot and from, and errors that keep the connection
    late = w.WsClient(wsp, "late-sub", origin=ORIGIN)
    late.subscribe("j.text", **{"from": 1})
    got = [late.read_json(what="seq 2")["seq"], late.read_json(what="seq 3")["seq"]]
    h.check(got == [2, 3], "from 1: seqs %r" % got)
    late.send_json({"op": "sub", "pattern": "j.*", "snapshot": True})
    snap = [late.read_json(what="snapshot"), late.read_json(what="snapshot")]
    ok = late.read_json(what="ok after the snapshot")
    h.check(sorted((m["topic"], m["seq"]) for m in snap if m["op"] == "msg") ==
            [("j.bin", 1), ("j.text", 3)] or ok["op"] != "ok", "snapshot: %r %r" % (snap, ok))
    for bad, code in [(b"{not json", "bad_json"), (b"[1,2]", "bad_json"),
                      (b'{"op":"sub"}', "bad_request"), (b'{"op":"nope"}', "unknown_op"),
                      (b'{"op":"pub","topic":"j.x","payload":"!","enc":"base64"}', "bad_request"),
                      (b'{"op":"sub","pattern":"bad pattern"}', "bad_topic"),
                      (b'{"op":"unsub","pattern":"never.sub"}', "not_subscribed")]:
        late.send_frame(w.TEXT, bad)
        m = late.read_json(what="the error for %r" % bad)
        h.check(m.get("op") == "err" and m.get("code") == code,
                "%r: expected err %s, got %r" % (bad, code, m))
    late.ping()
    # Publisher confirms on the source's port too
    pub.send_json({"op": "verbose", "on": True})
    pub.expect_ok("verbose on at the source")
    pub.send_json({"op": "pub", "topic": "j.text", "payload": "confirmed"})
    m = pub.read_json(what="the source's confirm")
    h.check(m.get("op") == "ok" and m.get("topic") == "j.text" and m.get("seq") == 4 and m.get("epoch"),
            "a confirm on the source's port: %r" % m)
    by.still_served("json")
    return 3


def test_publish_on_subscriber(S, wsp, by):
    """One connection to the subscriber's port subscribes and publishes: its
    publishes go through the source (a TCP subscriber gets them), in order
    behind its subscriptions, and the source's limits answer on it."""
    tsub = S.sub_client("tcp-sub-of-browser")
    subscribe(tsub, "both.t")
    c = w.WsClient(wsp, "sub-and-pub", origin=ORIGIN)
    # Pipelined: the publish waits until the subscription is live, so the
    # browser hears its own message
    c.send_json({"op": "sub", "pattern": "both.*"})
    c.send_json({"op": "pub", "topic": "both.t", "payload": "from the subscriber port",
                 "headers": {"via": "ws"}})
    c.expect_ok("the sub before the publish")
    m = c.read_json(what="its own message")
    h.check(m["topic"] == "both.t" and m["seq"] == 1 and m["payload"] == "from the subscriber port"
            and m["headers"] == {"via": "ws"}, "the browser's own message: %r" % m)
    h.check(tsub.readline(what="the browser's message at a TCP subscriber") ==
            h.msg_line("both.t", 1, b"from the subscriber port"), "ws (subscriber port) -> tcp")
    # The limits answer on the connection, which stays usable
    for req, code in [({"op": "pub", "topic": "both.t", "payload": "x" * (MAX_PAYLOAD + 1)}, "too_large"),
                      ({"op": "pub", "topic": "bad topic", "payload": "x"}, "bad_topic"),
                      ({"op": "pub", "topic": "$sys.x", "payload": "x"}, "bad_topic")]:
        c.send_json(req)
        m = c.read_json(what="the error for a %s publish" % code)
        h.check(m.get("op") == "err" and m.get("code") == code, "%s: got %r" % (code, m))
    for i in range(2, 52):
        c.send_json({"op": "pub", "topic": "both.t", "payload": "n%d" % i})
    seqs = [c.read_json(what="its message %d" % i)["seq"] for i in range(2, 52)]
    h.check(seqs == list(range(2, 52)), "the browser's messages in order: %r" % seqs)
    lines = [tsub.readline(what="message %d at the TCP subscriber" % i) for i in range(2, 52)]
    h.check(lines == [h.msg_line("both.t", i, b"n%d" % i) for i in range(2, 52)],
            "none refused reached anyone, the rest in order: %r" % lines[:3])
    # Publisher confirms: each pub answered once the broker stamped it, in
    # the order of the requests (the refused one waits behind the confirms)
    c.send_json({"op": "verbose", "on": True})
    c.expect_ok("verbose on")
    c.send_json_batch([{"op": "pub", "topic": "both.t", "payload": "c52"},
                       {"op": "pub", "topic": "both.t", "payload": "c53"},
                       {"op": "pub", "topic": "both.t", "payload": "x" * (MAX_PAYLOAD + 1)},
                       {"op": "ping"}])
    replies, seen = [], []
    while not replies or replies[-1].get("op") != "pong":
        m = c.read_json(what="the confirms, the error and the pong")
        (seen if m["op"] == "msg" else replies).append(m)
    epoch = replies[0].get("epoch")
    h.check(isinstance(epoch, str) and epoch and
            replies == [{"op": "ok", "topic": "both.t", "seq": 52, "epoch": epoch},
                        {"op": "ok", "topic": "both.t", "seq": 53, "epoch": epoch},
                        replies[2], {"op": "pong"}] and replies[2].get("code") == "too_large",
            "confirms in order on the subscriber's port: %r" % replies)
    while len(seen) < 2:
        seen.append(c.read_json(what="its confirmed messages"))
    h.check([m["seq"] for m in seen] == [52, 53], "its confirmed messages: %r" % seen)
    h.check([tsub.readline(what="confirmed %d" % i) for i in (52, 53)] ==
            [h.msg_line("both.t", i, b"c%d" % i) for i in (52, 53)], "the confirmed ones at TCP")
    by.still_served("publish on the subscriber")


TOKENS = """\
tokens
    browser
        secret = "browser-s3cret"
        publish = "ok.>"
        subscribe = ">"
    reader
        secret = "reader-s3cret"
        subscribe = ">"
"""


def test_publish_acl():
    """The publish ACL of the token a browser authenticated with holds on
    the subscriber's port: a forbidden publish is refused, counted, and
    reaches nobody; an allowed one does."""
    wsp, mport = h.free_port(), h.free_port()
    relay = h.tcp_ep(h.free_port())
    fd, tokens = tempfile.mkstemp(prefix="zch-tokens-", suffix=".zpl")
    os.write(fd, TOKENS.encode())
    os.close(fd)
    try:
        s_acl(wsp, mport, relay, tokens)
    finally:
        os.unlink(tokens)


def s_acl(wsp, mport, relay, tokens):
    with h.system(source_args=["--relay-listen", relay],
                  sub_args=["--ws-listen", "%s:%d" % (h.HOST, wsp), "--relay", relay,
                            "--auth-file", tokens,
                            "--metrics-listen", "%s:%d" % (h.HOST, mport)]) as S:
        tsub = S.sub_client("reader")
        tsub.sendline("AUTH reader-s3cret")
        tsub.expect(b"+OK")
        subscribe(tsub, ">")
        c = w.WsClient(wsp, "acl-browser")
        c.send_json({"op": "pub", "topic": "ok.t", "payload": "before auth"})
        m = c.read_json(what="auth_required")
        h.check(m.get("code") == "auth_required", "a publish before AUTH: %r" % m)
        c.send_json({"op": "auth", "token": "browser-s3cret"})
        c.expect_ok("auth")
        forbidden = 'zchannel_refused_total{role="subscriber",cause="forbidden"}'
        before = metric(mport, forbidden)
        c.send_json({"op": "pub", "topic": "no.t", "payload": "forbidden"})
        m = c.read_json(what="the forbidden error")
        h.check(m.get("op") == "err" and m.get("code") == "forbidden", "forbidden publish: %r" % m)
        c.send_json({"op": "pub", "topic": "ok.t", "payload": "allowed"})
        h.check(tsub.readline(what="the allowed message") == h.msg_line("ok.t", 1, b"allowed"),
                "only the allowed publish reaches the reader")
        after = metric(mport, forbidden)
        h.check(after == before + 1, "forbidden publishes in the metrics: %s -> %s" % (before, after))
        S.check_alive()


def test_binary(S, wsp, by):
    c = w.WsClient(wsp, "binary-sub", origin=ORIGIN)
    body = msgpack.packb(["sub", "b.t"])
    c.send_frame(w.BINARY, struct.pack(">I", len(body)) + body)
    op, data = c.read_frame()
    h.check(op == w.BINARY and msgpack.unpackb(data[4:]) == ["ok"], "binary sub: %r %r" % (op, data))
    S.source_client("bin-pub").sendline(b"PUB b.t bytes")
    op, data = c.read_frame()
    h.check(op == w.BINARY and msgpack.unpackb(data[4:], raw=False) == ["msg", "b.t", 1, b"bytes", {}],
            "binary delivery: %r" % data)
    by.still_served("binary")


def test_fragments_and_pings(S, wsp, by):
    c = w.WsClient(wsp, "fragments", origin=ORIGIN)
    text = json.dumps({"op": "sub", "pattern": "frag.t"}).encode()
    c.send_frame(w.TEXT, text[:5], fin=False)
    c.send_frame(w.PING, b"in between")             # control frames may interleave
    c.send_frame(w.CONT, text[5:12], fin=False)
    c.send_frame(w.CONT, text[12:], fin=True)
    op, data = c.read_frame()
    h.check((op, data) == (w.PONG, b"in between"), "pong between fragments: %r %r" % (op, data))
    c.expect_ok("the fragmented sub")
    S.source_client("frag-pub").sendline(b"PUB frag.t whole")
    h.check(c.read_json()["payload"] == "whole", "delivery after a fragmented sub")
    # A continuation with nothing to continue is a protocol error
    c.send_frame(w.CONT, b"orphan")
    c.expect_close(1002, what="an orphan continuation")
    by.still_served("fragments")


def test_server_pings():
    """The server pings (--keepalive 3s: every second); a browser answers,
    so it stays past the keepalive though it sends no request."""
    wsp = h.free_port()
    with h.system(sub_args=["--ws-listen", "%s:%d" % (h.HOST, wsp), "--keepalive", "3s"]) as S:
        test_keepalive(wsp)


def test_keepalive(wsp):
    k = w.WsClient(wsp, "keepalive")
    k.subscribe("ka.t")
    t0 = time.monotonic()
    pings = 0
    while time.monotonic() - t0 < 4.5:
        f = k.read_frame(0.5)
        h.check(not f or f[0] != w.CLOSE, "a browser that answers pings was closed: %r" % (f,))
        if f and f[0] == w.PING:
            pings += 1
            k.send_frame(w.PONG, f[1])
    h.check(pings >= 2, "the server sent %d pings in 4.5s (keepalive 3s)" % pings)
    k.ping()                                       # past the keepalive: still open
    silent = w.WsClient(wsp, "silent")             # one that never answers is cut
    silent.subscribe("ka.t")
    t0 = time.monotonic()
    while True:
        f = silent.read_frame(6)
        h.check(f is not None, "the silent browser was not closed")
        if f[0] == w.CLOSE:
            break
    h.check(time.monotonic() - t0 > 2, "closed too early")


def test_violations(S, wsp, wss, by):
    big = w.WsClient(wss, "oversized", origin=ORIGIN)
    big.send_json({"op": "pub", "topic": "o.t", "payload": "x" * (3 * MAX_PAYLOAD + 64 * 1024)})
    big.expect_close(1009, what="an oversized message")
    bad = w.WsClient(wsp, "bad-utf8", origin=ORIGIN)
    bad.send_frame(w.TEXT, b'{"op":"sub","pattern":"\xc3\x28"}')
    bad.expect_close(1007, what="invalid UTF-8")
    bare = w.WsClient(wsp, "unmasked", origin=ORIGIN)
    bare.send_frame(w.TEXT, b'{"op":"ping"}', mask=False)
    bare.expect_close(1002, what="an unmasked frame")
    by.still_served("violations")


def test_upgrades(S, wsp, wss, by):
    def status(request, port=wsp):
        answer = w.http_exchange(port, request)
        return answer.split(b"\r\n", 1)[0].decode(errors="replace"), answer

    req, _ = w.upgrade_request(wsp, origin="http://evil.example")
    line, _ = status(req)
    h.check(" 403 " in line, "disallowed Origin: %s" % line)
    req, _ = w.upgrade_request(wsp, key="short")
    h.check(" 400 " in status(req)[0], "bad key")
    req, _ = w.upgrade_request(wsp)
    line, answer = status(req.replace(b"Version: 13", b"Version: 8"))
    h.check(" 426 " in line and b"Sec-WebSocket-Version: 13" in answer, "old version: %s" % line)
    req, _ = w.upgrade_request(wsp, protocol="mqtt")
    h.check(" 400 " in status(req)[0], "unknown subprotocol")
    h.check(" 400 " in status(b"GARBAGE\r\n\r\n")[0], "garbage request")
    h.check(" 431 " in status(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000)[0], "an endless request head")
    line, answer = status(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", port=wss)
    h.check(" 426 " in line, "a plain GET on the source's WebSocket port: %s" % line)
    line, answer = status(b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
    h.check(" 404 " in line, "a path outside the page: %s" % line)
    # Without a subprotocol is fine too; the allowed origin is
    w.WsClient(wsp, "no-protocol", origin=ORIGIN, protocol=None).ping()
    by.still_served("upgrades")


def metric(port, name):
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    h.fail("no %s in the metrics" % name)


def test_slow(S, wsp, mport, by):
    slow = w.WsClient(wsp, "slow-browser", origin=ORIGIN, rcvbuf=4096)
    slow.subscribe("slow.t")
    before = metric(mport, 'zchannel_dropped_total{role="subscriber",cause="slow_consumer"}')
    pub = S.source_client("flood")
    payload = b"s" * 1000
    for i in range(400):
        pub.send(b"".join(b"PUB slow.t %s\n" % payload for _ in range(50)))
    pub.ping()
    # It stays away until the front-end dropped it (zchannel run first holds
    # the broker back for it a while), then reads what was kept for it
    h.wait_stderr(S.subscriber, "slow consumer", timeout=30)
    reason, before_close = slow.expect_close(1008, timeout=30, what="the slow browser's cut")
    h.check(reason == "slow consumer", "close reason %r" % reason)
    last = before_close[-1]
    h.check(last[0] == w.TEXT and json.loads(last[1]).get("code") == "slow_consumer",
            "the last message before the close: %r" % (last,))
    after = metric(mport, 'zchannel_dropped_total{role="subscriber",cause="slow_consumer"}')
    h.check(after == before + 1, "slow consumers in the metrics: %s -> %s" % (before, after))
    by.still_served("slow")


def test_wss():
    """With --tls-cert the WebSocket port is wss://: a browser over TLS
    subscribes and publishes; a plain WebSocket client gets no upgrade."""
    d = tempfile.mkdtemp(prefix="zch-wss-")
    try:
        rc = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem",
                             "-out", "cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1"],
                            cwd=d, capture_output=True, timeout=30).returncode
        h.check(rc == 0, "openssl could not make a certificate")
        # The programs by hand: the harness waits for the subscriber's
        # greeting in plain TCP, and --tls-cert puts that port under TLS too
        ingress, egress, control, relay = (h.tcp_ep(h.free_port()) for _ in range(4))
        sp, bp, wsp = h.free_port(), h.free_port(), h.free_port()
        tls = ["--tls-cert", os.path.join(d, "cert.pem"), "--tls-key", os.path.join(d, "key.pem")]
        procs = [h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                         name="broker")]
        h.wait_broker(control, procs[0])
        procs.append(h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, sp), "--broker", ingress,
                              "--control", control, "--relay-listen", relay], name="source"))
        procs.append(h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, bp), "--broker", egress,
                              "--control", control, "--relay", relay,
                              "--ws-listen", "%s:%d" % (h.HOST, wsp)] + tls, name="subscriber"))
        try:
            h.wait_stderr(procs[1], "connected to the broker")
            h.wait_stderr(procs[2], "WebSocket on")
            context = ssl.create_default_context(cafile=os.path.join(d, "cert.pem"))
            c = w.WsClient(wsp, "wss-browser", tls=context)
            h.check(c.sock.version(), "no TLS session")
            c.subscribe("wss.t")
            pub = h.LineClient(h.HOST, sp, name="wss-pub", proc=procs[1])
            pub.expect(h.SOURCE_GREETING)
            pub.sendline(b"PUB wss.t over tls")
            m = c.read_json(what="a delivery over wss")
            h.check(m["payload"] == "over tls" and m["seq"] == 1, "wss delivery: %r" % m)
            c.send_json({"op": "pub", "topic": "wss.t", "payload": "from wss"})
            m = c.read_json(what="its own publish over wss")
            h.check(m["payload"] == "from wss" and m["seq"] == 2, "wss publish: %r" % m)
            try:
                plain = w.WsClient(wsp, "plain-on-wss")
                h.fail("a plain WebSocket upgrade on the wss port was answered: %r" % plain.head)
            except (h.TestFailure, OSError) as e:
                h.check("answered" not in str(e), str(e))
            c.ping()
        finally:
            for p in reversed(procs):
                p.signal(15)
            for p in reversed(procs):
                h.check(p.wait(h.STOP_WAIT) == 0, "%s did not stop cleanly" % p.name)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test():
    wsp, wss, mport = h.free_port(), h.free_port(), h.free_port()
    relay = h.tcp_ep(h.free_port())
    with h.system(source_args=["--ws-listen", "%s:%d" % (h.HOST, wss), "--ws-origin", ORIGIN,
                               "--max-payload", str(MAX_PAYLOAD), "--relay-listen", relay],
                  sub_args=["--ws-listen", "%s:%d" % (h.HOST, wsp), "--ws-origin",
                            "http://other.example, " + ORIGIN, "--relay", relay,
                            "--max-payload", str(MAX_PAYLOAD),
                            "--max-output", "65536", "--metrics-listen", "%s:%d" % (h.HOST, mport)]) as S:
        by = Bystanders(S, wsp)
        test_json(S, wsp, wss, by)
        test_publish_on_subscriber(S, wsp, by)
        test_binary(S, wsp, by)
        test_fragments_and_pings(S, wsp, by)
        test_violations(S, wsp, wss, by)
        test_upgrades(S, wsp, wss, by)
        test_slow(S, wsp, mport, by)
        S.check_alive()
    test_server_pings()
    test_publish_acl()
    test_wss()
    return ("JSON and binary both ways; publish on the subscriber's port (limits, ACL, confirms); wss; "
            "fragments, pings, 1009, 1007, 1002, 400/403/426, slow 1008")


if __name__ == "__main__":
    h.run("50-websocket", test, budget=100)
