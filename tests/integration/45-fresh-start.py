#!/usr/bin/python3
"""A fresh start loses nothing after +OK: RUNS times per deployment
(`zchannel run`, and the three processes started all at once, none waiting
for another), three subscribers connect as soon as the port accepts and
send `SUB` for a topic, a `*` pattern and a `>` pattern; a publisher
connected as soon as the source's port accepts publishes to each the moment
its +OK comes. Each message (seq 1 of its topic) must arrive, every time;
any miss fails, with the run and what the broker had counted.

ZCH_FRESH_RUNS sets RUNS (20 in CI; hundreds by hand), and
ZCH_FRESH_KEEP_GOING=1 counts misses over every run instead of stopping at
the first."""

import os
import threading
import time

import harness as h
from harness import msg_line

RUNS = int(os.environ.get("ZCH_FRESH_RUNS", "20"))
KEEP_GOING = os.environ.get("ZCH_FRESH_KEEP_GOING") == "1"
ARRIVAL = 5.0               # seconds the message may take on a loaded machine


def connect(port, greeting, procs, name):
    """Connects the moment the port accepts (retrying while it refuses)."""
    for p in procs:
        h.check(p.alive(), "%s died at start: %s" % (p.name, p.describe()))
    c = h.LineClient(h.HOST, port, timeout=h.STEP * 2, name=name)
    c.expect(greeting, h.STEP, "%s greeting" % name)
    return c


def start_run():
    """zchannel run on fresh ports. Returns (procs, source port, subscriber
    port, control endpoint)."""
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                    "--egress", egress, "--control", control], name="zchannel-run")
    return [proc], sp, bp, control


def start_three():
    """The three processes, started together: none waits for another."""
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    procs = [
        h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, bp), "--broker", egress,
                 "--control", control], name="subscriber"),
        h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, sp), "--broker", ingress,
                 "--control", control], name="source"),
        h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                name="broker"),
    ]
    return procs, sp, bp, control


#  Per run, one subscriber per kind of pattern: (pattern, topic published)
KINDS = [("fresh.a%d", "fresh.a%d"), ("fresh.b%d.*", "fresh.b%d.x"), ("fresh.c%d.>", "fresh.c%d.x.y")]


def port_taken(procs):
    """True when a program exited at start because a port was taken between
    our check and its bind (an outgoing connection of the others may take
    it: they start before the broker binds)."""
    return any(not p.alive() and "Address already in use" in p.stderr_text() for p in procs)


def one_run(deployment, k, starter):
    """One fresh start, on new ports again when one was taken. Returns None,
    or a description of the misses."""
    for attempt in range(3):
        procs, sp, bp, control = starter()
        try:
            miss = run_clients(deployment, k, procs, sp, bp, control)
        except h.TestFailure:
            if not port_taken(procs) or attempt == 2:
                raise
            miss = "port taken"
        if miss and port_taken(procs) and attempt < 2:
            print("note: %s run %d: a port was taken at start; again on new ports"
                  % (deployment, k), flush=True)
            for p in procs:
                p.kill()
            continue
        return miss
    return None


def run_clients(deployment, k, procs, sp, bp, control):
    """The clients of one run. Returns None, or a description of the misses."""
    pub_box = []
    # Every client connects at once, each as soon as its port accepts
    t = threading.Thread(target=lambda: pub_box.append(
        connect(sp, h.SOURCE_GREETING, procs, "publisher")), daemon=True)
    t.start()
    subs = []
    for n, (pattern, topic) in enumerate(KINDS):
        c = connect(bp, h.SUBSCRIBER_GREETING, procs, "subscriber-%d" % n)
        c.sendline("SUB %s" % (pattern % k))
        subs.append((c, topic % k))
    t.join(h.STEP * 2)
    h.check(pub_box, "%s run %d: the publisher never connected" % (deployment, k))
    pub = pub_box[0]
    # Each message goes the moment its subscriber has its +OK
    for c, topic in subs:
        c.expect(b"+OK", what="%s run %d: reply to SUB" % (deployment, k))
        pub.sendline("PUB %s hello" % topic)
    misses = []
    for c, topic in subs:
        want = msg_line(topic, 1, "hello")
        try:
            line = c.readline(timeout=ARRIVAL, what="%s run %d: %s" % (deployment, k, topic))
            if line != want:
                misses.append("%s: got %r instead of %r" % (c.name, line, want))
        except h.TestFailure as e:
            misses.append("%s: %s" % (c.name, e))
    miss = "; ".join(misses)
    if miss:
        try:
            stats = h.broker_stats(control, timeout=2)
            miss += "; broker: messages_in %s, messages_out %s" % (
                stats.get("messages_in"), stats.get("messages_out"))
        except h.TestFailure:
            pass
        miss += "; logs: " + " | ".join("%s: %s" % (p.name, h.short(p.stderr_text().encode(), 600))
                                        for p in procs)
    for c, _ in subs:
        c.close()
    pub.close()
    for p in procs:
        rc = p.stop(h.STOP_WAIT)
        h.check(rc == 0 or miss, "%s run %d: %s exit code %s after SIGTERM"
                % (deployment, k, p.name, rc))
    return miss or None


def test():
    figures = []
    for deployment, starter in (("zchannel run", start_run), ("three processes", start_three)):
        misses = []
        for k in range(RUNS):
            miss = one_run(deployment, k, starter)
            if miss:
                misses.append((k, miss))
                print("MISS %s run %d: %s" % (deployment, k, miss), flush=True)
                if not KEEP_GOING:
                    h.fail("%s run %d of %d: +OK, then the first message never came: %s"
                           % (deployment, k + 1, RUNS, miss))
        figures.append("%s: %d runs, %d misses" % (deployment, RUNS, len(misses)))
        h.check(not misses, "; ".join(figures))
    return "; ".join(figures)


if __name__ == "__main__":
    h.run("45-fresh-start", test, budget=int(os.environ.get("ZCH_FRESH_BUDGET", "200")),
          deployments=h.ONCE)
