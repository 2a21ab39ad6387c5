#!/usr/bin/python3
"""Work queues: items held in the broker, each handed to exactly one watcher.

1. Two Workerman Channel\\Client watchers (`queue-watch`) share what a third
   (`queue-put`) enqueues: every item exactly once, both get some.
2. A text watcher (WATCH), a channel watcher and a WebSocket watcher
   share one queue.
3. A full queue (--queue-max-items) refuses ENQUEUE over text, frames,
   WebSocket and the channel protocol, each told why, counted; a watcher
   then drains it.
4. A text watcher that stops reading holds items not yet written to its
   socket; killed, those items go to the other watcher (counted as
   redelivered), and nothing else is lost or repeated."""

import re
import time
import urllib.request

import channel as ch
import frames as fr
import harness as h
import wsclient as wsc
from workq import BIG, PREFETCH, hold_big, stats_when

N = 30                  # items two PHP watchers share
MIXED = 20              # items a text and a channel watcher share
MAX_ITEMS = 100         # --queue-max-items


def broker_metric(S, name):
    """The broker's value of a metric, from the Prometheus endpoint."""
    text = urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, S.metrics_port), timeout=h.STEP).read().decode()
    m = re.search(r'^%s\{role="broker"\} (\d+)$' % name, text, re.M)
    h.check(m, "metrics: no %s for the broker" % name)
    return int(m.group(1))


def php_lines(proc):
    banner = ("Workerman", "---", "proto", "tcp ", "Press Ctrl+C")
    out = ch.php_output(proc).decode("utf-8", "replace")
    return [l for l in out.splitlines() if l and not l.startswith(banner)]


def two_php_watchers(S, cport):
    watchers = [ch.php_client(cport, "queue-watch", "jobs", N, name="php-watch-%d" % i) for i in (1, 2)]
    for w in watchers:
        ch.wait_started(w)
    stats_when(S, lambda st: st["queue_watchers"] == 2, "both PHP watchers watching")
    put = ch.php_client(cport, "queue-put", "jobs", N, name="php-put")
    ch.finish(put)
    deadline = time.monotonic() + h.STEP * 2
    while sum(len(php_lines(w)) for w in watchers) < N and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)                     # anything more would be a duplicate
    got = [php_lines(w) for w in watchers]
    for w in watchers:
        ch.stop(w)
    sets = [set(lines) for lines in got]
    union = sorted(sets[0] | sets[1], key=lambda l: int(l.split("q")[-1]))
    h.check(union == ["jobs q%d" % i for i in range(1, N + 1)],
            "the PHP watchers' items are not q1..q%d: %r" % (N, got))
    h.check(not (sets[0] & sets[1]), "items reached both PHP watchers: %r" % sorted(sets[0] & sets[1]))
    h.check(len(got[0]) + len(got[1]) == N, "an item reached a watcher twice: %r" % got)
    h.check(got[0] and got[1], "one PHP watcher got nothing: %d + %d" % (len(got[0]), len(got[1])))
    stats_when(S, lambda st: st["queue_watchers"] == 0 and st["queue_acked"] >= N,
               "the watchers gone and every item written")
    return "%d+%d" % (len(got[0]), len(got[1]))


def ws_items(ws, timeout):
    """The payloads of the item messages a WebSocket watcher has by then."""
    out = []
    while True:
        frame = ws.read_frame(timeout)
        if frame is None:
            return out
        if frame[0] != wsc.TEXT:
            continue                    # a keepalive ping, say
        m = wsc.json.loads(frame[1])
        h.check(m.get("op") == "item" and m.get("queue") == "mixed" and isinstance(m.get("id"), int),
                "WebSocket watcher: not an item: %r" % m)
        out.append(m["payload"])


