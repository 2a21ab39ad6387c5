#!/usr/bin/python3
"""work-queues.py: how fast zchannel's work queues move items.

One `zchannel run` (broker, source and subscriber in one process) on free
loopback ports, text clients on the subscriber port:

1. Throughput: one producer pipelines ITEMS `ENQUEUE jobs <SIZE bytes>`
   lines (reading its +OKs as they come) while W watchers (1, 2, 4; WATCH
   jobs PREFETCH 64) read as fast as they can. Reported: items per second
   from the first line sent to the last item received, and each watcher's
   share (every item is checked to arrive exactly once).
2. Latency: one watcher (PREFETCH 8); the producer enqueues one item every
   1/RATE s for SECONDS; p50 / p99 / max of the item's arrival minus the
   moment its ENQUEUE was sent.

Usage: work-queues.py [ITEMS [SIZE [RATE [SECONDS]]]]"""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402


def start():
    port = h.free_port()
    eps = [h.tcp_ep(h.free_port()) for _ in range(3)]
    proc = h.start([h.LAUNCHER, "run", "--ingress", eps[0], "--egress", eps[1], "--control", eps[2],
                    "--source-listen", "%s:%d" % (h.HOST, h.free_port()),
                    "--subscriber-listen", "%s:%d" % (h.HOST, port),
                    "--queue-max-items", "10000000", "--queue-max-bytes", "4G"], name="zchannel-run")
    h.wait_broker(eps[2], proc)
    h.wait_frontend(port, h.SUBSCRIBER_GREETING, proc).close()
    return proc, port, eps[2]


def client(port):
    s = socket.create_connection((h.HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = b""
    while b"\n" not in f:
        f += s.recv(4096)
    return s, bytearray(f.split(b"\n", 1)[1])


def watch(port, queue, prefetch):
    s, buf = client(port)
    s.sendall(b"WATCH %s PREFETCH %d\n" % (queue, prefetch))
    while b"\n" not in buf:
        buf += s.recv(4096)
    line, rest = bytes(buf).split(b"\n", 1)
    h.check(line == b"+OK", "WATCH answered %r" % line)
    return s, bytearray(rest)


def lines_of(buf):
    """Whole lines out of buf (consumed), as a list."""
    end = buf.rfind(b"\n")
    if end < 0:
        return []
    out = bytes(buf[:end]).split(b"\n")
    del buf[:end + 1]
    return out


def throughput(port, control, watchers, items, size):
    queue = b"jobs%d" % watchers
    ws = [watch(port, queue, 64) for _ in range(watchers)]
    deadline = time.monotonic() + h.STEP
    while h.broker_stats(control)["queue_watchers"] < watchers:
        h.check(time.monotonic() < deadline, "the watchers never registered")
        time.sleep(0.05)
    producer, pbuf = client(port)
    producer.setblocking(False)
    body = b"x" * (size - 8)
    pending = b"".join(b"ENQUEUE %s %08d%s\n" % (queue, i, body) for i in range(items))
    sent, oks, got = 0, 0, [0] * watchers
    seen = set()
    t0 = time.monotonic()
    socks = [w[0] for w in ws]
    while sum(got) < items:
        rd = socks + [producer]
        wr = [producer] if sent < len(pending) else []
        r, w, _ = select.select(rd, wr, [], 30)
        h.check(r or w, "stalled at %d of %d items" % (sum(got), items))
        if w:
            try:
                sent += producer.send(pending[sent:sent + (1 << 20)])
            except BlockingIOError:
                pass
        for s in r:
            if s is producer:
                pbuf += producer.recv(1 << 20)
                for line in lines_of(pbuf):
                    h.check(line == b"+OK", "ENQUEUE answered %r" % line[:80])
                    oks += 1
                continue
            i = socks.index(s)
            data = s.recv(1 << 20)
            h.check(data, "a watcher was closed")
            ws[i][1].extend(data)
            for line in lines_of(ws[i][1]):
                n = int(line.split(b" ", 3)[3][:8])
                h.check(n not in seen, "item %d came twice" % n)
                seen.add(n)
                got[i] += 1
    elapsed = time.monotonic() - t0
    for s in socks + [producer]:
        s.close()
    return items / elapsed, got


def latency(port, rate, seconds, size):
    s, buf = watch(port, b"lat", 8)
    producer, pbuf = client(port)
    body = b"x" * (size - 20)
    delays, sent_at = [], {}
    n, t0 = 0, time.monotonic()
    interval = 1.0 / rate
    while time.monotonic() - t0 < seconds:
        due = t0 + n * interval
        now = time.monotonic()
        if now >= due:
            sent_at[n] = time.monotonic()
            producer.sendall(b"ENQUEUE lat %08d%s\n" % (n, body))
            n += 1
            continue
        r, _, _ = select.select([s, producer], [], [], due - now)
        for sock in r:
            if sock is producer:
                producer.recv(1 << 20)
                continue
            buf.extend(s.recv(1 << 20))
            arrived = time.monotonic()
            for line in lines_of(buf):
                delays.append(arrived - sent_at.pop(int(line.split(b" ", 3)[3][:8])))
    while sent_at:
        r, _, _ = select.select([s], [], [], 5)
        h.check(r, "%d items never arrived" % len(sent_at))
        buf.extend(s.recv(1 << 20))
        arrived = time.monotonic()
        for line in lines_of(buf):
            delays.append(arrived - sent_at.pop(int(line.split(b" ", 3)[3][:8])))
    s.close()
    producer.close()
    delays.sort()
    return [delays[int(q * (len(delays) - 1))] * 1e3 for q in (0.5, 0.99, 1.0)], len(delays)


def main():
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5
    proc, port, control = start()
    try:
        print("throughput, %d items of %d bytes, text producer and watchers (PREFETCH 64):" % (items, size))
        for w in (1, 2, 4):
            rate_w, shares = throughput(port, control, w, items, size)
            print("  %d watcher%s  %9.0f items/s   shares %s" % (w, " " if w == 1 else "s", rate_w,
                                                            "/".join(str(g) for g in shares)))
        (p50, p99, top), count = latency(port, rate, seconds, size)
        print("latency at %d items/s for %.0f s (%d items), ENQUEUE sent -> ITEM read: "
              "p50 %.3f ms  p99 %.3f ms  max %.3f ms" % (rate, seconds, count, p50, p99, top))
        st = h.broker_stats(control)
        print("broker: enqueued %d, delivered %d, redelivered %d, refused %d" % (
            st["queue_enqueued"], st["queue_delivered"], st["queue_redelivered"], st["queue_refused"]))
    finally:
        proc.stop()


if __name__ == "__main__":
    main()
