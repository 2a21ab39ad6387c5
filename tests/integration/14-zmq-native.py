#!/usr/bin/python3
"""ZeroMQ-native peers, as proto/PROTOCOL.md section 3.5 shows them: a pyzmq
PUB on the broker's ingress sends [topic][payload], [topic][meta][payload]
(with headers) and one "topic payload" frame, and a text subscriber and a
frame subscriber receive each; a pyzmq SUB on the egress receives what a
text client published as [topic][meta][payload] and decodes meta with
msgpack."""

import time

import msgpack
import zmq

import harness as h
from frames import FrameClient
from harness import msg_line, subscribe


def test_producer(S, fb):
    tsub = S.sub_client("text-sub")
    subscribe(tsub, "zp.>")
    fsub = FrameClient(fb, "frame-sub", S.subscriber)
    fsub.subscribe("zp.>")
    pub = h.zsocket(zmq.PUB, S.ingress)
    # a PUB drops what it sends before the broker's subscription arrives:
    # probe until one gets through (each probe has its own topic)
    deadline = time.monotonic() + h.STEP
    probes = 0
    while True:
        probes += 1
        pub.send_multipart([b"zp.probe", b"%d" % probes])
        line = None
        if tsub.pump(0.1) or tsub.buf:
            line = tsub.take_line()
        if line is not None:
            break
        h.check(time.monotonic() < deadline, "no probe from the ZeroMQ producer arrived")
    first = h.parse_msg(line)
    h.check(first and first[0] == b"zp.probe", "unexpected first delivery %r" % line)
    # the frame subscriber saw the same probes from that seq on
    while True:
        f = fsub.read(what="probes")
        if f[3] == first[2]:
            break
    # every later probe follows in order, numbered on from the first
    p0 = int(first[2])
    h.check(first[1] == 1, "first probe delivered has seq %d, not 1" % first[1])
    for p in range(p0 + 1, probes + 1):
        seq = p - p0 + 1
        tsub.expect(msg_line("zp.probe", seq, b"%d" % p), what="probe %d" % p)
        fsub.expect(["msg", "zp.probe", seq, b"%d" % p, {}], "probe %d" % p)

    meta = msgpack.packb({"src": "pyzmq", "ct": "application/octet-stream",
                          "h": {"x-origin": "python", "k": "v"}})
    binary = bytes(range(256))
    pub.send_multipart([b"zp.two", b"two frames"])
    pub.send_multipart([b"zp.three", meta, binary])
    pub.send(b"zp.one hello from one frame")
    tsub.expect(msg_line("zp.two", 1, "two frames"))
    tsub.expect(msg_line("zp.three", 1, binary))
    tsub.expect(msg_line("zp.one", 1, "hello from one frame"))
    fsub.expect(["msg", "zp.two", 1, b"two frames", {}], "two frames")
    fsub.expect(["msg", "zp.three", 1, binary, {"x-origin": "python", "k": "v"}],
                "three frames with headers")
    fsub.expect(["msg", "zp.one", 1, b"hello from one frame", {}], "one frame")
    pub.close()


def test_consumer(S):
    sub = h.zsocket(zmq.SUB, S.egress)
    sub.setsockopt(zmq.SUBSCRIBE, b"zc.")
    src = S.source_client("text-pub")
    # the SUB's subscription reaches the broker some time after connect
    deadline = time.monotonic() + h.STEP
    probes = 0
    while not sub.poll(100):
        probes += 1
        src.sendline("PUB zc.probe %d" % probes)
        h.check(time.monotonic() < deadline, "no probe reached the ZeroMQ consumer")
    while sub.poll(300):
        sub.recv_multipart()
    src.sendline("VERBOSE on")
    src.expect(b"+OK")
    for i in range(5):
        src.sendline("PUB zc.data payload %d" % i)
        src.expect(b"+OK")
    src.sendline("PUB other.topic not for zc")
    src.expect(b"+OK")
    t0 = time.time_ns()
    for i in range(5):
        h.check(sub.poll(int(h.STEP * 1000)), "ZeroMQ consumer: message %d did not arrive" % i)
        frames = sub.recv_multipart()
        h.check(len(frames) == 3, "ZeroMQ consumer: expected 3 frames, got %r" % frames)
        topic, meta_bytes, payload = frames
        h.check(topic == b"zc.data" and payload == b"payload %d" % i,
                "ZeroMQ consumer: got %r" % frames)
        meta = msgpack.unpackb(meta_bytes, raw=False)
        h.check(meta.get("v") == 1 and meta.get("seq") == i + 1,
                "meta: expected v 1, seq %d: %r" % (i + 1, meta))
        h.check(isinstance(meta.get("ts"), int) and abs(meta["ts"] - t0) < 120 * 10**9,
                "meta: ts %r is not a time in ns near now" % meta.get("ts"))
        h.check(isinstance(meta.get("src"), str) and meta["src"].startswith("127.0.0.1:"),
                "meta: src %r is not the client's address" % meta.get("src"))
    sub.close()


def test():
    fb = h.free_port()
    with h.system(sub_args=["--frame-listen", "%s:%d" % (h.HOST, fb)]) as S:
        test_producer(S, fb)
        test_consumer(S)
    return ("pyzmq producer (2 frames, 3 frames with headers, 1 frame) -> text and frame "
            "subscribers; text publisher -> pyzmq consumer, meta decoded")


if __name__ == "__main__":
    h.run("14-zmq-native", test, budget=60)
