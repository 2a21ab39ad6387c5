#!/usr/bin/python3
"""UDP ingest on the source: each datagram `PUB <topic> <payload>` arrives
in order; malformed datagrams are counted (the source's log says how many)
and never answered; with --udp-topic a datagram is a raw payload, binary
included; datagrams sent before the broker link is up are read once it is;
with the broker frozen the source stops reading instead of dropping, and
what the kernel then drops is counted exactly; what a source plugin drops
is counted as its drop."""

import re
import signal
import socket
import time
import urllib.request

import zmq

import harness as h
from harness import msg_line, subscribe


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((h.HOST, 0))
    return s


def free_udp_port():
    s = udp_socket()
    port = s.getsockname()[1]
    s.close()
    return port


def wait_log(proc, pattern, what, timeout=h.STEP):
    """The matches of pattern in the source's log, once there are some."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.findall(pattern, proc.stderr_text())
        if found:
            return found
        h.check(time.monotonic() < deadline, "%s: no log line matching %r within %.0fs"
                % (what, pattern, timeout))
        time.sleep(0.1)


def wait_broker_connected(proc, workers=2):
    """Wait until every worker says it connected (so the test knows which
    worker is serving before it sends)."""
    for i in range(workers):
        wait_log(proc, r"worker %d connected to the broker" % i, "source worker %d" % i)


def test_lines():
    port = free_udp_port()
    with h.system(source_args=["--udp-listen", "%s:%d" % (h.HOST, port)]) as S:
        sub = S.sub_client()
        subscribe(sub, "u.>")
        wait_broker_connected(S.source)
        out = udp_socket()
        n = 200
        for i in range(n):
            out.sendto(b"PUB u.seq %d\n" % i if i % 2 else b"PUB u.seq %d" % i, (h.HOST, port))
        got = sub.read_lines(n, what="UDP messages")
        h.compare_lines("udp", got, [msg_line("u.seq", i + 1, "%d" % i) for i in range(n)])

        bad = [b"garbage", b"PUB", b"PUB a..b x", b"SUB u.>", b"PUB $sys x",
               b"PUB u.x one\nPUB u.x two", b""]
        for d in bad:
            out.sendto(d, (h.HOST, port))
        out.sendto(b"PUB u.after still served", (h.HOST, port))
        sub.expect(msg_line("u.after", 1, "still served"), what="delivery after bad datagrams")
        found = wait_log(S.source, r"udp: \d+ malformed datagrams \(total (\d+) of", "malformed count")
        deadline = time.monotonic() + h.STEP
        while max(int(x) for x in found) < len(bad):
            h.check(time.monotonic() < deadline, "malformed total never reached %d: %r"
                    % (len(bad), found))
            time.sleep(0.2)
            found = re.findall(r"udp: \d+ malformed datagrams \(total (\d+) of", S.source.stderr_text())
        h.check(max(int(x) for x in found) == len(bad), "malformed total %r, expected %d"
                % (found, len(bad)))
        # never answered
        out.settimeout(0.3)
        try:
            reply = out.recv(65536)
            h.fail("the source answered a datagram: %r" % reply)
        except socket.timeout:
            pass
        h.check(sub.ping() == [], "stray deliveries")
        return n, len(bad)


def test_raw_topic():
    port = free_udp_port()
    with h.system(source_args=["--udp-listen", "%s:%d" % (h.HOST, port),
                               "--udp-topic", "raw.t"]) as S:
        sub = S.sub_client()
        subscribe(sub, "raw.t")
        wait_broker_connected(S.source)
        out = udp_socket()
        payloads = [bytes(range(256)), b"PUB not.parsed here\n", b"", b"x" * 60000]
        for p in payloads:
            out.sendto(p, (h.HOST, port))
        got = sub.read_lines(len(payloads), what="raw datagrams")
        h.compare_lines("udp raw", got, [msg_line("raw.t", i + 1, p) for i, p in enumerate(payloads)])


def udp_drops(port):
    """The kernel's drop count for our UDP port (/proc/net/udp, last column)."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                return int(fields[-1])
    return 0


def history(control, topic):
    """The payloads the broker holds for topic, in seq order."""
    s = h.zsocket(zmq.DEALER, control)
    try:
        s.send(b"HISTORY %s 0 t" % topic)
        out = []
        while True:
            h.check(s.poll(int(h.STEP * 1000)), "broker: HISTORY %s not answered" % topic)
            frames = s.recv_multipart()
            if frames[0] == b"END":
                return out
            out.append(frames[-1])
    finally:
        s.close()


def test_before_link():
    """Datagrams that arrive before a worker's broker link is up wait in the
    kernel's receive buffer: the source reads UDP only once the link is up,
    so each arrives once the broker is there, none dropped."""
    port = free_udp_port()
    listen = h.free_port()
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    src = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, listen), "--broker", ingress,
                   "--control", control, "--udp-listen", "%s:%d" % (h.HOST, port)],
                  name="source-early")
    h.wait_frontend(listen, h.SOURCE_GREETING, src, name="source-early").close()
    out = udp_socket()
    n = 20
    for i in range(n):
        out.sendto(b"PUB u.early %d" % i, (h.HOST, port))
    time.sleep(0.5)
    h.check("could not take" not in src.stderr_text(),
            "datagrams dropped before the broker was there: %s" % src.stderr_text()[-300:])
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                     name="broker-late")
    h.wait_broker(control, broker)
    deadline = time.monotonic() + h.STEP
    while h.broker_stats(control)["messages_in"] < n and time.monotonic() < deadline:
        time.sleep(0.1)
    got = history(control, b"u.early")
    h.check(got == [b"%d" % i for i in range(n)], "datagrams sent before the broker link was up: "
            "the broker has %r" % got)
    h.check(src.stop() == 0, "source-early: no clean exit")
    h.check(re.search(r"udp: %d datagrams received, %d published, 0 malformed, 0 dropped" % (n, n),
                      src.stderr_text()), "source-early: udp totals")
    broker.stop()
    return n


