#!/usr/bin/python3
"""Work queues when a whole subscriber front-end dies: its watcher held
items not yet written to its socket; the front-end is killed (SIGKILL, so
it tells the broker nothing). The broker takes the front-end as gone once
it has been silent for 10 s and gives those items to a watcher on another
front-end, in their place in the queue, counted as redelivered and
logged. Then the broker itself restarts (its queues are in memory: gone):
the watcher left is not left watching nothing, its front-end makes its
watch again, and takes what is enqueued at the new broker. Three
processes only: zchannel run's front-end cannot die alone."""

import os
import signal
import time

import harness as h
from workq import BIG, PREFETCH, hold_big


def test():
    frame_port = h.free_port()
    with h.system(sub_args=["--frame-listen", "%s:%d" % (h.HOST, frame_port)]) as S:
        port2 = h.free_port()
        other = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, port2), "--broker", S.egress,
                         "--control", S.control], name="subscriber-2")
        h.wait_frontend(port2, h.SUBSCRIBER_GREETING, other, name="subscriber-2-ready").close()
        holder, producer, body, st = hold_big(S, S.sub_port, frame_port, S.subscriber)
        written = st["queue_acked"]
        h.check(st["queue_items"] == BIG - written - PREFETCH > 0,
                "expected %d items waiting, the broker says %d" % (BIG - written - PREFETCH, st["queue_items"]))

        mark = os.path.getsize(S.broker.errpath)
        killed_at = time.monotonic()
        S.subscriber.signal(signal.SIGKILL)     # the front-end says nothing more
        holder.kill()
        taker = h.LineClient(h.HOST, port2, name="taker", proc=other)
        taker.expect(h.SUBSCRIBER_GREETING, what="greeting")
        taker.sendline("WATCH big")
        taker.expect(b"+OK", what="WATCH big")
        want = BIG - written
        lines, why = taker.read_some(want, timeout=30)
        ids = [int(l.split(b" ", 3)[3][:4]) for l in lines]
        h.check(why is None, "the taker got %d of the %d items left (%s): %r" % (len(ids), want, why, ids))
        # what waited comes at once; what the dead front-end held, once the broker gave up on it
        expected = list(range(written + PREFETCH + 1, BIG + 1)) + list(range(written + 1, written + PREFETCH + 1))
        h.check(ids == expected, "the taker got %r, expected %r" % (ids, expected))
        h.check(all(l.split(b" ", 3)[3][4:] == body for l in lines), "an item's payload changed on the way")
        h.wait_stderr(S.broker, "silent for 10 s", start=mark)
        st = S.stats()
        h.check(st["queue_redelivered"] == PREFETCH,
                "redelivered %d, expected the %d the dead front-end held" % (st["queue_redelivered"], PREFETCH))
        h.check(st["queue_inflight"] == 0 and st["queue_items"] == 0 and st["queue_watchers"] == 1,
                "the queue is not empty with one watcher: %r" % {k: v for k, v in st.items() if k.startswith("queue")})
        waited = time.monotonic() - killed_at

        # the broker restarts: the watch is made again at the new one
        producer.close()
        S.broker.signal(signal.SIGKILL)
        mark2 = os.path.getsize(other.errpath)
        broker2 = h.start([h.BROKER, "--ingress", S.ingress, "--egress", S.egress, "--control", S.control],
                          name="broker-2")
        h.wait_broker(S.control, broker2)
        h.wait_stderr(other, "watching again", start=mark2, timeout=h.STEP)
        deadline = time.monotonic() + h.STEP
        while h.broker_stats(S.control)["queue_watchers"] != 1:
            h.check(time.monotonic() < deadline, "the taker's watch was not made again at the new broker")
            time.sleep(0.1)
        putter = h.LineClient(h.HOST, port2, name="putter", proc=other)
        putter.expect(h.SUBSCRIBER_GREETING, what="greeting")
        putter.sendline("ENQUEUE big after-restart")
        putter.expect(b"+OK", what="ENQUEUE at the new broker")
        line = taker.readline(what="the item enqueued at the new broker")
        h.check(line.split(b" ", 3)[::3] == [b"ITEM", b"after-restart"],
                "the taker got %r after the broker restarted" % h.short(line))
        taker.close()
        putter.close()
        other.stop()
        broker2.stop()
    return ("front-end killed holding %d unwritten items (%d written before): a watcher on the other "
            "front-end got them and the rest after %.1f s; after a broker restart it watched again"
            % (PREFETCH, written, waited))


if __name__ == "__main__":
    h.run("57-work-queue-frontend-death", test, budget=120, deployments=("procs",))
