#!/usr/bin/python3
"""The internal envelope between the broker and its subscriber front-ends
(proto/PROTOCOL.md section 3.6), and its version check.

- An outside ZeroMQ consumer on the egress that follows everything gets
  every message in the outsiders' form [topic][meta][payload], and never
  an internal one, while a front-end follows the same topics.
- A front-end of another internal version (a pyzmq SUB speaking version 2)
  meets the broker: the broker logs one clear line, and the front-end gets
  nothing but its barrier's answer.
- A real front-end meets a broker of another version (a pyzmq stand-in
  whose barrier answers say zi/2): it logs one clear line, the client's SUB
  is refused, and nothing is delivered."""

import time

import msgpack
import zmq

import harness as h
from harness import msg_line, subscribe

OTHER = 2       # an internal version this build does not speak


def drain(sock, wait):
    """Everything sock receives until it has been quiet for wait seconds."""
    got = []
    while sock.poll(int(wait * 1000)):
        got.append(sock.recv_multipart())
    return got


def outsider_and_other_version(S):
    outsider = h.zsocket(zmq.SUB, S.egress)
    outsider.setsockopt(zmq.SUBSCRIBE, b"")
    other = h.zsocket(zmq.SUB, S.egress)
    other.setsockopt(zmq.SUBSCRIBE, b"\x00" + bytes([OTHER]) + b"iv.")
    other.setsockopt(zmq.SUBSCRIBE, b"\x00" + bytes([OTHER]))
    other.setsockopt(zmq.SUBSCRIBE, b"$ack.other.1")
    h.wait_stderr(S.broker, "refused a subscriber front-end that speaks internal envelope "
                  "version %d" % OTHER)
    tsub = S.sub_client("text-sub")
    subscribe(tsub, "iv.>")
    src = S.source_client("text-pub")
    # the outsider's subscription reaches the broker some time after connect
    deadline = time.monotonic() + h.STEP
    probes = 0
    while not outsider.poll(100):
        probes += 1
        src.sendline("PUB iv.probe %d" % probes)
        h.check(time.monotonic() < deadline, "no probe reached the outside consumer")
    for p in range(1, probes + 1):
        tsub.expect(msg_line("iv.probe", p, b"%d" % p), what="probe %d" % p)
    count = 200
    for i in range(count):
        src.sendline("PUB iv.data %d" % i)
    for i in range(count):
        tsub.expect(msg_line("iv.data", i + 1, b"%d" % i), what="iv.data %d" % i)
    got = drain(outsider, 0.5)
    data = [f for f in got if f[0] == b"iv.data"]
    odd = [f for f in got if len(f) != 3 or not f[0] or f[0][:1] == b"\x00"]
    h.check(not odd, "the outside consumer got %d messages not in the outsiders' form, "
            "first %s" % (len(odd), repr(odd[:1])[:300]))
    h.check([f[2] for f in data] == [b"%d" % i for i in range(count)],
            "the outside consumer got %d of %d iv.data messages, or out of order"
            % (len(data), count))
    h.check([msgpack.unpackb(f[1], raw=False)["seq"] for f in data] == list(range(1, count + 1)),
            "the outside consumer's metas do not count seq 1..%d" % count)
    # the other version got its barrier's answer and nothing else
    got = drain(other, 0.3)
    h.check(all(f[0].startswith(b"$ack.") for f in got),
            "the front-end of version %d got messages: %s" % (OTHER, repr(got[:2])[:300]))
    log = S.broker.stderr_text()
    lines = [line for line in log.splitlines() if "refused a subscriber front-end" in line]
    h.check(len(lines) == 1, "%d refusal lines for one front-end, not 1: %r" % (len(lines), lines))
    h.check("this broker speaks 1" in lines[0], "the refusal does not say what the broker speaks: %r"
            % lines[0])
    outsider.close()
    other.close()
    return count


def fake_broker_answers(egress, control, stop_at):
    """Plays a broker of internal version OTHER until stop_at: answers every
    barrier with its hello, and sends one internal message of its version on
    every topic a front-end follows."""
    xpub = h.zsocket(zmq.XPUB, egress, bind=True)
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    router = h.zsocket(zmq.ROUTER, control, bind=True)
    answered = 0
    while time.monotonic() < stop_at:
        if router.poll(0):
            router.recv_multipart()
        if not xpub.poll(50):
            continue
        sub = xpub.recv()
        if sub[:1] != b"\x01":
            continue
        prefix = sub[1:]
        if prefix.startswith(b"$ack."):
            meta = msgpack.packb({"v": 1, "seq": 0, "ts": time.time_ns(), "ep": 7})
            xpub.send_multipart([prefix, meta, b"zi/%d" % OTHER])
            answered += 1
        elif prefix[:1] == b"\x00":
            meta = msgpack.packb({"v": 1, "seq": 1, "ts": time.time_ns(), "ep": 7})
            xpub.send_multipart([prefix + b"x", b"\x00\x00\x00\x01" + len(meta).to_bytes(4, "big")
                                 + meta + b"\x00\x00\x00\x04junk"])
    xpub.close()
    router.close()
    return answered


def frontend_meets_other_broker():
    egress = h.tcp_ep(h.free_port())
    control = h.tcp_ep(h.free_port())
    port = h.free_port()
    import threading
    result = {}
    stop_at = time.monotonic() + 6.0
    fake = threading.Thread(target=lambda: result.update(
        answered=fake_broker_answers(egress, control, stop_at)))
    fake.start()
    try:
        sub = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, port), "--broker", egress,
                       "--control", control, "--workers", "1"], name="subscriber")
        h.wait_frontend(port, h.SUBSCRIBER_GREETING, sub)
        client = h.LineClient(h.HOST, port, name="client", proc=sub)
        client.expect(h.SUBSCRIBER_GREETING)
        client.sendline("SUB iv.>")
        line = client.readline(what="the answer to SUB")
        h.check(line.startswith(b"-ERR") and b"another internal envelope version" in line,
                "SUB through a broker of another version: %r" % line)
        h.wait_stderr(sub, "refused the broker at %s: it speaks internal envelope zi/%d, "
                      "this front-end zi/1" % (egress, OTHER))
        client.quiet(0.5)
        h.check(not client.buf, "delivered through a broker of another version: %r" % client.buf)
        log = sub.stderr_text()
        lines = [x for x in log.splitlines() if "refused the broker" in x]
        h.check(len(lines) == 1, "%d refusal lines, not 1: %r" % (len(lines), lines))
        sub.stop()
    finally:
        fake.join()
    h.check(result.get("answered", 0) >= 1, "the stand-in broker answered no barrier")


def test():
    with h.system() as S:
        count = outsider_and_other_version(S)
    summary = ("outsider following everything: %d messages, outsiders' form only; a front-end "
               "of version %d refused with one broker line" % (count, OTHER))
    if h.DEPLOYMENT == "procs":
        frontend_meets_other_broker()
        summary += "; a front-end refused a broker of version %d with one line, SUB -ERR" % OTHER
    return summary


if __name__ == "__main__":
    h.run("72-internal-envelope", test, budget=60)
