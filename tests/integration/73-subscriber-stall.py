#!/usr/bin/python3
"""zchannel run's hold on a client that does not read: --subscriber-
behind-mark (output queued for one client at which the subscriber stops
reading the broker in its process, default 1M) and --subscriber-stall-
timeout (how long such clients may hold everyone back before they are cut
as slow consumers, default 2s).

- A bad value of either, as a flag or a config-file key, stops start-up
  (exit 2) with one line naming the setting and the reason.
- --subscriber-stall-timeout 600s: a client that reads nothing holds a
  reading client back (the broker accepted messages the reader does not
  get) for longer than the default 2 s, and is not cut; once it goes, the
  reader gets every message, in order.
- --subscriber-behind-mark 256K --subscriber-stall-timeout 200ms: the
  client that reads nothing is cut as a slow consumer with about 256K of
  output discarded, not the default mark's 1M, and every message the
  publisher sent was accepted."""

import os
import re
import tempfile
import threading

import harness as h
from harness import msg_line, subscribe

N = 8000
PAYLOAD = "s" * 1000            # 8 MB: more than the stuck client's socket buffers take
QUIET = 3.0                     # longer than the default stall-timeout (2 s)


def bad_values():
    """Each bad value is refused at start-up with its reason."""
    cases = [
        ([h.LAUNCHER, "run", "--subscriber-stall-timeout", "0"],
         "zchannel run: --subscriber-stall-timeout wants a duration from 1ms to 86400s, not '0'"),
        ([h.LAUNCHER, "run", "--subscriber-stall-timeout", "2 s"],
         "zchannel run: --subscriber-stall-timeout wants a duration like 5s or 250ms, not '2 s'"),
        ([h.LAUNCHER, "run", "--subscriber-behind-mark", "0"],
         "zchannel run: --subscriber-behind-mark wants a size like 65536, 64K or 8M, not '0'"),
        ([h.SUBSCRIBER, "--behind-mark", "lots"],
         "zchannel-subscriber: --behind-mark wants a size like 65536, 64K or 8M, not 'lots'"),
    ]
    fd, path = tempfile.mkstemp(prefix="zch-stall-", suffix=".zpl")
    with os.fdopen(fd, "w") as f:
        f.write("subscriber\n    stall-timeout = \"0ms\"\n")
    cases.append(([h.LAUNCHER, "run", "--config", path],
                  "zchannel run: %s:2: stall-timeout wants a duration from 1ms to 86400s, "
                  "not '0ms'" % path))
    for cmd, said in cases:
        rc, out, err = h.run_cmd(cmd)
        if cmd[-1] == path:
            os.unlink(path)
        h.check(rc == 2, "%s: exit %d, expected 2 (stderr %s)" % (" ".join(cmd[1:]), rc, h.short(err)))
        h.check(err.decode().strip() == said, "%s: said %r, expected %r"
                % (" ".join(cmd[1:]), err.decode().strip(), said))
    rc, out, err = h.run_cmd([h.LAUNCHER, "run", "--help"])
    for flag, default in (("--subscriber-behind-mark BYTES", "default 1M"),
                          ("--subscriber-stall-timeout DURATION", "default 2s")):
        h.check(any(l.strip().startswith(flag) and default in l for l in out.decode().split("\n")),
                "zchannel run --help: no %s with %s" % (flag, default))
    return len(cases)


def start(*flags):
    sp, bp = h.free_port(), h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ingress,
                    "--egress", egress, "--control", control, "--subscriber-max-output", "64M",
                    "--workers", "1"] + list(flags), name="zchannel-run")
    h.wait_broker(control, proc)
    return proc, sp, bp


def publish(proc, sp, accepted, failed):
    """Publishes N messages (VERBOSE), counting the +OKs in accepted[0] as
    they come; in a thread, as the publisher may be held."""
    try:
        pub = h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="publisher")
        pub.sendline("VERBOSE on")
        pub.expect(b"+OK", what="VERBOSE on")
        for start in range(1, N + 1, 500):
            end = min(start + 500, N + 1)
            pub.send(b"".join(b"PUB st.t %s\n" % PAYLOAD.encode() for _ in range(start, end)))
            for _ in range(start, end):
                line = pub.readline(60, "+OK per PUB")
                h.check(h.is_ok(line), "publisher: %r" % line)
                accepted[0] += 1
        pub.close()
    except Exception as e:          # noqa: reported by the test's thread
        failed.append(e)


