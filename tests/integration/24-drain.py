#!/usr/bin/python3
"""SIGTERM drain with --drain-timeout: `zchannel run --drain-timeout 1s`
holds a subscriber client that reads everything and one that reads
nothing. After every message was accepted (+OK), one SIGTERM: the reading
client receives every message, in order, then a clean close; the stuck
client cannot finish the drain, so the drain timeout ends it: the process
logs it and exits 0 well before the default 5 s would have let it.

With the default behind-mark (1M) the stuck client would hold the broker
from early on: then a machine slow to publish 8 MB either cuts it as a
slow consumer after the default stall-timeout of 2 s, leaving the drain
nothing to time out on, or, with a long stall-timeout, holds the
publisher until its confirms time out. The drain is what this test is
about, so the subscriber's behind-mark here is above the 8 MB: the stuck
client falls behind without holding anyone. The test checks that the
scenario took place: nobody was cut as a slow consumer, the stuck client
got only the stream's first messages, and what the drain timeout left
unread is at least the rest of its stream, more than 1 MiB."""

import re
import signal
import threading
import time

import harness as h
from harness import msg_line, subscribe

N = 8000
PAYLOAD = "d" * 1000            # 8 MB in all: more than socket buffers hold
BOUND = 4.5                     # drain-timeout 1s per stage, +1s closing; default would be 5s+
MARK = "32M"                    # above the 8 MB: no client holds the broker (half max-output)
BEHIND = 1024 * 1024            # what the stuck client is behind by at least, at the end


def test():
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                    "--egress", egress, "--control", control, "--drain-timeout", "1s",
                    "--subscriber-max-output", "64M", "--subscriber-behind-mark", MARK,
                    "--workers", "1"], name="zchannel-run")
    h.wait_broker(control, proc)
    reader = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="reader")
    subscribe(reader, "dr.t")
    stuck = h.LineClient(h.HOST, bp, rcvbuf=4096, name="stuck", proc=proc)
    stuck.expect(h.SUBSCRIBER_GREETING, what="greeting")
    subscribe(stuck, "dr.t")

    data = []
    t = threading.Thread(target=lambda: data.append(reader.read_to_eof(60, "reader to EOF")),
                         daemon=True)
    t.start()
    pub = h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="publisher")
    pub.sendline("VERBOSE on")
    pub.expect(b"+OK", what="VERBOSE on")
    for start in range(1, N + 1, 500):
        end = min(start + 500, N + 1)
        pub.send(b"".join(b"PUB dr.t %s\n" % PAYLOAD.encode() for _ in range(start, end)))
        oks = pub.read_lines(end - start, timeout=30, what="+OK per PUB")
        h.check(all(h.is_ok(l) for l in oks), "publisher: %r" % oks[:3])

    t0 = time.monotonic()
    proc.signal(signal.SIGTERM)
    rc = proc.wait(20)
    took = time.monotonic() - t0
    h.check(rc == 0, "zchannel run: exit %r after SIGTERM" % rc)
    h.check(took < BOUND, "zchannel run took %.1fs to drain with --drain-timeout 1s" % took)
    t.join(30)
    h.check(data, "reader: never saw the end of the stream")
    lines = data[0].split(b"\n")
    h.check(lines.pop() == b"", "reader: stream ends with an unterminated line")
    h.compare_lines("reader", [l for l in lines if l.startswith(b"MSG ")],
                    [msg_line("dr.t", i, PAYLOAD) for i in range(1, N + 1)])
    log = proc.stderr_text()
    h.check("slow consumer" not in log, "a client was cut as a slow consumer before the drain "
            "timeout could end it")
    m = re.search(r"drain timeout \(1000 ms\) reached with (\d+) bytes", log)
    h.check(m, "no log line for the stuck client cut off by the drain timeout")

    # The stuck client was behind until the end: what the kernel had taken
    # for it is the stream's first messages, in order, with no error, and
    # the drain timeout left at least the rest of its stream unread
    got = stuck.read_to_eof(30, "stuck client to EOF")
    stuck.close()
    lines = got.split(b"\n")
    lines.pop()                         # the line the drain timeout cut short, if any
    k = len(lines)
    h.compare_lines("stuck", lines, [msg_line("dr.t", i, PAYLOAD) for i in range(1, k + 1)])
    rest = sum(len(msg_line("dr.t", i, PAYLOAD)) + 1 for i in range(1, N + 1)) - len(got)
    h.check(rest > BEHIND, "the stuck client got %d of %d messages: it was not behind" % (k, N))
    h.check(int(m.group(1)) >= rest, "the drain timeout left %s bytes unread, less than the %d "
            "the stuck client had not got" % (m.group(1), rest))
    return ("SIGTERM after %d accepted: reader got all %d in order; a stuck client (%d got, "
            "%d bytes behind) held the drain until --drain-timeout 1s; exit 0 in %.1fs"
            % (N, N, k, rest, took))


if __name__ == "__main__":
    # starts zchannel run itself
    h.run("24-drain", test, budget=60, deployments=("run",))
