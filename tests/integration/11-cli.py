#!/usr/bin/python3
"""Command line: --help (exit 0, every flag mentioned), unknown flags (exit 2,
one-line message), a listening address already taken (exit 1, message naming
it) for broker, source and subscriber; `zchannel pub` and `zchannel sub`
against `zchannel run` on ephemeral ports."""

import socket
import subprocess
import time

import harness as h
from harness import msg_line, subscribe

HELP = {
    "broker": (h.BROKER, [], ["--ingress", "--egress", "--control", "--history-per-topic",
                              "--history-bytes"]),
    "source": (h.SOURCE, [], ["--listen", "--broker", "--workers", "--profile", "--max-line"]),
    "subscriber": (h.SUBSCRIBER, [], ["--listen", "--broker", "--workers", "--profile",
                                      "--max-line", "--max-output", "--control"]),
}
LAUNCHER_SUBCOMMANDS = {
    "run": ["--source-listen", "--subscriber-listen", "--ingress", "--egress", "--control",
            "--profile", "--workers", "--history-per-topic", "--history-bytes"],
    "pub": ["--host", "--port"],
    "sub": ["--host", "--port", "--count", "-v", "--snapshot", "--from"],
}


def check_help(name, cmd, flags, also=b""):
    rc, out, err = h.run_cmd(cmd + ["--help"])
    h.check(rc == 0, "%s --help: exit %d, expected 0; stderr %s" % (name, rc, h.short(err)))
    text = out + also
    missing = [f for f in flags if f.encode() not in text]
    h.check(not missing, "%s --help: stdout does not mention %s; stdout was:\n%s"
            % (name, missing, out.decode("utf-8", "replace")))
    return out


def check_unknown_flag(name, cmd):
    rc, out, err = h.run_cmd(cmd + ["--no-such-flag"])
    h.check(rc == 2, "%s --no-such-flag: exit %d, expected 2; stderr %s"
            % (name, rc, h.short(err)))
    lines = [l for l in err.split(b"\n") if l.strip()]
    h.check(len(lines) == 1, "%s --no-such-flag: expected a one-line error on stderr, got %r"
            % (name, err))


def check_port_taken(name, cmd, addr):
    rc, out, err = h.run_cmd(cmd, timeout=h.STEP)
    h.check(rc == 1, "%s with %s taken: exit %d, expected 1; stderr %s"
            % (name, addr, rc, h.short(err)))
    h.check(addr.encode() in err, "%s with %s taken: stderr does not name the address: %r"
            % (name, addr, err))


