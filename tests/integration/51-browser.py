#!/usr/bin/python3
"""The live page in headless Chromium (Debian's, driven by playwright-core,
installed from npm into the build tree on first use). The page, served by
the subscriber front-end's WebSocket port, subscribes and a TCP client's
message appears on it; the page publishes over the same connection (the
subscriber's port, relayed to the source) and a TCP subscriber receives it;
the subscriber front-end is restarted while the broker stays up and a TCP
publisher keeps going, and the page goes on with no gap and no repeat (seq
checked in the page); the whole `zchannel run` is restarted and the page
shows an explicit reset, not a silent restart at seq 1. A screenshot of the
page is saved in the build tree. Skips (exit 77) only when Chromium cannot
start."""

import json
import os
import signal
import subprocess
import threading
import time

import harness as h
from harness import subscribe

TOP = os.environ.get("ZCH_TOP", os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("ZCH_BUILD", os.path.join(TOP, "build"))
WWW = os.path.join(BUILD, "www")
DEPS = os.path.join(BUILD, "browser-deps")
SKIP = 77


def install_playwright():
    """playwright-core into the build tree, once; its node_modules path."""
    modules = os.path.join(DEPS, "node_modules")
    if not os.path.exists(os.path.join(modules, "playwright-core", "index.mjs")):
        os.makedirs(DEPS, exist_ok=True)
        rc = subprocess.run(["npm", "install", "--prefix", DEPS, "--no-audit", "--no-fund",
                             "--silent", "playwright-core"], timeout=300).returncode
        h.check(rc == 0, "npm install playwright-core failed (exit %d)" % rc)
    return modules


class Browser:
    def __init__(self, modules):
        self.proc = subprocess.Popen(["node", os.path.join(TOP, "tests", "browser", "driver.mjs"),
                                      modules], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(BUILD, "browser-test.log"), "wb"),
                                     text=True, start_new_session=True)
        first = json.loads(self.proc.stdout.readline() or '{"skip": "the driver did not start"}')
        self.skip = first.get("skip")

    def do(self, **command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        h.check(answer.get("ok"), "browser: %s: %s" % (command, answer.get("error")))
        return answer.get("value")

    def wait(self, expr, seconds=h.STEP, what=None):
        self.proc.stdin.write(json.dumps({"op": "wait", "expr": expr, "ms": int(seconds * 1000)}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get("ok"):
            state = self.do(op="eval", expr="JSON.stringify({state: zchannelPage.state, received: "
                            "zchannelPage.received, reconnects: zchannelPage.reconnects, "
                            "gaps: zchannelPage.gaps, resets: zchannelPage.resets, "
                            "last: zchannelPage.lastSeq})")
            h.fail("the page never showed %s within %.0fs (page: %s)" % (what or expr, seconds, state))

    def close(self):
        # Chromium may take minutes to close politely: end the whole group
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(5)


def start_run(ports, name="zchannel-run"):
    sp, bp, wsp = ports["source"], ports["sub"], ports["ws"]
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp), "--ingress", ports["ingress"],
                    "--egress", ports["egress"], "--control", ports["control"],
                    "--subscriber-ws-listen", "%s:%d" % (h.HOST, wsp), "--subscriber-ws-root", WWW],
                   name=name)
    h.wait_broker(ports["control"], proc)
    h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="run-source").close()
    h.wait_frontend(bp, h.SUBSCRIBER_GREETING, proc, name="run-subscriber").close()
    return proc


def page_url(wsp, pattern):
    return "http://%s:%d/?pattern=%s" % (h.HOST, wsp, pattern)


