#!/usr/bin/python3
"""Chains and failures: chains run in order at each stage (separate
programs and `zchannel run`), per-topic patterns; an ABI-mismatched plugin,
a missing one and one whose create fails stop start-up with a clear error
(exit 1) and nothing of theirs runs; a replaced shared object is reloaded
on SIGHUP, a mismatched replacement is refused while the old chain keeps
running; a failing transform passes the message unchanged or drops it as
its on_error says, counted per instance, without a seq gap."""

import os
import shutil
import signal
import tempfile

import harness as h
from harness import msg_line, plugin_args, subscribe

SOURCE_CHAIN = ["redact:regex=a,replacement=b", "redact:regex=b,replacement=c"]
BROKER_CHAIN = ["uppercase", "redact:regex=C,replacement=x"]
SUB_CHAIN = ["redact:regex=x,replacement=yz", "uppercase@ch.>"]


def check_chains(sub, pub):
    """"a" becomes c (source), x (broker), then YZ on ch.> or yz elsewhere;
    any other order gives something else."""
    subscribe(sub, ">")
    pub.send(b"PUB ch.one a\nPUB other.one a\nPUB ch.two aa-a\n")
    h.compare_lines("chains", sub.read_lines(3, what="chained deliveries"), [
        msg_line("ch.one", 1, "YZ"),
        msg_line("other.one", 1, "yz"),
        msg_line("ch.two", 1, "YZYZ-YZ"),
    ])


def test_chains():
    with h.system(source_args=plugin_args(*SOURCE_CHAIN), broker_args=plugin_args(*BROKER_CHAIN),
                  sub_args=plugin_args(*SUB_CHAIN)) as S:
        check_chains(S.sub_client(), S.source_client())
    if h.DEPLOYMENT != "run":
        return
    # the same through the all-in-one launcher's own flags
    src, subp = h.free_port(), h.free_port()
    args = [h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, src),
            "--subscriber-listen", "%s:%d" % (h.HOST, subp),
            "--ingress", h.tcp_ep(h.free_port()), "--egress", h.tcp_ep(h.free_port()),
            "--control", h.tcp_ep(h.free_port()), "--plugin-path", h.PLUGINS,
            "--plugin-path", h.FIXTURES]
    for flag, chain in (("--source-plugin", SOURCE_CHAIN), ("--broker-plugin", BROKER_CHAIN),
                        ("--subscriber-plugin", SUB_CHAIN)):
        for spec in chain:
            args += [flag, spec]
    run = h.start(args, name="zchannel-run")
    sub = h.wait_frontend(subp, h.SUBSCRIBER_GREETING, run, name="sub")
    pub = h.wait_frontend(src, h.SOURCE_GREETING, run, name="pub")
    check_chains(sub, pub)
    h.check(run.stop() == 0, "zchannel run exits 0: %s" % run.stderr_text())


def test_refused_at_start():
    cases = [
        ("bad_abi", "refused: built for plugin ABI 2, this zchannel speaks ABI 1"),
        ("create_fail", "cannot create: this fixture never starts"),
        ("no_such_plugin", "zch_no_such_plugin.so not found"),
        ("filter:regex=(", "regex '('"),
        ("uppercase@bad..pattern", "pattern 'bad..pattern'"),
        ("uppercase:on_error=maybe", "on_error must be pass or drop"),
    ]
    programs = [
        ("broker", [h.BROKER, "--ingress", "inproc://a", "--egress", "inproc://b",
                    "--control", "inproc://c"]),
        ("source", [h.SOURCE, "--listen", "%s:%d" % (h.HOST, h.free_port())]),
        ("subscriber", [h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, h.free_port())]),
    ]
    for spec, reason in cases:
        for name, cmd in programs:
            rc, out, err = h.run_cmd(cmd + plugin_args(spec))
            # bad_abi and create_fail abort() if any function of theirs is called
            h.check(rc == 1 and reason.encode() in err,
                    "%s --plugin %s: expected exit 1 with %r, got %d: %s"
                    % (name, spec, reason, rc, err.decode(errors="replace")))


