#!/usr/bin/python3
"""The client tools in shell pipelines: `seq 1000 | zchannel pub t` into
`zchannel sub t --count 1000` (output compared line for line); a binary file
with headers through `zchannel pub --file` to `zchannel sub --frame --format
raw` (byte for byte) and `--format json` (base64 payload, headers); exit
codes and stderr for the failures scripts must tell apart."""

import base64
import json
import os
import subprocess
import tempfile
import time

import harness as h


def start_sub(S, args, name):
    """Starts `zchannel sub` and waits until its subscription is live at the
    broker (the broker has seen its prefix and its barrier)."""
    base = S.stats()["subscriptions"]
    proc = h.start([h.LAUNCHER, "sub", "--host", h.HOST] + args, name=name, stdout=subprocess.PIPE)
    deadline = time.monotonic() + h.STEP
    while S.stats()["subscriptions"] < base + 2:
        h.check(proc.alive(), "%s exited early: %s" % (name, proc.describe()))
        h.check(time.monotonic() < deadline, "%s: subscription not live within %.0fs"
                % (name, h.STEP))
        time.sleep(0.05)
    return proc


def finish(proc, what, timeout=30):
    try:
        out, _ = proc.popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        h.fail("%s: still running after %ds" % (what, timeout))
    h.check(proc.returncode == 0, "%s: exit %d; stderr %s" % (what, proc.returncode,
                                                              proc.stderr_text()[-500:]))
    return out


