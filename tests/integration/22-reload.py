#!/usr/bin/python3
"""SIGHUP under traffic: the source reads its config file again and lowers
max-line and raises the log level to debug while a publisher streams
messages through it; the publisher's and the subscriber's connections stay
up and every message arrives, in order; a new client then meets the new
limit and the debug lines appear. A broken file at the next SIGHUP is
logged and the running settings are kept. A plugin key added to the file
takes effect at the next SIGHUP; a chain that cannot load is refused and
the running one stays. Every log line carries time,
level, program and component; with --syslog none goes to stderr."""

import os
import re
import signal
import tempfile
import threading
import time

import harness as h
from harness import msg_line, subscribe

N = 4000
PAYLOAD = "x" * 150
LONG = "PUB rl.long " + "y" * 2000     # over 1K, under 64K
LOG_LINE = re.compile(rb"^[EWNID]: \(zchannel(-[a-z]+)?\) \d\d-\d\d-\d\d \d\d:\d\d:\d\d [a-z]+: ")


def write_config(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def source_config(*settings):
    """ZPL text with these source settings. The log level is the process's
    own: section run/ when one zchannel run plays the source."""
    level = [x for x in settings if x.startswith("log-level")]
    text = "source\n" + "".join("    %s\n" % x for x in settings if x not in level)
    if level and h.DEPLOYMENT == "run":
        text += "run\n    %s\n" % level[0]
    elif level:
        text += "    %s\n" % level[0]
    return text


def wait_log(proc, pattern, what, timeout=h.STEP):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, proc.stderr_text()):
            return
        time.sleep(0.05)
    h.fail("%s: no log line matching %r" % (what, pattern))


def check_long_line(S, accepted, what):
    """Sends a 2000-byte PUB on a new connection: accepted (+OK) or closed
    for a line too long."""
    c = S.source_client("long-" + what)
    c.sendline("VERBOSE on")
    c.expect(b"+OK", what="VERBOSE on")
    c.sendline(LONG)
    if accepted:
        c.expect(b"+OK", what="+OK for a 2000-byte line %s" % what)
        c.close()
    else:
        line = c.readline(what="answer to a 2000-byte line %s" % what)
        h.check(line.startswith(b"-ERR") and b"too long" in line,
                "2000-byte line %s: expected -ERR ... too long, got %r" % (what, line))
        c.read_to_eof(what="close after a line too long")


