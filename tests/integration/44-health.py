#!/usr/bin/python3
"""Health and readiness beside /metrics: /healthz answers 200 as soon as the
process serves HTTP; /readyz answers 503 naming the role while a front-end
has no broker link (no broker started yet), and 200 once every worker has
heard the broker (two source workers here: both must); when the broker
goes away later both front-ends turn 503 again, and 200 once it is back. Every
sample of /metrics carries a role label, including zchannel_build_info
(with the version), zchannel_uptime_seconds and the process metrics (CPU,
resident memory, open and maximum descriptors), whose values are those of
the process; zchannel run labels its process-wide metrics role="run"."""

import os
import re
import time
import urllib.error
import urllib.request

import harness as h

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$')


def get(port, path):
    """(status, body) of GET path; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (h.HOST, port, path), timeout=h.STEP) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_status(port, path, status, what, body=None):
    """Polls path until it answers status (and body, if given); returns the body."""
    deadline = time.monotonic() + h.STEP
    while True:
        try:
            got = get(port, path)
            if got[0] == status and body in (None, got[1]):
                return got[1]
        except OSError as e:        # not listening yet
            got = (None, str(e))
        h.check(time.monotonic() < deadline, "%s: %s answered %r, expected %d" % (what, path, got, status))
        time.sleep(0.05)


def samples(port):
    """Every sample of /metrics as {name{labels}: value}; each must have a role."""
    status, text = get(port, "/metrics")
    h.check(status == 200, "/metrics: HTTP %d" % status)
    values = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        h.check(m, "metrics: malformed line %r" % line)
        h.check(m.group(2) and 'role="' in m.group(2), "metrics: no role label on %r" % line)
        values[m.group(1) + m.group(2)] = float(m.group(3))
    return values


def version():
    """The version the programs report (zchannel-broker --version)."""
    rc, out, err = h.run_cmd([h.BROKER, "--version"])
    h.check(rc == 0, "zchannel-broker --version: exit %d" % rc)
    return out.decode().split()[-1]


def check_process(values, role, pid):
    """The process-wide metrics of role, against what /proc says of pid."""
    want = lambda name, extra="": values.get('%s{role="%s"%s}' % (name, role, extra))
    h.check(want("zchannel_build_info", ',version="%s"' % version()) == 1,
            "%s: no zchannel_build_info with the version: %r" % (role, sorted(values)))
    h.check((want("zchannel_uptime_seconds") or 0) > 0, "%s: no uptime" % role)
    h.check((want("process_cpu_seconds_total") or 0) > 0, "%s: no CPU time" % role)
    with open("/proc/%d/statm" % pid) as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    got = want("process_resident_memory_bytes") or 0
    h.check(0.5 * rss < got < 2 * rss, "%s: RSS %d, /proc says %d" % (role, got, rss))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    got = want("process_open_fds") or 0
    h.check(abs(got - fds) <= 4 and got < (want("process_max_fds") or 0),
            "%s: %d open fds, /proc says %d" % (role, got, fds))


def test():
    ingress, egress, control = (h.free_port() for _ in range(3))
    metrics = {r: h.free_port() for r in ("broker", "source", "subscriber")}
    listen = lambda r: ["--metrics-listen", "%s:%d" % (h.HOST, metrics[r])]
    source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, h.free_port()),
                      "--broker", "tcp://%s:%d" % (h.HOST, ingress), "--workers", "2"]
                     + listen("source"), name="source")
    sub = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, h.free_port()),
                   "--broker", "tcp://%s:%d" % (h.HOST, egress),
                   "--control", "tcp://%s:%d" % (h.HOST, control)] + listen("subscriber"),
                  name="subscriber")
    broker = None
    try:
        # no broker yet: alive, not ready
        for role in ("source", "subscriber"):
            h.check(wait_status(metrics[role], "/healthz", 200, role) == "ok\n", "healthz body")
            # (before its workers start it says "no role started yet")
            wait_status(metrics[role], "/readyz", 503, role, "not ready: %s: broker link down\n" % role)
            values = samples(metrics[role])
            h.check(values.get('zchannel_ready{role="%s"}' % role) == 0, "%s: ready gauge" % role)
        start_broker = lambda: h.start([h.BROKER, "--ingress", "tcp://%s:%d" % (h.HOST, ingress),
                                        "--egress", "tcp://%s:%d" % (h.HOST, egress),
                                        "--control", "tcp://%s:%d" % (h.HOST, control)]
                                       + listen("broker"), name="broker")
        broker = start_broker()
        for role in metrics:
            h.check(wait_status(metrics[role], "/readyz", 200, role) == "ready\n", "readyz body")
        for role, proc in (("broker", broker), ("source", source), ("subscriber", sub)):
            values = samples(metrics[role])
            h.check(values.get('zchannel_ready{role="%s"}' % role) == 1, "%s: ready gauge" % role)
            check_process(values, role, proc.pid)
        h.check(get(metrics["broker"], "/nothing")[0] == 404, "unknown path: not 404")
        # the link lost later: each front-end turns not ready, naming its role,
        # while staying alive; ready again once a broker is back on the endpoints
        h.check(broker.stop() == 0, "broker exits 0")
        for role in ("source", "subscriber"):
            wait_status(metrics[role], "/readyz", 503, role + " after the broker went",
                        "not ready: %s: broker link down\n" % role)
            h.check(samples(metrics[role]).get('zchannel_ready{role="%s"}' % role) == 0,
                    "%s: ready gauge after the broker went" % role)
            h.check(get(metrics[role], "/healthz")[0] == 200, "%s healthz after the broker went" % role)
        broker = start_broker()
        for role in ("source", "subscriber"):
            h.check(wait_status(metrics[role], "/readyz", 200, role + " with the broker back")
                    == "ready\n", "readyz body")
    finally:
        for p in (source, sub, broker):
            if p and p.alive():
                p.stop()

    port = h.free_port()
    run = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, h.free_port()),
                   "--subscriber-listen", "%s:%d" % (h.HOST, h.free_port()),
                   "--ingress", h.tcp_ep(h.free_port()), "--egress", h.tcp_ep(h.free_port()),
                   "--control", h.tcp_ep(h.free_port()), "--metrics-listen", "%s:%d" % (h.HOST, port)],
                  name="zchannel-run")
    try:
        wait_status(port, "/readyz", 200, "zchannel run")
        values = samples(port)
        check_process(values, "run", run.pid)
        for role in ("broker", "source", "subscriber"):
            h.check(values.get('zchannel_ready{role="%s"}' % role) == 1, "run: %s not ready" % role)
    finally:
        h.check(run.stop() == 0, "zchannel run exits 0")
    return ("/healthz 200 at once; /readyz 503 without a broker, 200 with it, 503 when it goes "
            "and 200 when it is back; every sample has "
            "its role; build, uptime and process metrics agree with /proc")


if __name__ == "__main__":
    h.run("44-health", test, budget=60)
