#!/usr/bin/python3
"""No loss after +OK: once a client has read +OK to SUB, every message
published afterwards reaches it. 10,000 messages pipelined in big writes on
one source connection right after +OK arrive complete, in order, seq 1..N."""

import threading

import harness as h
from harness import msg_line, subscribe

N = 10000


def test():
    with h.system() as S:
        pub = S.source_client("publisher")
        sub = S.sub_client("subscriber")
        subscribe(sub, "bulk.t")
        payloads = [b"m%05d payload %d" % (i, i * 7919) for i in range(1, N + 1)]
        data = b"".join(b"PUB bulk.t " + p + b"\n" for p in payloads)
        errors = []

        def send():
            try:
                for off in range(0, len(data), 256 * 1024):
                    pub.send(data[off:off + 256 * 1024])
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=send, daemon=True)
        t.start()
        got, why = sub.read_some(N, timeout=40)
        t.join(h.STEP)
        h.check(not errors, "publisher: send failed: %r" % errors)
        index = {p: j for j, p in enumerate(payloads)}
        for i, line in enumerate(got):
            want = msg_line("bulk.t", i + 1, payloads[i])
            if line != want:
                msg = "subscriber: delivery %d: expected %r, got %r" % (i + 1, want, line)
                m = h.parse_msg(line)
                if m and m[2] in index:
                    msg += " (that payload is message %d: %d published messages missing " \
                           "before it)" % (index[m[2]] + 1, index[m[2]] - i)
                h.fail(msg)
        h.check(why is None, "subscriber: got %d of %d deliveries, all correct so far; then %s"
                % (len(got), N, why))
        extra = sub.ping()
        h.check(extra == [], "subscriber: unexpected lines after %d deliveries: %r"
                % (N, extra[:5]))
        S.check_alive()
    return "%d messages published right after +OK, all delivered in order" % N


if __name__ == "__main__":
    h.run("02-no-loss-after-ok", test)