def test():
    fd, config = tempfile.mkstemp(prefix="zch-reload-", suffix=".zpl")
    os.close(fd)
    write_config(config, source_config('max-line = "64K"', 'log-level = "info"'))
    try:
        # the subscriber at info too; zchannel run has one level, the file's
        sub_args = ["--log-level", "info"] if h.DEPLOYMENT == "procs" else []
        with h.system(source_args=["--config", config], sub_args=sub_args) as S:
            sub = S.sub_client("subscriber")
            subscribe(sub, "rl.t")
            check_long_line(S, True, "before the reload")
            h.check(not re.search(r"source: client \S+ connected", S.source.stderr_text()),
                    "debug lines logged at level info")

            pub = S.source_client("publisher")
            pub.sendline("VERBOSE on")
            pub.expect(b"+OK", what="VERBOSE on")
            acked = [0]
            errors = []

            def publish():
                try:
                    for start in range(1, N + 1, 200):
                        end = min(start + 200, N + 1)
                        pub.send(b"".join(b"PUB rl.t %d-%s\n" % (i, PAYLOAD.encode())
                                          for i in range(start, end)))
                        oks = pub.read_lines(end - start, timeout=30, what="+OK per PUB")
                        bad = [l for l in oks if not h.is_ok(l)]
                        if bad:
                            errors.append("publisher got %r" % bad[:3])
                            return
                        acked[0] = end - 1
                except h.TestFailure as e:
                    errors.append(str(e))

            t = threading.Thread(target=publish, daemon=True)
            t.start()
            got = sub.read_lines(N // 4, timeout=30, what="deliveries before the reload")
            write_config(config, source_config('max-line = "1K"', 'log-level = "debug"'))
            S.source.signal(signal.SIGHUP)
            S.source.signalled = False
            reloaded_at = acked[0]
            wait_log(S.source, r"config: source/max-line changed from 64K to 1K", "reload")
            got += sub.read_lines(N - N // 4, timeout=60, what="deliveries across the reload")
            t.join(30)
            h.check(not errors, "publisher: %s" % errors)
            h.check(acked[0] == N, "publisher: %d of %d acknowledged" % (acked[0], N))
            h.compare_lines("subscriber across the reload", got,
                            [msg_line("rl.t", i, "%d-%s" % (i, PAYLOAD)) for i in range(1, N + 1)])

            # the new limit and the new level, for a new client
            check_long_line(S, False, "after the reload")
            wait_log(S.source, r"source: client \S+ connected", "debug line after the reload")
            wait_log(S.source, r"sent a line over 1024 bytes", "the new limit in the log")

            # a broken file is refused and the running settings stay
            write_config(config, 'source\n    max-line = "1K"\n    max-lines = "2K"\n')
            S.source.signal(signal.SIGHUP)
            S.source.signalled = False
            wait_log(S.source, r"config: reload failed, keeping the running settings: "
                               r"\S+:3: unknown key 'max-lines'", "refused reload")
            check_long_line(S, False, "after a refused reload")
            h.check(S.source.alive(), "source died at a refused reload")
            pub.sendline("PUB rl.t last")
            pub.expect(b"+OK", what="+OK on the first connection after two reloads")
            sub.expect(msg_line("rl.t", N + 1, "last"), what="delivery after two reloads")

            # plugins from the file take effect at the next SIGHUP; one that
            # cannot load is refused and the running chain stays
            write_config(config, 'source\n    max-line = "1K"\n    plugin = "uppercase@rl.>"\n'
                                 '    plugin-path = "%s"\n' % h.PLUGINS)
            S.source.signal(signal.SIGHUP)
            S.source.signalled = False
            wait_log(S.source, r"config: source/plugin changed from  to uppercase@rl\.>", "plugin key")
            wait_log(S.source, r"source: plugins reloaded", "plugins reloaded")
            # each worker swaps its chain in at its next turn: until then a
            # message may still pass the old (empty) one
            seq, deadline = N + 1, time.monotonic() + h.STEP
            while True:
                seq += 1
                pub.sendline("PUB rl.t plugged")
                pub.expect(b"+OK", what="+OK with the plugin from the file")
                line = sub.readline(what="delivery through the file's plugin")
                if line == msg_line("rl.t", seq, "PLUGGED"):
                    break
                h.check(line == msg_line("rl.t", seq, "plugged") and time.monotonic() < deadline,
                        "expected %r (then uppercase), got %r" % (msg_line("rl.t", seq, "plugged"), line))
            write_config(config, 'source\n    max-line = "1K"\n    plugin = "uppercase@rl.>"\n'
                                 '    plugin = "no_such_plugin"\n    plugin-path = "%s"\n' % h.PLUGINS)
            S.source.signal(signal.SIGHUP)
            S.source.signalled = False
            wait_log(S.source, r"source: reload failed, keeping the running plugins: .*no_such_plugin",
                     "refused plugin")
            pub.sendline("PUB rl.t still")
            pub.expect(b"+OK", what="+OK after a refused plugin")
            sub.expect(msg_line("rl.t", seq + 1, "STILL"), what="the running chain after a refused one")

            # every log line: level, program, time, component
            for proc in S.procs():
                for line in proc.stderr_text().encode().split(b"\n"):
                    if line:
                        h.check(LOG_LINE.match(line), "%s: log line without level, program, "
                                "time and component: %r" % (proc.name, line))
        # --syslog: the log leaves stderr
        control = h.tcp_ep(h.free_port())
        quiet = h.start([h.BROKER, "--ingress", h.tcp_ep(h.free_port()), "--egress",
                         h.tcp_ep(h.free_port()), "--control", control, "--syslog"], name="syslog")
        h.wait_broker(control, quiet)
        h.check(quiet.stop() == 0, "broker --syslog: unclean exit")
        h.check("broker:" not in quiet.stderr_text(),
                "broker --syslog still logs to stderr: %r" % quiet.stderr_text())
    finally:
        os.unlink(config)
    return ("SIGHUP at %d of %d acked: max-line 64K->1K and log level info->debug applied live, "
            "%d messages delivered in order over the same connections; bad file refused; "
            "plugin from the file applied at SIGHUP, a broken one refused"
            % (reloaded_at, N, seq + 1))


if __name__ == "__main__":
    h.run("22-reload", test, budget=90)