def test_page_both_ways(b, modules):
    ports = {k: h.free_port() for k in ("source", "sub", "ws")}
    ports.update({k: h.tcp_ep(h.free_port()) for k in ("ingress", "egress", "control")})
    run = start_run(ports)
    try:
        b.do(op="open", url=page_url(ports["ws"], "demo.>"))
        b.wait("window.zchannelPage && zchannelPage.state === 'open' && zchannelPage.pattern", what="open")
        pub = h.LineClient(h.HOST, ports["source"], name="tcp-pub", proc=run)
        pub.expect(h.SOURCE_GREETING)
        pub.sendline(b"PUB demo.tcp hello browser")
        b.wait("[...document.querySelectorAll('#stream td.payload')].some(td => "
               "td.textContent === 'hello browser')", what="the TCP client's message in the table")
        ts = b.do(op="eval", expr="zchannelPage.lastTs")
        h.check(isinstance(ts, int) and abs(ts - time.time() * 1000) < 60000,
                "the page's message carries ts in ms since the epoch: %r" % (ts,))
        tsub = h.LineClient(h.HOST, ports["sub"], name="tcp-sub", proc=run)
        tsub.expect(h.SUBSCRIBER_GREETING)
        subscribe(tsub, "demo.page")
        b.do(op="fill", selector="#pub-payload", value="from the page")
        b.do(op="click", selector="#pub-form button")
        line = tsub.readline(what="the page's publish")
        h.check(line == h.msg_line("demo.page", 1, b"from the page"), "TCP subscriber got %r" % line)
        b.wait("zchannelPage.received >= 2", what="its own message back")
        # zchannel.js with publisher confirms: publish() resolves with the
        # seq the broker stamped, and rejects a refused publish
        got = json.loads(b.do(op="eval", expr="""(async () => {
            const { ZChannel } = await import("./zchannel.js");
            const c = new ZChannel(`ws://${location.host}/`, { confirms: true });
            const confirmed = await c.publish("demo.page", "confirmed from the page");
            let refused = null;
            try { await c.publish("bad topic", "x"); } catch (error) { refused = error.code; }
            c.close();
            return JSON.stringify({ confirmed, refused });
        })()"""))
        h.check(got["confirmed"].get("topic") == "demo.page" and got["confirmed"].get("seq") == 2
                and got["confirmed"].get("epoch") and got["refused"] == "bad_topic",
                "zchannel.js confirms: %r" % got)
        line = tsub.readline(what="the confirmed publish")
        h.check(line == h.msg_line("demo.page", 2, b"confirmed from the page"), "TCP subscriber got %r" % line)
        b.wait("zchannelPage.metrics && document.getElementById('clients').textContent !== '–'",
               what="the counters from /metrics")
        shot = os.path.join(BUILD, "browser-page.png")
        b.do(op="screenshot", path=shot)
        h.check(os.path.getsize(shot) > 10000, "screenshot %s is too small" % shot)
        # The whole run restarted: history is gone, the page must say reset
        pub.sendline(b"PUB demo.tcp before restart")
        b.wait("zchannelPage.lastSeq['demo.tcp'] === 2", what="seq 2 before the restart")
        epochs = b.do(op="eval", expr="zchannelPage.client.epochs.size")
        run.signal(15)
        h.check(run.wait(h.STOP_WAIT) == 0, "zchannel run did not stop cleanly")
        run = start_run(ports, name="zchannel-run-again")
        b.wait("zchannelPage.state === 'open' && zchannelPage.reconnects >= 1", 15, "the reconnect")
        pub = h.LineClient(h.HOST, ports["source"], name="tcp-pub-again", proc=run)
        pub.expect(h.SOURCE_GREETING)
        h.check(epochs > 0, "the page learned no epoch from its subscription")
        pub.sendline(b"PUB demo.tcp after restart")
        b.wait("zchannelPage.resets.some(r => r.topic === 'demo.tcp')", what="the reset of demo.tcp")
        b.wait("zchannelPage.lastSeq['demo.tcp'] === 1", what="seq 1 after the reset")
        dup = b.do(op="eval", expr="zchannelPage.duplicates")
        h.check(dup == 0, "the page counted %d repeats across the reset" % dup)
        b.wait("/resets [1-9]/.test(document.getElementById('badge-counts').textContent)",
               what="the reset on the badge")
        b.do(op="screenshot", path=os.path.join(BUILD, "browser-page-reset.png"))
        return "page both ways, screenshot %s, reset shown after a restart" % shot
    finally:
        run.signal(15)
        run.wait(h.STOP_WAIT)


def test_front_end_restart(b):
    """The subscriber front-end restarted under a steady publisher."""
    wsp = h.free_port()
    with h.system(sub_args=["--ws-listen", "%s:%d" % (h.HOST, wsp), "--ws-root", WWW]) as S:
        b.do(op="open", url="http://%s:%d/?pattern=steady.>" % (h.HOST, wsp))
        b.wait("zchannelPage.state === 'open' && zchannelPage.pattern === 'steady.>'", what="open")
        pub = S.source_client("steady-pub")
        sent = [0]
        stop = threading.Event()

        def publish():
            while not stop.is_set():
                sent[0] += 1
                pub.sendline(b"PUB steady.t %d" % sent[0])
                time.sleep(0.005)

        t = threading.Thread(target=publish, daemon=True)
        t.start()
        b.wait("zchannelPage.received >= 50", what="the first 50 messages")
        args = S.subscriber.cmd if hasattr(S.subscriber, "cmd") else None
        S.subscriber.signal(15)
        h.check(S.subscriber.wait(h.STOP_WAIT) == 0, "the subscriber did not stop cleanly")
        at_cut = sent[0]
        time.sleep(0.5)
        S.subscriber = h.start(args, name="subscriber-again")
        h.wait_frontend(S.sub_port, h.SUBSCRIBER_GREETING, S.subscriber, name="subscriber-again").close()
        b.wait("zchannelPage.state === 'open' && zchannelPage.reconnects >= 1", 15, "the reconnect")
        time.sleep(1.0)
        stop.set()
        t.join(10)
        N = sent[0]
        h.check(N > at_cut + 100, "the publisher did not keep going across the restart "
                "(cut at %d of %d)" % (at_cut, N))
        b.wait("zchannelPage.lastSeq['steady.t'] === %d" % N, 30, "seq %d" % N)
        order = b.do(op="eval", expr="zchannelPage.order.filter(o => o[0] === 'steady.t').map(o => o[1])")
        h.check(order == list(range(1, N + 1)), "the page saw %d messages, not 1..%d in order: "
                "first problems %r" % (len(order), N,
                                       [(i + 1, s) for i, s in enumerate(order) if s != i + 1][:5]))
        state = b.do(op="eval", expr="[zchannelPage.duplicates, zchannelPage.gaps.length, "
                                     "zchannelPage.reconnects]")
        h.check(state[0] == 0 and state[1] == 0 and state[2] >= 1,
                "repeats %d, gaps %d, reconnects %d" % tuple(state))
        return "front-end restart at %d of %d: 1..%d, no gap, no repeat" % (at_cut, N, N)


def test():
    modules = install_playwright()
    b = Browser(modules)
    if b.skip:
        print("SKIP 51-browser: %s" % b.skip)
        raise SystemExit(SKIP)
    try:
        first = test_page_both_ways(b, modules)
        second = test_front_end_restart(b)
    finally:
        b.close()
    return "%s; %s" % (first, second)


if __name__ == "__main__":
    h.run("51-browser", test, budget=170, deployments=h.ONCE)