def test_backpressure():
    """With the broker frozen, the source stops reading UDP once its queue
    towards the broker is full (the kernel's buffer holds what comes next,
    and drops beyond it): it never reads a datagram to drop it. Every
    datagram sent is accounted for exactly: published (and at the broker
    once it goes on) or dropped by the kernel, counted in the log and in
    the hwm drop metric as the kernel counts it."""
    port = free_udp_port()
    mport = h.free_port()
    args = ["--udp-listen", "%s:%d" % (h.HOST, port), "--metrics-listen", "%s:%d" % (h.HOST, mport)]
    with h.system(workers=1, source_args=args) as S:
        wait_broker_connected(S.source, workers=1)
        out = udp_socket()
        out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        pad = b"p" * 1400
        sent = 0
        h.freeze(S.broker)
        try:
            #  Until the kernel drops some: the source stopped reading, its buffer filled
            while udp_drops(port) == 0 and sent < 400000:
                for _ in range(200):
                    out.sendto(b"PUB u.bp %d %s" % (sent, pad), (h.HOST, port))
                    sent += 1
                time.sleep(0.002)
        finally:
            S.broker.popen.send_signal(signal.SIGCONT)
        kernel = udp_drops(port)
        h.check(kernel > 0, "the kernel never dropped a datagram for the frozen source (%d sent)"
                % sent)
        deadline = time.monotonic() + 30
        last, steady = -1, 0
        while steady < 5 and time.monotonic() < deadline:
            now = h.broker_stats(S.control)["messages_in"]
            steady = steady + 1 if now == last else 0
            last = now
            time.sleep(0.2)
        with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, mport), timeout=h.STEP) as r:
            metrics = r.read().decode()
        hwm = re.search(r'zchannel_dropped_total\{role="source",cause="hwm"\} (\d+)', metrics)
        h.check(hwm and int(hwm.group(1)) == kernel, "source hwm drops %r, the kernel dropped %d"
                % (hwm and hwm.group(1), kernel))
        S.source.signal(signal.SIGTERM)
        h.check(S.source.wait(h.STOP_WAIT) == 0, "source: no clean exit")
        totals = re.search(r"udp: (\d+) datagrams received, (\d+) published, 0 malformed, "
                           r"(\d+) dropped, 0 dropped by plugins, (\d+) dropped by the kernel",
                           S.source.stderr_text())
        h.check(totals, "source: no udp totals in the log")
        received, published, dropped, by_kernel = (int(x) for x in totals.groups())
        h.check(dropped == 0, "the source read %d datagrams only to drop them" % dropped)
        h.check(by_kernel == kernel and received + by_kernel == sent and published == received,
                "udp accounting: %d sent, %d received, %d published, %d dropped by the kernel "
                "(the kernel says %d)" % (sent, received, published, by_kernel, kernel))
        h.check(last == published, "the broker took %d of %d published" % (last, published))
        return sent, kernel


def test_plugin_drop():
    """A datagram a source plugin drops is counted as the plugin's drop,
    not as one the broker could not take."""
    port = free_udp_port()
    source = ["--udp-listen", "%s:%d" % (h.HOST, port), "--plugin-path", h.FIXTURES,
              "--plugin", "drop@d.>"]
    with h.system(workers=1, source_args=source) as S:
        sub = S.sub_client()
        subscribe(sub, ">")
        wait_broker_connected(S.source, workers=1)
        out = udp_socket()
        for i in range(5):
            out.sendto(b"PUB d.x %d" % i, (h.HOST, port))
        out.sendto(b"PUB k.x kept", (h.HOST, port))
        #  One worker reads in order: the kept one arrives after the drops
        h.compare_lines("udp past a plugin", sub.read_lines(1), [msg_line("k.x", 1, "kept")])
        S.source.signal(signal.SIGTERM)
        h.check(S.source.wait(h.STOP_WAIT) == 0, "source: no clean exit")
        log = S.source.stderr_text()
        h.check(re.search(r"udp: 6 datagrams received, 1 published, 0 malformed, 0 dropped, "
                          r"5 dropped by plugins", log), "udp totals with a dropping plugin")
        h.check("the broker could not take them" not in log,
                "plugin drops reported as the broker's")


def test():
    n, bad = test_lines()
    test_raw_topic()
    early = test_before_link()
    sent, kernel = test_backpressure()
    test_plugin_drop()
    return ("%d PUB datagrams in order; %d malformed counted, none answered; raw topic mode "
            "binary-safe; %d sent before the broker link all delivered; broker frozen: %d sent, "
            "none read to be dropped, %d dropped by the kernel and counted; plugin drops as "
            "the plugin's" % (n, bad, early, sent, kernel))


if __name__ == "__main__":
    h.run("15-udp", test, budget=60)
