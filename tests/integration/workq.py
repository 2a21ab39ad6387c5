"""Work-queue test helpers: a watcher that holds items it never writes."""

import sys
import time

import frames as fr
import harness as h

BIG = 60                # items, together far more than the kernel buffers
BIG_SIZE = 200000       # bytes each
PREFETCH = 3            # what the holder may hold unwritten

HOLDER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"WATCH big PREFETCH %d\n")
time.sleep(3600)           # reads nothing: its socket fills, then items wait unwritten
""" % PREFETCH


def stats_when(S, pred, what, timeout=h.STEP * 2):
    """The broker's STATS once pred holds for them."""
    deadline = time.monotonic() + timeout
    while True:
        st = S.stats()
        if pred(st):
            return st
        if time.monotonic() >= deadline:
            h.fail("broker STATS never showed %s; last: %r" % (
                what, {k: v for k, v in st.items() if k.startswith("queue")}))
        time.sleep(0.1)


def hold_big(S, sub_port, frame_port, proc):
    """Starts a holder watching "big" on sub_port, enqueues BIG items of
    BIG_SIZE bytes over frame_port (proc's), and waits until nothing moves
    with the holder's socket full and PREFETCH items held unwritten.
    Returns the holder, the producer (to close), the items' body and the
    STATS then."""
    holder = h.start([sys.executable, "-c", HOLDER, str(sub_port)], name="holder")
    stats_when(S, lambda st: st["queue_watchers"] == 1, "the holder watching")
    producer = fr.FrameClient(frame_port, name="big-producer", proc=proc)
    body = b"x" * BIG_SIZE
    for i in range(1, BIG + 1):
        producer.send(["enqueue", "big", b"%04d%s" % (i, body)])
    for i in range(BIG):
        producer.expect(["ok"], timeout=h.STEP * 2, what="big enqueue %d answered" % (i + 1))
    last, steady_since = None, time.monotonic()
    deadline = time.monotonic() + h.STEP * 3
    while True:
        st = S.stats()
        now = (st["queue_delivered"], st["queue_acked"], st["queue_inflight"])
        if now != last:
            last, steady_since = now, time.monotonic()
        elif st["queue_inflight"] == PREFETCH and time.monotonic() - steady_since > 1.0:
            return holder, producer, body, st
        h.check(time.monotonic() < deadline, "the holder never settled holding %d items: %r" % (PREFETCH, now))
        time.sleep(0.1)
