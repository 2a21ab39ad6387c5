#!/usr/bin/python3
"""Slow consumer: with --max-output 65536, a client that subscribes and then
stops reading is cut off, the drop is logged with the words `slow consumer`,
and a healthy client on the same pattern receives all ~20 MB in order.
When the slow client finally reads (on purpose well after the ~1 s close
delay: it is a client that is away), its stream is whole delivery lines,
then the line `-ERR slow consumer`, then EOF."""

import threading
import time

import harness as h
from harness import msg_line, subscribe

N = 20000                 # 1 KiB payloads: ~20 MB through the system
PAYLOAD = 1024
AWAY = 2.5               # seconds the slow client stays away after the drop
WINDOW = 32               # messages the healthy reader may lag behind the publisher


def payload(i):
    head = b"%08d:" % i
    return head + b"p" * (PAYLOAD - len(head))


def test():
    with h.system(sub_args=["--max-output", "65536"]) as S:
        slow = S.sub_client("slow-client", rcvbuf=4096)
        subscribe(slow, "slow.t")            # reads +OK, then never reads again
        good = S.sub_client("healthy-client")
        subscribe(good, "slow.t")
        pub = S.source_client("publisher")

        # Notes when the subscriber logs the drop.
        dropped_at = []

        def watch_log():
            while not dropped_at:
                with open(S.subscriber.errpath, "rb") as f:
                    if b"slow consumer" in f.read():
                        dropped_at.append(time.monotonic())
                        return
                time.sleep(0.02)

        threading.Thread(target=watch_log, daemon=True).start()
        received = [0]
        bad = []
        done = threading.Event()
        progress = threading.Condition()

        def reader():
            try:
                for i in range(1, N + 1):
                    line = good.readline(timeout=20, what="delivery %d" % i)
                    if line != msg_line("slow.t", i, payload(i)):
                        bad.append("delivery %d: expected %s, got %s"
                                   % (i, h.short(msg_line("slow.t", i, payload(i)), 60),
                                      h.short(line, 60)))
                        return
                    with progress:
                        received[0] = i
                        progress.notify_all()
            except h.TestFailure as e:
                bad.append(str(e))
            finally:
                done.set()
                with progress:
                    progress.notify_all()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t0 = time.monotonic()
        i = 1
        while i <= N and not done.is_set():
            j = min(N + 1, i + WINDOW)
            pub.send(b"".join(b"PUB slow.t " + payload(k) + b"\n" for k in range(i, j)))
            # keep the healthy client's backlog bounded: it is a client that keeps up
            with progress:
                ok = progress.wait_for(lambda: received[0] >= j - 1 or done.is_set(), 20)
            h.check(ok, "healthy-client: stalled at %d deliveries while %d were published"
                    % (received[0], j - 1))
            i = j
        t.join(30)
        h.check(not bad, "healthy-client: %s" % (bad[:1],))
        h.check(received[0] == N, "healthy-client: received %d of %d" % (received[0], N))
        elapsed = time.monotonic() - t0

        deadline = time.monotonic() + h.STEP
        while not dropped_at:
            h.check(time.monotonic() < deadline,
                    "subscriber stderr does not mention 'slow consumer' (%d messages published)"
                    % N)
            time.sleep(0.02)
        # The slow client stays away well past the ~1 s close delay, then
        # reads what the kernel held for it.
        away = max(0.0, dropped_at[0] + AWAY - time.monotonic())
        time.sleep(away)
        data = slow.read_to_eof(timeout=15, what="close after slow consumer")
        h.check(not slow.reset, "slow-client: connection reset instead of closed; got %d bytes, "
                "tail %s" % (len(data), h.short(data[-120:])))
        tail = b"-ERR slow consumer\n"
        h.check(data.endswith(tail),
                "slow-client: stream (%d bytes) does not end with %r; tail %s"
                % (len(data), tail, h.short(data[-200:])))
        body = data[:-len(tail)]
        lines = body.split(b"\n")
        partial = lines.pop()                # bytes after the last LF: a cut line, or b""
        h.check(partial == b"",
                "slow-client: the error is not a line of its own: the stream ends %s, i.e. "
                "delivery %d cut after %d bytes and '-ERR slow consumer' glued to it"
                % (h.short(data[-len(tail) - 60:]), len(lines) + 1, len(partial)))
        for k, line in enumerate(lines, 1):
            h.check(line == msg_line("slow.t", k, payload(k)),
                    "slow-client: line %d before the error is not delivery %d: %s"
                    % (k, k, h.short(line, 80)))
        h.check(len(lines) < N, "slow-client: got every message: it was never cut off")
        S.check_alive()
    return ("healthy client got %d x %d B in order (%.1fs); slow client, reading %.1fs after "
            "the drop, got %d deliveries, then -ERR slow consumer and EOF"
            % (N, PAYLOAD, elapsed, AWAY, len(lines)))


if __name__ == "__main__":
    h.run("07-slow-consumer", test, budget=110)