def text_and_channel(S, cport):
    text = S.sub_client("text-watcher")
    text.sendline("WATCH mixed")
    text.expect(b"+OK", what="WATCH answered")
    ws = wsc.WsClient(S.ws_port, name="ws-watcher")
    ws.send_json({"op": "watch", "queue": "mixed", "prefetch": 4})
    ws.expect_ok("watch mixed")
    php = ch.php_client(cport, "queue-watch", "mixed", MIXED, name="php-watch-mixed")
    ch.wait_started(php)
    stats_when(S, lambda st: st["queue_watchers"] == 3, "a text, a WebSocket and a channel watcher")
    producer = S.sub_client("producer")
    for i in range(1, MIXED + 1):
        producer.sendline("ENQUEUE mixed m%d" % i)
    for i in range(MIXED):
        producer.expect(b"+OK", what="ENQUEUE %d answered" % (i + 1))
    text_items, ws_got = [], []
    deadline = time.monotonic() + h.STEP * 2
    while len(text_items) + len(ws_got) + len(php_lines(php)) < MIXED and time.monotonic() < deadline:
        ws_got += ws_items(ws, 0.1)
        for line in text.read_some(MIXED, timeout=0.1)[0]:
            parts = line.split(b" ", 3)
            h.check(len(parts) == 4 and parts[0] == b"ITEM" and parts[1] == b"mixed",
                    "text watcher: not an item line: %r" % line)
            text_items.append(parts[3].decode())
    time.sleep(0.3)
    text_items += [l.split(b" ", 3)[3].decode() for l in text.read_some(MIXED, timeout=0.2)[0]]
    ws_got += ws_items(ws, 0.1)
    php_items = [l.split(" ", 1)[1] for l in php_lines(php)]
    ch.stop(php)
    every = text_items + ws_got + php_items
    h.check(sorted(every, key=lambda x: int(x[1:])) == ["m%d" % i for i in range(1, MIXED + 1)],
            "text %r + WebSocket %r + channel %r are not m1..m%d once each"
            % (text_items, ws_got, php_items, MIXED))
    h.check(text_items and ws_got and php_items, "a watcher got nothing: text %r, WebSocket %r, channel %r"
            % (text_items, ws_got, php_items))
    ws.send_json({"op": "unwatch", "queue": "mixed"})
    ws.expect_ok("unwatch mixed")
    ws.close()
    text.sendline("UNWATCH mixed")
    text.expect(b"+OK", what="UNWATCH answered")
    text.close()
    producer.close()
    stats_when(S, lambda st: st["queue_watchers"] == 0, "both mixed watchers gone")
    return "%d+%d+%d" % (len(text_items), len(ws_got), len(php_items))


def full_queue(S, cport):
    before = S.stats()["queue_refused"]
    producer = S.sub_client("filler")
    for i in range(MAX_ITEMS):
        producer.sendline("ENQUEUE full f%d" % i)
    for i in range(MAX_ITEMS):
        producer.expect(b"+OK", what="ENQUEUE %d of %d answered" % (i + 1, MAX_ITEMS))
    producer.sendline("ENQUEUE full one-too-many")
    line = producer.readline(what="the refusal")
    h.check(line.startswith(b"-ERR work queue full is full (%d items" % MAX_ITEMS),
            "text: a full queue answered %r" % line)
    framed = fr.FrameClient(S.frame_port, name="frame-filler", proc=S.subscriber)
    framed.send(["enqueue", "full", b"one-too-many"])
    framed.expect_err("queue_full", "frames: enqueue to a full queue")
    chan = ch.ChannelClient(cport, name="channel-filler", proc=S.subscriber)
    chan.send("enqueue", ["full"], "one-too-many")
    chan.expect_error("queue_full", "is full", "channel: enqueue to a full queue")
    ws = wsc.WsClient(S.ws_port, name="ws-filler")
    ws.send_json({"op": "enqueue", "queue": "full", "payload": "one-too-many"})
    m = ws.read_json(what="the refusal")
    h.check(m.get("op") == "err" and m.get("code") == "queue_full" and "is full" in m.get("detail", ""),
            "WebSocket: enqueue to a full queue answered %r" % m)
    ws.close()
    # the metrics show it at once (nothing else wakes the broker meanwhile)
    got = broker_metric(S, "zchannel_queue_refused_total")
    h.check(got == before + 4, "metrics: zchannel_queue_refused_total is %d, expected %d" % (got, before + 4))
    st = stats_when(S, lambda st: st["queue_refused"] == before + 4, "4 refusals counted")
    h.check(st["queue_items"] == MAX_ITEMS, "the full queue holds %d items, not %d" % (st["queue_items"], MAX_ITEMS))
    for metric, want in (("zchannel_queue_refused_total", st["queue_refused"]),
                         ("zchannel_queue_items", MAX_ITEMS), ("zchannel_queue_enqueued_total", st["queue_enqueued"])):
        got = broker_metric(S, metric)
        h.check(got == want, "metrics: %s is %d, STATS says %d" % (metric, got, want))
    # the connections stay usable, and a watcher drains the queue
    producer.sendline("PING")
    producer.expect(b"PONG", what="the refused client still served")
    drain = S.sub_client("drainer")
    drain.sendline("WATCH full PREFETCH 50")
    drain.expect(b"+OK", what="WATCH full")
    lines = drain.read_lines(MAX_ITEMS, timeout=h.STEP, what="the full queue's items")
    h.check([l.split(b" ", 3)[3] for l in lines] == [b"f%d" % i for i in range(MAX_ITEMS)],
            "the drained items are not f0..f%d in order: %r" % (MAX_ITEMS - 1, lines[:5]))
    producer.sendline("ENQUEUE full again")
    producer.expect(b"+OK", what="ENQUEUE once there is room")
    drain.read_lines(1, what="the item enqueued once there was room")
    for c in (producer, framed, chan, drain):
        c.close()
    stats_when(S, lambda st: st["queue_watchers"] == 0, "the drainer gone")
    return "refused over text, frames, WebSocket and channel (%d counted)" % (st["queue_refused"] - before)


