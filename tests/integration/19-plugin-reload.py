#!/usr/bin/python3
"""SIGHUP reload under continuous traffic: `zchannel run` with a plugin at
each stage (redact, each reading its regex and replacement from a conf
file). One connection publishes continuously while the test rewrites the
three conf files and sends SIGHUP four times, each time waiting until all
three stages show the new config. Every message arrives, in order, with
seq 1..N, each transformed wholly by one config per stage, the configs
only ever moving forward (the switch happens at a message boundary). A
reload whose conf is broken is refused and the running chains stay."""

import os
import re
import signal
import tempfile
import threading

import harness as h
from harness import parse_msg, subscribe

SRC = "ABCDE"        # what the source stage writes for "s"
BRK = "01234"        # the broker stage, for "b"
SUB = "pqrst"        # the subscriber stage, for "u"
LINE = re.compile(rb"^([A-Z])-([0-9])-([a-z])-([0-9]+)$")


def write(path, regex, replacement):
    with open(path + ".new", "w") as f:
        f.write("# written by the test\nregex=%s\nreplacement=%s\n" % (regex, replacement))
    os.rename(path + ".new", path)


def test():
    work = tempfile.mkdtemp(prefix="zch-reload-")
    conf = {stage: os.path.join(work, stage + ".conf") for stage in ("src", "brk", "sub")}

    def configure(version):
        write(conf["src"], "^s", SRC[version])
        write(conf["brk"], "b", BRK[version])
        write(conf["sub"], "u", SUB[version])

    configure(0)
    src, subp = h.free_port(), h.free_port()
    run = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, src),
                   "--subscriber-listen", "%s:%d" % (h.HOST, subp),
                   "--ingress", h.tcp_ep(h.free_port()), "--egress", h.tcp_ep(h.free_port()),
                   "--control", h.tcp_ep(h.free_port()), "--workers", "2",
                   "--plugin-path", h.PLUGINS,
                   "--source-plugin", "redact:conf=" + conf["src"],
                   "--broker-plugin", "redact:conf=" + conf["brk"],
                   "--subscriber-plugin", "redact:conf=" + conf["sub"]], name="zchannel-run")
    sub = h.wait_frontend(subp, h.SUBSCRIBER_GREETING, run, name="sub")
    subscribe(sub, "r.>")
    pub = h.wait_frontend(src, h.SOURCE_GREETING, run, name="pub")

    stop = threading.Event()
    sent = [0]
    errors = []

    def publish():
        try:
            i = 0
            while not stop.is_set():
                pub.send(b"".join(b"PUB r.t s-b-u-%d\n" % (i + k + 1) for k in range(20)))
                i += 20
                sent[0] = i
                stop.wait(0.002)
        except Exception as e:      # reported by the main thread
            errors.append(e)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    got = []

    def take():
        line = sub.readline(what="delivery %d" % (len(got) + 1))
        parsed = parse_msg(line)
        m = LINE.match(parsed[2]) if parsed else None
        h.check(m is not None, "unexpected delivery %r" % line)
        got.append((parsed[1],) + tuple(g.decode() for g in m.groups()[:3]) + (int(m.group(4)),))
        return got[-1]

    at = 0
    for version in range(1, 5):
        if version == 3:
            # a broken conf: refused, the running chains stay
            write(conf["brk"], "(", "x")
            run.signal(signal.SIGHUP)
            at = h.wait_stderr(run, "broker: reload failed, keeping the running plugins", start=at)
        configure(version)
        run.signal(signal.SIGHUP)
        want = (SRC[version], BRK[version], SUB[version])
        while take()[1:4] != want:
            pass
    stop.set()
    thread.join(h.STEP)
    h.check(not errors, "publisher failed: %r" % errors)
    n = sent[0]
    while len(got) < n:
        take()
    h.check(sub.ping() == [], "nothing beyond the %d messages sent" % n)
    for k, (seq, s, b, u, i) in enumerate(got):
        h.check(seq == k + 1 and i == k + 1, "message %d arrived as seq %d index %d" % (k + 1, seq, i))
        if k:
            prev = got[k - 1]
            h.check(SRC.index(s) >= SRC.index(prev[1]) and BRK.index(b) >= BRK.index(prev[2])
                    and SUB.index(u) >= SUB.index(prev[3]),
                    "config went backwards at message %d: %r after %r" % (k + 1, got[k], prev))
    h.check(run.stop() == 0, "zchannel run exits 0")
    for path in conf.values():
        os.unlink(path)
    os.rmdir(work)
    return "%d messages through 4 reloads (+1 refused) at 3 stages, none lost, in order" % n


if __name__ == "__main__":
    # starts zchannel run itself
    h.run("19-plugin-reload", test, budget=100, deployments=("run",))