def stuck_client(proc, bp):
    stuck = h.LineClient(h.HOST, bp, rcvbuf=4096, name="stuck", proc=proc)
    stuck.expect(h.SUBSCRIBER_GREETING, what="greeting")
    subscribe(stuck, "st.t")
    return stuck


def long_stall():
    """A stall-timeout longer than the default holds the reader back without
    cutting the client that holds it."""
    proc, sp, bp = start("--subscriber-stall-timeout", "600s")
    reader = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="reader")
    subscribe(reader, "st.t")
    stuck = stuck_client(proc, bp)
    accepted, failed = [0], []
    t = threading.Thread(target=publish, args=(proc, sp, accepted, failed), daemon=True)
    t.start()
    lines = []
    while True:                     # until the reader has had nothing for QUIET
        got, why = reader.read_some(N - len(lines), QUIET)
        lines += got
        if not got or why is None:
            break
    held, ahead = len(lines), accepted[0]
    h.check(held < N, "the reader got all %d: the stuck client never held the broker" % N)
    h.check(ahead > held, "the broker accepted %d, the reader got %d: the reader was not held "
            "back, only the publisher slow" % (ahead, held))
    h.check("slow consumer" not in proc.stderr_text(),
            "a client was cut as a slow consumer with --subscriber-stall-timeout 600s")
    # The stuck client goes: the reader gets the rest
    stuck.close()
    lines += reader.read_lines(N - len(lines), 60, "the rest once the stuck client went")
    h.compare_lines("reader", lines, [msg_line("st.t", i, PAYLOAD) for i in range(1, N + 1)])
    t.join(60)
    h.check(not failed, "publisher: %s" % (failed[0] if failed else ""))
    h.check(accepted[0] == N, "publisher: %d of %d accepted" % (accepted[0], N))
    h.check("slow consumer" not in proc.stderr_text(), "a client was cut as a slow consumer")
    h.check(proc.stop() == 0, "zchannel run: unclean exit")
    return held, ahead


def short_stall():
    """A low behind-mark and a short stall-timeout cut the stuck client at
    about the mark."""
    proc, sp, bp = start("--subscriber-behind-mark", "256K", "--subscriber-stall-timeout", "200ms")
    stuck = stuck_client(proc, bp)
    accepted, failed = [0], []
    t = threading.Thread(target=publish, args=(proc, sp, accepted, failed), daemon=True)
    t.start()
    t.join(90)
    h.check(not failed, "publisher: %s" % (failed[0] if failed else ""))
    h.check(accepted[0] == N, "publisher: %d of %d accepted" % (accepted[0], N))
    # Cut while it reads nothing, before it reads what it has
    h.wait_stderr(proc, "slow consumer", 30)
    data = stuck.read_to_eof(30, "the stuck client's end")
    h.check(data.endswith(b"\n-ERR slow consumer\n"), "stuck client: no -ERR slow consumer at "
            "the end: %s" % h.short(data[-200:]))
    m = re.search(r"slow consumer \S+ dropped, (\d+) bytes of output discarded", proc.stderr_text())
    h.check(m, "no log line for the stuck client cut as a slow consumer")
    discarded = int(m.group(1))
    h.check(200 * 1024 < discarded < 1024 * 1024, "stuck client cut with %d bytes of output "
            "discarded: not about --subscriber-behind-mark 256K" % discarded)
    h.check(proc.stop() == 0, "zchannel run: unclean exit")
    return discarded


def test():
    refused = bad_values()
    held, ahead = long_stall()
    discarded = short_stall()
    return ("%d bad values refused; stall-timeout 600s: the reader held at %d of %d accepted for "
            "%.0fs, nobody cut, then all %d; behind-mark 256K, stall-timeout 200ms: cut with %d "
            "bytes discarded" % (refused, held, ahead, QUIET, N, discarded))


if __name__ == "__main__":
    # starts zchannel run itself
    h.run("73-subscriber-stall", test, budget=150, deployments=("run",))
