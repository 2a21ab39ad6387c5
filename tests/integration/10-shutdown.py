#!/usr/bin/python3
"""Shutdown: SIGTERM/SIGINT make each program exit 0 promptly, and nothing
already accepted is lost for a connected subscriber that keeps up.
(a) separate processes, the source stopped while the broker is far behind:
    the broker is frozen (SIGSTOP) while the source takes N
    messages of 2 KB (more than the kernel's socket buffers hold, so most
    wait in the source's own queue), the source gets the signal, the test
    checks it is still running a second later (waiting for the broker to
    confirm it has everything: the hand-over), then lets the broker go on
    (SIGCONT); the source must exit 0, then broker and subscriber are
    stopped, and the subscriber's client must have received all N messages
    in order, each once, before its connection closed;
(b) `zchannel run`, one SIGTERM; (c) `zchannel run`, one SIGINT; (d) as (a)
    with SIGINT."""

import signal
import threading
import time

import harness as h
from harness import msg_line, subscribe

N = 5000
PAD = "x" * 2000      # 10 MB in all: more than loopback socket buffers take
PROMPT = 8.0          # "within ~5 s", with some slack for sanitizer builds


class Reader:
    """Reads a subscriber client until EOF in the background."""

    def __init__(self, client):
        self.client = client
        self.data = None
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            self.data = self.client.read_to_eof(60, "close at shutdown")
        except h.TestFailure as e:
            self.error = str(e)

    def check(self, topic, n, what, pad=""):
        self.t.join(30)
        h.check(not self.t.is_alive(), "%s: subscriber connection never closed" % what)
        h.check(self.error is None, "%s: %s" % (what, self.error))
        h.check(not self.client.reset, "%s: connection was reset, not closed" % what)
        lines = self.data.split(b"\n")
        tail = lines.pop()
        h.check(tail == b"", "%s: stream ends with an unterminated line %s"
                % (what, h.short(tail)))
        got = [l for l in lines if l.startswith(b"MSG ")]
        h.compare_lines(what, got, [msg_line(topic, i, "s%d%s" % (i, pad)) for i in range(1, n + 1)])


def publish_accepted(pub, topic, n, pad=""):
    """Publishes n messages; the PONG to a PING after them says the source
    took them all (VERBOSE would wait for a frozen broker's confirms)."""
    pub.send(b"".join(b"PUB %s s%d%s\n" % (topic.encode(), i, pad.encode()) for i in range(1, n + 1))
             + b"PING\n")
    pub.expect(b"PONG", timeout=30, what="PONG after %d PUBs: all accepted" % n)


def stop(proc, sig, what):
    t0 = time.monotonic()
    proc.signal(sig)
    rc = proc.wait(PROMPT)
    h.check(rc is not None, "%s: still running %.0fs after %s" % (what, PROMPT, sig.name))
    h.check(rc == 0, "%s: exit code %d after %s, expected 0" % (what, rc, sig.name))
    return time.monotonic() - t0


def separate(sig):
    with h.system() as S:
        sub = S.sub_client("subscriber")
        subscribe(sub, "sd.t")
        reader = Reader(sub)
        pub = S.source_client("publisher")
        h.freeze(S.broker)
        try:
            publish_accepted(pub, "sd.t", N, PAD)
            t0 = time.monotonic()
            S.source.signal(sig)
            time.sleep(1.0)
            waited = S.source.alive()
        finally:
            S.broker.popen.send_signal(signal.SIGCONT)
        h.check(waited, "source exited within 1 s of %s with the broker frozen (exit code %r): "
                "it did not wait for the broker to confirm what it had accepted"
                % (sig.name, S.source.returncode))
        rc = S.source.wait(30)
        h.check(rc == 0, "source: exit code %r after %s, expected 0" % (rc, sig.name))
        times = [time.monotonic() - t0,
                 stop(S.broker, sig, "broker"),
                 stop(S.subscriber, sig, "subscriber")]
        reader.check("sd.t", N, "subscriber client (separate processes, %s)" % sig.name, PAD)
    return times[0], max(times[1:])


def all_in_one(sig, n):
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                    "--egress", egress, "--control", control], name="zchannel-run")
    try:
        h.wait_broker(control, proc)
        h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="run-source").close()
        sub = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="run-subscriber")
        subscribe(sub, "sd.one")
        reader = Reader(sub)
        pub = h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="run-publisher")
        publish_accepted(pub, "sd.one", n)
        took = stop(proc, sig, "zchannel run")
        reader.check("sd.one", n, "subscriber client (zchannel run, %s)" % sig.name)
        return took
    finally:
        proc.kill()


#  Each deployment stops in its own way: the roles one by one, or the one process
def test():
    if h.DEPLOYMENT == "procs":
        ta = separate(signal.SIGTERM)
        tb = separate(signal.SIGINT)
        return ("separate processes stopped one by one with the broker behind, SIGTERM (source "
                "%.1fs incl. 1 s frozen, slowest other %.1fs), SIGINT (%.1fs/%.1fs): exit 0, "
                "nothing lost" % (ta + tb))
    ta = all_in_one(signal.SIGTERM, N)
    tb = all_in_one(signal.SIGINT, 1000)
    return ("zchannel run SIGTERM (%.1fs), SIGINT (%.1fs): exit 0, nothing lost" % (ta, tb))


if __name__ == "__main__":
    h.run("10-shutdown", test, budget=110)