def taken_port():
    """A listening socket of ours; returns (socket, port)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((h.HOST, 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test():
    # --help and unknown flags
    for name, (prog, pre, flags) in HELP.items():
        check_help(name, [prog] + pre, flags)
        check_unknown_flag(name, [prog] + pre)
    top = check_help("zchannel", [h.LAUNCHER], ["run", "pub", "sub"])
    for sub, flags in LAUNCHER_SUBCOMMANDS.items():
        # the flags may be listed by `zchannel --help` or by `zchannel SUB --help`
        check_help("zchannel " + sub, [h.LAUNCHER, sub], flags, also=top)
        check_unknown_flag("zchannel " + sub, [h.LAUNCHER, sub])
    check_unknown_flag("zchannel", [h.LAUNCHER])

    # a port already taken
    ep = lambda: h.tcp_ep(h.free_port())
    s, p = taken_port()
    addr = "%s:%d" % (h.HOST, p)
    check_port_taken("zchannel-source", [h.SOURCE, "--listen", addr, "--broker", ep()], addr)
    check_port_taken("zchannel-subscriber", [h.SUBSCRIBER, "--listen", addr, "--broker", ep()],
                     addr)
    check_port_taken("zchannel-broker --ingress",
                     [h.BROKER, "--ingress", "tcp://" + addr, "--egress", ep(),
                      "--control", ep()], addr)
    check_port_taken("zchannel-broker --egress",
                     [h.BROKER, "--ingress", ep(), "--egress", "tcp://" + addr,
                      "--control", ep()], addr)
    check_port_taken("zchannel-broker --control",
                     [h.BROKER, "--ingress", ep(), "--egress", ep(),
                      "--control", "tcp://" + addr], addr)
    s.close()

    # zchannel pub / sub against zchannel run
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = ep(), ep(), ep()
    run = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                   "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                   "--egress", egress, "--control", control], name="zchannel-run")
    h.wait_broker(control, run)
    h.wait_frontend(sp, h.SOURCE_GREETING, run, name="run-source").close()
    watcher = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, run, name="run-subscriber")
    subscribe(watcher, "cli.>")

    def zpub(topic, message):
        rc, out, err = h.run_cmd([h.LAUNCHER, "pub", "--host", h.HOST, "--port", str(sp),
                                  topic, message])
        h.check(rc == 0, "zchannel pub %s %r: exit %d; stderr %s" % (topic, message, rc,
                                                                     h.short(err)))

    zpub("cli.t", "hello world")
    watcher.expect(msg_line("cli.t", 1, "hello world"), what="delivery of `zchannel pub`")
    published = 1

    def zsub(args, count):
        """Starts `zchannel sub`, publishes cli.t msg-K until it exits; returns
        (first K published after it started, its stdout lines)."""
        nonlocal published
        proc = h.start([h.LAUNCHER, "sub", "--host", h.HOST, "--port", str(bp),
                        "--count", str(count)] + args, name="zchannel-sub",
                       stdout=subprocess.PIPE)
        k0 = published + 1
        deadline = time.monotonic() + 20
        while proc.alive():
            h.check(time.monotonic() < deadline,
                    "zchannel sub --count %d %s: still running after 20s (%d published)"
                    % (count, " ".join(args), published - k0 + 1))
            published += 1
            zpub("cli.t", "msg-%d" % published)
            time.sleep(0.05)
        out = proc.popen.stdout.read()
        h.check(proc.returncode == 0, "zchannel sub: exit %d; stdout %r" % (proc.returncode, out))
        return k0, out.split(b"\n")

    k0, lines = zsub(["cli.t"], 3)
    h.check(len(lines) == 4 and lines[3] == b"",
            "zchannel sub --count 3: expected 3 lines, got %r" % lines)
    first = lines[0]
    h.check(first.startswith(b"msg-"), "zchannel sub: unexpected output %r" % lines)
    k = int(first[4:])
    h.check(k >= k0 and lines[:3] == [b"msg-%d" % i for i in range(k, k + 3)],
            "zchannel sub --count 3: expected 3 consecutive payloads, got %r" % lines)

    k0, lines = zsub(["-v", "cli.*"], 2)
    h.check(len(lines) == 3 and lines[2] == b"",
            "zchannel sub -v --count 2: expected 2 lines, got %r" % lines)
    k = int(lines[0].rsplit(b"-", 1)[1]) if lines[0].startswith(b"cli.t ") else -1
    want = [b"cli.t %d msg-%d" % (i, i) for i in range(k, k + 2)]
    h.check(k >= k0 and lines[:2] == want,
            "zchannel sub -v: expected lines like %r, got %r" % (want, lines[:2]))

    # the watcher saw every message published, in order
    got = watcher.read_lines(published - 1, what="all published messages")
    h.compare_lines("run-subscriber", got,
                    [msg_line("cli.t", i, "msg-%d" % i) for i in range(2, published + 1)])
    h.check(run.alive(), "zchannel run died: %s" % run.describe())
    # a clean stop exits 0 (a sanitizer report at exit shows here)
    rc = run.stop(h.STOP_WAIT)
    h.check(rc == 0, "zchannel run: exit %r after SIGTERM: %s" % (rc, run.describe()))
    return "help/unknown-flag/port-taken ok for 4 programs; zchannel pub/sub deliver"


if __name__ == "__main__":
    # starts the programs it needs itself: runs once
    h.run("11-cli", test, budget=80, deployments=h.ONCE)
