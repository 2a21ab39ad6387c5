#!/usr/bin/python3
"""UDP ingest on the source: each datagram `PUB <topic> <payload>` arrives
in order; malformed datagrams are counted (the source's log says how many)
and never answered; with --udp-topic a datagram is a raw payload, binary
included; with no broker, datagrams are dropped and counted; what a source
plugin drops is counted as its drop."""

import re
import signal
import socket
import time

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
    """UDP is dropped while a source worker has no broker (there is no
    back-pressure to hold it): wait until every worker says it connected."""
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


def test_dropped():
    """A source whose broker is not there cannot publish: UDP is dropped and
    counted (TCP clients would be held back instead)."""
    port = free_udp_port()
    listen = h.free_port()
    nowhere = h.tcp_ep(h.free_port())
    src = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, listen), "--broker", nowhere,
                   "--udp-listen", "%s:%d" % (h.HOST, port), "--workers", "1"], name="source-alone")
    h.wait_frontend(listen, h.SOURCE_GREETING, src, name="source-alone").close()
    out = udp_socket()
    for i in range(5):
        out.sendto(b"PUB d.x %d" % i, (h.HOST, port))
    deadline = time.monotonic() + h.STEP
    while True:
        found = re.findall(r"udp: \d+ datagrams dropped, the broker could not take them "
                           r"\(total (\d+) of", src.stderr_text())
        if found and int(found[-1]) == 5:
            break
        h.check(time.monotonic() < deadline, "dropped datagrams not counted: %r" % found)
        time.sleep(0.2)
    rc = src.stop()
    h.check(rc == 0, "source-alone: exit %r after SIGTERM" % rc)
    h.check(re.search(r"udp: 5 datagrams received, 0 published, 0 malformed, 5 dropped",
                      src.stderr_text()), "source-alone: no final udp counters in the log")


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
    test_dropped()
    test_plugin_drop()
    return ("%d PUB datagrams in order; %d malformed counted, none answered; raw topic mode "
            "binary-safe; dropped counted without a broker, plugin drops as the plugin's"
            % (n, bad))


if __name__ == "__main__":
    h.run("15-udp", test, budget=60)