def test_replace_and_refuse_on_reload():
    work = tempfile.mkdtemp(prefix="zch-swap-")
    target = os.path.join(work, "zch_swap.so")

    def put(name):
        folder = h.FIXTURES if name == "bad_abi" else h.PLUGINS
        shutil.copy(os.path.join(folder, "zch_%s.so" % name), target + ".new")
        os.rename(target + ".new", target)      # a new inode, as `install` does

    try:
        put("uppercase")
        with h.system(broker_args=["--plugin-path", work, "--plugin", "swap"]) as S:
            sub = S.sub_client()
            subscribe(sub, "sw.>")
            pub = S.source_client()
            pub.sendline(b"PUB sw.a one")
            sub.expect(msg_line("sw.a", 1, "ONE"))
            put("bad_abi")
            at = 0
            S.broker.signal(signal.SIGHUP)
            S.broker.signalled = False
            at = h.wait_stderr(S.broker, "reload failed, keeping the running plugins", start=at)
            h.check(b"refused: built for plugin ABI 2" in open(S.broker.errpath, "rb").read(),
                    "reload names the ABI mismatch")
            pub.sendline(b"PUB sw.a two")
            sub.expect(msg_line("sw.a", 2, "TWO"), what="old chain still running")
            put("redact")
            S.broker.signal(signal.SIGHUP)
            S.broker.signalled = False
            h.wait_stderr(S.broker, "cannot create: regex=... is required", start=at)
            put("filter")
            S.broker.signal(signal.SIGHUP)
            S.broker.signalled = False
            h.wait_stderr(S.broker, "cannot create: regex=... is required", start=at)
            put("json_wrap")
            S.broker.signal(signal.SIGHUP)
            S.broker.signalled = False
            h.wait_stderr(S.broker, "broker: plugins reloaded", start=at)
            pub.sendline(b"PUB sw.a three")
            line = sub.readline(what="delivery after the new object")
            h.check(line.startswith(b'MSG sw.a 3 {"topic":"sw.a","seq":3,') and
                    line.endswith(b'"payload":"three"}'), "json_wrap now: %r" % line)
            S.check_alive()
    finally:
        shutil.rmtree(work)


def test_failing_transform():
    broker = plugin_args("fail@p.>:on_error=pass", "fail@d.>:on_error=drop")
    sub = plugin_args("drop@gone.>")
    with h.system(broker_args=broker, sub_args=sub) as S:
        c = S.sub_client()
        subscribe(c, ">")
        pub = S.source_client()
        pub.send(b"PUB p.x ok\nPUB p.x bad one\nPUB d.x ok\nPUB d.x bad one\nPUB d.x ok again\n"
                 b"PUB gone.x hidden\nPUB p.x end\n")
        h.compare_lines("failing transform", c.read_lines(5, what="deliveries"), [
            msg_line("p.x", 1, "ok"),
            msg_line("p.x", 2, "bad one"),          # unchanged, not "CHANGED"
            msg_line("d.x", 1, "ok"),
            msg_line("d.x", 2, "ok again"),         # the drop took no seq
            msg_line("p.x", 3, "end"),
        ])
        h.check(c.ping() == [], "gone.x dropped at the subscriber")
        stats = S.stats()
        h.check(stats["plugin_errors"] == 2 and stats["plugin_dropped"] == 1,
                "broker counts 2 errors, 1 drop: %r" % stats)
        for proc in (S.broker, S.subscriber):
            h.check(proc.stop() == 0, "%s exits 0" % proc.name)
            proc.signalled = True
        log = open(S.broker.errpath, "rb").read()
        for expected in (b"plugin fail@p.>: kept 2, dropped 0, errored 1",
                         b"plugin fail@d.>: kept 2, dropped 0, errored 1"):
            h.check(expected in log, "broker reports %r" % expected)
        log = open(S.subscriber.errpath, "rb").read()
        h.check(b"plugin drop@gone.>: kept 0, dropped 1, errored 0" in log,
                "subscriber reports the drop: %s" % log.decode(errors="replace")[-2000:])


def test():
    test_chains()
    test_refused_at_start()
    test_replace_and_refuse_on_reload()
    test_failing_transform()
    return "chains in order at 3 stages, refusals at start and reload, failure policy"


if __name__ == "__main__":
    h.run("18-plugin-chains", test, budget=80)