def killed_watcher(S):
    st0 = S.stats()
    # the holder's socket is full and it holds PREFETCH items unwritten:
    # nothing moves any more
    holder, producer, body, st = hold_big(S, S.sub_port, S.frame_port, S.subscriber)
    written = st["queue_acked"] - st0["queue_acked"]
    h.check(st["queue_items"] == BIG - written - PREFETCH and st["queue_items"] > 0,
            "expected %d items still waiting, broker says %d" % (BIG - written - PREFETCH, st["queue_items"]))
    holder.kill()
    # its front-end gives back what it held once it sees the connection gone
    stats_when(S, lambda st: st["queue_inflight"] == 0 and st["queue_items"] == BIG - written,
               "the %d held items back in the queue" % PREFETCH)
    taker = S.sub_client("taker")
    taker.sendline("WATCH big")
    taker.expect(b"+OK", what="WATCH big")
    want = BIG - written
    lines, why = taker.read_some(want, timeout=h.STEP * 3)
    ids = [int(l.split(b" ", 3)[3][:4]) for l in lines]
    h.check(why is None, "the taker got %d of the %d items left (%s): %r" % (len(ids), want, why, ids))
    h.check(ids == list(range(written + 1, BIG + 1)),
            "the taker got %r, expected %d..%d in order (the %d the holder held first)"
            % (ids, written + 1, BIG, PREFETCH))
    h.check(all(l.split(b" ", 3)[3][4:] == body for l in lines), "an item's payload changed on the way")
    h.check(taker.quiet(0.5), "the taker got more than the %d items left" % want)
    st = stats_when(S, lambda st: st["queue_inflight"] == 0 and st["queue_items"] == 0, "the queue empty")
    redelivered = st["queue_redelivered"] - st0["queue_redelivered"]
    h.check(redelivered == PREFETCH, "redelivered %d, expected the %d held" % (redelivered, PREFETCH))
    taker.close()
    producer.close()
    return "holder killed holding %d unwritten after %d written: they went to the other watcher" % (
        PREFETCH, written)


def test():
    ch.require_php("56-work-queues")
    relay = h.tcp_ep(h.free_port())
    cport = h.free_port()
    frame_port, ws_port, metrics_port = h.free_port(), h.free_port(), h.free_port()
    with h.system(broker_args=["--queue-max-items", str(MAX_ITEMS),
                               "--metrics-listen", "%s:%d" % (h.HOST, metrics_port)],
                  source_args=["--relay-listen", relay],
                  sub_args=["--channel-listen", "%s:%d" % (h.HOST, cport), "--relay", relay,
                            "--frame-listen", "%s:%d" % (h.HOST, frame_port),
                            "--ws-listen", "%s:%d" % (h.HOST, ws_port)]) as S:
        S.frame_port, S.ws_port, S.metrics_port = frame_port, ws_port, metrics_port
        shared = two_php_watchers(S, cport)
        mixed = text_and_channel(S, cport)
        full = full_queue(S, cport)
        killed = killed_watcher(S)
        S.check_alive()
    return "PHP watchers shared %d as %s; text+WebSocket+channel %s; %s; %s" % (N, shared, mixed, full, killed)


if __name__ == "__main__":
    h.run("56-work-queues", test, budget=180)