def shell(command, what, expect_rc=0):
    p = subprocess.run(["/bin/sh", "-c", command], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    h.check(p.returncode == expect_rc, "%s: exit %d (expected %d); stderr %s"
            % (what, p.returncode, expect_rc, h.short(p.stderr)))
    return p


def test_pipeline(S):
    sub = start_sub(S, ["--port", str(S.sub_port), "cli.seq", "--count", "1000"], "sub-seq")
    shell("seq 1000 | '%s' pub --host %s --port %d cli.seq" % (h.LAUNCHER, h.HOST, S.source_port),
          "seq 1000 | zchannel pub")
    out = finish(sub, "zchannel sub --count 1000")
    expected = subprocess.run(["seq", "1000"], stdout=subprocess.PIPE).stdout
    h.check(out == expected, "zchannel sub output differs from seq 1000: %s" % h.short(out))


def test_file(S, fs, fb, tmp):
    data = bytes(range(256)) + os.urandom(1024 * 1024 - 256)
    path = os.path.join(tmp, "payload.bin")
    with open(path, "wb") as f:
        f.write(data)
    raw = start_sub(S, ["--frame-port", str(fb), "--format", "raw", "--count", "1", "cli.file"],
                    "sub-raw")
    js = start_sub(S, ["--frame-port", str(fb), "--format", "json", "--count", "2", "cli.>"],
                   "sub-json")
    shell("'%s' pub --host %s --frame-port %d --header origin=test --header 'note=a b=c' "
          "cli.file --file '%s'" % (h.LAUNCHER, h.HOST, fs, path), "zchannel pub --file")
    shell("printf 'caf\\303\\251\\n' | '%s' pub --host %s --port %d cli.text"
          % (h.LAUNCHER, h.HOST, S.source_port), "zchannel pub (text)")
    out = finish(raw, "zchannel sub --format raw")
    h.check(out == data, "raw output differs from the file (%d vs %d bytes)" % (len(out), len(data)))
    lines = finish(js, "zchannel sub --format json").split(b"\n")
    h.check(len(lines) == 3 and lines[2] == b"", "json: expected 2 lines, got %d" % (len(lines) - 1))
    # two publishers, two paths to the broker: no order between them
    objects = sorted((json.loads(l) for l in lines[:2]), key=lambda o: o["topic"])
    first, second = objects
    epoch = h.epoch_text(S.stats()["epoch"]).decode()
    h.check(first["topic"] == "cli.file" and first["seq"] == 1 and first["epoch"] == epoch
            and first.get("payload_encoding") == "base64"
            and base64.b64decode(first["payload"]) == data
            and first["headers"] == {"origin": "test", "note": "a b=c"},
            "json: first object wrong: %s" % h.short(lines[0]))
    h.check(second == {"topic": "cli.text", "seq": 1, "epoch": epoch, "payload": "café", "headers": {}},
            "json: second object wrong: %r" % second)
    # The same over the text protocol: the epoch comes from the verbose +OK
    tj = start_sub(S, ["--port", str(S.sub_port), "--format", "json", "--count", "1", "--from", "0@" + epoch,
                       "cli.text"], "sub-json-text")
    out = finish(tj, "zchannel sub --format json (text)")
    h.check(json.loads(out) == second, "json over text: %r" % out)


def test_exit_codes(S, fs, tmp):
    closed = h.free_port()
    p = shell("'%s' pub --host %s --port %d t x" % (h.LAUNCHER, h.HOST, closed),
              "pub to a closed port", 1)
    h.check(b"cannot connect" in p.stderr and p.stdout == b"", "pub to a closed port: stderr %r"
            % p.stderr)
    p = shell("'%s' sub --host %s --frame-port %d t" % (h.LAUNCHER, h.HOST, closed),
              "sub to a closed frame port", 1)
    p = shell("'%s' pub --bogus t x" % h.LAUNCHER, "pub with an unknown flag", 2)
    h.check(b"--bogus" in p.stderr, "unknown flag not named: %r" % p.stderr)
    shell("'%s' sub --format xml t" % h.LAUNCHER, "sub with an unknown format", 2)
    shell("'%s' pub --header novalue t x" % h.LAUNCHER, "pub with a bad header", 2)
    shell("'%s' pub --file x t message" % h.LAUNCHER, "pub with --file and MESSAGE", 2)
    p = shell("'%s' pub --host %s --frame-port %d t --file '%s'"
              % (h.LAUNCHER, h.HOST, fs, os.path.join(tmp, "missing")), "pub of a missing file", 1)
    h.check(b"cannot open" in p.stderr, "missing file: stderr %r" % p.stderr)
    big = os.path.join(tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(b"b" * (1024 * 1024 + 1))
    p = shell("'%s' pub --host %s --frame-port %d t --file '%s'" % (h.LAUNCHER, h.HOST, fs, big),
              "pub of a file over --max-payload", 1)
    h.check(b"too_large" in p.stderr, "file over the limit: stderr %r" % p.stderr)
    p = shell("'%s' pub --host %s --frame-port %d 'a..b' x" % (h.LAUNCHER, h.HOST, fs),
              "frame pub to an invalid topic", 1)
    h.check(b"bad_topic" in p.stderr, "invalid topic: stderr %r" % p.stderr)
    p = shell("'%s' pub --host %s --port %d 'a..b' x" % (h.LAUNCHER, h.HOST, S.source_port),
              "text pub to an invalid topic", 1)
    h.check(b"invalid topic" in p.stderr, "invalid topic (text): stderr %r" % p.stderr)


FLAGS = {
    "source": ([h.SOURCE], ["--frame-listen", "--max-payload", "--udp-listen", "--udp-topic"]),
    "subscriber": ([h.SUBSCRIBER], ["--frame-listen", "--max-payload"]),
    "run": ([h.LAUNCHER, "run"], ["--source-frame-listen", "--subscriber-frame-listen",
                                  "--max-payload", "--udp-listen", "--udp-topic"]),
    "pub": ([h.LAUNCHER, "pub"], ["--file", "--header", "--frame", "--frame-port"]),
    "sub": ([h.LAUNCHER, "sub"], ["--format", "--frame", "--frame-port", "--count"]),
}


def test_flags():
    """Every new flag is in --help; flags that need each other are checked
    the same way by the programs and by zchannel run (exit 2, one line)."""
    for name, (cmd, flags) in FLAGS.items():
        rc, out, err = h.run_cmd(cmd + ["--help"])
        h.check(rc == 0, "%s --help: exit %d" % (name, rc))
        missing = [f for f in flags if f.encode() not in out]
        h.check(not missing, "%s --help does not mention %s" % (name, missing))
    bad = [
        ([h.SUBSCRIBER, "--udp-listen", "127.0.0.1:1"], b"--udp-listen"),
        ([h.SOURCE, "--udp-topic", "t"], b"--udp-listen"),
        ([h.LAUNCHER, "run", "--udp-topic", "t"], b"--udp-listen"),
        ([h.SOURCE, "--udp-listen", "127.0.0.1:1", "--udp-topic", "a..b"], b"not a valid topic"),
        ([h.LAUNCHER, "run", "--udp-listen", "127.0.0.1:1", "--udp-topic", "a..b"],
         b"not a valid topic"),
        ([h.SOURCE, "--max-payload", "0"], b"--max-payload"),
        ([h.LAUNCHER, "run", "--max-payload", "lots"], b"--max-payload"),
    ]
    for cmd, needle in bad:
        rc, out, err = h.run_cmd(cmd)
        lines = [l for l in err.split(b"\n") if l.strip()]
        h.check(rc == 2 and len(lines) == 1 and needle in err,
                "%s: expected exit 2 and one line naming %r, got %d %r"
                % (" ".join(cmd[1:]), needle, rc, err))


def test():
    test_flags()
    fs, fb = h.free_port(), h.free_port()
    with tempfile.TemporaryDirectory(prefix="zch-cli-") as tmp, \
         h.system(source_args=["--frame-listen", "%s:%d" % (h.HOST, fs)],
                  sub_args=["--frame-listen", "%s:%d" % (h.HOST, fb)]) as S:
        test_pipeline(S)
        test_file(S, fs, fb, tmp)
        test_exit_codes(S, fs, tmp)
    return ("seq 1000 | zchannel pub -> zchannel sub --count 1000 identical; 1 MiB file with "
            "headers byte for byte (raw) and as json; exit codes 1/2 with stderr")


if __name__ == "__main__":
    h.run("16-cli-tools", test, budget=90)
